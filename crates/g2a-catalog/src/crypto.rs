//! Encryption at rest of recordings made under a session replay passphrase.
//!
//! Design (docs/SECURITY.md):
//! - each portal key is an age X25519 identity; its public recipient is
//!   stored in clear (the recorder gets only that); the secret identity is
//!   stored encrypted under the passphrase with age's scrypt recipient;
//! - each recording has a random 32-byte file key, wrapped to the portal
//!   recipient with age and stored as the header's key block;
//! - each content record payload is sealed with XChaCha20-Poly1305 under the
//!   file key, a fresh random 24-byte nonce (stored in front of the sealed
//!   payload) and the record framing as associated data.
//!
//! No cryptography is implemented here: age, scrypt and the AEAD are audited
//! crates. Key material lives in [`Zeroizing`] buffers or age/secrecy types
//! that wipe themselves on drop, and no `Debug` impl prints it.

use std::fmt;
use std::str::FromStr;

use age::secrecy::{ExposeSecret, SecretString};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use zeroize::Zeroizing;

use crate::CatalogError;

/// The `EncryptionInfo::scheme` string of recordings sealed by this crate.
pub const SCHEME: &str = "age-x25519+xchacha20poly1305";

/// Magic at the start of a key block: the recipient line follows, then the
/// age file that wraps the file key.
const KEY_BLOCK_MAGIC: &[u8] = b"g2a-kb1\n";
/// Length of the XChaCha20 nonce stored in front of each sealed payload.
pub const NONCE_LEN: usize = 24;
/// Length of the Poly1305 tag at the end of each sealed payload.
pub const TAG_LEN: usize = 16;
const FILE_KEY_LEN: usize = 32;
/// scrypt work factor (log2 N) used to wrap portal identities by default.
pub const DEFAULT_SCRYPT_LOG_N: u8 = 18;

/// The public half of a portal key: what a recorder needs to encrypt.
#[derive(Clone, PartialEq, Eq)]
pub struct PortalRecipient {
    recipient: age::x25519::Recipient,
}

impl PortalRecipient {
    /// Parses an age recipient (`age1…`).
    ///
    /// # Errors
    /// [`CatalogError::Crypto`] when the text is not an X25519 age recipient.
    pub fn parse(text: &str) -> Result<Self, CatalogError> {
        age::x25519::Recipient::from_str(text.trim())
            .map(|recipient| PortalRecipient { recipient })
            .map_err(|e| CatalogError::Crypto(format!("bad portal recipient: {e}")))
    }
}

impl fmt::Display for PortalRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.recipient)
    }
}

impl fmt::Debug for PortalRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PortalRecipient({})", self.recipient)
    }
}

/// A portal key unlocked with its passphrase: the capability to decrypt the
/// file keys of that portal's recordings. Wipes itself on drop; `Debug`
/// shows only the public recipient.
pub struct UnlockedPortalKey {
    identity: age::x25519::Identity,
}

impl fmt::Debug for UnlockedPortalKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UnlockedPortalKey({})", self.identity.to_public())
    }
}

impl UnlockedPortalKey {
    /// A fresh random portal key.
    #[must_use]
    pub fn generate() -> Self {
        UnlockedPortalKey {
            identity: age::x25519::Identity::generate(),
        }
    }

    /// The public recipient of this key.
    #[must_use]
    pub fn recipient(&self) -> PortalRecipient {
        PortalRecipient {
            recipient: self.identity.to_public(),
        }
    }

    /// Encrypts the secret identity under `passphrase` (age scrypt recipient
    /// with work factor `log_n`).
    ///
    /// # Errors
    /// [`CatalogError::Crypto`] if age fails to encrypt.
    pub fn wrap(&self, passphrase: &Passphrase, log_n: u8) -> Result<Vec<u8>, CatalogError> {
        let mut r = age::scrypt::Recipient::new(passphrase.0.clone());
        r.set_work_factor(log_n);
        let secret = self.identity.to_string();
        age::encrypt(&r, secret.expose_secret().as_bytes())
            .map_err(|e| CatalogError::Crypto(format!("cannot wrap portal key: {e}")))
    }

    /// Decrypts a wrapped identity with `passphrase`. The work factor stored
    /// in the wrapped key must not exceed `max_log_n`.
    ///
    /// Returns `Ok(None)` when the passphrase is wrong (age's MAC check
    /// fails after running scrypt, so timing does not depend on how wrong it
    /// is).
    ///
    /// # Errors
    /// [`CatalogError::Crypto`] when the wrapped key is malformed.
    pub fn unwrap(
        wrapped: &[u8],
        passphrase: &Passphrase,
        max_log_n: u8,
    ) -> Result<Option<Self>, CatalogError> {
        let mut id = age::scrypt::Identity::new(passphrase.0.clone());
        id.set_max_work_factor(max_log_n);
        let plain = match age::decrypt(&id, wrapped) {
            Ok(p) => Zeroizing::new(p),
            Err(age::DecryptError::DecryptionFailed)
            | Err(age::DecryptError::NoMatchingKeys)
            | Err(age::DecryptError::KeyDecryptionFailed) => return Ok(None),
            Err(e) => return Err(CatalogError::Crypto(format!("wrapped portal key: {e}"))),
        };
        let text = std::str::from_utf8(&plain)
            .map_err(|_| CatalogError::Crypto("wrapped portal key is not utf-8".into()))?;
        let identity = age::x25519::Identity::from_str(text.trim()).map_err(|_| {
            CatalogError::Crypto("wrapped portal key is not an age identity".into())
        })?;
        Ok(Some(UnlockedPortalKey { identity }))
    }

