//! Export g2a screen-session recordings to standard video files, and import
//! any video FFmpeg reads, over the system FFmpeg libraries (`ffmpeg-next`).
//!
//! - [`export`]: frames from an [`ExportSource`] (a [`PlayerSource`] over a
//!   [`g2a::Player`], or [`RawFrames`] in memory) to MP4 (H.264, `+faststart`,
//!   the chat as a `mov_text` subtitle track; 4:2:0 or full-colour 4:4:4) or
//!   WMV (ASF with `wmv2` or `msmpeg4`). Variable frame rate by default:
//!   unchanged frames cost nothing. Progress through a callback that can
//!   cancel; the output appears under its name only when complete.
//! - [`open_video`]: decode any FFmpeg-readable video into packed BGRA frames
//!   with microsecond timestamps, for `g2a import VIDEO`.
//!
//! This is the only g2a crate that links native code; no FFmpeg type
//! appears in its API. See docs/EXPORT.md for the design and measurements.
//!
//! ```
//! use g2a_core::{Size, Timestamp};
//! use g2a_export::{export, open_video, Control, ExportOptions, Format, ImportOptions, RawFrames};
//! let size = Size::new(64, 48);
//! let mut src = RawFrames::new(size);
//! for i in 0..5u64 {
//!     src.push(Timestamp::from_millis(i * 200), vec![(i * 40) as u8; 64 * 48 * 4])?;
//! }
//! let dir = tempfile::tempdir()?;
//! let out = dir.path().join("s.wmv");
//! export(&mut src, &out, &ExportOptions::default(), &mut |_| Control::Continue)?;
//! let mut video = open_video(&out, &ImportOptions::default())?;
//! let first = video.next_frame()?.expect("a frame");
//! assert_eq!(first.size, size);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod error;
mod export;
mod ffi;
mod import;
mod options;
mod source;

pub use error::ExportError;
pub use export::export;
pub use import::{open_video, DecodedFrame, ImportOptions, VideoFrames};
pub use options::{
    output_size, Control, ExportOptions, ExportSummary, Format, Progress, Quality, WmvCodec,
};
pub use source::{
    role_label, ChatLine, CursorOverlay, ExportSource, PlayerSource, RawFrames, SourceFrame,
};
