//! Tests of the web service's logins, the per-client throttle and the
//! keyring of unlocked portal keys.

use crate::tests::{fixture, DAY, NOW};
use crate::tests_security::{pp, write_recording, Claim, ADMIN_PW, PP_ACME};
use crate::*;

const POLICY: LoginPolicy = LoginPolicy {
    idle_secs: 600,
    absolute_secs: 3600,
};
const SEC: i64 = 1_000_000;

#[test]
fn logins_expire_idle_and_absolute_and_are_stored_hashed() {
    let mut f = fixture();
    let tm = f
        .cat
        .login_from("tm", "tm-pw-Vq8#Lw2!pZ", "127.0.0.1")
        .unwrap();
    let (token, login) = f.cat.start_login(&tm, "127.0.0.1", POLICY).unwrap();
    assert_eq!(token.as_str().len(), 64);
    assert!(!format!("{token:?}").contains(token.as_str()));
    assert_eq!(login.actor.name(), "tm");
    assert_eq!(login.csrf.len(), 64);
    assert_ne!(login.csrf, token.as_str());
    // Only the hash is stored.
    let raw = std::fs::read(f.cat.dir().join("catalog.sqlite")).unwrap();
    let wal = std::fs::read(f.cat.dir().join("catalog.sqlite-wal")).unwrap_or_default();
    for bytes in [&raw, &wal] {
        assert!(!bytes.windows(64).any(|w| w == token.as_str().as_bytes()));
    }

    // Valid, and touched by use: idle time counts from the last use.
    f.cat.set_clock(Clock::Fixed(NOW + 500 * SEC));
    let again = f.cat.resume_login(token.as_str(), POLICY).unwrap().unwrap();
    assert_eq!(again.id, login.id);
    assert_eq!(again.csrf, login.csrf);
    f.cat.set_clock(Clock::Fixed(NOW + 1000 * SEC));
    assert!(f
        .cat
        .resume_login(token.as_str(), POLICY)
        .unwrap()
        .is_some());
    // Idle for longer than 600 s: gone for good.
    f.cat.set_clock(Clock::Fixed(NOW + 1700 * SEC));
    assert!(f
        .cat
        .resume_login(token.as_str(), POLICY)
        .unwrap()
        .is_none());
    f.cat.set_clock(Clock::Fixed(NOW + 1000 * SEC));
    assert!(f
        .cat
        .resume_login(token.as_str(), POLICY)
        .unwrap()
        .is_none());

    // Absolute expiry, however busy the login is.
    let (t2, _) = f.cat.start_login(&tm, "127.0.0.1", POLICY).unwrap();
    for i in 1..=6 {
        f.cat
            .set_clock(Clock::Fixed(NOW + 1000 * SEC + i * 590 * SEC));
        let alive = f.cat.resume_login(t2.as_str(), POLICY).unwrap().is_some();
        assert_eq!(alive, i * 590 < 3600, "after {} s", i * 590);
    }

    // Garbage and unknown tokens are simply not logins.
    for bad in [
        "",
        "x",
        &"0".repeat(64),
        &"é".repeat(32),
        &"a".repeat(100_000),
    ] {
        assert!(f.cat.resume_login(bad, POLICY).unwrap().is_none());
    }
}

#[test]
fn logout_password_change_revocation_and_deletion_end_logins() {
    let f = fixture();
    let rep = f
        .cat
        .login_from("rep1", "rep1-pw-Vq8#Lw2!pZ", "10.0.0.1")
        .unwrap();
    let (a, _) = f.cat.start_login(&rep, "10.0.0.1", POLICY).unwrap();
    let (b, _) = f.cat.start_login(&rep, "10.0.0.2", POLICY).unwrap();
    assert_eq!(f.cat.open_logins("rep1").unwrap(), 2);
    f.cat.end_login(a.as_str()).unwrap();
    assert!(f.cat.resume_login(a.as_str(), POLICY).unwrap().is_none());
    assert!(f.cat.resume_login(b.as_str(), POLICY).unwrap().is_some());
    let log = f.cat.audit_log(&f.admin, &AuditQuery::newest(5)).unwrap();
    assert!(log
        .iter()
        .any(|e| e.actor == "rep1" && e.action == "logout"));
    assert!(log
        .iter()
        .any(|e| e.actor == "rep1" && e.action == "login" && e.detail == "from 10.0.0.1"));

    // A password reset ends every login of that user.
    f.cat
        .set_password(&f.admin, "rep1", "a new rep1 password 44 Kx")
        .unwrap();
    assert!(f.cat.resume_login(b.as_str(), POLICY).unwrap().is_none());

    // Revoking Management Center access ends them too.
    let rep = f
        .cat
        .login_from("rep1", "a new rep1 password 44 Kx", "10.0.0.1")
        .unwrap();
    let (c, _) = f.cat.start_login(&rep, "10.0.0.1", POLICY).unwrap();
    f.cat
        .set_management_center_access(&f.admin, "rep1", false, None)
        .unwrap();
    assert!(f.cat.resume_login(c.as_str(), POLICY).unwrap().is_none());
    // ... and a representative without it can't log in to the service.
    let e = f
        .cat
        .login_from("rep1", "a new rep1 password 44 Kx", "10.0.0.1")
        .unwrap_err();
    assert!(e.is_denied(), "{e}");

    // A changed role or team takes effect on the next request.
    let tm = f.cat.login_from("tm", "tm-pw-Vq8#Lw2!pZ", "h").unwrap();
    let (d, _) = f.cat.start_login(&tm, "h", POLICY).unwrap();
    f.cat.set_manager_teams(&f.admin, "tm", &["sales"]).unwrap();
    let now = f.cat.resume_login(d.as_str(), POLICY).unwrap().unwrap();
    let page = f.cat.search(&now.actor, &SearchQuery::default()).unwrap();
    assert!(page.sessions.iter().all(|s| s.team == "sales"), "{page:?}");
    // Deleting the user ends the login.
    f.cat.delete_user(&f.admin, "tm").unwrap();
    assert!(f.cat.resume_login(d.as_str(), POLICY).unwrap().is_none());
}

