//! The browser player's stream over a real socket: the first frame, a
//! seek and playback at 16× rebuild exactly the recorded screens from the
//! rectangles sent; another site's page and viewers beyond the limit are
//! refused; a page that sends garbage gets an error and stays connected.

use crate::common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use g2a_server::ServiceOptions;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

/// Logs in over HTTP/1.1 by hand (one request) and returns the cookie.
async fn login(addr: SocketAddr, name: &str, pw: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = json!({"name": name, "password": pw}).to_string();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "POST /api/v1/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).await.unwrap();
    let line = resp
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie: {resp}"));
    line.split_once(':')
        .unwrap()
        .1
        .trim()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(
    addr: SocketAddr,
    session: &str,
    cookie: &str,
    origin: Option<&str>,
) -> Result<Ws, u16> {
    let mut req = format!("ws://{addr}/api/v1/sessions/{session}/play")
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    if let Some(o) = origin {
        req.headers_mut().insert("origin", o.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

/// What the page would show: applies frame messages to a BGRA screen.
struct Screen {
    w: u32,
    h: u32,
    px: Vec<u8>,
}

impl Screen {
    fn apply(&mut self, msg: &[u8]) -> Value {
        assert_eq!(msg[0], 1, "a frame message");
        let n = u32::from_le_bytes(msg[1..5].try_into().unwrap()) as usize;
        let head: Value = serde_json::from_slice(&msg[5..5 + n]).unwrap();
        let (w, h) = (
            head["w"].as_u64().unwrap() as u32,
            head["h"].as_u64().unwrap() as u32,
        );
        if (w, h) != (self.w, self.h) {
            *self = Screen {
                w,
                h,
                px: vec![0; (w * h * 4) as usize],
            };
        }
        let mut off = 5 + n;
        for r in head["rects"].as_array().unwrap() {
            let v: Vec<u32> = r
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as u32)
                .collect();
            let (x, y, rw, rh, len) = (v[0], v[1], v[2], v[3], v[4] as usize);
            let (pw, ph, rgb) = png_rgb(&msg[off..off + len]);
            off += len;
            assert_eq!((pw, ph), (rw, rh), "a rectangle's picture is its size");
            for row in 0..rh {
                for col in 0..rw {
                    let s = ((row * rw + col) * 3) as usize;
                    let d = (((y + row) * w + x + col) * 4) as usize;
                    self.px[d..d + 4].copy_from_slice(&[rgb[s + 2], rgb[s + 1], rgb[s], 255]);
                }
            }
        }
        assert_eq!(off, msg.len());
        head
    }
}

/// The frame recorded at `i` with the cursor drawn as the fixture draws it.
fn expected(frames: &[Vec<u8>], i: usize) -> Vec<u8> {
    let mut px = frames[i].clone();
    let cx = 100 + i * 10;
    for y in 200..212 {
        for x in cx..(cx + 12).min(960) {
            let o = (y * 960 + x) * 4;
            px[o..o + 4].copy_from_slice(&[0, 0, 255, 255]);
        }
    }
    px
}

async fn next_frame(ws: &mut Ws, screen: &mut Screen) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("a message within 20 s")
            .unwrap()
            .unwrap();
        match m {
            Message::Binary(b) => {
                let head = screen.apply(&b);
                let seq = head["seq"].as_u64().unwrap();
                ws.send(Message::text(json!({"op": "ack", "seq": seq}).to_string()))
                    .await
                    .unwrap();
                return head;
            }
            Message::Text(t) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                assert_ne!(v["type"], "error", "{v}");
            }
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_rebuilds_the_recorded_screens_exactly() {
    let f = fixture();
    let addr = start(&f, ServiceOptions::default()).await;
    let cookie = login(addr, "tm", TM_PW).await;
    let frames = clip_frames();
    let mut ws = connect(addr, "S1", &cookie, Some(&format!("http://{addr}")))
        .await
        .unwrap();
    let mut screen = Screen {
        w: 0,
        h: 0,
        px: Vec::new(),
    };
    // The first message says what the recording is.
    let info = match ws.next().await.unwrap().unwrap() {
        Message::Text(t) => serde_json::from_str::<Value>(&t).unwrap(),
        m => panic!("{m:?}"),
    };
    assert_eq!(info["type"], "info");
    assert_eq!(info["width"], 960);
    assert_eq!(info["live"], false);
    let head = next_frame(&mut ws, &mut screen).await;
    assert_eq!(head["ts"], 0);
    assert!(screen.px == expected(&frames, 0), "first frame differs");
    // A seek shows exactly the frame recorded then, and sends only what
    // changed.
    for (t, i) in [(1_250_000, 12), (300_000, 3), (1_900_000, 19)] {
        ws.send(Message::text(json!({"op": "seek", "t": t}).to_string()))
            .await
            .unwrap();
        let head = next_frame(&mut ws, &mut screen).await;
        assert_eq!(head["ts"], i as u64 * 100_000, "seek to {t}");
        assert!(
            screen.px == expected(&frames, i),
            "frame after the seek to {t} differs"
        );
        let area: u64 = head["rects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[2].as_u64().unwrap() * r[3].as_u64().unwrap())
            .sum();
        assert!(area > 0);
    }
    // Garbage commands get an error and the stream goes on.
    ws.send(Message::text("{\"op\":\"explode\"}"))
        .await
        .unwrap();
    loop {
        if let Message::Text(t) = ws.next().await.unwrap().unwrap() {
            let v: Value = serde_json::from_str(&t).unwrap();
            assert_eq!(v["type"], "error");
            assert_eq!(v["code"], "bad_request");
            break;
        }
    }
    // Playback at 16× from the start reaches the end and stops there.
    ws.send(Message::text(json!({"op": "seek", "t": 0}).to_string()))
        .await
        .unwrap();
    next_frame(&mut ws, &mut screen).await;
    ws.send(Message::text(
        json!({"op": "play", "speed": 16.0}).to_string(),
    ))
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let mut seen = 0;
    loop {
        let head = next_frame(&mut ws, &mut screen).await;
        seen += 1;
        let ts = head["ts"].as_u64().unwrap() as usize / 100_000;
        assert!(
            screen.px == expected(&frames, ts),
            "frame {ts} during playback differs"
        );
        if head["playing"] == false {
            assert_eq!(head["t"], 1_900_000);
            assert!(screen.px == expected(&frames, 19));
            break;
        }
    }
    // 1.9 s of recording at 16× takes about 0.12 s.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(seen >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_origins_strangers_and_viewers_beyond_the_limit_are_refused() {
    let f = fixture();
    let opts = ServiceOptions {
        max_viewers: 1,
        ..ServiceOptions::default()
    };
    let addr = start(&f, opts).await;
    let tm = login(addr, "tm", TM_PW).await;
    // Another site's page can't open the stream with the user's cookie.
    assert_eq!(
        connect(addr, "S1", &tm, Some("https://evil.example"))
            .await
            .err(),
        Some(403)
    );
    // No login, or a session out of reach: refused before the upgrade.
    assert_eq!(
        connect(addr, "S1", "g2a_login=x", None).await.err(),
        Some(401)
    );
    assert_eq!(connect(addr, "S2", &tm, None).await.err(), Some(404));
    // An encrypted session needs its passphrase first.
    assert_eq!(connect(addr, "E1", &tm, None).await.err(), Some(403));
    // One viewer at a time here: the second is told the server is busy,
    // and may come in once the first leaves.
    let first = connect(addr, "S1", &tm, None).await.unwrap();
    assert_eq!(connect(addr, "S1", &tm, None).await.err(), Some(503));
    drop(first);
    let mut ok = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if connect(addr, "S1", &tm, None).await.is_ok() {
            ok = true;
            break;
        }
    }
    assert!(ok, "the viewer's place was not given back");
}
