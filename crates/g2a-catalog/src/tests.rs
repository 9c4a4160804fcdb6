//! Unit tests of the catalog: rights matrix, retention, purge, passphrases.

use std::collections::HashSet;

use crate::*;

pub(crate) const NOW: i64 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z
pub(crate) const DAY: i64 = 86_400_000_000;

pub(crate) struct Fixture {
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) cat: Catalog,
    pub(crate) admin: Actor,
}

pub(crate) fn session(id: &str, portal: &str, team: &str, rep: &str, start: i64) -> NewSession {
    NewSession {
        id: id.into(),
        portal: portal.into(),
        team: team.into(),
        representative: rep.into(),
        customer: format!("customer of {id}"),
        start_unix_micros: start,
        end_unix_micros: start + 600_000_000,
        rating: Some(4),
        tracks: vec!["video".into(), "chat".into()],
    }
}

/// Company `admin`; portal `acme` with subportal `acme-eu`, portal `other`;
/// teams `support` > `support-l2`, `sales`; team managers `tm` (support) and
/// `tm2` (sales); representatives `rep1` (support), `rep2` (support-l2),
/// both with Management Center access, `rep3` (sales) without.
pub(crate) fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut cat = Catalog::create(
        dir.path(),
        "admin",
        "admin-pw-Vq8#Lw2!pZ",
        CatalogOptions::insecure_fast_for_tests(),
    )
    .unwrap();
    cat.set_clock(Clock::Fixed(NOW));
    let admin = cat.login("admin", "admin-pw-Vq8#Lw2!pZ").unwrap();
    cat.add_portal(&admin, "acme", None).unwrap();
    cat.add_portal(&admin, "acme-eu", Some("acme")).unwrap();
    cat.add_portal(&admin, "other", None).unwrap();
    cat.add_team(&admin, "support", None).unwrap();
    cat.add_team(&admin, "support-l2", Some("support")).unwrap();
    cat.add_team(&admin, "sales", None).unwrap();
    cat.assign_team_to_portal(&admin, "support", "acme")
        .unwrap();
    cat.assign_team_to_portal(&admin, "sales", "other").unwrap();
    cat.add_manager(
        &admin,
        "tm",
        Role::TeamManager,
        "tm-pw-Vq8#Lw2!pZ",
        &["support"],
    )
    .unwrap();
    cat.add_manager(
        &admin,
        "tm2",
        Role::TeamManager,
        "tm2-pw-Vq8#Lw2!pZ",
        &["sales"],
    )
    .unwrap();
    cat.add_representative(&admin, "rep1", "support", Some("rep1-pw-Vq8#Lw2!pZ"), true)
        .unwrap();
    cat.add_representative(
        &admin,
        "rep2",
        "support-l2",
        Some("rep2-pw-Vq8#Lw2!pZ"),
        true,
    )
    .unwrap();
    cat.add_representative(&admin, "rep3", "sales", Some("rep3-pw-Vq8#Lw2!pZ"), false)
        .unwrap();
    cat.import_metadata(
        &admin,
        &[
            session("s1", "acme", "support", "rep1", NOW - DAY),
            session("s2", "acme-eu", "support-l2", "rep2", NOW - 2 * DAY),
            session("s3", "other", "sales", "rep3", NOW - 3 * DAY),
            session("old", "acme", "support", "rep1", NOW - 100 * DAY),
        ],
    )
    .unwrap();
    Fixture {
        _dir: dir,
        cat,
        admin,
    }
}

