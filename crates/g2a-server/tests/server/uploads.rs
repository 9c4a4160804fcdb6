//! Resumable uploads as recorders see them: the tus 1.0 protocol answer by
//! answer on a real socket, hostile requests, and the uploader of
//! g2a-upload through a proxy that cuts its connections at random bytes,
//! again and again, and by a killed uploader resuming from its state file.
//! What lands in the catalog must be byte-identical to what was recorded.

use crate::common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use g2a_catalog::Catalog;
use g2a_server::ServiceOptions;
use g2a_upload::{Quiet, UploadError, UploadOptions, Uploader};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Issues a token for recorder `name` of `portal`.
fn token(f: &Fixture, name: &str, portal: &str) -> String {
    let cat = Catalog::open(&f.catalog).unwrap();
    let admin = cat.login("admin", ADMIN_PW).unwrap();
    cat.issue_recorder_token(&admin, name, portal)
        .unwrap()
        .as_str()
        .to_owned()
}

/// Records session `id` (acme, support, rep1) with `frames` frames.
fn recording(f: &Fixture, id: &str, frames: usize) -> PathBuf {
    let p = f.dir.path().join(format!("{id}.g2a"));
    let clip = clip_frames();
    let frames: Vec<Vec<u8>> = clip.iter().cycle().take(frames).cloned().collect();
    record(&p, header(id, "acme", "support", "rep1"), &frames, None);
    p
}

/// The stored bytes of session `id`'s first file.
fn stored(f: &Fixture, id: &str) -> Vec<u8> {
    let cat = Catalog::open(&f.catalog).unwrap();
    let admin = cat.login("admin", ADMIN_PW).unwrap();
    let g = cat
        .open_for(&admin, id, g2a_catalog::Action::Replay, None)
        .unwrap();
    assert!(!g.session.live, "{id} is still live");
    std::fs::read(&g.files[0]).unwrap()
}

fn fast() -> UploadOptions {
    UploadOptions {
        chunk: 48 * 1024,
        first_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
        give_up_after: Duration::from_secs(20),
        poll: Duration::from_millis(20),
    }
}

/// A raw request on a fresh connection; returns the status line's code,
/// the headers (lower-case names) and the body.
async fn raw(addr: SocketAddr, req: &[u8]) -> (u16, Vec<(String, String)>, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(req).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let code = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (code, headers, body.to_owned())
}

