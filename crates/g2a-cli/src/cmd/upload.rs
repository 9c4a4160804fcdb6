//! `g2a upload FILE... --server URL --token-file F`: sends recordings to a
//! review service, resuming what an earlier run left (the state file
//! `FILE.upload` beside each recording), and the uploader `g2a record
//! --upload` runs beside a recording.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use g2a_format::continuation_path;
use g2a_upload::{Observer, UploadOptions, UploadStatus, Uploader};

use super::progress::Progress;

/// Arguments of `g2a upload`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Recordings to send; a session's continuation files (NAME.001.g2a,
    /// …) beside its first file are sent after it.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The review service: https://HOST:PORT (http:// on loopback).
    #[arg(long, value_name = "URL")]
    server: String,
    #[command(flatten)]
    auth: Auth,
    /// Give up after this many seconds without progress (the server keeps
    /// what it has; run again to resume).
    #[arg(long, default_value_t = 600, value_name = "S")]
    give_up_after: u64,
    /// Delete each local file once the server has all of it.
    #[arg(long)]
    remove_after_upload: bool,
    /// Bytes per request, in KiB: smaller loses less to a link that
    /// drops often, larger is faster on a good one.
    #[arg(long, default_value_t = 4096, value_name = "KIB",
        value_parser = clap::value_parser!(u32).range(16..=65536))]
    chunk_kib: u32,
}

/// How a recorder proves itself to the service.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Auth {
    /// File holding the recorder's token (`g2a catalog add-recorder`
    /// writes it); readable by its owner only.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// PEM certificate(s) to trust for the service: its CA, or its own
    /// self-signed certificate (default: the usual web roots).
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
}

/// Largest token file read.
const MAX_TOKEN_FILE: u64 = 4096;

impl Auth {
    /// An uploader to `server` with this token and trust.
    pub(crate) fn uploader(&self, server: &str, opts: UploadOptions) -> Result<Uploader> {
        let Some(path) = &self.token_file else {
            bail!("uploading needs --token-file FILE (the token `g2a catalog add-recorder` wrote)");
        };
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_TOKEN_FILE).read_to_string(&mut text))
            .with_context(|| format!("cannot read the token file {}", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(m) = std::fs::metadata(path) {
                if m.permissions().mode() & 0o077 != 0 {
                    eprintln!(
                        "g2a: warning: {} can be read by other users: chmod 600 it",
                        path.display()
                    );
                }
            }
        }
        Ok(Uploader::new(
            server,
            text.lines().next().unwrap_or(""),
            self.ca_cert.as_deref(),
            opts,
        )?)
    }
}

/// Tells a person at a terminal how an upload goes: a progress line (on a
/// terminal), and each retry.
pub(crate) struct Shown {
    bars: bool,
    progress: Option<(PathBuf, Progress)>,
}

impl Shown {
    /// With a progress line, or (beside a recording, which has its own)
    /// only the retries.
    pub(crate) fn new(bars: bool) -> Self {
        Shown {
            bars,
            progress: None,
        }
    }
}

impl Observer for Shown {
    fn progress(&mut self, file: &Path, sent: u64, total: Option<u64>) {
        if !self.bars {
            return;
        }
        if self.progress.as_ref().is_none_or(|(f, _)| f != file) {
            self.progress = Some((file.to_owned(), Progress::new("bytes", total)));
        }
        if let Some((_, p)) = &mut self.progress {
            p.update(sent, "");
        }
    }

    fn retrying(&mut self, file: &Path, why: &str, wait: Duration) {
        eprintln!(
            "g2a: {}: {why}; trying again in {:.1} s",
            file.display(),
            wait.as_secs_f64()
        );
    }
}

/// Prints what the server made of one file.
pub(crate) fn print_status(file: &Path, st: &UploadStatus) {
    let at = match (&st.session_id, st.seq) {
        (Some(s), Some(0)) => format!("session {}", super::shown(s)),
        (Some(s), Some(n)) => format!("session {} (file {n})", super::shown(s)),
        _ => "the service; it joins its session when the file before it arrives".to_owned(),
    };
    println!("{}: {} bytes uploaded to {at}", file.display(), st.offset);
    for w in &st.warnings {
        println!("  warning: {}", super::shown(w));
    }
}

/// The files to send: each one given, then the continuation files beside
/// it that were not given too.
fn with_continuations(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for f in files {
        if !out.contains(f) {
            out.push(f.clone());
        }
        for i in 1u32.. {
            let c = continuation_path(f, i);
            if !c.exists() {
                break;
            }
            if !out.contains(&c) && !files.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

pub(crate) fn run(a: Args) -> Result<ExitCode> {
    let opts = UploadOptions {
        give_up_after: Duration::from_secs(a.give_up_after),
        chunk: a.chunk_kib as usize * 1024,
        ..UploadOptions::default()
    };
    let up = a.auth.uploader(&a.server, opts)?;
    let files = with_continuations(&a.files);
    let mut failed = 0;
    let mut obs = Shown::new(true);
    for f in &files {
        match up.upload_file(f, &mut obs) {
            Ok(st) => {
                print_status(f, &st);
                if a.remove_after_upload && st.state == "done" {
                    std::fs::remove_file(f)
                        .with_context(|| format!("cannot remove {}", f.display()))?;
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("g2a: {e}");
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} file(s) not uploaded", files.len());
    }
    Ok(ExitCode::SUCCESS)
}
