//! The decoder (CODEC.md §2–§6).

use g2a_core::{Limits, Size};

use crate::cache::{cacheable, TileCache};
use crate::error::malformed;
use crate::pixel::{med, planes, put_planes, TILE};
use crate::{op, packet, CodecError};

/// A decoded frame: packed BGRA, alpha 255, `size.width * 4` bytes per row.
#[derive(Debug, Clone, Copy)]
pub struct FrameView<'a> {
    /// Frame size.
    pub size: Size,
    /// The pixels.
    pub data: &'a [u8],
}

/// The screen decoder.
///
/// Call protocol: the first packet, and the first after [`Decoder::reset`]
/// (after a seek), must be a keyframe; then packets in the order they were
/// encoded. Each call returns the whole current frame.
pub struct Decoder {
    limits: Limits,
    size: Option<Size>,
    cur: Vec<u8>,
    prev: Vec<u8>,
    zstd: Option<zstd::stream::raw::Decoder<'static>>,
    body: Vec<u8>,
    dirty: Vec<bool>,
    /// Planar working copy of one tile with its top and left borders.
    tile_planes: Vec<u8>,
    cache: TileCache,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder").field("size", &self.size).finish()
    }
}

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

impl Decoder {
    /// A decoder that accepts frames within `limits`.
    #[must_use]
    pub fn new(limits: Limits) -> Decoder {
        Decoder {
            limits,
            size: None,
            cur: Vec::new(),
            prev: Vec::new(),
            zstd: None,
            body: Vec::new(),
            dirty: Vec::new(),
            tile_planes: Vec::new(),
            cache: TileCache::default(),
        }
    }

    /// Forgets the current frame: the next packet must be a keyframe.
    pub fn reset(&mut self) {
        self.size = None;
        self.zstd = None;
    }

    /// True when `packet` is a keyframe (a cheap peek at its first byte).
    #[must_use]
    pub fn is_keyframe(packet: &[u8]) -> bool {
        packet.first() == Some(&packet::KEY)
    }

    /// True when `packet` repeats the previous frame unchanged.
    #[must_use]
    pub fn is_unchanged(packet: &[u8]) -> bool {
        packet.first() == Some(&packet::UNCHANGED)
    }

