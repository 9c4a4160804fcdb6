//! Which rectangles of the screen changed between two frames, and their
//! pixels as zlib-compressed RGBA.

use std::io::Write;

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

/// The pixels of `r` in `bgra` (of `size`) as RGBA, zlib-compressed at
/// the fastest level.
#[must_use]
pub(super) fn encode_rect(bgra: &[u8], size: Size, r: Rect) -> Vec<u8> {
    let stride = size.width as usize * 4;
    let mut rgba = Vec::with_capacity(r.w as usize * r.h as usize * 4);
    for row in r.y..r.y + r.h {
        let a = row as usize * stride + r.x as usize * 4;
        for p in bgra[a..a + r.w as usize * 4].chunks_exact(4) {
            rgba.extend_from_slice(&[p[2], p[1], p[0], 255]);
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(rgba.len() / 4),
        flate2::Compression::fast(),
    );
    // Writing to a Vec can't fail.
    let _ = z.write_all(&rgba);
    z.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

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
        for r in &rects {
            let z = encode_rect(&new, size, *r);
            let mut rgba = Vec::new();
            flate2::read::ZlibDecoder::new(&z[..])
                .read_to_end(&mut rgba)
                .unwrap();
            assert_eq!(rgba.len(), (r.w * r.h * 4) as usize);
            for row in 0..r.h {
                for col in 0..r.w {
                    let s = ((row * r.w + col) * 4) as usize;
                    let d = (((r.y + row) * 200 + r.x + col) * 4) as usize;
                    shown[d..d + 4].copy_from_slice(&[rgba[s + 2], rgba[s + 1], rgba[s], 255]);
                }
            }
        }
        assert_eq!(shown, new);
        assert!(changed_rects(Some(&new), &new, size).is_empty());
        assert_eq!(changed_rects(None, &new, size).len(), 1);
        assert_eq!(changed_rects(Some(&new[..8]), &new, size).len(), 1);
    }
}
