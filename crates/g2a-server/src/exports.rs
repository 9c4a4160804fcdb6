//! Export jobs: `POST /api/v1/sessions/{id}/exports` starts an export to
//! MP4 or WMV in the background (rights checked and audited as `export`);
//! the page polls `GET /api/v1/exports/{job}` for progress and downloads
//! `GET /api/v1/exports/{job}/file` when it is done. A job belongs to the
//! user who started it; at most two exports run at once (more wait their
//! turn, at most four per user); finished files are kept for an hour.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use g2a_catalog::Action;
use g2a_core::{Size, Timestamp};
use g2a_export::{Control, ExportOptions, Format, PlayerSource};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use utoipa::ToSchema;

use crate::api::{json_rejection, open_grant};
use crate::auth::Authed;
use crate::content::grant_player;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::state::AppState;

/// Exports running at once.
const RUNNING: usize = 2;
/// Jobs one user may have unfinished.
const PER_USER: usize = 4;
/// How long a job and its file are kept after it ends.
const KEEP: Duration = Duration::from_secs(3600);

/// What to export.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// `mp4` or `wmv`.
    pub format: String,
    /// Output width (with `height`; default the recording's size).
    pub width: Option<u32>,
    /// Output height.
    pub height: Option<u32>,
    /// Start, µs from the session start.
    pub from: Option<i64>,
    /// End, µs from the session start.
    pub to: Option<i64>,
}

/// A job's state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExportStatus {
    /// Job id.
    pub id: String,
    /// Session exported.
    pub session: String,
    /// `mp4` or `wmv`.
    pub format: String,
    /// `queued`, `running`, `done`, `failed` or `cancelled`.
    pub state: String,
    /// 0 to 1.
    pub progress: f64,
    /// Size of the file when done.
    pub bytes: Option<u64>,
    /// Why it failed.
    pub message: Option<String>,
}

struct Job {
    owner: String,
    status: Mutex<ExportStatus>,
    cancel: AtomicBool,
    file: Mutex<Option<PathBuf>>,
    ended: Mutex<Option<Instant>>,
}

