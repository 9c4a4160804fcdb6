//! Tests of recorder tokens and uploads: what a recorder may do, how an
//! upload becomes a live session and then a finished one, what is refused
//! and what survives a server that stops half way.

use std::io::Write;
use std::path::{Path, PathBuf};

use g2a_core::{Size, Timestamp};
use g2a_format::{CapPolicy, CodecId, Record, SessionHeader, Writer, WriterOptions};

use crate::tests::{fixture, Fixture, DAY, NOW};
use crate::tests_security::{pp, write_recording, Claim, ADMIN_PW, PP_ACME};
use crate::*;

fn recorder(f: &Fixture, name: &str, portal: &str) -> Uploader {
    let t = f.cat.issue_recorder_token(&f.admin, name, portal).unwrap();
    f.cat.uploader_for_token(t.as_str()).unwrap()
}

/// What the service does with a PATCH body: appends it to the upload's
/// file and tells the catalog.
fn send(f: &Fixture, who: &Uploader, id: &str, bytes: &[u8]) -> Result<UploadInfo, CatalogError> {
    let u = f.cat.upload_of(who, id).unwrap();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&u.path)
        .unwrap();
    file.write_all(bytes).unwrap();
    file.sync_data().unwrap();
    f.cat.upload_received(who, id)
}

/// Uploads `src` in pieces of `piece` bytes; returns the last state.
fn upload_file(
    f: &Fixture,
    who: &Uploader,
    src: &Path,
    piece: usize,
    deferred: bool,
) -> UploadInfo {
    let bytes = std::fs::read(src).unwrap();
    let name = src.file_name().unwrap().to_str().unwrap();
    let len = (!deferred).then_some(bytes.len() as u64);
    let u = f.cat.create_upload(who, name, len).unwrap();
    assert_eq!(u.offset, 0);
    let mut last = u.clone();
    for c in bytes.chunks(piece) {
        last = send(f, who, &u.id, c).unwrap();
    }
    if deferred {
        f.cat
            .set_upload_length(who, &u.id, bytes.len() as u64)
            .unwrap();
        last = f.cat.upload_received(who, &u.id).unwrap();
    }
    last
}

fn stored(f: &Fixture, id: &str) -> SessionInfo {
    f.cat.session_for_import(id).unwrap()
}

#[test]
fn recorder_tokens_are_issued_by_company_managers_scoped_and_revocable() {
    let f = fixture();
    let tm = f.cat.login("tm", "tm-pw-Vq8#Lw2!pZ").unwrap();
    assert!(f
        .cat
        .issue_recorder_token(&tm, "desk-1", "acme")
        .unwrap_err()
        .is_denied());
    let t = f
        .cat
        .issue_recorder_token(&f.admin, "desk-1", "acme")
        .unwrap();
    assert!(t.as_str().starts_with(RECORDER_TOKEN_PREFIX));
    assert_eq!(format!("{t:?}"), "RecorderToken(<redacted>)");
    assert!(matches!(
        f.cat.issue_recorder_token(&f.admin, "desk-1", "acme"),
        Err(CatalogError::Exists { .. })
    ));
    assert!(matches!(
        f.cat.issue_recorder_token(&f.admin, "desk-2", "nowhere"),
        Err(CatalogError::NotFound { .. })
    ));
    let who = f.cat.uploader_for_token(t.as_str()).unwrap();
    assert_eq!((who.name(), who.portal()), ("desk-1", "acme"));
    for bad in ["", "g2a_rec_", "g2a_rec_zz", &t.as_str().replace('a', "b")] {
        assert!(matches!(
            f.cat.uploader_for_token(bad),
            Err(CatalogError::BadToken)
        ));
    }
    // The secret is not stored.
    let db = std::fs::read(f.cat.dir().join("catalog.sqlite")).unwrap();
    assert!(!db.windows(20).any(|w| w == &t.as_str().as_bytes()[..20]));
    let list = f.cat.list_recorders(&f.admin).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].created_by, "admin");
    assert!(f.cat.list_recorders(&tm).unwrap_err().is_denied());
    f.cat.revoke_recorder_token(&f.admin, "desk-1").unwrap();
    assert!(matches!(
        f.cat.uploader_for_token(t.as_str()),
        Err(CatalogError::BadToken)
    ));
    assert!(f.cat.list_recorders(&f.admin).unwrap()[0]
        .revoked_unix_micros
        .is_some());
    assert!(matches!(
        f.cat.revoke_recorder_token(&f.admin, "desk-1"),
        Err(CatalogError::NotFound { .. })
    ));
    let log = f.cat.audit_log(&f.admin, &AuditQuery::newest(20)).unwrap();
    assert!(log.iter().any(|e| e.action == "issue-recorder-token"
        && e.actor == "tm"
        && e.outcome.starts_with("refused")));
    assert!(log
        .iter()
        .any(|e| e.action == "revoke-recorder-token" && e.outcome == "allowed"));
}

