//! The streaming writer (FORMAT.md §7: writing rules, size cap, continuation).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use g2a_core::{Size, Timestamp};

use crate::cipher::{is_sealable, seal_payload, SharedCipher};
use crate::record::{encode_framed, kind, Record, Track, FLAG_SEALED};
use crate::trailer::{
    KeyframeEntry, Summary, FOOTER_MAGIC, TRAILER_ENTRY_BOUND, TRAILER_FIXED_BOUND,
};
use crate::{FormatError, SessionHeader};

/// The default size cap: 200 MB.
pub const DEFAULT_SIZE_CAP: u64 = 200_000_000;
/// The smallest size cap accepted.
pub const MIN_SIZE_CAP: u64 = 64 * 1024;

/// What the writer does when the next record would exceed the size cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CapPolicy {
    /// Finish the file and continue the session in a numbered continuation file.
    #[default]
    Continue,
    /// Finish the file and stop recording.
    Stop,
}

/// When the writer forces written data to stable storage (`fsync`).
///
/// Every record is handed to the operating system as soon as it is written,
/// so a killed process loses nothing; these points protect against power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SyncPolicy {
    /// Only when the file is finished.
    Never,
    /// After every keyframe (the default).
    #[default]
    EveryKeyframe,
    /// Whenever this many bytes were written since the last sync.
    EveryBytes(u64),
    /// After every record (slow; for tests of durability).
    EveryRecord,
}

/// Options of a [`Writer`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriterOptions {
    /// Largest file size, trailer included; `None` for no cap.
    pub size_cap: Option<u64>,
    /// What happens at the cap.
    pub cap_policy: CapPolicy,
    /// Durability points.
    pub sync: SyncPolicy,
    /// Seals the payload of every content record (FORMAT.md §4.2); the
    /// header must then carry an [`EncryptionInfo`](crate::EncryptionInfo).
    pub cipher: Option<SharedCipher>,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            size_cap: Some(DEFAULT_SIZE_CAP),
            cap_policy: CapPolicy::Continue,
            sync: SyncPolicy::EveryKeyframe,
            cipher: None,
        }
    }
}

impl WriterOptions {
    /// Sets the size cap (`None`: unlimited).
    #[must_use]
    pub fn size_cap(mut self, cap: Option<u64>) -> Self {
        self.size_cap = cap;
        self
    }

    /// Sets the cap policy.
    #[must_use]
    pub fn cap_policy(mut self, p: CapPolicy) -> Self {
        self.cap_policy = p;
        self
    }

    /// Sets the sync policy.
    #[must_use]
    pub fn sync(mut self, s: SyncPolicy) -> Self {
        self.sync = s;
        self
    }

    /// Encrypts the recording: every content record's payload is sealed
    /// with `cipher` (FORMAT.md §4.2).
    #[must_use]
    pub fn cipher(mut self, cipher: SharedCipher) -> Self {
        self.cipher = Some(cipher);
        self
    }
}

/// The outcome of a write that did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Written {
    /// The record was written.
    Ok,
    /// Nothing was written: the file needs a keyframe before any delta frame
    /// (at the start of every file and continuation file). Encode the frame
    /// as a keyframe and write that.
    NeedKeyframe,
    /// Nothing was written: the size cap was reached under [`CapPolicy::Stop`];
    /// the file is finished.
    Stopped,
}

/// What [`Writer::finish`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishSummary {
    /// Every file of the session, in order.
    pub paths: Vec<PathBuf>,
    /// Total bytes of all files.
    pub bytes: u64,
    /// Total records written (framing records excluded).
    pub records: u64,
}

/// The path of continuation file `index` of a session whose first file is `first`:
/// `rec.g2a` → `rec.001.g2a`, `rec.002.g2a`, … (FORMAT.md §7.3).
#[must_use]
pub fn continuation_path(first: &Path, index: u32) -> PathBuf {
    let name = first
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let new = match name.strip_suffix(".g2a") {
        Some(stem) => format!("{stem}.{index:03}.g2a"),
        None => format!("{name}.{index:03}"),
    };
    first.with_file_name(new)
}

