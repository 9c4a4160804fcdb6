//! The tile cache (CODEC.md §3.1): recently coded 32×32 tiles, so that
//! content coming back (a window or tab switched back, wallpaper uncovered
//! by a dragged window) costs a 2-byte reference instead of its pixels.
//!
//! Both sides fill it identically: after each packet, every full-size tile
//! coded as COPY, PALETTE or PIXELS is stored, in raster order, in the next
//! slot of a ring of [`SLOTS`]; a keyframe empties it (so a seek needs no
//! state from before the keyframe). Only B, G and R are kept.

use crate::op;
use crate::pixel::TILE;

/// Slots in the ring (12 MiB of tiles when full).
pub(crate) const SLOTS: usize = 4096;
/// Bytes of one cached tile.
const TILE_BYTES: usize = TILE * TILE * 3;

/// The ring of cached tiles.
#[derive(Debug, Default)]
pub(crate) struct TileCache {
    data: Vec<u8>,
    /// Slots filled (until the ring wraps).
    filled: usize,
    next: usize,
}

impl TileCache {
    /// Empties the cache (at a keyframe).
    pub(crate) fn reset(&mut self) {
        self.filled = 0;
        self.next = 0;
    }

    /// The BGR bytes of `slot`, if filled.
    pub(crate) fn get(&self, slot: usize) -> Option<&[u8]> {
        (slot < self.filled).then(|| &self.data[slot * TILE_BYTES..(slot + 1) * TILE_BYTES])
    }

    /// Stores the full tile at (`x0`, `y0`) of packed BGRA `frame` of width
    /// `w`; returns its slot.
    pub(crate) fn insert(&mut self, frame: &[u8], w: usize, x0: usize, y0: usize) -> usize {
        let slot = self.next;
        let need = (slot + 1) * TILE_BYTES;
        if self.data.len() < need {
            self.data.resize(need, 0);
        }
        let dst = &mut self.data[slot * TILE_BYTES..need];
        for (r, out) in dst.chunks_exact_mut(TILE * 3).enumerate() {
            let row = &frame[((y0 + r) * w + x0) * 4..((y0 + r) * w + x0 + TILE) * 4];
            for (o, p) in out.chunks_exact_mut(3).zip(row.chunks_exact(4)) {
                o.copy_from_slice(&p[..3]);
            }
        }
        self.next = (slot + 1) % SLOTS;
        self.filled = self.filled.max(slot + 1);
        slot
    }

    /// True when the tile at (`x0`, `y0`) of `frame` equals `slot`.
    pub(crate) fn matches(
        &self,
        slot: usize,
        frame: &[u8],
        w: usize,
        x0: usize,
        y0: usize,
    ) -> bool {
        let Some(c) = self.get(slot) else {
            return false;
        };
        c.chunks_exact(TILE * 3).enumerate().all(|(r, cached)| {
            let row = &frame[((y0 + r) * w + x0) * 4..((y0 + r) * w + x0 + TILE) * 4];
            cached
                .chunks_exact(3)
                .zip(row.chunks_exact(4))
                .all(|(c, p)| c == &p[..3])
        })
    }

    /// Writes `slot` into the tile at (`x0`, `y0`) of `frame` (alpha 255).
    pub(crate) fn put(
        &self,
        slot: usize,
        frame: &mut [u8],
        w: usize,
        x0: usize,
        y0: usize,
    ) -> bool {
        let Some(c) = self.get(slot) else {
            return false;
        };
        for (r, cached) in c.chunks_exact(TILE * 3).enumerate() {
            let row = &mut frame[((y0 + r) * w + x0) * 4..((y0 + r) * w + x0 + TILE) * 4];
            for (p, c) in row.chunks_exact_mut(4).zip(cached.chunks_exact(3)) {
                p[..3].copy_from_slice(c);
                p[3] = 255;
            }
        }
        true
    }
}

/// True for the tiles the cache stores after a packet: full-size tiles
/// coded as COPY, PALETTE or PIXELS.
pub(crate) fn cacheable(code: u8, cw: usize, ch: usize) -> bool {
    cw == TILE && ch == TILE && matches!(code & 7, op::COPY | op::PALETTE | op::PIXELS)
}

/// A 64-bit hash of a tile's B, G and R bytes (for the encoder's index).
pub(crate) fn hash_tile(frame: &[u8], w: usize, x0: usize, y0: usize) -> u64 {
    let mut h = 0x243F_6A88_85A3_08D3u64;
    for r in 0..TILE {
        let row = &frame[((y0 + r) * w + x0) * 4..((y0 + r) * w + x0 + TILE) * 4];
        for p in row.chunks_exact(8) {
            let v = u64::from_le_bytes([p[0], p[1], p[2], 0, p[4], p[5], p[6], 0]);
            h = (h ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
        }
    }
    h
}
