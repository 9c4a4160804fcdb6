//! Encrypted records (FORMAT.md §4.2): the [`PayloadCipher`] hook and
//! opening sealed records.
//!
//! This crate implements no cryptography. A recording is encrypted by giving
//! the [`Writer`](crate::Writer) a cipher (and the header an
//! [`EncryptionInfo`](crate::EncryptionInfo) telling readers how to recover
//! its key); the writer then seals the payload of every content record. The
//! framing (sync byte, kind, flags, time, length, checksums) stays clear, so
//! scanning, the seek index, verification, recovery and truncation work on
//! encrypted files without the key.

use std::fmt;
use std::sync::Arc;

use g2a_core::Timestamp;

use crate::record::{decode_payload, kind, Record, Track, FLAG_SEALED};
use crate::FormatError;

/// Seals and opens record payloads with an authenticated cipher.
///
/// # For implementations
/// `seal` must append to `out` a self-contained sealed form of `plain`
/// (nonce, ciphertext and tag) authenticated together with `aad`; `open`
/// must reverse it, appending the plaintext to `out`, and fail when the
/// sealed bytes or `aad` were changed or the key differs. Errors are short
/// lower-case explanations. Implementations must never print key material.
pub trait PayloadCipher: Send + Sync {
    /// Appends the sealed form of `plain` (authenticating `aad` too) to `out`.
    ///
    /// # Errors
    /// A description of why sealing failed.
    fn seal(&self, aad: &[u8], plain: &[u8], out: &mut Vec<u8>) -> Result<(), String>;

    /// Appends the plaintext of `sealed` to `out`, if it authenticates with `aad`.
    ///
    /// # Errors
    /// A description of why opening failed (tampered bytes, wrong key).
    fn open(&self, aad: &[u8], sealed: &[u8], out: &mut Vec<u8>) -> Result<(), String>;
}

/// A shared cipher, as held by [`WriterOptions`](crate::WriterOptions) and
/// readers. `Debug` never shows the cipher; equality is identity.
#[derive(Clone)]
pub struct SharedCipher(pub Arc<dyn PayloadCipher>);

impl SharedCipher {
    /// Shares `cipher`.
    pub fn new(cipher: impl PayloadCipher + 'static) -> Self {
        SharedCipher(Arc::new(cipher))
    }
}

impl fmt::Debug for SharedCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedCipher(<redacted>)")
    }
}

impl PartialEq for SharedCipher {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SharedCipher {}

/// Domain separation prefix of the associated data (FORMAT.md §4.2).
const AAD_PREFIX: &[u8; 8] = b"g2a-seal";
/// Length of the associated data of a sealed record.
pub(crate) const AAD_LEN: usize = 8 + 1 + 1 + 8;

/// True for the record kinds whose payload an encrypting writer seals:
/// video, cursor shapes, chat, diagnostics and events (FORMAT.md §4.2).
/// Screen sizes and cursor positions stay clear; unknown kinds may be sealed
/// by future writers.
pub(crate) fn is_sealable(code: u8) -> bool {
    !matches!(
        code,
        kind::SCREEN_SIZE | kind::CURSOR_POSITION | kind::TRAILER
    )
}

/// The associated data of a sealed record: `"g2a-seal"`, the kind, the
/// flags as stored (sealed bit set) and the time in microseconds (u64 LE).
pub(crate) fn aad(code: u8, stored_flags: u8, ts: Timestamp) -> [u8; AAD_LEN] {
    let mut a = [0u8; AAD_LEN];
    a[..8].copy_from_slice(AAD_PREFIX);
    a[8] = code;
    a[9] = stored_flags;
    a[10..].copy_from_slice(&ts.as_micros().to_le_bytes());
    a
}

/// Seals the plain `payload` of a record of kind `code` into `out`.
pub(crate) fn seal_payload(
    cipher: &dyn PayloadCipher,
    code: u8,
    stored_flags: u8,
    ts: Timestamp,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), FormatError> {
    out.clear();
    cipher
        .seal(&aad(code, stored_flags, ts), payload, out)
        .map_err(|detail| FormatError::Crypto {
            op: "seal",
            track: Track::of_kind(code),
            ts,
            detail,
        })
}

/// Opens a record: a [`Record::Sealed`] is decrypted into `buf` and decoded
/// from there; any other record is returned as it is.
///
/// # Errors
/// [`FormatError::Encrypted`] for a sealed record without a cipher;
/// [`FormatError::Crypto`] when it does not authenticate (wrong key or
/// tampered bytes); [`FormatError::Malformed`] when the decrypted payload
/// is not a valid payload of its kind (offsets are then within the
/// decrypted payload).
///
/// # Examples
/// ```
/// # fn show(reader: &g2a_format::Reader, cipher: &dyn g2a_format::PayloadCipher) -> Result<(), g2a_format::FormatError> {
/// let mut buf = Vec::new();
/// for rec in reader.records() {
///     let rec = g2a_format::unseal(rec, Some(cipher), &mut buf)?;
///     println!("{:?}", rec.ts());
/// }
/// # Ok(()) }
/// ```
pub fn unseal<'r>(
    rec: Record<'r>,
    cipher: Option<&dyn PayloadCipher>,
    buf: &'r mut Vec<u8>,
) -> Result<Record<'r>, FormatError> {
    let Record::Sealed {
        ts,
        kind: code,
        flags,
        sealed,
    } = rec
    else {
        return Ok(rec);
    };
    let track = Track::of_kind(code);
    let Some(cipher) = cipher else {
        return Err(FormatError::Encrypted { track, ts });
    };
    buf.clear();
    cipher
        .open(&aad(code, flags | FLAG_SEALED, ts), sealed, buf)
        .map_err(|detail| FormatError::Crypto {
            op: "open",
            track,
            ts,
            detail,
        })?;
    decode_payload(code, flags, ts, buf, 0)
}
