//! `g2a play [FILE]`: the replay window (crate `g2a-play`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use g2a_core::Timestamp;
use g2a_play::{Bench, PlayOptions};

/// Arguments of `g2a play`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The recording (its first file; continuation files follow). Without
    /// it the window opens with the Open dialog.
    file: Option<PathBuf>,
    #[command(flatten)]
    view: View,
}

/// How the window plays (shared with `g2a catalog play`).
#[derive(Debug, clap::Args)]
pub(crate) struct View {
    /// Follow a recording that is still being written, at its live edge.
    #[arg(long)]
    follow: bool,
    /// Skip stretches where nothing happens while playing.
    #[arg(long)]
    skip_idle: bool,
    /// Playback speed, 0.25 to 16.
    #[arg(long, default_value_t = 1.0)]
    speed: f32,
    /// Start at this time (HH:MM:SS.mmm, MM:SS or seconds).
    #[arg(long, value_parser = parse_time)]
    seek: Option<Timestamp>,
    /// Start playing at once.
    #[arg(long)]
    play: bool,
    /// Show the video at 1:1 instead of fitting the window.
    #[arg(long = "1to1", alias = "actual-size")]
    actual_size: bool,
    /// Do not draw the recorded mouse cursor.
    #[arg(long)]
    no_cursor: bool,
    /// Window size, WIDTHxHEIGHT.
    #[arg(long, default_value = "1400x900", value_parser = parse_size)]
    window: (u32, u32),
    /// Print each frame shown (time, latency, rectangle) on stderr.
    #[arg(long, hide = true)]
    trace: bool,
    /// Measure: N seeks spread over the recording, then quit.
    #[arg(long, hide = true, value_name = "N")]
    bench_seeks: Option<u32>,
    /// Measure: play at SPEED for SECONDS of wall time, then quit.
    #[arg(long, hide = true, value_name = "SPEED,SECONDS", value_parser = parse_pair)]
    bench_play: Option<(f32, f32)>,
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse(s).map_err(|e| e.to_string())
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once('x')
        .ok_or_else(|| format!("expected WIDTHxHEIGHT, found {s:?}"))?;
    let n = |v: &str| {
        v.parse::<u32>()
            .ok()
            .filter(|n| (200..=16_384).contains(n))
            .ok_or_else(|| format!("expected a size of 200 to 16384 pixels, found {v:?}"))
    };
    Ok((n(w)?, n(h)?))
}

fn parse_pair(s: &str) -> Result<(f32, f32), String> {
    let (a, b) = s
        .split_once(',')
        .ok_or_else(|| format!("expected SPEED,SECONDS, found {s:?}"))?;
    let f = |v: &str| {
        v.parse::<f32>()
            .ok()
            .filter(|f| f.is_finite() && *f > 0.0)
            .ok_or_else(|| format!("expected a positive number, found {v:?}"))
    };
    Ok((f(a)?, f(b)?))
}

pub(crate) fn run(a: Args) -> anyhow::Result<ExitCode> {
    let mut opts = options(&a.view)?;
    if let Some(f) = a.file {
        opts = opts.file(f);
    }
    g2a_play::run(opts).context("g2a play")?;
    Ok(ExitCode::SUCCESS)
}

/// The window's options from the flags.
pub(crate) fn options(a: &View) -> anyhow::Result<PlayOptions> {
    if !(g2a_play::MIN_SPEED..=g2a_play::MAX_SPEED).contains(&a.speed) {
        bail!("--speed must be between 0.25 and 16, found {}", a.speed);
    }
    let mut opts = PlayOptions::default()
        .follow(a.follow)
        .skip_idle(a.skip_idle)
        .speed(a.speed)
        .autoplay(a.play)
        .actual_size(a.actual_size)
        .cursor(!a.no_cursor)
        .window_size(a.window.0, a.window.1)
        .trace(a.trace);
    if let Some(t) = a.seek {
        opts = opts.seek(t);
    }
    if let Some(count) = a.bench_seeks {
        opts = opts.bench(Bench::Seeks { count });
    }
    if let Some((speed, seconds)) = a.bench_play {
        opts = opts.bench(Bench::Play { speed, seconds });
    }
    Ok(opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_pairs_parse_and_reject_nonsense() {
        assert_eq!(parse_size("1400x900"), Ok((1400, 900)));
        assert!(parse_size("1400").is_err());
        assert!(parse_size("10x900").is_err());
        assert_eq!(parse_pair("16,30"), Ok((16.0, 30.0)));
        assert!(parse_pair("16").is_err());
        assert!(parse_pair("-1,3").is_err());
        assert_eq!(parse_time("00:01:00"), Ok(Timestamp::from_secs(60)));
    }
}
