//! Record kinds, their payload layouts, and the record framing.
//! See docs/FORMAT.md §4 (framing) and §5 (payloads).

use std::fmt;

use g2a_core::{Size, Timestamp};

use crate::wire::{put_bytes, put_varint, unzigzag, zigzag, SliceReader};
use crate::FormatError;

/// First byte of every record (FORMAT.md §4).
pub(crate) const SYNC: u8 = 0xA7;
/// Largest record header: sync, kind, flags, two 10-byte varints, check.
pub(crate) const MAX_HEADER: usize = 3 + 10 + 10 + 2;
/// Bytes after the payload (the record CRC).
pub(crate) const CRC_LEN: usize = 4;

/// Flag bit: the video record is a keyframe.
pub(crate) const FLAG_KEYFRAME: u8 = 0x01;
/// Flag bit: the payload is sealed (encrypted and authenticated, FORMAT.md §4.2).
pub(crate) const FLAG_SEALED: u8 = 0x80;

/// Record kind codes (FORMAT.md §5).
pub(crate) mod kind {
    pub(crate) const VIDEO: u8 = 0x01;
    pub(crate) const SCREEN_SIZE: u8 = 0x02;
    pub(crate) const CURSOR_POSITION: u8 = 0x03;
    pub(crate) const CURSOR_SHAPE: u8 = 0x04;
    pub(crate) const CHAT: u8 = 0x05;
    pub(crate) const DIAGNOSTIC: u8 = 0x06;
    pub(crate) const EVENT: u8 = 0x07;
    pub(crate) const TRAILER: u8 = 0x7F;
}

/// A four-byte codec identifier stored on every video record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CodecId(pub [u8; 4]);

impl fmt::Display for CodecId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in &self.0 {
            if b.is_ascii_graphic() {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

/// The tracks of a session timeline. Timestamps never go backwards within a track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Track {
    /// Video frames and screen size changes.
    Video,
    /// Cursor positions and shapes.
    Cursor,
    /// Chat messages.
    Chat,
    /// Diagnostics documents.
    Diagnostics,
    /// Session events.
    Events,
    /// Records of a kind this reader does not know (skipped).
    Unknown,
}

impl Track {
    /// All tracks, in a fixed order.
    pub const ALL: [Track; 6] = [
        Track::Video,
        Track::Cursor,
        Track::Chat,
        Track::Diagnostics,
        Track::Events,
        Track::Unknown,
    ];

    pub(crate) fn index(self) -> usize {
        match self {
            Track::Video => 0,
            Track::Cursor => 1,
            Track::Chat => 2,
            Track::Diagnostics => 3,
            Track::Events => 4,
            Track::Unknown => 5,
        }
    }

    /// The track a record kind code belongs to.
    pub(crate) fn of_kind(code: u8) -> Track {
        match code {
            kind::VIDEO | kind::SCREEN_SIZE => Track::Video,
            kind::CURSOR_POSITION | kind::CURSOR_SHAPE => Track::Cursor,
            kind::CHAT => Track::Chat,
            kind::DIAGNOSTIC => Track::Diagnostics,
            kind::EVENT => Track::Events,
            _ => Track::Unknown,
        }
    }

    /// Lower-case name, as shown by `g2a info`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Track::Video => "video",
            Track::Cursor => "cursor",
            Track::Chat => "chat",
            Track::Diagnostics => "diagnostics",
            Track::Events => "events",
            Track::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Track {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Who sent a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SenderRole {
    /// The support representative.
    Representative,
    /// The customer.
    Customer,
    /// The support system itself.
    System,
    /// A role code this reader does not know.
    Other(u8),
}

impl SenderRole {
    /// The wire code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            SenderRole::Representative => 1,
            SenderRole::Customer => 2,
            SenderRole::System => 3,
            SenderRole::Other(c) => c,
        }
    }

    /// The value for a wire code (unknown codes become `Other`).
    #[must_use]
    pub fn from_code(c: u8) -> Self {
        match c {
            1 => SenderRole::Representative,
            2 => SenderRole::Customer,
            3 => SenderRole::System,
            c => SenderRole::Other(c),
        }
    }