    /// Recovers the file key of a recording from its header key block and
    /// returns the cipher that opens its records.
    ///
    /// # Errors
    /// [`CatalogError::Crypto`] when the key block is malformed or was not
    /// made for this portal key.
    pub fn open_key_block(&self, key_block: &[u8]) -> Result<RecordCipher, CatalogError> {
        let (_, wrapped) = split_key_block(key_block)?;
        let key = age::decrypt(&self.identity, wrapped)
            .map(Zeroizing::new)
            .map_err(|e| {
                CatalogError::Crypto(format!("key block does not open with this portal key: {e}"))
            })?;
        RecordCipher::from_key(&key)
    }
}

/// A session replay passphrase. Never stored, never printed; wiped on drop.
#[derive(Clone)]
pub struct Passphrase(SecretString);

impl Passphrase {
    /// Wraps a passphrase given by a user. Trailing newlines (from files or
    /// stdin) are removed.
    ///
    /// # Errors
    /// [`CatalogError::Invalid`] when the passphrase is empty.
    pub fn new(text: &str) -> Result<Self, CatalogError> {
        let t = text.trim_end_matches(['\r', '\n']);
        if t.is_empty() {
            return Err(CatalogError::Invalid(
                "a session replay passphrase must not be empty".into(),
            ));
        }
        Ok(Passphrase(SecretString::from(t.to_owned())))
    }

    /// The passphrase's text, for the strength rule of a new passphrase.
    pub(crate) fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

/// Splits a key block into the recipient it was made for and the age file.
///
/// # Errors
/// [`CatalogError::Crypto`] when the block does not have the expected layout.
pub fn split_key_block(block: &[u8]) -> Result<(PortalRecipient, &[u8]), CatalogError> {
    let rest = block.strip_prefix(KEY_BLOCK_MAGIC).ok_or_else(|| {
        CatalogError::Crypto(format!(
            "key block does not start with {:?} (found {} bytes)",
            String::from_utf8_lossy(KEY_BLOCK_MAGIC),
            block.len()
        ))
    })?;
    let nl = rest
        .iter()
        .take(128)
        .position(|&b| b == b'\n')
        .ok_or_else(|| CatalogError::Crypto("key block has no recipient line".into()))?;
    let line = std::str::from_utf8(&rest[..nl])
        .map_err(|_| CatalogError::Crypto("key block recipient is not utf-8".into()))?;
    Ok((PortalRecipient::parse(line)?, &rest[nl + 1..]))
}

/// Seals and opens the record payloads of one recording
/// (XChaCha20-Poly1305, random nonce per record, framing as AAD).
#[derive(Clone)]
pub struct RecordCipher {
    aead: XChaCha20Poly1305,
}

impl fmt::Debug for RecordCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecordCipher(<key redacted>)")
    }
}

impl RecordCipher {
    /// A cipher for a new recording to `recipient`: a fresh random file key,
    /// and the key block to store in the header's `EncryptionInfo`.
    ///
    /// # Errors
    /// [`CatalogError::Crypto`] if age fails to wrap the key.
    pub fn new_for_recording(recipient: &PortalRecipient) -> Result<(Self, Vec<u8>), CatalogError> {
        let mut key = Zeroizing::new([0u8; FILE_KEY_LEN]);
        rand::rngs::OsRng.fill_bytes(key.as_mut());
        let wrapped = age::encrypt(&recipient.recipient, key.as_ref())
            .map_err(|e| CatalogError::Crypto(format!("cannot wrap file key: {e}")))?;
        let rtext = recipient.to_string();
        let mut block = Vec::new();
        block.extend_from_slice(KEY_BLOCK_MAGIC);
        block.extend_from_slice(rtext.as_bytes());
        block.push(b'\n');
        block.extend_from_slice(&wrapped);
        Ok((RecordCipher::from_key(key.as_ref())?, block))
    }

    fn from_key(key: &[u8]) -> Result<Self, CatalogError> {
        if key.len() != FILE_KEY_LEN {
            return Err(CatalogError::Crypto(format!(
                "file key is {} bytes, expected {FILE_KEY_LEN}",
                key.len()
            )));
        }
        let aead = XChaCha20Poly1305::new_from_slice(key)
            .map_err(|_| CatalogError::Crypto("bad file key length".into()))?;
        Ok(RecordCipher { aead })
    }

