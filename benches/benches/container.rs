//! The container at scale: a recording with 1,000,000 chat, cursor and
//! event records and 100,000 video records (a keyframe every 50).
//!
//! Times: opening it (finished: trailer index; unfinished: full scan),
//! a seek to a random time (keyframe lookup in the index, then reading the
//! keyframe record), merged iteration, and writing.
//!
//! `cargo bench -p g2a-benches --bench container`
//! (`CONTAINER_BENCH_SCALE=0.1` for a tenth of the records.)

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use g2a_core::{Size, Timestamp};
use g2a_format::{
    CodecId, EventKind, Reader, Record, SenderRole, SessionHeader, SyncPolicy, Writer,
    WriterOptions,
};

fn scale() -> f64 {
    std::env::var("CONTAINER_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

/// Writes the big recording; returns (records, duration).
fn write_big(path: &Path) -> (u64, Timestamp) {
    let videos = (100_000.0 * scale()) as u64;
    let others = (1_000_000.0 * scale()) as u64;
    let opts = WriterOptions::default()
        .size_cap(None)
        .sync(SyncPolicy::Never);
    let header = SessionHeader::new("BENCH", Size::new(1920, 1080));
    let mut w = Writer::create(path, header, opts).expect("create");
    let payload = vec![0x5Au8; 200];
    // 100 ms per video frame; others spread evenly between them.
    let per = others / videos;
    let mut t = 0u64;
    for v in 0..videos {
        let ts = Timestamp::from_micros(v * 100_000);
        w.write(&Record::Video {
            ts,
            codec: CodecId(*b"G2SC"),
            keyframe: v % 50 == 0,
            data: &payload,
        })
        .expect("video");
        for k in 0..per {
            t = v * 100_000 + k * (100_000 / per.max(1));
            let ts = Timestamp::from_micros(t);
            let rec = match k % 3 {
                0 => Record::CursorPosition {
                    ts,
                    x: (k * 7 % 1920) as i32,
                    y: (k * 3 % 1080) as i32,
                    shape: Some(1),
                },
                1 => Record::Chat {
                    ts,
                    role: SenderRole::Customer,
                    sender: "Kim",
                    text: "the printer says offline again",
                },
                _ => Record::Event {
                    ts,
                    kind: EventKind::FileTransferred,
                    detail: "report.pdf",
                },
            };
            w.write(&rec).expect("record");
        }
    }
    let s = w.finish().expect("finish");
    (s.records, Timestamp::from_micros(t))
}

fn container(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("big.g2a");
    let t = std::time::Instant::now();
    let (records, duration) = write_big(&path);
    let bytes = std::fs::metadata(&path).expect("file").len();
    eprintln!(
        "wrote {records} records, {bytes} bytes, {duration} in {:.2} s ({:.1} M records/s)",
        t.elapsed().as_secs_f64(),
        records as f64 / t.elapsed().as_secs_f64() / 1e6
    );
    // The same file without its trailer: what a killed recorder leaves.
    let unfinished = dir.path().join("unfinished.g2a");
    {
        let r = Reader::open(&path).expect("open");
        let mut recs = r.records();
        let mut end = 0;
        while recs.next_with_offset().is_some() {
            end = recs.position();
        }
        let full = std::fs::read(&path).expect("read");
        std::fs::write(&unfinished, &full[..end as usize]).expect("write");
    }

    let mut g = c.benchmark_group("container");
    g.sample_size(20);
    g.bench_function("open finished (trailer index)", |b| {
        b.iter(|| black_box(Reader::open(&path).expect("open")))
    });
    g.bench_function("open unfinished (full scan)", |b| {
        b.iter(|| black_box(Reader::open(&unfinished).expect("open")))
    });
    let reader = Reader::open(&path).expect("open");
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    g.bench_function("seek to a random time", |b| {
        b.iter_batched(
            || {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                Timestamp::from_micros(x % duration.as_micros().max(1))
            },
            |ts| {
                let k = reader.seek_keyframe(ts).expect("keyframe");
                // Read the keyframe record itself: what a player does next.
                let rec = reader.records_from(k.offset).next().expect("record");
                black_box(rec.ts())
            },
            BatchSize::SmallInput,
        )
    });
    g.throughput(Throughput::Elements(records));
    g.bench_function("merged iteration of every record", |b| {
        b.iter(|| black_box(reader.merged().count()))
    });
    g.finish();

    let mut g = c.benchmark_group("writer");
    g.sample_size(10);
    let small = dir.path().join("w.g2a");
    let n = 100_000u64;
    g.throughput(Throughput::Elements(n));
    g.bench_function("append 100k chat records", |b| {
        b.iter(|| {
            let opts = WriterOptions::default().sync(SyncPolicy::Never);
            let mut w = Writer::create(&small, SessionHeader::new("W", Size::new(64, 64)), opts)
                .expect("create");
            for i in 0..n {
                w.write(&Record::Chat {
                    ts: Timestamp::from_micros(i),
                    role: SenderRole::Representative,
                    sender: "Ann",
                    text: "hello",
                })
                .expect("write");
            }
            black_box(w.finish().expect("finish"))
        })
    });
    g.finish();
}

criterion_group!(benches, container);
criterion_main!(benches);
