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
    /// Login failed: unknown user or wrong password (deliberately not said
    /// which). Holds the name as shown back (quoted, cut when long).
    #[error("unknown user or wrong password for {0}")]
    BadCredentials(String),
    /// A recorder token that is unknown, malformed or revoked.
    #[error("unknown or revoked recorder token")]
    BadToken,
    /// A limit that keeps one client from exhausting the catalog's
    /// resources (unfinished uploads, an upload's size).
    #[error("limit reached: {0}")]
    Limit(String),
    /// Too many failed attempts: the next one is accepted after a wait.
    #[error("too many failed {what} attempts for {subject}; try again in {retry_after_secs} s")]
    Throttled {
        /// `login` or `passphrase`.
        what: &'static str,
        /// The account or portal, as shown back.
        subject: String,
        /// Seconds until the next attempt is accepted.
        retry_after_secs: u64,
    },
    /// A new password or passphrase is too easy to guess.
    #[error("{what} is too weak: {why}")]
    WeakSecret {
        /// `password` or `session replay passphrase`.
        what: &'static str,
        /// Why, with a hint.
        why: String,
    },
    /// A recording's header names a portal, team or representative that
    /// don't belong together in this catalog.
    #[error("recording {session}: {reason}")]
    Attribution {
        /// The session id (as shown back).
        session: String,
        /// What doesn't fit, e.g. "representative \"ann\" is in team \"sales\", not \"support\"".
        reason: String,
    },
    /// A recording's encryption doesn't match its portal's passphrase.
    #[error("recording {session}: {reason}")]
    Coverage {
        /// The session id (as shown back).
        session: String,
        /// What is wrong.
        reason: String,
    },
    /// A catalog file or folder may be read by other users.
    #[error("{} is readable by other users (mode {mode:04o}, expected 0600 for files and 0700 for folders): run `chmod -R go-rwx` on the catalog; only the account that runs g2a may read it", path.display())]
    NotPrivate {
        /// The file or folder.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The catalog was opened read-only and the operation must write.
    #[error("catalog {} is read-only: {what} needs to write to it", path.display())]
    ReadOnly {
        /// The catalog directory.
        path: PathBuf,
        /// What needed to write.
        what: String,
    },
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
    /// The given passphrase does not unlock a recording made under an
    /// earlier passphrase of the portal (since changed to a new key, or
    /// removed).
    #[error("wrong session replay passphrase for portal {portal:?}: this recording was made under an earlier passphrase of the portal (set on {set_on}, since replaced or removed); give the passphrase that was current when it was recorded")]
    WrongEarlierPassphrase {
        /// Name of the portal.
        portal: String,
        /// When that passphrase was set (YYYY-MM-DD, UTC).
        set_on: String,
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
    #[error("no {kind} named {}", crate::names::shown(name))]
    NotFound {
        /// `user`, `team`, `portal`.
        kind: &'static str,
        /// The name asked for.
        name: String,
    },
    /// An object with this name already exists.
    #[error("a {kind} named {} already exists", crate::names::shown(name))]
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
    #[error("recording {}: {error}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What the format crate said (printed here, so not a `source()`).
        error: g2a_format::FormatError,
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
    /// SQLite failed (its message is printed here, so not a `source()`).
    #[error("catalog database: {0}")]
    Db(rusqlite::Error),
    /// A file operation failed.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error (printed here, so not a `source()`).
        error: std::io::Error,
    },
}

impl From<rusqlite::Error> for CatalogError {
    fn from(e: rusqlite::Error) -> Self {
        CatalogError::Db(e)
    }
}

impl CatalogError {
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        CatalogError::Io {
            path: path.into(),
            error,
        }
    }

    /// The wording of a format error of `path`.
    pub(crate) fn format(path: &std::path::Path, error: g2a_format::FormatError) -> Self {
        CatalogError::Format {
            path: path.to_owned(),
            error,
        }
    }

    /// True when the database refused a write because it is read-only.
    pub(crate) fn is_read_only_db(&self) -> bool {
        matches!(self, CatalogError::Db(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ReadOnly)
            || matches!(self, CatalogError::ReadOnly { .. })
    }

    pub(crate) fn denied(actor: &str, action: impl ToString, reason: impl Into<String>) -> Self {
        CatalogError::Denied {
            actor: crate::names::bounded(actor, 64),
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