#[test]
fn rights_matrix_every_role_and_action() {
    let f = fixture();
    let users = [
        ("admin", "admin-pw-Vq8#Lw2!pZ", &["s1", "s2", "s3"][..]),
        ("tm", "tm-pw-Vq8#Lw2!pZ", &["s1", "s2"][..]),
        ("tm2", "tm2-pw-Vq8#Lw2!pZ", &["s3"][..]),
        ("rep1", "rep1-pw-Vq8#Lw2!pZ", &["s1"][..]),
        ("rep2", "rep2-pw-Vq8#Lw2!pZ", &["s2"][..]),
        ("rep3", "rep3-pw-Vq8#Lw2!pZ", &[][..]),
    ];
    let mut checked = 0;
    for (user, pw, allowed) in users {
        let actor = f.cat.login(user, pw).unwrap();
        for sid in ["s1", "s2", "s3", "nonexistent"] {
            let may = allowed.contains(&sid);
            for action in Action::ALL {
                checked += 1;
                let what = format!("{user} {action} {sid}");
                if action == Action::Search {
                    let r = f.cat.search(&actor, &SearchQuery::by_id(sid));
                    if user == "rep3" {
                        let e = r.unwrap_err();
                        assert!(
                            e.to_string().contains("no Management Center access"),
                            "{what}: {e}"
                        );
                    } else {
                        let found = r.unwrap().sessions.len() == 1;
                        assert_eq!(found, may, "{what}");
                    }
                    continue;
                }
                let r = f.cat.open_for(&actor, sid, action, None);
                if may {
                    let g = r.unwrap_or_else(|e| panic!("{what}: {e}"));
                    assert_eq!(g.session.id, sid);
                } else {
                    let e = r.unwrap_err();
                    assert!(e.is_denied(), "{what}: {e}");
                    let msg = e.to_string();
                    let want = if user == "rep3" {
                        "no Management Center access"
                    } else {
                        "no such session or not permitted"
                    };
                    assert!(msg.contains(want), "{what}: {msg}");
                    assert!(msg.contains(action.name()), "{what}: {msg}");
                    // Never leaks the session's details.
                    assert!(!msg.contains("customer"), "{what}: {msg}");
                }
            }
        }
    }
    assert_eq!(checked, 6 * 4 * 6);
    // Every open attempt is audited, allowed or refused.
    let log = f
        .cat
        .audit_log(&f.admin, &AuditQuery::newest(1000))
        .unwrap();
    let opens = log
        .iter()
        .filter(|e| e.action != "search" && e.session_id.is_some())
        .count();
    assert_eq!(opens, 6 * 4 * 5);
    assert!(log.iter().any(|e| e.actor == "tm"
        && e.action == "export"
        && e.session_id.as_deref() == Some("s2")
        && e.outcome == "allowed"));
    assert!(log.iter().any(|e| e.actor == "rep1"
        && e.action == "replay"
        && e.session_id.as_deref() == Some("s3")
        && e.outcome.starts_with("refused")));
}

#[test]
fn search_filters_and_visibility() {
    let f = fixture();
    let ids = |actor: &Actor, q: SearchQuery| -> Vec<String> {
        f.cat
            .search(actor, &q)
            .unwrap()
            .sessions
            .into_iter()
            .map(|s| s.id)
            .collect()
    };
    let a = &f.admin;
    assert_eq!(ids(a, SearchQuery::default()), ["s1", "s2", "s3"]);
    assert_eq!(ids(a, SearchQuery::default().portal("acme")), ["s1", "s2"]);
    assert_eq!(ids(a, SearchQuery::default().portal("acme-eu")), ["s2"]);
    assert_eq!(ids(a, SearchQuery::default().team("support")), ["s1", "s2"]);
    assert_eq!(ids(a, SearchQuery::default().team("support-l2")), ["s2"]);
    assert_eq!(
        ids(a, SearchQuery::default().representative("rep3")),
        ["s3"]
    );
    assert_eq!(
        ids(
            a,
            SearchQuery::default().range(NOW - 2 * DAY - 1, Some(NOW - DAY))
        ),
        ["s2"]
    );
    // Paging.
    let p0 = f.cat.search(a, &SearchQuery::default().page(0, 2)).unwrap();
    assert_eq!(p0.sessions.len(), 2);
    assert!(p0.has_more);
    let p1 = f.cat.search(a, &SearchQuery::default().page(1, 2)).unwrap();
    assert_eq!(p1.sessions.len(), 1);
    assert!(!p1.has_more);
    // Subportal reported as such.
    let s2 = f.cat.search(a, &SearchQuery::by_id("s2")).unwrap().sessions;
    assert_eq!(s2[0].portal, "acme");
    assert_eq!(s2[0].subportal.as_deref(), Some("acme-eu"));
    assert_eq!(s2[0].tracks, ["video", "chat"]);
    // Visibility narrows filters; it never widens them.
    let tm = f.cat.login("tm", "tm-pw-Vq8#Lw2!pZ").unwrap();
    assert_eq!(ids(&tm, SearchQuery::default()), ["s1", "s2"]);
    assert!(ids(&tm, SearchQuery::default().team("sales")).is_empty());
    let rep2 = f.cat.login("rep2", "rep2-pw-Vq8#Lw2!pZ").unwrap();
    assert_eq!(ids(&rep2, SearchQuery::default()), ["s2"]);
    // Unknown filter names are errors; oversize pages are refused.
    assert!(matches!(
        f.cat.search(a, &SearchQuery::default().team("nope")),
        Err(CatalogError::NotFound { kind: "team", .. })
    ));
    assert!(f
        .cat
        .search(a, &SearchQuery::default().page(0, 5000))
        .is_err());
}

