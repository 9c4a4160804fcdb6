//! Passwords and login: argon2id hashes, a strength rule for new
//! passwords, throttling of failed attempts, and the same work for unknown
//! users as for known ones.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rusqlite::{params, OptionalExtension};

use crate::model::{Actor, Role};
use crate::names::{lookup_form, shown};
use crate::{Catalog, CatalogError};

/// Failed attempts allowed before a wait is imposed.
pub(crate) const FREE_ATTEMPTS: i64 = 5;
/// The longest wait between attempts, in seconds.
pub(crate) const MAX_WAIT_SECS: u64 = 15 * 60;
/// Lowest zxcvbn score (0–4) a new password or passphrase must reach.
pub(crate) const MIN_SCORE: u8 = 3;
/// Shortest new password or passphrase, in characters.
pub(crate) const MIN_CHARS: usize = 10;

/// Refuses a new password or passphrase that is short or easy to guess
/// (zxcvbn score below 3, with the user's or portal's name as a hint to the
/// guesser).
pub(crate) fn check_strength(
    what: &'static str,
    secret: &str,
    hints: &[&str],
) -> Result<(), CatalogError> {
    let n = secret.chars().count();
    if n < MIN_CHARS {
        return Err(CatalogError::WeakSecret {
            what,
            why: format!("it has {n} characters, at least {MIN_CHARS} are needed"),
        });
    }
    let entropy = zxcvbn::zxcvbn(secret, hints);
    let score = u8::from(entropy.score());
    if score < MIN_SCORE {
        let hint = entropy
            .feedback()
            .and_then(|f| f.warning().map(|w| w.to_string()))
            .unwrap_or_else(|| "it would be guessed quickly".into());
        return Err(CatalogError::WeakSecret {
            what,
            why: format!(
                "{hint} (strength {score} of 4, at least {MIN_SCORE} needed); add words or characters"
            ),
        });
    }
    Ok(())
}

/// The password rule for user `name`.
pub(crate) fn check_password_strength(password: &str, name: &str) -> Result<(), CatalogError> {
    check_strength("password", password, &[name])
}

/// Seconds still to wait after `failures` failed attempts, the last at
/// `last_us`, at `now_us`: none for the first five, then 1 s doubling per
/// further failure up to 15 minutes.
pub(crate) fn wait_secs(failures: i64, last_us: i64, now_us: i64) -> u64 {
    if failures < FREE_ATTEMPTS {
        return 0;
    }
    let exp = u32::try_from(failures - FREE_ATTEMPTS).unwrap_or(u32::MAX);
    let wait = 1u64.checked_shl(exp).unwrap_or(u64::MAX).min(MAX_WAIT_SECS);
    let elapsed_us = now_us.saturating_sub(last_us).max(0);
    let elapsed = u64::try_from(elapsed_us).unwrap_or(0) / 1_000_000;
    wait.saturating_sub(elapsed)
}

