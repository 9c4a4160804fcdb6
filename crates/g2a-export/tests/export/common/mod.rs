//! Helpers shared by the integration tests: synthetic-but-real frame
//! sequences and ffprobe/ffmpeg checks of the outputs.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;

use g2a_core::{Size, Timestamp};
use g2a_export::{ChatLine, RawFrames};
use serde_json::Value;

/// Repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A `w`x`h` frame: white page, dark "text" rows, a moving box at `step`.
pub fn frame(size: Size, step: u32) -> Vec<u8> {
    let (w, h) = (size.width as usize, size.height as usize);
    let mut px = vec![255u8; w * h * 4];
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) * 4;
            // Text-like stripes: 1-pixel strokes in rows of 8.
            if y % 8 < 5 && (x * 7 + y * 3) % 11 < 4 && y < h - 12 {
                px[i..i + 3].copy_from_slice(&[40, 40, 40]);
            }
            // A coloured box moving right.
            let bx = (step as usize * 4) % w.saturating_sub(10).max(1);
            if y >= h - 10 && x >= bx && x < bx + 10 {
                px[i..i + 3].copy_from_slice(&[30, 60, 220]);
            }
        }
    }
    px
}

/// 10 frames at 100 ms (0..900 ms), frames 3..=6 identical to frame 3,
/// end at 1 s, two chat lines.
pub fn sample(size: Size) -> RawFrames {
    let mut src = RawFrames::new(size);
    for i in 0..10u32 {
        let step = if (3..=6).contains(&i) { 3 } else { i };
        src.push(
            Timestamp::from_millis(u64::from(i) * 100),
            frame(size, step),
        )
        .unwrap();
    }
    src.push_chat(ChatLine {
        ts: Timestamp::from_millis(200),
        sender: "Kim".into(),
        role: "customer".into(),
        text: "the printer is offline".into(),
    });
    src.push_chat(ChatLine {
        ts: Timestamp::from_millis(600),
        sender: "Alex".into(),
        role: "representative".into(),
        text: "restarting the spooler — ok?".into(),
    });
    src.set_end(Timestamp::from_secs(1));
    src
}

/// Output of `ffprobe -show_format -show_streams` as JSON.
pub fn probe(path: &Path) -> Value {
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
        .expect("ffprobe runs (install ffmpeg)");
    assert!(out.status.success(), "ffprobe failed on {}", path.display());
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The first stream of `kind` ("video", "subtitle").
pub fn stream<'a>(probe: &'a Value, kind: &str) -> Option<&'a Value> {
    probe["streams"]
        .as_array()?
        .iter()
        .find(|s| s["codec_type"] == kind)
}

/// Seconds of a JSON string field.
pub fn secs(v: &Value) -> f64 {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN)
}

/// Presentation times of the video packets (seconds from the first) and
/// each one's duration: the time to the next, and for the last the time
/// to the end of the file (ffprobe does not report packet durations of
/// MP4 with B-frames nor of ASF).
pub fn frame_times(path: &Path) -> Vec<(f64, f64)> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "packet=pts_time",
            "-print_format",
            "json",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut t: Vec<f64> = v["packets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| secs(&p["pts_time"]))
        .collect();
    t.sort_by(f64::total_cmp);
    let start = t.first().copied().unwrap_or(0.0);
    let p = probe(path);
    let end = secs(&p["format"]["duration"]) + secs(&p["format"]["start_time"]);
    let mut r = Vec::new();
    for (i, x) in t.iter().enumerate() {
        let next = t.get(i + 1).copied().unwrap_or(end);
        r.push((x - start, next - x));
    }
    r
}

/// The subtitles as SRT text, through ffmpeg.
pub fn subtitles_srt(path: &Path) -> String {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-map", "0:s:0", "-f", "srt", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Average PSNR (dB) of `ours` against the reference clip, both converted
/// to `pix_fmt`, with ffmpeg's psnr filter. The reference drives: each of
/// its frames is compared with the frame of `ours` on screen at that time
/// (so a variable-frame-rate export is measured at the clip's rate).
pub fn psnr(ours: &Path, reference: &Path, pix_fmt: &str) -> f64 {
    let graph = format!("[0:v]format={pix_fmt}[r];[1:v]format={pix_fmt}[o];[r][o]psnr");
    let out = Command::new("ffmpeg")
        .args(["-v", "info", "-nostats", "-i"])
        .arg(reference)
        .arg("-i")
        .arg(ours)
        .args(["-lavfi", &graph, "-f", "null", "-"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    let line = text
        .lines()
        .find(|l| l.contains("PSNR") && l.contains("average:"))
        .unwrap_or_else(|| panic!("no PSNR line in:\n{text}"));
    let avg = line
        .split("average:")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    if avg == "inf" {
        f64::INFINITY
    } else {
        avg.parse().unwrap()
    }
}
