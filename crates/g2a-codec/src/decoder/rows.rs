//! Decoding the tile rows of a packet, on several threads when it pays: a
//! wavefront, since a PIXELS tile predicts from the row above it.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use super::plan::TilePlan;
use super::predict::decode_pixels_tile;
use super::predict::TileRect;
use crate::cache::TileCache;
use crate::op;
use crate::pixel::TILE;

/// Decoding work (CODEC.md §8 units) from which a packet's tiles are
/// decoded on several threads: about 256 tiles of PIXELS (an eighth of a
/// 1080p frame, 1–2 ms of work), so that starting the threads (up to 0.2 ms
/// on a virtual machine) costs little. Measured with `g2a-report play`.
pub(super) const PARALLEL_WORK: usize = 256 * TILE * TILE * 4;

/// One packet's tiles, planned and checked: decoding them can't fail.
pub(super) struct TileJob<'a> {
    pub(super) w: usize,
    pub(super) h: usize,
    pub(super) tw: usize,
    pub(super) ctl: &'a [u8],
    pub(super) plan: &'a [TilePlan],
    pub(super) res: &'a [u8],
    pub(super) idx: &'a [u8],
    pub(super) mvs: &'a [(i64, i64)],
    pub(super) prev: &'a [u8],
    pub(super) cache: &'a TileCache,
    /// The vector whose COPY tiles are done already
    /// ([`Frames::copy_in_place`]); the others read `prev`.
    pub(super) in_place: Option<(i64, i64)>,
}

impl TileJob<'_> {
    /// Decodes tile row `ty` into `rows` (its pixel rows of the current
    /// frame). `above(tx, first, end, out)` fills `out` with the pixels
    /// `first..end` of the frame row just above, once tile `tx` of the row
    /// above is complete (false: give up, another thread failed);
    /// `done(tx, rows)` is told when tile `tx` is complete.
    pub(super) fn row(
        &self,
        ty: usize,
        rows: &mut [u8],
        work: &mut Vec<u8>,
        top: &mut [u8; (TILE + 1) * 4],
        mut above: impl FnMut(usize, usize, usize, &mut [u8]) -> bool,
        mut done: impl FnMut(usize, &[u8]),
    ) {
        let (w, rb) = (self.w, self.w * 4);
        let y0 = ty * TILE;
        let ch = TILE.min(self.h - y0);
        for tx in 0..self.tw {
            let at = ty * self.tw + tx;
            let code = self.ctl[at];
            let TilePlan { res: rp, idx: ip } = self.plan[at];
            let (x0, x1) = (tx * TILE, ((tx + 1) * TILE).min(w));
            let cw = x1 - x0;
            match code & 7 {
                op::SOLID => {
                    let px = [self.res[rp], self.res[rp + 1], self.res[rp + 2], 255];
                    for row in rows.chunks_exact_mut(rb) {
                        for p in row[x0 * 4..x1 * 4].chunks_exact_mut(4) {
                            p.copy_from_slice(&px);
                        }
                    }
                }
                op::COPY if Some(self.mvs[usize::from(code >> 3)]) != self.in_place => {
                    let (dx, dy) = self.mvs[usize::from(code >> 3)];
                    let (sx, sy) = ((x0 as i64 + dx) as usize, (y0 as i64 + dy) as usize);
                    for (r, row) in rows.chunks_exact_mut(rb).enumerate() {
                        let src = (sy + r) * rb + sx * 4;
                        row[x0 * 4..x1 * 4].copy_from_slice(&self.prev[src..src + cw * 4]);
                    }
                }
                op::PALETTE => {
                    let n = usize::from(self.res[rp]) + 1;
                    let cols = &self.res[rp + 1..rp + 1 + n * 3];
                    let ix = &self.idx[ip..ip + cw * ch];
                    for (row, ix) in rows.chunks_exact_mut(rb).zip(ix.chunks_exact(cw)) {
                        for (p, &i) in row[x0 * 4..x1 * 4].chunks_exact_mut(4).zip(ix) {
                            let i = usize::from(i) * 3;
                            p[..3].copy_from_slice(&cols[i..i + 3]);
                            p[3] = 255;
                        }
                    }
                }
                op::CACHE => {
                    let slot = usize::from(u16::from_le_bytes([self.res[rp], self.res[rp + 1]]));
                    self.cache.put(slot, rows, w, x0, 0);
                }
                op::PIXELS => {
                    let top = if y0 > 0 {
                        let first = x0.saturating_sub(1);
                        let out = &mut top[..(x1 - first) * 4];
                        if !above(tx, first, x1, out) {
                            return;
                        }
                        Some(&*out)
                    } else {
                        None
                    };
                    let t = TileRect { x0, cw, ch };
                    let planes = &self.res[rp..rp + cw * ch * 3];
                    decode_pixels_tile(rows, work, w, t, top, planes);
                }
                // SKIP (the plan admits nothing else).
                _ => {}
            }
            done(tx, rows);
        }
    }
}

