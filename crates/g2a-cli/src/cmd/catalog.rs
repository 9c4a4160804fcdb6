//! `g2a catalog …`: the session catalog and access control.
//!
//! Secrets never come from the command line: the acting user's password from
//! `--password-stdin` or `G2A_PASSWORD`; a new user's password from
//! `--new-password-file` or `G2A_NEW_PASSWORD`; the session replay
//! passphrase from `--passphrase-file` or `G2A_PASSPHRASE`; a new passphrase
//! from `--new-passphrase-file` or `G2A_NEW_PASSPHRASE`.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use g2a_catalog::{
    Action, Actor, Catalog, CatalogOptions, Passphrase, Role, SearchQuery, SessionInfo,
};

/// Who is acting, on which catalog.
#[derive(Debug, clap::Args)]
pub(crate) struct Ctx {
    /// The catalog directory.
    #[arg(long, value_name = "DIR")]
    catalog: PathBuf,
    /// The acting user (their password comes from --password-stdin or G2A_PASSWORD).
    #[arg(long = "as", value_name = "USER")]
    user: String,
    /// Read the acting user's password from the first line of stdin.
    #[arg(long)]
    password_stdin: bool,
}

/// Where a session replay passphrase comes from.
#[derive(Debug, clap::Args)]
pub(crate) struct PassphraseArgs {
    /// File holding the session replay passphrase (else env G2A_PASSPHRASE).
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
}

