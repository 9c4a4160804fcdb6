//! The Management Center in a real browser: headless Debian chromium,
//! driven by playwright-core (`web-tests/session.mjs`), against the
//! service on loopback. `.ci/install-deps` installs chromium and
//! playwright-core. Set `G2A_SCREENSHOT=PATH` to keep a screenshot of the
//! session page.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::*;
use g2a::Player;
use g2a_core::Timestamp;
use g2a_server::ServiceOptions;

/// The frame a user sees at `us` (the Player's frame with the cursor, as
/// `g2a frame` draws it), as RGBA.
fn expected_rgba(file: &Path, us: u64) -> Vec<u8> {
    let mut p = Player::open(file).unwrap();
    let cursor = p.cursor_track().unwrap();
    let at = Timestamp::from_micros(us);
    let f = p.frame_at(at).unwrap();
    let size = f.size;
    let mut px = f.data.to_vec();
    g2a_server::content::draw_cursor(&cursor, at, &mut px, size);
    rgba(&px)
}

/// BGRA pixels as the canvas holds them: RGBA, opaque.
fn rgba(bgra: &[u8]) -> Vec<u8> {
    bgra.chunks_exact(4)
        .flat_map(|p| [p[2], p[1], p[0], 255])
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_reviews_sessions_in_chromium() {
    let f = fixture();
    // The expected frames, from the plain recording of S1 (E1 holds the
    // same frames, encrypted).
    let expect = f.dir.path().join("expect");
    std::fs::create_dir(&expect).unwrap();
    let src = f.dir.path().join("src/S1.g2a");
    for us in [0u64, 100_000, 1_500_000, 1_900_000] {
        std::fs::write(expect.join(format!("{us}.rgba")), expected_rgba(&src, us)).unwrap();
    }
    let addr = start(&f, ServiceOptions::default()).await;
    let download = f.dir.path().join("export.mp4");
    let stdout = run_script(
        "session.mjs",
        addr,
        vec![
            ("G2A_DOWNLOAD", download.clone().into()),
            ("G2A_EXPECT", expect.into()),
            ("G2A_PASSPHRASE", PASSPHRASE.into()),
            ("G2A_TM_PASSWORD", TM_PW.into()),
            ("G2A_ADMIN_PASSWORD", ADMIN_PW.into()),
        ],
    )
    .await;
    // The token the page showed once was a real one, now revoked.
    let token = stdout
        .lines()
        .find_map(|l| l.strip_prefix("recorder token: "))
        .expect("the page showed no recorder token");
    let cat = g2a_catalog::Catalog::open(&f.catalog).unwrap();
    assert_eq!(
        cat.uploader_for_token(token).unwrap_err().to_string(),
        g2a_catalog::CatalogError::BadToken.to_string()
    );
    let admin = cat.login("admin", ADMIN_PW).unwrap();
    let recorders = cat.list_recorders(&admin).unwrap();
    assert!(
        recorders.iter().any(|r| r.name == "web-recorder"
            && r.portal == "acme"
            && r.revoked_unix_micros.is_some()),
        "{recorders:?}"
    );
    // The downloaded export is a real MP4 of the range asked for.
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,width,height:format=duration",
            "-of",
            "json",
        ])
        .arg(&download)
        .output()
        .unwrap();
    assert!(
        probe.status.success(),
        "{}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&probe.stdout).unwrap();
    assert_eq!(v["streams"][0]["codec_name"], "h264", "{v}");
    assert_eq!(v["streams"][0]["width"], 960, "{v}");
    let secs: f64 = v["format"]["duration"].as_str().unwrap().parse().unwrap();
    assert!(
        (1.2..=1.7).contains(&secs),
        "exported {secs} s of 0.5..1.9 s: {v}"
    );
}

