//! The organisation: portals with subportals, teams with subteams, and
//! which teams work on which portals.

use rusqlite::{params, OptionalExtension};

use crate::model::{Actor, PortalInfo, Role, TeamInfo};
use crate::names::{lookup_form, normalise, shown};
use crate::{Catalog, CatalogError};

impl Catalog {
    /// The id of a named user, team or portal.
    pub(crate) fn named_id(
        &self,
        table: &'static str,
        kind: &'static str,
        name: &str,
    ) -> Result<i64, CatalogError> {
        self.named_id_opt(table, name)?
            .ok_or_else(|| CatalogError::NotFound {
                kind,
                name: name.to_owned(),
            })
    }

    /// The id of a named user, team or portal, if there is one.
    pub(crate) fn named_id_opt(
        &self,
        table: &'static str,
        name: &str,
    ) -> Result<Option<i64>, CatalogError> {
        let sql = format!("SELECT id FROM {table} WHERE name = ?1");
        Ok(self
            .conn
            .query_row(&sql, [lookup_form(name)], |r| r.get(0))
            .optional()?)
    }

    /// Adds a portal, or a subportal of `parent` (company managers only).
    ///
    /// # Errors
    /// Denied, exists, bad name, unknown parent.
    pub fn add_portal(
        &self,
        actor: &Actor,
        name: &str,
        parent: Option<&str>,
    ) -> Result<(), CatalogError> {
        self.managed(actor, "add-portal", None, |detail| {
            *detail = format!(
                "portal {}{}",
                shown(name),
                parent
                    .map(|p| format!(" (subportal of {})", shown(p)))
                    .unwrap_or_default()
            );
            self.require_company(actor, "add portal")?;
            let name = normalise("portal", name)?;
            let parent_id = parent
                .map(|p| self.named_id("portals", "portal", p))
                .transpose()?;
            self.insert_unique(
                "portal",
                &name,
                "INSERT INTO portals (name, parent_id) VALUES (?1, ?2)",
                params![name, parent_id],
            )
        })
    }

    /// Adds a team, or a subteam of `parent` (company managers only).
    ///
    /// # Errors
    /// Denied, exists, bad name, unknown parent.
    pub fn add_team(
        &self,
        actor: &Actor,
        name: &str,
        parent: Option<&str>,
    ) -> Result<(), CatalogError> {
        self.managed(actor, "add-team", None, |detail| {
            *detail = format!(
                "team {}{}",
                shown(name),
                parent
                    .map(|p| format!(" (subteam of {})", shown(p)))
                    .unwrap_or_default()
            );
            self.require_company(actor, "add team")?;
            let name = normalise("team", name)?;
            let parent_id = parent
                .map(|p| self.named_id("teams", "team", p))
                .transpose()?;
            self.insert_unique(
                "team",
                &name,
                "INSERT INTO teams (name, parent_id) VALUES (?1, ?2)",
                params![name, parent_id],
            )
        })
    }

