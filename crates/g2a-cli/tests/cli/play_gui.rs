//! `g2a play` driven as a user would: under Xvfb, with xdotool keys and
//! mouse, checked on screenshots (`xwd -root`, parsed here) against the
//! Player's own decoded frames.
//!
//! Skips (with a message) when Xvfb, xdotool or xwd is missing. Set
//! `G2A_PLAY_SCREENSHOT=path.png` to keep a screenshot of the window (the
//! one in docs/play.png was made so).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use g2a::{Player, Recorder, RecorderOptions, SyncPolicy, WriterOptions};
use g2a_core::{FrameRef, PixelFormat, Size, Timestamp};
use g2a_format::{EventKind, MediaType, SenderRole, SessionHeader};

const SIZE: Size = Size::new(960, 540);
const WINDOW: (u32, u32) = (1400, 900);

/// Kills a child process when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

/// Starts Xvfb on a display it chooses itself (`-displayfd`: no race with
/// other tests looking for a free display at the same time).
fn start_xvfb() -> Option<(Guard, String)> {
    let mut child = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1600x1000x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let out = child.stdout.take()?;
    let guard = Guard(child);
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(out).read_line(&mut line);
        let _ = tx.send(line);
    });
    let n: u32 = rx
        .recv_timeout(Duration::from_secs(10))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some((guard, format!(":{n}")))
}

/// The sample: the desktop clip of testdata (40 frames, 100 ms apart) with
/// chat, events and a diagnostic.
fn record(dir: &Path) -> PathBuf {
    let frames = clip_frames();
    let path = dir.join("gui.g2a");
    let header = SessionHeader::new("GUI-0001", SIZE)
        .with_representative("Ann Agent")
        .with_customer("Kim Customer");
    let mut rec = Recorder::create(&path, header, RecorderOptions::default()).unwrap();
    for (i, f) in frames.iter().enumerate() {
        let t = Timestamp::from_millis(i as u64 * 100);
        match i {
            1 => rec
                .push_event(t, EventKind::ParticipantJoined, "Kim Customer")
                .unwrap(),
            5 => rec
                .push_chat(
                    t,
                    SenderRole::Customer,
                    "Kim Customer",
                    "The window is stuck.",
                )
                .unwrap(),
            12 => rec
                .push_diagnostic(
                    t,
                    "system-info.json",
                    MediaType::Json,
                    br#"{"os":"Debian 12"}"#,
                )
                .unwrap(),
            25 => rec
                .push_chat(
                    t,
                    SenderRole::Representative,
                    "Ann Agent",
                    "Dragging it now.",
                )
                .unwrap(),
            _ => {}
        }
        rec.push_frame(t, &FrameRef::packed(f, SIZE, PixelFormat::Bgra8).unwrap())
            .unwrap();
    }
    rec.finish().unwrap();
    path
}

/// A screenshot: RGB rows.
struct Shot {
    w: usize,
    h: usize,
    rgb: Vec<u8>,
}

impl Shot {
    fn px(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.w + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }
}

/// Parses an XWD dump (X11 `XWDFileHeader`, ZPixmap, 24 or 32 bits per
/// pixel: Xvfb's depth-24 screen dumps as packed 24-bit pixels).
fn parse_xwd(b: &[u8]) -> Shot {
    let f = |i: usize| u32::from_be_bytes(b[i * 4..i * 4 + 4].try_into().unwrap()) as usize;
    let (header_size, format, w, h) = (f(0), f(2), f(4), f(5));
    let (byte_order, bpp, bpl) = (f(7), f(11), f(12));
    let (rm, gm, bm, ncolors) = (f(14) as u32, f(15) as u32, f(16) as u32, f(19));
    assert!(
        format == 2 && (bpp == 24 || bpp == 32),
        "expected a 24/32-bit ZPixmap dump"
    );
    let bytes = bpp / 8;
    let data = &b[header_size + ncolors * 12..];
    assert!(
        data.len() >= h * bpl && bpl >= w * bytes,
        "truncated xwd dump"
    );
    let chan = |p: u32, m: u32| ((p & m) >> m.trailing_zeros()) as u8;
    let mut rgb = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let q = &data[y * bpl + x * bytes..y * bpl + (x + 1) * bytes];
            let p = if byte_order == 0 {
                q.iter().rev().fold(0u32, |a, &v| a << 8 | u32::from(v))
            } else {
                q.iter().fold(0u32, |a, &v| a << 8 | u32::from(v))
            };
            rgb.extend([chan(p, rm), chan(p, gm), chan(p, bm)]);
        }
    }
    Shot { w, h, rgb }
}

