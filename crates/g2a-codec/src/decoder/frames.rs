//! The second stage: applying a body's tiles to the frame (CODEC.md §3),
//! and the tile cache (§3.1).

use g2a_core::Size;

use super::bitstream::{parse_head, Head};
use super::lookahead::{droppable, CacheUse};
use super::pipeline::Cores;
use super::plan::{tile_work, Planned, TilePlan};
use super::rows::{decode_rows_parallel, Edges, TileJob};
use super::{Kind, TileCounts};
use crate::cache::{cacheable, LazyCache, SlotSet};
use crate::op;
use crate::pixel::TILE;
use crate::CodecError;

/// The second stage: the frames and everything tiles are decoded from.
pub(super) struct Frames {
    pub(super) size: Option<Size>,
    pub(super) cur: Vec<u8>,
    /// The tiles of the previous frame that this packet's COPY tiles read
    /// (copied from `cur` before the packet changes it; other tiles stale).
    pub(super) prev: Vec<u8>,
    /// Which tiles of `prev` were copied for the current packet.
    pub(super) saved: Vec<bool>,
    /// Planar working copy of one tile with its top and left borders.
    pub(super) tile_planes: Vec<u8>,
    pub(super) cache: LazyCache,
    /// Where each tile's data starts (reused from packet to packet).
    pub(super) plan: Vec<TilePlan>,
    /// Threads that decode the tiles of a big packet (1: only the caller's).
    pub(super) threads: usize,
    /// Work from which a packet counts as big (tests lower it).
    pub(super) min_parallel_work: usize,
    /// Rows shared between the threads of a parallel decode.
    pub(super) edges: Edges,
    /// Cache slots the packet being applied may drop instead of copying when
    /// it overwrites their position (set by [`Decoder::decode_run`], which
    /// reads ahead; empty otherwise).
    pub(super) droppable: SlotSet,
    /// Scratch for [`droppable`].
    pub(super) read_ahead: SlotSet,
    /// Slots dropped so far (tests check that dropping happens).
    pub(super) dropped: u64,
    /// The tiles applied so far.
    pub(super) counts: TileCounts,
}

