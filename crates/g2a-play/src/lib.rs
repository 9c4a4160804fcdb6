//! The g2a replay app: watch, scrub and review a `.g2a` recording in a
//! desktop window (eframe/egui, OpenGL on X11).
//!
//! ```no_run
//! use g2a_play::{run, PlayOptions};
//! let opts = PlayOptions::default().file("session.g2a").speed(2.0);
//! run(opts)?;
//! # Ok::<(), g2a_play::PlayError>(())
//! ```
//!
//! What the window offers (keys in parentheses; see docs/PLAY.md):
//! - play and pause (space), speed 0.25× to 16× (`+` / `-`), frame step
//!   (`→` / `←`), seek ±10 s (shift+`→` / `←`), start and end (home / end),
//!   skip idle stretches (`i`);
//! - a timeline to scrub by dragging, with markers for chat messages,
//!   session events, diagnostics and resolution changes, and a thumbnail on
//!   hover; next / previous chat message (`c` / shift+`c`), next / previous
//!   marker (`m` / shift+`m`);
//! - panes: the chat transcript (click a message to seek), session events,
//!   diagnostics (list and view); the session metadata in a header;
//! - fit to window (`f`) or 1:1 (`1`) with panning (drag), crisp at 1:1;
//! - export to MP4 or WMV with progress and cancel (`x`);
//! - follow a recording still being written, at its live edge until you
//!   scrub back (`l`);
//! - an Open dialog (`o`: a path field and a directory list);
//! - a passphrase prompt for encrypted recordings, through [`Unlock`].
//!
//! # Threads and memory
//! The window thread only draws. A decode thread owns its own
//! [`g2a::Player`] and takes requests from a one-place slot where the
//! newest request replaces any waiting one, so scrubbing never queues work
//! (latest requested position wins). A thumbnail thread (its own player)
//! serves the timeline hover; an export thread runs [`g2a_export::export`].
//! Memory: one decoded frame in flight, one frame texture, at most
//! [`THUMB_CACHE`] thumbnails of 240 pixels wide, the chat/events lists,
//! and diagnostics previews of at most [`timeline::DIAG_PREVIEW`] bytes
//! each, whatever the recording's length.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod app;
mod clock;
mod decode;
mod export;
mod geometry;
mod lock;
mod slot;
pub mod timeline;

use std::path::PathBuf;

pub use clock::{Clock, MAX_SPEED, MIN_SPEED, SPEEDS};
pub use geometry::{place, Placement, PxRect, Scale};

/// Turns a passphrase into the recording's cipher, or says why it can't
/// (a wrong passphrase, a damaged key block). Given by the integrator (the
/// catalog); the window asks again after an error.
pub type Unlock = Box<dyn Fn(&str) -> Result<g2a_format::SharedCipher, String> + Send + Sync>;

/// How many timeline thumbnails are kept.
pub const THUMB_CACHE: usize = 48;

/// Options of [`run`].
#[non_exhaustive]
pub struct PlayOptions {
    /// The recording to open (its first file; continuation files follow).
    /// `None` opens the window with the Open dialog.
    pub file: Option<PathBuf>,
    /// Unlocks encrypted recordings (without it they are refused with a
    /// message pointing to `g2a catalog play`).
    pub unlock: Option<Unlock>,
    /// Follow a recording still being written, staying at its live edge.
    pub follow: bool,
    /// Skip stretches where nothing happens while playing.
    pub skip_idle: bool,
    /// Playback speed, clamped to [`MIN_SPEED`]..=[`MAX_SPEED`].
    pub speed: f32,
    /// Start position.
    pub seek: Option<g2a_core::Timestamp>,
    /// Start playing at once.
    pub autoplay: bool,
    /// Show at 1:1 instead of fitting the window.
    pub actual_size: bool,
    /// Draw the recorded mouse cursor.
    pub cursor: bool,
    /// Window inner size in pixels.
    pub window_size: (u32, u32),
    /// Print what is shown (`shown ts=… rect=…`) and timings on stderr, for
    /// automated tests and measurements.
    pub trace: bool,
    /// Run a measurement and quit (see [`Bench`]).
    pub bench: Option<Bench>,
}

