//! Which rectangles of the screen changed between two frames, and their
//! pixels as PNG pictures (which the page decodes natively, off its main
//! thread).

use g2a_core::Size;

/// The side of the square tiles compared.
pub(super) const TILE: u32 = 64;

/// A rectangle of the screen, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// Left.
    pub x: u32,
    /// Top.
    pub y: u32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

/// The rectangles where `new` differs from `old` (both packed BGRA of
/// `size`): changed 64×64 tiles, merged into runs along each band of
/// tiles. Everything when `old` is `None` or of another length.
#[must_use]
pub fn changed_rects(old: Option<&[u8]>, new: &[u8], size: Size) -> Vec<Rect> {
    let (w, h) = (size.width, size.height);
    let full = vec![Rect { x: 0, y: 0, w, h }];
    let Some(old) = old else {
        return full;
    };
    if old.len() != new.len() || w == 0 || h == 0 {
        return full;
    }
    let stride = w as usize * 4;
    let mut out = Vec::new();
    let mut y = 0;
    while y < h {
        let bh = TILE.min(h - y);
        let mut run: Option<(u32, u32)> = None;
        let mut x = 0;
        while x < w {
            let bw = TILE.min(w - x);
            let changed = (y..y + bh).any(|row| {
                let a = row as usize * stride + x as usize * 4;
                let b = a + bw as usize * 4;
                old[a..b] != new[a..b]
            });
            run = match (changed, run) {
                (true, None) => Some((x, x + bw)),
                (true, Some((s, _))) => Some((s, x + bw)),
                (false, Some((s, e))) => {
                    out.push(Rect {
                        x: s,
                        y,
                        w: e - s,
                        h: bh,
                    });
                    None
                }
                (false, None) => None,
            };
            x += bw;
        }
        if let Some((s, e)) = run {
            out.push(Rect {
                x: s,
                y,
                w: e - s,
                h: bh,
            });
        }
        y += bh;
    }
    out
}

/// The pixels of `r` in `bgra` (of `size`) as the player sends them
/// (docs/SERVE.md): an RGB PNG with the Paeth filter on every row and the
/// `png` crate's fast deflate, which on 1080p desktop screens is ~5× faster
/// than zlib's fastest level on the raw pixels and half the size
/// (docs/BENCHMARKS.md, "Review service"); empty if `r` is not inside the
/// frame.
#[must_use]
pub(super) fn encode_rect(bgra: &[u8], size: Size, r: Rect) -> Vec<u8> {
    crate::content::encode_png_rect(
        bgra,
        size,
        r,
        png::Compression::Fast,
        Some(png::Filter::Paeth),
    )
    .unwrap_or_default()
}

/// Below this many changed pixels the rectangles are encoded on the
/// calling thread.
const PARALLEL_PIXELS: u64 = 256 * 1024;