#[test]
fn an_upload_is_live_once_its_header_is_in_and_complete_when_its_last_byte_is() {
    let f = fixture();
    let who = recorder(&f, "desk-1", "acme");
    let src = tempfile::tempdir().unwrap();
    let file = write_recording(src.path(), &Claim::acme("U1"), None);
    let bytes = std::fs::read(&file).unwrap();
    let u = f
        .cat
        .create_upload(&who, "U1.g2a", Some(bytes.len() as u64))
        .unwrap();
    assert_eq!(u.state, UploadState::Receiving);
    // Ten bytes: not a header yet, nothing in the catalog.
    let u1 = send(&f, &who, &u.id, &bytes[..10]).unwrap();
    assert_eq!((u1.offset, u1.session_id.as_deref()), (10, None));
    assert!(!f.cat.session_exists("U1").unwrap());
    // The header and a few records: the session is live and replayable.
    let u2 = send(&f, &who, &u.id, &bytes[10..600]).unwrap();
    assert_eq!(u2.session_id.as_deref(), Some("U1"));
    assert_eq!(u2.seq, Some(0));
    assert_eq!(u2.offset, 600);
    assert!(u2
        .path
        .starts_with(f.cat.dir().join("recordings").join("U1")));
    let s = stored(&f, "U1");
    assert!(s.live);
    let page = f.cat.search(&f.admin, &SearchQuery::by_id("U1")).unwrap();
    assert!(page.sessions[0].live);
    let g = f
        .cat
        .open_for(&f.admin, "U1", Action::Replay, None)
        .unwrap();
    assert_eq!(std::fs::read(&g.files[0]).unwrap(), &bytes[..600]);
    // The rest: verified, hashed, no longer live, end and tracks known.
    let done = send(&f, &who, &u.id, &bytes[600..]).unwrap();
    assert_eq!(done.state, UploadState::Done);
    assert!(done.warnings.is_empty(), "{:?}", done.warnings);
    let s = stored(&f, "U1");
    assert!(!s.live);
    assert_eq!(s.end_unix_micros - s.start_unix_micros, 900_000);
    assert_eq!(s.tracks, ["video", "chat"]);
    assert_eq!(s.files[0].size, bytes.len() as u64);
    assert!(f.cat.check_files(&f.admin, "U1").unwrap().is_empty());
    assert_eq!(
        std::fs::read(f.cat.dir().join(&s.files[0].path)).unwrap(),
        bytes
    );
    // The uploads folder holds nothing left over.
    assert_eq!(
        std::fs::read_dir(f.cat.dir().join("uploads"))
            .unwrap()
            .count(),
        0
    );
    // Another recorder can't see the upload; the same one sees it done.
    let other = recorder(&f, "desk-2", "acme");
    assert!(matches!(
        f.cat.upload_of(&other, &u.id),
        Err(CatalogError::NotFound { .. })
    ));
    assert_eq!(
        f.cat.upload_of(&who, &u.id).unwrap().offset,
        bytes.len() as u64
    );
}

