//! Sends g2a recordings to a `g2a serve` review service, resumably.
//!
//! The service takes uploads over the tus 1.0 protocol (core, `creation`,
//! `creation-defer-length`; docs/SERVE.md). An [`Uploader`] sends a whole
//! file ([`Uploader::upload_file`]) or follows a recording while it is
//! being made ([`Uploader::follow`]), its continuation files included.
//! Beside each file it keeps a state file (`FILE.upload`, see
//! [`state_path`]) naming the upload on the server, so a run that was cut
//! (a lost connection, a killed process, a restarted server) resumes from
//! the server's offset instead of starting again. Failures of the network
//! or the server are retried with exponential backoff; refusals (a revoked
//! token, a recording of another portal) are not. The local file is only
//! read, and removed only when asked and only once the server has it all.
//!
//! ```no_run
//! use g2a_upload::{Quiet, UploadOptions, Uploader};
//! let up = Uploader::new("https://review.example:8443", "g2a_rec_…", None, UploadOptions::default())?;
//! let status = up.upload_file("session.g2a".as_ref(), &mut Quiet)?;
//! println!("{} is in session {:?}", status.file_name, status.session_id);
//! # Ok::<(), g2a_upload::UploadError>(())
//! ```

mod error;
mod live;
mod send;
mod state;
mod tus;

use std::path::Path;
use std::time::Duration;

pub use error::UploadError;
pub use live::{LiveUpload, Uploaded};
pub use state::state_path;
pub use tus::UploadStatus;

/// How an [`Uploader`] sends.
#[derive(Debug, Clone)]
pub struct UploadOptions {
    /// Bytes per `PATCH` request (4 MiB).
    pub chunk: usize,
    /// The first wait after a failure, doubled after each one (0.5 s).
    pub first_backoff: Duration,
    /// The longest wait between two tries (30 s).
    pub max_backoff: Duration,
    /// How long to go on trying without any progress before giving up
    /// (10 minutes). While a followed recording is still being made the
    /// uploader never gives up.
    pub give_up_after: Duration,
    /// How often a growing recording is looked at (250 ms).
    pub poll: Duration,
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions {
            chunk: 4 << 20,
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            give_up_after: Duration::from_secs(600),
            poll: Duration::from_millis(250),
        }
    }
}

/// What an upload tells whoever watches it (a progress bar, a log).
pub trait Observer {
    /// `sent` bytes of `file` are on the server, of `total` once known.
    fn progress(&mut self, file: &Path, sent: u64, total: Option<u64>) {
        let _ = (file, sent, total);
    }
    /// A request failed with `why`; the next try comes after `wait`.
    fn retrying(&mut self, file: &Path, why: &str, wait: Duration) {
        let _ = (file, why, wait);
    }
}

/// An [`Observer`] that says nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Observer for Quiet {}

/// Sends recordings to one service as one recorder.
#[derive(Debug, Clone)]
pub struct Uploader {
    ep: tus::Endpoint,
    opts: UploadOptions,
}

impl Uploader {
    /// An uploader to the service at `server` (`https://HOST:PORT`, or
    /// `http://` on loopback), with a recorder token. `ca_cert` is a PEM
    /// file of the certificates to trust instead of the web's usual roots
    /// (for a service with its own CA or a self-signed certificate).
    ///
    /// # Errors
    /// A malformed server address or token; an unreadable or invalid
    /// certificate file.
    pub fn new(
        server: &str,
        token: &str,
        ca_cert: Option<&Path>,
        opts: UploadOptions,
    ) -> Result<Self, UploadError> {
        let pem = match ca_cert {
            Some(p) => Some(std::fs::read(p).map_err(|e| UploadError::io(p, e))?),
            None => None,
        };
        let ep = tus::Endpoint::new(server, token, ca_cert.zip(pem.as_deref()))?;
        Ok(Uploader { ep, opts })
    }

    /// The options it sends with.
    #[must_use]
    pub fn options(&self) -> &UploadOptions {
        &self.opts
    }
}