fn get<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// A request with the tus and auth headers, `Connection: close`.
fn request(method: &str, path: &str, token: &str, extra: &[&str], body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTus-Resumable: 1.0.0\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for e in extra {
        r.push_str(e);
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    let mut v = r.into_bytes();
    v.extend_from_slice(body);
    v
}

const NAME_S9: &str = "Upload-Metadata: filename UzkuZzJh"; // "S9.g2a"

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tus_protocol_answer_by_answer() {
    let f = fixture();
    let tok = token(&f, "desk-1", "acme");
    let other = token(&f, "desk-2", "acme");
    let src = recording(&f, "S9", 12);
    let bytes = std::fs::read(&src).unwrap();
    let opts = ServiceOptions {
        max_upload_bytes: 50 << 20,
        ..ServiceOptions::default()
    };
    let addr = start(&f, opts).await;

    // OPTIONS: what the server speaks, without a token.
    let (c, h, _) = raw(
        addr,
        b"OPTIONS /api/v1/uploads HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(c, 204);
    assert_eq!(get(&h, "tus-version"), Some("1.0.0"));
    assert_eq!(
        get(&h, "tus-extension"),
        Some("creation,creation-defer-length")
    );
    assert_eq!(get(&h, "tus-max-size"), Some(&*(50u64 << 20).to_string()));

    // Creation: refusals, each a JSON error with its code.
    let len = format!("Upload-Length: {}", bytes.len());
    for (tok, extra, want, code) in [
        ("", vec![&*len, NAME_S9], 401, "unauthenticated"),
        ("g2a_rec_00", vec![&*len, NAME_S9], 401, "unauthenticated"),
        (&*tok, vec![NAME_S9], 400, "bad_request"),
        (
            &*tok,
            vec![&*len, "Upload-Defer-Length: 1", NAME_S9],
            400,
            "bad_request",
        ),
        (
            &*tok,
            vec!["Upload-Length: 999999999999", NAME_S9],
            413,
            "too_large",
        ),
        (
            &*tok,
            vec![&*len, "Upload-Metadata: filename ???"],
            400,
            "bad_request",
        ),
        (
            &*tok,
            vec![&*len, "Upload-Metadata: filename Li4vLi4veA=="],
            400,
            "bad_request",
        ),
        (
            &*tok,
            vec!["Upload-Length: -1", NAME_S9],
            400,
            "bad_request",
        ),
    ] {
        let (c, _, body) = raw(addr, &request("POST", "/api/v1/uploads", tok, &extra, b"")).await;
        assert_eq!(c, want, "{extra:?}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["code"], code, "{extra:?}: {body}");
        assert!(!v["message"].as_str().unwrap().contains('\n'));
    }
    let mut no_tus = request("POST", "/api/v1/uploads", &tok, &[&len, NAME_S9], b"");
    let at = no_tus
        .windows(15)
        .position(|w| w == b"Tus-Resumable: ")
        .unwrap();
    no_tus.splice(at..at + 20, b"Tus-Resumable: 0.2.2".iter().copied());
    let (c, h, _) = raw(addr, &no_tus).await;
    assert_eq!((c, get(&h, "tus-version")), (412, Some("1.0.0")));

    let (c, h, _) = raw(
        addr,
        &request("POST", "/api/v1/uploads", &tok, &[&len, NAME_S9], b""),
    )
    .await;
    assert_eq!(c, 201);
    assert_eq!(get(&h, "tus-resumable"), Some("1.0.0"));
    let loc = get(&h, "location").unwrap().to_owned();
    assert!(loc.starts_with("/api/v1/uploads/"), "{loc}");

    // HEAD: offset and length, never cached; another recorder sees nothing.
    let (c, h, body) = raw(addr, &request("HEAD", &loc, &tok, &[], b"")).await;
    assert_eq!((c, get(&h, "upload-offset")), (200, Some("0")));
    assert_eq!(get(&h, "upload-length"), Some(&*bytes.len().to_string()));
    assert_eq!(get(&h, "cache-control"), Some("no-store"));
    assert!(body.is_empty());
    let (c, _, _) = raw(addr, &request("HEAD", &loc, &other, &[], b"")).await;
    assert_eq!(c, 404);

    // PATCH: media type, offset, then two pieces; a wrong offset is 409.
    let ct = "Content-Type: application/offset+octet-stream";
    let (c, _, _) = raw(
        addr,
        &request("PATCH", &loc, &tok, &["Upload-Offset: 0"], &bytes[..10]),
    )
    .await;
    assert_eq!(c, 415);
    let (c, _, _) = raw(addr, &request("PATCH", &loc, &tok, &[ct], &bytes[..10])).await;
    assert_eq!(c, 400);
    let half = bytes.len() / 2;
    let first_half = request(
        "PATCH",
        &loc,
        &tok,
        &[ct, "Upload-Offset: 0"],
        &bytes[..half],
    );
    let (c, h, _) = raw(addr, &first_half).await;
    assert_eq!(
        (c, get(&h, "upload-offset")),
        (204, Some(&*half.to_string()))
    );
    // The same bytes again: the server's offset has moved.
    let (c, _, body) = raw(addr, &first_half).await;
    assert_eq!(c, 409, "{body}");
    // The session is live as soon as the header is in.
    let (c, _, body) = raw(addr, &request("GET", &loc, &tok, &[], b"")).await;
    assert_eq!(c, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["state"].as_str(), v["session_id"].as_str()),
        (Some("receiving"), Some("S9"))
    );
    {
        let cat = Catalog::open(&f.catalog).unwrap();
        let admin = cat.login("admin", ADMIN_PW).unwrap();
        let g = cat
            .open_for(&admin, "S9", g2a_catalog::Action::Replay, None)
            .unwrap();
        assert!(g.session.live);
    }
    // A body that goes past the length: the bytes up to it are kept.
    let mut more = bytes[half..].to_vec();
    more.extend_from_slice(b"trailing garbage");
    let off = format!("Upload-Offset: {half}");
    let (c, _, body) = raw(addr, &request("PATCH", &loc, &tok, &[ct, &off], &more)).await;
    assert_eq!(c, 413, "{body}");
    let (c, h, _) = raw(addr, &request("HEAD", &loc, &tok, &[], b"")).await;
    assert_eq!(
        (c, get(&h, "upload-offset")),
        (200, Some(&*bytes.len().to_string()))
    );
    let (_, _, body) = raw(addr, &request("GET", &loc, &tok, &[], b"")).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["state"], "done", "{body}");
    assert_eq!(stored(&f, "S9"), bytes);

    // Garbage: refused once its first bytes show it is no recording; the
    // upload is gone (410) and its bytes dropped.
    let (c, h, _) = raw(
        addr,
        &request(
            "POST",
            "/api/v1/uploads",
            &tok,
            &["Upload-Length: 4096", "Upload-Metadata: filename Ry5nMmE="],
            b"",
        ),
    )
    .await;
    assert_eq!(c, 201);
    let g = get(&h, "location").unwrap().to_owned();
    let (c, _, body) = raw(
        addr,
        &request("PATCH", &g, &tok, &[ct, "Upload-Offset: 0"], &[0x55; 4096]),
    )
    .await;
    assert!((400..500).contains(&c), "{c} {body}");
    let (c, _, _) = raw(addr, &request("HEAD", &g, &tok, &[], b"")).await;
    assert_eq!(c, 410);
    let uploads = f.catalog.join("uploads");
    assert_eq!(std::fs::read_dir(&uploads).unwrap().count(), 0);

    // A recording of another portal: refused for this recorder.
    let sec = token(&f, "desk-3", "secure");
    let up = Uploader::new(&format!("http://{addr}"), &sec, None, fast()).unwrap();
    let s10 = recording(&f, "S10", 4);
    let e = tokio::task::spawn_blocking(move || up.upload_file(&s10, &mut Quiet))
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(e, UploadError::Refused { .. }), "{e}");
    assert!(e.to_string().contains("portal"), "{e}");
}

