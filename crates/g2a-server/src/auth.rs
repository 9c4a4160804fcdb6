//! Logins over HTTP: the session cookie, the extractor that turns it into
//! the catalog's [`Login`], and the CSRF and origin checks of requests
//! that change something.
//!
//! The cookie holds the login token (`HttpOnly`, `SameSite=Strict`,
//! `Secure` over TLS, `Path=/`); the catalog keeps only its hash. Every
//! request that is not `GET`/`HEAD` must carry the login's CSRF token in
//! `X-CSRF-Token`, and when the browser sends `Origin`, it must be this
//! service's own. The login request itself has no token yet: it must be
//! JSON (which a cross-site form can't send) from this origin.

use std::sync::{Arc, Mutex};

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts, HeaderMap, Method};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use g2a_catalog::{Keyring, Login};
use subtle::ConstantTimeEq;

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// The name of the session cookie.
pub const COOKIE: &str = "g2a_login";
/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A request made by a logged-in user.
pub struct Authed {
    /// The login, with the user as the rights check needs them now.
    pub login: Login,
    /// The portal keys this login unlocked.
    pub keyring: Arc<Mutex<Keyring>>,
    /// The cookie's token (for logout).
    pub token: String,
}

impl std::fmt::Debug for Authed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authed")
            .field("user", &self.login.actor.name())
            .finish_non_exhaustive()
    }
}

/// Refuses a request whose `Origin` is another site's (browsers send it on
/// every cross-origin request and on same-origin ones that change
/// something).
///
/// # Errors
/// [`ErrorCode::Csrf`].
pub fn check_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let origin = origin.to_str().unwrap_or("");
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .unwrap_or("");
    if host.is_empty() || origin_host != host {
        return Err(csrf_error("the request comes from another site"));
    }
    Ok(())
}

fn csrf_error(why: &str) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::FORBIDDEN,
        ErrorCode::Csrf,
        format!("request refused: {why}"),
    )
}

impl FromRequestParts<Arc<AppState>> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let token = jar
            .get(COOKIE)
            .map(|c| c.value().to_owned())
            .ok_or_else(ApiError::unauthenticated)?;
        let policy = state.opts.login_policy;
        let t = token.clone();
        let login = state
            .with_catalog(move |cat| cat.resume_login(&t, policy).map_err(ApiError::from))
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        let changes = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if changes {
            check_origin(&parts.headers)?;
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .map(axum::http::HeaderValue::as_bytes)
                .unwrap_or(b"");
            if !bool::from(sent.ct_eq(login.csrf.as_bytes())) {
                return Err(csrf_error("the X-CSRF-Token header is missing or wrong"));
            }
        }
        let keyring = state.keyring(&login.id, login.expires_unix_micros);
        Ok(Authed {
            login,
            keyring,
            token,
        })
    }
}

/// The cookie that holds a new login's token: a session cookie (the
/// browser drops it when it closes; the server ends the login on its idle
/// or absolute expiry whatever the browser keeps).
pub fn login_cookie(token: &str, secure: bool) -> Cookie<'static> {
    Cookie::build((COOKIE, token.to_owned()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .path("/")
        .build()
}

/// The cookie that clears the login on logout.
pub fn logout_cookie(secure: bool) -> Cookie<'static> {
    let mut c = login_cookie("", secure);
    c.make_removal();
    c
}
