//! `g2a verify FILE`.

use std::path::PathBuf;
use std::process::ExitCode;

use g2a_format::TrailerState;

/// Arguments of `g2a verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The recording (its continuation files are checked too).
    file: PathBuf,
}

pub(crate) fn run(a: Args) -> anyhow::Result<ExitCode> {
    let set = super::open_set(&a.file)?;
    let mut intact = true;
    for f in set.files() {
        let name = f
            .path()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let rep = f.verify();
        for d in &rep.damage {
            println!(
                "{name}: damaged bytes {}..{} ({} bytes): {}",
                d.start,
                d.end,
                d.end - d.start,
                d.reason
            );
        }
        match &rep.trailer {
            TrailerState::Valid => {}
            TrailerState::Missing => {
                println!("{name}: no trailer (the recording was not finished); run `g2a recover`")
            }
            TrailerState::Invalid(why) => println!("{name}: trailer damaged: {why}"),
            _ => println!("{name}: trailer in an unknown state"),
        }
        if rep.is_intact() {
            println!("{name}: ok, {} records, {} bytes", rep.records, f.len());
        } else {
            intact = false;
        }
    }
    Ok(if intact {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
