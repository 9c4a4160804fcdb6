//! Keyframes applied while they inflate.

use g2a_core::{FrameRef, Limits, PixelFormat, Size};

use super::Decoder;
use crate::pixel::TILE;
use crate::tests::sample;
use crate::{CodecError, Encoder, EncoderConfig};

const SIZE: Size = Size::new(960, 540);

/// The first frame of a real sample as a keyframe: its inflated body,
/// and the frame that applying the whole body gives.
fn key(name: &str) -> (Vec<u8>, Vec<u8>) {
    let frames = sample(name, SIZE);
    let f = FrameRef::packed(&frames[0].1, SIZE, PixelFormat::Bgra8).unwrap();
    let mut packet = Vec::new();
    let mut enc = Encoder::new(EncoderConfig::default()).unwrap();
    enc.encode(&f, true, &mut packet).unwrap();
    let mut dec = Decoder::new(Limits::default());
    dec.set_threads(1);
    let want = dec.decode(&packet).unwrap().data.to_vec();
    let mut body = Vec::new();
    dec.inflater.packet(&packet, &mut body).unwrap();
    (body, want)
}

/// A decoder of `threads` threads (every packet big enough for them).
fn decoder(threads: usize) -> Decoder {
    let mut d = Decoder::new(Limits::default());
    d.set_threads(threads);
    d.set_min_parallel_work(0);
    d
}

/// Applies `body` as a streamed keyframe, `piece` bytes at a time, then
/// `end` once the pieces run out.
fn streamed(
    d: &mut Decoder,
    body: &[u8],
    piece: usize,
    end: Result<bool, CodecError>,
) -> Result<(), CodecError> {
    let mut pieces = body.chunks(piece);
    let mut end = Some(end);
    let more = |b: &mut Vec<u8>| match pieces.next() {
        Some(p) => {
            b.extend_from_slice(p);
            Ok(true)
        }
        None => end.take().unwrap_or(Ok(false)),
    };
    d.frames
        .apply_key_streamed(SIZE, &mut Vec::new(), more, None)
}

#[test]
fn a_keyframe_applied_piece_by_piece_is_the_keyframe_applied_whole() {
    for name in ["term-960x540-40f.bgra.zst", "desktop-960x540-40f.bgra.zst"] {
        let (body, want) = key(name);
        // Pieces that cut the head, palettes and tiles anywhere.
        for piece in [1, 5, 333, 4096, 65_536, body.len()] {
            for threads in [1, 3] {
                let mut d = decoder(threads);
                streamed(&mut d, &body, piece, Ok(false)).unwrap();
                let got = d.frame().unwrap();
                assert!(
                    got.data == want,
                    "{name}: pieces of {piece}, {threads} threads"
                );
                // The tile cache holds the keyframe's tiles, as after
                // the whole body.
                assert!(d.frames.cache.has(0), "{name}");
            }
        }
    }
}

#[test]
fn rows_are_decoded_before_the_last_piece_comes() {
    // The last 100 bytes never come: the inflating side fails instead.
    // Every tile row but the last (whose data they end) is decoded.
    let (body, want) = key("desktop-960x540-40f.bgra.zst");
    let mut d = decoder(1);
    let cut = Err(CodecError::Zstd("cut".into()));
    let r = streamed(&mut d, &body[..body.len() - 100], 4096, cut);
    assert_eq!(r, Err(CodecError::Zstd("cut".into())));
    let rows = 540 / TILE * TILE * 960 * 4;
    assert!(d.frames.cur[..rows] == want[..rows]);
}

#[test]
fn a_streamed_body_short_or_long_is_an_error() {
    let (body, _) = key("term-960x540-40f.bgra.zst");
    for piece in [7, 4096] {
        let mut d = decoder(2);
        let r = streamed(&mut d, &body[..body.len() - 1], piece, Ok(false));
        assert!(matches!(r, Err(CodecError::Malformed { .. })), "{r:?}");
        let mut long = body.clone();
        long.push(0);
        let r = streamed(&mut d, &long, piece, Ok(false));
        assert!(matches!(r, Err(CodecError::Malformed { .. })), "{r:?}");
        // A head cut short.
        let r = streamed(&mut d, &body[..3], piece, Ok(false));
        assert!(matches!(r, Err(CodecError::Malformed { .. })), "{r:?}");
    }
}
