//! A session's content over the API: chat, events, diagnostics (list,
//! view, download), the timeline the player draws, and a frame as PNG.
//! Each route opens the recording through [`open_grant`] with its own
//! action, so the catalog checks and audits it.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use g2a::{CursorTrack, Player};
use g2a_catalog::{Action, Grant};
use g2a_core::{Size, Timestamp};
use g2a_format::Record;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::{download, open_grant};
use crate::auth::Authed;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::viewer::Rect;

type Shared = State<Arc<AppState>>;

/// Opens the granted recording with the Player.
///
/// # Errors
/// A recording that can't be opened (500: the catalog says it's there).
pub fn grant_player(grant: &Grant) -> Result<Player, ApiError> {
    let first = grant
        .files
        .first()
        .ok_or_else(|| ApiError::internal(format!("session {} has no files", grant.session.id)))?;
    let mut p = Player::open(first).map_err(ApiError::internal)?;
    p.set_cipher(grant.cipher.as_ref().map(g2a_catalog::RecordCipher::shared));
    Ok(p)
}

/// A time in µs, as the API gives times.
pub(crate) fn micros(ts: Timestamp) -> i64 {
    i64::try_from(ts.as_micros()).unwrap_or(i64::MAX)
}

/// Whether the recording is still being written (its last file has no
/// valid trailer).
pub(crate) fn is_live(p: &Player) -> bool {
    !p.set()
        .files()
        .last()
        .is_some_and(|r| matches!(r.trailer(), g2a_format::TrailerState::Valid))
}

/// A chat message.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatMessage {
    /// Time from the session start, µs.
    pub ts_micros: i64,
    /// `representative`, `customer`, `system`.
    pub role: String,
    /// Sender's display name.
    pub sender: String,
    /// Text.
    pub text: String,
}

/// A session event.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionEvent {
    /// Time from the session start, µs.
    pub ts_micros: i64,
    /// Event type.
    pub kind: String,
    /// Detail text.
    pub detail: String,
}

/// A diagnostics document, without its content.
#[derive(Debug, Serialize, ToSchema)]
pub struct DiagnosticInfo {
    /// Index for `GET .../diagnostics/{index}`.
    pub index: usize,
    /// Time collected, µs from the session start.
    pub ts_micros: i64,
    /// Name, e.g. `system-info.json`.
    pub name: String,
    /// MIME type.
    pub media_type: String,
    /// Size in bytes.
    pub size: usize,
}

/// What the player's timeline shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct Timeline {
    /// Length, µs.
    pub duration_micros: i64,
    /// The first screen size.
    pub width: u32,
    /// The first screen size.
    pub height: u32,
    /// Chat message times, µs.
    pub chat: Vec<i64>,
    /// Event times, µs.
    pub events: Vec<i64>,
    /// Screen size changes: time, width, height.
    pub resizes: Vec<(i64, u32, u32)>,
    /// Keyframe times, µs.
    pub keyframes: Vec<i64>,
    /// Header metadata: recorder, start time, custom keys.
    pub metadata: Vec<(String, String)>,
    /// Whether the recording is still being written.
    pub live: bool,
}

async fn with_player<T: Send + 'static>(
    state: &Arc<AppState>,
    auth: &Authed,
    id: &str,
    action: Action,
    f: impl FnOnce(&mut Player) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let grant = open_grant(state, auth, id, action).await?;
    tokio::task::spawn_blocking(move || {
        let mut p = grant_player(&grant)?;
        f(&mut p)
    })
    .await
    .map_err(ApiError::internal)?
}

/// The chat transcript.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/chat", params(("id" = String, Path, description = "Session id")),
    responses((status = 200, body = [ChatMessage]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn chat(
    State(state): Shared,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Json<Vec<ChatMessage>>, ApiError> {
    let out = with_player(&state, &auth, &id, Action::Chat, |p| {
        let mut out = Vec::new();
        p.for_each_record(|r| {
            if let Record::Chat {
                ts,
                role,
                sender,
                text,
            } = r
            {
                out.push(ChatMessage {
                    ts_micros: micros(ts),
                    role: role.name(),
                    sender: sender.to_owned(),
                    text: text.to_owned(),
                });
            }
        })
        .map_err(ApiError::internal)?;
        Ok(out)
    })
    .await?;
    Ok(Json(out))
}

/// The session events (remote control, file transfers, participants...).
#[utoipa::path(get, path = "/api/v1/sessions/{id}/events", params(("id" = String, Path, description = "Session id")),
    responses((status = 200, body = [SessionEvent]), (status = 404, body = ErrorBody)))]
pub async fn events(
    State(state): Shared,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Json<Vec<SessionEvent>>, ApiError> {
    let out = with_player(&state, &auth, &id, Action::Replay, |p| {
        let mut out = Vec::new();
        p.for_each_record(|r| {
            if let Record::Event { ts, kind, detail } = r {
                out.push(SessionEvent {
                    ts_micros: micros(ts),
                    kind: format!("{kind:?}"),
                    detail: detail.to_owned(),
                });
            }
        })
        .map_err(ApiError::internal)?;
        Ok(out)
    })
    .await?;
    Ok(Json(out))
}

/// The diagnostics documents (without their content).
#[utoipa::path(get, path = "/api/v1/sessions/{id}/diagnostics", params(("id" = String, Path, description = "Session id")),
    responses((status = 200, body = [DiagnosticInfo]), (status = 404, body = ErrorBody)))]
