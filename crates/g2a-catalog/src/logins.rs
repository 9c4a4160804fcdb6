//! Logins of the web service: a random token per login, stored as its
//! SHA-256 hash, with an idle and an absolute expiry and a CSRF token; the
//! throttle of failed logins per client address; and the service's own
//! audit entries.
//!
//! Logins live in the catalog so that every service node sharing it knows
//! them. A login ends when it expires, on logout, and when its user's
//! password is changed or reset, their Management Center access revoked, or
//! the user deleted.

use std::fmt;

use rand::RngCore;
use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::model::{Actor, Role};
use crate::names::lookup_form;
use crate::{Catalog, CatalogError};

/// Failed logins from one client address allowed before a wait is imposed
/// (more than per account: an office behind one address shares it).
const FREE_PER_CLIENT: i64 = 20;
/// A login's last use is written at most this often (µs), so reads don't
/// all become writes.
const TOUCH_EVERY_US: i64 = 60_000_000;

/// How long logins last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginPolicy {
    /// A login unused for this long ends (seconds).
    pub idle_secs: u64,
    /// A login ends this long after it began, used or not (seconds).
    pub absolute_secs: u64,
}

impl Default for LoginPolicy {
    /// 30 minutes idle, 12 hours in all.
    fn default() -> Self {
        LoginPolicy {
            idle_secs: 30 * 60,
            absolute_secs: 12 * 3600,
        }
    }
}

/// The secret a browser holds for its login (64 hex digits, 256 random
/// bits). Only its hash is stored; `Debug` does not show it.
pub struct LoginToken(Zeroizing<String>);

impl LoginToken {
    /// The token's text, for the cookie.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for LoginToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LoginToken(<redacted>)")
    }
}

/// A login that is valid now.
#[derive(Debug, Clone)]
pub struct Login {
    /// The user, as the rights check needs them now (reloaded on each
    /// resume, so a changed role or team takes effect at once).
    pub actor: Actor,
    /// The token state-changing requests must echo (header `X-CSRF-Token`).
    pub csrf: String,
    /// A stable, non-secret id of the login (a prefix of the token's hash),
    /// for keeping per-login state such as unlocked keys.
    pub id: String,
    /// When the login began, µs since the Unix epoch.
    pub created_unix_micros: i64,
    /// When it ends at the latest.
    pub expires_unix_micros: i64,
}

fn random_hex() -> Zeroizing<String> {
    let mut b = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(&mut b[..]);
    Zeroizing::new(hex::encode(&b[..]))
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn micros(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1_000_000)).unwrap_or(i64::MAX)
}

impl Catalog {
    /// [`Catalog::login`] from a client address: failed attempts are also
    /// counted per address (20 free, then waits doubling from 1 s to 15
    /// minutes), so one client can't make the catalog do unbounded argon2
    /// work across many account names. A representative without
    /// Management Center access is refused. Successful logins are audited
    /// with the address.
    ///
    /// # Errors
    /// As [`Catalog::login`]; [`CatalogError::Throttled`] for the address.
    pub fn login_from(
        &self,
        name: &str,
        password: &str,
        client: &str,
    ) -> Result<Actor, CatalogError> {
        let key = format!("client:{client}");
        let r = self
            .throttle_check_after(
                &key,
                "login",
                || "this client address".into(),
                FREE_PER_CLIENT,
            )
            .and_then(|()| {
                let actor = self.login(name, password)?;
                if actor.role == Role::Representative && !actor.mc_access {
                    return Err(CatalogError::denied(
                        &actor.name,
                        "login",
                        "no Management Center access",
                    ));
                }
                Ok(actor)
            });
        match &r {
            Ok(a) => {
                self.throttle_clear(&key);
                self.audit_best_effort(&a.name, "login", None, "ok", &format!("from {client}"));
            }
            Err(e) => {
                if matches!(e, CatalogError::BadCredentials(_)) {
                    self.throttle_fail(&key);
                }
                if let CatalogError::Throttled { .. } | CatalogError::Denied { .. } = e {
                    self.audit_best_effort(
                        name,
                        "login",
                        None,
                        &crate::audit::outcome_of(e),
                        &format!("from {client}"),
                    );
                }
            }
        }
        r
    }

