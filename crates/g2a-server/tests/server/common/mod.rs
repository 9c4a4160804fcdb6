//! The fixture of the service's tests: a catalog with an organisation and
//! real recordings (the desktop clip of testdata, with chat, events,
//! diagnostics and a cursor), one of them encrypted.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use g2a::{Recorder, RecorderOptions};
use g2a_catalog::{Catalog, CatalogOptions, ImportOptions, Passphrase, RecordCipher, Role};
use g2a_core::{FrameRef, PixelFormat, Size, Timestamp};
use g2a_format::{EncryptionInfo, EventKind, MediaType, SenderRole, SessionHeader};
use g2a_server::{serve, AppState, Listen, ServiceOptions};

pub const SIZE: Size = Size::new(960, 540);
pub const ADMIN_PW: &str = "admin-pw-Vq8#Lw2!pZ";
pub const TM_PW: &str = "tm-pw-Vq8#Lw2!pZ";
pub const TM2_PW: &str = "tm2-pw-Vq8#Lw2!pZ";
pub const REP1_PW: &str = "rep1-pw-Vq8#Lw2!pZ";
pub const REP3_PW: &str = "rep3-pw-Vq8#Lw2!pZ";
pub const PASSPHRASE: &str = "secure portal passphrase orbit 7";

/// `(user, password)` of every role that can log in.
pub const USERS: [(&str, &str); 4] = [
    ("admin", ADMIN_PW),
    ("tm", TM_PW),
    ("tm2", TM2_PW),
    ("rep1", REP1_PW),
];

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub catalog: PathBuf,
}

/// The frames of the desktop clip of testdata.
pub fn clip_frames() -> Vec<Vec<u8>> {
    let clip =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/desktop-960x540-40f.bgra.zst");
    let raw = zstd_decode(&std::fs::read(clip).unwrap());
    raw.chunks_exact(SIZE.area() as usize * 4)
        .map(<[u8]>::to_vec)
        .collect()
}

fn zstd_decode(b: &[u8]) -> Vec<u8> {
    zstd::decode_all(b).unwrap()
}

/// Records `frames` (one every 100 ms) with a chat message every second,
/// an event, a diagnostics document and a moving cursor.
pub fn record(
    path: &Path,
    header: SessionHeader,
    frames: &[Vec<u8>],
    cipher: Option<(RecordCipher, Vec<u8>)>,
) {
    let mut opts = RecorderOptions::default();
    if let Some((c, key_block)) = cipher {
        opts = opts.encrypt(
            c.shared(),
            EncryptionInfo {
                scheme: g2a_catalog::SCHEME.to_owned(),
                key_block,
            },
        );
    }
    let mut rec = Recorder::create(path, header, opts).unwrap();
    let ms = Timestamp::from_millis;
    let arrow: Vec<u8> = (0..12 * 12).flat_map(|_| [0u8, 0, 255, 255]).collect();
    rec.push_cursor_shape(ms(0), 1, (0, 0), Size::new(12, 12), &arrow)
        .unwrap();
    for (i, f) in frames.iter().enumerate() {
        let t = i as u64 * 100;
        let fr = FrameRef::packed(f, SIZE, PixelFormat::Bgra8).unwrap();
        rec.push_frame(ms(t), &fr).unwrap();
        rec.push_cursor(ms(t), 100 + i as i32 * 10, 200, Some(1))
            .unwrap();
        if i % 10 == 5 {
            rec.push_chat(
                ms(t),
                SenderRole::Customer,
                "Quentin",
                &format!("message at {t} ms: <b>not bold</b>"),
            )
            .unwrap();
        }
    }
    rec.push_event(ms(1200), EventKind::RemoteControlGranted, "granted")
        .unwrap();
    rec.push_diagnostic(
        ms(1500),
        "system-info.json",
        MediaType::Json,
        br#"{"os":"Debian 12","ram_gb":24}"#,
    )
    .unwrap();
    rec.finish().unwrap();
}

pub fn header(id: &str, portal: &str, team: &str, rep: &str) -> SessionHeader {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64;
    SessionHeader::new(id, SIZE)
        .with_portal(portal)
        .with_team(team)
        .with_representative(rep)
        .with_customer(format!("customer of {id}"))
        .with_start_time_unix_micros(now - 3_600_000_000)
        .with_recorder("server-tests", "1")
}

