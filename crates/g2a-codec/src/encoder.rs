//! The encoder (CODEC.md §2–§6).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use g2a_core::{FrameRef, Limits, Size};

use crate::cache::{cacheable, hash_tile, TileCache};
use crate::motion::MotionSearch;
use crate::pixel::{bgr, med, planes, TILE};
use crate::{op, packet, CodecError};

/// When the encoder writes a keyframe on its own.
///
/// Seeking decodes the keyframe at or before the target and every delta
/// since, so the policy bounds the bytes of deltas after a keyframe, which
/// bounds seek cost whatever the content. An idle screen produces a few
/// bytes per frame and so never triggers a keyframe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyframePolicy {
    /// Start a keyframe once the delta packets since the last keyframe
    /// exceed this many bytes.
    pub max_delta_bytes: u64,
    /// Also allow deltas up to this multiple of the last keyframe's size
    /// before starting a keyframe: a keyframe costs about as much to decode
    /// as that many bytes of deltas, so this keeps keyframes from dominating
    /// the file on photographic screens while bounding seek cost relative to
    /// a keyframe's.
    pub key_ratio: u32,
    /// Also keep the decoding work of the deltas since the last keyframe
    /// under this share of decoding one whole frame of predictor-coded
    /// (photographic) pixels, in percent; `0` turns the rule off. The frame
    /// whose delta would reach it is coded as a keyframe instead, so a
    /// big change (often a whole new screen) starts a group rather than
    /// ending one: a seek to the end of the group before never decodes it,
    /// and its content isn't sent twice (as a delta, then again in the
    /// keyframe after it). Work is estimated per tile: predicted pixels
    /// cost 4 units, palette pixels 1, solid and copied pixels 1/4, plus
    /// the body's bytes before compression. This bounds the time of a seek
    /// (decode the keyframe, then the deltas up to the target) by content
    /// rather than by bytes: a few kilobytes of antialiased text can cost
    /// more to decode than a megabyte of copied windows.
    pub max_delta_work_percent: u32,
    /// Also start one after this many frames, if set.
    pub max_frames: Option<u64>,
}

impl Default for KeyframePolicy {
    fn default() -> Self {
        KeyframePolicy {
            max_delta_bytes: 1 << 20,
            key_ratio: 4,
            max_delta_work_percent: 400,
            max_frames: None,
        }
    }
}

/// Encoder options.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EncoderConfig {
    /// The keyframe policy.
    pub keyframes: KeyframePolicy,
    /// zstd compression level (1–19).
    pub level: i32,
    /// Search for moved content (scrolls, dragged windows).
    pub motion_search: bool,
    /// Accepted frame sizes.
    pub limits: Limits,
}

impl Default for EncoderConfig {
    fn default() -> Self {
        EncoderConfig {
            keyframes: KeyframePolicy::default(),
            level: 1,
            motion_search: true,
            limits: Limits::default(),
        }
    }
}

impl EncoderConfig {
    /// Sets the keyframe policy.
    #[must_use]
    pub fn keyframes(mut self, p: KeyframePolicy) -> Self {
        self.keyframes = p;
        self
    }

    /// Sets the zstd level.
    #[must_use]
    pub fn level(mut self, level: i32) -> Self {
        self.level = level;
        self
    }

    /// Turns motion search on or off.
    #[must_use]
    pub fn motion_search(mut self, on: bool) -> Self {
        self.motion_search = on;
        self
    }

    /// Sets the limits.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

/// What kind of packet [`Encoder::encode`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EncodedKind {
    /// A keyframe: decodes on its own.
    Key,
    /// A delta from the previous frame.
    Delta,
    /// The frame equals the previous one (a one-byte packet).
    Unchanged,
}

/// Counts and bytes per packet kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EncoderStats {
    /// Keyframes written.
    pub key_frames: u64,
    /// Bytes of keyframes.
    pub key_bytes: u64,
    /// Delta frames written.
    pub delta_frames: u64,
    /// Bytes of delta frames.
    pub delta_bytes: u64,
    /// Unchanged frames written.
    pub unchanged_frames: u64,
    /// Bytes of unchanged frames.
    pub unchanged_bytes: u64,
    /// Tiles coded as copies from the previous frame.
    pub copy_tiles: u64,
    /// Tiles coded as references to the tile cache.
    pub cache_tiles: u64,
}