/// The recorder of the live test, run as a process of its own (this test
/// binary again, with `G2A_LIVE_DIR` set): records `G2A_LIVE_FRAMES` frames
/// of the clip in real time (one every 100 ms, frame k = clip[k mod 40])
/// and uploads the recording as it grows, as `g2a record --upload` does.
#[test]
fn live_recorder_process() {
    let Some(dir) = std::env::var_os("G2A_LIVE_DIR") else {
        return; // Only as the child of the live test.
    };
    let url = std::env::var("G2A_LIVE_URL").unwrap();
    let token = std::env::var("G2A_LIVE_TOKEN").unwrap();
    let n: u64 = std::env::var("G2A_LIVE_FRAMES").unwrap().parse().unwrap();
    let file = Path::new(&dir).join("L1.g2a");
    let frames = clip_frames();
    let mut rec = g2a::Recorder::create(
        &file,
        header("L1", "acme", "support", "rep1"),
        g2a::RecorderOptions::default(),
    )
    .unwrap();
    let opts = g2a_upload::UploadOptions {
        poll: std::time::Duration::from_millis(100),
        ..g2a_upload::UploadOptions::default()
    };
    let up = g2a_upload::Uploader::new(&url, &token, None, opts)
        .unwrap()
        .follow(file.clone(), false, Box::new(g2a_upload::Quiet));
    let start = std::time::Instant::now();
    for k in 0..n {
        let due = std::time::Duration::from_millis(k * 100);
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
        let f = &frames[(k % 40) as usize];
        let fr = g2a_core::FrameRef::packed(f, SIZE, g2a_core::PixelFormat::Bgra8).unwrap();
        rec.push_frame(Timestamp::from_millis(k * 100), &fr)
            .unwrap();
        rec.sync().unwrap();
    }
    rec.finish().unwrap();
    let sent = up.finish().unwrap();
    println!("uploaded {} file(s)", sent.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_follows_a_live_recording_in_chromium() {
    let f = fixture();
    let expect = f.dir.path().join("expect");
    std::fs::create_dir(&expect).unwrap();
    for (k, px) in clip_frames().iter().enumerate() {
        std::fs::write(expect.join(format!("clip{k}.rgba")), rgba(px)).unwrap();
    }
    let token = {
        let cat = g2a_catalog::Catalog::open(&f.catalog).unwrap();
        let admin = cat.login("admin", ADMIN_PW).unwrap();
        cat.issue_recorder_token(&admin, "desk-live", "acme")
            .unwrap()
            .as_str()
            .to_owned()
    };
    let addr = start(&f, ServiceOptions::default()).await;
    let rec_dir = f.dir.path().join("recorder");
    std::fs::create_dir(&rec_dir).unwrap();
    // 15 s of recording: long enough to find it, follow it, scrub back and
    // come back before it ends.
    let recorder = Command::new(std::env::current_exe().unwrap())
        .args(["browser::live_recorder_process", "--exact", "--nocapture"])
        .env("G2A_LIVE_DIR", &rec_dir)
        .env("G2A_LIVE_URL", format!("http://{addr}"))
        .env("G2A_LIVE_TOKEN", &token)
        .env("G2A_LIVE_FRAMES", "150")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = run_script(
        "live.mjs",
        addr,
        vec![
            ("G2A_EXPECT", expect.into()),
            ("G2A_TM_PASSWORD", TM_PW.into()),
        ],
    )
    .await;
    let rec = tokio::task::spawn_blocking(move || recorder.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(
        rec.status.success(),
        "the recorder failed:\n{}\n{}",
        String::from_utf8_lossy(&rec.stdout),
        String::from_utf8_lossy(&rec.stderr)
    );
    // The page ended on the recording's last frame, and the catalog holds
    // the recording as the recorder wrote it, finished.
    assert!(stdout.contains("end: 14900000"), "{stdout}");
    let cat = g2a_catalog::Catalog::open(&f.catalog).unwrap();
    let admin = cat.login("admin", ADMIN_PW).unwrap();
    let page = cat
        .search(&admin, &g2a_catalog::SearchQuery::by_id("L1"))
        .unwrap();
    assert!(!page.sessions[0].live);
    let g = cat
        .open_for(&admin, "L1", g2a_catalog::Action::Replay, None)
        .unwrap();
    assert_eq!(
        std::fs::read(&g.files[0]).unwrap(),
        std::fs::read(rec_dir.join("L1.g2a")).unwrap()
    );
}
