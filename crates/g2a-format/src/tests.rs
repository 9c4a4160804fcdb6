//! Round trips, truncation sweeps, bit flips, size cap and merge order.

use g2a_core::{Size, Timestamp};
use proptest::prelude::*;

use crate::*;

const CODEC: CodecId = CodecId(*b"TEST");

/// An owned record, for property tests.
#[derive(Debug, Clone)]
enum Owned {
    Video(bool, Vec<u8>),
    Size(u32, u32),
    Cursor(i32, i32, Option<u32>),
    Shape(u32, u32, u32, u32, u32),
    Chat(u8, String, String),
    Diag(String, u8, Vec<u8>),
    Event(u16, String),
    Unknown(u8, Vec<u8>),
}

impl Owned {
    fn record<'a>(&'a self, ts: Timestamp, px: &'a [u8]) -> Record<'a> {
        match self {
            Owned::Video(k, d) => Record::Video {
                ts,
                codec: CODEC,
                keyframe: *k,
                data: d,
            },
            Owned::Size(w, h) => Record::ScreenSize {
                ts,
                size: Size::new(*w, *h),
            },
            Owned::Cursor(x, y, s) => Record::CursorPosition {
                ts,
                x: *x,
                y: *y,
                shape: *s,
            },
            Owned::Shape(id, hx, hy, w, h) => Record::CursorShape {
                ts,
                id: *id,
                hotspot_x: *hx,
                hotspot_y: *hy,
                size: Size::new(*w, *h),
                pixels: &px[..(*w * *h * 4) as usize],
            },
            Owned::Chat(r, s, t) => Record::Chat {
                ts,
                role: SenderRole::from_code(*r),
                sender: s,
                text: t,
            },
            Owned::Diag(n, m, d) => Record::Diagnostic {
                ts,
                name: n,
                media_type: MediaType::from_code(*m),
                data: d,
            },
            Owned::Event(k, d) => Record::Event {
                ts,
                kind: EventKind::from_code(*k),
                detail: d,
            },
            Owned::Unknown(k, p) => Record::Unknown {
                ts,
                kind: *k,
                payload: p,
            },
        }
    }
}

fn owned() -> impl Strategy<Value = Owned> {
    prop_oneof![
        (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..64))
            .prop_map(|(k, d)| Owned::Video(k, d)),
        (1u32..5000, 1u32..5000).prop_map(|(w, h)| Owned::Size(w, h)),
        (
            any::<i32>(),
            any::<i32>(),
            proptest::option::of(any::<u32>())
        )
            .prop_map(|(x, y, s)| Owned::Cursor(x, y, s)),
        (any::<u32>(), 0u32..64, 0u32..64, 0u32..8, 0u32..8)
            .prop_map(|(i, a, b, w, h)| Owned::Shape(i, a, b, w, h)),
        (any::<u8>(), ".{0,12}", ".{0,40}").prop_map(|(r, s, t)| Owned::Chat(r, s, t)),
        (
            ".{0,12}",
            any::<u8>(),
            proptest::collection::vec(any::<u8>(), 0..64)
        )
            .prop_map(|(n, m, d)| Owned::Diag(n, m, d)),
        (any::<u16>(), ".{0,20}").prop_map(|(k, d)| Owned::Event(k, d)),
        (0x08u8..0x7f, proptest::collection::vec(any::<u8>(), 0..32))
            .prop_map(|(k, p)| Owned::Unknown(k, p)),
    ]
}

fn header() -> SessionHeader {
    SessionHeader::new("S-42", Size::new(320, 200))
        .with_portal("p")
        .with_team("t")
        .with_representative("rep")
        .with_customer("cust")
}