#[test]
fn uploads_in_any_pieces_and_with_the_length_given_last_end_byte_identical() {
    let f = fixture();
    let who = recorder(&f, "desk-1", "acme");
    let src = tempfile::tempdir().unwrap();
    for (i, piece) in [1usize, 7, 300, 100_000].into_iter().enumerate() {
        let id = format!("P{i}");
        let file = write_recording(src.path(), &Claim::acme(&id), None);
        let u = upload_file(&f, &who, &file, piece, i % 2 == 1);
        assert_eq!(u.state, UploadState::Done, "piece {piece}");
        let s = stored(&f, &id);
        assert_eq!(
            std::fs::read(f.cat.dir().join(&s.files[0].path)).unwrap(),
            std::fs::read(&file).unwrap()
        );
    }
}

#[test]
fn bytes_that_are_not_a_recording_or_not_this_recorders_are_refused_and_dropped() {
    let f = fixture();
    let who = recorder(&f, "desk-1", "acme");
    let u = f.cat.create_upload(&who, "junk.g2a", None).unwrap();
    let e = send(&f, &who, &u.id, b"GIF89a and so on").unwrap_err();
    assert!(e.to_string().contains("not a .g2a file"), "{e}");
    let gone = f.cat.upload_of(&who, &u.id).unwrap();
    assert_eq!(gone.state, UploadState::Failed);
    assert!(gone.error.unwrap().contains("not a .g2a file"));
    assert!(!gone.path.exists());
    // A recording of another portal, with a token for acme.
    let src = tempfile::tempdir().unwrap();
    let c = Claim {
        id: "O1",
        portal: "other",
        team: "sales",
        rep: "rep3",
        customer: "c",
    };
    let file = write_recording(src.path(), &c, None);
    let u = f.cat.create_upload(&who, "O1.g2a", None).unwrap();
    let e = send(&f, &who, &u.id, &std::fs::read(&file).unwrap()).unwrap_err();
    assert!(e.is_denied(), "{e}");
    assert!(!f.cat.session_exists("O1").unwrap());
    // A header whose attribution doesn't fit (rep3 is not in support).
    let c = Claim {
        id: "A1",
        rep: "rep3",
        ..Claim::acme("A1")
    };
    let file = write_recording(src.path(), &c, None);
    let u = f.cat.create_upload(&who, "A1.g2a", None).unwrap();
    assert!(matches!(
        send(&f, &who, &u.id, &std::fs::read(&file).unwrap()),
        Err(CatalogError::Attribution { .. })
    ));
    // A recording in clear for a portal with a passphrase.
    f.cat
        .set_passphrase(&f.admin, ADMIN_PW, "acme", &pp(PP_ACME))
        .unwrap();
    let file = write_recording(src.path(), &Claim::acme("C1"), None);
    let u = f.cat.create_upload(&who, "C1.g2a", None).unwrap();
    assert!(matches!(
        send(&f, &who, &u.id, &std::fs::read(&file).unwrap()),
        Err(CatalogError::Coverage { .. })
    ));
    // An encrypted one is accepted and stays encrypted.
    let r = f.cat.recipient_for(&f.admin, "acme").unwrap();
    let file = write_recording(src.path(), &Claim::acme("E1"), Some(&r));
    assert_eq!(
        upload_file(&f, &who, &file, 500, false).state,
        UploadState::Done
    );
    assert!(stored(&f, "E1").encrypted);
    // The same session twice.
    let again = f.cat.create_upload(&who, "E1.g2a", None).unwrap();
    assert!(matches!(
        send(&f, &who, &again.id, &std::fs::read(&file).unwrap()),
        Err(CatalogError::Exists { .. })
    ));
    let refused = f
        .cat
        .audit_log(&f.admin, &AuditQuery::newest(50))
        .unwrap()
        .into_iter()
        .filter(|e| e.actor == "recorder:desk-1" && e.action == "upload" && e.outcome != "allowed")
        .count();
    assert_eq!(refused, 5);
}

