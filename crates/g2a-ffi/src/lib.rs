//! C ABI of the g2a recorder: `libg2a.so` / `libg2a.a` and `include/g2a.h`.
//!
//! Support clients written in C, C++ or any language with a C FFI embed the
//! [g2a recorder](g2a_rs::Recorder) through these functions: create a
//! recorder with the session's metadata and options, push screen frames
//! (pointer, stride, size, pixel format, timestamp), chat, diagnostics,
//! session events and cursor updates, then finish the file.
//! `docs/C_API.md` explains building, linking, ownership and threading;
//! the header `include/g2a.h` is generated from this file by cbindgen
//! (`tests::header_is_current` checks it is up to date).
//!
//! Every entry point checks each pointer for null, each size against the
//! limits and each string for UTF-8, catches panics (returning
//! [`G2A_ERR_PANIC`]) so that none crosses the boundary, and validates
//! recorder handles against the set of live ones.
// A C ABI takes raw pointers: this crate is the one place of the workspace
// where they are turned into references. Every `unsafe` block carries a
// `SAFETY` note; `unsafe_op_in_unsafe_fn` keeps them explicit.
#![allow(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
// The C names (`g2a_recorder`, `g2a_status`, ...) are the API.
#![allow(non_camel_case_types)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod convert;
mod error;
mod handle;

#[cfg(test)]
mod tests;

use std::ffi::{c_char, c_int};
use std::sync::Mutex;

use g2a_core::{FrameRef, PixelFormat, Size, Timestamp};
use g2a_format::{
    CapPolicy, EventKind, MediaType, RecordingSide, SenderRole, SessionHeader, WriterOptions,
};
use g2a_rs::{FrameStatus, QueueFull, RecorderOptions};

use crate::convert::{bytes, frame_span, opt_str, req_str};
use crate::error::{guard, FfiError};
use crate::handle::Inner;

// ---------------------------------------------------------------------------
// Status codes

/// The result of a call: `G2A_OK` (0) or another non-negative status on
/// success, a negative `G2A_ERR_*` code on failure. After a failure,
/// `g2a_last_error_message` says what went wrong.
pub type g2a_status = i32;

/// Success.
pub const G2A_OK: g2a_status = 0;
/// `g2a_recorder_push_frame`: the frame was recorded (or queued to be).
/// Equal to `G2A_OK`.
pub const G2A_RECORDED: g2a_status = 0;
/// `g2a_recorder_push_frame`: the frame was dropped because the encoding
/// queue was full (`G2A_QUEUE_FULL_DROP`); the count goes into the file.
pub const G2A_DROPPED: g2a_status = 1;
/// `g2a_recorder_push_frame`: not recorded because the size cap ended the
/// recording (`G2A_CAP_STOP`). Later frames are not recorded either.
pub const G2A_STOPPED: g2a_status = 2;
/// A required pointer argument is NULL.
pub const G2A_ERR_NULL_POINTER: g2a_status = -1;
/// An argument is out of range: an unknown enumeration value, a stride
/// shorter than a row, a buffer length that does not match its layout,
/// a zero frame side, an invalid option.
pub const G2A_ERR_INVALID_ARGUMENT: g2a_status = -2;
/// A string argument is not valid UTF-8.
pub const G2A_ERR_UTF8: g2a_status = -3;
/// A size or length exceeds the limits (frame side or area, record bytes).
pub const G2A_ERR_LIMIT: g2a_status = -4;
/// A timestamp is earlier than the previous one of the same track
/// (video, cursor, chat, diagnostics and events each keep their own order).
pub const G2A_ERR_TIME_WENT_BACKWARDS: g2a_status = -5;
/// Reading or writing a file failed.
pub const G2A_ERR_IO: g2a_status = -6;
/// The recorder failed otherwise (encoder or container error, or an
/// earlier error of the background encoding thread).
pub const G2A_ERR_RECORDER: g2a_status = -7;
/// The handle is not a live recorder: never created, or already finished
/// or freed.
pub const G2A_ERR_BAD_HANDLE: g2a_status = -8;
/// The handle is in use by a call on another thread at the same time.
pub const G2A_ERR_BUSY: g2a_status = -9;
/// A bug inside the library (a panic) was caught; a recorder on which it
/// happened refuses further calls and can only be finished or freed.
pub const G2A_ERR_PANIC: g2a_status = -10;

// ---------------------------------------------------------------------------
// Enumerations (plain integers, so that any value a C caller passes is
// checked rather than undefined behaviour)

/// Layout of one captured pixel: 4 bytes in memory order B, G, R, then a
/// byte that is ignored.
pub type g2a_pixel_format = u32;
/// B, G, R, A (alpha ignored).
pub const G2A_PIXEL_FORMAT_BGRA: g2a_pixel_format = 0;
/// B, G, R, X (padding byte ignored), as X11 delivers.
pub const G2A_PIXEL_FORMAT_BGRX: g2a_pixel_format = 1;

