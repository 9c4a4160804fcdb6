//! Opening a session's recording: rights, retention, file privacy, then the
//! passphrase unlock; every attempt audited.

use std::collections::HashMap;

use crate::crypto::{Passphrase, RecordCipher, UnlockedPortalKey};
use crate::model::{Action, Actor, SessionInfo};
use crate::rights::{authorize, authorize_search, NOT_VISIBLE};
use crate::{private, Catalog, CatalogError, Grant};

impl Catalog {
    /// The rights check + retention check + passphrase unlock for opening a
    /// session's recording (replay, frame, export, chat, diagnostics). Every
    /// attempt, allowed or refused, is written to the audit log; on a
    /// catalog opened read-only an allowed opening can't be logged and is
    /// refused ([`CatalogError::ReadOnly`]).
    ///
    /// # Errors
    /// [`CatalogError::Denied`] ("no such session or not permitted" for
    /// sessions the actor may not see), [`CatalogError::Expired`],
    /// [`CatalogError::NotPrivate`] for recording files other users may
    /// read, [`CatalogError::PassphraseRequired`],
    /// [`CatalogError::WrongPassphrase`], [`CatalogError::Throttled`].
    pub fn open_for(
        &self,
        actor: &Actor,
        session_id: &str,
        action: Action,
        passphrase: Option<&Passphrase>,
    ) -> Result<Grant, CatalogError> {
        self.open_with(actor, session_id, action, || Ok(passphrase))
    }

    /// [`Catalog::open_for`] with the passphrase asked for only when the
    /// recording is encrypted: `passphrase` is not called for a recording in
    /// clear, so a passphrase file that can't be read only matters when one
    /// is needed.
    ///
    /// # Errors
    /// As [`Catalog::open_for`], and whatever `passphrase` returns.
    pub fn open_with<P: std::borrow::Borrow<Passphrase>>(
        &self,
        actor: &Actor,
        session_id: &str,
        action: Action,
        passphrase: impl FnOnce() -> Result<Option<P>, CatalogError>,
    ) -> Result<Grant, CatalogError> {
        let r = self
            .check_for(actor, session_id, action)
            .and_then(|(mut grant, encrypted)| {
                if encrypted {
                    let pp = passphrase()?;
                    let pp = pp.as_ref().map(std::borrow::Borrow::borrow);
                    grant.cipher = Some(self.unlock_session_key(actor, &grant.session, pp)?);
                }
                Ok(grant)
            });
        self.log_open(actor, session_id, action, r, "allowed")
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
        let how = match &r {
            Ok((_, true)) => "located (encrypted, passphrase to be given)",
            _ => "allowed",
        };
        self.log_open(actor, session_id, action, r, how)
    }

    /// Audits an opening's outcome; an allowed one that can't be logged is
    /// refused.
    fn log_open<T>(
        &self,
        actor: &Actor,
        session_id: &str,
        action: Action,
        r: Result<T, CatalogError>,
        allowed: &str,
    ) -> Result<T, CatalogError> {
        match r {
            Ok(v) => {
                self.audit_as(&actor.name, action.name(), Some(session_id), allowed, "")
                    .map_err(|e| {
                        if e.is_read_only_db() || self.is_read_only() {
                            CatalogError::ReadOnly {
                                path: self.dir.clone(),
                                what: format!("{action} (it must be written to the audit log)"),
                            }
                        } else {
                            e
                        }
                    })?;
                Ok(v)
            }
            Err(e) => {
                self.audit_best_effort(
                    &actor.name,
                    action.name(),
                    Some(session_id),
                    &crate::audit::outcome_of(&e),
                    "",
                );
                Err(e)
            }
        }
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
        let files: Vec<_> = s.files.iter().map(|f| self.dir.join(&f.path)).collect();
        for f in &files {
            private::check(f)?;
        }
        Ok((
            Grant {
                session: s,
                files,
                cipher: None,
            },
            encrypted,
        ))
    }

    /// [`Catalog::open_for`] keeping the portal keys it unlocks in
    /// `keyring`: a recording whose portal key is already there opens
    /// without a passphrase (and without the passphrase's scrypt work);
    /// otherwise `passphrase` unlocks the key, which is then kept. The
    /// rights and retention checks and the audit are those of `open_for`,
    /// every time.
    ///
    /// # Errors
    /// As [`Catalog::open_for`].
    pub fn open_keyed(
        &self,
        actor: &Actor,
        session_id: &str,
        action: Action,
        keyring: &mut Keyring,
        passphrase: Option<&Passphrase>,
    ) -> Result<Grant, CatalogError> {
        let r = self
            .check_for(actor, session_id, action)
            .and_then(|(mut grant, encrypted)| {
                if encrypted {
                    let key_id = session_key_id(&grant.session)?;
                    if let std::collections::hash_map::Entry::Vacant(slot) =
                        keyring.keys.entry(key_id)
                    {
                        slot.insert(self.unlock_portal_key(actor, &grant.session, passphrase)?);
                    }
                    let block = self.session_key_block(&grant.session)?;
                    let key = keyring.keys.get(&key_id).ok_or_else(|| {
                        CatalogError::Corrupt(format!("key of session {} lost", grant.session.id))
                    })?;
                    grant.cipher = Some(key.open_key_block(&block)?);
                }
                Ok(grant)
            });
        self.log_open(actor, session_id, action, r, "allowed")
    }

