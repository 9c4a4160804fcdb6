//! The PIXELS tile: colour transform and MED predictor (CODEC.md §4).

use crate::pixel::{med, planes};

/// A tile's place in its tile row.
#[derive(Clone, Copy)]
pub(super) struct TileRect {
    pub(super) x0: usize,
    pub(super) cw: usize,
    pub(super) ch: usize,
}

/// Decodes a PIXELS tile (CODEC.md §4): the residuals of the three planes
/// (`g`, `r - g`, `b - g`, each `cw * ch` bytes in raster order) plus the
/// MED prediction from the already decoded pixels to the left and above.
///
/// `rows` are the tile row's pixel rows of the frame (width `w`); `top` the
/// pixels of the frame row above the tile, from column `x0 - 1` (`x0` at the
/// left edge) to the tile's right end, `None` at the top of the frame.
/// Works on a copy of the tile in plane values with a one-pixel border (the
/// row above and the column to the left), 4 bytes a pixel (the three planes
/// and a zero), so that a row is one loop of [`med_row`] with the three
/// planes side by side; then writes the pixels back in BGRA.
pub(super) fn decode_pixels_tile(
    rows: &mut [u8],
    work: &mut Vec<u8>,
    w: usize,
    t: TileRect,
    top: Option<&[u8]>,
    res: &[u8],
) {
    let TileRect { x0, cw, ch } = t;
    let sw = (cw + 1) * 4;
    work.clear();
    work.resize(sw * (ch + 1), 0);
    // Borders from the frame (zero where the frame has none: never read then,
    // except the left neighbour of the frame's top-left pixel, which is 0).
    if let Some(top) = top {
        let first = x0.saturating_sub(1);
        for gx in first..x0 + cw {
            let i = (gx + 1 - x0) * 4;
            work[i..i + 3].copy_from_slice(&planes(top, (gx - first) * 4));
        }
    }
    if x0 > 0 {
        for y in 0..ch {
            let i = (y + 1) * sw;
            work[i..i + 3].copy_from_slice(&planes(rows, (y * w + x0 - 1) * 4));
        }
    }
    let n = cw * ch;
    let q = |y: usize| {
        let rs = y * cw..(y + 1) * cw;
        [
            &res[rs.clone()],
            &res[n + rs.start..n + rs.end],
            &res[2 * n + rs.start..2 * n + rs.end],
        ]
    };
    let mut y = 0;
    while y < ch {
        // Rows y (and y + 1 when there is one) of the tile: work rows
        // y + 1 (and y + 2) below work row y.
        let pair = y + 1 < ch && !(y == 0 && top.is_none());
        let (above, below) = work.split_at_mut((y + 1) * sw);
        let up = &above[y * sw..];
        if y == 0 && top.is_none() {
            // Top row of the frame: predict from the left (0 at x = 0).
            let cur = &mut below[..sw];
            let q = q(0);
            let mut l = [cur[0], cur[1], cur[2]];
            let res = q[0].iter().zip(q[1]).zip(q[2]);
            for (d, ((&e0, &e1), &e2)) in cur[4..].chunks_exact_mut(4).zip(res) {
                l = [
                    e0.wrapping_add(l[0]),
                    e1.wrapping_add(l[1]),
                    e2.wrapping_add(l[2]),
                ];
                d[..3].copy_from_slice(&l);
            }
        } else if pair {
            let (cur, next) = below[..2 * sw].split_at_mut(sw);
            let (qa, qb) = (q(y), q(y + 1));
            let start = left_edge(x0, up, cur, qa);
            left_edge(x0, cur, next, qb);
            med_rows2(up, cur, next, qa, qb, start);
        } else {
            let cur = &mut below[..sw];
            let q = q(y);
            let start = left_edge(x0, up, cur, q);
            med_row(up, cur, q, start);
        }
        // Back to BGRA (the inverse of `planes`).
        let done = if pair { 2 } else { 1 };
        for r in y..y + done {
            let row = (r * w + x0) * 4;
            let v = &work[(r + 1) * sw + 4..(r + 2) * sw];
            for (px, v) in rows[row..row + cw * 4]
                .chunks_exact_mut(4)
                .zip(v.chunks_exact(4))
            {
                px.copy_from_slice(&[v[2].wrapping_add(v[0]), v[0], v[1].wrapping_add(v[0]), 255]);
            }
        }
        y += done;
    }
}

