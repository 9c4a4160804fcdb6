//! Round trips on real samples and property tests.

use g2a_core::{FrameRef, Limits, PixelFormat, Size};
use proptest::prelude::*;

use crate::*;

/// Frames of a test: size and BGRA pixels.
pub(crate) type Frames = Vec<(Size, Vec<u8>)>;
/// Encoded packets: kind and bytes.
type Packets = Vec<(EncodedKind, Vec<u8>)>;

/// A decoder on one thread, and one that decodes every packet's tiles on
/// three threads (the wavefront of `decode_rows_parallel`).
pub(crate) fn decoders() -> (Decoder, Decoder) {
    let mut serial = Decoder::new(Limits::default());
    serial.set_threads(1);
    let mut parallel = Decoder::new(Limits::default());
    parallel.set_threads(3);
    parallel.set_min_parallel_work(0);
    (serial, parallel)
}

/// Decodes `pkt` with both decoders; they must agree byte for byte.
pub(crate) fn decode_both<'a>(
    (serial, parallel): &'a mut (Decoder, Decoder),
    pkt: &[u8],
) -> FrameView<'a> {
    let p = parallel.decode(pkt).unwrap();
    let s = serial.decode(pkt).unwrap();
    assert_eq!(s.size, p.size);
    assert!(s.data == p.data, "parallel decoding differs from serial");
    s
}

fn roundtrip(frames: &[(Size, Vec<u8>)], cfg: EncoderConfig) -> Vec<EncodedKind> {
    let mut enc = Encoder::new(cfg).unwrap();
    let mut dec = decoders();
    let mut pkt = Vec::new();
    let mut kinds = Vec::new();
    for (i, (size, px)) in frames.iter().enumerate() {
        let f = FrameRef::packed(px, *size, PixelFormat::Bgrx8).unwrap();
        kinds.push(enc.encode(&f, false, &mut pkt).unwrap());
        let out = decode_both(&mut dec, &pkt);
        assert_eq!(out.size, *size);
        for (j, (a, b)) in out.data.chunks_exact(4).zip(px.chunks_exact(4)).enumerate() {
            assert_eq!(&a[..3], &b[..3], "frame {i} pixel {j}");
            assert_eq!(a[3], 255);
        }
    }
    kinds
}

/// Noise bytes from a xorshift32 generator seeded with `seed` (incompressible
/// and without repeats: every tile of a noise frame is a PIXELS tile).
fn noise(seed: u32) -> impl FnMut() -> u8 {
    let mut x = seed;
    move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x as u8
    }
}

/// Loads a zstd-compressed raw BGRA sample from testdata.
pub(crate) fn sample(name: &str, size: Size) -> Frames {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(name);
    let raw = zstd::decode_all(std::fs::File::open(path).unwrap()).unwrap();
    raw.chunks_exact(size.area() as usize * 4)
        .map(|c| (size, c.to_vec()))
        .collect()
}

#[test]
fn real_terminal_sample_is_lossless() {
    let frames = sample("term-960x540-40f.bgra.zst", Size::new(960, 540));
    let kinds = roundtrip(&frames, EncoderConfig::default());
    assert_eq!(kinds[0], EncodedKind::Key);
    // identical consecutive frames are coded as unchanged
    for i in 1..frames.len() {
        assert_eq!(
            frames[i].1 == frames[i - 1].1,
            kinds[i] == EncodedKind::Unchanged,
            "frame {i}"
        );
    }
}

#[test]
fn real_desktop_sample_is_lossless_and_uses_copies() {
    let frames = sample("desktop-960x540-40f.bgra.zst", Size::new(960, 540));
    let mut enc = Encoder::new(EncoderConfig::default()).unwrap();
    let mut dec = decoders();
    let mut pkt = Vec::new();
    for (size, px) in &frames {
        let f = FrameRef::packed(px, *size, PixelFormat::Bgra8).unwrap();
        enc.encode(&f, false, &mut pkt).unwrap();
        let out = decode_both(&mut dec, &pkt);
        assert!(out
            .data
            .chunks_exact(4)
            .zip(px.chunks_exact(4))
            .all(|(a, b)| a[..3] == b[..3]));
    }
    // the dragged window is found and copied rather than re-sent
    assert!(enc.stats().copy_tiles > 100, "{:?}", enc.stats());
}

