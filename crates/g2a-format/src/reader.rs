//! The memory-mapped reader: trailer fast path, scanning recovery,
//! merged iteration, seeking, verification (FORMAT.md §6, §8).

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::path::{Path, PathBuf};

use g2a_core::{Limits, Timestamp};

use crate::cipher::{unseal, SharedCipher};
use crate::map::Bytes;
use crate::record::{
    decode_payload, kind, parse_frame, parse_header, Frame, FrameFault, Record, Track, SYNC,
};
use crate::trailer::{KeyframeEntry, Summary, TrackStats, FOOTER_LEN, FOOTER_MAGIC};
use crate::{FormatError, SessionHeader};

/// A byte range of a file that holds no readable record, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// First damaged byte.
    pub start: u64,
    /// One past the last damaged byte.
    pub end: u64,
    /// What was found there and what was expected.
    pub reason: String,
}

/// The state of a file's trailer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrailerState {
    /// A valid trailer: the file was finished.
    Valid,
    /// No trailer: the recording is still being written, or was cut off.
    Missing,
    /// A trailer is present but unusable.
    Invalid(String),
}

/// How one step of a scan ended.
enum Step<'a> {
    Rec(u64, Record<'a>),
    Trailer(Frame),
    Damaged(Damage),
    End,
}

/// Scans one step from `pos` within `buf[..end]`, resynchronising after
/// damage. `budget` bounds the checksum work spent resynchronising, so that
/// hostile input costs time linear in its size.
fn step<'a>(
    buf: &'a [u8],
    pos: usize,
    end: usize,
    max_payload: u64,
    budget: &mut u64,
) -> (Step<'a>, usize) {
    if pos >= end {
        return (Step::End, pos);
    }
    let win = &buf[..end];
    let fault = match parse_frame(win, pos, max_payload) {
        Ok(f) => {
            if f.kind == kind::TRAILER {
                return (Step::Trailer(f), f.end as usize);
            }
            let payload =
                &win[f.payload_start as usize..(f.payload_start + f.payload_len) as usize];
            return match decode_payload(f.kind, f.flags, f.ts, payload, f.payload_start) {
                Ok(rec) => (Step::Rec(pos as u64, rec), f.end as usize),
                Err(e) => (
                    Step::Damaged(Damage {
                        start: pos as u64,
                        end: f.end,
                        reason: e.to_string(),
                    }),
                    f.end as usize,
                ),
            };
        }
        Err(fault) => fault,
    };
    // Resynchronise: the next offset where a complete, valid record starts.
    let mut p = pos + 1;
    let mut gave_up = false;
    while p < end {
        let Some(i) = memchr_sync(&win[p..]) else {
            p = end;
            break;
        };
        p += i;
        if let Ok((_, _, _, len, _, total)) = parse_header(win, p) {
            if len <= max_payload && total <= (end - p) as u64 {
                if *budget < total {
                    gave_up = true;
                    p = end;
                    break;
                }
                *budget -= total;
                if parse_frame(win, p, max_payload).is_ok() {
                    break;
                }
            }
        }
        p += 1;
    }
    let reason = match fault {
        _ if gave_up => {
            "damaged bytes: gave up resynchronising (too many false record starts)".to_owned()
        }
        FrameFault::Truncated { needed } if p >= end => format!(
            "truncated record: needs {needed} bytes, the file ends after {}",
            end - pos
        ),
        FrameFault::Truncated { needed } => {
            format!("record claims {needed} bytes but a valid record starts at byte {p}")
        }
        FrameFault::Invalid(e) => e.to_string(),
    };
    (
        Step::Damaged(Damage {
            start: pos as u64,
            end: p as u64,
            reason,
        }),
        p,
    )
}

fn memchr_sync(b: &[u8]) -> Option<usize> {
    b.iter().position(|&x| x == SYNC)
}

