//! Tests of the C entry points, called directly as a C program would.

use std::ffi::{c_char, CStr, CString};
use std::path::Path;
use std::ptr::{null, null_mut};

use g2a_format::{Reader, Record};
use g2a_rs::Player;

use crate::*;

fn last_error() -> String {
    // SAFETY: g2a_last_error_message returns a valid NUL-terminated string.
    unsafe { CStr::from_ptr(g2a_last_error_message()) }
        .to_str()
        .unwrap()
        .to_owned()
}

fn info(id: &CStr, width: u32, height: u32) -> g2a_session_info {
    g2a_session_info {
        session_id: id.as_ptr(),
        portal: null(),
        team: null(),
        representative: null(),
        customer: null(),
        side: G2A_SIDE_REPRESENTATIVE,
        start_time_unix_us: 0,
        width,
        height,
        recorder_name: null(),
        recorder_version: null(),
        metadata: null(),
        metadata_len: 0,
    }
}

fn default_options() -> g2a_recorder_options {
    let mut o = std::mem::MaybeUninit::<g2a_recorder_options>::uninit();
    // SAFETY: `o` is writable; init fills every field.
    assert_eq!(unsafe { g2a_recorder_options_init(o.as_mut_ptr()) }, G2A_OK);
    // SAFETY: initialised just above.
    unsafe { o.assume_init() }
}

fn path_c(p: &Path) -> CString {
    CString::new(p.to_str().unwrap()).unwrap()
}

/// Creates a recorder at `path` with `opts`; panics on failure.
fn create(path: &Path, opts: Option<&g2a_recorder_options>) -> *mut g2a_recorder {
    let id = c"S-1";
    let p = path_c(path);
    let inf = info(id, 64, 48);
    let mut rec = null_mut();
    // SAFETY: all pointers are valid for the call.
    let st = unsafe {
        g2a_recorder_create(
            p.as_ptr(),
            &inf,
            opts.map_or(null(), |o| o as *const _),
            &mut rec,
        )
    };
    assert_eq!(st, G2A_OK, "{}", last_error());
    assert!(!rec.is_null());
    rec
}

/// A packed 64x48 BGRA frame whose pixels depend on `seed`.
fn frame(seed: u8) -> Vec<u8> {
    (0..64 * 48 * 4)
        .map(|i: usize| (i as u8).wrapping_mul(7).wrapping_add(seed))
        .collect()
}

fn push(rec: *mut g2a_recorder, px: &[u8], ts_us: u64) -> g2a_status {
    // SAFETY: `px` holds 64 * 48 * 4 bytes.
    unsafe { g2a_recorder_push_frame(rec, px.as_ptr(), 256, 64, 48, G2A_PIXEL_FORMAT_BGRA, ts_us) }
}

fn finish(rec: *mut g2a_recorder) -> g2a_recording_summary {
    let mut s = g2a_recording_summary::default();
    // SAFETY: `rec` is live, `s` writable.
    let st = unsafe { g2a_recorder_finish(rec, &mut s) };
    assert_eq!(st, G2A_OK, "{}", last_error());
    s
}

