//! The one error type of the catalog crate.

use std::path::PathBuf;

/// Everything that can go wrong in the catalog, grouped by who is at fault.
///
/// Messages are lowercase except where the product requires an exact
/// user-facing sentence (the retention messages).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// The acting user may not do this. The message says what was refused and
    /// why, without revealing anything the actor may not see.
    #[error("{action} refused for user {actor:?}: {reason}")]
    Denied {
        /// The user who asked.
        actor: String,
        /// What was asked (e.g. `replay`).
        action: String,
        /// Why it was refused.
        reason: String,
    },
    /// Login failed: unknown user or wrong password (deliberately not said which).
    #[error("unknown user or wrong password for {0:?}")]
    BadCredentials(String),
    /// A search whose date range begins before the retention window.
    #[error("Session data is only stored for {days} days. Date range begins too far in the past.")]
    RangeTooOld {
        /// The retention period in days.
        days: u32,
    },
    /// The session is older than the retention window (or was purged).
    #[error("Data no longer available – Session data is only stored for {days} days.")]
    Expired {
        /// The retention period in days.
        days: u32,
    },
    /// The recording is encrypted and no passphrase was given.
    #[error("session replay passphrase required for portal {portal:?}")]
    PassphraseRequired {
        /// Name of the portal.
        portal: String,
    },
    /// The given passphrase does not unlock the portal's key.
    #[error("wrong session replay passphrase for portal {portal:?}")]
    WrongPassphrase {
        /// Name of the portal.
        portal: String,
    },
    /// A passphrase operation that does not fit the portal's state.
    #[error("portal {portal:?}: {reason}")]
    PassphraseState {
        /// Name of the portal.
        portal: String,
        /// What is wrong, e.g. "already has a session replay passphrase".
        reason: String,
    },
    /// A named object (user, team, portal) was not found.
    #[error("no {kind} named {name:?}")]
    NotFound {
        /// `user`, `team`, `portal`.
        kind: &'static str,
        /// The name asked for.
        name: String,
    },
    /// An object with this name already exists.
    #[error("a {kind} named {name:?} already exists")]
    Exists {
        /// `user`, `team`, `portal`, `session`.
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// Caller misuse: an argument that makes no sense (empty name, end before start, …).
    #[error("invalid argument: {0}")]
    Invalid(String),
    /// A recording's encryption block or a sealed payload is malformed or does
    /// not authenticate.
    #[error("encryption: {0}")]
    Crypto(String),
    /// A recording file could not be read as a `.g2a` container.
    #[error("recording {path}: {source}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What the format crate said.
        #[source]
        source: g2a_format::FormatError,
    },
    /// The catalog database is not a g2a catalog, or is from a newer version.
    #[error("catalog schema: found version {found}, expected at most {expected}")]
    Schema {
        /// Version found in the database.
        found: i64,
        /// Newest version this build knows.
        expected: i64,
    },
    /// A stored value is inconsistent (a bug or a hand-edited database).
    #[error("catalog database is inconsistent: {0}")]
    Corrupt(String),
    /// SQLite failed.
    #[error("catalog database: {0}")]
    Db(#[from] rusqlite::Error),
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl CatalogError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CatalogError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn denied(actor: &str, action: impl ToString, reason: impl Into<String>) -> Self {
        CatalogError::Denied {
            actor: actor.to_owned(),
            action: action.to_string(),
            reason: reason.into(),
        }
    }

    /// True when this error is an access refusal ([`CatalogError::Denied`]).
    #[must_use]
    pub fn is_denied(&self) -> bool {
        matches!(self, CatalogError::Denied { .. })
    }
}
