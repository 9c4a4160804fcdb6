//! Sending one file, whole or growing, resuming and retrying.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::state::{self, UploadRecord};
use crate::tus::{Failure, UploadStatus};
use crate::{Observer, UploadError, UploadOptions, Uploader};

/// How often the server may forget an upload (answer 404 for it) before
/// the uploader stops starting again.
const MAX_RESTARTS: u32 = 3;

/// The waits between failed tries.
struct Backoff<'a> {
    opts: &'a UploadOptions,
    next: Duration,
    since: Option<Instant>,
}

impl<'a> Backoff<'a> {
    fn new(opts: &'a UploadOptions) -> Self {
        Backoff {
            opts,
            next: opts.first_backoff,
            since: None,
        }
    }

    /// Progress was made: the next failure starts the waits again.
    fn reset(&mut self) {
        self.next = self.opts.first_backoff;
        self.since = None;
    }

    /// Waits before the next try, or gives up when there was no progress
    /// for too long and `patient` is false.
    fn wait(
        &mut self,
        file: &Path,
        why: &str,
        server_wait: Option<Duration>,
        patient: bool,
        obs: &mut dyn Observer,
    ) -> Result<(), UploadError> {
        let since = *self.since.get_or_insert_with(Instant::now);
        if !patient && since.elapsed() >= self.opts.give_up_after {
            return Err(UploadError::Unreachable {
                file: file.to_owned(),
                waited: since.elapsed(),
                last: why.to_owned(),
            });
        }
        let d = self.next.max(server_wait.unwrap_or_default());
        obs.retrying(file, why, d);
        std::thread::sleep(d);
        self.next = (self.next * 2).min(self.opts.max_backoff);
        Ok(())
    }
}

/// Whether a growing file is complete now; `None` for a whole file.
pub(crate) type Finished<'a> = Option<&'a dyn Fn() -> bool>;

impl Uploader {
    /// Uploads a whole recording file, resuming an upload its state file
    /// names (on this server), and returns what the server made of it.
    /// The state file is removed once the server has every byte.
    ///
    /// # Errors
    /// The file cannot be read or changed under the upload; the server
    /// refused it; the server stayed unreachable for
    /// [`UploadOptions::give_up_after`] (what it has is kept: run again).
    pub fn upload_file(
        &self,
        file: &Path,
        obs: &mut dyn Observer,
    ) -> Result<UploadStatus, UploadError> {
        self.send(file, None, obs)
    }

