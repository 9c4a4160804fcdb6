//! The file header: magic, version, session metadata (FORMAT.md §3).

use g2a_core::Size;

use crate::wire::{put_bytes, put_varint, SliceReader};
use crate::FormatError;

/// The first eight bytes of every `.g2a` file.
pub const MAGIC: [u8; 8] = *b"G2AREC\r\n";
/// The major format version this crate writes and reads.
pub const VERSION_MAJOR: u16 = 1;
/// The minor format version this crate writes.
pub const VERSION_MINOR: u16 = 0;
/// Largest header payload a reader accepts.
pub(crate) const MAX_HEADER_FIELDS_LEN: u32 = 1 << 20;

mod tag {
    pub(crate) const SESSION_ID: u8 = 1;
    pub(crate) const PORTAL: u8 = 2;
    pub(crate) const TEAM: u8 = 3;
    pub(crate) const REPRESENTATIVE: u8 = 4;
    pub(crate) const CUSTOMER: u8 = 5;
    pub(crate) const START_TIME: u8 = 6;
    pub(crate) const SIDE: u8 = 7;
    pub(crate) const RECORDER_NAME: u8 = 8;
    pub(crate) const RECORDER_VERSION: u8 = 9;
    pub(crate) const SCREEN_SIZE: u8 = 10;
    pub(crate) const METADATA: u8 = 11;
    pub(crate) const CONTINUATION: u8 = 12;
    pub(crate) const ENCRYPTION: u8 = 13;
}

/// Which machine a recording was made on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum RecordingSide {
    /// The support representative's machine.
    #[default]
    Representative,
    /// The customer's machine.
    Customer,
}

impl RecordingSide {
    /// Lower-case name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            RecordingSide::Representative => "representative",
            RecordingSide::Customer => "customer",
        }
    }
}

/// Where a continuation file sits in its session's chain of files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continuation {
    /// 1 for the first continuation file, 2 for the next, and so on.
    pub index: u32,
    /// File name (without directory) of the file this one continues.
    pub predecessor: String,
}

/// How an encrypted recording's content key is stored (opaque to this crate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionInfo {
    /// The scheme's name, for example `age-x25519+xchacha20poly1305`.
    pub scheme: String,
    /// The wrapped content key.
    pub key_block: Vec<u8>,
}

/// The session header at the start of every file (FORMAT.md §3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SessionHeader {
    /// Unique id of the support session.
    pub session_id: String,
    /// The portal the session ran on.
    pub portal: String,
    /// The representative's team.
    pub team: String,
    /// The representative's name.
    pub representative: String,
    /// A label for the customer.
    pub customer: String,
    /// Session start, microseconds since the Unix epoch (UTC).
    pub start_time_unix_micros: i64,
    /// The machine the recording was made on.
    pub side: RecordingSide,
    /// The recording program's name.
    pub recorder_name: String,
    /// The recording program's version.
    pub recorder_version: String,
    /// The screen size when the recording started.
    pub screen_size: Size,
    /// Free key/value metadata, in order.
    pub metadata: Vec<(String, String)>,
    /// Set on continuation files.
    pub continuation: Option<Continuation>,
    /// Set on encrypted recordings.
    pub encryption: Option<EncryptionInfo>,
    /// Minor version of the file this header was read from.
    pub minor_version: u16,
}

impl SessionHeader {
    /// A header for session `session_id` with an initial screen size.
    #[must_use]
    pub fn new(session_id: impl Into<String>, screen_size: Size) -> Self {
        SessionHeader {
            session_id: session_id.into(),
            screen_size,
            recorder_name: "g2a".into(),
            recorder_version: env!("CARGO_PKG_VERSION").into(),
            minor_version: VERSION_MINOR,
            ..Default::default()
        }
    }

    /// Sets the portal.
    #[must_use]
    pub fn with_portal(mut self, v: impl Into<String>) -> Self {
        self.portal = v.into();
        self
    }

    /// Sets the team.
    #[must_use]
    pub fn with_team(mut self, v: impl Into<String>) -> Self {
        self.team = v.into();
        self
    }