impl Frames {
    /// Applies an inflated packet of a run (see [`Decoder::decode_run`]):
    /// `u` is its cache use, `ahead` that of the packets inflated after it,
    /// in order. Cached tiles that no packet reads before they are claimed
    /// again are dropped instead of copied when the packet overwrites them.
    pub(super) fn apply_in_run<'a>(
        &mut self,
        kind: Kind,
        body: &[u8],
        u: Option<&CacheUse>,
        ahead: impl IntoIterator<Item = Option<&'a CacheUse>>,
        to_the_end: bool,
        cores: Option<&Cores>,
    ) -> Result<(), CodecError> {
        if let (Kind::Delta, Some(u)) = (kind, u) {
            let next = self.cache.next_slot();
            droppable(
                next,
                u,
                ahead,
                to_the_end,
                &mut self.droppable,
                &mut self.read_ahead,
            );
        }
        let r = self.apply(kind, body, cores);
        self.droppable.clear();
        r
    }

    /// Applies an inflated packet to the frame.
    ///
    /// `cores`: see [`Cores`].
    pub(super) fn apply(
        &mut self,
        kind: Kind,
        body: &[u8],
        cores: Option<&Cores>,
    ) -> Result<(), CodecError> {
        let key = match kind {
            Kind::Unchanged => return Ok(()),
            Kind::Delta => false,
            Kind::Key(size) => {
                self.start_key(size);
                true
            }
        };
        let Some(size) = self.size else {
            return Err(CodecError::NeedKeyframe);
        };
        let (tw, th) = (
            (size.width as usize).div_ceil(TILE),
            (size.height as usize).div_ceil(TILE),
        );
        self.apply_body(body, key, tw, th, cores)
    }

    /// Makes ready for a keyframe of `size`. A keyframe writes every pixel:
    /// the buffers are only resized (and zeroed) when the size changes.
    pub(super) fn start_key(&mut self, size: Size) {
        let n = (size.area() * 4) as usize;
        if self.cur.len() != n {
            // A zeroed allocation this big is mapped lazily: no zero-filling
            // pass before the keyframe writes it.
            self.cur = vec![0; n];
        }
        if self.prev.len() != n {
            // Allocated when a delta first needs it (most never do).
            self.prev = Vec::new();
        }
        self.size = Some(size);
    }

    /// Applies a keyframe of `size` whose body arrives in pieces: `more`
    /// appends the next piece to `body` (emptied first) and says `false`
    /// once there are none left. The tile rows are decoded as their data
    /// arrives, on this thread while another inflates the rest; the rows
    /// left when the last piece arrives go on every thread when they are
    /// many. The frame is the same as [`Frames::apply`]'s; bad data is an
    /// error once it is known to be (the frame is then half decoded, and the
    /// decoder needs a keyframe, as after any error).
    pub(super) fn apply_key_streamed(
        &mut self,
        size: Size,
        body: &mut Vec<u8>,
        mut more: impl FnMut(&mut Vec<u8>) -> Result<bool, CodecError>,
        cores: Option<&Cores>,
    ) -> Result<(), CodecError> {
        self.start_key(size);
        let (tw, th) = (
            (size.width as usize).div_ceil(TILE),
            (size.height as usize).div_ceil(TILE),
        );
        body.clear();
        let mut complete = false;
        let head = loop {
            match parse_head(body, size) {
                Ok(head) => break head,
                Err(e) if complete => return Err(e),
                Err(_) => complete = !more(body)?,
            }
        };
        self.plan.clear();
        self.plan.reserve(tw * th);
        let mut planned = Planned::default();
        let mut rows_done = 0;
        loop {
            self.plan_tiles(body, &head, true, &mut planned, complete)?;
            if complete {
                break;
            }
            if self.plan.len() / tw > rows_done {
                // Only this thread: the other one is inflating.
                self.decode_rows(body, &head, None, rows_done, None, None);
                rows_done = self.plan.len() / tw;
            }
            complete = !more(body)?;
        }
        // The work of the rows left.
        let (w, h) = (size.width as usize, size.height as usize);
        let rest = (rows_done * tw..tw * th)
            .map(|at| {
                let (x0, y0) = (at % tw * TILE, at / tw * TILE);
                let code = body[head.ctl.start + at];
                tile_work(code, TILE.min(w - x0), TILE.min(h - y0))
            })
            .sum();
        self.decode_rows(body, &head, None, rows_done, Some(rest), cores);
        self.store_tiles(&body[head.ctl.clone()], true);
        Ok(())
    }

    pub(super) fn apply_body(
        &mut self,
        body: &[u8],
        key: bool,
        tw: usize,
        th: usize,
        cores: Option<&Cores>,
    ) -> Result<(), CodecError> {
        let Some(size) = self.size else {
            return Err(CodecError::NeedKeyframe);
        };
        let head = parse_head(body, size)?;
        // Plan every tile (where its data starts) and check everything a
        // tile could find wrong, so that decoding the tiles, maybe on
        // several threads, can't fail half way.
        self.plan.clear();
        self.plan.reserve(tw * th);
        let mut planned = Planned::default();
        self.plan_tiles(body, &head, key, &mut planned, true)?;
        let ctl = &body[head.ctl.clone()];
        let res = &body[head.res_at..];
        let mut in_place = None;
        if !key {
            // The COPY tiles of the vector most of them use are done in the
            // frame itself; the others (if any) read their sources from
            // `prev`, saved before anything changes the frame.
            let vectors = copy_vectors(ctl, &head.mvs);
            let others = matches!(vectors, CopyVectors::Several(_));
            in_place = match vectors {
                CopyVectors::None => None,
                CopyVectors::One(mv) | CopyVectors::Several(mv) => Some(mv),
            };
            self.keep_what_the_delta_reads(ctl, res, &head.mvs, tw, in_place.filter(|_| others));
            if let Some(mv) = in_place {
                self.copy_in_place(ctl, &head.mvs, mv, tw, th);
            }
        }
        self.decode_rows(body, &head, in_place, 0, Some(planned.work), cores);
        self.store_tiles(ctl, key);
        self.counts.motion_vectors += head.mvs.len() as u64;
        Ok(())
    }

    /// Decodes the planned tiles of the tile rows from `first_row` on, on
    /// several threads when their `work` makes it pay (`None`: on this
    /// thread only).
    pub(super) fn decode_rows(
        &mut self,
        body: &[u8],
        head: &Head,
        in_place: Option<(i64, i64)>,
        first_row: usize,
        work: Option<usize>,
        cores: Option<&Cores>,
    ) {
        let Some(size) = self.size else { return };
        let (w, h) = (size.width as usize, size.height as usize);
        let th = h.div_ceil(TILE);
        let job = TileJob {
            w,
            h,
            tw: w.div_ceil(TILE),
            ctl: &body[head.ctl.clone()],
            plan: &self.plan,
            res: &body[head.res_at..],
            idx: &body[head.idx.clone()],
            mvs: &head.mvs,
            prev: &self.prev,
            cache: self.cache.flushed(),
            in_place,
        };
        let last_row = (self.plan.len() / job.tw).min(th);
        let threads = self.threads.min(last_row.saturating_sub(first_row));
        if threads > 1 && work.is_some_and(|w| w >= self.min_parallel_work) {
            let (cur, edges) = (&mut self.cur, &mut self.edges);
            let mut all = || decode_rows_parallel(&job, cur, threads, edges, first_row..last_row);
            match cores {
                Some(c) => c.all(all),
                None => all(),
            }
        } else {
            let row_len = TILE * w * 4;
            let mut top = [0u8; (TILE + 1) * 4];
            for ty in first_row..last_row {
                let (done, rest) = self.cur.split_at_mut(ty * row_len);
                let n = row_len.min(rest.len());
                let rows = &mut rest[..n];
                let above = done.len().checked_sub(w * 4).map(|a| &done[a..]);
                job.row(
                    ty,
                    rows,
                    &mut self.tile_planes,
                    &mut top,
                    |_, first, end, out| {
                        if let Some(above) = above {
                            out.copy_from_slice(&above[first * 4..end * 4]);
                        }
                        true
                    },
                    |_, _| {},
                );
            }
        }
    }

    /// After a packet is decoded, its new content goes into the tile cache
    /// (CODEC.md §3.1): as references to the frame, copied when they would
    /// be lost. A keyframe empties the cache first. The tiles are counted.
    pub(super) fn store_tiles(&mut self, ctl: &[u8], key: bool) {
        let Some(size) = self.size else { return };
        let (w, h) = (size.width as usize, size.height as usize);
        let (tw, th) = (w.div_ceil(TILE), h.div_ceil(TILE));
        if key {
            self.cache.reset(tw * th);
        }
        for ty in 0..th {
            for tx in 0..tw {
                let (cw, ch) = (TILE.min(w - tx * TILE), TILE.min(h - ty * TILE));
                let code = ctl[ty * tw + tx];
                self.counts.add(code, cw < TILE || ch < TILE);
                if cacheable(code, cw, ch) {
                    self.cache.store(ty * tw + tx);
                }
            }
        }
    }

    /// Before a planned delta changes the frame: copies what its tiles read
    /// and would otherwise lose. Cache slots still referring to a position
    /// this packet writes, or read by a CACHE tile, get their pixels; with
    /// `save_copy_sources_but(v)`, the tiles of the previous frame under the
    /// source of each COPY not moving by `v` go to `prev` (a COPY reads the
    /// previous frame, and its source may be written by this packet or, on
    /// another thread, be in the middle of being written; those moving by
    /// `v` are done in place).
    pub(super) fn keep_what_the_delta_reads(
        &mut self,
        ctl: &[u8],
        res: &[u8],
        mvs: &[(i64, i64)],
        tw: usize,
        save_copy_sources_but: Option<(i64, i64)>,
    ) {
        let save_copy_sources = save_copy_sources_but.is_some();
        let Some(size) = self.size else { return };
        let (w, h) = (size.width as usize, size.height as usize);
        if save_copy_sources {
            self.saved.clear();
            self.saved.resize(ctl.len(), false);
            if self.prev.len() != self.cur.len() {
                self.prev = vec![0; self.cur.len()];
            }
        }
        let rb = w * 4;
        for (at, &code) in ctl.iter().enumerate() {
            let (x0, y0) = (at % tw * TILE, at / tw * TILE);
            match code & 7 {
                op::SKIP => continue,
                op::CACHE => {
                    let rp = self.plan[at].res;
                    let slot = usize::from(u16::from_le_bytes([res[rp], res[rp + 1]]));
                    self.cache.flush_slot(slot, &self.cur, w, tw);
                }
                op::COPY
                    if save_copy_sources
                        && Some(mvs[usize::from(code >> 3)]) != save_copy_sources_but =>
                {
                    // The plan checked that the source lies inside the frame.
                    let (dx, dy) = mvs[usize::from(code >> 3)];
                    let (cw, ch) = (TILE.min(w - x0), TILE.min(h - y0));
                    let (sx, sy) = ((x0 as i64 + dx) as usize, (y0 as i64 + dy) as usize);
                    for ty in sy / TILE..=(sy + ch - 1) / TILE {
                        for tx in sx / TILE..=(sx + cw - 1) / TILE {
                            let t = ty * tw + tx;
                            if std::mem::replace(&mut self.saved[t], true) {
                                continue;
                            }
                            let (a, b) = (tx * TILE * 4, ((tx + 1) * TILE).min(w) * 4);
                            for y in ty * TILE..((ty + 1) * TILE).min(h) {
                                let r = y * rb + a..y * rb + b;
                                self.prev[r.clone()].copy_from_slice(&self.cur[r]);
                            }
                        }
                    }
                }
                _ => {}
            }
            if self
                .cache
                .flush_pos_unless(at, &self.cur, w, tw, &self.droppable)
            {
                self.dropped += 1;
            }
        }
    }

    /// Does a delta's COPY tiles that move by `(dx, dy)` in the frame
    /// itself, before its other tiles (which read no previous frame, only
    /// the frame as decoded so far, and so see the copies either way, or
    /// read sources saved before this) and without saving their sources:
    /// like `memmove`, tiles go in the order that reads every source before
    /// it is overwritten (rows from the side the content comes from, and
    /// columns likewise). A window dragged or a page scrolled is one
    /// vector: each of its tiles is then copied once instead of twice.
    pub(super) fn copy_in_place(
        &mut self,
        ctl: &[u8],
        mvs: &[(i64, i64)],
        (dx, dy): (i64, i64),
        tw: usize,
        th: usize,
    ) {
        let Some(size) = self.size else { return };
        let (w, h) = (size.width as usize, size.height as usize);
        let rb = w * 4;
        for i in 0..th {
            let ty = if dy < 0 { th - 1 - i } else { i };
            for j in 0..tw {
                let tx = if dx < 0 { tw - 1 - j } else { j };
                let code = ctl[ty * tw + tx];
                if code & 7 != op::COPY || mvs[usize::from(code >> 3)] != (dx, dy) {
                    continue;
                }
                let (x0, y0) = (tx * TILE, ty * TILE);
                let (cw, ch) = (TILE.min(w - x0), TILE.min(h - y0));
                // The plan checked that the source lies inside the frame.
                let (sx, sy) = ((x0 as i64 + dx) as usize, (y0 as i64 + dy) as usize);
                for k in 0..ch {
                    let r = if dy < 0 { ch - 1 - k } else { k };
                    let src = (sy + r) * rb + sx * 4;
                    self.cur
                        .copy_within(src..src + cw * 4, (y0 + r) * rb + x0 * 4);
                }
            }
        }
    }
}