#[test]
fn keyframe_policy_bounds_deltas_and_ignores_idle() {
    let frames = sample("term-960x540-40f.bgra.zst", Size::new(960, 540));
    let cfg = EncoderConfig::default().keyframes(KeyframePolicy {
        max_delta_bytes: 20_000,
        key_ratio: 0,
        max_delta_work_percent: 0,
        max_frames: None,
    });
    let kinds = roundtrip(&frames, cfg);
    assert!(kinds.iter().filter(|&&k| k == EncodedKind::Key).count() >= 2);
    // an idle screen never triggers a keyframe
    let still = vec![frames[0].clone(); 200];
    let kinds = roundtrip(
        &still,
        EncoderConfig::default().keyframes(KeyframePolicy {
            max_delta_bytes: 100,
            key_ratio: 0,
            max_delta_work_percent: 0,
            max_frames: None,
        }),
    );
    assert_eq!(
        kinds.iter().filter(|&&k| k == EncodedKind::Key).count(),
        1,
        "only the initial keyframe, however long the screen stays idle"
    );
    assert!(kinds[1..].iter().all(|&k| k == EncodedKind::Unchanged));
}

#[test]
fn a_delta_that_would_exhaust_the_work_budget_is_the_next_keyframe() {
    // A terminal session, then a whole new screen (every pixel changed,
    // photographic: the most expensive delta there is), then the terminal
    // again. With a budget of two frames' work, the new screen would take
    // its group past the budget: it becomes the keyframe, so a seek to it
    // (or to the end of the group before) never decodes it as a delta.
    let mut frames = sample("term-960x540-40f.bgra.zst", Size::new(960, 540));
    frames.truncate(12);
    let size = frames[0].0;
    let mut byte = noise(0x9E37_79B9);
    frames.insert(6, (size, (0..size.area() * 4).map(|_| byte()).collect()));
    // Only the work rule (the byte rules out of reach).
    let work_only = |percent| {
        EncoderConfig::default().keyframes(KeyframePolicy {
            max_delta_bytes: u64::MAX / 8,
            key_ratio: 0,
            max_delta_work_percent: percent,
            max_frames: None,
        })
    };
    let kinds = roundtrip(&frames, work_only(200));
    assert_eq!(kinds[6], EncodedKind::Key, "{kinds:?}");
    assert_ne!(kinds[7], EncodedKind::Key, "{kinds:?}");
    // Without the work rule the new screen is a delta like any other.
    let kinds = roundtrip(&frames, work_only(0));
    assert_eq!(kinds[6], EncodedKind::Delta, "{kinds:?}");
}

#[test]
fn size_change_forces_keyframe_and_stride_is_honoured() {
    let mut enc = Encoder::new(EncoderConfig::default()).unwrap();
    let mut dec = Decoder::new(Limits::default());
    let mut pkt = Vec::new();
    let a = vec![10u8; 8 * 8 * 4];
    let f = FrameRef::packed(&a, Size::new(8, 8), PixelFormat::Bgra8).unwrap();
    assert_eq!(enc.encode(&f, false, &mut pkt).unwrap(), EncodedKind::Key);
    dec.decode(&pkt).unwrap();
    // 5x3 frame with a 32-byte stride (12 bytes of padding per row)
    let mut b = vec![0u8; 32 * 3];
    for y in 0..3 {
        for x in 0..5 {
            b[y * 32 + x * 4..y * 32 + x * 4 + 3].copy_from_slice(&[x as u8, y as u8, 9]);
        }
    }
    let f = FrameRef::new(&b, Size::new(5, 3), 32, PixelFormat::Bgrx8).unwrap();
    assert_eq!(enc.encode(&f, false, &mut pkt).unwrap(), EncodedKind::Key);
    let out = dec.decode(&pkt).unwrap();
    assert_eq!(out.size, Size::new(5, 3));
    for y in 0..3 {
        for x in 0..5 {
            assert_eq!(
                &out.data[(y * 5 + x) * 4..(y * 5 + x) * 4 + 3],
                &[x as u8, y as u8, 9]
            );
        }
    }
}

#[test]
fn delta_without_keyframe_and_garbage_are_errors() {
    let mut dec = Decoder::new(Limits::default());
    assert_eq!(dec.decode(&[0x55]).unwrap_err(), CodecError::NeedKeyframe);
    assert_eq!(
        dec.decode(&[0x44, 0]).unwrap_err(),
        CodecError::NeedKeyframe
    );
    assert!(dec.decode(&[]).is_err());
    assert!(dec
        .decode(&[0x4B, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 0])
        .is_err());
    assert!(dec.decode(&[0x4B, 4, 4, 200, 1, 1, 2, 3]).is_err());
}