/// A measurement run in the real window (results on stdout).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bench {
    /// Seek to `count` positions spread over the recording and report the
    /// time from request to the frame on screen.
    Seeks {
        /// How many seeks.
        count: u32,
    },
    /// Play at `speed` for `seconds` of wall time and report frames shown
    /// per second against the recording's frame rate at that speed.
    Play {
        /// Playback speed.
        speed: f32,
        /// Wall time.
        seconds: f32,
    },
}

impl std::fmt::Debug for PlayOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlayOptions")
            .field("file", &self.file)
            .field("unlock", &self.unlock.as_ref().map(|_| "<callback>"))
            .field("follow", &self.follow)
            .field("skip_idle", &self.skip_idle)
            .field("speed", &self.speed)
            .field("seek", &self.seek)
            .field("autoplay", &self.autoplay)
            .field("actual_size", &self.actual_size)
            .field("cursor", &self.cursor)
            .field("window_size", &self.window_size)
            .field("trace", &self.trace)
            .field("bench", &self.bench)
            .finish()
    }
}

impl Default for PlayOptions {
    fn default() -> Self {
        PlayOptions {
            file: None,
            unlock: None,
            follow: false,
            skip_idle: false,
            speed: 1.0,
            seek: None,
            autoplay: false,
            actual_size: false,
            cursor: true,
            window_size: (1400, 900),
            trace: false,
            bench: None,
        }
    }
}

impl PlayOptions {
    /// Opens `path`.
    #[must_use]
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = Some(path.into());
        self
    }

    /// Unlocks encrypted recordings with `unlock`.
    #[must_use]
    pub fn unlock(mut self, unlock: Unlock) -> Self {
        self.unlock = Some(unlock);
        self
    }

    /// Follows a live recording.
    #[must_use]
    pub fn follow(mut self, yes: bool) -> Self {
        self.follow = yes;
        self
    }

    /// Skips idle stretches.
    #[must_use]
    pub fn skip_idle(mut self, yes: bool) -> Self {
        self.skip_idle = yes;
        self
    }

    /// Sets the speed.
    #[must_use]
    pub fn speed(mut self, speed: f32) -> Self {
        self.speed = speed;
        self
    }

    /// Starts at `at`.
    #[must_use]
    pub fn seek(mut self, at: g2a_core::Timestamp) -> Self {
        self.seek = Some(at);
        self
    }

    /// Starts playing at once.
    #[must_use]
    pub fn autoplay(mut self, yes: bool) -> Self {
        self.autoplay = yes;
        self
    }

    /// Shows at 1:1.
    #[must_use]
    pub fn actual_size(mut self, yes: bool) -> Self {
        self.actual_size = yes;
        self
    }

    /// Draws the cursor (default) or not.
    #[must_use]
    pub fn cursor(mut self, yes: bool) -> Self {
        self.cursor = yes;
        self
    }

    /// Sets the window's inner size.
    #[must_use]
    pub fn window_size(mut self, w: u32, h: u32) -> Self {
        self.window_size = (w, h);
        self
    }

    /// Traces what is shown on stderr.
    #[must_use]
    pub fn trace(mut self, yes: bool) -> Self {
        self.trace = yes;
        self
    }

    /// Runs a measurement and quits.
    #[must_use]
    pub fn bench(mut self, bench: Bench) -> Self {
        self.bench = Some(bench);
        self
    }
}

/// Why the replay app could not run.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlayError {
    /// The recording could not be opened.
    #[error("cannot open {}: {reason}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The window could not be created (no display, no OpenGL).
    #[error("cannot open the replay window: {0}")]
    Window(String),
    /// A worker thread could not be started.
    #[error("cannot start a worker thread: {0}")]
    Thread(String),
    /// A bench run could not complete (no video, timeout).
    #[error("measurement failed: {0}")]
    Bench(String),
}

/// Opens the replay window and runs it until it is closed.
///
/// # Errors
/// [`PlayError::Window`] when no window can be opened (no X display or no
/// OpenGL); [`PlayError::Open`] when the file given cannot be opened (a
/// file chosen in the window reports its errors in the window);
/// [`PlayError::Bench`] when a measurement could not finish.
pub fn run(opts: PlayOptions) -> Result<(), PlayError> {
    if let Some(path) = &opts.file {
        // Fail before opening a window when the file is not a recording.
        g2a_format::SessionSet::open(path).map_err(|e| PlayError::Open {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    }
    app::run_window(opts)
}
