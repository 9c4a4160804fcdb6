//! The JSON API under `/api/v1`: login, search, sessions and their
//! content. Every session route goes through the catalog's rights check
//! (`Catalog::open_keyed`, which audits the attempt); a session the user
//! may not see is "not found".

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use axum_extra::extract::cookie::CookieJar;
use g2a_catalog::{Action, Grant, Passphrase, Role, SearchQuery, SessionInfo};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{check_origin, login_cookie, logout_cookie, Authed};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

type Shared = State<Arc<AppState>>;

/// Credentials for `POST /api/v1/login`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// User name.
    pub name: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The logged-in user.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// User name.
    pub name: String,
    /// `company_manager`, `team_manager` or `representative`.
    pub role: String,
    /// The token to send in `X-CSRF-Token` with every request that changes
    /// something.
    pub csrf: String,
    /// When the login ends at the latest (µs since the Unix epoch).
    pub expires_unix_micros: i64,
}

fn me(login: &g2a_catalog::Login) -> Me {
    Me {
        name: login.actor.name().to_owned(),
        role: role_name(login.actor.role()).to_owned(),
        csrf: login.csrf.clone(),
        expires_unix_micros: login.expires_unix_micros,
    }
}

/// The API's name of a role.
pub(crate) fn role_name(r: Role) -> &'static str {
    match r {
        Role::CompanyManager => "company_manager",
        Role::TeamManager => "team_manager",
        _ => "representative",
    }
}

/// Logs in: sets the login cookie and returns the user with the CSRF token.
#[utoipa::path(post, path = "/api/v1/login", request_body = LoginRequest,
    responses((status = 200, body = Me), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    body: Result<Json<LoginRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<(CookieJar, Json<Me>), ApiError> {
    check_origin(&headers)?;
    let Json(req) = body.map_err(json_rejection)?;
    let policy = state.opts.login_policy;
    let client = peer.ip().to_string();
    let (token, login) = state
        .with_catalog(move |cat| {
            let actor = cat.login_from(&req.name, &req.password, &client)?;
            Ok(cat.start_login(&actor, &client, policy)?)
        })
        .await?;
    let jar = jar.add(login_cookie(token.as_str(), state.opts.tls));
    Ok((jar, Json(me(&login))))
}

/// Logs out: ends the login everywhere and wipes its unlocked keys.
#[utoipa::path(post, path = "/api/v1/logout", responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(state): Shared,
    auth: Authed,
    jar: CookieJar,
) -> Result<(CookieJar, StatusCode), ApiError> {
    state.forget_keys(&auth.login.id);
    let token = auth.token.clone();
    state
        .with_catalog(move |cat| Ok(cat.end_login(&token)?))
        .await?;
    Ok((
        jar.add(logout_cookie(state.opts.tls)),
        StatusCode::NO_CONTENT,
    ))
}

/// The logged-in user.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn whoami(auth: Authed) -> Json<Me> {
    Json(me(&auth.login))
}

/// Search filters (`GET /api/v1/sessions`).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Exact session id (the other filters are then ignored).
    pub id: Option<String>,
    /// Portal (with its subportals).
    pub portal: Option<String>,
    /// Team (with its subteams).
    pub team: Option<String>,
    /// Representative.
    pub rep: Option<String>,
    /// Range start, µs since the Unix epoch (default: the retention limit).
    pub from: Option<i64>,
    /// Range end (exclusive), µs since the Unix epoch.
    pub to: Option<i64>,
    /// Page from 0.
    pub page: Option<u32>,
    /// Results per page (1 to 1000, default 50).
    pub per_page: Option<u32>,
}

/// A session as the search lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionSummary {
    /// Session id.
    pub id: String,
    /// Portal.
    pub portal: String,
    /// Subportal, if the session ran on one.
    pub subportal: Option<String>,
    /// The representative's team at the time.
    pub team: String,
    /// Representative.
    pub representative: String,
    /// Customer label.
    pub customer: String,
    /// Start (µs since the Unix epoch).
    pub start_unix_micros: i64,
    /// End (µs since the Unix epoch).
    pub end_unix_micros: i64,
    /// Length in µs.
    pub duration_micros: i64,
    /// Customer rating.
    pub rating: Option<i64>,
    /// Tracks present.
    pub tracks: Vec<String>,
    /// Encrypted at rest (replay needs the portal's passphrase).
    pub encrypted: bool,
    /// Still being recorded and uploaded: the end grows.
    pub live: bool,
}

impl From<&SessionInfo> for SessionSummary {
    fn from(s: &SessionInfo) -> Self {
        SessionSummary {
            id: s.id.clone(),
            portal: s.portal.clone(),
            subportal: s.subportal.clone(),
            team: s.team.clone(),
            representative: s.representative.clone(),
            customer: s.customer.clone(),
            start_unix_micros: s.start_unix_micros,
            end_unix_micros: s.end_unix_micros,
            duration_micros: s.duration_micros(),
            rating: s.rating,
            tracks: s.tracks.clone(),
            encrypted: s.encrypted,
            live: s.live,
        }
    }
}

