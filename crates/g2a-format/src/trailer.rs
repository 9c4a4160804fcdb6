//! The trailer: the full seek index and per-track statistics, written by
//! `Writer::finish`, plus the fixed footer that locates it (FORMAT.md §6).

use g2a_core::Timestamp;

use crate::record::Track;
use crate::wire::{put_varint, SliceReader};
use crate::FormatError;

/// The last 16 bytes of a finished file: trailer offset (u64 LE) + this magic.
pub(crate) const FOOTER_MAGIC: [u8; 8] = *b"G2AEND\r\n";
/// Footer length.
pub(crate) const FOOTER_LEN: usize = 16;
/// Upper bound of a trailer's framing + fixed fields + footer, in bytes.
pub(crate) const TRAILER_FIXED_BOUND: u64 = 25 + 4 + 10 * 4 + 1 + 6 * 30 + 10 + FOOTER_LEN as u64;
/// Upper bound of one keyframe entry (two 10-byte varints).
pub(crate) const TRAILER_ENTRY_BOUND: u64 = 20;

/// A seek point: a keyframe's time and the file offset of its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyframeEntry {
    /// The keyframe's timestamp.
    pub ts: Timestamp,
    /// Byte offset of the keyframe's record in its file.
    pub offset: u64,
}

/// Record count, bytes and time span of one track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrackStats {
    /// Number of records.
    pub records: u64,
    /// Bytes of those records, framing included.
    pub bytes: u64,
    /// Timestamp of the first record.
    pub first: Option<Timestamp>,
    /// Timestamp of the last record.
    pub last: Option<Timestamp>,
}

impl TrackStats {
    pub(crate) fn add(&mut self, ts: Timestamp, bytes: u64) {
        self.records += 1;
        self.bytes += bytes;
        self.first.get_or_insert(ts);
        self.last = Some(ts);
    }
}

/// What the trailer records about its file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Summary {
    /// Largest amount by which a record's time lagged the latest time before it in file order.
    pub(crate) lateness: u64,
    pub(crate) tracks: [TrackStats; 6],
    pub(crate) keyframes: Vec<KeyframeEntry>,
}

impl Summary {
    pub(crate) fn note(
        &mut self,
        track: Track,
        ts: Timestamp,
        bytes: u64,
        max_seen: &mut Timestamp,
    ) {
        self.lateness = self
            .lateness
            .max(max_seen.as_micros().saturating_sub(ts.as_micros()));
        *max_seen = (*max_seen).max(ts);
        self.tracks[track.index()].add(ts, bytes);
    }

    pub(crate) fn last_ts(&self) -> Option<Timestamp> {
        self.tracks.iter().filter_map(|t| t.last).max()
    }

    pub(crate) fn first_ts(&self) -> Option<Timestamp> {
        self.tracks.iter().filter_map(|t| t.first).min()
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_varint(&mut out, self.lateness);
        out.push(self.tracks.len() as u8);
        for t in &self.tracks {
            put_varint(&mut out, t.records);
            put_varint(&mut out, t.bytes);
            // first/last as value+1, 0 meaning none
            put_varint(
                &mut out,
                t.first.map_or(0, |v| v.as_micros().saturating_add(1)),
            );
            put_varint(
                &mut out,
                t.last.map_or(0, |v| v.as_micros().saturating_add(1)),
            );
        }
        put_varint(&mut out, self.keyframes.len() as u64);
        let (mut pts, mut poff) = (0u64, 0u64);
        for k in &self.keyframes {
            put_varint(&mut out, k.ts.as_micros() - pts);
            put_varint(&mut out, k.offset - poff);
            pts = k.ts.as_micros();
            poff = k.offset;
        }
        out
    }

    pub(crate) fn decode(payload: &[u8], offset: u64) -> Result<Summary, FormatError> {
        let mut r = SliceReader::new(payload, offset, "trailer");
        let lateness = r.varint()?;
        let n = r.u8()? as usize;
        let mut s = Summary {
            lateness,
            ..Default::default()
        };
        if n < s.tracks.len() {
            // The tracks it leaves out would have no statistics (§6).
            return Err(FormatError::malformed(
                "trailer",
                r.offset() - 1,
                format!("{n} tracks, at least {} expected", s.tracks.len()),
            ));
        }
        let opt = |v: u64| (v > 0).then(|| Timestamp::from_micros(v - 1));
        for i in 0..n {
            let t = TrackStats {
                records: r.varint()?,
                bytes: r.varint()?,
                first: opt(r.varint()?),
                last: opt(r.varint()?),
            };
            if i < s.tracks.len() {
                s.tracks[i] = t;
            }
        }
        let count = r.varint()?;
        // Each entry takes at least two bytes: bound the count by the bytes present.
        if count > r.remaining() as u64 / 2 {
            return Err(FormatError::malformed(
                "trailer",
                r.offset(),
                format!(
                    "{count} keyframe entries claimed, only {} bytes present",
                    r.remaining()
                ),
            ));
        }
        let (mut ts, mut off) = (0u64, 0u64);
        let mut keyframes = Vec::new();
        for _ in 0..count {
            let at = r.offset();
            ts = ts
                .checked_add(r.varint()?)
                .ok_or_else(|| FormatError::malformed("trailer", at, "keyframe time overflows"))?;
            off = off.checked_add(r.varint()?).ok_or_else(|| {
                FormatError::malformed("trailer", at, "keyframe offset overflows")
            })?;
            keyframes.push(KeyframeEntry {
                ts: Timestamp::from_micros(ts),
                offset: off,
            });
        }
        r.finish()?;
        s.keyframes = keyframes;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A trailer payload of `tracks` empty tracks and no seek entries.
    fn payload(tracks: u8) -> Vec<u8> {
        let mut p = vec![0, tracks];
        p.extend(std::iter::repeat_n(0, usize::from(tracks) * 4));
        p.push(0);
        p
    }

    #[test]
    fn fewer_tracks_than_defined_make_the_trailer_unusable_and_more_are_ignored() {
        let e = Summary::decode(&payload(5), 100).unwrap_err().to_string();
        assert!(e.contains("5 tracks, at least 6 expected"), "{e}");
        assert!(Summary::decode(&payload(0), 100).is_err());
        assert!(Summary::decode(&payload(6), 100).is_ok());
        assert!(Summary::decode(&payload(9), 100).is_ok());
    }
}