/// At the frame's left edge (`x0 == 0`) a row's first pixel is predicted
/// from the pixel above; returns the pixel where MED prediction starts.
pub(super) fn left_edge(x0: usize, up: &[u8], cur: &mut [u8], q: [&[u8]; 3]) -> usize {
    if x0 != 0 {
        return 0;
    }
    for k in 0..3 {
        cur[4 + k] = q[k][0].wrapping_add(up[4 + k]);
    }
    1
}

/// [`med_row`] for two rows at once: `cur` below `up`, `next` below `cur`,
/// with residuals `qa` and `qb`. The SIMD version runs the second row one
/// pixel behind the first in the same registers, so the two dependency
/// chains overlap.
pub(super) fn med_rows2(
    up: &[u8],
    cur: &mut [u8],
    next: &mut [u8],
    qa: [&[u8]; 3],
    qb: [&[u8]; 3],
    start: usize,
) {
    #[cfg(target_arch = "x86_64")]
    {
        simd::med_rows2(up, cur, next, qa, qb, start);
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        med_row_scalar(up, cur, qa, start);
        med_row_scalar(cur, next, qb, start);
    }
}

/// MED reconstruction of the pixels `start..` of one tile row, in the
/// 4-bytes-a-pixel plane layout of [`decode_pixels_tile`]: `up` is the row
/// above and `cur` this row, both from the column left of the tile (the
/// left neighbour of pixel `x` is at `x * 4`, the pixel itself at
/// `(x + 1) * 4`); `q` the three planes' residuals of the row.
pub(super) fn med_row(up: &[u8], cur: &mut [u8], q: [&[u8]; 3], start: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        simd::med_row(up, cur, q, start);
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        med_row_scalar(up, cur, q, start);
    }
}

/// [`med_row`] one plane value at a time: the reference that the SIMD
/// version is tested against, and the version of other architectures. The
/// three planes are independent dependency chains (each pixel waits on its
/// left neighbour), run side by side.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub(super) fn med_row_scalar(up: &[u8], cur: &mut [u8], q: [&[u8]; 3], start: usize) {
    let cw = q[0].len();
    let mut l = [cur[start * 4], cur[start * 4 + 1], cur[start * 4 + 2]];
    let dst = cur[(start + 1) * 4..(cw + 1) * 4].chunks_exact_mut(4);
    let above = up[start * 4..cw * 4]
        .chunks_exact(4)
        .zip(up[(start + 1) * 4..(cw + 1) * 4].chunks_exact(4));
    let res = q[0][start..].iter().zip(&q[1][start..]).zip(&q[2][start..]);
    for ((d, (c, b)), ((&e0, &e1), &e2)) in dst.zip(above).zip(res) {
        l = [
            e0.wrapping_add(med(l[0], b[0], c[0])),
            e1.wrapping_add(med(l[1], b[1], c[1])),
            e2.wrapping_add(med(l[2], b[2], c[2])),
        ];
        d[..3].copy_from_slice(&l);
    }
}

