//! The screen codec on real sessions: encode and decode speed per clip.
//!
//! Reads the first `CODEC_BENCH_FRAMES` (default 60) frames of each clip of
//! `../shared/corpus/` (decoded with the `ffmpeg` command); without the
//! corpus, it falls back to the samples in `testdata/`.
//!
//! `cargo bench -p g2a-benches --bench codec`. The full-corpus report with
//! sizes, seek times and memory beside the anchors is `benches/report.sh`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use g2a_benches::{load_clips, Clip};
use g2a_codec::{Decoder, Encoder, EncoderConfig};
use g2a_core::{FrameRef, Limits, PixelFormat};

fn encode_all(clip: &Clip) -> Vec<Vec<u8>> {
    let mut enc = Encoder::new(EncoderConfig::default()).expect("encoder");
    clip.frames
        .iter()
        .map(|f| {
            let frame = FrameRef::packed(f, clip.size, PixelFormat::Bgra8).expect("frame");
            let mut p = Vec::new();
            enc.encode(&frame, false, &mut p).expect("encode");
            p
        })
        .collect()
}

fn codec(c: &mut Criterion) {
    let frames: usize = std::env::var("CODEC_BENCH_FRAMES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    for clip in load_clips(frames) {
        let packets = encode_all(&clip);
        let bytes: usize = packets.iter().map(Vec::len).sum();
        eprintln!(
            "{}: {} frames of {}, {} bytes encoded ({:.0} B/frame)",
            clip.name,
            clip.frames.len(),
            clip.size,
            bytes,
            bytes as f64 / clip.frames.len() as f64
        );
        let mut g = c.benchmark_group(format!("codec/{}", clip.name));
        g.sample_size(10);
        g.throughput(Throughput::Elements(clip.frames.len() as u64));
        g.bench_function("encode", |b| b.iter(|| black_box(encode_all(&clip))));
        g.bench_function("decode", |b| {
            b.iter_batched(
                || Decoder::new(Limits::default()),
                |mut dec| {
                    for p in &packets {
                        black_box(dec.decode(p).expect("decode").data.len());
                    }
                },
                BatchSize::LargeInput,
            )
        });
        // The first packet is a keyframe: what every seek decodes first.
        g.throughput(Throughput::Elements(1));
        g.bench_function("keyframe decode, 1 thread", |b| {
            let mut dec = Decoder::new(Limits::default());
            dec.set_threads(1);
            b.iter(|| black_box(dec.decode(&packets[0]).expect("decode").data.len()))
        });
        // An unchanged frame: the cost of finding that nothing changed.
        let still = &clip.frames[0];
        let mut enc = Encoder::new(EncoderConfig::default()).expect("encoder");
        let frame = FrameRef::packed(still, clip.size, PixelFormat::Bgra8).expect("frame");
        let mut p = Vec::new();
        enc.encode(&frame, false, &mut p).expect("encode");
        g.throughput(Throughput::Elements(1));
        g.bench_function("unchanged frame", |b| {
            b.iter(|| enc.encode(&frame, false, &mut p).expect("encode"))
        });
        g.finish();
    }
}

criterion_group!(benches, codec);
criterion_main!(benches);