/// The screen encoder. See the crate docs for an example.
pub struct Encoder {
    cfg: EncoderConfig,
    size: Option<Size>,
    prev: Vec<u8>,
    /// The zstd stream of the current keyframe group; the context is reset,
    /// not recreated, at a keyframe (its 16 MiB window and tables stay).
    zstd: Option<zstd::zstd_safe::CCtx<'static>>,
    since_key_bytes: u64,
    since_key_frames: u64,
    last_key_bytes: u64,
    since_key_work: u64,
    cache: TileCache,
    /// Hash of each cache slot's tile → slot, for lookups.
    cache_index: HashMap<u64, u32, IdHash>,
    /// Motion search state, kept between frames for its capacity.
    motion: MotionSearch,
    /// The hash stored in each slot (to drop it from the index on reuse).
    slot_hash: Vec<u64>,
    /// Decoding work of the frame being coded (see `max_delta_work_percent`).
    work: u64,
    stats: EncoderStats,
    recent_mvs: Vec<(i32, i32)>,
    // scratch
    dirty: Vec<bool>,
    body: Vec<u8>,
    ctl: Vec<u8>,
    idx: Vec<u8>,
    res: Vec<u8>,
    /// A PIXELS tile and its borders as three colour planes.
    tile_planes: Vec<u8>,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("size", &self.size)
            .field("stats", &self.stats)
            .finish()
    }
}

impl Encoder {
    /// A new encoder.
    ///
    /// # Errors
    /// [`CodecError::Config`] for a zstd level outside 1–19 or a zero byte budget.
    pub fn new(cfg: EncoderConfig) -> Result<Encoder, CodecError> {
        if !(1..=19).contains(&cfg.level) {
            return Err(CodecError::Config(format!(
                "zstd level {} is outside 1..=19",
                cfg.level
            )));
        }
        if cfg.keyframes.max_delta_bytes == 0 {
            return Err(CodecError::Config("max_delta_bytes must be above 0".into()));
        }
        Ok(Encoder {
            cfg,
            size: None,
            prev: Vec::new(),
            zstd: None,
            since_key_bytes: 0,
            since_key_frames: 0,
            last_key_bytes: 0,
            since_key_work: 0,
            cache: TileCache::default(),
            cache_index: HashMap::default(),
            motion: MotionSearch::default(),
            slot_hash: Vec::new(),
            work: 0,
            stats: EncoderStats::default(),
            recent_mvs: Vec::new(),
            dirty: Vec::new(),
            body: Vec::new(),
            ctl: Vec::new(),
            idx: Vec::new(),
            res: Vec::new(),
            tile_planes: Vec::new(),
        })
    }

    /// Counts and bytes so far.
    #[must_use]
    pub fn stats(&self) -> &EncoderStats {
        &self.stats
    }

    /// Makes the next frame a keyframe.
    pub fn request_keyframe(&mut self) {
        self.size = None;
    }

