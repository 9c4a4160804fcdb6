//! The [`Player`]: a recording opened for replay, seeking and export.

use std::borrow::Cow;
use std::path::Path;

use g2a_codec::{CodecError, Decoder, CODEC_ID};
use g2a_core::{Limits, Size, Timestamp};
use g2a_format::{unseal, CodecId, Record, SessionHeader, SessionSet, SharedCipher};

use crate::{CursorTrack, Error};

/// A decoded frame: packed BGRA (alpha 255), `size.width * 4` bytes a row.
#[derive(Debug, Clone, Copy)]
pub struct VideoFrame<'a> {
    /// The time the frame was recorded.
    pub ts: Timestamp,
    /// Its size.
    pub size: Size,
    /// Its pixels.
    pub data: &'a [u8],
    /// False when the frame repeats the previous one unchanged (exporters
    /// can skip such frames without looking at their pixels).
    pub changed: bool,
    /// True when the frame was stored as a keyframe.
    pub keyframe: bool,
}

/// Frame counts and bytes of a recording's video track, by frame kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CodecStats {
    /// Keyframes.
    pub key_frames: u64,
    /// Bytes of keyframe payloads.
    pub key_bytes: u64,
    /// Delta frames.
    pub delta_frames: u64,
    /// Bytes of delta payloads.
    pub delta_bytes: u64,
    /// Frames that repeat the previous one.
    pub unchanged_frames: u64,
    /// Bytes of those.
    pub unchanged_bytes: u64,
    /// Video records of another codec.
    pub foreign_frames: u64,
    /// Encrypted video records that could not be opened (no cipher, or
    /// one that does not open them): their kind is unknown.
    pub sealed_frames: u64,
}

impl CodecStats {
    /// All frames.
    #[must_use]
    pub fn frames(&self) -> u64 {
        self.key_frames
            + self.delta_frames
            + self.unchanged_frames
            + self.foreign_frames
            + self.sealed_frames
    }
}

/// Where a video record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Pos {
    file: usize,
    /// Offset of the record.
    offset: u64,
    /// Offset just past it.
    end: u64,
}

impl Pos {
    /// Just before the record at `offset` of `file` (a keyframe to start
    /// from: scanning resumes at its offset).
    fn before(file: usize, offset: u64) -> Pos {
        Pos {
            file,
            offset,
            end: offset,
        }
    }
}

/// The decoder's state: the last frame decoded.
#[derive(Debug, Clone, Copy)]
struct Current {
    pos: Pos,
    ts: Timestamp,
    changed: bool,
    keyframe: bool,
}

/// A video record found by a scan.
struct Found<'a> {
    pos: Pos,
    ts: Timestamp,
    codec: CodecId,
    keyframe: bool,
    data: &'a [u8],
    /// The record as read: a sealed one is opened before decoding.
    rec: Record<'a>,
    /// Records were lost between the previous position and this one.
    gap: bool,
}

impl<'a> Found<'a> {
    /// The codec packet: the payload, opened into `plain` when sealed; an
    /// error for another codec than this crate's.
    fn packet<'r>(
        &'r self,
        cipher: Option<&SharedCipher>,
        plain: &'r mut Vec<u8>,
    ) -> Result<&'r [u8], Error> {
        let (codec, data) = if self.rec.is_sealed() {
            match unseal(self.rec.clone(), cipher.map(|c| c.0.as_ref()), plain)? {
                Record::Video { codec, data, .. } => (codec, data),
                _ => return Err(Error::NoVideo),
            }
        } else {
            (self.codec, self.data)
        };
        if codec.0 != CODEC_ID {
            return Err(Error::UnsupportedCodec {
                ts: self.ts,
                found: codec,
                expected: CodecId(CODEC_ID),
            });
        }
        Ok(data)
    }

    /// Whether the frame can be decoded: a keyframe always; a delta when no
    /// records were lost before it and `has_frame` (its reference is there).
    fn usable(&self, has_frame: bool) -> bool {
        self.keyframe || (!self.gap && has_frame)
    }

    /// Whether the record's keyframe flag agrees with its `packet` (CODEC.md
    /// §2): a record where they disagree is damaged, and decoding waits for
    /// the next keyframe, as after a lost record.
    fn flag_matches(&self, packet: &[u8]) -> bool {
        self.keyframe == Decoder::is_keyframe(packet)
    }
}

