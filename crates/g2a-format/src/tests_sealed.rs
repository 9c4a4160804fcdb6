//! Encrypted recordings (FORMAT.md §4.2): round trip, wrong key, tamper
//! detection, truncation, recovery, with a small keyed test cipher (the real
//! AEAD lives in g2a-catalog; this crate only frames what a cipher returns).

use g2a_core::{Size, Timestamp};

use crate::*;

/// Keyed stream XOR with a 4-byte keyed CRC tag over aad and plaintext.
struct ToyCipher(u8);

impl ToyCipher {
    fn tag(&self, aad: &[u8], plain: &[u8]) -> [u8; 4] {
        let mut h = crc32fast::Hasher::new();
        h.update(&[self.0]);
        h.update(aad);
        h.update(plain);
        h.finalize().to_le_bytes()
    }
}

impl PayloadCipher for ToyCipher {
    fn seal(&self, aad: &[u8], plain: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        out.extend(plain.iter().enumerate().map(|(i, b)| b ^ self.0 ^ i as u8));
        out.extend_from_slice(&self.tag(aad, plain));
        Ok(())
    }
    fn open(&self, aad: &[u8], sealed: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        let Some(n) = sealed.len().checked_sub(4) else {
            return Err("too short".into());
        };
        out.extend(
            sealed[..n]
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ self.0 ^ i as u8),
        );
        if self.tag(aad, out) != sealed[n..] {
            return Err("does not authenticate".into());
        }
        Ok(())
    }
}

fn header() -> SessionHeader {
    let mut h = SessionHeader::new("S-enc", Size::new(8, 8));
    h.encryption = Some(EncryptionInfo {
        scheme: "toy".into(),
        key_block: vec![1, 2, 3],
    });
    h
}

fn write_sample(path: &std::path::Path, key: u8) -> u64 {
    let opts = WriterOptions::default().cipher(SharedCipher::new(ToyCipher(key)));
    let mut w = Writer::create(path, header(), opts).unwrap();
    for i in 0..6u64 {
        let data = vec![i as u8; 40];
        w.write(&Record::Video {
            ts: Timestamp::from_millis(i * 100),
            codec: CodecId(*b"TEST"),
            keyframe: i % 3 == 0,
            data: &data,
        })
        .unwrap();
        w.write(&Record::CursorPosition {
            ts: Timestamp::from_millis(i * 100),
            x: i as i32,
            y: 2,
            shape: None,
        })
        .unwrap();
    }
    w.write(&Record::Chat {
        ts: Timestamp::from_millis(550),
        role: SenderRole::Customer,
        sender: "Kim",
        text: "secret words",
    })
    .unwrap();
    w.finish().unwrap().bytes
}

#[test]
fn sealed_round_trip_keeps_index_and_hides_content() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("e.g2a");
    write_sample(&p, 7);
    let bytes = std::fs::read(&p).unwrap();
    assert!(!bytes.windows(12).any(|w| w == b"secret words"));
    let mut r = Reader::open(&p).unwrap();
    assert!(r.is_encrypted());
    assert_eq!(r.keyframes().len(), 2);
    assert_eq!(r.record_count(), 13);
    assert!(r.verify().is_intact());
    // Without a cipher: opaque sealed records; cursor positions stay clear.
    let recs: Vec<_> = r.records().collect();
    assert_eq!(recs.iter().filter(|x| x.is_sealed()).count(), 7);
    assert!(recs
        .iter()
        .any(|x| matches!(x, Record::CursorPosition { x: 5, .. })));
    let mut buf = Vec::new();
    let err = r.open_record(recs[0].clone(), &mut buf).unwrap_err();
    assert!(
        matches!(
            err,
            FormatError::Encrypted {
                track: Track::Video,
                ..
            }
        ),
        "{err}"
    );
    // With it: the plaintext.
    r.set_cipher(Some(SharedCipher::new(ToyCipher(7))));
    let mut texts = Vec::new();
    for rec in r.records() {
        if let Record::Chat { text, .. } = r.open_record(rec, &mut buf).unwrap() {
            texts.push(text.to_owned());
        }
    }
    assert_eq!(texts, ["secret words"]);
    let k = r.seek_keyframe(Timestamp::from_millis(450)).unwrap();
    let first = r.records_from(k.offset).next().unwrap();
    match r.open_record(first, &mut buf).unwrap() {
        Record::Video { keyframe, data, .. } => {
            assert!(keyframe);
            assert_eq!(data, &[3u8; 40][..]);
        }
        other => panic!("expected a video record, found {other:?}"),
    }
}