/// Writes a small session with every record kind; returns the bytes and
/// each record's end offset (file order).
fn sample_file() -> (Vec<u8>, Vec<u64>, u64) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.g2a");
    let mut w = Writer::create(&p, header(), WriterOptions::default().size_cap(None)).unwrap();
    let px = [7u8; 16];
    let mut ends = Vec::new();
    let recs: Vec<Record<'_>> = vec![
        Record::Video {
            ts: Timestamp::ZERO,
            codec: CODEC,
            keyframe: true,
            data: b"key0",
        },
        Record::CursorShape {
            ts: Timestamp::ZERO,
            id: 1,
            hotspot_x: 0,
            hotspot_y: 0,
            size: Size::new(2, 2),
            pixels: &px,
        },
        Record::CursorPosition {
            ts: Timestamp::from_millis(10),
            x: 5,
            y: -3,
            shape: Some(1),
        },
        Record::Video {
            ts: Timestamp::from_millis(100),
            codec: CODEC,
            keyframe: false,
            data: b"d1",
        },
        Record::Chat {
            ts: Timestamp::from_millis(90),
            role: SenderRole::Customer,
            sender: "Bob",
            text: "hello",
        },
        Record::ScreenSize {
            ts: Timestamp::from_millis(150),
            size: Size::new(640, 400),
        },
        Record::Video {
            ts: Timestamp::from_millis(200),
            codec: CODEC,
            keyframe: true,
            data: b"key1",
        },
        Record::Diagnostic {
            ts: Timestamp::from_millis(210),
            name: "sys.json",
            media_type: MediaType::Json,
            data: b"{}",
        },
        Record::Event {
            ts: Timestamp::from_millis(220),
            kind: EventKind::Reboot,
            detail: "",
        },
        Record::Video {
            ts: Timestamp::from_millis(300),
            codec: CODEC,
            keyframe: false,
            data: b"d2",
        },
    ];
    for r in &recs {
        assert_eq!(w.write(r).unwrap(), Written::Ok);
        ends.push(w.file_len());
    }
    w.finish().unwrap();
    let bytes = std::fs::read(&p).unwrap();
    let data_end = *ends.last().unwrap();
    (bytes, ends, data_end)
}

#[test]
fn finished_file_opens_from_trailer() {
    let (bytes, ends, _) = sample_file();
    let r = Reader::from_bytes(bytes).unwrap();
    assert_eq!(r.trailer(), &TrailerState::Valid);
    assert_eq!(r.record_count(), ends.len() as u64);
    assert_eq!(r.keyframes().len(), 2);
    assert_eq!(
        r.seek_keyframe(Timestamp::from_millis(199)).unwrap().ts,
        Timestamp::ZERO
    );
    assert_eq!(
        r.seek_keyframe(Timestamp::from_millis(200)).unwrap().ts,
        Timestamp::from_millis(200)
    );
    assert_eq!(r.duration(), Timestamp::from_millis(300));
    assert!(r.verify().is_intact(), "{:?}", r.verify());
    assert_eq!(r.track_stats(Track::Video).records, 5);
    assert_eq!(r.header().session_id, "S-42");
}

#[test]
fn group_ends_and_prefetch_advice() {
    let (bytes, _, _) = sample_file();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.g2a");
    std::fs::write(&path, &bytes).unwrap();
    for r in [
        Reader::from_bytes(bytes.clone()).unwrap(),
        Reader::open(&path).unwrap(),
    ] {
        let second = r.keyframes()[1];
        // A group ends where the next keyframe starts; the last one at the
        // end of the file.
        assert_eq!(r.group_end(Timestamp::from_millis(199)), second.offset);
        assert_eq!(r.group_end(Timestamp::from_millis(200)), r.len());
        assert_eq!(r.group_end(Timestamp::from_secs(99)), r.len());
        // Advice only: any range, also beyond the file or reversed, and the
        // bytes read afterwards are the same.
        r.prefetch(0, r.len());
        r.prefetch(r.len() - 1, u64::MAX);
        r.prefetch(u64::MAX - 1, u64::MAX);
        r.prefetch(second.offset, 3);
        assert!(r.verify().is_intact());
        assert_eq!(r.records().count() as u64, r.record_count());
    }
}

