//! One module per subcommand.

pub(crate) mod catalog;
pub(crate) mod chat;
pub(crate) mod decode;
pub(crate) mod demo;
pub(crate) mod diag;
pub(crate) mod export;
pub(crate) mod frame;
pub(crate) mod import;
pub(crate) mod info;
pub(crate) mod options;
pub(crate) mod play;
pub(crate) mod progress;
pub(crate) mod record;
pub(crate) mod recover;
pub(crate) mod serve;
pub(crate) mod upload;
pub(crate) mod verify;

use std::path::Path;

use anyhow::Context;
use g2a_format::SessionSet;

/// Opens a recording and its continuation files.
pub(crate) fn open_set(path: &Path) -> anyhow::Result<SessionSet> {
    SessionSet::open(path).with_context(|| format!("cannot open {}", path.display()))
}

/// Opens a recording to read its content (frames, chat, diagnostics):
/// an encrypted one is refused with the way to open it.
pub(crate) fn open_content_set(path: &Path) -> anyhow::Result<SessionSet> {
    let set = open_set(path)?;
    refuse_encrypted(path, set.header())?;
    Ok(set)
}

/// Opens a recording for replay; an encrypted one is refused with the way
/// to open it.
pub(crate) fn open_player(path: &Path) -> anyhow::Result<g2a::Player> {
    Ok(g2a::Player::from_set(open_content_set(path)?))
}

/// The error for content commands on an encrypted recording.
pub(crate) fn refuse_encrypted(
    path: &Path,
    header: &g2a_format::SessionHeader,
) -> anyhow::Result<()> {
    if header.encryption.is_some() {
        anyhow::bail!(
            "{} is encrypted with its portal's session replay passphrase: open it through the \
             catalog (`g2a catalog frame|chat|diag|export|play SESSION --as USER`)",
            path.display()
        );
    }
    Ok(())
}

/// Formats a Unix time in microseconds as `YYYY-MM-DD HH:MM:SS UTC`.
pub(crate) fn utc(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Text from a recording or a catalog (a customer's chat, a document name,
/// a header field) as it may be printed for a person: every control
/// character, and the invisible characters that reorder or hide text
/// (bidirectional overrides and isolates, zero-width characters), is
/// written as a visible `\u{…}` escape, so nothing a customer typed can
/// move the cursor, recolour or clear the terminal, or disguise itself.
/// JSON output escapes on its own.
pub(crate) fn shown(s: &str) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
    };
    if !s.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if hidden(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Writes an extracted document to standard output: as it is into a pipe
/// or file, escaped (see [`shown`]) when standard output is a terminal.
pub(crate) fn write_document(data: &[u8]) -> std::io::Result<()> {
    use std::io::{IsTerminal, Write};
    let mut out = std::io::stdout().lock();
    if out.is_terminal() {
        let text = String::from_utf8_lossy(data);
        writeln!(out, "{}", shown(&text))
    } else {
        out.write_all(data)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_formats_known_dates() {
        assert_eq!(super::utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(super::utc(1_700_000_000_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(super::utc(951_782_400_000_000), "2000-02-29 00:00:00 UTC");
    }

    #[test]
    fn control_and_bidi_characters_are_shown_escaped() {
        assert_eq!(super::shown("plain text"), "plain text");
        assert_eq!(
            super::shown("a\u{1b}[2Jb\r\nc\u{202e}d\u{7}"),
            "a\\u{1b}[2Jb\\u{d}\\u{a}c\\u{202e}d\\u{7}"
        );
        assert_eq!(super::shown("\u{9b}31m"), "\\u{9b}31m");
    }
}
