//! Makes a long recording for measuring the replay app: copies the records
//! of an existing recording `LOOPS` times (timestamps shifted, packets
//! copied as they are: each loop starts with the source's first keyframe),
//! with a chat message every two minutes and a session event every ten.
//!
//! ```text
//! g2a import ../shared/corpus/desktop-1080.mkv -o /tmp/play-desktop.g2a
//! cargo run --release -p g2a-play --example make_hour -- /tmp/play-desktop.g2a /tmp/play-hour.g2a 45
//! ```

use g2a_core::Timestamp;
use g2a_format::{EventKind, Reader, Record, SenderRole, SessionHeader, Writer, WriterOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output, loops] = args.as_slice() else {
        return Err("usage: make_hour INPUT.g2a OUTPUT.g2a LOOPS".into());
    };
    let loops: u64 = loops.parse()?;
    let src = Reader::open(input)?;
    let span = src.duration().as_micros() + 100_000;
    let header = SessionHeader::new("HOUR-0001", src.header().screen_size)
        .with_representative("Ann Agent")
        .with_customer("Kim Customer");
    let mut w = Writer::create(output, header, WriterOptions::default())?;
    let mut next_chat = 0u64;
    for l in 0..loops {
        let shift = |t: Timestamp| Timestamp::from_micros(l * span + t.as_micros());
        for rec in src.merged() {
            let ts = shift(rec.ts());
            while next_chat <= ts.as_micros() {
                let at = Timestamp::from_micros(next_chat);
                let n = next_chat / 120_000_000;
                let text = format!("message {n}");
                w.write(&Record::Chat {
                    ts: at,
                    role: SenderRole::Customer,
                    sender: "Kim Customer",
                    text: &text,
                })?;
                if n % 5 == 0 {
                    w.write(&Record::Event {
                        ts: at,
                        kind: EventKind::RemoteControlGranted,
                        detail: "full control",
                    })?;
                }
                next_chat += 120_000_000;
            }
            let copy = match rec {
                Record::Video {
                    codec,
                    keyframe,
                    data,
                    ..
                } => Record::Video {
                    ts,
                    codec,
                    keyframe,
                    data,
                },
                Record::ScreenSize { size, .. } => Record::ScreenSize { ts, size },
                Record::CursorPosition { x, y, shape, .. } => {
                    Record::CursorPosition { ts, x, y, shape }
                }
                _ => continue,
            };
            w.write(&copy)?;
        }
    }
    let s = w.finish()?;
    println!("{output}: {s:?}");
    Ok(())
}
