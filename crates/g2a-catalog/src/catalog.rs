//! The catalog: a directory holding `catalog.sqlite` and `recordings/`.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use argon2::Params;
use rusqlite::{params, Connection, OptionalExtension};

use crate::crypto::RecordCipher;
use crate::model::{Actor, Role, SessionInfo};
use crate::{audit, names, private, store, users, CatalogError};

const DB_FILE: &str = "catalog.sqlite";
/// The folder of the imported recordings, inside the catalog folder.
pub(crate) const RECORDINGS_DIR: &str = "recordings";
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Settings fixed when a catalog is created.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CatalogOptions {
    /// How long sessions are kept, in days (default 90).
    pub retention_days: u32,
    /// argon2id memory cost in KiB for user passwords (default 19 456).
    pub argon2_m_kib: u32,
    /// argon2id iterations (default 2).
    pub argon2_t: u32,
    /// scrypt work factor (log2 N) wrapping portal keys (default 18).
    pub scrypt_log_n: u8,
}

impl Default for CatalogOptions {
    fn default() -> Self {
        CatalogOptions {
            retention_days: 90,
            argon2_m_kib: Params::DEFAULT_M_COST,
            argon2_t: Params::DEFAULT_T_COST,
            scrypt_log_n: crate::crypto::DEFAULT_SCRYPT_LOG_N,
        }
    }
}

impl CatalogOptions {
    /// Cheap KDF settings for tests only (never for real catalogs).
    #[must_use]
    pub fn insecure_fast_for_tests() -> Self {
        CatalogOptions {
            argon2_m_kib: 64,
            argon2_t: 1,
            scrypt_log_n: 4,
            ..Self::default()
        }
    }

    /// Sets the retention period in days.
    #[must_use]
    pub fn with_retention_days(mut self, days: u32) -> Self {
        self.retention_days = days;
        self
    }
}

/// Where "now" comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The system clock.
    System,
    /// A fixed instant, microseconds since the Unix epoch (tests, replays of history).
    Fixed(i64),
}

/// What [`Catalog::open_for`] hands out: the files to open and, for an
/// encrypted recording, the unlocked cipher.
#[derive(Debug)]
pub struct Grant {
    /// The session.
    pub session: SessionInfo,
    /// The recording files, first file first.
    pub files: Vec<PathBuf>,
    /// For encrypted recordings: the cipher that opens the records.
    pub cipher: Option<RecordCipher>,
}

/// The session catalog.
pub struct Catalog {
    pub(crate) dir: PathBuf,
    pub(crate) conn: Connection,
    clock: Clock,
    pub(crate) opts: CatalogOptions,
    read_only: bool,
    /// argon2id computations made, for the tests of equal login work.
    pub(crate) argon2_runs: std::cell::Cell<u64>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").field("dir", &self.dir).finish()
    }
}