/// What happens when a file reaches the size cap.
pub type g2a_cap_policy = u32;
/// Finish the file and continue in a numbered continuation file
/// (`name.001.g2a`, ...). The default.
pub const G2A_CAP_CONTINUE: g2a_cap_policy = 0;
/// Finish the file and stop recording: later frames return `G2A_STOPPED`.
pub const G2A_CAP_STOP: g2a_cap_policy = 1;

/// What `g2a_recorder_push_frame` does when the encoding queue is full.
pub type g2a_queue_full = u32;
/// Wait for the encoder: no frame is lost, the caller slows down.
pub const G2A_QUEUE_FULL_BLOCK: g2a_queue_full = 0;
/// Drop the frame and return `G2A_DROPPED` (right for live capture).
pub const G2A_QUEUE_FULL_DROP: g2a_queue_full = 1;

/// Which machine the recording is made on.
pub type g2a_side = u32;
/// The support representative's machine (0, so a zeroed struct means it).
pub const G2A_SIDE_REPRESENTATIVE: g2a_side = 0;
/// The customer's machine.
pub const G2A_SIDE_CUSTOMER: g2a_side = 1;

/// Who wrote a chat message. Other values up to 255 are stored as given.
pub type g2a_sender_role = u32;
/// The support representative.
pub const G2A_ROLE_REPRESENTATIVE: g2a_sender_role = 1;
/// The customer.
pub const G2A_ROLE_CUSTOMER: g2a_sender_role = 2;
/// The support system itself.
pub const G2A_ROLE_SYSTEM: g2a_sender_role = 3;

/// The type of a diagnostics document. Other values up to 255 are stored
/// as given.
pub type g2a_media_type = u32;
/// Arbitrary bytes.
pub const G2A_MEDIA_BINARY: g2a_media_type = 0;
/// UTF-8 text.
pub const G2A_MEDIA_TEXT: g2a_media_type = 1;
/// A JSON document.
pub const G2A_MEDIA_JSON: g2a_media_type = 2;

/// The kind of a session event. Other values up to 65535 are stored as
/// given.
pub type g2a_event_kind = u32;
/// The representative was granted remote control.
pub const G2A_EVENT_REMOTE_CONTROL_GRANTED: g2a_event_kind = 1;
/// Remote control was revoked.
pub const G2A_EVENT_REMOTE_CONTROL_REVOKED: g2a_event_kind = 2;
/// A file was transferred (detail: name and direction).
pub const G2A_EVENT_FILE_TRANSFERRED: g2a_event_kind = 3;
/// The customer's machine rebooted.
pub const G2A_EVENT_REBOOT: g2a_event_kind = 4;
/// A participant joined (detail: who).
pub const G2A_EVENT_PARTICIPANT_JOINED: g2a_event_kind = 5;
/// A participant left (detail: who).
pub const G2A_EVENT_PARTICIPANT_LEFT: g2a_event_kind = 6;
/// Frames were dropped (the recorder writes these itself).
pub const G2A_EVENT_FRAMES_DROPPED: g2a_event_kind = 7;

/// Most metadata entries `g2a_session_info` may carry.
pub const G2A_MAX_METADATA_ENTRIES: usize = 4096;
/// Most bytes all strings of `g2a_session_info` may hold together (the
/// file header must stay under the 1 MiB readers accept).
pub const G2A_MAX_SESSION_TEXT_BYTES: usize = 512 * 1024;

// ---------------------------------------------------------------------------
// Types

/// A recorder: an open `.g2a` recording. Opaque.
///
/// Made by `g2a_recorder_create`; ended by exactly one call of
/// `g2a_recorder_finish` or `g2a_recorder_free`, after which the pointer
/// must not be used again. The library recognises pointers that are not
/// live handles (returning `G2A_ERR_BAD_HANDLE`) as long as their memory
/// has not been reused by a new recorder, but that is a diagnostic aid, not
/// a licence: using a finished or freed handle is a bug.
pub struct g2a_recorder {
    inner: Mutex<Inner>,
}

/// One free-form metadata entry of a session: two NUL-terminated UTF-8
/// strings, both required (non-NULL).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct g2a_metadata_entry {
    /// The key.
    pub key: *const c_char,
    /// The value.
    pub value: *const c_char,
}

