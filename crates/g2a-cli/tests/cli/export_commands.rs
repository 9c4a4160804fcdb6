//! `g2a import VIDEO` and `g2a export` run as a user would, checked with
//! ffprobe.

use std::path::Path;
use std::process::Command;

use crate::g2a;

fn probe(path: &Path) -> serde_json::Value {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn import_a_video_then_export_it_to_mp4_and_wmv() {
    let dir = tempfile::tempdir().unwrap();
    let clip = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/term-320x240-30f.mkv");
    let rec = dir.path().join("clip.g2a");
    let o = g2a(&[
        "import",
        clip.to_str().unwrap(),
        "-o",
        rec.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("30 frames"));

    let mp4 = dir.path().join("clip.mp4");
    let o = g2a(&[
        "export",
        rec.to_str().unwrap(),
        "-o",
        mp4.to_str().unwrap(),
        "--size",
        "160x160",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let p = probe(&mp4);
    let v = &p["streams"][0];
    assert_eq!(v["codec_name"], "h264");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(160), Some(120))
    );
    let d: f64 = p["format"]["duration"].as_str().unwrap().parse().unwrap();
    assert!((d - 3.0).abs() < 0.01, "{d}");

    let wmv = dir.path().join("part.video");
    let o = g2a(&[
        "export",
        rec.to_str().unwrap(),
        "-o",
        wmv.to_str().unwrap(),
        "--format",
        "wmv",
        "--from",
        "1",
        "--to",
        "00:02.5",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let p = probe(&wmv);
    assert_eq!(p["streams"][0]["codec_name"], "wmv2");
    let d: f64 = p["format"]["duration"].as_str().unwrap().parse().unwrap();
    assert!((d - 1.5).abs() < 0.01, "{d}");
}

#[test]
fn export_errors_leave_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.g2a");
    let out = dir.path().join("x.mp4");
    let o = g2a(&[
        "export",
        missing.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("none.g2a"));
    let o = g2a(&[
        "import",
        missing.to_str().unwrap(),
        "-o",
        dir.path().join("y.g2a").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
