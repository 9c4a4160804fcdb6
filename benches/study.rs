//! `g2a-study`: what a coding technique would save on a clip, measured
//! before the bitstream changes (issue 21: photographic and moving-picture
//! content).
//!
//! ```text
//! g2a-study CLIP [EVERY] [RADIUS]
//! ```
//!
//! Decodes the clip with ffmpeg and, for every EVERY-th pair of consecutive
//! frames (default 10), takes the 32×32 tiles that changed and that no
//! exact copy from the previous frame explains (what the codec codes as
//! PIXELS or PALETTE today), and codes their residuals four ways:
//!
//! - `spatial`: the codec's MED predictor on the colour-transformed planes
//!   (CODEC.md §4), the residual stream of today's PIXELS tiles;
//! - `temporal`: the previous frame's pixel at the same place;
//! - `motion`: the previous frame's pixels displaced by the integer vector
//!   within RADIUS (default 4) that gives the smallest residuals;
//! - `best`: per tile, whichever of the three has the smallest sum of
//!   absolute residuals (what an encoder choosing per tile would send).
//!
//! Each way's residual stream (per frame, planes tile by tile as the codec
//! lays them out) is measured three ways: zstd level 1 (today's coder),
//! its order-0 entropy, and its entropy with the plane and a context from
//! the neighbours' residuals (an adaptive context-modelled coder's bound).
//! Prints one JSON object.

use std::io::Read;
use std::path::Path;

use serde_json::json;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const TILE: usize = 32;

/// A frame's planes: P0 = G, P1 = R - G, P2 = B - G (mod 256), CODEC.md §4.
fn planes(bgra: &[u8], w: usize, h: usize) -> [Vec<u8>; 3] {
    let mut p = [vec![0; w * h], vec![0; w * h], vec![0; w * h]];
    for (i, px) in bgra.chunks_exact(4).enumerate() {
        let (b, g, r) = (px[0], px[1], px[2]);
        p[0][i] = g;
        p[1][i] = r.wrapping_sub(g);
        p[2][i] = b.wrapping_sub(g);
    }
    p
}

fn med(a: u8, b: u8, c: u8) -> u8 {
    let (lo, hi) = (a.min(b), a.max(b));
    if c >= hi {
        lo
    } else if c <= lo {
        hi
    } else {
        (i16::from(a) + i16::from(b) - i16::from(c)) as u8
    }
}

/// MED prediction of pixel (x, y) of plane `p` (frame coordinates).
fn predict(p: &[u8], w: usize, x: usize, y: usize) -> u8 {
    match (x, y) {
        (0, 0) => 0,
        (_, 0) => p[x - 1],
        (0, _) => p[(y - 1) * w],
        _ => med(p[y * w + x - 1], p[(y - 1) * w + x], p[(y - 1) * w + x - 1]),
    }
}

/// Residual streams of one way of coding, and their sizes.
#[derive(Default)]
struct Way {
    /// This frame's residuals (3 planes per tile, tile by tile).
    stream: Vec<u8>,
    zstd: u64,
    raw: u64,
    /// Counts of residual values: order 0, and by (plane, context).
    order0: Vec<u64>,
    ctx: Vec<u64>,
}

/// Context of a residual from its left and upper neighbours' residuals in
/// the same tile and plane: their magnitudes quantised to 0..=4 each.
fn context(res: &[u8], i: usize, tx: usize) -> usize {
    let q = |v: u8| {
        let m = (v as i8).unsigned_abs();
        match m {
            0 => 0,
            1..=2 => 1,
            3..=6 => 2,
            7..=14 => 3,
            _ => 4,
        }
    };
    let a = if i % tx > 0 { q(res[i - 1]) } else { 0 };
    let b = if i >= tx { q(res[i - tx]) } else { 0 };
    a * 5 + b
}

impl Way {
    fn new() -> Way {
        Way {
            order0: vec![0; 256],
            ctx: vec![0; 3 * 25 * 256],
            ..Way::default()
        }
    }

    /// Adds a tile's residuals: `res[plane]`, `cw` wide.
    fn add_tile(&mut self, res: &[Vec<u8>; 3], cw: usize) {
        for (plane, r) in res.iter().enumerate() {
            for (i, &v) in r.iter().enumerate() {
                self.order0[usize::from(v)] += 1;
                self.ctx[(plane * 25 + context(r, i, cw)) * 256 + usize::from(v)] += 1;
            }
            self.stream.extend_from_slice(r);
        }
    }

    fn end_frame(&mut self) -> Res<()> {
        self.raw += self.stream.len() as u64;
        self.zstd += zstd::bulk::compress(&self.stream, 1)?.len() as u64;
        self.stream.clear();
        Ok(())
    }

    fn report(&self) -> serde_json::Value {
        json!({
            "raw_bytes": self.raw,
            "zstd1_bytes": self.zstd,
            "order0_bytes": (entropy_bits(&self.order0) / 8.0).round(),
            "context_bytes": (self.ctx.chunks(256).map(entropy_bits).sum::<f64>() / 8.0).round(),
        })
    }
}