fn now_system() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Catalog {
    /// Creates a catalog in `dir` (created if missing, mode 0700; must not
    /// already hold one) with a first company manager. Everything it creates
    /// is private to the calling account (folders 0700, files 0600). When
    /// creation fails (a weak password, say), nothing is left behind, so it
    /// can simply be run again.
    ///
    /// # Errors
    /// [`CatalogError::Exists`] when `dir` already holds a catalog;
    /// [`CatalogError::Invalid`] for a bad name or retention;
    /// [`CatalogError::WeakSecret`] for a weak password; I/O and database
    /// errors.
    pub fn create(
        dir: &Path,
        admin: &str,
        admin_password: &str,
        opts: CatalogOptions,
    ) -> Result<Self, CatalogError> {
        if opts.retention_days == 0 {
            return Err(CatalogError::Invalid(
                "retention must be at least one day".into(),
            ));
        }
        let admin = names::normalise("user", admin)?;
        users::check_password_strength(admin_password, &admin)?;
        let db = dir.join(DB_FILE);
        if db.exists() {
            return Err(CatalogError::Exists {
                kind: "catalog",
                name: dir.display().to_string(),
            });
        }
        private::create_dir(dir)?;
        private::create_dir(&dir.join(RECORDINGS_DIR))?;
        drop(private::create_file(&db)?);
        let made = Self::create_in(dir, &db, &admin, admin_password, opts);
        if made.is_err() {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut p = db.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
        made
    }

    fn create_in(
        dir: &Path,
        db: &Path,
        admin: &str,
        admin_password: &str,
        opts: CatalogOptions,
    ) -> Result<Self, CatalogError> {
        let conn = store::connect(db, false)?;
        let cat = Catalog {
            dir: dir.to_owned(),
            conn,
            clock: Clock::System,
            opts,
            read_only: false,
            argon2_runs: std::cell::Cell::new(0),
        };
        let tx = cat.write_tx()?;
        for (k, v) in [
            ("retention_days", cat.opts.retention_days.to_string()),
            ("argon2_m_kib", cat.opts.argon2_m_kib.to_string()),
            ("argon2_t", cat.opts.argon2_t.to_string()),
            ("scrypt_log_n", cat.opts.scrypt_log_n.to_string()),
        ] {
            cat.conn.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)",
                params![k, v],
            )?;
        }
        cat.insert_user(
            admin,
            Role::CompanyManager,
            Some(admin_password),
            None,
            true,
        )?;
        cat.audit_as(
            admin,
            "create",
            None,
            "allowed",
            &format!(
                "catalog created; company manager {admin}; retention {} days",
                cat.opts.retention_days
            ),
        )?;
        tx.commit()?;
        Ok(cat)
    }

    /// Opens an existing catalog, applying pending schema migrations.
    ///
    /// The catalog folder, its database and its `recordings/` folder must be
    /// private to the calling account: a mode that lets the group or other
    /// users in is refused ([`CatalogError::NotPrivate`]). A database file
    /// (or folder) without write permission is opened read-only: searching,
    /// listing and reading the audit log work; whatever must write (a
    /// management change, or a replay, which must be audited) says the
    /// catalog is read-only.
    ///
    /// # Errors
    /// [`CatalogError::NotFound`] when `dir` holds no catalog;
    /// [`CatalogError::NotPrivate`]; database errors.
    pub fn open(dir: &Path) -> Result<Self, CatalogError> {
        let db = dir.join(DB_FILE);
        if !db.is_file() {
            return Err(CatalogError::NotFound {
                kind: "catalog",
                name: dir.display().to_string(),
            });
        }
        private::check(dir)?;
        private::check(&db)?;
        for sub in [RECORDINGS_DIR, crate::uploads::UPLOADS_DIR] {
            let d = dir.join(sub);
            if d.exists() {
                private::check(&d)?;
            }
        }
        let read_only = private::is_read_only(&db)? || private::is_read_only(dir)?;
        let conn = store::connect(&db, read_only)?;
        let get = |k: &str| -> Result<String, CatalogError> {
            conn.query_row("SELECT value FROM settings WHERE key = ?1", [k], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| CatalogError::Corrupt(format!("setting {k} missing")))
        };
        let num = |k: &str| -> Result<u64, CatalogError> {
            get(k)?
                .parse()
                .map_err(|_| CatalogError::Corrupt(format!("setting {k} is not a number")))
        };
        let opts = CatalogOptions {
            retention_days: u32::try_from(num("retention_days")?)
                .map_err(|_| CatalogError::Corrupt("retention_days too large".into()))?,
            argon2_m_kib: u32::try_from(num("argon2_m_kib")?)
                .map_err(|_| CatalogError::Corrupt("argon2_m_kib too large".into()))?,
            argon2_t: u32::try_from(num("argon2_t")?)
                .map_err(|_| CatalogError::Corrupt("argon2_t too large".into()))?,
            scrypt_log_n: u8::try_from(num("scrypt_log_n")?)
                .map_err(|_| CatalogError::Corrupt("scrypt_log_n too large".into()))?,
        };
        Ok(Catalog {
            dir: dir.to_owned(),
            conn,
            clock: Clock::System,
            opts,
            read_only,
            argon2_runs: std::cell::Cell::new(0),
        })
    }

    /// True when the catalog was opened read-only (see [`Catalog::open`]).
    #[must_use]
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// A write transaction, taking the write lock at once (`BEGIN
    /// IMMEDIATE`), so that two writers queue on the busy timeout instead of
    /// one failing with "database is locked" when it upgrades a read.
    pub(crate) fn write_tx(&self) -> Result<rusqlite::Transaction<'_>, CatalogError> {
        if self.read_only {
            return Err(CatalogError::ReadOnly {
                path: self.dir.clone(),
                what: "this change".into(),
            });
        }
        Ok(rusqlite::Transaction::new_unchecked(
            &self.conn,
            rusqlite::TransactionBehavior::Immediate,
        )?)
    }

    /// Runs a management operation `f` in one write transaction and audits
    /// it: on success the entry (`allowed`, with the detail `f` wrote) is
    /// part of the same transaction; on failure the transaction is rolled
    /// back and the refusal or failure is logged on its own.
    pub(crate) fn managed<T>(
        &self,
        actor: &Actor,
        action: &str,
        session: Option<&str>,
        f: impl FnOnce(&mut String) -> Result<T, CatalogError>,
    ) -> Result<T, CatalogError> {
        let mut detail = String::new();
        let r = self.write_tx().and_then(|tx| {
            let v = f(&mut detail)?;
            self.audit_as(&actor.name, action, session, "allowed", &detail)?;
            tx.commit()?;
            Ok(v)
        });
        if let Err(e) = &r {
            self.audit_best_effort(&actor.name, action, session, &audit::outcome_of(e), &detail);
        }
        r
    }

    #[cfg(test)]
    pub(crate) fn conn_for_tests(&self) -> &Connection {
        &self.conn
    }

    /// The catalog directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Sets where "now" comes from (retention checks, audit timestamps).
    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    /// Now, microseconds since the Unix epoch.
    #[must_use]
    pub fn now(&self) -> i64 {
        match self.clock {
            Clock::System => now_system(),
            Clock::Fixed(t) => t,
        }
    }

    /// The retention period in days.
    #[must_use]
    pub fn retention_days(&self) -> u32 {
        self.opts.retention_days
    }

    /// Changes the retention period (company managers only; audited with
    /// the old and new number of days).
    ///
    /// # Errors
    /// [`CatalogError::Denied`] for other roles; [`CatalogError::Invalid`] for 0.
    pub fn set_retention_days(&mut self, actor: &Actor, days: u32) -> Result<(), CatalogError> {
        let old = self.opts.retention_days;
        self.managed(actor, "set-retention", None, |detail| {
            *detail = format!("retention {old} -> {days} days");
            self.require_company(actor, "change retention")?;
            if days == 0 {
                return Err(CatalogError::Invalid(
                    "retention must be at least one day".into(),
                ));
            }
            self.conn.execute(
                "UPDATE settings SET value = ?1 WHERE key = 'retention_days'",
                [days.to_string()],
            )?;
            Ok(())
        })?;
        self.opts.retention_days = days;
        Ok(())
    }

    pub(crate) fn cutoff(&self) -> i64 {
        self.now()
            .saturating_sub(i64::from(self.opts.retention_days) * MICROS_PER_DAY)
    }
}
