//! The video commands run as a user would: import, decode, frame, info, demo.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const W: usize = 960;
const H: usize = 540;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_g2a")
}

fn g2a(args: &[&str]) -> Output {
    Command::new(bin()).args(args).output().expect("run g2a")
}

fn sample() -> Vec<u8> {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/desktop-960x540-40f.bgra.zst");
    zstd::decode_all(std::fs::File::open(p).unwrap()).unwrap()
}

/// `g2a import --raw` fed through standard input, as from an ffmpeg pipe.
fn import_stdin(raw: &[u8], out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "import",
        "--raw",
        "960x540",
        "--fps",
        "10",
        "-",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let mut child = Command::new(bin())
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = raw.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    out
}

fn tmp(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

fn rgb_equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && a.chunks_exact(4)
            .zip(b.chunks_exact(4))
            .all(|(p, q)| p[..3] == q[..3])
}

#[test]
fn import_then_decode_is_lossless() {
    let raw = sample();
    let dir = tempfile::tempdir().unwrap();
    let rec = tmp(&dir, "clip.g2a");
    let o = import_stdin(&raw, &rec, &["--representative", "Ann"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("40 frames"));
    let o = g2a(&["decode", rec.to_str().unwrap(), "-o", "-"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(o.stdout.len(), raw.len());
    assert!(rgb_equal(&o.stdout, &raw));
    assert!(o.stdout.chunks_exact(4).all(|p| p[3] == 255));
    // to a file as well
    let dec = tmp(&dir, "frames.bgra");
    let o = g2a(&["decode", rec.to_str().unwrap(), "-o", dec.to_str().unwrap()]);
    assert!(o.status.success());
    assert!(rgb_equal(&std::fs::read(&dec).unwrap(), &raw));
}

#[test]
fn frame_writes_the_frame_on_screen_as_png() {
    let raw = sample();
    let dir = tempfile::tempdir().unwrap();
    let rec = tmp(&dir, "clip.g2a");
    assert!(import_stdin(&raw, &rec, &[]).status.success());
    let png_path = tmp(&dir, "f.png");
    for (at, index) in [("2.05", 20), ("00:00:00.999", 9), ("0", 0), ("1:00", 39)] {
        let o = g2a(&[
            "frame",
            rec.to_str().unwrap(),
            "--at",
            at,
            "-o",
            png_path.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let dec = png::Decoder::new(std::io::BufReader::new(
            std::fs::File::open(&png_path).unwrap(),
        ));
        let mut r = dec.read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        let info = r.next_frame(&mut buf).unwrap();
        assert_eq!((info.width as usize, info.height as usize), (W, H));
        let want = &raw[index * W * H * 4..(index + 1) * W * H * 4];
        let same = buf
            .chunks_exact(3)
            .zip(want.chunks_exact(4))
            .all(|(p, q)| p == [q[2], q[1], q[0]]);
        assert!(same, "--at {at} should show frame {index}");
    }
    let o = g2a(&[
        "frame",
        rec.to_str().unwrap(),
        "--at",
        "soon",
        "-o",
        png_path.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
}

#[test]
fn info_reports_codec_statistics() {
    let raw = sample();
    let dir = tempfile::tempdir().unwrap();
    let rec = tmp(&dir, "clip.g2a");
    assert!(import_stdin(&raw, &rec, &[]).status.success());
    let o = g2a(&["info", "--json", rec.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let c = &v["codec"];
    assert_eq!(c["frames"], 40);
    assert_eq!(c["key_frames"], 1);
    let unchanged = c["unchanged_frames"].as_u64().unwrap();
    let frames: Vec<&[u8]> = raw.chunks_exact(W * H * 4).collect();
    let same = frames.windows(2).filter(|w| w[0] == w[1]).count() as u64;
    assert_eq!(unchanged, same);
    let o = g2a(&["info", rec.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("unchanged"));
}

#[test]
fn a_short_last_frame_is_reported_and_the_rest_is_kept() {
    let raw = sample();
    let dir = tempfile::tempdir().unwrap();
    let rec = tmp(&dir, "short.g2a");
    let cut = &raw[..W * H * 4 * 3 + 1000];
    let o = import_stdin(cut, &rec, &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("1000 bytes") && err.contains("3 complete frames"),
        "{err}"
    );
    let o = g2a(&["verify", rec.to_str().unwrap()]);
    assert!(o.status.success());
    let o = g2a(&["decode", rec.to_str().unwrap(), "-o", "-"]);
    assert_eq!(o.stdout.len(), W * H * 4 * 3);
}

#[test]
fn import_refuses_bad_arguments_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let rec = tmp(&dir, "x.g2a");
    let o = g2a(&["import", "--raw", "0x10", "-", "-o", rec.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("0x10"));
    let o = g2a(&[
        "import",
        "--raw",
        "64x64",
        "--fps",
        "0",
        "-",
        "-o",
        rec.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--fps"));
    let o = g2a(&[
        "import",
        "--raw",
        "64x64",
        "--cap",
        "lots",
        "-",
        "-o",
        rec.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("lots"));
}

#[test]
fn demo_runs_the_whole_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let o = g2a(&["demo", "-o", dir.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("all identical to the input"), "{text}");
    assert!(dir.path().join("demo.g2a").exists());
    assert!(dir.path().join("frame-6s.png").exists());
}
