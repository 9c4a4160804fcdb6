//! The per-portal session replay passphrase: set, change, remove, and the
//! recorder's recipient. Every attempt is audited; wrong passphrases are
//! throttled per user like wrong passwords.

use rusqlite::{params, OptionalExtension};

use crate::crypto::{Passphrase, PortalRecipient, UnlockedPortalKey};
use crate::model::Actor;
use crate::names::shown;
use crate::{Catalog, CatalogError};

/// The throttle key of a user's passphrase attempts.
pub(crate) fn throttle_key(actor: &Actor) -> String {
    format!("passphrase:{}", actor.name)
}

impl Catalog {
    fn reauth(&self, actor: &Actor, password: &str, what: &str) -> Result<(), CatalogError> {
        self.require_company(actor, what)?;
        match self.login(&actor.name, password) {
            Ok(_) => Ok(()),
            Err(e @ CatalogError::Throttled { .. }) => Err(e),
            Err(_) => Err(CatalogError::denied(
                &actor.name,
                what,
                "your own password is wrong",
            )),
        }
    }

    /// The portal's id and its own active key, if any.
    fn portal_key_row(&self, portal: &str) -> Result<(i64, Option<i64>), CatalogError> {
        let id = self.named_id("portals", "portal", portal)?;
        let key: Option<i64> = self.conn.query_row(
            "SELECT active_key_id FROM portals WHERE id = ?1",
            [id],
            |r| r.get(0),
        )?;
        Ok((id, key))
    }

    /// The key new recordings of portal `portal_id` are encrypted to: its
    /// own active key, else the nearest parent's. Returns the key id and
    /// the portal that owns it.
    pub(crate) fn active_key_of(&self, portal_id: i64) -> Result<Option<(i64, i64)>, CatalogError> {
        for p in self.ancestors("portals", portal_id)? {
            let key: Option<i64> = self.conn.query_row(
                "SELECT active_key_id FROM portals WHERE id = ?1",
                [p],
                |r| r.get(0),
            )?;
            if let Some(k) = key {
                return Ok(Some((k, p)));
            }
        }
        Ok(None)
    }

    /// The portal's own key, refusing a subportal that only inherits one
    /// (its passphrase is changed or removed on the parent).
    fn own_active_key(&self, portal: &str) -> Result<(i64, i64), CatalogError> {
        let (pid, active) = self.portal_key_row(portal)?;
        match active {
            Some(k) => Ok((pid, k)),
            None => match self.active_key_of(pid)? {
                Some((_, owner)) => Err(CatalogError::PassphraseState {
                    portal: portal.to_owned(),
                    reason: format!(
                        "has no passphrase of its own: it inherits the session replay passphrase of portal {}; change or remove it there",
                        shown(&self.portal_name(owner)?)
                    ),
                }),
                None => Err(CatalogError::PassphraseState {
                    portal: portal.to_owned(),
                    reason: "has no session replay passphrase".into(),
                }),
            },
        }
    }

    /// Checks a passphrase against a wrapped portal key, with the user's
    /// passphrase throttling: too many wrong ones in a row and the next
    /// attempt must wait.
    pub(crate) fn try_passphrase(
        &self,
        actor: &Actor,
        wrapped: &[u8],
        pp: &Passphrase,
    ) -> Result<Option<UnlockedPortalKey>, CatalogError> {
        let key = throttle_key(actor);
        self.throttle_check(&key, "passphrase", &actor.name)?;
        let k = UnlockedPortalKey::unwrap(wrapped, pp, self.opts.scrypt_log_n)?;
        if k.is_some() {
            self.throttle_clear(&key);
        } else {
            self.throttle_fail(&key);
        }
        Ok(k)
    }

    /// Sets a portal's session replay passphrase. Requires the company
    /// manager's own password. New recordings on this portal are encrypted
    /// from now on; the passphrase itself is never stored. A subportal may
    /// have its own passphrase; it then no longer uses its parent's.
    ///
    /// # Errors
    /// Denied (role or wrong own password); [`CatalogError::PassphraseState`]
    /// when the portal already has one; [`CatalogError::WeakSecret`].
    pub fn set_passphrase(
        &self,
        actor: &Actor,
        own_password: &str,
        portal: &str,
        passphrase: &Passphrase,
    ) -> Result<(), CatalogError> {
        // Checked before the transaction, so that a failed attempt's count
        // is not rolled back with the refusal.
        let checked = self.reauth(actor, own_password, "set session replay passphrase");
        self.managed(actor, "set-passphrase", None, |detail| {
            *detail = format!("portal {}", shown(portal));
            checked?;
            let (pid, active) = self.portal_key_row(portal)?;
            if active.is_some() {
                return Err(CatalogError::PassphraseState {
                    portal: portal.to_owned(),
                    reason: "already has a session replay passphrase; change it instead".into(),
                });
            }
            crate::users::check_strength(
                "session replay passphrase",
                passphrase.expose(),
                &[portal],
            )?;
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
            detail.push_str(&format!(": new portal key {}", key.recipient()));
            Ok(())
        })
    }

