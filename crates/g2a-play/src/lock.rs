//! Encrypted recordings: whether to ask for a passphrase, and checking the
//! cipher it gives against the recording.

use std::path::Path;

use g2a_core::Timestamp;
use g2a_format::{SessionHeader, SharedCipher};

use crate::Unlock;

/// What opening a recording needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Gate {
    /// Not encrypted: play it.
    Open,
    /// Encrypted, and an unlock callback was given: ask for the passphrase.
    AskPassphrase,
    /// Encrypted without a callback: this message says where to open it.
    Refuse(String),
}

/// Decides how the recording with `header` at `path` opens.
pub(crate) fn gate(path: &Path, header: &SessionHeader, can_unlock: bool) -> Gate {
    match (&header.encryption, can_unlock) {
        (None, _) => Gate::Open,
        (Some(_), true) => Gate::AskPassphrase,
        (Some(e), false) => Gate::Refuse(format!(
            "{} is encrypted ({}): open it through the catalog (g2a catalog play), \
             which asks for its passphrase",
            path.display(),
            e.scheme
        )),
    }
}

/// Turns `pass` into the recording's cipher with `unlock`, and checks that
/// the cipher opens the recording's first frame (a key that does not is a
/// wrong passphrase). Errors are messages for the prompt.
pub(crate) fn unlock_recording(
    path: &Path,
    unlock: &Unlock,
    pass: &str,
) -> Result<SharedCipher, String> {
    let cipher = unlock(pass)?;
    let mut p = crate::decode::open_player(path, Some(&cipher)).map_err(|e| e.to_string())?;
    let first = p
        .keyframe_times()
        .first()
        .copied()
        .unwrap_or(Timestamp::ZERO);
    match p.frame_at(first) {
        Ok(_) | Err(g2a::Error::NoVideo) => Ok(cipher),
        Err(e) => Err(format!("the passphrase does not open this recording ({e})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use g2a::{Recorder, RecorderOptions};
    use g2a_core::{FrameRef, PixelFormat, Size};
    use g2a_format::{EncryptionInfo, PayloadCipher, SessionSet};

    /// A stand-in cipher for the test: XOR with a key byte plus a CRC tag
    /// over key, associated data and plaintext (so a wrong key fails).
    struct XorCipher(u8);

    impl XorCipher {
        fn tag(&self, aad: &[u8], plain: &[u8]) -> [u8; 4] {
            let mut h = 0x811c_9dc5u32;
            for &b in [self.0].iter().chain(aad).chain(plain) {
                h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
            }
            h.to_le_bytes()
        }
    }

    impl PayloadCipher for XorCipher {
        fn seal(&self, aad: &[u8], plain: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
            out.extend(plain.iter().map(|b| b ^ self.0));
            out.extend_from_slice(&self.tag(aad, plain));
            Ok(())
        }

        fn open(&self, aad: &[u8], sealed: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
            let n = sealed.len().checked_sub(4).ok_or("too short")?;
            let plain: Vec<u8> = sealed[..n].iter().map(|b| b ^ self.0).collect();
            if self.tag(aad, &plain) != sealed[n..] {
                return Err("does not authenticate".into());
            }
            out.extend_from_slice(&plain);
            Ok(())
        }
    }

    fn encrypted(dir: &Path) -> std::path::PathBuf {
        let path = dir.join("e.g2a");
        let size = Size::new(8, 8);
        let info = EncryptionInfo {
            scheme: "xor-test".into(),
            key_block: vec![1, 2, 3],
        };
        let opts = RecorderOptions::default().encrypt(SharedCipher::new(XorCipher(42)), info);
        let mut rec = Recorder::create(&path, SessionHeader::new("E", size), opts).unwrap();
        let px = vec![7u8; 8 * 8 * 4];
        rec.push_frame(
            Timestamp::ZERO,
            &FrameRef::packed(&px, size, PixelFormat::Bgra8).unwrap(),
        )
        .unwrap();
        rec.finish().unwrap();
        path
    }

    fn unlock_with_key_from_passphrase() -> Unlock {
        Box::new(|pass: &str| match pass {
            "" => Err("empty passphrase".to_owned()),
            p => Ok(SharedCipher::new(XorCipher(p.len() as u8))),
        })
    }

    #[test]
    fn encrypted_recordings_ask_or_refuse() {
        let dir = tempfile::tempdir().unwrap();
        let path = encrypted(dir.path());
        let set = SessionSet::open(&path).unwrap();
        assert_eq!(gate(&path, set.header(), true), Gate::AskPassphrase);
        match gate(&path, set.header(), false) {
            Gate::Refuse(m) => assert!(m.contains("g2a catalog play"), "{m}"),
            g => panic!("{g:?}"),
        }
        let plain = SessionHeader::new("P", Size::new(8, 8));
        assert_eq!(gate(&path, &plain, false), Gate::Open);
    }

    #[test]
    fn wrong_passphrase_is_refused_and_right_one_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = encrypted(dir.path());
        let unlock = unlock_with_key_from_passphrase();
        let e = unlock_recording(&path, &unlock, "short").err().unwrap();
        assert!(e.contains("does not open"), "{e}");
        assert_eq!(
            unlock_recording(&path, &unlock, "").err().as_deref(),
            Some("empty passphrase")
        );
        // 42 characters: the key the recording was sealed with.
        let pass = "x".repeat(42);
        let cipher = unlock_recording(&path, &unlock, &pass).unwrap();
        let mut p = g2a::Player::open(&path).unwrap();
        p.set_cipher(Some(cipher));
        assert_eq!(p.frame_at(Timestamp::ZERO).unwrap().data[0], 7);
    }
}
