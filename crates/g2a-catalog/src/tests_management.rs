//! Tests of what managers do besides searching and replaying: listing the
//! organisation, managing users and passwords, teams and portals, deleting
//! a session on request, correcting an attribution, the team-manager
//! policy, the filtered audit log.

use crate::tests::{fixture, session, DAY, NOW};
use crate::tests_security::{audit, pp, write_recording, Claim, ADMIN_PW, PP_ACME};
use crate::*;

const NEW_PW: &str = "fresh-pw-Hk3$mT9&qZ";

fn names(users: &[UserInfo]) -> Vec<&str> {
    users.iter().map(|u| u.name.as_str()).collect()
}

#[test]
fn listing_users_teams_and_portals_is_scoped_to_the_role() {
    let f = fixture();
    let all = f.cat.list_users(&f.admin).unwrap();
    assert_eq!(names(&all), ["admin", "rep1", "rep2", "rep3", "tm", "tm2"]);
    let tm = all.iter().find(|u| u.name == "tm").unwrap();
    assert_eq!(tm.role, Role::TeamManager);
    assert_eq!(tm.managed_teams, ["support"]);
    let rep3 = all.iter().find(|u| u.name == "rep3").unwrap();
    assert_eq!(rep3.team.as_deref(), Some("sales"));
    assert!(!rep3.mc_access && rep3.has_password && !rep3.deactivated);

    let tm = f.cat.login("tm", "tm-pw-Vq8#Lw2!pZ").unwrap();
    assert_eq!(
        names(&f.cat.list_users(&tm).unwrap()),
        ["rep1", "rep2", "tm"]
    );
    let rep1 = f.cat.login("rep1", "rep1-pw-Vq8#Lw2!pZ").unwrap();
    assert_eq!(names(&f.cat.list_users(&rep1).unwrap()), ["rep1"]);
    let rep3 = f.cat.login("rep3", "rep3-pw-Vq8#Lw2!pZ").unwrap();
    assert!(f.cat.list_users(&rep3).unwrap_err().is_denied());

    let teams = f.cat.list_teams(&f.admin).unwrap();
    let support = teams.iter().find(|t| t.name == "support").unwrap();
    assert_eq!(support.portals, ["acme"]);
    assert_eq!(support.managers, ["tm"]);
    assert_eq!(support.representatives, ["rep1"]);
    let l2 = teams.iter().find(|t| t.name == "support-l2").unwrap();
    assert_eq!(l2.parent.as_deref(), Some("support"));
    let tm_teams: Vec<_> = f
        .cat
        .list_teams(&tm)
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(tm_teams, ["support", "support-l2"]);

    f.cat
        .set_passphrase(&f.admin, ADMIN_PW, "acme", &pp(PP_ACME))
        .unwrap();
    let portals = f.cat.list_portals(&f.admin).unwrap();
    let p = |n: &str| portals.iter().find(|p| p.name == n).unwrap();
    assert_eq!(p("acme").passphrase, "own");
    assert_eq!(p("acme-eu").passphrase, "inherited");
    assert_eq!(p("acme-eu").parent.as_deref(), Some("acme"));
    assert_eq!(p("other").passphrase, "none");
    assert_eq!(p("other").teams, ["sales"]);
}