#[test]
fn narrow_and_short_frames_of_noise_roundtrip() {
    // Noise makes every tile a PIXELS tile: tile edges, the frame's left
    // edge and one-pixel-wide or -high frames go through the row decoders.
    let mut byte = noise(0x9E37_79B9);
    for w in (1..=20).chain([31, 32, 33, 65]) {
        for h in [1, 2, 3, 16, 17, 33] {
            let size = Size::new(w, h);
            let frames: Vec<_> = (0..2)
                .map(|_| (size, (0..w * h * 4).map(|_| byte()).collect()))
                .collect();
            roundtrip(&frames, EncoderConfig::default());
        }
    }
}

fn frame_strategy() -> impl Strategy<Value = Vec<(Size, Vec<u8>)>> {
    (1u32..70, 1u32..110, 1usize..6).prop_flat_map(|(w, h, n)| {
        let len = (w * h * 4) as usize;
        (
            Just(Size::new(w, h)),
            proptest::collection::vec(0u8..4, len),
            proptest::collection::vec(
                (0usize..len, any::<u8>(), 0usize..40, -20i32..20, -20i32..20),
                n,
            ),
        )
            .prop_map(|(size, base, edits)| {
                let w = size.width as usize;
                let h = size.height as usize;
                let mut frames = vec![(size, base.clone())];
                let mut cur = base;
                for (at, v, run, dx, dy) in edits {
                    let prev = cur.clone();
                    // a shift of the whole frame (scroll / move) ...
                    for y in 0..h {
                        for x in 0..w {
                            let (sx, sy) = (x as i32 + dx, y as i32 + dy);
                            if sx >= 0 && sy >= 0 && (sx as usize) < w && (sy as usize) < h {
                                let s = (sy as usize * w + sx as usize) * 4;
                                let d = (y * w + x) * 4;
                                cur[d..d + 4].copy_from_slice(&prev[s..s + 4]);
                            }
                        }
                    }
                    // ... plus a run of new bytes
                    for i in at..(at + run).min(cur.len()) {
                        cur[i] = v.wrapping_add(i as u8);
                    }
                    frames.push((size, cur.clone()));
                }
                frames
            })
    })
}

/// Encodes `frames`; returns each packet and its kind.
fn encode_all(frames: &[(Size, Vec<u8>)], cfg: EncoderConfig) -> Packets {
    let mut enc = Encoder::new(cfg).unwrap();
    frames
        .iter()
        .map(|(size, px)| {
            let f = FrameRef::packed(px, *size, PixelFormat::Bgrx8).unwrap();
            let mut pkt = Vec::new();
            let kind = enc.encode(&f, false, &mut pkt).unwrap();
            (kind, pkt)
        })
        .collect()
}

/// Decodes runs the way a seek does, with the inflating stage on another
/// thread ([`Decoder::decode_run`]): from the keyframe before each frame
/// to that frame, on a decoder reused from run to run; every result must
/// be exact.
fn check_runs(frames: &[(Size, Vec<u8>)], packets: &[(EncodedKind, Vec<u8>)], threads: usize) {
    let mut dec = Decoder::new(Limits::default());
    dec.set_threads(threads);
    for end in 0..packets.len() {
        let key = (0..=end)
            .rev()
            .find(|&k| packets[k].0 == EncodedKind::Key)
            .unwrap();
        let run: Vec<&[u8]> = packets[key..=end].iter().map(|p| &p.1[..]).collect();
        let out = dec.decode_run(&run).unwrap();
        assert_eq!(out.size, frames[end].0);
        assert!(
            out.data
                .chunks_exact(4)
                .zip(frames[end].1.chunks_exact(4))
                .all(|(a, b)| a[..3] == b[..3] && a[3] == 255),
            "frame {end} decoded as a run from keyframe {key}"
        );
    }
}