/// Company `admin`; portals `acme` and `secure` (with a passphrase);
/// teams `support` (on acme and secure) and `sales` (on acme); team
/// managers `tm` (support) and `tm2` (sales); representatives `rep1`
/// (support, Management Center access), `rep2` (support, none... but a
/// password), `rep3` (sales, no access). Sessions: `S1` (rep1, support,
/// acme), `S2` (rep3, sales, acme), `E1` (rep1, support, secure,
/// encrypted).
pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("cat");
    let cat = Catalog::create(
        &catalog,
        "admin",
        ADMIN_PW,
        CatalogOptions::insecure_fast_for_tests(),
    )
    .unwrap();
    let admin = cat.login("admin", ADMIN_PW).unwrap();
    cat.add_portal(&admin, "acme", None).unwrap();
    cat.add_portal(&admin, "secure", None).unwrap();
    cat.add_team(&admin, "support", None).unwrap();
    cat.add_team(&admin, "sales", None).unwrap();
    cat.assign_team_to_portal(&admin, "support", "acme")
        .unwrap();
    cat.assign_team_to_portal(&admin, "support", "secure")
        .unwrap();
    cat.assign_team_to_portal(&admin, "sales", "acme").unwrap();
    cat.add_manager(&admin, "tm", Role::TeamManager, TM_PW, &["support"])
        .unwrap();
    cat.add_manager(&admin, "tm2", Role::TeamManager, TM2_PW, &["sales"])
        .unwrap();
    cat.add_representative(&admin, "rep1", "support", Some(REP1_PW), true)
        .unwrap();
    cat.add_representative(&admin, "rep3", "sales", Some(REP3_PW), false)
        .unwrap();
    cat.set_passphrase(
        &admin,
        ADMIN_PW,
        "secure",
        &Passphrase::new(PASSPHRASE).unwrap(),
    )
    .unwrap();
    let frames = clip_frames();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    for (id, portal, team, rep) in [
        ("S1", "acme", "support", "rep1"),
        ("S2", "acme", "sales", "rep3"),
    ] {
        let f = src.join(format!("{id}.g2a"));
        record(&f, header(id, portal, team, rep), &frames[..20], None);
        cat.import_recording(&admin, &f, &ImportOptions::default())
            .unwrap();
    }
    let key = cat.recording_recipient("secure").unwrap().unwrap();
    let f = src.join("E1.g2a");
    record(
        &f,
        header("E1", "secure", "support", "rep1"),
        &frames[..20],
        Some(RecordCipher::new_for_recording(&key).unwrap()),
    );
    cat.import_recording(&admin, &f, &ImportOptions::default())
        .unwrap();
    Fixture { dir, catalog }
}

pub fn state(f: &Fixture, opts: ServiceOptions) -> Arc<AppState> {
    AppState::open(&f.catalog, opts).unwrap()
}

/// Runs the service on `listen` in the background; returns where it
/// listens.
pub async fn start_on(state: Arc<AppState>, listen: Listen) -> std::net::SocketAddr {
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        serve(
            state,
            listen,
            move |a| {
                let _ = tx.send(a);
            },
            std::future::pending(),
        )
        .await
        .unwrap();
    });
    rx.await.unwrap()
}

/// Runs the service over plain HTTP on a free loopback port.
pub async fn start(f: &Fixture, opts: ServiceOptions) -> std::net::SocketAddr {
    let listen = Listen {
        addr: "127.0.0.1:0".parse().unwrap(),
        tls: None,
        allow_plain_http: false,
    };
    start_on(state(f, opts), listen).await
}

/// The size and RGB pixels of a PNG picture.
pub fn png_rgb(png: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut r = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// Runs `web-tests/SCRIPT` under node with `env` and the service's
/// address; asserts it ended with "ok" (set `G2A_BROWSER_LOG` to see the
/// log of a passing run too). Returns its output.
pub async fn run_script(
    script: &'static str,
    addr: std::net::SocketAddr,
    env: Vec<(&'static str, std::ffi::OsString)>,
) -> String {
    let web = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web-tests");
    assert!(
        Path::new("/usr/bin/chromium").exists()
            && web.join("node_modules/playwright-core").exists()
            && web.join("node_modules/tus-js-client").exists(),
        "chromium, playwright-core or tus-js-client is missing: run .ci/install-deps"
    );
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(web.join(script))
            .env("G2A_URL", format!("http://{addr}"))
            .envs(env)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success()
            && stdout.trim_end().ends_with("ok")
            && std::env::var_os("G2A_BROWSER_LOG").is_none(),
        "{script} failed:\n{stdout}\n{stderr}"
    );
    stdout
}