/// The export jobs of this service node.
pub struct Jobs {
    jobs: Mutex<HashMap<String, Arc<Job>>>,
    slots: Arc<Semaphore>,
    dir: tempfile::TempDir,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs")
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Jobs {
    /// An empty job table with its own private folder for the files.
    ///
    /// # Errors
    /// When the folder can't be made.
    pub fn new() -> std::io::Result<Jobs> {
        let dir = tempfile::Builder::new().prefix("g2a-exports-").tempdir()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(Jobs {
            jobs: Mutex::new(HashMap::new()),
            slots: Arc::new(Semaphore::new(RUNNING)),
            dir,
        })
    }

    fn get(&self, id: &str, owner: &str) -> Result<Arc<Job>, ApiError> {
        lock(&self.jobs)
            .get(id)
            .filter(|j| j.owner == owner)
            .cloned()
            .ok_or_else(|| {
                ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such export")
            })
    }

    /// Drops jobs that ended more than an hour ago, with their files.
    pub fn sweep(&self) {
        lock(&self.jobs).retain(|_, j| {
            let keep = lock(&j.ended).is_none_or(|t| t.elapsed() < KEEP);
            if !keep {
                if let Some(f) = lock(&j.file).take() {
                    let _ = std::fs::remove_file(f);
                }
            }
            keep
        });
    }
}

fn parse_format(s: &str) -> Result<Format, ApiError> {
    match s {
        "mp4" => Ok(Format::Mp4),
        "wmv" => Ok(Format::Wmv),
        other => Err(ApiError::bad_request(format!(
            "format {:?} is not mp4 or wmv",
            crate::api::one_line(other)
        ))),
    }
}

fn options(req: &ExportRequest, format: Format) -> Result<ExportOptions, ApiError> {
    let mut o = ExportOptions::default().format(format);
    match (req.width, req.height) {
        (Some(w), Some(h)) => {
            if !(16..=7680).contains(&w) || !(16..=4320).contains(&h) {
                return Err(ApiError::bad_request(
                    "width and height must be 16 to 7680 by 16 to 4320",
                ));
            }
            o = o.size(Size::new(w, h));
        }
        (None, None) => {}
        _ => {
            return Err(ApiError::bad_request(
                "give both width and height, or neither",
            ))
        }
    }
    let t = |v: i64, what: &str| -> Result<Timestamp, ApiError> {
        u64::try_from(v)
            .map(Timestamp::from_micros)
            .map_err(|_| ApiError::bad_request(format!("{what} must be 0 or more")))
    };
    if let Some(v) = req.from {
        o = o.from(t(v, "from")?);
    }
    if let Some(v) = req.to {
        o = o.to(t(v, "to")?);
    }
    if let (Some(a), Some(b)) = (req.from, req.to) {
        if b <= a {
            return Err(ApiError::bad_request(
                "the export range ends before it begins",
            ));
        }
    }
    Ok(o)
}

/// Starts an export of a session.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/exports", request_body = ExportRequest,
    params(("id" = String, Path, description = "Session id")),
    responses((status = 202, body = ExportStatus), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn start(
    State(state): State<Arc<AppState>>,
    auth: Authed,
    Path(id): Path<String>,
    body: Result<Json<ExportRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<ExportStatus>), ApiError> {
    let Json(req) = body.map_err(json_rejection)?;
    let format = parse_format(&req.format)?;
    let opts = options(&req, format)?;
    let owner = auth.login.actor.name().to_owned();
    let unfinished = lock(&state.jobs.jobs)
        .values()
        .filter(|j| j.owner == owner && lock(&j.ended).is_none())
        .count();
    if unfinished >= PER_USER {
        return Err(ApiError::busy("you have 4 exports running or waiting"));
    }
    let grant = open_grant(&state, &auth, &id, Action::Export).await?;
    let job_id = random_id();
    let status = ExportStatus {
        id: job_id.clone(),
        session: id.clone(),
        format: format.extension().to_owned(),
        state: "queued".into(),
        progress: 0.0,
        bytes: None,
        message: None,
    };
    let job = Arc::new(Job {
        owner,
        status: Mutex::new(status.clone()),
        cancel: AtomicBool::new(false),
        file: Mutex::new(None),
        ended: Mutex::new(None),
    });
    lock(&state.jobs.jobs).insert(job_id.clone(), job.clone());
    let out = state
        .jobs
        .dir
        .path()
        .join(format!("{job_id}.{}", format.extension()));
    let slots = state.jobs.slots.clone();
    let st = state.clone();
    tokio::spawn(async move {
        let Ok(permit) = slots.acquire_owned().await else {
            return;
        };
        lock(&job.status).state = "running".into();
        let j = job.clone();
        let r = tokio::task::spawn_blocking(move || {
            let player = grant_player(&grant).map_err(|e| e.body.message)?;
            let mut src = PlayerSource::new(player).map_err(|e| e.to_string())?;
            g2a_export::export(&mut src, &out, &opts, &mut |p| {
                let total = p.total.as_micros().max(1) as f64;
                lock(&j.status).progress = (p.position.as_micros() as f64 / total).min(1.0);
                if j.cancel.load(Ordering::Relaxed) {
                    Control::Cancel
                } else {
                    Control::Continue
                }
            })
            .map(|s| (out, s.bytes))
            .map_err(|e| e.to_string())
        })
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
        drop(permit);
        let (what, detail) = {
            let mut s = lock(&job.status);
            match r {
                Ok((path, bytes)) => {
                    s.state = "done".into();
                    s.progress = 1.0;
                    s.bytes = Some(bytes);
                    *lock(&job.file) = Some(path);
                    (
                        "ok".to_owned(),
                        format!("{} file of {bytes} bytes", s.format),
                    )
                }
                Err(_) if job.cancel.load(Ordering::Relaxed) => {
                    s.state = "cancelled".into();
                    ("cancelled".to_owned(), String::new())
                }
                Err(e) => {
                    s.state = "failed".into();
                    s.message = Some(crate::api::one_line(&e));
                    (
                        format!("failed: {}", crate::api::one_line(&e)),
                        String::new(),
                    )
                }
            }
        };
        *lock(&job.ended) = Some(Instant::now());
        let owner = job.owner.clone();
        let session = lock(&job.status).session.clone();
        let _ = st
            .with_catalog(move |cat| {
                Ok(cat.record_event(&owner, "export-job", Some(&session), &what, &detail)?)
            })
            .await;
    });
    Ok((StatusCode::ACCEPTED, Json(status)))
}

fn random_id() -> String {
    use rand::RngCore;
    use std::fmt::Write;
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

/// An export's progress.
#[utoipa::path(get, path = "/api/v1/exports/{job}", params(("job" = String, Path, description = "Job id")),
    responses((status = 200, body = ExportStatus), (status = 404, body = ErrorBody)))]
pub async fn status(
    State(state): State<Arc<AppState>>,
    auth: Authed,
    Path(job): Path<String>,
) -> Result<Json<ExportStatus>, ApiError> {
    let j = state.jobs.get(&job, auth.login.actor.name())?;
    let s = lock(&j.status).clone();
    Ok(Json(s))
}

/// Cancels an export (a finished one's file is deleted).
#[utoipa::path(delete, path = "/api/v1/exports/{job}", params(("job" = String, Path, description = "Job id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<Arc<AppState>>,
    auth: Authed,
    Path(job): Path<String>,
) -> Result<StatusCode, ApiError> {
    let j = state.jobs.get(&job, auth.login.actor.name())?;
    j.cancel.store(true, Ordering::Relaxed);
    if let Some(f) = lock(&j.file).take() {
        let _ = std::fs::remove_file(f);
        lock(&j.status).state = "cancelled".into();
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The exported file, once done (audited as `export-download`).
#[utoipa::path(get, path = "/api/v1/exports/{job}/file", params(("job" = String, Path, description = "Job id")),
    responses((status = 200, description = "The video", content_type = "video/mp4"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn file(
    State(state): State<Arc<AppState>>,
    auth: Authed,
    Path(job): Path<String>,
) -> Result<Response, ApiError> {
    let j = state.jobs.get(&job, auth.login.actor.name())?;
    let path = lock(&j.file).clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::Conflict,
            "the export is not finished",
        )
    })?;
    let (session, format) = {
        let s = lock(&j.status);
        (s.session.clone(), s.format.clone())
    };
    let f = tokio::fs::File::open(&path)
        .await
        .map_err(ApiError::internal)?;
    let len = f.metadata().await.map_err(ApiError::internal)?.len();
    let actor = auth.login.actor.name().to_owned();
    let detail = format!("{format} file of {len} bytes");
    let sid = session.clone();
    state
        .with_catalog(move |cat| {
            Ok(cat.record_event(&actor, "export-download", Some(&sid), "ok", &detail)?)
        })
        .await?;
    let mime = if format == "mp4" {
        "video/mp4"
    } else {
        "video/x-ms-wmv"
    };
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(f));
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}.{format}\"",
        crate::api::safe_name(&session)
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}