    /// Lower-case name.
    #[must_use]
    pub fn name(self) -> String {
        match self {
            SenderRole::Representative => "representative".into(),
            SenderRole::Customer => "customer".into(),
            SenderRole::System => "system".into(),
            SenderRole::Other(c) => format!("role-{c}"),
        }
    }
}

/// The media type of a diagnostics document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MediaType {
    /// Arbitrary bytes.
    Binary,
    /// UTF-8 text.
    Text,
    /// A JSON document.
    Json,
    /// A media type code this reader does not know.
    Other(u8),
}

impl MediaType {
    /// The wire code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            MediaType::Binary => 0,
            MediaType::Text => 1,
            MediaType::Json => 2,
            MediaType::Other(c) => c,
        }
    }

    /// The value for a wire code (unknown codes become `Other`).
    #[must_use]
    pub fn from_code(c: u8) -> Self {
        match c {
            0 => MediaType::Binary,
            1 => MediaType::Text,
            2 => MediaType::Json,
            c => MediaType::Other(c),
        }
    }

    /// The MIME type.
    #[must_use]
    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Binary | MediaType::Other(_) => "application/octet-stream",
            MediaType::Text => "text/plain; charset=utf-8",
            MediaType::Json => "application/json",
        }
    }
}

/// The type of a session event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// The representative was granted remote control.
    RemoteControlGranted,
    /// Remote control was revoked.
    RemoteControlRevoked,
    /// A file was transferred (detail: name and direction).
    FileTransferred,
    /// The customer's machine rebooted.
    Reboot,
    /// A participant joined (detail: who).
    ParticipantJoined,
    /// A participant left (detail: who).
    ParticipantLeft,
    /// The recorder dropped frames it could not keep up with (detail: how many).
    FramesDropped,
    /// An event code this reader does not know.
    Other(u16),
}

impl EventKind {
    /// The wire code.
    #[must_use]
    pub fn code(self) -> u16 {
        match self {
            EventKind::RemoteControlGranted => 1,
            EventKind::RemoteControlRevoked => 2,
            EventKind::FileTransferred => 3,
            EventKind::Reboot => 4,
            EventKind::ParticipantJoined => 5,
            EventKind::ParticipantLeft => 6,
            EventKind::FramesDropped => 7,
            EventKind::Other(c) => c,
        }
    }

    /// The value for a wire code (unknown codes become `Other`).
    #[must_use]
    pub fn from_code(c: u16) -> Self {
        match c {
            1 => EventKind::RemoteControlGranted,
            2 => EventKind::RemoteControlRevoked,
            3 => EventKind::FileTransferred,
            4 => EventKind::Reboot,
            5 => EventKind::ParticipantJoined,
            6 => EventKind::ParticipantLeft,
            7 => EventKind::FramesDropped,
            c => EventKind::Other(c),
        }
    }

    /// Lower-case name.
    #[must_use]
    pub fn name(self) -> String {
        match self {
            EventKind::RemoteControlGranted => "remote-control-granted".into(),
            EventKind::RemoteControlRevoked => "remote-control-revoked".into(),
            EventKind::FileTransferred => "file-transferred".into(),
            EventKind::Reboot => "reboot".into(),
            EventKind::ParticipantJoined => "participant-joined".into(),
            EventKind::ParticipantLeft => "participant-left".into(),
            EventKind::FramesDropped => "frames-dropped".into(),
            EventKind::Other(c) => format!("event-{c}"),
        }
    }
}

