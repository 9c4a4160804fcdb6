//! `g2a demo -o DIR`: the main job on the embedded sample session.
//!
//! Records the real screen clips of `testdata/` (a terminal, then a desktop
//! with a dragged window) with chat, diagnostics, session events and a
//! cursor track through the `Recorder`; verifies the file; replays it with
//! the `Player` and checks every frame against the input; seeks and writes
//! a PNG; exports it to `demo.mp4`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use g2a::{Player, Recorder, RecorderOptions};
use g2a_core::{FrameRef, PixelFormat, Size, Timestamp};
use g2a_format::{EventKind, MediaType, Reader, SenderRole, SessionHeader};

/// Arguments of `g2a demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Directory for the outputs (created if needed).
    #[arg(short, long, default_value = "g2a-demo")]
    output: PathBuf,
}

const SIZE: Size = Size::new(960, 540);
const TERMINAL: &[u8] = include_bytes!("../../../../testdata/term-960x540-40f.bgra.zst");
const DESKTOP: &[u8] = include_bytes!("../../../../testdata/desktop-960x540-40f.bgra.zst");

fn frames() -> anyhow::Result<Vec<Vec<u8>>> {
    let mut all = Vec::new();
    for clip in [TERMINAL, DESKTOP] {
        let raw = zstd::decode_all(clip).context("the embedded sample")?;
        all.extend(
            raw.chunks_exact(SIZE.area() as usize * 4)
                .map(<[u8]>::to_vec),
        );
    }
    Ok(all)
}

fn ts(i: usize) -> Timestamp {
    Timestamp::from_millis(i as u64 * 100)
}

/// A 12×19 arrow cursor: black outline, white fill.
fn arrow() -> (Size, Vec<u8>) {
    let (w, h) = (12usize, 19usize);
    let mut px = vec![0u8; w * h * 4];
    for y in 0..h {
        let width = (y + 1).min(w).min(if y > 15 { 0 } else { w });
        for x in 0..width.max(usize::from(y > 15)) {
            let edge = x == 0 || x + 1 == width || y == 15 || y + 1 == h;
            let v = if edge { 0 } else { 255 };
            px[(y * w + x) * 4..(y * w + x) * 4 + 4].copy_from_slice(&[v, v, v, 255]);
        }
    }
    (Size::new(w as u32, h as u32), px)
}

