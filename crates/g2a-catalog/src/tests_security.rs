//! Tests of the security review's findings: private files, untrusted
//! headers, passphrase coverage, secure deletion, the audit trail,
//! throttling, equal work for unknown users, names outside one's reach,
//! weak secrets, look-alike names. Each fails without its fix.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use g2a_core::{Size, Timestamp};
use g2a_format::{
    CodecId, EncryptionInfo, Record, SenderRole, SessionHeader, Writer, WriterOptions,
};

use crate::tests::{fixture, session, Fixture, DAY, NOW};
use crate::*;

pub(crate) const ADMIN_PW: &str = "admin-pw-Vq8#Lw2!pZ";
pub(crate) const PP_ACME: &str = "acme passphrase orbit lantern 7";
pub(crate) const PP_OTHER: &str = "other passphrase quay meridian 9";

pub(crate) fn pp(s: &str) -> Passphrase {
    Passphrase::new(s).unwrap()
}

/// What a test recording's header claims.
pub(crate) struct Claim<'a> {
    pub(crate) id: &'a str,
    pub(crate) portal: &'a str,
    pub(crate) team: &'a str,
    pub(crate) rep: &'a str,
    pub(crate) customer: &'a str,
}

impl<'a> Claim<'a> {
    /// A session of `rep1` in team `support` on portal `acme`.
    pub(crate) fn acme(id: &'a str) -> Self {
        Claim {
            id,
            portal: "acme",
            team: "support",
            rep: "rep1",
            customer: "Customer Quentin Vallory",
        }
    }
}

/// Writes a small real recording (ten video records, a chat message, a
/// diagnostic), encrypted to `recipient` when given.
pub(crate) fn write_recording(
    dir: &Path,
    c: &Claim<'_>,
    recipient: Option<&PortalRecipient>,
) -> PathBuf {
    let mut h = SessionHeader::new(c.id, Size::new(64, 48))
        .with_portal(c.portal)
        .with_team(c.team)
        .with_representative(c.rep)
        .with_customer(c.customer)
        .with_start_time_unix_micros(NOW - DAY)
        .with_recorder("catalog-tests", "1");
    let mut opts = WriterOptions::default();
    if let Some(r) = recipient {
        let (cipher, key_block) = RecordCipher::new_for_recording(r).unwrap();
        h.encryption = Some(EncryptionInfo {
            scheme: SCHEME.to_owned(),
            key_block,
        });
        opts = opts.cipher(cipher.shared());
    }
    let path = dir.join(format!("{}.g2a", c.id));
    let mut w = Writer::create(&path, h, opts).unwrap();
    for i in 0..10u64 {
        w.write(&Record::Video {
            ts: Timestamp::from_millis(i * 100),
            codec: CodecId(*b"TEST"),
            keyframe: i % 5 == 0,
            data: &[i as u8; 300],
        })
        .unwrap();
    }
    w.write(&Record::Chat {
        ts: Timestamp::from_millis(150),
        role: SenderRole::Customer,
        sender: "Customer",
        text: "my card number is 4111",
    })
    .unwrap();
    w.finish().unwrap();
    path
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn chmod(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

/// The database file and its write-ahead log, as an attacker with a copy
/// of the catalog's files would read them.
fn db_bytes(cat: &Catalog) -> Vec<u8> {
    let mut v = std::fs::read(cat.dir().join("catalog.sqlite")).unwrap();
    if let Ok(w) = std::fs::read(cat.dir().join("catalog.sqlite-wal")) {
        v.extend(w);
    }
    v
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The newest audit entries, newest first.
pub(crate) fn audit(f: &Fixture, n: u32) -> Vec<AuditEntry> {
    f.cat.audit_log(&f.admin, &AuditQuery::newest(n)).unwrap()
}

fn find<'a>(log: &'a [AuditEntry], actor: &str, action: &str) -> &'a AuditEntry {
    log.iter()
        .find(|e| e.actor == actor && e.action == action)
        .unwrap_or_else(|| panic!("no {actor} {action} entry in {log:#?}"))
}

#[test]
fn catalog_files_are_private_and_loose_modes_are_refused() {
    let f = fixture();
    let src = tempfile::tempdir().unwrap();
    let file = write_recording(src.path(), &Claim::acme("P1"), None);
    chmod(&file, 0o644);
    f.cat
        .import_recording(&f.admin, &file, &ImportOptions::default())
        .unwrap();
    let dir = f.cat.dir().to_path_buf();
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("catalog.sqlite")), 0o600);
    if dir.join("catalog.sqlite-wal").exists() {
        assert_eq!(mode(&dir.join("catalog.sqlite-wal")), 0o600);
    }
    assert_eq!(mode(&dir.join("recordings")), 0o700);
    assert_eq!(mode(&dir.join("recordings/P1")), 0o700);
    assert_eq!(mode(&dir.join("recordings/P1/P1.g2a")), 0o600);

    // A recording file made readable to others is refused at replay.
    chmod(&dir.join("recordings/P1/P1.g2a"), 0o644);
    let e = f
        .cat
        .open_for(&f.admin, "P1", Action::Replay, None)
        .unwrap_err();
    assert!(matches!(e, CatalogError::NotPrivate { .. }), "{e}");
    assert!(e.to_string().contains("P1.g2a"), "{e}");
    chmod(&dir.join("recordings/P1/P1.g2a"), 0o600);
    f.cat
        .open_for(&f.admin, "P1", Action::Replay, None)
        .unwrap();

    // A database or folder others may read is refused at open.
    drop(f.cat);
    chmod(&dir.join("catalog.sqlite"), 0o644);
    let e = Catalog::open(&dir).unwrap_err();
    assert!(matches!(e, CatalogError::NotPrivate { .. }), "{e}");
    assert!(e.to_string().contains("catalog.sqlite"), "{e}");
    chmod(&dir.join("catalog.sqlite"), 0o600);
    chmod(&dir, 0o755);
    assert!(matches!(
        Catalog::open(&dir),
        Err(CatalogError::NotPrivate { .. })
    ));
    chmod(&dir, 0o700);
    Catalog::open(&dir).unwrap();
}