    /// Encodes one frame into `out` (cleared first).
    ///
    /// `force_keyframe` asks for a keyframe (a seek point, or the start of a
    /// continuation file); a size change, the first frame and the
    /// [`KeyframePolicy`] also make one.
    ///
    /// # Errors
    /// [`CodecError::Limit`] for a frame outside the limits; the encoder's
    /// state is unchanged by a failed call.
    pub fn encode(
        &mut self,
        frame: &FrameRef<'_>,
        force_keyframe: bool,
        out: &mut Vec<u8>,
    ) -> Result<EncodedKind, CodecError> {
        frame.check_limits(&self.cfg.limits)?;
        out.clear();
        let size = frame.size();
        let policy = self.cfg.keyframes;
        let over_work_budget = |work: u64| {
            policy.max_delta_work_percent > 0
                && work >= size.area() * 4 * u64::from(policy.max_delta_work_percent) / 100
        };
        let mut key = force_keyframe
            || self.size != Some(size)
            || self.since_key_bytes
                >= policy.max_delta_bytes.max(
                    self.last_key_bytes
                        .saturating_mul(u64::from(policy.key_ratio)),
                )
            || over_work_budget(self.since_key_work)
            || policy
                .max_frames
                .is_some_and(|n| self.since_key_frames >= n);
        let (w, h) = (size.width as usize, size.height as usize);
        let (tw, th) = (w.div_ceil(TILE), h.div_ceil(TILE));
        let row_bytes = w * 4;
        // A packed view of the frame (rows back to back), made once even
        // when the frame is coded a second time as a keyframe.
        let mut packed: Option<std::borrow::Cow<'_, [u8]>> = None;
        let mvs = loop {
            if key {
                self.size = Some(size);
                self.prev.clear();
                self.prev.resize(row_bytes * h, 0);
                self.dirty.clear();
                self.dirty.resize(tw * th, true);
                self.recent_mvs.clear();
                self.cache.reset();
                self.cache_index.clear();
            } else {
                self.find_dirty(frame, tw, th);
                if !self.dirty.iter().any(|&d| d) {
                    out.push(packet::UNCHANGED);
                    self.note(EncodedKind::Unchanged, 1);
                    return Ok(EncodedKind::Unchanged);
                }
            }
            let packed: &[u8] = packed.get_or_insert_with(|| {
                if frame.is_packed() {
                    std::borrow::Cow::Borrowed(&frame.data()[..w * h * 4])
                } else {
                    let mut v = Vec::with_capacity(w * h * 4);
                    for y in 0..h {
                        v.extend_from_slice(frame.row(y as u32));
                    }
                    std::borrow::Cow::Owned(v)
                }
            });
            let mut mvs = Vec::new();
            if !key && self.cfg.motion_search {
                mvs = self
                    .motion
                    .candidates(packed, &self.prev, (w, h), &self.dirty, tw);
                for &mv in &self.recent_mvs {
                    if !mvs.contains(&mv) && mvs.len() < 16 {
                        mvs.push(mv);
                    }
                }
            }
            self.code_tiles(packed, (w, h), key, &mvs, tw, th);
            // A delta that would take its group's decoding work to the
            // budget is coded as the next group's keyframe instead: a seek
            // to the end of a group never pays for it (a big change, often
            // a whole new screen, is what usually crosses the budget, and
            // decoding it can't overlap anything at the end of a seek).
            let body = (self.ctl.len() + self.idx.len() + self.res.len()) as u64;
            if !key && over_work_budget(self.since_key_work + self.work + body) {
                key = true;
                continue;
            }
            break mvs;
        };
        // body = mvs | ctl | idx | res
        self.body.clear();
        put_varint(&mut self.body, mvs.len() as u64);
        for &(dx, dy) in &mvs {
            put_varint(&mut self.body, zigzag(dx));
            put_varint(&mut self.body, zigzag(dy));
        }
        put_varint(&mut self.body, self.ctl.len() as u64);
        self.body.extend_from_slice(&self.ctl);
        put_varint(&mut self.body, self.idx.len() as u64);
        self.body.extend_from_slice(&self.idx);
        self.body.extend_from_slice(&self.res);

        if key {
            out.push(packet::KEY);
            put_varint(out, size.width.into());
            put_varint(out, size.height.into());
            match self.zstd.as_mut() {
                Some(z) => {
                    z.reset(zstd::zstd_safe::ResetDirective::SessionOnly)
                        .map_err(zstd_error)?;
                }
                None => self.zstd = Some(new_zstd(self.cfg.level)?),
            }
        } else {
            out.push(packet::DELTA);
        }
        put_varint(out, self.body.len() as u64);
        let z = match self.zstd.as_mut() {
            Some(z) => z,
            None => self.zstd.insert(new_zstd(self.cfg.level)?),
        };
        deflate(z, &self.body, out)?;

        // The previous frame becomes this one, tile by tile.
        for ty in 0..th {
            for tx in 0..tw {
                if self.dirty[ty * tw + tx] {
                    let (x0, x1) = (tx * TILE, ((tx + 1) * TILE).min(w));
                    for y in ty * TILE..((ty + 1) * TILE).min(h) {
                        let src = &frame.row(y as u32)[x0 * 4..x1 * 4];
                        self.prev[y * row_bytes + x0 * 4..y * row_bytes + x1 * 4]
                            .copy_from_slice(src);
                    }
                }
            }
        }
        // New content goes into the tile cache (CODEC.md §3.1).
        for ty in 0..th {
            for tx in 0..tw {
                let (cw, ch) = (TILE.min(w - tx * TILE), TILE.min(h - ty * TILE));
                if cacheable(self.ctl[ty * tw + tx], cw, ch) {
                    let hash = hash_tile(&self.prev, w, tx * TILE, ty * TILE);
                    let slot = self.cache.insert(&self.prev, w, tx * TILE, ty * TILE);
                    if slot < self.slot_hash.len() {
                        let old = self.slot_hash[slot];
                        if self.cache_index.get(&old) == Some(&(slot as u32)) {
                            self.cache_index.remove(&old);
                        }
                        self.slot_hash[slot] = hash;
                    } else {
                        self.slot_hash.push(hash);
                    }
                    self.cache_index.insert(hash, slot as u32);
                }
            }
        }
        self.since_key_work = if key {
            0
        } else {
            self.since_key_work + self.work + self.body.len() as u64
        };
        let kind = if key {
            EncodedKind::Key
        } else {
            EncodedKind::Delta
        };
        self.note(kind, out.len() as u64);
        Ok(kind)
    }