pub async fn diagnostics(
    State(state): Shared,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Json<Vec<DiagnosticInfo>>, ApiError> {
    let out = with_player(&state, &auth, &id, Action::Diagnostics, |p| {
        let mut out = Vec::new();
        p.for_each_record(|r| {
            if let Record::Diagnostic {
                ts,
                name,
                media_type,
                data,
            } = r
            {
                out.push(DiagnosticInfo {
                    index: out.len(),
                    ts_micros: micros(ts),
                    name: name.to_owned(),
                    media_type: media_type.mime().to_owned(),
                    size: data.len(),
                });
            }
        })
        .map_err(ApiError::internal)?;
        Ok(out)
    })
    .await?;
    Ok(Json(out))
}

/// `?download=1` for an attachment, else the document is shown.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DocParams {
    /// Download as a file instead of viewing.
    pub download: Option<bool>,
}

/// One diagnostics document's content, as stored.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/diagnostics/{index}",
    params(("id" = String, Path, description = "Session id"), ("index" = usize, Path, description = "Document index"), DocParams),
    responses((status = 200, description = "The document", content_type = "application/octet-stream"), (status = 404, body = ErrorBody)))]
pub async fn diagnostic(
    State(state): Shared,
    auth: Authed,
    Path((id, index)): Path<(String, usize)>,
    q: Result<Query<DocParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad_request(crate::api::one_line(&e.body_text())))?;
    let doc = with_player(&state, &auth, &id, Action::Diagnostics, move |p| {
        let mut n = 0usize;
        let mut found = None;
        p.for_each_record(|r| {
            if let Record::Diagnostic {
                name,
                media_type,
                data,
                ..
            } = r
            {
                if n == index {
                    found = Some((name.to_owned(), media_type.mime(), data.to_vec()));
                }
                n += 1;
            }
        })
        .map_err(ApiError::internal)?;
        found.ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                crate::error::ErrorCode::NotFound,
                format!("the session has {n} diagnostics document(s); there is no number {index}"),
            )
        })
    })
    .await?;
    let (name, mime, data) = doc;
    let download_it = q.download.unwrap_or(false);
    let actor = auth.login.actor.name().to_owned();
    let detail = format!("document {}", crate::api::one_line(&name));
    let sid = id.clone();
    let what = if download_it { "download" } else { "view" };
    state
        .with_catalog(move |cat| {
            Ok(cat.record_event(
                &actor,
                &format!("diagnostics-{what}"),
                Some(&sid),
                "ok",
                &detail,
            )?)
        })
        .await?;
    if download_it {
        return Ok(download(data, mime, &name));
    }
    // Shown in the page as text: never as HTML, whatever it contains.
    let shown_mime = if mime.starts_with("application/json") {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    };
    let mut r = data.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(shown_mime));
    Ok(r)
}