/// One page of sessions, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResult {
    /// The sessions.
    pub sessions: Vec<SessionSummary>,
    /// Whether another page follows.
    pub has_more: bool,
    /// This page's number.
    pub page: u32,
}

/// Searches the sessions the user may see.
#[utoipa::path(get, path = "/api/v1/sessions", params(SearchParams),
    responses((status = 200, body = SearchResult), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn search(
    State(state): Shared,
    auth: Authed,
    q: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<SearchResult>, ApiError> {
    let Query(p) = q.map_err(|e| ApiError::bad_request(one_line(&e.body_text())))?;
    let page = p.page.unwrap_or(0);
    let mut query = match &p.id {
        Some(id) => SearchQuery::by_id(id.clone()),
        None => {
            let mut q = SearchQuery::default();
            if let Some(v) = &p.portal {
                q = q.portal(v.clone());
            }
            if let Some(v) = &p.team {
                q = q.team(v.clone());
            }
            if let Some(v) = &p.rep {
                q = q.representative(v.clone());
            }
            if p.from.is_some() || p.to.is_some() {
                q.from_unix_micros = p.from;
                q.to_unix_micros = p.to;
            }
            q
        }
    };
    query = query.page(page, p.per_page.unwrap_or(50));
    let actor = auth.login.actor.clone();
    let found = state
        .with_catalog(move |cat| Ok(cat.search(&actor, &query)?))
        .await?;
    Ok(Json(SearchResult {
        sessions: found.sessions.iter().map(SessionSummary::from).collect(),
        has_more: found.has_more,
        page,
    }))
}

/// One session's catalog entry.
#[utoipa::path(get, path = "/api/v1/sessions/{id}", params(("id" = String, Path, description = "Session id")),
    responses((status = 200, body = SessionSummary), (status = 404, body = ErrorBody)))]
pub async fn session(
    State(state): Shared,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Json<SessionSummary>, ApiError> {
    check_id(&id)?;
    let actor = auth.login.actor.clone();
    let found = state
        .with_catalog(move |cat| Ok(cat.search(&actor, &SearchQuery::by_id(id))?))
        .await?;
    found
        .sessions
        .first()
        .map(|s| Json(SessionSummary::from(s)))
        .ok_or_else(ApiError::session_not_found)
}

/// Refuses session ids no catalog holds (empty, over 1,000 bytes, control
/// characters) before they reach the catalog or the log.
///
/// # Errors
/// "not found".
pub fn check_id(id: &str) -> Result<(), ApiError> {
    if id.is_empty() || id.len() > 1000 || id.chars().any(char::is_control) {
        return Err(ApiError::session_not_found());
    }
    Ok(())
}

/// Opens a session for `action` through the catalog's rights check, with
/// the login's keyring (an encrypted recording the login unlocked before
/// opens without its passphrase).
///
/// # Errors
/// "not found" for sessions outside the user's reach; expired; passphrase
/// required.
pub async fn open_grant(
    state: &Arc<AppState>,
    auth: &Authed,
    id: &str,
    action: Action,
) -> Result<Grant, ApiError> {
    check_id(id)?;
    let actor = auth.login.actor.clone();
    let ring = auth.keyring.clone();
    let id = id.to_owned();
    state
        .with_catalog(move |cat| {
            let mut ring = ring
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            cat.open_keyed(&actor, &id, action, &mut ring, None)
                .map_err(|e| ApiError::from_catalog(e, true))
        })
        .await
}

/// The passphrase for `POST /api/v1/sessions/{id}/unlock`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnlockRequest {
    /// The portal's session replay passphrase.
    pub passphrase: String,
}

/// Unlocks an encrypted session's portal key for this login (kept in the
/// server's memory until logout or expiry, never stored or logged).
#[utoipa::path(post, path = "/api/v1/sessions/{id}/unlock", request_body = UnlockRequest,
    params(("id" = String, Path, description = "Session id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn unlock(
    State(state): Shared,
    auth: Authed,
    Path(id): Path<String>,
    body: Result<Json<UnlockRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<StatusCode, ApiError> {
    check_id(&id)?;
    let Json(req) = body.map_err(json_rejection)?;
    let pp = zeroize::Zeroizing::new(req.passphrase);
    let pp = Passphrase::new(&pp).map_err(|e| ApiError::from_catalog(e, true))?;
    let actor = auth.login.actor.clone();
    let ring = auth.keyring.clone();
    state
        .with_catalog(move |cat| {
            let mut ring = ring
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            cat.unlock_for(&actor, &id, &mut ring, &pp)
                .map_err(|e| ApiError::from_catalog(e, true))
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A JSON body the extractor refused, as a one-line 400 (413 when too big).
pub fn json_rejection(e: axum::extract::rejection::JsonRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            crate::error::ErrorCode::TooLarge,
            "request body too large",
        );
    }
    ApiError::bad_request(one_line(&e.body_text()))
}

/// Text cut to one line of at most 300 characters.
pub fn one_line(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    s
}

/// A download answer.
pub fn download(bytes: Vec<u8>, mime: &str, filename: &str) -> Response {
    let safe = safe_name(filename);
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// A file name safe in a `Content-Disposition` header: ASCII letters,
/// digits, `.`, `_` and `-`, at most 100 characters.
pub fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect()
}