/// Session metadata written into the file header.
///
/// Zero-initialise it (`g2a_session_info info = {0};`) and set the fields
/// you have: NULL strings are stored as empty. All strings are
/// NUL-terminated UTF-8 and are copied during `g2a_recorder_create`; the
/// caller keeps ownership of them and of the metadata array.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct g2a_session_info {
    /// Unique id of the support session. Required (non-NULL).
    pub session_id: *const c_char,
    /// The portal the session ran on.
    pub portal: *const c_char,
    /// The representative's team.
    pub team: *const c_char,
    /// The representative's name.
    pub representative: *const c_char,
    /// A label for the customer.
    pub customer: *const c_char,
    /// The machine recorded: a `G2A_SIDE_*` value.
    pub side: g2a_side,
    /// Session start, microseconds since the Unix epoch (UTC).
    pub start_time_unix_us: i64,
    /// Screen width at the start, in pixels (non-zero).
    pub width: u32,
    /// Screen height at the start, in pixels (non-zero).
    pub height: u32,
    /// The recording program's name; NULL: "g2a-ffi".
    pub recorder_name: *const c_char,
    /// The recording program's version; NULL: this library's version.
    pub recorder_version: *const c_char,
    /// `metadata_len` entries, or NULL when `metadata_len` is 0.
    pub metadata: *const g2a_metadata_entry,
    /// Number of metadata entries (at most `G2A_MAX_METADATA_ENTRIES`).
    pub metadata_len: usize,
}

/// Recorder options. Fill with `g2a_recorder_options_init`, then change
/// what you need; a struct that was not initialised that way may hold
/// invalid values (fields added by later versions of the library are set
/// by the init function too).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct g2a_recorder_options {
    /// Largest size of one file in bytes, trailer included; 0: no cap.
    /// At least 65536 when set. Default: 200000000.
    pub size_cap_bytes: u64,
    /// What happens at the cap: a `G2A_CAP_*` value. Default:
    /// `G2A_CAP_CONTINUE`.
    pub cap_policy: g2a_cap_policy,
    /// zstd compression level of the screen codec, 1 to 19. Default: 1.
    pub compression_level: i32,
    /// Start a keyframe once the delta frames since the last one exceed
    /// this many bytes (bounds seek cost). Default: 1048576.
    pub keyframe_max_delta_bytes: u64,
    /// Also start a keyframe after this many frames; 0: no such rule.
    /// Default: 0.
    pub keyframe_max_frames: u64,
    /// Frames that may wait for the encoder: 0 encodes on the caller's
    /// thread inside `g2a_recorder_push_frame`; n > 0 encodes on a
    /// background thread with at most n frames queued. Default: 0.
    pub queue_frames: u32,
    /// What happens when the queue is full: a `G2A_QUEUE_FULL_*` value.
    /// Default: `G2A_QUEUE_FULL_DROP`.
    pub queue_full: g2a_queue_full,
}

/// What a finished recording holds, filled by `g2a_recorder_finish`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct g2a_recording_summary {
    /// Files written (1 plus the continuation files).
    pub files: u32,
    /// Total bytes of all files.
    pub bytes: u64,
    /// Records written (frames, chat, diagnostics, events, cursor, ...).
    pub records: u64,
    /// Frames recorded.
    pub frames: u64,
    /// Frames dropped because the queue was full.
    pub dropped: u64,
    /// Frames stored as keyframes.
    pub key_frames: u64,
    /// Frames stored as deltas from the previous frame.
    pub delta_frames: u64,
    /// Frames stored as "unchanged".
    pub unchanged_frames: u64,
    /// 1 when the size cap stopped the recording early, else 0.
    pub stopped_by_cap: u32,
}

// ---------------------------------------------------------------------------
// Conversions

fn pixel_format(v: g2a_pixel_format) -> Result<PixelFormat, FfiError> {
    match v {
        G2A_PIXEL_FORMAT_BGRA => Ok(PixelFormat::Bgra8),
        G2A_PIXEL_FORMAT_BGRX => Ok(PixelFormat::Bgrx8),
        other => Err(FfiError::UnknownValue {
            what: "format",
            found: u64::from(other),
            expected: "G2A_PIXEL_FORMAT_BGRA (0) or G2A_PIXEL_FORMAT_BGRX (1)",
        }),
    }
}

fn code_u8(v: u32, what: &'static str, expected: &'static str) -> Result<u8, FfiError> {
    u8::try_from(v).map_err(|_| FfiError::UnknownValue {
        what,
        found: u64::from(v),
        expected,
    })
}

