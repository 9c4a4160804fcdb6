//! The catalog commands that manage the organisation, users, sessions,
//! passphrases, retention and the audit log, and search.

use std::io::Write;

use anyhow::{anyhow, bail, Context, Result};
use g2a_catalog::{
    AuditQuery, Catalog, CatalogOptions, ImportOptions, Passphrase, Role, SearchQuery,
};

use super::secrets::{acting_password, login, login_with, missing_passphrase, passphrase, secret};
use super::show::{self, parse_date};
use super::CatalogCmd;
use crate::cmd::shown;

/// Prints a value as pretty JSON.
fn print_json(v: &serde_json::Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Runs a management command.
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
                shown(&ctx.user)
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
            println!("added portal {}", shown(&name));
        }
        CatalogCmd::AddTeam { ctx, name, parent } => {
            let (cat, me) = login(&ctx)?;
            cat.add_team(&me, &name, parent.as_deref())?;
            println!("added team {}", shown(&name));
        }
        CatalogCmd::AssignTeam { ctx, team, portal } => {
            let (cat, me) = login(&ctx)?;
            cat.assign_team_to_portal(&me, &team, &portal)?;
            println!(
                "assigned team {} to portal {}",
                shown(&team),
                shown(&portal)
            );
        }
        CatalogCmd::UnassignTeam { ctx, team, portal } => {
            let (cat, me) = login(&ctx)?;
            cat.unassign_team_from_portal(&me, &team, &portal)?;
            println!("took team {} off portal {}", shown(&team), shown(&portal));
        }
        CatalogCmd::AddManager {
            ctx,
            name,
            role,
            teams,
            pw,
        } => {
            let (cat, me) = login(&ctx)?;
            let role = Role::parse(&role)
                .filter(|r| *r != Role::Representative)
                .ok_or_else(|| {
                    anyhow!(
                        "--role must be company-manager or team-manager, found {:?}",
                        shown(&role)
                    )
                })?;
            let pw = pw.required("the new manager's")?;
            let teams: Vec<&str> = teams.iter().map(String::as_str).collect();
            cat.add_manager(&me, &name, role, &pw, &teams)?;
            println!("added {role} {}", shown(&name));
        }
        CatalogCmd::SetManagerTeams { ctx, name, teams } => {
            let (cat, me) = login(&ctx)?;
            let teams: Vec<&str> = teams.iter().map(String::as_str).collect();
            cat.set_manager_teams(&me, &name, &teams)?;
            println!(
                "{} now manages: {}",
                shown(&name),
                if teams.is_empty() {
                    "no team".to_owned()
                } else {
                    shown(&teams.join(", ")).into_owned()
                }
            );
        }
        CatalogCmd::AddRep {
            ctx,
            name,
            team,
            mc_access,
            pw,
        } => {
            let (cat, me) = login(&ctx)?;
            let pw = pw.get()?;
            cat.add_representative(&me, &name, &team, pw.as_deref(), mc_access)?;
            println!(
                "added representative {} to team {}",
                shown(&name),
                shown(&team)
            );
        }
        CatalogCmd::MoveRep { ctx, name, team } => {
            let (cat, me) = login(&ctx)?;
            cat.move_representative(&me, &name, &team)?;
            println!("moved {} to team {}", shown(&name), shown(&team));
        }
        CatalogCmd::GrantMc {
            ctx,
            name,
            revoke,
            pw,
        } => {
            let (cat, me) = login(&ctx)?;
            let pw = pw.get()?;
            cat.set_management_center_access(&me, &name, !revoke, pw.as_deref())?;
            println!(
                "{} Management Center access for {}",
                if revoke { "revoked" } else { "granted" },
                shown(&name)
            );
        }
        CatalogCmd::RenameUser {
            ctx,
            name,
            new_name,
        } => {
            let (cat, me) = login(&ctx)?;
            cat.rename_user(&me, &name, &new_name)?;
            println!("renamed {} to {}", shown(&name), shown(&new_name));
        }
        CatalogCmd::DeleteUser { ctx, name } => {
            let (cat, me) = login(&ctx)?;
            if cat.delete_user(&me, &name)? {
                println!("deleted user {}", shown(&name));
            } else {
                println!(
                    "deactivated user {}: sessions name them, so they are kept without password or access",
                    shown(&name)
                );
            }
        }
        CatalogCmd::SetPassword { ctx, name, pw } => {
            let (cat, me) = login(&ctx)?;
            let pw = pw.required("the new")?;
            cat.set_password(&me, &name, &pw)?;
            println!("set the password of {}", shown(&name));
        }
        CatalogCmd::Passwd { ctx, pw } => {
            let current = acting_password(&ctx)?;
            let (cat, me) = login_with(&ctx, &current)?;
            let new = pw.required("the new")?;
            cat.change_own_password(&me, &current, &new)?;
            println!("changed your password");
        }
        CatalogCmd::SetPolicy {
            ctx,
            team_managers_manage_reps,
        } => {
            let (cat, me) = login(&ctx)?;
            let yes = team_managers_manage_reps == "yes";
            cat.set_team_managers_manage_reps(&me, yes)?;
            println!(
                "team managers {} manage their teams' representatives",
                if yes { "may now" } else { "may no longer" }
            );
        }
        CatalogCmd::Users { ctx, json } => {
            let (cat, me) = login(&ctx)?;
            let users = cat.list_users(&me)?;
            if json {
                print_json(&users.iter().map(show::user_json).collect())?;
            } else {
                users.iter().for_each(show::print_user);
            }
        }
        CatalogCmd::Teams { ctx, json } => {
            let (cat, me) = login(&ctx)?;
            let teams = cat.list_teams(&me)?;
            if json {
                print_json(&teams.iter().map(show::team_json).collect())?;
            } else {
                teams.iter().for_each(show::print_team);
            }
        }
        CatalogCmd::Portals { ctx, json } => {
            let (cat, me) = login(&ctx)?;
            let portals = cat.list_portals(&me)?;
            if json {
                print_json(&portals.iter().map(show::portal_json).collect())?;
            } else {
                portals.iter().for_each(show::print_portal);
            }
        }
        CatalogCmd::Import {
            ctx,
            files,
            accept_attribution,
            accept_unencrypted,
        } => {
            let (cat, me) = login(&ctx)?;
            let opts = ImportOptions::default()
                .accept_attribution(accept_attribution)
                .accept_unencrypted(accept_unencrypted);
            let mut failed = 0;
            for f in &files {
                match cat.import_recording(&me, f, &opts) {
                    Ok(done) => {
                        for w in &done.warnings {
                            eprintln!("g2a: warning: {}: {}", f.display(), shown(w));
                        }
                        let s = &done.session;
                        println!(
                            "imported {} ({} file(s){}{})",
                            shown(&s.id),
                            s.files.len(),
                            if s.encrypted { ", encrypted" } else { "" },
                            if done.warnings.is_empty() {
                                String::new()
                            } else {
                                format!(", {} warning(s)", done.warnings.len())
                            }
                        );
                    }
                    Err(e) if files.len() == 1 => {
                        return Err(anyhow::Error::new(e)
                            .context(format!("importing {}", shown(&f.display().to_string()))));
                    }
                    Err(e) => {
                        failed += 1;
                        eprintln!("g2a: importing {}: {e}", shown(&f.display().to_string()));
                    }
                }
            }
            if failed > 0 {
                bail!(
                    "{failed} of {} recording(s) not imported (each one is said above)",
                    files.len()
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
            json,
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
            q.from_unix_micros = from.as_deref().map(parse_date).transpose()?;
            q.to_unix_micros = to.as_deref().map(parse_date).transpose()?;
            q = q.page(page, per_page);
            let res = cat.search(&me, &q)?;
            if json {
                print_json(&serde_json::json!({
                    "page": page,
                    "sessions": res.sessions.iter().map(show::session_json).collect::<Vec<_>>(),
                    "has_more": res.has_more,
                }))?;
            } else {
                for s in &res.sessions {
                    show::print_session(s);
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
        }
        CatalogCmd::Purge { ctx } => {
            let (cat, me) = login(&ctx)?;
            let n = cat.purge(&me)?;
            println!(
                "purged {n} session(s) older than {} days",
                cat.retention_days()
            );
        }
        CatalogCmd::AddRecorder {
            ctx,
            name,
            portal,
            token_file,
        } => {
            let (cat, me) = login(&ctx)?;
            // The file first, so a token is never issued that could not be kept.
            let mut f = create_private(&token_file)?;
            let token = match cat.issue_recorder_token(&me, &name, &portal) {
                Ok(t) => t,
                Err(e) => {
                    drop(f);
                    let _ = std::fs::remove_file(&token_file);
                    return Err(e.into());
                }
            };
            writeln!(f, "{}", token.as_str())
                .and_then(|()| f.sync_all())
                .with_context(|| token_file.display().to_string())?;
            println!(
                "recorder {} may upload recordings of portal {} (and its subportals); its token is in {}",
                shown(&name),
                shown(&portal),
                token_file.display()
            );
        }
        CatalogCmd::RevokeRecorder { ctx, name } => {
            let (cat, me) = login(&ctx)?;
            cat.revoke_recorder_token(&me, &name)?;
            println!("revoked the token of recorder {}", shown(&name));
        }
        CatalogCmd::Recorders { ctx, json } => {
            let (cat, me) = login(&ctx)?;
            let list = cat.list_recorders(&me)?;
            if json {
                print_json(&list.iter().map(show::recorder_json).collect())?;
            } else if list.is_empty() {
                println!("no recorders: issue one a token with `g2a catalog add-recorder`");
            } else {
                list.iter().for_each(show::print_recorder);
            }
        }
        CatalogCmd::DeleteSession { ctx, session } => {
            let (cat, me) = login(&ctx)?;
            cat.delete_session(&me, &session)?;
            println!("deleted session {} and its recording", shown(&session));
        }
        CatalogCmd::SetAttribution {
            ctx,
            session,
            portal,
            team,
            rep,
            force,
        } => {
            let (cat, me) = login(&ctx)?;
            if portal.is_none() && team.is_none() && rep.is_none() {
                bail!("nothing to change: give --portal, --team or --rep");
            }
            cat.set_session_attribution(
                &me,
                &session,
                portal.as_deref(),
                team.as_deref(),
                rep.as_deref(),
                force,
            )?;
            println!("corrected the attribution of session {}", shown(&session));
        }
        CatalogCmd::SetPassphrase { ctx, portal, pp } => {
            let pw = acting_password(&ctx)?;
            let (cat, me) = login_with(&ctx, &pw)?;
            let p = passphrase(&pp)?.ok_or_else(missing_passphrase)?;
            cat.set_passphrase(&me, &pw, &portal, &p)?;
            println!(
                "set the session replay passphrase of portal {}; new recordings are encrypted. \
                 It cannot be reset: if it is forgotten, those recordings can never be replayed.",
                shown(&portal)
            );
        }
        CatalogCmd::ChangePassphrase {
            ctx,
            portal,
            pp,
            new_passphrase_file,
        } => {
            let pw = acting_password(&ctx)?;
            let (cat, me) = login_with(&ctx, &pw)?;
            let cur = passphrase(&pp)?.ok_or_else(missing_passphrase)?;
            let new = secret(new_passphrase_file.as_deref(), "G2A_NEW_PASSPHRASE")?
                .ok_or_else(|| anyhow!("the new passphrase is missing: use --new-passphrase-file or G2A_NEW_PASSPHRASE"))?;
            cat.change_passphrase(&me, &pw, &portal, &cur, &Passphrase::new(&new)?)?;
            println!(
                "changed the session replay passphrase of portal {}",
                shown(&portal)
            );
        }
        CatalogCmd::RemovePassphrase { ctx, portal, pp } => {
            let pw = acting_password(&ctx)?;
            let (cat, me) = login_with(&ctx, &pw)?;
            let cur = passphrase(&pp)?.ok_or_else(missing_passphrase)?;
            cat.remove_passphrase(&me, &pw, &portal, &cur)?;
            println!(
                "removed the session replay passphrase of portal {}; recordings made under it still need it",
                shown(&portal)
            );
        }
        CatalogCmd::Recipient { ctx, portal } => {
            let (cat, me) = login(&ctx)?;
            println!("{}", cat.recipient_for(&me, &portal)?);
        }
        CatalogCmd::Audit {
            ctx,
            limit,
            by_user,
            session,
            from,
            to,
            json,
        } => {
            let (cat, me) = login(&ctx)?;
            let mut q = AuditQuery::newest(limit).range(
                from.as_deref().map(parse_date).transpose()?,
                to.as_deref().map(parse_date).transpose()?,
            );
            if let Some(u) = by_user {
                q = q.actor(u);
            }
            if let Some(s) = session {
                q = q.session(s);
            }
            let entries = cat.audit_log(&me, &q)?;
            if json {
                print_json(&entries.iter().map(show::audit_json).collect())?;
            } else {
                entries.iter().for_each(show::print_audit);
            }
        }
        _ => unreachable!("manage::run is not called with content commands"),
    }
    Ok(())
}

/// Creates a new file only its owner can read (0600 on Unix); refuses to
/// overwrite one.
fn create_private(path: &std::path::Path) -> Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
        .with_context(|| format!("{}: cannot create the token file", path.display()))
}