#[test]
fn import_checks_the_header_against_the_organisation() {
    let f = fixture();
    let src = tempfile::tempdir().unwrap();
    let strict = ImportOptions::default();

    // A recording claiming another team: rep1 is in support, not sales,
    // and sales does not work on acme.
    let wrong_team = write_recording(
        src.path(),
        &Claim {
            team: "sales",
            ..Claim::acme("A1")
        },
        None,
    );
    let e = f
        .cat
        .import_recording(&f.admin, &wrong_team, &strict)
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, CatalogError::Attribution { .. }), "{msg}");
    assert!(
        msg.contains("\"rep1\"") && msg.contains("\"sales\""),
        "{msg}"
    );
    assert!(msg.contains("\"acme\""), "{msg}");
    // Nothing was imported: the sales manager sees nothing new.
    let tm2 = f.cat.login("tm2", "tm2-pw-Vq8#Lw2!pZ").unwrap();
    assert!(f
        .cat
        .open_for(&tm2, "A1", Action::Replay, None)
        .unwrap_err()
        .is_denied());
    assert!(!f.cat.dir().join("recordings/A1").exists());
    let refused = find(&audit(&f, 20), "admin", "import").clone();
    assert_eq!(refused.session_id.as_deref(), Some("A1"));
    assert!(refused.outcome.starts_with("failed: "), "{refused:?}");

    // A company manager may accept it explicitly; the override is audited.
    let done = f
        .cat
        .import_recording(&f.admin, &wrong_team, &strict.accept_attribution(true))
        .unwrap();
    assert!(
        done.warnings
            .iter()
            .any(|w| w.starts_with("attribution accepted: ")),
        "{:?}",
        done.warnings
    );
    let ok = find(&audit(&f, 20), "admin", "import").clone();
    assert_eq!(ok.outcome, "allowed");
    assert!(
        ok.detail.contains("overridden: attribution accepted"),
        "{ok:?}"
    );

    // A team manager is never a session's representative, override or not.
    let by_manager = write_recording(
        src.path(),
        &Claim {
            rep: "tm",
            ..Claim::acme("A2")
        },
        None,
    );
    for opts in [strict, strict.accept_attribution(true)] {
        let e = f
            .cat
            .import_recording(&f.admin, &by_manager, &opts)
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("\"tm\" is a team-manager, not a representative"),
            "{e}"
        );
    }
    // The same checks guard metadata imports.
    let e = f
        .cat
        .import_metadata(
            &f.admin,
            &[session("M1", "other", "support", "rep1", NOW - DAY)],
        )
        .unwrap_err();
    assert!(matches!(e, CatalogError::Attribution { .. }), "{e}");
    // Only company managers import.
    let tm = f.cat.login("tm", "tm-pw-Vq8#Lw2!pZ").unwrap();
    let right = write_recording(src.path(), &Claim::acme("A3"), None);
    assert!(f
        .cat
        .import_recording(&tm, &right, &strict)
        .unwrap_err()
        .is_denied());
    let e = find(&audit(&f, 20), "tm", "import").clone();
    assert!(e.outcome.starts_with("refused: "), "{e:?}");
    assert!(e.detail.contains("A3.g2a"), "{e:?}");
}