#[test]
fn runs_decode_like_single_packets_and_report_the_first_error() {
    let frames = sample("desktop-960x540-40f.bgra.zst", Size::new(960, 540));
    let p = KeyframePolicy {
        max_frames: Some(12),
        ..KeyframePolicy::default()
    };
    let packets = encode_all(&frames, EncoderConfig::default().keyframes(p));
    check_runs(&frames, &packets, 2);
    check_runs(&frames, &packets, 1);
    // A damaged packet in the middle of a run: its error, and the decoder
    // needs a keyframe afterwards.
    let mut run: Vec<&[u8]> = packets[..6].iter().map(|p| &p.1[..]).collect();
    let bad = [0x44u8, 0x05, 0xFF, 0xFF];
    run[3] = &bad;
    let mut dec = Decoder::new(Limits::default());
    dec.set_threads(2);
    assert!(matches!(
        dec.decode_run(&run),
        Err(CodecError::Zstd(_) | CodecError::Malformed { .. })
    ));
    assert_eq!(
        dec.decode(&packets[1].1).err(),
        Some(CodecError::NeedKeyframe)
    );
    // An unchanged packet with bytes after it is malformed too.
    let mut run: Vec<&[u8]> = packets[..6].iter().map(|p| &p.1[..]).collect();
    let bad = [0x55u8, 0x00];
    run[2] = &bad;
    assert!(matches!(
        dec.decode_run(&run),
        Err(CodecError::Malformed { .. })
    ));
    // Starting without a keyframe.
    let run: Vec<&[u8]> = packets[1..4].iter().map(|p| &p.1[..]).collect();
    assert_eq!(dec.decode_run(&run).err(), Some(CodecError::NeedKeyframe));
    // A keyframe cut short (applied as it inflates), alone or followed by
    // deltas: an error, and the decoder needs a keyframe.
    let key = &packets[0].1;
    for run in [
        vec![&key[..key.len() / 2]],
        vec![&key[..key.len() / 2], &packets[1].1],
    ] {
        assert!(matches!(
            dec.decode_run(&run),
            Err(CodecError::Malformed { .. })
        ));
        assert_eq!(
            dec.decode(&packets[1].1).err(),
            Some(CodecError::NeedKeyframe)
        );
    }
    // And the decoder still works.
    check_runs(&frames, &packets, 2);
    // One keyframe and 39 deltas: runs longer than the inflating thread may
    // run ahead, so it waits for bodies to come back.
    let p = KeyframePolicy {
        max_delta_work_percent: 0,
        max_delta_bytes: u64::MAX,
        ..KeyframePolicy::default()
    };
    let packets = encode_all(&frames, EncoderConfig::default().keyframes(p));
    assert_eq!(
        packets
            .iter()
            .filter(|p| Decoder::is_keyframe(&p.1))
            .count(),
        1
    );
    check_runs(&frames, &packets, 2);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn any_frame_sequence_roundtrips(frames in frame_strategy()) {
        roundtrip(&frames, EncoderConfig::default());
        check_runs(&frames, &encode_all(&frames, EncoderConfig::default()), 2);
    }

    #[test]
    fn decoder_never_panics_on_garbage(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let (mut serial, mut parallel) = decoders();
        let mut d = vec![0x4B, 8, 8];
        d.extend_from_slice(&data);
        for dec in [&mut serial, &mut parallel] {
            let _ = dec.decode(&data);
            let _ = dec.decode(&d);
        }
    }
}

#[test]
fn cached_tiles_survive_their_position_being_overwritten() {
    // 64x64: four 32x32 tiles of noise, A B / C D. The decoder stores a
    // cache slot as "the tile at position p" until p is written again;
    // these frames make it keep those pixels in every way a slot can be
    // be read or lost: A is overwritten (by E) and comes back later; E
    // moves from position 0 to 1 in the same packet that puts A back at 0
    // (its slot still refers to position 0 when that packet starts); and a
    // new tile F is copied from position 3, which that packet leaves as it is.
    let size = Size::new(64, 64);
    let mut byte = noise(0x2545_F491);
    let mut tile = || -> Vec<u8> { (0..32 * 32 * 4).map(|_| byte()).collect() };
    let [a, b, c, d, e, f] = [tile(), tile(), tile(), tile(), tile(), tile()];
    let frame = |t: [&Vec<u8>; 4]| -> (Size, Vec<u8>) {
        let mut px = vec![0u8; 64 * 64 * 4];
        for (i, t) in t.iter().enumerate() {
            let (x0, y0) = (i % 2 * 32, i / 2 * 32);
            for r in 0..32 {
                let at = ((y0 + r) * 64 + x0) * 4;
                px[at..at + 128].copy_from_slice(&t[r * 128..(r + 1) * 128]);
            }
        }
        (size, px)
    };
    let frames = vec![
        frame([&a, &b, &c, &d]),
        frame([&e, &b, &c, &d]),
        frame([&a, &e, &c, &d]),
        frame([&b, &a, &e, &d]),
        frame([&b, &a, &e, &f]),
        frame([&f, &a, &e, &f]),
    ];
    // Without motion search, moved tiles can only be cache references.
    let cfg = EncoderConfig::default().motion_search(false);
    let mut enc = Encoder::new(cfg.clone()).unwrap();
    let mut pkt = Vec::new();
    for (size, px) in &frames {
        let f = FrameRef::packed(px, *size, PixelFormat::Bgra8).unwrap();
        enc.encode(&f, false, &mut pkt).unwrap();
    }
    assert_eq!(enc.stats().cache_tiles, 6, "{:?}", enc.stats());
    let kinds = roundtrip(&frames, cfg);
    assert_eq!(kinds[1..], [EncodedKind::Delta; 5]);
}

