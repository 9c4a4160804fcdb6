//! Captures real programs on a private Xvfb server and checks every grab
//! against screenshots taken around it, and a recording of the grabs
//! against the grabs. Skipped (with a message) when Xvfb is not installed.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use g2a::{Player, QueueFull, Recorder, RecorderOptions};
use g2a_capture::{Capture, CaptureOptions, Target};
use g2a_core::{Rect, Size, Timestamp};
use g2a_format::SessionHeader;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt, ImageFormat};
use x11rb::rust_connection::RustConnection;

/// An Xvfb server on a free display, and the programs started on it;
/// all are killed on drop.
struct Xvfb {
    display: String,
    server: Child,
    clients: Vec<Child>,
}

impl Xvfb {
    /// Starts `Xvfb -displayfd` (it picks a free display number and tells
    /// it), or `None` when Xvfb is not installed.
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

    /// Starts an X program on the server; panics when it is missing
    /// (x11-apps and xterm are test dependencies, see .ci/install-deps).
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

    /// Runs xdotool to completion and returns its output.
    fn xdotool(&self, args: &[&str]) -> String {
        let out = Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &self.display)
            .output()
            .expect("xdotool");
        assert!(out.status.success(), "xdotool {args:?} failed");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Waits until the root window has `n` mapped children.
    fn wait_for_windows(&self, n: usize) {
        let (conn, screen) = x11rb::connect(Some(&self.display)).expect("connect");
        let root = conn.setup().roots[screen].root;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let tree = conn.query_tree(root).unwrap().reply().unwrap();
            let mapped = tree
                .children
                .iter()
                .filter(|w| {
                    conn.get_window_attributes(**w)
                        .unwrap()
                        .reply()
                        .is_ok_and(|a| a.map_state == x11rb::protocol::xproto::MapState::VIEWABLE)
                })
                .count();
            if mapped >= n {
                break;
            }
            assert!(Instant::now() < deadline, "the X programs did not show up");
            std::thread::sleep(Duration::from_millis(50));
        }
        // Let them draw their first contents.
        std::thread::sleep(Duration::from_millis(300));
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

/// Plain GetImage screenshots through a connection of their own.
struct Screenshots {
    conn: RustConnection,
    root: u32,
}

impl Screenshots {
    fn new(display: &str) -> Screenshots {
        let (conn, screen) = x11rb::connect(Some(display)).expect("connect");
        let root = conn.setup().roots[screen].root;
        Screenshots { conn, root }
    }