#[test]
fn import_checks_passphrase_coverage() {
    let f = fixture();
    let src = tempfile::tempdir().unwrap();
    let strict = ImportOptions::default();
    f.cat
        .set_passphrase(&f.admin, ADMIN_PW, "acme", &pp(PP_ACME))
        .unwrap();
    f.cat
        .set_passphrase(&f.admin, ADMIN_PW, "other", &pp(PP_OTHER))
        .unwrap();
    let acme_key = f.cat.recording_recipient("acme").unwrap().unwrap();
    let other_key = f.cat.recording_recipient("other").unwrap().unwrap();

    // In clear, into a portal (or a subportal of one) with a passphrase.
    let clear = write_recording(src.path(), &Claim::acme("C1"), None);
    let e = f
        .cat
        .import_recording(&f.admin, &clear, &strict)
        .unwrap_err();
    assert!(matches!(e, CatalogError::Coverage { .. }), "{e}");
    assert!(e.to_string().contains("is not encrypted"), "{e}");
    let clear_eu = write_recording(
        src.path(),
        &Claim {
            portal: "acme-eu",
            ..Claim::acme("C2")
        },
        None,
    );
    let e = f
        .cat
        .import_recording(&f.admin, &clear_eu, &strict)
        .unwrap_err();
    assert!(e.to_string().contains("(of portal \"acme\")"), "{e}");
    // Accepted only explicitly, audited.
    let done = f
        .cat
        .import_recording(&f.admin, &clear, &strict.accept_unencrypted(true))
        .unwrap();
    assert!(
        done.warnings
            .iter()
            .any(|w| w.starts_with("imported in clear")),
        "{:?}",
        done.warnings
    );
    assert!(find(&audit(&f, 5), "admin", "import")
        .detail
        .contains("imported in clear"));

    // Encrypted to another portal's key but labelled acme: refused, naming
    // both portals, even by a company manager.
    let foreign = write_recording(src.path(), &Claim::acme("C3"), Some(&other_key));
    for opts in [
        strict,
        strict.accept_attribution(true).accept_unencrypted(true),
    ] {
        let e = f
            .cat
            .import_recording(&f.admin, &foreign, &opts)
            .unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, CatalogError::Coverage { .. }), "{msg}");
        assert!(
            msg.contains("labelled portal \"acme\" but encrypted to the key of portal \"other\""),
            "{msg}"
        );
    }
    // Encrypted to the parent's key, labelled with the subportal: fine, and
    // it replays with the parent's passphrase.
    let inherited = write_recording(
        src.path(),
        &Claim {
            portal: "acme-eu",
            ..Claim::acme("C4")
        },
        Some(&acme_key),
    );
    f.cat
        .import_recording(&f.admin, &inherited, &strict)
        .unwrap();
    let g = f
        .cat
        .open_for(&f.admin, "C4", Action::Replay, Some(&pp(PP_ACME)))
        .unwrap();
    assert!(g.cipher.is_some());
    let e = f
        .cat
        .open_for(&f.admin, "C4", Action::Replay, Some(&pp(PP_OTHER)))
        .unwrap_err();
    assert!(
        e.to_string().contains("portal \"acme\"") || e.to_string().contains("portal acme"),
        "{e}"
    );
}

