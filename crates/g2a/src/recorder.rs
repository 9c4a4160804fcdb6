//! The [`Recorder`]: frames and session records in, a `.g2a` recording out.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use g2a_codec::{EncodedKind, Encoder, EncoderConfig, EncoderStats, CODEC_ID};
use g2a_core::{FrameRef, PixelFormat, Size, Timestamp};
use g2a_format::{
    CodecId, EncryptionInfo, EventKind, FinishSummary, MediaType, Record, SenderRole,
    SessionHeader, SharedCipher, Track, Writer, WriterOptions, Written,
};

use crate::Error;

/// What [`Recorder::push_frame`] does when the encoding queue is full
/// (the encoder, or the disk behind it, is slower than the capture).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueFull {
    /// Wait until the encoder takes a frame: the capture thread slows down
    /// to the encoder's pace and no frame is lost.
    Block,
    /// Drop the new frame at once and return [`FrameStatus::Dropped`]; the
    /// number of frames dropped is written to the recording as a
    /// [`EventKind::FramesDropped`] event before the next recorded frame.
    /// The right choice for live capture.
    #[default]
    DropFrame,
}

/// Options of a [`Recorder`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RecorderOptions {
    /// Container options: size cap, cap policy, durability points.
    pub writer: WriterOptions,
    /// Codec options: keyframe policy, compression level, motion search,
    /// accepted frame sizes.
    pub encoder: EncoderConfig,
    /// Frames that may wait for the encoder. `0` encodes on the caller's
    /// thread inside [`Recorder::push_frame`]; `n > 0` encodes on a
    /// background thread, and memory for queued frames is bounded by
    /// `n + 1` frame buffers (which are reused).
    pub queue_frames: usize,
    /// What happens when the queue is full.
    pub when_full: QueueFull,
    /// Encrypts the recording: the cipher seals every content record and
    /// the info (scheme, wrapped key) goes into the header.
    pub encryption: Option<(SharedCipher, EncryptionInfo)>,
}

impl RecorderOptions {
    /// Sets the container options.
    #[must_use]
    pub fn writer(mut self, w: WriterOptions) -> Self {
        self.writer = w;
        self
    }

    /// Sets the codec options.
    #[must_use]
    pub fn encoder(mut self, e: EncoderConfig) -> Self {
        self.encoder = e;
        self
    }

    /// Records encrypted with `cipher`; `info` tells readers how to recover
    /// its key (for example a key block wrapped to a portal's public key:
    /// the recorder never needs a passphrase).
    #[must_use]
    pub fn encrypt(mut self, cipher: SharedCipher, info: EncryptionInfo) -> Self {
        self.encryption = Some((cipher, info));
        self
    }

    /// Encodes on a background thread with room for `frames` queued frames
    /// (`0`: on the caller's thread).
    #[must_use]
    pub fn queue(mut self, frames: usize, when_full: QueueFull) -> Self {
        self.queue_frames = frames;
        self.when_full = when_full;
        self
    }
}

/// What happened to a pushed frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameStatus {
    /// Recorded (or queued to be recorded).
    Recorded,
    /// Dropped because the queue was full ([`QueueFull::DropFrame`]).
    Dropped,
    /// Not recorded: the size cap ended the recording (stop policy).
    Stopped,
}

/// What [`Recorder::finish`] produced.
#[derive(Debug, Clone)]
pub struct RecordingSummary {
    /// The files written and their total size.
    pub files: FinishSummary,
    /// Frame and byte counts by frame kind.
    pub encoder: EncoderStats,
    /// Frames recorded.
    pub frames: u64,
    /// Frames dropped because the queue was full.
    pub dropped: u64,
    /// True when the size cap stopped the recording early.
    pub stopped_by_cap: bool,
}

/// A frame in a reusable buffer, packed, with its layout.
struct OwnedFrame {
    ts: Timestamp,
    size: Size,
    format: PixelFormat,
    data: Vec<u8>,
}

/// A record with owned data, for the queue.
enum Item {
    Frame(OwnedFrame, u64),
    Chat(Timestamp, SenderRole, String, String),
    Diagnostic(Timestamp, String, MediaType, Vec<u8>),
    Event(Timestamp, EventKind, String),
    Cursor(Timestamp, i32, i32, Option<u32>),
    Shape(Timestamp, u32, u32, u32, Size, Vec<u8>),
    Sync,
}