#[test]
fn version_is_the_crate_version() {
    // SAFETY: a static NUL-terminated string.
    let v = unsafe { CStr::from_ptr(g2a_version()) };
    assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn options_defaults_match_the_recorder() {
    let o = default_options();
    assert_eq!(o.size_cap_bytes, g2a_format::DEFAULT_SIZE_CAP);
    assert_eq!(o.cap_policy, G2A_CAP_CONTINUE);
    assert_eq!(o.compression_level, 1);
    assert_eq!(o.queue_frames, 0);
    assert_eq!(o.queue_full, G2A_QUEUE_FULL_DROP);
    assert_eq!(o.keyframe_max_frames, 0);
    // SAFETY: NULL is allowed and reported.
    assert_eq!(
        unsafe { g2a_recorder_options_init(null_mut()) },
        G2A_ERR_NULL_POINTER
    );
    assert!(last_error().contains("`opts` is a null pointer"));
}

#[test]
fn create_checks_its_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let p = path_c(&dir.path().join("a.g2a"));
    let id = c"S-1";
    let good = info(id, 64, 48);
    let mut rec: *mut g2a_recorder = null_mut();
    let try_create = |path: *const c_char,
                      inf: *const g2a_session_info,
                      opts: *const g2a_recorder_options,
                      out: *mut *mut g2a_recorder| {
        // SAFETY: every pointer is NULL or valid.
        unsafe { g2a_recorder_create(path, inf, opts, out) }
    };

    assert_eq!(
        try_create(p.as_ptr(), &good, null(), null_mut()),
        G2A_ERR_NULL_POINTER
    );
    assert!(last_error().contains("`out`"), "{}", last_error());
    assert_eq!(
        try_create(null(), &good, null(), &mut rec),
        G2A_ERR_NULL_POINTER
    );
    assert!(rec.is_null());
    assert!(last_error().contains("`path`"));
    assert_eq!(
        try_create(p.as_ptr(), null(), null(), &mut rec),
        G2A_ERR_NULL_POINTER
    );
    assert!(last_error().contains("`info`"));

    let mut i = good;
    i.session_id = null();
    assert_eq!(
        try_create(p.as_ptr(), &i, null(), &mut rec),
        G2A_ERR_NULL_POINTER
    );
    assert!(last_error().contains("info.session_id"));

    let bad_utf8 = CString::new(vec![b'a', b'b', 0xff, b'c']).unwrap();
    let mut i = good;
    i.portal = bad_utf8.as_ptr();
    assert_eq!(try_create(p.as_ptr(), &i, null(), &mut rec), G2A_ERR_UTF8);
    assert_eq!(
        last_error(),
        "argument `info.portal` is not valid UTF-8: invalid byte at offset 2"
    );

    let mut i = good;
    i.side = 7;
    assert_eq!(
        try_create(p.as_ptr(), &i, null(), &mut rec),
        G2A_ERR_INVALID_ARGUMENT
    );
    assert!(last_error().contains("info.side"));

    let mut i = good;
    i.width = 0;
    assert_eq!(
        try_create(p.as_ptr(), &i, null(), &mut rec),
        G2A_ERR_INVALID_ARGUMENT
    );
    let mut i = good;
    i.height = 20_000;
    assert_eq!(try_create(p.as_ptr(), &i, null(), &mut rec), G2A_ERR_LIMIT);

    let mut i = good;
    i.metadata_len = 2;
    assert_eq!(
        try_create(p.as_ptr(), &i, null(), &mut rec),
        G2A_ERR_NULL_POINTER
    );
    assert!(last_error().contains("info.metadata"));
    i.metadata_len = G2A_MAX_METADATA_ENTRIES + 1;
    assert_eq!(try_create(p.as_ptr(), &i, null(), &mut rec), G2A_ERR_LIMIT);
    let entries = [g2a_metadata_entry {
        key: c"k".as_ptr(),
        value: null(),
    }];
    i.metadata = entries.as_ptr();
    i.metadata_len = 1;
    assert_eq!(
        try_create(p.as_ptr(), &i, null(), &mut rec),
        G2A_ERR_NULL_POINTER
    );

    let big = CString::new(vec![b'x'; G2A_MAX_SESSION_TEXT_BYTES]).unwrap();
    let mut i = good;
    i.customer = big.as_ptr();
    assert_eq!(try_create(p.as_ptr(), &i, null(), &mut rec), G2A_ERR_LIMIT);
    assert!(last_error().contains("info.customer"));

    let mut o = default_options();
    o.cap_policy = 9;
    assert_eq!(
        try_create(p.as_ptr(), &good, &o, &mut rec),
        G2A_ERR_INVALID_ARGUMENT
    );
    let mut o = default_options();
    o.queue_full = 2;
    assert_eq!(
        try_create(p.as_ptr(), &good, &o, &mut rec),
        G2A_ERR_INVALID_ARGUMENT
    );
    let mut o = default_options();
    o.compression_level = 0;
    assert_eq!(
        try_create(p.as_ptr(), &good, &o, &mut rec),
        G2A_ERR_INVALID_ARGUMENT
    );
    let mut o = default_options();
    o.size_cap_bytes = 1000;
    assert_eq!(
        try_create(p.as_ptr(), &good, &o, &mut rec),
        G2A_ERR_INVALID_ARGUMENT
    );
    assert!(last_error().contains("minimum"), "{}", last_error());

    let missing = path_c(&dir.path().join("no/such/dir/a.g2a"));
    assert_eq!(
        try_create(missing.as_ptr(), &good, null(), &mut rec),
        G2A_ERR_IO
    );
    assert!(rec.is_null());

    // A good call clears the last error.
    assert_eq!(try_create(p.as_ptr(), &good, null(), &mut rec), G2A_OK);
    assert_eq!(last_error(), "");
    finish(rec);
}