#[test]
fn purge_and_delete_leave_nothing_readable_in_the_catalog_files() {
    let f = fixture();
    let src = tempfile::tempdir().unwrap();
    let label_old = "Customer Ottoline Brackenbury-Purged";
    let label_del = "Customer Wilhelmina Strathcarron-Deleted";
    let label_kept = "Customer Kept Nightingale-Stays";
    let mut old = session("X-OLD", "acme", "support", "rep1", NOW - 200 * DAY);
    old.customer = label_old.into();
    let mut kept = session("X-KEPT", "acme", "support", "rep1", NOW - DAY);
    kept.customer = label_kept.into();
    f.cat.import_metadata(&f.admin, &[old, kept]).unwrap();
    let file = write_recording(
        src.path(),
        &Claim {
            customer: label_del,
            ..Claim::acme("X-DEL")
        },
        None,
    );
    f.cat
        .import_recording(&f.admin, &file, &ImportOptions::default())
        .unwrap();
    let bytes = db_bytes(&f.cat);
    assert!(contains(&bytes, label_old.as_bytes()));
    assert!(contains(&bytes, label_del.as_bytes()));

    assert_eq!(f.cat.purge(&f.admin).unwrap(), 2, "X-OLD and fixture's old");
    f.cat.delete_session(&f.admin, "X-DEL").unwrap();
    let bytes = db_bytes(&f.cat);
    assert!(!contains(&bytes, label_old.as_bytes()), "purged label left");
    assert!(
        !contains(&bytes, label_del.as_bytes()),
        "deleted label left"
    );
    assert!(contains(&bytes, label_kept.as_bytes()));
    assert!(!f.cat.dir().join("recordings/X-DEL").exists());
    // The deletion is logged, without the content.
    let log = audit(&f, 10);
    let del = find(&log, "admin", "delete-session");
    assert_eq!(del.session_id.as_deref(), Some("X-DEL"));
    assert!(!del.detail.contains("Wilhelmina"), "{del:?}");
    let purge = find(&log, "admin", "purge");
    assert!(
        purge.detail.contains("2025-10-03"),
        "cutoff date: {purge:?}"
    );
    assert!(purge.detail.contains("2 sessions"), "{purge:?}");
}

#[test]
fn every_attempt_is_audited_with_its_subject_and_bounded_fields() {
    let mut f = fixture();
    let create = f
        .cat
        .audit_log(&f.admin, &AuditQuery::newest(1000))
        .unwrap()
        .into_iter()
        .last()
        .unwrap();
    assert_eq!(
        (create.actor.as_str(), create.action.as_str()),
        ("admin", "create")
    );

    // Failed logins, known and unknown names.
    let _ = f.cat.login("admin", "not the password");
    let _ = f.cat.login("ghost", "not the password");
    let log = audit(&f, 5);
    assert!(find(&log, "admin", "login")
        .outcome
        .starts_with("refused: "));
    assert!(find(&log, "ghost", "login")
        .outcome
        .starts_with("refused: "));

    // Refused management actions by a team manager.
    let tm = f.cat.login("tm", "tm-pw-Vq8#Lw2!pZ").unwrap();
    assert!(f.cat.purge(&tm).unwrap_err().is_denied());
    assert!(f
        .cat
        .set_passphrase(&tm, "tm-pw-Vq8#Lw2!pZ", "acme", &pp(PP_ACME))
        .unwrap_err()
        .is_denied());
    let log = audit(&f, 5);
    assert!(find(&log, "tm", "purge").outcome.starts_with("refused: "));
    let sp = find(&log, "tm", "set-passphrase");
    assert!(
        sp.outcome.starts_with("refused: ") && sp.detail.contains("acme"),
        "{sp:?}"
    );

    // A wrong current passphrase.
    f.cat
        .set_passphrase(&f.admin, ADMIN_PW, "acme", &pp(PP_ACME))
        .unwrap();
    let _ = f.cat.change_passphrase(
        &f.admin,
        ADMIN_PW,
        "acme",
        &pp("not the current passphrase"),
        &pp(PP_OTHER),
    );
    let e = find(&audit(&f, 5), "admin", "change-passphrase").clone();
    assert!(
        e.outcome.contains("wrong session replay passphrase"),
        "{e:?}"
    );

    // What was done is said.
    f.cat.add_portal(&f.admin, "acme-us", Some("acme")).unwrap();
    f.cat.set_retention_days(&f.admin, 30).unwrap();
    let log = audit(&f, 5);
    assert!(find(&log, "admin", "add-portal")
        .detail
        .contains("\"acme-us\""));
    assert!(find(&log, "admin", "add-portal")
        .detail
        .contains("\"acme\""));
    assert_eq!(
        find(&log, "admin", "set-retention").detail,
        "retention 90 -> 30 days"
    );
    f.cat.set_clock(Clock::Fixed(NOW + DAY));

    // Hostile lengths are bounded everywhere.
    let long = "S".repeat(100_000);
    let e = f
        .cat
        .open_for(&f.admin, &long, Action::Replay, None)
        .unwrap_err();
    assert!(e.to_string().len() < 300, "{} bytes", e.to_string().len());
    let e = f
        .cat
        .set_session_attribution(&f.admin, &long, Some("acme"), None, None, false)
        .unwrap_err();
    assert!(e.to_string().len() < 300, "{} bytes", e.to_string().len());
    assert!(e.to_string().contains("(100000 characters)"), "{e}");
    let _ = f.cat.login(&long, "x");
    let log = f.cat.audit_log(&f.admin, &AuditQuery::newest(3)).unwrap();
    for entry in &log {
        let total = entry.actor.len()
            + entry.session_id.as_deref().map_or(0, str::len)
            + entry.outcome.len()
            + entry.detail.len();
        assert!(total < 2_500, "{total} bytes in {:?}", entry.action);
    }
    assert!(log.iter().any(|e| e
        .session_id
        .as_deref()
        .is_some_and(|s| s.ends_with("(100000 characters)"))));
    assert!(log
        .iter()
        .any(|e| e.action == "login" && e.actor.ends_with("(100000 characters)")));
    let page = f.cat.search(&f.admin, &SearchQuery::by_id(&long)).unwrap();
    assert!(page.sessions.is_empty());
}

