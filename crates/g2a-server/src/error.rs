//! Errors: [`ServerError`] for starting the service, [`ApiError`] for the
//! answers of the API (JSON with a stable code and one line of text).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use g2a_catalog::CatalogError;
use serde::Serialize;

/// Why the service could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The catalog could not be opened.
    #[error("catalog: {0}")]
    Catalog(#[from] CatalogError),
    /// Plain HTTP on an address other than loopback, without
    /// `allow_plain_http`.
    #[error("refusing plain HTTP on {0}, which is not a loopback address: give --tls-cert and --tls-key, or --insecure-http to force it")]
    PlainHttpNotLoopback(std::net::SocketAddr),
    /// The certificate or key could not be loaded.
    #[error("TLS certificate or key: {0}")]
    Tls(String),
    /// Binding or serving failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A stable error code of the API (the `code` field of an error answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not logged in, or the login expired.
    Unauthenticated,
    /// Wrong user name or password.
    BadCredentials,
    /// Too many failed attempts: wait (`Retry-After` says how long).
    Throttled,
    /// The user may not do this.
    Forbidden,
    /// No such thing, or not visible to the user.
    NotFound,
    /// The session is older than the retention period.
    Expired,
    /// The range asked for begins before the retention period.
    OutOfRetention,
    /// The recording is encrypted: unlock it with the portal's passphrase.
    PassphraseRequired,
    /// The passphrase given is wrong.
    WrongPassphrase,
    /// The request is malformed or a value is invalid.
    BadRequest,
    /// The route exists but not with this method.
    MethodNotAllowed,
    /// A new password or passphrase is too weak.
    WeakSecret,
    /// The thing to create exists already.
    Conflict,
    /// The CSRF token is missing or wrong, or the request comes from another
    /// origin.
    Csrf,
    /// The body is larger than allowed.
    TooLarge,
    /// Too many concurrent viewers or jobs: try again later.
    Busy,
    /// The catalog is read-only.
    ReadOnly,
    /// Something failed on the server; the log has the details.
    Internal,
}

/// The JSON body of an error answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable code for programs.
    pub code: ErrorCode,
    /// One line of text for people.
    pub message: String,
}

/// An error answer of the API.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Body.
    pub body: ErrorBody,
    /// Seconds to wait, for throttled and busy answers.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a status, a code and a message.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        let mut message: String = message.into();
        if message.contains('\n') {
            message = message.replace(['\n', '\r'], " ");
        }
        ApiError {
            status,
            body: ErrorBody { code, message },
            retry_after: None,
        }
    }

    /// 400 with [`ErrorCode::BadRequest`].
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }

    /// 401: no valid login.
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "not logged in, or the login has expired",
        )
    }

    /// 404 for a session the user may not see or that does not exist.
    pub fn session_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "no such session or not permitted",
        )
    }

    /// 404 for a path the API doesn't have.
    pub fn no_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such page")
    }

    /// 503 with [`ErrorCode::Busy`].
    pub fn busy(what: &str) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Busy,
            format!("the server is busy ({what}); try again in a moment"),
        );
        e.retry_after = Some(2);
        e
    }

    /// 500; the details go to the log only.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {detail}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "internal error; the server's log has the details",
        )
    }

    /// The answer for a catalog error. `about_session` says whether a
    /// refusal concerns a session (then it is "not found", saying nothing
    /// about whether the session exists) or a management action (then it
    /// is "forbidden", with the catalog's reason).
    pub fn from_catalog(e: CatalogError, about_session: bool) -> Self {
        use CatalogError as C;
        let msg = e.to_string();
        match e {
            C::Denied { .. } if about_session => Self::session_not_found(),
            C::Denied { .. } => Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, msg),
            C::BadCredentials(_) => {
                Self::new(StatusCode::UNAUTHORIZED, ErrorCode::BadCredentials, msg)
            }
            C::Throttled {
                retry_after_secs, ..
            } => {
                let mut a = Self::new(StatusCode::TOO_MANY_REQUESTS, ErrorCode::Throttled, msg);
                a.retry_after = Some(retry_after_secs);
                a
            }
            C::WeakSecret { .. } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::WeakSecret, msg)
            }
            C::Expired { .. } => Self::new(StatusCode::GONE, ErrorCode::Expired, msg),
            C::RangeTooOld { .. } => {
                Self::new(StatusCode::BAD_REQUEST, ErrorCode::OutOfRetention, msg)
            }
            C::PassphraseRequired { .. } => {
                Self::new(StatusCode::FORBIDDEN, ErrorCode::PassphraseRequired, msg)
            }
            C::WrongPassphrase { .. } | C::WrongEarlierPassphrase { .. } => {
                Self::new(StatusCode::FORBIDDEN, ErrorCode::WrongPassphrase, msg)
            }
            C::NotFound { .. } => Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, msg),
            C::Exists { .. } => Self::new(StatusCode::CONFLICT, ErrorCode::Conflict, msg),
            C::Invalid(_) | C::PassphraseState { .. } | C::Attribution { .. } => {
                Self::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, msg)
            }
            C::ReadOnly { .. } => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::ReadOnly, msg)
            }
            other => Self::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(self.body)).into_response();
        if let Some(s) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        r
    }
}

impl From<CatalogError> for ApiError {
    fn from(e: CatalogError) -> Self {
        ApiError::from_catalog(e, false)
    }
}
