//! The catalog story of issue 5, end to end through the `g2a` binary with
//! real recordings (frames of `testdata/term-960x540-40f.bgra.zst`):
//! a company manager sets up portals, teams, a team manager and
//! representatives; recordings are imported; each role searches, replays
//! (frame, chat, diagnostics) and exports what it may and is refused what it
//! may not; a portal passphrase is set; a new recording is encrypted at rest
//! and replays with the passphrase only; the passphrase is changed and the
//! recording replays with the new one; the purge removes expired sessions.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use g2a::{Recorder, RecorderOptions};
use g2a_core::{FrameRef, PixelFormat, Size, Timestamp};
use g2a_format::{EncryptionInfo, EventKind, MediaType, SenderRole, SessionHeader};

const W: u32 = 960;
const H: u32 = 540;
const FRAMES: usize = 8;
const SECRET_CHAT: &str = "the admin password is Tr0ub4dor&3";

struct Story {
    dir: tempfile::TempDir,
}

impl Story {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn catalog(&self) -> String {
        self.path("catalog").display().to_string()
    }

    /// Runs `g2a catalog SUB --catalog DIR --as USER ARGS...` with the
    /// user's password in G2A_PASSWORD and no passphrase in the environment.
    fn as_user(&self, user: &str, sub: &str, args: &[&str]) -> Output {
        let pw = format!("{user}-Vq8#Lw2!pZ");
        let cat = self.catalog();
        let mut all = vec!["catalog", sub, "--catalog", cat.as_str(), "--as", user];
        all.extend_from_slice(args);
        Command::new(env!("CARGO_BIN_EXE_g2a"))
            .args(&all)
            .env("G2A_PASSWORD", pw)
            .env("G2A_NEW_PASSWORD", "unused-new-Vq8#Lw2!pZ")
            .env_remove("G2A_PASSPHRASE")
            .env_remove("G2A_NEW_PASSPHRASE")
            .current_dir(self.dir.path())
            .output()
            .expect("run g2a")
    }

    fn ok(&self, user: &str, sub: &str, args: &[&str]) -> String {
        let out = self.as_user(user, sub, args);
        assert!(
            out.status.success(),
            "{user} {sub} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn refused(&self, user: &str, sub: &str, args: &[&str]) -> String {
        let out = self.as_user(user, sub, args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !out.status.success(),
            "{user} {sub} {args:?} was allowed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(err.starts_with("g2a: "), "one-line error expected: {err}");
        err
    }

    /// Adds a user whose password is `NAME-Vq8#Lw2!pZ`.
    fn add_user(&self, sub: &str, name: &str, extra: &[&str]) {
        let pwfile = self.path(&format!("{name}.pw"));
        std::fs::write(&pwfile, format!("{name}-Vq8#Lw2!pZ\n")).unwrap();
        let pwfile = pwfile.display().to_string();
        let mut args = vec![name, "--new-password-file", pwfile.as_str()];
        args.extend_from_slice(extra);
        self.ok("boss", sub, &args);
    }

    fn secret_file(&self, name: &str, text: &str) -> String {
        let p = self.path(name);
        std::fs::write(&p, format!("{text}\n")).unwrap();
        p.display().to_string()
    }
}

fn g2a(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_g2a"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run g2a")
}

/// The first frames of the terminal sample, raw BGRA.
fn frames() -> Vec<u8> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/term-960x540-40f.bgra.zst");
    let all = zstd::decode_all(std::fs::File::open(path).unwrap()).unwrap();
    let n = (W * H * 4) as usize;
    all[..n * FRAMES].to_vec()
}