/// The catalog subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum CatalogCmd {
    /// Create a catalog with its first company manager (--as names them).
    Create {
        #[command(flatten)]
        ctx: Ctx,
        /// Days sessions are kept.
        #[arg(long, default_value_t = 90)]
        retention_days: u32,
        /// Cheap password and passphrase key derivation, for automated
        /// tests only: never for a real catalog.
        #[arg(long, hide = true)]
        insecure_fast_kdf: bool,
    },
    /// Change how many days sessions are kept (company managers).
    SetRetention {
        #[command(flatten)]
        ctx: Ctx,
        /// Days.
        days: u32,
    },
    /// Add a portal, or a subportal of --parent.
    AddPortal {
        #[command(flatten)]
        ctx: Ctx,
        /// Portal name.
        name: String,
        /// Parent portal.
        #[arg(long)]
        parent: Option<String>,
    },
    /// Add a team, or a subteam of --parent.
    AddTeam {
        #[command(flatten)]
        ctx: Ctx,
        /// Team name.
        name: String,
        /// Parent team.
        #[arg(long)]
        parent: Option<String>,
    },
    /// Assign a team to a portal.
    AssignTeam {
        #[command(flatten)]
        ctx: Ctx,
        /// Team name.
        team: String,
        /// Portal name.
        portal: String,
    },
    /// Add a company or team manager (password from --new-password-file or G2A_NEW_PASSWORD).
    AddManager {
        #[command(flatten)]
        ctx: Ctx,
        /// User name.
        name: String,
        /// `company-manager` or `team-manager`.
        #[arg(long, default_value = "team-manager")]
        role: String,
        /// Teams managed (repeatable).
        #[arg(long = "team")]
        teams: Vec<String>,
        /// File holding the new user's password.
        #[arg(long, value_name = "FILE")]
        new_password_file: Option<PathBuf>,
    },
    /// Add a representative to a team.
    AddRep {
        #[command(flatten)]
        ctx: Ctx,
        /// User name.
        name: String,
        /// Team.
        #[arg(long)]
        team: String,
        /// Grant Management Center access (needs a password).
        #[arg(long)]
        mc_access: bool,
        /// File holding the new user's password (else G2A_NEW_PASSWORD, if set).
        #[arg(long, value_name = "FILE")]
        new_password_file: Option<PathBuf>,
    },
    /// Move a representative to another team.
    MoveRep {
        #[command(flatten)]
        ctx: Ctx,
        /// Representative.
        name: String,
        /// New team.
        team: String,
    },
    /// Grant (or with --revoke, revoke) a representative's Management Center access.
    GrantMc {
        #[command(flatten)]
        ctx: Ctx,
        /// Representative.
        name: String,
        /// Revoke instead of grant.
        #[arg(long)]
        revoke: bool,
    },
    /// Import recordings (first files; continuation files are found next to them).
    Import {
        #[command(flatten)]
        ctx: Ctx,
        /// `.g2a` files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Search sessions (newest first).
    Search {
        #[command(flatten)]
        ctx: Ctx,
        /// Exact session id.
        #[arg(long)]
        id: Option<String>,
        /// Portal (with subportals).
        #[arg(long)]
        portal: Option<String>,
        /// Team (with subteams).
        #[arg(long)]
        team: Option<String>,
        /// Representative.
        #[arg(long)]
        rep: Option<String>,
        /// Range start, YYYY-MM-DD (UTC).
        #[arg(long)]
        from: Option<String>,
        /// Range end (exclusive), YYYY-MM-DD (UTC).
        #[arg(long)]
        to: Option<String>,
        /// Page number from 0.
        #[arg(long, default_value_t = 0)]
        page: u32,
        /// Results per page.
        #[arg(long, default_value_t = 50)]
        per_page: u32,
    },
    /// Delete the recordings and data of sessions older than the retention period.
    Purge {
        #[command(flatten)]
        ctx: Ctx,
    },
    /// Set a portal's session replay passphrase (cannot be reset if forgotten!).
    SetPassphrase {
        #[command(flatten)]
        ctx: Ctx,
        /// Portal.
        portal: String,
        #[command(flatten)]
        pp: PassphraseArgs,
    },
    /// Change a portal's passphrase (current from --passphrase-file/G2A_PASSPHRASE,
    /// new from --new-passphrase-file/G2A_NEW_PASSPHRASE).
    ChangePassphrase {
        #[command(flatten)]
        ctx: Ctx,
        /// Portal.
        portal: String,
        #[command(flatten)]
        pp: PassphraseArgs,
        /// File holding the new passphrase.
        #[arg(long, value_name = "FILE")]
        new_passphrase_file: Option<PathBuf>,
    },
    /// Remove a portal's passphrase. Recordings made under it still need it.
    RemovePassphrase {
        #[command(flatten)]
        ctx: Ctx,
        /// Portal.
        portal: String,
        #[command(flatten)]
        pp: PassphraseArgs,
    },
    /// Print the public key a recorder encrypts a portal's recordings to.
    Recipient {
        #[command(flatten)]
        ctx: Ctx,
        /// Portal.
        portal: String,
    },
    /// Save the frame on screen at a time of a session as PNG (needs the
    /// right to replay it, and the passphrase of an encrypted recording).
    Frame {
        #[command(flatten)]
        ctx: Ctx,
        /// Session id.
        session: String,
        /// Time from the session start: seconds (`75.5`), `MM:SS` or `HH:MM:SS.mmm`.
        #[arg(long, value_parser = super::frame::parse_time)]
        at: g2a_core::Timestamp,
        /// The PNG to write.
        #[arg(short, long)]
        output: PathBuf,
        /// Leave out the cursor.
        #[arg(long)]
        no_cursor: bool,
        #[command(flatten)]
        pp: PassphraseArgs,
    },
    /// Export a session to MP4 or WMV (needs the right to export it).
    Export {
        #[command(flatten)]
        ctx: Ctx,
        /// Session id.
        session: String,
        #[command(flatten)]
        flags: super::export::Flags,
        #[command(flatten)]
        pp: PassphraseArgs,
    },
    /// Replay a session in the replay window (needs the right to replay it).
    /// An encrypted recording takes the passphrase from --passphrase-file or
    /// G2A_PASSPHRASE, or asks for it in the window.
    Play {
        #[command(flatten)]
        ctx: Ctx,
        /// Session id.
        session: String,
        #[command(flatten)]
        view: super::play::View,
        #[command(flatten)]
        pp: PassphraseArgs,
    },
    /// Print a session's chat transcript.
    Chat {
        #[command(flatten)]
        ctx: Ctx,
        /// Session id.
        session: String,
        #[command(flatten)]
        pp: PassphraseArgs,
    },
    /// List a session's diagnostics documents, or extract one.
    Diag {
        #[command(flatten)]
        ctx: Ctx,
        /// Session id.
        session: String,
        /// Extract the document of this name (the last one, if several share it).
        #[arg(long, requires = "output")]
        name: Option<String>,
        /// Where to write the extracted document (`-` for standard output).
        #[arg(short, long, requires = "name")]
        output: Option<PathBuf>,
        #[command(flatten)]
        pp: PassphraseArgs,
    },
    /// Show the newest audit log entries.
    Audit {
        #[command(flatten)]
        ctx: Ctx,
        /// Number of entries.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

/// Runs a catalog subcommand.
pub(crate) fn run(cmd: CatalogCmd) -> Result<()> {
    match cmd {
        CatalogCmd::Create {
            ctx,
            retention_days,
            insecure_fast_kdf,
        } => {
            let pw = acting_password(&ctx)?;
            let base = if insecure_fast_kdf {
                CatalogOptions::insecure_fast_for_tests()
            } else {
                CatalogOptions::default()
            };
            let opts = base.with_retention_days(retention_days);
            Catalog::create(&ctx.catalog, &ctx.user, &pw, opts)?;
            println!(
                "created catalog {} with company manager {}",
                ctx.catalog.display(),
                ctx.user
            );
        }
        CatalogCmd::SetRetention { ctx, days } => {
            let (mut cat, me) = login(&ctx)?;
            cat.set_retention_days(&me, days)?;
            println!("sessions are now kept {days} days");
        }
        CatalogCmd::AddPortal { ctx, name, parent } => {
            let (cat, me) = login(&ctx)?;
            cat.add_portal(&me, &name, parent.as_deref())?;
            println!("added portal {name}");
        }
        CatalogCmd::AddTeam { ctx, name, parent } => {
            let (cat, me) = login(&ctx)?;
            cat.add_team(&me, &name, parent.as_deref())?;
            println!("added team {name}");
        }
        CatalogCmd::AssignTeam { ctx, team, portal } => {
            let (cat, me) = login(&ctx)?;
            cat.assign_team_to_portal(&me, &team, &portal)?;
            println!("assigned team {team} to portal {portal}");
        }
        CatalogCmd::AddManager {
            ctx,
            name,
            role,
            teams,
            new_password_file,
        } => {
            let (cat, me) = login(&ctx)?;
            let role = Role::parse(&role)
                .filter(|r| *r != Role::Representative)
                .ok_or_else(|| {
                    anyhow!("--role must be company-manager or team-manager, found {role:?}")
                })?;
            let pw = secret(new_password_file.as_deref(), "G2A_NEW_PASSWORD")?
                .ok_or_else(|| anyhow!("the new manager's password is missing: use --new-password-file or G2A_NEW_PASSWORD"))?;
            let teams: Vec<&str> = teams.iter().map(String::as_str).collect();
            cat.add_manager(&me, &name, role, &pw, &teams)?;
            println!("added {role} {name}");
        }
        CatalogCmd::AddRep {
            ctx,
            name,
            team,
            mc_access,
            new_password_file,
        } => {
            let (cat, me) = login(&ctx)?;
            let pw = secret(new_password_file.as_deref(), "G2A_NEW_PASSWORD")?;
            cat.add_representative(&me, &name, &team, pw.as_deref(), mc_access)?;
            println!("added representative {name} to team {team}");
        }
        CatalogCmd::MoveRep { ctx, name, team } => {
            let (cat, me) = login(&ctx)?;
            cat.move_representative(&me, &name, &team)?;
            println!("moved {name} to team {team}");
        }
        CatalogCmd::GrantMc { ctx, name, revoke } => {
            let (cat, me) = login(&ctx)?;
            cat.set_management_center_access(&me, &name, !revoke, None)?;
            println!(
                "{} Management Center access for {name}",
                if revoke { "revoked" } else { "granted" }
            );
        }
        CatalogCmd::Import { ctx, files } => {
            let (mut cat, me) = login(&ctx)?;
            for f in &files {
                let s = cat
                    .import_recording(&me, f)
                    .with_context(|| format!("importing {}", f.display()))?;
                println!(
                    "imported {} ({} file(s){})",
                    s.id,
                    s.files.len(),
                    if s.encrypted { ", encrypted" } else { "" }
                );
            }
        }
        CatalogCmd::Search {
            ctx,
            id,
            portal,
            team,
            rep,
            from,
            to,
            page,
            per_page,
        } => {
            let (cat, me) = login(&ctx)?;
            let mut q = match id {
                Some(id) => SearchQuery::by_id(id),
                None => SearchQuery::default(),
            };
            if let Some(p) = portal {
                q = q.portal(p);
            }
            if let Some(t) = team {
                q = q.team(t);
            }
            if let Some(r) = rep {
                q = q.representative(r);
            }
            if let Some(f) = from {
                let to = to.as_deref().map(parse_date).transpose()?;
                q = q.range(parse_date(&f)?, to);
            } else if let Some(t) = to {
                q.to_unix_micros = Some(parse_date(&t)?);
            }
            q = q.page(page, per_page);
            let res = cat.search(&me, &q)?;
            for s in &res.sessions {
                print_session(s);
            }
            println!(
                "{} session(s) on page {page}{}",
                res.sessions.len(),
                if res.has_more {
                    "; more on the next page"
                } else {
                    ""
                }
            );
        }
        CatalogCmd::Purge { ctx } => {
            let (mut cat, me) = login(&ctx)?;
            let n = cat.purge(&me)?;
            println!(
                "purged {n} session(s) older than {} days",
                cat.retention_days()
            );
        }
        CatalogCmd::SetPassphrase { ctx, portal, pp } => {
            let pw = acting_password(&ctx)?;
            let (cat, me) = login_with(&ctx, &pw)?;
            let p = passphrase(&pp)?.ok_or_else(missing_passphrase)?;
            cat.set_passphrase(&me, &pw, &portal, &p)?;
            println!(
                "set the session replay passphrase of portal {portal}; new recordings are encrypted. \
                 It cannot be reset: if it is forgotten, those recordings can never be replayed."
            );
        }
        CatalogCmd::ChangePassphrase {
            ctx,
            portal,
            pp,
            new_passphrase_file,
        } => {
            let pw = acting_password(&ctx)?;
            let (mut cat, me) = login_with(&ctx, &pw)?;
            let cur = passphrase(&pp)?.ok_or_else(missing_passphrase)?;
            let new = secret(new_passphrase_file.as_deref(), "G2A_NEW_PASSPHRASE")?
                .ok_or_else(|| anyhow!("the new passphrase is missing: use --new-passphrase-file or G2A_NEW_PASSPHRASE"))?;
            cat.change_passphrase(&me, &pw, &portal, &cur, &Passphrase::new(&new)?)?;
            println!("changed the session replay passphrase of portal {portal}");
        }
        CatalogCmd::RemovePassphrase { ctx, portal, pp } => {
            let pw = acting_password(&ctx)?;
            let (cat, me) = login_with(&ctx, &pw)?;
            let cur = passphrase(&pp)?.ok_or_else(missing_passphrase)?;
            cat.remove_passphrase(&me, &pw, &portal, &cur)?;
            println!(
                "removed the session replay passphrase of portal {portal}; recordings made under it still need it"
            );
        }
        CatalogCmd::Recipient { ctx, portal } => {
            let (cat, _me) = login(&ctx)?;
            match cat.recording_recipient(&portal)? {
                Some(r) => println!("{r}"),
                None => println!("portal {portal} has no session replay passphrase: recordings are not encrypted"),
            }
        }
        CatalogCmd::Frame {
            ctx,
            session,
            at,
            output,
            no_cursor,
            pp,
        } => {
            let (cat, me) = login(&ctx)?;
            let grant = cat.open_for(&me, &session, Action::Frame, passphrase(&pp)?.as_ref())?;
            let mut player = grant_player(&grant)?;
            super::frame::save_frame(&mut player, at, &output, !no_cursor)?;
        }
        CatalogCmd::Export {
            ctx,
            session,
            flags,
            pp,
        } => {
            let (cat, me) = login(&ctx)?;
            let grant = cat.open_for(&me, &session, Action::Export, passphrase(&pp)?.as_ref())?;
            let mut source = g2a_export::PlayerSource::new(grant_player(&grant)?)?;
            super::export::run_with(&mut source, &flags)?;
        }
        CatalogCmd::Play {
            ctx,
            session,
            view,
            pp,
        } => play(&ctx, &session, &view, passphrase(&pp)?)?,
        CatalogCmd::Chat { ctx, session, pp } => {
            let (cat, me) = login(&ctx)?;
            for line in cat.read_chat(&me, &session, passphrase(&pp)?.as_ref())? {
                println!(
                    "[{}] {} ({}): {}",
                    line.ts, line.sender, line.role, line.text
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
            let docs = cat.read_diagnostics(&me, &session, passphrase(&pp)?.as_ref())?;
            match (name, output) {
                (Some(name), Some(out)) => {
                    let Some(d) = docs.iter().rev().find(|d| d.name == name) else {
                        let names: Vec<&str> = docs.iter().map(|d| d.name.as_str()).collect();
                        bail!(
                            "session {session} has no diagnostics document named {name:?} (it has: {})",
                            if names.is_empty() { "none".to_owned() } else { names.join(", ") }
                        );
                    };
                    if out.as_os_str() == "-" {
                        std::io::Write::write_all(&mut std::io::stdout(), &d.data)?;
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
                        println!("[{}] {}  {} bytes", d.ts, d.name, d.data.len());
                    }
                }
            }
        }
        CatalogCmd::Audit { ctx, limit } => {
            let (cat, me) = login(&ctx)?;
            for e in cat.audit_log(&me, limit)? {
                println!(
                    "{} {} {} {} {}",
                    format_micros(e.at_unix_micros),
                    e.actor,
                    e.action,
                    e.session_id.as_deref().unwrap_or("-"),
                    e.outcome
                );
            }
        }
    }
    Ok(())
}

fn missing_passphrase() -> anyhow::Error {
    anyhow!("the session replay passphrase is missing: use --passphrase-file or G2A_PASSPHRASE")
}

fn acting_password(ctx: &Ctx) -> Result<String> {
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
            ctx.user
        )
    })
}

fn login(ctx: &Ctx) -> Result<(Catalog, Actor)> {
    let pw = acting_password(ctx)?;
    login_with(ctx, &pw)
}

fn login_with(ctx: &Ctx, pw: &str) -> Result<(Catalog, Actor)> {
    let cat = Catalog::open(&ctx.catalog)?;
    let me = cat.login(&ctx.user, pw)?;
    Ok((cat, me))
}

/// A secret from a file (first line) or an environment variable.
fn secret(file: Option<&Path>, env: &str) -> Result<Option<String>> {
    if let Some(f) = file {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        let first = text.lines().next().unwrap_or("").to_owned();
        return Ok(Some(first));
    }
    Ok(std::env::var(env).ok())
}

fn passphrase(pp: &PassphraseArgs) -> Result<Option<Passphrase>> {
    secret(pp.passphrase_file.as_deref(), "G2A_PASSPHRASE")?
        .map(|s| Passphrase::new(&s).map_err(Into::into))
        .transpose()
}

/// `g2a catalog play`: rights and retention first; an encrypted recording
/// without a passphrase opens with the window's passphrase prompt, whose
/// answer goes through the same check (and the audit log).
fn play(ctx: &Ctx, session: &str, view: &super::play::View, pp: Option<Passphrase>) -> Result<()> {
    let (cat, me) = login(ctx)?;
    let opts = super::play::options(view)?;
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
        .ok_or_else(|| anyhow!("session {session} has no recording files"))?;
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
    let first = grant
        .files
        .first()
        .ok_or_else(|| anyhow!("session {} has no recording files", grant.session.id))?;
    let mut player =
        g2a::Player::open(first).with_context(|| format!("cannot open {}", first.display()))?;
    player.set_cipher(grant.cipher.as_ref().map(g2a_catalog::RecordCipher::shared));
    Ok(player)
}

fn print_session(s: &SessionInfo) {
    println!(
        "{}  {}  {}{}  team {}  rep {}  customer {:?}  rating {}  tracks {}{}",
        s.id,
        format_micros(s.start_unix_micros),
        s.portal,
        s.subportal
            .as_deref()
            .map(|p| format!("/{p}"))
            .unwrap_or_default(),
        s.team,
        s.representative,
        s.customer,
        s.rating
            .map(|r| r.to_string())
            .unwrap_or_else(|| "-".into()),
        s.tracks.join(","),
        if s.encrypted { "  encrypted" } else { "" }
    );
}

/// A UTC time to microseconds since the Unix epoch: `YYYY-MM-DD` (midnight),
/// `YYYY-MM-DDTHH:MM:SS` (an optional trailing `Z`), or `@SECONDS` since the
/// epoch.
pub(crate) fn parse_date(s: &str) -> Result<i64> {
    let s = s.trim();
    let bad = || anyhow!("time {s:?} is not YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS (UTC) or @SECONDS");
    if let Some(secs) = s.strip_prefix('@') {
        let secs: i64 = secs.parse().map_err(|_| bad())?;
        return secs.checked_mul(1_000_000).ok_or_else(bad);
    }
    let (date, time) = match s.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t.trim_end_matches('Z'))),
        None => (s, None),
    };
    let num = |t: Option<&str>| -> Result<i64> { t.ok_or_else(bad)?.parse().map_err(|_| bad()) };
    let mut it = date.splitn(3, '-');
    let (y, m, d) = (num(it.next())?, num(it.next())?, num(it.next())?);
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    if let Some(t) = time {
        let mut it = t.splitn(3, ':');
        let (h, mi, se) = (num(it.next())?, num(it.next())?, num(it.next())?);
        if !(0..24).contains(&h) || !(0..60).contains(&mi) || !(0..61).contains(&se) {
            return Err(bad());
        }
        secs += h * 3600 + mi * 60 + se;
    }
    Ok(secs * 1_000_000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Microseconds since the epoch as `YYYY-MM-DD HH:MM:SS` UTC.
fn format_micros(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(parse_date("1970-01-01").unwrap(), 0);
        assert_eq!(parse_date("2026-01-01").unwrap(), 1_767_225_600_000_000);
        assert_eq!(format_micros(1_767_225_600_000_000), "2026-01-01 00:00:00");
        assert_eq!(
            format_micros(parse_date("2024-02-29").unwrap()),
            "2024-02-29 00:00:00"
        );
        assert!(parse_date("2026-13-01").is_err());
        assert!(parse_date("yesterday").is_err());
        assert_eq!(
            parse_date("2026-01-01T01:02:03Z").unwrap(),
            1_767_225_600_000_000 + 3_723_000_000
        );
        assert_eq!(parse_date("@1767225600").unwrap(), 1_767_225_600_000_000);
        assert!(parse_date("2026-01-01T25:00:00").is_err());
        assert!(parse_date("@x").is_err());
    }
}
