//! Checked conversions from C arguments to Rust values.

use std::ffi::{c_char, CStr};

use g2a_core::Limits;

use crate::error::FfiError;

/// Reads a NUL-terminated UTF-8 string argument.
///
/// `Ok(None)` for a null pointer when `required` is false.
///
/// # Errors
/// [`FfiError::NullPointer`] for a required null pointer,
/// [`FfiError::TooLarge`] when longer than `max` bytes,
/// [`FfiError::NotUtf8`] for bytes that are not UTF-8.
///
/// # Safety
/// A non-null `p` must point to a NUL-terminated string that stays valid
/// and unchanged for the returned lifetime.
pub(crate) unsafe fn opt_str<'a>(
    p: *const c_char,
    what: &'static str,
    max: u64,
) -> Result<Option<&'a str>, FfiError> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller guarantees a NUL-terminated string at `p`.
    let c = unsafe { CStr::from_ptr(p) };
    let bytes = c.to_bytes();
    if bytes.len() as u64 > max {
        return Err(FfiError::TooLarge {
            what,
            found: bytes.len() as u64,
            max,
        });
    }
    std::str::from_utf8(bytes)
        .map(Some)
        .map_err(|e| FfiError::NotUtf8 {
            what,
            offset: e.valid_up_to(),
        })
}

/// As [`opt_str`], but a null pointer is an error.
///
/// # Errors
/// As [`opt_str`], and [`FfiError::NullPointer`] for a null pointer.
///
/// # Safety
/// As [`opt_str`].
pub(crate) unsafe fn req_str<'a>(
    p: *const c_char,
    what: &'static str,
    max: u64,
) -> Result<&'a str, FfiError> {
    // SAFETY: forwarded from the caller.
    unsafe { opt_str(p, what, max) }?.ok_or(FfiError::NullPointer(what))
}

/// Reads a byte buffer argument: null is allowed only with `len == 0`.
///
/// # Errors
/// [`FfiError::TooLarge`] when `len` exceeds `max`,
/// [`FfiError::NullPointer`] for a null pointer with `len > 0`.
///
/// # Safety
/// A non-null `p` must point to `len` readable bytes that stay valid and
/// unchanged for the returned lifetime.
pub(crate) unsafe fn bytes<'a>(
    p: *const u8,
    len: usize,
    what: &'static str,
    max: u64,
) -> Result<&'a [u8], FfiError> {
    if len as u64 > max || len > isize::MAX as usize {
        return Err(FfiError::TooLarge {
            what,
            found: len as u64,
            max: max.min(isize::MAX as u64),
        });
    }
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(FfiError::NullPointer(what));
    }
    // SAFETY: `p` is non-null and the caller guarantees `len` readable
    // bytes; `len <= isize::MAX` was checked above.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// The bytes a frame of `width` × `height` pixels with `stride` spans:
/// `stride * (height - 1) + width * 4`, after checking the size against
/// `limits`, the stride against the width, and that `stride * height`
/// fits in memory.
///
/// # Errors
/// [`FfiError::Limit`] for a size outside `limits` (or a zero side),
/// [`FfiError::Stride`] for a stride shorter than a row,
/// [`FfiError::TooLarge`] when `stride * height` overflows.
pub(crate) fn frame_span(
    stride: usize,
    width: u32,
    height: u32,
    limits: &Limits,
) -> Result<usize, FfiError> {
    limits.check_size(g2a_core::Size::new(width, height))?;
    let row_bytes = u64::from(width) * 4;
    if (stride as u64) < row_bytes {
        return Err(FfiError::Stride {
            stride,
            width,
            row_bytes,
        });
    }
    let whole = (stride as u64)
        .checked_mul(u64::from(height))
        .filter(|&v| v <= isize::MAX as u64)
        .ok_or(FfiError::TooLarge {
            what: "stride * height",
            found: (stride as u64).saturating_mul(u64::from(height)),
            max: isize::MAX as u64,
        })?;
    // stride >= row_bytes, so the span is at most `whole`.
    let span = whole - stride as u64 + row_bytes;
    usize::try_from(span).map_err(|_| FfiError::TooLarge {
        what: "stride * height",
        found: span,
        max: usize::MAX as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_span_checks() {
        let l = Limits::default();
        assert_eq!(frame_span(16, 4, 2, &l).unwrap(), 32);
        assert_eq!(frame_span(20, 4, 3, &l).unwrap(), 56);
        assert!(matches!(
            frame_span(15, 4, 2, &l),
            Err(FfiError::Stride { stride: 15, .. })
        ));
        assert!(matches!(frame_span(16, 0, 2, &l), Err(FfiError::Limit(_))));
        assert!(matches!(
            frame_span(16, 100_000, 2, &l),
            Err(FfiError::Limit(_))
        ));
        assert!(matches!(
            frame_span(usize::MAX / 2, 4, 16, &l),
            Err(FfiError::TooLarge { .. })
        ));
    }
}