/// One record of a session, borrowing its bytes (zero-copy from a mapped file).
///
/// The same type is given to the [`Writer`](crate::Writer) and returned by the
/// [`Reader`](crate::Reader).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Record<'a> {
    /// A video frame: an opaque codec payload.
    Video {
        /// Time of the frame.
        ts: Timestamp,
        /// The codec that can decode `data`.
        codec: CodecId,
        /// True when `data` decodes without earlier frames.
        keyframe: bool,
        /// The codec payload.
        data: &'a [u8],
    },
    /// The screen size changed.
    ScreenSize {
        /// Time of the change.
        ts: Timestamp,
        /// The new size.
        size: Size,
    },
    /// The cursor moved or changed shape.
    CursorPosition {
        /// Time of the change.
        ts: Timestamp,
        /// Position of the hotspot (may be off screen).
        x: i32,
        /// Position of the hotspot (may be off screen).
        y: i32,
        /// Shape id (from a [`Record::CursorShape`]), or `None` when hidden.
        shape: Option<u32>,
    },
    /// A cursor shape, stored once and referenced by id.
    CursorShape {
        /// Time the shape was defined.
        ts: Timestamp,
        /// Shape id.
        id: u32,
        /// Hotspot x within the shape.
        hotspot_x: u32,
        /// Hotspot y within the shape.
        hotspot_y: u32,
        /// Shape size.
        size: Size,
        /// BGRA pixels with alpha, `width * height * 4` bytes.
        pixels: &'a [u8],
    },
    /// A chat message.
    Chat {
        /// Time sent.
        ts: Timestamp,
        /// Sender's role.
        role: SenderRole,
        /// Sender's display name.
        sender: &'a str,
        /// Message text.
        text: &'a str,
    },
    /// A diagnostics document.
    Diagnostic {
        /// Time collected.
        ts: Timestamp,
        /// Document name (for example `system-info.json`).
        name: &'a str,
        /// Media type.
        media_type: MediaType,
        /// Document content.
        data: &'a [u8],
    },
    /// A session event.
    Event {
        /// Time of the event.
        ts: Timestamp,
        /// Event type.
        kind: EventKind,
        /// Free text detail.
        detail: &'a str,
    },
    /// A record whose payload is sealed (an encrypted recording, FORMAT.md
    /// §4.2): its framing is known, its content is not until it is opened
    /// with [`unseal`](crate::unseal) and the recording's cipher.
    Sealed {
        /// Its timestamp.
        ts: Timestamp,
        /// Its kind code (the kind of the record once opened).
        kind: u8,
        /// Its flags without the sealed bit (the keyframe bit of video).
        flags: u8,
        /// The sealed payload (nonce, ciphertext, tag; cipher-defined).
        sealed: &'a [u8],
    },
    /// A record of a kind this reader does not know; readers skip it.
    Unknown {
        /// Its timestamp.
        ts: Timestamp,
        /// Its kind code.
        kind: u8,
        /// Its payload.
        payload: &'a [u8],
    },
}

