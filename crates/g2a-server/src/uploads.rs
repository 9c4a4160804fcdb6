//! Resumable uploads from recording clients: the tus 1.0.0 core protocol
//! with the `creation` and `creation-defer-length` extensions, under
//! `/api/v1/uploads`, so any tus client can send recordings.
//!
//! A recorder authenticates with `Authorization: Bearer <token>`, a token a
//! company manager issued for one portal ([`g2a_catalog::Uploader`]); it
//! may do nothing but upload. `POST` creates an upload for one recording
//! file (`Upload-Length`, or `Upload-Defer-Length: 1` while the recording
//! is still being made; `Upload-Metadata` names the file), `HEAD` says how
//! many bytes the server has, `PATCH` appends at that offset. Bytes are
//! written to disk as they arrive and synced when a request ends, however
//! it ends, so an upload cut at any byte resumes from the server's offset.
//! The catalog binds the upload to its session as soon as the header is in
//! (the session is then live and viewable as it grows) and verifies and
//! enters the file once its last byte is in (see `g2a_catalog::uploads`).
//! `GET` answers the upload's state as JSON. Protocol details: docs/SERVE.md.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::{header, request::Parts, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use g2a_catalog::{CatalogError, UploadInfo, Uploader};
use tokio::io::AsyncWriteExt;

use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::state::AppState;

/// The tus protocol version spoken.
pub const TUS_VERSION: &str = "1.0.0";
/// The tus extensions supported.
pub const TUS_EXTENSIONS: &str = "creation,creation-defer-length";
/// The media type of a `PATCH` body.
pub const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";
/// How long a `PATCH` may go without a byte before the server stops
/// reading it (what came is kept).
const BODY_IDLE: Duration = Duration::from_secs(30);
/// How long a request waits for another request on the same upload.
const LOCK_WAIT: Duration = Duration::from_secs(40);
/// Largest `Upload-Metadata` header accepted.
const MAX_METADATA: usize = 4096;

const TUS_RESUMABLE: HeaderName = HeaderName::from_static("tus-resumable");
const TUS_VERSION_H: HeaderName = HeaderName::from_static("tus-version");
const TUS_EXTENSION: HeaderName = HeaderName::from_static("tus-extension");
const TUS_MAX_SIZE: HeaderName = HeaderName::from_static("tus-max-size");
const UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
const UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
const UPLOAD_DEFER_LENGTH: HeaderName = HeaderName::from_static("upload-defer-length");
const UPLOAD_METADATA: HeaderName = HeaderName::from_static("upload-metadata");

/// The uploads in progress on this node: one lock per upload, so that two
/// requests never append to the same file at once. Entries go when no
/// request holds them.
#[derive(Debug, Default)]
pub struct UploadLocks {
    map: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl UploadLocks {
    fn entry(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut m = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        m.retain(|_, l| Arc::strong_count(l) > 1);
        m.entry(id.to_owned()).or_default().clone()
    }

    /// Uploads with a request in progress.
    #[must_use]
    pub fn active(&self) -> usize {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .filter(|l| Arc::strong_count(l) > 1)
            .count()
    }
}

/// A request made by a recorder with a valid token.
#[derive(Debug)]
pub struct RecorderAuthed(pub Uploader);

impl FromRequestParts<Arc<AppState>> for RecorderAuthed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_owned());
        let Some(token) = token else {
            return Err(tus_error(ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated,
                "uploads need a recorder token: Authorization: Bearer <token>",
            )));
        };
        state
            .with_catalog(move |cat| {
                cat.uploader_for_token(&token).map_err(|e| match e {
                    CatalogError::BadToken => ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        ErrorCode::Unauthenticated,
                        e.to_string(),
                    ),
                    e => ApiError::from(e),
                })
            })
            .await
            .map(RecorderAuthed)
            .map_err(tus_error)
    }
}

pub use g2a_upload::UploadStatus;