    /// Seals `plaintext`: returns `nonce || ciphertext || tag`.
    ///
    /// # Errors
    /// [`CatalogError::Crypto`] if the AEAD refuses (payload too long).
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CatalogError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .aead
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| CatalogError::Crypto("cannot seal payload".into()))?;
        let mut out = Vec::new();
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Opens a payload sealed by [`RecordCipher::seal`] with the same `aad`.
    ///
    /// # Errors
    /// [`CatalogError::Crypto`] when the payload is shorter than nonce + tag,
    /// or it does not authenticate (tampered, wrong key, wrong framing).
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CatalogError> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(CatalogError::Crypto(format!(
                "sealed payload is {} bytes, expected at least {}",
                sealed.len(),
                NONCE_LEN + TAG_LEN
            )));
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        self.aead
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
            .map_err(|_| {
                CatalogError::Crypto(
                    "sealed payload does not authenticate (tampered or wrong key)".into(),
                )
            })
    }
}

impl g2a_format::PayloadCipher for RecordCipher {
    fn seal(&self, aad: &[u8], plain: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        let sealed = RecordCipher::seal(self, aad, plain).map_err(|e| e.to_string())?;
        out.extend_from_slice(&sealed);
        Ok(())
    }

    fn open(&self, aad: &[u8], sealed: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        let plain =
            Zeroizing::new(RecordCipher::open(self, aad, sealed).map_err(|e| e.to_string())?);
        out.extend_from_slice(&plain);
        Ok(())
    }
}

impl RecordCipher {
    /// This cipher as the container's payload cipher.
    #[must_use]
    pub fn shared(&self) -> g2a_format::SharedCipher {
        g2a_format::SharedCipher::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pp(s: &str) -> Passphrase {
        Passphrase::new(s).unwrap()
    }

    #[test]
    fn seal_open_round_trip_and_tamper() {
        let key = UnlockedPortalKey::generate();
        let (c, block) = RecordCipher::new_for_recording(&key.recipient()).unwrap();
        let sealed = c.seal(b"frame", b"hello pixels").unwrap();
        assert_eq!(sealed.len(), NONCE_LEN + 12 + TAG_LEN);
        assert_eq!(c.open(b"frame", &sealed).unwrap(), b"hello pixels");
        // Nonces differ per record.
        assert_ne!(c.seal(b"frame", b"hello pixels").unwrap(), sealed);
        // Tampered ciphertext, tampered aad, truncated.
        let mut bad = sealed.clone();
        bad[NONCE_LEN] ^= 1;
        assert!(matches!(
            c.open(b"frame", &bad),
            Err(CatalogError::Crypto(_))
        ));
        assert!(matches!(
            c.open(b"frame2", &sealed),
            Err(CatalogError::Crypto(_))
        ));
        assert!(matches!(
            c.open(b"frame", &sealed[..20]),
            Err(CatalogError::Crypto(_))
        ));
        // The reader side recovers the same key from the key block.
        let c2 = key.open_key_block(&block).unwrap();
        assert_eq!(c2.open(b"frame", &sealed).unwrap(), b"hello pixels");
        // Another portal's key cannot open it, nor a different file key.
        let other = UnlockedPortalKey::generate();
        assert!(other.open_key_block(&block).is_err());
        let (c3, _) = RecordCipher::new_for_recording(&key.recipient()).unwrap();
        assert!(c3.open(b"frame", &sealed).is_err());
    }

    #[test]
    fn wrap_unwrap_with_passphrase() {
        let key = UnlockedPortalKey::generate();
        let wrapped = key.wrap(&pp("correct horse"), 2).unwrap();
        let back = UnlockedPortalKey::unwrap(&wrapped, &pp("correct horse"), 10)
            .unwrap()
            .unwrap();
        assert_eq!(back.recipient(), key.recipient());
        assert!(UnlockedPortalKey::unwrap(&wrapped, &pp("wrong"), 10)
            .unwrap()
            .is_none());
        // Garbage is an error, not a wrong passphrase.
        assert!(UnlockedPortalKey::unwrap(b"garbage", &pp("x"), 10).is_err());
    }

    #[test]
    fn debug_never_prints_secrets() {
        let key = UnlockedPortalKey::generate();
        let secret = key.identity.to_string();
        let dbg = format!("{key:?} {:?}", pp("hunter2"));
        assert!(!dbg.contains(secret.expose_secret()));
        assert!(!dbg.contains("hunter2"));
        assert!(dbg.contains("age1"));
    }

    #[test]
    fn key_block_errors() {
        assert!(split_key_block(b"nope").is_err());
        assert!(split_key_block(b"g2a-kb1\nage1notarecipient\nxx").is_err());
        assert!(split_key_block(b"g2a-kb1\nno newline").is_err());
    }
}
