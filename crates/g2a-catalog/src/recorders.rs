//! Recorders that upload: a company manager issues each recording client a
//! token, scoped to one portal (and its subportals) and good only for
//! uploading recordings to it, and can revoke it. Only the token's SHA-256
//! is stored; the secret is shown once, when issued.

use std::fmt;

use rand::RngCore;
use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::model::Actor;
use crate::names::{self, shown};
use crate::{Catalog, CatalogError};

/// What every recorder token begins with, so a token pasted in the wrong
/// place is recognised (and secret scanners can find leaked ones).
pub const RECORDER_TOKEN_PREFIX: &str = "g2a_rec_";
/// A recorder's last use is written at most this often (µs).
const TOUCH_EVERY_US: i64 = 60_000_000;

/// The secret of a recorder token: [`RECORDER_TOKEN_PREFIX`] and 64 hex
/// digits (256 random bits). `Debug` does not show it.
pub struct RecorderToken(Zeroizing<String>);

impl RecorderToken {
    /// The token's text, to hand to the recorder.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RecorderToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecorderToken(<redacted>)")
    }
}

/// A recorder as a company manager sees it in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecorderInfo {
    /// The recorder's name.
    pub name: String,
    /// The portal it may upload to (with its subportals).
    pub portal: String,
    /// The company manager who issued the token.
    pub created_by: String,
    /// When the token was issued, µs since the Unix epoch.
    pub created_unix_micros: i64,
    /// When it was revoked, if it was.
    pub revoked_unix_micros: Option<i64>,
    /// When it was last used (to the minute), if ever.
    pub last_used_unix_micros: Option<i64>,
}

/// A recorder authenticated by its token: it may create uploads and send
/// their bytes, for recordings of its portal and that portal's subportals,
/// and nothing else. Built only by [`Catalog::uploader_for_token`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploader {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) portal_id: i64,
    pub(crate) portal: String,
}

impl Uploader {
    /// The recorder's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The portal it uploads to.
    #[must_use]
    pub fn portal(&self) -> &str {
        &self.portal
    }

    /// The name its actions are audited under.
    #[must_use]
    pub fn audit_name(&self) -> String {
        format!("recorder:{}", self.name)
    }
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Catalog {
    /// Issues a token for a recorder named `name` that may upload
    /// recordings of `portal` (and its subportals) (company managers only;
    /// audited). The returned secret is not stored and can't be shown
    /// again: a lost token is revoked and a new one issued.
    ///
    /// # Errors
    /// Denied; [`CatalogError::Invalid`] for a bad name;
    /// [`CatalogError::NotFound`] for an unknown portal;
    /// [`CatalogError::Exists`] when a recorder has that name.
    pub fn issue_recorder_token(
        &self,
        actor: &Actor,
        name: &str,
        portal: &str,
    ) -> Result<RecorderToken, CatalogError> {
        self.managed(actor, "issue-recorder-token", None, |detail| {
            *detail = format!("recorder {} for portal {}", shown(name), shown(portal));
            self.require_company(actor, "issue recorder tokens")?;
            let name = names::normalise("recorder", name)?;
            let portal_id = self.named_id("portals", "portal", portal)?;
            let mut b = Zeroizing::new([0u8; 32]);
            rand::rngs::OsRng.fill_bytes(&mut b[..]);
            let token = Zeroizing::new(format!("{RECORDER_TOKEN_PREFIX}{}", hex::encode(&b[..])));
            let r = self.conn.execute(
                "INSERT INTO recorder_tokens (name, token_hash, portal_id, created_by, created_us)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![name, token_hash(&token), portal_id, actor.name, self.now()],
            );
            match r {
                Ok(_) => Ok(RecorderToken(token)),
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    Err(CatalogError::Exists {
                        kind: "recorder",
                        name,
                    })
                }
                Err(e) => Err(e.into()),
            }
        })
    }

