//! Real encodes of synthetic screen sequences to every output format,
//! checked by decoding them with ffprobe and ffmpeg.

use crate::common;

use common::*;
use g2a_core::{Size, Timestamp};
use g2a_export::{export, Control, ExportError, ExportOptions, Format, Quality, WmvCodec};

const SIZE: Size = Size::new(96, 64);

fn go(
    opts: &ExportOptions,
    name: &str,
) -> (
    tempfile::TempDir,
    std::path::PathBuf,
    g2a_export::ExportSummary,
) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(name);
    let mut src = sample(SIZE);
    let s = export(&mut src, &out, opts, &mut |_| Control::Continue).unwrap();
    assert!(!dir.path().join(format!("{name}.part")).exists());
    (dir, out, s)
}

#[test]
fn mp4_has_vfr_timing_duration_and_chat_subtitles() {
    let (_d, out, s) = go(&ExportOptions::default(), "s.mp4");
    assert_eq!(s.format, Format::Mp4);
    assert_eq!(s.frames_read, 10);
    assert_eq!(s.frames_unchanged, 3, "frames 4, 5, 6 repeat frame 3");
    assert_eq!(s.frames_encoded, 7);
    assert_eq!(s.chat_lines, 2);
    assert_eq!(s.duration, Timestamp::from_secs(1));
    let p = probe(&out);
    let v = stream(&p, "video").unwrap();
    assert_eq!(v["codec_name"], "h264");
    assert_eq!(v["pix_fmt"], "yuv420p");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(96), Some(64))
    );
    assert!(
        (secs(&p["format"]["duration"]) - 1.0).abs() < 0.01,
        "{}",
        p["format"]["duration"]
    );
    // One packet per change, at the recording's times, each lasting until
    // the next one (the unchanged stretch 300..700 ms is one frame).
    let t = frame_times(&out);
    let want = [
        (0.0, 0.1),
        (0.1, 0.1),
        (0.2, 0.1),
        (0.3, 0.4),
        (0.7, 0.1),
        (0.8, 0.1),
        (0.9, 0.1),
    ];
    assert_eq!(t.len(), want.len(), "{t:?}");
    for ((pt, pd), (wt, wd)) in t.iter().zip(want) {
        assert!((pt - wt).abs() < 1e-3 && (pd - wd).abs() < 1e-3, "{t:?}");
    }
    let sub = stream(&p, "subtitle").expect("a subtitle track");
    assert_eq!(sub["codec_name"], "mov_text");
    let srt = subtitles_srt(&out);
    assert!(
        srt.contains("Kim (customer): the printer is offline"),
        "{srt}"
    );
    assert!(
        srt.contains("Alex (representative): restarting the spooler — ok?"),
        "{srt}"
    );
    assert!(srt.contains("00:00:00,200 --> 00:00:00,600"), "{srt}");
    assert!(srt.contains("00:00:00,600 --> 00:00:01,000"), "{srt}");
    // faststart: the movie header precedes the media data.
    let bytes = std::fs::read(&out).unwrap();
    let moov = bytes.windows(4).position(|w| w == b"moov").unwrap();
    let mdat = bytes.windows(4).position(|w| w == b"mdat").unwrap();
    assert!(moov < mdat);
}

#[test]
fn wmv_plays_as_wmv2_in_asf_with_the_right_duration() {
    let (_d, out, s) = go(&ExportOptions::default(), "s.wmv");
    assert_eq!(s.format, Format::Wmv);
    let p = probe(&out);
    assert_eq!(p["format"]["format_name"], "asf");
    let v = stream(&p, "video").unwrap();
    assert_eq!(v["codec_name"], "wmv2");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(96), Some(64))
    );
    assert!(stream(&p, "subtitle").is_none());
    let t = frame_times(&out);
    assert_eq!(t.len(), 7, "{t:?}");
    let starts: Vec<f64> = t.iter().map(|x| x.0 - t[0].0).collect();
    for (got, want) in starts.iter().zip([0.0, 0.1, 0.2, 0.3, 0.7, 0.8, 0.9]) {
        assert!((got - want).abs() < 1e-3, "{starts:?}");
    }
    let last = t.last().unwrap();
    assert!((last.0 - t[0].0 + last.1 - 1.0).abs() < 1e-3, "{t:?}");
}