/// Writes a session to a `.g2a` file (and its continuation files).
///
/// Records are appended with one `write` call each, so a killed process
/// leaves every record it wrote readable; [`Writer::finish`] appends the seek
/// index and trailer. Dropping a writer without `finish` leaves a file that
/// opens (by scanning) and that `g2a recover` makes whole.
///
/// # Examples
/// ```
/// use g2a_core::{Size, Timestamp};
/// use g2a_format::{CodecId, Reader, Record, SenderRole, SessionHeader, Writer, WriterOptions, Written};
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("s.g2a");
/// let mut w = Writer::create(&path, SessionHeader::new("S-1", Size::new(640, 480)), WriterOptions::default()).unwrap();
/// let key = Record::Video { ts: Timestamp::ZERO, codec: CodecId(*b"TEST"), keyframe: true, data: b"pixels" };
/// assert_eq!(w.write(&key).unwrap(), Written::Ok);
/// w.write(&Record::Chat { ts: Timestamp::from_secs(1), role: SenderRole::Customer, sender: "Bob", text: "hi" }).unwrap();
/// w.finish().unwrap();
///
/// let r = Reader::open(&path).unwrap();
/// assert_eq!(r.keyframes().len(), 1);
/// assert_eq!(r.records().count(), 2);
/// ```
#[derive(Debug)]
pub struct Writer {
    file: Option<File>,
    first_path: PathBuf,
    path: PathBuf,
    paths: Vec<PathBuf>,
    file_index: u32,
    header: SessionHeader,
    opts: WriterOptions,
    pos: u64,
    header_len: u64,
    summary: Summary,
    max_seen: Timestamp,
    last_ts: [Option<Timestamp>; 6],
    needs_keyframe: bool,
    screen_size: Size,
    last_cursor_ts: Timestamp,
    shapes: BTreeMap<u32, (u32, u32, Size, Vec<u8>)>,
    records: u64,
    total_bytes: u64,
    unsynced: u64,
    stopped: bool,
    failed: bool,
    buf: Vec<u8>,
    payload: Vec<u8>,
    sealed: Vec<u8>,
}

/// The longest payload a writer writes: the default reader's limit
/// (`Limits::max_record_bytes`, FORMAT.md §4).
const MAX_PAYLOAD: u64 = g2a_core::Limits::DEFAULT.max_record_bytes;

