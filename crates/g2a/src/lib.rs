//! Record and replay remote-support screen sessions.
//!
//! This crate joins the [`.g2a` container](g2a_format) and the
//! [g2a screen codec](g2a_codec) into the two objects that client programs
//! embed:
//!
//! - [`Recorder`]: created with the session's metadata and options; takes
//!   screen frames, chat, diagnostics, session events and cursor updates with
//!   their timestamps; encodes frames (optionally on a background thread
//!   behind a bounded queue) and writes them; [`Recorder::finish`] closes the
//!   file with its seek index.
//! - [`Player`]: opens a recording (a file, a set of continuation files, or
//!   a file still being written); gives the frame on screen at any time
//!   ([`Player::frame_at`], using the seek index), frames forward one by one
//!   ([`Player::next_frame`]), and the records of all tracks in time order.
//!
//! ```
//! use g2a::{Player, Recorder, RecorderOptions};
//! use g2a_core::{FrameRef, PixelFormat, Size, Timestamp};
//! use g2a_format::{SenderRole, SessionHeader};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("session.g2a");
//! let size = Size::new(64, 48);
//! let mut rec = Recorder::create(&path, SessionHeader::new("S-1", size), RecorderOptions::default())?;
//! let mut pixels = vec![200u8; 64 * 48 * 4];
//! for i in 0..10u64 {
//!     pixels[(i as usize) * 4] = i as u8; // a pixel changes each frame
//!     let frame = FrameRef::packed(&pixels, size, PixelFormat::Bgra8)?;
//!     rec.push_frame(Timestamp::from_millis(i * 100), &frame)?;
//! }
//! rec.push_chat(Timestamp::from_millis(450), SenderRole::Customer, "Kim", "hello")?;
//! rec.finish()?;
//!
//! let mut player = Player::open(&path)?;
//! let frame = player.frame_at(Timestamp::from_millis(550))?;
//! assert_eq!(frame.ts, Timestamp::from_millis(500));
//! assert_eq!(frame.data[5 * 4], 5);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod cursor;
mod error;
mod player;
mod recorder;

#[cfg(test)]
mod tests;

pub use cursor::{CursorImage, CursorState, CursorTrack};
pub use error::Error;
pub use player::{CodecStats, Player, VideoFrame};
pub use recorder::{FrameStatus, QueueFull, Recorder, RecorderOptions, RecordingSummary};

pub use g2a_codec::{EncoderConfig, EncoderStats, KeyframePolicy};
pub use g2a_format::{CapPolicy, SyncPolicy, WriterOptions};
