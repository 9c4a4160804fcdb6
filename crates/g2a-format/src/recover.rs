//! `g2a recover`: a clean, fully indexed copy of a damaged or unfinished file.

use std::path::Path;

use crate::{Damage, FormatError, Reader, Writer, WriterOptions, Written};

/// What [`recover`] kept and dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoverReport {
    /// Records copied.
    pub records: u64,
    /// Delta video records dropped because no keyframe preceded them
    /// (they could not be decoded).
    pub orphan_deltas: u64,
    /// Damaged byte ranges of the input (lost).
    pub damage: Vec<Damage>,
}

/// Writes every readable record of `input`, in file order, to a new file at
/// `out`, with the header, the seek index and the trailer.
///
/// # Errors
/// [`FormatError::Io`] writing `out`.
pub fn recover(input: &Reader, out: &Path) -> Result<RecoverReport, FormatError> {
    let opts = WriterOptions::default().size_cap(None);
    let mut header = input.header().clone();
    if header.screen_size.is_empty() {
        header.screen_size = g2a_core::Size::new(1, 1);
    }
    let mut w = Writer::create(out, header, opts)?;
    let mut report = RecoverReport {
        records: 0,
        orphan_deltas: 0,
        damage: input.verify().damage,
    };
    for rec in input.records() {
        match w.write(&rec) {
            Ok(Written::Ok) => report.records += 1,
            Ok(_) => report.orphan_deltas += 1,
            // Records that break the writing rules (a hostile file's
            // backwards time, say) are not copied.
            Err(FormatError::TimeWentBackwards { .. } | FormatError::InvalidArgument { .. }) => {
                report.damage.push(Damage {
                    start: 0,
                    end: 0,
                    reason: format!(
                        "dropped a {} record that breaks the writing rules",
                        rec.track()
                    ),
                });
            }
            Err(e) => return Err(e),
        }
    }
    w.finish()?;
    Ok(report)
}