    fn note(&mut self, kind: EncodedKind, bytes: u64) {
        let s = &mut self.stats;
        match kind {
            EncodedKind::Key => {
                s.key_frames += 1;
                s.key_bytes += bytes;
                self.last_key_bytes = bytes;
                self.since_key_bytes = 0;
                self.since_key_frames = 0;
            }
            EncodedKind::Delta => {
                s.delta_frames += 1;
                s.delta_bytes += bytes;
                self.since_key_bytes += bytes;
                self.since_key_frames += 1;
            }
            EncodedKind::Unchanged => {
                s.unchanged_frames += 1;
                s.unchanged_bytes += bytes;
                // An unchanged frame costs nothing to decode, so it never
                // moves the next keyframe closer: an idle screen writes none.
            }
        }
    }

    /// Marks the tiles whose bytes differ from the previous frame: one
    /// comparison of each row, then of each tile's part of a changed row.
    fn find_dirty(&mut self, frame: &FrameRef<'_>, tw: usize, th: usize) {
        let w = frame.size().width as usize;
        let h = frame.size().height as usize;
        let row_bytes = w * 4;
        self.dirty.clear();
        self.dirty.resize(tw * th, false);
        for y in 0..h {
            let cur = frame.row(y as u32);
            let prev = &self.prev[y * row_bytes..(y + 1) * row_bytes];
            if cur == prev {
                continue;
            }
            let ty = y / TILE;
            for tx in 0..tw {
                let d = &mut self.dirty[ty * tw + tx];
                if !*d {
                    let (a, b) = (tx * TILE * 4, ((tx + 1) * TILE).min(w) * 4);
                    *d = cur[a..b] != prev[a..b];
                }
            }
        }
    }

