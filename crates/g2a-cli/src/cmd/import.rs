//! `g2a import VIDEO -o OUT.g2a` (any video FFmpeg reads) and
//! `g2a import --raw WxH --fps N INPUT -o OUT.g2a` (raw BGRA frames).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use g2a::{QueueFull, Recorder, RecorderOptions};
use g2a_core::{FrameRef, PixelFormat, Size, Timestamp};
use g2a_format::SessionHeader;

use super::options::RecordingOptions;
use super::progress::Progress;

/// Arguments of `g2a import`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A video file FFmpeg reads (its frames keep their timestamps), or with
    /// --raw: raw BGRA frames back to back from a file, or `-` for standard
    /// input.
    input: PathBuf,
    /// The recording to write.
    #[arg(short, long)]
    output: PathBuf,
    /// The input is raw BGRA frames of this size (WxH).
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    raw: Option<Size>,
    /// Frame rate of raw input: frame i gets time i / fps.
    #[arg(long, default_value_t = 10.0)]
    fps: f64,
    #[command(flatten)]
    rec: RecordingOptions,
}

pub(crate) fn parse_size(s: &str) -> Result<Size, String> {
    Size::parse(s)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("'{s}' is not a size like 1920x1080"))
}

pub(crate) fn run(a: Args) -> anyhow::Result<ExitCode> {
    let Some(size) = a.raw else {
        return import_video(&a);
    };
    if !(a.fps > 0.0 && a.fps <= 1000.0) {
        bail!(
            "--fps {} is out of range: expected a rate above 0 and at most 1000",
            a.fps
        );
    }
    let input: Box<dyn Read> = if a.input == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(&a.input)
            .with_context(|| format!("cannot open {}", a.input.display()))?;
        Box::new(f)
    };
    let session = a.rec.session_id(&a.output);
    let header = a.rec.header(SessionHeader::new(session, size))?;
    // Encoded on this thread: reading a frame is a copy from the page cache
    // or another process's pipe, so a queue would only add a copy of every
    // frame (docs/BENCHMARKS.md, "Whole-process encoding").
    let opts = a.rec.recorder_options()?.queue(0, QueueFull::Block);
    let summary = import_raw(input, size, a.fps, &a.output, header, opts)?;
    println!(
        "{}: {} frames, {} bytes in {} file(s){}",
        a.output.display(),
        summary.frames,
        summary.files.bytes,
        summary.files.paths.len(),
        if summary.stopped_by_cap {
            " (stopped at the size cap)"
        } else {
            ""
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// Records every frame of a video file, losslessly, with its timestamps.
fn import_video(a: &Args) -> anyhow::Result<ExitCode> {
    let mut video = g2a_export::open_video(&a.input, &g2a_export::ImportOptions::default())
        .with_context(|| format!("cannot read {}", a.input.display()))?;
    let size = video.size();
    let session = a.rec.session_id(&a.output);
    let header = a.rec.header(SessionHeader::new(session, size))?;
    let opts = a.rec.recorder_options()?.queue(2, QueueFull::Block);
    let mut rec = Recorder::create(&a.output, header, opts)
        .with_context(|| format!("cannot create {}", a.output.display()))?;
    let total = match (video.duration(), video.frame_rate()) {
        (Some(d), Some(r)) => Some((d.as_secs_f64() * r).round() as u64),
        _ => None,
    };
    let mut progress = Progress::new("frames", total);
    let mut n: u64 = 0;
    loop {
        let frame = match video.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                // Keep what was recorded: finish the file, then report.
                progress.finish();
                rec.finish()?;
                return Err(e).with_context(|| {
                    format!(
                        "cannot decode {} after {n} frames (they are recorded)",
                        a.input.display()
                    )
                });
            }
        };
        let fr = FrameRef::packed(frame.data, frame.size, PixelFormat::Bgra8)?;
        if rec.push_frame(frame.ts, &fr)? == g2a::FrameStatus::Stopped {
            break;
        }
        n += 1;
        progress.update(n, &format!("at {}", frame.ts));
    }
    progress.finish();
    let summary = rec.finish()?;
    println!(
        "{}: {} frames, {} bytes in {} file(s){}",
        a.output.display(),
        summary.frames,
        summary.files.bytes,
        summary.files.paths.len(),
        if summary.stopped_by_cap {
            " (stopped at the size cap)"
        } else {
            ""
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// Records raw BGRA frames from `input` until it ends.
pub(crate) fn import_raw(
    mut input: impl Read,
    size: Size,
    fps: f64,
    out: &Path,
    header: SessionHeader,
    opts: RecorderOptions,
) -> anyhow::Result<g2a::RecordingSummary> {
    let frame_len = usize::try_from(size.area() * 4).context("frame size")?;
    let mut rec = Recorder::create(out, header, opts)
        .with_context(|| format!("cannot create {}", out.display()))?;
    // The frame buffer starts on a 64-byte boundary (see `AlignedBuf`).
    let mut aligned = g2a_core::AlignedBuf::default();
    aligned.reset(frame_len);
    let buf = aligned.bytes_mut();
    let mut progress = Progress::new("frames", None);
    let mut n: u64 = 0;
    let mut bytes_in: u64 = 0;
    loop {
        let got = read_full(&mut input, buf).context("reading the input")?;
        if got == 0 {
            break;
        }
        if got < frame_len {
            // Keep what was recorded: finish the file, then report.
            rec.finish()?;
            bail!(
                "the input ends with {got} bytes, less than one {size} frame ({frame_len} bytes): \
                 check --raw; the {n} complete frames before it are recorded"
            );
        }
        let ts = Timestamp::from_secs_f64(n as f64 / fps).context("timestamp")?;
        let frame = FrameRef::packed(buf, size, PixelFormat::Bgra8)?;
        if rec.push_frame(ts, &frame)? == g2a::FrameStatus::Stopped {
            break;
        }
        n += 1;
        bytes_in += frame_len as u64;
        progress.update(n, &format!("{} MB read", bytes_in >> 20));
    }
    progress.finish();
    Ok(rec.finish()?)
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