fn recorder_options(o: &g2a_recorder_options) -> Result<RecorderOptions, FfiError> {
    let cap_policy = match o.cap_policy {
        G2A_CAP_CONTINUE => CapPolicy::Continue,
        G2A_CAP_STOP => CapPolicy::Stop,
        other => {
            return Err(FfiError::UnknownValue {
                what: "options.cap_policy",
                found: u64::from(other),
                expected: "G2A_CAP_CONTINUE (0) or G2A_CAP_STOP (1)",
            })
        }
    };
    let when_full = match o.queue_full {
        G2A_QUEUE_FULL_BLOCK => QueueFull::Block,
        G2A_QUEUE_FULL_DROP => QueueFull::DropFrame,
        other => {
            return Err(FfiError::UnknownValue {
                what: "options.queue_full",
                found: u64::from(other),
                expected: "G2A_QUEUE_FULL_BLOCK (0) or G2A_QUEUE_FULL_DROP (1)",
            })
        }
    };
    if !(1..=19).contains(&o.compression_level) {
        return Err(FfiError::UnknownValue {
            what: "options.compression_level",
            found: o.compression_level as u64,
            expected: "a zstd level from 1 to 19",
        });
    }
    // Each queued frame holds a frame buffer: keep the queue modest.
    const MAX_QUEUE: u32 = 1024;
    if o.queue_frames > MAX_QUEUE {
        return Err(FfiError::TooLarge {
            what: "options.queue_frames",
            found: u64::from(o.queue_frames),
            max: u64::from(MAX_QUEUE),
        });
    }
    let writer = WriterOptions::default()
        .size_cap((o.size_cap_bytes != 0).then_some(o.size_cap_bytes))
        .cap_policy(cap_policy);
    let mut keyframes = g2a_rs::KeyframePolicy::default();
    keyframes.max_delta_bytes = o.keyframe_max_delta_bytes;
    keyframes.max_frames = (o.keyframe_max_frames != 0).then_some(o.keyframe_max_frames);
    let encoder = g2a_rs::EncoderConfig::default()
        .keyframes(keyframes)
        .level(o.compression_level);
    Ok(RecorderOptions::default()
        .writer(writer)
        .encoder(encoder)
        .queue(o.queue_frames as usize, when_full))
}

/// Reads a session string field, counting its bytes against the budget.
///
/// # Safety
/// As [`opt_str`].
unsafe fn session_str(
    p: *const c_char,
    what: &'static str,
    used: &mut usize,
) -> Result<String, FfiError> {
    let max = (G2A_MAX_SESSION_TEXT_BYTES - *used) as u64;
    // SAFETY: forwarded from the caller.
    let s = unsafe { opt_str(p, what, max) }?.unwrap_or("");
    *used += s.len();
    Ok(s.to_owned())
}

/// Builds the session header from the C struct.
///
/// # Safety
/// The strings and the metadata array of `info` must be valid as the
/// header documents.
unsafe fn session_header(info: &g2a_session_info) -> Result<SessionHeader, FfiError> {
    let mut used = 0usize;
    let max = G2A_MAX_SESSION_TEXT_BYTES as u64;
    // SAFETY: every string pointer of `info` is NULL or a NUL-terminated
    // string (caller's contract, forwarded).
    let id = unsafe { req_str(info.session_id, "info.session_id", max) }?;
    used += id.len();
    let size = Size::new(info.width, info.height);
    g2a_core::Limits::default().check_size(size)?;
    let side = match info.side {
        G2A_SIDE_REPRESENTATIVE => RecordingSide::Representative,
        G2A_SIDE_CUSTOMER => RecordingSide::Customer,
        other => {
            return Err(FfiError::UnknownValue {
                what: "info.side",
                found: u64::from(other),
                expected: "G2A_SIDE_REPRESENTATIVE (0) or G2A_SIDE_CUSTOMER (1)",
            })
        }
    };
    // SAFETY (all `session_str` calls): as above.
    let mut h = SessionHeader::new(id, size)
        .with_portal(unsafe { session_str(info.portal, "info.portal", &mut used) }?)
        .with_team(unsafe { session_str(info.team, "info.team", &mut used) }?)
        .with_representative(unsafe {
            session_str(info.representative, "info.representative", &mut used)
        }?)
        .with_customer(unsafe { session_str(info.customer, "info.customer", &mut used) }?)
        .with_side(side)
        .with_start_time_unix_micros(info.start_time_unix_us);
    let name = unsafe { session_str(info.recorder_name, "info.recorder_name", &mut used) }?;
    let version =
        unsafe { session_str(info.recorder_version, "info.recorder_version", &mut used) }?;
    h = h.with_recorder(
        if name.is_empty() {
            "g2a-ffi".into()
        } else {
            name
        },
        if version.is_empty() {
            env!("CARGO_PKG_VERSION").into()
        } else {
            version
        },
    );
    if info.metadata_len > G2A_MAX_METADATA_ENTRIES {
        return Err(FfiError::TooLarge {
            what: "info.metadata_len",
            found: info.metadata_len as u64,
            max: G2A_MAX_METADATA_ENTRIES as u64,
        });
    }
    if info.metadata_len > 0 {
        if info.metadata.is_null() {
            return Err(FfiError::NullPointer("info.metadata"));
        }
        // SAFETY: non-null, and the caller guarantees `metadata_len`
        // entries (at most G2A_MAX_METADATA_ENTRIES, so the byte length
        // fits in isize).
        let entries = unsafe { std::slice::from_raw_parts(info.metadata, info.metadata_len) };
        for e in entries {
            if e.key.is_null() {
                return Err(FfiError::NullPointer("info.metadata[].key"));
            }
            if e.value.is_null() {
                return Err(FfiError::NullPointer("info.metadata[].value"));
            }
            // SAFETY: entry strings are NUL-terminated (caller's contract).
            let k = unsafe { session_str(e.key, "info.metadata[].key", &mut used) }?;
            // SAFETY: as above.
            let v = unsafe { session_str(e.value, "info.metadata[].value", &mut used) }?;
            h = h.with_metadata(k, v);
        }
    }
    Ok(h)
}