    /// Chooses and writes each tile's coding (CODEC.md §3).
    fn code_tiles(
        &mut self,
        buf: &[u8],
        (w, h): (usize, usize),
        key: bool,
        mvs: &[(i32, i32)],
        tw: usize,
        th: usize,
    ) {
        self.ctl.clear();
        self.idx.clear();
        self.res.clear();
        self.work = 0;
        let mut used = vec![0u32; mvs.len()];
        let mut palette: Vec<u32> = Vec::with_capacity(16);
        for ty in 0..th {
            for tx in 0..tw {
                if !self.dirty[ty * tw + tx] {
                    self.ctl.push(op::SKIP);
                    continue;
                }
                let (x0, x1) = (tx * TILE, ((tx + 1) * TILE).min(w));
                let (y0, y1) = (ty * TILE, ((ty + 1) * TILE).min(h));
                // copy from the previous frame?
                if !key {
                    if let Some(i) = mvs
                        .iter()
                        .position(|&mv| self.tile_matches(buf, w, h, x0, x1, y0, y1, mv))
                    {
                        self.ctl.push(op::COPY | ((i as u8) << 3));
                        self.work += ((x1 - x0) * (y1 - y0) / 4) as u64;
                        used[i] += 1;
                        self.stats.copy_tiles += 1;
                        continue;
                    }
                    // content seen before, still in the tile cache?
                    if x1 - x0 == TILE && y1 - y0 == TILE {
                        let hash = hash_tile(buf, w, x0, y0);
                        if let Some(&slot) = self.cache_index.get(&hash) {
                            if self.cache.matches(slot as usize, buf, w, x0, y0) {
                                self.ctl.push(op::CACHE);
                                self.res.extend_from_slice(&(slot as u16).to_le_bytes());
                                self.work += (TILE * TILE / 4) as u64;
                                self.stats.cache_tiles += 1;
                                continue;
                            }
                        }
                    }
                }
                // palette of up to 16 colours (1 colour: solid)
                palette.clear();
                let mut fits = true;
                'scan: for y in y0..y1 {
                    let row = &buf[y * w * 4..];
                    let mut last = u32::MAX;
                    for x in x0..x1 {
                        let c = bgr(row, x * 4);
                        if c == last {
                            continue;
                        }
                        last = c;
                        if !palette.contains(&c) {
                            if palette.len() == 16 {
                                fits = false;
                                break 'scan;
                            }
                            palette.push(c);
                        }
                    }
                }
                let n_px = ((x1 - x0) * (y1 - y0)) as u64;
                if fits && palette.len() == 1 {
                    self.work += n_px / 4;
                    self.ctl.push(op::SOLID);
                    self.res.extend_from_slice(&palette[0].to_le_bytes()[..3]);
                } else if fits {
                    self.work += n_px;
                    self.ctl.push(op::PALETTE);
                    self.res.push((palette.len() - 1) as u8);
                    for c in &palette {
                        self.res.extend_from_slice(&c.to_le_bytes()[..3]);
                    }
                    for y in y0..y1 {
                        let row = &buf[y * w * 4..];
                        for x in x0..x1 {
                            let c = bgr(row, x * 4);
                            let i = palette.iter().position(|&p| p == c).unwrap_or(0);
                            self.idx.push(i as u8);
                        }
                    }
                } else {
                    self.work += n_px * 4;
                    self.ctl.push(op::PIXELS);
                    let at = self.res.len();
                    self.res.resize(at + n_px as usize * 3, 0);
                    pixels_residuals(
                        buf,
                        w,
                        (x0, y0, x1 - x0, y1 - y0),
                        &mut self.tile_planes,
                        &mut self.res[at..],
                    );
                }
            }
        }
        self.recent_mvs = mvs
            .iter()
            .zip(&used)
            .filter(|(_, &n)| n > 0)
            .map(|(&mv, _)| mv)
            .take(4)
            .collect();
    }

    #[allow(clippy::too_many_arguments)]
    fn tile_matches(
        &self,
        buf: &[u8],
        w: usize,
        h: usize,
        x0: usize,
        x1: usize,
        y0: usize,
        y1: usize,
        (dx, dy): (i32, i32),
    ) -> bool {
        let (sx, sy) = (x0 as i64 + i64::from(dx), y0 as i64 + i64::from(dy));
        let (tw, th) = ((x1 - x0) as i64, (y1 - y0) as i64);
        if sx < 0 || sy < 0 || sx + tw > w as i64 || sy + th > h as i64 {
            return false;
        }
        let (sx, sy) = (sx as usize, sy as usize);
        let rb = w * 4;
        (0..y1 - y0).all(|r| {
            let cur = &buf[(y0 + r) * rb + x0 * 4..(y0 + r) * rb + x1 * 4];
            let src = &self.prev[(sy + r) * rb + sx * 4..(sy + r) * rb + (sx + (x1 - x0)) * 4];
            cur == src
        })
    }
}

/// Hasher for keys that are already 64-bit hashes: uses them as they are.
#[derive(Default)]
struct KeyIsHash(u64);

impl Hasher for KeyIsHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

type IdHash = BuildHasherDefault<KeyIsHash>;