fn screenshot(display: &str) -> Shot {
    let out = Command::new("xwd")
        .args(["-root", "-silent", "-display", display])
        .output()
        .unwrap();
    assert!(out.status.success(), "xwd failed");
    parse_xwd(&out.stdout)
}

fn xdotool(display: &str, args: &[&str]) {
    let ok = Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .status()
        .unwrap()
        .success();
    assert!(ok, "xdotool {args:?} failed");
}

/// A `shown ts=… rect=x,y,w,h` trace line.
#[derive(Debug, Clone, Copy)]
struct Shown {
    ts: Timestamp,
    rect: (usize, usize, usize, usize),
    timeline: (usize, usize, usize, usize),
    chat0: (usize, usize, usize, usize),
}

fn parse_shown(line: &str) -> Option<Shown> {
    let quad = |v: &str| {
        let n: Vec<usize> = v
            .split(',')
            .filter_map(|s| s.parse::<f32>().ok())
            .map(|f| f as usize)
            .collect();
        (n.len() == 4).then(|| (n[0], n[1], n[2], n[3]))
    };
    let (mut ts, mut rect, mut timeline, mut chat0) = (None, None, None, None);
    for word in line.strip_prefix("shown ")?.split_whitespace() {
        if let Some(v) = word.strip_prefix("ts=") {
            ts = v.parse().ok().map(Timestamp::from_micros);
        } else if let Some(v) = word.strip_prefix("rect=") {
            rect = quad(v);
        } else if let Some(v) = word.strip_prefix("timeline=") {
            timeline = quad(v);
        } else if let Some(v) = word.strip_prefix("chat0=") {
            chat0 = quad(v);
        }
    }
    Some(Shown {
        ts: ts?,
        rect: rect?,
        timeline: timeline?,
        chat0: chat0?,
    })
}

/// Waits for a frame shown at `want` (any frame when `None`), then for the
/// window to settle (no new frame for 300 ms).
fn wait_shown(rx: &Receiver<String>, want: Option<Timestamp>) -> Shown {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut found = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let wait = if found.is_some() {
            Duration::from_millis(300)
        } else {
            left
        };
        match rx.recv_timeout(wait) {
            Ok(line) => {
                if let Some(s) = parse_shown(&line) {
                    if want.is_none_or(|w| s.ts == w) {
                        found = Some(s);
                    } else if found.is_some() {
                        found = None;
                    }
                }
            }
            Err(_) => match found {
                Some(s) => return s,
                None => panic!("no frame at {want:?} shown in time"),
            },
        }
        assert!(
            Instant::now() < deadline,
            "no frame at {want:?} shown in time"
        );
    }
}

/// Fraction of the frame's pixels shown on screen (within 3 per channel).
fn match_fraction(shot: &Shot, at: Shown, frame: &[u8]) -> f64 {
    let (x0, y0, w, h) = at.rect;
    assert_eq!(
        (w, h),
        (SIZE.width as usize, SIZE.height as usize),
        "not at 1:1"
    );
    assert!(
        x0 + w <= shot.w && y0 + h <= shot.h,
        "video outside the screen"
    );
    let mut good = 0usize;
    for y in 0..h {
        for x in 0..w {
            let s = shot.px(x0 + x, y0 + y);
            let i = (y * w + x) * 4;
            let want = [frame[i + 2], frame[i + 1], frame[i]];
            if s.iter().zip(want).all(|(a, b)| a.abs_diff(b) <= 3) {
                good += 1;
            }
        }
    }
    good as f64 / (w * h) as f64
}

/// Distinct colours in a region (text and widgets give many).
fn colours(shot: &Shot, x0: usize, y0: usize, x1: usize, y1: usize) -> usize {
    let mut set = std::collections::HashSet::new();
    for y in y0..y1.min(shot.h) {
        for x in x0..x1.min(shot.w) {
            set.insert(shot.px(x, y));
        }
    }
    set.len()
}

fn save_png(shot: &Shot, path: &Path) {
    let (w, h) = (WINDOW.0 as usize, WINDOW.1 as usize);
    let mut rgb = Vec::new();
    for y in 0..h {
        rgb.extend_from_slice(&shot.rgb[y * shot.w * 3..(y * shot.w + w) * 3]);
    }
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut enc = png::Encoder::new(file, w as u32, h as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::High);
    enc.write_header().unwrap().write_image_data(&rgb).unwrap();
}