#[test]
fn merged_is_in_time_order() {
    let (bytes, _, _) = sample_file();
    let r = Reader::from_bytes(bytes).unwrap();
    let ts: Vec<_> = r.merged().map(|r| r.ts()).collect();
    let mut sorted = ts.clone();
    sorted.sort();
    assert_eq!(ts, sorted);
    assert_eq!(ts.len(), 10);
    // the chat at 90 ms, written after the video at 100 ms, comes first
    let kinds: Vec<_> = r.merged().map(|r| r.track()).collect();
    assert_eq!(kinds[3], Track::Chat);
}

/// Cuts the file at every byte: the reader opens every cut past the header
/// and returns exactly the records that end at or before the cut.
#[test]
fn truncation_sweep() {
    let (bytes, ends, data_end) = sample_file();
    let header_len = Reader::from_bytes(bytes.clone()).unwrap().header_len();
    for cut in 0..bytes.len() {
        let res = Reader::from_bytes(bytes[..cut].to_vec());
        if (cut as u64) < header_len {
            assert!(res.is_err(), "cut {cut} inside the header must fail");
            continue;
        }
        let r = res.unwrap();
        let expect = ends.iter().filter(|&&e| e <= cut as u64).count();
        assert_eq!(r.records().count(), expect, "cut at {cut}");
        assert_eq!(r.record_count(), expect as u64, "cut at {cut}");
        let complete_end = ends
            .iter()
            .copied()
            .filter(|&e| e <= cut as u64)
            .max()
            .unwrap_or(header_len);
        if complete_end < cut as u64 && cut as u64 <= data_end {
            // the partial tail is reported as lost, exactly
            let lost: u64 = r.damage().iter().map(|d| d.end - d.start).sum();
            assert_eq!(
                lost,
                cut as u64 - complete_end,
                "cut at {cut}: {:?}",
                r.damage()
            );
        }
        assert!(!r.verify().is_intact() || cut == bytes.len());
    }
}

/// Every single-bit flip after the header is detected by verify.
#[test]
fn bit_flips_detected() {
    let (bytes, _, _) = sample_file();
    let header_len = Reader::from_bytes(bytes.clone()).unwrap().header_len() as usize;
    for i in 0..bytes.len() {
        for bit in [0u8, 3, 7] {
            let mut b = bytes.clone();
            b[i] ^= 1 << bit;
            match Reader::from_bytes(b) {
                Err(_) => assert!(i < header_len, "flip at {i} rejected the file"),
                Ok(r) => assert!(
                    !r.verify().is_intact(),
                    "flip at byte {i} bit {bit} not detected"
                ),
            }
        }
    }
}

#[test]
fn damage_in_the_middle_keeps_the_rest() {
    let (mut bytes, ends, _) = sample_file();
    // destroy the 4th record (index 3)
    for b in &mut bytes[ends[2] as usize..ends[3] as usize] {
        *b = 0x55;
    }
    let r = Reader::from_bytes(bytes).unwrap();
    let v = r.verify();
    assert_eq!(v.records, 9);
    assert_eq!(v.damage.len(), 1);
    assert_eq!((v.damage[0].start, v.damage[0].end), (ends[2], ends[3]));
}

#[test]
fn time_going_backwards_is_refused_and_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("b.g2a");
    let mut w = Writer::create(&p, header(), WriterOptions::default()).unwrap();
    w.write(&Record::Chat {
        ts: Timestamp::from_secs(5),
        role: SenderRole::System,
        sender: "",
        text: "a",
    })
    .unwrap();
    let e = w.write(&Record::Chat {
        ts: Timestamp::from_secs(4),
        role: SenderRole::System,
        sender: "",
        text: "b",
    });
    assert!(matches!(
        e,
        Err(FormatError::TimeWentBackwards {
            track: Track::Chat,
            ..
        })
    ));
    // other tracks may be earlier
    w.write(&Record::Event {
        ts: Timestamp::from_secs(1),
        kind: EventKind::Reboot,
        detail: "",
    })
    .unwrap();
    w.finish().unwrap();
    let r = Reader::open(&p).unwrap();
    assert!(r.verify().is_intact());
    assert_eq!(r.record_count(), 2);
}