#[test]
fn throttling_slows_password_and_passphrase_guessing() {
    let mut f = fixture();
    let tm_pw = "tm-pw-Vq8#Lw2!pZ";
    for i in 0..5 {
        let e = f.cat.login("tm", &format!("guess {i}")).unwrap_err();
        assert!(matches!(e, CatalogError::BadCredentials(_)), "{e}");
    }
    // Now even the right password waits.
    let e = f.cat.login("tm", tm_pw).unwrap_err();
    assert!(
        matches!(
            e,
            CatalogError::Throttled {
                retry_after_secs: 1,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("try again in 1 s"), "{e}");
    f.cat.set_clock(Clock::Fixed(NOW + 2_000_000));
    let _ = f.cat.login("tm", "guess 5").unwrap_err();
    // The wait doubles with each further failure.
    f.cat.set_clock(Clock::Fixed(NOW + 3_000_000));
    assert!(matches!(
        f.cat.login("tm", tm_pw),
        Err(CatalogError::Throttled {
            retry_after_secs: 1,
            ..
        })
    ));
    f.cat.set_clock(Clock::Fixed(NOW + 4_100_000));
    f.cat.login("tm", tm_pw).unwrap();
    // A success clears the count; other accounts were never affected.
    f.cat.login("tm", tm_pw).unwrap();
    f.cat.login("tm2", "tm2-pw-Vq8#Lw2!pZ").unwrap();
    // Unknown names are throttled like known ones (nothing tells them apart).
    for _ in 0..5 {
        let _ = f.cat.login("ghost", "x");
    }
    assert!(matches!(
        f.cat.login("ghost", "x"),
        Err(CatalogError::Throttled { .. })
    ));
    let throttled = find(&audit(&f, 3), "ghost", "login").clone();
    assert!(
        throttled.outcome.contains("too many failed"),
        "{throttled:?}"
    );

    // Passphrases: per acting user.
    f.cat
        .set_passphrase(&f.admin, ADMIN_PW, "acme", &pp(PP_ACME))
        .unwrap();
    for i in 0..5 {
        let e = f
            .cat
            .change_passphrase(
                &f.admin,
                ADMIN_PW,
                "acme",
                &pp(&format!("wrong guess number {i}")),
                &pp(PP_OTHER),
            )
            .unwrap_err();
        assert!(matches!(e, CatalogError::WrongPassphrase { .. }), "{e}");
    }
    let e = f
        .cat
        .change_passphrase(&f.admin, ADMIN_PW, "acme", &pp(PP_ACME), &pp(PP_OTHER))
        .unwrap_err();
    assert!(
        matches!(
            e,
            CatalogError::Throttled {
                what: "passphrase",
                ..
            }
        ),
        "{e}"
    );
    f.cat.set_clock(Clock::Fixed(NOW + 10_000_000));
    f.cat
        .change_passphrase(&f.admin, ADMIN_PW, "acme", &pp(PP_ACME), &pp(PP_OTHER))
        .unwrap();
}

#[test]
fn unknown_users_cost_the_same_work_as_known_ones() {
    let f = fixture();
    f.cat
        .add_representative(&f.admin, "nopw", "support", None, false)
        .unwrap();
    let tries = [
        ("tm", "wrong password here"),
        ("ghost", "wrong password here"),
        ("nopw", "wrong password here"),
        (&*"g".repeat(5000), "x"),
    ];
    for (name, pw) in tries {
        let before = f.cat.argon2_runs();
        let e = f.cat.login(name, pw).unwrap_err();
        assert_eq!(
            f.cat.argon2_runs() - before,
            1,
            "argon2 runs for {name:.20}"
        );
        assert_eq!(
            e.to_string(),
            format!(
                "unknown user or wrong password for {}",
                crate::names::shown(name)
            )
        );
    }
}

#[test]
fn names_outside_the_users_reach_say_nothing() {
    let f = fixture();
    let tm = f.cat.login("tm", "tm-pw-Vq8#Lw2!pZ").unwrap();
    let rep1 = f.cat.login("rep1", "rep1-pw-Vq8#Lw2!pZ").unwrap();
    for actor in [&tm, &rep1] {
        for q in [
            SearchQuery::default().representative("rep3"),
            SearchQuery::default().representative("nobody-at-all"),
            SearchQuery::default().team("sales"),
            SearchQuery::default().team("no-such-team"),
            SearchQuery::default().portal("other"),
            SearchQuery::default().portal("no-such-portal"),
        ] {
            let page = f.cat.search(actor, &q).unwrap();
            assert!(page.sessions.is_empty(), "{q:?}");
        }
    }
    // A company manager sees everything, so is told about unknown names.
    assert!(matches!(
        f.cat.search(
            &f.admin,
            &SearchQuery::default().representative("nobody-at-all")
        ),
        Err(CatalogError::NotFound { .. })
    ));
}

#[test]
fn weak_passwords_and_passphrases_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join("cat");
    for weak in ["", "a", "password1", "admin12345", "qwertyuiop"] {
        let e = Catalog::create(
            &at,
            "admin",
            weak,
            CatalogOptions::insecure_fast_for_tests(),
        )
        .unwrap_err();
        assert!(
            matches!(e, CatalogError::WeakSecret { .. }),
            "{weak:?}: {e}"
        );
        // Nothing is left behind, so the same command works once fixed.
        assert!(!at.join("catalog.sqlite").exists(), "{weak:?}");
    }
    Catalog::create(
        &at,
        "admin",
        ADMIN_PW,
        CatalogOptions::insecure_fast_for_tests(),
    )
    .unwrap();

    let f = fixture();
    let e = f
        .cat
        .add_manager(&f.admin, "tm3", Role::TeamManager, "tm3", &["sales"])
        .unwrap_err();
    assert!(e.to_string().starts_with("password is too weak: "), "{e}");
    let e = f
        .cat
        .add_representative(&f.admin, "r9", "sales", Some("r9r9r9r9r9"), true)
        .unwrap_err();
    assert!(matches!(e, CatalogError::WeakSecret { .. }), "{e}");
    let e = f
        .cat
        .set_passphrase(&f.admin, ADMIN_PW, "acme", &pp("x"))
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("session replay passphrase is too weak"),
        "{e}"
    );
    let e = f
        .cat
        .set_passphrase(&f.admin, ADMIN_PW, "acme", &pp("acme acme acme"))
        .unwrap_err();
    assert!(matches!(e, CatalogError::WeakSecret { .. }), "{e}");
    assert_eq!(f.cat.recording_recipient("acme").unwrap(), None);
}