/// A recording opened for replay.
///
/// The frame on screen at any time comes from the seek index: the player
/// decodes from the keyframe at or before that time, or keeps decoding
/// forward from where it is when that is shorter. Memory is one decoder
/// (two frames) whatever the recording's length.
///
/// A recording that is still being written can be followed with
/// [`Player::refresh`]. Records lost to damage are skipped: frames after a
/// lost record are not shown until the next keyframe (the previous frame
/// stays on screen).
pub struct Player {
    set: SessionSet,
    decoder: Decoder,
    cur: Option<Current>,
    cipher: Option<SharedCipher>,
    /// Reused buffer for the plaintext of a sealed video record.
    plain: Vec<u8>,
    /// Records were lost since the frame on screen: deltas wait for the
    /// next keyframe (the frame stays on screen meanwhile).
    broken: bool,
}

impl std::fmt::Debug for Player {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Player")
            .field("files", &self.set.files().len())
            .field("at", &self.cur.map(|c| c.ts))
            .finish_non_exhaustive()
    }
}

impl Player {
    /// Opens a recording and its continuation files.
    ///
    /// # Errors
    /// [`Error::Format`] when a file can't be opened or is not a recording.
    pub fn open(path: impl AsRef<Path>) -> Result<Player, Error> {
        Ok(Player::from_set(SessionSet::open(path)?))
    }

    /// Opens an encrypted recording with its cipher (sealed records are
    /// decrypted into a reused buffer before decoding).
    ///
    /// # Errors
    /// As [`Player::open`].
    pub fn open_with_cipher(path: impl AsRef<Path>, cipher: SharedCipher) -> Result<Player, Error> {
        let mut p = Player::open(path)?;
        p.cipher = Some(cipher);
        Ok(p)
    }

    /// Sets the cipher that opens sealed records (`None`: none).
    pub fn set_cipher(&mut self, cipher: Option<SharedCipher>) {
        self.cipher = cipher;
    }

    /// The cipher given to the player, for opening sealed records of
    /// [`Player::records`] with [`g2a_format::unseal`].
    #[must_use]
    pub fn cipher(&self) -> Option<&SharedCipher> {
        self.cipher.as_ref()
    }

    /// Plays an already opened set of files.
    #[must_use]
    pub fn from_set(set: SessionSet) -> Player {
        Player::with_limits(set, Limits::default())
    }

    /// Plays `set`, refusing frames outside `limits`.
    #[must_use]
    pub fn with_limits(set: SessionSet, limits: Limits) -> Player {
        Player {
            set,
            decoder: Decoder::new(limits),
            cur: None,
            cipher: None,
            plain: Vec::new(),
            broken: false,
        }
    }

    /// The session header (of the first file).
    #[must_use]
    pub fn header(&self) -> &SessionHeader {
        self.set.header()
    }

    /// The files, in order.
    #[must_use]
    pub fn set(&self) -> &SessionSet {
        &self.set
    }

    /// Time of the last record of any track.
    #[must_use]
    pub fn duration(&self) -> Timestamp {
        self.set.duration()
    }

