//! Following a recording while it is being made: its first file and each
//! continuation file, sent as they grow, each finished when the next one
//! appears or the recording ends.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use g2a_format::continuation_path;

use crate::{Observer, UploadError, UploadStatus, Uploader};

/// What a followed recording's upload gave: each file and the server's
/// word on it.
pub type Uploaded = Vec<(PathBuf, UploadStatus)>;

/// An upload running beside a recording (see [`Uploader::follow`]).
#[derive(Debug)]
pub struct LiveUpload {
    ended: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<Uploaded, UploadError>>>,
}

impl LiveUpload {
    /// Says the recording has ended (every file is closed) and waits until
    /// the uploader has sent the rest, or has given up.
    ///
    /// # Errors
    /// What stopped the upload (the local files are kept either way, and a
    /// later `upload_file` of each resumes it).
    pub fn finish(mut self) -> Result<Uploaded, UploadError> {
        self.ended.store(true, Ordering::SeqCst);
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) | None => Err(UploadError::Protocol {
                file: PathBuf::new(),
                reason: "the upload thread stopped unexpectedly".into(),
            }),
        }
    }

    /// Whether the uploader has stopped already (it failed, or the
    /// recording ended).
    #[must_use]
    pub fn is_stopped(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for LiveUpload {
    fn drop(&mut self) {
        self.ended.store(true, Ordering::SeqCst);
    }
}

impl Uploader {
    /// Starts sending the recording whose first file is `first` while it
    /// is being made, on a thread of its own: each file is created on the
    /// server with its length deferred, sent as it grows, and given its
    /// length when the next continuation file appears or
    /// [`LiveUpload::finish`] says the recording ended. The recording
    /// never waits for the network; a server that is away is tried again
    /// (with backoff) for as long as the recording lasts. With
    /// `remove_after`, each file is deleted once the server has all of it.
    pub fn follow(
        self,
        first: PathBuf,
        remove_after: bool,
        mut obs: Box<dyn Observer + Send>,
    ) -> LiveUpload {
        let ended = Arc::new(AtomicBool::new(false));
        let flag = ended.clone();
        let thread = std::thread::Builder::new()
            .name("g2a-upload".into())
            .spawn(move || self.follow_files(&first, &flag, remove_after, obs.as_mut()));
        match thread {
            Ok(t) => LiveUpload {
                ended,
                thread: Some(t),
            },
            Err(_) => LiveUpload {
                ended,
                thread: None,
            },
        }
    }

    fn follow_files(
        &self,
        first: &Path,
        ended: &AtomicBool,
        remove_after: bool,
        obs: &mut dyn Observer,
    ) -> Result<Uploaded, UploadError> {
        let mut done = Vec::new();
        for index in 0u32.. {
            let path = if index == 0 {
                first.to_owned()
            } else {
                continuation_path(first, index)
            };
            while !path.exists() {
                if ended.load(Ordering::SeqCst) && !path.exists() {
                    return Ok(done);
                }
                std::thread::sleep(self.opts.poll);
            }
            let next = continuation_path(first, index + 1);
            let finished = || ended.load(Ordering::SeqCst) || next.exists();
            let status = self.send(&path, Some(&finished), obs)?;
            if remove_after && status.state == "done" {
                std::fs::remove_file(&path).map_err(|e| UploadError::io(&path, e))?;
            }
            done.push((path, status));
        }
        Ok(done)
    }
}