/// The order-0 entropy of `counts`, in bits in all.
fn entropy_bits(counts: &[u64]) -> f64 {
    let n: u64 = counts.iter().sum();
    if n == 0 {
        return 0.0;
    }
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n as f64;
            -(c as f64) * p.log2()
        })
        .sum()
}

/// The residuals of tile (x0, y0, cw, ch) of `cur` predicted from `prev`
/// displaced by (dx, dy); `None` if the source is outside the frame.
#[allow(clippy::too_many_arguments)]
fn inter(
    cur: &[Vec<u8>; 3],
    prev: &[Vec<u8>; 3],
    w: usize,
    h: usize,
    (x0, y0, cw, ch): (usize, usize, usize, usize),
    (dx, dy): (i64, i64),
    out: &mut [Vec<u8>; 3],
) -> Option<u64> {
    let (sx, sy) = (x0 as i64 + dx, y0 as i64 + dy);
    if sx < 0 || sy < 0 || sx as usize + cw > w || sy as usize + ch > h {
        return None;
    }
    let (sx, sy) = (sx as usize, sy as usize);
    let mut cost = 0u64;
    for p in 0..3 {
        out[p].clear();
        for y in 0..ch {
            for x in 0..cw {
                let v = cur[p][(y0 + y) * w + x0 + x].wrapping_sub(prev[p][(sy + y) * w + sx + x]);
                cost += u64::from((v as i8).unsigned_abs());
                out[p].push(v);
            }
        }
    }
    Some(cost)
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(clip) = args.first() else {
        return Err("usage: g2a-study CLIP [EVERY] [RADIUS]".into());
    };
    let every: usize = args.get(1).map_or(Ok(10), |s| s.parse())?;
    let radius: i64 = args.get(2).map_or(Ok(4), |s| s.parse())?;
    let size = g2a_benches::probe_size(Path::new(clip)).ok_or("ffprobe failed")?;
    let (w, h) = (size.width as usize, size.height as usize);
    let (mut child, mut input) = g2a_benches::bgra_stream(Path::new(clip), None)?;
    let mut ways: Vec<Way> = (0..4).map(|_| Way::new()).collect();
    let (mut frame, mut prev_bgra) = (vec![0u8; w * h * 4], vec![0u8; w * h * 4]);
    let (mut n, mut pairs, mut tiles, mut chosen) = (0usize, 0u64, 0u64, [0u64; 3]);
    let mut scratch: [[Vec<u8>; 3]; 4] = Default::default();
    while input.read_exact(&mut frame).is_ok() {
        n += 1;
        if n > 1 && (n - 1) % every == 0 {
            pairs += 1;
            let cur = planes(&frame, w, h);
            let prev = planes(&prev_bgra, w, h);
            for ty in 0..h.div_ceil(TILE) {
                for tx in 0..w.div_ceil(TILE) {
                    let (x0, y0) = (tx * TILE, ty * TILE);
                    let (cw, ch) = (TILE.min(w - x0), TILE.min(h - y0));
                    let t = (x0, y0, cw, ch);
                    let [s, tm, mo, candidate] = &mut scratch;
                    // Unchanged, or an exact copy: coded without residuals today.
                    let t_cost = inter(&cur, &prev, w, h, t, (0, 0), tm).unwrap_or(u64::MAX);
                    if t_cost == 0 {
                        continue;
                    }
                    let mut best_mv = u64::MAX;
                    for dy in -radius..=radius {
                        for dx in -radius..=radius {
                            if let Some(c) = inter(&cur, &prev, w, h, t, (dx, dy), candidate) {
                                if c < best_mv {
                                    best_mv = c;
                                    std::mem::swap(mo, candidate);
                                }
                            }
                        }
                    }
                    if best_mv == 0 {
                        continue;
                    }
                    tiles += 1;
                    let mut s_cost = 0u64;
                    for p in 0..3 {
                        s[p].clear();
                        for y in y0..y0 + ch {
                            for x in x0..x0 + cw {
                                let v = cur[p][y * w + x].wrapping_sub(predict(&cur[p], w, x, y));
                                s_cost += u64::from((v as i8).unsigned_abs());
                                s[p].push(v);
                            }
                        }
                    }
                    ways[0].add_tile(s, cw);
                    ways[1].add_tile(tm, cw);
                    ways[2].add_tile(mo, cw);
                    let costs = [s_cost, t_cost, best_mv];
                    let pick = (0..3).min_by_key(|&i| costs[i]).unwrap_or(0);
                    chosen[pick] += 1;
                    ways[3].add_tile([&*s, &*tm, &*mo][pick], cw);
                }
            }
            for way in &mut ways {
                way.end_frame()?;
            }
        }
        std::mem::swap(&mut frame, &mut prev_bgra);
    }
    let _ = child.wait();
    let report = json!({
        "clip": clip,
        "size": format!("{w}x{h}"),
        "frames": n,
        "pairs_studied": pairs,
        "residual_tiles": tiles,
        "best_picks": {"spatial": chosen[0], "temporal": chosen[1], "motion": chosen[2]},
        "radius": radius,
        "spatial": ways[0].report(),
        "temporal": ways[1].report(),
        "motion": ways[2].report(),
        "best": ways[3].report(),
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
