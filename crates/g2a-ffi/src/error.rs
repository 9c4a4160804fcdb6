//! Errors, their status codes, the thread's last error message, and the
//! guard that keeps panics from crossing the C boundary.

use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::panic::{self, AssertUnwindSafe};

use g2a_codec::CodecError;
use g2a_core::LimitError;
use g2a_format::FormatError;

use crate::{
    g2a_status, G2A_ERR_BAD_HANDLE, G2A_ERR_BUSY, G2A_ERR_INVALID_ARGUMENT, G2A_ERR_IO,
    G2A_ERR_LIMIT, G2A_ERR_NULL_POINTER, G2A_ERR_PANIC, G2A_ERR_RECORDER,
    G2A_ERR_TIME_WENT_BACKWARDS, G2A_ERR_UTF8,
};

/// Everything a C API call can fail with.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FfiError {
    /// A required pointer argument is null.
    #[error("argument `{0}` is a null pointer: expected a valid pointer")]
    NullPointer(&'static str),
    /// A string argument is not UTF-8.
    #[error("argument `{what}` is not valid UTF-8: invalid byte at offset {offset}")]
    NotUtf8 {
        /// The argument.
        what: &'static str,
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// A numeric code outside its set.
    #[error("argument `{what}` is {found}: expected {expected}")]
    UnknownValue {
        /// The argument.
        what: &'static str,
        /// The value given.
        found: u64,
        /// The accepted values.
        expected: &'static str,
    },
    /// A size or length above a limit.
    #[error("argument `{what}` is {found}: the limit is {max}")]
    TooLarge {
        /// The argument.
        what: &'static str,
        /// The value given.
        found: u64,
        /// The limit.
        max: u64,
    },
    /// A frame row stride shorter than a row of pixels.
    #[error(
        "stride of {stride} bytes is shorter than a row of {width} pixels ({row_bytes} bytes)"
    )]
    Stride {
        /// The stride given.
        stride: usize,
        /// The width given.
        width: u32,
        /// Bytes of one row.
        row_bytes: u64,
    },
    /// A buffer length that does not match the layout it describes.
    #[error("argument `{what}` is {found} bytes: expected {expected} bytes")]
    Length {
        /// The argument.
        what: &'static str,
        /// The length given.
        found: usize,
        /// The length the other arguments imply.
        expected: u64,
    },
    /// A handle not in the set of live recorders.
    #[error("recorder handle {0:#x} is not a live recorder: it was never created, or it was already finished or freed")]
    BadHandle(usize),
    /// A handle in use by another call.
    #[error(
        "the recorder is in use by another call: a handle must be used from one thread at a time"
    )]
    Busy,
    /// A handle whose earlier call panicked.
    #[error("the recorder is unusable because an earlier call on it panicked: free it")]
    Poisoned,
    /// A frame size outside the limits.
    #[error(transparent)]
    Limit(#[from] LimitError),
    /// The recorder refused the call.
    #[error(transparent)]
    Recorder(#[from] g2a_rs::Error),
    /// A panic inside the library (a bug), caught at the boundary.
    #[error("internal error (panic) in the g2a library: {0}")]
    Panic(String),
}

impl FfiError {
    /// The status code a C caller sees.
    pub(crate) fn status(&self) -> g2a_status {
        match self {
            FfiError::NullPointer(_) => G2A_ERR_NULL_POINTER,
            FfiError::NotUtf8 { .. } => G2A_ERR_UTF8,
            FfiError::UnknownValue { .. } | FfiError::Stride { .. } | FfiError::Length { .. } => {
                G2A_ERR_INVALID_ARGUMENT
            }
            FfiError::TooLarge { .. } => G2A_ERR_LIMIT,
            FfiError::Limit(e) => limit_status(e),
            FfiError::BadHandle(_) => G2A_ERR_BAD_HANDLE,
            FfiError::Busy => G2A_ERR_BUSY,
            FfiError::Poisoned | FfiError::Panic(_) => G2A_ERR_PANIC,
            FfiError::Recorder(e) => recorder_status(e),
        }
    }
}

fn limit_status(e: &LimitError) -> g2a_status {
    match e {
        LimitError::EmptyFrame { .. } => G2A_ERR_INVALID_ARGUMENT,
        _ => G2A_ERR_LIMIT,
    }
}

fn recorder_status(e: &g2a_rs::Error) -> g2a_status {
    use g2a_rs::Error as E;
    match e {
        E::TimeWentBackwards { .. } => G2A_ERR_TIME_WENT_BACKWARDS,
        E::Limit(l) => limit_status(l),
        E::Frame(g2a_core::FrameError::Limit(l)) => limit_status(l),
        E::Frame(_) => G2A_ERR_INVALID_ARGUMENT,
        E::Codec(c) => codec_status(c),
        E::Format(f) => match f {
            FormatError::TimeWentBackwards { .. } => G2A_ERR_TIME_WENT_BACKWARDS,
            FormatError::Io { .. } => G2A_ERR_IO,
            FormatError::InvalidArgument { .. } => G2A_ERR_INVALID_ARGUMENT,
            FormatError::RecordTooLarge { .. } => G2A_ERR_LIMIT,
            _ => G2A_ERR_RECORDER,
        },
        _ => G2A_ERR_RECORDER,
    }
}

fn codec_status(e: &CodecError) -> g2a_status {
    match e {
        CodecError::Limit(l) => limit_status(l),
        CodecError::Frame(g2a_core::FrameError::Limit(l)) => limit_status(l),
        CodecError::Frame(_) | CodecError::Config(_) => G2A_ERR_INVALID_ARGUMENT,
        _ => G2A_ERR_RECORDER,
    }
}

thread_local! {
    /// The message of the last failed call on this thread.
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// Forgets the last error (every status-returning call starts with this).
pub(crate) fn clear_last_error() {
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut s) = slot.try_borrow_mut() {
            *s = None;
        }
    });
}

/// Stores `msg` as this thread's last error.
pub(crate) fn set_last_error(msg: &str) {
    // Interior NULs would cut the C string short: show them as spaces.
    let bytes: Vec<u8> = msg.bytes().map(|b| if b == 0 { b' ' } else { b }).collect();
    let c = CString::new(bytes).unwrap_or_default();
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut s) = slot.try_borrow_mut() {
            *s = Some(c);
        }
    });
}

/// A pointer to this thread's last error message, or to an empty string
/// when there is none. It stays valid until the message is replaced, that
/// is until the next status-returning call on this thread.
pub(crate) fn last_error_ptr() -> *const c_char {
    LAST_ERROR
        .try_with(|slot| {
            slot.try_borrow()
                .ok()
                .and_then(|s| s.as_ref().map(|c| c.as_ptr()))
        })
        .ok()
        .flatten()
        .unwrap_or(c"".as_ptr())
}

/// A copy of this thread's last error message (empty when there is none).
pub(crate) fn last_error_bytes() -> Vec<u8> {
    LAST_ERROR
        .try_with(|slot| {
            slot.try_borrow()
                .ok()
                .and_then(|s| s.as_ref().map(|c| c.as_bytes().to_vec()))
        })
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_owned()
    }
}

/// The body of every status-returning entry point: clears the last error,
/// runs `f` with panics caught, and turns an error into its status code
/// after storing its message.
pub(crate) fn guard(f: impl FnOnce() -> Result<g2a_status, FfiError>) -> g2a_status {
    clear_last_error();
    let result = match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(FfiError::Panic(panic_message(payload.as_ref()))),
    };
    match result {
        Ok(status) => status,
        Err(e) => {
            set_last_error(&e.to_string());
            e.status()
        }
    }
}
