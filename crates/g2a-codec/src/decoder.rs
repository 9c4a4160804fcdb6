//! The decoder (CODEC.md §2–§6).

use g2a_core::{Limits, Size};

use crate::error::malformed;
use crate::pixel::{predict, put_planes, TILE};
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
                    op::PIXELS => {
                        let n = cw * ch;
                        let planes = res_take(&mut rp, n * 3)?;
                        let (p0, rest) = planes.split_at(n);
                        let (p1, p2) = rest.split_at(n);
                        let mut k = 0;
                        for y in y0..y1 {
                            for x in x0..x1 {
                                let pr = predict(&self.cur, w, x, y);
                                let v = [
                                    p0[k].wrapping_add(pr[0]),
                                    p1[k].wrapping_add(pr[1]),
                                    p2[k].wrapping_add(pr[2]),
                                ];
                                put_planes(&mut self.cur, (y * w + x) * 4, v);
                                k += 1;
                            }
                        }
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
        Ok(())
    }
}

/// A zigzag-coded 32-bit value (CODEC.md §5); `None` beyond 32 bits.
fn unzigzag(v: u64) -> Option<i64> {
    let v = u32::try_from(v).ok()?;
    Some(i64::from(((v >> 1) as i32) ^ -((v & 1) as i32)))
}
