//! `g2a export FILE -o OUT [--format wmv|mp4] [--size WxH] [--from T] [--to T] [--fps N] [--quality Q]`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context};
use g2a_core::{Size, Timestamp};
use g2a_export::{
    export, Control, ExportError, ExportOptions, Format, PlayerSource, Quality, WmvCodec,
};

use super::progress::Progress;

/// Output format names on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum FormatArg {
    /// MPEG-4, H.264: plays in browsers; the chat becomes subtitles.
    Mp4,
    /// Windows Media (ASF): plays in Windows Media Player without add-ons.
    Wmv,
}

/// Quality names on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum QualityArg {
    /// Smaller files, text still readable.
    Small,
    /// The default: faithful (see docs/EXPORT.md for measured PSNR).
    Standard,
    /// Closest to the recording, largest files.
    High,
}

/// WMV codec names on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum WmvCodecArg {
    /// Windows Media Video 8.
    Wmv2,
    /// Microsoft MPEG-4 v3, for the oldest players.
    Msmpeg4,
}

/// Arguments of `g2a export`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The recording (its continuation files are found beside it).
    input: PathBuf,
    #[command(flatten)]
    flags: Flags,
}

/// What to export and how (shared with `g2a catalog export`).
#[derive(Debug, clap::Args)]
pub(crate) struct Flags {
    /// The video to write (.mp4 or .wmv); written under OUT.part and
    /// renamed when complete.
    #[arg(short, long)]
    output: PathBuf,
    /// Output format; by default from the output's extension.
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Fit into WxH, keeping the aspect ratio (even sides); default: the
    /// recording's size.
    #[arg(long, value_name = "WxH", value_parser = super::import::parse_size)]
    size: Option<Size>,
    /// Start time (seconds, MM:SS or HH:MM:SS, with optional .mmm).
    #[arg(long, value_name = "TIME")]
    from: Option<Timestamp>,
    /// End time.
    #[arg(long, value_name = "TIME")]
    to: Option<Timestamp>,
    /// Constant frame rate; default: variable (one frame per screen change).
    #[arg(long)]
    fps: Option<f64>,
    /// Quality against size.
    #[arg(long, value_enum, default_value = "standard")]
    quality: QualityArg,
    /// MP4: full-colour H.264 4:4:4 RGB (exact colours on coloured text;
    /// not every browser plays it).
    #[arg(long)]
    full_colour: bool,
    /// WMV codec.
    #[arg(long, value_enum, default_value = "wmv2")]
    wmv_codec: WmvCodecArg,
    /// Leave out the chat subtitle track.
    #[arg(long)]
    no_chat: bool,
    /// Do not draw the recorded cursor.
    #[arg(long)]
    no_cursor: bool,
}

/// Builds the library options from the arguments.
fn options(a: &Flags) -> ExportOptions {
    let mut o = ExportOptions::default()
        .quality(match a.quality {
            QualityArg::Small => Quality::Small,
            QualityArg::Standard => Quality::Standard,
            QualityArg::High => Quality::High,
        })
        .full_colour(a.full_colour)
        .wmv_codec(match a.wmv_codec {
            WmvCodecArg::Wmv2 => WmvCodec::Wmv2,
            WmvCodecArg::Msmpeg4 => WmvCodec::Msmpeg4,
        })
        .chat_subtitles(!a.no_chat)
        .draw_cursor(!a.no_cursor);
    if let Some(f) = a.format {
        o = o.format(match f {
            FormatArg::Mp4 => Format::Mp4,
            FormatArg::Wmv => Format::Wmv,
        });
    }
    if let Some(s) = a.size {
        o = o.size(s);
    }
    if let Some(t) = a.from {
        o = o.from(t);
    }
    if let Some(t) = a.to {
        o = o.to(t);
    }
    if let Some(f) = a.fps {
        o = o.fps(f);
    }
    o
}

/// Set by Ctrl-C: the export stops and removes its partial file.
pub(crate) fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = Arc::clone(&flag);
    // A second handler cannot be installed: then Ctrl-C keeps its default
    // action, and the partial file stays under its .part name only.
    let _ = ctrlc::set_handler(move || f.store(true, Ordering::SeqCst));
    flag
}

pub(crate) fn run(a: Args) -> anyhow::Result<ExitCode> {
    let player = super::open_player(&a.input)?;
    let mut source =
        PlayerSource::new(player).with_context(|| format!("cannot open {}", a.input.display()))?;
    run_with(&mut source, &a.flags)?;
    Ok(ExitCode::SUCCESS)
}

/// Exports `source` as `a` says, with a progress bar; Ctrl-C cancels.
pub(crate) fn run_with(source: &mut PlayerSource, a: &Flags) -> anyhow::Result<()> {
    let opts = options(a);
    let stop = interrupt_flag();
    let mut bar = Progress::new("ms of video", None);
    let mut total_ms = None;
    let result = export(source, &a.output, &opts, &mut |p| {
        if total_ms.is_none() {
            let t = p.total.as_micros() / 1000;
            total_ms = Some(t);
            bar = Progress::new("ms of video", Some(t));
        }
        bar.update(
            p.position.as_micros() / 1000,
            &format!("{} frames encoded", p.frames_encoded),
        );
        if stop.load(Ordering::SeqCst) {
            Control::Cancel
        } else {
            Control::Continue
        }
    });
    bar.finish();
    let s = match result {
        Ok(s) => s,
        Err(ExportError::Cancelled) => bail!("interrupted: no file written"),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot export to {}", a.output.display()))
        }
    };
    let secs = s.elapsed.as_secs_f64();
    println!(
        "{}: {:?} {} {:.1} s of video, {} frames encoded ({} unchanged skipped), {} chat lines, {} bytes, in {:.2} s ({:.1}x real time)",
        a.output.display(),
        s.format,
        s.size,
        s.duration.as_secs_f64(),
        s.frames_encoded,
        s.frames_unchanged,
        s.chat_lines,
        s.bytes,
        secs,
        s.duration.as_secs_f64() / secs.max(1e-9)
    );
    Ok(())
}