#[test]
fn delta_before_keyframe_needs_keyframe() {
    let dir = tempfile::tempdir().unwrap();
    let mut w =
        Writer::create(dir.path().join("k.g2a"), header(), WriterOptions::default()).unwrap();
    let d = Record::Video {
        ts: Timestamp::ZERO,
        codec: CODEC,
        keyframe: false,
        data: b"x",
    };
    assert_eq!(w.write(&d).unwrap(), Written::NeedKeyframe);
    assert!(w.needs_keyframe());
}

fn write_frames(w: &mut Writer, n: u64, size: usize) -> u64 {
    let data = vec![0xABu8; size];
    let mut written = 0;
    for i in 0..n {
        let ts = Timestamp::from_millis(i * 100);
        let key = i % 10 == 0;
        let mut rec = Record::Video {
            ts,
            codec: CODEC,
            keyframe: key,
            data: &data,
        };
        match w.write(&rec).unwrap() {
            Written::Ok => written += 1,
            Written::NeedKeyframe => {
                rec = Record::Video {
                    ts,
                    codec: CODEC,
                    keyframe: true,
                    data: &data,
                };
                assert_eq!(w.write(&rec).unwrap(), Written::Ok);
                written += 1;
            }
            Written::Stopped => break,
        }
        w.write(&Record::CursorPosition {
            ts,
            x: i as i32,
            y: 0,
            shape: None,
        })
        .unwrap();
    }
    written
}

#[test]
fn size_cap_continues_in_numbered_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cap.g2a");
    let cap = 100_000;
    let mut w = Writer::create(&p, header(), WriterOptions::default().size_cap(Some(cap))).unwrap();
    let written = write_frames(&mut w, 200, 1500);
    assert_eq!(written, 200);
    let s = w.finish().unwrap();
    assert!(s.paths.len() >= 3, "{:?}", s.paths);
    assert_eq!(s.paths[1], dir.path().join("cap.001.g2a"));
    for (i, path) in s.paths.iter().enumerate() {
        let len = std::fs::metadata(path).unwrap().len();
        assert!(len <= cap, "{} is {len} bytes", path.display());
        let r = Reader::open(path).unwrap();
        assert!(r.verify().is_intact());
        // every file starts with a keyframe
        let first_video = r
            .records()
            .find(|r| r.track() == Track::Video && matches!(r, Record::Video { .. }))
            .unwrap();
        assert!(first_video.is_keyframe(), "file {i}");
        if i > 0 {
            let c = r.header().continuation.clone().unwrap();
            assert_eq!(c.index, i as u32);
            assert_eq!(
                c.predecessor,
                s.paths[i - 1].file_name().unwrap().to_string_lossy()
            );
        }
    }
    let set = SessionSet::open(&p).unwrap();
    assert_eq!(set.files().len(), s.paths.len());
    let videos = set
        .merged()
        .filter(|r| matches!(r, Record::Video { .. }))
        .count();
    assert_eq!(videos, 200);
    assert_eq!(set.duration(), Timestamp::from_millis(19_900));
    let pos = set.seek_keyframe(Timestamp::from_millis(19_950)).unwrap();
    assert_eq!(pos.file, s.paths.len() - 1);
}

#[test]
fn size_cap_stop_policy_ends_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("stop.g2a");
    let cap = 80_000;
    let mut w = Writer::create(
        &p,
        header(),
        WriterOptions::default()
            .size_cap(Some(cap))
            .cap_policy(CapPolicy::Stop),
    )
    .unwrap();
    let written = write_frames(&mut w, 200, 1500);
    assert!(written < 200);
    assert!(w.is_stopped());
    let s = w.finish().unwrap();
    assert_eq!(s.paths.len(), 1);
    assert!(std::fs::metadata(&p).unwrap().len() <= cap);
    let r = Reader::open(&p).unwrap();
    assert!(r.verify().is_intact());
    assert_eq!(r.track_stats(Track::Video).records, written);
}