/// The SSE2 version of [`med_row`]: one pixel's three planes in the 16-bit
/// lanes of one register, so the chain from a pixel to the next is six
/// vector instructions for all three planes.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod simd {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi16, _mm_and_si128, _mm_cvtsi128_si32, _mm_cvtsi128_si64,
        _mm_cvtsi64_si128, _mm_max_epi16, _mm_min_epi16, _mm_packus_epi16, _mm_set1_epi16,
        _mm_setzero_si128, _mm_sub_epi16, _mm_unpacklo_epi64, _mm_unpacklo_epi8,
    };

    /// See [`super::med_row`].
    pub(super) fn med_row(up: &[u8], cur: &mut [u8], q: [&[u8]; 3], start: usize) {
        // SAFETY: `med_row_sse2` needs SSE2, which every x86_64 CPU has (it
        // is part of the architecture's baseline, enabled for every x86_64
        // target). The function only uses slices and register intrinsics.
        unsafe { med_row_sse2(up, cur, q, start) }
    }

    /// Four bytes as 16-bit lanes (the upper four lanes zero).
    #[target_feature(enable = "sse2")]
    fn widen([b0, b1, b2, b3]: [u8; 4]) -> __m128i {
        widen8([b0, b1, b2, b3, 0, 0, 0, 0])
    }

    #[target_feature(enable = "sse2")]
    fn med_row_sse2(up: &[u8], cur: &mut [u8], q: [&[u8]; 3], start: usize) {
        let cw = q[0].len();
        let px = |b: &[u8]| [b[0], b[1], b[2], b[3]];
        let mut a = widen(px(&cur[start * 4..]));
        let mut c = widen(px(&up[start * 4..]));
        let dst = cur[(start + 1) * 4..(cw + 1) * 4].chunks_exact_mut(4);
        let above = up[(start + 1) * 4..(cw + 1) * 4].chunks_exact(4);
        let res = q[0][start..].iter().zip(&q[1][start..]).zip(&q[2][start..]);
        for ((d, b), ((&e0, &e1), &e2)) in dst.zip(above).zip(res) {
            let b = widen(px(b));
            a = step(a, b, c, widen([e0, e1, e2, 0]));
            d.copy_from_slice(&_mm_cvtsi128_si32(_mm_packus_epi16(a, a)).to_le_bytes());
            c = b;
        }
    }

    /// See [`super::med_rows2`].
    pub(super) fn med_rows2(
        up: &[u8],
        cur: &mut [u8],
        next: &mut [u8],
        qa: [&[u8]; 3],
        qb: [&[u8]; 3],
        start: usize,
    ) {
        // SAFETY: as in `med_row`: SSE2 is in every x86_64 CPU.
        unsafe { med_rows2_sse2(up, cur, next, qa, qb, start) }
    }

    /// One MED step for the 8 lanes of `a` (left), `b` (above), `c`
    /// (above left): `a + b - c` clamped to `[min(a, b), max(a, b)]`, plus
    /// the residuals `e`, modulo 256.
    #[target_feature(enable = "sse2")]
    fn step(a: __m128i, b: __m128i, c: __m128i, e: __m128i) -> __m128i {
        let lo = _mm_min_epi16(a, b);
        let hi = _mm_max_epi16(a, b);
        let grad = _mm_add_epi16(a, _mm_sub_epi16(b, c));
        let pred = _mm_min_epi16(_mm_max_epi16(grad, lo), hi);
        _mm_and_si128(_mm_add_epi16(pred, e), _mm_set1_epi16(0xFF))
    }

    /// Eight bytes as 16-bit lanes.
    #[target_feature(enable = "sse2")]
    fn widen8(b: [u8; 8]) -> __m128i {
        _mm_unpacklo_epi8(
            _mm_cvtsi64_si128(i64::from_le_bytes(b)),
            _mm_setzero_si128(),
        )
    }

    /// Lanes 0–3 hold a pixel of `cur` (pixel x), lanes 4–7 one of `next`
    /// (pixel x - 1, whose neighbours above are `cur`'s pixels x - 2 and
    /// x - 1, both done by then). The above-left vector of a step is the
    /// above vector of the step before.
    #[target_feature(enable = "sse2")]
    fn med_rows2_sse2(
        up: &[u8],
        cur: &mut [u8],
        next: &mut [u8],
        qa: [&[u8]; 3],
        qb: [&[u8]; 3],
        start: usize,
    ) {
        let cw = qa[0].len();
        if start >= cw {
            // A one-pixel-wide tile at the frame's left edge: done already.
            return;
        }
        let px = |b: &[u8]| [b[0], b[1], b[2], b[3]];
        // First step: `cur`'s pixel `start` alone (lanes 4–7 unused).
        let a0 = widen(px(&cur[start * 4..]));
        let c0 = widen(px(&up[start * 4..]));
        let b0 = widen(px(&up[(start + 1) * 4..]));
        let e0 = widen([qa[0][start], qa[1][start], qa[2][start], 0]);
        let first = step(a0, b0, c0, e0);
        let d = &mut cur[(start + 1) * 4..(start + 2) * 4];
        d.copy_from_slice(&_mm_cvtsi128_si32(_mm_packus_epi16(first, first)).to_le_bytes());
        // Lanes: `cur`'s pixel `start`, `next`'s left neighbour of `start`.
        let mut a = _mm_unpacklo_epi64(first, widen(px(&next[start * 4..])));
        // Above-left of the next step: `up`'s pixel `start` and `cur`'s
        // left neighbour of `start`.
        let mut c = _mm_unpacklo_epi64(b0, a0);
        let dst_a = cur[(start + 2) * 4..(cw + 1) * 4].chunks_exact_mut(4);
        let dst_b = next[(start + 1) * 4..cw * 4].chunks_exact_mut(4);
        let above = up[(start + 2) * 4..(cw + 1) * 4].chunks_exact(4);
        let res_a = qa[0][start + 1..]
            .iter()
            .zip(&qa[1][start + 1..])
            .zip(&qa[2][start + 1..]);
        let res_b = qb[0][start..]
            .iter()
            .zip(&qb[1][start..])
            .zip(&qb[2][start..]);
        for (((da, db), u), (((&ea0, &ea1), &ea2), ((&eb0, &eb1), &eb2))) in
            dst_a.zip(dst_b).zip(above).zip(res_a.zip(res_b))
        {
            let b = _mm_unpacklo_epi64(widen(px(u)), a);
            let e = widen8([ea0, ea1, ea2, 0, eb0, eb1, eb2, 0]);
            a = step(a, b, c, e);
            let out = _mm_cvtsi128_si64(_mm_packus_epi16(a, a)).to_le_bytes();
            da.copy_from_slice(&out[..4]);
            db.copy_from_slice(&out[4..]);
            c = b;
        }
        // Last step: `next`'s last pixel alone (lanes 0–3 unused).
        let last = cw - 1;
        let b = _mm_unpacklo_epi64(a, a);
        let e = widen8([0, 0, 0, 0, qb[0][last], qb[1][last], qb[2][last], 0]);
        let a = step(a, b, c, e);
        let out = _mm_cvtsi128_si64(_mm_packus_epi16(a, a)).to_le_bytes();
        next[cw * 4..(cw + 1) * 4].copy_from_slice(&out[4..]);
    }
}

