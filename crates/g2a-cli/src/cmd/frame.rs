//! `g2a frame FILE --at TIME -o OUT.png`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use g2a::{CursorTrack, Player};
use g2a_core::{Size, Timestamp};

/// Arguments of `g2a frame`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The recording.
    file: PathBuf,
    /// Time from the session start: seconds (`75.5`), `MM:SS` or `HH:MM:SS.mmm`.
    #[arg(long, value_parser = parse_time)]
    at: Timestamp,
    /// The PNG to write.
    #[arg(short, long)]
    output: PathBuf,
    /// Leave out the cursor (drawn from the cursor track by default).
    #[arg(long)]
    no_cursor: bool,
}

pub(crate) fn parse_time(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse(s).map_err(|e| e.to_string())
}

pub(crate) fn run(a: Args) -> anyhow::Result<ExitCode> {
    let mut player = super::open_player(&a.file)?;
    save_frame(&mut player, a.at, &a.output, !a.no_cursor)?;
    Ok(ExitCode::SUCCESS)
}

/// Saves the frame on screen at `at` (with the cursor when `cursor`) as a
/// PNG at `output`.
pub(crate) fn save_frame(
    player: &mut Player,
    at: Timestamp,
    output: &Path,
    cursor: bool,
) -> anyhow::Result<()> {
    let cursor = if cursor {
        player.cursor_track()?
    } else {
        CursorTrack::default()
    };
    let frame = player.frame_at(at)?;
    let (ts, size) = (frame.ts, frame.size);
    let mut pixels = frame.data.to_vec();
    if let Some(c) = cursor.at(at) {
        if let Some(img) = &c.image {
            img.draw_onto(&mut pixels, size, c.x, c.y);
        }
    }
    write_png(output, size, &pixels)?;
    eprintln!(
        "{}: {size} frame recorded at {ts} (on screen at {at})",
        output.display(),
    );
    Ok(())
}

/// Writes packed BGRA pixels as an RGB PNG.
pub(crate) fn write_png(path: &Path, size: Size, bgra: &[u8]) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), size.width, size.height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    let mut w = enc.write_header().context("writing the PNG")?;
    let rgb: Vec<u8> = bgra
        .chunks_exact(4)
        .flat_map(|p| [p[2], p[1], p[0]])
        .collect();
    w.write_image_data(&rgb).context("writing the PNG")?;
    w.finish().context("writing the PNG")?;
    Ok(())
}