/// The motion vectors a delta's COPY tiles use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CopyVectors {
    /// No COPY tiles.
    None,
    /// All of them use this one.
    One((i64, i64)),
    /// More than one; this one moves the most tiles (the first of those
    /// listed if several do).
    Several((i64, i64)),
}

/// Which vectors a delta's COPY tiles use (the plan checked the indices).
pub(super) fn copy_vectors(ctl: &[u8], mvs: &[(i64, i64)]) -> CopyVectors {
    let mut per_index = [0usize; 32];
    for &code in ctl {
        if code & 7 == op::COPY {
            per_index[usize::from(code >> 3)] += 1;
        }
    }
    // Tiles per distinct vector (a list may name a vector twice), in the
    // order listed.
    let mut per_vector: Vec<((i64, i64), usize)> = Vec::new();
    for (&v, &n) in mvs.iter().zip(&per_index).filter(|&(_, &n)| n > 0) {
        match per_vector.iter_mut().find(|(u, _)| *u == v) {
            Some((_, m)) => *m += n,
            None => per_vector.push((v, n)),
        }
    }
    let most = per_vector
        .iter()
        .rev()
        .max_by_key(|&&(_, n)| n)
        .map(|&(v, _)| v);
    match (most, per_vector.len()) {
        (None, _) => CopyVectors::None,
        (Some(v), 1) => CopyVectors::One(v),
        (Some(v), _) => CopyVectors::Several(v),
    }
}

