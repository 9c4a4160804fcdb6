//! The review service's HTTP API with arbitrary requests: method, path,
//! query, headers (with or without a valid login and CSRF token) and body
//! go through the whole router. No request may panic the service or get a
//! 500, every API answer is JSON with a code and a one-line message, and
//! arbitrary player commands parse or fail cleanly.
#![no_main]

use std::net::SocketAddr;
use std::sync::OnceLock;

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
    path: String,
    logged_in: bool,
    csrf: bool,
    content_type: u8,
    body: Vec<u8>,
    command: String,
}

struct Env {
    service: g2a_fuzz::Service,
    cookie: String,
    csrf: String,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let (service, (token, login)) = g2a_fuzz::service(|cat, admin| {
            let policy = g2a_catalog::LoginPolicy::default();
            cat.start_login(admin, "127.0.0.1", policy).unwrap()
        });
        Env {
            cookie: format!("g2a_login={}", token.as_str()),
            csrf: login.csrf,
            service,
        }
    })
}

fuzz_target!(|input: Input| {
    let _ = serde_json::from_str::<g2a_server::viewer::Command>(&input.command);
    let e = env();
    let method = match input.method % 4 {
        0 => Method::GET,
        1 => Method::POST,
        2 => Method::DELETE,
        _ => Method::PUT,
    };
    let path = format!("/api/v1/{}", input.path.trim_start_matches('/'));
    // The fuzzer may change the organisation (it holds a company
    // manager's login) but may not end its own login.
    let mut b = Request::builder()
        .method(method)
        .uri(path.as_str())
        .header("host", "localhost");
    if input.logged_in {
        b = b.header("cookie", &e.cookie);
    }
    if input.csrf {
        b = b.header("x-csrf-token", &e.csrf);
    }
    b = b.header(
        "content-type",
        [
            "application/json",
            "text/plain",
            "application/x-www-form-urlencoded",
        ][input.content_type as usize % 3],
    );
    let Ok(mut req) = b.body(Body::from(input.body)) else {
        return; // not an HTTP request at all (bad URI or header)
    };
    if req.uri().path().contains("/logout") || req.uri().path().ends_with("/play") {
        return;
    }
    req.extensions_mut()
        .insert(ConnectInfo("127.0.0.1:4000".parse::<SocketAddr>().unwrap()));
    let app = g2a_server::router(e.service.state.clone());
    e.service.rt.block_on(async {
        let r = app.oneshot(req).await.unwrap();
        let status = r.status();
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = r.into_body().collect().await.unwrap().to_bytes();
        assert_ne!(
            status.as_u16(),
            500,
            "{path}: {}",
            String::from_utf8_lossy(&body)
        );
        if !status.is_success() {
            assert!(ct.starts_with("application/json"), "{path}: {status} {ct}");
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let msg = v["message"].as_str().unwrap();
            assert!(!msg.contains('\n'), "{msg}");
            assert!(v["code"].is_string());
        }
    });
});