/// The wire form of an upload's state.
fn upload_status(u: &UploadInfo) -> UploadStatus {
    UploadStatus {
        id: u.id.clone(),
        file_name: u.file_name.clone(),
        length: u.length,
        offset: u.offset,
        state: u.state.name().to_owned(),
        session_id: u.session_id.clone(),
        seq: u.seq,
        warnings: u.warnings.clone(),
        error: u.error.clone(),
    }
}

/// Every tus answer carries `Tus-Resumable`.
fn tus(mut r: Response) -> Response {
    r.headers_mut()
        .insert(TUS_RESUMABLE, HeaderValue::from_static(TUS_VERSION));
    r
}

fn tus_error(e: ApiError) -> Response {
    tus(e.into_response())
}

fn header_value(n: u64) -> HeaderValue {
    HeaderValue::from(n)
}

/// The upload errors of the catalog: refusals of the recording are 4xx with
/// what was wrong; an unknown upload is 404.
fn upload_error(e: CatalogError) -> ApiError {
    match e {
        CatalogError::Format { .. } | CatalogError::Coverage { .. } | CatalogError::Crypto(_) => {
            ApiError::bad_request(e.to_string())
        }
        CatalogError::Limit(_) => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooLarge,
            e.to_string(),
        ),
        CatalogError::Denied { .. } => {
            ApiError::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, e.to_string())
        }
        CatalogError::Invalid(_) => ApiError::bad_request(e.to_string()),
        e => ApiError::from(e),
    }
}

/// The refusal of a request that does not speak tus 1.0.0 (412, with the
/// versions this server speaks), or `None` for one that does.
fn refuse_unless_resumable(headers: &HeaderMap) -> Option<Response> {
    if headers.get(&TUS_RESUMABLE).map(HeaderValue::as_bytes) == Some(TUS_VERSION.as_bytes()) {
        return None;
    }
    let mut r = ApiError::new(
        StatusCode::PRECONDITION_FAILED,
        ErrorCode::BadRequest,
        format!("this server speaks tus {TUS_VERSION}: send Tus-Resumable: {TUS_VERSION}"),
    )
    .into_response();
    r.headers_mut()
        .insert(TUS_VERSION_H, HeaderValue::from_static(TUS_VERSION));
    Some(tus(r))
}

fn number_header(headers: &HeaderMap, name: &HeaderName) -> Result<Option<u64>, ApiError> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .filter(|s| !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<u64>().ok())
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(format!("{name} must be a non-negative integer"))),
    }
}

/// Parses `Upload-Metadata`: comma-separated `key base64value` pairs.
///
/// # Errors
/// A malformed header.
pub fn parse_metadata(text: &str) -> Result<HashMap<String, String>, ApiError> {
    use base64::Engine as _;
    let bad = |why: &str| ApiError::bad_request(format!("Upload-Metadata: {why}"));
    if text.len() > MAX_METADATA {
        return Err(bad("longer than 4096 bytes"));
    }
    let mut out = HashMap::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut it = pair.splitn(2, ' ');
        let key = it.next().unwrap_or_default();
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad("a key must be printable ASCII without spaces"));
        }
        let value = match it.next().map(str::trim) {
            None | Some("") => String::new(),
            Some(v) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(v)
                    .map_err(|_| bad("a value is not base64"))?;
                String::from_utf8(bytes).map_err(|_| bad("a value is not UTF-8"))?
            }
        };
        if out.insert(key.to_owned(), value).is_some() {
            return Err(bad("a key appears twice"));
        }
    }
    Ok(out)
}

/// What the server supports (no login needed).
#[utoipa::path(options, path = "/api/v1/uploads",
    responses((status = 204, description = "Tus-Version, Tus-Extension, Tus-Max-Size")))]
pub async fn options(State(state): State<Arc<AppState>>) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    h.insert(TUS_VERSION_H, HeaderValue::from_static(TUS_VERSION));
    h.insert(TUS_EXTENSION, HeaderValue::from_static(TUS_EXTENSIONS));
    h.insert(TUS_MAX_SIZE, header_value(state.opts.max_upload_bytes));
    tus(r)
}