    fn insert_unique(
        &self,
        kind: &'static str,
        name: &str,
        sql: &str,
        p: impl rusqlite::Params,
    ) -> Result<(), CatalogError> {
        match self.conn.execute(sql, p) {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(CatalogError::Exists {
                    kind,
                    name: name.to_owned(),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Assigns a team to a portal (company managers only). The team and its
    /// subteams then record on the portal and its subportals.
    ///
    /// # Errors
    /// Denied, unknown team or portal.
    pub fn assign_team_to_portal(
        &self,
        actor: &Actor,
        team: &str,
        portal: &str,
    ) -> Result<(), CatalogError> {
        self.managed(actor, "assign-team-portal", None, |detail| {
            *detail = format!("team {} + portal {}", shown(team), shown(portal));
            self.require_company(actor, "assign team to portal")?;
            let t = self.named_id("teams", "team", team)?;
            let p = self.named_id("portals", "portal", portal)?;
            self.conn.execute(
                "INSERT OR IGNORE INTO team_portals (team_id, portal_id) VALUES (?1, ?2)",
                params![t, p],
            )?;
            Ok(())
        })
    }

    /// Takes a team off a portal (company managers only). Sessions already
    /// recorded stay as they are.
    ///
    /// # Errors
    /// Denied, unknown team or portal, team not assigned to the portal.
    pub fn unassign_team_from_portal(
        &self,
        actor: &Actor,
        team: &str,
        portal: &str,
    ) -> Result<(), CatalogError> {
        self.managed(actor, "unassign-team-portal", None, |detail| {
            *detail = format!("team {} - portal {}", shown(team), shown(portal));
            self.require_company(actor, "unassign team from portal")?;
            let t = self.named_id("teams", "team", team)?;
            let p = self.named_id("portals", "portal", portal)?;
            let n = self.conn.execute(
                "DELETE FROM team_portals WHERE team_id = ?1 AND portal_id = ?2",
                params![t, p],
            )?;
            if n == 0 {
                return Err(CatalogError::Invalid(format!(
                    "team {} is not assigned to portal {}",
                    shown(team),
                    shown(portal)
                )));
            }
            Ok(())
        })
    }

    /// Is team `team_id` (or one of its parents) assigned to portal
    /// `portal_id` (or one of its parents)?
    pub(crate) fn team_works_on(&self, team_id: i64, portal_id: i64) -> Result<bool, CatalogError> {
        let teams = self.ancestors("teams", team_id)?;
        let portals = self.ancestors("portals", portal_id)?;
        let mut st = self
            .conn
            .prepare_cached("SELECT 1 FROM team_portals WHERE team_id = ?1 AND portal_id = ?2")?;
        for t in &teams {
            for p in &portals {
                if st.exists(params![t, p])? {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// The teams `actor` may see (every team for company managers, the
    /// managed teams with subteams for team managers, their own team for a
    /// representative with Management Center access), sorted by name.
    ///
    /// # Errors
    /// Denied for representatives without Management Center access;
    /// database errors.
    pub fn list_teams(&self, actor: &Actor) -> Result<Vec<TeamInfo>, CatalogError> {
        crate::rights::authorize_search(actor)
            .map_err(|d| CatalogError::denied(&actor.name, "list teams", d.reason))?;
        let mut st = self.conn.prepare(
            "SELECT t.id, t.name, p.name FROM teams t LEFT JOIN teams p ON p.id = t.parent_id ORDER BY t.name",
        )?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<Vec<(i64, String, Option<String>)>, _>>()?;
        let names = |sql: &str, id: i64| -> Result<Vec<String>, CatalogError> {
            let mut st = self.conn.prepare_cached(sql)?;
            let v = st
                .query_map([id], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(v)
        };
        let mut out = Vec::new();
        for (id, name, parent) in rows {
            let visible = match actor.role {
                Role::CompanyManager => true,
                Role::TeamManager => actor.managed_teams.contains(&id),
                Role::Representative => actor.team == Some(id),
            };
            if !visible {
                continue;
            }
            out.push(TeamInfo {
                name,
                parent,
                portals: names(
                    "SELECT p.name FROM team_portals tp JOIN portals p ON p.id = tp.portal_id WHERE tp.team_id = ?1 ORDER BY p.name",
                    id,
                )?,
                managers: names(
                    "SELECT u.name FROM team_managers m JOIN users u ON u.id = m.user_id WHERE m.team_id = ?1 ORDER BY u.name",
                    id,
                )?,
                representatives: names(
                    "SELECT name FROM users WHERE team_id = ?1 AND deleted = 0 AND role = 'representative' ORDER BY name",
                    id,
                )?,
            });
        }
        Ok(out)
    }

    /// Every portal with its subportals, assigned teams and passphrase
    /// state (company managers and team managers; representatives with
    /// Management Center access too, as recorders need the portal names).
    ///
    /// # Errors
    /// Denied for representatives without Management Center access;
    /// database errors.
    pub fn list_portals(&self, actor: &Actor) -> Result<Vec<PortalInfo>, CatalogError> {
        crate::rights::authorize_search(actor)
            .map_err(|d| CatalogError::denied(&actor.name, "list portals", d.reason))?;
        let mut st = self.conn.prepare(
            "SELECT p.id, p.name, q.name, p.active_key_id FROM portals p LEFT JOIN portals q ON q.id = p.parent_id ORDER BY p.name",
        )?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            })?
            .collect::<Result<Vec<(i64, String, Option<String>, Option<i64>)>, _>>()?;
        let mut teams = self.conn.prepare(
            "SELECT t.name FROM team_portals tp JOIN teams t ON t.id = tp.team_id WHERE tp.portal_id = ?1 ORDER BY t.name",
        )?;
        let mut out = Vec::new();
        for (id, name, parent, key) in rows {
            let passphrase = if key.is_some() {
                "own"
            } else if self.active_key_of(id)?.is_some() {
                "inherited"
            } else {
                "none"
            };
            out.push(PortalInfo {
                name,
                parent,
                teams: teams
                    .query_map([id], |r| r.get(0))?
                    .collect::<Result<Vec<String>, _>>()?,
                passphrase,
            });
        }
        Ok(out)
    }
}
