//! What CODEC.md defines of a packet's bytes, read in one place: varints
//! (§1), the packet header (§2), the sections of a body (§2), motion
//! vectors (§5).

use std::ops::Range;

use g2a_core::Size;

use crate::error::malformed;
use crate::pixel::TILE;
use crate::{packet, CodecError};

/// Reads varints and byte strings (CODEC.md §1) from a packet or body.
struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn varint(&mut self) -> Result<u64, CodecError> {
        let start = self.pos;
        let mut v = 0u64;
        for i in 0..10 {
            let Some(&b) = self.b.get(self.pos) else {
                return Err(malformed(start, "varint runs past the end"));
            };
            self.pos += 1;
            if i == 9 && b > 1 {
                return Err(malformed(start, "varint overflows 64 bits"));
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(malformed(start, "varint longer than 10 bytes"))
    }

    fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8], CodecError> {
        if n > (self.b.len() - self.pos) as u64 {
            return Err(malformed(
                self.pos,
                format!(
                    "{what} of {n} bytes, only {} present",
                    self.b.len() - self.pos
                ),
            ));
        }
        let s = &self.b[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }
}

/// A packet's header (CODEC.md §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PacketHeader {
    /// The frame repeats the previous one (a packet of one byte).
    Unchanged,
    /// A keyframe of `size`: its body is `body_len` bytes once inflated,
    /// and its zstd data starts at byte `at` of the packet.
    Key {
        size: Size,
        body_len: u64,
        at: usize,
    },
    /// A delta, its body as a keyframe's.
    Delta { body_len: u64, at: usize },
}

/// Reads a packet's type and header (CODEC.md §2).
pub(super) fn packet_header(packet: &[u8]) -> Result<PacketHeader, CodecError> {
    let mut c = Cursor { b: packet, pos: 1 };
    match packet.first() {
        Some(&packet::UNCHANGED) if packet.len() == 1 => Ok(PacketHeader::Unchanged),
        Some(&packet::UNCHANGED) => Err(malformed(
            1,
            format!("unchanged packet of {} bytes, expected 1", packet.len()),
        )),
        Some(&packet::KEY) => {
            let w = c.varint()?;
            let h = c.varint()?;
            let (Ok(w), Ok(h)) = (u32::try_from(w), u32::try_from(h)) else {
                return Err(malformed(1, format!("frame size {w}x{h} out of range")));
            };
            let body_len = c.varint()?;
            Ok(PacketHeader::Key {
                size: Size::new(w, h),
                body_len,
                at: c.pos,
            })
        }
        Some(&packet::DELTA) => {
            let body_len = c.varint()?;
            Ok(PacketHeader::Delta {
                body_len,
                at: c.pos,
            })
        }
        Some(&b) => Err(malformed(
            0,
            format!("packet type {b:#04x}, expected 0x4b (key), 0x44 (delta) or 0x55 (unchanged)"),
        )),
        None => Err(malformed(0, "empty packet")),
    }
}

/// The longest body a packet for frames of `size` may announce (CODEC.md
/// §7): every tile as PIXELS, and room for the sections' headers.
pub(super) fn max_body_len(size: Size) -> u64 {
    let (w, h) = (u64::from(size.width), u64::from(size.height));
    let tiles = w.div_ceil(TILE as u64) * h.div_ceil(TILE as u64);
    w * h * 3 + tiles * 64 + 4096
}

/// The body length `packet`'s header announces (0 if it has none or is
/// malformed): only a hint for choosing a buffer, never allocated from.
pub(super) fn body_len(packet: &[u8]) -> usize {
    match packet_header(packet) {
        Ok(PacketHeader::Key { body_len, .. } | PacketHeader::Delta { body_len, .. }) => {
            usize::try_from(body_len).unwrap_or(usize::MAX)
        }
        _ => 0,
    }
}

/// Where the sections of a packet body lie (CODEC.md §2): its motion
/// vectors, and the byte ranges of its tile codes and palette indices; the
/// residuals are the rest of the body.
pub(super) struct Head {
    pub(super) mvs: Vec<(i64, i64)>,
    pub(super) ctl: Range<usize>,
    pub(super) idx: Range<usize>,
    pub(super) res_at: usize,
}

/// Reads where the sections of a body for frames of `size` lie; an error
/// if they don't hold together or the body (so far) ends before its
/// palette indices do.
pub(super) fn parse_head(body: &[u8], size: Size) -> Result<Head, CodecError> {
    let (tw, th) = (
        (size.width as usize).div_ceil(TILE),
        (size.height as usize).div_ceil(TILE),
    );
    let mut c = Cursor { b: body, pos: 0 };
    let n_mv = c.varint()?;
    if n_mv > 31 {
        return Err(malformed(
            0,
            format!("{n_mv} motion vectors, at most 31 allowed"),
        ));
    }
    let mut mvs = Vec::new();
    for _ in 0..n_mv {
        let at = c.pos;
        let dx =
            unzigzag(c.varint()?).ok_or_else(|| malformed(at, "motion vector x beyond 32 bits"))?;
        let at = c.pos;
        let dy =
            unzigzag(c.varint()?).ok_or_else(|| malformed(at, "motion vector y beyond 32 bits"))?;
        mvs.push((dx, dy));
    }
    let n_ctl = c.varint()?;
    if n_ctl != (tw * th) as u64 {
        return Err(malformed(
            c.pos,
            format!("{n_ctl} tile codes, expected {} for {size}", tw * th),
        ));
    }
    let ctl_at = c.pos;
    c.take(n_ctl, "tile codes")?;
    let ctl = ctl_at..c.pos;
    let n_idx = c.varint()?;
    let idx_at = c.pos;
    c.take(n_idx, "palette indices")?;
    Ok(Head {
        mvs,
        ctl,
        idx: idx_at..c.pos,
        res_at: c.pos,
    })
}

/// A zigzag-coded 32-bit value (CODEC.md §5); `None` beyond 32 bits.
pub(super) fn unzigzag(v: u64) -> Option<i64> {
    let v = u32::try_from(v).ok()?;
    Some(i64::from(((v >> 1) as i32) ^ -((v & 1) as i32)))
}