    /// Changes a portal's passphrase: every key of the portal that opens
    /// with `current` is re-wrapped under `new`, so past recordings keep
    /// replaying (with the new passphrase).
    ///
    /// # Errors
    /// Denied; [`CatalogError::PassphraseState`] when there is none (or the
    /// portal inherits its parent's); [`CatalogError::WrongPassphrase`];
    /// [`CatalogError::Throttled`]; [`CatalogError::WeakSecret`].
    pub fn change_passphrase(
        &self,
        actor: &Actor,
        own_password: &str,
        portal: &str,
        current: &Passphrase,
        new: &Passphrase,
    ) -> Result<(), CatalogError> {
        // The throttle's count must survive the rollback of a refusal, so
        // the current passphrase is checked before the transaction.
        let checked = self
            .reauth(actor, own_password, "change session replay passphrase")
            .and_then(|()| self.own_active_key(portal))
            .and_then(|(pid, active)| {
                let w = self.wrapped_key(active)?;
                match self.try_passphrase(actor, &w, current)? {
                    Some(_) => Ok(pid),
                    None => Err(CatalogError::WrongPassphrase {
                        portal: portal.to_owned(),
                    }),
                }
            });
        self.managed(actor, "change-passphrase", None, |detail| {
            *detail = format!("portal {}", shown(portal));
            let pid = checked?;
            crate::users::check_strength("session replay passphrase", new.expose(), &[portal])?;
            let keys: Vec<(i64, Vec<u8>)> = {
                let mut st = self
                    .conn
                    .prepare("SELECT id, wrapped_identity FROM portal_keys WHERE portal_id = ?1")?;
                let v = st
                    .query_map([pid], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()?;
                v
            };
            let mut n = 0;
            for (id, w) in &keys {
                if let Some(k) = UnlockedPortalKey::unwrap(w, current, self.opts.scrypt_log_n)? {
                    self.conn.execute(
                        "UPDATE portal_keys SET wrapped_identity = ?1 WHERE id = ?2",
                        params![k.wrap(new, self.opts.scrypt_log_n)?, id],
                    )?;
                    n += 1;
                }
            }
            detail.push_str(&format!(": {n} portal key(s) re-wrapped"));
            Ok(())
        })
    }

    /// Removes a portal's passphrase: new recordings are no longer
    /// encrypted. Requires the current passphrase. The portal key stays
    /// (wrapped under that passphrase), so recordings made under it still
    /// need it to replay.
    ///
    /// # Errors
    /// Denied; [`CatalogError::PassphraseState`];
    /// [`CatalogError::WrongPassphrase`]; [`CatalogError::Throttled`].
    pub fn remove_passphrase(
        &self,
        actor: &Actor,
        own_password: &str,
        portal: &str,
        current: &Passphrase,
    ) -> Result<(), CatalogError> {
        let checked = self
            .reauth(actor, own_password, "remove session replay passphrase")
            .and_then(|()| self.own_active_key(portal))
            .and_then(|(pid, active)| {
                let w = self.wrapped_key(active)?;
                match self.try_passphrase(actor, &w, current)? {
                    Some(_) => Ok(pid),
                    None => Err(CatalogError::WrongPassphrase {
                        portal: portal.to_owned(),
                    }),
                }
            });
        self.managed(actor, "remove-passphrase", None, |detail| {
            *detail = format!("portal {}", shown(portal));
            let pid = checked?;
            self.conn.execute(
                "UPDATE portals SET active_key_id = NULL WHERE id = ?1",
                [pid],
            )?;
            Ok(())
        })
    }

    pub(crate) fn wrapped_key(&self, key_id: i64) -> Result<Vec<u8>, CatalogError> {
        Ok(self.conn.query_row(
            "SELECT wrapped_identity FROM portal_keys WHERE id = ?1",
            [key_id],
            |r| r.get(0),
        )?)
    }

    /// The public key a recorder encrypts new recordings of `portal` to, or
    /// `None` when the portal (and none of its parents) has a passphrase.
    /// For embedding programs that hold the catalog themselves; users ask
    /// through [`Catalog::recipient_for`].
    ///
    /// # Errors
    /// Unknown portal; corrupt stored key.
    pub fn recording_recipient(
        &self,
        portal: &str,
    ) -> Result<Option<PortalRecipient>, CatalogError> {
        let pid = self.named_id("portals", "portal", portal)?;
        match self.active_key_of(pid)? {
            Some((k, _)) => {
                let r: String = self.conn.query_row(
                    "SELECT recipient FROM portal_keys WHERE id = ?1",
                    [k],
                    |r| r.get(0),
                )?;
                PortalRecipient::parse(&r).map(Some)
            }
            None => Ok(None),
        }
    }

    /// [`Catalog::recording_recipient`] for a user: managers, and
    /// representatives with Management Center access (audited).
    ///
    /// # Errors
    /// Denied; unknown portal; [`CatalogError::PassphraseState`] when the
    /// portal has no passphrase (recordings are not encrypted).
    pub fn recipient_for(
        &self,
        actor: &Actor,
        portal: &str,
    ) -> Result<PortalRecipient, CatalogError> {
        let r = crate::rights::authorize_search(actor)
            .map_err(|d| CatalogError::denied(&actor.name, "recipient", d.reason))
            .and_then(|()| self.recording_recipient(portal))
            .and_then(|r| {
                r.ok_or_else(|| CatalogError::PassphraseState {
                    portal: portal.to_owned(),
                    reason: "has no session replay passphrase: its recordings are not encrypted"
                        .into(),
                })
            });
        let outcome = match &r {
            Ok(_) => "allowed".to_owned(),
            Err(e) => crate::audit::outcome_of(e),
        };
        self.audit_best_effort(
            &actor.name,
            "recipient",
            None,
            &outcome,
            &format!("portal {}", shown(portal)),
        );
        r
    }

    /// The portal key (id and owning portal) of a recipient, if it is one
    /// of this catalog's.
    pub(crate) fn key_for_recipient(
        &self,
        r: &PortalRecipient,
    ) -> Result<Option<(i64, i64)>, CatalogError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, portal_id FROM portal_keys WHERE recipient = ?1",
                [r.to_string()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?)
    }

    /// A portal's name.
    pub(crate) fn portal_name(&self, id: i64) -> Result<String, CatalogError> {
        Ok(self
            .conn
            .query_row("SELECT name FROM portals WHERE id = ?1", [id], |r| r.get(0))?)
    }
}
