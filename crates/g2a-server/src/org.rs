//! The organisation and the audit log over the API: what the user may see
//! of portals, teams and users, the management actions of company managers
//! (and of team managers where the company allows it), and the audit log.
//! Every action is the catalog's own, with its rights check and audit
//! entry; a refusal is "forbidden" with the catalog's reason.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use g2a_catalog::{AuditQuery, Catalog, Passphrase, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use zeroize::Zeroizing;

use crate::api::{json_rejection, one_line, role_name};
use crate::auth::Authed;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

type Shared = State<Arc<AppState>>;
type Body<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

/// A user as the organisation page lists them.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Name.
    pub name: String,
    /// `company_manager`, `team_manager` or `representative`.
    pub role: String,
    /// A representative's team.
    pub team: Option<String>,
    /// A team manager's teams.
    pub managed_teams: Vec<String>,
    /// Management Center access (representatives).
    pub mc_access: bool,
    /// Whether the user has a password.
    pub has_password: bool,
    /// Deactivated (deleted while sessions name them).
    pub deactivated: bool,
}

/// A team.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamView {
    /// Name.
    pub name: String,
    /// Parent team.
    pub parent: Option<String>,
    /// Portals it is assigned to.
    pub portals: Vec<String>,
    /// Its managers.
    pub managers: Vec<String>,
    /// Its representatives.
    pub representatives: Vec<String>,
}

/// A portal.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortalView {
    /// Name.
    pub name: String,
    /// Parent portal.
    pub parent: Option<String>,
    /// Teams assigned.
    pub teams: Vec<String>,
    /// Passphrase state, as the catalog words it.
    pub passphrase: String,
}

/// The organisation as the user may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgView {
    /// Users.
    pub users: Vec<UserView>,
    /// Teams.
    pub teams: Vec<TeamView>,
    /// Portals.
    pub portals: Vec<PortalView>,
    /// Days sessions are kept.
    pub retention_days: u32,
}

/// The organisation: users, teams and portals the user may see.
#[utoipa::path(get, path = "/api/v1/org", responses((status = 200, body = OrgView), (status = 403, body = ErrorBody)))]
pub async fn org(State(state): Shared, auth: Authed) -> Result<Json<OrgView>, ApiError> {
    let actor = auth.login.actor.clone();
    let view = state
        .with_catalog(move |cat| {
            let users = cat
                .list_users(&actor)?
                .into_iter()
                .map(|u| UserView {
                    name: u.name,
                    role: role_name(u.role).into(),
                    team: u.team,
                    managed_teams: u.managed_teams,
                    mc_access: u.mc_access,
                    has_password: u.has_password,
                    deactivated: u.deactivated,
                })
                .collect();
            let teams = cat
                .list_teams(&actor)?
                .into_iter()
                .map(|t| TeamView {
                    name: t.name,
                    parent: t.parent,
                    portals: t.portals,
                    managers: t.managers,
                    representatives: t.representatives,
                })
                .collect();
            let portals = cat
                .list_portals(&actor)?
                .into_iter()
                .map(|p| PortalView {
                    name: p.name,
                    parent: p.parent,
                    teams: p.teams,
                    passphrase: p.passphrase.to_owned(),
                })
                .collect();
            Ok(OrgView {
                users,
                teams,
                portals,
                retention_days: cat.retention_days(),
            })
        })
        .await?;
    Ok(Json(view))
}

/// A management action (`POST /api/v1/org/actions`). Passwords and
/// passphrases are wiped from memory after use and never logged.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum OrgAction {
    /// Add a portal, or a subportal of `parent`.
    AddPortal {
        /// Name.
        name: String,
        /// Parent portal.
        parent: Option<String>,
    },
    /// Add a team, or a subteam of `parent`.
    AddTeam {
        /// Name.
        name: String,
        /// Parent team.
        parent: Option<String>,
    },
    /// Assign a team to a portal.
    AssignTeam {
        /// Team.
        team: String,
        /// Portal.
        portal: String,
    },
    /// Take a team off a portal.
    UnassignTeam {
        /// Team.
        team: String,
        /// Portal.
        portal: String,
    },
    /// Add a company or team manager.
    AddManager {
        /// Name.
        name: String,
        /// `company_manager` or `team_manager`.
        role: String,
        /// Their password.
        password: String,
        /// Teams managed (team managers).
        #[serde(default)]
        teams: Vec<String>,
    },
    /// Add a representative.
    AddRepresentative {
        /// Name.
        name: String,
        /// Team.
        team: String,
        /// Password (needed for Management Center access).
        password: Option<String>,
        /// Management Center access.
        #[serde(default)]
        mc_access: bool,
    },
    /// Move a representative to another team.
    MoveRepresentative {
        /// Name.
        name: String,
        /// New team.
        team: String,
    },
    /// Grant or revoke a representative's Management Center access.
    SetMcAccess {
        /// Name.
        name: String,
        /// Granted or revoked.
        granted: bool,
        /// A password for a representative without one.
        password: Option<String>,
    },
    /// Set a portal's session replay passphrase (cannot be reset!).
    SetPassphrase {
        /// Portal.
        portal: String,
        /// The acting manager's own password.
        own_password: String,
        /// The new passphrase.
        new: String,
    },
    /// Change a portal's passphrase.
    ChangePassphrase {
        /// Portal.
        portal: String,
        /// The acting manager's own password.
        own_password: String,
        /// The current passphrase.
        current: String,
        /// The new passphrase.
        new: String,
    },
    /// Remove a portal's passphrase (recordings made under it still need it).
    RemovePassphrase {
        /// Portal.
        portal: String,
        /// The acting manager's own password.
        own_password: String,
        /// The current passphrase.
        current: String,
    },
}