#[test]
fn users_are_renamed_deleted_and_given_passwords() {
    let f = fixture();
    // Rename: sessions follow the user.
    f.cat.rename_user(&f.admin, "rep1", "ann").unwrap();
    let s1 = f
        .cat
        .search(&f.admin, &SearchQuery::by_id("s1"))
        .unwrap()
        .sessions
        .remove(0);
    assert_eq!(s1.representative, "ann");
    assert!(matches!(
        f.cat.rename_user(&f.admin, "ann", "rep2"),
        Err(CatalogError::Exists { .. })
    ));
    assert!(matches!(
        f.cat.rename_user(&f.admin, "ann", "ann "),
        Err(CatalogError::Invalid(_))
    ));
    f.cat.login("ann", "rep1-pw-Vq8#Lw2!pZ").unwrap();

    // Delete: a user sessions name is deactivated, one without is removed.
    assert!(!f.cat.delete_user(&f.admin, "ann").unwrap());
    assert!(f.cat.login("ann", "rep1-pw-Vq8#Lw2!pZ").is_err());
    let ann = f
        .cat
        .list_users(&f.admin)
        .unwrap()
        .into_iter()
        .find(|u| u.name == "ann")
        .unwrap();
    assert!(ann.deactivated && !ann.has_password);
    assert_eq!(
        f.cat
            .search(&f.admin, &SearchQuery::by_id("s1"))
            .unwrap()
            .sessions[0]
            .representative,
        "ann"
    );
    assert!(f.cat.delete_user(&f.admin, "tm2").unwrap());
    assert!(!names(&f.cat.list_users(&f.admin).unwrap()).contains(&"tm2"));
    let e = f.cat.delete_user(&f.admin, "admin").unwrap_err();
    assert!(e.to_string().contains("cannot delete yourself"), "{e}");
    f.cat
        .add_manager(&f.admin, "boss2", Role::CompanyManager, NEW_PW, &[])
        .unwrap();
    let boss2 = f.cat.login("boss2", NEW_PW).unwrap();
    assert!(f.cat.delete_user(&boss2, "admin").unwrap());
    let e = f.cat.delete_user(&boss2, "boss2").unwrap_err();
    assert!(e.to_string().contains("yourself"), "{e}");

    // Reset another's password (clears their login throttle), change one's own.
    for _ in 0..6 {
        let _ = f.cat.login("rep2", "guessing wrongly");
    }
    assert!(matches!(
        f.cat.login("rep2", "rep2-pw-Vq8#Lw2!pZ"),
        Err(CatalogError::Throttled { .. })
    ));
    f.cat.set_password(&boss2, "rep2", NEW_PW).unwrap();
    let rep2 = f.cat.login("rep2", NEW_PW).unwrap();
    assert!(matches!(
        f.cat.set_password(&boss2, "rep2", "rep2"),
        Err(CatalogError::WeakSecret { .. })
    ));
    let e = f
        .cat
        .change_own_password(&rep2, "not my password", "another-pw-Jd7*wQ4%x")
        .unwrap_err();
    assert!(matches!(e, CatalogError::BadCredentials(_)), "{e}");
    f.cat
        .change_own_password(&rep2, NEW_PW, "another-pw-Jd7*wQ4%x")
        .unwrap();
    f.cat.login("rep2", "another-pw-Jd7*wQ4%x").unwrap();
    assert!(f.cat.login("rep2", NEW_PW).is_err());

    // A representative created without a password can be granted access.
    f.cat
        .add_representative(&boss2, "nopw", "sales", None, false)
        .unwrap();
    let e = f
        .cat
        .set_management_center_access(&boss2, "nopw", true, None)
        .unwrap_err();
    assert!(e.to_string().contains("needs a password"), "{e}");
    f.cat
        .set_management_center_access(&boss2, "nopw", true, Some(NEW_PW))
        .unwrap();
    let nopw = f.cat.login("nopw", NEW_PW).unwrap();
    assert!(f.cat.search(&nopw, &SearchQuery::default()).is_ok());
}

#[test]
fn manager_teams_and_portal_assignments_change() {
    let f = fixture();
    f.cat
        .set_manager_teams(&f.admin, "tm", &["sales", "support-l2"])
        .unwrap();
    let tm = f.cat.login("tm", "tm-pw-Vq8#Lw2!pZ").unwrap();
    let seen: Vec<String> = f
        .cat
        .search(&tm, &SearchQuery::default())
        .unwrap()
        .sessions
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(seen, ["s2", "s3"]);
    assert!(f
        .cat
        .set_manager_teams(&f.admin, "rep1", &["sales"])
        .is_err());
    let log = audit(&f, 10);
    assert!(log
        .iter()
        .any(|e| e.action == "set-manager-teams" && e.detail.contains("\"sales\"")));

    // Unassigning a team from a portal: new sessions there are refused.
    f.cat
        .unassign_team_from_portal(&f.admin, "sales", "other")
        .unwrap();
    assert!(matches!(
        f.cat.unassign_team_from_portal(&f.admin, "sales", "other"),
        Err(CatalogError::Invalid(_) | CatalogError::NotFound { .. })
    ));
    let e = f
        .cat
        .import_metadata(
            &f.admin,
            &[session("n1", "other", "sales", "rep3", NOW - DAY)],
        )
        .unwrap_err();
    assert!(matches!(e, CatalogError::Attribution { .. }), "{e}");
    // Sessions already recorded stay.
    assert!(f.cat.open_for(&f.admin, "s3", Action::Replay, None).is_ok());
}