#[test]
fn frames_are_checked_and_earlier_data_stays_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.g2a");
    let rec = create(&path, None);
    let a = frame(1);
    let b = frame(2);
    assert_eq!(push(rec, &a, 0), G2A_RECORDED);
    assert_eq!(push(rec, &b, 100_000), G2A_RECORDED);

    // SAFETY (all calls below): pointers are NULL or valid for the sizes
    // given; the checks must refuse the bad ones before reading.
    unsafe {
        assert_eq!(
            g2a_recorder_push_frame(null_mut(), a.as_ptr(), 256, 64, 48, 0, 200_000),
            G2A_ERR_NULL_POINTER
        );
        assert_eq!(
            g2a_recorder_push_frame(rec, null(), 256, 64, 48, 0, 200_000),
            G2A_ERR_NULL_POINTER
        );
        assert!(last_error().contains("`pixels`"));
        assert_eq!(
            g2a_recorder_push_frame(rec, a.as_ptr(), 255, 64, 48, 0, 200_000),
            G2A_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            last_error(),
            "stride of 255 bytes is shorter than a row of 64 pixels (256 bytes)"
        );
        assert_eq!(
            g2a_recorder_push_frame(rec, a.as_ptr(), 256, 64, 48, 2, 200_000),
            G2A_ERR_INVALID_ARGUMENT
        );
        assert!(last_error().contains("G2A_PIXEL_FORMAT_BGRA"));
        assert_eq!(
            g2a_recorder_push_frame(rec, a.as_ptr(), 256, 0, 48, 0, 200_000),
            G2A_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            g2a_recorder_push_frame(rec, a.as_ptr(), 1 << 20, 20_000, 48, 0, 200_000),
            G2A_ERR_LIMIT
        );
        assert_eq!(
            g2a_recorder_push_frame(rec, a.as_ptr(), usize::MAX / 4, 64, 48, 0, 200_000),
            G2A_ERR_LIMIT
        );
        assert!(last_error().contains("stride * height"));
    }
    // Time going backwards on the video track.
    assert_eq!(push(rec, &a, 50_000), G2A_ERR_TIME_WENT_BACKWARDS);
    assert!(last_error().contains("went backwards"), "{}", last_error());
    // The recorder goes on after errors; a padded stride works.
    let mut padded = vec![0u8; 300 * 48];
    for y in 0..48 {
        padded[y * 300..y * 300 + 256].copy_from_slice(&a[y * 256..y * 256 + 256]);
    }
    // SAFETY: `padded` holds 48 rows of 300 bytes.
    let st = unsafe {
        g2a_recorder_push_frame(
            rec,
            padded.as_ptr(),
            300,
            64,
            48,
            G2A_PIXEL_FORMAT_BGRX,
            200_000,
        )
    };
    assert_eq!(st, G2A_RECORDED, "{}", last_error());
    let s = finish(rec);
    assert_eq!(
        (s.frames, s.dropped, s.files, s.stopped_by_cap),
        (3, 0, 1, 0)
    );

    assert!(Reader::open(&path).unwrap().verify().is_intact());
    let mut player = Player::open(&path).unwrap();
    for (want_ts, want) in [(0u64, &a), (100_000, &b), (200_000, &a)] {
        let f = player.next_frame().unwrap().unwrap();
        assert_eq!(f.ts.as_micros(), want_ts);
        for (got, exp) in f.data.chunks(4).zip(want.chunks(4)) {
            assert_eq!(got[..3], exp[..3]);
        }
    }
    assert!(player.next_frame().unwrap().is_none());
}

