//! Sessions' metadata: adding, loading and searching them.

use std::collections::HashMap;
use std::path::PathBuf;

use rusqlite::{params, OptionalExtension};

use crate::model::{
    Action, Actor, NewSession, RecordingFile, Role, SearchPage, SearchQuery, SessionInfo,
};
use crate::names::shown;
use crate::rights::{authorize, authorize_search};
use crate::{Catalog, CatalogError};

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The ids a session's names resolve to, and what doesn't fit.
pub(crate) struct Attribution {
    pub(crate) portal: i64,
    pub(crate) team: i64,
    pub(crate) rep: i64,
    /// Mismatches a company manager may override: the representative is
    /// not in the team now, the team is not assigned to the portal.
    pub(crate) problems: Vec<String>,
}

impl Catalog {
    /// Resolves and checks a session's portal, team and representative:
    /// all three must exist and the representative must be a
    /// representative (a manager never is one); the representative should
    /// be in that team and the team (or a parent team) assigned to the
    /// portal (or a parent portal), else `problems` says what doesn't fit.
    pub(crate) fn attribution(&self, s: &NewSession) -> Result<Attribution, CatalogError> {
        let portal = self.named_id("portals", "portal", &s.portal)?;
        let team = self.named_id("teams", "team", &s.team)?;
        let rep = self.named_id("users", "user", &s.representative)?;
        let (role, rep_team, deleted): (String, Option<i64>, bool) = self.conn.query_row(
            "SELECT role, team_id, deleted FROM users WHERE id = ?1",
            [rep],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let session = shown(&s.id);
        if Role::parse(&role) != Some(Role::Representative) {
            return Err(CatalogError::Attribution {
                session,
                reason: format!(
                    "{} is a {role}, not a representative: a session's representative must be one",
                    shown(&s.representative)
                ),
            });
        }
        let mut problems = Vec::new();
        if deleted {
            problems.push(format!(
                "representative {} is deactivated",
                shown(&s.representative)
            ));
        }
        if rep_team != Some(team) {
            let now = match rep_team {
                Some(t) => {
                    self.conn
                        .query_row("SELECT name FROM teams WHERE id = ?1", [t], |r| {
                            r.get::<_, String>(0)
                        })?
                }
                None => "no team".into(),
            };
            problems.push(format!(
                "representative {} is in team {}, not in team {}",
                shown(&s.representative),
                shown(&now),
                shown(&s.team)
            ));
        }
        if !self.team_works_on(team, portal)? {
            problems.push(format!(
                "team {} is not assigned to portal {}",
                shown(&s.team),
                shown(&s.portal)
            ));
        }
        Ok(Attribution {
            portal,
            team,
            rep,
            problems,
        })
    }

    /// Adds sessions' metadata without recording files, in one transaction
    /// (company managers only). Portal, team and representative must exist
    /// and fit together (see [`Catalog::import_recording`]); nothing is
    /// added when one session is refused.
    ///
    /// # Errors
    /// Denied, unknown names, [`CatalogError::Attribution`], duplicate
    /// session ids.
    pub fn import_metadata(
        &self,
        actor: &Actor,
        sessions: &[NewSession],
    ) -> Result<(), CatalogError> {
        self.managed(actor, "import-metadata", None, |detail| {
            *detail = format!("{} session(s)", sessions.len());
            self.require_company(actor, "import")?;
            let mut checked: HashMap<(&str, &str, &str), (i64, i64, i64)> = HashMap::new();
            let mut ins = self.conn.prepare(
                "INSERT INTO sessions (id, portal_id, team_id, rep_id, customer, start_us, end_us, rating, tracks)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for s in sessions {
                check_session(s)?;
                let k = (s.portal.as_str(), s.team.as_str(), s.representative.as_str());
                let (p, t, r) = match checked.get(&k) {
                    Some(ids) => *ids,
                    None => {
                        let a = self.attribution(s)?;
                        if let Some(problem) = a.problems.first() {
                            return Err(CatalogError::Attribution {
                                session: shown(&s.id),
                                reason: problem.clone(),
                            });
                        }
                        checked.insert(k, (a.portal, a.team, a.rep));
                        (a.portal, a.team, a.rep)
                    }
                };
                let n = ins.execute(params![
                    s.id,
                    p,
                    t,
                    r,
                    s.customer,
                    s.start_unix_micros,
                    s.end_unix_micros,
                    s.rating,
                    s.tracks.join(",")
                ]);
                match n {
                    Ok(_) => {}
                    Err(rusqlite::Error::SqliteFailure(e, _))
                        if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                    {
                        return Err(CatalogError::Exists {
                            kind: "session",
                            name: s.id.clone(),
                        })
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(())
        })
    }

    /// Inserts an imported recording's session and file rows (inside the
    /// caller's transaction).
    pub(crate) fn insert_session_with_files(
        &self,
        s: &NewSession,
        ids: &Attribution,
        key: Option<(i64, &[u8])>,
        files: &[RecordingFile],
    ) -> Result<(), CatalogError> {
        check_session(s)?;
        if self.session_exists(&s.id)? {
            return Err(CatalogError::Exists {
                kind: "session",
                name: s.id.clone(),
            });
        }
        self.conn.execute(
            "INSERT INTO sessions (id, portal_id, team_id, rep_id, customer, start_us, end_us, rating, tracks, key_id, key_block)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![s.id, ids.portal, ids.team, ids.rep, s.customer, s.start_unix_micros, s.end_unix_micros, s.rating, s.tracks.join(","), key.map(|k| k.0), key.map(|k| k.1)],
        )?;
        for f in files {
            self.conn.execute(
                "INSERT INTO session_files (session_id, seq, path, size, sha256) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![s.id, f.seq, f.path.to_string_lossy(), f.size as i64, f.sha256],
            )?;
        }
        Ok(())
    }

    /// Corrects a session's attribution: its portal, team and
    /// representative (company managers only; audited with the old and new
    /// values). The new ones must fit together as at import, unless
    /// `force` (audited).
    ///
    /// # Errors
    /// Denied; unknown session or names; [`CatalogError::Attribution`].
    pub fn set_session_attribution(
        &self,
        actor: &Actor,
        session_id: &str,
        portal: Option<&str>,
        team: Option<&str>,
        representative: Option<&str>,
        force: bool,
    ) -> Result<(), CatalogError> {
        self.managed(actor, "set-attribution", Some(session_id), |detail| {
            self.require_company(actor, "correct a session's attribution")?;
            let cur = self
                .load_session(session_id)?
                .ok_or_else(|| CatalogError::NotFound {
                    kind: "session",
                    name: session_id.to_owned(),
                })?;
            let cur_portal = cur.subportal.clone().unwrap_or_else(|| cur.portal.clone());
            let new = NewSession {
                id: cur.id.clone(),
                portal: portal.unwrap_or(&cur_portal).to_owned(),
                team: team.unwrap_or(&cur.team).to_owned(),
                representative: representative.unwrap_or(&cur.representative).to_owned(),
                ..NewSession::default()
            };
            *detail = format!(
                "portal {} -> {}, team {} -> {}, representative {} -> {}",
                shown(&cur_portal),
                shown(&new.portal),
                shown(&cur.team),
                shown(&new.team),
                shown(&cur.representative),
                shown(&new.representative)
            );
            let a = self.attribution(&new)?;
            if let Some(p) = a.problems.first() {
                if !force {
                    return Err(CatalogError::Attribution {
                        session: shown(session_id),
                        reason: format!("{p} (a company manager may force the change)"),
                    });
                }
                detail.push_str(&format!("; forced over: {}", a.problems.join("; ")));
            }
            if cur.key_id.is_some() && a.portal != cur.portal_id {
                let (_, owner): (i64, i64) = self.conn.query_row(
                    "SELECT id, portal_id FROM portal_keys WHERE id = ?1",
                    [cur.key_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                if !self.ancestors("portals", a.portal)?.contains(&owner) {
                    return Err(CatalogError::Coverage {
                        session: shown(session_id),
                        reason: format!(
                            "is encrypted to the key of portal {}, so it can't move to portal {}",
                            shown(&self.portal_name(owner)?),
                            shown(&new.portal)
                        ),
                    });
                }
            }
            self.conn.execute(
                "UPDATE sessions SET portal_id = ?1, team_id = ?2, rep_id = ?3 WHERE id = ?4",
                params![a.portal, a.team, a.rep, cur.id],
            )?;
            Ok(())
        })
    }

    pub(crate) fn session_exists(&self, id: &str) -> Result<bool, CatalogError> {
        Ok(self
            .conn
            .query_row("SELECT 1 FROM sessions WHERE id = ?1", [id], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
            .is_some())
    }

    pub(crate) fn session_for_import(&self, id: &str) -> Result<SessionInfo, CatalogError> {
        self.load_session(id)?
            .ok_or_else(|| CatalogError::NotFound {
                kind: "session",
                name: id.to_owned(),
            })
    }

    pub(crate) fn load_session(&self, id: &str) -> Result<Option<SessionInfo>, CatalogError> {
        let sql = format!("{SESSION_SELECT} WHERE s.id = ?1");
        let s = self.conn.query_row(&sql, [id], row_to_session).optional()?;
        let Some(mut s) = s else { return Ok(None) };
        let mut st = self.conn.prepare(
            "SELECT seq, path, size, sha256 FROM session_files WHERE session_id = ?1 ORDER BY seq",
        )?;
        s.files = st
            .query_map([id], |r| {
                Ok(RecordingFile {
                    seq: r.get(0)?,
                    path: PathBuf::from(r.get::<_, String>(1)?),
                    size: r.get::<_, i64>(2)? as u64,
                    sha256: r.get(3)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(Some(s))
    }

    /// Searches the sessions the actor may see, newest first.
    ///
    /// # Errors
    /// [`CatalogError::RangeTooOld`] when the range begins before the
    /// retention window; [`CatalogError::Denied`] for representatives
    /// without Management Center access; [`CatalogError::NotFound`] for an
    /// unknown portal, team or representative filter.
    pub fn search(&self, actor: &Actor, q: &SearchQuery) -> Result<SearchPage, CatalogError> {
        if let Err(d) = authorize_search(actor) {
            let e = CatalogError::denied(&actor.name, Action::Search, d.reason);
            self.audit_best_effort(
                &actor.name,
                "search",
                None,
                &crate::audit::outcome_of(&e),
                "",
            );
            return Err(e);
        }
        let per_page = match q.per_page {
            0 => 50,
            n if n > 1000 => {
                return Err(CatalogError::Invalid(format!(
                    "page size {n} is larger than 1000"
                )))
            }
            n => n,
        };
        let cutoff = self.cutoff();
        let empty = SearchPage {
            sessions: Vec::new(),
            has_more: false,
        };
        if let Some(id) = &q.session_id {
            let visible = match self.load_session(id)? {
                Some(s) if !s.purged && s.start_unix_micros >= cutoff => {
                    authorize(actor, Action::Search, &s).is_ok().then_some(s)
                }
                _ => None,
            };
            let sessions = visible.into_iter().filter(|_| q.page == 0).collect();
            return Ok(SearchPage {
                sessions,
                has_more: false,
            });
        }
        // A range may begin on the first day of the retention window (a
        // date given as that day's midnight); it is narrowed to the window.
        let window_day = cutoff - cutoff.rem_euclid(MICROS_PER_DAY);
        let too_old = CatalogError::RangeTooOld {
            days: self.opts.retention_days,
        };
        let from = match q.from_unix_micros {
            Some(f) if f < window_day => return Err(too_old),
            Some(f) => f.max(cutoff),
            None => cutoff,
        };
        if let Some(to) = q.to_unix_micros {
            match q.from_unix_micros {
                Some(f) if to < f => {
                    return Err(CatalogError::Invalid(format!(
                        "date range ends ({}) before it begins ({})",
                        crate::model::utc_date(to),
                        crate::model::utc_date(f)
                    )))
                }
                None if to <= cutoff => return Err(too_old),
                _ => {}
            }
        }
        // Filters as id sets; the actor's visibility narrows them. Names
        // outside a manager's or representative's reach find nothing, just
        // as names that don't exist: a search says nothing about them.
        let company = actor.role == Role::CompanyManager;
        let lookup = |table: &'static str, kind: &'static str, name: &str| {
            if company {
                self.named_id(table, kind, name).map(Some)
            } else {
                self.named_id_opt(table, name)
            }
        };
        let portals = match &q.portal {
            Some(p) => match lookup("portals", "portal", p)? {
                Some(root) => Some(self.expand_tree("portals", &[root])?),
                None => return Ok(empty),
            },
            None => None,
        };
        let mut teams = match &q.team {
            Some(t) => match lookup("teams", "team", t)? {
                Some(root) => Some(self.expand_tree("teams", &[root])?),
                None => return Ok(empty),
            },
            None => None,
        };
        let mut rep = match &q.representative {
            Some(r) => match lookup("users", "user", r)? {
                Some(id) => Some(id),
                None => return Ok(empty),
            },
            None => None,
        };
        match actor.role {
            Role::CompanyManager => {}
            Role::TeamManager => {
                teams = Some(match teams {
                    Some(t) => t
                        .into_iter()
                        .filter(|id| actor.managed_teams.contains(id))
                        .collect(),
                    None => actor.managed_teams.clone(),
                });
            }
            Role::Representative => {
                if rep.is_some_and(|r| r != actor.id) {
                    return Ok(SearchPage {
                        sessions: Vec::new(),
                        has_more: false,
                    });
                }
                rep = Some(actor.id);
            }
        }
        let spec = SearchSpec {
            from,
            to: q.to_unix_micros,
            portals,
            teams,
            rep,
            limit: u64::from(q.page) * u64::from(per_page) + u64::from(per_page) + 1,
        };
        let ids = self.search_ids(&spec)?;
        let start = (q.page as usize).saturating_mul(per_page as usize);
        let page_ids: Vec<&(String, i64)> =
            ids.iter().skip(start).take(per_page as usize + 1).collect();
        let has_more = page_ids.len() > per_page as usize;
        let mut sessions = Vec::new();
        let sql = format!("{SESSION_SELECT} WHERE s.id = ?1");
        let mut st = self.conn.prepare_cached(&sql)?;
        for (id, _) in page_ids.into_iter().take(per_page as usize) {
            sessions.push(st.query_row([id], row_to_session)?);
        }
        Ok(SearchPage { sessions, has_more })
    }

    /// Ids and start times of matching sessions, newest first, at most
    /// `spec.limit`. The query is driven by the most selective index: the
    /// representative's, else one ordered index probe per team or portal
    /// (merged), else the start-time index; the other filters are applied
    /// to the rows found (`+col` keeps SQLite from picking their index).
    fn search_ids(&self, spec: &SearchSpec) -> Result<Vec<(String, i64)>, CatalogError> {
        const MAX_PROBES: usize = 64;
        let mut residual = vec!["s.purged = 0".to_owned(), "s.start_us >= ?".to_owned()];
        let mut args: Vec<i64> = vec![spec.from];
        if let Some(to) = spec.to {
            residual.push("s.start_us < ?".into());
            args.push(to);
        }
        let list = |col: &str, ids: &[i64], residual: &mut Vec<String>, args: &mut Vec<i64>| {
            if ids.is_empty() {
                residual.push("0".into());
            } else {
                residual.push(format!("+{col} IN ({})", vec!["?"; ids.len()].join(",")));
                args.extend_from_slice(ids);
            }
        };
        // Pick the driver.
        let (driver_col, driver_vals): (&str, Vec<i64>) = if let Some(r) = spec.rep {
            if let Some(t) = &spec.teams {
                list("s.team_id", t, &mut residual, &mut args);
            }
            if let Some(p) = &spec.portals {
                list("s.portal_id", p, &mut residual, &mut args);
            }
            ("s.rep_id", vec![r])
        } else if let Some(t) = spec.teams.as_ref().filter(|t| t.len() <= MAX_PROBES) {
            if let Some(p) = &spec.portals {
                list("s.portal_id", p, &mut residual, &mut args);
            }
            ("s.team_id", t.clone())
        } else if let Some(p) = spec.portals.as_ref().filter(|p| p.len() <= MAX_PROBES) {
            if let Some(t) = &spec.teams {
                list("s.team_id", t, &mut residual, &mut args);
            }
            ("s.portal_id", p.clone())
        } else {
            if let Some(t) = &spec.teams {
                list("s.team_id", t, &mut residual, &mut args);
            }
            if let Some(p) = &spec.portals {
                list("s.portal_id", p, &mut residual, &mut args);
            }
            ("", Vec::new())
        };
        let limit = i64::try_from(spec.limit).unwrap_or(i64::MAX);
        let where_ = residual.join(" AND ");
        let (sql, all_args) = if driver_col.is_empty() {
            let mut a = args.clone();
            a.push(limit);
            (
                format!("SELECT s.id, s.start_us FROM sessions s WHERE {where_} ORDER BY s.start_us DESC, s.id DESC LIMIT ?"),
                a,
            )
        } else if driver_vals.is_empty() {
            return Ok(Vec::new());
        } else {
            let mut parts = Vec::new();
            let mut a = Vec::new();
            for v in &driver_vals {
                parts.push(format!(
                    "SELECT id, start_us FROM (SELECT s.id AS id, s.start_us AS start_us FROM sessions s \
                     WHERE {driver_col} = ? AND {where_} ORDER BY s.start_us DESC, s.id DESC LIMIT ?)"
                ));
                a.push(*v);
                a.extend_from_slice(&args);
                a.push(limit);
            }
            a.push(limit);
            (
                format!(
                    "SELECT id, start_us FROM ({}) ORDER BY start_us DESC, id DESC LIMIT ?",
                    parts.join(" UNION ALL ")
                ),
                a,
            )
        };
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st
            .query_map(rusqlite::params_from_iter(all_args.iter()), |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<Result<Vec<(String, i64)>, _>>()?;
        Ok(rows)
    }
}

struct SearchSpec {
    from: i64,
    to: Option<i64>,
    portals: Option<Vec<i64>>,
    teams: Option<Vec<i64>>,
    rep: Option<i64>,
    limit: u64,
}

const SESSION_SELECT: &str = "SELECT s.id, p.name, pp.name, t.name, u.name, s.customer, s.start_us, s.end_us, s.rating, s.tracks, s.key_id, s.team_id, s.rep_id, s.purged, s.portal_id, s.live
     FROM sessions s JOIN portals p ON p.id = s.portal_id LEFT JOIN portals pp ON pp.id = p.parent_id
     JOIN teams t ON t.id = s.team_id JOIN users u ON u.id = s.rep_id";

fn row_to_session(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionInfo> {
    let name: String = r.get(1)?;
    let parent: Option<String> = r.get(2)?;
    let (portal, subportal) = match parent {
        Some(p) => (p, Some(name)),
        None => (name, None),
    };
    let tracks: String = r.get(9)?;
    let key_id: Option<i64> = r.get(10)?;
    Ok(SessionInfo {
        id: r.get(0)?,
        portal,
        subportal,
        team: r.get(3)?,
        representative: r.get(4)?,
        customer: r.get(5)?,
        start_unix_micros: r.get(6)?,
        end_unix_micros: r.get(7)?,
        rating: r.get(8)?,
        tracks: tracks
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        encrypted: key_id.is_some(),
        files: Vec::new(),
        team_id: r.get(11)?,
        rep_id: r.get(12)?,
        purged: r.get(13)?,
        key_id,
        portal_id: r.get(14)?,
        live: r.get(15)?,
    })
}

pub(crate) fn check_session(s: &NewSession) -> Result<(), CatalogError> {
    if s.id.is_empty()
        || s.id.len() > 200
        || !s
            .id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        || s.id.starts_with('.')
    {
        return Err(CatalogError::Invalid(format!(
            "session id {} must be 1 to 200 of [A-Za-z0-9._-], not starting with '.'",
            shown(&s.id)
        )));
    }
    if s.end_unix_micros < s.start_unix_micros {
        return Err(CatalogError::Invalid(format!(
            "session {} ends ({}) before it starts ({})",
            s.id, s.end_unix_micros, s.start_unix_micros
        )));
    }
    Ok(())
}
