//! The API as a client sees it: logins, cookies, CSRF, every role against
//! every session route (allowed and refused), hostile input, and the
//! passphrase of an encrypted recording. Requests go through the whole
//! router (middleware included) without a socket.

use crate::common;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use common::*;
use g2a_server::{router, ServiceOptions};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

struct Client {
    app: Router,
    cookie: Option<String>,
    csrf: Option<String>,
    peer: SocketAddr,
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }
    fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or("").to_owned()
    }
}

impl Client {
    fn new(app: Router) -> Self {
        Client {
            app,
            cookie: None,
            csrf: None,
            peer: "127.0.0.1:50000".parse().unwrap(),
        }
    }

    async fn send(&self, req: Request<Body>) -> Answer {
        let mut req = req;
        req.extensions_mut().insert(ConnectInfo(self.peer));
        let r = self.app.clone().oneshot(req).await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let body = r.into_body().collect().await.unwrap().to_bytes().to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    fn req(&self, method: Method, path: &str) -> axum::http::request::Builder {
        let mut b = Request::builder()
            .method(method.clone())
            .uri(path)
            .header(header::HOST, "localhost:8480");
        if let Some(c) = &self.cookie {
            b = b.header(header::COOKIE, c);
        }
        if method != Method::GET {
            if let Some(t) = &self.csrf {
                b = b.header("x-csrf-token", t);
            }
        }
        b
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(self.req(Method::GET, path).body(Body::empty()).unwrap())
            .await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(
            self.req(Method::POST, path)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    async fn delete(&self, path: &str) -> Answer {
        self.send(self.req(Method::DELETE, path).body(Body::empty()).unwrap())
            .await
    }

    async fn login(&mut self, name: &str, password: &str) -> Answer {
        let a = self
            .post("/api/v1/login", json!({"name": name, "password": password}))
            .await;
        if a.status == StatusCode::OK {
            let set = a.headers[header::SET_COOKIE].to_str().unwrap().to_owned();
            self.cookie = Some(set.split(';').next().unwrap().to_owned());
            self.csrf = Some(a.json()["csrf"].as_str().unwrap().to_owned());
        }
        a
    }
}

fn app(f: &Fixture) -> Router {
    router(state(f, ServiceOptions::default()))
}

#[tokio::test]
async fn every_role_against_every_session_route() {
    let f = fixture();
    let app = app(&f);
    // Which sessions each user may open (E1 needs the passphrase on top).
    let may = |user: &str, session: &str| match (user, session) {
        (_, "NOPE") => false,
        ("admin", _) => true,
        ("tm", "S1" | "E1") => true,
        ("tm2", "S2") => true,
        ("rep1", "S1" | "E1") => true,
        _ => false,
    };
    let routes = [
        "",
        "/chat",
        "/events",
        "/diagnostics",
        "/diagnostics/0",
        "/timeline",
        "/frame?at=500000",
    ];
    for (user, pw) in USERS {
        let mut c = Client::new(app.clone());
        let a = c.login(user, pw).await;
        assert_eq!(
            a.status,
            StatusCode::OK,
            "{user}: {}",
            String::from_utf8_lossy(&a.body)
        );
        let me = c.get("/api/v1/me").await.json();
        assert_eq!(me["name"], user);
        // Search lists exactly the sessions the user may see.
        let found = c.get("/api/v1/sessions").await.json();
        let mut ids: Vec<String> = found["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        let mut want: Vec<String> = ["E1", "S1", "S2"]
            .iter()
            .filter(|s| may(user, s))
            .map(|s| (*s).to_owned())
            .collect();
        want.sort();
        assert_eq!(ids, want, "{user}'s search");
        for session in ["S1", "S2", "E1", "NOPE"] {
            for route in routes {
                let path = format!("/api/v1/sessions/{session}{route}");
                let a = c.get(&path).await;
                let allowed = may(user, session);
                if !allowed {
                    assert_eq!(a.status, StatusCode::NOT_FOUND, "{user} {path}");
                    assert_eq!(a.code(), "not_found", "{user} {path}");
                    assert_eq!(
                        a.json()["message"],
                        "no such session or not permitted",
                        "{user} {path}"
                    );
                } else if session == "E1" && !route.is_empty() {
                    assert_eq!(a.status, StatusCode::FORBIDDEN, "{user} {path}");
                    assert_eq!(a.code(), "passphrase_required", "{user} {path}");
                    assert_eq!(
                        a.json()["message"],
                        "session replay passphrase required for portal \"secure\""
                    );
                } else {
                    assert_eq!(
                        a.status,
                        StatusCode::OK,
                        "{user} {path}: {}",
                        String::from_utf8_lossy(&a.body)
                    );
                }
            }
        }
    }
    // A representative without Management Center access can't log in.
    let mut c = Client::new(app.clone());
    let a = c.login("rep3", REP3_PW).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(a.code(), "forbidden");
    // Nobody logged in: everything but the login is 401.
    let anon = Client::new(app.clone());
    for path in ["/api/v1/me", "/api/v1/sessions", "/api/v1/sessions/S1/chat"] {
        let a = anon.get(path).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(a.code(), "unauthenticated");
    }
    // Each opening was audited, refusals included.
    let cat = g2a_catalog::Catalog::open(&f.catalog).unwrap();
    let admin = cat.login("admin", ADMIN_PW).unwrap();
    let log = cat
        .audit_log(&admin, &g2a_catalog::AuditQuery::newest(10_000))
        .unwrap();
    assert!(log.iter().any(|e| e.actor == "tm2"
        && e.action == "chat"
        && e.session_id.as_deref() == Some("S1")
        && e.outcome.starts_with("refused")));
    assert!(log
        .iter()
        .any(|e| e.actor == "rep1" && e.action == "frame" && e.outcome == "allowed"));
    assert!(log
        .iter()
        .any(|e| e.actor == "admin" && e.action == "diagnostics-view"));
}

#[tokio::test]
async fn content_routes_return_the_recording_s_content() {
    let f = fixture();
    let mut c = Client::new(app(&f));
    c.login("tm", TM_PW).await;
    let chat = c.get("/api/v1/sessions/S1/chat").await.json();
    assert_eq!(chat.as_array().unwrap().len(), 2);
    assert_eq!(chat[0]["ts_micros"], 500_000);
    assert_eq!(chat[0]["sender"], "Quentin");
    assert_eq!(chat[0]["role"], "customer");
    assert_eq!(chat[0]["text"], "message at 500 ms: <b>not bold</b>");
    let ev = c.get("/api/v1/sessions/S1/events").await.json();
    assert_eq!(ev[0]["ts_micros"], 1_200_000);
    assert_eq!(ev[0]["kind"], "RemoteControlGranted");
    let docs = c.get("/api/v1/sessions/S1/diagnostics").await.json();
    assert_eq!(docs[0]["name"], "system-info.json");
    assert_eq!(docs[0]["media_type"], "application/json");
    let doc = c.get("/api/v1/sessions/S1/diagnostics/0").await;
    assert_eq!(doc.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(doc.body, br#"{"os":"Debian 12","ram_gb":24}"#);
    let dl = c
        .get("/api/v1/sessions/S1/diagnostics/0?download=true")
        .await;
    assert_eq!(
        dl.headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"system-info.json\""
    );
    let missing = c.get("/api/v1/sessions/S1/diagnostics/7").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let tl = c.get("/api/v1/sessions/S1/timeline").await.json();
    assert_eq!(tl["duration_micros"], 1_900_000);
    assert_eq!(tl["width"], 960);
    assert_eq!(tl["chat"], json!([500_000, 1_500_000]));
    assert_eq!(tl["live"], false);

    // The frame is exactly what the Player decodes, with the cursor.
    let png = c.get("/api/v1/sessions/S1/frame?at=1000000").await;
    assert_eq!(png.headers[header::CONTENT_TYPE], "image/png");
    let (_, _, rgb) = png_rgb(&png.body);
    let frames = clip_frames();
    let mut want = frames[10].clone();
    // The cursor (12×12 red square) at (200, 200).
    for y in 200..212 {
        for x in 200..212 {
            let i = (y * 960 + x) * 4;
            want[i..i + 4].copy_from_slice(&[0, 0, 255, 255]);
        }
    }
    let got: Vec<u8> = rgb
        .chunks_exact(3)
        .flat_map(|p| [p[2], p[1], p[0], 255])
        .collect();
    assert!(got == want, "the PNG differs from the recorded frame");
}

#[tokio::test]
async fn cookies_csrf_origin_and_logout() {
    let f = fixture();
    let app = app(&f);
    let mut c = Client::new(app.clone());
    let a = c.login("tm", TM_PW).await;
    let set = a.headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(flag), "{set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP: no Secure flag: {set}");
    assert_eq!(a.json()["role"], "team_manager");
    // Security headers on every answer.
    let me = c.get("/api/v1/me").await;
    assert_eq!(me.headers["x-content-type-options"], "nosniff");
    assert_eq!(me.headers["x-frame-options"], "DENY");
    assert!(me.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'self'"));

    // A state-changing request without the CSRF token, with a wrong one,
    // or from another origin is refused.
    let csrf = c.csrf.take();
    let r = c.post("/api/v1/logout", json!({})).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::FORBIDDEN, "csrf")
    );
    c.csrf = Some("0".repeat(64));
    let r = c.post("/api/v1/logout", json!({})).await;
    assert_eq!(r.code(), "csrf");
    c.csrf = csrf;
    let r = c
        .send(
            c.req(Method::POST, "/api/v1/logout")
                .header(header::ORIGIN, "https://evil.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.code(), "csrf");
    // A login from another site's page is refused too.
    let r = c
        .send(
            c.req(Method::POST, "/api/v1/login")
                .header(header::ORIGIN, "https://evil.example")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"name": "tm", "password": TM_PW}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(r.code(), "csrf");
    // ... and a form post (not JSON) is not a login.
    let r = c
        .send(
            c.req(Method::POST, "/api/v1/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("name=tm&password=x"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Logout ends the login on the server: the old cookie is worthless.
    let r = c.post("/api/v1/logout", json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let cleared = r.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(c.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    // A made-up cookie is not a login either.
    c.cookie = Some(format!("g2a_login={}", "ab".repeat(32)));
    assert_eq!(c.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn failed_logins_are_one_line_json_and_throttled() {
    let f = fixture();
    let mut c = Client::new(app(&f));
    for i in 0..5 {
        let a = c.login("tm", "wrong password").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{i}");
        assert_eq!(a.code(), "bad_credentials");
    }
    let a = c.login("tm", TM_PW).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(a.code(), "throttled");
    assert_eq!(a.headers[header::RETRY_AFTER], "1");
    // An unknown user gets the same answer as a wrong password.
    let a = c.login("nobody", "whatever").await;
    assert_eq!(a.code(), "bad_credentials");
    assert_eq!(
        a.json()["message"],
        "unknown user or wrong password for \"nobody\""
    );
}

#[tokio::test]
async fn hostile_input_gets_clear_errors() {
    let f = fixture();
    let mut c = Client::new(app(&f));
    // Malformed and oversized bodies.
    let r = c
        .send(
            c.req(Method::POST, "/api/v1/login")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{\"name\": \"tm\", \"password\": "))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "bad_request");
    assert!(!r.json()["message"].as_str().unwrap().contains('\n'));
    let r = c
        .post(
            "/api/v1/login",
            json!({"name": "tm", "password": "x".repeat(100_000)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.code(), "too_large");
    let r = c
        .post(
            "/api/v1/login",
            json!({"name": "tm", "password": "x", "admin": true}),
        )
        .await;
    assert_eq!(r.code(), "bad_request");

    c.login("admin", ADMIN_PW).await;
    // Hostile session ids and path segments.
    let long = "A".repeat(5000);
    for id in [
        long.as_str(),
        "..%2F..%2Fcatalog.sqlite",
        "%00",
        "S1%0A",
        "%E2%80%AE1S",
    ] {
        let r = c.get(&format!("/api/v1/sessions/{id}/chat")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(r.code(), "not_found");
    }
    // Bad query values.
    for q in ["page=-1", "per_page=abc", "from=yesterday", "colour=red"] {
        let r = c.get(&format!("/api/v1/sessions?{q}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
        assert_eq!(r.code(), "bad_request", "{q}");
    }
    for q in ["at=-5", "at=x", ""] {
        let r = c.get(&format!("/api/v1/sessions/S1/frame?{q}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
    }
    // Retention, exactly as the catalog says it.
    let r = c.get("/api/v1/sessions?from=0").await;
    assert_eq!(r.code(), "out_of_retention");
    assert_eq!(
        r.json()["message"],
        "Session data is only stored for 90 days. Date range begins too far in the past."
    );
    // A known route with the wrong method is a JSON 405 (found by the
    // fuzzer: it was an empty answer).
    let r = c.post("/api/v1/me", json!({})).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
    // Unknown routes are JSON 404s too.
    let r = c.get("/api/v1/nothing").await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    // The OpenAPI document lists the routes.
    let doc = c.get("/api/v1/openapi.json").await.json();
    for p in [
        "/api/v1/login",
        "/api/v1/sessions",
        "/api/v1/sessions/{id}/play",
        "/api/v1/sessions/{id}/exports",
        "/api/v1/exports/{job}/file",
        "/api/v1/org",
        "/api/v1/org/actions",
        "/api/v1/org/recorders",
        "/api/v1/org/recorders/{name}",
        "/api/v1/audit",
        "/api/v1/uploads/{id}",
    ] {
        assert!(
            doc["paths"][p].is_object(),
            "{p} missing from the OpenAPI document"
        );
    }
}

#[tokio::test]
async fn an_encrypted_session_unlocks_for_one_login_only() {
    let f = fixture();
    let app = app(&f);
    let mut c = Client::new(app.clone());
    c.login("tm", TM_PW).await;
    let r = c
        .post(
            "/api/v1/sessions/E1/unlock",
            json!({"passphrase": "not the passphrase"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::FORBIDDEN, "wrong_passphrase")
    );
    assert_eq!(
        c.get("/api/v1/sessions/E1/chat").await.code(),
        "passphrase_required"
    );
    let r = c
        .post(
            "/api/v1/sessions/E1/unlock",
            json!({"passphrase": PASSPHRASE}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NO_CONTENT,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let chat = c.get("/api/v1/sessions/E1/chat").await;
    assert_eq!(chat.status, StatusCode::OK);
    assert_eq!(chat.json()[0]["text"], "message at 500 ms: <b>not bold</b>");
    // Another login of the same user has no key.
    let mut other = Client::new(app.clone());
    other.login("tm", TM_PW).await;
    assert_eq!(
        other.get("/api/v1/sessions/E1/chat").await.code(),
        "passphrase_required"
    );
    // Unlocking a session in clear, or one out of reach, is refused.
    let r = c
        .post(
            "/api/v1/sessions/S1/unlock",
            json!({"passphrase": PASSPHRASE}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = other
        .post(
            "/api/v1/sessions/S2/unlock",
            json!({"passphrase": PASSPHRASE}),
        )
        .await;
    assert_eq!(r.code(), "not_found");
    // After logout and a new login the key is gone.
    c.post("/api/v1/logout", json!({})).await;
    c.login("tm", TM_PW).await;
    assert_eq!(
        c.get("/api/v1/sessions/E1/chat").await.code(),
        "passphrase_required"
    );
    // The passphrase never reaches the audit log.
    let cat = g2a_catalog::Catalog::open(&f.catalog).unwrap();
    let admin = cat.login("admin", ADMIN_PW).unwrap();
    let log = cat
        .audit_log(&admin, &g2a_catalog::AuditQuery::newest(10_000))
        .unwrap();
    assert!(log
        .iter()
        .any(|e| e.action == "unlock" && e.outcome.starts_with("refused")));
    for e in &log {
        assert!(!format!("{e:?}").contains(PASSPHRASE));
    }
}

#[tokio::test]
async fn export_jobs_belong_to_their_user_and_refuse_bad_requests() {
    let f = fixture();
    let app = app(&f);
    let mut tm = Client::new(app.clone());
    tm.login("tm", TM_PW).await;
    for (body, code) in [
        (json!({"format": "avi"}), "bad_request"),
        (json!({"format": "mp4", "width": 100}), "bad_request"),
        (
            json!({"format": "mp4", "width": 5, "height": 5}),
            "bad_request",
        ),
        (
            json!({"format": "mp4", "from": 900000, "to": 100}),
            "bad_request",
        ),
        (json!({"format": "mp4", "from": -1}), "bad_request"),
        (json!({"format": "mp4", "bogus": 1}), "bad_request"),
    ] {
        let r = tm.post("/api/v1/sessions/S1/exports", body.clone()).await;
        assert_eq!(r.code(), code, "{body}");
    }
    // Out of reach: not found, and no job.
    let r = tm
        .post("/api/v1/sessions/S2/exports", json!({"format": "mp4"}))
        .await;
    assert_eq!(r.code(), "not_found");
    let r = tm
        .post(
            "/api/v1/sessions/S1/exports",
            json!({"format": "wmv", "width": 640, "height": 360}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let job = r.json()["id"].as_str().unwrap().to_owned();
    // Another user can't see it or take its file.
    let mut tm2 = Client::new(app.clone());
    tm2.login("tm2", TM2_PW).await;
    assert_eq!(
        tm2.get(&format!("/api/v1/exports/{job}")).await.code(),
        "not_found"
    );
    assert_eq!(
        tm2.get(&format!("/api/v1/exports/{job}/file")).await.code(),
        "not_found"
    );
    let status = loop {
        let s = tm.get(&format!("/api/v1/exports/{job}")).await.json();
        if s["state"] == "done" || s["state"] == "failed" {
            break s;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(status["state"], "done", "{status}");
    let file = tm.get(&format!("/api/v1/exports/{job}/file")).await;
    assert_eq!(file.headers[header::CONTENT_TYPE], "video/x-ms-wmv");
    assert_eq!(file.body.len() as u64, status["bytes"].as_u64().unwrap());
    // ASF header GUID.
    assert_eq!(&file.body[..4], &[0x30, 0x26, 0xb2, 0x75]);
    let cat = g2a_catalog::Catalog::open(&f.catalog).unwrap();
    let admin = cat.login("admin", ADMIN_PW).unwrap();
    let log = cat
        .audit_log(&admin, &g2a_catalog::AuditQuery::newest(100))
        .unwrap();
    for action in ["export", "export-job", "export-download"] {
        assert!(
            log.iter().any(|e| e.actor == "tm" && e.action == action),
            "{action}"
        );
    }
    assert!(log.iter().any(|e| e.actor == "tm"
        && e.action == "export"
        && e.session_id.as_deref() == Some("S2")
        && e.outcome.starts_with("refused")));
    // Cancelling removes the file.
    let r = tm
        .send(
            tm.req(Method::DELETE, &format!("/api/v1/exports/{job}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        tm.get(&format!("/api/v1/exports/{job}/file")).await.code(),
        "conflict"
    );
}

#[tokio::test]
async fn the_organisation_and_the_audit_log_follow_the_catalog_s_rights() {
    let f = fixture();
    let app = app(&f);
    let mut admin = Client::new(app.clone());
    admin.login("admin", ADMIN_PW).await;
    let mut tm = Client::new(app.clone());
    tm.login("tm", TM_PW).await;
    let r = admin
        .post(
            "/api/v1/org/actions",
            json!({"action": "add_portal", "name": "emea", "parent": "acme"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = admin
        .post(
            "/api/v1/org/actions",
            json!({"action": "add_portal", "name": "emea"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::CONFLICT, "conflict")
    );
    let r = tm
        .post(
            "/api/v1/org/actions",
            json!({"action": "add_portal", "name": "mine"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let r = admin.post("/api/v1/org/actions", json!({"action": "add_manager", "name": "weak", "role": "team_manager", "password": "abc", "teams": ["sales"]})).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "weak_secret")
    );
    let r = admin
        .post(
            "/api/v1/org/actions",
            json!({"action": "add_manager", "name": "x", "role": "king", "password": "abc"}),
        )
        .await;
    assert_eq!(r.code(), "bad_request");
    let r = admin
        .post("/api/v1/org/actions", json!({"action": "launch_rockets"}))
        .await;
    assert_eq!(r.code(), "bad_request");
    let r = admin.post("/api/v1/org/actions", json!({"action": "add_representative", "name": "rita", "team": "sales", "password": "rita's long pass 42 Kq", "mc_access": true})).await;
    assert_eq!(
        r.status,
        StatusCode::NO_CONTENT,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let r = admin.post("/api/v1/org/actions", json!({"action": "set_passphrase", "portal": "acme", "own_password": "wrong", "new": "acme passphrase lantern 99 Q"})).await;
    assert_eq!(r.code(), "forbidden");
    let r = admin.post("/api/v1/org/actions", json!({"action": "set_passphrase", "portal": "acme", "own_password": ADMIN_PW, "new": "acme passphrase lantern 99 Q"})).await;
    assert_eq!(
        r.status,
        StatusCode::NO_CONTENT,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let org = admin.get("/api/v1/org").await.json();
    let emea = org["portals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "emea")
        .unwrap();
    assert_eq!(emea["parent"], "acme");
    assert!(org["users"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["name"] == "rita" && u["mc_access"] == true));
    // A team manager sees their part of the organisation only.
    let mine = tm.get("/api/v1/org").await.json();
    let teams: Vec<&str> = mine["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(teams, ["support"], "{mine}");
    // The audit log: company managers only, with filters.
    assert_eq!(tm.get("/api/v1/audit").await.code(), "forbidden");
    let log = admin.get("/api/v1/audit?user=tm&limit=5").await.json();
    assert!(log.as_array().unwrap().iter().all(|e| e["actor"] == "tm"));
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "add-portal"
            && e["outcome"].as_str().unwrap().starts_with("refused")));
    let log = admin.get("/api/v1/audit?limit=100").await;
    let text = String::from_utf8_lossy(&log.body);
    assert!(
        !text.contains("acme passphrase lantern"),
        "a passphrase reached the audit log"
    );
    assert!(
        !text.contains("rita's long pass"),
        "a password reached the audit log"
    );
}

#[tokio::test]
async fn recorder_tokens_are_issued_listed_and_revoked_by_company_managers_only() {
    let f = fixture();
    let app = app(&f);
    let mut admin = Client::new(app.clone());
    admin.login("admin", ADMIN_PW).await;
    // Team managers and representatives may do none of it.
    for (user, pw) in USERS.iter().filter(|(u, _)| *u != "admin") {
        let mut c = Client::new(app.clone());
        c.login(user, pw).await;
        assert_eq!(
            c.get("/api/v1/org/recorders").await.code(),
            "forbidden",
            "{user}"
        );
        let r = c
            .post(
                "/api/v1/org/recorders",
                json!({"name": "theirs", "portal": "acme"}),
            )
            .await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{user}"
        );
        assert_eq!(
            c.delete("/api/v1/org/recorders/desk-1").await.code(),
            "forbidden",
            "{user}"
        );
    }
    let r = admin
        .post(
            "/api/v1/org/recorders",
            json!({"name": "desk-1", "portal": "acme"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let token = r.json()["token"].as_str().unwrap().to_owned();
    assert!(
        token.starts_with("g2a_rec_") && token.len() == 72,
        "{token}"
    );
    // The token is good for uploading, as that recorder, to that portal.
    let cat = g2a_catalog::Catalog::open(&f.catalog).unwrap();
    let up = cat.uploader_for_token(&token).unwrap();
    assert_eq!((up.name(), up.portal()), ("desk-1", "acme"));
    // Same name again, unknown portal, unknown fields.
    let r = admin
        .post(
            "/api/v1/org/recorders",
            json!({"name": "desk-1", "portal": "acme"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::CONFLICT, "conflict")
    );
    let r = admin
        .post(
            "/api/v1/org/recorders",
            json!({"name": "desk-2", "portal": "mars"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let r = admin
        .post(
            "/api/v1/org/recorders",
            json!({"name": "desk-2", "portal": "acme", "admin": true}),
        )
        .await;
    assert_eq!(r.code(), "bad_request");
    // The list never shows the token; revoking stops it at once.
    let list = admin.get("/api/v1/org/recorders").await;
    assert!(!String::from_utf8_lossy(&list.body).contains(&token[8..]));
    let list = list.json();
    assert_eq!(list[0]["name"], "desk-1");
    assert_eq!(list[0]["created_by"], "admin");
    assert!(list[0]["revoked_unix_micros"].is_null());
    let r = admin.delete("/api/v1/org/recorders/desk-1").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(cat.uploader_for_token(&token).is_err());
    assert!(admin.get("/api/v1/org/recorders").await.json()[0]["revoked_unix_micros"].is_i64());
    let r = admin.delete("/api/v1/org/recorders/desk-1").await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    // Without the CSRF header nothing changes.
    let mut no_csrf = Client::new(app.clone());
    no_csrf.login("admin", ADMIN_PW).await;
    no_csrf.csrf = None;
    let r = no_csrf
        .post(
            "/api/v1/org/recorders",
            json!({"name": "desk-3", "portal": "acme"}),
        )
        .await;
    assert_eq!(r.code(), "csrf");
    // Issued, refused and revoked are audited; the token is not.
    let log = admin.get("/api/v1/audit?limit=1000").await;
    let text = String::from_utf8_lossy(&log.body);
    assert!(
        !text.contains(&token[8..]),
        "a recorder token reached the audit log"
    );
    let log = log.json();
    let entries = log.as_array().unwrap();
    assert!(entries.iter().any(|e| e["action"] == "issue-recorder-token"
        && e["actor"] == "admin"
        && e["outcome"] == "allowed"));
    assert!(entries.iter().any(|e| e["action"] == "issue-recorder-token"
        && e["actor"] == "tm"
        && e["outcome"].as_str().unwrap().starts_with("refused")));
    assert!(entries
        .iter()
        .any(|e| e["action"] == "revoke-recorder-token" && e["outcome"] == "allowed"));
}