#[test]
fn records_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.g2a");
    let rec = create(&path, None);
    let bad = CString::new(vec![0xc3, 0x28]).unwrap();
    let shape = [255u8; 4 * 4 * 4];
    // SAFETY (all calls): pointers are NULL or valid for the lengths given.
    unsafe {
        assert_eq!(
            g2a_recorder_push_chat(rec, 10, G2A_ROLE_CUSTOMER, c"Kim".as_ptr(), c"hi".as_ptr()),
            G2A_OK
        );
        assert_eq!(
            g2a_recorder_push_chat(rec, 20, G2A_ROLE_CUSTOMER, c"Kim".as_ptr(), bad.as_ptr()),
            G2A_ERR_UTF8
        );
        assert!(last_error().contains("`text`"));
        assert_eq!(
            g2a_recorder_push_chat(rec, 20, G2A_ROLE_CUSTOMER, null(), null()),
            G2A_ERR_NULL_POINTER
        );
        assert_eq!(
            g2a_recorder_push_chat(rec, 20, 300, null(), c"x".as_ptr()),
            G2A_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            g2a_recorder_push_chat(rec, 5, G2A_ROLE_SYSTEM, null(), c"late".as_ptr()),
            G2A_ERR_TIME_WENT_BACKWARDS
        );
        assert_eq!(
            g2a_recorder_push_diagnostic(rec, 30, c"log".as_ptr(), G2A_MEDIA_TEXT, null(), 0),
            G2A_OK
        );
        assert_eq!(
            g2a_recorder_push_diagnostic(rec, 40, c"log".as_ptr(), G2A_MEDIA_TEXT, null(), 5),
            G2A_ERR_NULL_POINTER
        );
        assert_eq!(
            g2a_recorder_push_diagnostic(rec, 40, null(), G2A_MEDIA_TEXT, b"x".as_ptr(), 1),
            G2A_ERR_NULL_POINTER
        );
        assert_eq!(
            g2a_recorder_push_diagnostic(
                rec,
                40,
                c"huge".as_ptr(),
                G2A_MEDIA_BINARY,
                b"x".as_ptr(),
                usize::MAX
            ),
            G2A_ERR_LIMIT
        );
        assert_eq!(
            g2a_recorder_push_event(rec, 50, 70_000, null()),
            G2A_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            g2a_recorder_push_event(rec, 50, G2A_EVENT_REBOOT, c"after update".as_ptr()),
            G2A_OK
        );
        assert_eq!(
            g2a_recorder_push_cursor_shape(rec, 60, 1, 0, 0, 4, 4, shape.as_ptr(), 63),
            G2A_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            last_error(),
            "argument `len` is 63 bytes: expected 64 bytes"
        );
        assert_eq!(
            g2a_recorder_push_cursor_shape(rec, 60, 1, 0, 0, 4, 4, null(), 64),
            G2A_ERR_NULL_POINTER
        );
        assert_eq!(
            g2a_recorder_push_cursor_shape(rec, 60, 1, 1, 2, 4, 4, shape.as_ptr(), 64),
            G2A_OK
        );
        assert_eq!(g2a_recorder_push_cursor(rec, 70, -3, 5, 1, 1), G2A_OK);
        assert_eq!(g2a_recorder_push_cursor(rec, 80, 9, 9, 0, 1), G2A_OK);
        assert_eq!(
            g2a_recorder_push_cursor(rec, 75, 9, 9, 0, 1),
            G2A_ERR_TIME_WENT_BACKWARDS
        );
        assert_eq!(g2a_recorder_sync(rec), G2A_OK);
    }
    finish(rec);

    let reader = Reader::open(&path).unwrap();
    assert!(reader.verify().is_intact());
    let kinds: Vec<String> = reader
        .records()
        .map(|r| match r {
            Record::Chat { text, .. } => format!("chat {text}"),
            Record::Diagnostic { name, data, .. } => format!("diag {name} {}", data.len()),
            Record::Event { kind, detail, .. } => format!("event {} {detail}", kind.name()),
            Record::CursorShape { id, hotspot_y, .. } => format!("shape {id} {hotspot_y}"),
            Record::CursorPosition { x, shape, .. } => format!("cursor {x} {shape:?}"),
            other => format!("{:?}", other.track()),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "chat hi",
            "diag log 0",
            "event reboot after update",
            "shape 1 2",
            "cursor -3 Some(1)",
            "cursor 9 None"
        ]
    );
}