#[test]
fn hostile_names_lengths_and_counts_are_refused() {
    let f = fixture();
    let who = recorder(&f, "desk-1", "acme");
    for bad in [
        "",
        "../x.g2a",
        ".hidden.g2a",
        "a/b.g2a",
        "x.mp4",
        "caf\u{e9}.g2a",
    ] {
        assert!(
            matches!(
                f.cat.create_upload(&who, bad, None),
                Err(CatalogError::Invalid(_))
            ),
            "{bad:?}"
        );
    }
    let long = format!("{}.g2a", "a".repeat(100_000));
    let e = f
        .cat
        .create_upload(&who, &long, None)
        .unwrap_err()
        .to_string();
    assert!(e.len() < 300, "{e}");
    assert!(matches!(
        f.cat
            .create_upload(&who, "big.g2a", Some(MAX_UPLOAD_BYTES + 1)),
        Err(CatalogError::Limit(_))
    ));
    let u = f.cat.create_upload(&who, "len.g2a", Some(100)).unwrap();
    assert!(f.cat.set_upload_length(&who, &u.id, 99).is_err());
    assert!(f.cat.set_upload_length(&who, &u.id, 100).is_ok());
    for i in 1..MAX_OPEN_UPLOADS {
        f.cat
            .create_upload(&who, &format!("f{i}.g2a"), None)
            .unwrap();
    }
    assert!(matches!(
        f.cat.create_upload(&who, "one-more.g2a", None),
        Err(CatalogError::Limit(_))
    ));
    assert!(matches!(
        f.cat.upload_of(&who, "../../catalog.sqlite"),
        Err(CatalogError::NotFound { .. })
    ));
}

/// Writes a recording big enough to continue in two more files.
fn write_continued(dir: &Path, id: &str) -> Vec<PathBuf> {
    let h = SessionHeader::new(id, Size::new(64, 48))
        .with_portal("acme")
        .with_team("support")
        .with_representative("rep1")
        .with_start_time_unix_micros(NOW - DAY);
    let opts = WriterOptions::default()
        .size_cap(Some(g2a_format::MIN_SIZE_CAP))
        .cap_policy(CapPolicy::Continue);
    let mut w = Writer::create(dir.join(format!("{id}.g2a")), h, opts).unwrap();
    for i in 0..200u64 {
        w.write(&Record::Video {
            ts: Timestamp::from_millis(i * 100),
            codec: CodecId(*b"TEST"),
            keyframe: i % 10 == 0,
            data: &[i as u8; 1000],
        })
        .unwrap();
    }
    w.finish().unwrap().paths
}

#[test]
fn continuation_files_join_their_session_in_order() {
    let f = fixture();
    let who = recorder(&f, "desk-1", "acme");
    let src = tempfile::tempdir().unwrap();
    let files = write_continued(src.path(), "K1");
    assert!(files.len() >= 3, "{files:?}");
    // The second file first: it waits, its bytes kept.
    let second = std::fs::read(&files[1]).unwrap();
    let name1 = files[1].file_name().unwrap().to_str().unwrap();
    let early = f
        .cat
        .create_upload(&who, name1, Some(second.len() as u64))
        .unwrap();
    let w = send(&f, &who, &early.id, &second).unwrap();
    assert_eq!(w.session_id, None);
    let waiting = f.cat.upload_of(&who, &early.id).unwrap();
    assert_eq!(waiting.state, UploadState::Receiving);
    assert_eq!(waiting.offset, second.len() as u64);
    // The first file, then the waiting one binds, then the third.
    upload_file(&f, &who, &files[0], 4096, false);
    assert!(!stored(&f, "K1").live);
    // The sweep joins the waiting file to its session.
    assert_eq!(f.cat.sweep_uploads(3600).unwrap().joined, 1);
    let u = f.cat.upload_of(&who, &early.id).unwrap();
    assert_eq!((u.state, u.seq), (UploadState::Done, Some(1)));
    for p in &files[2..] {
        assert_eq!(
            upload_file(&f, &who, p, 10_000, true).state,
            UploadState::Done
        );
    }
    let s = stored(&f, "K1");
    assert_eq!(s.files.len(), files.len());
    assert!(!s.live);
    assert_eq!(s.end_unix_micros - s.start_unix_micros, 19_900_000);
    for (stored, src) in s.files.iter().zip(&files) {
        assert_eq!(
            std::fs::read(f.cat.dir().join(&stored.path)).unwrap(),
            std::fs::read(src).unwrap()
        );
    }
    // A continuation from another recorder is refused.
    let other = recorder(&f, "desk-2", "acme");
    let name2 = files[2].file_name().unwrap().to_str().unwrap();
    let u = f.cat.create_upload(&other, name2, None).unwrap();
    assert!(send(&f, &other, &u.id, &std::fs::read(&files[2]).unwrap())
        .unwrap_err()
        .is_denied());
}

