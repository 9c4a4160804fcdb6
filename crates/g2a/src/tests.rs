//! Recorder → file → Player round trips on the real samples in testdata/.

use g2a_core::{FrameRef, Limits, PixelFormat, Size, Timestamp};
use g2a_format::{
    CapPolicy, EventKind, MediaType, Reader, Record, SenderRole, SessionHeader, SessionSet,
    WriterOptions, MIN_SIZE_CAP,
};
use proptest::prelude::*;

use crate::*;

const SIZE: Size = Size::new(960, 540);

fn sample(name: &str) -> Vec<Vec<u8>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(name);
    let raw = zstd::decode_all(std::fs::File::open(path).unwrap()).unwrap();
    raw.chunks_exact(SIZE.area() as usize * 4)
        .map(<[u8]>::to_vec)
        .collect()
}

fn desktop() -> Vec<Vec<u8>> {
    sample("desktop-960x540-40f.bgra.zst")
}

fn ts(i: usize) -> Timestamp {
    Timestamp::from_millis(i as u64 * 100)
}

fn header() -> SessionHeader {
    SessionHeader::new("T-1", SIZE).with_representative("Ann")
}

fn record(path: &std::path::Path, frames: &[Vec<u8>], opts: RecorderOptions) -> RecordingSummary {
    let mut rec = Recorder::create(path, header(), opts).unwrap();
    for (i, f) in frames.iter().enumerate() {
        let frame = FrameRef::packed(f, SIZE, PixelFormat::Bgra8).unwrap();
        assert_eq!(
            rec.push_frame(ts(i), &frame).unwrap(),
            FrameStatus::Recorded
        );
        if i == 5 {
            rec.push_chat(ts(i), SenderRole::Customer, "Kim", "it froze")
                .unwrap();
            rec.push_event(ts(i), EventKind::RemoteControlGranted, "")
                .unwrap();
            rec.push_diagnostic(ts(i), "system.json", MediaType::Json, b"{\"os\":\"x\"}")
                .unwrap();
        }
    }
    rec.finish().unwrap()
}

fn same_rgb(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && a.chunks_exact(4)
            .zip(b.chunks_exact(4))
            .all(|(p, q)| p[..3] == q[..3])
}

/// Index of the frame on screen at `t`.
fn expected_index(t: Timestamp, n: usize) -> usize {
    ((t.as_micros() / 100_000) as usize).min(n - 1)
}