/// A `.g2a` file opened for reading.
///
/// Opening a finished file reads only its header and trailer (the seek index
/// and statistics), so it takes milliseconds whatever the file's size; a file
/// without a valid trailer (still being written, or cut off) is scanned
/// record by record, keeping every complete record and noting each damaged
/// byte range in [`Reader::damage`]. Records are returned zero-copy from the
/// memory map.
#[derive(Debug)]
pub struct Reader {
    bytes: Bytes,
    path: Option<PathBuf>,
    header: SessionHeader,
    header_len: u64,
    summary: Summary,
    data_end: u64,
    trailer: TrailerState,
    damage: Vec<Damage>,
    max_payload: u64,
    max_seen: Timestamp,
    cipher: Option<SharedCipher>,
}

impl Reader {
    /// Opens and maps the file at `path`.
    ///
    /// # Errors
    /// [`FormatError::Io`]; [`FormatError::BadMagic`],
    /// [`FormatError::UnsupportedVersion`] or another error when the header
    /// is missing or unreadable. Damage after the header is not an error: see
    /// [`Reader::damage`].
    pub fn open(path: impl AsRef<Path>) -> Result<Reader, FormatError> {
        Self::open_with_limits(path, &Limits::default())
    }

    /// As [`Reader::open`], bounding record sizes by `limits`.
    ///
    /// # Errors
    /// As [`Reader::open`].
    pub fn open_with_limits(
        path: impl AsRef<Path>,
        limits: &Limits,
    ) -> Result<Reader, FormatError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| FormatError::io(path, e))?;
        let bytes = Bytes::map(&file).map_err(|e| FormatError::io(path, e))?;
        let mut r = Self::from_parts(bytes, limits)?;
        r.path = Some(path.to_path_buf());
        Ok(r)
    }

    /// Reads a recording held in memory.
    ///
    /// # Errors
    /// As [`Reader::open`].
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Reader, FormatError> {
        Self::from_parts(Bytes::Owned(bytes), &Limits::default())
    }

    fn from_parts(bytes: Bytes, limits: &Limits) -> Result<Reader, FormatError> {
        let (header, header_len) = SessionHeader::decode(&bytes)?;
        let mut r = Reader {
            bytes,
            path: None,
            header,
            header_len: header_len as u64,
            summary: Summary::default(),
            data_end: header_len as u64,
            trailer: TrailerState::Missing,
            damage: Vec::new(),
            max_payload: limits.max_record_bytes,
            max_seen: Timestamp::ZERO,
            cipher: None,
        };
        match r.read_trailer() {
            Ok(Some((summary, offset))) => {
                r.summary = summary;
                r.data_end = offset;
                r.trailer = TrailerState::Valid;
            }
            Ok(None) => r.scan_from(r.header_len),
            Err(e) => {
                r.trailer = TrailerState::Invalid(e.to_string());
                r.scan_from(r.header_len);
            }
        }
        Ok(r)
    }

    /// Locates and parses the trailer via the footer; `Ok(None)` when there is no footer.
    fn read_trailer(&self) -> Result<Option<(Summary, u64)>, FormatError> {
        let b: &[u8] = &self.bytes;
        let len = b.len() as u64;
        if len < self.header_len + FOOTER_LEN as u64 || b[b.len() - 8..] != FOOTER_MAGIC {
            return Ok(None);
        }
        let foot = b.len() - FOOTER_LEN;
        let mut o = [0u8; 8];
        o.copy_from_slice(&b[foot..foot + 8]);
        let offset = u64::from_le_bytes(o);
        if offset < self.header_len || offset >= foot as u64 {
            return Err(FormatError::malformed(
                "footer",
                foot as u64,
                format!(
                    "trailer offset {offset} outside the records ({}..{foot})",
                    self.header_len
                ),
            ));
        }
        let f = match parse_frame(&b[..foot], offset as usize, self.max_payload) {
            Ok(f) => f,
            Err(FrameFault::Invalid(e)) => return Err(e),
            Err(FrameFault::Truncated { needed }) => {
                return Err(FormatError::malformed(
                    "trailer",
                    offset,
                    format!("trailer record needs {needed} bytes, it overlaps the footer"),
                ))
            }
        };
        if f.kind != kind::TRAILER || f.end != foot as u64 {
            return Err(FormatError::malformed(
                "trailer",
                offset,
                format!(
                    "found record kind {:#04x} ending at {}, expected the trailer ending at {foot}",
                    f.kind, f.end
                ),
            ));
        }
        let payload = &b[f.payload_start as usize..(f.payload_start + f.payload_len) as usize];
        let s = Summary::decode(payload, f.payload_start)?;
        let mut prev: Option<KeyframeEntry> = None;
        for k in &s.keyframes {
            if k.offset < self.header_len
                || k.offset >= offset
                || prev.is_some_and(|p| p.offset >= k.offset || p.ts > k.ts)
            {
                return Err(FormatError::malformed(
                    "trailer",
                    offset,
                    format!(
                        "keyframe entry at byte {} time {} is out of order or outside the records",
                        k.offset, k.ts
                    ),
                ));
            }
            prev = Some(*k);
        }
        Ok(Some((s, offset)))
    }

    /// Scans records from `pos` to the end of the bytes, updating the index,
    /// the statistics and the damage list.
    fn scan_from(&mut self, pos: u64) {
        let b: &[u8] = &self.bytes;
        let end = b.len();
        let mut budget = 16 * end as u64 + (1 << 20);
        let mut pos = pos as usize;
        let mut summary = std::mem::take(&mut self.summary);
        let mut max_seen = self.max_seen;
        let mut damage = Vec::new();
        let mut data_end = pos as u64;
        let mut trailer_seen = false;
        loop {
            let (s, next) = step(b, pos, end, self.max_payload, &mut budget);
            match s {
                Step::End => break,
                Step::Rec(off, rec) => {
                    let bytes = next as u64 - off;
                    summary.note(rec.track(), rec.ts(), bytes, &mut max_seen);
                    if rec.is_keyframe() {
                        summary.keyframes.push(KeyframeEntry {
                            ts: rec.ts(),
                            offset: off,
                        });
                    }
                    data_end = next as u64;
                }
                Step::Trailer(f) => {
                    // A trailer inside the data (its footer is damaged or
                    // more bytes follow): skip it, the scan rebuilds the index.
                    data_end = f.end;
                    trailer_seen = true;
                }
                Step::Damaged(d) => {
                    // A valid footer after a scanned trailer is not damage.
                    let is_footer = trailer_seen
                        && d.end as usize == end
                        && d.end - d.start == FOOTER_LEN as u64
                        && b[end - 8..] == FOOTER_MAGIC;
                    if !is_footer {
                        damage.push(d);
                    }
                }
            }
            pos = next;
        }
        // Keep the keyframe index sorted by time even if a hostile file
        // stores keyframes out of order.
        if summary.keyframes.windows(2).any(|w| w[0].ts > w[1].ts) {
            summary.keyframes.sort();
        }
        self.summary = summary;
        self.max_seen = max_seen;
        self.damage.extend(damage);
        self.data_end = data_end;
    }

    /// Picks up records appended since the file was opened (or last
    /// refreshed): follows a recording that is still being written. Returns
    /// true when new records arrived.
    ///
    /// # Errors
    /// [`FormatError::Io`] when the file can't be mapped again.
    pub fn refresh(&mut self) -> Result<bool, FormatError> {
        let Some(path) = self.path.clone() else {
            return Ok(false);
        };
        if self.trailer == TrailerState::Valid {
            return Ok(false);
        }
        let file = File::open(&path).map_err(|e| FormatError::io(&path, e))?;
        let len = file
            .metadata()
            .map_err(|e| FormatError::io(&path, e))?
            .len();
        if len <= self.bytes.len() as u64 {
            return Ok(false);
        }
        self.bytes = Bytes::map(&file).map_err(|e| FormatError::io(&path, e))?;
        let before = self.record_count();
        // Damage at the old end was (probably) a record being written.
        self.damage.retain(|d| d.end < self.data_end);
        match self.read_trailer() {
            Ok(Some((s, off))) => {
                self.summary = s;
                self.data_end = off;
                self.trailer = TrailerState::Valid;
                self.damage.clear();
            }
            _ => self.scan_from(self.data_end),
        }
        Ok(self.record_count() > before)
    }

    /// Gives the reader the recording's cipher (or takes it away):
    /// [`Reader::open_record`] then opens sealed records, and
    /// [`Reader::verify`] authenticates them.
    pub fn set_cipher(&mut self, cipher: Option<SharedCipher>) {
        self.cipher = cipher;
    }

    /// The cipher given with [`Reader::set_cipher`].
    #[must_use]
    pub fn cipher(&self) -> Option<&SharedCipher> {
        self.cipher.as_ref()
    }

    /// True when the header says the recording is encrypted.
    #[must_use]
    pub fn is_encrypted(&self) -> bool {
        self.header.encryption.is_some()
    }

    /// Opens a record read from this file: a [`Record::Sealed`] is decrypted
    /// with the reader's cipher into `buf` (owned plaintext, reused between
    /// calls) and decoded; other records are returned unchanged.
    ///
    /// # Errors
    /// [`FormatError::Encrypted`] for a sealed record when the reader has
    /// no cipher; [`FormatError::Crypto`] for a wrong key or tampered bytes.
    pub fn open_record<'r>(
        &self,
        rec: Record<'r>,
        buf: &'r mut Vec<u8>,
    ) -> Result<Record<'r>, FormatError> {
        unseal(rec, self.cipher.as_ref().map(|c| c.0.as_ref()), buf)
    }

    /// The session header.
    #[must_use]
    pub fn header(&self) -> &SessionHeader {
        &self.header
    }

    /// The path this reader was opened from, if any.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Tells the operating system that the bytes `start..end` of the file
    /// will be read soon (a seek: from a keyframe to the next one), so that
    /// those not in memory are read in one request instead of one page
    /// fault at a time while decoding. Only advice: ranges beyond the file
    /// are clipped, and a recording held in memory ignores it.
    pub fn prefetch(&self, start: u64, end: u64) {
        self.bytes.will_need(start, end);
    }

    /// Where the keyframe group holding `ts` ends: the offset of the first
    /// keyframe after `ts`, or the file's length.
    #[must_use]
    pub fn group_end(&self, ts: Timestamp) -> u64 {
        self.summary
            .keyframes
            .get(self.keyframes_upto(ts))
            .map_or(self.len(), |e| e.offset)
    }

    /// File size in bytes.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// True for an empty file (never: a file with a header is not empty).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Bytes of the file header.
    #[must_use]
    pub fn header_len(&self) -> u64 {
        self.header_len
    }

    /// The state of the trailer.
    #[must_use]
    pub fn trailer(&self) -> &TrailerState {
        &self.trailer
    }

    /// Byte ranges found damaged while opening (empty for a file opened
    /// through a valid trailer; use [`Reader::verify`] to check every record).
    #[must_use]
    pub fn damage(&self) -> &[Damage] {
        &self.damage
    }

    /// The seek index: every keyframe, in time order.
    #[must_use]
    pub fn keyframes(&self) -> &[KeyframeEntry] {
        &self.summary.keyframes
    }

    /// The keyframe at or before `ts` (binary search of the index), or `None`
    /// when `ts` precedes the first keyframe.
    #[must_use]
    pub fn seek_keyframe(&self, ts: Timestamp) -> Option<KeyframeEntry> {
        let i = self.keyframes_upto(ts);
        i.checked_sub(1).map(|i| self.summary.keyframes[i])
    }

    /// How many keyframes are at or before `ts` (the index is in time
    /// order).
    fn keyframes_upto(&self, ts: Timestamp) -> usize {
        self.summary.keyframes.partition_point(|e| e.ts <= ts)
    }

    /// Statistics of one track.
    #[must_use]
    pub fn track_stats(&self, track: Track) -> TrackStats {
        self.summary.tracks[track.index()]
    }

    /// Total records (all tracks).
    #[must_use]
    pub fn record_count(&self) -> u64 {
        self.summary.tracks.iter().map(|t| t.records).sum()
    }

    /// Time of the first record.
    #[must_use]
    pub fn start(&self) -> Option<Timestamp> {
        self.summary.first_ts()
    }

    /// Time of the last record: the recording's duration from session start.
    #[must_use]
    pub fn duration(&self) -> Timestamp {
        self.summary.last_ts().unwrap_or(Timestamp::ZERO)
    }

    /// The largest amount by which a record's time lags the latest earlier
    /// record in file order; bounds the reordering [`Reader::merged`] does.
    #[must_use]
    pub fn max_lateness(&self) -> std::time::Duration {
        std::time::Duration::from_micros(self.summary.lateness)
    }

    /// Every readable record in file order (skipping damaged bytes).
    #[must_use]
    pub fn records(&self) -> Records<'_> {
        self.records_from(self.header_len)
    }

    /// Readable records in file order from byte `offset` (a record start,
    /// such as a [`KeyframeEntry::offset`]).
    #[must_use]
    pub fn records_from(&self, offset: u64) -> Records<'_> {
        Records {
            buf: &self.bytes,
            pos: offset.max(self.header_len) as usize,
            end: self.data_end as usize,
            max_payload: self.max_payload,
            budget: 16 * self.bytes.len() as u64 + (1 << 20),
            skipped_damage: false,
        }
    }

    /// Every readable record of all tracks, merged in time order (ties in
    /// file order).
    #[must_use]
    pub fn merged(&self) -> Merged<'_> {
        Merged::new(self.records(), self.summary.lateness)
    }

    /// Checks every record and the trailer; with a cipher
    /// ([`Reader::set_cipher`]) every sealed record is also authenticated,
    /// and one that does not open is reported as damage.
    #[must_use]
    pub fn verify(&self) -> VerifyReport {
        let mut plain = Vec::new();
        let b: &[u8] = &self.bytes;
        let end = b.len();
        let mut budget = 16 * end as u64 + (1 << 20);
        let mut pos = self.header_len as usize;
        let mut report = VerifyReport {
            records: 0,
            damage: Vec::new(),
            trailer: self.trailer.clone(),
        };
        let mut scanned = Summary::default();
        let mut max_seen = Timestamp::ZERO;
        let mut trailer_at = None;
        loop {
            let (s, next) = step(b, pos, end, self.max_payload, &mut budget);
            match s {
                Step::End => break,
                Step::Rec(off, rec) => {
                    report.records += 1;
                    scanned.note(rec.track(), rec.ts(), next as u64 - off, &mut max_seen);
                    if let (Some(c), true) = (&self.cipher, rec.is_sealed()) {
                        if let Err(e) = unseal(rec.clone(), Some(c.0.as_ref()), &mut plain) {
                            report.damage.push(Damage {
                                start: off,
                                end: next as u64,
                                reason: e.to_string(),
                            });
                        }
                    }
                    if rec.is_keyframe() {
                        scanned.keyframes.push(KeyframeEntry {
                            ts: rec.ts(),
                            offset: off,
                        });
                    }
                }
                Step::Trailer(f) => {
                    trailer_at = Some(pos as u64);
                    if self.trailer == TrailerState::Valid
                        && f.end + FOOTER_LEN as u64 == end as u64
                    {
                        break;
                    }
                }
                Step::Damaged(d) => report.damage.push(d),
            }
            pos = next;
        }
        if self.trailer == TrailerState::Valid {
            if trailer_at != Some(self.data_end) {
                report.trailer =
                    TrailerState::Invalid("the trailer is not where the footer says".into());
            } else if scanned.tracks != self.summary.tracks
                || scanned.keyframes != self.summary.keyframes
                || scanned.lateness != self.summary.lateness
            {
                report.trailer = TrailerState::Invalid(
                    "the trailer's index or statistics disagree with the records".into(),
                );
            }
        }
        report
    }
}

