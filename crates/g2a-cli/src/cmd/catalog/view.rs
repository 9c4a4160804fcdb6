//! The catalog commands that open a session's recording: frame, export,
//! play, chat and diagnostics. Rights, retention and the audit come first;
//! the passphrase is read only when the recording is encrypted.

use anyhow::{anyhow, bail, Context, Result};
use g2a_catalog::{Action, Passphrase};

use super::secrets::{lazy_passphrase, login, passphrase, Ctx};
use super::CatalogCmd;
use crate::cmd::shown;

/// Runs a content command.
pub(crate) fn run(cmd: CatalogCmd) -> Result<()> {
    match cmd {
        CatalogCmd::Frame {
            ctx,
            session,
            at,
            output,
            no_cursor,
            pp,
        } => {
            let (cat, me) = login(&ctx)?;
            let grant = cat.open_with(&me, &session, Action::Frame, lazy_passphrase(&pp))?;
            let mut player = grant_player(&grant)?;
            crate::cmd::frame::save_frame(&mut player, at, &output, !no_cursor)?;
        }
        CatalogCmd::Export {
            ctx,
            session,
            flags,
            pp,
        } => {
            let (cat, me) = login(&ctx)?;
            let grant = cat.open_with(&me, &session, Action::Export, lazy_passphrase(&pp))?;
            let mut source = g2a_export::PlayerSource::new(grant_player(&grant)?)?;
            crate::cmd::export::run_with(&mut source, &flags)?;
        }
        CatalogCmd::Play {
            ctx,
            session,
            view,
            pp,
        } => play(&ctx, &session, &view, passphrase(&pp)?)?,
        CatalogCmd::Chat { ctx, session, pp } => {
            let (cat, me) = login(&ctx)?;
            let lines = cat.read_chat_with(&me, &session, lazy_passphrase(&pp))?;
            if lines.is_empty() {
                println!("no chat messages");
            }
            for line in lines {
                println!(
                    "[{}] {} ({}): {}",
                    line.ts,
                    shown(&line.sender),
                    line.role,
                    shown(&line.text)
                );
            }
        }
        CatalogCmd::Diag {
            ctx,
            session,
            name,
            output,
            pp,
        } => {
            let (cat, me) = login(&ctx)?;
            let docs = cat.read_diagnostics_with(&me, &session, lazy_passphrase(&pp))?;
            match (name, output) {
                (Some(name), Some(out)) => {
                    let Some(d) = docs.iter().rev().find(|d| d.name == name) else {
                        let names: Vec<&str> = docs.iter().map(|d| d.name.as_str()).collect();
                        bail!(
                            "session {} has no diagnostics document named {:?} (it has: {})",
                            shown(&session),
                            shown(&name),
                            if names.is_empty() {
                                "none".to_owned()
                            } else {
                                shown(&names.join(", ")).into_owned()
                            }
                        );
                    };
                    if out.as_os_str() == "-" {
                        crate::cmd::write_document(&d.data)?;
                    } else {
                        std::fs::write(&out, &d.data)
                            .with_context(|| format!("cannot write {}", out.display()))?;
                    }
                }
                _ => {
                    if docs.is_empty() {
                        println!("no diagnostics documents");
                    }
                    for d in &docs {
                        println!("[{}] {}  {} bytes", d.ts, shown(&d.name), d.data.len());
                    }
                }
            }
        }
        _ => unreachable!("view::run is called with content commands only"),
    }
    Ok(())
}

/// `g2a catalog play`: rights and retention first; an encrypted recording
/// without a passphrase opens with the window's passphrase prompt, whose
/// answer goes through the same check (and the audit log).
fn play(
    ctx: &Ctx,
    session: &str,
    view: &crate::cmd::play::View,
    pp: Option<Passphrase>,
) -> Result<()> {
    let (cat, me) = login(ctx)?;
    let opts = crate::cmd::play::options(view)?;
    let (grant, ask) = match pp {
        Some(pp) => (
            cat.open_for(&me, session, Action::Replay, Some(&pp))?,
            false,
        ),
        None => cat.locate_for(&me, session, Action::Replay)?,
    };
    let first = grant
        .files
        .first()
        .cloned()
        .ok_or_else(|| anyhow!("session {} has no recording files", shown(session)))?;
    let mut opts = opts.file(first);
    if let Some(c) = &grant.cipher {
        let cipher = c.shared();
        opts = opts.unlock(Box::new(move |_| Ok(cipher.clone())));
    } else if ask {
        let cat = std::sync::Mutex::new(cat);
        let session = session.to_owned();
        opts = opts.unlock(Box::new(move |text| {
            let pp = Passphrase::new(text).map_err(|e| e.to_string())?;
            let cat = cat
                .lock()
                .map_err(|_| "the catalog is unavailable".to_owned())?;
            let g = cat
                .open_for(&me, &session, Action::Replay, Some(&pp))
                .map_err(|e| e.to_string())?;
            g.cipher
                .map(|c| c.shared())
                .ok_or_else(|| "the recording is not encrypted".to_owned())
        }));
    }
    g2a_play::run(opts).context("g2a catalog play")?;
    Ok(())
}

/// A player over a granted session's recording, with its cipher when it
/// is encrypted.
fn grant_player(grant: &g2a_catalog::Grant) -> Result<g2a::Player> {
    let first = grant.files.first().ok_or_else(|| {
        anyhow!(
            "session {} has no recording files",
            shown(&grant.session.id)
        )
    })?;
    let mut player =
        g2a::Player::open(first).with_context(|| format!("cannot open {}", first.display()))?;
    player.set_cipher(grant.cipher.as_ref().map(g2a_catalog::RecordCipher::shared));
    Ok(player)
}
