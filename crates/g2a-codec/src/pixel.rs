//! Pixel helpers shared by the encoder and the decoder: the colour
//! transform and the MED predictor (CODEC.md §4).

/// The tile edge in pixels (CODEC.md §3).
pub(crate) const TILE: usize = 32;

/// B, G, R of a 4-byte pixel at `p` of `buf`, as `(g, r - g, b - g)`.
#[inline(always)]
pub(crate) fn planes(buf: &[u8], p: usize) -> [u8; 3] {
    let (b, g, r) = (buf[p], buf[p + 1], buf[p + 2]);
    [g, r.wrapping_sub(g), b.wrapping_sub(g)]
}

/// Inverse of [`planes`]: writes B, G, R, 255.
#[inline(always)]
#[cfg(test)]
pub(crate) fn put_planes(buf: &mut [u8], p: usize, v: [u8; 3]) {
    let g = v[0];
    buf[p] = v[2].wrapping_add(g);
    buf[p + 1] = g;
    buf[p + 2] = v[1].wrapping_add(g);
    buf[p + 3] = 255;
}

/// LOCO-I's median edge detector: the median of `a`, `b` and `a + b - c`,
/// computed as `a + b - c` clamped to `[min(a, b), max(a, b)]` (the same
/// value as the usual three-way branch, without branches that photographic
/// content mispredicts).
#[inline(always)]
pub(crate) fn med(a: u8, b: u8, c: u8) -> u8 {
    let (a, b, c) = (i16::from(a), i16::from(b), i16::from(c));
    (a + b - c).max(a.min(b)).min(a.max(b)) as u8
}

/// The reference predictor, pixel by pixel (the encoder and decoder use
/// faster planar loops that tests check against it): the prediction of
/// pixel (x, y) from its three neighbours (left, up, up-left) in a packed
/// 4-byte-per-pixel frame of width `w`, with the edge rules of CODEC.md §4.
#[inline(always)]
#[cfg(test)]
pub(crate) fn predict(buf: &[u8], w: usize, x: usize, y: usize) -> [u8; 3] {
    let p = (y * w + x) * 4;
    match (x > 0, y > 0) {
        (true, true) => {
            let a = planes(buf, p - 4);
            let b = planes(buf, p - w * 4);
            let c = planes(buf, p - w * 4 - 4);
            [
                med(a[0], b[0], c[0]),
                med(a[1], b[1], c[1]),
                med(a[2], b[2], c[2]),
            ]
        }
        (true, false) => planes(buf, p - 4),
        (false, true) => planes(buf, p - w * 4),
        (false, false) => [0, 0, 0],
    }
}

/// BGR of a pixel as a u32 (alpha ignored).
#[inline(always)]
pub(crate) fn bgr(buf: &[u8], p: usize) -> u32 {
    u32::from(buf[p]) | u32::from(buf[p + 1]) << 8 | u32::from(buf[p + 2]) << 16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planes_roundtrip() {
        let mut buf = [0u8; 4];
        for v in [[0u8, 0, 0], [255, 1, 2], [10, 200, 30]] {
            let src = [v[0], v[1], v[2], 0];
            let t = planes(&src, 0);
            put_planes(&mut buf, 0, t);
            assert_eq!(&buf[..3], &src[..3]);
            assert_eq!(buf[3], 255);
        }
    }

    #[test]
    fn med_picks_median_edge() {
        assert_eq!(med(10, 20, 5), 20);
        assert_eq!(med(10, 20, 25), 10);
        assert_eq!(med(10, 20, 15), 15);
    }

    #[test]
    fn branchless_med_equals_the_textbook_definition_everywhere() {
        fn textbook(a: u8, b: u8, c: u8) -> u8 {
            let (mx, mn) = if a > b { (a, b) } else { (b, a) };
            if c >= mx {
                mn
            } else if c <= mn {
                mx
            } else {
                (i16::from(a) + i16::from(b) - i16::from(c)) as u8
            }
        }
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                for c in 0..=255u8 {
                    assert_eq!(med(a, b, c), textbook(a, b, c), "{a} {b} {c}");
                }
            }
        }
    }
}