    /// The current frame, if any.
    #[must_use]
    pub fn frame(&self) -> Option<FrameView<'_>> {
        self.size.map(|size| FrameView {
            size,
            data: &self.cur,
        })
    }

    /// Decodes one packet and returns the current frame.
    ///
    /// # Errors
    /// [`CodecError::NeedKeyframe`] for a delta with no keyframe before it;
    /// [`CodecError::Malformed`] or [`CodecError::Zstd`] for a damaged
    /// packet; [`CodecError::Limit`] for a size outside the limits. After an
    /// error the decoder needs a keyframe again.
    pub fn decode(&mut self, packet: &[u8]) -> Result<FrameView<'_>, CodecError> {
        match self.decode_inner(packet) {
            Ok(()) => self.frame().ok_or(CodecError::NeedKeyframe),
            Err(e) => {
                self.reset();
                Err(e)
            }
        }
    }

    fn decode_inner(&mut self, packet: &[u8]) -> Result<(), CodecError> {
        let mut c = Cursor { b: packet, pos: 1 };
        match packet.first() {
            Some(&packet::UNCHANGED) => {
                if packet.len() != 1 {
                    return Err(malformed(
                        1,
                        format!("unchanged packet of {} bytes, expected 1", packet.len()),
                    ));
                }
                return if self.size.is_some() {
                    Ok(())
                } else {
                    Err(CodecError::NeedKeyframe)
                };
            }
            Some(&packet::KEY) => {
                let w = c.varint()?;
                let h = c.varint()?;
                let (Ok(w), Ok(h)) = (u32::try_from(w), u32::try_from(h)) else {
                    return Err(malformed(1, format!("frame size {w}x{h} out of range")));
                };
                let size = Size::new(w, h);
                self.limits.check_size(size)?;
                self.limits.check_alloc(size.area() * 8)?;
                let n = (size.area() * 4) as usize;
                self.cur.clear();
                self.cur.resize(n, 0);
                self.prev.clear();
                self.prev.resize(n, 0);
                self.size = Some(size);
                let mut z = zstd::stream::raw::Decoder::new()
                    .map_err(|e| CodecError::Zstd(e.to_string()))?;
                z.set_parameter(zstd::stream::raw::DParameter::WindowLogMax(
                    crate::WINDOW_LOG,
                ))
                .map_err(|e| CodecError::Zstd(e.to_string()))?;
                self.zstd = Some(z);
            }
            Some(&packet::DELTA) => {
                if self.size.is_none() {
                    return Err(CodecError::NeedKeyframe);
                }
            }
            Some(&b) => {
                return Err(malformed(
                    0,
                    format!(
                    "packet type {b:#04x}, expected 0x4b (key), 0x44 (delta) or 0x55 (unchanged)"
                ),
                ))
            }
            None => return Err(malformed(0, "empty packet")),
        }
        let key = packet[0] == packet::KEY;
        let Some(size) = self.size else {
            return Err(CodecError::NeedKeyframe);
        };
        let raw_len = c.varint()?;
        let (w, h) = (size.width as usize, size.height as usize);
        let (tw, th) = (w.div_ceil(TILE), h.div_ceil(TILE));
        // The body can't legitimately exceed this: every tile as PIXELS plus headers.
        let max_body = (w * h * 3 + tw * th * 64 + 4096) as u64;
        if raw_len > max_body {
            return Err(malformed(
                1,
                format!("body of {raw_len} bytes claimed, at most {max_body} possible for {size}"),
            ));
        }
        self.inflate(&packet[c.pos..], raw_len as usize)?;
        let body = std::mem::take(&mut self.body);
        let r = self.apply(&body, key, tw, th);
        self.body = body;
        r
    }

    fn inflate(&mut self, input: &[u8], raw_len: usize) -> Result<(), CodecError> {
        use zstd::stream::raw::{InBuffer, Operation, OutBuffer};
        let Some(z) = self.zstd.as_mut() else {
            return Err(CodecError::NeedKeyframe);
        };
        self.body.clear();
        self.body.resize(raw_len, 0);
        let mut inb = InBuffer::around(input);
        let mut produced = 0;
        let mut spare = [0u8; 1];
        loop {
            let done_in = inb.pos() == input.len();
            let before = (inb.pos(), produced);
            if produced < raw_len {
                let mut out = OutBuffer::around(&mut self.body[produced..]);
                z.run(&mut inb, &mut out)
                    .map_err(|e| CodecError::Zstd(e.to_string()))?;
                let n = out.pos();
                produced += n;
                if n == 0 && done_in {
                    return Err(malformed(
                        0,
                        format!("compressed body ends after {produced} of {raw_len} bytes"),
                    ));
                }
            } else {
                // Everything expected arrived; no more may follow.
                let mut out = OutBuffer::around(&mut spare[..]);
                z.run(&mut inb, &mut out)
                    .map_err(|e| CodecError::Zstd(e.to_string()))?;
                if out.pos() > 0 {
                    return Err(malformed(
                        0,
                        format!("compressed body longer than the {raw_len} bytes announced"),
                    ));
                }
                if inb.pos() == input.len() {
                    return Ok(());
                }
                if done_in {
                    return Ok(());
                }
            }
            // Each turn must consume input or produce output: hostile input
            // can't make this loop spin.
            if (inb.pos(), produced) == before {
                return Err(malformed(
                    inb.pos(),
                    format!("compressed body stalls after {produced} of {raw_len} bytes"),
                ));
            }
        }
    }

    fn apply(&mut self, body: &[u8], key: bool, tw: usize, th: usize) -> Result<(), CodecError> {
        let Some(size) = self.size else {
            return Err(CodecError::NeedKeyframe);
        };
        let (w, h) = (size.width as usize, size.height as usize);
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
            let dx = unzigzag(c.varint()?)
                .ok_or_else(|| malformed(at, "motion vector x beyond 32 bits"))?;
            let at = c.pos;
            let dy = unzigzag(c.varint()?)
                .ok_or_else(|| malformed(at, "motion vector y beyond 32 bits"))?;
            mvs.push((dx, dy));
        }
        let n_ctl = c.varint()?;
        if n_ctl != (tw * th) as u64 {
            return Err(malformed(
                c.pos,
                format!("{n_ctl} tile codes, expected {} for {size}", tw * th),
            ));
        }
        let ctl = c.take(n_ctl, "tile codes")?;
        let n_idx = c.varint()?;
        let idx = c.take(n_idx, "palette indices")?;
        let res = &body[c.pos..];
        let (mut ip, mut rp) = (0usize, 0usize);
        let res_take = |rp: &mut usize, n: usize| -> Result<&[u8], CodecError> {
            if n > res.len() - *rp {
                return Err(malformed(
                    c.pos + *rp,
                    format!("tile data of {n} bytes, only {} present", res.len() - *rp),
                ));
            }
            let s = &res[*rp..*rp + n];
            *rp += n;
            Ok(s)
        };
        self.dirty.clear();
        self.dirty.resize(tw * th, false);
        let rb = w * 4;
        for ty in 0..th {
            for tx in 0..tw {
                let code = ctl[ty * tw + tx];
                let (x0, x1) = (tx * TILE, ((tx + 1) * TILE).min(w));
                let (y0, y1) = (ty * TILE, ((ty + 1) * TILE).min(h));
                let (cw, ch) = (x1 - x0, y1 - y0);
                match code & 7 {
                    op::SKIP if !key => continue,
                    op::SOLID => {
                        let c3 = res_take(&mut rp, 3)?;
                        let px = [c3[0], c3[1], c3[2], 255];
                        for y in y0..y1 {
                            for p in self.cur[y * rb + x0 * 4..y * rb + x1 * 4].chunks_exact_mut(4)
                            {
                                p.copy_from_slice(&px);
                            }
                        }
                    }
                    op::COPY if !key => {
                        let i = usize::from(code >> 3);
                        let Some(&(dx, dy)) = mvs.get(i) else {
                            return Err(malformed(
                                ty * tw + tx,
                                format!("copy uses motion vector {i} of {}", mvs.len()),
                            ));
                        };
                        let (sx, sy) = (x0 as i64 + dx, y0 as i64 + dy);
                        if sx < 0 || sy < 0 || sx as usize + cw > w || sy as usize + ch > h {
                            return Err(malformed(
                                ty * tw + tx,
                                format!("copy source ({sx},{sy}) outside the {size} frame"),
                            ));
                        }
                        let (sx, sy) = (sx as usize, sy as usize);
                        for r in 0..ch {
                            let src =
                                &self.prev[(sy + r) * rb + sx * 4..(sy + r) * rb + (sx + cw) * 4];
                            self.cur[(y0 + r) * rb + x0 * 4..(y0 + r) * rb + x1 * 4]
                                .copy_from_slice(src);
                        }
                    }
                    op::PALETTE => {
                        let n = usize::from(res_take(&mut rp, 1)?[0]) + 1;
                        if n > 16 {
                            return Err(malformed(
                                c.pos + rp,
                                format!("palette of {n} colours, at most 16"),
                            ));
                        }
                        let cols = res_take(&mut rp, n * 3)?;
                        if cw * ch > idx.len() - ip {
                            return Err(malformed(ty * tw + tx, "palette indices run out"));
                        }
                        for y in y0..y1 {
                            for x in x0..x1 {
                                let i = usize::from(idx[ip]);
                                ip += 1;
                                if i >= n {
                                    return Err(malformed(
                                        ip,
                                        format!("palette index {i} of {n} colours"),
                                    ));
                                }
                                let p = y * rb + x * 4;
                                self.cur[p..p + 3].copy_from_slice(&cols[i * 3..i * 3 + 3]);
                                self.cur[p + 3] = 255;
                            }
                        }
                    }
                    op::CACHE if !key => {
                        let b = res_take(&mut rp, 2)?;
                        let slot = usize::from(u16::from_le_bytes([b[0], b[1]]));
                        if cw != TILE
                            || ch != TILE
                            || !self.cache.put(slot, &mut self.cur, w, x0, y0)
                        {
                            return Err(malformed(
                                ty * tw + tx,
                                format!("cache slot {slot} is empty or the tile is not full-size"),
                            ));
                        }
                    }
                    op::PIXELS => {
                        let planes = res_take(&mut rp, cw * ch * 3)?;
                        let t = TileRect { x0, y0, cw, ch };
                        decode_pixels_tile(&mut self.cur, &mut self.tile_planes, w, t, planes);
                    }
                    other => {
                        return Err(malformed(
                            ty * tw + tx,
                            format!(
                                "tile code {other} not allowed in a {} packet",
                                if key { "key" } else { "delta" }
                            ),
                        ));
                    }
                }
                self.dirty[ty * tw + tx] = true;
            }
        }
        if ip != idx.len() || rp != res.len() {
            return Err(malformed(body.len(), "unused bytes after the last tile"));
        }
        // The previous frame becomes this one, tile by tile.
        if key {
            self.prev.copy_from_slice(&self.cur);
            self.cache.reset();
        } else {
            for ty in 0..th {
                for tx in 0..tw {
                    if self.dirty[ty * tw + tx] {
                        let (x0, x1) = (tx * TILE, ((tx + 1) * TILE).min(w));
                        for y in ty * TILE..((ty + 1) * TILE).min(h) {
                            let s = y * rb + x0 * 4..y * rb + x1 * 4;
                            self.prev[s.clone()].copy_from_slice(&self.cur[s]);
                        }
                    }
                }
            }
        }
        // New content goes into the tile cache (CODEC.md §3.1).
        for ty in 0..th {
            for tx in 0..tw {
                let (cw, ch) = (TILE.min(w - tx * TILE), TILE.min(h - ty * TILE));
                if cacheable(ctl[ty * tw + tx], cw, ch) {
                    self.cache.insert(&self.prev, w, tx * TILE, ty * TILE);
                }
            }
        }
        Ok(())
    }
}