#[test]
fn cursor_shapes_repeated_in_a_continuation_never_break_the_cap() {
    // Found by the writer_ops fuzz target: shapes repeated at the start of a
    // continuation file plus the record that caused the roll-over went over
    // the cap.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("shapes.g2a");
    let cap = MIN_SIZE_CAP + 100;
    let mut w = Writer::create(&p, header(), WriterOptions::default().size_cap(Some(cap))).unwrap();
    let pixels = vec![7u8; 100 * 100 * 4];
    for id in 0..2 {
        let r = w.write(&Record::CursorShape {
            ts: Timestamp::ZERO,
            id,
            hotspot_x: 1,
            hotspot_y: 1,
            size: Size::new(100, 100),
            pixels: &pixels,
        });
        assert_eq!(r.unwrap(), Written::Ok);
    }
    let data = vec![1u8; 60_000];
    let video = Record::Video {
        ts: Timestamp::from_millis(5),
        codec: CODEC,
        keyframe: true,
        data: &data,
    };
    assert_eq!(w.write(&video).unwrap(), Written::Ok);
    let s = w.finish().unwrap();
    assert!(s.paths.len() >= 2);
    for path in &s.paths {
        assert!(std::fs::metadata(path).unwrap().len() <= cap);
        assert!(Reader::open(path).unwrap().verify().is_intact());
    }
    let set = SessionSet::open(&p).unwrap();
    assert_eq!(set.merged().filter(|r| r.is_keyframe()).count(), 1);
}

#[test]
fn record_larger_than_cap_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = Writer::create(
        dir.path().join("big.g2a"),
        header(),
        WriterOptions::default().size_cap(Some(MIN_SIZE_CAP)),
    )
    .unwrap();
    let data = vec![0u8; MIN_SIZE_CAP as usize];
    let e = w.write(&Record::Video {
        ts: Timestamp::ZERO,
        codec: CODEC,
        keyframe: true,
        data: &data,
    });
    assert!(matches!(e, Err(FormatError::RecordTooLarge { .. })));
}

#[test]
fn dropped_writer_leaves_a_recoverable_file_and_reader_follows_growth() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("live.g2a");
    let mut w = Writer::create(&p, header(), WriterOptions::default()).unwrap();
    write_frames(&mut w, 5, 100);
    let mut r = Reader::open(&p).unwrap();
    assert_eq!(r.trailer(), &TrailerState::Missing);
    assert_eq!(r.track_stats(Track::Video).records, 5);
    write_frames_from(&mut w, 5, 10);
    assert!(r.refresh().unwrap());
    assert_eq!(r.track_stats(Track::Video).records, 10);
    drop(w);
    let r = Reader::open(&p).unwrap();
    assert_eq!(r.record_count(), 20);
    assert!(!r.verify().is_intact());
    let out = dir.path().join("fixed.g2a");
    let rep = recover(&r, &out).unwrap();
    assert_eq!(rep.records, 20);
    let fixed = Reader::open(&out).unwrap();
    assert!(fixed.verify().is_intact());
    assert_eq!(
        fixed.keyframes(),
        r.keyframes()
            .iter()
            .map(|k| KeyframeEntry {
                ts: k.ts,
                offset: k.offset
            })
            .collect::<Vec<_>>()
            .as_slice()
    );
}

fn write_frames_from(w: &mut Writer, from: u64, to: u64) {
    for i in from..to {
        let ts = Timestamp::from_millis(i * 100);
        w.write(&Record::Video {
            ts,
            codec: CODEC,
            keyframe: false,
            data: b"d",
        })
        .unwrap();
        w.write(&Record::CursorPosition {
            ts,
            x: 0,
            y: 0,
            shape: None,
        })
        .unwrap();
    }
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    assert!(matches!(
        Reader::from_bytes(b"hello world".to_vec()),
        Err(FormatError::BadMagic { .. })
    ));
    assert!(Reader::from_bytes(Vec::new()).is_err());
    let (bytes, _, _) = sample_file();
    let h = Reader::from_bytes(bytes.clone()).unwrap().header_len() as usize;
    let mut g = bytes[..h].to_vec();
    g.extend(std::iter::repeat_n(SYNC_FOR_TESTS, 50_000));
    let r = Reader::from_bytes(g).unwrap();
    assert_eq!(r.record_count(), 0);
    assert_eq!(r.damage().len(), 1);
}

