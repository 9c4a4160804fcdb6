//! A frame-rate cap on a steady clock.

use std::time::{Duration, Instant};

use crate::CaptureError;

/// Paces a capture loop at a fixed rate on the monotonic clock.
///
/// Ticks fall at `start + n × period`, so the rate does not drift with the
/// time each iteration takes. When an iteration overruns one or more ticks,
/// those ticks are skipped (and counted by [`Pacer::missed`]) instead of
/// being run back to back: a slow machine captures less often, it does not
/// fall behind.
#[derive(Debug, Clone)]
pub struct Pacer {
    period: Duration,
    next: Instant,
    missed: u64,
}

impl Pacer {
    /// A pacer of `fps` ticks a second, the first one now.
    ///
    /// # Errors
    /// [`CaptureError::BadFrameRate`] unless `0 < fps <= 1000`.
    pub fn new(fps: f64) -> Result<Pacer, CaptureError> {
        if !(fps > 0.0 && fps <= 1000.0) {
            return Err(CaptureError::BadFrameRate(fps));
        }
        Ok(Pacer {
            period: Duration::from_secs_f64(1.0 / fps),
            next: Instant::now(),
            missed: 0,
        })
    }

    /// The time between ticks.
    #[must_use]
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The next tick, not yet taken.
    #[must_use]
    pub fn deadline(&self) -> Instant {
        self.next
    }

    /// Ticks skipped so far because an iteration overran them.
    #[must_use]
    pub fn missed(&self) -> u64 {
        self.missed
    }

    /// Takes the next tick as seen at `now`: returns how long to wait for
    /// it (zero when it is due) and schedules the one after, skipping the
    /// ticks that `now` is already past.
    pub fn advance(&mut self, now: Instant) -> Duration {
        let wait = self.next.saturating_duration_since(now);
        let tick = self.next;
        self.next = tick + self.period;
        if self.next <= now {
            // Overran: skip to the first tick after now.
            let behind = now.duration_since(tick).as_nanos() / self.period.as_nanos().max(1);
            let skip = u64::try_from(behind).unwrap_or(u64::MAX);
            self.missed = self.missed.saturating_add(skip);
            self.next = tick
                + self
                    .period
                    .saturating_mul(u32::try_from(skip + 1).unwrap_or(u32::MAX));
        }
        wait
    }

    /// Sleeps until the next tick (at once when it is due) and returns the
    /// time it woke up.
    pub fn wait(&mut self) -> Instant {
        let wait = self.advance(Instant::now());
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
        Instant::now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_steady_and_overruns_skip() {
        let mut p = Pacer::new(10.0).unwrap();
        let t0 = p.deadline();
        let ms = Duration::from_millis;
        // On time: wait for the tick, the next is one period on.
        assert_eq!(p.advance(t0), Duration::ZERO);
        assert_eq!(p.deadline(), t0 + ms(100));
        // An iteration that took 30 ms leaves 70 ms to wait.
        assert_eq!(p.advance(t0 + ms(30)), ms(70));
        assert_eq!(p.deadline(), t0 + ms(200));
        // Arriving 350 ms late skips the ticks at 300 and 400 ms... and 500.
        assert_eq!(p.advance(t0 + ms(550)), Duration::ZERO);
        assert_eq!(p.missed(), 3);
        assert_eq!(p.deadline(), t0 + ms(600));
        assert_eq!(p.advance(t0 + ms(590)), ms(10));
        assert_eq!(p.missed(), 3);
    }

    #[test]
    fn rates_are_checked() {
        for bad in [0.0, -1.0, f64::NAN, 1001.0, f64::INFINITY] {
            assert!(matches!(
                Pacer::new(bad),
                Err(CaptureError::BadFrameRate(_))
            ));
        }
        assert_eq!(
            Pacer::new(4.0).unwrap().period(),
            Duration::from_millis(250)
        );
    }
}
