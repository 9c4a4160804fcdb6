//! `g2a recover FILE -o OUT`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use g2a_format::Reader;

/// Arguments of `g2a recover`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The damaged or unfinished recording.
    file: PathBuf,
    /// Where to write the clean copy.
    #[arg(short, long)]
    output: PathBuf,
}

pub(crate) fn run(a: Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        std::fs::canonicalize(&a.file).ok() != std::fs::canonicalize(&a.output).ok(),
        "the output {} is the input: choose another name",
        a.output.display()
    );
    let r = Reader::open(&a.file).with_context(|| format!("cannot open {}", a.file.display()))?;
    let rep = g2a_format::recover(&r, &a.output)
        .with_context(|| format!("cannot write {}", a.output.display()))?;
    for d in &rep.damage {
        if d.end > d.start {
            println!("lost bytes {}..{}: {}", d.start, d.end, d.reason);
        } else {
            println!("lost: {}", d.reason);
        }
    }
    if rep.orphan_deltas > 0 {
        println!(
            "dropped {} delta frames with no keyframe before them",
            rep.orphan_deltas
        );
    }
    println!("wrote {} with {} records", a.output.display(), rep.records);
    Ok(ExitCode::SUCCESS)
}
