//! `g2a record` on a private Xvfb server with real programs: stops by
//! `--duration` and by SIGTERM, and leaves a finished recording that
//! `g2a verify` accepts, with frames, cursor records, chat and diagnostics.
//! Skipped (with a message) when Xvfb is not installed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use g2a::{CursorTrack, Player};
use g2a_core::{Size, Timestamp};
use g2a_format::{Record, SenderRole};

/// An Xvfb server on a free display and the programs started on it; all
/// are killed on drop.
struct Xvfb {
    display: String,
    server: Child,
    clients: Vec<Child>,
}

impl Xvfb {
    fn start(size: Size) -> Option<Xvfb> {
        let spawned = Command::new("Xvfb")
            .args(["-displayfd", "1", "-nolisten", "tcp", "-screen", "0"])
            .arg(format!("{}x{}x24", size.width, size.height))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let Ok(mut server) = spawned else {
            eprintln!("SKIP: Xvfb is not installed (apt-get install xvfb)");
            return None;
        };
        let mut line = String::new();
        let out = server.stdout.take().expect("stdout");
        BufReader::new(out)
            .read_line(&mut line)
            .expect("Xvfb display number");
        let n: u32 = line.trim().parse().expect("Xvfb printed a display number");
        Some(Xvfb {
            display: format!(":{n}"),
            server,
            clients: Vec::new(),
        })
    }

    fn run(&mut self, program: &str, args: &[&str]) {
        let child = Command::new(program)
            .args(args)
            .env("DISPLAY", &self.display)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        self.clients.push(child);
    }

    fn xdotool(&self, args: &[&str]) {
        let ok = Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &self.display)
            .status()
            .expect("xdotool")
            .success();
        assert!(ok, "xdotool {args:?} failed");
    }

    /// Waits until a window of `class` is mapped.
    fn wait_for(&self, class: &str) {
        let ok = Command::new("xdotool")
            .args(["search", "--sync", "--onlyvisible", "--class", class])
            .env("DISPLAY", &self.display)
            .stdout(Stdio::null())
            .status()
            .expect("xdotool")
            .success();
        assert!(ok, "no {class} window");
        std::thread::sleep(Duration::from_millis(200));
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        for c in &mut self.clients {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

fn g2a() -> Command {
    Command::new(env!("CARGO_BIN_EXE_g2a"))
}

/// Waits for `child` at most `limit`, killing it after that.
fn wait_output(child: Child, limit: Duration) -> Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.expect("g2a ran"),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("g2a record did not stop within {limit:?}");
        }
    }
}