fn frame_status(s: FrameStatus) -> g2a_status {
    match s {
        FrameStatus::Recorded => G2A_RECORDED,
        FrameStatus::Dropped => G2A_DROPPED,
        _ => G2A_STOPPED,
    }
}

// ---------------------------------------------------------------------------
// Functions

/// The library's version, e.g. "0.1.0": a static NUL-terminated string
/// that the caller must not free.
#[no_mangle]
pub extern "C" fn g2a_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The message of the last failed call on the calling thread, as a
/// NUL-terminated UTF-8 string; an empty string when the last call
/// succeeded. Never NULL.
///
/// The string belongs to the library: do not free it. It stays valid until
/// the next `g2a_*` call on the same thread (each call that returns a
/// `g2a_status` replaces or clears it); copy it if you need it longer, or
/// use `g2a_last_error_copy`.
#[no_mangle]
pub extern "C" fn g2a_last_error_message() -> *const c_char {
    std::panic::catch_unwind(error::last_error_ptr).unwrap_or(c"".as_ptr())
}

/// Copies the last error message of the calling thread into `buf` (at most
/// `len - 1` bytes, then a NUL), like `snprintf`. Returns the message's
/// full length in bytes, without the NUL: a result `>= len` means it was
/// cut. `buf` may be NULL when `len` is 0 (to ask for the length).
///
/// # Safety
/// `buf` must be NULL or point to `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn g2a_last_error_copy(buf: *mut c_char, len: usize) -> usize {
    let msg = std::panic::catch_unwind(error::last_error_bytes).unwrap_or_default();
    if !buf.is_null() && len > 0 {
        let n = msg.len().min(len - 1);
        // SAFETY: `buf` points to `len` writable bytes (caller's contract)
        // and `n + 1 <= len`; `msg` is our own buffer, so they don't overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(msg.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
        }
    }
    msg.len()
}

/// Fills `opts` with the defaults. Returns `G2A_OK`, or
/// `G2A_ERR_NULL_POINTER`.
///
/// # Safety
/// `opts` must be NULL or point to a writable `g2a_recorder_options`.
#[no_mangle]
pub unsafe extern "C" fn g2a_recorder_options_init(opts: *mut g2a_recorder_options) -> g2a_status {
    guard(|| {
        if opts.is_null() {
            return Err(FfiError::NullPointer("opts"));
        }
        let d = RecorderOptions::default();
        let value = g2a_recorder_options {
            size_cap_bytes: d.writer.size_cap.unwrap_or(0),
            cap_policy: match d.writer.cap_policy {
                CapPolicy::Stop => G2A_CAP_STOP,
                _ => G2A_CAP_CONTINUE,
            },
            compression_level: d.encoder.level,
            keyframe_max_delta_bytes: d.encoder.keyframes.max_delta_bytes,
            keyframe_max_frames: d.encoder.keyframes.max_frames.unwrap_or(0),
            queue_frames: u32::try_from(d.queue_frames).unwrap_or(u32::MAX),
            queue_full: match d.when_full {
                QueueFull::Block => G2A_QUEUE_FULL_BLOCK,
                QueueFull::DropFrame => G2A_QUEUE_FULL_DROP,
            },
        };
        // SAFETY: `opts` is non-null and writable (caller's contract);
        // `write` does not read the possibly uninitialised old value.
        unsafe { opts.write(value) };
        Ok(G2A_OK)
    })
}

