//! Names of users, teams and portals: normalised, free of look-alike
//! tricks, and bounded when they are shown back in a message.
//!
//! A name is stored in Unicode NFKC form (so `ｂｏｓｓ` and `boss` are one
//! name) and is refused when, after normalisation, it contains a character
//! that is invisible or changes how text around it is drawn: control and
//! format characters (zero-width spaces and joiners, bidirectional
//! embeddings, overrides and isolates, the soft hyphen, the byte-order mark,
//! tag characters), variation selectors, blank fillers, any white space
//! other than U+0020, or spaces at either end or two in a row. So `boss`,
//! `boss ` and `bo\u{200B}ss` can't be three users who look like one.

use unicode_normalization::UnicodeNormalization;

use crate::CatalogError;

/// Longest name, in characters (after normalisation).
pub(crate) const MAX_NAME_CHARS: usize = 200;

/// How many characters of a caller-supplied string an error message or an
/// audit entry repeats.
const SHOWN_CHARS: usize = 64;

/// Characters that draw nothing, or change how the text around them is
/// drawn, without being control characters.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{2800}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}' | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}'
        | '\u{0600}'..='\u{0605}' | '\u{06DD}' | '\u{070F}' | '\u{110BD}' | '\u{110CD}'
        | '\u{1BCA0}'..='\u{1BCA3}')
}

/// Private-use and unassigned-looking code points draw as boxes or as
/// whatever a font chooses: refused too.
fn is_private_use(c: char) -> bool {
    matches!(c, '\u{E000}'..='\u{F8FF}' | '\u{F0000}'..='\u{FFFFD}' | '\u{100000}'..='\u{10FFFD}')
}

/// The stored form of a user-, team- or portal name, or why it is refused.
///
/// # Errors
/// [`CatalogError::Invalid`] saying what is wrong with the name.
pub(crate) fn normalise(kind: &str, name: &str) -> Result<String, CatalogError> {
    let n: String = name.nfkc().collect();
    let bad = |why: String| {
        Err(CatalogError::Invalid(format!(
            "{kind} name {}: {why}",
            shown(name)
        )))
    };
    let len = n.chars().count();
    if len == 0 {
        return bad("must not be empty".into());
    }
    if len > MAX_NAME_CHARS {
        return bad(format!(
            "has {len} characters, at most {MAX_NAME_CHARS} are allowed"
        ));
    }
    if let Some(c) = n
        .chars()
        .find(|&c| c.is_control() || is_invisible(c) || is_private_use(c))
    {
        return bad(format!(
            "contains the invisible or control character U+{:04X}",
            u32::from(c)
        ));
    }
    if let Some(c) = n.chars().find(|&c| c.is_whitespace() && c != ' ') {
        return bad(format!(
            "contains the white-space character U+{:04X} (only plain spaces are allowed)",
            u32::from(c)
        ));
    }
    if n.starts_with(' ') || n.ends_with(' ') {
        return bad("must not begin or end with a space".into());
    }
    if n.contains("  ") {
        return bad("must not contain two spaces in a row".into());
    }
    Ok(n)
}

/// The form a name is looked up by: its normal form when it has one, else
/// the name as given (which then matches nothing stored).
pub(crate) fn lookup_form(name: &str) -> String {
    name.nfkc().collect()
}

/// A caller-supplied string as it may be repeated in a message: quoted,
/// control characters escaped, and cut after 64 characters with the full
/// length said, so a 100 KB name doesn't come back whole.
pub(crate) fn shown(s: &str) -> String {
    let n = s.chars().count();
    if n <= SHOWN_CHARS {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(SHOWN_CHARS).collect();
        format!("{head:?}… ({n} characters)")
    }
}

/// A caller-supplied string as it may be stored in the audit log: at most
/// `max` characters, control characters replaced by U+FFFD, and the
/// original length said when it was cut.
pub(crate) fn bounded(s: &str, max: usize) -> String {
    let n = s.chars().count();
    let clean = |c: char| if c.is_control() { '\u{FFFD}' } else { c };
    if n <= max {
        s.chars().map(clean).collect()
    } else {
        let head: String = s.chars().take(max).map(clean).collect();
        format!("{head}… ({n} characters)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alike_names_are_refused_or_merged() {
        assert_eq!(normalise("user", "boss").unwrap(), "boss");
        assert_eq!(normalise("user", "ｂｏｓｓ").unwrap(), "boss");
        assert_eq!(normalise("user", "Ann Smith").unwrap(), "Ann Smith");
        // An ideographic space is a space.
        assert_eq!(normalise("user", "bo\u{3000}ss").unwrap(), "bo ss");
        for bad in [
            "boss ",
            " boss",
            "bo\u{200B}ss",
            "boss\u{00A0}",
            "bo\u{00A0}\u{00A0}ss",
            "\u{202E}ssob",
            "bo\u{2066}ss",
            "bo\u{00AD}ss",
            "boss\u{FEFF}",
            "bo\tss",
            "bo\nss",
            "bo\u{FE0F}ss",
            "bo\u{E0041}ss",
            "",
        ] {
            let e = normalise("user", bad).unwrap_err().to_string();
            assert!(e.starts_with("invalid argument: user name"), "{bad:?}: {e}");
        }
        assert!(normalise("team", &"x".repeat(201)).is_err());
        assert!(normalise("team", &"x".repeat(200)).is_ok());
    }

    #[test]
    fn long_strings_are_cut_when_shown() {
        let long = "a".repeat(100_000);
        let s = shown(&long);
        assert!(s.len() < 100, "{s}");
        assert!(s.ends_with("… (100000 characters)"), "{s}");
        assert_eq!(shown("x\u{1b}[2J"), "\"x\\u{1b}[2J\"");
        let b = bounded(&long, 200);
        assert!(b.chars().count() < 230);
        assert_eq!(bounded("a\u{1b}b", 10), "a\u{FFFD}b");
    }
}
