//! Shared types of the g2a toolkit.
//!
//! Every other g2a crate speaks in these types: [`Timestamp`] for time on a
//! session's timeline (microseconds since the session started), [`Size`] and
//! [`Rect`] for screen geometry, [`PixelFormat`] and [`FrameRef`] for raw
//! captured pixels, and [`Limits`] for the sizes that untrusted input may
//! claim before anything is allocated for it.
//!
//! This crate does no I/O.
//!
//! ```
//! use g2a_core::{Timestamp, Size, FrameRef, PixelFormat};
//!
//! let t = Timestamp::parse("00:01:02.500").unwrap();
//! assert_eq!(t.as_micros(), 62_500_000);
//!
//! let pixels = vec![0u8; 4 * 4 * 2];
//! let frame = FrameRef::new(&pixels, Size::new(4, 2), 16, PixelFormat::Bgrx8).unwrap();
//! assert_eq!(frame.row(1).len(), 16);
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod aligned;
mod frame;
mod geom;
mod limits;
mod time;

pub use aligned::AlignedBuf;
pub use frame::{FrameError, FrameRef, PixelFormat};
pub use geom::{Rect, Size};
pub use limits::{LimitError, Limits};
pub use time::{ParseTimeError, Timestamp};
