//! The tile cache (CODEC.md §3.1): recently coded 32×32 tiles, so that
//! content coming back (a window or tab switched back, wallpaper uncovered
//! by a dragged window) costs a 2-byte reference instead of its pixels.
//!
//! Both sides fill it identically: after each packet, every full-size tile
//! coded as COPY, PALETTE or PIXELS is stored, in raster order, in the next
//! slot of a ring of [`SLOTS`]; a keyframe empties it (so a seek needs no
//! state from before the keyframe). Only B, G and R count: tiles are kept
//! as whole 4-byte pixels (rows copy at memory speed) and the fourth byte
//! is ignored when comparing (the decoder's frames have alpha 255, so what
//! it puts back is opaque).

use crate::op;
use crate::pixel::TILE;

/// Slots in the ring (16 MiB of tiles when full).
pub(crate) const SLOTS: usize = 4096;
/// Bytes of one cached tile row.
const ROW_BYTES: usize = TILE * 4;
/// Bytes of one cached tile.
const TILE_BYTES: usize = TILE * ROW_BYTES;
/// The B, G and R bytes of two 4-byte pixels in a little-endian u64.
const BGR_MASK: u64 = 0x00FF_FFFF_00FF_FFFF;

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

    /// The pixels of `slot` (4 bytes each, the fourth not significant), if filled.
    pub(crate) fn get(&self, slot: usize) -> Option<&[u8]> {
        (slot < self.filled).then(|| &self.data[slot * TILE_BYTES..(slot + 1) * TILE_BYTES])
    }

    /// Stores the full tile at (`x0`, `y0`) of packed BGRA `frame` of width
    /// `w`; returns its slot.
    pub(crate) fn insert(&mut self, frame: &[u8], w: usize, x0: usize, y0: usize) -> usize {
        let slot = self.claim();
        self.fill(slot, frame, w, x0, y0);
        slot
    }

    /// The slot the next [`claim`](TileCache::claim) takes.
    pub(crate) fn next_slot(&self) -> usize {
        self.next
    }

    /// Takes the next slot of the ring (counted as filled) without writing
    /// its pixels: the caller [`fill`](TileCache::fill)s it before it is read.
    pub(crate) fn claim(&mut self) -> usize {
        let slot = self.next;
        if self.data.is_empty() {
            // The whole ring at once: a zeroed allocation this big is mapped
            // lazily (no zero-filling, each page faulted in when first
            // written), where growing slot by slot reallocated and copied.
            self.data = vec![0; SLOTS * TILE_BYTES];
        }
        self.next = (slot + 1) % SLOTS;
        self.filled = self.filled.max(slot + 1);
        slot
    }

    /// Writes the full tile at (`x0`, `y0`) of `frame` (width `w`) into
    /// the claimed `slot`.
    pub(crate) fn fill(&mut self, slot: usize, frame: &[u8], w: usize, x0: usize, y0: usize) {
        let dst = &mut self.data[slot * TILE_BYTES..(slot + 1) * TILE_BYTES];
        for (r, out) in dst.chunks_exact_mut(ROW_BYTES).enumerate() {
            let at = ((y0 + r) * w + x0) * 4;
            out.copy_from_slice(&frame[at..at + ROW_BYTES]);
        }
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
        c.chunks_exact(ROW_BYTES).enumerate().all(|(r, cached)| {
            let at = ((y0 + r) * w + x0) * 4;
            cached
                .chunks_exact(8)
                .zip(frame[at..at + ROW_BYTES].chunks_exact(8))
                .all(|(a, b)| (word(a) ^ word(b)) & BGR_MASK == 0)
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
        for (r, cached) in c.chunks_exact(ROW_BYTES).enumerate() {
            let at = ((y0 + r) * w + x0) * 4;
            let row = &mut frame[at..at + ROW_BYTES];
            row.copy_from_slice(cached);
            for p in row.chunks_exact_mut(4) {
                p[3] = 255;
            }
        }
        true
    }
}

/// No slot or no position.
const NONE: u32 = u32::MAX;
/// A slot whose pixels were dropped (see [`LazyCache::flush_pos_unless`]):
/// no packet may read it until it is claimed again.
const DROPPED: u32 = u32::MAX - 1;

/// A set of cache slots (one bit each).
#[derive(Debug, Clone)]
pub(crate) struct SlotSet([u64; SLOTS / 64]);

impl Default for SlotSet {
    fn default() -> Self {
        SlotSet([0; SLOTS / 64])
    }
}

impl SlotSet {
    /// Empties the set.
    pub(crate) fn clear(&mut self) {
        self.0 = [0; SLOTS / 64];
    }

    /// Whether `slot` is in the set.
    pub(crate) fn contains(&self, slot: usize) -> bool {
        slot < SLOTS && self.0[slot / 64] >> (slot % 64) & 1 == 1
    }

    /// Adds `slot`.
    pub(crate) fn insert(&mut self, slot: usize) {
        if slot < SLOTS {
            self.0[slot / 64] |= 1 << (slot % 64);
        }
    }

    /// Adds every slot not in `except`.
    pub(crate) fn insert_all_but(&mut self, except: &SlotSet) {
        for (a, b) in self.0.iter_mut().zip(&except.0) {
            *a |= !b;
        }
    }

    /// Adds the `n` slots of the ring from `start` on (wrapping), except
    /// those in `except`.
    pub(crate) fn insert_ring_range_but(&mut self, start: usize, n: usize, except: &SlotSet) {
        if n >= SLOTS {
            self.insert_all_but(except);
            return;
        }
        let (mut at, mut left) = (start % SLOTS, n);
        while left > 0 {
            // Bits [at, at + k) of one word.
            let bit = at % 64;
            let k = left.min(64 - bit).min(SLOTS - at);
            let mask = if k == 64 {
                u64::MAX
            } else {
                ((1u64 << k) - 1) << bit
            };
            self.0[at / 64] |= mask & !except.0[at / 64];
            left -= k;
            at = (at + k) % SLOTS;
        }
    }
}

/// The decoder's tile cache: a slot is stored as "the tile at position
/// `p` of the frame" and its pixels are copied only when they are about to
/// be lost, that is before position `p` is written again or before a
/// packet reads the slot (so tiles decoding on several threads read only
/// the cache, never another thread's part of the frame). A keyframe stores
/// ~2,000 tiles and a seek often reads none of them: storing costs no
/// copies, and a position overwritten later costs one copy instead of two.
///
/// The frame passed to the `flush_*` methods must be the frame the stored
/// positions refer to, before the packet changes it.
#[derive(Debug, Default)]
pub(crate) struct LazyCache {
    cache: TileCache,
    /// For each tile position, the slot whose pixels are still only there.
    slot_of: Vec<u32>,
    /// For each slot, the tile position holding its pixels ([`NONE`]: in the cache).
    pos_of: Vec<u32>,
    /// Slots whose pixels were dropped and that have not been stored again.
    dropped: usize,
}

impl LazyCache {
    /// Empties the cache (at a keyframe) for frames of `tiles` tile positions.
    pub(crate) fn reset(&mut self, tiles: usize) {
        self.cache.reset();
        self.slot_of.clear();
        self.slot_of.resize(tiles, NONE);
        self.pos_of.clear();
        self.pos_of.resize(SLOTS, NONE);
        self.dropped = 0;
    }

    /// How many slots are dropped (see [`is_dropped`](LazyCache::is_dropped)).
    pub(crate) fn dropped_slots(&self) -> usize {
        self.dropped
    }

    /// True when `slot` is filled (a packet may name it).
    pub(crate) fn has(&self, slot: usize) -> bool {
        self.cache.get(slot).is_some() && self.pos_of[slot] != DROPPED
    }

    /// True when `slot`'s pixels were dropped (see
    /// [`flush_pos_unless`](LazyCache::flush_pos_unless)) and it has not
    /// been stored again since.
    pub(crate) fn is_dropped(&self, slot: usize) -> bool {
        self.pos_of.get(slot) == Some(&DROPPED)
    }

    /// The slot the next stored tile takes.
    pub(crate) fn next_slot(&self) -> usize {
        self.cache.next_slot()
    }

    /// Stores the tile at position `pos` (`pos` must have no pending slot:
    /// it was flushed before the packet that wrote it).
    pub(crate) fn store(&mut self, pos: usize) {
        let slot = self.cache.claim();
        let old = self.pos_of[slot];
        if old == DROPPED {
            self.dropped -= 1;
        } else if old != NONE {
            // The slot's previous tile is gone from the ring.
            self.slot_of[old as usize] = NONE;
        }
        debug_assert_eq!(self.slot_of[pos], NONE, "tile {pos} stored twice");
        self.pos_of[slot] = pos as u32;
        self.slot_of[pos] = slot as u32;
    }

    /// Copies the pixels of the slot referring to position `pos` (if any)
    /// from `frame` (`tw` tiles wide, `w` pixels) into the cache.
    pub(crate) fn flush_pos(&mut self, pos: usize, frame: &[u8], w: usize, tw: usize) {
        let slot = self.slot_of[pos];
        if slot != NONE {
            let slot = slot as usize;
            self.cache
                .fill(slot, frame, w, pos % tw * TILE, pos / tw * TILE);
            self.slot_of[pos] = NONE;
            self.pos_of[slot] = NONE;
        }
    }

    /// Like [`flush_pos`](LazyCache::flush_pos), but the pixels of a slot
    /// in `dropped` are dropped instead of copied: the caller knows that
    /// no packet reads that slot before it is claimed again. The slot then
    /// counts as empty until it is stored again ([`has`](LazyCache::has) is
    /// false), so a packet naming it anyway is refused, never given stale
    /// pixels. Returns whether pixels were dropped.
    pub(crate) fn flush_pos_unless(
        &mut self,
        pos: usize,
        frame: &[u8],
        w: usize,
        tw: usize,
        dropped: &SlotSet,
    ) -> bool {
        let slot = self.slot_of[pos];
        if slot != NONE && dropped.contains(slot as usize) {
            self.slot_of[pos] = NONE;
            self.pos_of[slot as usize] = DROPPED;
            self.dropped += 1;
            return true;
        }
        self.flush_pos(pos, frame, w, tw);
        false
    }

    /// Copies `slot`'s pixels into the cache if they are still only in `frame`.
    pub(crate) fn flush_slot(&mut self, slot: usize, frame: &[u8], w: usize, tw: usize) {
        if let Some(&pos) = self.pos_of.get(slot) {
            if pos != NONE && pos != DROPPED {
                self.flush_pos(pos as usize, frame, w, tw);
            }
        }
    }

    /// The cache, for reading flushed slots.
    pub(crate) fn flushed(&self) -> &TileCache {
        &self.cache
    }
}

/// True for the tiles the cache stores after a packet: full-size tiles
/// coded as COPY, PALETTE or PIXELS.
pub(crate) fn cacheable(code: u8, cw: usize, ch: usize) -> bool {
    cw == TILE && ch == TILE && matches!(code & 7, op::COPY | op::PALETTE | op::PIXELS)
}

/// Two pixels as a little-endian u64 (`b` is 8 bytes).
#[inline(always)]
fn word(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    u64::from_le_bytes(a)
}

/// A 64-bit hash of a tile's B, G and R bytes (for the encoder's index).
/// Four independent lanes, one per pair of pixels of each group of eight,
/// so the multiplications overlap; folded together at the end.
pub(crate) fn hash_tile(frame: &[u8], w: usize, x0: usize, y0: usize) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = [
        0x243F_6A88_85A3_08D3u64,
        0x1319_8A2E_0370_7344,
        0xA409_3822_299F_31D0,
        0x082E_FA98_EC4E_6C89,
    ];
    for r in 0..TILE {
        let at = ((y0 + r) * w + x0) * 4;
        for p in frame[at..at + ROW_BYTES].chunks_exact(32) {
            for (lane, q) in h.iter_mut().zip(p.chunks_exact(8)) {
                *lane = (*lane ^ (word(q) & BGR_MASK))
                    .wrapping_mul(K)
                    .rotate_left(29);
            }
        }
    }
    let mut out = h[0];
    for lane in &h[1..] {
        out = (out ^ lane.rotate_left(17)).wrapping_mul(K);
    }
    out ^ (out >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64x32 frame of varied pixels with alpha `a`.
    fn frame(a: u8) -> Vec<u8> {
        (0..64 * 32)
            .flat_map(|i: usize| {
                [
                    (i * 7) as u8,
                    ((i * 13) >> 3) as u8,
                    ((i * 31) >> 5) as u8,
                    a,
                ]
            })
            .collect()
    }

    #[test]
    fn stored_tiles_match_and_come_back_opaque_whatever_the_alpha() {
        let src = frame(0x17);
        let mut c = TileCache::default();
        let slot = c.insert(&src, 64, 32, 0);
        assert!(
            c.matches(slot, &frame(0x80), 64, 32, 0),
            "alpha is not compared"
        );
        assert!(!c.matches(slot, &src, 64, 0, 0), "another tile differs");
        let mut out = vec![0u8; src.len()];
        assert!(c.put(slot, &mut out, 64, 0, 0));
        for y in 0..32 {
            for x in 0..32 {
                let (o, s) = ((y * 64 + x) * 4, (y * 64 + 32 + x) * 4);
                assert_eq!(out[o..o + 3], src[s..s + 3]);
                assert_eq!(out[o + 3], 255);
            }
        }
        assert!(!c.put(slot + 1, &mut out, 64, 0, 0), "an empty slot");
        c.reset();
        assert!(c.get(slot).is_none());
    }

    #[test]
    fn the_hash_ignores_alpha_and_sees_each_colour_byte() {
        let a = frame(0);
        let h = hash_tile(&a, 64, 0, 0);
        assert_eq!(h, hash_tile(&frame(0xFF), 64, 0, 0));
        for i in (0..32).flat_map(|y| (0..32 * 4).map(move |b| y * 64 * 4 + b)) {
            if i % 4 == 3 {
                continue;
            }
            let mut b = a.clone();
            b[i] ^= 1;
            assert_ne!(hash_tile(&b, 64, 0, 0), h, "byte {i}");
        }
    }
}
