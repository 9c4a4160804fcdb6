//! The g2a review service: a web Management Center over the session
//! catalog (`g2a serve`). Managers log in with their catalog user, search
//! sessions, read chat, events and diagnostics, and replay recordings in
//! the browser, which receives only the screen rectangles it must draw.
//!
//! [`router`] builds the axum application on an [`AppState`]; [`serve`]
//! runs it over plain HTTP on loopback or over TLS (rustls). The API is
//! under `/api/v1` and described by the OpenAPI document at
//! `/api/v1/openapi.json`; the pages are served from `/`. Design and
//! protocol: docs/SERVE.md.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod api;
pub mod auth;
pub mod content;
mod error;
pub mod exports;
pub mod org;
mod pages;
mod state;
pub mod uploads;
pub mod viewer;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::routing::{delete, get, post};
use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::OpenApi;

pub use error::{ApiError, ErrorBody, ErrorCode, ServerError};
pub use state::{now_micros, AppState, ServiceOptions};

/// The OpenAPI document of `/api/v1`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "g2a review service",
        description = "Sessions, content and replay of the g2a catalog. Errors are JSON `{code, message}`; requests that change something need the login's `X-CSRF-Token`."
    ),
    paths(
        api::login,
        api::logout,
        api::whoami,
        api::search,
        api::session,
        api::unlock,
        content::chat,
        content::events,
        content::diagnostics,
        content::diagnostic,
        content::timeline,
        content::frame,
        viewer::play,
        exports::start,
        exports::status,
        exports::cancel,
        exports::file,
        org::org,
        org::action,
        org::recorders,
        org::issue_recorder,
        org::revoke_recorder,
        org::audit,
        uploads::options,
        uploads::create,
        uploads::head,
        uploads::status,
        uploads::patch,
    ),
    components(schemas(
        api::LoginRequest,
        api::Me,
        api::SessionSummary,
        api::SearchResult,
        api::UnlockRequest,
        content::ChatMessage,
        content::SessionEvent,
        content::DiagnosticInfo,
        content::Timeline,
        exports::ExportRequest,
        exports::ExportStatus,
        org::UserView,
        org::TeamView,
        org::PortalView,
        org::OrgView,
        org::OrgAction,
        org::RecorderView,
        org::NewRecorder,
        org::IssuedRecorder,
        org::AuditView,
        uploads::UploadStatus,
        ErrorBody,
        ErrorCode,
    ))
)]
pub struct ApiDoc;

async fn openapi() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}

async fn no_route() -> ApiError {
    ApiError::no_route()
}

async fn wrong_method() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::MethodNotAllowed,
        "this route does not take that method",
    )
}

/// The application: API, pages and the security headers of every answer.
pub fn router(state: Arc<AppState>) -> Router {
    let limit = state.opts.max_body_bytes;
    // Upload bodies are streamed to disk: they are bounded by the upload's
    // length, not by the API's body limit.
    let uploads = Router::new()
        .route("/uploads", post(uploads::create).options(uploads::options))
        .route(
            "/uploads/{id}",
            get(uploads::status)
                .head(uploads::head)
                .patch(uploads::patch)
                .options(uploads::options),
        );
    let api = Router::new()
        .route("/login", post(api::login))
        .route("/logout", post(api::logout))
        .route("/me", get(api::whoami))
        .route("/openapi.json", get(openapi))
        .route("/sessions", get(api::search))
        .route("/sessions/{id}", get(api::session))
        .route("/sessions/{id}/unlock", post(api::unlock))
        .route("/sessions/{id}/chat", get(content::chat))
        .route("/sessions/{id}/events", get(content::events))
        .route("/sessions/{id}/diagnostics", get(content::diagnostics))
        .route(
            "/sessions/{id}/diagnostics/{index}",
            get(content::diagnostic),
        )
        .route("/sessions/{id}/timeline", get(content::timeline))
        .route("/sessions/{id}/frame", get(content::frame))
        .route("/sessions/{id}/play", get(viewer::play))
        .route("/sessions/{id}/exports", post(exports::start))
        .route(
            "/exports/{job}",
            get(exports::status).delete(exports::cancel),
        )
        .route("/exports/{job}/file", get(exports::file))
        .route("/org", get(org::org))
        .route("/org/actions", post(org::action))
        .route(
            "/org/recorders",
            get(org::recorders).post(org::issue_recorder),
        )
        .route("/org/recorders/{name}", delete(org::revoke_recorder))
        .route("/audit", get(org::audit))
        .layer(RequestBodyLimitLayer::new(limit))
        .merge(uploads)
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method);
    Router::new()
        .nest("/api/v1", api)
        .merge(pages::routes().layer(RequestBodyLimitLayer::new(limit)))
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            ),
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "internal error; the server's log has the details",
            ))
        }))
        .with_state(state)
}

/// Where and how to listen.
#[derive(Debug, Clone)]
pub struct Listen {
    /// Address and port.
    pub addr: SocketAddr,
    /// PEM certificate chain and private key, for TLS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Allow plain HTTP on an address that is not loopback.
    pub allow_plain_http: bool,
}

/// Runs the service until `shutdown` resolves. Calls `ready` with the
/// bound address once it listens.
///
/// # Errors
/// [`ServerError::PlainHttpNotLoopback`], TLS files that don't load,
/// binding errors.
pub async fn serve(
    state: Arc<AppState>,
    listen: Listen,
    ready: impl FnOnce(SocketAddr) + Send + 'static,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    if listen.tls.is_none() && !listen.addr.ip().is_loopback() && !listen.allow_plain_http {
        return Err(ServerError::PlainHttpNotLoopback(listen.addr));
    }
    let sweeper = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(30));
            loop {
                every.tick().await;
                state.sweep_keys(now_micros());
                state.jobs.sweep();
                let idle = state.opts.upload_idle_secs;
                let swept = state
                    .with_catalog(move |cat| cat.sweep_uploads(idle).map_err(ApiError::from))
                    .await;
                match swept {
                    Ok(s) if s != g2a_catalog::UploadSweep::default() => {
                        tracing::info!("uploads: {s:?}")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!("upload sweep: {}", e.body.message),
                }
            }
        })
    };
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::new();
    {
        let handle = handle.clone();
        tokio::spawn(async move {
            shutdown.await;
            handle.graceful_shutdown(Some(Duration::from_secs(5)));
        });
    }
    let r = match listen.tls {
        Some((cert, key)) => {
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .map_err(|e| {
                    ServerError::Tls(format!("{}, {}: {e}", cert.display(), key.display()))
                })?;
            let server = axum_server::bind_rustls(listen.addr, config).handle(handle.clone());
            notify_when_bound(&handle, ready);
            server.serve(app).await
        }
        None => {
            let server = axum_server::bind(listen.addr).handle(handle.clone());
            notify_when_bound(&handle, ready);
            server.serve(app).await
        }
    };
    sweeper.abort();
    Ok(r?)
}

fn notify_when_bound(
    handle: &axum_server::Handle,
    ready: impl FnOnce(SocketAddr) + Send + 'static,
) {
    let handle = handle.clone();
    tokio::spawn(async move {
        if let Some(addr) = handle.listening().await {
            ready(addr);
        }
    });
}