    /// Starts a login for `actor` (who just logged in with
    /// [`Catalog::login_from`]) and returns its token and state. Expired
    /// logins of every user are removed on the way.
    ///
    /// # Errors
    /// [`CatalogError::ReadOnly`]; database errors.
    pub fn start_login(
        &self,
        actor: &Actor,
        client: &str,
        policy: LoginPolicy,
    ) -> Result<(LoginToken, Login), CatalogError> {
        if self.is_read_only() {
            return Err(CatalogError::ReadOnly {
                path: self.dir.clone(),
                what: "a login".into(),
            });
        }
        let now = self.now();
        self.conn.execute(
            "DELETE FROM logins WHERE last_us < ?1 OR created_us < ?2",
            params![
                now.saturating_sub(micros(policy.idle_secs)),
                now.saturating_sub(micros(policy.absolute_secs))
            ],
        )?;
        let token = random_hex();
        let csrf = random_hex();
        let hash = token_hash(&token);
        self.conn.execute(
            "INSERT INTO logins (token_hash, user_id, csrf, client, created_us, last_us)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![hash, actor.id, csrf.as_str(), client, now],
        )?;
        let login = Login {
            actor: actor.clone(),
            csrf: csrf.to_string(),
            id: hash[..16].to_owned(),
            created_unix_micros: now,
            expires_unix_micros: now.saturating_add(micros(policy.absolute_secs)),
        };
        Ok((LoginToken(token), login))
    }

    /// The login a token belongs to, if it is still valid: not idle for
    /// longer than `policy.idle_secs`, not older than
    /// `policy.absolute_secs`, its user still active. Touches its last use.
    /// An invalid token gives `Ok(None)` (and an expired login is removed).
    ///
    /// # Errors
    /// Database errors only.
    pub fn resume_login(
        &self,
        token: &str,
        policy: LoginPolicy,
    ) -> Result<Option<Login>, CatalogError> {
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let hash = token_hash(token);
        let row: Option<(i64, String, i64, i64, bool)> = self
            .conn
            .query_row(
                "SELECT l.user_id, l.csrf, l.created_us, l.last_us, u.deleted
                 FROM logins l JOIN users u ON u.id = l.user_id WHERE l.token_hash = ?1",
                [&hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let Some((user, csrf, created, last, deleted)) = row else {
            return Ok(None);
        };
        let now = self.now();
        let expires = created.saturating_add(micros(policy.absolute_secs));
        if deleted || now >= expires || now >= last.saturating_add(micros(policy.idle_secs)) {
            if !self.is_read_only() {
                self.conn
                    .execute("DELETE FROM logins WHERE token_hash = ?1", [&hash])?;
            }
            return Ok(None);
        }
        let actor = self.actor_by_id(user)?;
        if actor.role == Role::Representative && !actor.mc_access {
            return Ok(None);
        }
        if now.saturating_sub(last) >= TOUCH_EVERY_US && !self.is_read_only() {
            self.conn.execute(
                "UPDATE logins SET last_us = ?1 WHERE token_hash = ?2",
                params![now, &hash],
            )?;
        }
        Ok(Some(Login {
            actor,
            csrf,
            id: hash[..16].to_owned(),
            created_unix_micros: created,
            expires_unix_micros: expires,
        }))
    }

    /// Ends the login of a token (logout); audited. Unknown tokens are
    /// ignored.
    ///
    /// # Errors
    /// Database errors.
    pub fn end_login(&self, token: &str) -> Result<(), CatalogError> {
        let hash = token_hash(token);
        let user: Option<String> = self
            .conn
            .query_row(
                "SELECT u.name FROM logins l JOIN users u ON u.id = l.user_id WHERE l.token_hash = ?1",
                [&hash],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(name) = user {
            self.conn
                .execute("DELETE FROM logins WHERE token_hash = ?1", [&hash])?;
            self.audit_best_effort(&name, "logout", None, "ok", "");
        }
        Ok(())
    }

    /// Ends every login of a user.
    pub(crate) fn end_logins_of(&self, user_id: i64) -> Result<(), CatalogError> {
        self.conn
            .execute("DELETE FROM logins WHERE user_id = ?1", [user_id])?;
        Ok(())
    }

    /// How many logins of the user `name` are open (for tests and the
    /// organisation page).
    ///
    /// # Errors
    /// Database errors.
    pub fn open_logins(&self, name: &str) -> Result<u64, CatalogError> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM logins l JOIN users u ON u.id = l.user_id WHERE u.name = ?1",
            [lookup_form(name)],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Writes an audit entry for something a program built on the catalog
    /// did on the actor's behalf (the service: downloads, export jobs,
    /// uploads, refusals it decided itself). Fields are bounded like every
    /// entry's.
    ///
    /// # Errors
    /// Database errors; [`CatalogError::ReadOnly`] is not an error here (the
    /// entry is dropped, as for every entry of a read-only catalog).
    pub fn record_event(
        &self,
        actor: &str,
        action: &str,
        session: Option<&str>,
        outcome: &str,
        detail: &str,
    ) -> Result<(), CatalogError> {
        if self.is_read_only() {
            return Ok(());
        }
        self.audit_as(actor, action, session, outcome, detail)
    }
}
