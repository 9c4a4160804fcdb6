//! The g2a lossless screen codec.
//!
//! One bitstream, specified in `docs/CODEC.md`: a frame is cut into 32×32
//! tiles; unchanged tiles cost nothing, moved content (scrolls, dragged
//! windows) is copied from the previous frame, flat and few-colour tiles are
//! coded as a colour or a palette, and other tiles as residuals of a
//! median-edge predictor; all of a packet's streams go through one zstd
//! stream that carries its context from frame to frame until the next
//! keyframe. The decoder reproduces every B, G and R byte exactly.
//!
//! ```
//! use g2a_codec::{Decoder, EncodedKind, Encoder, EncoderConfig};
//! use g2a_core::{FrameRef, Limits, PixelFormat, Size};
//!
//! let size = Size::new(64, 48);
//! let mut pixels = [10u8, 20, 30, 255].repeat(64 * 48); // B, G, R, A
//! let mut enc = Encoder::new(EncoderConfig::default()).unwrap();
//! let mut dec = Decoder::new(Limits::default());
//! let mut packet = Vec::new();
//!
//! let f = FrameRef::packed(&pixels, size, PixelFormat::Bgra8).unwrap();
//! assert_eq!(enc.encode(&f, false, &mut packet).unwrap(), EncodedKind::Key);
//! assert_eq!(dec.decode(&packet).unwrap().data, &pixels[..]);
//!
//! pixels[4 * 100] = 7; // one blue byte changes
//! let f = FrameRef::packed(&pixels, size, PixelFormat::Bgra8).unwrap();
//! assert_eq!(enc.encode(&f, false, &mut packet).unwrap(), EncodedKind::Delta);
//! assert_eq!(dec.decode(&packet).unwrap().data, &pixels[..]);
//! ```
// The only `unsafe` is the call into the decoder's SSE2 row loop
// (`decoder::predict::simd`, with its SAFETY argument; tested against the scalar loop).
#![deny(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod cache;
mod decoder;
mod encoder;
mod error;
mod motion;
mod pixel;

pub use decoder::{Decoder, FrameView, TileCounts};
pub use encoder::{EncodedKind, Encoder, EncoderConfig, EncoderStats, KeyframePolicy};
pub use error::CodecError;

/// The codec id stored by the container on every video record.
pub const CODEC_ID: [u8; 4] = *b"G2SC";

/// zstd window of the frame-to-frame stream: 16 MiB (CODEC.md §6).
pub(crate) const WINDOW_LOG: u32 = 24;

/// Packet types (CODEC.md §2).
pub(crate) mod packet {
    pub(crate) const KEY: u8 = 0x4B;
    pub(crate) const DELTA: u8 = 0x44;
    pub(crate) const UNCHANGED: u8 = 0x55;
}

/// Tile codes (CODEC.md §3).
pub(crate) mod op {
    pub(crate) const SKIP: u8 = 0;
    pub(crate) const SOLID: u8 = 1;
    pub(crate) const COPY: u8 = 2;
    pub(crate) const PALETTE: u8 = 3;
    pub(crate) const PIXELS: u8 = 4;
    pub(crate) const CACHE: u8 = 5;
}

#[cfg(test)]
mod tests;
