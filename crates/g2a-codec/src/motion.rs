//! Motion search (CODEC.md §8): candidate vectors for content that moved
//! since the previous frame (scrolls, dragged windows).
//!
//! Short row segments of the dirty tiles are looked up in the previous
//! frame around the changed area; the vectors that explain several
//! segments become the packet's candidates, and each tile is then checked
//! against them byte for byte, so a wrong candidate costs time, never
//! correctness.
//!
//! The search goes the cheap way round: the few segments of this frame
//! (one per tile row for a few rows of each dirty tile) go into a small
//! table, and the previous frame's segments, at every position of the
//! sampled rows, are hashed with a rolling hash (one multiply-add per
//! position) and looked up in it. Each of this frame's segments takes the
//! first position of the previous frame in raster order that has its hash.

use std::collections::HashMap;

use crate::pixel::TILE;

/// Segment length in pixels.
const SEG: usize = 16;
/// The rolling hash's multiplier (odd).
const B: u64 = 0x9E37_79B9_7F4A_7C15;
/// `B` to the power `SEG - 1`: the weight of a segment's first pixel.
const B_TOP: u64 = pow(B, SEG as u32 - 1);
/// The marker of an empty table slot.
const NONE: u32 = u32::MAX;

const fn pow(b: u64, e: u32) -> u64 {
    let mut r = 1u64;
    let mut i = 0;
    while i < e {
        r = r.wrapping_mul(b);
        i += 1;
    }
    r
}

/// One pixel as hashed: B, G and R (the fourth byte is alpha or padding).
#[inline(always)]
fn px(row: &[u8], x: usize) -> u64 {
    let mut p = [0u8; 4];
    p.copy_from_slice(&row[x * 4..x * 4 + 4]);
    u64::from(u32::from_le_bytes(p) & 0x00FF_FFFF)
}

/// The hash of the segment starting at pixel `x` of `row`:
/// `Σ px(x + i) · B^(SEG-1-i)`, wrapping.
fn seg_hash(row: &[u8], x: usize) -> u64 {
    (x..x + SEG).fold(0u64, |h, i| h.wrapping_mul(B).wrapping_add(px(row, i)))
}

/// The hash of the segment one pixel further right, from the hash of this
/// one, the pixel leaving it and the pixel entering it.
#[inline(always)]
fn roll(hash: u64, leaving: u64, entering: u64) -> u64 {
    hash.wrapping_sub(leaving.wrapping_mul(B_TOP))
        .wrapping_mul(B)
        .wrapping_add(entering)
}

/// Whether every pixel of the segment at pixel `x` is the same 4 bytes: such
/// a segment matches everywhere in a flat area and says nothing.
fn uniform(row: &[u8], x: usize) -> bool {
    let seg = &row[x * 4..(x + SEG) * 4];
    seg.chunks_exact(4).all(|p| p == &seg[..4])
}

/// A segment of the frame being coded.
#[derive(Clone, Copy)]
struct Seg {
    hash: u64,
    x: u32,
    y: u32,
    /// Next segment with the same hash, or `NONE`.
    next: u32,
}

/// Reusable state of the search (its buffers keep their capacity).
#[derive(Default)]
pub(crate) struct MotionSearch {
    segs: Vec<Seg>,
    /// Open-addressed table of hash chains: the first segment of each.
    heads: Vec<u32>,
    /// Per segment that heads a chain: found in the previous frame already.
    done: Vec<bool>,
    votes: HashMap<(i32, i32), u32>,
    /// Chains not yet found in the previous frame.
    open: usize,
}