impl std::fmt::Debug for OrgAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OrgAction(..)")
    }
}

fn pp(s: &str) -> Result<Passphrase, ApiError> {
    Passphrase::new(s).map_err(ApiError::from)
}

fn apply(cat: &Catalog, actor: &g2a_catalog::Actor, a: OrgAction) -> Result<(), ApiError> {
    use OrgAction as A;
    match a {
        A::AddPortal { name, parent } => cat.add_portal(actor, &name, parent.as_deref())?,
        A::AddTeam { name, parent } => cat.add_team(actor, &name, parent.as_deref())?,
        A::AssignTeam { team, portal } => cat.assign_team_to_portal(actor, &team, &portal)?,
        A::UnassignTeam { team, portal } => {
            cat.unassign_team_from_portal(actor, &team, &portal)?;
        }
        A::AddManager {
            name,
            role,
            password,
            teams,
        } => {
            let password = Zeroizing::new(password);
            let role = match role.as_str() {
                "company_manager" => Role::CompanyManager,
                "team_manager" => Role::TeamManager,
                other => {
                    return Err(ApiError::bad_request(format!(
                        "role {:?} is not company_manager or team_manager",
                        one_line(other)
                    )))
                }
            };
            let teams: Vec<&str> = teams.iter().map(String::as_str).collect();
            cat.add_manager(actor, &name, role, &password, &teams)?;
        }
        A::AddRepresentative {
            name,
            team,
            password,
            mc_access,
        } => {
            let password = password.map(Zeroizing::new);
            cat.add_representative(
                actor,
                &name,
                &team,
                password.as_deref().map(String::as_str),
                mc_access,
            )?;
        }
        A::MoveRepresentative { name, team } => cat.move_representative(actor, &name, &team)?,
        A::SetMcAccess {
            name,
            granted,
            password,
        } => {
            let password = password.map(Zeroizing::new);
            cat.set_management_center_access(
                actor,
                &name,
                granted,
                password.as_deref().map(String::as_str),
            )?;
        }
        A::SetPassphrase {
            portal,
            own_password,
            new,
        } => {
            let (own, new) = (Zeroizing::new(own_password), Zeroizing::new(new));
            cat.set_passphrase(actor, &own, &portal, &pp(&new)?)?;
        }
        A::ChangePassphrase {
            portal,
            own_password,
            current,
            new,
        } => {
            let own = Zeroizing::new(own_password);
            let (cur, new) = (Zeroizing::new(current), Zeroizing::new(new));
            cat.change_passphrase(actor, &own, &portal, &pp(&cur)?, &pp(&new)?)?;
        }
        A::RemovePassphrase {
            portal,
            own_password,
            current,
        } => {
            let (own, cur) = (Zeroizing::new(own_password), Zeroizing::new(current));
            cat.remove_passphrase(actor, &own, &portal, &pp(&cur)?)?;
        }
    }
    Ok(())
}