#[test]
fn msmpeg4_is_an_option() {
    let (_d, out, _) = go(
        &ExportOptions::default().wmv_codec(WmvCodec::Msmpeg4),
        "s.asf",
    );
    let p = probe(&out);
    assert_eq!(stream(&p, "video").unwrap()["codec_name"], "msmpeg4v3");
}

#[test]
fn full_colour_mp4_is_h264_444_rgb() {
    let (_d, out, _) = go(&ExportOptions::default().full_colour(true), "s.mp4");
    let p = probe(&out);
    let v = stream(&p, "video").unwrap();
    assert_eq!(v["codec_name"], "h264");
    assert_eq!(v["pix_fmt"], "gbrp");
    assert_eq!(v["profile"], "High 4:4:4 Predictive");
}

#[test]
fn constant_frame_rate_repeats_the_latest_frame() {
    let (_d, out, s) = go(&ExportOptions::default().fps(5.0), "s.mp4");
    assert_eq!(s.frames_encoded, 5);
    let t = frame_times(&out);
    assert_eq!(t.len(), 5, "{t:?}");
    for (i, (pt, pd)) in t.iter().enumerate() {
        assert!(
            (pt - i as f64 * 0.2).abs() < 1e-3 && (pd - 0.2).abs() < 1e-3,
            "{t:?}"
        );
    }
    let p = probe(&out);
    assert!((secs(&p["format"]["duration"]) - 1.0).abs() < 0.01);
}

#[test]
fn size_keeps_aspect_ratio_and_even_sides() {
    let (_d, out, s) = go(&ExportOptions::default().size(Size::new(48, 48)), "s.mp4");
    assert_eq!(s.size, Size::new(48, 32));
    let p = probe(&out);
    let v = stream(&p, "video").unwrap();
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(48), Some(32))
    );
}

#[test]
fn from_and_to_cut_the_range() {
    let opts = ExportOptions::default()
        .from(Timestamp::from_millis(250))
        .to(Timestamp::from_millis(850))
        .quality(Quality::Small);
    let (_d, out, s) = go(&opts, "s.mp4");
    assert_eq!(s.duration, Timestamp::from_millis(600));
    // Frame on screen at 250 ms (the 200 ms one) first, then 300, 700, 800.
    let t = frame_times(&out);
    let starts: Vec<f64> = t.iter().map(|x| x.0).collect();
    assert_eq!(starts.len(), 4, "{t:?}");
    for (got, want) in starts.iter().zip([0.0, 0.05, 0.45, 0.55]) {
        assert!((got - want).abs() < 1e-3, "{t:?}");
    }
    // Only the line at 600 ms is inside; it shows 350..600 ms.
    let srt = subtitles_srt(&out);
    assert!(!srt.contains("printer"), "{srt}");
    assert!(srt.contains("00:00:00,350 --> 00:00:00,600"), "{srt}");
}

#[test]
fn cancel_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c.mp4");
    let mut src = sample(SIZE);
    let mut calls = 0;
    let err = export(&mut src, &out, &ExportOptions::default(), &mut |p| {
        calls += 1;
        assert!(p.position <= p.total);
        if p.frames_read == 3 {
            Control::Cancel
        } else {
            Control::Continue
        }
    })
    .unwrap_err();
    assert!(matches!(err, ExportError::Cancelled), "{err}");
    assert_eq!(calls, 3);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file left"
    );
}

#[test]
fn errors_are_reported_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let mut src = sample(SIZE);
    let none = &mut |_| Control::Continue;
    let e = export(
        &mut src,
        &dir.path().join("x.avi"),
        &ExportOptions::default(),
        none,
    )
    .unwrap_err();
    assert!(matches!(e, ExportError::UnknownFormat { .. }), "{e}");
    let e = export(
        &mut src,
        &dir.path().join("no/such/dir/x.mp4"),
        &ExportOptions::default(),
        none,
    )
    .unwrap_err();
    assert!(e.to_string().contains("no/such/dir"), "{e}");
    let e = export(
        &mut src,
        &dir.path().join("x.mp4"),
        &ExportOptions::default().fps(-1.0),
        none,
    )
    .unwrap_err();
    assert!(matches!(e, ExportError::BadFrameRate { .. }), "{e}");
    let mut empty = g2a_export::RawFrames::new(SIZE);
    let e = export(
        &mut empty,
        &dir.path().join("x.mp4"),
        &ExportOptions::default(),
        none,
    )
    .unwrap_err();
    assert!(matches!(e, ExportError::NoFrames { .. }), "{e}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file left"
    );
}