/// Xvfb on a free display, or `None` (with a message) when the tools are
/// missing.
fn display_or_skip() -> Option<(Guard, String)> {
    for tool in ["Xvfb", "xdotool", "xwd"] {
        if !have(tool) {
            eprintln!(
                "skipping the replay window test: {tool} is not installed (.ci/install-deps installs it)"
            );
            return None;
        }
    }
    let x = start_xvfb();
    if x.is_none() {
        eprintln!("skipping the replay window test: Xvfb did not start");
    }
    x
}

/// Starts `g2a play FILE --trace EXTRA…`; its stderr lines arrive on the
/// receiver.
fn start_app(display: &str, file: &Path, extra: &[&str]) -> (Guard, Receiver<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_g2a"));
    cmd.arg("play")
        .arg(file)
        .args(["--trace", "--window", "1400x900"])
        .args(extra);
    spawn_traced(cmd, display)
}

/// Starts `cmd` (a `g2a` command that opens the window with `--trace`) on
/// `display`; its stderr lines arrive on the receiver and are echoed, but
/// for the per-frame `shown` lines.
fn spawn_traced(mut cmd: Command, display: &str) -> (Guard, Receiver<String>) {
    let mut app = cmd
        .env("DISPLAY", display)
        .env_remove("WAYLAND_DISPLAY")
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = app.stderr.take().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !line.starts_with("shown ") {
                eprintln!("g2a play: {line}");
            }
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (Guard(app), rx)
}