/// The bottom pixel row of every tile row, published tile by tile by the
/// thread decoding it for the thread decoding the row below (a wavefront:
/// a PIXELS tile predicts from the row above it).
#[derive(Default)]
pub(super) struct Edges {
    /// `th` rows of `w` pixels (BGRA as little-endian words).
    pub(super) px: Vec<AtomicU32>,
    /// Tiles complete in each tile row.
    pub(super) done: Vec<Counter>,
}

/// A progress counter alone on its cache line (no false sharing between
/// the rows' threads).
#[derive(Default)]
#[repr(align(128))]
pub(super) struct Counter(AtomicUsize);

/// Decodes the tile rows `rows` of `job` on `threads` threads (the
/// caller's among them); the rows above them are decoded already. Rows are
/// claimed in order, so a thread only ever waits on a row that is being
/// decoded.
pub(super) fn decode_rows_parallel(
    job: &TileJob<'_>,
    cur: &mut [u8],
    threads: usize,
    edges: &mut Edges,
    rows: Range<usize>,
) {
    let (w, th) = (job.w, job.h.div_ceil(TILE));
    if edges.px.len() < w * th {
        edges.px.resize_with(w * th, || AtomicU32::new(0));
    }
    edges.done.clear();
    edges.done.resize_with(th, Counter::default);
    let edges = &*edges;
    let failed = AtomicBool::new(false);
    let first = rows.start;
    let (done, rest) = cur.split_at_mut(first * TILE * w * 4);
    // The frame row above the first tile row (decoded already).
    let above_first: &[u8] = &done[done.len().saturating_sub(w * 4)..];
    let rows = Mutex::new(
        rest.chunks_mut(TILE * w * 4)
            .take(rows.len())
            .enumerate()
            .map(|(i, chunk)| (first + i, chunk)),
    );
    let worker = || {
        // A panicking thread lets the others stop waiting for it.
        struct Flag<'a>(&'a AtomicBool);
        impl Drop for Flag<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.store(true, Ordering::Relaxed);
                }
            }
        }
        let _flag = Flag(&failed);
        let mut work = Vec::new();
        let mut top = [0u8; (TILE + 1) * 4];
        loop {
            let next = rows.lock().unwrap_or_else(PoisonError::into_inner).next();
            let Some((ty, chunk)) = next else { return };
            let above = |tx: usize, from: usize, end: usize, out: &mut [u8]| {
                if ty == first {
                    out.copy_from_slice(&above_first[from * 4..end * 4]);
                    return true;
                }
                let progress = &edges.done[ty - 1].0;
                let mut spins = 0u32;
                while progress.load(Ordering::Acquire) <= tx {
                    if failed.load(Ordering::Relaxed) {
                        return false;
                    }
                    spins += 1;
                    if spins < 256 {
                        std::hint::spin_loop();
                    } else {
                        std::thread::yield_now();
                    }
                }
                let line = &edges.px[(ty - 1) * w..ty * w];
                for (o, p) in out.chunks_exact_mut(4).zip(&line[from..end]) {
                    o.copy_from_slice(&p.load(Ordering::Relaxed).to_le_bytes());
                }
                true
            };
            let publish = |tx: usize, chunk: &[u8]| {
                let (x0, x1) = (tx * TILE, ((tx + 1) * TILE).min(w));
                if ty + 1 < th {
                    let last = &chunk[chunk.len() - w * 4..];
                    let line = &edges.px[ty * w..(ty + 1) * w];
                    for (p, v) in line[x0..x1]
                        .iter()
                        .zip(last[x0 * 4..x1 * 4].chunks_exact(4))
                    {
                        p.store(
                            u32::from_le_bytes([v[0], v[1], v[2], v[3]]),
                            Ordering::Relaxed,
                        );
                    }
                }
                edges.done[ty].0.store(tx + 1, Ordering::Release);
            };
            job.row(ty, chunk, &mut work, &mut top, above, publish);
        }
    };
    std::thread::scope(|s| {
        for _ in 1..threads {
            s.spawn(worker);
        }
        worker();
    });
}