    /// Sets the representative.
    #[must_use]
    pub fn with_representative(mut self, v: impl Into<String>) -> Self {
        self.representative = v.into();
        self
    }

    /// Sets the customer label.
    #[must_use]
    pub fn with_customer(mut self, v: impl Into<String>) -> Self {
        self.customer = v.into();
        self
    }

    /// Sets the start time (microseconds since the Unix epoch).
    #[must_use]
    pub fn with_start_time_unix_micros(mut self, v: i64) -> Self {
        self.start_time_unix_micros = v;
        self
    }

    /// Sets the recording side.
    #[must_use]
    pub fn with_side(mut self, v: RecordingSide) -> Self {
        self.side = v;
        self
    }

    /// Sets the recorder's name and version.
    #[must_use]
    pub fn with_recorder(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.recorder_name = name.into();
        self.recorder_version = version.into();
        self
    }

    /// Adds a metadata entry.
    #[must_use]
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.push((key.into(), value.into()));
        self
    }

    /// Bytes of the whole file header (magic to CRC).
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut f = Vec::new();
        let mut field = |t: u8, body: &dyn Fn(&mut Vec<u8>)| {
            let mut b = Vec::new();
            body(&mut b);
            f.push(t);
            put_bytes(&mut f, &b);
        };
        for (t, v) in [
            (tag::SESSION_ID, &self.session_id),
            (tag::PORTAL, &self.portal),
            (tag::TEAM, &self.team),
            (tag::REPRESENTATIVE, &self.representative),
            (tag::CUSTOMER, &self.customer),
        ] {
            field(t, &|b| b.extend_from_slice(v.as_bytes()));
        }
        field(tag::START_TIME, &|b| {
            b.extend_from_slice(&self.start_time_unix_micros.to_le_bytes())
        });
        field(tag::SIDE, &|b| {
            b.push(match self.side {
                RecordingSide::Representative => 1,
                RecordingSide::Customer => 2,
            })
        });
        field(tag::RECORDER_NAME, &|b| {
            b.extend_from_slice(self.recorder_name.as_bytes())
        });
        field(tag::RECORDER_VERSION, &|b| {
            b.extend_from_slice(self.recorder_version.as_bytes())
        });
        field(tag::SCREEN_SIZE, &|b| {
            put_varint(b, u64::from(self.screen_size.width));
            put_varint(b, u64::from(self.screen_size.height));
        });
        for (k, v) in &self.metadata {
            field(tag::METADATA, &|b| {
                put_bytes(b, k.as_bytes());
                put_bytes(b, v.as_bytes());
            });
        }
        if let Some(c) = &self.continuation {
            field(tag::CONTINUATION, &|b| {
                put_varint(b, u64::from(c.index));
                put_bytes(b, c.predecessor.as_bytes());
            });
        }
        if let Some(e) = &self.encryption {
            field(tag::ENCRYPTION, &|b| {
                put_bytes(b, e.scheme.as_bytes());
                put_bytes(b, &e.key_block);
            });
        }
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION_MAJOR.to_le_bytes());
        out.extend_from_slice(&VERSION_MINOR.to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(&f);
        let crc = crc32fast::hash(&out[8..]);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Reads the header from the first bytes of a file that may still be
    /// arriving (an upload, a recording being written): `Ok(None)` while
    /// `prefix` is too short to hold the whole header, the header and its
    /// length in bytes once it does. Bytes that can't begin a `.g2a` file
    /// (wrong magic, an unsupported major version, a header length over the
    /// limit) are refused as soon as they arrive.
    ///
    /// # Errors
    /// [`FormatError::BadMagic`], [`FormatError::UnsupportedVersion`], and
    /// the errors of a malformed header once it is complete.
    ///
    /// # Examples
    /// ```
    /// use g2a_core::Size;
    /// use g2a_format::{SessionHeader, Writer, WriterOptions};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("s.g2a");
    /// Writer::create(&path, SessionHeader::new("S-1", Size::new(8, 8)), WriterOptions::default()).unwrap().finish().unwrap();
    /// let bytes = std::fs::read(&path).unwrap();
    /// assert!(SessionHeader::from_prefix(&bytes[..10]).unwrap().is_none());
    /// let (h, len) = SessionHeader::from_prefix(&bytes).unwrap().unwrap();
    /// assert_eq!(h.session_id, "S-1");
    /// assert!(len < bytes.len());
    /// assert!(SessionHeader::from_prefix(b"GIF89a").is_err());
    /// ```
    pub fn from_prefix(prefix: &[u8]) -> Result<Option<(SessionHeader, usize)>, FormatError> {
        let n = prefix.len().min(MAGIC.len());
        if prefix[..n] != MAGIC[..n] {
            return Err(FormatError::BadMagic {
                found: prefix[..n].to_vec(),
            });
        }
        if prefix.len() >= 10 {
            let major = u16::from_le_bytes([prefix[8], prefix[9]]);
            if major != VERSION_MAJOR {
                return Err(FormatError::UnsupportedVersion {
                    found: major,
                    supported: VERSION_MAJOR,
                });
            }
        }
        if prefix.len() < 16 {
            return Ok(None);
        }
        let len = u32::from_le_bytes([prefix[12], prefix[13], prefix[14], prefix[15]]);
        if len > MAX_HEADER_FIELDS_LEN {
            return Err(FormatError::malformed(
                "file header",
                12,
                format!("header length {len} exceeds the limit of {MAX_HEADER_FIELDS_LEN} bytes"),
            ));
        }
        let total = 16 + len as usize + 4;
        if prefix.len() < total {
            return Ok(None);
        }
        Self::decode(&prefix[..total]).map(Some)
    }

    /// Parses the file header at the start of `buf`; returns it and its length.
    pub(crate) fn decode(buf: &[u8]) -> Result<(SessionHeader, usize), FormatError> {
        let mut r = SliceReader::new(buf, 0, "file header");
        let magic = r.take(8).map_err(|_| FormatError::BadMagic {
            found: buf[..buf.len().min(8)].to_vec(),
        })?;
        if magic != MAGIC {
            return Err(FormatError::BadMagic {
                found: magic.to_vec(),
            });
        }
        let major = r.u16()?;
        let minor = r.u16()?;
        if major != VERSION_MAJOR {
            return Err(FormatError::UnsupportedVersion {
                found: major,
                supported: VERSION_MAJOR,
            });
        }
        let len = r.u32()?;
        if len > MAX_HEADER_FIELDS_LEN {
            return Err(FormatError::malformed(
                "file header",
                12,
                format!("header length {len} exceeds the limit of {MAX_HEADER_FIELDS_LEN} bytes"),
            ));
        }
        let fields = r.take(len as usize)?;
        let end = 16 + len as usize;
        let stored = r.u32()?;
        let computed = crc32fast::hash(&buf[8..end]);
        if stored != computed {
            return Err(FormatError::Checksum {
                what: "file header",
                offset: end as u64,
                stored,
                computed,
            });
        }
        let mut h = SessionHeader {
            minor_version: minor,
            ..Default::default()
        };
        let mut f = SliceReader::new(fields, 16, "file header field");
        // Tags 1-13 but 11 occur at most once (§3).
        let mut seen = [false; 14];
        while !f.is_empty() {
            let t = f.u8()?;
            let at = f.offset();
            let once = (1..=13).contains(&t) && t != tag::METADATA;
            if once && std::mem::replace(&mut seen[usize::from(t)], true) {
                return Err(FormatError::malformed(
                    "file header field",
                    at - 1,
                    format!("tag {t} repeated: it may occur only once"),
                ));
            }
            let body = f.bytes()?;
            let mut b = SliceReader::new(body, at, "file header field");
            let text = |b: &[u8]| -> Result<String, FormatError> {
                String::from_utf8(b.to_vec()).map_err(|_| {
                    FormatError::malformed("file header field", at, "text is not valid UTF-8")
                })
            };
            match t {
                tag::SESSION_ID => h.session_id = text(body)?,
                tag::PORTAL => h.portal = text(body)?,
                tag::TEAM => h.team = text(body)?,
                tag::REPRESENTATIVE => h.representative = text(body)?,
                tag::CUSTOMER => h.customer = text(body)?,
                tag::START_TIME => {
                    h.start_time_unix_micros = b.i64()?;
                    b.finish()?;
                }
                tag::SIDE => {
                    h.side = match b.u8()? {
                        2 => RecordingSide::Customer,
                        _ => RecordingSide::Representative,
                    };
                }
                tag::RECORDER_NAME => h.recorder_name = text(body)?,
                tag::RECORDER_VERSION => h.recorder_version = text(body)?,
                tag::SCREEN_SIZE => {
                    h.screen_size = Size::new(b.varint_u32()?, b.varint_u32()?);
                    b.finish()?;
                }
                tag::METADATA => {
                    let k = b.str()?.to_owned();
                    let v = b.str()?.to_owned();
                    b.finish()?;
                    h.metadata.push((k, v));
                }
                tag::CONTINUATION => {
                    let index = b.varint_u32()?;
                    let predecessor = b.str()?.to_owned();
                    b.finish()?;
                    h.continuation = Some(Continuation { index, predecessor });
                }
                tag::ENCRYPTION => {
                    let scheme = b.str()?.to_owned();
                    let key_block = b.bytes()?.to_vec();
                    b.finish()?;
                    h.encryption = Some(EncryptionInfo { scheme, key_block });
                }
                _ => {} // unknown field of a later minor version: skipped (§3)
            }
        }
        Ok((h, end + 4))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SessionHeader {
        SessionHeader::new("S-1", Size::new(1920, 1080))
            .with_portal("support")
            .with_team("Tier 1")
            .with_representative("Ann")
            .with_customer("ACME #42")
            .with_start_time_unix_micros(1_700_000_000_000_000)
            .with_side(RecordingSide::Customer)
            .with_metadata("ticket", "T-9")
    }

    #[test]
    fn roundtrip() {
        let mut h = sample();
        h.continuation = Some(Continuation {
            index: 2,
            predecessor: "a.001.g2a".into(),
        });
        h.encryption = Some(EncryptionInfo {
            scheme: "x".into(),
            key_block: vec![1, 2, 3],
        });
        let b = h.encode();
        let (d, len) = SessionHeader::decode(&b).unwrap();
        assert_eq!(len, b.len());
        assert_eq!(d, h);
    }

    #[test]
    fn refuses_future_major() {
        let mut b = sample().encode();
        b[8] = 2;
        assert!(matches!(
            SessionHeader::decode(&b),
            Err(FormatError::UnsupportedVersion {
                found: 2,
                supported: 1
            })
        ));
    }

    #[test]
    fn every_truncation_is_an_error() {
        let b = sample().encode();
        for cut in 0..b.len() {
            assert!(SessionHeader::decode(&b[..cut]).is_err(), "cut {cut}");
        }
    }

    /// `sample()` encoded with `extra` appended to its fields (length and
    /// CRC fixed).
    fn with_fields(extra: &[u8]) -> Vec<u8> {
        let b = sample().encode();
        let len = u32::from_le_bytes(b[12..16].try_into().unwrap()) as usize;
        let mut fields = b[16..16 + len].to_vec();
        fields.extend_from_slice(extra);
        let mut out = b[..12].to_vec();
        out.extend_from_slice(&(fields.len() as u32).to_le_bytes());
        out.extend_from_slice(&fields);
        let crc = crc32fast::hash(&out[8..]);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    #[test]
    fn a_repeated_tag_is_malformed_but_metadata_and_unknown_tags_may_repeat() {
        // §3: tags 1-10, 12, 13 at most once.
        let e = SessionHeader::decode(&with_fields(b"\x02\x05other")).unwrap_err();
        assert!(e.to_string().contains("tag 2 repeated"), "{e}");
        let (h, _) = SessionHeader::decode(&with_fields(b"\x0b\x04\x01k\x01v")).unwrap();
        assert_eq!(h.metadata.len(), 2);
        let (h, _) = SessionHeader::decode(&with_fields(b"\x14\x01x\x14\x00")).unwrap();
        assert_eq!(h, sample());
    }
}