    /// Sends `file`; a growing one until `growing` says it is complete.
    pub(crate) fn send(
        &self,
        file: &Path,
        growing: Finished<'_>,
        obs: &mut dyn Observer,
    ) -> Result<UploadStatus, UploadError> {
        let changed = |reason: String| UploadError::Changed {
            file: file.to_owned(),
            reason,
        };
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| changed("the file name is not UTF-8 text".into()))?
            .to_owned();
        let mut f = File::open(file).map_err(|e| UploadError::io(file, e))?;
        let mut backoff = Backoff::new(&self.opts);
        let mut location = state::load(file)?
            .filter(|r| r.server == self.ep.base())
            .map(|r| r.location);
        let mut offset: Option<u64> = None;
        let mut known_len: Option<u64> = None;
        let mut restarts = 0;
        let mut buf = Vec::new();
        loop {
            // Complete first, then the length: a file said complete has
            // its final length.
            let finished = growing.is_none_or(|g| g());
            let patient = !finished;
            let len = f.metadata().map_err(|e| UploadError::io(file, e))?.len();
            let loc = match &location {
                Some(l) => l.clone(),
                None => match self.ep.create(&name, finished.then_some(len)) {
                    Ok(l) => {
                        state::save(
                            file,
                            &UploadRecord {
                                server: self.ep.base().to_owned(),
                                location: l.clone(),
                            },
                        )?;
                        location = Some(l.clone());
                        l
                    }
                    Err(fail) => {
                        self.failed(file, None, fail, &mut backoff, patient, obs)?;
                        continue;
                    }
                },
            };
            let at = match offset {
                Some(o) => o,
                None => match self.ep.head(&loc) {
                    Ok(h) => {
                        known_len = h.length;
                        offset = Some(h.offset);
                        h.offset
                    }
                    Err(Failure::NotFound) => {
                        restarts += 1;
                        if restarts > MAX_RESTARTS {
                            return Err(UploadError::Protocol {
                                file: file.to_owned(),
                                reason: "the server keeps forgetting the upload (404)".into(),
                            });
                        }
                        state::remove(file)?;
                        location = None;
                        continue;
                    }
                    Err(fail) => {
                        self.failed(file, Some(&loc), fail, &mut backoff, patient, obs)?;
                        continue;
                    }
                },
            };
            if at > len {
                return Err(changed(format!(
                    "the server has {at} bytes of it, the file only {len}: it changed since its upload began"
                )));
            }
            if let Some(l) = known_len {
                if l < len || (finished && l != len) {
                    return Err(changed(format!(
                        "its upload is of {l} bytes and the file has {len}: it changed since its upload began"
                    )));
                }
            }
            if at == len && (!finished || known_len == Some(len)) {
                if finished {
                    break;
                }
                std::thread::sleep(self.opts.poll);
                continue;
            }
            let n = usize::try_from(len - at)
                .unwrap_or(usize::MAX)
                .min(self.opts.chunk);
            buf.clear();
            f.seek(SeekFrom::Start(at))
                .and_then(|_| (&mut f).take(n as u64).read_to_end(&mut buf))
                .map_err(|e| UploadError::io(file, e))?;
            if buf.len() != n {
                return Err(changed(format!(
                    "it ended at {} bytes while being read; it was {len}",
                    at + buf.len() as u64
                )));
            }
            let say_len = (finished && known_len != Some(len)).then_some(len);
            match self.ep.patch(&loc, at, &buf, say_len) {
                Ok(o) if o >= at && o <= len => {
                    offset = Some(o);
                    if say_len.is_some() {
                        known_len = say_len;
                    }
                    if o > at || say_len.is_some() {
                        backoff.reset();
                    }
                    obs.progress(file, o, finished.then_some(len));
                }
                Ok(o) => {
                    return Err(UploadError::Protocol {
                        file: file.to_owned(),
                        reason: format!("after a PATCH at {at} the server says its offset is {o}"),
                    })
                }
                // Ask with HEAD where the server stands (a 404 there starts
                // the upload again).
                Err(Failure::Conflict | Failure::NotFound) => offset = None,
                Err(fail) => {
                    offset = None;
                    self.failed(file, Some(&loc), fail, &mut backoff, patient, obs)?;
                }
            }
        }
        let loc = location.unwrap_or_default();
        let status = loop {
            match self.ep.status(&loc) {
                Ok(s) => break s,
                Err(fail) => self.failed(file, Some(&loc), fail, &mut backoff, false, obs)?,
            }
        };
        if status.state == "failed" {
            state::remove(file)?;
            return Err(UploadError::Refused {
                file: file.to_owned(),
                status: 410,
                message: status.error.unwrap_or_else(|| "no reason given".into()),
            });
        }
        state::remove(file)?;
        Ok(status)
    }

    /// Handles a failed request: waits before the next try, or says why
    /// there is none.
    fn failed(
        &self,
        file: &Path,
        loc: Option<&str>,
        fail: Failure,
        backoff: &mut Backoff<'_>,
        patient: bool,
        obs: &mut dyn Observer,
    ) -> Result<(), UploadError> {
        match fail {
            Failure::Retry(why, wait) => backoff.wait(file, &why, wait, patient, obs),
            Failure::Conflict => {
                backoff.wait(file, "409 the server's offset moved", None, patient, obs)
            }
            Failure::NotFound => Err(UploadError::Refused {
                file: file.to_owned(),
                status: 404,
                message: "the server has no upload API here: is this a g2a service?".into(),
            }),
            Failure::Refused(410, message) => {
                // A HEAD answer has no body: the status says why.
                let message = loc
                    .and_then(|l| self.ep.status(l).ok())
                    .and_then(|s| s.error)
                    .unwrap_or(message);
                state::remove(file)?;
                Err(UploadError::Refused {
                    file: file.to_owned(),
                    status: 410,
                    message,
                })
            }
            Failure::Refused(status, message) => Err(UploadError::Refused {
                file: file.to_owned(),
                status,
                message,
            }),
            Failure::Protocol(reason) => Err(UploadError::Protocol {
                file: file.to_owned(),
                reason,
            }),
            Failure::Connection(reason) => Err(UploadError::Connection {
                file: file.to_owned(),
                reason,
            }),
        }
    }
}
