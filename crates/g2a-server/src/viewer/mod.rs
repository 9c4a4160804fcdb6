//! The browser player's stream: `GET /api/v1/sessions/{id}/play` upgrades
//! to a WebSocket. The server decodes the recording with the [`Player`]
//! (which seeks through the keyframe index) and sends the page only what
//! it must draw: the screen rectangles that changed since the last frame
//! the page acknowledged, as lossless PNG pictures, so the page never holds
//! more than one screen and text stays exactly as recorded. The protocol is
//! specified in docs/SERVE.md.
//!
//! Each viewer holds one decoding thread, one Player, and two screen
//! buffers; viewers are limited by a semaphore (beyond it: "busy"), at most
//! two frames are in flight per viewer, and a page that stops reading is
//! dropped after 15 s.

mod cursors;
mod diff;
mod session;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use g2a_catalog::Action;
use serde::Deserialize;

use crate::api::open_grant;
use crate::auth::{check_origin, Authed};
use crate::error::ApiError;
use crate::state::AppState;

pub use cursors::CursorTracks;
pub use diff::{changed_rects, Rect};

/// How long a send to the page may take before the viewer is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(15);
/// Largest message a page may send.
const MAX_CLIENT_MESSAGE: usize = 4096;

/// A command from the page.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Show the frame at `t` (µs from the start); leaves the live edge.
    Seek {
        /// Time, µs.
        t: i64,
    },
    /// Play at `speed` (0.25 to 16).
    Play {
        /// Speed factor.
        speed: f64,
    },
    /// Pause.
    Pause,
    /// One frame forward (`n` = 1) or back (`n` = -1), paused.
    Step {
        /// Direction.
        n: i32,
    },
    /// Skip stretches where nothing happens while playing.
    SkipIdle {
        /// On or off.
        on: bool,
    },
    /// Go to the live edge of a recording in progress and stay there.
    Live,
    /// The page has drawn frame `seq`.
    Ack {
        /// Sequence number of the frame.
        seq: u64,
    },
    /// A small picture of the screen at `t`, `w` pixels wide (for the
    /// timeline's hover).
    Thumb {
        /// Time, µs.
        t: i64,
        /// Width (16 to 480).
        w: u32,
    },
}

/// Opens the player stream of a session.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/play", params(("id" = String, Path, description = "Session id")),
    responses((status = 101, description = "WebSocket: see docs/SERVE.md"), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
pub async fn play(
    State(state): State<Arc<AppState>>,
    auth: Authed,
    Path(id): Path<String>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    // A WebSocket is not bound by the same-origin policy: refuse other
    // sites' pages (the cookie is SameSite=Strict as well).
    check_origin(&headers)?;
    let permit = state
        .viewers
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::busy("too many viewers"))?;
    let grant = open_grant(&state, &auth, &id, Action::Replay).await?;
    Ok(ws
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| async move {
            let load = session::Load {
                viewers: state.viewers.clone(),
                max: state.opts.max_viewers.max(1),
                cores: std::thread::available_parallelism().map_or(1, usize::from),
                cursors: state.cursors.clone(),
            };
            run(socket, grant, load).await;
            drop(permit);
        }))
}

/// Relays between the page and the viewer's decoding thread.
async fn run(mut socket: WebSocket, grant: g2a_catalog::Grant, load: session::Load) {
    let (cmd_tx, cmd_rx) = std::sync::mpsc::sync_channel::<Command>(64);
    let (out_tx, mut out_rx) = tokio::sync::mpsc::channel::<Message>(2);
    let worker = tokio::task::spawn_blocking(move || session::run(&grant, &load, &cmd_rx, &out_tx));
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(t))) => match serde_json::from_str::<Command>(t.as_str()) {
                    Ok(c) => {
                        if cmd_tx.try_send(c).is_err() {
                            // The page sends faster than commands are
                            // handled: drop it rather than queue without end.
                            break;
                        }
                    }
                    Err(e) => {
                        let msg = serde_json::json!({"type": "error", "code": "bad_request",
                            "message": crate::api::one_line(&format!("bad command: {e}"))});
                        if send(&mut socket, Message::Text(msg.to_string().into())).await.is_err() {
                            break;
                        }
                    }
                },
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Binary(_))) | Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
            },
            out = out_rx.recv() => match out {
                Some(m) => {
                    if send(&mut socket, m).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
        }
    }
    drop(cmd_tx);
    drop(out_rx);
    let _ = worker.await;
    let _ = socket.send(Message::Close(None)).await;
}

async fn send(socket: &mut WebSocket, m: Message) -> Result<(), ()> {
    match tokio::time::timeout(SEND_TIMEOUT, socket.send(m)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}
