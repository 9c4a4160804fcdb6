//! `open_video` on a real lossless screen clip: exact BGRA, timestamps,
//! and clear errors on bad input.

use crate::common;

use std::process::Command;

use common::*;
use g2a_core::{Limits, Size, Timestamp};
use g2a_export::{open_video, ExportError, ImportOptions};

fn clip() -> std::path::PathBuf {
    repo_root().join("testdata/term-320x240-30f.mkv")
}

#[test]
fn rgb_clip_decodes_to_exactly_ffmpegs_bgra_with_frame_times() {
    let want = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(clip())
        .args(["-f", "rawvideo", "-pix_fmt", "bgra", "-"])
        .output()
        .unwrap();
    assert!(want.status.success());
    let frame_len = 320 * 240 * 4;
    assert_eq!(want.stdout.len(), 30 * frame_len);
    let mut v = open_video(&clip(), &ImportOptions::default()).unwrap();
    assert_eq!(v.size(), Size::new(320, 240));
    assert_eq!(v.frame_rate(), Some(10.0));
    let mut n = 0;
    while let Some(f) = v.next_frame().unwrap() {
        assert_eq!(f.ts, Timestamp::from_millis(n as u64 * 100));
        assert_eq!(f.size, Size::new(320, 240));
        assert!(
            f.data == &want.stdout[n * frame_len..(n + 1) * frame_len],
            "frame {n} differs from ffmpeg's bgra"
        );
        n += 1;
    }
    assert_eq!(n, 30);
    assert!(v.next_frame().unwrap().is_none(), "stays at the end");
}

#[test]
fn yuv_video_decodes_with_its_timestamps() {
    // A VFR export of ours: frames at 0, 100, 200, 300, 700, 800, 900 ms.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.mp4");
    let mut src = sample(Size::new(96, 64));
    g2a_export::export(&mut src, &out, &Default::default(), &mut |_| {
        g2a_export::Control::Continue
    })
    .unwrap();
    let mut v = open_video(&out, &ImportOptions::default()).unwrap();
    let mut times = Vec::new();
    while let Some(f) = v.next_frame().unwrap() {
        assert_eq!(f.data.len(), 96 * 64 * 4);
        assert!(f.data.chunks_exact(4).all(|p| p[3] == 255));
        times.push(f.ts.as_micros() / 1000);
    }
    assert_eq!(times, vec![0, 100, 200, 300, 700, 800, 900]);
}

#[test]
fn bad_inputs_give_errors() {
    let dir = tempfile::tempdir().unwrap();
    let e = open_video(&dir.path().join("missing.mkv"), &ImportOptions::default()).unwrap_err();
    assert!(matches!(e, ExportError::Io { .. }), "{e}");
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a video at all\n").unwrap();
    assert!(open_video(&text, &ImportOptions::default()).is_err());
    let small = Limits::default().with_max_dimension(100);
    let e = open_video(&clip(), &ImportOptions::default().limits(small)).unwrap_err();
    assert!(matches!(e, ExportError::Limit(_)), "{e}");
}

#[test]
fn truncated_clips_never_panic() {
    let bytes = std::fs::read(clip()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.mkv");
    for cut in [
        0,
        1,
        100,
        1000,
        bytes.len() / 3,
        bytes.len() / 2,
        bytes.len() - 7,
    ] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let Ok(mut v) = open_video(&path, &ImportOptions::default()) else {
            continue;
        };
        let mut n = 0;
        while let Ok(Some(f)) = v.next_frame() {
            assert_eq!(f.data.len() as u64, f.size.area() * 4);
            n += 1;
            assert!(n <= 30, "more frames than the clip has");
        }
    }
}
