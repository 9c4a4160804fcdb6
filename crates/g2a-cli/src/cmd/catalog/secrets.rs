//! Who acts, and where secrets come from. Secrets never come from the
//! command line: the acting user's password from `--password-stdin` or
//! `G2A_PASSWORD`; a new user's password from `--new-password-file` or
//! `G2A_NEW_PASSWORD`; the session replay passphrase from
//! `--passphrase-file` or `G2A_PASSPHRASE`; a new passphrase from
//! `--new-passphrase-file` or `G2A_NEW_PASSPHRASE`.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use g2a_catalog::{Actor, Catalog, CatalogError, Passphrase};

/// Who is acting, on which catalog.
#[derive(Debug, clap::Args)]
pub(crate) struct Ctx {
    /// The catalog directory.
    #[arg(long, value_name = "DIR")]
    pub(crate) catalog: PathBuf,
    /// The acting user (their password comes from --password-stdin or G2A_PASSWORD).
    #[arg(long = "as", value_name = "USER")]
    pub(crate) user: String,
    /// Read the acting user's password from the first line of stdin.
    #[arg(long)]
    pub(crate) password_stdin: bool,
}

/// Where a session replay passphrase comes from.
#[derive(Debug, clap::Args)]
pub(crate) struct PassphraseArgs {
    /// File holding the session replay passphrase (else env G2A_PASSPHRASE).
    /// Read only when the recording is encrypted.
    #[arg(long, value_name = "FILE")]
    pub(crate) passphrase_file: Option<PathBuf>,
}

/// Where a new user's password comes from.
#[derive(Debug, clap::Args)]
pub(crate) struct NewPasswordArgs {
    /// File holding the new password (else env G2A_NEW_PASSWORD).
    #[arg(long, value_name = "FILE")]
    pub(crate) new_password_file: Option<PathBuf>,
}

impl NewPasswordArgs {
    /// The new password, if one was given.
    pub(crate) fn get(&self) -> Result<Option<String>> {
        secret(self.new_password_file.as_deref(), "G2A_NEW_PASSWORD")
    }

    /// The new password, which must be given.
    pub(crate) fn required(&self, whose: &str) -> Result<String> {
        self.get()?.ok_or_else(|| {
            anyhow!("{whose} password is missing: use --new-password-file or G2A_NEW_PASSWORD")
        })
    }
}

pub(crate) fn missing_passphrase() -> anyhow::Error {
    anyhow!("the session replay passphrase is missing: use --passphrase-file or G2A_PASSPHRASE")
}

/// The acting user's password.
pub(crate) fn acting_password(ctx: &Ctx) -> Result<String> {
    if ctx.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        let pw = line.trim_end_matches(['\r', '\n']).to_owned();
        if pw.is_empty() {
            bail!("--password-stdin: stdin gave an empty password");
        }
        return Ok(pw);
    }
    std::env::var("G2A_PASSWORD").map_err(|_| {
        anyhow!(
            "no password for {}: use --password-stdin or G2A_PASSWORD",
            crate::cmd::shown(&ctx.user)
        )
    })
}

/// Opens the catalog and logs the acting user in.
pub(crate) fn login(ctx: &Ctx) -> Result<(Catalog, Actor)> {
    let pw = acting_password(ctx)?;
    login_with(ctx, &pw)
}

/// Opens the catalog and logs the acting user in with `pw`.
pub(crate) fn login_with(ctx: &Ctx, pw: &str) -> Result<(Catalog, Actor)> {
    let cat = Catalog::open(&ctx.catalog)?;
    let me = cat.login(&ctx.user, pw)?;
    Ok((cat, me))
}

/// A secret from a file (first line) or an environment variable.
pub(crate) fn secret(file: Option<&Path>, env: &str) -> Result<Option<String>> {
    if let Some(f) = file {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        let first = text.lines().next().unwrap_or("").to_owned();
        return Ok(Some(first));
    }
    Ok(std::env::var(env).ok())
}

/// The session replay passphrase, if one was given.
pub(crate) fn passphrase(pp: &PassphraseArgs) -> Result<Option<Passphrase>> {
    secret(pp.passphrase_file.as_deref(), "G2A_PASSPHRASE")?
        .map(|s| Passphrase::new(&s).map_err(Into::into))
        .transpose()
}

/// [`passphrase`] for [`Catalog::open_with`]: called only when the
/// recording is encrypted.
pub(crate) fn lazy_passphrase(
    pp: &PassphraseArgs,
) -> impl FnOnce() -> std::result::Result<Option<Passphrase>, CatalogError> + '_ {
    move || {
        if let Some(f) = &pp.passphrase_file {
            let text = std::fs::read_to_string(f).map_err(|e| CatalogError::Io {
                path: f.clone(),
                error: e,
            })?;
            return Passphrase::new(text.lines().next().unwrap_or("")).map(Some);
        }
        std::env::var("G2A_PASSPHRASE")
            .ok()
            .map(|s| Passphrase::new(&s))
            .transpose()
    }
}
