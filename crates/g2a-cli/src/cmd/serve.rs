//! `g2a serve --catalog DIR [--listen ADDR]`: the review service.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use g2a_server::{AppState, Listen, ServiceOptions};

/// Arguments of `g2a serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The catalog directory.
    #[arg(long, value_name = "DIR")]
    catalog: PathBuf,
    /// Address and port to listen on (plain HTTP only on loopback unless
    /// --insecure-http).
    #[arg(long, default_value = "127.0.0.1:8480", value_name = "ADDR")]
    listen: SocketAddr,
    /// PEM certificate chain for TLS (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for TLS (with --tls-cert).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve plain HTTP on an address that is not loopback (behind a
    /// TLS-terminating proxy only).
    #[arg(long)]
    insecure_http: bool,
    /// Minutes a login may stay unused.
    #[arg(long, default_value_t = 30, value_name = "MIN")]
    idle_minutes: u64,
    /// Hours a login lasts at most.
    #[arg(long, default_value_t = 12, value_name = "H")]
    login_hours: u64,
    /// Browser players decoding at once (more are told the server is busy).
    #[arg(long, default_value_t = 16, value_name = "N")]
    max_viewers: usize,
    /// Largest recording file a recorder may upload, in GiB.
    #[arg(long, default_value_t = 64, value_name = "GIB")]
    max_upload_gib: u64,
    /// Uploads receiving bytes at once (more are told the server is busy
    /// and retry).
    #[arg(long, default_value_t = 64, value_name = "N")]
    max_uploads: usize,
    /// Hours an upload may go without a byte before it is finished as it
    /// is (its bytes are a readable recording; nothing is thrown away).
    #[arg(long, default_value_t = 24, value_name = "H")]
    upload_idle_hours: u64,
}

pub(crate) fn run(a: Args) -> Result<ExitCode> {
    if [
        a.idle_minutes,
        a.login_hours,
        a.max_upload_gib,
        a.upload_idle_hours,
    ]
    .contains(&0)
        || a.max_viewers == 0
        || a.max_uploads == 0
    {
        bail!("--idle-minutes, --login-hours, --max-viewers, --max-upload-gib, --max-uploads and --upload-idle-hours must be at least 1");
    }
    if a.max_upload_gib > 1024 {
        bail!(
            "--max-upload-gib {} is above the catalog's limit of 1024",
            a.max_upload_gib
        );
    }
    let tls = a.tls_cert.clone().zip(a.tls_key.clone());
    let opts = ServiceOptions {
        login_policy: g2a_catalog::LoginPolicy {
            idle_secs: a.idle_minutes * 60,
            absolute_secs: a.login_hours * 3600,
        },
        max_viewers: a.max_viewers,
        max_upload_bytes: a.max_upload_gib << 30,
        max_uploads: a.max_uploads,
        upload_idle_secs: a.upload_idle_hours.saturating_mul(3600),
        tls: tls.is_some(),
        ..ServiceOptions::default()
    };
    let state = AppState::open(&a.catalog, opts)
        .with_context(|| format!("cannot open the catalog {}", a.catalog.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let listen = Listen {
        addr: a.listen,
        tls,
        allow_plain_http: a.insecure_http,
    };
    runtime.block_on(async move {
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        let term = async {
            #[cfg(unix)]
            {
                if let Ok(mut s) =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                {
                    s.recv().await;
                }
            }
        };
        g2a_server::serve(
            state,
            listen,
            move |addr| eprintln!("g2a serve: listening on {scheme}://{addr}/"),
            async move {
                tokio::select! {
                    () = shutdown => {},
                    () = term => {},
                }
            },
        )
        .await
    })?;
    Ok(ExitCode::SUCCESS)
}