impl Item {
    fn record(&self) -> Option<Record<'_>> {
        Some(match self {
            Item::Frame(..) | Item::Sync => return None,
            Item::Chat(ts, role, sender, text) => Record::Chat {
                ts: *ts,
                role: *role,
                sender,
                text,
            },
            Item::Diagnostic(ts, name, media_type, data) => Record::Diagnostic {
                ts: *ts,
                name,
                media_type: *media_type,
                data,
            },
            Item::Event(ts, kind, detail) => Record::Event {
                ts: *ts,
                kind: *kind,
                detail,
            },
            Item::Cursor(ts, x, y, shape) => Record::CursorPosition {
                ts: *ts,
                x: *x,
                y: *y,
                shape: *shape,
            },
            Item::Shape(ts, id, hotspot_x, hotspot_y, size, pixels) => Record::CursorShape {
                ts: *ts,
                id: *id,
                hotspot_x: *hotspot_x,
                hotspot_y: *hotspot_y,
                size: *size,
                pixels,
            },
        })
    }
}

/// The encoder and writer: runs on the caller's thread or the worker.
struct Engine {
    writer: Writer,
    encoder: Encoder,
    packet: Vec<u8>,
    size: Option<Size>,
    frames: u64,
    stopped: bool,
    /// The latest time written on any track.
    latest: Timestamp,
}

impl Engine {
    fn frame(&mut self, f: &FrameRef<'_>, ts: Timestamp, dropped: u64) -> Result<bool, Error> {
        if self.stopped {
            return Ok(false);
        }
        if dropped > 0 {
            let detail = format!("{dropped} frames dropped: the encoder could not keep up");
            if !self.write(&Record::Event {
                ts,
                kind: EventKind::FramesDropped,
                detail: &detail,
            })? {
                return Ok(false);
            }
        }
        let size = f.size();
        if self.size != Some(size) {
            if !self.write(&Record::ScreenSize { ts, size })? {
                return Ok(false);
            }
            self.size = Some(size);
        }
        let mut force = self.writer.needs_keyframe();
        loop {
            let kind = self.encoder.encode(f, force, &mut self.packet)?;
            let rec = Record::Video {
                ts,
                codec: CodecId(CODEC_ID),
                keyframe: kind == EncodedKind::Key,
                data: &self.packet,
            };
            match self.writer.write(&rec)? {
                Written::Ok => {
                    self.frames += 1;
                    self.latest = self.latest.max(ts);
                    return Ok(true);
                }
                // A continuation file began: it must start with a keyframe.
                Written::NeedKeyframe if !force => force = true,
                Written::NeedKeyframe => {
                    return Err(Error::Worker(
                        "the container refused a keyframe as its first frame".into(),
                    ))
                }
                _ => {
                    self.stopped = true;
                    return Ok(false);
                }
            }
        }
    }

    /// Writes a record; false when the cap stopped the recording.
    fn write(&mut self, rec: &Record<'_>) -> Result<bool, Error> {
        if self.stopped {
            return Ok(false);
        }
        match self.writer.write(rec)? {
            Written::Ok => {
                self.latest = self.latest.max(rec.ts());
                Ok(true)
            }
            _ => {
                self.stopped = true;
                Ok(false)
            }
        }
    }

    fn item(&mut self, item: &Item) -> Result<(), Error> {
        match item {
            Item::Frame(f, dropped) => {
                let frame = FrameRef::packed(&f.data, f.size, f.format)?;
                self.frame(&frame, f.ts, *dropped)?;
            }
            Item::Sync => self.writer.sync()?,
            other => {
                if let Some(rec) = other.record() {
                    self.write(&rec)?;
                }
            }
        }
        Ok(())
    }

    fn finish(self, dropped: u64) -> Result<RecordingSummary, Error> {
        let stopped_by_cap = self.stopped || self.writer.is_stopped();
        let encoder = *self.encoder.stats();
        let frames = self.frames;
        let files = self.writer.finish()?;
        Ok(RecordingSummary {
            files,
            encoder,
            frames,
            dropped,
            stopped_by_cap,
        })
    }
}

/// State shared with the worker thread.
struct Shared {
    /// Buffers the worker has finished with, for reuse.
    free: Mutex<Vec<Vec<u8>>>,
    /// The first error of the worker, if any.
    failed: Mutex<Option<String>>,
    stopped: AtomicBool,
    dropped: AtomicU64,
}

struct Worker {
    tx: Option<SyncSender<Item>>,
    handle: Option<JoinHandle<Result<RecordingSummary, Error>>>,
    shared: Arc<Shared>,
    when_full: QueueFull,
    /// Frames dropped since the last one queued.
    pending_drops: u64,
}

enum Mode {
    Inline(Box<Engine>),
    Thread(Worker),
}