#[test]
fn every_frame_comes_back_with_its_time() {
    let frames = desktop();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("d.g2a");
    let s = record(&p, &frames, RecorderOptions::default());
    assert_eq!(s.frames, frames.len() as u64);
    assert!(Reader::open(&p).unwrap().verify().is_intact());
    let mut player = Player::open(&p).unwrap();
    for (i, f) in frames.iter().enumerate() {
        let got = player.next_frame().unwrap().unwrap();
        assert_eq!(got.ts, ts(i));
        assert_eq!(got.size, SIZE);
        assert!(same_rgb(got.data, f), "frame {i}");
        assert_eq!(
            got.changed,
            i == 0 || frames[i] != frames[i - 1],
            "frame {i}"
        );
    }
    assert!(player.next_frame().unwrap().is_none());
    let chat: Vec<_> = player
        .records()
        .filter_map(|r| match r {
            Record::Chat { text, .. } => Some(text.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(chat, ["it froze"]);
    let stats = player.codec_stats();
    assert_eq!(stats.frames(), frames.len() as u64);
    assert_eq!(stats.key_frames, s.encoder.key_frames);
}

#[test]
fn seeking_anywhere_in_any_order_gives_the_frame_on_screen() {
    let frames = desktop();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("seek.g2a");
    // Small delta budget: several keyframes to seek between.
    let mut policy = KeyframePolicy::default();
    policy.max_delta_bytes = 15_000;
    policy.key_ratio = 0;
    let s = record(
        &p,
        &frames,
        RecorderOptions::default().encoder(EncoderConfig::default().keyframes(policy)),
    );
    assert!(s.encoder.key_frames >= 3, "{:?}", s.encoder);
    let mut player = Player::open(&p).unwrap();
    let probes = [
        3_950, 0, 120, 2_000, 2_050, 2_049, 100, 3_999, 5_000_000, 777, 778, 1_500,
    ];
    for ms in probes {
        let t = Timestamp::from_millis(ms);
        let got = player.frame_at(t).unwrap();
        let want = expected_index(t, frames.len());
        assert_eq!(got.ts, ts(want), "at {ms} ms");
        assert!(same_rgb(got.data, &frames[want]), "at {ms} ms");
    }
}

#[test]
fn playing_on_after_a_seek_gets_back_the_cached_tiles_the_seek_dropped() {
    // Five frames of noise, five of one colour each, then frame 2 and frame
    // 4 again (references to the tile cache), in one keyframe group. A seek
    // to frame 10 keeps only the cached tiles its run reads (frame 2's; the
    // small packets of frames 5 to 10 let the inflating thread reach the
    // end of the run before frame 5 overwrites frame 4's tiles); frame 11
    // reads frame 4's, so playing on, or seeking on from there, decodes the
    // group again.
    let mut x = 0x2545_F491u32;
    let mut frames: Vec<Vec<u8>> = (0..5)
        .map(|_| {
            (0..SIZE.area() * 4)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect()
        })
        .collect();
    for c in 0..5u8 {
        frames.push([c * 40, 255 - c * 40, 7, 255].repeat(SIZE.area() as usize));
    }
    frames.push(frames[2].clone());
    frames.push(frames[4].clone());
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("noise.g2a");
    let mut policy = KeyframePolicy::default();
    policy.max_delta_bytes = u64::MAX;
    policy.max_delta_work_percent = 0;
    let cfg = EncoderConfig::default()
        .motion_search(false)
        .keyframes(policy);
    let s = record(&p, &frames, RecorderOptions::default().encoder(cfg));
    assert_eq!(s.encoder.key_frames, 1, "{:?}", s.encoder);
    let mut player = Player::open(&p).unwrap();
    player.set_decode_threads(2);
    assert!(same_rgb(player.frame_at(ts(10)).unwrap().data, &frames[10]));
    let next = player.next_frame().unwrap().unwrap();
    assert_eq!(next.ts, ts(11));
    assert!(same_rgb(next.data, &frames[11]));
    assert!(player.next_frame().unwrap().is_none());
    // Seeking on from the frame a seek left: the seek dropped tiles, so
    // the next starts at the keyframe again rather than resume there.
    assert!(same_rgb(player.frame_at(ts(10)).unwrap().data, &frames[10]));
    assert!(same_rgb(player.frame_at(ts(11)).unwrap().data, &frames[11]));
}

#[test]
fn remapping_keeps_the_position_unless_the_files_changed() {
    let frames = desktop();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("remap.g2a");
    record(&p, &frames, RecorderOptions::default());
    let mut player = Player::open(&p).unwrap();
    player.frame_at(ts(20)).unwrap();
    player.remap().unwrap();
    // Same files: the decoded frame stays, and playing on needs no seek.
    assert_eq!(player.position(), Some(ts(20)));
    let next = player.next_frame().unwrap().unwrap();
    assert_eq!(next.ts, ts(21));
    assert!(same_rgb(next.data, &frames[21]));

    // Another recording renamed over the file: the old position means
    // nothing in it, so the player starts again from a keyframe.
    let reversed: Vec<_> = frames.iter().rev().cloned().collect();
    let q = dir.path().join("other.g2a");
    record(&q, &reversed, RecorderOptions::default());
    std::fs::rename(&q, &p).unwrap();
    player.remap().unwrap();
    assert_eq!(player.position(), None);
    let got = player.frame_at(ts(30)).unwrap();
    assert!(same_rgb(got.data, &reversed[30]));

    // Gone: an error, and the player keeps what it had.
    std::fs::remove_file(&p).unwrap();
    assert!(player.remap().is_err());
    assert_eq!(player.position(), Some(ts(30)));
    let next = player.next_frame().unwrap().unwrap();
    assert!(same_rgb(next.data, &reversed[31]));

    // A recording read from memory has nothing to remap.
    record(&q, &frames, RecorderOptions::default());
    let bytes = std::fs::read(&q).unwrap();
    let mut mem = Player::from_set(SessionSet::from_reader(Reader::from_bytes(bytes).unwrap()));
    mem.frame_at(ts(3)).unwrap();
    mem.remap().unwrap();
    assert_eq!(mem.position(), Some(ts(3)));
}

#[test]
fn background_encoding_gives_the_same_file() {
    let frames = desktop();
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("inline.g2a");
    let b = dir.path().join("thread.g2a");
    record(&a, &frames, RecorderOptions::default());
    let s = record(
        &b,
        &frames,
        RecorderOptions::default().queue(2, QueueFull::Block),
    );
    assert_eq!(s.dropped, 0);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn a_full_queue_drops_frames_and_says_so() {
    let frames = desktop();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("drop.g2a");
    let mut rec = Recorder::create(
        &p,
        header(),
        RecorderOptions::default().queue(1, QueueFull::DropFrame),
    )
    .unwrap();
    let (mut recorded, mut dropped) = (0u64, 0u64);
    // Push far faster than the encoder can go: every frame, 5 times.
    for i in 0..frames.len() * 5 {
        let frame = FrameRef::packed(&frames[i % frames.len()], SIZE, PixelFormat::Bgra8).unwrap();
        match rec
            .push_frame(Timestamp::from_millis(i as u64), &frame)
            .unwrap()
        {
            FrameStatus::Recorded => recorded += 1,
            FrameStatus::Dropped => dropped += 1,
            FrameStatus::Stopped => unreachable!(),
        }
    }
    assert_eq!(rec.dropped_frames(), dropped);
    let s = rec.finish().unwrap();
    assert_eq!(s.frames, recorded);
    assert_eq!(s.dropped, dropped);
    assert!(
        dropped > 0,
        "a 1-frame queue can't keep up with a tight loop"
    );
    let player = Player::open(&p).unwrap();
    let noted: u64 = player
        .records()
        .filter_map(|r| match r {
            Record::Event {
                kind: EventKind::FramesDropped,
                detail,
                ..
            } => detail.split(' ').next().and_then(|n| n.parse::<u64>().ok()),
            _ => None,
        })
        .sum();
    assert_eq!(noted, dropped, "every dropped frame is counted in the file");
}

#[test]
fn bad_input_is_refused_and_harms_nothing() {
    let frames = desktop();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.g2a");
    let opts = RecorderOptions::default()
        .encoder(EncoderConfig::default().limits(Limits::default().with_max_dimension(4096)));
    let mut rec = Recorder::create(&p, header(), opts).unwrap();
    for (i, f) in frames.iter().take(10).enumerate() {
        let frame = FrameRef::packed(f, SIZE, PixelFormat::Bgra8).unwrap();
        rec.push_frame(ts(i), &frame).unwrap();
    }
    // a buffer shorter than its stated size can't even become a frame
    assert!(FrameRef::packed(&frames[0][..1000], SIZE, PixelFormat::Bgra8).is_err());
    // time going backwards
    let frame = FrameRef::packed(&frames[10], SIZE, PixelFormat::Bgra8).unwrap();
    let e = rec.push_frame(ts(3), &frame).unwrap_err();
    assert!(matches!(e, Error::TimeWentBackwards { .. }), "{e}");
    rec.push_chat(ts(9), SenderRole::System, "", "x").unwrap();
    assert!(rec.push_chat(ts(8), SenderRole::System, "", "y").is_err());
    // an absurd size
    let wide = vec![0u8; 5000 * 4];
    let frame = FrameRef::packed(&wide, Size::new(5000, 1), PixelFormat::Bgra8).unwrap();
    let e = rec.push_frame(ts(11), &frame).unwrap_err();
    assert!(e.to_string().contains("5000"), "{e}");
    // a malformed cursor shape
    assert!(rec
        .push_cursor_shape(ts(11), 1, (0, 0), Size::new(4, 4), &[0; 10])
        .is_err());
    // the recording goes on
    let frame = FrameRef::packed(&frames[10], SIZE, PixelFormat::Bgra8).unwrap();
    rec.push_frame(ts(10), &frame).unwrap();
    rec.finish().unwrap();
    let mut player = Player::open(&p).unwrap();
    for (i, f) in frames.iter().take(11).enumerate() {
        let got = player.next_frame().unwrap().unwrap();
        assert_eq!(got.ts, ts(i));
        assert!(same_rgb(got.data, f));
    }
    assert!(player.next_frame().unwrap().is_none());
}

#[test]
fn a_killed_recorder_leaves_every_frame_playable() {
    let frames = desktop();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("killed.g2a");
    let mut rec = Recorder::create(&p, header(), RecorderOptions::default()).unwrap();
    for (i, f) in frames.iter().enumerate().take(25) {
        let frame = FrameRef::packed(f, SIZE, PixelFormat::Bgra8).unwrap();
        rec.push_frame(ts(i), &frame).unwrap();
    }
    // No finish, no destructor: what a killed process leaves.
    std::mem::forget(rec);
    let mut player = Player::open(&p).unwrap();
    let mut n = 0;
    while let Some(f) = player.next_frame().unwrap() {
        assert!(same_rgb(f.data, &frames[n]));
        n += 1;
    }
    assert_eq!(n, 25);
    let got = player.frame_at(ts(17)).unwrap();
    assert!(same_rgb(got.data, &frames[17]));
}

#[test]
fn dropping_a_recorder_finishes_the_file() {
    let frames = desktop();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("dropped.g2a");
    {
        let mut rec = Recorder::create(
            &p,
            header(),
            RecorderOptions::default().queue(4, QueueFull::Block),
        )
        .unwrap();
        for (i, f) in frames.iter().enumerate().take(8) {
            let frame = FrameRef::packed(f, SIZE, PixelFormat::Bgra8).unwrap();
            rec.push_frame(ts(i), &frame).unwrap();
        }
    }
    let r = Reader::open(&p).unwrap();
    assert!(r.verify().is_intact());
    let videos = r
        .records()
        .filter(|r| matches!(r, Record::Video { .. }))
        .count();
    assert_eq!(videos, 8);
}

#[test]
fn continuation_files_play_as_one_timeline() {
    let frames = desktop();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cap.g2a");
    let opts = RecorderOptions::default().writer(
        WriterOptions::default()
            .size_cap(Some(MIN_SIZE_CAP))
            .cap_policy(CapPolicy::Continue),
    );
    let s = record(&p, &frames, opts);
    assert!(s.files.paths.len() >= 3, "{:?}", s.files.paths);
    for path in &s.files.paths {
        assert!(std::fs::metadata(path).unwrap().len() <= MIN_SIZE_CAP);
    }
    let mut player = Player::open(&p).unwrap();
    for (i, f) in frames.iter().enumerate() {
        let got = player.next_frame().unwrap().unwrap();
        assert_eq!(got.ts, ts(i));
        assert!(same_rgb(got.data, f), "frame {i}");
    }
    for i in [39, 0, 20, 21, 5] {
        assert!(same_rgb(player.frame_at(ts(i)).unwrap().data, &frames[i]));
    }
}

#[test]
fn stop_policy_ends_the_recording_cleanly() {
    let frames = desktop();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("stop.g2a");
    let opts = RecorderOptions::default().writer(
        WriterOptions::default()
            .size_cap(Some(MIN_SIZE_CAP))
            .cap_policy(CapPolicy::Stop),
    );
    let mut rec = Recorder::create(&p, header(), opts).unwrap();
    let mut statuses = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let frame = FrameRef::packed(f, SIZE, PixelFormat::Bgra8).unwrap();
        statuses.push(rec.push_frame(ts(i), &frame).unwrap());
    }
    let s = rec.finish().unwrap();
    assert!(s.stopped_by_cap);
    let recorded = statuses
        .iter()
        .take_while(|&&s| s == FrameStatus::Recorded)
        .count();
    assert!(recorded > 0 && recorded < frames.len());
    assert!(statuses[recorded..]
        .iter()
        .all(|&s| s == FrameStatus::Stopped));
    assert!(Reader::open(&p).unwrap().verify().is_intact());
    assert!(std::fs::metadata(&p).unwrap().len() <= MIN_SIZE_CAP);
}

#[test]
fn size_changes_and_strides_are_followed() {
    let frames = desktop();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("resize.g2a");
    let mut rec = Recorder::create(&p, header(), RecorderOptions::default()).unwrap();
    let small = Size::new(500, 300);
    let mut expected = Vec::new();
    for (i, f) in frames.iter().enumerate().take(12) {
        // Frames 4..8 are a 500x300 crop read through the full stride, as BGRX.
        let (frame, want) = if (4..8).contains(&i) {
            let fr = FrameRef::new(f, small, 960 * 4, PixelFormat::Bgrx8).unwrap();
            let want: Vec<u8> = (0..300).flat_map(|y| fr.row(y).to_vec()).collect();
            (fr, want)
        } else {
            (
                FrameRef::packed(f, SIZE, PixelFormat::Bgra8).unwrap(),
                f.clone(),
            )
        };
        rec.push_frame(ts(i), &frame).unwrap();
        expected.push(want);
    }
    rec.finish().unwrap();
    let mut player = Player::open(&p).unwrap();
    for (i, want) in expected.iter().enumerate() {
        let got = player.next_frame().unwrap().unwrap();
        assert_eq!(got.size, if (4..8).contains(&i) { small } else { SIZE });
        assert!(same_rgb(got.data, want), "frame {i}");
        assert_eq!(got.keyframe, i == 0 || i == 4 || i == 8, "frame {i}");
    }
    let sizes: Vec<Size> = player
        .records()
        .filter_map(|r| match r {
            Record::ScreenSize { size, .. } => Some(size),
            _ => None,
        })
        .collect();
    assert_eq!(sizes, [SIZE, small, SIZE]);
}

#[test]
fn a_recording_in_progress_can_be_followed() {
    let frames = desktop();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("live.g2a");
    let mut rec = Recorder::create(&p, header(), RecorderOptions::default()).unwrap();
    let push = |rec: &mut Recorder, i: usize| {
        let frame = FrameRef::packed(&frames[i], SIZE, PixelFormat::Bgra8).unwrap();
        rec.push_frame(ts(i), &frame).unwrap();
    };
    for i in 0..10 {
        push(&mut rec, i);
    }
    let mut player = Player::open(&p).unwrap();
    let mut seen = 0;
    while player.next_frame().unwrap().is_some() {
        seen += 1;
    }
    assert_eq!(seen, 10);
    for i in 10..20 {
        push(&mut rec, i);
    }
    assert!(player.refresh().unwrap());
    while let Some(f) = player.next_frame().unwrap() {
        assert!(same_rgb(f.data, &frames[seen]));
        seen += 1;
    }
    assert_eq!(seen, 20);
    rec.finish().unwrap();
    player.refresh().unwrap();
    assert!(player.next_frame().unwrap().is_none());
}

#[test]
fn cursor_track_lookups() {
    let frames = desktop();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cursor.g2a");
    let mut rec = Recorder::create(&p, header(), RecorderOptions::default()).unwrap();
    let arrow: Vec<u8> = [0, 0, 0, 255].repeat(4 * 4);
    rec.push_cursor_shape(ts(0), 7, (1, 1), Size::new(4, 4), &arrow)
        .unwrap();
    rec.push_cursor(ts(0), 10, 20, Some(7)).unwrap();
    rec.push_cursor(ts(3), 30, 40, None).unwrap();
    let frame = FrameRef::packed(&frames[0], SIZE, PixelFormat::Bgra8).unwrap();
    rec.push_frame(ts(0), &frame).unwrap();
    rec.finish().unwrap();
    let player = Player::open(&p).unwrap();
    let track = CursorTrack::load(player.set());
    assert_eq!(track.len(), 2);
    let c = track.at(ts(1)).unwrap();
    assert_eq!((c.x, c.y), (10, 20));
    let img = c.image.unwrap();
    assert_eq!(img.hotspot, (1, 1));
    let mut buf = vec![255u8; 16 * 16 * 4];
    img.draw_onto(&mut buf, Size::new(16, 16), 10, 10);
    assert_eq!(&buf[(9 * 16 + 9) * 4..(9 * 16 + 9) * 4 + 3], &[0, 0, 0]);
    assert_eq!(
        &buf[(8 * 16 + 8) * 4..(8 * 16 + 8) * 4 + 3],
        &[255, 255, 255]
    );
    let hidden = track.at(ts(5)).unwrap();
    assert_eq!((hidden.x, hidden.y, hidden.image), (30, 40, None));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn random_seeks_match_sequential_playback(
        probes in proptest::collection::vec(0u64..4_500, 1..12),
        max_delta in 20_000u64..400_000,
    ) {
        let frames = terminal_frames();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("prop.g2a");
        let mut policy = KeyframePolicy::default();
        policy.max_delta_bytes = max_delta;
        policy.key_ratio = 0;
        record(&p, frames, RecorderOptions::default().encoder(EncoderConfig::default().keyframes(policy)));
        let mut player = Player::open(&p).unwrap();
        for ms in probes {
            let t = Timestamp::from_millis(ms);
            let want = expected_index(t, frames.len());
            let got = player.frame_at(t).unwrap();
            prop_assert_eq!(got.ts, ts(want));
            prop_assert!(same_rgb(got.data, &frames[want]));
        }
    }
}

fn terminal_frames() -> &'static [Vec<u8>] {
    static FRAMES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    FRAMES.get_or_init(|| sample("term-960x540-40f.bgra.zst"))
}

#[test]
fn recorder_and_player_move_between_threads() {
    fn send<T: Send>() {}
    send::<Recorder>();
    send::<Player>();
    send::<g2a_format::Writer>();
    send::<g2a_format::Reader>();
}

#[test]
fn seeks_in_a_damaged_recording_show_what_playback_shows() {
    // A delta record in the middle of a keyframe group is damaged: playback
    // keeps the frame before it on screen until the next keyframe, and a
    // seek to any time must show the same frame as playing up to it.
    let frames = terminal_frames();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("damaged.g2a");
    let mut policy = KeyframePolicy::default();
    policy.max_frames = Some(5);
    record(
        &p,
        frames,
        RecorderOptions::default().encoder(EncoderConfig::default().keyframes(policy)),
    );
    let reader = Reader::open(&p).unwrap();
    let keys: Vec<u64> = reader.keyframes().iter().map(|k| k.offset).collect();
    assert!(keys.len() >= 3, "{keys:?}");
    // the third video record after the second keyframe, if it is a delta
    let mut recs = reader.records_from(keys[1]);
    let mut victim = None;
    let mut n = 0;
    while let Some((offset, rec)) = recs.next_with_offset() {
        if let Record::Video { keyframe, data, .. } = rec {
            n += 1;
            if n >= 3 && !keyframe && data.len() > 40 {
                victim = Some(offset);
                break;
            }
        }
    }
    let victim = victim.expect("a delta to damage") as usize;
    drop(reader);
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[victim + 30] ^= 0x40;
    std::fs::write(&p, &bytes).unwrap();

    let mut player = Player::open(&p).unwrap();
    let mut shown: Vec<(Timestamp, Vec<u8>)> = Vec::new();
    while let Some(f) = player.next_frame().unwrap() {
        shown.push((f.ts, f.data.to_vec()));
    }
    assert!(
        shown.len() < frames.len(),
        "frames after the damage are skipped"
    );
    let on_screen = |t: Timestamp| {
        shown
            .iter()
            .rev()
            .find(|(ts, _)| *ts <= t)
            .unwrap_or(&shown[0])
    };
    // every frame time, in an order that goes back and forth
    let mut times: Vec<usize> = (0..frames.len()).collect();
    times.sort_by_key(|&i| (i * 7919) % frames.len());
    for i in times {
        let t = ts(i);
        let got = player.frame_at(t).unwrap();
        let (want_ts, want) = on_screen(t);
        assert_eq!(got.ts, *want_ts, "seek to frame {i}");
        assert!(got.data == &want[..], "seek to frame {i}");
    }
}

#[test]
fn a_keyframe_flag_that_disagrees_with_its_packet_is_damage() {
    // CODEC.md §2: a delta flagged as a keyframe, and a keyframe not
    // flagged, are damaged records: playback keeps the frame before them
    // until the next true keyframe, seeks show what playback shows, and
    // nothing fails.
    let frames = &terminal_frames()[..15];
    let mut enc = g2a_codec::Encoder::new(EncoderConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("flags.g2a");
    let mut w = g2a_format::Writer::create(&p, header(), WriterOptions::default()).unwrap();
    let mut kinds = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let mut packet = Vec::new();
        let kind = enc
            .encode(
                &FrameRef::packed(f, SIZE, PixelFormat::Bgra8).unwrap(),
                i % 5 == 0,
                &mut packet,
            )
            .unwrap();
        kinds.push(kind);
        let key = kind == g2a_codec::EncodedKind::Key;
        w.write(&Record::Video {
            ts: ts(i),
            codec: g2a_format::CodecId(g2a_codec::CODEC_ID),
            // record 2 (a delta) says keyframe; record 5 (a keyframe) doesn't
            keyframe: key != (i == 2 || i == 5),
            data: &packet,
        })
        .unwrap();
    }
    w.finish().unwrap();
    use g2a_codec::EncodedKind::{Delta, Key};
    let keys: Vec<usize> = (0..15).filter(|&i| kinds[i] == Key).collect();
    assert_eq!(keys, [0, 5, 10], "{kinds:?}");
    assert_eq!(kinds[2], Delta);

    let mut player = Player::open(&p).unwrap();
    let mut shown = Vec::new();
    while let Some(f) = player.next_frame().unwrap() {
        assert!(same_rgb(
            f.data,
            &frames[(f.ts.as_micros() / 100_000) as usize]
        ));
        shown.push(f.ts);
    }
    let want: Vec<Timestamp> = [0, 1].into_iter().chain(10..15).map(ts).collect();
    assert_eq!(shown, want, "frames 2-9 wait for the true keyframe at 10");
    for i in (0..15).rev().chain(0..15) {
        let f = player.frame_at(ts(i)).unwrap();
        let on_screen = if (2..10).contains(&i) { 1 } else { i };
        assert_eq!(f.ts, ts(on_screen), "seek to frame {i}");
        assert!(same_rgb(f.data, &frames[on_screen]), "seek to frame {i}");
    }
}