/// The result of [`Reader::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Readable records.
    pub records: u64,
    /// Damaged byte ranges.
    pub damage: Vec<Damage>,
    /// The trailer's state.
    pub trailer: TrailerState,
}

impl VerifyReport {
    /// True when every byte belongs to a valid record and the trailer is valid.
    #[must_use]
    pub fn is_intact(&self) -> bool {
        self.damage.is_empty() && self.trailer == TrailerState::Valid
    }
}

/// Records in file order; see [`Reader::records`].
#[derive(Debug, Clone)]
pub struct Records<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
    max_payload: u64,
    budget: u64,
    /// Damaged bytes were passed over.
    skipped_damage: bool,
}

impl<'a> Records<'a> {
    /// True once this iterator has passed over damaged bytes (a record
    /// that failed its checks, found while reading, even in a file whose
    /// trailer listed no damage): records may be missing before the next
    /// one returned.
    #[must_use]
    pub fn skipped_damage(&self) -> bool {
        self.skipped_damage
    }

    /// Byte offset where the next call starts reading (just past the last
    /// record returned): resume later with [`Reader::records_from`].
    #[must_use]
    pub fn position(&self) -> u64 {
        self.pos as u64
    }

    /// The next record and its byte offset.
    pub fn next_with_offset(&mut self) -> Option<(u64, Record<'a>)> {
        loop {
            let (s, next) = step(
                self.buf,
                self.pos,
                self.end,
                self.max_payload,
                &mut self.budget,
            );
            self.pos = next;
            match s {
                Step::End => return None,
                Step::Rec(off, rec) => return Some((off, rec)),
                Step::Damaged(_) => self.skipped_damage = true,
                Step::Trailer(_) => {}
            }
        }
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;
    fn next(&mut self) -> Option<Record<'a>> {
        self.next_with_offset().map(|(_, r)| r)
    }
}