/// Carries out a management action.
#[utoipa::path(post, path = "/api/v1/org/actions", request_body = OrgAction,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn action(
    State(state): Shared,
    auth: Authed,
    body: Body<OrgAction>,
) -> Result<StatusCode, ApiError> {
    let Json(a) = body.map_err(json_rejection)?;
    let actor = auth.login.actor.clone();
    state.with_catalog(move |cat| apply(cat, &actor, a)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A recorder allowed to upload, as company managers see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecorderView {
    /// Name.
    pub name: String,
    /// The portal it uploads to (with its subportals).
    pub portal: String,
    /// The company manager who issued its token.
    pub created_by: String,
    /// When the token was issued, µs since the Unix epoch.
    pub created_unix_micros: i64,
    /// When it was revoked, if it was.
    pub revoked_unix_micros: Option<i64>,
    /// When it last uploaded (to the minute), if ever.
    pub last_used_unix_micros: Option<i64>,
}

/// A new recorder (`POST /api/v1/org/recorders`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRecorder {
    /// Name.
    pub name: String,
    /// The portal it may upload to.
    pub portal: String,
}

/// A recorder's token, shown once.
#[derive(Serialize, ToSchema)]
pub struct IssuedRecorder {
    /// Name.
    pub name: String,
    /// Portal.
    pub portal: String,
    /// The token: give it to the recorder (`g2a upload --token-file`). It
    /// is not stored and cannot be shown again.
    pub token: String,
}

/// The recorders, revoked ones included (company managers).
#[utoipa::path(get, path = "/api/v1/org/recorders",
    responses((status = 200, body = [RecorderView]), (status = 403, body = ErrorBody)))]
pub async fn recorders(
    State(state): Shared,
    auth: Authed,
) -> Result<Json<Vec<RecorderView>>, ApiError> {
    let actor = auth.login.actor.clone();
    let list = state
        .with_catalog(move |cat| Ok(cat.list_recorders(&actor)?))
        .await?;
    Ok(Json(
        list.into_iter()
            .map(|r| RecorderView {
                name: r.name,
                portal: r.portal,
                created_by: r.created_by,
                created_unix_micros: r.created_unix_micros,
                revoked_unix_micros: r.revoked_unix_micros,
                last_used_unix_micros: r.last_used_unix_micros,
            })
            .collect(),
    ))
}

/// Issues a recorder token (company managers; audited). The answer is the
/// only place the token ever appears.
#[utoipa::path(post, path = "/api/v1/org/recorders", request_body = NewRecorder,
    responses((status = 201, body = IssuedRecorder), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn issue_recorder(
    State(state): Shared,
    auth: Authed,
    body: Body<NewRecorder>,
) -> Result<(StatusCode, Json<IssuedRecorder>), ApiError> {
    let Json(r) = body.map_err(json_rejection)?;
    let actor = auth.login.actor.clone();
    let issued = state
        .with_catalog(move |cat| {
            let token = cat.issue_recorder_token(&actor, &r.name, &r.portal)?;
            Ok(IssuedRecorder {
                name: r.name,
                portal: r.portal,
                token: token.as_str().to_owned(),
            })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// Revokes a recorder's token (company managers; audited). Its uploads in
/// progress stop being accepted; what they sent stays.
#[utoipa::path(delete, path = "/api/v1/org/recorders/{name}",
    params(("name" = String, Path, description = "the recorder")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_recorder(
    State(state): Shared,
    auth: Authed,
    name: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(name) = name.map_err(|e| ApiError::bad_request(one_line(&e.body_text())))?;
    let actor = auth.login.actor.clone();
    state
        .with_catalog(move |cat| Ok(cat.revoke_recorder_token(&actor, &name)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Audit log filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Only entries of this acting user.
    pub user: Option<String>,
    /// Only entries about this session.
    pub session: Option<String>,
    /// From, µs since the Unix epoch.
    pub from: Option<i64>,
    /// To (exclusive).
    pub to: Option<i64>,
    /// At most this many (default 50, at most 10 000).
    pub limit: Option<u32>,
}

/// An audit log entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    /// When, µs since the Unix epoch.
    pub at_unix_micros: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Which session.
    pub session_id: Option<String>,
    /// `allowed`, `ok`, `refused: …`, `failed: …`.
    pub outcome: String,
    /// What was done.
    pub detail: String,
}

/// The audit log, newest first (company managers).
#[utoipa::path(get, path = "/api/v1/audit", params(AuditParams),
    responses((status = 200, body = [AuditView]), (status = 403, body = ErrorBody)))]
pub async fn audit(
    State(state): Shared,
    auth: Authed,
    q: Result<Query<AuditParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<AuditView>>, ApiError> {
    let Query(p) = q.map_err(|e| ApiError::bad_request(one_line(&e.body_text())))?;
    let mut q = AuditQuery::newest(p.limit.unwrap_or(50)).range(p.from, p.to);
    if let Some(u) = p.user {
        q = q.actor(u);
    }
    if let Some(s) = p.session {
        q = q.session(s);
    }
    let actor = auth.login.actor.clone();
    let entries = state
        .with_catalog(move |cat| Ok(cat.audit_log(&actor, &q)?))
        .await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| AuditView {
                at_unix_micros: e.at_unix_micros,
                actor: e.actor,
                action: e.action,
                session_id: e.session_id,
                outcome: e.outcome,
                detail: e.detail,
            })
            .collect(),
    ))
}