    /// The pixels of `r`, packed BGRX.
    fn take(&self, r: Rect) -> Vec<u8> {
        let reply = self
            .conn
            .get_image(
                ImageFormat::Z_PIXMAP,
                self.root,
                r.x as i16,
                r.y as i16,
                r.width as u16,
                r.height as u16,
                !0,
            )
            .unwrap()
            .reply()
            .unwrap();
        reply.data
    }
}

/// B, G, R of every pixel (the fourth byte is padding).
fn bgr(data: &[u8]) -> Vec<u8> {
    data.chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect()
}

const XTERM_LOOP: &str =
    "i=0; while true; do i=$((i+1)); echo \"line $i $(date +%N)\"; sleep 0.2; done";

#[test]
fn grabs_equal_screenshots_and_the_recording_equals_the_grabs() {
    let size = Size::new(800, 600);
    let Some(mut x) = Xvfb::start(size) else {
        return;
    };
    x.run(
        "xterm",
        &["-geometry", "60x20+10+10", "-e", "sh", "-c", XTERM_LOOP],
    );
    x.run("xclock", &["-update", "1", "-geometry", "150x150+500+50"]);
    x.wait_for_windows(2);

    let shots = Screenshots::new(&x.display);
    let mut cap = Capture::open(Some(&x.display), Target::Screen).unwrap();
    assert_eq!(cap.size(), size);
    let stats = cap.stats();
    assert!(stats.shm && stats.damage && stats.xfixes, "{stats:?}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("screen.g2a");
    let opts = RecorderOptions::default().queue(0, QueueFull::Block);
    let mut rec = Recorder::create(&path, SessionHeader::new("xvfb", size), opts).unwrap();

    let start = Instant::now();
    let mut pushed: Vec<(Timestamp, Vec<u8>)> = Vec::new();
    let (mut stable, mut partial, mut unchanged) = (0, 0, 0);
    for _ in 0..25 {
        std::thread::sleep(Duration::from_millis(100));
        let before = shots.take(Rect::of_size(size));
        let ts = Timestamp::from_micros(start.elapsed().as_micros() as u64);
        let grab = cap.grab().unwrap();
        let after = shots.take(Rect::of_size(size));
        let frame = grab.frame.data();
        if before == after {
            // The screen did not change during the grab: the grab, read
            // from damaged rectangles into the persistent frame, must be
            // exactly what the screen showed.
            stable += 1;
            assert!(
                bgr(frame) == bgr(&before),
                "grab {} differs from the screen",
                pushed.len()
            );
        }
        if grab.changed
            && grab
                .rects
                .iter()
                .all(|r| r.width < size.width || r.height < size.height)
        {
            partial += 1;
        }
        unchanged += usize::from(!grab.changed);
        rec.push_frame(ts, &grab.frame).unwrap();
        pushed.push((ts, frame.to_vec()));
    }
    rec.finish().unwrap();
    assert!(
        stable >= 5,
        "only {stable} of 25 grabs had a still screen around them"
    );
    assert!(
        partial >= 3,
        "damage never limited a read to part of the screen ({partial})"
    );
    let _ = unchanged; // xclock -update 1 and xterm at 5 lines/s leave few idle grabs

    // The file holds exactly the grabbed frames at their times.
    let mut player = Player::open(&path).unwrap();
    for (ts, data) in &pushed {
        let f = player.frame_at(*ts).unwrap();
        assert_eq!(f.ts, *ts);
        assert!(
            bgr(f.data) == bgr(data),
            "frame at {ts} differs from the grab"
        );
    }
}

#[test]
fn cursor_shapes_are_given_once_and_follow_the_pointer() {
    let Some(mut x) = Xvfb::start(Size::new(640, 480)) else {
        return;
    };
    x.run("xterm", &["-geometry", "40x10+200+200"]);
    x.wait_for_windows(1);
    let mut cap = Capture::open(
        Some(&x.display),
        Target::Region(Rect::new(100, 100, 400, 300)),
    )
    .unwrap();

    x.xdotool(&["mousemove", "--sync", "150", "120"]);
    let g = cap.grab().unwrap();
    let root_shape = g.new_shape.clone().expect("the first grab gives the shape");
    let pos = g.cursor.unwrap();
    assert_eq!((pos.x, pos.y, pos.shape), (50, 20, Some(root_shape.id)));
    assert_eq!(root_shape.pixels.len() as u64, root_shape.size.area() * 4);
    assert!(root_shape.pixels.chunks_exact(4).any(|p| p[3] == 255));

    // Into the xterm: its text cursor is a new shape.
    x.xdotool(&["mousemove", "--sync", "260", "230"]);
    std::thread::sleep(Duration::from_millis(100));
    let g = cap.grab().unwrap();
    let text_shape = g.new_shape.clone().expect("xterm's cursor is new");
    assert_ne!(text_shape.id, root_shape.id);
    let pos = g.cursor.unwrap();
    assert_eq!((pos.x, pos.y, pos.shape), (160, 130, Some(text_shape.id)));

    // Back out: the root cursor again, known, not given again.
    x.xdotool(&["mousemove", "--sync", "120", "110"]);
    std::thread::sleep(Duration::from_millis(100));
    let g = cap.grab().unwrap();
    assert!(g.new_shape.is_none());
    let pos = g.cursor.unwrap();
    assert_eq!((pos.x, pos.y, pos.shape), (20, 10, Some(root_shape.id)));
}

#[test]
fn windows_are_followed_and_fallbacks_agree() {
    let Some(mut x) = Xvfb::start(Size::new(640, 480)) else {
        return;
    };
    x.run("xclock", &["-geometry", "120x100+50+40", "-update", "1"]);
    x.wait_for_windows(1);
    let id = x.xdotool(&["search", "--sync", "--class", "XClock"]);
    let id = id.lines().next().unwrap();
    let target = Target::parse_window(id).unwrap();
    let shots = Screenshots::new(&x.display);

    let mut cap = Capture::open(Some(&x.display), target).unwrap();
    let mut plain = Capture::open_with(
        Some(&x.display),
        target,
        CaptureOptions::default().shm(false).damage(false),
    )
    .unwrap();
    assert!(!plain.stats().shm && !plain.stats().damage);
    // The window's inside is captured, within its border.
    let win: u32 = id.parse().unwrap();
    let b = u32::from(
        shots
            .conn
            .get_geometry(win)
            .unwrap()
            .reply()
            .unwrap()
            .border_width,
    );
    assert_eq!(cap.size(), Size::new(120, 100));
    let area = cap.area();
    assert_eq!((area.x, area.y), (50 + b, 40 + b));

    // Both paths see what the screen shows (retry when the clock ticks
    // in between).
    let mut agreed = false;
    for _ in 0..10 {
        let shot = shots.take(cap.area());
        let a = bgr(cap.grab().unwrap().frame.data());
        let b = bgr(plain.grab().unwrap().frame.data());
        if shots.take(cap.area()) == shot {
            assert!(a == bgr(&shot) && b == a);
            agreed = true;
            break;
        }
    }
    assert!(agreed, "the clock never stood still for a grab");

    x.xdotool(&["windowmove", "--sync", id, "300", "200"]);
    std::thread::sleep(Duration::from_millis(200));
    let g = cap.grab().unwrap();
    assert!(g.changed && !g.resized);
    assert_eq!((cap.area().x, cap.area().y), (300 + b, 200 + b));

    x.xdotool(&["windowsize", "--sync", id, "200", "150"]);
    std::thread::sleep(Duration::from_millis(200));
    let g = cap.grab().unwrap();
    assert!(g.resized);
    assert_eq!(g.frame.size(), Size::new(200, 150));

    // Beyond the screen: the part on screen.
    x.xdotool(&["windowmove", "--sync", id, "600", "400"]);
    std::thread::sleep(Duration::from_millis(200));
    let g = cap.grab().unwrap();
    assert_eq!(g.frame.size(), Size::new(40 - b, 80 - b));
}

#[test]
fn screen_size_changes_are_followed() {
    use x11rb::protocol::randr::ConnectionExt as _;
    let Some(mut x) = Xvfb::start(Size::new(800, 600)) else {
        return;
    };
    x.run("xclock", &["-geometry", "100x100+10+10", "-update", "1"]);
    x.wait_for_windows(1);
    let mut cap = Capture::open(Some(&x.display), Target::Screen).unwrap();
    assert_eq!(cap.grab().unwrap().frame.size(), Size::new(800, 600));

    // Shrink the screen as a RandR client (a display settings tool) does.
    let shots = Screenshots::new(&x.display);
    shots
        .conn
        .randr_query_version(1, 2)
        .unwrap()
        .reply()
        .unwrap();
    // Xvfb's CRTC shows the full size: turn it off, then shrink.
    let res = shots
        .conn
        .randr_get_screen_resources(shots.root)
        .unwrap()
        .reply()
        .unwrap();
    for crtc in &res.crtcs {
        shots
            .conn
            .randr_set_crtc_config(
                *crtc,
                res.timestamp,
                res.config_timestamp,
                0,
                0,
                0,
                x11rb::protocol::randr::Rotation::ROTATE0,
                &[],
            )
            .unwrap()
            .reply()
            .unwrap();
    }
    shots
        .conn
        .randr_set_screen_size(shots.root, 640, 480, 169, 127)
        .unwrap()
        .check()
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let small = Rect::new(0, 0, 640, 480);
    let before = shots.take(small);
    let g = cap.grab().unwrap();
    assert!(g.resized && g.changed);
    assert_eq!(g.frame.size(), Size::new(640, 480));
    let frame = bgr(g.frame.data());
    if shots.take(small) == before {
        assert!(
            frame == bgr(&before),
            "the resized grab differs from the screen"
        );
    }
}
