#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod capture;
mod cursor;
mod error;
mod pacer;
mod target;

pub use capture::{Capture, CaptureOptions, CaptureStats, Grab};
pub use cursor::{argb_premultiplied_to_bgra, CursorPosition, CursorShape};
pub use error::CaptureError;
pub use pacer::Pacer;
pub use target::{ParseTargetError, Target};