/// A TCP proxy to `to` that cuts each of its first `cuts` connections
/// after a pseudo-random number of the client's bytes (below `max`).
/// Returns its address and how many connections it did cut.
async fn cutting_proxy(to: SocketAddr, cuts: u64, max: u64) -> (SocketAddr, Arc<AtomicU64>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let done = Arc::new(AtomicU64::new(0));
    let count = done.clone();
    tokio::spawn(async move {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        loop {
            let Ok((mut c, _)) = l.accept().await else {
                return;
            };
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let budget = if count.load(Ordering::SeqCst) < cuts {
                1 + (seed >> 33) % max
            } else {
                u64::MAX
            };
            let count = count.clone();
            tokio::spawn(async move {
                let Ok(mut s) = tokio::net::TcpStream::connect(to).await else {
                    return;
                };
                let (mut cr, mut cw) = c.split();
                let (mut sr, mut sw) = s.split();
                let up = async {
                    let mut left = budget;
                    let mut buf = vec![0u8; 8192];
                    loop {
                        let n = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n as u64,
                        };
                        let take = n.min(left);
                        if sw.write_all(&buf[..take as usize]).await.is_err() {
                            return;
                        }
                        left -= take;
                        if left == 0 {
                            count.fetch_add(1, Ordering::SeqCst);
                            return;
                        }
                    }
                };
                let down = async {
                    let _ = tokio::io::copy(&mut sr, &mut cw).await;
                };
                tokio::select! {
                    () = up => {}
                    () = down => {}
                }
            });
        }
    });
    (addr, done)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_connections_and_a_killed_uploader_resume_to_identical_bytes() {
    let f = fixture();
    let tok = token(&f, "desk-1", "acme");
    let addr = start(&f, ServiceOptions::default()).await;
    let src = recording(&f, "C1", 120);
    let bytes = std::fs::read(&src).unwrap();
    assert!(bytes.len() > 300_000, "{}", bytes.len());
    // Thirty connections cut at random bytes, then the rest goes through.
    let (proxy, cuts) = cutting_proxy(addr, 30, 16_000).await;
    let up = Uploader::new(&format!("http://{proxy}"), &tok, None, fast()).unwrap();
    let file = src.clone();
    let st = tokio::task::spawn_blocking(move || up.upload_file(&file, &mut Quiet))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cuts.load(Ordering::SeqCst), 30);
    assert_eq!(
        (st.state.as_str(), st.session_id.as_deref()),
        ("done", Some("C1"))
    );
    assert!(st.warnings.is_empty(), "{:?}", st.warnings);
    assert_eq!(stored(&f, "C1"), bytes);
    assert!(!g2a_upload::state_path(&src).exists());

    // An uploader that dies half way (here: its thread panics after the
    // third piece) leaves its state file; the next run resumes from the
    // server's offset instead of starting again.
    let src = recording(&f, "C2", 120);
    let bytes = std::fs::read(&src).unwrap();
    struct Dies(u32);
    impl g2a_upload::Observer for Dies {
        fn progress(&mut self, _: &Path, _: u64, _: Option<u64>) {
            self.0 += 1;
            assert!(self.0 < 3, "killed");
        }
    }
    let first = Uploader::new(&format!("http://{addr}"), &tok, None, fast()).unwrap();
    let file = src.clone();
    let r = tokio::task::spawn_blocking(move || first.upload_file(&file, &mut Dies(0))).await;
    assert!(r.is_err());
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(g2a_upload::state_path(&src)).unwrap()).unwrap();
    let loc = state["location"].as_str().unwrap().to_owned();
    let (_, h, _) = raw(addr, &request("HEAD", &loc, &tok, &[], b"")).await;
    let had: u64 = get(&h, "upload-offset").unwrap().parse().unwrap();
    assert_eq!(had, 3 * 48 * 1024);
    struct Firsts(Vec<u64>);
    impl g2a_upload::Observer for Firsts {
        fn progress(&mut self, _: &Path, sent: u64, _: Option<u64>) {
            self.0.push(sent);
        }
    }
    let again = Uploader::new(&format!("http://{addr}"), &tok, None, fast()).unwrap();
    let file = src.clone();
    let (st, seen) = tokio::task::spawn_blocking(move || {
        let mut o = Firsts(Vec::new());
        (again.upload_file(&file, &mut o).unwrap(), o.0)
    })
    .await
    .unwrap();
    assert_eq!(st.state, "done");
    assert_eq!(seen[0], had + 48 * 1024, "resumed from the server's offset");
    assert_eq!(stored(&f, "C2"), bytes);
    assert!(!g2a_upload::state_path(&src).exists());
}