/// Records one session to a `.g2a` file (and its continuation files).
///
/// Every `push_*` call checks its input first: a frame buffer shorter than
/// its stated layout, a size outside the limits, or a time earlier than the
/// previous record of the same track is refused with an error, and nothing
/// recorded before is affected. Frames are encoded on the caller's thread,
/// or on a background thread behind a bounded queue
/// ([`RecorderOptions::queue`]); either way memory stays bounded.
///
/// Dropping a recorder without [`Recorder::finish`] still finishes the file
/// (after encoding what is queued); if the process dies instead, the file
/// keeps every record written so far and `g2a recover` restores its index.
pub struct Recorder {
    mode: Mode,
    limits: g2a_core::Limits,
    last_ts: [Option<Timestamp>; 6],
    dropped: u64,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("threaded", &matches!(self.mode, Mode::Thread(_)))
            .field("dropped", &self.dropped)
            .finish_non_exhaustive()
    }
}

fn track_index(t: Track) -> usize {
    Track::ALL.iter().position(|&x| x == t).unwrap_or(5)
}

impl Recorder {
    /// Creates the recording at `path` (replacing it) and writes its header.
    ///
    /// # Errors
    /// [`Error::Format`] when the file can't be created or an option is
    /// invalid; [`Error::Codec`] for an invalid encoder configuration.
    pub fn create(
        path: impl AsRef<Path>,
        header: SessionHeader,
        opts: RecorderOptions,
    ) -> Result<Recorder, Error> {
        let limits = opts.encoder.limits;
        let encoder = Encoder::new(opts.encoder.clone())?;
        let (header, wopts) = match &opts.encryption {
            None => (header, opts.writer.clone()),
            Some((cipher, info)) => {
                let mut h = header;
                h.encryption = Some(info.clone());
                (h, opts.writer.clone().cipher(cipher.clone()))
            }
        };
        let writer = Writer::create(path, header, wopts)?;
        let engine = Engine {
            writer,
            encoder,
            packet: Vec::new(),
            size: None,
            frames: 0,
            stopped: false,
            latest: Timestamp::ZERO,
        };
        let mode = if opts.queue_frames == 0 {
            Mode::Inline(Box::new(engine))
        } else {
            let shared = Arc::new(Shared {
                free: Mutex::new(Vec::new()),
                failed: Mutex::new(None),
                stopped: AtomicBool::new(false),
                dropped: AtomicU64::new(0),
            });
            let (tx, rx) = mpsc::sync_channel(opts.queue_frames);
            let s = Arc::clone(&shared);
            let handle = std::thread::Builder::new()
                .name("g2a-encoder".into())
                .spawn(move || run_worker(engine, &rx, &s))
                .map_err(|e| Error::Worker(format!("can't start the encoding thread: {e}")))?;
            Mode::Thread(Worker {
                tx: Some(tx),
                handle: Some(handle),
                shared,
                when_full: opts.when_full,
                pending_drops: 0,
            })
        };
        Ok(Recorder {
            mode,
            limits,
            last_ts: [None; 6],
            dropped: 0,
        })
    }

    fn check_time(&self, track: Track, ts: Timestamp) -> Result<(), Error> {
        if let Some(prev) = self.last_ts[track_index(track)] {
            if ts < prev {
                return Err(Error::TimeWentBackwards {
                    track,
                    previous: prev,
                    found: ts,
                });
            }
        }
        Ok(())
    }

    /// Records a screen frame taken at `ts` (time since the session start).
    ///
    /// An unchanged frame costs a few bytes; a size change writes a screen
    /// size record and starts a keyframe.
    ///
    /// # Errors
    /// [`Error::Limit`] or [`Error::Frame`] for a frame outside the limits,
    /// [`Error::TimeWentBackwards`], and the encoder's or container's errors
    /// (in threaded mode those of earlier frames surface here as
    /// [`Error::Worker`]).
    pub fn push_frame(
        &mut self,
        ts: Timestamp,
        frame: &FrameRef<'_>,
    ) -> Result<FrameStatus, Error> {
        self.check_time(Track::Video, ts)?;
        frame.check_limits(&self.limits)?;
        let status = match &mut self.mode {
            Mode::Inline(engine) => {
                if engine.frame(frame, ts, 0)? {
                    FrameStatus::Recorded
                } else {
                    FrameStatus::Stopped
                }
            }
            Mode::Thread(w) => {
                w.check()?;
                if w.shared.stopped.load(Ordering::Acquire) {
                    FrameStatus::Stopped
                } else {
                    let mut data = w
                        .shared
                        .free
                        .lock()
                        .map_err(|_| Error::Worker("the encoding thread panicked".into()))?
                        .pop()
                        .unwrap_or_default();
                    copy_packed(frame, &mut data);
                    let owned = OwnedFrame {
                        ts,
                        size: frame.size(),
                        format: frame.format(),
                        data,
                    };
                    let item = Item::Frame(owned, w.pending_drops);
                    w.send_frame(item)?
                }
            }
        };
        match status {
            FrameStatus::Recorded => self.last_ts[track_index(Track::Video)] = Some(ts),
            FrameStatus::Dropped => self.dropped += 1,
            FrameStatus::Stopped => {}
        }
        Ok(status)
    }