struct Pending<'a> {
    seq: u64,
    rec: Record<'a>,
}

impl PartialEq for Pending<'_> {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Pending<'_> {}
impl PartialOrd for Pending<'_> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Pending<'_> {
    // Reversed: BinaryHeap is a max-heap and we want the earliest first.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.rec.ts(), o.seq).cmp(&(self.rec.ts(), self.seq))
    }
}

/// Records of all tracks in time order; see [`Reader::merged`].
///
/// Records are appended in arrival order and each track's times never go
/// backwards, so a record can lag earlier records of other tracks by at most
/// the file's maximum lateness; the merge holds back only the records within
/// that window.
pub struct Merged<'a> {
    inner: Records<'a>,
    heap: BinaryHeap<Pending<'a>>,
    lateness: u64,
    max_seen: u64,
    seq: u64,
    done: bool,
}

impl std::fmt::Debug for Merged<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Merged")
            .field("pending", &self.heap.len())
            .finish()
    }
}

impl<'a> Merged<'a> {
    fn new(inner: Records<'a>, lateness: u64) -> Self {
        Merged {
            inner,
            heap: BinaryHeap::new(),
            lateness,
            max_seen: 0,
            seq: 0,
            done: false,
        }
    }
}

impl<'a> Iterator for Merged<'a> {
    type Item = Record<'a>;
    fn next(&mut self) -> Option<Record<'a>> {
        loop {
            if let Some(top) = self.heap.peek() {
                let safe = self.done
                    || top.rec.ts().as_micros().saturating_add(self.lateness) <= self.max_seen;
                if safe {
                    return self.heap.pop().map(|p| p.rec);
                }
            }
            if self.done {
                return None;
            }
            match self.inner.next() {
                Some(rec) => {
                    self.max_seen = self.max_seen.max(rec.ts().as_micros());
                    self.heap.push(Pending { seq: self.seq, rec });
                    self.seq += 1;
                }
                None => self.done = true,
            }
        }
    }
}
