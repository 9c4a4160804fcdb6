//! The `.g2a` session container.
//!
//! A `.g2a` file holds one remote-support session's timeline in tracks —
//! video (opaque codec payloads with a keyframe flag, and screen size
//! changes), cursor, chat, diagnostics and session events — as
//! self-delimiting, checksummed records after a session header, followed by
//! a trailer with the seek index. `docs/FORMAT.md` specifies every byte.
//!
//! - [`Writer`] appends records (one `write` call each, so a killed process
//!   loses nothing), enforces per-track time order, keeps the file under a
//!   size cap (continuing in numbered continuation files, or stopping), and
//!   writes the index and trailer on [`Writer::finish`].
//! - [`Reader`] memory-maps a file; a finished file opens from its trailer in
//!   constant time, an unfinished or damaged one is scanned, keeping every
//!   complete record and reporting each damaged byte range. It seeks to the
//!   keyframe at or before any time by binary search, iterates records
//!   zero-copy in file order or merged in time order, follows a growing
//!   file, and verifies every record.
//! - [`SessionSet`] reads a chain of continuation files as one timeline;
//!   [`recover`] writes a clean copy of a damaged file.
//!
//! This crate knows no pixels: the codec lives elsewhere.
#![deny(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod cipher;
mod error;
mod header;
mod map;
mod reader;
mod record;
mod recover;
mod set;
mod trailer;
mod wire;
mod writer;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_sealed;

pub use cipher::{unseal, PayloadCipher, SharedCipher};
pub use error::FormatError;
pub use header::{
    Continuation, EncryptionInfo, RecordingSide, SessionHeader, MAGIC, VERSION_MAJOR, VERSION_MINOR,
};
pub use reader::{Damage, Merged, Reader, Records, TrailerState, VerifyReport};
pub use record::{CodecId, EventKind, MediaType, Record, SenderRole, Track};
pub use recover::{recover, RecoverReport};
pub use set::{SessionSet, SetPosition};
pub use trailer::{KeyframeEntry, TrackStats};
pub use writer::{
    continuation_path, CapPolicy, FinishSummary, SyncPolicy, Writer, WriterOptions, Written,
    DEFAULT_SIZE_CAP, MIN_SIZE_CAP,
};
