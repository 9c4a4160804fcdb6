//! `g2a upload` and the recorder tokens through the `g2a` binary, against
//! a real `g2a serve` process: the server killed (SIGKILL) in the middle of
//! an upload and started again, the uploader killed and run again, and a
//! revoked token. What the catalog holds must be byte-identical to what
//! was recorded.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use g2a::{Recorder, RecorderOptions};
use g2a_core::{FrameRef, PixelFormat, Size, Timestamp};
use g2a_format::SessionHeader;

const W: u32 = 640;
const H: u32 = 480;

fn g2a(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_g2a"));
    c.current_dir(dir);
    c
}

/// `g2a catalog SUB --catalog cat --as admin ARGS`.
fn catalog(dir: &Path, sub: &str, args: &[&str]) -> Output {
    g2a(dir)
        .args(["catalog", sub, "--catalog", "cat", "--as", "admin"])
        .args(args)
        .env("G2A_PASSWORD", "admin-Vq8#Lw2!pZ")
        .output()
        .unwrap()
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A recording of `frames` frames of noise (which does not compress, so
/// the file is large enough to be cut in the middle).
fn noise_recording(path: &Path, id: &str, frames: u64) {
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64;
    let header = SessionHeader::new(id, Size::new(W, H))
        .with_portal("acme")
        .with_team("support")
        .with_representative("rep1")
        .with_start_time_unix_micros(start - 60_000_000);
    let mut rec = Recorder::create(path, header, RecorderOptions::default()).unwrap();
    let mut x: u32 = 0x1234_5678 ^ frames as u32;
    let mut px = vec![0u8; (W * H * 4) as usize];
    for i in 0..frames {
        for b in px.chunks_exact_mut(4) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            b.copy_from_slice(&x.to_le_bytes());
        }
        let f = FrameRef::packed(&px, Size::new(W, H), PixelFormat::Bgra8).unwrap();
        rec.push_frame(Timestamp::from_millis(i * 100), &f).unwrap();
    }
    rec.finish().unwrap();
}

fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// `g2a serve` on `addr`, once it accepts connections.
fn serve(dir: &Path, addr: SocketAddr) -> Child {
    let child = g2a(dir)
        .args(["serve", "--catalog", "cat", "--listen", &addr.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while TcpStream::connect(addr).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "g2a serve did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn upload(dir: &Path, addr: SocketAddr, file: &str) -> Command {
    let mut c = g2a(dir);
    c.args([
        "upload",
        file,
        "--server",
        &format!("http://{addr}"),
        "--token-file",
        "desk-1.token",
        "--chunk-kib",
        "16",
    ]);
    c
}

/// The size of the stored first file of session `id`, once there is one.
fn stored_len(dir: &Path, id: &str) -> u64 {
    std::fs::metadata(dir.join(format!("cat/recordings/{id}/{id}.g2a")))
        .map(|m| m.len())
        .unwrap_or(0)
}

/// Waits until the server has more than `n` bytes of session `id`.
fn wait_for_bytes(dir: &Path, id: &str, n: u64) {
    let t = Instant::now();
    while stored_len(dir, id) <= n {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "{id}: stuck at {}",
            stored_len(dir, id)
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn kill(child: &mut Child) {
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

fn same(dir: &Path, id: &str, src: &Path) {
    let a = std::fs::read(dir.join(format!("cat/recordings/{id}/{id}.g2a"))).unwrap();
    let b = std::fs::read(src).unwrap();
    assert!(
        a == b,
        "{id}: {} stored bytes differ from the {} recorded",
        a.len(),
        b.len()
    );
}

/// A catalog `cat` with portal acme, team support, representative rep1 and
/// recorder desk-1 (its token in desk-1.token); returns what
/// `add-recorder` said.
fn setup(dir: &Path) -> String {
    ok(g2a(dir)
        .args([
            "catalog",
            "create",
            "--catalog",
            "cat",
            "--as",
            "admin",
            "--insecure-fast-kdf",
        ])
        .env("G2A_PASSWORD", "admin-Vq8#Lw2!pZ")
        .output()
        .unwrap());
    ok(catalog(dir, "add-portal", &["acme"]));
    ok(catalog(dir, "add-team", &["support"]));
    ok(catalog(dir, "assign-team", &["support", "acme"]));
    ok(catalog(dir, "add-rep", &["rep1", "--team", "support"]));
    ok(catalog(
        dir,
        "add-recorder",
        &["desk-1", "--portal", "acme", "--token-file", "desk-1.token"],
    ))
}

#[test]
fn uploads_survive_a_killed_server_and_a_killed_uploader() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let said = setup(dir);
    assert!(said.contains("desk-1.token"), "{said}");
    let token = std::fs::read_to_string(dir.join("desk-1.token")).unwrap();
    assert!(
        token.starts_with("g2a_rec_") && token.trim().len() == 72,
        "{token}"
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("desk-1.token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The token is never printed, and a second recorder of that name is refused.
    assert!(!said.contains(token.trim()));
    let o = catalog(
        dir,
        "add-recorder",
        &["desk-1", "--portal", "acme", "--token-file", "again.token"],
    );
    assert!(!o.status.success());
    assert!(!dir.join("again.token").exists());
    let list = ok(catalog(dir, "recorders", &[]));
    assert!(
        list.contains("desk-1") && list.contains("portal acme") && list.contains("never"),
        "{list}"
    );

    noise_recording(&dir.join("K1.g2a"), "K1", 8);
    noise_recording(&dir.join("K2.g2a"), "K2", 8);
    let total = std::fs::metadata(dir.join("K1.g2a")).unwrap().len();
    assert!(total > 6_000_000, "{total}");
    let addr = free_port();

    // The server is killed in the middle of the upload and comes back; the
    // uploader waits for it and goes on from what the server kept.
    let mut server = serve(dir, addr);
    let mut up = upload(dir, addr, "K1.g2a")
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_bytes(dir, "K1", 2_000_000);
    kill(&mut server);
    let kept = stored_len(dir, "K1");
    assert!(
        kept < total,
        "the upload ended before the server was killed"
    );
    std::thread::sleep(Duration::from_millis(700));
    let mut server = serve(dir, addr);
    let status = up.wait().unwrap();
    let mut err = String::new();
    up.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let mut out = String::new();
    up.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert!(status.success(), "{err}");
    assert!(err.contains("trying again"), "{err}");
    assert!(
        out.contains(&format!("K1.g2a: {total} bytes uploaded to session K1")),
        "{out}"
    );
    same(dir, "K1", &dir.join("K1.g2a"));
    assert!(!dir.join("K1.g2a.upload").exists());

    // The uploader is killed; run again, it resumes from its state file
    // (a fresh upload would be refused: the session exists).
    let mut up = upload(dir, addr, "K2.g2a")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_bytes(dir, "K2", 2_000_000);
    kill(&mut up);
    assert!(stored_len(dir, "K2") < total);
    assert!(dir.join("K2.g2a.upload").exists());
    let out = ok(upload(dir, addr, "K2.g2a").output().unwrap());
    assert!(out.contains("uploaded to session K2"), "{out}");
    same(dir, "K2", &dir.join("K2.g2a"));
    let found = ok(catalog(dir, "search", &["--json"]));
    assert!(
        found.contains("\"K1\"") && found.contains("\"K2\""),
        "{found}"
    );

    // A revoked token: refused at once, in one line.
    ok(catalog(dir, "revoke-recorder", &["desk-1"]));
    noise_recording(&dir.join("K3.g2a"), "K3", 1);
    let o = upload(dir, addr, "K3.g2a").output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("refused") && err.contains("401"), "{err}");
    assert_eq!(err.trim().lines().count(), 2, "{err}");
    kill(&mut server);
}

/// An Xvfb server on a free display, killed on drop.
struct Xvfb(Child, String);

impl Xvfb {
    fn start() -> Option<Xvfb> {
        let Ok(mut server) = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-nolisten",
                "tcp",
                "-screen",
                "0",
                "640x480x24",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
        else {
            eprintln!("SKIP: Xvfb is not installed (apt-get install xvfb)");
            return None;
        };
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(server.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let display = format!(":{}", line.trim());
        Some(Xvfb(server, display))
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn search_json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&ok(catalog(dir, "search", &["--json"]))).unwrap()
}

#[test]
fn a_recording_is_live_on_the_server_while_it_is_made() {
    let Some(x) = Xvfb::start() else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    setup(dir);
    let addr = free_port();
    let mut server = serve(dir, addr);
    // Something that changes on screen and compresses badly: a terminal
    // printing random text, so the recording fills several 64 KiB files.
    let mut term = Command::new("xterm")
        .args([
            "-e",
            "sh",
            "-c",
            "while :; do head -c 3000 /dev/urandom | base64; done",
        ])
        .env("DISPLAY", &x.1)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut rec = g2a(dir)
        .args([
            "record",
            "-o",
            "R1.g2a",
            "--duration",
            "5",
            "--fps",
            "10",
            "--cap",
            "65536",
        ])
        .args([
            "--portal",
            "acme",
            "--team",
            "support",
            "--representative",
            "rep1",
        ])
        .args([
            "--upload",
            &format!("http://{addr}"),
            "--token-file",
            "desk-1.token",
        ])
        .env("DISPLAY", &x.1)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Half way, the session is in the catalog, live, growing.
    let t = Instant::now();
    let live = loop {
        let v = search_json(dir);
        if let Some(s) = v["sessions"].as_array().and_then(|a| a.first()).cloned() {
            break s;
        }
        if t.elapsed() > Duration::from_secs(30) || rec.try_wait().unwrap().is_some() {
            let o = rec.wait_with_output().unwrap();
            panic!(
                "no live session: {v}; g2a record said: {}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        (live["id"].as_str(), live["live"].as_bool()),
        (Some("R1"), Some(true))
    );
    let o = rec.wait_with_output().unwrap();
    let _ = term.kill();
    let _ = term.wait();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Continuation files were made and each was sent, in order.
    let mut files = vec![dir.join("R1.g2a")];
    for i in 1u32.. {
        let c = g2a_format::continuation_path(&files[0], i);
        if !c.exists() {
            break;
        }
        files.push(c);
    }
    assert!(files.len() >= 2, "no continuation file: {out}");
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        let stored = std::fs::read(dir.join("cat/recordings/R1").join(name)).unwrap();
        assert!(stored == std::fs::read(f).unwrap(), "{name} differs");
        assert!(out.contains(&format!("{name}: ")), "{out}");
        assert!(!dir.join(format!("{name}.upload")).exists());
    }
    let v = search_json(dir);
    assert_eq!(v["sessions"][0]["live"], false, "{v}");
    assert!(
        v["sessions"][0]["duration_micros"].as_i64().unwrap() >= 4_000_000,
        "{v}"
    );
    kill(&mut server);
}