#[test]
fn look_alike_names_are_refused_or_folded() {
    let f = fixture();
    for bad in [
        "boss ",
        " boss",
        "bo  ss",
        "bo\u{200B}ss",
        "boss\u{202E}",
        "bo\u{2066}ss",
        "bo\u{AD}ss",
        "bo\tss",
        "bo\nss",
        "\u{FEFF}boss",
        "",
    ] {
        let e = f
            .cat
            .add_manager(
                &f.admin,
                bad,
                Role::CompanyManager,
                "boss-pw-Vq8#Lw2!pZ",
                &[],
            )
            .unwrap_err();
        assert!(matches!(e, CatalogError::Invalid(_)), "{bad:?}: {e}");
        assert!(e.to_string().contains("user name "), "{e}");
        let e = f.cat.add_team(&f.admin, bad, None).unwrap_err();
        assert!(matches!(e, CatalogError::Invalid(_)), "{bad:?}: {e}");
    }
    // Compatibility forms are one name: a full-width or non-breaking
    // spelling of an existing name is that name.
    for same in ["ｓａｌｅｓ", "sales"] {
        assert!(matches!(
            f.cat.add_team(&f.admin, same, None),
            Err(CatalogError::Exists { .. })
        ));
    }
    f.cat.add_team(&f.admin, "level\u{A0}two", None).unwrap();
    assert!(matches!(
        f.cat.add_team(&f.admin, "level two", None),
        Err(CatalogError::Exists { .. })
    ));
    // And log in as the one user.
    f.cat.login("ｔｍ", "tm-pw-Vq8#Lw2!pZ").unwrap();
    let e = f
        .cat
        .add_team(&f.admin, &"t".repeat(201), None)
        .unwrap_err();
    assert!(e.to_string().contains("at most 200"), "{e}");
}