/// Creates an upload of one recording file (tus `creation`).
#[utoipa::path(post, path = "/api/v1/uploads",
    params(("Upload-Length" = Option<u64>, Header, description = "The file's size"),
        ("Upload-Defer-Length" = Option<u8>, Header, description = "1: the size comes later"),
        ("Upload-Metadata" = String, Header, description = "filename <base64>")),
    responses((status = 201, description = "Location: the upload's URL"), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 412, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    RecorderAuthed(who): RecorderAuthed,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = refuse_unless_resumable(&headers) {
        return r;
    }
    match create_inner(&state, who, &headers).await {
        Ok(r) => tus(r),
        Err(e) => tus_error(e),
    }
}

async fn create_inner(
    state: &Arc<AppState>,
    who: Uploader,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let length = number_header(headers, &UPLOAD_LENGTH)?;
    let deferred = headers.get(&UPLOAD_DEFER_LENGTH).map(HeaderValue::as_bytes);
    match (length, deferred) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "give Upload-Length or Upload-Defer-Length, not both",
            ))
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "Upload-Length (or Upload-Defer-Length: 1) is required",
            ))
        }
        (None, Some(d)) if d != b"1" => {
            return Err(ApiError::bad_request("Upload-Defer-Length must be 1"))
        }
        _ => {}
    }
    if let Some(l) = length {
        check_length(state, l)?;
    }
    let meta = match headers.get(&UPLOAD_METADATA) {
        Some(v) => parse_metadata(
            v.to_str()
                .map_err(|_| ApiError::bad_request("Upload-Metadata is not ASCII"))?,
        )?,
        None => HashMap::new(),
    };
    let name = meta
        .get("filename")
        .filter(|n| !n.is_empty())
        .cloned()
        .ok_or_else(|| {
            ApiError::bad_request("Upload-Metadata must name the file: filename <base64 name>")
        })?;
    let u = state
        .with_catalog(move |cat| cat.create_upload(&who, &name, length).map_err(upload_error))
        .await?;
    let mut r = StatusCode::CREATED.into_response();
    let h = r.headers_mut();
    h.insert(
        header::LOCATION,
        HeaderValue::from_str(&format!("/api/v1/uploads/{}", u.id)).map_err(ApiError::internal)?,
    );
    h.insert(UPLOAD_OFFSET, header_value(0));
    Ok(r)
}

/// Refuses an upload longer than this server accepts (413).
fn check_length(state: &AppState, l: u64) -> Result<(), ApiError> {
    if l > state.opts.max_upload_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooLarge,
            format!(
                "an upload of {l} bytes is larger than the {} bytes this server accepts",
                state.opts.max_upload_bytes
            ),
        ));
    }
    Ok(())
}

fn offset_headers(r: &mut Response, u: &UploadInfo) {
    let h = r.headers_mut();
    h.insert(UPLOAD_OFFSET, header_value(u.offset));
    match u.length {
        Some(l) => h.insert(UPLOAD_LENGTH, header_value(l)),
        None => h.insert(UPLOAD_DEFER_LENGTH, HeaderValue::from_static("1")),
    };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

async fn load(state: &Arc<AppState>, who: &Uploader, id: &str) -> Result<UploadInfo, ApiError> {
    let who = who.clone();
    let id = id.to_owned();
    state
        .with_catalog(move |cat| cat.upload_of(&who, &id).map_err(upload_error))
        .await
}

fn gone(u: &UploadInfo) -> ApiError {
    ApiError::new(
        StatusCode::GONE,
        ErrorCode::NotFound,
        format!(
            "upload {} was refused and its bytes dropped: {}",
            u.id,
            u.error.as_deref().unwrap_or("no reason recorded")
        ),
    )
}

/// How many bytes the server has (tus `HEAD`).
#[utoipa::path(head, path = "/api/v1/uploads/{id}", params(("id" = String, Path, description = "Upload id")),
    responses((status = 200, description = "Upload-Offset, Upload-Length or Upload-Defer-Length"),
        (status = 404), (status = 410)))]
