//! Arbitrary sequences of writer operations (any record kind, any
//! timestamps, a small size cap, either cap policy, syncs): the writer never
//! panics, never exceeds the cap, and every record it accepted reads back,
//! in order, from the continuation set.
#![no_main]

use arbitrary::Arbitrary;
use g2a_core::{Size, Timestamp};
use g2a_format::{
    CapPolicy, CodecId, EventKind, MediaType, Record, SenderRole, SessionHeader, SessionSet,
    SyncPolicy, Writer, WriterOptions, Written, MIN_SIZE_CAP,
};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Op {
    Video {
        dt: u16,
        key: bool,
        len: u16,
        fill: u8,
    },
    Size {
        dt: u16,
        w: u16,
        h: u16,
    },
    Cursor {
        dt: u16,
        x: i32,
        y: i32,
        shape: Option<u8>,
    },
    Shape {
        dt: u16,
        id: u8,
        w: u8,
        h: u8,
    },
    Chat {
        dt: u16,
        role: u8,
        sender: String,
        text: String,
    },
    Diag {
        dt: u16,
        name: String,
        media: u8,
        len: u16,
    },
    Event {
        dt: u16,
        code: u8,
        detail: String,
    },
    Backwards {
        by: u16,
    },
    Sync,
}

#[derive(Arbitrary, Debug)]
struct Input {
    cap_extra: u16,
    stop: bool,
    /// End by dropping the writer without `finish` (a killed recorder).
    abort: bool,
    ops: Vec<Op>,
}

fn owned(rec: &Record<'_>) -> Option<String> {
    // A comparable rendering of the records the test wrote; cursor shapes
    // are repeated at the start of each continuation file, so leave them out.
    match rec {
        Record::CursorShape { .. } => None,
        other => Some(format!("{other:?}")),
    }
}

fuzz_target!(|input: Input| {
    let dir = tempfile_dir();
    let path = dir.join("fuzz.g2a");
    let cap = MIN_SIZE_CAP + u64::from(input.cap_extra) * 16;
    let opts = WriterOptions::default()
        .size_cap(Some(cap))
        .cap_policy(if input.stop {
            CapPolicy::Stop
        } else {
            CapPolicy::Continue
        })
        .sync(SyncPolicy::Never);
    let header = SessionHeader::new("fuzz", Size::new(64, 48));
    let mut w = Writer::create(&path, header, opts).expect("create");
    let mut now = 0u64;
    let mut accepted: Vec<String> = Vec::new();
    let mut last_event: Option<u64> = None;
    let big = vec![0u8; 1 << 18];
    for op in input.ops.iter().take(256) {
        let ts = |dt: &u16, now: &mut u64| {
            *now += u64::from(*dt);
            Timestamp::from_micros(*now)
        };
        let name_buf;
        let rec = match op {
            Op::Video { dt, key, len, fill } => {
                let data = &big[..usize::from(*len)];
                let _ = fill;
                Record::Video {
                    ts: ts(dt, &mut now),
                    codec: CodecId(*b"FUZZ"),
                    keyframe: *key,
                    data,
                }
            }
            Op::Size { dt, w, h } => Record::ScreenSize {
                ts: ts(dt, &mut now),
                size: Size::new(u32::from(*w), u32::from(*h)),
            },
            Op::Cursor { dt, x, y, shape } => Record::CursorPosition {
                ts: ts(dt, &mut now),
                x: *x,
                y: *y,
                shape: shape.map(u32::from),
            },
            Op::Shape { dt, id, w, h } => {
                let n = usize::from(*w) * usize::from(*h) * 4;
                Record::CursorShape {
                    ts: ts(dt, &mut now),
                    id: u32::from(*id),
                    hotspot_x: 0,
                    hotspot_y: 0,
                    size: Size::new(u32::from(*w), u32::from(*h)),
                    pixels: &big[..n],
                }
            }
            Op::Chat {
                dt,
                role,
                sender,
                text,
            } => Record::Chat {
                ts: ts(dt, &mut now),
                role: SenderRole::from_code(*role),
                sender,
                text,
            },
            Op::Diag {
                dt,
                name,
                media,
                len,
            } => {
                name_buf = name.clone();
                Record::Diagnostic {
                    ts: ts(dt, &mut now),
                    name: &name_buf,
                    media_type: MediaType::from_code(*media),
                    data: &big[..usize::from(*len)],
                }
            }
            Op::Event { dt, code, detail } => Record::Event {
                ts: ts(dt, &mut now),
                kind: EventKind::from_code(u16::from(*code)),
                detail,
            },
            Op::Backwards { by } => {
                // Time may not go backwards within a track.
                if let Some(back) = last_event.and_then(|t: u64| t.checked_sub(u64::from(*by) + 1))
                {
                    let r = w.write(&Record::Event {
                        ts: Timestamp::from_micros(back),
                        kind: EventKind::Reboot,
                        detail: "",
                    });
                    assert!(r.is_err(), "time going backwards is refused");
                }
                continue;
            }
            Op::Sync => {
                w.sync().expect("sync");
                continue;
            }
        };
        match w.write(&rec) {
            Ok(Written::Ok) => {
                if let Record::Event { ts, .. } = rec {
                    last_event = Some(ts.as_micros());
                }
                accepted.extend(owned(&rec));
            }
            Ok(Written::NeedKeyframe) => assert!(matches!(
                rec,
                Record::Video {
                    keyframe: false,
                    ..
                }
            )),
            Ok(Written::Stopped) => break,
            Ok(_) | Err(_) => {}
        }
    }
    let set = if input.abort {
        // Abort, then reopen: every accepted record is still there, and
        // recovery turns each file into an intact one.
        drop(w);
        let set = SessionSet::open(&path).expect("an aborted set opens");
        for (i, f) in set.files().iter().enumerate() {
            let out = dir.join(format!("recovered-{i}.g2a"));
            g2a_format::recover(f, &out).expect("recover");
            let r = g2a_format::Reader::open(&out).expect("a recovered file opens");
            assert!(r.verify().is_intact(), "a recovered file is intact");
            assert_eq!(r.record_count(), f.record_count());
        }
        set
    } else {
        let summary = w.finish().expect("finish");
        for p in &summary.paths {
            let len = std::fs::metadata(p).expect("file exists").len();
            assert!(
                len <= cap,
                "{} is {len} bytes, over the cap of {cap}",
                p.display()
            );
        }
        let set = SessionSet::open(&path).expect("the set opens");
        for f in set.files() {
            assert!(f.verify().is_intact(), "a finished file is intact");
        }
        set
    };
    for f in set.files() {
        assert!(f.len() <= cap, "a file over the cap");
    }
    let back: Vec<String> = set.merged().filter_map(|r| owned(&r)).collect();
    assert_eq!(back, accepted, "every accepted record reads back in order");
    let _ = std::fs::remove_dir_all(&dir);
});

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("g2a-fuzz-w-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