#[test]
fn recipient_is_refused_without_management_center_access() {
    let f = fixture();
    f.cat
        .set_passphrase(&f.admin, ADMIN_PW, "acme", &pp(PP_ACME))
        .unwrap();
    let rep3 = f.cat.login("rep3", "rep3-pw-Vq8#Lw2!pZ").unwrap();
    let e = f.cat.recipient_for(&rep3, "acme").unwrap_err();
    assert!(e.is_denied(), "{e}");
    assert!(e.to_string().contains("no Management Center access"), "{e}");
    let rep1 = f.cat.login("rep1", "rep1-pw-Vq8#Lw2!pZ").unwrap();
    assert_eq!(
        f.cat.recipient_for(&rep1, "acme-eu").unwrap(),
        f.cat.recording_recipient("acme").unwrap().unwrap()
    );
    let e = f.cat.recipient_for(&rep1, "other").unwrap_err();
    assert!(
        e.to_string().contains("has no session replay passphrase"),
        "{e}"
    );
    assert!(find(&audit(&f, 5), "rep3", "recipient")
        .outcome
        .starts_with("refused: "));
}

#[test]
fn damaged_and_unfinished_recordings_import_with_warnings() {
    let f = fixture();
    let src = tempfile::tempdir().unwrap();
    let cut = write_recording(src.path(), &Claim::acme("D1"), None);
    let bytes = std::fs::read(&cut).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() * 3 / 4]).unwrap();
    let done = f
        .cat
        .import_recording(&f.admin, &cut, &ImportOptions::default())
        .unwrap();
    assert!(
        done.warnings.iter().any(|w| w.contains("no trailer")),
        "{:?}",
        done.warnings
    );
    let bad = write_recording(src.path(), &Claim::acme("D2"), None);
    let mut bytes = std::fs::read(&bad).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid..mid + 40].fill(0xA5);
    std::fs::write(&bad, &bytes).unwrap();
    let done = f
        .cat
        .import_recording(&f.admin, &bad, &ImportOptions::default())
        .unwrap();
    assert!(
        done.warnings.iter().any(|w| w.contains("damaged bytes")),
        "{:?}",
        done.warnings
    );
    assert!(find(&audit(&f, 3), "admin", "import")
        .detail
        .contains("warnings: "));
    // Garbage is refused with a one-line error and leaves nothing.
    let junk = src.path().join("junk.g2a");
    std::fs::write(&junk, b"not a recording at all").unwrap();
    let e = f
        .cat
        .import_recording(&f.admin, &junk, &ImportOptions::default())
        .unwrap_err();
    assert!(!e.to_string().contains('\n'), "{e}");
    let left: Vec<_> = std::fs::read_dir(f.cat.dir().join("recordings"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
}

#[test]
fn two_imports_at_once_both_succeed() {
    let f = fixture();
    let src = tempfile::tempdir().unwrap();
    let dir = f.cat.dir().to_path_buf();
    let files: Vec<PathBuf> = (0..6)
        .map(|i| write_recording(src.path(), &Claim::acme(&format!("T{i}")), None))
        .collect();
    std::thread::scope(|s| {
        for chunk in files.chunks(3) {
            let dir = dir.clone();
            s.spawn(move || {
                let mut cat = Catalog::open(&dir).unwrap();
                cat.set_clock(Clock::Fixed(NOW));
                let admin = cat.login("admin", ADMIN_PW).unwrap();
                for file in chunk {
                    cat.import_recording(&admin, file, &ImportOptions::default())
                        .unwrap();
                }
            });
        }
    });
    let page = f
        .cat
        .search(&f.admin, &SearchQuery::default().page(0, 50))
        .unwrap();
    let ids: Vec<&str> = page.sessions.iter().map(|s| s.id.as_str()).collect();
    for i in 0..6 {
        assert!(ids.contains(&format!("T{i}").as_str()), "{ids:?}");
    }
}

#[test]
fn a_read_only_catalog_searches_but_refuses_what_it_cannot_log() {
    let f = fixture();
    let dir = f.cat.dir().to_path_buf();
    let Fixture { cat, .. } = f;
    drop(cat);
    chmod(&dir.join("catalog.sqlite"), 0o400);
    let mut cat = Catalog::open(&dir).unwrap();
    cat.set_clock(Clock::Fixed(NOW));
    assert!(cat.is_read_only());
    let admin = cat.login("admin", ADMIN_PW).unwrap();
    let page = cat.search(&admin, &SearchQuery::default()).unwrap();
    assert_eq!(page.sessions.len(), 3);
    let e = cat
        .open_for(&admin, "s1", Action::Replay, None)
        .unwrap_err();
    assert!(matches!(e, CatalogError::ReadOnly { .. }), "{e}");
    assert!(e.to_string().contains("read-only"), "{e}");
    assert!(matches!(
        cat.add_team(&admin, "new", None),
        Err(CatalogError::ReadOnly { .. })
    ));
    assert!(cat.login("admin", "wrong").is_err());
    chmod(&dir.join("catalog.sqlite"), 0o600);
}

#[test]
fn search_date_bounds_follow_the_retention_window() {
    let f = fixture();
    // --to alone: everything kept before that date.
    let page = f
        .cat
        .search(
            &f.admin,
            &SearchQuery {
                to_unix_micros: Some(NOW - DAY / 2),
                ..SearchQuery::default()
            },
        )
        .unwrap();
    let ids: Vec<_> = page.sessions.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["s1", "s2", "s3"]);
    // From exactly 90 days ago (the day the window begins) is accepted.
    let page = f
        .cat
        .search(
            &f.admin,
            &SearchQuery::default().range(NOW - 90 * DAY, None),
        )
        .unwrap();
    assert_eq!(page.sessions.len(), 3);
    // A range that ends before the window gives the retention message.
    let e = f
        .cat
        .search(
            &f.admin,
            &SearchQuery {
                to_unix_micros: Some(NOW - 100 * DAY),
                ..SearchQuery::default()
            },
        )
        .unwrap_err();
    assert!(matches!(e, CatalogError::RangeTooOld { .. }), "{e}");
    let e = f
        .cat
        .search(
            &f.admin,
            &SearchQuery::default().range(NOW - DAY, Some(NOW - 2 * DAY)),
        )
        .unwrap_err();
    assert!(e.to_string().contains("2025-12-30"), "{e}");
}

