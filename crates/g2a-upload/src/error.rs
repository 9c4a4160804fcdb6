//! The one error type of the uploader.

use std::path::PathBuf;
use std::time::Duration;

/// What stopped an upload. Every message is one line; the bytes the server
/// already has stay there, and the local file is never touched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UploadError {
    /// The server address is not an `http://` or `https://` URL.
    #[error("{0:?} is not a server address: give http://HOST:PORT or https://HOST:PORT")]
    BadServer(String),
    /// The recorder token is empty or not one line of printable text.
    #[error("the recorder token is {0}: give the token `g2a catalog add-recorder` wrote")]
    BadToken(&'static str),
    /// A certificate file could not be used.
    #[error("{path}: {reason}")]
    Certificate {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A local file (the recording or its state file) could not be read or
    /// written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The server refused the upload; sending again would not help.
    #[error("{file}: the server refused the upload ({status}): {message}")]
    Refused {
        /// The recording file.
        file: PathBuf,
        /// HTTP status.
        status: u16,
        /// The server's one-line reason.
        message: String,
    },
    /// The server could not be reached (or kept failing) for too long.
    #[error("{file}: gave up after {} s without progress: {last}; the server keeps what it has, run `g2a upload` again to resume", waited.as_secs())]
    Unreachable {
        /// The recording file.
        file: PathBuf,
        /// How long it tried.
        waited: Duration,
        /// The last failure.
        last: String,
    },
    /// The local file no longer matches what was uploaded.
    #[error("{file}: {reason}")]
    Changed {
        /// The recording file.
        file: PathBuf,
        /// What changed.
        reason: String,
    },
    /// The connection cannot work (the certificate is not trusted, …).
    #[error("{file}: cannot talk to the server: {reason}")]
    Connection {
        /// The recording file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// The server answered something a tus 1.0 server must not.
    #[error("{file}: the server does not speak tus 1.0 as expected: {reason}")]
    Protocol {
        /// The recording file.
        file: PathBuf,
        /// What was wrong.
        reason: String,
    },
}

impl UploadError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        UploadError::Io {
            path: path.into(),
            source,
        }
    }
}