pub async fn head(
    State(state): State<Arc<AppState>>,
    RecorderAuthed(who): RecorderAuthed,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Response {
    let id = match id {
        Ok(Path(id)) => id,
        Err(_) => return tus_error(ApiError::bad_request("the upload id is not valid in a URL")),
    };
    if let Some(r) = refuse_unless_resumable(&headers) {
        return r;
    }
    let r = match load(&state, &who, &id).await {
        Ok(u) if u.state == g2a_catalog::UploadState::Failed => gone(&u).into_response(),
        Ok(u) => {
            let mut r = StatusCode::OK.into_response();
            offset_headers(&mut r, &u);
            r
        }
        Err(e) => e.into_response(),
    };
    // A HEAD answer has no body.
    let (parts, _) = r.into_parts();
    tus(Response::from_parts(parts, Body::empty()))
}

/// The upload's state as JSON (not part of tus).
#[utoipa::path(get, path = "/api/v1/uploads/{id}", params(("id" = String, Path, description = "Upload id")),
    responses((status = 200, body = UploadStatus), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn status(
    State(state): State<Arc<AppState>>,
    RecorderAuthed(who): RecorderAuthed,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = match id {
        Ok(Path(id)) => id,
        Err(_) => return tus_error(ApiError::bad_request("the upload id is not valid in a URL")),
    };
    match load(&state, &who, &id).await {
        Ok(u) => {
            let mut r = Json(upload_status(&u)).into_response();
            offset_headers(&mut r, &u);
            tus(r)
        }
        Err(e) => tus_error(e),
    }
}

/// Appends bytes at the server's offset (tus `PATCH`).
#[utoipa::path(patch, path = "/api/v1/uploads/{id}", params(("id" = String, Path, description = "Upload id"),
        ("Upload-Offset" = u64, Header, description = "Where these bytes go: the server's offset")),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses((status = 204, description = "Upload-Offset: the new offset"), (status = 400, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 410, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody)))]
pub async fn patch(
    State(state): State<Arc<AppState>>,
    RecorderAuthed(who): RecorderAuthed,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let id = match id {
        Ok(Path(id)) => id,
        Err(_) => return tus_error(ApiError::bad_request("the upload id is not valid in a URL")),
    };
    if let Some(r) = refuse_unless_resumable(&headers) {
        return r;
    }
    match patch_inner(&state, who, &id, &headers, body).await {
        Ok(u) => {
            let mut r = StatusCode::NO_CONTENT.into_response();
            offset_headers(&mut r, &u);
            tus(r)
        }
        Err(e) => tus_error(e),
    }
}

