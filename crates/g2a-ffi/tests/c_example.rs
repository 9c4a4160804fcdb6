//! Builds `examples/c/record_example.c` with gcc against the static library
//! of the current build, runs it, and checks its recording: intact (as
//! `g2a verify` checks), the session metadata, every frame decoded equal to
//! what the C program drew, and the chat, diagnostics, event and cursor
//! records; then links it against the shared library and checks it prints
//! the same. Skipped, with a message, when gcc is missing.
//!
//! `cargo test` does not produce the crate's `staticlib` (the crate has no
//! `rlib` for tests to link), so the test runs `cargo build -p g2a-ffi
//! --lib` for the same target directory and profile first; cargo has
//! released its build lock by the time tests run.

use std::path::{Path, PathBuf};
use std::process::Command;

use g2a_format::{EventKind, MediaType, Reader, Record, SenderRole};
use g2a_rs::Player;

const WIDTH: u32 = 320;
const HEIGHT: u32 = 240;
const FRAMES: u32 = 60;

/// `mix` of record_example.c.
fn mix(a: u32, b: u32, c: u32, d: u32) -> u32 {
    let mut h = a.wrapping_mul(0x9E37_79B1)
        ^ b.wrapping_mul(0x85EB_CA77)
        ^ c.wrapping_mul(0xC2B2_AE3D)
        ^ d.wrapping_mul(0x27D4_EB2F);
    h ^= h >> 15;
    h = h.wrapping_mul(0x2C1B_3C6D);
    h ^= h >> 12;
    h
}

/// The B, G, R of pixel (x, y) of frame `i`, as `draw_frame` in
/// record_example.c draws it.
fn pixel(i: u32, x: u32, y: u32) -> [u8; 3] {
    let rx = (i * 5) % (WIDTH - 40);
    let ry = 40 + (i * 3) % (HEIGHT - 70);
    let mut bgr = [(200 + y % 32) as u8, 220, (230 + x % 16) as u8];
    let (line, ly) = (y / 12, y % 12);
    if ly < 8 && (8..WIDTH - 8).contains(&x) {
        let (glyph, gx) = ((x - 8) / 6, (x - 8) % 6);
        let typed = line * 52 + glyph < i * 8;
        let space = mix(line, glyph, 0, 0) % 7 == 0;
        if typed && !space && gx < 5 && mix(line, glyph, ly, gx) & 1 == 1 {
            bgr = [20, 20, 20];
        }
    }
    if (rx..rx + 40).contains(&x) && (ry..ry + 30).contains(&y) {
        bgr = [200, 80, 30];
    }
    bgr
}