/// The RGB pixels of a PNG.
fn png_rgb(path: &Path) -> (u32, u32, Vec<u8>) {
    let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

fn bgra_to_rgb(bgra: &[u8]) -> Vec<u8> {
    bgra.chunks_exact(4)
        .flat_map(|p| [p[2], p[1], p[0]])
        .collect()
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Records an encrypted session through the Recorder API, as a support
/// client would: it knows only the portal's public key.
fn record_encrypted(path: &Path, recipient: &str, raw: &[u8]) {
    let recipient = g2a_catalog::PortalRecipient::parse(recipient).unwrap();
    let (cipher, key_block) = g2a_catalog::RecordCipher::new_for_recording(&recipient).unwrap();
    let info = EncryptionInfo {
        scheme: g2a_catalog::SCHEME.to_owned(),
        key_block,
    };
    let start = now_secs() as i64 * 1_000_000;
    let header = SessionHeader::new("S3", Size::new(W, H))
        .with_portal("support")
        .with_team("emea-fr")
        .with_representative("ron")
        .with_customer("gamma")
        .with_start_time_unix_micros(start);
    let opts = RecorderOptions::default().encrypt(cipher.shared(), info);
    let mut rec = Recorder::create(path, header, opts).unwrap();
    let n = (W * H * 4) as usize;
    for (i, f) in raw.chunks_exact(n).enumerate() {
        let frame = FrameRef::packed(f, Size::new(W, H), PixelFormat::Bgra8).unwrap();
        rec.push_frame(Timestamp::from_millis(i as u64 * 100), &frame)
            .unwrap();
    }
    rec.push_chat(
        Timestamp::from_millis(150),
        SenderRole::Customer,
        "Kim",
        SECRET_CHAT,
    )
    .unwrap();
    rec.push_diagnostic(
        Timestamp::from_millis(200),
        "processes.txt",
        MediaType::Text,
        b"PID 1 init\nPID 42 secret-service\n",
    )
    .unwrap();
    rec.push_event(
        Timestamp::from_millis(250),
        EventKind::RemoteControlGranted,
        "ron",
    )
    .unwrap();
    rec.finish().unwrap();
}

#[test]
fn catalog_story_end_to_end() {
    let story = Story {
        dir: tempfile::tempdir().unwrap(),
    };
    let d = story.dir.path();
    let raw = frames();
    std::fs::write(d.join("term.bgra"), &raw).unwrap();

    // --- A company manager sets up the organisation.
    story.ok("boss", "create", &["--insecure-fast-kdf"]);
    story.ok("boss", "add-portal", &["support"]);
    story.ok("boss", "add-portal", &["support-de", "--parent", "support"]);
    story.ok("boss", "add-portal", &["sales"]);
    story.ok("boss", "add-team", &["emea"]);
    story.ok("boss", "add-team", &["emea-fr", "--parent", "emea"]);
    story.ok("boss", "add-team", &["apac"]);
    story.ok("boss", "assign-team", &["emea", "support"]);
    story.ok("boss", "assign-team", &["apac", "sales"]);
    story.add_user("add-manager", "tina", &["--team", "emea"]);
    story.add_user("add-manager", "tom", &["--team", "apac"]);
    story.add_user("add-rep", "ron", &["--team", "emea-fr", "--mc-access"]);
    story.add_user("add-rep", "rita", &["--team", "emea", "--mc-access"]);
    story.add_user("add-rep", "nick", &["--team", "emea-fr"]);
    story.add_user("add-rep", "pat", &["--team", "apac", "--mc-access"]);
    // A team manager cannot add users.
    let e = story.refused("tina", "add-portal", &["rogue"]);
    assert!(e.contains("tina"), "{e}");

    // --- Recordings made by the support clients, imported with their metadata.
    let ago = format!("@{}", now_secs() - 100 * 86_400);
    for (id, portal, team, rep, started) in [
        ("S1", "support", "emea-fr", "ron", None),
        ("S2", "support", "emea", "rita", Some(ago.as_str())),
        ("S5", "sales", "apac", "pat", None),
    ] {
        let out = format!("{id}.g2a");
        let mut args = vec![
            "import",
            "--raw",
            "960x540",
            "--fps",
            "10",
            "term.bgra",
            "-o",
            &out,
            "--session-id",
            id,
            "--portal",
            portal,
            "--team",
            team,
            "--representative",
            rep,
            "--customer",
            "acme",
        ];
        if let Some(t) = started {
            args.extend_from_slice(&["--started-at", t]);
        }
        let o = g2a(&args, d);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    story.ok("boss", "import", &["S1.g2a", "S2.g2a", "S5.g2a"]);
    // Imported recordings live under the catalog directory.
    assert!(d.join("catalog/recordings/S1/S1.g2a").exists());

    // --- Search: each role sees what it may.
    let all = story.ok("boss", "search", &[]);
    assert!(all.contains("S1") && all.contains("S5"), "{all}");
    assert!(
        !all.contains("S2"),
        "expired sessions are not listed: {all}"
    );
    let tina = story.ok("tina", "search", &[]);
    assert!(tina.contains("S1") && !tina.contains("S5"), "{tina}");
    let tina_sub = story.ok("tina", "search", &["--team", "emea"]);
    assert!(tina_sub.contains("S1"), "subteams are included: {tina_sub}");
    let ron = story.ok("ron", "search", &[]);
    assert!(ron.contains("S1") && !ron.contains("S5"), "{ron}");
    let by_id = story.ok("boss", "search", &["--id", "S1"]);
    assert!(by_id.contains("rep ron"), "{by_id}");
    story.refused("nick", "search", &[]);
    let old_from = format!("@{}", now_secs() - 120 * 86_400);
    let e = story.refused("boss", "search", &["--from", &old_from]);
    assert!(
        e.contains(
            "Session data is only stored for 90 days. Date range begins too far in the past."
        ),
        "{e}"
    );

    // --- Replay and export: every role x action on ron's session S1.
    let s1_frame = &raw[(W * H * 4) as usize * 3..(W * H * 4) as usize * 4];
    for (user, allowed) in [
        ("boss", true),
        ("tina", true),
        ("ron", true),
        ("tom", false),
        ("rita", false),
        ("nick", false),
    ] {
        let png = format!("{user}-S1.png");
        let mp4 = format!("{user}-S1.mp4");
        let actions: [(&str, Vec<&str>); 4] = [
            ("frame", vec!["S1", "--at", "0.35", "-o", &png]),
            ("export", vec!["S1", "-o", &mp4, "--no-chat"]),
            ("chat", vec!["S1"]),
            ("diag", vec!["S1"]),
        ];
        for (sub, args) in &actions {
            if allowed {
                story.ok(user, sub, args);
            } else {
                let e = story.refused(user, sub, args);
                assert!(
                    e.contains("not permitted") || e.contains("Management Center"),
                    "{user} {sub}: {e}"
                );
                assert!(
                    !e.contains("ron"),
                    "a refusal says nothing of the session: {e}"
                );
            }
        }
        assert_eq!(d.join(&png).exists(), allowed, "{user}");
        assert_eq!(d.join(&mp4).exists(), allowed, "{user}");
        if allowed {
            let (w, h, rgb) = png_rgb(&d.join(&png));
            assert_eq!((w, h), (W, H));
            assert!(
                rgb == bgra_to_rgb(s1_frame),
                "{user}: the frame at 0.35 s is frame 3"
            );
            let mp4 = std::fs::read(d.join(&mp4)).unwrap();
            assert_eq!(&mp4[4..8], b"ftyp", "{user}: an MP4 file");
        }
    }
    let e = story.refused("boss", "frame", &["S2", "--at", "0", "-o", "old.png"]);
    assert!(
        e.contains("Data no longer available – Session data is only stored for 90 days."),
        "{e}"
    );

    // --- A passphrase on portal "support": only company managers, with their password.
    let pp1 = story.secret_file("pp1", "correct horse battery staple");
    let pp2 = story.secret_file("pp2", "a new and longer passphrase");
    let wrong = story.secret_file("wrong", "not the passphrase at all");
    story.refused(
        "tina",
        "set-passphrase",
        &["support", "--passphrase-file", &pp1],
    );
    story.ok(
        "boss",
        "set-passphrase",
        &["support", "--passphrase-file", &pp1],
    );
    let recipient = story.ok("boss", "recipient", &["support"]);
    let recipient = recipient.trim();
    assert!(recipient.starts_with("age1"), "{recipient}");
    // Subportals share their parent's key; other portals have none.
    assert_eq!(
        story.ok("boss", "recipient", &["support-de"]).trim(),
        recipient
    );
    let err = story.refused("boss", "recipient", &["sales"]);
    assert!(err.contains("no session replay passphrase"), "{err}");

    // A new recording under the passphrase, made knowing only the public key,
    // and one through `g2a import --encrypt-to`.
    record_encrypted(&d.join("S3.g2a"), recipient, &raw);
    let o = g2a(
        &[
            "import",
            "--raw",
            "960x540",
            "--fps",
            "10",
            "term.bgra",
            "-o",
            "S4.g2a",
            "--session-id",
            "S4",
            "--portal",
            "support",
            "--team",
            "emea-fr",
            "--representative",
            "ron",
            "--encrypt-to",
            recipient,
        ],
        d,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    story.ok("boss", "import", &["S3.g2a", "S4.g2a"]);

    // Encrypted at rest: the files and the database hold neither the chat
    // nor the passphrase, and the plain commands refuse the content.
    let file = std::fs::read(d.join("catalog/recordings/S3/S3.g2a")).unwrap();
    assert!(!contains(&file, SECRET_CHAT.as_bytes()));
    assert!(!contains(&file, b"secret-service"));
    let db = std::fs::read(d.join("catalog/catalog.sqlite")).unwrap();
    assert!(!contains(&db, b"correct horse battery staple"));
    for args in [
        vec!["chat", "S3.g2a"],
        vec!["diag", "S3.g2a"],
        vec!["frame", "S3.g2a", "--at", "0", "-o", "x.png"],
        vec!["export", "S3.g2a", "-o", "x.mp4"],
    ] {
        let o = g2a(&args, d);
        assert!(!o.status.success(), "{args:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("is encrypted"));
    }
    // Framing stays clear: verify and info work without the key.
    assert!(g2a(&["verify", "S3.g2a"], d).status.success());

    // Replay needs the passphrase, and the right one.
    let e = story.refused("boss", "chat", &["S3"]);
    assert!(e.contains("passphrase required"), "{e}");
    let e = story.refused("boss", "chat", &["S3", "--passphrase-file", &wrong]);
    assert!(e.contains("wrong session replay passphrase"), "{e}");
    let chat = story.ok("boss", "chat", &["S3", "--passphrase-file", &pp1]);
    assert!(chat.contains(SECRET_CHAT), "{chat}");
    let diag = story.ok(
        "tina",
        "diag",
        &[
            "S3",
            "--passphrase-file",
            &pp1,
            "--name",
            "processes.txt",
            "-o",
            "-",
        ],
    );
    assert!(diag.contains("secret-service"), "{diag}");
    story.ok(
        "ron",
        "frame",
        &[
            "S3",
            "--at",
            "0.35",
            "-o",
            "S3.png",
            "--passphrase-file",
            &pp1,
        ],
    );
    assert!(png_rgb(&d.join("S3.png")).2 == bgra_to_rgb(s1_frame));
    story.ok(
        "boss",
        "export",
        &["S4", "-o", "S4.wmv", "--passphrase-file", &pp1],
    );
    assert!(std::fs::metadata(d.join("S4.wmv")).unwrap().len() > 1000);
    // Rights come first: the passphrase does not open what the user may not see.
    let e = story.refused("tom", "chat", &["S3", "--passphrase-file", &pp1]);
    assert!(e.contains("not permitted"), "{e}");

    // --- Change the passphrase: the recording replays with the new one only.
    story.refused(
        "boss",
        "change-passphrase",
        &[
            "support",
            "--passphrase-file",
            &wrong,
            "--new-passphrase-file",
            &pp2,
        ],
    );
    story.ok(
        "boss",
        "change-passphrase",
        &[
            "support",
            "--passphrase-file",
            &pp1,
            "--new-passphrase-file",
            &pp2,
        ],
    );
    let e = story.refused("boss", "chat", &["S3", "--passphrase-file", &pp1]);
    assert!(e.contains("wrong session replay passphrase"), "{e}");
    let chat = story.ok("boss", "chat", &["S3", "--passphrase-file", &pp2]);
    assert!(chat.contains(SECRET_CHAT), "{chat}");
    story.ok(
        "boss",
        "frame",
        &[
            "S3",
            "--at",
            "0.75",
            "-o",
            "S3b.png",
            "--passphrase-file",
            &pp2,
        ],
    );
    let n = (W * H * 4) as usize;
    assert!(png_rgb(&d.join("S3b.png")).2 == bgra_to_rgb(&raw[n * 7..n * 8]));

    // A truncated encrypted recording opens up to its last complete record.
    let cut = &file[..file.len() * 3 / 5];
    std::fs::write(d.join("S3-cut.g2a"), cut).unwrap();
    assert!(!g2a(&["verify", "S3-cut.g2a"], d).status.success());
    let o = g2a(&["recover", "S3-cut.g2a", "-o", "S3-rec.g2a"], d);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(g2a(&["verify", "S3-rec.g2a"], d).status.success());
    // ... and replays up to there, through the library, as the Player of an
    // embedding program would.
    let cat = g2a_catalog::Catalog::open(&d.join("catalog")).unwrap();
    let me = cat.login("boss", "boss-Vq8#Lw2!pZ").unwrap();
    let pp = g2a_catalog::Passphrase::new("a new and longer passphrase").unwrap();
    let grant = cat
        .open_for(&me, "S3", g2a_catalog::Action::Replay, Some(&pp))
        .unwrap();
    let cipher = grant.cipher.as_ref().unwrap().shared();
    // The replay window is given the files after the rights check and asks
    // for the passphrase itself (`g2a catalog play`).
    let (located, encrypted) = cat
        .locate_for(&me, "S3", g2a_catalog::Action::Replay)
        .unwrap();
    assert!(encrypted && located.cipher.is_none() && located.files[0].exists());
    let tom = cat.login("tom", "tom-Vq8#Lw2!pZ").unwrap();
    assert!(cat
        .locate_for(&tom, "S3", g2a_catalog::Action::Replay)
        .unwrap_err()
        .is_denied());
    let mut player = g2a::Player::open_with_cipher(d.join("S3-cut.g2a"), cipher).unwrap();
    let last = player.duration();
    assert!(last < Timestamp::from_millis(700), "cut: {last}");
    let f = player.frame_at(Timestamp::from_millis(350)).unwrap();
    let k = (f.ts.as_micros() / 100_000) as usize;
    assert!(k >= 1, "the cut file keeps frames past the first: {}", f.ts);
    assert!(
        bgra_to_rgb(f.data) == bgra_to_rgb(&raw[n * k..n * (k + 1)]),
        "frame {k} of the cut file"
    );

    // --- Every replay and export is in the audit log, refusals too.
    let audit = story.ok("boss", "audit", &["--limit", "500"]);
    assert!(
        audit
            .lines()
            .any(|l| l.contains("tom frame S1") && l.contains("refused")),
        "{audit}"
    );
    assert!(
        audit
            .lines()
            .any(|l| l.contains("ron frame S3") && l.contains("allowed")),
        "{audit}"
    );
    assert!(
        audit
            .lines()
            .any(|l| l.contains("boss export S4") && l.contains("allowed")),
        "{audit}"
    );
    assert!(
        !audit.contains("correct horse"),
        "the passphrase is never logged"
    );
    story.refused("tina", "audit", &[]);

    // --- Retention: the purge deletes expired recordings and their data.
    story.refused("tina", "purge", &[]);
    let out = story.ok("boss", "purge", &[]);
    assert!(out.contains("purged 1 session"), "{out}");
    assert!(!d.join("catalog/recordings/S2").exists());
    assert!(d.join("catalog/recordings/S1/S1.g2a").exists());
    let e = story.refused("boss", "chat", &["S2"]);
    assert!(e.contains("Data no longer available"), "{e}");
    // Shorter retention, then purge again: everything else expires too.
    story.ok("boss", "set-retention", &["30"]);
    assert!(story.ok("boss", "purge", &[]).contains("purged 0 session"));
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