    /// Revokes a recorder's token (company managers only; audited): its
    /// uploads in progress stop being accepted; what they sent stays.
    ///
    /// # Errors
    /// Denied; [`CatalogError::NotFound`] for an unknown or already
    /// revoked recorder.
    pub fn revoke_recorder_token(&self, actor: &Actor, name: &str) -> Result<(), CatalogError> {
        self.managed(actor, "revoke-recorder-token", None, |detail| {
            *detail = format!("recorder {}", shown(name));
            self.require_company(actor, "revoke recorder tokens")?;
            let n = self.conn.execute(
                "UPDATE recorder_tokens SET revoked_us = ?1 WHERE name = ?2 AND revoked_us IS NULL",
                params![self.now(), names::lookup_form(name)],
            )?;
            if n == 0 {
                return Err(CatalogError::NotFound {
                    kind: "recorder",
                    name: name.to_owned(),
                });
            }
            Ok(())
        })
    }

    /// Every recorder, revoked ones included, by name (company managers
    /// only).
    ///
    /// # Errors
    /// Denied; database errors.
    pub fn list_recorders(&self, actor: &Actor) -> Result<Vec<RecorderInfo>, CatalogError> {
        self.require_company(actor, "list recorders")?;
        let mut st = self.conn.prepare(
            "SELECT r.name, p.name, r.created_by, r.created_us, r.revoked_us, r.last_used_us
             FROM recorder_tokens r JOIN portals p ON p.id = r.portal_id ORDER BY r.name",
        )?;
        let v = st
            .query_map([], |r| {
                Ok(RecorderInfo {
                    name: r.get(0)?,
                    portal: r.get(1)?,
                    created_by: r.get(2)?,
                    created_unix_micros: r.get(3)?,
                    revoked_unix_micros: r.get(4)?,
                    last_used_unix_micros: r.get(5)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(v)
    }

    /// The recorder a token belongs to, if the token is valid and not
    /// revoked. Touches its last use.
    ///
    /// # Errors
    /// [`CatalogError::BadToken`] for an unknown, malformed or revoked
    /// token; database errors.
    pub fn uploader_for_token(&self, token: &str) -> Result<Uploader, CatalogError> {
        let well_formed = token
            .strip_prefix(RECORDER_TOKEN_PREFIX)
            .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
        if !well_formed {
            return Err(CatalogError::BadToken);
        }
        let row = self
            .conn
            .query_row(
                "SELECT r.id, r.name, r.portal_id, p.name, r.last_used_us
                 FROM recorder_tokens r JOIN portals p ON p.id = r.portal_id
                 WHERE r.token_hash = ?1 AND r.revoked_us IS NULL",
                [token_hash(token)],
                |r| {
                    let who = Uploader {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        portal_id: r.get(2)?,
                        portal: r.get(3)?,
                    };
                    Ok((who, r.get::<_, Option<i64>>(4)?))
                },
            )
            .optional()?;
        let Some((who, last)) = row else {
            return Err(CatalogError::BadToken);
        };
        let now = self.now();
        if !self.is_read_only() && last.is_none_or(|l| now.saturating_sub(l) >= TOUCH_EVERY_US) {
            self.conn.execute(
                "UPDATE recorder_tokens SET last_used_us = ?1 WHERE id = ?2",
                params![now, who.id],
            )?;
        }
        Ok(who)
    }

    /// The recorder of a token id, unless it was revoked (the sweep acts
    /// for the recorder that sent an upload).
    pub(crate) fn uploader_by_id(&self, id: i64) -> Result<Option<Uploader>, CatalogError> {
        Ok(self
            .conn
            .query_row(
                "SELECT r.id, r.name, r.portal_id, p.name
                 FROM recorder_tokens r JOIN portals p ON p.id = r.portal_id
                 WHERE r.id = ?1 AND r.revoked_us IS NULL",
                [id],
                |r| {
                    Ok(Uploader {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        portal_id: r.get(2)?,
                        portal: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }
}