impl Record<'_> {
    /// The record's timestamp.
    #[must_use]
    pub fn ts(&self) -> Timestamp {
        match *self {
            Record::Video { ts, .. }
            | Record::ScreenSize { ts, .. }
            | Record::CursorPosition { ts, .. }
            | Record::CursorShape { ts, .. }
            | Record::Chat { ts, .. }
            | Record::Diagnostic { ts, .. }
            | Record::Event { ts, .. }
            | Record::Sealed { ts, .. }
            | Record::Unknown { ts, .. } => ts,
        }
    }

    /// The track the record belongs to.
    #[must_use]
    pub fn track(&self) -> Track {
        Track::of_kind(self.kind_code())
    }

    pub(crate) fn kind_code(&self) -> u8 {
        match self {
            Record::Video { .. } => kind::VIDEO,
            Record::ScreenSize { .. } => kind::SCREEN_SIZE,
            Record::CursorPosition { .. } => kind::CURSOR_POSITION,
            Record::CursorShape { .. } => kind::CURSOR_SHAPE,
            Record::Chat { .. } => kind::CHAT,
            Record::Diagnostic { .. } => kind::DIAGNOSTIC,
            Record::Event { .. } => kind::EVENT,
            Record::Sealed { kind, .. } | Record::Unknown { kind, .. } => *kind,
        }
    }

    pub(crate) fn flags(&self) -> u8 {
        match self {
            Record::Video { keyframe: true, .. } => FLAG_KEYFRAME,
            Record::Sealed { flags, .. } => flags | FLAG_SEALED,
            _ => 0,
        }
    }

    /// True for a keyframe video record (sealed or not).
    #[must_use]
    pub fn is_keyframe(&self) -> bool {
        match *self {
            Record::Video { keyframe, .. } => keyframe,
            Record::Sealed { kind: k, flags, .. } => k == kind::VIDEO && flags & FLAG_KEYFRAME != 0,
            _ => false,
        }
    }

    /// True for a video frame record (sealed or not).
    #[must_use]
    pub fn is_video_frame(&self) -> bool {
        self.kind_code() == kind::VIDEO
    }

    /// True for a record whose payload is sealed ([`Record::Sealed`]).
    #[must_use]
    pub fn is_sealed(&self) -> bool {
        matches!(self, Record::Sealed { .. })
    }

    /// Checks what the format requires of the record's fields.
    /// Checks what [`crate::Writer::write`] checks about the record itself
    /// (not its time order or size against a cap).
    ///
    /// # Errors
    /// [`FormatError::InvalidArgument`] naming the problem.
    pub fn validate(&self) -> Result<(), FormatError> {
        let bad = |detail: String| FormatError::InvalidArgument {
            what: "record",
            detail,
        };
        match *self {
            Record::ScreenSize { size, .. } if size.is_empty() => {
                Err(bad(format!("screen size {size} has a zero side")))
            }
            Record::CursorShape { size, pixels, .. } => {
                let want = size.area().saturating_mul(4);
                if pixels.len() as u64 != want {
                    Err(bad(format!(
                        "cursor shape {size} needs {want} bytes of BGRA pixels, {} given",
                        pixels.len()
                    )))
                } else {
                    Ok(())
                }
            }
            Record::Unknown { kind: k, .. }
                if Track::of_kind(k) != Track::Unknown || k == kind::TRAILER =>
            {
                Err(bad(format!("kind {k:#04x} is reserved")))
            }
            Record::Sealed { kind: k, flags, .. } => {
                if !crate::cipher::is_sealable(k) {
                    Err(bad(format!("records of kind {k:#04x} are never sealed")))
                } else if flags & FLAG_SEALED != 0 {
                    Err(bad(
                        "sealed record flags must not repeat the sealed bit".into()
                    ))
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// Appends the payload bytes (FORMAT.md §5).
    pub(crate) fn encode_payload(&self, out: &mut Vec<u8>) {
        match *self {
            Record::Video { codec, data, .. } => {
                out.extend_from_slice(&codec.0);
                out.extend_from_slice(data);
            }
            Record::ScreenSize { size, .. } => {
                put_varint(out, u64::from(size.width));
                put_varint(out, u64::from(size.height));
            }
            Record::CursorPosition { x, y, shape, .. } => {
                put_varint(out, zigzag(i64::from(x)));
                put_varint(out, zigzag(i64::from(y)));
                put_varint(out, shape.map_or(0, |s| u64::from(s) + 1));
            }
            Record::CursorShape {
                id,
                hotspot_x,
                hotspot_y,
                size,
                pixels,
                ..
            } => {
                put_varint(out, u64::from(id));
                put_varint(out, u64::from(hotspot_x));
                put_varint(out, u64::from(hotspot_y));
                put_varint(out, u64::from(size.width));
                put_varint(out, u64::from(size.height));
                out.extend_from_slice(pixels);
            }
            Record::Chat {
                role, sender, text, ..
            } => {
                out.push(role.code());
                put_bytes(out, sender.as_bytes());
                put_bytes(out, text.as_bytes());
            }
            Record::Diagnostic {
                name,
                media_type,
                data,
                ..
            } => {
                put_bytes(out, name.as_bytes());
                out.push(media_type.code());
                out.extend_from_slice(data);
            }
            Record::Event { kind, detail, .. } => {
                put_varint(out, u64::from(kind.code()));
                put_bytes(out, detail.as_bytes());
            }
            Record::Unknown { payload, .. } => out.extend_from_slice(payload),
            Record::Sealed { sealed, .. } => out.extend_from_slice(sealed),
        }
    }
}

/// Decodes a payload of kind `code` (FORMAT.md §5). `offset` is the payload's
/// absolute position, for error messages.
pub(crate) fn decode_payload(
    code: u8,
    flags: u8,
    ts: Timestamp,
    payload: &[u8],
    offset: u64,
) -> Result<Record<'_>, FormatError> {
    if flags & FLAG_SEALED != 0 {
        if !crate::cipher::is_sealable(code) {
            return Err(FormatError::malformed(
                "record",
                offset,
                format!(
                    "record of kind {code:#04x} has the sealed flag; that kind is never sealed"
                ),
            ));
        }
        return Ok(Record::Sealed {
            ts,
            kind: code,
            flags: flags & !FLAG_SEALED,
            sealed: payload,
        });
    }
    let mut r = SliceReader::new(payload, offset, "record payload");
    let rec = match code {
        kind::VIDEO => {
            let c = r.take(4)?;
            Record::Video {
                ts,
                codec: CodecId([c[0], c[1], c[2], c[3]]),
                keyframe: flags & FLAG_KEYFRAME != 0,
                data: r.rest(),
            }
        }
        kind::SCREEN_SIZE => {
            let at = r.offset();
            let size = Size::new(r.varint_u32()?, r.varint_u32()?);
            if size.is_empty() {
                return Err(FormatError::malformed(
                    "screen size record",
                    at,
                    format!("size {size} has a zero side"),
                ));
            }
            Record::ScreenSize { ts, size }
        }
        kind::CURSOR_POSITION => {
            let at = r.offset();
            let x = i32::try_from(unzigzag(r.varint()?));
            let y = i32::try_from(unzigzag(r.varint()?));
            let (Ok(x), Ok(y)) = (x, y) else {
                return Err(FormatError::malformed(
                    "cursor position record",
                    at,
                    "coordinate outside the 32-bit range",
                ));
            };
            let s = r.varint()?;
            let shape = match s {
                0 => None,
                s => Some(u32::try_from(s - 1).map_err(|_| {
                    FormatError::malformed("cursor position record", at, "shape id above 2^32")
                })?),
            };
            Record::CursorPosition { ts, x, y, shape }
        }
        kind::CURSOR_SHAPE => {
            let id = r.varint_u32()?;
            let hotspot_x = r.varint_u32()?;
            let hotspot_y = r.varint_u32()?;
            let at = r.offset();
            let size = Size::new(r.varint_u32()?, r.varint_u32()?);
            let pixels = r.rest();
            if pixels.len() as u64 != size.area().saturating_mul(4) {
                return Err(FormatError::malformed(
                    "cursor shape record",
                    at,
                    format!(
                        "a {size} shape needs {} bytes of pixels, found {}",
                        size.area().saturating_mul(4),
                        pixels.len()
                    ),
                ));
            }
            Record::CursorShape {
                ts,
                id,
                hotspot_x,
                hotspot_y,
                size,
                pixels,
            }
        }
        kind::CHAT => {
            let role = SenderRole::from_code(r.u8()?);
            let sender = r.str()?;
            let text = r.str()?;
            r.finish()?;
            Record::Chat {
                ts,
                role,
                sender,
                text,
            }
        }
        kind::DIAGNOSTIC => {
            let name = r.str()?;
            let media_type = MediaType::from_code(r.u8()?);
            Record::Diagnostic {
                ts,
                name,
                media_type,
                data: r.rest(),
            }
        }
        kind::EVENT => {
            let at = r.offset();
            let k = u16::try_from(r.varint()?).map_err(|_| {
                FormatError::malformed("event record", at, "event code above 65535")
            })?;
            let detail = r.str()?;
            r.finish()?;
            Record::Event {
                ts,
                kind: EventKind::from_code(k),
                detail,
            }
        }
        other => Record::Unknown {
            ts,
            kind: other,
            payload: r.rest(),
        },
    };
    r.finish()?;
    Ok(rec)
}

/// The framing of one record as found in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) kind: u8,
    pub(crate) flags: u8,
    pub(crate) ts: Timestamp,
    /// Absolute offset of the payload.
    pub(crate) payload_start: u64,
    pub(crate) payload_len: u64,
    /// Absolute offset just past the CRC.
    pub(crate) end: u64,
}

/// Appends the framing and payload of one record (FORMAT.md §4).
pub(crate) fn encode_framed(out: &mut Vec<u8>, kind: u8, flags: u8, ts: Timestamp, payload: &[u8]) {
    let start = out.len();
    out.push(SYNC);
    out.push(kind);
    out.push(flags);
    put_varint(out, ts.as_micros());
    put_varint(out, payload.len() as u64);
    let check = crc32fast::hash(&out[start..]) as u16;
    out.extend_from_slice(&check.to_le_bytes());
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// Why a record could not be read at some offset.
#[derive(Debug)]
pub(crate) enum FrameFault {
    /// The file ends inside the record.
    Truncated { needed: u64 },
    /// The bytes are not a valid record.
    Invalid(FormatError),
}

/// Parses and checks a record header at `buf[pos..]` (FORMAT.md §4): the
/// sync byte, kind, flags, time and length, and the 16-bit header check.
/// Returns the header and the record's total length (which may run past the
/// end of `buf`). Costs O(1) whatever the input.
pub(crate) fn parse_header(
    buf: &[u8],
    pos: usize,
) -> Result<(u8, u8, u64, u64, usize, u64), FrameFault> {
    let at = pos as u64;
    let rest = &buf[pos..];
    let mut r = SliceReader::new(rest, at, "record header");
    let trunc = |needed: u64| FrameFault::Truncated { needed };
    let invalid = FrameFault::Invalid;
    let sync = r.u8().map_err(|_| trunc(MAX_HEADER as u64))?;
    if sync != SYNC {
        return Err(invalid(FormatError::malformed(
            "record",
            at,
            format!("found byte {sync:#04x}, expected the record marker {SYNC:#04x}"),
        )));
    }
    let header = (|| -> Result<(u8, u8, u64, u64), FormatError> {
        Ok((r.u8()?, r.u8()?, r.varint()?, r.varint()?))
    })();
    let (kind, flags, ts, len) = match header {
        Ok(h) => h,
        Err(FormatError::Truncated { .. }) => return Err(trunc(MAX_HEADER as u64)),
        Err(e) => return Err(invalid(e)),
    };
    let hlen = rest.len() - r.remaining();
    let Ok(stored) = r.u16() else {
        return Err(trunc(hlen as u64 + 2));
    };
    let computed = crc32fast::hash(&rest[..hlen]) as u16;
    if stored != computed {
        return Err(invalid(FormatError::Checksum {
            what: "record header",
            offset: at,
            stored: u32::from(stored),
            computed: u32::from(computed),
        }));
    }
    let payload_start = hlen + 2;
    let total = (payload_start as u64)
        .saturating_add(len)
        .saturating_add(CRC_LEN as u64);
    Ok((kind, flags, ts, len, payload_start, total))
}

/// Parses the record framed at `buf[pos..]`, checking both checksums.
/// `max_payload` bounds the length a record may claim.
pub(crate) fn parse_frame(buf: &[u8], pos: usize, max_payload: u64) -> Result<Frame, FrameFault> {
    let at = pos as u64;
    let rest = &buf[pos..];
    let (kind, flags, ts, len, payload_start, total) = parse_header(buf, pos)?;
    if len > max_payload {
        return Err(FrameFault::Invalid(FormatError::malformed(
            "record",
            at,
            format!("payload length {len} exceeds the limit of {max_payload} bytes"),
        )));
    }
    if total > rest.len() as u64 {
        return Err(FrameFault::Truncated { needed: total });
    }
    let total = total as usize;
    let body_end = total - CRC_LEN;
    let stored = u32::from_le_bytes([
        rest[body_end],
        rest[body_end + 1],
        rest[body_end + 2],
        rest[body_end + 3],
    ]);
    let computed = crc32fast::hash(&rest[..body_end]);
    if stored != computed {
        return Err(FrameFault::Invalid(FormatError::Checksum {
            what: "record",
            offset: at,
            stored,
            computed,
        }));
    }
    Ok(Frame {
        kind,
        flags,
        ts: Timestamp::from_micros(ts),
        payload_start: at + payload_start as u64,
        payload_len: len,
        end: at + total as u64,
    })
}