impl MotionSearch {
    /// Up to 12 vectors (source minus destination), most voted first, that
    /// move content of `prev` to the dirty tiles of `cur` (both `w × h`,
    /// 4 bytes a pixel, rows `w * 4` bytes apart; `dirty` has one flag per
    /// tile in raster order, `tw` tiles a row). A vector needs two votes.
    pub(crate) fn candidates(
        &mut self,
        cur: &[u8],
        prev: &[u8],
        (w, h): (usize, usize),
        dirty: &[bool],
        tw: usize,
    ) -> Vec<(i32, i32)> {
        let n_dirty = dirty.iter().filter(|&&d| d).count();
        if n_dirty < 2 || w < SEG {
            return Vec::new();
        }
        let row_bytes = w * 4;
        // bounding box of the dirty tiles
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        for (i, _) in dirty.iter().enumerate().filter(|(_, &d)| d) {
            let (tx, ty) = (i % tw, i / tw);
            x0 = x0.min(tx * TILE);
            y0 = y0.min(ty * TILE);
            x1 = x1.max(((tx + 1) * TILE).min(w));
            y1 = y1.max(((ty + 1) * TILE).min(h));
        }
        // Content moves vertically farther than the changed area shows
        // (scrolls), so search the previous frame a little beyond it.
        let (sy0, sy1) = (y0.saturating_sub(TILE * 4), (y1 + TILE * 4).min(h));
        let area = (x1 - x0) * (sy1 - sy0);
        let step = area.div_ceil(1 << 17).clamp(2, 16);

        // This frame's segments: the first `step` rows of each dirty tile.
        self.segs.clear();
        for (i, _) in dirty.iter().enumerate().filter(|(_, &d)| d) {
            let (x, ty) = ((i % tw) * TILE, i / tw);
            if x + SEG > w {
                continue;
            }
            for y in ty * TILE..(ty * TILE + step).min(h) {
                let row = &cur[y * row_bytes..(y + 1) * row_bytes];
                if !uniform(row, x) {
                    let hash = seg_hash(row, x);
                    self.segs.push(Seg {
                        hash,
                        x: x as u32,
                        y: y as u32,
                        next: NONE,
                    });
                }
            }
        }
        if self.segs.is_empty() {
            return Vec::new();
        }
        let bits = (self.segs.len() * 4).next_power_of_two().trailing_zeros();
        let mask = (1usize << bits) - 1;
        let slot = |hash: u64| (hash.wrapping_mul(0xD6E8_FEB8_6659_FD93) >> (64 - bits)) as usize;
        self.heads.clear();
        self.heads.resize(1 << bits, NONE);
        self.done.clear();
        self.done.resize(self.segs.len(), false);
        self.open = 0;
        for i in 0..self.segs.len() {
            let hash = self.segs[i].hash;
            let mut s = slot(hash);
            loop {
                let head = self.heads[s];
                if head == NONE {
                    self.heads[s] = i as u32;
                    self.open += 1;
                    break;
                }
                if self.segs[head as usize].hash == hash {
                    self.segs[i].next = self.segs[head as usize].next;
                    self.segs[head as usize].next = i as u32;
                    break;
                }
                s = (s + 1) & mask;
            }
        }

        // The previous frame's segments, every position of every sampled row,
        // in raster order; stop once every chain has its position.
        self.votes.clear();
        let mut y = sy0.div_ceil(step) * step;
        while y < sy1 && x1 >= x0 + SEG {
            let row = &prev[y * row_bytes..(y + 1) * row_bytes];
            let pixels = row[x0 * 4..x1 * 4].chunks_exact(4);
            // (pixel leaving the window, pixel entering it) per step right
            let steps = pixels.clone().zip(pixels.skip(SEG));
            let mut hash = seg_hash(row, x0);
            let mut x = x0;
            if self.heads[slot(hash)] != NONE && self.found(row, x, y, hash, &slot, mask) {
                break;
            }
            for (old, new) in steps {
                hash = roll(hash, px(old, 0), px(new, 0));
                x += 1;
                if self.heads[slot(hash)] != NONE && self.found(row, x, y, hash, &slot, mask) {
                    break;
                }
            }
            if self.open == 0 {
                break;
            }
            y += step;
        }
        let mut v: Vec<_> = self.votes.iter().filter(|&(_, &n)| n >= 2).collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        v.iter().take(12).map(|&(&mv, _)| mv).collect()
    }

    /// The previous frame's segment at (`x`, `y`) has `hash`, and the table
    /// has something in its slot: if a chain of this frame's segments has
    /// that hash and no position yet, this is it (unless the segment is
    /// flat), and its segments vote. Returns whether every chain has its
    /// position now.
    #[inline(never)]
    fn found(
        &mut self,
        row: &[u8],
        x: usize,
        y: usize,
        hash: u64,
        slot: &impl Fn(u64) -> usize,
        mask: usize,
    ) -> bool {
        let mut s = slot(hash);
        loop {
            let head = self.heads[s];
            if head == NONE {
                return false;
            }
            let head = head as usize;
            if self.segs[head].hash == hash {
                if !self.done[head] && !uniform(row, x) {
                    self.done[head] = true;
                    let mut m = head as u32;
                    while m != NONE {
                        let seg = self.segs[m as usize];
                        let mv = (x as i32 - seg.x as i32, y as i32 - seg.y as i32);
                        if mv != (0, 0) {
                            *self.votes.entry(mv).or_insert(0) += 1;
                        }
                        m = seg.next;
                    }
                    self.open -= 1;
                    return self.open == 0;
                }
                return false;
            }
            s = (s + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rolling_hash_equals_the_hash_of_each_segment() {
        let row: Vec<u8> = (0..200u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let w = row.len() / 4;
        let mut hash = seg_hash(&row, 0);
        for x in 0..w - SEG {
            assert_eq!(hash, seg_hash(&row, x), "x = {x}");
            hash = roll(hash, px(&row, x), px(&row, x + SEG));
        }
    }

    #[test]
    fn a_moved_block_is_found_and_flat_areas_vote_for_nothing() {
        let (w, h) = (256usize, 192usize);
        let mut prev = vec![40u8; w * h * 4];
        // A textured 64×64 block at (32, 32) in the previous frame...
        let block =
            |x: usize, y: usize| [(x * 7 + y * 13) as u8, (x * y) as u8, (x ^ y) as u8, 255];
        for y in 0..64 {
            for x in 0..64 {
                let i = ((32 + y) * w + 32 + x) * 4;
                prev[i..i + 4].copy_from_slice(&block(x, y));
            }
        }
        // ...is at (96, 64) in this one; the old place is flat again.
        let mut cur = vec![40u8; w * h * 4];
        for y in 0..64 {
            for x in 0..64 {
                let i = ((64 + y) * w + 96 + x) * 4;
                cur[i..i + 4].copy_from_slice(&block(x, y));
            }
        }
        let tw = w.div_ceil(TILE);
        let th = h.div_ceil(TILE);
        let dirty: Vec<bool> = (0..tw * th)
            .map(|i| {
                let (tx, ty) = (i % tw, i / tw);
                (0..TILE).any(|r| {
                    let y = ty * TILE + r;
                    let a = (y * w + tx * TILE) * 4;
                    y < h && cur[a..a + TILE * 4] != prev[a..a + TILE * 4]
                })
            })
            .collect();
        let mut m = MotionSearch::default();
        let c = m.candidates(&cur, &prev, (w, h), &dirty, tw);
        assert_eq!(c.first(), Some(&(-64, -32)), "{c:?}");
        // Nothing moved: no candidates.
        assert!(m.candidates(&prev, &prev, (w, h), &dirty, tw).is_empty());
    }
}