#[cfg(test)]
mod med_row_tests {
    use super::*;
    use proptest::prelude::*;

    /// A tile row in the 4-bytes-a-pixel layout: plane values and a zero.
    fn layout(px: &[[u8; 3]]) -> Vec<u8> {
        px.iter().flat_map(|p| [p[0], p[1], p[2], 0]).collect()
    }

    proptest! {
        /// The SIMD row decoder gives the scalar reference's bytes, for every
        /// width and both starts (the frame's left edge starts at 1).
        #[test]
        fn med_row_matches_the_scalar_reference(
            (up, cur, q) in (1usize..70).prop_flat_map(|cw| (
                prop::collection::vec(any::<[u8; 3]>(), cw + 1),
                prop::collection::vec(any::<[u8; 3]>(), cw + 1),
                prop::collection::vec(any::<u8>(), cw * 3),
            )),
            start in 0usize..2,
        ) {
            let cw = up.len() - 1;
            let (up, cur) = (layout(&up), layout(&cur));
            let q = [&q[..cw], &q[cw..2 * cw], &q[2 * cw..]];
            let mut want = cur.clone();
            med_row_scalar(&up, &mut want, q, start);
            let mut got = cur.clone();
            med_row(&up, &mut got, q, start);
            prop_assert_eq!(got, want);
        }
    }

    proptest! {
        /// The two-row SIMD decoder gives the bytes of the scalar reference
        /// run on one row and then the next.
        #[test]
        fn med_rows2_matches_two_scalar_rows(
            (up, cur, next, qa, qb) in (1usize..70).prop_flat_map(|cw| (
                prop::collection::vec(any::<[u8; 3]>(), cw + 1),
                prop::collection::vec(any::<[u8; 3]>(), cw + 1),
                prop::collection::vec(any::<[u8; 3]>(), cw + 1),
                prop::collection::vec(any::<u8>(), cw * 3),
                prop::collection::vec(any::<u8>(), cw * 3),
            )),
            start in 0usize..2,
        ) {
            let cw = up.len() - 1;
            let (up, cur, next) = (layout(&up), layout(&cur), layout(&next));
            let qa = [&qa[..cw], &qa[cw..2 * cw], &qa[2 * cw..]];
            let qb = [&qb[..cw], &qb[cw..2 * cw], &qb[2 * cw..]];
            let (mut want_a, mut want_b) = (cur.clone(), next.clone());
            med_row_scalar(&up, &mut want_a, qa, start);
            med_row_scalar(&want_a, &mut want_b, qb, start);
            let (mut got_a, mut got_b) = (cur.clone(), next.clone());
            med_rows2(&up, &mut got_a, &mut got_b, qa, qb, start);
            prop_assert_eq!(got_a, want_a);
            prop_assert_eq!(got_b, want_b);
        }
    }

    #[test]
    fn med_row_scalar_is_the_reference_predictor() {
        // One row by hand: left 10, above-left 20, above 30 gives
        // med(10, 30, 20) = 20; plus residual 5.
        let up = layout(&[[20, 0, 255], [30, 0, 0]]);
        let mut cur = layout(&[[10, 255, 1], [0, 0, 0]]);
        med_row_scalar(&up, &mut cur, [&[5], &[1], &[0]], 0);
        assert_eq!(
            &cur[4..7],
            &[
                5 + med(10, 30, 20),
                1u8.wrapping_add(med(255, 0, 0)),
                med(1, 0, 255)
            ]
        );
    }
}