/// Ten 1024x512 frames of new noise (512 full tiles each, so eight fill the
/// 4,096-slot tile cache), then the frames listed in `again` once more, all
/// in one keyframe group (noise would soon reach the work and byte
/// budgets), coded without motion search: a frame shown again is cache
/// references.
fn noise_group(seed: u32, again: &[usize]) -> (Frames, Packets) {
    let size = Size::new(1024, 512);
    let mut byte = noise(seed);
    let mut frames: Frames = (0..10)
        .map(|_| (size, (0..1024 * 512 * 4).map(|_| byte()).collect()))
        .collect();
    for &i in again {
        frames.push(frames[i].clone());
    }
    let policy = KeyframePolicy {
        max_delta_work_percent: 0,
        max_delta_bytes: u64::MAX,
        ..KeyframePolicy::default()
    };
    let cfg = EncoderConfig::default()
        .motion_search(false)
        .keyframes(policy);
    let packets = encode_all(&frames, cfg);
    assert_eq!(packets[0].0, EncodedKind::Key);
    assert!(packets[1..].iter().all(|p| p.0 == EncodedKind::Delta));
    (frames, packets)
}

/// The decoded frame has `want`'s B, G and R bytes.
fn same_colours(out: &FrameView<'_>, want: &[u8]) -> bool {
    out.data
        .chunks_exact(4)
        .zip(want.chunks_exact(4))
        .all(|(a, b)| a[..3] == b[..3])
}

#[test]
fn a_seek_drops_cached_tiles_claimed_again_before_a_read_and_keeps_the_rest() {
    // 1024x512: 512 full tiles, so eight frames of new noise fill the
    // 4,096-slot ring. Frames 0-9 are new noise, frame 10 is frame 2 again:
    // its tiles are cache references to the slots frame 2 took, which
    // frame 3 overwrote in the picture (they must be kept), while the slots
    // of frames 0 and 1 are claimed again by frames 8 and 9 before anything
    // reads them (a seek may drop them); the others are never claimed again
    // in the run, and frames after it might read them (kept).
    let (frames, packets) = noise_group(0x9E37_79B9, &[2]);
    let run: Vec<&[u8]> = packets.iter().map(|p| &p.1[..]).collect();
    let same = same_colours;
    let mut dec = Decoder::new(Limits::default());
    let out = dec.decode_run_seeing_all_ahead(&run, false).unwrap();
    assert!(same(&out, &frames[10].1), "frame 10 decoded as a run");
    // Frames 0 and 1 took 2 x 512 slots, dropped when frames 1 and 2
    // overwrote their tiles; frame 2's were kept for frame 10.
    assert_eq!(dec.dropped_tiles(), 2 * 512);
    // The same with the other thread inflating (it sees less ahead), and
    // every shorter run.
    check_runs(&frames, &packets, 2);
}