/// Creates a recording at `path` (replacing any file there), writes its
/// header from `info`, and stores the new handle in `*out`.
///
/// `path` is a NUL-terminated UTF-8 path. `opts` may be NULL for the
/// defaults. Everything pointed to is copied: the caller keeps ownership
/// of `path`, `info` and its strings, and `opts`. On success the caller
/// owns `*out` and must end it with `g2a_recorder_finish` or
/// `g2a_recorder_free`; on failure `*out` is set to NULL.
///
/// Returns `G2A_OK`; `G2A_ERR_NULL_POINTER`, `G2A_ERR_UTF8`,
/// `G2A_ERR_INVALID_ARGUMENT` (unknown enumeration value, size cap below
/// 65536, zero screen side, level outside 1..19), `G2A_ERR_LIMIT`,
/// `G2A_ERR_IO` (the file can't be created).
///
/// # Safety
/// `path` and the strings of `info` must be NULL or NUL-terminated;
/// `info->metadata` must point to `info->metadata_len` entries; `info`,
/// `opts` and `out` must be NULL or valid for reading (writing for `out`).
#[no_mangle]
pub unsafe extern "C" fn g2a_recorder_create(
    path: *const c_char,
    info: *const g2a_session_info,
    opts: *const g2a_recorder_options,
    out: *mut *mut g2a_recorder,
) -> g2a_status {
    guard(|| {
        if out.is_null() {
            return Err(FfiError::NullPointer("out"));
        }
        // SAFETY: `out` is non-null and writable (caller's contract).
        unsafe { out.write(std::ptr::null_mut()) };
        // SAFETY: `path` is NULL or NUL-terminated (caller's contract).
        let path = unsafe { req_str(path, "path", 64 * 1024) }?;
        if info.is_null() {
            return Err(FfiError::NullPointer("info"));
        }
        // SAFETY: `info` is non-null and readable (caller's contract).
        let info = unsafe { &*info };
        // SAFETY: the strings and array of `info` are valid (caller's contract).
        let header = unsafe { session_header(info) }?;
        let ropts = if opts.is_null() {
            RecorderOptions::default()
        } else {
            // SAFETY: `opts` is non-null and readable (caller's contract).
            recorder_options(unsafe { &*opts })?
        };
        let limits = ropts.encoder.limits;
        let recorder = g2a_rs::Recorder::create(path, header, ropts)?;
        let handle = handle::register(Inner {
            recorder,
            limits,
            poisoned: false,
        });
        // SAFETY: as above.
        unsafe { out.write(handle) };
        Ok(G2A_OK)
    })
}

/// Records a screen frame taken `ts_us` microseconds after the session
/// start.
///
/// `pixels` points to `height` rows of `width` pixels in `format`, row `y`
/// starting at `pixels + y * stride`; the library reads
/// `stride * (height - 1) + width * 4` bytes and does not keep the pointer
/// (the frame is encoded, or copied to the queue, before the call returns).
/// A frame of another size than the previous one starts a new keyframe.
///
/// Returns `G2A_RECORDED`, `G2A_DROPPED` (queue full, `G2A_QUEUE_FULL_DROP`)
/// or `G2A_STOPPED` (size cap with `G2A_CAP_STOP`); or an error:
/// `G2A_ERR_NULL_POINTER`, `G2A_ERR_INVALID_ARGUMENT` (unknown format,
/// `stride < width * 4`, zero side), `G2A_ERR_LIMIT` (side above 16384,
/// `stride * height` overflowing), `G2A_ERR_TIME_WENT_BACKWARDS`,
/// `G2A_ERR_IO`, `G2A_ERR_RECORDER`, `G2A_ERR_BAD_HANDLE`, `G2A_ERR_BUSY`.
/// After an error, what was recorded before is unaffected.
///
/// # Safety
/// `rec` must be a live handle or NULL; `pixels` must be NULL or point to
/// the bytes described above, not modified during the call.
#[no_mangle]
pub unsafe extern "C" fn g2a_recorder_push_frame(
    rec: *mut g2a_recorder,
    pixels: *const u8,
    stride: usize,
    width: u32,
    height: u32,
    format: g2a_pixel_format,
    ts_us: u64,
) -> g2a_status {
    guard(|| {
        handle::with_recorder(rec, |inner| {
            if pixels.is_null() {
                return Err(FfiError::NullPointer("pixels"));
            }
            let fmt = pixel_format(format)?;
            let span = frame_span(stride, width, height, &inner.limits)?;
            // SAFETY: `pixels` is non-null and points to `span` readable
            // bytes (the caller's contract for this layout); `span` was
            // checked to be at most isize::MAX.
            let data = unsafe { std::slice::from_raw_parts(pixels, span) };
            let frame = FrameRef::new(data, Size::new(width, height), stride, fmt)
                .map_err(g2a_rs::Error::from)?;
            let status = inner
                .recorder
                .push_frame(Timestamp::from_micros(ts_us), &frame)?;
            Ok(frame_status(status))
        })
    })
}

/// Records a chat message: `sender` (a display name) and `text` are
/// NUL-terminated UTF-8 (NULL `sender` is stored as empty; `text` is
/// required); `role` is a `G2A_ROLE_*` value (or another code up to 255).
/// The strings are copied.
///
/// Returns `G2A_OK` or an error (`G2A_ERR_NULL_POINTER`, `G2A_ERR_UTF8`,
/// `G2A_ERR_INVALID_ARGUMENT`, `G2A_ERR_LIMIT`,
/// `G2A_ERR_TIME_WENT_BACKWARDS`, `G2A_ERR_IO`, `G2A_ERR_RECORDER`,
/// `G2A_ERR_BAD_HANDLE`, `G2A_ERR_BUSY`).
///
/// # Safety
/// `rec` must be a live handle or NULL; the strings NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn g2a_recorder_push_chat(
    rec: *mut g2a_recorder,
    ts_us: u64,
    role: g2a_sender_role,
    sender: *const c_char,
    text: *const c_char,
) -> g2a_status {
    guard(|| {
        handle::with_recorder(rec, |inner| {
            let max = inner.limits.max_record_bytes;
            let role = SenderRole::from_code(code_u8(
                role,
                "role",
                "a G2A_ROLE_* value or another code up to 255",
            )?);
            // SAFETY: NULL or NUL-terminated (caller's contract).
            let sender = unsafe { opt_str(sender, "sender", max) }?.unwrap_or("");
            // SAFETY: as above.
            let text = unsafe { req_str(text, "text", max) }?;
            inner
                .recorder
                .push_chat(Timestamp::from_micros(ts_us), role, sender, text)?;
            Ok(G2A_OK)
        })
    })
}

