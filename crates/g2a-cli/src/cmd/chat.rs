//! `g2a chat FILE [--json]`.

use std::path::PathBuf;
use std::process::ExitCode;

use g2a_format::Record;
use serde_json::json;

/// Arguments of `g2a chat`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The recording.
    file: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(a: Args) -> anyhow::Result<ExitCode> {
    let set = super::open_content_set(&a.file)?;
    let mut out = Vec::new();
    let mut any = false;
    for rec in set.merged() {
        if let Record::Chat {
            ts,
            role,
            sender,
            text,
        } = rec
        {
            any = true;
            if a.json {
                out.push(json!({"time_micros": ts.as_micros(), "time": ts.to_string(), "role": role.name(), "sender": sender, "text": text}));
            } else {
                println!(
                    "[{ts}] {} ({}): {}",
                    super::shown(sender),
                    role.name(),
                    super::shown(text)
                );
            }
        }
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else if !any {
        println!("no chat messages");
    }
    Ok(ExitCode::SUCCESS)
}