#[test]
fn passphrase_messages_name_the_portal_and_the_earlier_passphrase() {
    let f = fixture();
    let src = tempfile::tempdir().unwrap();
    f.cat
        .set_passphrase(&f.admin, ADMIN_PW, "acme", &pp(PP_ACME))
        .unwrap();
    let first_key = f.cat.recording_recipient("acme").unwrap().unwrap();
    let file = write_recording(src.path(), &Claim::acme("E1"), Some(&first_key));
    f.cat
        .import_recording(&f.admin, &file, &ImportOptions::default())
        .unwrap();
    // The subportal inherits: changing "its" passphrase says where it is.
    let e = f
        .cat
        .change_passphrase(&f.admin, ADMIN_PW, "acme-eu", &pp(PP_ACME), &pp(PP_OTHER))
        .unwrap_err();
    assert!(
        e.to_string().contains("inherits") && e.to_string().contains("\"acme\""),
        "{e}"
    );
    // A new passphrase makes a new key; the old recording keeps the old one.
    f.cat
        .remove_passphrase(&f.admin, ADMIN_PW, "acme", &pp(PP_ACME))
        .unwrap();
    f.cat
        .set_passphrase(&f.admin, ADMIN_PW, "acme", &pp(PP_OTHER))
        .unwrap();
    let e = f
        .cat
        .open_for(&f.admin, "E1", Action::Replay, Some(&pp(PP_OTHER)))
        .unwrap_err();
    assert!(
        matches!(e, CatalogError::WrongEarlierPassphrase { .. }),
        "{e}"
    );
    assert!(e.to_string().contains("2026-01-01"), "{e}");
    f.cat
        .open_for(&f.admin, "E1", Action::Replay, Some(&pp(PP_ACME)))
        .unwrap();
    // A clear session never asks for the passphrase.
    let failing = || -> Result<Option<Passphrase>, CatalogError> {
        Err(CatalogError::Invalid("passphrase file unreadable".into()))
    };
    f.cat
        .open_with(&f.admin, "s1", Action::Chat, failing)
        .unwrap();
    assert!(f
        .cat
        .open_with(&f.admin, "E1", Action::Chat, failing)
        .is_err());
}
