//! Command-line driver of the exporter, for benchmarks before/besides the
//! `g2a` CLI: `g2a_export export IN.g2a OUT [--fps N] [--size WxH] [--full-colour]`
//! and `g2a_export import VIDEO OUT.g2a`.

use std::path::PathBuf;
use std::time::Instant;

use g2a::{Recorder, RecorderOptions};
use g2a_core::{FrameRef, PixelFormat, Size};
use g2a_export::{
    export, open_video, Control, ExportOptions, ImportOptions, PlayerSource, Quality,
};
use g2a_format::SessionHeader;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: g2a_export export IN.g2a OUT [--fps N] [--size WxH] [--full-colour] [--quality small|standard|high]\n       g2a_export import VIDEO OUT.g2a";
    let (Some(cmd), Some(input), Some(output)) = (args.first(), args.get(1), args.get(2)) else {
        return Err(usage.into());
    };
    let (input, output) = (PathBuf::from(input), PathBuf::from(output));
    let start = Instant::now();
    match cmd.as_str() {
        "export" => {
            let mut opts = ExportOptions::default();
            let mut rest = args[3..].iter();
            while let Some(a) = rest.next() {
                match a.as_str() {
                    "--fps" => opts = opts.fps(rest.next().ok_or(usage)?.parse()?),
                    "--size" => {
                        opts = opts.size(Size::parse(rest.next().ok_or(usage)?).ok_or(usage)?)
                    }
                    "--full-colour" => opts = opts.full_colour(true),
                    "--quality" => {
                        opts = opts.quality(match rest.next().map(String::as_str) {
                            Some("small") => Quality::Small,
                            Some("high") => Quality::High,
                            _ => Quality::Standard,
                        })
                    }
                    _ => return Err(usage.into()),
                }
            }
            let mut src = PlayerSource::open(&input)?;
            let s = export(&mut src, &output, &opts, &mut |_| Control::Continue)?;
            println!(
                "{}: {:?} {} {} frames read, {} encoded, {} unchanged, {:.3} s of video, {} bytes, {:.3} s",
                output.display(),
                s.format,
                s.size,
                s.frames_read,
                s.frames_encoded,
                s.frames_unchanged,
                s.duration.as_secs_f64(),
                s.bytes,
                s.elapsed.as_secs_f64()
            );
        }
        "import" => {
            let mut video = open_video(&input, &ImportOptions::default())?;
            let size = video.size();
            let mut rec = Recorder::create(
                &output,
                SessionHeader::new("import", size),
                RecorderOptions::default(),
            )?;
            let mut n = 0u64;
            while let Some(f) = video.next_frame()? {
                rec.push_frame(f.ts, &FrameRef::packed(f.data, f.size, PixelFormat::Bgra8)?)?;
                n += 1;
            }
            let s = rec.finish()?;
            println!(
                "{}: {n} frames, {} bytes, {:.3} s",
                output.display(),
                s.files.bytes,
                start.elapsed().as_secs_f64()
            );
        }
        _ => return Err(usage.into()),
    }
    Ok(())
}