#[test]
fn retention_messages_and_purge() {
    let mut f = fixture();
    let e = f
        .cat
        .search(
            &f.admin,
            &SearchQuery::default().range(NOW - 91 * DAY, None),
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Session data is only stored for 90 days. Date range begins too far in the past."
    );
    // Old sessions are not in default searches, and opening one says why.
    assert!(f
        .cat
        .search(&f.admin, &SearchQuery::by_id("old"))
        .unwrap()
        .sessions
        .is_empty());
    let e = f
        .cat
        .open_for(&f.admin, "old", Action::Replay, None)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Data no longer available – Session data is only stored for 90 days."
    );
    // ...but only to those who could have seen it.
    let tm2 = f.cat.login("tm2", "tm2-pw-Vq8#Lw2!pZ").unwrap();
    assert!(f
        .cat
        .open_for(&tm2, "old", Action::Replay, None)
        .unwrap_err()
        .is_denied());
    // Only company managers purge.
    let tm = f.cat.login("tm", "tm-pw-Vq8#Lw2!pZ").unwrap();
    assert!(f.cat.purge(&tm).unwrap_err().is_denied());
    assert_eq!(f.cat.purge(&f.admin).unwrap(), 1);
    assert_eq!(f.cat.purge(&f.admin).unwrap(), 0);
    let e = f
        .cat
        .open_for(&f.admin, "old", Action::Export, None)
        .unwrap_err();
    assert!(matches!(e, CatalogError::Expired { days: 90 }));
    // A shorter retention makes more sessions expire.
    f.cat.set_retention_days(&f.admin, 2).unwrap();
    assert!(matches!(
        f.cat.open_for(&f.admin, "s3", Action::Chat, None),
        Err(CatalogError::Expired { days: 2 })
    ));
    assert_eq!(f.cat.purge(&f.admin).unwrap(), 1);
    assert!(f.cat.open_for(&f.admin, "s1", Action::Chat, None).is_ok());
}