/// Another tus client than ours: tus-js-client (the tus project's own, from
/// npm) uploads two recordings, one straight, one through a proxy that cuts
/// its connections at random bytes; both land byte-identical in the
/// catalog as their sessions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tus_js_client_uploads_and_resumes_through_cut_connections() {
    let f = fixture();
    let tok = token(&f, "desk-js", "acme");
    let addr = start(&f, ServiceOptions::default()).await;
    let env = |file: &Path| {
        vec![
            ("G2A_TOKEN", tok.clone().into()),
            ("G2A_FILE", file.as_os_str().to_owned()),
        ]
    };

    let src = recording(&f, "J1", 12);
    let out = run_script("tus.mjs", addr, env(&src)).await;
    assert!(out.contains("failures 0"), "{out}");
    assert!(out.contains("/api/v1/uploads/"), "{out}");
    imported(&f, "J1").await;
    assert_eq!(stored(&f, "J1"), std::fs::read(&src).unwrap());

    let src = recording(&f, "J2", 120);
    let bytes = std::fs::read(&src).unwrap();
    // Every cut falls inside a PATCH's body (the client sends 64 KiB
    // pieces), and the client keeps coming back until all are done.
    let (proxy, cuts) = cutting_proxy(addr, 12, 40_000).await;
    let out = run_script("tus.mjs", proxy, env(&src)).await;
    assert_eq!(cuts.load(Ordering::SeqCst), 12, "{out}");
    let failures: u64 = out
        .lines()
        .find_map(|l| l.strip_prefix("failures "))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(failures >= 12, "{out}");
    imported(&f, "J2").await;
    assert_eq!(stored(&f, "J2"), bytes);
}

/// Waits (up to 5 s) for session `id` to be imported and no longer live:
/// the import runs once an upload's last byte arrives, and a client that
/// doesn't ask for the upload's state may see its answer first.
async fn imported(f: &Fixture, id: &str) {
    let cat = Catalog::open(&f.catalog).unwrap();
    let admin = cat.login("admin", ADMIN_PW).unwrap();
    for _ in 0..200 {
        if cat
            .open_for(&admin, id, g2a_catalog::Action::Replay, None)
            .is_ok_and(|g| !g.session.live)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
