//! One tus 1.0 request at a time: create, `HEAD`, `PATCH`, status. Each call
//! says whether a failure is worth retrying; the retrying is the caller's.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde::{Deserialize, Serialize};
use ureq::http::{Response, StatusCode};
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
use ureq::{Agent, Body};

use crate::UploadError;

/// The tus version spoken.
const TUS_VERSION: &str = "1.0.0";
/// Largest error body read from the server.
const MAX_ERROR_BODY: u64 = 64 * 1024;
/// Largest status body read from the server.
const MAX_STATUS_BODY: u64 = 1024 * 1024;
/// Longest server message repeated in an error.
const MAX_MESSAGE: usize = 300;

/// How a request failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Worth trying again (the network, a busy or restarting server); the
    /// server may say how long to wait.
    Retry(String, Option<Duration>),
    /// The server's offset is not ours: ask it with `HEAD`.
    Conflict,
    /// The server does not know the upload (another server, or dropped).
    NotFound,
    /// No: the upload was refused (status, message).
    Refused(u16, String),
    /// The server answered what a tus server must not.
    Protocol(String),
    /// The connection cannot be made to work (TLS, address).
    Connection(String),
}

/// What `HEAD` says.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head {
    /// Bytes the server has.
    pub offset: u64,
    /// The length it knows, if any (`None` while deferred).
    pub length: Option<u64>,
}

/// An upload's state, as the service's `GET /api/v1/uploads/{id}` gives
/// it (docs/SERVE.md): the service writes it, the uploader reads it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadStatus {
    /// The upload's id.
    pub id: String,
    /// The file's name.
    pub file_name: String,
    /// Its length, once known.
    pub length: Option<u64>,
    /// Bytes the server has.
    pub offset: u64,
    /// `receiving`, `done` or `failed`.
    pub state: String,
    /// The session it belongs to, once its header was read.
    pub session_id: Option<String>,
    /// Its place among the session's files.
    pub seq: Option<u32>,
    /// What verifying the finished file found.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Why a failed upload was refused.
    pub error: Option<String>,
}

/// Where and as whom to upload.
#[derive(Clone)]
pub(crate) struct Endpoint {
    agent: Agent,
    base: String,
    auth: String,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// Parses PEM certificates into the roots a connection trusts.
fn roots(pem: &[u8], path: &std::path::Path) -> Result<RootCerts, UploadError> {
    let bad = |reason: String| UploadError::Certificate {
        path: path.to_owned(),
        reason,
    };
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        match item.map_err(|e| bad(format!("not a PEM certificate file ({e})")))? {
            PemItem::Certificate(c) => certs.push(Certificate::from_der(c.der()).to_owned()),
            PemItem::PrivateKey(_) => {
                return Err(bad(
                    "holds a private key: give the CA's certificate, never a key".into(),
                ))
            }
            _ => {}
        }
    }
    if certs.is_empty() {
        return Err(bad("holds no PEM certificate".into()));
    }
    Ok(RootCerts::Specific(Arc::new(certs)))
}