impl Catalog {
    fn argon2(&self) -> Result<Argon2<'static>, CatalogError> {
        let p = Params::new(self.opts.argon2_m_kib, self.opts.argon2_t, 1, None)
            .map_err(|e| CatalogError::Invalid(format!("argon2 parameters: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, p))
    }

    /// The argon2id PHC hash of a new password (strength already checked).
    pub(crate) fn hash_password(&self, password: &str) -> Result<String, CatalogError> {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        self.count_argon2();
        self.argon2()?
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| CatalogError::Corrupt(format!("argon2 failed: {e}")))
    }

    /// Inserts a user (name normalised; a given password must be strong).
    pub(crate) fn insert_user(
        &self,
        name: &str,
        role: Role,
        password: Option<&str>,
        team: Option<i64>,
        mc_access: bool,
    ) -> Result<i64, CatalogError> {
        let name = crate::names::normalise("user", name)?;
        if self.user_id(&name)?.is_some() {
            return Err(CatalogError::Exists { kind: "user", name });
        }
        if let Some(p) = password {
            check_password_strength(p, &name)?;
        }
        let hash = password.map(|p| self.hash_password(p)).transpose()?;
        self.conn.execute(
            "INSERT INTO users (name, role, password_hash, team_id, mc_access) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![name, role.name(), hash, team, mc_access],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The id of a user (deactivated ones too: their names stay taken).
    pub(crate) fn user_id(&self, name: &str) -> Result<Option<i64>, CatalogError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM users WHERE name = ?1",
                [lookup_form(name)],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Logs a user in: checks the password (argon2id) and returns the actor.
    ///
    /// An unknown user, a user without a password and a deactivated user
    /// cost the same argon2id work as a wrong password and get the same
    /// answer. After five failed attempts for one name, each further attempt
    /// must wait (1 s, doubling, at most 15 minutes) and one made earlier is
    /// refused unchecked; a successful login clears the count. Failed and
    /// throttled attempts go to the audit log.
    ///
    /// # Errors
    /// [`CatalogError::BadCredentials`] (the message does not say which of
    /// the cases it was); [`CatalogError::Throttled`].
    pub fn login(&self, name: &str, password: &str) -> Result<Actor, CatalogError> {
        let key = format!("login:{}", lookup_form(name));
        let r = self
            .throttle_check(&key, "login", name)
            .and_then(|()| self.check_password(name, password));
        match &r {
            Ok(_) => self.throttle_clear(&key),
            Err(e) => {
                if matches!(e, CatalogError::BadCredentials(_)) {
                    self.throttle_fail(&key);
                }
                self.audit_best_effort(name, "login", None, &crate::audit::outcome_of(e), "");
            }
        }
        r
    }

    fn check_password(&self, name: &str, password: &str) -> Result<Actor, CatalogError> {
        let row: Option<(i64, Option<String>, bool)> = self
            .conn
            .query_row(
                "SELECT id, password_hash, deleted FROM users WHERE name = ?1",
                [lookup_form(name)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let bad = || CatalogError::BadCredentials(shown(name));
        match row {
            Some((id, Some(hash), false)) => {
                let parsed = PasswordHash::new(&hash).map_err(|_| {
                    CatalogError::Corrupt(format!("password hash of {}", shown(name)))
                })?;
                self.count_argon2();
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .map_err(|_| bad())?;
                self.actor_by_id(id)
            }
            _ => {
                // The same argon2id work as a real check, so the time taken
                // says nothing about whether the name exists.
                let _ = self.hash_password(password)?;
                Err(bad())
            }
        }
    }

    /// Refuses an attempt made before the wait its failures impose is over.
    pub(crate) fn throttle_check(
        &self,
        key: &str,
        what: &'static str,
        subject: &str,
    ) -> Result<(), CatalogError> {
        self.throttle_check_after(key, what, || shown(subject), FREE_ATTEMPTS)
    }

    /// [`Catalog::throttle_check`] with `free` failures allowed before the
    /// first wait and the subject as it is to be shown.
    pub(crate) fn throttle_check_after(
        &self,
        key: &str,
        what: &'static str,
        subject: impl FnOnce() -> String,
        free: i64,
    ) -> Result<(), CatalogError> {
        let row: Option<(i64, i64)> = self
            .conn
            .query_row(
                "SELECT failures, last_us FROM throttle WHERE key = ?1",
                [key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((failures, last)) = row {
            // `wait_secs` counts from FREE_ATTEMPTS: shift by the difference.
            let wait = wait_secs(failures - (free - FREE_ATTEMPTS), last, self.now());
            if wait > 0 {
                return Err(CatalogError::Throttled {
                    what,
                    subject: subject(),
                    retry_after_secs: wait,
                });
            }
        }
        Ok(())
    }

    /// Counts one more failed attempt (not possible on a read-only catalog).
    pub(crate) fn throttle_fail(&self, key: &str) {
        if self.is_read_only() {
            return;
        }
        let _ = self.conn.execute(
            "INSERT INTO throttle (key, failures, last_us) VALUES (?1, 1, ?2)
             ON CONFLICT(key) DO UPDATE SET failures = failures + 1, last_us = excluded.last_us",
            params![key, self.now()],
        );
    }

    /// Forgets the failed attempts of `key` after a success.
    pub(crate) fn throttle_clear(&self, key: &str) {
        if self.is_read_only() {
            return;
        }
        let _ = self
            .conn
            .execute("DELETE FROM throttle WHERE key = ?1", [key]);
    }

    /// The actor of a user id, as the rights check needs it.
    pub(crate) fn actor_by_id(&self, id: i64) -> Result<Actor, CatalogError> {
        let (name, role, team, mc): (String, String, Option<i64>, bool) = self.conn.query_row(
            "SELECT name, role, team_id, mc_access FROM users WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        let role = Role::parse(&role).ok_or_else(|| {
            CatalogError::Corrupt(format!("user {} has role {role:?}", shown(&name)))
        })?;
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
    pub(crate) fn expand_tree(&self, table: &str, roots: &[i64]) -> Result<Vec<i64>, CatalogError> {
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

    /// Ids of `id` and its ancestors in `table` (teams or portals), nearest
    /// first.
    pub(crate) fn ancestors(&self, table: &str, id: i64) -> Result<Vec<i64>, CatalogError> {
        let sql = format!("SELECT parent_id FROM {table} WHERE id = ?1");
        let mut st = self.conn.prepare(&sql)?;
        let mut out = vec![id];
        let mut cur = id;
        while let Some(p) = st
            .query_row([cur], |r| r.get::<_, Option<i64>>(0))
            .optional()?
            .flatten()
        {
            if out.contains(&p) || out.len() > 64 {
                return Err(CatalogError::Corrupt(format!(
                    "{table} hierarchy is cyclic"
                )));
            }
            out.push(p);
            cur = p;
        }
        Ok(out)
    }

    /// Refuses everyone but company managers.
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

    /// Changes the acting user's own password (the current one is
    /// checked, with the login's throttling).
    ///
    /// # Errors
    /// [`CatalogError::BadCredentials`] for a wrong current password;
    /// [`CatalogError::Throttled`]; [`CatalogError::WeakSecret`].
    pub fn change_own_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
    ) -> Result<(), CatalogError> {
        self.login(&actor.name, current)?;
        self.managed(actor, "change-own-password", None, |detail| {
            *detail = format!("user {}", actor.name);
            check_password_strength(new, &actor.name)?;
            let h = self.hash_password(new)?;
            self.conn.execute(
                "UPDATE users SET password_hash = ?1 WHERE id = ?2",
                params![h, actor.id],
            )?;
            self.end_logins_of(actor.id)?;
            Ok(())
        })
    }

    #[cfg(test)]
    pub(crate) fn argon2_runs(&self) -> u64 {
        self.argon2_runs.get()
    }

    fn count_argon2(&self) {
        self.argon2_runs.set(self.argon2_runs.get() + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_after_five_failures_up_to_fifteen_minutes() {
        let s = 1_000_000;
        assert_eq!(wait_secs(4, 0, 0), 0);
        assert_eq!(wait_secs(5, 0, 0), 1);
        assert_eq!(wait_secs(6, 0, 0), 2);
        assert_eq!(wait_secs(6, 0, s), 1);
        assert_eq!(wait_secs(6, 0, 2 * s), 0);
        assert_eq!(wait_secs(14, 0, 0), 512);
        assert_eq!(wait_secs(15, 0, 0), MAX_WAIT_SECS);
        assert_eq!(wait_secs(i64::MAX, 0, 0), MAX_WAIT_SECS);
    }

    #[test]
    fn weak_secrets_are_refused() {
        for weak in [
            "x",
            "pw",
            "password123",
            "boss-password",
            "qwertyuiop",
            "aaaaaaaaaaaaaa",
        ] {
            assert!(
                matches!(
                    check_password_strength(weak, "boss"),
                    Err(CatalogError::WeakSecret { .. })
                ),
                "{weak}"
            );
        }
        check_password_strength("Vq8#Lw2!pZ-orbit-lantern", "boss").unwrap();
    }
}