/// Records a diagnostics document (system information, process list, ...):
/// `name` (NUL-terminated UTF-8, required), its `media_type` (a
/// `G2A_MEDIA_*` value or another code up to 255), and `len` bytes at
/// `data` (NULL allowed when `len` is 0). The bytes are copied.
///
/// Returns `G2A_OK` or an error as for `g2a_recorder_push_chat`
/// (`G2A_ERR_LIMIT` when `len` exceeds 256 MiB or the size cap).
///
/// # Safety
/// `rec` must be a live handle or NULL; `name` NULL or NUL-terminated;
/// `data` NULL or pointing to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn g2a_recorder_push_diagnostic(
    rec: *mut g2a_recorder,
    ts_us: u64,
    name: *const c_char,
    media_type: g2a_media_type,
    data: *const u8,
    len: usize,
) -> g2a_status {
    guard(|| {
        handle::with_recorder(rec, |inner| {
            let max = inner.limits.max_record_bytes;
            // SAFETY: NULL or NUL-terminated (caller's contract).
            let name = unsafe { req_str(name, "name", max) }?;
            let media = MediaType::from_code(code_u8(
                media_type,
                "media_type",
                "a G2A_MEDIA_* value or another code up to 255",
            )?);
            // SAFETY: NULL or `len` readable bytes (caller's contract).
            let data = unsafe { bytes(data, len, "data", max) }?;
            inner
                .recorder
                .push_diagnostic(Timestamp::from_micros(ts_us), name, media, data)?;
            Ok(G2A_OK)
        })
    })
}

/// Records a session event of `kind` (a `G2A_EVENT_*` value or another
/// code up to 65535) with a NUL-terminated UTF-8 `detail` (NULL: empty),
/// which is copied.
///
/// Returns `G2A_OK` or an error as for `g2a_recorder_push_chat`.
///
/// # Safety
/// `rec` must be a live handle or NULL; `detail` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn g2a_recorder_push_event(
    rec: *mut g2a_recorder,
    ts_us: u64,
    kind: g2a_event_kind,
    detail: *const c_char,
) -> g2a_status {
    guard(|| {
        handle::with_recorder(rec, |inner| {
            let max = inner.limits.max_record_bytes;
            let code = u16::try_from(kind).map_err(|_| FfiError::UnknownValue {
                what: "kind",
                found: u64::from(kind),
                expected: "a G2A_EVENT_* value or another code up to 65535",
            })?;
            // SAFETY: NULL or NUL-terminated (caller's contract).
            let detail = unsafe { opt_str(detail, "detail", max) }?.unwrap_or("");
            inner.recorder.push_event(
                Timestamp::from_micros(ts_us),
                EventKind::from_code(code),
                detail,
            )?;
            Ok(G2A_OK)
        })
    })
}

/// Records the cursor's hotspot position (`x`, `y`, screen pixels, may be
/// negative) and, when `visible` is non-zero, the shape shown (`shape_id`,
/// defined by `g2a_recorder_push_cursor_shape`); when `visible` is 0 the
/// cursor is hidden and `shape_id` is ignored.
///
/// Returns `G2A_OK` or an error (`G2A_ERR_TIME_WENT_BACKWARDS`,
/// `G2A_ERR_IO`, `G2A_ERR_RECORDER`, `G2A_ERR_NULL_POINTER`,
/// `G2A_ERR_BAD_HANDLE`, `G2A_ERR_BUSY`).
///
/// # Safety
/// `rec` must be a live handle or NULL.
#[no_mangle]
pub unsafe extern "C" fn g2a_recorder_push_cursor(
    rec: *mut g2a_recorder,
    ts_us: u64,
    x: i32,
    y: i32,
    visible: c_int,
    shape_id: u32,
) -> g2a_status {
    guard(|| {
        handle::with_recorder(rec, |inner| {
            let shape = (visible != 0).then_some(shape_id);
            inner
                .recorder
                .push_cursor(Timestamp::from_micros(ts_us), x, y, shape)?;
            Ok(G2A_OK)
        })
    })
}

