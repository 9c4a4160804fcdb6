//! TLS from a certificate and key on the command line (rustls), `Secure`
//! cookies over it, and plain HTTP refused off loopback.

use crate::common;

use std::process::Command;

use common::*;
use g2a_server::{serve, Listen, ServerError, ServiceOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_secure_cookies_and_plain_http_stays_on_loopback() {
    let f = fixture();
    let (cert, key) = (f.dir.path().join("cert.pem"), f.dir.path().join("key.pem"));
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    // Plain HTTP on an address other than loopback is refused.
    let e = serve(
        state(&f, ServiceOptions::default()),
        Listen {
            addr: "0.0.0.0:0".parse().unwrap(),
            tls: None,
            allow_plain_http: false,
        },
        |_| {},
        std::future::pending(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ServerError::PlainHttpNotLoopback(_)), "{e}");
    assert!(e.to_string().contains("--tls-cert"), "{e}");

    // A key that is not a key: a clear error.
    let bad = serve(
        state(&f, ServiceOptions::default()),
        Listen {
            addr: "127.0.0.1:0".parse().unwrap(),
            tls: Some((cert.clone(), cert.clone())),
            allow_plain_http: false,
        },
        |_| {},
        std::future::pending(),
    )
    .await
    .unwrap_err();
    assert!(
        bad.to_string().starts_with("TLS certificate or key: "),
        "{bad}"
    );

    let opts = ServiceOptions {
        tls: true,
        ..ServiceOptions::default()
    };
    let listen = Listen {
        addr: "0.0.0.0:0".parse().unwrap(),
        tls: Some((cert, key)),
        allow_plain_http: false,
    };
    let addr = start_on(state(&f, opts), listen).await;
    let body = format!(r#"{{"name":"tm","password":"{TM_PW}"}}"#);
    let out = tokio::task::spawn_blocking(move || {
        Command::new("curl")
            .args([
                "-sk",
                "-i",
                "-X",
                "POST",
                "-H",
                "Content-Type: application/json",
                "--data",
                &body,
            ])
            .arg(format!("https://localhost:{}/api/v1/login", addr.port()))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("HTTP/"), "{text}");
    let cookie = text
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        cookie.contains("Secure")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
}