pub(crate) fn run(a: Args) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&a.output)
        .with_context(|| format!("cannot create {}", a.output.display()))?;
    let path = a.output.join("demo.g2a");
    let frames = frames()?;
    let raw_bytes = frames.len() as u64 * SIZE.area() * 4;

    // 1. Record.
    let header = SessionHeader::new("DEMO-0001", SIZE)
        .with_portal("Support")
        .with_team("Tier 1")
        .with_representative("Ann Agent")
        .with_customer("Kim Customer")
        .with_start_time_unix_micros(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_micros() as i64)
                .unwrap_or(0),
        )
        .with_recorder("g2a demo", env!("CARGO_PKG_VERSION"));
    let t0 = Instant::now();
    let mut rec = Recorder::create(&path, header, RecorderOptions::default())?;
    let (shape_size, shape) = arrow();
    rec.push_cursor_shape(Timestamp::ZERO, 1, (0, 0), shape_size, &shape)?;
    rec.push_event(
        Timestamp::ZERO,
        EventKind::ParticipantJoined,
        "Kim Customer",
    )?;
    for (i, f) in frames.iter().enumerate() {
        let t = ts(i);
        match i {
            2 => rec.push_chat(
                t,
                SenderRole::Customer,
                "Kim Customer",
                "My terminal output looks wrong.",
            )?,
            10 => rec.push_event(t, EventKind::RemoteControlGranted, "full control")?,
            12 => rec.push_diagnostic(
                t,
                "system-info.json",
                MediaType::Json,
                br#"{"os":"Debian GNU/Linux 12","cpus":2,"memory_gib":24}"#,
            )?,
            30 => rec.push_chat(
                t,
                SenderRole::Representative,
                "Ann Agent",
                "Let me move that window.",
            )?,
            75 => rec.push_event(t, EventKind::RemoteControlRevoked, "")?,
            _ => {}
        }
        let (x, y) = (100 + (i as i32 * 9) % 700, 80 + (i as i32 * 5) % 400);
        rec.push_cursor(t, x, y, Some(1))?;
        rec.push_frame(t, &FrameRef::packed(f, SIZE, PixelFormat::Bgra8)?)?;
    }
    let summary = rec.finish()?;
    let rec_secs = t0.elapsed().as_secs_f64();
    println!(
        "recorded   {} frames of {SIZE} into {} ({} bytes; raw BGRA {} bytes, {:.0}:1) in {:.2} s ({:.0} fps)",
        summary.frames,
        path.display(),
        summary.files.bytes,
        raw_bytes,
        raw_bytes as f64 / summary.files.bytes.max(1) as f64,
        rec_secs,
        summary.frames as f64 / rec_secs.max(1e-9),
    );

    // 2. Verify.
    let report = Reader::open(&path)?.verify();
    if !report.is_intact() {
        bail!("the demo recording is damaged: {:?}", report.damage);
    }
    println!(
        "verified   {} records, trailer and seek index intact",
        report.records
    );

    // 3. Replay every frame and compare.
    let t0 = Instant::now();
    let mut player = Player::open(&path)?;
    let mut n = 0usize;
    while let Some(f) = player.next_frame()? {
        let want = frames.get(n).context("more frames than recorded")?;
        let same = f
            .data
            .chunks_exact(4)
            .zip(want.chunks_exact(4))
            .all(|(p, q)| p[..3] == q[..3]);
        if !same || f.ts != ts(n) {
            bail!("frame {n} differs from the input");
        }
        n += 1;
    }
    if n != frames.len() {
        bail!("{n} frames replayed, {} recorded", frames.len());
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "replayed   {n} frames, all identical to the input, {:.0} fps",
        n as f64 / secs.max(1e-9)
    );

    // 4. Seek and save a frame.
    let at = Timestamp::from_millis(6_050);
    let t0 = Instant::now();
    let frame = player.frame_at(at)?;
    let seek_ms = t0.elapsed().as_secs_f64() * 1e3;
    let png = a.output.join("frame-6s.png");
    super::frame::write_png(&png, frame.size, frame.data)?;
    println!(
        "seeked     to {at} in {seek_ms:.1} ms: frame of {} saved as {}",
        frame.ts,
        png.display()
    );

    // 5. The other tracks.
    for r in player.records() {
        if let g2a_format::Record::Chat {
            ts, sender, text, ..
        } = r
        {
            println!("chat       [{ts}] {sender}: {text}");
        }
    }
    let stats = player.codec_stats();
    println!(
        "codec      {} keyframes ({} bytes), {} deltas ({} bytes), {} unchanged",
        stats.key_frames,
        stats.key_bytes,
        stats.delta_frames,
        stats.delta_bytes,
        stats.unchanged_frames
    );

    // 6. Export to a standard video.
    let mp4 = a.output.join("demo.mp4");
    let t0 = Instant::now();
    let mut source = g2a_export::PlayerSource::new(player)?;
    let exported = g2a_export::export(
        &mut source,
        &mp4,
        &g2a_export::ExportOptions::default(),
        &mut |_| g2a_export::Control::Continue,
    )
    .with_context(|| format!("cannot export to {}", mp4.display()))?;
    println!(
        "exported   {} ({} bytes, H.264 {}, {:.1} s of video, {} chat subtitles) in {:.2} s",
        mp4.display(),
        exported.bytes,
        exported.size,
        exported.duration.as_secs_f64(),
        exported.chat_lines,
        t0.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
