//! The security review's findings through the `g2a` binary: a weak
//! password leaves no catalog behind, files are private, a batch import
//! goes on past a bad file, customer text can't drive the terminal, a
//! read-only catalog still searches, errors are one bounded line, and the
//! management commands managers asked for work.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use g2a::{Recorder, RecorderOptions};
use g2a_core::{FrameRef, PixelFormat, Size, Timestamp};
use g2a_format::{MediaType, SenderRole, SessionHeader};

const W: u32 = 64;
const H: u32 = 48;
const HOSTILE_CHAT: &str = "hi\u{1b}[2J\u{1b}]0;owned\u{7}\u{202e}there";
const HOSTILE_DOC: &[u8] = b"PID 1 init\n\x1b[31mred\x1b[0m\n";

struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Self {
        Cli {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `g2a catalog SUB --catalog catalog --as USER ARGS...`, the user's
    /// password `USER-Vq8#Lw2!pZ` in G2A_PASSWORD.
    fn run(&self, user: &str, sub: &str, args: &[&str]) -> Output {
        self.run_env(user, sub, args, &[])
    }

    fn run_env(&self, user: &str, sub: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_g2a"));
        c.args(["catalog", sub, "--catalog", "catalog", "--as", user])
            .args(args)
            .env("G2A_PASSWORD", format!("{user}-Vq8#Lw2!pZ"))
            .env("G2A_NEW_PASSWORD", "brand-new-Hk3$mT9&qZ")
            .env_remove("G2A_PASSPHRASE")
            .current_dir(self.dir.path());
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }

    fn ok(&self, user: &str, sub: &str, args: &[&str]) -> String {
        let o = self.run(user, sub, args);
        assert!(
            o.status.success(),
            "{user} {sub} {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// A refusal: non-zero exit, one line on stderr.
    fn refused(&self, user: &str, sub: &str, args: &[&str]) -> String {
        one_line_error(&self.run(user, sub, args))
    }
}

fn one_line_error(o: &Output) -> String {
    assert!(
        !o.status.success(),
        "allowed: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("g2a: ")).collect();
    assert_eq!(lines.len(), 1, "one error line expected: {err}");
    lines[0].to_owned()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
}

/// A small recording of frames of the terminal sample, with the given chat
/// message and diagnostic document, if any.
fn record(path: &Path, id: &str, team: &str, chat: Option<&str>, doc: Option<&[u8]>) {
    let all = zstd::decode_all(
        std::fs::File::open(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/term-960x540-40f.bgra.zst"),
        )
        .unwrap(),
    )
    .unwrap();
    let header = SessionHeader::new(id, Size::new(W, H))
        .with_portal("support")
        .with_team(team)
        .with_representative("ron")
        .with_customer("Customer Albertine Rookwood")
        .with_start_time_unix_micros(now_micros() - 3_600_000_000);
    let mut rec = Recorder::create(path, header, RecorderOptions::default()).unwrap();
    for i in 0..4usize {
        // The top-left 64x48 corner of frame i (rows of 960 pixels).
        let mut px = Vec::with_capacity((W * H * 4) as usize);
        for row in 0..H as usize {
            let at = i * 960 * 540 * 4 + row * 960 * 4;
            px.extend_from_slice(&all[at..at + (W * 4) as usize]);
        }
        let frame = FrameRef::packed(&px, Size::new(W, H), PixelFormat::Bgra8).unwrap();
        rec.push_frame(Timestamp::from_millis(i as u64 * 100), &frame)
            .unwrap();
    }
    if let Some(text) = chat {
        rec.push_chat(
            Timestamp::from_millis(150),
            SenderRole::Customer,
            "Kim",
            text,
        )
        .unwrap();
    }
    if let Some(data) = doc {
        rec.push_diagnostic(
            Timestamp::from_millis(200),
            "processes.txt",
            MediaType::Text,
            data,
        )
        .unwrap();
    }
    rec.finish().unwrap();
}

/// Runs `g2a ARGS` under a pseudo-terminal (util-linux `script`), as a
/// person at a terminal would, and returns what the terminal received.
fn on_terminal(cwd: &Path, args: &[&str], password: &str) -> Vec<u8> {
    let mut cmd = String::from(env!("CARGO_BIN_EXE_g2a"));
    for a in args {
        cmd.push_str(" '");
        cmd.push_str(a);
        cmd.push('\'');
    }
    let o = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("G2A_PASSWORD", password)
        .current_dir(cwd)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    o.stdout
}

#[test]
fn review_findings_through_the_cli() {
    let cli = Cli::new();
    let d = cli.dir.path();

    // A weak password is refused and leaves nothing, so the fixed command works.
    for weak in ["", "a", "boss123"] {
        let o = cli.run_env(
            "boss",
            "create",
            &["--insecure-fast-kdf"],
            &[("G2A_PASSWORD", weak)],
        );
        let e = one_line_error(&o);
        assert!(e.contains("password is too weak"), "{weak:?}: {e}");
        assert!(!cli.path("catalog/catalog.sqlite").exists());
    }
    cli.ok("boss", "create", &["--insecure-fast-kdf"]);
    assert_eq!(mode(&cli.path("catalog")), 0o700);
    assert_eq!(mode(&cli.path("catalog/catalog.sqlite")), 0o600);
    assert_eq!(mode(&cli.path("catalog/recordings")), 0o700);

    cli.ok("boss", "add-portal", &["support"]);
    cli.ok("boss", "add-team", &["emea"]);
    cli.ok("boss", "add-team", &["apac"]);
    cli.ok("boss", "assign-team", &["emea", "support"]);
    let e = cli.refused("boss", "add-team", &["emea\u{200b}"]);
    assert!(e.contains("U+200B"), "{e}");
    for (name, extra) in [
        ("ron", &["--team", "emea", "--mc-access"][..]),
        ("nick", &["--team", "emea"][..]),
        ("tina", &["--team", "emea"][..]),
    ] {
        let sub = if name == "tina" {
            "add-manager"
        } else {
            "add-rep"
        };
        let pw = cli.path(&format!("{name}.pw"));
        std::fs::write(&pw, format!("{name}-Vq8#Lw2!pZ\n")).unwrap();
        let pw = pw.display().to_string();
        let mut args = vec![name, "--new-password-file", pw.as_str()];
        args.extend_from_slice(extra);
        cli.ok("boss", sub, &args);
    }

    // A batch import goes on past a refused file, then says how many failed.
    record(
        &cli.path("E1.g2a"),
        "E1",
        "emea",
        Some(HOSTILE_CHAT),
        Some(HOSTILE_DOC),
    );
    record(&cli.path("E2.g2a"), "E2", "emea", None, None);
    record(&cli.path("W1.g2a"), "W1", "apac", Some("wrong team"), None);
    let o = cli.run("boss", "import", &["E1.g2a", "W1.g2a", "E2.g2a"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("W1") && err.contains("\"apac\""), "{err}");
    assert!(err.contains("1 of 3"), "{err}");
    let all = cli.ok("boss", "search", &[]);
    assert!(
        all.contains("E1") && all.contains("E2") && !all.contains("W1"),
        "{all}"
    );
    // The override, explicitly, with the warning said.
    let o = cli.run("boss", "import", &["W1.g2a", "--accept-attribution"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("attribution accepted"));
    let e = cli.refused("boss", "import", &["E1.g2a"]);
    assert!(e.contains("already exists") || e.contains("exists"), "{e}");
    assert_eq!(mode(&cli.path("catalog/recordings/E1/E1.g2a")), 0o600);

    // Customer text never reaches the terminal raw.
    let chat = cli.ok("ron", "chat", &["E1"]);
    assert!(
        !chat.contains('\u{1b}') && !chat.contains('\u{202e}'),
        "{chat:?}"
    );
    assert!(chat.contains("\\u{1b}[2J"), "{chat}");
    assert_eq!(cli.ok("ron", "chat", &["E2"]).trim(), "no chat messages");
    let tty = on_terminal(
        d,
        &[
            "catalog",
            "diag",
            "E1",
            "--catalog",
            "catalog",
            "--as",
            "ron",
            "--name",
            "processes.txt",
            "-o",
            "-",
        ],
        "ron-Vq8#Lw2!pZ",
    );
    assert!(!tty.contains(&0x1b), "{}", String::from_utf8_lossy(&tty));
    let tty = on_terminal(d, &["chat", "catalog/recordings/E1/E1.g2a"], "");
    assert!(!tty.contains(&0x1b), "{}", String::from_utf8_lossy(&tty));
    // Into a pipe the document is as recorded.
    let o = cli.run("ron", "diag", &["E1", "--name", "processes.txt", "-o", "-"]);
    assert_eq!(o.stdout, HOSTILE_DOC);
    // An unreadable passphrase file does not matter for a clear recording.
    cli.ok(
        "ron",
        "chat",
        &["E1", "--passphrase-file", "/nonexistent/pp"],
    );

    // Recipient: refused without Management Center access; non-zero
    // without a passphrase.
    let e = cli.refused("nick", "recipient", &["support"]);
    assert!(e.contains("Management Center"), "{e}");
    let e = cli.refused("boss", "recipient", &["support"]);
    assert!(e.contains("no session replay passphrase"), "{e}");

    // Search: JSON with durations, --to alone, --from exactly 90 days ago,
    // and nothing said about names outside one's reach.
    let json: serde_json::Value =
        serde_json::from_str(&cli.ok("boss", "search", &["--id", "E1", "--json"])).unwrap();
    let s = &json["sessions"][0];
    assert_eq!(s["id"], "E1");
    assert_eq!(s["duration_micros"], 300_000, "{s}");
    let today = now_micros() / 86_400_000_000 * 86_400;
    let to = format!("@{}", today + 86_400);
    assert!(cli.ok("boss", "search", &["--to", &to]).contains("E1"));
    let from = format!("@{}", today - 90 * 86_400);
    assert!(cli.ok("boss", "search", &["--from", &from]).contains("E1"));
    let tina_unknown = cli.ok("tina", "search", &["--rep", "nobody-at-all"]);
    let tina_other = cli.ok("tina", "search", &["--rep", "boss"]);
    assert_eq!(tina_unknown, tina_other);

    // Errors are one line, bounded, each cause said once.
    let long = "S".repeat(100_000);
    let e = cli.refused("boss", "frame", &[&long, "--at", "0", "-o", "x.png"]);
    assert!(e.len() < 300, "{} bytes", e.len());
    let e = cli.refused("boss", "import", &["missing.g2a"]);
    assert_eq!(e.matches("No such file").count(), 1, "{e}");

    // Management commands.
    let users = cli.ok("boss", "users", &[]);
    assert!(users.contains("ron") && users.contains("tina"), "{users}");
    assert!(cli.ok("boss", "teams", &[]).contains("emea"));
    assert!(cli.ok("boss", "portals", &[]).contains("support"));
    cli.ok(
        "boss",
        "set-policy",
        &["--team-managers-manage-reps", "yes"],
    );
    cli.ok("tina", "set-password", &["nick"]);
    let o = cli.run_env(
        "nick",
        "search",
        &[],
        &[("G2A_PASSWORD", "brand-new-Hk3$mT9&qZ")],
    );
    assert!(!o.status.success(), "nick has no Management Center access");
    assert!(String::from_utf8_lossy(&o.stderr).contains("Management Center"));
    cli.ok("ron", "passwd", &[]);
    let o = cli.run_env(
        "ron",
        "search",
        &[],
        &[("G2A_PASSWORD", "brand-new-Hk3$mT9&qZ")],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    cli.ok("boss", "set-manager-teams", &["tina", "--team", "apac"]);
    cli.ok("boss", "set-attribution", &["W1", "--team", "emea"]);
    cli.ok("boss", "delete-session", &["W1"]);
    assert!(!cli.path("catalog/recordings/W1").exists());
    cli.ok("boss", "unassign-team", &["emea", "support"]);
    cli.ok("boss", "rename-user", &["nick", "nicholas"]);
    cli.ok("boss", "delete-user", &["nicholas"]);
    let audit = cli.ok(
        "boss",
        "audit",
        &["--user", "tina", "--json", "--limit", "100"],
    );
    let audit: serde_json::Value = serde_json::from_str(&audit).unwrap();
    let entries = audit.as_array().unwrap();
    assert!(!entries.is_empty() && entries.iter().all(|e| e["actor"] == "tina"));
    let on_w1 = cli.ok("boss", "audit", &["--session", "W1"]);
    assert!(
        on_w1.contains("delete-session") && on_w1.contains("set-attribution"),
        "{on_w1}"
    );

    // A read-only catalog searches, and refuses what it can't log.
    std::fs::set_permissions(
        cli.path("catalog/catalog.sqlite"),
        std::fs::Permissions::from_mode(0o400),
    )
    .unwrap();
    assert!(cli.ok("boss", "search", &[]).contains("E1"));
    let e = cli.refused("boss", "frame", &["E1", "--at", "0", "-o", "ro.png"]);
    assert!(e.contains("read-only"), "{e}");
}