#[test]
fn failed_logins_are_throttled_per_client_address() {
    let mut f = fixture();
    // 20 wrong passwords spread over many names (4 each, under the
    // per-account limit) cost nothing; the next from that address waits.
    for i in 0..20 {
        let e = f
            .cat
            .login_from(&format!("user{}", i % 5), "wrong", "192.0.2.7")
            .unwrap_err();
        assert!(matches!(e, CatalogError::BadCredentials(_)), "{i}: {e}");
    }
    let runs = f.cat.argon2_runs();
    let e = f
        .cat
        .login_from("tm", "tm-pw-Vq8#Lw2!pZ", "192.0.2.7")
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("too many failed login attempts for this client address; try again in 1 s"),
        "{e}"
    );
    assert_eq!(
        f.cat.argon2_runs(),
        runs,
        "a throttled attempt does no argon2 work"
    );
    // Another address is not affected, and the wait passes.
    f.cat
        .login_from("tm", "tm-pw-Vq8#Lw2!pZ", "192.0.2.8")
        .unwrap();
    f.cat.set_clock(Clock::Fixed(NOW + 2 * SEC));
    f.cat
        .login_from("tm", "tm-pw-Vq8#Lw2!pZ", "192.0.2.7")
        .unwrap();
    let log = f.cat.audit_log(&f.admin, &AuditQuery::newest(50)).unwrap();
    assert!(log.iter().any(|e| e.action == "login"
        && e.outcome.starts_with("refused: too many")
        && e.detail == "from 192.0.2.7"));
}

#[test]
fn a_keyring_keeps_unlocked_portal_keys_for_its_holder_only() {
    let f = fixture();
    let src = tempfile::tempdir().unwrap();
    f.cat
        .set_passphrase(&f.admin, ADMIN_PW, "acme", &pp(PP_ACME))
        .unwrap();
    let key = f.cat.recording_recipient("acme").unwrap().unwrap();
    for id in ["E1", "E2"] {
        let file = write_recording(src.path(), &Claim::acme(id), Some(&key));
        f.cat
            .import_recording(&f.admin, &file, &ImportOptions::default())
            .unwrap();
    }
    let tm = f.cat.login("tm", "tm-pw-Vq8#Lw2!pZ").unwrap();
    let mut ring = Keyring::new();
    // Without a passphrase and an empty keyring: asked for.
    let e = f
        .cat
        .open_keyed(&tm, "E1", Action::Replay, &mut ring, None)
        .unwrap_err();
    assert!(matches!(e, CatalogError::PassphraseRequired { .. }), "{e}");
    // A wrong one is refused, throttled like any, and nothing is kept.
    let e = f
        .cat
        .unlock_for(&tm, "E1", &mut ring, &pp("not the passphrase at all"))
        .unwrap_err();
    assert!(matches!(e, CatalogError::WrongPassphrase { .. }), "{e}");
    assert!(ring.is_empty());
    f.cat
        .unlock_for(&tm, "E1", &mut ring, &pp(PP_ACME))
        .unwrap();
    assert_eq!(ring.len(), 1);
    assert_eq!(format!("{ring:?}"), "Keyring(1 key(s))");
    // Both recordings of the portal now open without the passphrase.
    for id in ["E1", "E2"] {
        let g = f
            .cat
            .open_keyed(&tm, id, Action::Replay, &mut ring, None)
            .unwrap();
        assert!(g.cipher.is_some());
        let mut chat = 0;
        crate::content::for_each_record(&g, |r| {
            if let g2a_format::Record::Chat { .. } = r {
                chat += 1;
            }
        })
        .unwrap();
        assert_eq!(chat, 1);
    }
    // The keyring does not lend rights: a user who may not see a session
    // is refused before any key is used.
    let tm2 = f.cat.login("tm2", "tm2-pw-Vq8#Lw2!pZ").unwrap();
    let e = f
        .cat
        .open_keyed(&tm2, "E1", Action::Replay, &mut ring, None)
        .unwrap_err();
    assert!(e.is_denied(), "{e}");
    // Retention still applies.
    let mut later = f;
    later.cat.set_clock(Clock::Fixed(NOW + 100 * DAY));
    let e = later
        .cat
        .open_keyed(&tm, "E1", Action::Replay, &mut ring, None)
        .unwrap_err();
    assert!(matches!(e, CatalogError::Expired { .. }), "{e}");
    ring.clear();
    assert!(ring.is_empty());
}
