use std::fmt;
use std::str::FromStr;

/// A point on a session's timeline: microseconds since the session started.
///
/// Timestamps are unsigned; a session never has records before its start.
/// Formatting gives `HH:MM:SS.mmm`; [`Timestamp::parse`] accepts that form,
/// `MM:SS(.fff)`, or plain seconds (`12.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The start of the session.
    pub const ZERO: Timestamp = Timestamp(0);
    /// The largest representable timestamp.
    pub const MAX: Timestamp = Timestamp(u64::MAX);

    /// A timestamp `us` microseconds after the session start.
    #[must_use]
    pub const fn from_micros(us: u64) -> Self {
        Timestamp(us)
    }

    /// A timestamp `ms` milliseconds after the session start (saturating).
    #[must_use]
    pub const fn from_millis(ms: u64) -> Self {
        Timestamp(ms.saturating_mul(1_000))
    }

    /// A timestamp `s` seconds after the session start (saturating).
    #[must_use]
    pub const fn from_secs(s: u64) -> Self {
        Timestamp(s.saturating_mul(1_000_000))
    }

    /// A timestamp from fractional seconds, rounded to the nearest
    /// microsecond; negative and non-finite values give `None`.
    #[must_use]
    pub fn from_secs_f64(s: f64) -> Option<Self> {
        if !s.is_finite() || s < 0.0 {
            return None;
        }
        let us = (s * 1_000_000.0).round();
        if us >= u64::MAX as f64 {
            return None;
        }
        Some(Timestamp(us as u64))
    }

    /// Microseconds since the session start.
    #[must_use]
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// Seconds since the session start, as a float.
    #[must_use]
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1_000_000.0
    }

    /// The time between `earlier` and `self`, or zero if `earlier` is later.
    #[must_use]
    pub fn saturating_since(self, earlier: Timestamp) -> std::time::Duration {
        std::time::Duration::from_micros(self.0.saturating_sub(earlier.0))
    }

    /// `self` plus a duration, saturating at [`Timestamp::MAX`].
    #[must_use]
    pub fn saturating_add(self, d: std::time::Duration) -> Timestamp {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        Timestamp(self.0.saturating_add(us))
    }

    /// Parses `HH:MM:SS(.fff)`, `MM:SS(.fff)` or plain seconds (`SS(.fff)`).
    ///
    /// # Errors
    /// [`ParseTimeError`] when the text is none of these forms, a field is
    /// out of range (minutes or seconds ≥ 60 after the first field), or the
    /// value overflows.
    ///
    /// # Examples
    /// ```
    /// use g2a_core::Timestamp;
    /// assert_eq!(Timestamp::parse("90").unwrap(), Timestamp::from_secs(90));
    /// assert_eq!(Timestamp::parse("1:30").unwrap(), Timestamp::from_secs(90));
    /// assert_eq!(Timestamp::parse("00:00:01.250").unwrap(), Timestamp::from_millis(1250));
    /// assert!(Timestamp::parse("1:75").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, ParseTimeError> {
        let err = || ParseTimeError {
            found: text.to_owned(),
        };
        let text_t = text.trim();
        if text_t.is_empty() {
            return Err(err());
        }
        let (whole, frac) = match text_t.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (text_t, None),
        };
        let fields: Vec<&str> = whole.split(':').collect();
        if fields.len() > 3
            || fields
                .iter()
                .any(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(err());
        }
        let mut secs: u64 = 0;
        for (i, f) in fields.iter().enumerate() {
            let v: u64 = f.parse().map_err(|_| err())?;
            if i > 0 && v >= 60 {
                return Err(err());
            }
            secs = secs
                .checked_mul(60)
                .and_then(|s| s.checked_add(v))
                .ok_or_else(err)?;
        }
        let mut micros: u64 = 0;
        if let Some(f) = frac {
            if f.is_empty() || f.len() > 6 || !f.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            let v: u64 = f.parse().map_err(|_| err())?;
            micros = v * 10u64.pow(6 - f.len() as u32);
        }
        secs.checked_mul(1_000_000)
            .and_then(|s| s.checked_add(micros))
            .map(Timestamp)
            .ok_or_else(err)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0 / 1_000;
        let (h, m, s, milli) = (
            ms / 3_600_000,
            (ms / 60_000) % 60,
            (ms / 1_000) % 60,
            ms % 1_000,
        );
        write!(f, "{h:02}:{m:02}:{s:02}.{milli:03}")
    }
}

impl FromStr for Timestamp {
    type Err = ParseTimeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timestamp::parse(s)
    }
}

/// A time that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid time {found:?}: expected seconds (12.5), MM:SS(.mmm) or HH:MM:SS(.mmm)")]
pub struct ParseTimeError {
    /// The text that was given.
    pub found: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_forms() {
        assert_eq!(Timestamp::parse("0").unwrap(), Timestamp::ZERO);
        assert_eq!(
            Timestamp::parse("2.5").unwrap(),
            Timestamp::from_millis(2500)
        );
        assert_eq!(
            Timestamp::parse("01:00:00").unwrap(),
            Timestamp::from_secs(3600)
        );
        assert_eq!(
            Timestamp::parse("00:00:00.000001").unwrap(),
            Timestamp::from_micros(1)
        );
        for bad in [
            "",
            ":",
            "1:",
            "a",
            "1.2.3",
            "-1",
            "1:2:3:4",
            "00:60",
            "1.",
            "1.1234567",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rejects_overflow() {
        assert!(Timestamp::parse("99999999999999999999").is_err());
        assert!(Timestamp::parse("18446744073710").is_err());
    }

    proptest! {
        #[test]
        fn display_parse_roundtrip_ms(ms in 0u64..1_000_000_000_000) {
            let t = Timestamp::from_millis(ms);
            prop_assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
        }

        #[test]
        fn parse_never_panics(s in ".{0,24}") {
            let _ = Timestamp::parse(&s);
        }
    }
}
