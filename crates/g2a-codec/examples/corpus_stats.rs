//! Encodes raw BGRA frames from standard input (as `ffmpeg -f rawvideo
//! -pix_fmt bgra -` writes them), checks that decoding gives back every
//! frame exactly, and prints size and single-thread speed.
//!
//! ```sh
//! ffmpeg -loglevel error -i clip.mkv -f rawvideo -pix_fmt bgra - |
//!     cargo run --release -p g2a-codec --example corpus_stats -- 1920 1080
//! ```
use std::io::Read;
use std::time::{Duration, Instant};

use g2a_codec::{Decoder, EncodedKind, Encoder, EncoderConfig};
use g2a_core::{FrameRef, Limits, PixelFormat, Size};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (w, h): (u32, u32) = (args[1].parse().unwrap(), args[2].parse().unwrap());
    let size = Size::new(w, h);
    let mut enc = Encoder::new(EncoderConfig::default()).unwrap();
    let mut dec = Decoder::new(Limits::default());
    dec.set_threads(1);
    let mut buf = vec![0u8; (w * h * 4) as usize];
    let mut pkt = Vec::new();
    let (mut te, mut td) = (Duration::ZERO, Duration::ZERO);
    let (mut frames, mut bytes, mut worst_since_key) = (0u64, 0u64, 0u64);
    let mut since_key = 0u64;
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    while input.read_exact(&mut buf).is_ok() {
        let f = FrameRef::packed(&buf, size, PixelFormat::Bgra8).unwrap();
        let t = Instant::now();
        let kind = enc.encode(&f, false, &mut pkt).unwrap();
        te += t.elapsed();
        let t = Instant::now();
        let out = dec.decode(&pkt).unwrap();
        td += t.elapsed();
        assert!(
            out.data
                .chunks_exact(4)
                .zip(buf.chunks_exact(4))
                .all(|(a, b)| a[..3] == b[..3]),
            "frame {frames} differs"
        );
        frames += 1;
        bytes += pkt.len() as u64;
        since_key = if kind == EncodedKind::Key {
            pkt.len() as u64
        } else {
            since_key + pkt.len() as u64
        };
        worst_since_key = worst_since_key.max(since_key);
    }
    let s = enc.stats();
    println!(
        "frames {frames} bytes {bytes} ({:.0} B/frame) | key {} ({} B) delta {} ({} B) unchanged {} | copy tiles {} | encode {:.0} fps, decode {:.0} fps | worst key+deltas {} B | lossless ok",
        bytes as f64 / frames as f64,
        s.key_frames, s.key_bytes, s.delta_frames, s.delta_bytes, s.unchanged_frames, s.copy_tiles,
        frames as f64 / te.as_secs_f64(), frames as f64 / td.as_secs_f64(), worst_since_key
    );
}