#[test]
fn wrong_key_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("e.g2a");
    write_sample(&p, 7);
    let mut r = Reader::open(&p).unwrap();
    r.set_cipher(Some(SharedCipher::new(ToyCipher(8))));
    let mut buf = Vec::new();
    let first = r.records().next().unwrap();
    let err = r.open_record(first, &mut buf).unwrap_err();
    assert!(
        matches!(err, FormatError::Crypto { op: "open", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("does not authenticate"), "{err}");
    assert_eq!(r.verify().damage.len(), 7);
}

#[test]
fn tampered_payload_with_fixed_crc_is_caught_by_the_cipher() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("e.g2a");
    write_sample(&p, 7);
    let r = Reader::open(&p).unwrap();
    let (off, _) = r.records().next_with_offset().unwrap();
    let mut bytes = std::fs::read(&p).unwrap();
    drop(r);
    // Flip a payload byte of the first record and recompute its CRC, as an
    // attacker would: the framing checks pass, the cipher does not.
    let (_, _, _, len, pstart, total) = crate::record::parse_header(&bytes, off as usize).unwrap();
    let start = off as usize;
    bytes[start + pstart + (len as usize) / 2] ^= 0x10;
    let end = start + total as usize;
    let crc = crc32fast::hash(&bytes[start..end - 4]);
    bytes[end - 4..end].copy_from_slice(&crc.to_le_bytes());
    let mut r = Reader::from_bytes(bytes).unwrap();
    assert!(r.verify().damage.is_empty());
    r.set_cipher(Some(SharedCipher::new(ToyCipher(7))));
    let v = r.verify();
    assert_eq!(v.damage.len(), 1);
    assert_eq!(v.damage[0].start, off);
    let mut buf = Vec::new();
    let first = r.records().next().unwrap();
    assert!(r.open_record(first, &mut buf).is_err());
}

#[test]
fn truncated_encrypted_file_opens_to_its_last_complete_record_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("e.g2a");
    write_sample(&p, 7);
    let full = std::fs::read(&p).unwrap();
    let r = Reader::open(&p).unwrap();
    let offsets: Vec<u64> = {
        let mut it = r.records();
        std::iter::from_fn(|| it.next_with_offset().map(|(o, _)| o)).collect()
    };
    // Cut inside the 9th record: 8 complete records remain.
    let cut = offsets[8] as usize + 5;
    let mut t = Reader::from_bytes(full[..cut].to_vec()).unwrap();
    t.set_cipher(Some(SharedCipher::new(ToyCipher(7))));
    assert_eq!(t.trailer(), &TrailerState::Missing);
    assert_eq!(t.record_count(), 8);
    let mut buf = Vec::new();
    for rec in t.records() {
        t.open_record(rec, &mut buf).unwrap();
    }
    // Recovery copies the sealed records as they are (no key needed).
    let out = dir.path().join("fixed.g2a");
    let rep = recover(&t, &out).unwrap();
    assert_eq!(rep.records, 8);
    let mut f = Reader::open(&out).unwrap();
    assert!(f.verify().is_intact());
    assert_eq!(f.header().encryption, header().encryption);
    f.set_cipher(Some(SharedCipher::new(ToyCipher(7))));
    assert!(f.verify().is_intact());
    assert_eq!(f.keyframes().len(), t.keyframes().len());
}

#[test]
fn encrypting_writer_needs_encryption_info_and_sealed_flags_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let opts = WriterOptions::default().cipher(SharedCipher::new(ToyCipher(1)));
    let err = Writer::create(
        dir.path().join("x.g2a"),
        SessionHeader::new("S", Size::new(4, 4)),
        opts,
    )
    .unwrap_err();
    assert!(matches!(
        err,
        FormatError::InvalidArgument { what: "header", .. }
    ));
    // A screen size record never carries the sealed flag.
    let bad = Record::Sealed {
        ts: Timestamp::ZERO,
        kind: 0x02,
        flags: 0,
        sealed: b"x",
    };
    assert!(bad.validate().is_err());
    let mut b = Vec::new();
    crate::record::encode_framed(&mut b, 0x02, 0x80, Timestamp::ZERO, b"\x01\x01");
    let frame = crate::record::parse_frame(&b, 0, 1 << 20).unwrap();
    let payload =
        &b[frame.payload_start as usize..(frame.payload_start + frame.payload_len) as usize];
    assert!(crate::record::decode_payload(frame.kind, frame.flags, frame.ts, payload, 0).is_err());
}