#[test]
fn a_session_is_deleted_on_request_and_its_attribution_corrected() {
    let f = fixture();
    let src = tempfile::tempdir().unwrap();
    let file = write_recording(src.path(), &Claim::acme("R1"), None);
    f.cat
        .import_recording(&f.admin, &file, &ImportOptions::default())
        .unwrap();
    let tm = f.cat.login("tm", "tm-pw-Vq8#Lw2!pZ").unwrap();
    assert!(f.cat.delete_session(&tm, "R1").unwrap_err().is_denied());
    f.cat.delete_session(&f.admin, "R1").unwrap();
    assert!(!f.cat.dir().join("recordings/R1").exists());
    assert!(f
        .cat
        .search(&f.admin, &SearchQuery::by_id("R1"))
        .unwrap()
        .sessions
        .is_empty());
    assert!(matches!(
        f.cat.delete_session(&f.admin, "R1"),
        Err(CatalogError::NotFound { .. })
    ));

    // s1 (rep1, support, acme) was really rep2's, in support-l2.
    let e = f
        .cat
        .set_session_attribution(&f.admin, "s1", None, Some("sales"), None, false)
        .unwrap_err();
    assert!(matches!(e, CatalogError::Attribution { .. }), "{e}");
    f.cat
        .set_session_attribution(
            &f.admin,
            "s1",
            Some("acme-eu"),
            Some("support-l2"),
            Some("rep2"),
            false,
        )
        .unwrap();
    let s = f
        .cat
        .search(&f.admin, &SearchQuery::by_id("s1"))
        .unwrap()
        .sessions
        .remove(0);
    assert_eq!(
        (
            s.subportal.as_deref(),
            s.team.as_str(),
            s.representative.as_str()
        ),
        (Some("acme-eu"), "support-l2", "rep2")
    );
    let rep1 = f.cat.login("rep1", "rep1-pw-Vq8#Lw2!pZ").unwrap();
    assert!(f.cat.open_for(&rep1, "s1", Action::Replay, None).is_err());
    let rep2 = f.cat.login("rep2", "rep2-pw-Vq8#Lw2!pZ").unwrap();
    assert!(f.cat.open_for(&rep2, "s1", Action::Replay, None).is_ok());
    let entry = audit(&f, 5)
        .into_iter()
        .find(|e| e.action == "set-attribution" && e.outcome == "allowed")
        .unwrap();
    assert!(entry.detail.contains("\"rep1\" -> \"rep2\""), "{entry:?}");
    // Forced over a mismatch, audited as such.
    f.cat
        .set_session_attribution(&f.admin, "s1", None, Some("sales"), None, true)
        .unwrap();
    assert!(audit(&f, 2)
        .iter()
        .any(|e| e.action == "set-attribution" && e.detail.contains("forced over")));

    // An encrypted session can't move to a portal its key doesn't cover.
    f.cat
        .set_passphrase(&f.admin, ADMIN_PW, "acme", &pp(PP_ACME))
        .unwrap();
    let key = f.cat.recording_recipient("acme").unwrap().unwrap();
    let enc = write_recording(src.path(), &Claim::acme("R2"), Some(&key));
    f.cat
        .import_recording(&f.admin, &enc, &ImportOptions::default())
        .unwrap();
    let e = f
        .cat
        .set_session_attribution(&f.admin, "R2", Some("other"), None, None, true)
        .unwrap_err();
    assert!(matches!(e, CatalogError::Coverage { .. }), "{e}");
}