/// Waits (up to a minute: software GL on a loaded machine is slow to
/// start) for the window named "g2a play"; fails at once, with its exit
/// status, if the app ends first.
fn wait_window(display: &str, app: &mut Guard) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let found = Command::new("xdotool")
            .args(["search", "--name", "^g2a play$"])
            .env("DISPLAY", display)
            .output()
            .unwrap();
        if !found.stdout.is_empty() {
            return;
        }
        if let Ok(Some(status)) = app.0.try_wait() {
            panic!("g2a play ended ({status}) before its window appeared (its stderr is above)");
        }
        assert!(Instant::now() < deadline, "no window after 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Gives the window named "g2a play" the keyboard focus (there is no
/// window manager to do it).
fn focus(display: &str) {
    let id = Command::new("xdotool")
        .args(["search", "--name", "^g2a play$"])
        .env("DISPLAY", display)
        .output()
        .unwrap();
    let id = String::from_utf8_lossy(&id.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    assert!(!id.is_empty(), "no window named g2a play");
    xdotool(display, &["windowfocus", "--sync", &id]);
}

/// The frames of the desktop clip of testdata.
fn clip_frames() -> Vec<Vec<u8>> {
    let clip =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/desktop-960x540-40f.bgra.zst");
    let raw = zstd::decode_all(std::fs::File::open(clip).unwrap()).unwrap();
    raw.chunks_exact(SIZE.area() as usize * 4)
        .map(<[u8]>::to_vec)
        .collect()
}

#[test]
fn replay_window_follows_a_recording_being_written() {
    let Some((_xvfb, display)) = display_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("live.g2a");
    let frames = clip_frames();
    let opts =
        RecorderOptions::default().writer(WriterOptions::default().sync(SyncPolicy::EveryRecord));
    let mut rec = Recorder::create(&file, SessionHeader::new("LIVE-1", SIZE), opts).unwrap();
    let ms = Timestamp::from_millis;
    let push = |rec: &mut Recorder, range: std::ops::Range<usize>| {
        for i in range {
            let f = FrameRef::packed(&frames[i], SIZE, PixelFormat::Bgra8).unwrap();
            rec.push_frame(ms(i as u64 * 100), &f).unwrap();
        }
    };
    push(&mut rec, 0..10);
    let (_app, rx) = start_app(&display, &file, &["--follow", "--1to1", "--no-cursor"]);
    // Opens at the live edge, and stays there as frames arrive.
    wait_shown(&rx, Some(ms(900)));
    push(&mut rec, 10..20);
    let live = wait_shown(&rx, Some(ms(1_900)));
    let mut player = Player::open(&file).unwrap();
    let m = match_fraction(
        &screenshot(&display),
        live,
        player.frame_at(live.ts).unwrap().data,
    );
    assert!(m > 0.995, "live frame: only {:.2}% match", m * 100.0);
    // Scrubbing back leaves the live edge: new frames do not move it.
    focus(&display);
    xdotool(&display, &["key", "Home"]);
    wait_shown(&rx, Some(Timestamp::ZERO));
    push(&mut rec, 20..30);
    std::thread::sleep(Duration::from_millis(1_200));
    while let Ok(line) = rx.try_recv() {
        if let Some(s) = parse_shown(&line) {
            assert_eq!(s.ts, Timestamp::ZERO, "left the position the user chose");
        }
    }
    // End returns to the live edge.
    xdotool(&display, &["key", "End"]);
    wait_shown(&rx, Some(ms(2_900)));
    rec.finish().unwrap();
}

#[test]
fn replay_window_shows_the_right_frames_and_panes() {
    let Some((_xvfb, display)) = display_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = record(dir.path());
    let mut player = Player::open(&file).unwrap();
    let (_app, rx) = start_app(&display, &file, &["--1to1", "--no-cursor"]);

    // 1. The first frame, at 1:1, pixel for pixel.
    let first = wait_shown(&rx, Some(Timestamp::ZERO));
    let shot = screenshot(&display);
    let want = player.frame_at(first.ts).unwrap().data.to_vec();
    let m = match_fraction(&shot, first, &want);
    assert!(
        m > 0.995,
        "first frame: only {:.2}% of pixels match",
        m * 100.0
    );
    // Header (top), panes (right of the video), timeline (bottom) are drawn:
    // text makes many colours where a blank panel has one or two.
    let (x, y, w, h) = first.rect;
    assert!(
        colours(&shot, 0, 0, WINDOW.0 as usize, y.min(60)) > 20,
        "no header"
    );
    let (cx, cy, cw, ch) = first.chat0;
    assert!(
        cx >= x + w && cw > 50 && ch > 5,
        "no chat row drawn beside the video: {:?}",
        first.chat0
    );
    assert!(
        colours(&shot, cx, cy, cx + cw, cy + 2 * ch) > 20,
        "the chat rows are blank"
    );
    assert!(
        colours(&shot, 0, y + h + 10, WINDOW.0 as usize, WINDOW.1 as usize) > 20,
        "no timeline"
    );

    // 2. Keys: next chat message, frame steps, play/pause.
    focus(&display);
    xdotool(
        &display,
        &["mousemove", &(x + 50).to_string(), &(y + 50).to_string()],
    );
    xdotool(&display, &["key", "c"]);
    let chat = wait_shown(&rx, Some(Timestamp::from_millis(500)));
    let m = match_fraction(
        &screenshot(&display),
        chat,
        player.frame_at(chat.ts).unwrap().data,
    );
    assert!(
        m > 0.995,
        "frame at the chat message: only {:.2}% match",
        m * 100.0
    );
    xdotool(&display, &["key", "c"]);
    wait_shown(&rx, Some(Timestamp::from_millis(2500)));
    xdotool(&display, &["key", "Right"]);
    wait_shown(&rx, Some(Timestamp::from_millis(2600)));
    xdotool(&display, &["key", "Left", "Left"]);
    let back = wait_shown(&rx, Some(Timestamp::from_millis(2400)));
    let m = match_fraction(
        &screenshot(&display),
        back,
        player.frame_at(back.ts).unwrap().data,
    );
    assert!(
        m > 0.995,
        "frame after stepping back: only {:.2}% match",
        m * 100.0
    );
    xdotool(&display, &["key", "space"]);
    std::thread::sleep(Duration::from_millis(600));
    xdotool(&display, &["key", "space"]);
    let played = wait_shown(&rx, None);
    assert!(
        played.ts > back.ts,
        "space did not play: still at {}",
        played.ts
    );

    // 3. Clicking the chat pane's first message seeks to it.
    let (cx, cy) = ((cx + cw / 2).to_string(), (cy + ch / 2).to_string());
    xdotool(&display, &["mousemove", &cx, &cy, "click", "1"]);
    let clicked = wait_shown(&rx, Some(Timestamp::from_millis(500)));
    let shot = screenshot(&display);
    let m = match_fraction(&shot, clicked, player.frame_at(clicked.ts).unwrap().data);
    assert!(
        m > 0.995,
        "frame after the chat click: only {:.2}% match",
        m * 100.0
    );

    if let Some(path) = std::env::var_os("G2A_PLAY_SCREENSHOT") {
        save_png(&shot, Path::new(&path));
    }

    // 4. Scrub: a click in the middle of the timeline (3.9 s long) shows
    // the frame at 1.9 s; a click near its start, the first frame.
    let (tx0, ty0, tw, th) = clicked.timeline;
    assert!(
        tw > 100 && th > 10,
        "no timeline drawn: {:?}",
        clicked.timeline
    );
    let (mx, my) = ((tx0 + tw / 2).to_string(), (ty0 + th / 2).to_string());
    xdotool(&display, &["mousemove", &mx, &my, "click", "1"]);
    let mid = wait_shown(&rx, Some(Timestamp::from_millis(1900)));
    let m = match_fraction(
        &screenshot(&display),
        mid,
        player.frame_at(mid.ts).unwrap().data,
    );
    assert!(
        m > 0.995,
        "frame after scrubbing: only {:.2}% match",
        m * 100.0
    );
    xdotool(
        &display,
        &["mousemove", &(tx0 + 1).to_string(), &my, "click", "1"],
    );
    wait_shown(&rx, Some(Timestamp::ZERO));
}

/// Runs `g2a ARGS` in `dir` as the catalog's company manager.
fn g2a_ok(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_g2a"))
        .args(args)
        .current_dir(dir)
        .env("G2A_PASSWORD", "boss-Vq8#Lw2!pZ")
        .env_remove("G2A_PASSPHRASE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "g2a {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn catalog_play_asks_for_the_passphrase_of_an_encrypted_recording() {
    let Some((_xvfb, display)) = display_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let frames = clip_frames();
    std::fs::write(d.join("clip.bgra"), frames[..10].concat()).unwrap();
    std::fs::write(d.join("pp"), "the right passphrase is plum42\n").unwrap();
    let cat = ["--catalog", "cat", "--as", "boss"];
    fn with<'a>(sub: &[&'a str], cat: &[&'a str]) -> Vec<&'a str> {
        [&["catalog"], sub, cat].concat()
    }
    g2a_ok(d, &with(&["create", "--insecure-fast-kdf"], &cat));
    g2a_ok(d, &with(&["add-portal", "support"], &cat));
    g2a_ok(d, &with(&["add-team", "t1"], &cat));
    g2a_ok(d, &with(&["assign-team", "t1", "support"], &cat));
    g2a_ok(d, &with(&["add-rep", "ann", "--team", "t1"], &cat));
    g2a_ok(
        d,
        &with(
            &["set-passphrase", "support", "--passphrase-file", "pp"],
            &cat,
        ),
    );
    let recipient = g2a_ok(d, &with(&["recipient", "support"], &cat));
    g2a_ok(
        d,
        &[
            "import",
            "--raw",
            "960x540",
            "--fps",
            "10",
            "clip.bgra",
            "-o",
            "enc.g2a",
            "--session-id",
            "ENC-1",
            "--portal",
            "support",
            "--team",
            "t1",
            "--representative",
            "ann",
            "--encrypt-to",
            recipient.trim(),
        ],
    );
    g2a_ok(d, &with(&["import", "enc.g2a"], &cat));

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_g2a"));
    cmd.args(with(&["play", "ENC-1"], &cat))
        .args(["--trace", "--window", "1400x900", "--1to1", "--seek", "0.5"])
        .current_dir(d)
        .env("G2A_PASSWORD", "boss-Vq8#Lw2!pZ")
        .env_remove("G2A_PASSPHRASE");
    let (mut app, rx) = spawn_traced(cmd, &display);
    // Wait for the window (the passphrase prompt), then type a wrong one.
    wait_window(&display, &mut app);
    std::thread::sleep(Duration::from_millis(500));
    focus(&display);
    xdotool(&display, &["type", "--delay", "20", "not it"]);
    xdotool(&display, &["key", "Return"]);
    let refused = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("no answer to the wrong passphrase");
        assert!(
            !line.starts_with("shown "),
            "a wrong passphrase showed a frame"
        );
        if line.starts_with("unlock refused: ") {
            break line;
        }
    };
    assert!(
        refused.contains("wrong session replay passphrase"),
        "{refused}"
    );
    // The right one opens it at the requested time, with the right pixels.
    xdotool(
        &display,
        &["type", "--delay", "20", "the right passphrase is plum42"],
    );
    xdotool(&display, &["key", "Return"]);
    let shown = wait_shown(&rx, Some(Timestamp::from_millis(500)));
    let m = match_fraction(&screenshot(&display), shown, &frames[5]);
    assert!(m > 0.995, "decrypted frame: only {:.2}% match", m * 100.0);
    // Both attempts are in the audit log.
    let audit = g2a_ok(d, &with(&["audit"], &cat));
    assert!(audit.contains("wrong session replay passphrase"), "{audit}");
    assert!(
        audit
            .lines()
            .any(|l| l.contains("boss replay ENC-1 allowed")),
        "{audit}"
    );
}