/// The residuals of a PIXELS tile (CODEC.md §4): each colour plane's
/// values minus their MED prediction, plane after plane, into `out`
/// (`3 × cw × ch` bytes). The tile and its top and left borders are first
/// turned into planes in `work`, so each pixel is transformed once, and the
/// three planes are predicted side by side.
pub(crate) fn pixels_residuals(
    buf: &[u8],
    w: usize,
    (x0, y0, cw, ch): (usize, usize, usize, usize),
    work: &mut Vec<u8>,
    out: &mut [u8],
) {
    let sw = cw + 1;
    let plen = sw * (ch + 1);
    work.clear();
    work.resize(plen * 3, 0);
    // Row r, column c of a plane is pixel (x0 + c - 1, y0 + r - 1); the
    // border row and column stay 0 where the frame has none (never read).
    for r in usize::from(y0 == 0)..=ch {
        let gy = y0 + r - 1;
        for c in usize::from(x0 == 0)..=cw {
            let v = planes(buf, (gy * w + x0 + c - 1) * 4);
            let i = r * sw + c;
            work[i] = v[0];
            work[plen + i] = v[1];
            work[2 * plen + i] = v[2];
        }
    }
    let n = cw * ch;
    let (p0, rest) = work.split_at(plen);
    let (p1, p2) = rest.split_at(plen);
    let (o0, rest) = out.split_at_mut(n);
    let (o1, o2) = rest.split_at_mut(n);
    for y in 0..ch {
        let (up, cur) = ((y) * sw, (y + 1) * sw);
        let o = y * cw..(y + 1) * cw;
        let (q0, q1, q2) = (&mut o0[o.clone()], &mut o1[o.clone()], &mut o2[o]);
        let mut x = 0;
        if y0 + y == 0 {
            // Top row of the frame: predict from the left (0 at x = 0).
            for x in 0..cw {
                let (i, l) = (cur + x + 1, cur + x);
                let left = |p: &[u8]| if x0 + x == 0 { 0 } else { p[l] };
                q0[x] = p0[i].wrapping_sub(left(p0));
                q1[x] = p1[i].wrapping_sub(left(p1));
                q2[x] = p2[i].wrapping_sub(left(p2));
            }
            continue;
        }
        if x0 == 0 {
            // Left edge of the frame: predict from above.
            q0[0] = p0[cur + 1].wrapping_sub(p0[up + 1]);
            q1[0] = p1[cur + 1].wrapping_sub(p1[up + 1]);
            q2[0] = p2[cur + 1].wrapping_sub(p2[up + 1]);
            x = 1;
        }
        for (p, q) in [(p0, q0), (p1, q1), (p2, q2)] {
            let (above, this) = (&p[up + x..up + sw], &p[cur + x..cur + sw]);
            med_residual_row(above, this, &mut q[x..]);
        }
    }
}

/// `out[i] = this[i + 1] - MED(this[i], above[i + 1], above[i])` for one
/// plane's row: pixel `i + 1` of `this` and `above` (the row above) is the
/// one predicted, pixel `i` its left neighbour. Every pixel is known to the
/// encoder, so unlike the decoder's chain this loop has no dependency from
/// pixel to pixel, and it is written as zipped slices so that it compiles to
/// vector instructions (16 pixels per step with SSE2).
fn med_residual_row(above: &[u8], this: &[u8], out: &mut [u8]) {
    let left_up = above.iter().zip(&above[1..]);
    let left_this = this.iter().zip(&this[1..]);
    for (o, ((&c, &b), (&a, &x))) in out.iter_mut().zip(left_up.zip(left_this)) {
        *o = x.wrapping_sub(med(a, b, c));
    }
}

fn zstd_error(code: usize) -> CodecError {
    CodecError::Zstd(zstd::zstd_safe::get_error_name(code).to_string())
}

fn new_zstd(level: i32) -> Result<zstd::zstd_safe::CCtx<'static>, CodecError> {
    use zstd::zstd_safe::{CCtx, CParameter};
    let mut z = CCtx::try_create()
        .ok_or_else(|| CodecError::Zstd("cannot allocate a zstd context".into()))?;
    z.set_parameter(CParameter::CompressionLevel(level))
        .map_err(zstd_error)?;
    z.set_parameter(CParameter::WindowLog(crate::WINDOW_LOG))
        .map_err(zstd_error)?;
    z.set_parameter(CParameter::EnableLongDistanceMatching(true))
        .map_err(zstd_error)?;
    Ok(z)
}

/// Compresses `body` into the stream and flushes it (the stream goes on, so
/// the next packet may refer to this one), appending to `out`.
fn deflate(
    z: &mut zstd::zstd_safe::CCtx<'static>,
    body: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    use zstd::zstd_safe::zstd_sys::ZSTD_EndDirective::ZSTD_e_flush;
    use zstd::zstd_safe::{compress_bound, InBuffer, OutBuffer};
    let mut input = InBuffer::around(body);
    out.reserve(compress_bound(body.len()) + 64);
    loop {
        // zstd writes into the spare capacity and sets the length.
        let at = out.len();
        let left = z
            .compress_stream2(
                &mut OutBuffer::around_pos(out, at),
                &mut input,
                ZSTD_e_flush,
            )
            .map_err(zstd_error)?;
        if left == 0 && input.pos() == body.len() {
            return Ok(());
        }
        out.reserve(left.max(1 << 12));
    }
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i32) -> u64 {
    u64::from(((v << 1) ^ (v >> 31)) as u32)
}