/// The timeline: duration, markers, keyframes, metadata.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/timeline", params(("id" = String, Path, description = "Session id")),
    responses((status = 200, body = Timeline), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn timeline(
    State(state): Shared,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<Json<Timeline>, ApiError> {
    let grant = open_grant(&state, &auth, &id, Action::Replay).await?;
    let t = tokio::task::spawn_blocking(move || {
        let p = grant_player(&grant)?;
        let mut t = build_timeline(&p)?;
        // Only a recording still arriving grows; one whose upload ended
        // without a trailer does not.
        t.live &= grant.session.live;
        Ok::<_, ApiError>(t)
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(Json(t))
}

/// The timeline of an open recording.
///
/// # Errors
/// A recording that can't be read.
pub fn build_timeline(p: &Player) -> Result<Timeline, ApiError> {
    let h = p.header().clone();
    let mut t = Timeline {
        duration_micros: micros(p.duration()),
        width: h.screen_size.width,
        height: h.screen_size.height,
        chat: Vec::new(),
        events: Vec::new(),
        resizes: Vec::new(),
        keyframes: p.keyframe_times().into_iter().map(micros).collect(),
        metadata: Vec::new(),
        live: is_live(p),
    };
    t.metadata.push(("session id".into(), h.session_id.clone()));
    t.metadata.push(("portal".into(), h.portal.clone()));
    t.metadata.push(("team".into(), h.team.clone()));
    t.metadata
        .push(("representative".into(), h.representative.clone()));
    t.metadata.push(("customer".into(), h.customer.clone()));
    t.metadata.push((
        "recorder".into(),
        format!("{} {}", h.recorder_name, h.recorder_version),
    ));
    for (k, v) in &h.metadata {
        t.metadata.push((k.clone(), v.clone()));
    }
    p.for_each_record(|r| match r {
        Record::Chat { ts, .. } => t.chat.push(micros(ts)),
        Record::Event { ts, .. } => t.events.push(micros(ts)),
        Record::ScreenSize { ts, size } => t.resizes.push((micros(ts), size.width, size.height)),
        _ => {}
    })
    .map_err(ApiError::internal)?;
    Ok(t)
}

/// The time of `GET .../frame`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FrameParams {
    /// Time from the session start, µs.
    pub at: i64,
    /// Draw the cursor (default true).
    pub cursor: Option<bool>,
}

/// The frame on screen at a time, as a lossless PNG (what `g2a frame`
/// writes).
#[utoipa::path(get, path = "/api/v1/sessions/{id}/frame",
    params(("id" = String, Path, description = "Session id"), FrameParams),
    responses((status = 200, description = "PNG", content_type = "image/png"), (status = 404, body = ErrorBody)))]
pub async fn frame(
    State(state): Shared,
    auth: Authed,
    Path(id): Path<String>,
    q: Result<Query<FrameParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad_request(crate::api::one_line(&e.body_text())))?;
    if q.at < 0 {
        return Err(ApiError::bad_request(
            "at must be 0 or more (µs from the session start)",
        ));
    }
    let at = Timestamp::from_micros(u64::try_from(q.at).unwrap_or(0));
    let with_cursor = q.cursor.unwrap_or(true);
    let png = with_player(&state, &auth, &id, Action::Frame, move |p| {
        let cursor = if with_cursor {
            p.cursor_track().map_err(ApiError::internal)?
        } else {
            CursorTrack::default()
        };
        let f = p.frame_at(at).map_err(ApiError::internal)?;
        let size = f.size;
        let mut px = f.data.to_vec();
        draw_cursor(&cursor, at, &mut px, size);
        encode_png(size, &px, png::Compression::Fast)
    })
    .await?;
    let mut r = png.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    Ok(r)
}

/// Draws the cursor on screen at `at` onto BGRA pixels.
pub fn draw_cursor(cursor: &CursorTrack, at: Timestamp, px: &mut [u8], size: Size) {
    if let Some(c) = cursor.at(at) {
        if let Some(img) = &c.image {
            img.draw_onto(px, size, c.x, c.y);
        }
    }
}

/// BGRA pixels as an RGB PNG.
///
/// # Errors
/// Internal, when the encoder fails.
pub fn encode_png(size: Size, bgra: &[u8], level: png::Compression) -> Result<Vec<u8>, ApiError> {
    let all = Rect {
        x: 0,
        y: 0,
        w: size.width,
        h: size.height,
    };
    encode_png_rect(bgra, size, all, level, None).map_err(ApiError::internal)
}

/// The rectangle `r` of a BGRA frame of `size` as an RGB PNG, compressed at
/// `level` with `filter` (the encoder's own choice when `None`): the one
/// encoder of the frame route, the player's changed rectangles and the
/// thumbnails.
///
/// # Errors
/// The encoder's, for an empty rectangle or one outside the frame.
pub fn encode_png_rect(
    bgra: &[u8],
    size: Size,
    r: Rect,
    level: png::Compression,
    filter: Option<png::Filter>,
) -> Result<Vec<u8>, png::EncodingError> {
    let stride = size.width as usize * 4;
    let (x, w) = (r.x as usize, r.w as usize);
    let mut rgb = Vec::with_capacity(w * r.h as usize * 3);
    for row in r.y..r.y.saturating_add(r.h).min(size.height) {
        let a = row as usize * stride + x * 4;
        if let Some(px) = bgra.get(a..a + w * 4) {
            for p in px.chunks_exact(4) {
                rgb.extend_from_slice(&[p[2], p[1], p[0]]);
            }
        }
    }
    let mut out = Vec::with_capacity(rgb.len() / 4);
    let mut e = png::Encoder::new(&mut out, r.w, r.h);
    e.set_color(png::ColorType::Rgb);
    e.set_depth(png::BitDepth::Eight);
    e.set_compression(level);
    if let Some(f) = filter {
        e.set_filter(f);
    }
    e.write_header()?.write_image_data(&rgb)?;
    Ok(out)
}

/// The size and RGB pixels of a PNG picture (tests).
#[cfg(test)]
pub(crate) fn png_rgb(png: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut r = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}