impl Endpoint {
    /// A client of the service at `server` (`http[s]://HOST[:PORT]`) with a
    /// recorder token, trusting `ca` (a PEM file's path and bytes) or the
    /// web's usual roots.
    pub(crate) fn new(
        server: &str,
        token: &str,
        ca: Option<(&std::path::Path, &[u8])>,
    ) -> Result<Self, UploadError> {
        let base = server.trim_end_matches('/');
        let rest = base
            .strip_prefix("https://")
            .or_else(|| base.strip_prefix("http://"))
            .ok_or_else(|| UploadError::BadServer(shorten(server)))?;
        if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) {
            return Err(UploadError::BadServer(shorten(server)));
        }
        let token = token.trim();
        if token.is_empty() {
            return Err(UploadError::BadToken("empty"));
        }
        if token.len() > 512 || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(UploadError::BadToken("not one line of printable text"));
        }
        let mut tls = TlsConfig::builder().unversioned_rustls_crypto_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ));
        if let Some((path, pem)) = ca {
            tls = tls.root_certs(roots(pem, path)?);
        }
        let agent = Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls.build())
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_per_write(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .timeout_recv_body(Some(Duration::from_secs(30)))
            .max_redirects(0)
            .build()
            .new_agent();
        Ok(Endpoint {
            agent,
            base: base.to_owned(),
            auth: format!("Bearer {token}"),
        })
    }

    /// The server's base URL.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, location: &str) -> String {
        format!("{}{location}", self.base)
    }

    /// `POST`: creates an upload of `name`, of `length` bytes or deferred;
    /// returns its location (a path on this server).
    pub(crate) fn create(&self, name: &str, length: Option<u64>) -> Result<String, Failure> {
        let meta = format!(
            "filename {}",
            base64::engine::general_purpose::STANDARD.encode(name)
        );
        let req = self
            .agent
            .post(self.url("/api/v1/uploads"))
            .header("Tus-Resumable", TUS_VERSION)
            .header("Authorization", &self.auth)
            .header("Upload-Metadata", meta);
        let req = match length {
            Some(l) => req.header("Upload-Length", l.to_string()),
            None => req.header("Upload-Defer-Length", "1"),
        };
        let r = check(req.send_empty())?;
        let loc = header(&r, "location").ok_or_else(|| protocol("a 201 without Location"))?;
        let path = loc.strip_prefix(&self.base).unwrap_or(&loc).to_owned();
        if !path.starts_with("/api/v1/uploads/") || path.len() > 200 {
            return Err(protocol("a Location outside /api/v1/uploads/"));
        }
        Ok(path)
    }

    /// `HEAD`: how many bytes the server has.
    pub(crate) fn head(&self, location: &str) -> Result<Head, Failure> {
        let r = check(
            self.agent
                .head(self.url(location))
                .header("Tus-Resumable", TUS_VERSION)
                .header("Authorization", &self.auth)
                .call(),
        )?;
        let offset = number(&r, "upload-offset")?.ok_or_else(|| protocol("no Upload-Offset"))?;
        Ok(Head {
            offset,
            length: number(&r, "upload-length")?,
        })
    }

    /// `PATCH`: sends `bytes` at `offset`, with the upload's length when it
    /// is known now and was not before. Returns the server's new offset.
    pub(crate) fn patch(
        &self,
        location: &str,
        offset: u64,
        bytes: &[u8],
        length: Option<u64>,
    ) -> Result<u64, Failure> {
        let mut req = self
            .agent
            .patch(self.url(location))
            .header("Tus-Resumable", TUS_VERSION)
            .header("Authorization", &self.auth)
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Offset", offset.to_string());
        if let Some(l) = length {
            req = req.header("Upload-Length", l.to_string());
        }
        let r = check(req.send(bytes))?;
        number(&r, "upload-offset")?.ok_or_else(|| protocol("a PATCH answer without Upload-Offset"))
    }

    /// `GET`: the upload's state.
    pub(crate) fn status(&self, location: &str) -> Result<UploadStatus, Failure> {
        let mut r = check(
            self.agent
                .get(self.url(location))
                .header("Tus-Resumable", TUS_VERSION)
                .header("Authorization", &self.auth)
                .call(),
        )?;
        let mut text = String::new();
        r.body_mut()
            .as_reader()
            .take(MAX_STATUS_BODY)
            .read_to_string(&mut text)
            .map_err(|e| Failure::Retry(format!("reading the status: {e}"), None))?;
        serde_json::from_str(&text)
            .map_err(|e| protocol(&format!("status is not the JSON expected ({e})")))
    }
}

fn protocol(reason: &str) -> Failure {
    Failure::Protocol(reason.to_owned())
}

fn shorten(s: &str) -> String {
    let mut s: String = s
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_MESSAGE)
        .collect();
    if s.len() >= MAX_MESSAGE {
        s.push('…');
    }
    s
}

fn header(r: &Response<Body>, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn number(r: &Response<Body>, name: &str) -> Result<Option<u64>, Failure> {
    match header(r, name) {
        None => Ok(None),
        Some(v) => v
            .parse::<u64>()
            .map(Some)
            .map_err(|_| protocol(&format!("{name} is {:?}", shorten(&v)))),
    }
}

/// Sorts an answer: success, or which kind of failure.
fn check(r: Result<Response<Body>, ureq::Error>) -> Result<Response<Body>, Failure> {
    let mut r = match r {
        Ok(r) => r,
        Err(e) => return Err(transport(e)),
    };
    let status = r.status();
    if status.is_success() {
        return Ok(r);
    }
    let wait = header(&r, "retry-after")
        .and_then(|v| v.parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(300)));
    let mut body = String::new();
    let _ = r
        .body_mut()
        .as_reader()
        .take(MAX_ERROR_BODY)
        .read_to_string(&mut body);
    let message = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["message"].as_str().map(shorten))
        .unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("no reason given")
                .to_owned()
        });
    Err(match status {
        StatusCode::CONFLICT => Failure::Conflict,
        StatusCode::NOT_FOUND => Failure::NotFound,
        StatusCode::REQUEST_TIMEOUT
        | StatusCode::TOO_MANY_REQUESTS
        | StatusCode::INTERNAL_SERVER_ERROR
        | StatusCode::BAD_GATEWAY
        | StatusCode::SERVICE_UNAVAILABLE
        | StatusCode::GATEWAY_TIMEOUT
        | StatusCode::INSUFFICIENT_STORAGE => {
            Failure::Retry(format!("{} {message}", status.as_u16()), wait)
        }
        s => Failure::Refused(s.as_u16(), message),
    })
}

/// Sorts a failure to talk to the server at all.
fn transport(e: ureq::Error) -> Failure {
    match e {
        ureq::Error::Io(_)
        | ureq::Error::Timeout(_)
        | ureq::Error::ConnectionFailed
        | ureq::Error::HostNotFound
        | ureq::Error::Protocol(_) => Failure::Retry(shorten(&e.to_string()), None),
        e => Failure::Connection(shorten(&e.to_string())),
    }
}