fn verify(path: &Path) {
    let out = g2a().arg("verify").arg(path).output().unwrap();
    assert!(
        out.status.success(),
        "g2a verify refused the recording: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

const XTERM_LOOP: &str = "i=0; while true; do i=$((i+1)); echo \"line $i\"; sleep 0.1; done";

#[test]
fn record_for_a_duration_with_cursor_chat_and_diagnostics() {
    let size = Size::new(1024, 768);
    let Some(mut x) = Xvfb::start(size) else {
        return;
    };
    x.run(
        "xterm",
        &["-geometry", "80x24+20+20", "-e", "sh", "-c", XTERM_LOOP],
    );
    x.run("xclock", &["-update", "1", "-geometry", "+700+40"]);
    x.wait_for("XTerm");
    x.wait_for("XClock");

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rec.g2a");
    let chat = dir.path().join("chat.txt");
    std::fs::write(
        &chat,
        "00:00:00.5 customer Kim: the printer is offline\n\
         {\"time\": 1.5, \"role\": \"rep\", \"name\": \"Alex\", \"text\": \"let me look\"}\n\
         00:01:00 system g2a: after the end\n",
    )
    .unwrap();
    let diag = dir.path().join("system-info.json");
    std::fs::write(&diag, br#"{"os": "Debian 12", "ram_gib": 24}"#).unwrap();

    let child = g2a()
        .args([
            "record",
            "--display",
            &x.display,
            "--duration",
            "3",
            "--fps",
            "10",
        ])
        .arg("-o")
        .arg(&out)
        .arg("--chat")
        .arg(&chat)
        .arg("--diag")
        .arg(&diag)
        .args([
            "--session-id",
            "T-42",
            "--portal",
            "acme",
            "--customer",
            "Kim",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Move the pointer while it records: around the screen and into xterm.
    std::thread::sleep(Duration::from_millis(700));
    for (px, py) in [(600, 500), (100, 100), (900, 600)] {
        x.xdotool(&["mousemove", "--sync", &px.to_string(), &py.to_string()]);
        std::thread::sleep(Duration::from_millis(400));
    }
    let res = wait_output(child, Duration::from_secs(30));
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(
        res.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&res.stderr)
    );
    assert!(stdout.contains("stopped by --duration"), "{stdout}");
    assert!(stdout.contains("CPU "), "{stdout}");
    verify(&out);

    let mut player = Player::open(&out).unwrap();
    let h = player.header().clone();
    assert_eq!(
        (
            h.session_id.as_str(),
            h.portal.as_str(),
            h.customer.as_str()
        ),
        ("T-42", "acme", "Kim")
    );
    let d = player.duration();
    assert!(d >= Timestamp::from_millis(2_500), "duration {d}");
    let (mut chats, mut diags) = (Vec::new(), Vec::new());
    for r in player.records() {
        match r {
            Record::Chat { ts, role, text, .. } => chats.push((ts, role, text.to_owned())),
            Record::Diagnostic { name, .. } => diags.push(name.to_owned()),
            _ => {}
        }
    }
    assert_eq!(diags, ["system-info.json"]);
    assert_eq!(chats.len(), 3, "{chats:?}");
    assert_eq!(
        chats[0],
        (
            Timestamp::from_millis(500),
            SenderRole::Customer,
            "the printer is offline".to_owned()
        )
    );
    assert_eq!(chats[2].0, Timestamp::from_secs(60));

    // The pointer positions the test set are in the cursor track, with
    // their shapes.
    let cursor = CursorTrack::load(player.set());
    assert!(cursor.len() >= 3, "{} cursor records", cursor.len());
    let last = cursor.at(d).expect("a cursor at the end");
    assert_eq!((last.x, last.y), (900, 600));
    assert!(last.image.is_some(), "the cursor shape is recorded");

    // Frames: the first is the full screen, the last is on screen at the end.
    let first = player.frame_at(Timestamp::ZERO).unwrap();
    assert_eq!(first.size, size);
    let codec = player.codec_stats();
    assert!(codec.frames() >= 5, "{codec:?}");
}

#[test]
fn sigterm_finishes_the_recording() {
    let Some(mut x) = Xvfb::start(Size::new(640, 480)) else {
        return;
    };
    x.run(
        "xterm",
        &["-geometry", "60x20+10+10", "-e", "sh", "-c", XTERM_LOOP],
    );
    x.wait_for("XTerm");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("term.g2a");
    let child = g2a()
        .args(["record", "--display", &x.display, "--region", "320x200+0+0"])
        .arg("-o")
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(1500));
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let res = wait_output(child, Duration::from_secs(20));
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(
        res.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&res.stderr)
    );
    assert!(stdout.contains("stopped by a signal"), "{stdout}");
    verify(&out);
    let mut player = Player::open(&out).unwrap();
    assert!(player.duration() <= Timestamp::from_micros(started.elapsed().as_micros() as u64));
    let f = player.frame_at(Timestamp::ZERO).unwrap();
    assert_eq!(f.size, Size::new(320, 200));
    // Without --session-id the id is the file name, as the help says.
    assert_eq!(player.header().session_id, "term");
}

#[test]
fn bad_targets_and_inputs_are_refused_before_recording() {
    let Some(x) = Xvfb::start(Size::new(320, 240)) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.g2a");
    let run = |extra: &[&str]| {
        let o = g2a()
            .args(["record", "--display", &x.display, "--duration", "1", "-o"])
            .arg(&out)
            .args(extra)
            .output()
            .unwrap();
        assert!(!o.status.success(), "{extra:?} was accepted");
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let e = run(&["--region", "400x100+0+0"]);
    assert!(e.contains("not within the 320x240 screen"), "{e}");
    let e = run(&["--window", "0x7fffff"]);
    assert!(e.contains("window 0x7fffff"), "{e}");
    let e = run(&["--fps", "0"]);
    assert!(e.contains("--fps 0 is out of range"), "{e}");
    let e = run(&["--chat", "/nonexistent/chat.txt"]);
    assert!(e.contains("cannot read /nonexistent/chat.txt"), "{e}");
    assert!(!out.exists(), "nothing is written for refused options");
}
