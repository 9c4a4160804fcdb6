//! Fidelity on a real screen clip (PSNR through ffmpeg), and exports from
//! a real recording through `PlayerSource`: cursor drawn, chat as subtitles.

use crate::common;

use common::*;
use g2a::{Player, Recorder, RecorderOptions};
use g2a_core::{FrameRef, PixelFormat, Size, Timestamp};
use g2a_export::{
    export, open_video, Control, ExportOptions, ImportOptions, PlayerSource, RawFrames,
};
use g2a_format::{SenderRole, SessionHeader};

fn clip() -> std::path::PathBuf {
    repo_root().join("testdata/term-320x240-30f.mkv")
}

fn clip_frames() -> RawFrames {
    let mut v = open_video(&clip(), &ImportOptions::default()).unwrap();
    let mut src = RawFrames::new(v.size());
    while let Some(f) = v.next_frame().unwrap() {
        src.push(f.ts, f.data.to_vec()).unwrap();
    }
    src
}

#[test]
fn default_quality_meets_the_psnr_targets_on_a_real_clip() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("a.mp4", ExportOptions::default(), "yuv420p", 45.0),
        ("a.wmv", ExportOptions::default(), "yuv420p", 38.0),
        (
            "b.mp4",
            ExportOptions::default().full_colour(true),
            "gbrp",
            45.0,
        ),
    ];
    for (name, opts, pix, min) in cases {
        let out = dir.path().join(name);
        let s = export(&mut clip_frames(), &out, &opts, &mut |_| Control::Continue).unwrap();
        assert_eq!(s.duration, Timestamp::from_secs(3), "{name}");
        let db = psnr(&out, &clip(), pix);
        assert!(db >= min, "{name}: {db:.2} dB < {min} dB");
        let p = probe(&out);
        assert!(
            (secs(&p["format"]["duration"]) - 3.0).abs() <= 0.1,
            "{name}"
        );
    }
}

/// A 96x64 white recording whose screen never changes after the first
/// frame while a 4x4 red cursor moves at 500 ms, with one chat line.
fn record(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("cursor.g2a");
    let size = Size::new(96, 64);
    let mut rec = Recorder::create(
        &path,
        SessionHeader::new("T-1", size),
        RecorderOptions::default(),
    )
    .unwrap();
    let red: Vec<u8> = [0u8, 0, 255, 255].repeat(16);
    rec.push_cursor_shape(Timestamp::ZERO, 1, (0, 0), Size::new(4, 4), &red)
        .unwrap();
    rec.push_cursor(Timestamp::ZERO, 20, 20, Some(1)).unwrap();
    rec.push_cursor(Timestamp::from_millis(500), 60, 30, Some(1))
        .unwrap();
    rec.push_chat(
        Timestamp::from_millis(300),
        SenderRole::Customer,
        "Kim",
        "hi there",
    )
    .unwrap();
    let white = vec![255u8; 96 * 64 * 4];
    for i in 0..10u64 {
        let f = FrameRef::packed(&white, size, PixelFormat::Bgra8).unwrap();
        rec.push_frame(Timestamp::from_millis(i * 100), &f).unwrap();
    }
    rec.finish().unwrap();
    path
}

fn is_red(px: &[u8]) -> bool {
    px[2] > 200 && px[0] < 60 && px[1] < 60
}

fn is_white(px: &[u8]) -> bool {
    px[..3].iter().all(|&c| c > 200)
}

#[test]
fn player_export_draws_the_cursor_and_carries_the_chat() {
    let dir = tempfile::tempdir().unwrap();
    let path = record(dir.path());
    let out = dir.path().join("c.mp4");
    let mut src = PlayerSource::new(Player::open(&path).unwrap()).unwrap();
    let opts = ExportOptions::default().full_colour(true);
    let s = export(&mut src, &out, &opts, &mut |_| Control::Continue).unwrap();
    assert_eq!(s.frames_read, 10);
    assert_eq!(s.frames_encoded, 2, "first frame and the cursor move only");
    assert_eq!(s.chat_lines, 1);
    assert_eq!(s.duration, Timestamp::from_secs(1));
    let at = |d: &[u8], x: usize, y: usize| d[(y * 96 + x) * 4..(y * 96 + x) * 4 + 4].to_vec();
    let mut v = open_video(&out, &ImportOptions::default()).unwrap();
    let f = v.next_frame().unwrap().unwrap();
    assert_eq!(f.ts, Timestamp::ZERO);
    assert!(is_red(&at(f.data, 21, 21)) && is_white(&at(f.data, 61, 31)));
    let f = v.next_frame().unwrap().unwrap();
    assert_eq!(f.ts, Timestamp::from_millis(500));
    assert!(is_white(&at(f.data, 21, 21)) && is_red(&at(f.data, 61, 31)));
    assert!(v.next_frame().unwrap().is_none());
    let srt = subtitles_srt(&out);
    assert!(srt.contains("Kim (customer): hi there"), "{srt}");
    assert!(srt.contains("00:00:00,300 --> 00:00:01,000"), "{srt}");

    // Without the cursor, only the first frame is encoded.
    let mut src = PlayerSource::open(&path).unwrap();
    let opts = ExportOptions::default()
        .draw_cursor(false)
        .format(g2a_export::Format::Wmv);
    let out = dir.path().join("c.out");
    let s = export(&mut src, &out, &opts, &mut |_| Control::Continue).unwrap();
    assert_eq!((s.frames_encoded, s.frames_unchanged), (1, 9));
    assert_eq!(probe(&out)["format"]["format_name"], "asf");
}

#[test]
fn player_export_from_the_middle_starts_with_the_frame_on_screen() {
    let dir = tempfile::tempdir().unwrap();
    let path = record(dir.path());
    let out = dir.path().join("m.mp4");
    let mut src = PlayerSource::open(&path).unwrap();
    let opts = ExportOptions::default()
        .from(Timestamp::from_millis(450))
        .full_colour(true);
    let s = export(&mut src, &out, &opts, &mut |_| Control::Continue).unwrap();
    assert_eq!(s.duration, Timestamp::from_millis(550));
    assert_eq!(s.chat_lines, 0);
    let t = frame_times(&out);
    let starts: Vec<f64> = t.iter().map(|x| x.0).collect();
    assert_eq!(starts.len(), 2, "{t:?}");
    assert!((starts[1] - 0.05).abs() < 1e-3, "{t:?}");
}