    /// Every record of every track, in time order, as stored: the records
    /// of an encrypted recording come as [`Record::Sealed`] (use
    /// [`Player::for_each_record`] to have them opened).
    pub fn records(&self) -> impl Iterator<Item = Record<'_>> {
        self.set.merged()
    }

    /// Calls `f` with every record of every track in time order, sealed
    /// records opened with the player's cipher.
    ///
    /// # Errors
    /// [`g2a_format::FormatError::Encrypted`] (in [`Error::Format`]) at the
    /// first sealed record when the player has no cipher;
    /// [`g2a_format::FormatError::Crypto`] when one does not open (wrong
    /// key or tampered bytes).
    ///
    /// # Examples
    /// ```no_run
    /// # fn main() -> Result<(), g2a::Error> {
    /// let player = g2a::Player::open("session.g2a")?;
    /// let mut chat = 0;
    /// player.for_each_record(|rec| {
    ///     if let g2a_format::Record::Chat { .. } = rec {
    ///         chat += 1;
    ///     }
    /// })?;
    /// # Ok(()) }
    /// ```
    pub fn for_each_record(&self, mut f: impl FnMut(Record<'_>)) -> Result<(), Error> {
        let cipher = self.cipher.as_ref().map(|c| c.0.as_ref());
        let mut buf = Vec::new();
        for rec in self.set.merged() {
            f(unseal(rec, cipher, &mut buf)?);
        }
        Ok(())
    }

    /// The recording's cursor track, shapes of an encrypted recording
    /// opened with the player's cipher.
    ///
    /// # Errors
    /// As [`Player::for_each_record`].
    pub fn cursor_track(&self) -> Result<CursorTrack, Error> {
        CursorTrack::load_with(&self.set, self.cipher.as_ref())
    }

    /// True when the recording is encrypted (its header carries
    /// encryption info): frames, chat, diagnostics, events and cursor
    /// shapes then need the recording's cipher ([`Player::set_cipher`]).
    #[must_use]
    pub fn is_encrypted(&self) -> bool {
        self.set.header().encryption.is_some()
    }

    /// Time of the frame last returned, if any.
    #[must_use]
    pub fn position(&self) -> Option<Timestamp> {
        self.cur.map(|c| c.ts)
    }

    /// Reads what a recording still being written has added since it was
    /// opened (or last refreshed), including new continuation files.
    /// Returns true when anything new arrived.
    ///
    /// # Errors
    /// [`Error::Format`] for I/O errors.
    pub fn refresh(&mut self) -> Result<bool, Error> {
        Ok(self.set.refresh()?)
    }

    /// Maps the recording's files afresh and lets the old mappings go,
    /// keeping the decoded frame and the position.
    ///
    /// Every page of the recording that the player has read stays resident
    /// (as mapped file pages) for as long as the mapping lives; a viewer
    /// that seeks all over a long recording calls this now and then to bound
    /// its memory. It costs an open of the files and no decoding: the next
    /// frame or seek resumes from where the player is. When the record the
    /// current frame came from is no longer the same in the files on disk
    /// (they were replaced), the position is dropped and the next request
    /// decodes from a keyframe. A player on a set built in memory (no path)
    /// is left as it is.
    ///
    /// # Errors
    /// [`Error::Format`] when the files can no longer be opened; the player
    /// is then unchanged.
    pub fn remap(&mut self) -> Result<(), Error> {
        let Some(first) = self.set.files().first().and_then(|r| r.path()) else {
            return Ok(());
        };
        let set = SessionSet::open(first)?;
        if let Some(c) = self.cur {
            let same = match (
                Player::video_record_at(&self.set, c.pos),
                Player::video_record_at(&set, c.pos),
            ) {
                (Some(old), Some(new)) => old == new,
                _ => false,
            };
            if !same {
                self.forget_frame();
            }
        }
        self.set = set;
        Ok(())
    }

    /// The time and payload of the video record at `pos`, if there is one.
    fn video_record_at(set: &SessionSet, pos: Pos) -> Option<(Timestamp, &[u8])> {
        let mut recs = set.files().get(pos.file)?.records_from(pos.offset);
        let (offset, rec) = recs.next_with_offset()?;
        if offset != pos.offset || recs.position() != pos.end {
            return None;
        }
        video_parts(&rec).map(|(ts, _, _, data)| (ts, data))
    }

    /// Counts frames and bytes by frame kind (a scan of the video records).
    /// Sealed frames are opened with the player's cipher; without one (or
    /// when they do not open) they count as sealed frames.
    #[must_use]
    pub fn codec_stats(&self) -> CodecStats {
        let mut s = CodecStats::default();
        let cipher = self.cipher.as_ref().map(|c| c.0.as_ref());
        let mut buf = Vec::new();
        for file in self.set.files() {
            for rec in file.records() {
                if !rec.is_video_frame() {
                    continue;
                }
                let Ok(rec) = unseal(rec, cipher, &mut buf) else {
                    s.sealed_frames += 1;
                    continue;
                };
                if let Record::Video { codec, data, .. } = rec {
                    let n = data.len() as u64;
                    if codec.0 != CODEC_ID {
                        s.foreign_frames += 1;
                    } else if Decoder::is_keyframe(data) {
                        s.key_frames += 1;
                        s.key_bytes += n;
                    } else if Decoder::is_unchanged(data) {
                        s.unchanged_frames += 1;
                        s.unchanged_bytes += n;
                    } else {
                        s.delta_frames += 1;
                        s.delta_bytes += n;
                    }
                }
            }
        }
        s
    }

    /// The first video record after `after` (or from the start).
    fn next_video(set: &SessionSet, after: Option<Pos>) -> Option<Found<'_>> {
        let files = set.files();
        let (mut file, mut from) = match after {
            Some(p) => (p.file, p.end),
            None => (0, files.first()?.header_len()),
        };
        loop {
            let reader = files.get(file)?;
            let mut recs = reader.records_from(from);
            while let Some((offset, rec)) = recs.next_with_offset() {
                if let Some((ts, codec, keyframe, data)) = video_parts(&rec) {
                    let gap = recs.skipped_damage()
                        || reader
                            .damage()
                            .iter()
                            .any(|d| d.end > from && d.start < offset);
                    return Some(Found {
                        pos: Pos {
                            file,
                            offset,
                            end: recs.position(),
                        },
                        ts,
                        codec,
                        keyframe,
                        data,
                        rec,
                        gap,
                    });
                }
            }
            file += 1;
            from = files.get(file)?.header_len();
        }
    }

    fn current(&self) -> Result<VideoFrame<'_>, Error> {
        let (Some(c), Some(f)) = (self.cur, self.decoder.frame()) else {
            return Err(Error::NoVideo);
        };
        Ok(VideoFrame {
            ts: c.ts,
            size: f.size,
            data: f.data,
            changed: c.changed,
            keyframe: c.keyframe,
        })
    }

    /// The next recorded frame after the one last returned (the first frame
    /// of the recording when none was). `None` at the end (of what has been
    /// written so far, for a recording in progress).
    ///
    /// # Errors
    /// [`Error::Codec`] for a damaged packet, [`Error::UnsupportedCodec`].
    pub fn next_frame(&mut self) -> Result<Option<VideoFrame<'_>>, Error> {
        let decoded = match self.advance() {
            // The last seek kept only the cached tiles its own frames read
            // (`Decoder::seek`): decode the group again, keeping them all,
            // up to where playback is, and go on.
            Err(Error::Codec(CodecError::TileDropped { .. })) => {
                self.restore_cache()?;
                self.advance()?
            }
            r => r?,
        };
        if decoded {
            self.current().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Decodes the next recorded frame; false at the end.
    fn advance(&mut self) -> Result<bool, Error> {
        let mut after = self.cur.map(|c| c.pos);
        let Player {
            set,
            decoder,
            cur,
            cipher,
            plain,
            broken,
        } = self;
        loop {
            let Some(found) = Player::next_video(set, after) else {
                return Ok(false);
            };
            let data = found.packet(cipher.as_ref(), plain)?;
            if Player::decode_with(decoder, cur, broken, &found, data)? {
                return Ok(true);
            }
            after = Some(found.pos);
        }
    }

    /// Decodes the keyframe group of the frame last decoded again, up to
    /// that frame, keeping the whole tile cache.
    fn restore_cache(&mut self) -> Result<(), Error> {
        let Some(last) = self.cur else {
            return Ok(());
        };
        let start = self.keyframe_pos_before(last.pos);
        self.forget_frame();
        self.decode_to(start, last.ts, |found| found.pos > last.pos, false)
    }

    /// The position of the last keyframe of the index at or before `pos`.
    fn keyframe_pos_before(&self, pos: Pos) -> Option<Pos> {
        self.keyframe_pos_until(pos, true)
    }

    /// The position of the last keyframe of the index before `pos`, or at
    /// it when `inclusive`.
    fn keyframe_pos_until(&self, pos: Pos, inclusive: bool) -> Option<Pos> {
        let files = self.set.files().iter().enumerate().take(pos.file + 1);
        files.rev().find_map(|(file, r)| {
            let k = r.keyframes().iter().rev().find(|k| {
                file < pos.file || k.offset < pos.offset || (inclusive && k.offset == pos.offset)
            })?;
            Some(Pos::before(file, k.offset))
        })
    }

    /// Decodes `found`, whose packet is `data` ([`Found::packet`]), if it
    /// can (a delta whose reference was lost waits for the next keyframe);
    /// returns whether a frame was decoded.
    fn decode_with(
        decoder: &mut Decoder,
        cur: &mut Option<Current>,
        broken: &mut bool,
        found: &Found<'_>,
        data: &[u8],
    ) -> Result<bool, Error> {
        if !found.flag_matches(data) || !found.usable(!*broken && decoder.frame().is_some()) {
            // The frame on screen stays until the next keyframe.
            *broken = true;
            return Ok(false);
        }
        decoder.decode(data)?;
        *broken = false;
        *cur = Some(Current {
            pos: found.pos,
            ts: found.ts,
            changed: !Decoder::is_unchanged(data),
            keyframe: found.keyframe,
        });
        Ok(true)
    }

    /// Sets how many threads the decoder uses ([`g2a_codec::Decoder::set_threads`]):
    /// by default the machine's parallelism (at most 4), which shortens
    /// seeks; 1 keeps decoding on the calling thread.
    pub fn set_decode_threads(&mut self, threads: usize) {
        self.decoder.set_threads(threads);
    }

    /// Threads the decoder uses (see [`Player::set_decode_threads`]).
    #[must_use]
    pub fn decoder_threads(&self) -> usize {
        self.decoder.threads()
    }

    /// The frame on screen at `ts`: the last frame recorded at or before it
    /// (the first frame when `ts` precedes it).
    ///
    /// Seeks through the index: decoding starts at the keyframe at or
    /// before `ts`, unless the player is already between that keyframe and
    /// `ts`, in which case it decodes forward from where it is (if the seek
    /// that took it there kept every cached tile: see
    /// [`Decoder::seek`](g2a_codec::Decoder::seek)).
    ///
    /// # Errors
    /// [`Error::NoVideo`] for a recording without frames; [`Error::Codec`]
    /// for a damaged packet.
    pub fn frame_at(&mut self, ts: Timestamp) -> Result<VideoFrame<'_>, Error> {
        let target = self.keyframe_pos_at(ts);
        // Not after a seek that dropped cached tiles: a packet on the way
        // may need one (about one resume in two on `term-1080` did), and a
        // failed resume costs its packets and a run from the keyframe.
        let can_resume = self.decoder.frame().is_some() && !self.decoder.has_dropped_tiles();
        let resume = match (self.cur, target) {
            (Some(c), Some(k)) => c.ts <= ts && k <= c.pos && can_resume,
            (Some(c), None) => c.ts <= ts && can_resume,
            (None, _) => false,
        };
        let past = |found: &Found<'_>| found.ts > ts;
        if resume {
            return self
                .decode_to(None, ts, past, true)
                .and_then(|()| self.current());
        }
        self.forget_frame();
        self.decode_to(target, ts, past, true)?;
        // An index entry whose record turns out damaged (its keyframe flag
        // disagrees with its packet) decodes nothing until a later keyframe:
        // then the frame on screen at `ts` comes from an earlier keyframe,
        // as in playback.
        let mut from = target;
        while let (Some(c), Some(k)) = (self.cur, from) {
            if c.ts <= ts {
                break;
            }
            let Some(earlier) = self.keyframe_pos_until(k, false) else {
                break;
            };
            self.forget_frame();
            self.decode_to(Some(earlier), ts, past, true)?;
            from = Some(earlier);
        }
        self.current()
    }

    /// Forgets the frame decoded: the next decodes from a keyframe.
    fn forget_frame(&mut self) {
        self.decoder.reset();
        self.cur = None;
        self.broken = false;
    }

    /// Decodes from just before `start` (`None`: from the frame last
    /// decoded) up to the last frame before the first that is `past` the
    /// target (the first frame at least), as runs ([`Decoder::seek`] when
    /// `seek`, else [`Decoder::decode_run`]); `ts` is the target's time.
    fn decode_to(
        &mut self,
        start: Option<Pos>,
        ts: Timestamp,
        past: impl Fn(&Found<'_>) -> bool,
        seek: bool,
    ) -> Result<(), Error> {
        let mut after = start.or_else(|| self.cur.map(|c| c.pos));
        // Everything up to the end of the target's keyframe group is read
        // next: ask for it in one go (a recording's pages that aren't in
        // memory would otherwise come one page fault at a time).
        if let Some(from) = after {
            if let Some(r) = self.set.files().get(from.file) {
                r.prefetch(from.end, r.group_end(ts));
            }
        }
        let Player {
            set,
            decoder,
            cur,
            cipher,
            plain,
            broken,
        } = self;
        // The records up to the target are decoded as runs
        // (`Decoder::decode_run`: inflating overlaps applying); a record
        // after lost ones goes through `decode_with`, which waits for the
        // next keyframe.
        let mut run = Run::default();
        while let Some(found) = Player::next_video(set, after) {
            if past(&found) && (cur.is_some() || run.last.is_some()) {
                break;
            }
            after = Some(found.pos);
            let packet = found.packet(cipher.as_ref(), plain)?;
            if !found.flag_matches(packet) {
                // A damaged record: what came before it stands, what
                // follows waits for the next keyframe.
                run.decode(decoder, cur, seek)?;
                *broken = true;
                continue;
            }
            if found.usable(run.last.is_some() || (!*broken && decoder.frame().is_some())) {
                run.push(&found, packet);
                *broken = false;
            } else {
                run.decode(decoder, cur, seek)?;
                Player::decode_with(decoder, cur, broken, &found, packet)?;
            }
        }
        run.decode(decoder, cur, seek)
    }

    /// The position of the keyframe at or before `ts` (the first keyframe
    /// when `ts` precedes it).
    fn keyframe_pos_at(&self, ts: Timestamp) -> Option<Pos> {
        if let Some(p) = self.set.seek_keyframe(ts) {
            return Some(Pos::before(p.file, p.keyframe.offset));
        }
        self.set
            .files()
            .iter()
            .enumerate()
            .find_map(|(i, r)| r.keyframes().first().map(|k| Pos::before(i, k.offset)))
    }

    /// Times of every keyframe, in order (for a timeline).
    #[must_use]
    pub fn keyframe_times(&self) -> Vec<Timestamp> {
        self.set
            .files()
            .iter()
            .flat_map(|r| r.keyframes().iter().map(|k| k.ts))
            .collect()
    }
}

