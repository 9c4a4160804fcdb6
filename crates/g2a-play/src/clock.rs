//! The playback clock: media time as a function of wall time, speed and
//! play/pause. Pure arithmetic over explicit `Instant`s, so it is tested
//! without waiting.

use std::time::Instant;

use g2a_core::Timestamp;

/// The speeds offered, slowest first.
pub const SPEEDS: [f32; 7] = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0];

/// Slowest speed.
pub const MIN_SPEED: f32 = 0.25;
/// Fastest speed.
pub const MAX_SPEED: f32 = 16.0;

/// Media time advancing at `speed` while playing.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Media time at `since`.
    base: Timestamp,
    since: Instant,
    speed: f32,
    playing: bool,
}

impl Clock {
    /// A paused clock at `at`.
    #[must_use]
    pub fn new(at: Timestamp, now: Instant) -> Clock {
        Clock {
            base: at,
            since: now,
            speed: 1.0,
            playing: false,
        }
    }

    /// Media time at wall time `now`.
    #[must_use]
    pub fn position(&self, now: Instant) -> Timestamp {
        if !self.playing {
            return self.base;
        }
        let wall = now.saturating_duration_since(self.since);
        self.base
            .saturating_add(wall.mul_f64(f64::from(self.speed)))
    }

    /// True while playing.
    #[must_use]
    pub fn playing(&self) -> bool {
        self.playing
    }

    /// The speed.
    #[must_use]
    pub fn speed(&self) -> f32 {
        self.speed
    }

    /// Starts or resumes playback from the current position.
    pub fn play(&mut self, now: Instant) {
        self.rebase(now);
        self.playing = true;
    }

    /// Pauses at the current position.
    pub fn pause(&mut self, now: Instant) {
        self.rebase(now);
        self.playing = false;
    }

    /// Toggles play/pause.
    pub fn toggle(&mut self, now: Instant) {
        if self.playing {
            self.pause(now);
        } else {
            self.play(now);
        }
    }

    /// Moves to `at`, keeping play/pause.
    pub fn seek(&mut self, at: Timestamp, now: Instant) {
        self.base = at;
        self.since = now;
    }

    /// Sets the speed, clamped to [`MIN_SPEED`]..=[`MAX_SPEED`] (a NaN
    /// speed is ignored); the position does not jump.
    pub fn set_speed(&mut self, speed: f32, now: Instant) {
        if speed.is_nan() {
            return;
        }
        self.rebase(now);
        self.speed = speed.clamp(MIN_SPEED, MAX_SPEED);
    }

    /// The next speed of [`SPEEDS`] up (`up`) or down from the current one.
    pub fn step_speed(&mut self, up: bool, now: Instant) {
        let next = if up {
            SPEEDS.iter().copied().find(|&s| s > self.speed)
        } else {
            SPEEDS.iter().rev().copied().find(|&s| s < self.speed)
        };
        if let Some(s) = next {
            self.set_speed(s, now);
        }
    }

    /// Stops at `end` when the position passed it: returns true when it did.
    pub fn clamp_to(&mut self, end: Timestamp, now: Instant) -> bool {
        if self.playing && self.position(now) >= end {
            self.base = end;
            self.since = now;
            self.playing = false;
            return true;
        }
        false
    }

    fn rebase(&mut self, now: Instant) {
        self.base = self.position(now);
        self.since = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ms(v: u64) -> Timestamp {
        Timestamp::from_millis(v)
    }

    #[test]
    fn paused_clock_stands_still_and_playing_advances_at_speed() {
        let t0 = Instant::now();
        let mut c = Clock::new(ms(1000), t0);
        assert_eq!(c.position(t0 + Duration::from_secs(5)), ms(1000));
        c.play(t0);
        assert_eq!(c.position(t0 + Duration::from_secs(2)), ms(3000));
        for (speed, want) in [(0.25, 500), (2.0, 4000), (16.0, 32_000)] {
            let mut c = Clock::new(Timestamp::ZERO, t0);
            c.set_speed(speed, t0);
            c.play(t0);
            assert_eq!(
                c.position(t0 + Duration::from_secs(2)),
                ms(want),
                "speed {speed}"
            );
        }
    }

    #[test]
    fn speed_change_and_pause_keep_the_position_continuous() {
        let t0 = Instant::now();
        let mut c = Clock::new(Timestamp::ZERO, t0);
        c.play(t0);
        let t1 = t0 + Duration::from_secs(1);
        c.set_speed(4.0, t1);
        assert_eq!(c.position(t1), ms(1000));
        let t2 = t1 + Duration::from_millis(500);
        assert_eq!(c.position(t2), ms(3000));
        c.pause(t2);
        assert!(!c.playing());
        assert_eq!(c.position(t2 + Duration::from_secs(9)), ms(3000));
        c.toggle(t2 + Duration::from_secs(9));
        assert_eq!(c.position(t2 + Duration::from_secs(10)), ms(7000));
    }

    #[test]
    fn speed_is_clamped_and_steps_through_the_list() {
        let t0 = Instant::now();
        let mut c = Clock::new(Timestamp::ZERO, t0);
        c.set_speed(100.0, t0);
        assert_eq!(c.speed(), MAX_SPEED);
        c.set_speed(0.0, t0);
        assert_eq!(c.speed(), MIN_SPEED);
        c.set_speed(f32::NAN, t0);
        assert_eq!(c.speed(), MIN_SPEED);
        let mut seen = vec![c.speed()];
        for _ in 0..10 {
            c.step_speed(true, t0);
            seen.push(c.speed());
        }
        assert_eq!(&seen[..7], &SPEEDS);
        assert_eq!(c.speed(), MAX_SPEED);
        c.step_speed(false, t0);
        assert_eq!(c.speed(), 8.0);
    }

    #[test]
    fn playback_stops_at_the_end_and_seek_keeps_playing() {
        let t0 = Instant::now();
        let mut c = Clock::new(Timestamp::ZERO, t0);
        c.play(t0);
        assert!(!c.clamp_to(ms(5000), t0 + Duration::from_secs(4)));
        assert!(c.clamp_to(ms(5000), t0 + Duration::from_secs(6)));
        assert_eq!(c.position(t0 + Duration::from_secs(60)), ms(5000));
        c.play(t0);
        c.seek(ms(100), t0);
        assert_eq!(c.position(t0 + Duration::from_millis(100)), ms(200));
    }
}