    fn push(&mut self, item: Item) -> Result<(), Error> {
        let rec = item.record().ok_or(Error::Worker("not a record".into()))?;
        rec.validate()?;
        let (track, ts) = (rec.track(), rec.ts());
        self.check_time(track, ts)?;
        match &mut self.mode {
            Mode::Inline(engine) => engine.item(&item)?,
            Mode::Thread(w) => w.send(item)?,
        }
        self.last_ts[track_index(track)] = Some(ts);
        Ok(())
    }

    /// Records a chat message.
    ///
    /// # Errors
    /// [`Error::TimeWentBackwards`] within the chat track; container errors.
    pub fn push_chat(
        &mut self,
        ts: Timestamp,
        role: SenderRole,
        sender: &str,
        text: &str,
    ) -> Result<(), Error> {
        self.push(Item::Chat(ts, role, sender.into(), text.into()))
    }

    /// Records a diagnostics document (system information, process list,
    /// event log, ...).
    ///
    /// # Errors
    /// [`Error::TimeWentBackwards`] within the diagnostics track; container
    /// errors (a document larger than the size cap allows is refused).
    pub fn push_diagnostic(
        &mut self,
        ts: Timestamp,
        name: &str,
        media_type: MediaType,
        data: &[u8],
    ) -> Result<(), Error> {
        self.push(Item::Diagnostic(ts, name.into(), media_type, data.to_vec()))
    }

    /// Records a session event (remote control granted, file transferred, ...).
    ///
    /// # Errors
    /// [`Error::TimeWentBackwards`] within the event track; container errors.
    pub fn push_event(
        &mut self,
        ts: Timestamp,
        kind: EventKind,
        detail: &str,
    ) -> Result<(), Error> {
        self.push(Item::Event(ts, kind, detail.into()))
    }

    /// Records the cursor's position (its hotspot) and the shape shown, or
    /// `None` when the cursor is hidden.
    ///
    /// # Errors
    /// [`Error::TimeWentBackwards`] within the cursor track; container errors.
    pub fn push_cursor(
        &mut self,
        ts: Timestamp,
        x: i32,
        y: i32,
        shape: Option<u32>,
    ) -> Result<(), Error> {
        self.push(Item::Cursor(ts, x, y, shape))
    }

    /// Defines cursor shape `id`: `size.width * size.height` BGRA pixels
    /// with alpha, and the hotspot within it. Positions refer to it by id.
    ///
    /// # Errors
    /// [`Error::Format`] when `pixels` does not match `size`;
    /// [`Error::TimeWentBackwards`] within the cursor track.
    pub fn push_cursor_shape(
        &mut self,
        ts: Timestamp,
        id: u32,
        hotspot: (u32, u32),
        size: Size,
        pixels: &[u8],
    ) -> Result<(), Error> {
        self.push(Item::Shape(
            ts,
            id,
            hotspot.0,
            hotspot.1,
            size,
            pixels.to_vec(),
        ))
    }

    /// Makes everything recorded so far durable (fsync), after the queue
    /// drains. The writer also syncs by itself per [`WriterOptions::sync`].
    ///
    /// # Errors
    /// I/O errors.
    pub fn sync(&mut self) -> Result<(), Error> {
        match &mut self.mode {
            Mode::Inline(engine) => engine.item(&Item::Sync),
            Mode::Thread(w) => w.send(Item::Sync),
        }
    }

    /// Frames dropped so far because the queue was full.
    #[must_use]
    pub fn dropped_frames(&self) -> u64 {
        self.dropped
    }

    /// Encodes what is queued, writes the seek index and trailer, and
    /// closes the file.
    ///
    /// # Errors
    /// The first error of the encoding thread, or the container's.
    pub fn finish(mut self) -> Result<RecordingSummary, Error> {
        self.finish_inner()
    }

