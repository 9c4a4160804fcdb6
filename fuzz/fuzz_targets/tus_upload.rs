//! Resumable uploads with arbitrary tus requests: method, upload id,
//! `Upload-Length`, `Upload-Offset`, `Upload-Defer-Length`,
//! `Upload-Metadata`, content type and body, with a valid recorder token,
//! a wrong one or none. No request may panic the service or get a 500;
//! every refusal (except a HEAD's, which has no body) is JSON with a code
//! and a one-line message; `Upload-Metadata` parses or fails cleanly.
#![no_main]

use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};

use arbitrary::Arbitrary;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request};
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

#[derive(Debug, Arbitrary)]
struct Input {
    method: u8,
    /// Which upload: a new one, one made before, or text.
    target: u8,
    id: String,
    token: u8,
    tus: bool,
    length: Option<String>,
    offset: Option<String>,
    defer: Option<String>,
    metadata: Option<String>,
    octet: bool,
    body: Vec<u8>,
}

struct Env {
    service: g2a_fuzz::Service,
    token: String,
    made: Mutex<Vec<String>>,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let (service, token) = g2a_fuzz::service(|cat, admin| {
            let t = cat.issue_recorder_token(admin, "fuzz", "acme").unwrap();
            t.as_str().to_owned()
        });
        Env {
            token,
            made: Mutex::new(Vec::new()),
            service,
        }
    })
}

fuzz_target!(|input: Input| {
    if let Some(m) = &input.metadata {
        let _ = g2a_server::uploads::parse_metadata(m);
    }
    let e = env();
    let method = match input.method % 5 {
        0 => Method::POST,
        1 => Method::HEAD,
        2 => Method::PATCH,
        3 => Method::GET,
        _ => Method::OPTIONS,
    };
    let made = e.made.lock().unwrap().clone();
    let path = match (input.target % 3, made.is_empty()) {
        (0, _) => "/api/v1/uploads".to_owned(),
        (1, false) => made[input.id.len() % made.len()].clone(),
        _ => format!("/api/v1/uploads/{}", input.id),
    };
    let mut b = Request::builder()
        .method(method.clone())
        .uri(path.as_str())
        .header("host", "localhost");
    match input.token % 3 {
        0 => b = b.header("authorization", format!("Bearer {}", e.token)),
        1 => b = b.header("authorization", format!("Bearer {}", input.id)),
        _ => {}
    }
    if input.tus {
        b = b.header("tus-resumable", "1.0.0");
    }
    for (name, v) in [
        ("upload-length", &input.length),
        ("upload-offset", &input.offset),
        ("upload-defer-length", &input.defer),
        ("upload-metadata", &input.metadata),
    ] {
        if let Some(v) = v {
            b = b.header(name, v.as_str());
        }
    }
    if input.octet {
        b = b.header("content-type", "application/offset+octet-stream");
    }
    let Ok(mut req) = b.body(Body::from(input.body)) else {
        return; // not an HTTP request at all (bad URI or header)
    };
    req.extensions_mut()
        .insert(ConnectInfo("127.0.0.1:4000".parse::<SocketAddr>().unwrap()));
    let app = g2a_server::router(e.service.state.clone());
    e.service.rt.block_on(async {
        let r = app.oneshot(req).await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let body = r.into_body().collect().await.unwrap().to_bytes();
        assert_ne!(
            status.as_u16(),
            500,
            "{path}: {}",
            String::from_utf8_lossy(&body)
        );
        if status.as_u16() == 201 {
            let loc = headers
                .get("location")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            let mut m = e.made.lock().unwrap();
            if m.len() < 32 {
                m.push(loc);
            }
        }
        if !status.is_success() && method != Method::HEAD {
            let ct = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            assert!(ct.starts_with("application/json"), "{path}: {status} {ct}");
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let msg = v["message"].as_str().unwrap();
            assert!(!msg.contains('\n'), "{msg}");
            assert!(v["code"].is_string());
        }
    });
});
