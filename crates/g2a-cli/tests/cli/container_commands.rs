//! The container commands run as a user would: info, verify, recover, chat, diag.

use std::path::Path;

use g2a_core::{Size, Timestamp};
use g2a_format::{
    CodecId, EventKind, MediaType, Record, SenderRole, SessionHeader, Writer, WriterOptions,
};

use crate::g2a;

fn write_session(path: &Path) {
    let h = SessionHeader::new("S-100", Size::new(800, 600))
        .with_portal("support")
        .with_team("Tier 2")
        .with_representative("Ann")
        .with_customer("ACME")
        .with_start_time_unix_micros(1_700_000_000_000_000);
    let mut w = Writer::create(path, h, WriterOptions::default()).unwrap();
    let codec = CodecId(*b"TEST");
    for i in 0..30u64 {
        let ts = Timestamp::from_millis(i * 100);
        w.write(&Record::Video {
            ts,
            codec,
            keyframe: i % 10 == 0,
            data: &[i as u8; 200],
        })
        .unwrap();
    }
    w.write(&Record::Chat {
        ts: Timestamp::from_secs(1),
        role: SenderRole::Customer,
        sender: "Bob",
        text: "my printer is broken",
    })
    .unwrap();
    w.write(&Record::Chat {
        ts: Timestamp::from_secs(2),
        role: SenderRole::Representative,
        sender: "Ann",
        text: "let me look",
    })
    .unwrap();
    w.write(&Record::Diagnostic {
        ts: Timestamp::from_secs(2),
        name: "system.json",
        media_type: MediaType::Json,
        data: br#"{"os":"Debian 12"}"#,
    })
    .unwrap();
    w.write(&Record::Event {
        ts: Timestamp::from_secs(2),
        kind: EventKind::RemoteControlGranted,
        detail: "",
    })
    .unwrap();
    w.finish().unwrap();
}

#[test]
fn info_verify_chat_diag_on_a_finished_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.g2a");
    write_session(&p);
    let ps = p.to_str().unwrap();

    let o = g2a(&["info", ps, "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["session_id"], "S-100");
    assert_eq!(v["keyframes"], 3);
    assert_eq!(v["tracks"][0]["records"], 30);
    assert_eq!(v["start_time"], "2023-11-14 22:13:20 UTC");
    assert_eq!(v["files"][0]["complete"], true);

    let o = g2a(&["verify", ps]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));

    let o = g2a(&["chat", ps]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(text, "[00:00:01.000] Bob (customer): my printer is broken\n[00:00:02.000] Ann (representative): let me look\n");

    let o = g2a(&["diag", ps]);
    assert!(String::from_utf8(o.stdout)
        .unwrap()
        .contains("system.json  application/json  18 bytes"));
    let out = dir.path().join("sys.json");
    let o = g2a(&[
        "diag",
        ps,
        "--name",
        "system.json",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert_eq!(std::fs::read(&out).unwrap(), br#"{"os":"Debian 12"}"#);
    let o = g2a(&["diag", ps, "--name", "nope", "-o", out.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(String::from_utf8(o.stderr).unwrap().contains("system.json"));
}

#[test]
fn verify_names_damage_and_recover_repairs_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.g2a");
    write_session(&p);
    let mut bytes = std::fs::read(&p).unwrap();
    let cut = bytes.len() - 100;
    bytes.truncate(cut);
    bytes[600] ^= 0x10;
    std::fs::write(&p, &bytes).unwrap();
    let ps = p.to_str().unwrap();

    let o = g2a(&["verify", ps]);
    assert_eq!(o.status.code(), Some(2));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("damaged bytes"), "{text}");
    assert!(text.contains("no trailer"), "{text}");

    let fixed = dir.path().join("fixed.g2a");
    let o = g2a(&["recover", ps, "-o", fixed.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = g2a(&["verify", fixed.to_str().unwrap()]);
    assert!(o.status.success());
}

#[test]
fn errors_are_one_line() {
    let o = g2a(&["info", "/nonexistent/x.g2a"]);
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8(o.stderr).unwrap();
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.starts_with("g2a: cannot open /nonexistent/x.g2a"));

    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("junk.g2a");
    std::fs::write(&p, b"this is not a recording").unwrap();
    let o = g2a(&["verify", p.to_str().unwrap()]);
    let e = String::from_utf8(o.stderr).unwrap();
    assert_eq!(e.lines().count(), 1);
    assert!(e.contains("not a .g2a file"), "{e}");
}