/// Video packets to decode in one go, and the state after the last one.
#[derive(Default)]
struct Run<'a> {
    packets: Vec<Cow<'a, [u8]>>,
    last: Option<Current>,
}

impl<'a> Run<'a> {
    /// Adds `found`, whose packet is `opened` ([`Found::packet`]).
    fn push(&mut self, found: &Found<'a>, opened: &[u8]) {
        let data = if found.rec.is_sealed() {
            Cow::Owned(opened.to_vec())
        } else {
            Cow::Borrowed(found.data)
        };
        self.last = Some(Current {
            pos: found.pos,
            ts: found.ts,
            changed: !Decoder::is_unchanged(&data),
            keyframe: found.keyframe,
        });
        self.packets.push(data);
    }

    /// Decodes the packets gathered so far ([`Decoder::seek`] when `seek`,
    /// else [`Decoder::decode_run`]); empties the run.
    fn decode(
        &mut self,
        decoder: &mut Decoder,
        cur: &mut Option<Current>,
        seek: bool,
    ) -> Result<(), Error> {
        if let Some(last) = self.last.take() {
            let packets: Vec<&[u8]> = self.packets.iter().map(|p| &p[..]).collect();
            if seek {
                decoder.seek(&packets)?;
            } else {
                decoder.decode_run(&packets)?;
            }
            *cur = Some(last);
        }
        self.packets.clear();
        Ok(())
    }
}

/// A video record's time, codec, keyframe flag and payload (a sealed video
/// record's payload is still sealed; its codec is this crate's).
fn video_parts<'a>(rec: &Record<'a>) -> Option<(Timestamp, CodecId, bool, &'a [u8])> {
    match *rec {
        Record::Video {
            ts,
            codec,
            keyframe,
            data,
        } => Some((ts, codec, keyframe, data)),
        Record::Sealed { ts, sealed, .. } if rec.is_video_frame() => {
            Some((ts, CodecId(CODEC_ID), rec.is_keyframe(), sealed))
        }
        _ => None,
    }
}
