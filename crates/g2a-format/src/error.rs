use std::io;

use crate::record::Track;
use g2a_core::Timestamp;

/// Everything that can go wrong reading or writing a `.g2a` file.
///
/// Variants are grouped by who is at fault: malformed input, unsupported
/// input, caller misuse, and I/O.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The file does not start with the `.g2a` magic.
    #[error("not a .g2a file: found {found:02x?} at byte 0, expected the magic \"G2AREC\\r\\n\"")]
    BadMagic {
        /// The first bytes found.
        found: Vec<u8>,
    },
    /// The file is written in a major version this reader does not know.
    #[error("unsupported .g2a major version {found} (this reader supports version {supported}.x)")]
    UnsupportedVersion {
        /// The major version found.
        found: u16,
        /// The major version supported.
        supported: u16,
    },
    /// Input ended before a structure was complete.
    #[error("truncated {what} at byte {offset}: needs {needed} bytes, {available} present")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Byte offset of the structure.
        offset: u64,
        /// Bytes it needs.
        needed: u64,
        /// Bytes present.
        available: u64,
    },
    /// A structure's content is invalid.
    #[error("malformed {what} at byte {offset}: {detail}")]
    Malformed {
        /// What was being read.
        what: &'static str,
        /// Byte offset of the structure.
        offset: u64,
        /// What was found and what was expected.
        detail: String,
    },
    /// A checksum did not match.
    #[error("checksum mismatch in {what} at byte {offset}: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum {
        /// What was being checked.
        what: &'static str,
        /// Byte offset of the structure.
        offset: u64,
        /// Checksum stored in the file.
        stored: u32,
        /// Checksum of the bytes present.
        computed: u32,
    },
    /// A timestamp went backwards within one track (caller misuse when writing).
    #[error("{track} timestamp went backwards: previous {previous}, found {found}")]
    TimeWentBackwards {
        /// The track.
        track: Track,
        /// The last timestamp written to the track.
        previous: Timestamp,
        /// The timestamp given.
        found: Timestamp,
    },
    /// A record that can never fit under the size cap.
    #[error("record of {size} bytes cannot fit in a file capped at {cap} bytes")]
    RecordTooLarge {
        /// Size of the encoded record.
        size: u64,
        /// The cap.
        cap: u64,
    },
    /// An invalid option or argument.
    #[error("invalid {what}: {detail}")]
    InvalidArgument {
        /// The option or argument.
        what: &'static str,
        /// What was given and what is expected.
        detail: String,
    },
    /// The writer was used after it stopped or failed.
    #[error("the writer is closed: {reason}")]
    WriterClosed {
        /// Why it closed.
        reason: &'static str,
    },
    /// A sealed record was read without a cipher.
    #[error("the {track} record at {ts} is encrypted: its recording's key is needed to read it")]
    Encrypted {
        /// The record's track.
        track: Track,
        /// Its time.
        ts: Timestamp,
    },
    /// The cipher failed to seal or open a record (for opening: a wrong key
    /// or tampered bytes).
    #[error("cannot {op} the {track} record at {ts}: {detail}")]
    Crypto {
        /// `seal` or `open`.
        op: &'static str,
        /// The record's track.
        track: Track,
        /// Its time.
        ts: Timestamp,
        /// What the cipher reported.
        detail: String,
    },
    /// An I/O error, with the path involved.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl FormatError {
    pub(crate) fn io(path: &std::path::Path, source: io::Error) -> Self {
        FormatError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    pub(crate) fn malformed(what: &'static str, offset: u64, detail: impl Into<String>) -> Self {
        FormatError::Malformed {
            what,
            offset,
            detail: detail.into(),
        }
    }
}

impl From<FormatError> for io::Error {
    fn from(e: FormatError) -> Self {
        match e {
            FormatError::Io { source, .. } => source,
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}
