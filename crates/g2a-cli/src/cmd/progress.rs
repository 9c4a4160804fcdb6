//! A progress line on standard error, shown only when it is a terminal.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Rate-limited progress reporting: `\r`-rewritten line, rate and time left.
pub(crate) struct Progress {
    enabled: bool,
    start: Instant,
    last: Instant,
    what: &'static str,
    total: Option<u64>,
}

impl Progress {
    /// A progress line for `what` (for example "frames"), out of `total`
    /// when known.
    pub(crate) fn new(what: &'static str, total: Option<u64>) -> Progress {
        let now = Instant::now();
        Progress {
            enabled: std::io::stderr().is_terminal(),
            start: now,
            last: now,
            what,
            total,
        }
    }

    /// Reports `done` units and a free-form note; at most 5 times a second.
    pub(crate) fn update(&mut self, done: u64, note: &str) {
        if !self.enabled || self.last.elapsed() < Duration::from_millis(200) {
            return;
        }
        self.last = Instant::now();
        let secs = self.start.elapsed().as_secs_f64().max(1e-6);
        let rate = done as f64 / secs;
        let mut line = match self.total {
            Some(t) if t > 0 => {
                let left = if rate > 0.0 {
                    (t.saturating_sub(done)) as f64 / rate
                } else {
                    0.0
                };
                let pct = done as f64 * 100.0 / t as f64;
                let bar_len = 24;
                let filled = ((pct / 100.0) * bar_len as f64) as usize;
                format!(
                    "[{}{}] {pct:5.1}% {done}/{t} {} {rate:.0}/s, {left:.0}s left",
                    "#".repeat(filled.min(bar_len)),
                    "-".repeat(bar_len - filled.min(bar_len)),
                    self.what
                )
            }
            _ => format!("{done} {} {rate:.0}/s", self.what),
        };
        if !note.is_empty() {
            line.push_str(", ");
            line.push_str(note);
        }
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
    }

    /// Clears the line.
    pub(crate) fn finish(&mut self) {
        if self.enabled {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}