/// A tile's place in the frame.
#[derive(Clone, Copy)]
struct TileRect {
    x0: usize,
    y0: usize,
    cw: usize,
    ch: usize,
}

/// Decodes a PIXELS tile (CODEC.md §4): the residuals of the three planes
/// (`g`, `r - g`, `b - g`, each `cw * ch` bytes in raster order) plus the
/// MED prediction from the already decoded pixels to the left and above.
///
/// Works on a planar copy of the tile with a one-pixel border (the row above
/// and the column to the left, from the frame), so each plane is one tight
/// loop over bytes, then writes the pixels back in BGRA.
fn decode_pixels_tile(cur: &mut [u8], work: &mut Vec<u8>, w: usize, t: TileRect, res: &[u8]) {
    let TileRect { x0, y0, cw, ch } = t;
    let sw = cw + 1;
    let plane_len = sw * (ch + 1);
    work.clear();
    work.resize(plane_len * 3, 0);
    // Borders from the frame (zero where the frame has none: never read then).
    if y0 > 0 {
        let first = if x0 > 0 { x0 - 1 } else { x0 };
        for gx in first..x0 + cw {
            let v = planes(cur, ((y0 - 1) * w + gx) * 4);
            let i = gx + 1 - x0;
            for k in 0..3 {
                work[k * plane_len + i] = v[k];
            }
        }
    }
    if x0 > 0 {
        for y in 0..ch {
            let v = planes(cur, ((y0 + y) * w + x0 - 1) * 4);
            for k in 0..3 {
                work[k * plane_len + (y + 1) * sw] = v[k];
            }
        }
    }
    let n = cw * ch;
    let (p0, rest) = work.split_at_mut(plane_len);
    let (p1, p2) = rest.split_at_mut(plane_len);
    let (r0, r1, r2) = (&res[..n], &res[n..2 * n], &res[2 * n..3 * n]);
    for y in 0..ch {
        let gy = y0 + y;
        let (a0, h0) = p0.split_at_mut((y + 1) * sw);
        let (a1, h1) = p1.split_at_mut((y + 1) * sw);
        let (a2, h2) = p2.split_at_mut((y + 1) * sw);
        let (a0, a1, a2) = (&a0[y * sw..], &a1[y * sw..], &a2[y * sw..]);
        let (h0, h1, h2) = (&mut h0[..sw], &mut h1[..sw], &mut h2[..sw]);
        let rs = y * cw..(y + 1) * cw;
        let (q0, q1, q2) = (&r0[rs.clone()], &r1[rs.clone()], &r2[rs]);
        if gy == 0 {
            // Top row of the frame: predict from the left (0 at x = 0).
            let (mut l0, mut l1, mut l2) = if x0 > 0 {
                (h0[0], h1[0], h2[0])
            } else {
                (0, 0, 0)
            };
            for x in 0..cw {
                l0 = q0[x].wrapping_add(l0);
                l1 = q1[x].wrapping_add(l1);
                l2 = q2[x].wrapping_add(l2);
                h0[x + 1] = l0;
                h1[x + 1] = l1;
                h2[x + 1] = l2;
            }
            continue;
        }
        let mut x = 0;
        if x0 == 0 {
            // Left edge of the frame: predict from above.
            h0[1] = q0[0].wrapping_add(a0[1]);
            h1[1] = q1[0].wrapping_add(a1[1]);
            h2[1] = q2[0].wrapping_add(a2[1]);
            x = 1;
        }
        // The three planes are independent dependency chains (each pixel
        // waits on its left neighbour): running them side by side lets the
        // CPU overlap them. Iterators keep the loop free of bounds checks.
        let (mut l0, mut l1, mut l2) = (h0[x], h1[x], h2[x]);
        let dst = h0[x + 1..=cw]
            .iter_mut()
            .zip(h1[x + 1..=cw].iter_mut())
            .zip(h2[x + 1..=cw].iter_mut());
        let res = q0[x..cw].iter().zip(&q1[x..cw]).zip(&q2[x..cw]);
        let up = a0[x..=cw]
            .windows(2)
            .zip(a1[x..=cw].windows(2))
            .zip(a2[x..=cw].windows(2));
        for (((d0, d1), d2), (((&e0, &e1), &e2), ((u0, u1), u2))) in dst.zip(res.zip(up)) {
            l0 = e0.wrapping_add(med(l0, u0[1], u0[0]));
            l1 = e1.wrapping_add(med(l1, u1[1], u1[0]));
            l2 = e2.wrapping_add(med(l2, u2[1], u2[0]));
            *d0 = l0;
            *d1 = l1;
            *d2 = l2;
        }
    }
    for y in 0..ch {
        let row = ((y0 + y) * w + x0) * 4;
        for x in 0..cw {
            let i = (y + 1) * sw + x + 1;
            let v = [work[i], work[plane_len + i], work[2 * plane_len + i]];
            put_planes(cur, row + x * 4, v);
        }
    }
}

/// A zigzag-coded 32-bit value (CODEC.md §5); `None` beyond 32 bits.
fn unzigzag(v: u64) -> Option<i64> {
    let v = u32::try_from(v).ok()?;
    Some(i64::from(((v >> 1) as i32) ^ -((v & 1) as i32)))
}
