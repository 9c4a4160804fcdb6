//! Export from the window: [`g2a_export::export`] on a worker thread with
//! its own player, progress in a shared state, cancel through a flag.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use g2a_core::Timestamp;
use g2a_export::{export, Control, ExportError, ExportOptions, Format, PlayerSource};
use g2a_format::SharedCipher;

use crate::decode::{open_player, Wake};

/// Where an export is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ExportState {
    /// Encoding: output time reached of the total.
    Running {
        /// Output time reached.
        position: Timestamp,
        /// Output duration.
        total: Timestamp,
    },
    /// Finished: what was written.
    Done(String),
    /// Cancelled by the user (the partial output was removed).
    Cancelled,
    /// Failed, with the reason.
    Failed(String),
}

impl ExportState {
    /// Fraction done, 0..=1.
    pub(crate) fn fraction(&self) -> f32 {
        match self {
            ExportState::Running { position, total } if total.as_micros() > 0 => {
                (position.as_micros() as f64 / total.as_micros() as f64).clamp(0.0, 1.0) as f32
            }
            ExportState::Done(_) => 1.0,
            _ => 0.0,
        }
    }

    /// True when finished one way or another.
    pub(crate) fn finished(&self) -> bool {
        !matches!(self, ExportState::Running { .. })
    }
}

/// A running (or finished) export.
pub(crate) struct ExportJob {
    /// The output file.
    pub(crate) out: PathBuf,
    state: Arc<Mutex<ExportState>>,
    cancel: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ExportJob {
    /// Starts exporting `recording` to `out` in `format`.
    pub(crate) fn start(
        recording: &Path,
        cipher: Option<&SharedCipher>,
        out: PathBuf,
        format: Format,
        wake: Wake,
    ) -> ExportJob {
        let state = Arc::new(Mutex::new(ExportState::Running {
            position: Timestamp::ZERO,
            total: Timestamp::ZERO,
        }));
        let cancel = Arc::new(AtomicBool::new(false));
        let (st, cx, o) = (Arc::clone(&state), Arc::clone(&cancel), out.clone());
        let player = open_player(recording, cipher);
        let set = move |s: ExportState| {
            *st.lock().unwrap_or_else(|e| e.into_inner()) = s;
        };
        let thread = std::thread::Builder::new()
            .name("g2a-play-export".into())
            .spawn(move || {
                let result = player
                    .map_err(|e| e.to_string())
                    .and_then(|p| PlayerSource::new(p).map_err(|e| e.to_string()))
                    .and_then(|mut src| {
                        let opts = ExportOptions::default().format(format);
                        let mut last = std::time::Instant::now();
                        export(&mut src, &o, &opts, &mut |p| {
                            if last.elapsed().as_millis() >= 50 {
                                last = std::time::Instant::now();
                                set(ExportState::Running {
                                    position: p.position,
                                    total: p.total,
                                });
                                wake();
                            }
                            if cx.load(Ordering::Relaxed) {
                                Control::Cancel
                            } else {
                                Control::Continue
                            }
                        })
                        .map_err(|e| match e {
                            ExportError::Cancelled => String::new(),
                            e => e.to_string(),
                        })
                    });
                set(match result {
                    Ok(s) => ExportState::Done(format!(
                        "{} written: {} bytes, {} of video, {} frames",
                        o.display(),
                        s.bytes,
                        s.duration,
                        s.frames_encoded
                    )),
                    Err(e) if e.is_empty() => ExportState::Cancelled,
                    Err(e) => ExportState::Failed(e),
                });
                wake();
            })
            .ok();
        if thread.is_none() {
            *state.lock().unwrap_or_else(|e| e.into_inner()) =
                ExportState::Failed("cannot start the export thread".into());
        }
        ExportJob {
            out,
            state,
            cancel,
            thread,
        }
    }

    /// The current state.
    pub(crate) fn state(&self) -> ExportState {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Asks the export to stop (it removes its partial output).
    pub(crate) fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

impl Drop for ExportJob {
    fn drop(&mut self) {
        self.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