fn gcc_available() -> bool {
    Command::new("gcc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Builds the library (`libg2a.a` and `libg2a.so`) for this test's target
/// directory and profile; returns the path of `libg2a.a`.
fn build_staticlib() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // <target>/<profile>/deps/c_example-HASH
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let target_dir = profile_dir.parent().unwrap();
    let profile = match profile_dir.file_name().unwrap().to_str().unwrap() {
        "debug" => "dev".to_owned(),
        other => other.to_owned(),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "-p", "g2a-ffi", "--lib", "--profile", &profile])
        .arg("--target-dir")
        .arg(target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(status.success(), "cargo build -p g2a-ffi failed");
    let lib = profile_dir.join("libg2a.a");
    assert!(lib.is_file(), "{} was not built", lib.display());
    lib
}

/// Compiles the example; `link` are the linker arguments for the library.
fn compile_example(link: &[&std::ffi::OsStr], out: &Path) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("gcc")
        .args([
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-O1",
        ])
        .arg("-I")
        .arg(dir.join("include"))
        .arg(dir.join("examples/c/record_example.c"))
        .args(link)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "gcc failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn c_example_records_a_verifiable_session() {
    if !gcc_available() {
        eprintln!("SKIP c_example_records_a_verifiable_session: gcc not found");
        return;
    }
    let lib = build_staticlib();
    let tmp = tempfile::tempdir().unwrap();
    let exe = tmp.path().join("record_example");
    compile_example(
        &[
            lib.as_os_str(),
            "-lpthread".as_ref(),
            "-ldl".as_ref(),
            "-lm".as_ref(),
        ],
        &exe,
    );

    let rec_path = tmp.path().join("example.g2a");
    let run = Command::new(&exe).arg(&rec_path).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "record_example failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("g2a 0.1.0"), "{stdout}");
    assert!(
        stdout.contains("expected error -5: Chat timestamp went backwards"),
        "{stdout}"
    );
    assert!(
        stdout.contains("pushed=60 frames=60 dropped=0 "),
        "{stdout}"
    );

    // What `g2a verify` checks: every byte in a valid record, valid trailer.
    let reader = Reader::open(&rec_path).unwrap();
    let report = reader.verify();
    assert!(report.is_intact(), "{report:?}");
    let h = reader.header();
    assert_eq!(h.session_id, "C-EXAMPLE-1");
    assert_eq!(h.portal, "support.example.com");
    assert_eq!(h.team, "Tier 1");
    assert_eq!(h.representative, "Ada");
    assert_eq!(h.customer, "Kim");
    assert_eq!(h.recorder_name, "record_example");
    assert_eq!(h.start_time_unix_micros, 1_700_000_000_000_000);
    assert_eq!(
        h.metadata,
        vec![
            ("ticket".to_owned(), "T-4711".to_owned()),
            ("client".to_owned(), "record_example.c".to_owned()),
        ]
    );

    let (mut chats, mut diags, mut events, mut cursors, mut shapes) =
        (Vec::new(), 0, Vec::new(), 0, 0);
    for r in reader.records() {
        match r {
            Record::Chat {
                ts,
                role,
                sender,
                text,
            } => chats.push((ts.as_micros(), role, sender.to_owned(), text.to_owned())),
            Record::Diagnostic {
                ts,
                name,
                media_type,
                data,
            } => {
                assert_eq!((ts.as_micros(), name), (3_000_000, "sysinfo.json"));
                assert_eq!(media_type, MediaType::Json);
                assert_eq!(data, br#"{"os":"Debian 12","printers":["HP-1"]}"#);
                diags += 1;
            }
            Record::Event { ts, kind, detail } => {
                events.push((ts.as_micros(), kind, detail.to_owned()));
            }
            Record::CursorPosition { shape, .. } => {
                assert_eq!(shape, Some(1));
                cursors += 1;
            }
            Record::CursorShape { id, size, .. } => {
                assert_eq!((id, size.width, size.height), (1, 8, 8));
                shapes += 1;
            }
            _ => {}
        }
    }
    assert_eq!(
        chats,
        vec![
            (
                1_000_000,
                SenderRole::Customer,
                "Kim".to_owned(),
                "Hello, my printer says \u{201c}offline\u{201d}.".to_owned()
            ),
            (
                3_000_000,
                SenderRole::Representative,
                "Ada".to_owned(),
                "Thanks, I see it. Restarting the spooler.".to_owned()
            ),
        ]
    );
    assert_eq!(diags, 1);
    assert_eq!(
        events,
        vec![(2_000_000, EventKind::RemoteControlGranted, "Ada".to_owned())]
    );
    assert_eq!((cursors, shapes), (FRAMES, 1));

    // Every frame decodes to exactly what the C program drew.
    let mut player = Player::open(&rec_path).unwrap();
    let mut n = 0u32;
    while let Some(f) = player.next_frame().unwrap() {
        assert_eq!(f.ts.as_micros(), u64::from(n) * 100_000);
        assert_eq!((f.size.width, f.size.height), (WIDTH, HEIGHT));
        for y in 0..HEIGHT {
            for x in 0..WIDTH {
                let o = ((y * WIDTH + x) * 4) as usize;
                assert_eq!(
                    f.data[o..o + 3],
                    pixel(n, x, y),
                    "frame {n}, pixel ({x}, {y})"
                );
            }
        }
        n += 1;
    }
    assert_eq!(n, FRAMES);

    // The same program linked against the shared library records the same.
    let lib_dir = lib.parent().unwrap();
    let shared_exe = tmp.path().join("record_example_shared");
    let mut search = std::ffi::OsString::from("-L");
    search.push(lib_dir);
    compile_example(&[search.as_os_str(), "-lg2a".as_ref()], &shared_exe);
    let shared_path = tmp.path().join("shared.g2a");
    let run = Command::new(&shared_exe)
        .arg(&shared_path)
        .env("LD_LIBRARY_PATH", lib_dir)
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    assert_eq!(String::from_utf8_lossy(&run.stdout), stdout);
    assert!(Reader::open(&shared_path).unwrap().verify().is_intact());
}