#[test]
fn login_and_org_management() {
    let f = fixture();
    assert!(matches!(
        f.cat.login("admin", "wrong"),
        Err(CatalogError::BadCredentials(_))
    ));
    assert!(matches!(
        f.cat.login("ghost", "x"),
        Err(CatalogError::BadCredentials(_))
    ));
    let tm = f.cat.login("tm", "tm-pw-Vq8#Lw2!pZ").unwrap();
    assert_eq!(tm.role(), Role::TeamManager);
    assert!(f.cat.add_team(&tm, "x", None).unwrap_err().is_denied());
    assert!(matches!(
        f.cat.add_team(&f.admin, "sales", None),
        Err(CatalogError::Exists { kind: "team", .. })
    ));
    // Passwords are stored as argon2id hashes.
    let h: String = f
        .cat
        .conn_for_tests()
        .query_row("SELECT password_hash FROM users WHERE name='tm'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(h.starts_with("$argon2id$"), "{h}");
    // Moving a representative keeps past sessions with their team.
    f.cat
        .move_representative(&f.admin, "rep1", "sales")
        .unwrap();
    let tm2 = f.cat.login("tm2", "tm2-pw-Vq8#Lw2!pZ").unwrap();
    assert!(f.cat.open_for(&tm2, "s1", Action::Replay, None).is_err());
    // Granting MC access lets rep3 see their session.
    f.cat
        .set_management_center_access(&f.admin, "rep3", true, None)
        .unwrap();
    let rep3 = f.cat.login("rep3", "rep3-pw-Vq8#Lw2!pZ").unwrap();
    assert!(f.cat.open_for(&rep3, "s3", Action::Replay, None).is_ok());
    // Team manager of two teams.
    f.cat
        .assign_manager_team(&f.admin, "tm2", "support-l2")
        .unwrap();
    let tm2 = f.cat.login("tm2", "tm2-pw-Vq8#Lw2!pZ").unwrap();
    let seen: HashSet<String> = f
        .cat
        .search(&tm2, &SearchQuery::default())
        .unwrap()
        .sessions
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(seen, HashSet::from(["s2".to_owned(), "s3".to_owned()]));
}

#[test]
fn passphrase_set_change_remove() {
    let f = fixture();
    let pp = |s: &str| Passphrase::new(s).unwrap();
    let a = f.admin.clone();
    assert_eq!(f.cat.recording_recipient("acme").unwrap(), None);
    // Own password required; team managers may not.
    assert!(f
        .cat
        .set_passphrase(&a, "bad", "acme", &pp("passphrase-one orbit lantern"))
        .unwrap_err()
        .is_denied());
    let tm = f.cat.login("tm", "tm-pw-Vq8#Lw2!pZ").unwrap();
    assert!(f
        .cat
        .set_passphrase(
            &tm,
            "tm-pw-Vq8#Lw2!pZ",
            "acme",
            &pp("passphrase-one orbit lantern")
        )
        .unwrap_err()
        .is_denied());
    f.cat
        .set_passphrase(
            &a,
            "admin-pw-Vq8#Lw2!pZ",
            "acme",
            &pp("passphrase-one orbit lantern"),
        )
        .unwrap();
    assert!(matches!(
        f.cat.set_passphrase(
            &a,
            "admin-pw-Vq8#Lw2!pZ",
            "acme",
            &pp("passphrase-one orbit lantern")
        ),
        Err(CatalogError::PassphraseState { .. })
    ));
    let r1 = f.cat.recording_recipient("acme").unwrap().unwrap();
    // Subportals inherit their parent's key.
    assert_eq!(
        f.cat.recording_recipient("acme-eu").unwrap(),
        Some(r1.clone())
    );
    assert_eq!(f.cat.recording_recipient("other").unwrap(), None);
    // The passphrase is nowhere in the database.
    assert!(!contains(&db_bytes(&f.cat), b"passphrase-one"));
    assert!(matches!(
        f.cat.change_passphrase(
            &a,
            "admin-pw-Vq8#Lw2!pZ",
            "acme",
            &pp("nope"),
            &pp("p2 orbit lantern quay")
        ),
        Err(CatalogError::WrongPassphrase { .. })
    ));
    f.cat
        .change_passphrase(
            &a,
            "admin-pw-Vq8#Lw2!pZ",
            "acme",
            &pp("passphrase-one orbit lantern"),
            &pp("correct horse battery staple"),
        )
        .unwrap();
    assert!(!contains(&db_bytes(&f.cat), b"correct horse"));
    // The key is the same; only its wrapping changed.
    assert_eq!(f.cat.recording_recipient("acme").unwrap(), Some(r1));
    assert!(matches!(
        f.cat.remove_passphrase(
            &a,
            "admin-pw-Vq8#Lw2!pZ",
            "acme",
            &pp("passphrase-one orbit lantern")
        ),
        Err(CatalogError::WrongPassphrase { .. })
    ));
    f.cat
        .remove_passphrase(
            &a,
            "admin-pw-Vq8#Lw2!pZ",
            "acme",
            &pp("correct horse battery staple"),
        )
        .unwrap();
    assert_eq!(f.cat.recording_recipient("acme").unwrap(), None);
    assert!(matches!(
        f.cat.remove_passphrase(
            &a,
            "admin-pw-Vq8#Lw2!pZ",
            "acme",
            &pp("correct horse battery staple")
        ),
        Err(CatalogError::PassphraseState { .. })
    ));
    assert!(Passphrase::new("\n").is_err());
}

/// The database file and its write-ahead log.
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

mod search_vs_reference {
    use super::*;
    use proptest::prelude::*;

    const PORTALS: [&str; 3] = ["acme", "acme-eu", "other"];
    const TEAMS: [(&str, &str); 3] = [
        ("support", "rep1"),
        ("support-l2", "rep2"),
        ("sales", "rep3"),
    ];

    fn portal_matches(filter: &str, p: &str) -> bool {
        filter == p || (filter == "acme" && p == "acme-eu")
    }
    fn team_matches(filter: &str, t: &str) -> bool {
        filter == t || (filter == "support" && t == "support-l2")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn search_equals_naive_filter(
            rows in proptest::collection::vec((0usize..3, 0usize..3, 0i64..100), 0..25),
            portal in proptest::option::of(0usize..3),
            team in proptest::option::of(0usize..3),
            rep in proptest::option::of(0usize..3),
            from_day in proptest::option::of(0i64..100),
            to_day in proptest::option::of(0i64..100),
            who in 0usize..4,
            per_page in 1u32..6,
        ) {
            let f = fixture();
            let sessions: Vec<NewSession> = rows
                .iter()
                .enumerate()
                .map(|(i, &(p, t, age))| {
                    // Only portals the team is assigned to: the support
                    // teams work on acme (and acme-eu), sales on other.
                    let portal = if t == 2 { "other" } else { PORTALS[p % 2] };
                    // Ages in hours over 100 days, some outside retention.
                    session(&format!("p{i:03}"), portal, TEAMS[t].0, TEAMS[t].1, NOW - age * DAY - i as i64)
                })
                .collect();
            f.cat.import_metadata(&f.admin, &sessions).unwrap();
            let actor = match who {
                0 => f.admin.clone(),
                1 => f.cat.login("tm", "tm-pw-Vq8#Lw2!pZ").unwrap(),
                2 => f.cat.login("rep1", "rep1-pw-Vq8#Lw2!pZ").unwrap(),
                _ => f.cat.login("rep2", "rep2-pw-Vq8#Lw2!pZ").unwrap(),
            };
            let from = from_day.map(|d| NOW - d * DAY);
            let to = to_day.map(|d| NOW - d * DAY);
            let mut q = SearchQuery::default();
            if let Some(p) = portal { q = q.portal(PORTALS[p]); }
            if let Some(t) = team { q = q.team(TEAMS[t].0); }
            if let Some(r) = rep { q = q.representative(TEAMS[r].1); }
            q.from_unix_micros = from;
            q.to_unix_micros = to;
            let cutoff = NOW - 90 * DAY;
            // A range may begin on the retention window's first day (it is
            // then narrowed to the window); a range given only its end must
            // end inside the window.
            let window_day = cutoff - cutoff.rem_euclid(DAY);
            let eff_from = from.unwrap_or(cutoff).max(cutoff);
            let refused = from.is_some_and(|f| f < window_day)
                || matches!((from, to), (Some(f), Some(t)) if t < f)
                || (from.is_none() && to.is_some_and(|t| t <= cutoff));
            if refused {
                prop_assert!(f.cat.search(&actor, &q).is_err());
                return Ok(());
            }
            let mut got = Vec::new();
            for page in 0..100 {
                let r = f.cat.search(&actor, &q.clone().page(page, per_page)).unwrap();
                prop_assert!(r.sessions.len() <= per_page as usize);
                got.extend(r.sessions.into_iter().map(|s| s.id));
                if !r.has_more { break; }
            }
            // The fixture's own sessions take part too.
            let mut all: Vec<NewSession> = vec![
                session("s1", "acme", "support", "rep1", NOW - DAY),
                session("s2", "acme-eu", "support-l2", "rep2", NOW - 2 * DAY),
                session("s3", "other", "sales", "rep3", NOW - 3 * DAY),
                session("old", "acme", "support", "rep1", NOW - 100 * DAY),
            ];
            all.extend(sessions);
            let mut want: Vec<&NewSession> = all
                .iter()
                .filter(|s| s.start_unix_micros >= eff_from)
                .filter(|s| to.is_none_or(|t| s.start_unix_micros < t))
                .filter(|s| portal.is_none_or(|p| portal_matches(PORTALS[p], &s.portal)))
                .filter(|s| team.is_none_or(|t| team_matches(TEAMS[t].0, &s.team)))
                .filter(|s| rep.is_none_or(|r| TEAMS[r].1 == s.representative))
                .filter(|s| match who {
                    0 => true,
                    1 => team_matches("support", &s.team),
                    2 => s.representative == "rep1",
                    _ => s.representative == "rep2",
                })
                .collect();
            want.sort_by(|a, b| (b.start_unix_micros, &b.id).cmp(&(a.start_unix_micros, &a.id)));
            let want: Vec<String> = want.into_iter().map(|s| s.id.clone()).collect();
            prop_assert_eq!(got, want);
        }
    }
}