async fn patch_inner(
    state: &Arc<AppState>,
    who: Uploader,
    id: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<UploadInfo, ApiError> {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ctype != OFFSET_OCTET_STREAM {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::BadRequest,
            format!("a PATCH body must be {OFFSET_OCTET_STREAM}"),
        ));
    }
    let offset = number_header(headers, &UPLOAD_OFFSET)?
        .ok_or_else(|| ApiError::bad_request("Upload-Offset is required"))?;
    let new_length = number_header(headers, &UPLOAD_LENGTH)?;
    let _permit = state
        .uploads
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::busy("too many uploads at once"))?;
    let lock = state.upload_locks.entry(id);
    let _guard = tokio::time::timeout(LOCK_WAIT, lock.lock())
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::Conflict,
                "another request is sending bytes to this upload",
            )
        })?;
    let mut u = load(state, &who, id).await?;
    match u.state {
        g2a_catalog::UploadState::Failed => return Err(gone(&u)),
        g2a_catalog::UploadState::Done => {
            if offset == u.offset {
                return Ok(u);
            }
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::Conflict,
                format!(
                    "upload {id} is complete at {} bytes; Upload-Offset was {offset}",
                    u.offset
                ),
            ));
        }
        g2a_catalog::UploadState::Receiving => {}
    }
    if offset != u.offset {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::Conflict,
            format!(
                "Upload-Offset {offset} is not the server's offset {}: ask with HEAD and send from there",
                u.offset
            ),
        ));
    }
    if let Some(l) = new_length {
        check_length(state, l)?;
        if u.length != Some(l) {
            let (w, i) = (who.clone(), id.to_owned());
            u = state
                .with_catalog(move |cat| cat.set_upload_length(&w, &i, l).map_err(upload_error))
                .await?;
        }
    }
    let limit = u.length.unwrap_or(state.opts.max_upload_bytes);
    let (received, fault) = append(&u, limit, body).await;
    let bound_before = u.session_id.is_some();
    let (w, i) = (who.clone(), id.to_owned());
    let done = state
        .with_catalog(move |cat| cat.upload_received(&w, &i).map_err(upload_error))
        .await;
    if received > 0 || fault.is_some() || !bound_before {
        tracing::debug!(
            "upload {id}: {received} bytes at {offset}{}",
            fault
                .as_ref()
                .map(|f| format!(", stopped: {}", f.body.message))
                .unwrap_or_default()
        );
    }
    let u = done?;
    match fault {
        Some(f) => Err(f),
        None => Ok(u),
    }
}

/// Appends a request body to the upload's file, never past `limit` bytes in
/// all. Returns the bytes written and why it stopped early, if it did; what
/// was written is synced to disk either way.
async fn append(u: &UploadInfo, limit: u64, body: Body) -> (u64, Option<ApiError>) {
    let mut file = match tokio::fs::OpenOptions::new()
        .append(true)
        .open(&u.path)
        .await
    {
        Ok(f) => f,
        Err(e) => {
            return (
                0,
                Some(ApiError::internal(format!("{}: {e}", u.path.display()))),
            )
        }
    };
    let mut stream = body.into_data_stream();
    let mut at = u.offset;
    let mut fault = None;
    loop {
        let chunk = match tokio::time::timeout(BODY_IDLE, stream.next()).await {
            Err(_) => {
                fault = Some(ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    ErrorCode::BadRequest,
                    format!(
                        "no byte came for {} s; what came is kept",
                        BODY_IDLE.as_secs()
                    ),
                ));
                break;
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                fault = Some(ApiError::bad_request(format!(
                    "the body was cut after {} bytes ({e}); what came is kept",
                    at - u.offset
                )));
                break;
            }
            Ok(Some(Ok(c))) => c,
        };
        let room = limit.saturating_sub(at);
        if chunk.len() as u64 > room {
            fault = Some(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::TooLarge,
                format!(
                    "the body goes past the upload's length of {limit} bytes; the bytes up to it are kept"
                ),
            ));
            let part = &chunk[..usize::try_from(room).unwrap_or(0)];
            if file.write_all(part).await.is_ok() {
                at += part.len() as u64;
            }
            break;
        }
        if let Err(e) = file.write_all(&chunk).await {
            fault = Some(write_error(u, &e));
            break;
        }
        at += chunk.len() as u64;
    }
    if let Err(e) = file.sync_data().await {
        fault.get_or_insert_with(|| write_error(u, &e));
    }
    (at - u.offset, fault)
}

fn write_error(u: &UploadInfo, e: &std::io::Error) -> ApiError {
    if e.raw_os_error() == Some(28) {
        let mut a = ApiError::new(
            StatusCode::INSUFFICIENT_STORAGE,
            ErrorCode::Busy,
            "the server's disk is full; the bytes received so far are kept: try again later",
        );
        a.retry_after = Some(60);
        tracing::error!("upload {}: {}: {e}", u.id, u.path.display());
        return a;
    }
    ApiError::internal(format!("upload {}: {}: {e}", u.id, u.path.display()))
}