/// Defines cursor shape `id`: `width * height` BGRA pixels with alpha
/// (`len` must be exactly `width * height * 4`), and its hotspot. Positions
/// refer to shapes by id; redefining an id replaces it from then on. The
/// pixels are copied.
///
/// Returns `G2A_OK` or an error (`G2A_ERR_INVALID_ARGUMENT` for a length
/// that does not match or a zero side, `G2A_ERR_LIMIT`, and those of
/// `g2a_recorder_push_cursor`).
///
/// # Safety
/// `rec` must be a live handle or NULL; `pixels` NULL or pointing to `len`
/// readable bytes.
#[no_mangle]
#[allow(clippy::too_many_arguments)] // the C signature
pub unsafe extern "C" fn g2a_recorder_push_cursor_shape(
    rec: *mut g2a_recorder,
    ts_us: u64,
    id: u32,
    hotspot_x: u32,
    hotspot_y: u32,
    width: u32,
    height: u32,
    pixels: *const u8,
    len: usize,
) -> g2a_status {
    guard(|| {
        handle::with_recorder(rec, |inner| {
            let size = Size::new(width, height);
            inner.limits.check_size(size)?;
            let expected = size.area() * 4;
            if len as u64 != expected {
                return Err(FfiError::Length {
                    what: "len",
                    found: len,
                    expected,
                });
            }
            // SAFETY: NULL or `len` readable bytes (caller's contract).
            let pixels = unsafe { bytes(pixels, len, "pixels", inner.limits.max_record_bytes) }?;
            inner.recorder.push_cursor_shape(
                Timestamp::from_micros(ts_us),
                id,
                (hotspot_x, hotspot_y),
                size,
                pixels,
            )?;
            Ok(G2A_OK)
        })
    })
}

/// Makes everything recorded so far durable on disk (fsync), after the
/// encoding queue drains. Returns `G2A_OK` or an error (`G2A_ERR_IO`, ...).
///
/// # Safety
/// `rec` must be a live handle or NULL.
#[no_mangle]
pub unsafe extern "C" fn g2a_recorder_sync(rec: *mut g2a_recorder) -> g2a_status {
    guard(|| {
        handle::with_recorder(rec, |inner| {
            inner.recorder.sync()?;
            Ok(G2A_OK)
        })
    })
}

/// Stores in `*out` the number of frames dropped so far because the
/// encoding queue was full. Returns `G2A_OK` or an error.
///
/// # Safety
/// `rec` must be a live handle or NULL; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn g2a_recorder_dropped_frames(
    rec: *mut g2a_recorder,
    out: *mut u64,
) -> g2a_status {
    guard(|| {
        if out.is_null() {
            return Err(FfiError::NullPointer("out"));
        }
        let n = handle::with_recorder(rec, |inner| Ok(inner.recorder.dropped_frames()))?;
        // SAFETY: `out` is non-null and writable (caller's contract).
        unsafe { out.write(n) };
        Ok(G2A_OK)
    })
}

/// Finishes the recording: encodes what is queued, writes the seek index
/// and trailer, closes the file(s), and fills `*out` (which may be NULL)
/// with a summary.
///
/// This consumes the handle whatever the result, except when it returns
/// `G2A_ERR_NULL_POINTER`, `G2A_ERR_BAD_HANDLE` or `G2A_ERR_BUSY` (then
/// nothing happened). After an error the file keeps every record written
/// before it (`g2a recover` restores a missing index).
///
/// # Safety
/// `rec` must be a live handle or NULL; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn g2a_recorder_finish(
    rec: *mut g2a_recorder,
    out: *mut g2a_recording_summary,
) -> g2a_status {
    guard(|| {
        let inner = handle::unregister(rec)?.ok_or(FfiError::Poisoned)?;
        let s = inner.recorder.finish()?;
        if !out.is_null() {
            let summary = g2a_recording_summary {
                files: u32::try_from(s.files.paths.len()).unwrap_or(u32::MAX),
                bytes: s.files.bytes,
                records: s.files.records,
                frames: s.frames,
                dropped: s.dropped,
                key_frames: s.encoder.key_frames,
                delta_frames: s.encoder.delta_frames,
                unchanged_frames: s.encoder.unchanged_frames,
                stopped_by_cap: u32::from(s.stopped_by_cap),
            };
            // SAFETY: `out` is non-null and writable (caller's contract).
            unsafe { out.write(summary) };
        }
        Ok(G2A_OK)
    })
}

/// Abandons a recorder: finishes the file as well as it can (like
/// `g2a_recorder_finish`, but errors are not reported) and releases the
/// handle. NULL is ignored. Use it on error paths; a handle must not be
/// used after this call. (Should another thread be using the handle at the
/// same time, a bug, nothing is freed and `g2a_last_error_message` says so.)
///
/// # Safety
/// `rec` must be a live handle or NULL.
#[no_mangle]
pub unsafe extern "C" fn g2a_recorder_free(rec: *mut g2a_recorder) {
    if rec.is_null() {
        return;
    }
    let _ = guard(|| {
        // Dropping the recorder finishes the file.
        drop(handle::unregister(rec)?);
        Ok(G2A_OK)
    });
}