#[test]
fn a_seek_keeps_only_what_its_run_reads_and_a_later_packet_asks_for_the_rest() {
    // As above, plus frame 11: frame 4 again, cache references to slots
    // that a run up to frame 10 never reads. A seek drops them; the packet
    // after it says so, and decoding the group again keeps them.
    let (frames, packets) = noise_group(0x7F4A_7C15, &[2, 4]);
    let run: Vec<&[u8]> = packets[..11].iter().map(|p| &p.1[..]).collect();
    let next = &packets[11].1;
    let same = same_colours;
    let mut dec = Decoder::new(Limits::default());
    let out = dec.decode_run_seeing_all_ahead(&run, true).unwrap();
    assert!(same(&out, &frames[10].1), "frame 10 after a seek");
    // Frames 0 and 1's slots are claimed again; frames 3 to 9's are never
    // read in the run; frame 2's are read by frame 10.
    assert_eq!(dec.dropped_tiles(), 9 * 512);
    assert!(dec.has_dropped_tiles());
    let slot_of_frame_4 = |e: &CodecError| matches!(e, CodecError::TileDropped { slot } if (2048..2560).contains(slot));
    let e = dec.decode(next).unwrap_err();
    assert!(slot_of_frame_4(&e), "{e}");
    dec.decode_run(&run).unwrap();
    // Run mode drops only slots that the run claims again.
    assert!(!dec.has_dropped_tiles());
    assert!(same(&dec.decode(next).unwrap(), &frames[11].1));
    // With the other thread inflating: the packet after the seek either
    // finds what it reads or says so, and the same way out works.
    let (_, mut dec) = decoders();
    assert!(same(&dec.seek(&run).unwrap(), &frames[10].1));
    match dec.decode(next) {
        Ok(out) => assert!(same(&out, &frames[11].1)),
        Err(e) => {
            assert!(slot_of_frame_4(&e), "{e}");
            dec.decode_run(&run).unwrap();
            assert!(same(&dec.decode(next).unwrap(), &frames[11].1));
        }
    }
}

#[test]
fn content_coming_back_is_a_cache_reference() {
    // A terminal screen, then a desktop screen, then the terminal again (a
    // window switched back): the third frame refers to cached tiles.
    let term = sample("term-960x540-40f.bgra.zst", Size::new(960, 540));
    let desk = sample("desktop-960x540-40f.bgra.zst", Size::new(960, 540));
    let frames = vec![
        term[0].clone(),
        desk[0].clone(),
        term[0].clone(),
        desk[0].clone(),
    ];
    let mut enc = Encoder::new(EncoderConfig::default()).unwrap();
    let mut dec = decoders();
    let mut sizes = Vec::new();
    let mut pkt = Vec::new();
    for (size, px) in &frames {
        let f = FrameRef::packed(px, *size, PixelFormat::Bgra8).unwrap();
        enc.encode(&f, false, &mut pkt).unwrap();
        sizes.push(pkt.len());
        let out = decode_both(&mut dec, &pkt);
        assert!(out
            .data
            .chunks_exact(4)
            .zip(px.chunks_exact(4))
            .all(|(a, b)| a[..3] == b[..3]));
    }
    let s = enc.stats();
    // of 30x16 full tiles per frame, those that differ and aren't solid
    assert!(s.cache_tiles >= 600, "{s:?}");
    assert!(sizes[2] * 20 < sizes[0], "{sizes:?}");
    assert!(sizes[3] * 20 < sizes[1], "{sizes:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The encoder's planar residual loop equals the pixel-by-pixel
    /// reference predictor, for tiles at the frame's edges and inside it,
    /// full or cut by the frame's border.
    #[test]
    fn planar_residuals_equal_the_reference_predictor(
        seed in any::<u64>(),
        w in 1usize..80,
        h in 1usize..80,
        tx in 0usize..3,
        ty in 0usize..3,
    ) {
        let mut x = seed | 1;
        let buf: Vec<u8> = (0..w * h * 4)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Few distinct values, so MED's three cases all occur.
                (x % 7) as u8 * 40
            })
            .collect();
        let tile = crate::pixel::TILE;
        let (x0, y0) = ((tx * tile).min((w - 1) / tile * tile), (ty * tile).min((h - 1) / tile * tile));
        let (cw, ch) = (tile.min(w - x0), tile.min(h - y0));
        let mut out = vec![0u8; cw * ch * 3];
        crate::encoder::pixels_residuals(&buf, w, (x0, y0, cw, ch), &mut Vec::new(), &mut out);
        for y in 0..ch {
            for x in 0..cw {
                let (gx, gy) = (x0 + x, y0 + y);
                let v = crate::pixel::planes(&buf, (gy * w + gx) * 4);
                let p = crate::pixel::predict(&buf, w, gx, gy);
                for k in 0..3 {
                    prop_assert_eq!(out[k * cw * ch + y * cw + x], v[k].wrapping_sub(p[k]), "plane {} at ({}, {})", k, gx, gy);
                }
            }
        }
    }
}