/// Frames `rec` into `out`, sealing its payload when `cipher` is given and
/// its kind is sealed (FORMAT.md §4.2). `payload` and `sealed` are scratch.
/// A payload (as stored) longer than `max_payload` is refused: readers
/// treat it as damage (FORMAT.md §4).
fn frame_record(
    rec: &Record<'_>,
    cipher: Option<&SharedCipher>,
    max_payload: u64,
    payload: &mut Vec<u8>,
    sealed: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Result<(), FormatError> {
    payload.clear();
    rec.encode_payload(payload);
    out.clear();
    let code = rec.kind_code();
    let (flags, stored) = match cipher {
        Some(c) if !rec.is_sealed() && is_sealable(code) => {
            let flags = rec.flags() | FLAG_SEALED;
            seal_payload(c.0.as_ref(), code, flags, rec.ts(), payload, sealed)?;
            (flags, &*sealed)
        }
        _ => (rec.flags(), &*payload),
    };
    if stored.len() as u64 > max_payload {
        return Err(FormatError::InvalidArgument {
            what: "record",
            detail: format!(
                "a payload of {} bytes: at most {max_payload} may be written (FORMAT.md §4)",
                stored.len()
            ),
        });
    }
    encode_framed(out, code, flags, rec.ts(), stored);
    Ok(())
}

impl Writer {
    /// Creates `path` (replacing it) and writes the header.
    ///
    /// # Errors
    /// [`FormatError::InvalidArgument`] for a cap below [`MIN_SIZE_CAP`] or an
    /// empty screen size; [`FormatError::Io`] when the file can't be created.
    pub fn create(
        path: impl AsRef<Path>,
        header: SessionHeader,
        opts: WriterOptions,
    ) -> Result<Writer, FormatError> {
        if let Some(cap) = opts.size_cap {
            if cap < MIN_SIZE_CAP {
                return Err(FormatError::InvalidArgument {
                    what: "size cap",
                    detail: format!("{cap} bytes is below the minimum of {MIN_SIZE_CAP}"),
                });
            }
        }
        if header.screen_size.is_empty() {
            return Err(FormatError::InvalidArgument {
                what: "header",
                detail: format!("screen size {} has a zero side", header.screen_size),
            });
        }
        if opts.cipher.is_some() && header.encryption.is_none() {
            return Err(FormatError::InvalidArgument {
                what: "header",
                detail: "an encrypting writer needs the header's encryption info (how readers \
                         recover the key), found none"
                    .into(),
            });
        }
        let path = path.as_ref().to_path_buf();
        let mut w = Writer {
            file: None,
            first_path: path.clone(),
            path: path.clone(),
            paths: Vec::new(),
            file_index: 0,
            screen_size: header.screen_size,
            header,
            opts,
            pos: 0,
            header_len: 0,
            summary: Summary::default(),
            max_seen: Timestamp::ZERO,
            last_ts: [None; 6],
            needs_keyframe: true,
            last_cursor_ts: Timestamp::ZERO,
            shapes: BTreeMap::new(),
            records: 0,
            total_bytes: 0,
            unsynced: 0,
            stopped: false,
            failed: false,
            buf: Vec::new(),
            payload: Vec::new(),
            sealed: Vec::new(),
        };
        w.open_file(path)?;
        Ok(w)
    }

    fn open_file(&mut self, path: PathBuf) -> Result<(), FormatError> {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| FormatError::io(&path, e))?;
        let mut header = self.header.clone();
        header.screen_size = self.screen_size;
        let bytes = header.encode();
        file.write_all(&bytes)
            .map_err(|e| FormatError::io(&path, e))?;
        self.header_len = bytes.len() as u64;
        self.pos = bytes.len() as u64;
        self.total_bytes += bytes.len() as u64;
        self.file = Some(file);
        self.paths.push(path.clone());
        self.path = path;
        self.summary = Summary::default();
        self.max_seen = Timestamp::ZERO;
        self.needs_keyframe = true;
        Ok(())
    }

    /// The session header (as written to the first file).
    #[must_use]
    pub fn header(&self) -> &SessionHeader {
        &self.header
    }

    /// The file currently being written.
    #[must_use]
    pub fn current_path(&self) -> &Path {
        &self.path
    }

    /// True when the next video record must be a keyframe: before the first
    /// video record of every file, including each continuation file.
    #[must_use]
    pub fn needs_keyframe(&self) -> bool {
        self.needs_keyframe
    }

    /// True once the cap stopped the recording ([`CapPolicy::Stop`]).
    #[must_use]
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Bytes of the current file so far.
    #[must_use]
    pub fn file_len(&self) -> u64 {
        self.pos
    }

    fn trailer_bound(&self, extra_keyframes: u64) -> u64 {
        TRAILER_FIXED_BOUND
            + TRAILER_ENTRY_BOUND * (self.summary.keyframes.len() as u64 + extra_keyframes)
    }

    fn fits(&self, len: u64, keyframe: bool) -> bool {
        match self.opts.size_cap {
            None => true,
            Some(cap) => self.pos + len + self.trailer_bound(u64::from(keyframe)) <= cap,
        }
    }

    /// Writes one record.
    ///
    /// Returns [`Written::NeedKeyframe`] (writing nothing) for a delta video
    /// record while [`Writer::needs_keyframe`] is true, and
    /// [`Written::Stopped`] once the cap stopped the recording.
    ///
    /// # Errors
    /// [`FormatError::TimeWentBackwards`] when `rec`'s time is earlier than the
    /// last record of its track; [`FormatError::InvalidArgument`] for an
    /// invalid record; [`FormatError::RecordTooLarge`] for a record that can't
    /// fit under the cap even in an empty file; [`FormatError::Io`]. After an
    /// argument error the file stays as it was; after an I/O error the writer
    /// refuses further writes and the file keeps every record written before.
    pub fn write(&mut self, rec: &Record<'_>) -> Result<Written, FormatError> {
        if self.failed {
            return Err(FormatError::WriterClosed {
                reason: "an earlier write failed",
            });
        }
        if self.stopped {
            return Ok(Written::Stopped);
        }
        rec.validate()?;
        let track = rec.track();
        if let Some(prev) = self.last_ts[track.index()] {
            if rec.ts() < prev {
                return Err(FormatError::TimeWentBackwards {
                    track,
                    previous: prev,
                    found: rec.ts(),
                });
            }
        }
        if rec.is_video_frame() && self.needs_keyframe && !rec.is_keyframe() {
            return Ok(Written::NeedKeyframe);
        }
        let mut buf = std::mem::take(&mut self.buf);
        if let Err(e) = frame_record(
            rec,
            self.opts.cipher.as_ref(),
            MAX_PAYLOAD,
            &mut self.payload,
            &mut self.sealed,
            &mut buf,
        ) {
            self.buf = buf;
            return Err(e);
        }
        let result = self.place(rec, &buf);
        self.buf = buf;
        result
    }

    fn place(&mut self, rec: &Record<'_>, buf: &[u8]) -> Result<Written, FormatError> {
        let key = rec.is_keyframe();
        if !self.fits(buf.len() as u64, key) {
            let cap = self.opts.size_cap.unwrap_or(u64::MAX);
            // Could it fit in a fresh continuation file at all?
            let fresh = self.header_len
                + 4096
                + buf.len() as u64
                + TRAILER_FIXED_BOUND
                + TRAILER_ENTRY_BOUND;
            if fresh > cap {
                return Err(FormatError::RecordTooLarge {
                    size: buf.len() as u64,
                    cap,
                });
            }
            match self.opts.cap_policy {
                CapPolicy::Stop => {
                    self.finish_file()?;
                    self.stopped = true;
                    return Ok(Written::Stopped);
                }
                CapPolicy::Continue => {
                    self.roll_over(buf.len() as u64, key)?;
                    if rec.is_video_frame() && !key {
                        return Ok(Written::NeedKeyframe);
                    }
                    if !self.fits(buf.len() as u64, key) {
                        return Err(FormatError::RecordTooLarge {
                            size: buf.len() as u64,
                            cap,
                        });
                    }
                }
            }
        }
        self.append(rec, buf)?;
        Ok(Written::Ok)
    }

    fn append(&mut self, rec: &Record<'_>, buf: &[u8]) -> Result<(), FormatError> {
        let offset = self.pos;
        self.raw_write(buf)?;
        let track = rec.track();
        let ts = rec.ts();
        self.last_ts[track.index()] = Some(ts);
        self.summary
            .note(track, ts, buf.len() as u64, &mut self.max_seen);
        self.records += 1;
        if rec.is_keyframe() {
            self.summary.keyframes.push(KeyframeEntry { ts, offset });
            self.needs_keyframe = false;
            if matches!(self.opts.sync, SyncPolicy::EveryKeyframe) {
                self.sync()?;
            }
        }
        match *rec {
            Record::ScreenSize { size, .. } => self.screen_size = size,
            Record::CursorShape {
                id,
                hotspot_x,
                hotspot_y,
                size,
                pixels,
                ..
            } => {
                self.shapes
                    .insert(id, (hotspot_x, hotspot_y, size, pixels.to_vec()));
            }
            _ => {}
        }
        if track == Track::Cursor {
            self.last_cursor_ts = ts;
        }
        match self.opts.sync {
            SyncPolicy::EveryRecord => self.sync()?,
            SyncPolicy::EveryBytes(n) if self.unsynced >= n => self.sync()?,
            _ => {}
        }
        Ok(())
    }

    fn raw_write(&mut self, bytes: &[u8]) -> Result<(), FormatError> {
        let Some(file) = self.file.as_mut() else {
            return Err(FormatError::WriterClosed {
                reason: "the file is finished",
            });
        };
        if let Err(e) = file.write_all(bytes) {
            self.failed = true;
            return Err(FormatError::io(&self.path, e));
        }
        self.pos += bytes.len() as u64;
        self.total_bytes += bytes.len() as u64;
        self.unsynced += bytes.len() as u64;
        Ok(())
    }

    /// Forces everything written so far to stable storage.
    ///
    /// # Errors
    /// [`FormatError::Io`].
    pub fn sync(&mut self) -> Result<(), FormatError> {
        if let Some(f) = &self.file {
            f.sync_data().map_err(|e| FormatError::io(&self.path, e))?;
        }
        self.unsynced = 0;
        Ok(())
    }

    /// Writes the trailer of the current file and closes it.
    fn finish_file(&mut self) -> Result<(), FormatError> {
        if self.file.is_none() {
            return Ok(());
        }
        let payload = self.summary.encode();
        let mut buf = Vec::new();
        encode_framed(
            &mut buf,
            kind::TRAILER,
            0,
            self.summary.last_ts().unwrap_or(Timestamp::ZERO),
            &payload,
        );
        let offset = self.pos;
        buf.extend_from_slice(&offset.to_le_bytes());
        buf.extend_from_slice(&FOOTER_MAGIC);
        debug_assert!(buf.len() as u64 <= self.trailer_bound(0));
        self.raw_write(&buf)?;
        self.sync()?;
        self.file = None;
        Ok(())
    }

    /// Finishes the current file and opens the next continuation file,
    /// leaving room in it for a pending record of `pending` bytes.
    fn roll_over(&mut self, pending: u64, pending_key: bool) -> Result<(), FormatError> {
        self.finish_file()?;
        let predecessor = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.file_index += 1;
        self.header.continuation = Some(crate::Continuation {
            index: self.file_index,
            predecessor,
        });
        let next = continuation_path(&self.first_path, self.file_index);
        self.open_file(next)?;
        // Each file stands alone: repeat the cursor shapes it may reference,
        // as many as fit beside the pending record (a position naming a
        // shape that didn't fit shows the default cursor).
        let shapes = std::mem::take(&mut self.shapes);
        let ts = self.last_cursor_ts;
        for (&id, (hx, hy, size, pixels)) in &shapes {
            let rec = Record::CursorShape {
                ts,
                id,
                hotspot_x: *hx,
                hotspot_y: *hy,
                size: *size,
                pixels,
            };
            let mut buf = Vec::new();
            frame_record(
                &rec,
                self.opts.cipher.as_ref(),
                MAX_PAYLOAD,
                &mut self.payload,
                &mut self.sealed,
                &mut buf,
            )?;
            // `fits` reserves one keyframe entry when asked; ask for the
            // pending record's so the shapes never crowd it out.
            if self.fits(buf.len() as u64 + pending, pending_key) {
                self.append(&rec, &buf)?;
            }
        }
        self.shapes = shapes;
        Ok(())
    }

    /// Writes the seek index and trailer, syncs, and closes the file.
    ///
    /// # Errors
    /// [`FormatError::Io`]; the records written stay readable either way.
    pub fn finish(mut self) -> Result<FinishSummary, FormatError> {
        if !self.failed {
            self.finish_file()?;
        }
        Ok(FinishSummary {
            paths: std::mem::take(&mut self.paths),
            bytes: self.total_bytes,
            records: self.records,
        })
    }
}

impl Drop for Writer {
    /// Best effort only: syncs what was written, without a trailer. The file
    /// opens by scanning and `g2a recover` rewrites it with its index.
    fn drop(&mut self) {
        if let Some(f) = &self.file {
            let _ = f.sync_data();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writer_writes_no_payload_a_reader_would_refuse() {
        let rec = Record::Chat {
            ts: Timestamp::ZERO,
            role: crate::SenderRole::System,
            sender: "",
            text: "0123456789",
        };
        let (mut p, mut s, mut out) = (Vec::new(), Vec::new(), Vec::new());
        frame_record(&rec, None, 13, &mut p, &mut s, &mut out).unwrap();
        let e = frame_record(&rec, None, 12, &mut p, &mut s, &mut out).unwrap_err();
        assert!(e.to_string().contains("payload of 13 bytes"), "{e}");
    }
}