#[test]
fn handles_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let rec = create(&dir.path().join("h.g2a"), None);
    // A pointer that was never a handle is refused without being read.
    let mut bogus = 0u64;
    let fake = (&mut bogus as *mut u64).cast::<g2a_recorder>();
    let a = frame(0);
    assert_eq!(push(fake, &a, 0), G2A_ERR_BAD_HANDLE);
    assert!(last_error().contains("not a live recorder"));
    // SAFETY: `fake` is refused before any access.
    assert_eq!(
        unsafe { g2a_recorder_finish(fake, null_mut()) },
        G2A_ERR_BAD_HANDLE
    );

    // A call while another holds the handle is refused, not run.
    let busy = handle::with_recorder(rec, |_| {
        // SAFETY: `rec` is live.
        Ok(unsafe { g2a_recorder_push_cursor(rec, 0, 0, 0, 0, 0) })
    })
    .unwrap();
    assert_eq!(busy, G2A_ERR_BUSY);
    let busy_finish = handle::with_recorder(rec, |_| {
        // SAFETY: `rec` is live; finish refuses while it is busy.
        Ok(unsafe { g2a_recorder_finish(rec, null_mut()) })
    })
    .unwrap();
    assert_eq!(busy_finish, G2A_ERR_BUSY);

    // SAFETY: `rec` is live; `out` may be NULL.
    assert_eq!(unsafe { g2a_recorder_finish(rec, null_mut()) }, G2A_OK);
    // Finished: the handle is no longer live.
    assert_eq!(push(rec, &a, 0), G2A_ERR_BAD_HANDLE);
    // SAFETY: refused before any access.
    assert_eq!(
        unsafe { g2a_recorder_finish(rec, null_mut()) },
        G2A_ERR_BAD_HANDLE
    );
    // SAFETY: NULL and stale handles are ignored by free.
    unsafe {
        g2a_recorder_free(null_mut());
        g2a_recorder_free(rec);
    }
    assert!(last_error().contains("not a live recorder"));
}

#[test]
fn concurrent_calls_on_one_handle_are_refused_not_raced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("threads.g2a");
    let rec = create(&path, None) as usize;
    let frames = std::thread::spawn(move || {
        let mut statuses = Vec::new();
        for i in 0..20u64 {
            statuses.push(push(rec as *mut g2a_recorder, &frame(i as u8), i * 100_000));
        }
        statuses
    });
    let mut cursor = Vec::new();
    for i in 0..200u64 {
        // SAFETY: `rec` stays live until both threads are done.
        cursor.push(unsafe { g2a_recorder_push_cursor(rec as *mut g2a_recorder, i, 1, 2, 1, 0) });
    }
    let statuses = frames.join().unwrap();
    for st in statuses.iter().chain(&cursor) {
        assert!(
            [G2A_OK, G2A_ERR_BUSY].contains(st),
            "unexpected status {st}"
        );
    }
    let recorded = statuses.iter().filter(|&&s| s == G2A_RECORDED).count() as u64;
    let cursors = cursor.iter().filter(|&&s| s == G2A_OK).count() as u64;
    let s = finish(rec as *mut g2a_recorder);
    assert_eq!(s.frames, recorded);
    let reader = Reader::open(&path).unwrap();
    assert!(reader.verify().is_intact());
    let positions = reader
        .records()
        .filter(|r| matches!(r, Record::CursorPosition { .. }))
        .count() as u64;
    assert_eq!(positions, cursors);
}

#[test]
fn panics_do_not_cross_the_boundary() {
    let st = error::guard(|| panic!("boom"));
    assert_eq!(st, G2A_ERR_PANIC);
    assert!(last_error().contains("boom"));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.g2a");
    let rec = create(&path, None);
    assert_eq!(push(rec, &frame(3), 0), G2A_RECORDED);
    let st =
        error::guard(|| handle::with_recorder(rec, |_| -> Result<i32, _> { panic!("inside") }));
    assert_eq!(st, G2A_ERR_PANIC);
    // The recorder is now refused, but freeing it still finishes the file.
    assert_eq!(push(rec, &frame(4), 100_000), G2A_ERR_PANIC);
    assert!(last_error().contains("earlier call"));
    // SAFETY: `rec` is live.
    unsafe { g2a_recorder_free(rec) };
    let reader = Reader::open(&path).unwrap();
    assert!(reader.verify().is_intact());
    assert_eq!(Player::open(&path).unwrap().codec_stats().frames(), 1);
}

