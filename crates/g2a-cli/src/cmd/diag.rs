//! `g2a diag FILE [--name NAME -o OUT]`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use g2a_format::Record;

/// Arguments of `g2a diag`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The recording.
    file: PathBuf,
    /// Extract the document of this name (the last one, if several share it).
    #[arg(long, requires = "output")]
    name: Option<String>,
    /// Where to write the extracted document (`-` for standard output).
    #[arg(short, long, requires = "name")]
    output: Option<PathBuf>,
}

pub(crate) fn run(a: Args) -> anyhow::Result<ExitCode> {
    let set = super::open_content_set(&a.file)?;
    let docs: Vec<_> = set
        .merged()
        .filter_map(|r| match r {
            Record::Diagnostic {
                ts,
                name,
                media_type,
                data,
            } => Some((ts, name, media_type, data)),
            _ => None,
        })
        .collect();
    let (Some(name), Some(out)) = (a.name, a.output) else {
        if docs.is_empty() {
            println!("no diagnostics documents");
        }
        for (ts, name, mt, data) in &docs {
            println!(
                "[{ts}] {}  {}  {} bytes",
                super::shown(name),
                super::shown(mt.mime()),
                data.len()
            );
        }
        return Ok(ExitCode::SUCCESS);
    };
    let Some((_, _, _, data)) = docs.iter().rev().find(|d| d.1 == name) else {
        let names: Vec<&str> = docs.iter().map(|d| d.1).collect();
        anyhow::bail!(
            "no diagnostics document named {name:?} (the recording has: {})",
            if names.is_empty() {
                "none".to_string()
            } else {
                super::shown(&names.join(", ")).into_owned()
            }
        );
    };
    if out.as_os_str() == "-" {
        super::write_document(data)?;
    } else {
        std::fs::write(&out, data).with_context(|| format!("cannot write {}", out.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