#[test]
fn the_sweep_finishes_what_a_stopped_server_left_and_never_loses_a_recording() {
    let mut f = fixture();
    let who = recorder(&f, "desk-1", "acme");
    let src = tempfile::tempdir().unwrap();
    // 1: every byte on disk, but the server stopped before it told the
    // catalog (and before it moved the file).
    let a = write_recording(src.path(), &Claim::acme("S1"), None);
    let bytes = std::fs::read(&a).unwrap();
    let u1 = f
        .cat
        .create_upload(&who, "S1.g2a", Some(bytes.len() as u64))
        .unwrap();
    send(&f, &who, &u1.id, &bytes[..200]).unwrap();
    let path = f.cat.upload_of(&who, &u1.id).unwrap().path;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(&bytes[200..])
        .unwrap();
    // 2: a recorder that went away half way.
    let b = write_recording(src.path(), &Claim::acme("S2"), None);
    let half = std::fs::read(&b).unwrap();
    let u2 = f.cat.create_upload(&who, "S2.g2a", None).unwrap();
    send(&f, &who, &u2.id, &half[..half.len() / 2]).unwrap();
    // 3: a client that sent a few bytes and nothing more.
    let u3 = f.cat.create_upload(&who, "S3.g2a", None).unwrap();
    send(&f, &who, &u3.id, b"G2AR").unwrap();
    let sweep = f.cat.sweep_uploads(3600).unwrap();
    assert_eq!(
        sweep,
        UploadSweep {
            finished: 1,
            ..UploadSweep::default()
        }
    );
    assert!(!stored(&f, "S1").live);
    assert!(stored(&f, "S2").live);
    f.cat.set_clock(Clock::Fixed(NOW + 2 * 3_600_000_000));
    let sweep = f.cat.sweep_uploads(3600).unwrap();
    assert_eq!((sweep.abandoned, sweep.dropped), (1, 1));
    let s2 = stored(&f, "S2");
    assert!(!s2.live);
    let u2 = f.cat.upload_of(&who, &u2.id).unwrap();
    assert_eq!(u2.state, UploadState::Done);
    assert!(
        u2.warnings.iter().any(|w| w.contains("abandoned")),
        "{:?}",
        u2.warnings
    );
    // The half that came plays.
    let g = f
        .cat
        .open_for(&f.admin, "S2", Action::Replay, None)
        .unwrap();
    let r = g2a_format::Reader::open(&g.files[0]).unwrap();
    assert!(r.record_count() > 0);
    assert_eq!(
        f.cat.upload_of(&who, &u3.id).unwrap().state,
        UploadState::Failed
    );
}

#[test]
fn deleting_a_session_removes_its_uploads() {
    let f = fixture();
    let who = recorder(&f, "desk-1", "acme");
    let src = tempfile::tempdir().unwrap();
    let file = write_recording(src.path(), &Claim::acme("D1"), None);
    let u = upload_file(&f, &who, &file, 1000, false);
    f.cat.delete_session(&f.admin, "D1").unwrap();
    assert!(matches!(
        f.cat.upload_of(&who, &u.id),
        Err(CatalogError::NotFound { .. })
    ));
    assert!(!f.cat.dir().join("recordings").join("D1").exists());
}