    fn finish_inner(&mut self) -> Result<RecordingSummary, Error> {
        let dropped = self.dropped;
        let mode = std::mem::replace(&mut self.mode, Mode::Thread(Worker::done()));
        match mode {
            Mode::Inline(engine) => engine.finish(dropped),
            Mode::Thread(mut w) => {
                if w.pending_drops > 0 {
                    // Note trailing drops before the queue closes.
                    w.shared
                        .dropped
                        .fetch_add(w.pending_drops, Ordering::AcqRel);
                }
                drop(w.tx.take());
                let handle = w
                    .handle
                    .take()
                    .ok_or(Error::Worker("the recorder is already finished".into()))?;
                let mut summary = handle
                    .join()
                    .map_err(|_| Error::Worker("the encoding thread panicked".into()))??;
                summary.dropped = dropped;
                Ok(summary)
            }
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if let Mode::Thread(w) = &self.mode {
            if w.handle.is_none() {
                return;
            }
        }
        // Finish the file; errors can't be reported from a destructor, and
        // whatever was written stays recoverable.
        let _ = self.finish_inner();
    }
}

impl Worker {
    fn done() -> Worker {
        Worker {
            tx: None,
            handle: None,
            shared: Arc::new(Shared {
                free: Mutex::new(Vec::new()),
                failed: Mutex::new(None),
                stopped: AtomicBool::new(true),
                dropped: AtomicU64::new(0),
            }),
            when_full: QueueFull::Block,
            pending_drops: 0,
        }
    }

    fn check(&self) -> Result<(), Error> {
        let failed = self
            .shared
            .failed
            .lock()
            .map_err(|_| Error::Worker("the encoding thread panicked".into()))?;
        match &*failed {
            Some(msg) => Err(Error::Worker(msg.clone())),
            None => Ok(()),
        }
    }

    fn sender(&self) -> Result<&SyncSender<Item>, Error> {
        self.tx
            .as_ref()
            .ok_or(Error::Worker("the recorder is finished".into()))
    }

    fn send(&mut self, item: Item) -> Result<(), Error> {
        self.check()?;
        self.sender()?.send(item).map_err(|_| self.gone())
    }

    fn send_frame(&mut self, item: Item) -> Result<FrameStatus, Error> {
        match self.when_full {
            QueueFull::Block => {
                self.sender()?.send(item).map_err(|_| self.gone())?;
                Ok(FrameStatus::Recorded)
            }
            QueueFull::DropFrame => match self.sender()?.try_send(item) {
                Ok(()) => {
                    self.pending_drops = 0;
                    Ok(FrameStatus::Recorded)
                }
                Err(TrySendError::Full(Item::Frame(f, _))) => {
                    if let Ok(mut free) = self.shared.free.lock() {
                        free.push(f.data);
                    }
                    self.pending_drops += 1;
                    Ok(FrameStatus::Dropped)
                }
                Err(_) => Err(self.gone()),
            },
        }
    }

    fn gone(&self) -> Error {
        match self.check() {
            Err(e) => e,
            Ok(()) => Error::Worker("the encoding thread stopped".into()),
        }
    }
}

fn run_worker(
    mut engine: Engine,
    rx: &Receiver<Item>,
    shared: &Shared,
) -> Result<RecordingSummary, Error> {
    let mut result = Ok(());
    for item in rx {
        if result.is_ok() {
            result = engine.item(&item);
            if engine.stopped {
                shared.stopped.store(true, Ordering::Release);
            }
            if let Err(e) = &result {
                if let Ok(mut f) = shared.failed.lock() {
                    *f = Some(e.to_string());
                }
            }
        }
        if let Item::Frame(f, _) = item {
            if let Ok(mut free) = shared.free.lock() {
                if free.len() < 2 {
                    free.push(f.data);
                }
            }
        }
    }
    let trailing = shared.dropped.load(Ordering::Acquire);
    if trailing > 0 && result.is_ok() {
        let ts = engine.latest;
        let detail = format!("{trailing} frames dropped: the encoder could not keep up");
        let _ = engine.write(&Record::Event {
            ts,
            kind: EventKind::FramesDropped,
            detail: &detail,
        });
    }
    // Finish the file even after an error: what was written stays indexed.
    let summary = engine.finish(0);
    result?;
    summary
}

/// Copies a frame into `out` packed (stride = width × 4).
fn copy_packed(f: &FrameRef<'_>, out: &mut Vec<u8>) {
    out.clear();
    if f.is_packed() {
        out.extend_from_slice(f.data());
    } else {
        out.reserve(f.row_bytes() * f.size().height as usize);
        for y in 0..f.size().height {
            out.extend_from_slice(f.row(y));
        }
    }
}