const SYNC_FOR_TESTS: u8 = 0xA7;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn every_record_kind_roundtrips(recs in proptest::collection::vec((owned(), 0u64..1_000_000), 1..24)) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.g2a");
        let mut w = Writer::create(&p, header(), WriterOptions::default().size_cap(None)).unwrap();
        let px = vec![9u8; 8 * 8 * 4];
        let mut t = 0u64;
        let mut expected = Vec::new();
        for (o, dt) in &recs {
            t += dt;
            let rec = o.record(Timestamp::from_micros(t), &px);
            if w.write(&rec).unwrap() == Written::Ok {
                expected.push(format!("{rec:?}"));
            }
        }
        w.finish().unwrap();
        let r = Reader::open(&p).unwrap();
        prop_assert!(r.verify().is_intact());
        let got: Vec<String> = r.records().map(|r| format!("{r:?}")).collect();
        prop_assert_eq!(got, expected);
    }
}

#[test]
fn verify_flags_a_trailer_whose_lateness_disagrees_with_the_records() {
    // §8.7: the trailer's lateness, statistics and index must all match
    // what the records give.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("late.g2a");
    let mut w = Writer::create(
        &p,
        SessionHeader::new("L", Size::new(8, 8)),
        WriterOptions::default(),
    )
    .unwrap();
    for (ms, detail) in [(0, "a"), (500, "b"), (200, ""), (900, "c")] {
        let ts = Timestamp::from_millis(ms);
        if detail.is_empty() {
            // another track, 300 ms behind the latest record
            w.write(&Record::Event {
                ts,
                kind: EventKind::RemoteControlGranted,
                detail,
            })
            .unwrap();
        } else {
            w.write(&Record::Chat {
                ts,
                role: SenderRole::System,
                sender: "",
                text: detail,
            })
            .unwrap();
        }
    }
    w.finish().unwrap();
    let good = std::fs::read(&p).unwrap();
    let r = Reader::from_bytes(good.clone()).unwrap();
    assert!(r.verify().is_intact());
    assert_eq!(r.max_lateness(), std::time::Duration::from_millis(300));

    // The same trailer with another lateness, framed and pointed to anew.
    let at = u64::from_le_bytes(good[good.len() - 16..good.len() - 8].try_into().unwrap());
    let mut recs = r.records_from(at);
    assert!(recs.next().is_none());
    let trailer_start = at as usize;
    let framed = &good[trailer_start..good.len() - 16];
    // sync, kind, flags, ts varint, len varint, header check (2), payload, crc (4)
    let mut i = 3;
    while framed[i] & 0x80 != 0 {
        i += 1;
    }
    let len = usize::from(framed[i + 1]);
    assert!(len < 128);
    let payload = &framed[i + 4..i + 4 + len];
    assert_eq!(i + 4 + len + 4, framed.len());
    let mut summary = crate::trailer::Summary::decode(payload, at).unwrap();
    summary.lateness = 299_000;
    let mut bad = good[..trailer_start].to_vec();
    crate::record::encode_framed(
        &mut bad,
        0x7F,
        0,
        Timestamp::from_millis(900),
        &summary.encode(),
    );
    bad.extend_from_slice(&at.to_le_bytes());
    bad.extend_from_slice(b"G2AEND\r\n");
    let r = Reader::from_bytes(bad).unwrap();
    assert_eq!(r.max_lateness(), std::time::Duration::from_micros(299_000));
    let report = r.verify();
    assert!(report.damage.is_empty());
    assert!(
        matches!(&report.trailer, TrailerState::Invalid(why) if why.contains("disagree")),
        "{:?}",
        report.trailer
    );
}