#[test]
fn team_managers_manage_their_representatives_only_where_allowed() {
    let f = fixture();
    let tm = f.cat.login("tm", "tm-pw-Vq8#Lw2!pZ").unwrap();
    assert!(!f.cat.team_managers_manage_reps().unwrap());
    assert!(f
        .cat
        .add_representative(&tm, "rep9", "support", None, false)
        .unwrap_err()
        .is_denied());
    let tm2 = f.cat.login("tm2", "tm2-pw-Vq8#Lw2!pZ").unwrap();
    assert!(f
        .cat
        .set_team_managers_manage_reps(&tm2, true)
        .unwrap_err()
        .is_denied());
    f.cat.set_team_managers_manage_reps(&f.admin, true).unwrap();
    f.cat
        .add_representative(&tm, "rep9", "support-l2", Some(NEW_PW), true)
        .unwrap();
    f.cat.set_password(&tm, "rep1", NEW_PW).unwrap();
    f.cat.move_representative(&tm, "rep9", "support").unwrap();
    // Not outside their teams, and the same answer for unknown names.
    for (name, what) in [("rep3", "rep3"), ("nobody", "unknown"), ("tm2", "manager")] {
        let e = f.cat.set_password(&tm, name, NEW_PW).unwrap_err();
        assert!(e.is_denied(), "{what}: {e}");
        assert!(
            e.to_string()
                .contains("no such representative in your teams"),
            "{what}: {e}"
        );
    }
    assert!(f
        .cat
        .move_representative(&tm, "rep9", "sales")
        .unwrap_err()
        .is_denied());
    assert!(f
        .cat
        .add_representative(&tm, "rep10", "sales", None, false)
        .unwrap_err()
        .is_denied());
    assert!(f.cat.delete_user(&tm, "rep9").unwrap());
}

#[test]
fn the_audit_log_filters_by_user_session_and_date() {
    let mut f = fixture();
    let tm = f.cat.login("tm", "tm-pw-Vq8#Lw2!pZ").unwrap();
    f.cat.open_for(&tm, "s1", Action::Replay, None).unwrap();
    f.cat.set_clock(Clock::Fixed(NOW + DAY));
    f.cat.open_for(&tm, "s2", Action::Chat, None).unwrap();
    f.cat
        .open_for(&f.admin, "s1", Action::Export, None)
        .unwrap();
    let by_tm = f
        .cat
        .audit_log(&f.admin, &AuditQuery::newest(100).actor("tm"))
        .unwrap();
    assert!(by_tm.iter().all(|e| e.actor == "tm"));
    assert_eq!(by_tm.iter().filter(|e| e.session_id.is_some()).count(), 2);
    let on_s1 = f
        .cat
        .audit_log(&f.admin, &AuditQuery::newest(100).session("s1"))
        .unwrap();
    let who: Vec<_> = on_s1
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    assert_eq!(who, [("admin", "export"), ("tm", "replay")]);
    let day2 = f
        .cat
        .audit_log(
            &f.admin,
            &AuditQuery::newest(100).range(Some(NOW + DAY), Some(NOW + 2 * DAY)),
        )
        .unwrap();
    assert!(day2.iter().all(|e| e.at_unix_micros >= NOW + DAY));
    assert!(day2.iter().any(|e| e.action == "chat"));
    assert!(!day2.iter().any(|e| e.action == "replay"));
    assert!(matches!(
        f.cat
            .audit_log(&f.admin, &AuditQuery::newest(MAX_AUDIT_ENTRIES + 1)),
        Err(CatalogError::Invalid(_))
    ));
    assert!(f
        .cat
        .audit_log(&tm, &AuditQuery::newest(10))
        .unwrap_err()
        .is_denied());
    // Durations come with the sessions.
    let s1 = &f
        .cat
        .search(&f.admin, &SearchQuery::by_id("s1"))
        .unwrap()
        .sessions[0];
    assert_eq!(s1.duration_micros(), 600_000_000);
}