    /// Unlocks the portal key of session `s` with `passphrase` and checks
    /// it against the session's key block, keeping it in `keyring` (the
    /// passphrase prompt of a page: the answer is right or wrong at once,
    /// before anything is opened). Not audited as an opening; a wrong
    /// passphrase is audited and throttled.
    ///
    /// # Errors
    /// As [`Catalog::open_for`]; [`CatalogError::Invalid`] for a session in
    /// clear.
    pub fn unlock_for(
        &self,
        actor: &Actor,
        session_id: &str,
        keyring: &mut Keyring,
        passphrase: &Passphrase,
    ) -> Result<(), CatalogError> {
        let r = self
            .check_for(actor, session_id, Action::Replay)
            .and_then(|(grant, encrypted)| {
                if !encrypted {
                    return Err(CatalogError::Invalid(format!(
                        "session {} is not encrypted",
                        crate::names::shown(session_id)
                    )));
                }
                let key_id = session_key_id(&grant.session)?;
                let key = self.unlock_portal_key(actor, &grant.session, Some(passphrase))?;
                key.open_key_block(&self.session_key_block(&grant.session)?)?;
                keyring.keys.insert(key_id, key);
                Ok(())
            });
        if let Err(e) = &r {
            self.audit_best_effort(
                &actor.name,
                "unlock",
                Some(session_id),
                &crate::audit::outcome_of(e),
                "",
            );
        } else {
            self.audit_best_effort(&actor.name, "unlock", Some(session_id), "ok", "");
        }
        r
    }

    fn unlock_session_key(
        &self,
        actor: &Actor,
        s: &SessionInfo,
        passphrase: Option<&Passphrase>,
    ) -> Result<RecordCipher, CatalogError> {
        let key = self.unlock_portal_key(actor, s, passphrase)?;
        key.open_key_block(&self.session_key_block(s)?)
    }

    fn session_key_block(&self, s: &SessionInfo) -> Result<Vec<u8>, CatalogError> {
        let block: Option<Vec<u8>> = self.conn.query_row(
            "SELECT key_block FROM sessions WHERE id = ?1",
            [&s.id],
            |r| r.get(0),
        )?;
        block.ok_or_else(|| CatalogError::Corrupt(format!("session {} has no key block", s.id)))
    }

    fn unlock_portal_key(
        &self,
        actor: &Actor,
        s: &SessionInfo,
        passphrase: Option<&Passphrase>,
    ) -> Result<UnlockedPortalKey, CatalogError> {
        let key_id = session_key_id(s)?;
        // The portal whose passphrase opens the key: the key's owner (a
        // subportal's recordings use the parent's key).
        let (owner, created, active): (i64, i64, bool) = self.conn.query_row(
            "SELECT k.portal_id, k.created_unix_micros, p.active_key_id IS k.id
             FROM portal_keys k JOIN portals p ON p.id = k.portal_id WHERE k.id = ?1",
            [key_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let portal = self.portal_name(owner)?;
        let pp = passphrase.ok_or_else(|| CatalogError::PassphraseRequired {
            portal: portal.clone(),
        })?;
        let wrapped = self.wrapped_key(key_id)?;
        let Some(key) = self.try_passphrase(actor, &wrapped, pp)? else {
            return Err(if active {
                CatalogError::WrongPassphrase { portal }
            } else {
                CatalogError::WrongEarlierPassphrase {
                    portal,
                    set_on: crate::model::utc_date(created),
                }
            });
        };
        Ok(key)
    }
}

fn session_key_id(s: &SessionInfo) -> Result<i64, CatalogError> {
    s.key_id
        .ok_or_else(|| CatalogError::Corrupt(format!("session {} has no key", s.id)))
}

/// Portal keys unlocked with their passphrases and kept by the caller (the
/// web service keeps one keyring per login, in memory only), so later
/// recordings of the same portal open without asking again. The keys wipe
/// themselves when the keyring is cleared or dropped; `Debug` shows only
/// how many there are.
#[derive(Default)]
pub struct Keyring {
    keys: HashMap<i64, UnlockedPortalKey>,
}

impl Keyring {
    /// An empty keyring.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How many portal keys it holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether it holds none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Drops (and so wipes) every key.
    pub fn clear(&mut self) {
        self.keys.clear();
    }
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyring({} key(s))", self.keys.len())
    }
}
