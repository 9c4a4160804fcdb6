//! The catalog: a directory holding `catalog.sqlite` and `recordings/`.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rusqlite::{params, Connection, OptionalExtension};

use crate::crypto::{Passphrase, PortalRecipient, RecordCipher, UnlockedPortalKey};
use crate::model::{
    Action, Actor, AuditEntry, NewSession, RecordingFile, Role, SearchPage, SearchQuery,
    SessionInfo,
};
use crate::rights::{authorize, authorize_search, NOT_VISIBLE};
use crate::store;
use crate::CatalogError;

const DB_FILE: &str = "catalog.sqlite";
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
    dir: PathBuf,
    conn: Connection,
    clock: Clock,
    opts: CatalogOptions,
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
    /// Creates a catalog in `dir` (created if missing; must not already hold
    /// one) with a first company manager.
    ///
    /// # Errors
    /// [`CatalogError::Exists`] when `dir` already holds a catalog; I/O and
    /// database errors.
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
        std::fs::create_dir_all(dir.join("recordings")).map_err(|e| CatalogError::io(dir, e))?;
        let db = dir.join(DB_FILE);
        if db.exists() {
            return Err(CatalogError::Exists {
                kind: "catalog",
                name: dir.display().to_string(),
            });
        }
        let conn = store::connect(&db)?;
        for (k, v) in [
            ("retention_days", opts.retention_days.to_string()),
            ("argon2_m_kib", opts.argon2_m_kib.to_string()),
            ("argon2_t", opts.argon2_t.to_string()),
            ("scrypt_log_n", opts.scrypt_log_n.to_string()),
        ] {
            conn.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)",
                params![k, v],
            )?;
        }
        let cat = Catalog {
            dir: dir.to_owned(),
            conn,
            clock: Clock::System,
            opts,
        };
        cat.insert_user(
            admin,
            Role::CompanyManager,
            Some(admin_password),
            None,
            true,
        )?;
        Ok(cat)
    }

    /// Opens an existing catalog, applying pending schema migrations.
    ///
    /// # Errors
    /// [`CatalogError::NotFound`] when `dir` holds no catalog; database errors.
    pub fn open(dir: &Path) -> Result<Self, CatalogError> {
        let db = dir.join(DB_FILE);
        if !db.is_file() {
            return Err(CatalogError::NotFound {
                kind: "catalog",
                name: dir.display().to_string(),
            });
        }
        let conn = store::connect(&db)?;
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
        })
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

    /// Changes the retention period (company managers only).
    ///
    /// # Errors
    /// [`CatalogError::Denied`] for other roles; [`CatalogError::Invalid`] for 0.
    pub fn set_retention_days(&mut self, actor: &Actor, days: u32) -> Result<(), CatalogError> {
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
        self.opts.retention_days = days;
        self.audit(actor, "set-retention", None, "allowed")?;
        Ok(())
    }

    fn cutoff(&self) -> i64 {
        self.now()
            .saturating_sub(i64::from(self.opts.retention_days) * MICROS_PER_DAY)
    }

    // ---------------------------------------------------------------- users

    fn argon2(&self) -> Result<Argon2<'static>, CatalogError> {
        let p = Params::new(self.opts.argon2_m_kib, self.opts.argon2_t, 1, None)
            .map_err(|e| CatalogError::Invalid(format!("argon2 parameters: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, p))
    }

    fn hash_password(&self, password: &str) -> Result<String, CatalogError> {
        if password.is_empty() {
            return Err(CatalogError::Invalid("a password must not be empty".into()));
        }
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        self.argon2()?
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| CatalogError::Corrupt(format!("argon2 failed: {e}")))
    }

    fn insert_user(
        &self,
        name: &str,
        role: Role,
        password: Option<&str>,
        team: Option<i64>,
        mc_access: bool,
    ) -> Result<i64, CatalogError> {
        check_name(name)?;
        if self.user_id(name)?.is_some() {
            return Err(CatalogError::Exists {
                kind: "user",
                name: name.to_owned(),
            });
        }
        let hash = password.map(|p| self.hash_password(p)).transpose()?;
        self.conn.execute(
            "INSERT INTO users (name, role, password_hash, team_id, mc_access) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![name, role.name(), hash, team, mc_access],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    fn user_id(&self, name: &str) -> Result<Option<i64>, CatalogError> {
        Ok(self
            .conn
            .query_row("SELECT id FROM users WHERE name = ?1", [name], |r| r.get(0))
            .optional()?)
    }

    /// Logs a user in: checks the password (argon2id) and returns the actor.
    ///
    /// # Errors
    /// [`CatalogError::BadCredentials`] for an unknown user, a user without a
    /// password, or a wrong password (the message does not say which).
    pub fn login(&self, name: &str, password: &str) -> Result<Actor, CatalogError> {
        let row: Option<(i64, Option<String>)> = self
            .conn
            .query_row(
                "SELECT id, password_hash FROM users WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let bad = || CatalogError::BadCredentials(name.to_owned());
        let (id, hash) = row.ok_or_else(bad)?;
        let hash = hash.ok_or_else(bad)?;
        let parsed = PasswordHash::new(&hash)
            .map_err(|_| CatalogError::Corrupt(format!("password hash of {name:?}")))?;
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .map_err(|_| bad())?;
        self.actor_by_id(id)
    }

    fn actor_by_id(&self, id: i64) -> Result<Actor, CatalogError> {
        let (name, role, team, mc): (String, String, Option<i64>, bool) = self.conn.query_row(
            "SELECT name, role, team_id, mc_access FROM users WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        let role = Role::parse(&role)
            .ok_or_else(|| CatalogError::Corrupt(format!("user {name:?} has role {role:?}")))?;
        let managed_teams = if role == Role::TeamManager {
            let mut st = self
                .conn
                .prepare("SELECT team_id FROM team_managers WHERE user_id = ?1")?;
            let roots = st
                .query_map([id], |r| r.get(0))?
                .collect::<Result<Vec<i64>, _>>()?;
            self.expand_tree("teams", &roots)?
        } else {
            Vec::new()
        };
        Ok(Actor {
            id,
            name,
            role,
            mc_access: mc,
            team,
            managed_teams,
        })
    }

    /// Ids of `roots` and all their descendants in `table` (teams or portals).
    fn expand_tree(&self, table: &str, roots: &[i64]) -> Result<Vec<i64>, CatalogError> {
        let mut all: Vec<i64> = roots.to_vec();
        let mut frontier: Vec<i64> = roots.to_vec();
        let sql = format!("SELECT id FROM {table} WHERE parent_id = ?1");
        let mut st = self.conn.prepare(&sql)?;
        // Each id is visited at most once, so the loop ends after at most
        // (number of rows) steps even if the tree were made cyclic by hand.
        while let Some(p) = frontier.pop() {
            for child in st.query_map([p], |r| r.get::<_, i64>(0))? {
                let child = child?;
                if !all.contains(&child) {
                    all.push(child);
                    frontier.push(child);
                }
            }
        }
        all.sort_unstable();
        Ok(all)
    }

    pub(crate) fn require_company(&self, actor: &Actor, what: &str) -> Result<(), CatalogError> {
        if actor.role == Role::CompanyManager {
            Ok(())
        } else {
            Err(CatalogError::denied(
                &actor.name,
                what,
                "only company managers may do this",
            ))
        }
    }

    fn named_id(
        &self,
        table: &'static str,
        kind: &'static str,
        name: &str,
    ) -> Result<i64, CatalogError> {
        let sql = format!("SELECT id FROM {table} WHERE name = ?1");
        self.conn
            .query_row(&sql, [name], |r| r.get(0))
            .optional()?
            .ok_or_else(|| CatalogError::NotFound {
                kind,
                name: name.to_owned(),
            })
    }

    /// Adds a portal, or a subportal of `parent` (company managers only).
    ///
    /// # Errors
    /// Denied, exists, unknown parent.
    pub fn add_portal(
        &self,
        actor: &Actor,
        name: &str,
        parent: Option<&str>,
    ) -> Result<(), CatalogError> {
        self.require_company(actor, "add portal")?;
        check_name(name)?;
        let parent_id = parent
            .map(|p| self.named_id("portals", "portal", p))
            .transpose()?;
        self.insert_unique(
            "portal",
            name,
            "INSERT INTO portals (name, parent_id) VALUES (?1, ?2)",
            params![name, parent_id],
        )?;
        self.audit(actor, "add-portal", None, "allowed")
    }

    /// Adds a team, or a subteam of `parent` (company managers only).
    ///
    /// # Errors
    /// Denied, exists, unknown parent.
    pub fn add_team(
        &self,
        actor: &Actor,
        name: &str,
        parent: Option<&str>,
    ) -> Result<(), CatalogError> {
        self.require_company(actor, "add team")?;
        check_name(name)?;
        let parent_id = parent
            .map(|p| self.named_id("teams", "team", p))
            .transpose()?;
        self.insert_unique(
            "team",
            name,
            "INSERT INTO teams (name, parent_id) VALUES (?1, ?2)",
            params![name, parent_id],
        )?;
        self.audit(actor, "add-team", None, "allowed")
    }

    fn insert_unique(
        &self,
        kind: &'static str,
        name: &str,
        sql: &str,
        p: impl rusqlite::Params,
    ) -> Result<(), CatalogError> {
        match self.conn.execute(sql, p) {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(CatalogError::Exists {
                    kind,
                    name: name.to_owned(),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Assigns a team to a portal (company managers only).
    ///
    /// # Errors
    /// Denied, unknown team or portal.
    pub fn assign_team_to_portal(
        &self,
        actor: &Actor,
        team: &str,
        portal: &str,
    ) -> Result<(), CatalogError> {
        self.require_company(actor, "assign team to portal")?;
        let t = self.named_id("teams", "team", team)?;
        let p = self.named_id("portals", "portal", portal)?;
        self.conn.execute(
            "INSERT OR IGNORE INTO team_portals (team_id, portal_id) VALUES (?1, ?2)",
            params![t, p],
        )?;
        self.audit(actor, "assign-team-portal", None, "allowed")
    }

    /// Adds a company manager or team manager (company managers only).
    ///
    /// # Errors
    /// Denied, exists, empty password, unknown team.
    pub fn add_manager(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
        password: &str,
        teams: &[&str],
    ) -> Result<(), CatalogError> {
        self.require_company(actor, "add manager")?;
        if role == Role::Representative {
            return Err(CatalogError::Invalid(
                "use add_representative for representatives".into(),
            ));
        }
        let team_ids = teams
            .iter()
            .map(|t| self.named_id("teams", "team", t))
            .collect::<Result<Vec<_>, _>>()?;
        let id = self.insert_user(name, role, Some(password), None, true)?;
        for t in team_ids {
            self.conn.execute(
                "INSERT OR IGNORE INTO team_managers (user_id, team_id) VALUES (?1, ?2)",
                params![id, t],
            )?;
        }
        self.audit(actor, "add-manager", None, "allowed")
    }

    /// Assigns a team manager to one more team (company managers only).
    ///
    /// # Errors
    /// Denied, unknown user or team, user not a team manager.
    pub fn assign_manager_team(
        &self,
        actor: &Actor,
        manager: &str,
        team: &str,
    ) -> Result<(), CatalogError> {
        self.require_company(actor, "assign manager to team")?;
        let u = self.named_id("users", "user", manager)?;
        if self.actor_by_id(u)?.role != Role::TeamManager {
            return Err(CatalogError::Invalid(format!(
                "{manager:?} is not a team manager"
            )));
        }
        let t = self.named_id("teams", "team", team)?;
        self.conn.execute(
            "INSERT OR IGNORE INTO team_managers (user_id, team_id) VALUES (?1, ?2)",
            params![u, t],
        )?;
        self.audit(actor, "assign-manager-team", None, "allowed")
    }

    /// Adds a representative to `team`, optionally with Management Center
    /// access (then `password` is their login).
    ///
    /// # Errors
    /// Denied, exists, unknown team, MC access without password.
    pub fn add_representative(
        &self,
        actor: &Actor,
        name: &str,
        team: &str,
        password: Option<&str>,
        mc_access: bool,
    ) -> Result<(), CatalogError> {
        self.require_company(actor, "add representative")?;
        if mc_access && password.is_none() {
            return Err(CatalogError::Invalid(
                "management center access needs a password".into(),
            ));
        }
        let t = self.named_id("teams", "team", team)?;
        self.insert_user(name, Role::Representative, password, Some(t), mc_access)?;
        self.audit(actor, "add-representative", None, "allowed")
    }

    /// Moves a representative to another team. Their past sessions stay with
    /// the team they were recorded in.
    ///
    /// # Errors
    /// Denied, unknown user or team, user not a representative.
    pub fn move_representative(
        &self,
        actor: &Actor,
        name: &str,
        team: &str,
    ) -> Result<(), CatalogError> {
        self.require_company(actor, "move representative")?;
        let u = self.rep_id(name)?;
        let t = self.named_id("teams", "team", team)?;
        self.conn
            .execute("UPDATE users SET team_id = ?1 WHERE id = ?2", params![t, u])?;
        self.audit(actor, "move-representative", None, "allowed")
    }

    /// Grants or revokes a representative's Management Center access.
    ///
    /// # Errors
    /// Denied, unknown user, not a representative, no password to log in with.
    pub fn set_management_center_access(
        &self,
        actor: &Actor,
        name: &str,
        granted: bool,
        password: Option<&str>,
    ) -> Result<(), CatalogError> {
        self.require_company(actor, "grant management center access")?;
        let u = self.rep_id(name)?;
        if let Some(p) = password {
            let h = self.hash_password(p)?;
            self.conn.execute(
                "UPDATE users SET password_hash = ?1 WHERE id = ?2",
                params![h, u],
            )?;
        }
        if granted {
            let has: Option<String> =
                self.conn
                    .query_row("SELECT password_hash FROM users WHERE id = ?1", [u], |r| {
                        r.get(0)
                    })?;
            if has.is_none() {
                return Err(CatalogError::Invalid(
                    "management center access needs a password".into(),
                ));
            }
        }
        self.conn.execute(
            "UPDATE users SET mc_access = ?1 WHERE id = ?2",
            params![granted, u],
        )?;
        self.audit(actor, "set-mc-access", None, "allowed")
    }

    fn rep_id(&self, name: &str) -> Result<i64, CatalogError> {
        let u = self.named_id("users", "user", name)?;
        if self.actor_by_id(u)?.role != Role::Representative {
            return Err(CatalogError::Invalid(format!(
                "{name:?} is not a representative"
            )));
        }
        Ok(u)
    }

    // ------------------------------------------------------------ sessions

    /// Adds sessions' metadata without recording files, in one transaction
    /// (company managers only). Portal, team and representative must exist.
    ///
    /// # Errors
    /// Denied, unknown names, duplicate session ids.
    pub fn import_metadata(
        &mut self,
        actor: &Actor,
        sessions: &[NewSession],
    ) -> Result<(), CatalogError> {
        self.require_company(actor, "import")?;
        let tx = self.conn.transaction()?;
        {
            let mut ids = NameCache::default();
            let mut ins = tx.prepare(
                "INSERT INTO sessions (id, portal_id, team_id, rep_id, customer, start_us, end_us, rating, tracks)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for s in sessions {
                check_session(s)?;
                let p = ids.get(&tx, "portals", "portal", &s.portal)?;
                let t = ids.get(&tx, "teams", "team", &s.team)?;
                let r = ids.get(&tx, "users", "user", &s.representative)?;
                let n = ins.execute(params![
                    s.id,
                    p,
                    t,
                    r,
                    s.customer,
                    s.start_unix_micros,
                    s.end_unix_micros,
                    s.rating,
                    s.tracks.join(",")
                ]);
                match n {
                    Ok(_) => {}
                    Err(rusqlite::Error::SqliteFailure(e, _))
                        if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                    {
                        return Err(CatalogError::Exists {
                            kind: "session",
                            name: s.id.clone(),
                        })
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn insert_session_with_files(
        &mut self,
        s: &NewSession,
        key: Option<(i64, &[u8])>,
        files: &[RecordingFile],
    ) -> Result<(), CatalogError> {
        check_session(s)?;
        let tx = self.conn.transaction()?;
        {
            let mut ids = NameCache::default();
            let p = ids.get(&tx, "portals", "portal", &s.portal)?;
            let t = ids.get(&tx, "teams", "team", &s.team)?;
            let r = ids.get(&tx, "users", "user", &s.representative)?;
            let exists: Option<i64> = tx
                .query_row("SELECT 1 FROM sessions WHERE id = ?1", [&s.id], |r| {
                    r.get(0)
                })
                .optional()?;
            if exists.is_some() {
                return Err(CatalogError::Exists {
                    kind: "session",
                    name: s.id.clone(),
                });
            }
            tx.execute(
                "INSERT INTO sessions (id, portal_id, team_id, rep_id, customer, start_us, end_us, rating, tracks, key_id, key_block)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![s.id, p, t, r, s.customer, s.start_unix_micros, s.end_unix_micros, s.rating, s.tracks.join(","), key.map(|k| k.0), key.map(|k| k.1)],
            )?;
            for f in files {
                tx.execute(
                    "INSERT INTO session_files (session_id, seq, path, size, sha256) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![s.id, f.seq, f.path.to_string_lossy(), f.size as i64, f.sha256],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn session_exists(&self, id: &str) -> Result<bool, CatalogError> {
        Ok(self
            .conn
            .query_row("SELECT 1 FROM sessions WHERE id = ?1", [id], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
            .is_some())
    }

    pub(crate) fn session_for_import(&self, id: &str) -> Result<SessionInfo, CatalogError> {
        self.load_session(id)?
            .ok_or_else(|| CatalogError::NotFound {
                kind: "session",
                name: id.to_owned(),
            })
    }

    fn load_session(&self, id: &str) -> Result<Option<SessionInfo>, CatalogError> {
        let sql = format!("{SESSION_SELECT} WHERE s.id = ?1");
        let s = self.conn.query_row(&sql, [id], row_to_session).optional()?;
        let Some(mut s) = s else { return Ok(None) };
        let mut st = self.conn.prepare(
            "SELECT seq, path, size, sha256 FROM session_files WHERE session_id = ?1 ORDER BY seq",
        )?;
        s.files = st
            .query_map([id], |r| {
                Ok(RecordingFile {
                    seq: r.get(0)?,
                    path: PathBuf::from(r.get::<_, String>(1)?),
                    size: r.get::<_, i64>(2)? as u64,
                    sha256: r.get(3)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(Some(s))
    }

    /// Searches the sessions the actor may see, newest first.
    ///
    /// # Errors
    /// [`CatalogError::RangeTooOld`] when the range begins before the
    /// retention window; [`CatalogError::Denied`] for representatives
    /// without Management Center access; [`CatalogError::NotFound`] for an
    /// unknown portal, team or representative filter.
    pub fn search(&self, actor: &Actor, q: &SearchQuery) -> Result<SearchPage, CatalogError> {
        if let Err(d) = authorize_search(actor) {
            self.audit(actor, "search", None, &format!("refused: {}", d.reason))?;
            return Err(CatalogError::denied(&actor.name, Action::Search, d.reason));
        }
        let per_page = match q.per_page {
            0 => 50,
            n if n > 1000 => {
                return Err(CatalogError::Invalid(format!(
                    "page size {n} is larger than 1000"
                )))
            }
            n => n,
        };
        let cutoff = self.cutoff();
        if let Some(id) = &q.session_id {
            let visible = match self.load_session(id)? {
                Some(s) if !s.purged && s.start_unix_micros >= cutoff => {
                    authorize(actor, Action::Search, &s).is_ok().then_some(s)
                }
                _ => None,
            };
            let sessions = visible.into_iter().filter(|_| q.page == 0).collect();
            return Ok(SearchPage {
                sessions,
                has_more: false,
            });
        }
        let from = q.from_unix_micros.unwrap_or(cutoff);
        if from < cutoff {
            return Err(CatalogError::RangeTooOld {
                days: self.opts.retention_days,
            });
        }
        if let Some(to) = q.to_unix_micros {
            if to < from {
                return Err(CatalogError::Invalid(
                    "date range ends before it begins".into(),
                ));
            }
        }
        // Filters as id sets; the actor's visibility narrows them.
        let portals = match &q.portal {
            Some(p) => {
                let root = self.named_id("portals", "portal", p)?;
                Some(self.expand_tree("portals", &[root])?)
            }
            None => None,
        };
        let mut teams = match &q.team {
            Some(t) => {
                let root = self.named_id("teams", "team", t)?;
                Some(self.expand_tree("teams", &[root])?)
            }
            None => None,
        };
        let mut rep = match &q.representative {
            Some(r) => Some(self.named_id("users", "user", r)?),
            None => None,
        };
        match actor.role {
            Role::CompanyManager => {}
            Role::TeamManager => {
                teams = Some(match teams {
                    Some(t) => t
                        .into_iter()
                        .filter(|id| actor.managed_teams.contains(id))
                        .collect(),
                    None => actor.managed_teams.clone(),
                });
            }
            Role::Representative => {
                if rep.is_some_and(|r| r != actor.id) {
                    return Ok(SearchPage {
                        sessions: Vec::new(),
                        has_more: false,
                    });
                }
                rep = Some(actor.id);
            }
        }
        let spec = SearchSpec {
            from,
            to: q.to_unix_micros,
            portals,
            teams,
            rep,
            limit: u64::from(q.page) * u64::from(per_page) + u64::from(per_page) + 1,
        };
        let ids = self.search_ids(&spec)?;
        let start = (q.page as usize).saturating_mul(per_page as usize);
        let page_ids: Vec<&(String, i64)> =
            ids.iter().skip(start).take(per_page as usize + 1).collect();
        let has_more = page_ids.len() > per_page as usize;
        let mut sessions = Vec::new();
        let sql = format!("{SESSION_SELECT} WHERE s.id = ?1");
        let mut st = self.conn.prepare_cached(&sql)?;
        for (id, _) in page_ids.into_iter().take(per_page as usize) {
            sessions.push(st.query_row([id], row_to_session)?);
        }
        Ok(SearchPage { sessions, has_more })
    }

    /// Ids and start times of matching sessions, newest first, at most
    /// `spec.limit`. The query is driven by the most selective index: the
    /// representative's, else one ordered index probe per team or portal
    /// (merged), else the start-time index; the other filters are applied
    /// to the rows found (`+col` keeps SQLite from picking their index).
    fn search_ids(&self, spec: &SearchSpec) -> Result<Vec<(String, i64)>, CatalogError> {
        const MAX_PROBES: usize = 64;
        let mut residual = vec!["s.purged = 0".to_owned(), "s.start_us >= ?".to_owned()];
        let mut args: Vec<i64> = vec![spec.from];
        if let Some(to) = spec.to {
            residual.push("s.start_us < ?".into());
            args.push(to);
        }
        let list = |col: &str, ids: &[i64], residual: &mut Vec<String>, args: &mut Vec<i64>| {
            if ids.is_empty() {
                residual.push("0".into());
            } else {
                residual.push(format!("+{col} IN ({})", vec!["?"; ids.len()].join(",")));
                args.extend_from_slice(ids);
            }
        };
        // Pick the driver.
        let (driver_col, driver_vals): (&str, Vec<i64>) = if let Some(r) = spec.rep {
            if let Some(t) = &spec.teams {
                list("s.team_id", t, &mut residual, &mut args);
            }
            if let Some(p) = &spec.portals {
                list("s.portal_id", p, &mut residual, &mut args);
            }
            ("s.rep_id", vec![r])
        } else if let Some(t) = spec.teams.as_ref().filter(|t| t.len() <= MAX_PROBES) {
            if let Some(p) = &spec.portals {
                list("s.portal_id", p, &mut residual, &mut args);
            }
            ("s.team_id", t.clone())
        } else if let Some(p) = spec.portals.as_ref().filter(|p| p.len() <= MAX_PROBES) {
            if let Some(t) = &spec.teams {
                list("s.team_id", t, &mut residual, &mut args);
            }
            ("s.portal_id", p.clone())
        } else {
            if let Some(t) = &spec.teams {
                list("s.team_id", t, &mut residual, &mut args);
            }
            if let Some(p) = &spec.portals {
                list("s.portal_id", p, &mut residual, &mut args);
            }
            ("", Vec::new())
        };
        let limit = i64::try_from(spec.limit).unwrap_or(i64::MAX);
        let where_ = residual.join(" AND ");
        let (sql, all_args) = if driver_col.is_empty() {
            let mut a = args.clone();
            a.push(limit);
            (
                format!("SELECT s.id, s.start_us FROM sessions s WHERE {where_} ORDER BY s.start_us DESC, s.id DESC LIMIT ?"),
                a,
            )
        } else if driver_vals.is_empty() {
            return Ok(Vec::new());
        } else {
            let mut parts = Vec::new();
            let mut a = Vec::new();
            for v in &driver_vals {
                parts.push(format!(
                    "SELECT id, start_us FROM (SELECT s.id AS id, s.start_us AS start_us FROM sessions s \
                     WHERE {driver_col} = ? AND {where_} ORDER BY s.start_us DESC, s.id DESC LIMIT ?)"
                ));
                a.push(*v);
                a.extend_from_slice(&args);
                a.push(limit);
            }
            a.push(limit);
            (
                format!(
                    "SELECT id, start_us FROM ({}) ORDER BY start_us DESC, id DESC LIMIT ?",
                    parts.join(" UNION ALL ")
                ),
                a,
            )
        };
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st
            .query_map(rusqlite::params_from_iter(all_args.iter()), |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<Result<Vec<(String, i64)>, _>>()?;
        Ok(rows)
    }

    /// The rights check + retention check + passphrase unlock for opening a
    /// session's recording (replay, frame, export, chat, diagnostics). Every
    /// attempt, allowed or refused, is written to the audit log.
    ///
    /// # Errors
    /// [`CatalogError::Denied`] ("no such session or not permitted" for
    /// sessions the actor may not see), [`CatalogError::Expired`],
    /// [`CatalogError::PassphraseRequired`], [`CatalogError::WrongPassphrase`].
    pub fn open_for(
        &self,
        actor: &Actor,
        session_id: &str,
        action: Action,
        passphrase: Option<&Passphrase>,
    ) -> Result<Grant, CatalogError> {
        let r = self.open_for_inner(actor, session_id, action, passphrase);
        let outcome = match &r {
            Ok(_) => "allowed".to_owned(),
            Err(e) => format!("refused: {e}"),
        };
        self.audit(actor, action.name(), Some(session_id), &outcome)?;
        r
    }

    /// The rights and retention checks of [`Catalog::open_for`] without the
    /// unlock: the files of a session the actor may open, and whether it is
    /// encrypted (then `cipher` is `None` and the caller asks for the
    /// passphrase, and opens it with `open_for`). The files of an encrypted
    /// recording are useless without the passphrase. Audited like
    /// `open_for`.
    ///
    /// # Errors
    /// As [`Catalog::open_for`], except the passphrase errors.
    pub fn locate_for(
        &self,
        actor: &Actor,
        session_id: &str,
        action: Action,
    ) -> Result<(Grant, bool), CatalogError> {
        let r = self.check_for(actor, session_id, action);
        let outcome = match &r {
            Ok((_, true)) => "located (encrypted, passphrase to be given)".to_owned(),
            Ok((_, false)) => "allowed".to_owned(),
            Err(e) => format!("refused: {e}"),
        };
        self.audit(actor, action.name(), Some(session_id), &outcome)?;
        r
    }

    fn check_for(
        &self,
        actor: &Actor,
        session_id: &str,
        action: Action,
    ) -> Result<(Grant, bool), CatalogError> {
        let refuse = |reason: &str| CatalogError::denied(&actor.name, action, reason);
        authorize_search(actor).map_err(|d| refuse(d.reason))?;
        let s = self
            .load_session(session_id)?
            .ok_or_else(|| refuse(NOT_VISIBLE))?;
        authorize(actor, action, &s).map_err(|d| refuse(d.reason))?;
        if s.purged || s.start_unix_micros < self.cutoff() {
            return Err(CatalogError::Expired {
                days: self.opts.retention_days,
            });
        }
        let encrypted = s.key_id.is_some();
        let files = s.files.iter().map(|f| self.dir.join(&f.path)).collect();
        Ok((
            Grant {
                session: s,
                files,
                cipher: None,
            },
            encrypted,
        ))
    }

    fn open_for_inner(
        &self,
        actor: &Actor,
        session_id: &str,
        action: Action,
        passphrase: Option<&Passphrase>,
    ) -> Result<Grant, CatalogError> {
        let (mut grant, _) = self.check_for(actor, session_id, action)?;
        if let Some(key_id) = grant.session.key_id {
            grant.cipher = Some(self.unlock_session_key(&grant.session, key_id, passphrase)?);
        }
        Ok(grant)
    }

    fn unlock_session_key(
        &self,
        s: &SessionInfo,
        key_id: i64,
        passphrase: Option<&Passphrase>,
    ) -> Result<RecordCipher, CatalogError> {
        let portal = self.portal_name(s.portal_id)?;
        let pp = passphrase.ok_or_else(|| CatalogError::PassphraseRequired {
            portal: portal.clone(),
        })?;
        let wrapped: Vec<u8> = self.conn.query_row(
            "SELECT wrapped_identity FROM portal_keys WHERE id = ?1",
            [key_id],
            |r| r.get(0),
        )?;
        let key = UnlockedPortalKey::unwrap(&wrapped, pp, self.opts.scrypt_log_n)?
            .ok_or(CatalogError::WrongPassphrase { portal })?;
        let block: Option<Vec<u8>> = self.conn.query_row(
            "SELECT key_block FROM sessions WHERE id = ?1",
            [&s.id],
            |r| r.get(0),
        )?;
        let block = block
            .ok_or_else(|| CatalogError::Corrupt(format!("session {} has no key block", s.id)))?;
        key.open_key_block(&block)
    }

    fn portal_name(&self, id: i64) -> Result<String, CatalogError> {
        Ok(self
            .conn
            .query_row("SELECT name FROM portals WHERE id = ?1", [id], |r| r.get(0))?)
    }

    // --------------------------------------------------------- retention

    /// Deletes the recordings and data of every session older than the
    /// retention window (company managers only). Returns how many sessions
    /// were purged. A purged session keeps only a tombstone (id, team,
    /// representative, start) so that asking for it says the data is gone.
    ///
    /// # Errors
    /// Denied; I/O errors deleting files; database errors.
    pub fn purge(&mut self, actor: &Actor) -> Result<u64, CatalogError> {
        self.require_company(actor, "purge")?;
        let cutoff = self.cutoff();
        let files: Vec<(String, String)> = {
            let mut st = self.conn.prepare(
                "SELECT f.session_id, f.path FROM session_files f JOIN sessions s ON s.id = f.session_id
                 WHERE s.start_us < ?1",
            )?;
            let v = st
                .query_map([cutoff], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            v
        };
        for (_, p) in &files {
            let full = self.dir.join(p);
            match std::fs::remove_file(&full) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(CatalogError::io(full, e)),
            }
            if let Some(parent) = full.parent() {
                // Only removes the per-session directory once it is empty.
                let _ = std::fs::remove_dir(parent);
            }
        }
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM session_files WHERE session_id IN (SELECT id FROM sessions WHERE start_us < ?1)",
            [cutoff],
        )?;
        let n = tx.execute(
            "UPDATE sessions SET purged = 1, customer = '', rating = NULL, tracks = '', key_id = NULL, key_block = NULL
             WHERE start_us < ?1 AND purged = 0",
            [cutoff],
        )?;
        tx.commit()?;
        self.audit(actor, "purge", None, &format!("allowed: {n} sessions"))?;
        Ok(n as u64)
    }

    // --------------------------------------------------------- passphrase

    fn reauth(&self, actor: &Actor, password: &str, what: &str) -> Result<(), CatalogError> {
        self.require_company(actor, what)?;
        self.login(&actor.name, password)
            .map(|_| ())
            .map_err(|_| CatalogError::denied(&actor.name, what, "your own password is wrong"))
    }

    fn portal_key_row(&self, portal: &str) -> Result<(i64, Option<i64>), CatalogError> {
        let id = self.named_id("portals", "portal", portal)?;
        let key: Option<i64> = self.conn.query_row(
            "SELECT active_key_id FROM portals WHERE id = ?1",
            [id],
            |r| r.get(0),
        )?;
        Ok((id, key))
    }

    /// Sets a portal's session replay passphrase. Requires the company
    /// manager's own password. New recordings on this portal are encrypted
    /// from now on; the passphrase itself is never stored.
    ///
    /// # Errors
    /// Denied (role or wrong own password); [`CatalogError::PassphraseState`]
    /// when the portal already has one.
    pub fn set_passphrase(
        &self,
        actor: &Actor,
        own_password: &str,
        portal: &str,
        passphrase: &Passphrase,
    ) -> Result<(), CatalogError> {
        self.reauth(actor, own_password, "set session replay passphrase")?;
        let (pid, active) = self.portal_key_row(portal)?;
        if active.is_some() {
            return Err(CatalogError::PassphraseState {
                portal: portal.to_owned(),
                reason: "already has a session replay passphrase; change it instead".into(),
            });
        }
        let key = UnlockedPortalKey::generate();
        let wrapped = key.wrap(passphrase, self.opts.scrypt_log_n)?;
        self.conn.execute(
            "INSERT INTO portal_keys (portal_id, recipient, wrapped_identity, created_unix_micros) VALUES (?1, ?2, ?3, ?4)",
            params![pid, key.recipient().to_string(), wrapped, self.now()],
        )?;
        let kid = self.conn.last_insert_rowid();
        self.conn.execute(
            "UPDATE portals SET active_key_id = ?1 WHERE id = ?2",
            params![kid, pid],
        )?;
        self.audit(
            actor,
            "set-passphrase",
            None,
            &format!("allowed: portal {portal}"),
        )
    }

    /// Changes a portal's passphrase: every key of the portal that opens
    /// with `current` is re-wrapped under `new`, so past recordings keep
    /// replaying (with the new passphrase).
    ///
    /// # Errors
    /// Denied; [`CatalogError::PassphraseState`] when there is none;
    /// [`CatalogError::WrongPassphrase`].
    pub fn change_passphrase(
        &mut self,
        actor: &Actor,
        own_password: &str,
        portal: &str,
        current: &Passphrase,
        new: &Passphrase,
    ) -> Result<(), CatalogError> {
        self.reauth(actor, own_password, "change session replay passphrase")?;
        let (pid, active) = self.portal_key_row(portal)?;
        let active = active.ok_or_else(|| CatalogError::PassphraseState {
            portal: portal.to_owned(),
            reason: "has no session replay passphrase".into(),
        })?;
        let keys: Vec<(i64, Vec<u8>)> = {
            let mut st = self
                .conn
                .prepare("SELECT id, wrapped_identity FROM portal_keys WHERE portal_id = ?1")?;
            let v = st
                .query_map([pid], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            v
        };
        let mut rewrapped = Vec::new();
        for (id, w) in &keys {
            if let Some(k) = UnlockedPortalKey::unwrap(w, current, self.opts.scrypt_log_n)? {
                rewrapped.push((*id, k.wrap(new, self.opts.scrypt_log_n)?));
            } else if *id == active {
                return Err(CatalogError::WrongPassphrase {
                    portal: portal.to_owned(),
                });
            }
        }
        let tx = self.conn.transaction()?;
        for (id, w) in rewrapped {
            tx.execute(
                "UPDATE portal_keys SET wrapped_identity = ?1 WHERE id = ?2",
                params![w, id],
            )?;
        }
        tx.commit()?;
        self.audit(
            actor,
            "change-passphrase",
            None,
            &format!("allowed: portal {portal}"),
        )
    }

    /// Removes a portal's passphrase: new recordings are no longer
    /// encrypted. Requires the current passphrase. The portal key stays
    /// (wrapped under that passphrase), so recordings made under it still
    /// need it to replay.
    ///
    /// # Errors
    /// Denied; [`CatalogError::PassphraseState`]; [`CatalogError::WrongPassphrase`].
    pub fn remove_passphrase(
        &self,
        actor: &Actor,
        own_password: &str,
        portal: &str,
        current: &Passphrase,
    ) -> Result<(), CatalogError> {
        self.reauth(actor, own_password, "remove session replay passphrase")?;
        let (pid, active) = self.portal_key_row(portal)?;
        let active = active.ok_or_else(|| CatalogError::PassphraseState {
            portal: portal.to_owned(),
            reason: "has no session replay passphrase".into(),
        })?;
        let w: Vec<u8> = self.conn.query_row(
            "SELECT wrapped_identity FROM portal_keys WHERE id = ?1",
            [active],
            |r| r.get(0),
        )?;
        if UnlockedPortalKey::unwrap(&w, current, self.opts.scrypt_log_n)?.is_none() {
            return Err(CatalogError::WrongPassphrase {
                portal: portal.to_owned(),
            });
        }
        self.conn.execute(
            "UPDATE portals SET active_key_id = NULL WHERE id = ?1",
            [pid],
        )?;
        self.audit(
            actor,
            "remove-passphrase",
            None,
            &format!("allowed: portal {portal}"),
        )
    }

    /// The public key a recorder encrypts new recordings of `portal` to, or
    /// `None` when the portal (and none of its parents) has a passphrase.
    ///
    /// # Errors
    /// Unknown portal; corrupt stored key.
    pub fn recording_recipient(
        &self,
        portal: &str,
    ) -> Result<Option<PortalRecipient>, CatalogError> {
        let mut id = Some(self.named_id("portals", "portal", portal)?);
        let mut steps = 0;
        while let Some(pid) = id {
            let (parent, key): (Option<i64>, Option<i64>) = self.conn.query_row(
                "SELECT parent_id, active_key_id FROM portals WHERE id = ?1",
                [pid],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if let Some(k) = key {
                let r: String = self.conn.query_row(
                    "SELECT recipient FROM portal_keys WHERE id = ?1",
                    [k],
                    |r| r.get(0),
                )?;
                return PortalRecipient::parse(&r).map(Some);
            }
            id = parent;
            steps += 1;
            if steps > 64 {
                return Err(CatalogError::Corrupt("portal hierarchy is cyclic".into()));
            }
        }
        Ok(None)
    }

    pub(crate) fn key_id_for_recipient(
        &self,
        r: &PortalRecipient,
    ) -> Result<Option<i64>, CatalogError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM portal_keys WHERE recipient = ?1",
                [r.to_string()],
                |row| row.get(0),
            )
            .optional()?)
    }

    // ---------------------------------------------------------- audit

    pub(crate) fn audit(
        &self,
        actor: &Actor,
        action: &str,
        session: Option<&str>,
        outcome: &str,
    ) -> Result<(), CatalogError> {
        self.conn.execute(
            "INSERT INTO audit (at_us, actor, action, session_id, outcome) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![self.now(), actor.name, action, session, outcome],
        )?;
        Ok(())
    }

    /// The newest `limit` audit entries, newest first (company managers only).
    ///
    /// # Errors
    /// Denied; database errors.
    pub fn audit_log(&self, actor: &Actor, limit: u32) -> Result<Vec<AuditEntry>, CatalogError> {
        self.require_company(actor, "read audit log")?;
        let mut st = self.conn.prepare(
            "SELECT at_us, actor, action, session_id, outcome FROM audit ORDER BY id DESC LIMIT ?1",
        )?;
        let v = st
            .query_map([limit], |r| {
                Ok(AuditEntry {
                    at_unix_micros: r.get(0)?,
                    actor: r.get(1)?,
                    action: r.get(2)?,
                    session_id: r.get(3)?,
                    outcome: r.get(4)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(v)
    }
}

struct SearchSpec {
    from: i64,
    to: Option<i64>,
    portals: Option<Vec<i64>>,
    teams: Option<Vec<i64>>,
    rep: Option<i64>,
    limit: u64,
}

const SESSION_SELECT: &str = "SELECT s.id, p.name, pp.name, t.name, u.name, s.customer, s.start_us, s.end_us, s.rating, s.tracks, s.key_id, s.team_id, s.rep_id, s.purged, s.portal_id
     FROM sessions s JOIN portals p ON p.id = s.portal_id LEFT JOIN portals pp ON pp.id = p.parent_id
     JOIN teams t ON t.id = s.team_id JOIN users u ON u.id = s.rep_id";

fn row_to_session(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionInfo> {
    let name: String = r.get(1)?;
    let parent: Option<String> = r.get(2)?;
    let (portal, subportal) = match parent {
        Some(p) => (p, Some(name)),
        None => (name, None),
    };
    let tracks: String = r.get(9)?;
    let key_id: Option<i64> = r.get(10)?;
    Ok(SessionInfo {
        id: r.get(0)?,
        portal,
        subportal,
        team: r.get(3)?,
        representative: r.get(4)?,
        customer: r.get(5)?,
        start_unix_micros: r.get(6)?,
        end_unix_micros: r.get(7)?,
        rating: r.get(8)?,
        tracks: tracks
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        encrypted: key_id.is_some(),
        files: Vec::new(),
        team_id: r.get(11)?,
        rep_id: r.get(12)?,
        purged: r.get(13)?,
        key_id,
        portal_id: r.get(14)?,
    })
}

#[derive(Default)]
struct NameCache(std::collections::HashMap<(&'static str, String), i64>);

impl NameCache {
    fn get(
        &mut self,
        conn: &Connection,
        table: &'static str,
        kind: &'static str,
        name: &str,
    ) -> Result<i64, CatalogError> {
        if let Some(&id) = self.0.get(&(table, name.to_owned())) {
            return Ok(id);
        }
        let sql = format!("SELECT id FROM {table} WHERE name = ?1");
        let id: i64 = conn
            .query_row(&sql, [name], |r| r.get(0))
            .optional()?
            .ok_or_else(|| CatalogError::NotFound {
                kind,
                name: name.to_owned(),
            })?;
        self.0.insert((table, name.to_owned()), id);
        Ok(id)
    }
}

fn check_name(name: &str) -> Result<(), CatalogError> {
    if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
        return Err(CatalogError::Invalid(format!(
            "name {name:?} must be 1 to 200 characters without control characters"
        )));
    }
    Ok(())
}

pub(crate) fn check_session(s: &NewSession) -> Result<(), CatalogError> {
    if s.id.is_empty()
        || s.id.len() > 200
        || !s
            .id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        || s.id.starts_with('.')
    {
        return Err(CatalogError::Invalid(format!(
            "session id {:?} must be 1 to 200 of [A-Za-z0-9._-], not starting with '.'",
            s.id
        )));
    }
    if s.end_unix_micros < s.start_unix_micros {
        return Err(CatalogError::Invalid(format!(
            "session {} ends ({}) before it starts ({})",
            s.id, s.end_unix_micros, s.start_unix_micros
        )));
    }
    Ok(())
}