#[test]
fn free_finishes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("free.g2a");
    let rec = create(&path, None);
    assert_eq!(push(rec, &frame(5), 0), G2A_RECORDED);
    assert_eq!(push(rec, &frame(6), 100_000), G2A_RECORDED);
    // SAFETY: `rec` is live.
    unsafe { g2a_recorder_free(rec) };
    assert!(Reader::open(&path).unwrap().verify().is_intact());
    assert_eq!(Player::open(&path).unwrap().codec_stats().frames(), 2);
}

#[test]
fn size_cap_stop_and_queue_drops_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cap.g2a");
    let mut o = default_options();
    o.size_cap_bytes = 64 * 1024;
    o.cap_policy = G2A_CAP_STOP;
    let rec = create(&path, Some(&o));
    // Noise does not compress: a few frames reach the cap.
    let mut x = 0x1234_5678u32;
    let mut stopped = 0;
    for i in 0..20u64 {
        let px: Vec<u8> = (0..64 * 48 * 4)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        match push(rec, &px, i * 100_000) {
            G2A_RECORDED => assert_eq!(stopped, 0, "recorded after the stop"),
            G2A_STOPPED => stopped += 1,
            other => panic!("status {other}: {}", last_error()),
        }
    }
    assert!(stopped > 0);
    let s = finish(rec);
    assert_eq!(s.stopped_by_cap, 1);
    assert_eq!(s.frames + stopped, 20);
    assert!(Reader::open(&path).unwrap().verify().is_intact());

    // A background encoder with a one-frame queue that drops when full.
    let path = dir.path().join("drop.g2a");
    let mut o = default_options();
    o.queue_frames = 1;
    o.queue_full = G2A_QUEUE_FULL_DROP;
    let rec = create(&path, Some(&o));
    let (mut recorded, mut dropped) = (0u64, 0u64);
    for i in 0..40u64 {
        match push(rec, &frame(i as u8), i * 1000) {
            G2A_RECORDED => recorded += 1,
            G2A_DROPPED => dropped += 1,
            other => panic!("status {other}: {}", last_error()),
        }
    }
    let mut n = 0;
    // SAFETY: `rec` is live, `n` writable.
    assert_eq!(unsafe { g2a_recorder_dropped_frames(rec, &mut n) }, G2A_OK);
    assert_eq!(n, dropped);
    let s = finish(rec);
    assert_eq!((s.frames, s.dropped), (recorded, dropped));
    assert!(Reader::open(&path).unwrap().verify().is_intact());
}

#[test]
fn last_error_copy_truncates_like_snprintf() {
    // SAFETY: NULL is reported.
    assert_eq!(
        unsafe { g2a_recorder_sync(null_mut()) },
        G2A_ERR_NULL_POINTER
    );
    let msg = last_error();
    // SAFETY: NULL with len 0 asks for the length.
    assert_eq!(unsafe { g2a_last_error_copy(null_mut(), 0) }, msg.len());
    let mut buf = [0x55 as c_char; 8];
    // SAFETY: `buf` holds 8 bytes.
    let n = unsafe { g2a_last_error_copy(buf.as_mut_ptr(), buf.len()) };
    assert_eq!(n, msg.len());
    // SAFETY: the copy is NUL-terminated within `buf`.
    let got = unsafe { CStr::from_ptr(buf.as_ptr()) };
    assert_eq!(got.to_str().unwrap(), &msg[..7]);
    let mut big = vec![0 as c_char; msg.len() + 1];
    // SAFETY: `big` holds msg.len() + 1 bytes.
    unsafe { g2a_last_error_copy(big.as_mut_ptr(), big.len()) };
    // SAFETY: as above.
    assert_eq!(
        unsafe { CStr::from_ptr(big.as_ptr()) }.to_str().unwrap(),
        msg
    );
    // The message is per thread.
    let other = std::thread::spawn(last_error).join().unwrap();
    assert_eq!(other, "");
}

/// Regenerates the header with cbindgen and compares it with the
/// committed `include/g2a.h` (`G2A_BLESS_HEADER=1` rewrites it).
#[test]
fn header_is_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).unwrap();
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_src(dir.join("src/lib.rs"))
        .with_config(config)
        .generate()
        .unwrap()
        .write(&mut out);
    let path = dir.join("include/g2a.h");
    if std::env::var_os("G2A_BLESS_HEADER").is_some() {
        std::fs::write(&path, &out).unwrap();
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == out,
        "include/g2a.h is stale: run `G2A_BLESS_HEADER=1 cargo test -p g2a-ffi header_is_current`"
    );
}
