//! What to capture: the whole screen, a fixed region, or one window.

use std::fmt;
use std::str::FromStr;

use g2a_core::Rect;

/// The part of the screen to capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Target {
    /// The whole screen (the root window); follows screen size changes.
    #[default]
    Screen,
    /// A fixed rectangle of the screen, in screen pixels.
    Region(Rect),
    /// One window by X id: the area it covers on screen, following its
    /// moves and size changes (what is on top of it is captured too,
    /// as the viewer saw it).
    Window(u32),
}

/// A region or window id that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{found}' is not {expected}")]
pub struct ParseTargetError {
    /// The text given.
    pub found: String,
    /// What was expected.
    pub expected: &'static str,
}

impl Target {
    /// Parses a region `WxH+X+Y` (as X11 geometry strings write it),
    /// for example `800x600+100+50`.
    ///
    /// # Errors
    /// [`ParseTargetError`] when the text is not of that form, the size is
    /// empty, or the right or bottom edge would exceed `u32`.
    pub fn parse_region(text: &str) -> Result<Target, ParseTargetError> {
        let err = || ParseTargetError {
            found: text.to_owned(),
            expected: "a region WxH+X+Y like 800x600+100+50",
        };
        let (size, rest) = text.trim().split_once('+').ok_or_else(err)?;
        let (x, y) = rest.split_once('+').ok_or_else(err)?;
        let (w, h) = size.split_once(['x', 'X']).ok_or_else(err)?;
        let num = |s: &str| s.parse::<u32>().map_err(|_| err());
        let r = Rect::new(num(x)?, num(y)?, num(w)?, num(h)?);
        if r.is_empty() || r.right() > u64::from(u32::MAX) || r.bottom() > u64::from(u32::MAX) {
            return Err(err());
        }
        Ok(Target::Region(r))
    }

    /// Parses a window id, hexadecimal with `0x` (as `xwininfo` prints it)
    /// or decimal (as `xdotool` prints it).
    ///
    /// # Errors
    /// [`ParseTargetError`] when the text is not such a number or is 0.
    pub fn parse_window(text: &str) -> Result<Target, ParseTargetError> {
        let t = text.trim();
        let id = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => t.parse::<u32>().ok(),
        };
        match id {
            Some(id) if id != 0 => Ok(Target::Window(id)),
            _ => Err(ParseTargetError {
                found: text.to_owned(),
                expected: "a window id like 0x1a00004 or 27262980",
            }),
        }
    }
}

impl FromStr for Target {
    type Err = ParseTargetError;

    /// `screen`, a region `WxH+X+Y`, or a window id.
    fn from_str(s: &str) -> Result<Target, ParseTargetError> {
        if s.trim().eq_ignore_ascii_case("screen") {
            Ok(Target::Screen)
        } else if s.contains('+') {
            Target::parse_region(s)
        } else {
            Target::parse_window(s).map_err(|_| ParseTargetError {
                found: s.to_owned(),
                expected: "screen, a region WxH+X+Y, or a window id",
            })
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Screen => f.write_str("screen"),
            Target::Region(r) => write!(f, "{}x{}+{}+{}", r.width, r.height, r.x, r.y),
            Target::Window(id) => write!(f, "0x{id:x}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_parse_and_print() {
        let t = Target::parse_region("800x600+100+50").unwrap();
        assert_eq!(t, Target::Region(Rect::new(100, 50, 800, 600)));
        assert_eq!(t.to_string(), "800x600+100+50");
        assert_eq!("800x600+100+50".parse::<Target>().unwrap(), t);
        for bad in [
            "800x600",
            "0x600+1+1",
            "800x0+1+1",
            "ax6+1+1",
            "8x6+-1+1",
            "8x6+1",
            "4294967295x1+1+0",
            "",
        ] {
            assert!(Target::parse_region(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn windows_parse() {
        assert_eq!(
            Target::parse_window("0x1a00004").unwrap(),
            Target::Window(0x1a0_0004)
        );
        assert_eq!(
            Target::parse_window("27262980").unwrap(),
            Target::Window(27_262_980)
        );
        assert_eq!("screen".parse::<Target>().unwrap(), Target::Screen);
        assert!(Target::parse_window("0").is_err());
        assert!(Target::parse_window("0xzz").is_err());
        assert_eq!(Target::Window(0x1a0_0004).to_string(), "0x1a00004");
    }
}