#[cfg(test)]
mod copy_tests {
    use super::*;
    use crate::Decoder;
    use g2a_core::Limits;

    /// A 128×32 frame of four SOLID tiles, each its own colour.
    fn solid_key(colours: [[u8; 3]; 4]) -> Vec<u8> {
        let mut body = vec![0, 4, op::SOLID, op::SOLID, op::SOLID, op::SOLID, 0];
        body.extend(colours.iter().flatten());
        body
    }

    /// The colour of each tile of a 128×32 frame (checking it is uniform).
    fn tiles(frame: &[u8]) -> Vec<[u8; 3]> {
        (0..4)
            .map(|t| {
                let px = [frame[t * 128], frame[t * 128 + 1], frame[t * 128 + 2]];
                for y in 0..32 {
                    for x in t * 32..(t + 1) * 32 {
                        let at = (y * 128 + x) * 4;
                        assert_eq!(frame[at..at + 3], px, "tile {t} not uniform");
                    }
                }
                px
            })
            .collect()
    }

    #[test]
    fn the_main_vector_counts_every_index_naming_it_and_ties_go_to_the_first() {
        let copy = |i: u8| op::COPY | i << 3;
        let mvs = [(1, 0), (2, 0), (1, 0), (0, 3)];
        let ctl = [copy(0), copy(1), copy(1), copy(2), op::SKIP, copy(2)];
        assert_eq!(copy_vectors(&ctl, &mvs), CopyVectors::Several((1, 0)));
        let ctl = [copy(3), copy(1), op::PIXELS, copy(1), copy(3)];
        assert_eq!(copy_vectors(&ctl, &mvs), CopyVectors::Several((2, 0)));
        let ctl = [copy(0), copy(2), op::SOLID];
        assert_eq!(copy_vectors(&ctl, &mvs), CopyVectors::One((1, 0)));
        assert_eq!(copy_vectors(&[op::SKIP], &mvs), CopyVectors::None);
    }