/// [`encode_rect`] of every rectangle, in order; a large change is split
/// into runs of about equal area encoded on up to `threads` threads (a
/// seek changes the whole screen, and its encoding is most of the time
/// from the click to the new frame on the page).
#[must_use]
pub(super) fn encode_rects(
    bgra: &[u8],
    size: Size,
    rects: &[Rect],
    threads: usize,
) -> Vec<Vec<u8>> {
    let area = |r: &Rect| u64::from(r.w) * u64::from(r.h);
    let total: u64 = rects.iter().map(area).sum();
    let threads = threads.clamp(1, rects.len().max(1));
    if threads == 1 || total < PARALLEL_PIXELS {
        return rects.iter().map(|r| encode_rect(bgra, size, *r)).collect();
    }
    // Contiguous runs of rectangles, each about total / threads pixels.
    let share = total.div_ceil(threads as u64);
    let mut runs: Vec<&[Rect]> = Vec::with_capacity(threads);
    let (mut start, mut acc) = (0, 0);
    for (i, r) in rects.iter().enumerate() {
        acc += area(r);
        if acc >= share && runs.len() + 1 < threads {
            runs.push(&rects[start..=i]);
            start = i + 1;
            acc = 0;
        }
    }
    if start < rects.len() {
        runs.push(&rects[start..]);
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = runs[1..]
            .iter()
            .map(|run| {
                s.spawn(move || {
                    run.iter()
                        .map(|r| encode_rect(bgra, size, *r))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut out: Vec<Vec<u8>> = runs[0]
            .iter()
            .map(|r| encode_rect(bgra, size, *r))
            .collect();
        for (h, run) in handles.into_iter().zip(&runs[1..]) {
            // A panic in an encoder thread is a bug; the page then gets
            // empty pictures for those rectangles rather than no frame.
            out.extend(h.join().unwrap_or_else(|_| vec![Vec::new(); run.len()]));
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::png_rgb;

    fn frame(size: Size, f: impl Fn(u32, u32) -> [u8; 4]) -> Vec<u8> {
        let mut v = Vec::new();
        for y in 0..size.height {
            for x in 0..size.width {
                v.extend_from_slice(&f(x, y));
            }
        }
        v
    }

    #[test]
    fn only_changed_tiles_are_sent_and_they_decode_to_the_new_pixels() {
        let size = Size::new(200, 130);
        let old = frame(size, |x, y| [x as u8, y as u8, 7, 255]);
        let mut new = old.clone();
        // Change pixels in tiles (1,0), (2,0) and (3,2).
        for (x, y) in [(70, 3), (150, 60), (199, 129)] {
            let i = (y * 200 + x) * 4;
            new[i] ^= 0xff;
        }
        let rects = changed_rects(Some(&old), &new, size);
        assert_eq!(
            rects,
            vec![
                Rect {
                    x: 64,
                    y: 0,
                    w: 128,
                    h: 64
                },
                Rect {
                    x: 192,
                    y: 128,
                    w: 8,
                    h: 2
                },
            ]
        );
        // Applying the rects to the old frame gives the new one.
        let mut shown = old.clone();
        for (r, png) in rects.iter().zip(encode_rects(&new, size, &rects, 4)) {
            let (w, h, rgb) = png_rgb(&png);
            assert_eq!((w, h), (r.w, r.h));
            for row in 0..r.h {
                for col in 0..r.w {
                    let s = ((row * r.w + col) * 3) as usize;
                    let d = (((r.y + row) * 200 + r.x + col) * 4) as usize;
                    shown[d..d + 4].copy_from_slice(&[rgb[s + 2], rgb[s + 1], rgb[s], 255]);
                }
            }
        }
        assert_eq!(shown, new);
        assert!(changed_rects(Some(&new), &new, size).is_empty());
        assert_eq!(changed_rects(None, &new, size).len(), 1);
        assert_eq!(changed_rects(Some(&new[..8]), &new, size).len(), 1);
    }

    #[test]
    fn a_large_change_encoded_on_several_threads_equals_the_one_thread_encoding() {
        let size = Size::new(700, 600);
        let new = frame(size, |x, y| {
            [(x * 7 + y) as u8, (x ^ y) as u8, (y * 3) as u8, 255]
        });
        let rects = changed_rects(None, &new, size);
        // Every band of tiles as its own rectangle, as a whole-screen
        // change after a seek arrives.
        let bands: Vec<Rect> = (0..size.height)
            .step_by(TILE as usize)
            .map(|y| Rect {
                x: 0,
                y,
                w: size.width,
                h: TILE.min(size.height - y),
            })
            .collect();
        for rs in [&rects, &bands] {
            let one = encode_rects(&new, size, rs, 1);
            for threads in [2, 3, 16] {
                assert_eq!(
                    encode_rects(&new, size, rs, threads),
                    one,
                    "{threads} threads"
                );
            }
        }
        assert!(encode_rects(&new, size, &[], 4).is_empty());
    }
}
