//! `g2a decode FILE -o OUT|-`: every recorded frame as raw BGRA.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::progress::Progress;
use anyhow::Context;

/// Arguments of `g2a decode`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The recording.
    file: PathBuf,
    /// Where to write the frames (raw BGRA, alpha 255, back to back); `-` for standard output.
    #[arg(short, long)]
    output: PathBuf,
}

pub(crate) fn run(a: Args) -> anyhow::Result<ExitCode> {
    let mut player = super::open_player(&a.file)?;
    let total = player.codec_stats().frames();
    let to_stdout = a.output == Path::new("-");
    let sink: Box<dyn Write> = if to_stdout {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(
            std::fs::File::create(&a.output)
                .with_context(|| format!("cannot create {}", a.output.display()))?,
        )
    };
    let mut out = BufWriter::with_capacity(1 << 22, sink);
    let mut progress = Progress::new("frames", Some(total));
    let mut n = 0u64;
    let mut first_size = None;
    while let Some(frame) = player.next_frame()? {
        if *first_size.get_or_insert(frame.size) != frame.size {
            eprintln!(
                "g2a: note: the screen size changes from {} to {} at {}",
                first_size.unwrap_or(frame.size),
                frame.size,
                frame.ts
            );
            first_size = Some(frame.size);
        }
        match out.write_all(frame.data) {
            Ok(()) => {}
            // `g2a decode f -o - | head -c ...`: a closed pipe ends quietly.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
            Err(e) => return Err(e).context("writing frames"),
        }
        n += 1;
        progress.update(n, "");
    }
    match out.flush() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        r => r.context("writing frames")?,
    }
    progress.finish();
    if !to_stdout {
        eprintln!("{}: {n} frames", a.output.display());
    }
    Ok(ExitCode::SUCCESS)
}
