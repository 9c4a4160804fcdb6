//! Managing users: managers and their teams, representatives, Management
//! Center access, passwords, renaming, deleting and listing.
//!
//! Company managers manage everyone. Where a company manager allows it
//! ([`Catalog::set_team_managers_manage_reps`]), team managers manage the
//! representatives of the teams they manage (with subteams): add them to
//! those teams, move them between those teams, grant or revoke their
//! Management Center access, reset their passwords, rename and delete them.

use rusqlite::{params, OptionalExtension};

use crate::model::{Actor, Role, UserInfo};
use crate::names::{normalise, shown};
use crate::users::check_password_strength;
use crate::{Catalog, CatalogError};

const POLICY_KEY: &str = "team_managers_manage_reps";

impl Catalog {
    /// Whether team managers may manage their teams' representatives.
    ///
    /// # Errors
    /// Database errors.
    pub fn team_managers_manage_reps(&self) -> Result<bool, CatalogError> {
        let v: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM settings WHERE key = ?1",
                [POLICY_KEY],
                |r| r.get(0),
            )
            .optional()?;
        Ok(v.as_deref() == Some("1"))
    }

    /// Allows or forbids team managers to manage their teams'
    /// representatives (company managers only).
    ///
    /// # Errors
    /// Denied; database errors.
    pub fn set_team_managers_manage_reps(
        &self,
        actor: &Actor,
        allowed: bool,
    ) -> Result<(), CatalogError> {
        self.managed(actor, "set-policy", None, |detail| {
            *detail = format!("team managers manage their representatives: {allowed}");
            self.require_company(actor, "change who manages representatives")?;
            self.conn.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![POLICY_KEY, if allowed { "1" } else { "0" }],
            )?;
            Ok(())
        })
    }

    /// May `actor` manage representatives of the teams `teams` (a
    /// representative's current team and, for a move, the new one)?
    fn require_rep_manager(
        &self,
        actor: &Actor,
        what: &str,
        teams: &[i64],
    ) -> Result<(), CatalogError> {
        match actor.role {
            Role::CompanyManager => Ok(()),
            Role::TeamManager if self.team_managers_manage_reps()? => {
                if teams.iter().all(|t| actor.managed_teams.contains(t)) {
                    Ok(())
                } else {
                    Err(CatalogError::denied(
                        &actor.name,
                        what,
                        "team managers manage only the representatives of their own teams",
                    ))
                }
            }
            _ => Err(CatalogError::denied(
                &actor.name,
                what,
                "only company managers (or, where allowed, the representative's team manager) may do this",
            )),
        }
    }

    /// A user's id, role and team; deactivated users are "not found".
    fn user_row(&self, name: &str) -> Result<(i64, Role, Option<i64>), CatalogError> {
        let row: Option<(i64, String, Option<i64>)> = self
            .conn
            .query_row(
                "SELECT id, role, team_id FROM users WHERE name = ?1 AND deleted = 0",
                [crate::names::lookup_form(name)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let (id, role, team) = row.ok_or_else(|| CatalogError::NotFound {
            kind: "user",
            name: name.to_owned(),
        })?;
        let role = Role::parse(&role).ok_or_else(|| {
            CatalogError::Corrupt(format!("user {} has role {role:?}", shown(name)))
        })?;
        Ok((id, role, team))
    }

    /// A representative's id and team.
    fn rep_row(&self, name: &str) -> Result<(i64, i64), CatalogError> {
        match self.user_row(name)? {
            (id, Role::Representative, Some(t)) => Ok((id, t)),
            _ => Err(CatalogError::Invalid(format!(
                "{} is not a representative",
                shown(name)
            ))),
        }
    }

    /// A user `actor` may manage: anyone for company managers; for team
    /// managers (where allowed) the representatives of their teams.
    fn manageable_user(
        &self,
        actor: &Actor,
        what: &str,
        name: &str,
    ) -> Result<(i64, Role, Option<i64>), CatalogError> {
        if actor.role != Role::CompanyManager {
            // The policy first: it says nothing about the name. Then the
            // same answer for unknown users and users outside the actor's
            // teams.
            self.require_rep_manager(actor, what, &[])?;
            let row = self.user_row(name).ok();
            return match row {
                Some((id, Role::Representative, Some(t))) if actor.managed_teams.contains(&t) => {
                    Ok((id, Role::Representative, Some(t)))
                }
                _ => Err(CatalogError::denied(
                    &actor.name,
                    what,
                    "no such representative in your teams, or not permitted",
                )),
            };
        }
        self.user_row(name)
    }

    /// Adds a company manager or team manager (company managers only).
    ///
    /// # Errors
    /// Denied, exists, weak password, unknown team.
    pub fn add_manager(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
        password: &str,
        teams: &[&str],
    ) -> Result<(), CatalogError> {
        self.managed(actor, "add-manager", None, |detail| {
            *detail = format!("{role} {} (teams: {})", shown(name), teams.join(", "));
            self.require_company(actor, "add manager")?;
            if role == Role::Representative {
                return Err(CatalogError::Invalid(
                    "use add_representative for representatives".into(),
                ));
            }
            let team_ids = teams
                .iter()
                .map(|t| self.named_id("teams", "team", t))
                .collect::<Result<Vec<_>, _>>()?;
            let id = self.insert_user(name, role, Some(password), None, true)?;
            for t in team_ids {
                self.conn.execute(
                    "INSERT OR IGNORE INTO team_managers (user_id, team_id) VALUES (?1, ?2)",
                    params![id, t],
                )?;
            }
            Ok(())
        })
    }

    fn team_manager_id(&self, manager: &str) -> Result<i64, CatalogError> {
        match self.user_row(manager)? {
            (id, Role::TeamManager, _) => Ok(id),
            _ => Err(CatalogError::Invalid(format!(
                "{} is not a team manager",
                shown(manager)
            ))),
        }
    }

    /// Assigns a team manager to one more team (company managers only).
    ///
    /// # Errors
    /// Denied, unknown user or team, user not a team manager.
    pub fn assign_manager_team(
        &self,
        actor: &Actor,
        manager: &str,
        team: &str,
    ) -> Result<(), CatalogError> {
        self.managed(actor, "assign-manager-team", None, |detail| {
            *detail = format!("team manager {} + team {}", shown(manager), shown(team));
            self.require_company(actor, "assign manager to team")?;
            let u = self.team_manager_id(manager)?;
            let t = self.named_id("teams", "team", team)?;
            self.conn.execute(
                "INSERT OR IGNORE INTO team_managers (user_id, team_id) VALUES (?1, ?2)",
                params![u, t],
            )?;
            Ok(())
        })
    }

    /// Takes a team away from a team manager (company managers only).
    ///
    /// # Errors
    /// Denied, unknown user or team, user not a team manager, team not
    /// theirs.
    pub fn unassign_manager_team(
        &self,
        actor: &Actor,
        manager: &str,
        team: &str,
    ) -> Result<(), CatalogError> {
        self.managed(actor, "unassign-manager-team", None, |detail| {
            *detail = format!("team manager {} - team {}", shown(manager), shown(team));
            self.require_company(actor, "unassign manager from team")?;
            let u = self.team_manager_id(manager)?;
            let t = self.named_id("teams", "team", team)?;
            let n = self.conn.execute(
                "DELETE FROM team_managers WHERE user_id = ?1 AND team_id = ?2",
                params![u, t],
            )?;
            if n == 0 {
                return Err(CatalogError::Invalid(format!(
                    "{} does not manage team {}",
                    shown(manager),
                    shown(team)
                )));
            }
            Ok(())
        })
    }

    /// Sets exactly which teams a team manager manages (company managers
    /// only).
    ///
    /// # Errors
    /// Denied, unknown user or team, user not a team manager.
    pub fn set_manager_teams(
        &self,
        actor: &Actor,
        manager: &str,
        teams: &[&str],
    ) -> Result<(), CatalogError> {
        self.managed(actor, "set-manager-teams", None, |detail| {
            *detail = format!(
                "team manager {} teams = [{}]",
                shown(manager),
                teams
                    .iter()
                    .map(|t| shown(t))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            self.require_company(actor, "change a manager's teams")?;
            let u = self.team_manager_id(manager)?;
            let ids = teams
                .iter()
                .map(|t| self.named_id("teams", "team", t))
                .collect::<Result<Vec<_>, _>>()?;
            self.conn
                .execute("DELETE FROM team_managers WHERE user_id = ?1", [u])?;
            for t in ids {
                self.conn.execute(
                    "INSERT OR IGNORE INTO team_managers (user_id, team_id) VALUES (?1, ?2)",
                    params![u, t],
                )?;
            }
            Ok(())
        })
    }

    /// Adds a representative to `team`, optionally with Management Center
    /// access (then `password` is their login). Company managers, or where
    /// allowed the team's manager.
    ///
    /// # Errors
    /// Denied, exists, unknown team, MC access without password, weak
    /// password.
    pub fn add_representative(
        &self,
        actor: &Actor,
        name: &str,
        team: &str,
        password: Option<&str>,
        mc_access: bool,
    ) -> Result<(), CatalogError> {
        self.managed(actor, "add-representative", None, |detail| {
            *detail = format!(
                "representative {} in team {}{}",
                shown(name),
                shown(team),
                if mc_access {
                    ", Management Center access"
                } else {
                    ""
                }
            );
            let t = self.named_id("teams", "team", team);
            self.require_rep_manager(actor, "add representative", &[*t.as_ref().unwrap_or(&-1)])?;
            let t = t?;
            if mc_access && password.is_none() {
                return Err(CatalogError::Invalid(
                    "management center access needs a password".into(),
                ));
            }
            self.insert_user(name, Role::Representative, password, Some(t), mc_access)?;
            Ok(())
        })
    }

    /// Moves a representative to another team. Their past sessions stay with
    /// the team they were recorded in.
    ///
    /// # Errors
    /// Denied, unknown user or team, user not a representative.
    pub fn move_representative(
        &self,
        actor: &Actor,
        name: &str,
        team: &str,
    ) -> Result<(), CatalogError> {
        self.managed(actor, "move-representative", None, |detail| {
            *detail = format!("representative {} -> team {}", shown(name), shown(team));
            let (u, _, from) = self.manageable_user(actor, "move representative", name)?;
            let from = from.ok_or_else(|| {
                CatalogError::Invalid(format!("{} is not a representative", shown(name)))
            })?;
            self.rep_row(name)?;
            let t = self.named_id("teams", "team", team)?;
            self.require_rep_manager(actor, "move representative", &[from, t])?;
            self.conn
                .execute("UPDATE users SET team_id = ?1 WHERE id = ?2", params![t, u])?;
            Ok(())
        })
    }

    /// Grants or revokes a representative's Management Center access. A
    /// representative without a password needs one to be granted access:
    /// give it as `password`.
    ///
    /// # Errors
    /// Denied, unknown user, not a representative, no password to log in
    /// with, weak password.
    pub fn set_management_center_access(
        &self,
        actor: &Actor,
        name: &str,
        granted: bool,
        password: Option<&str>,
    ) -> Result<(), CatalogError> {
        self.managed(actor, "set-mc-access", None, |detail| {
            *detail = format!(
                "representative {} Management Center access {}{}",
                shown(name),
                if granted { "granted" } else { "revoked" },
                if password.is_some() { ", password set" } else { "" }
            );
            let (u, _) = {
                self.manageable_user(actor, "grant management center access", name)?;
                self.rep_row(name)?
            };
            if let Some(p) = password {
                check_password_strength(p, name)?;
                let h = self.hash_password(p)?;
                self.conn.execute(
                    "UPDATE users SET password_hash = ?1 WHERE id = ?2",
                    params![h, u],
                )?;
            }
            if granted {
                let has: Option<String> = self.conn.query_row(
                    "SELECT password_hash FROM users WHERE id = ?1",
                    [u],
                    |r| r.get(0),
                )?;
                if has.is_none() {
                    return Err(CatalogError::Invalid(format!(
                        "management center access needs a password: give {} one (--new-password-file or G2A_NEW_PASSWORD)",
                        shown(name)
                    )));
                }
            }
            self.conn.execute(
                "UPDATE users SET mc_access = ?1 WHERE id = ?2",
                params![granted, u],
            )?;
            if !granted {
                self.end_logins_of(u)?;
            }
            Ok(())
        })
    }

    /// Sets (resets) another user's password: company managers for anyone,
    /// team managers (where allowed) for their representatives. Pending
    /// failed-login waits of that user are cleared.
    ///
    /// # Errors
    /// Denied, unknown user, weak password.
    pub fn set_password(
        &self,
        actor: &Actor,
        name: &str,
        password: &str,
    ) -> Result<(), CatalogError> {
        self.managed(actor, "set-password", None, |detail| {
            *detail = format!("user {}", shown(name));
            let (u, _, _) = self.manageable_user(actor, "set password", name)?;
            let stored: String =
                self.conn
                    .query_row("SELECT name FROM users WHERE id = ?1", [u], |r| r.get(0))?;
            check_password_strength(password, &stored)?;
            let h = self.hash_password(password)?;
            self.conn.execute(
                "UPDATE users SET password_hash = ?1 WHERE id = ?2",
                params![h, u],
            )?;
            self.end_logins_of(u)?;
            self.conn.execute(
                "DELETE FROM throttle WHERE key = ?1",
                [format!("login:{stored}")],
            )?;
            Ok(())
        })
    }

    /// Renames a user. Their sessions follow (they refer to the user, not
    /// the name). Company managers, or where allowed a representative's
    /// team manager.
    ///
    /// # Errors
    /// Denied, unknown user, bad or taken new name.
    pub fn rename_user(
        &self,
        actor: &Actor,
        name: &str,
        new_name: &str,
    ) -> Result<(), CatalogError> {
        self.managed(actor, "rename-user", None, |detail| {
            *detail = format!("user {} -> {}", shown(name), shown(new_name));
            let (u, _, _) = self.manageable_user(actor, "rename user", name)?;
            let new_name = normalise("user", new_name)?;
            if self.user_id(&new_name)?.is_some() {
                return Err(CatalogError::Exists {
                    kind: "user",
                    name: new_name,
                });
            }
            self.conn.execute(
                "UPDATE users SET name = ?1 WHERE id = ?2",
                params![new_name, u],
            )?;
            Ok(())
        })
    }

    /// Deletes a user. A user whom sessions name is deactivated instead:
    /// kept (so the sessions still say who), without password, Management
    /// Center access or teams, unable to log in, and the name stays taken.
    /// Nobody deletes themselves, and the last company manager stays.
    /// Returns `true` when the user was removed, `false` when deactivated.
    ///
    /// # Errors
    /// Denied, unknown user, deleting oneself or the last company manager.
    pub fn delete_user(&self, actor: &Actor, name: &str) -> Result<bool, CatalogError> {
        self.managed(actor, "delete-user", None, |detail| {
            *detail = format!("user {}", shown(name));
            let (u, role, _) = self.manageable_user(actor, "delete user", name)?;
            if u == actor.id {
                return Err(CatalogError::Invalid("you cannot delete yourself".into()));
            }
            if role == Role::CompanyManager {
                let others: i64 = self.conn.query_row(
                    "SELECT COUNT(*) FROM users WHERE role = 'company-manager' AND deleted = 0 AND id != ?1",
                    [u],
                    |r| r.get(0),
                )?;
                if others == 0 {
                    return Err(CatalogError::Invalid(
                        "the last company manager cannot be deleted".into(),
                    ));
                }
            }
            let stored: String =
                self.conn
                    .query_row("SELECT name FROM users WHERE id = ?1", [u], |r| r.get(0))?;
            self.conn
                .execute("DELETE FROM team_managers WHERE user_id = ?1", [u])?;
            self.conn.execute(
                "DELETE FROM throttle WHERE key = ?1",
                [format!("login:{stored}")],
            )?;
            let sessions: i64 = self.conn.query_row(
                "SELECT COUNT(*) FROM sessions WHERE rep_id = ?1",
                [u],
                |r| r.get(0),
            )?;
            if sessions > 0 {
                self.conn.execute(
                    "UPDATE users SET deleted = 1, password_hash = NULL, mc_access = 0 WHERE id = ?1",
                    [u],
                )?;
                self.end_logins_of(u)?;
                detail.push_str(&format!(" deactivated ({sessions} sessions name them)"));
                Ok(false)
            } else {
                self.conn.execute("DELETE FROM users WHERE id = ?1", [u])?;
                detail.push_str(" removed");
                Ok(true)
            }
        })
    }

    /// The users `actor` may see: everyone for company managers; for a team
    /// manager, themselves and the representatives of their teams; for a
    /// representative with Management Center access, themselves. Sorted by
    /// name.
    ///
    /// # Errors
    /// Denied for representatives without Management Center access;
    /// database errors.
    pub fn list_users(&self, actor: &Actor) -> Result<Vec<UserInfo>, CatalogError> {
        crate::rights::authorize_search(actor)
            .map_err(|d| CatalogError::denied(&actor.name, "list users", d.reason))?;
        let mut st = self.conn.prepare(
            "SELECT u.id, u.name, u.role, t.name, u.team_id, u.mc_access, u.password_hash IS NOT NULL, u.deleted
             FROM users u LEFT JOIN teams t ON t.id = u.team_id ORDER BY u.name",
        )?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, bool>(5)?,
                    r.get::<_, bool>(6)?,
                    r.get::<_, bool>(7)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut teams_of = self.conn.prepare(
            "SELECT t.name FROM team_managers m JOIN teams t ON t.id = m.team_id WHERE m.user_id = ?1 ORDER BY t.name",
        )?;
        let mut out = Vec::new();
        for (id, name, role, team, team_id, mc, has_pw, deleted) in rows {
            let role = Role::parse(&role).ok_or_else(|| {
                CatalogError::Corrupt(format!("user {} has role {role:?}", shown(&name)))
            })?;
            let visible = match actor.role {
                Role::CompanyManager => true,
                Role::TeamManager => {
                    id == actor.id
                        || (role == Role::Representative
                            && team_id.is_some_and(|t| actor.managed_teams.contains(&t)))
                }
                Role::Representative => id == actor.id,
            };
            if !visible {
                continue;
            }
            let managed_teams = if role == Role::TeamManager {
                teams_of
                    .query_map([id], |r| r.get(0))?
                    .collect::<Result<Vec<String>, _>>()?
            } else {
                Vec::new()
            };
            out.push(UserInfo {
                name,
                role,
                team,
                managed_teams,
                mc_access: mc,
                has_password: has_pw,
                deactivated: deleted,
            });
        }
        Ok(out)
    }
}
