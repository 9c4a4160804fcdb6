//! Planning a body's tiles (CODEC.md §3): checking everything a tile could
//! find wrong and where each tile's data starts, so that decoding them,
//! maybe on several threads, can't fail half way.

use super::bitstream::Head;
use super::frames::Frames;
use crate::error::malformed;
use crate::op;
use crate::pixel::TILE;
use crate::CodecError;

/// How far the planning of a body's tiles has got: the palette indices and
/// residual bytes of the tiles planned, and their decoding work.
#[derive(Clone, Copy, Default)]
pub(super) struct Planned {
    pub(super) ip: usize,
    pub(super) rp: usize,
    pub(super) work: usize,
}

/// A tile's decoding work, in the units of the keyframe policy (CODEC.md
/// §8): a predicted pixel 4, a palette pixel 1, a solid, copied or cached
/// pixel 1/4.
pub(super) fn tile_work(code: u8, cw: usize, ch: usize) -> usize {
    match code & 7 {
        op::SOLID | op::COPY | op::CACHE => cw * ch / 4,
        op::PALETTE => cw * ch,
        op::PIXELS => cw * ch * 4,
        _ => 0,
    }
}

/// Where a tile's data starts in the residual and palette-index streams.
#[derive(Clone, Copy, Debug)]
pub(super) struct TilePlan {
    pub(super) res: usize,
    pub(super) idx: usize,
}

impl Frames {
    /// not in `self.plan` yet: where each tile's data starts, after checking
    /// everything a tile could find wrong. With `complete`, the body is
    /// whole: every tile must be planned and every byte used. Otherwise
    /// (a keyframe still arriving, see [`Frames::apply_key_streamed`]),
    /// planning stops, without an error, at the first tile whose residual
    /// bytes haven't all arrived.
    pub(super) fn plan_tiles(
        &mut self,
        body: &[u8],
        head: &Head,
        key: bool,
        planned: &mut Planned,
        complete: bool,
    ) -> Result<(), CodecError> {
        let Some(size) = self.size else {
            return Err(CodecError::NeedKeyframe);
        };
        let (w, h) = (size.width as usize, size.height as usize);
        let tw = w.div_ceil(TILE);
        let ctl = &body[head.ctl.clone()];
        let idx = &body[head.idx.clone()];
        let res = &body[head.res_at..];
        while self.plan.len() < ctl.len() {
            let at = self.plan.len();
            let code = ctl[at];
            let (x0, y0) = (at % tw * TILE, at / tw * TILE);
            let (cw, ch) = (TILE.min(w - x0), TILE.min(h - y0));
            let Planned { ip, rp, .. } = *planned;
            let arrived = res.len() - rp;
            // Whether the tile's next `n` residual bytes are still to come
            // (an error if none will).
            let missing = |n: usize| -> Result<bool, CodecError> {
                match (n > arrived, complete) {
                    (false, _) => Ok(false),
                    (true, false) => Ok(true),
                    (true, true) => Err(malformed(
                        head.res_at + rp,
                        format!("tile data of {n} bytes, only {arrived} present"),
                    )),
                }
            };
            if code & 7 != op::COPY && code >> 3 != 0 {
                return Err(malformed(
                    head.ctl.start + at,
                    format!("tile code {code:#04x}: reserved bits set (only COPY has an index)"),
                ));
            }
            let (n_res, n_idx) = match code & 7 {
                op::SKIP if !key => (0, 0),
                op::SOLID => (3, 0),
                op::COPY if !key => {
                    let i = usize::from(code >> 3);
                    let Some(&(dx, dy)) = head.mvs.get(i) else {
                        return Err(malformed(
                            at,
                            format!("copy uses motion vector {i} of {}", head.mvs.len()),
                        ));
                    };
                    let (sx, sy) = (x0 as i64 + dx, y0 as i64 + dy);
                    if sx < 0 || sy < 0 || sx as usize + cw > w || sy as usize + ch > h {
                        return Err(malformed(
                            at,
                            format!("copy source ({sx},{sy}) outside the {size} frame"),
                        ));
                    }
                    (0, 0)
                }
                op::PALETTE => {
                    if missing(1)? {
                        return Ok(());
                    }
                    let n = usize::from(res[rp]) + 1;
                    if n > 16 {
                        return Err(malformed(
                            head.res_at + rp,
                            format!("palette of {n} colours, at most 16"),
                        ));
                    }
                    if cw * ch > idx.len() - ip {
                        return Err(malformed(at, "palette indices run out"));
                    }
                    let ix = &idx[ip..ip + cw * ch];
                    if let Some(bad) = ix.iter().position(|&i| usize::from(i) >= n) {
                        return Err(malformed(
                            ip + bad,
                            format!("palette index {} of {n} colours", ix[bad]),
                        ));
                    }
                    (1 + n * 3, cw * ch)
                }
                op::CACHE if !key => {
                    if missing(2)? {
                        return Ok(());
                    }
                    let slot = u16::from_le_bytes([res[rp], res[rp + 1]]);
                    if cw == TILE && ch == TILE && self.cache.is_dropped(slot.into()) {
                        return Err(CodecError::TileDropped { slot });
                    }
                    if cw != TILE || ch != TILE || !self.cache.has(slot.into()) {
                        return Err(malformed(
                            at,
                            format!("cache slot {slot} is empty or the tile is not full-size"),
                        ));
                    }
                    (2, 0)
                }
                op::PIXELS => (cw * ch * 3, 0),
                other => {
                    return Err(malformed(
                        at,
                        format!(
                            "tile code {other} not allowed in a {} packet",
                            if key { "key" } else { "delta" }
                        ),
                    ));
                }
            };
            if missing(n_res)? {
                return Ok(());
            }
            self.plan.push(TilePlan { res: rp, idx: ip });
            *planned = Planned {
                ip: ip + n_idx,
                rp: rp + n_res,
                work: planned.work + tile_work(code, cw, ch),
            };
        }
        if complete && (planned.ip != idx.len() || planned.rp != res.len()) {
            return Err(malformed(body.len(), "unused bytes after the last tile"));
        }
        Ok(())
    }
}
