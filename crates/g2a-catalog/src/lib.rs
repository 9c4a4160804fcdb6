//! The g2a session catalog: which session a recording is, who may watch or
//! export it, how long it is kept, and the session replay passphrase.
//!
//! A catalog is a directory holding `catalog.sqlite` (SQLite, schema
//! migrations by `PRAGMA user_version`) and `recordings/<session id>/…`.
//!
//! - **Organisation**: company managers; team managers of one or more teams;
//!   representatives in one team at a time, optionally with Management
//!   Center access; teams nested in subteams; portals with subportals.
//!   Passwords are argon2id hashes.
//! - **Search** ([`Catalog::search`]) by session id, or by portal, team
//!   (with subteams), representative and date range, paged, newest first,
//!   always narrowed to what the actor may see.
//! - **Retention** (90 days by default): older ranges are refused,
//!   older sessions say the data is gone, [`Catalog::purge`] deletes them.
//! - **Rights**: one function, [`authorize`], used by every path;
//!   [`Catalog::open_for`] checks, audits and unlocks before a replay, frame,
//!   export, chat or diagnostics read.
//! - **Encryption at rest** under a per-portal session replay passphrase
//!   (age X25519 portal key wrapped with age scrypt; per-recording file key;
//!   XChaCha20-Poly1305 per record). See `docs/SECURITY.md`.
//!
//! ```
//! use g2a_catalog::{Action, Catalog, CatalogOptions, NewSession, Role, SearchQuery};
//!
//! let dir = tempfile::tempdir()?;
//! let mut cat = Catalog::create(dir.path(), "boss", "Vq8#Lw2!pZ-boss", CatalogOptions::insecure_fast_for_tests())?;
//! let boss = cat.login("boss", "Vq8#Lw2!pZ-boss")?;
//! cat.add_portal(&boss, "acme", None)?;
//! cat.add_team(&boss, "support", None)?;
//! cat.assign_team_to_portal(&boss, "support", "acme")?;
//! cat.add_representative(&boss, "ann", "support", Some("Vq8#Lw2!pZ-ann"), true)?;
//! let now = cat.now();
//! cat.import_metadata(&boss, &[NewSession {
//!     id: "S1".into(), portal: "acme".into(), team: "support".into(),
//!     representative: "ann".into(), start_unix_micros: now - 1, end_unix_micros: now,
//!     ..NewSession::default()
//! }])?;
//! let ann = cat.login("ann", "Vq8#Lw2!pZ-ann")?;
//! assert_eq!(cat.search(&ann, &SearchQuery::default())?.sessions.len(), 1);
//! let grant = cat.open_for(&ann, "S1", Action::Replay, None)?;
//! assert!(grant.cipher.is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod access;
mod audit;
mod catalog;
mod content;
mod crypto;
mod error;
mod import;
mod logins;
mod model;
mod names;
mod org;
mod passphrase;
mod people;
mod private;
mod recorders;
mod retention;
mod rights;
mod sessions;
mod store;
mod uploads;
mod users;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_logins;
#[cfg(test)]
mod tests_management;
#[cfg(test)]
mod tests_security;
#[cfg(test)]
mod tests_uploads;

pub use access::Keyring;
pub use audit::MAX_AUDIT_ENTRIES;
pub use catalog::{Catalog, CatalogOptions, Clock, Grant};
pub use content::{ChatLine, DiagnosticDoc};
pub use crypto::{
    split_key_block, Passphrase, PortalRecipient, RecordCipher, UnlockedPortalKey,
    DEFAULT_SCRYPT_LOG_N, NONCE_LEN, SCHEME, TAG_LEN,
};
pub use error::CatalogError;
pub use logins::{Login, LoginPolicy, LoginToken};
pub use model::{
    Action, Actor, AuditEntry, AuditQuery, ImportOptions, Imported, NewSession, PortalInfo,
    RecordingFile, Role, SearchPage, SearchQuery, SessionInfo, TeamInfo, UserInfo,
};
pub use recorders::{RecorderInfo, RecorderToken, Uploader, RECORDER_TOKEN_PREFIX};
pub use rights::{authorize, authorize_search, Denied, NOT_VISIBLE};
pub use uploads::{UploadInfo, UploadState, UploadSweep, MAX_OPEN_UPLOADS, MAX_UPLOAD_BYTES};