    #[test]
    fn the_main_vector_is_copied_in_place_and_the_others_read_saved_sources() {
        // Tiles A B C D. The delta moves tiles 0 and 1 by (+32, 0) (the
        // vector most tiles use, done in place: 0 <- B, 1 <- C) and tile 2
        // by (-64, 0) (0 <- A, whose position the in-place copy has
        // already overwritten with B by then), and leaves tile 3.
        let (a, b, c, d) = ([1, 2, 3], [40, 50, 60], [70, 80, 90], [200, 210, 220]);
        let mut delta = vec![2, 64, 0, 127, 0, 4];
        delta.extend([op::COPY, op::COPY, op::COPY | 1 << 3, op::SKIP, 0]);
        assert_eq!(
            copy_vectors(&delta[6..10], &[(32, 0), (-64, 0)]),
            CopyVectors::Several((32, 0))
        );
        for threads in [1, 2] {
            let mut dec = Decoder::new(Limits::default());
            dec.set_threads(threads);
            dec.set_min_parallel_work(1);
            let size = Size::new(128, 32);
            let f = &mut dec.frames;
            f.apply(Kind::Key(size), &solid_key([a, b, c, d]), None)
                .unwrap();
            f.apply(Kind::Delta, &delta, None).unwrap();
            assert_eq!(tiles(&f.cur), [b, c, a, d], "{threads} threads");
        }
    }

    #[test]
    fn reserved_bits_of_a_tile_code_are_malformed() {
        // CODEC.md §3: only COPY uses the high five bits.
        let size = Size::new(128, 32);
        let colours = [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]];
        for (at, code) in [(2, op::SOLID | 1 << 3), (3, op::SOLID | 0x80)] {
            let mut dec = Decoder::new(Limits::default());
            let mut body = solid_key(colours);
            body[at] = code;
            let e = dec.frames.apply(Kind::Key(size), &body, None).unwrap_err();
            assert!(e.to_string().contains("reserved bits"), "{e}");
        }
        let mut dec = Decoder::new(Limits::default());
        dec.frames
            .apply(Kind::Key(size), &solid_key(colours), None)
            .unwrap();
        let mut delta = solid_key(colours);
        delta[4] = op::SKIP | 2 << 3;
        delta.truncate(delta.len() - 3);
        let e = dec.frames.apply(Kind::Delta, &delta, None).unwrap_err();
        assert!(e.to_string().contains("reserved bits"), "{e}");
    }
}
