//! The decoder (CODEC.md §2–§6).

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use g2a_core::{Limits, Size};

use crate::cache::{cacheable, LazyCache, SlotSet, TileCache, SLOTS};
use crate::error::malformed;
use crate::pixel::{med, planes, TILE};
use crate::{op, packet, CodecError};

/// A decoded frame: packed BGRA, alpha 255, `size.width * 4` bytes per row.
#[derive(Debug, Clone, Copy)]
pub struct FrameView<'a> {
    /// Frame size.
    pub size: Size,
    /// The pixels.
    pub data: &'a [u8],
}

/// The screen decoder.
///
/// Call protocol: the first packet, and the first after [`Decoder::reset`]
/// (after a seek), must be a keyframe; then packets in the order they were
/// encoded. Each call returns the whole current frame.
///
/// Decoding a packet has two stages: inflating its body (zstd, one stream
/// per keyframe group) and applying the body's tiles to the frame; the
/// tiles of a big packet are applied by several threads (see
/// [`Decoder::set_threads`]).
pub struct Decoder {
    inflater: Inflater,
    frames: Frames,
    body: Vec<u8>,
    /// A second body for [`Decoder::decode_run`].
    body2: Vec<u8>,
}

/// The first stage: packet headers and the zstd stream.
struct Inflater {
    limits: Limits,
    /// Frame size of the current keyframe group.
    size: Option<Size>,
    zstd: Option<zstd::stream::raw::Decoder<'static>>,
}

/// What a packet is, once its body is inflated.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Unchanged,
    Key(Size),
    Delta,
}

/// The second stage: the frames and everything tiles are decoded from.
struct Frames {
    size: Option<Size>,
    cur: Vec<u8>,
    /// The tiles of the previous frame that this packet's COPY tiles read
    /// (copied from `cur` before the packet changes it; other tiles stale).
    prev: Vec<u8>,
    /// Which tiles of `prev` were copied for the current packet.
    saved: Vec<bool>,
    /// Planar working copy of one tile with its top and left borders.
    tile_planes: Vec<u8>,
    cache: LazyCache,
    /// Where each tile's data starts (reused from packet to packet).
    plan: Vec<TilePlan>,
    /// Threads that decode the tiles of a big packet (1: only the caller's).
    threads: usize,
    /// Work from which a packet counts as big (tests lower it).
    min_parallel_work: usize,
    /// Rows shared between the threads of a parallel decode.
    edges: Edges,
    /// Cache slots the packet being applied may drop instead of copying when
    /// it overwrites their position (set by [`Decoder::decode_run`], which
    /// reads ahead; empty otherwise).
    droppable: SlotSet,
    /// Scratch for [`droppable`].
    read_ahead: SlotSet,
    /// Slots dropped so far (tests check that dropping happens).
    dropped: u64,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("size", &self.frames.size)
            .field("threads", &self.frames.threads)
            .finish()
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn varint(&mut self) -> Result<u64, CodecError> {
        let start = self.pos;
        let mut v = 0u64;
        for i in 0..10 {
            let Some(&b) = self.b.get(self.pos) else {
                return Err(malformed(start, "varint runs past the end"));
            };
            self.pos += 1;
            if i == 9 && b > 1 {
                return Err(malformed(start, "varint overflows 64 bits"));
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(malformed(start, "varint longer than 10 bytes"))
    }

    fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8], CodecError> {
        if n > (self.b.len() - self.pos) as u64 {
            return Err(malformed(
                self.pos,
                format!(
                    "{what} of {n} bytes, only {} present",
                    self.b.len() - self.pos
                ),
            ));
        }
        let s = &self.b[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }
}

impl Decoder {
    /// A decoder that accepts frames within `limits`.
    #[must_use]
    pub fn new(limits: Limits) -> Decoder {
        Decoder {
            inflater: Inflater {
                limits,
                size: None,
                zstd: None,
            },
            frames: Frames {
                size: None,
                cur: Vec::new(),
                prev: Vec::new(),
                saved: Vec::new(),
                tile_planes: Vec::new(),
                cache: LazyCache::default(),
                plan: Vec::new(),
                threads: std::thread::available_parallelism()
                    .map_or(1, std::num::NonZeroUsize::get)
                    .min(MAX_THREADS),
                min_parallel_work: PARALLEL_WORK,
                edges: Edges::default(),
                droppable: SlotSet::default(),
                read_ahead: SlotSet::default(),
                dropped: 0,
            },
            body: Vec::new(),
            body2: Vec::new(),
        }
    }

    /// Sets how many threads decode the tiles of a big packet: 1 decodes on
    /// the caller's thread only; the default is the machine's parallelism,
    /// at most 4. The output is the same whatever the count; more threads
    /// shorten a keyframe's or a busy delta's decoding (a seek) at a small
    /// cost in total CPU time.
    pub fn set_threads(&mut self, threads: usize) {
        self.frames.threads = threads.clamp(1, MAX_THREADS);
    }

    /// Threads used (see [`Decoder::set_threads`]).
    #[must_use]
    pub fn threads(&self) -> usize {
        self.frames.threads
    }

    /// Work from which a packet's tiles are decoded on several threads.
    #[cfg(test)]
    pub(crate) fn set_min_parallel_work(&mut self, work: usize) {
        self.frames.min_parallel_work = work;
    }

    /// [`Decoder::decode_run`]'s applying side on one thread, with every
    /// packet inflated first, so that it sees all of the run ahead (the
    /// threaded run sees what the other thread has inflated so far); with
    /// `seek`, as [`Decoder::seek`].
    #[cfg(test)]
    pub(crate) fn decode_run_seeing_all_ahead(
        &mut self,
        packets: &[&[u8]],
        seek: bool,
    ) -> Result<FrameView<'_>, CodecError> {
        let mut inflated = Vec::new();
        for p in packets {
            let mut b = Vec::new();
            let (k, u) = self.inflater.packet_and_use(p, &mut b)?;
            inflated.push((k, b, u));
        }
        for (i, (k, b, u)) in inflated.iter().enumerate() {
            let ahead = inflated[i + 1..].iter().map(|(_, _, u)| u.as_ref());
            self.frames
                .apply_in_run(*k, b, u.as_ref(), ahead, seek, None)?;
        }
        self.frame().ok_or(CodecError::NeedKeyframe)
    }

    /// Cached tiles dropped instead of copied so far (see `decode_run`).
    #[cfg(test)]
    pub(crate) fn dropped_tiles(&self) -> u64 {
        self.frames.dropped
    }

    /// True when a seek ([`Decoder::seek`]) dropped cached tiles that the
    /// packets after it might read: decoding on from this frame may then
    /// fail with [`CodecError::TileDropped`] (a seek that resumes from here
    /// is better off starting at the keyframe).
    #[must_use]
    pub fn has_dropped_tiles(&self) -> bool {
        self.frames.size.is_some() && self.frames.cache.dropped_slots() > 0
    }

    /// Forgets the current frame: the next packet must be a keyframe.
    pub fn reset(&mut self) {
        self.frames.size = None;
        // The zstd context stays (for reuse); without a size, nothing but a
        // keyframe, which starts a new stream, is accepted.
        self.inflater.size = None;
    }

    /// True when `packet` is a keyframe (a cheap peek at its first byte).
    #[must_use]
    pub fn is_keyframe(packet: &[u8]) -> bool {
        packet.first() == Some(&packet::KEY)
    }

    /// True when `packet` repeats the previous frame unchanged.
    #[must_use]
    pub fn is_unchanged(packet: &[u8]) -> bool {
        packet.first() == Some(&packet::UNCHANGED)
    }

    /// The current frame, if any.
    #[must_use]
    pub fn frame(&self) -> Option<FrameView<'_>> {
        self.frames.size.map(|size| FrameView {
            size,
            data: &self.frames.cur,
        })
    }

    /// Decodes one packet and returns the current frame.
    ///
    /// # Errors
    /// [`CodecError::NeedKeyframe`] for a delta with no keyframe before it;
    /// [`CodecError::Malformed`] or [`CodecError::Zstd`] for a damaged
    /// packet; [`CodecError::Limit`] for a size outside the limits. After an
    /// error the decoder needs a keyframe again.
    pub fn decode(&mut self, packet: &[u8]) -> Result<FrameView<'_>, CodecError> {
        let r = self
            .inflater
            .packet(packet, &mut self.body)
            .and_then(|kind| self.frames.apply(kind, &self.body, None));
        match r {
            Ok(()) => self.frame().ok_or(CodecError::NeedKeyframe),
            Err(e) => {
                self.reset();
                Err(e)
            }
        }
    }

    /// Decodes a run of packets in order (a seek: a keyframe and the
    /// deltas up to the target) and returns the last frame, the same frame
    /// as decoding them one by one with [`Decoder::decode`].
    ///
    /// With more than one thread (see [`Decoder::set_threads`]) the two
    /// stages overlap: another thread inflates the packets ahead while this
    /// one applies them, so a run costs about the larger of its inflating
    /// (zstd) and applying times rather than their sum. That thread runs at
    /// most 128 packets or 24 MiB of bodies ahead (plus the body it is
    /// inflating), and waits between packets while a big packet's tiles are
    /// decoded on several threads. A keyframe starting the run (even alone)
    /// comes in pieces, and its tile rows are decoded as their data arrives.
    ///
    /// # Errors
    /// As [`Decoder::decode`], for the first packet that fails (the
    /// decoder then needs a keyframe).
    pub fn decode_run(&mut self, packets: &[&[u8]]) -> Result<FrameView<'_>, CodecError> {
        self.run(packets, false)
    }

    /// Like [`Decoder::decode_run`], for a seek that shows the last frame:
    /// the tile cache keeps only what the run itself reads (when the
    /// inflating thread has reached the end of the run), not what the
    /// packets after it might, which saves copying most of the tiles that
    /// scrolling and dragging store (and, on a decoder's first seek, the
    /// page faults of the cache's memory). A packet decoded after it that
    /// reads a tile it dropped fails with [`CodecError::TileDropped`]:
    /// decode the keyframe group up to the frame before that packet again
    /// with [`Decoder::decode_run`], then the packet.
    ///
    /// # Errors
    /// As [`Decoder::decode_run`].
    pub fn seek(&mut self, packets: &[&[u8]]) -> Result<FrameView<'_>, CodecError> {
        self.run(packets, true)
    }

    fn run(&mut self, packets: &[&[u8]], seek: bool) -> Result<FrameView<'_>, CodecError> {
        // A keyframe starting the run is applied while it inflates
        // (`Frames::apply_key_streamed`), even alone.
        let streamed = packets.first().is_some_and(|p| Decoder::is_keyframe(p));
        if self.frames.threads < 2 || (packets.len() < 2 && !streamed) {
            for p in packets {
                self.decode(p)?;
            }
            return self.frame().ok_or(CodecError::NeedKeyframe);
        }
        let Decoder {
            inflater,
            frames,
            body,
            body2,
        } = self;
        let cores = &Cores::default();
        let r = std::thread::scope(|s| {
            use std::sync::mpsc;
            // The inflating thread runs up to AHEAD bodies ahead (within
            // AHEAD_BYTES of bodies), so that neither thread waits for the
            // other at every packet: on a virtual machine, waking a thread
            // costs tens of microseconds, and a seek's run has hundreds of
            // small packets. Unchanged packets have no body and are only
            // checked. Bodies come back to be reused.
            type Inflated = Result<(Kind, Vec<u8>, Option<CacheUse>), CodecError>;
            let (tx, rx) = mpsc::sync_channel::<Inflated>(AHEAD);
            let (back_tx, back_rx) = mpsc::channel::<Vec<u8>>();
            // The keyframe's pieces, and first its size.
            let (part_tx, part_rx) = mpsc::sync_channel::<Result<Part, CodecError>>(PIECES_AHEAD);
            let mut spares = vec![std::mem::take(body), std::mem::take(body2)];
            spares.sort_by_key(Vec::capacity);
            // The biggest body gathers the keyframe's pieces.
            let mut key_body = match streamed {
                true => spares.pop().unwrap_or_default(),
                false => Vec::new(),
            };
            let inflating = s.spawn(move || {
                let mut bodies = spares.len();
                let mut bytes: usize = spares.iter().map(Vec::capacity).sum();
                let mut packets = packets.iter();
                if streamed {
                    let p = packets.next().copied().unwrap_or_default();
                    let mut send = |b: Vec<u8>| {
                        // Nobody to send to: the applying side failed.
                        let _ = part_tx.send(Ok(Part::Bytes(b)));
                    };
                    let mut last = Vec::new();
                    let r = cores.inflating(|| {
                        let (kind, at, raw_len) = inflater.header(p)?;
                        let Kind::Key(size) = kind else {
                            return Err(malformed(0, "a keyframe expected"));
                        };
                        let _ = part_tx.send(Ok(Part::Key(size)));
                        let piece = (raw_len / 24).clamp(4 << 10, 256 << 10);
                        inflater.inflate(&p[at..], raw_len, &mut last, Some((piece, &mut send)))
                    });
                    let failed = r.is_err();
                    let _ = part_tx.send(r.map(|()| Part::Bytes(last)));
                    drop(part_tx);
                    if failed {
                        return spares;
                    }
                }
                'packets: for p in packets {
                    if Decoder::is_unchanged(p) {
                        match inflater.packet(p, &mut Vec::new()) {
                            Ok(_) => continue,
                            Err(e) => {
                                let _ = tx.send(Err(e));
                                break;
                            }
                        }
                    }
                    // The smallest spare body the packet fits in (spares
                    // include those the applying side gave back), else a
                    // new one while within the limits, else the biggest
                    // spare, else wait for one (a closed channel: the
                    // applying side failed). Fitting bodies to packets
                    // keeps a few big bodies from using up the byte limit
                    // while small packets wait.
                    let want = body_len(p);
                    spares.extend(back_rx.try_iter());
                    let mut b = loop {
                        let fit = (0..spares.len())
                            .filter(|&i| spares[i].capacity() >= want)
                            .min_by_key(|&i| spares[i].capacity());
                        if let Some(i) = fit {
                            break spares.swap_remove(i);
                        }
                        if bodies == 0
                            || (bodies < AHEAD && bytes.saturating_add(want) <= AHEAD_BYTES)
                        {
                            bodies += 1;
                            break Vec::new();
                        }
                        if let Some(i) = (0..spares.len()).max_by_key(|&i| spares[i].capacity()) {
                            break spares.swap_remove(i);
                        }
                        match back_rx.recv() {
                            Ok(b) => spares.push(b),
                            Err(_) => break 'packets,
                        }
                    };
                    let before = b.capacity();
                    let r = cores
                        .inflating(|| inflater.packet_and_use(p, &mut b))
                        .map(|(k, u)| (k, b, u));
                    if let Ok((_, b, _)) = &r {
                        bytes += b.capacity().saturating_sub(before);
                    }
                    let failed = r.is_err();
                    if tx.send(r).is_err() || failed {
                        break;
                    }
                }
                spares.extend(back_rx.try_iter());
                spares
            });
            let mut applied = Ok(());
            let mut kept = Vec::new();
            if streamed {
                let r = match part_rx.recv() {
                    Ok(Ok(Part::Key(size))) => frames.apply_key_streamed(
                        size,
                        &mut key_body,
                        |b| more_of_the_key(&part_rx, b),
                        Some(cores),
                    ),
                    Ok(Err(e)) => Err(e),
                    // The inflating thread sends the size first, or fails.
                    Ok(Ok(Part::Bytes(_))) | Err(_) => Err(CodecError::NeedKeyframe),
                };
                drop(part_rx);
                applied = r;
            }
            kept.push(key_body);
            // Packets inflated and not yet applied: what they read from and
            // claim in the tile cache tells which cached tiles need no copy
            // (CODEC.md §8, "What the decoder copies").
            let mut queue = std::collections::VecDeque::<Inflated>::new();
            // Every packet is inflated: the queue is the rest of the run.
            let mut all_inflated = false;
            while applied.is_ok() {
                if queue.is_empty() && !all_inflated {
                    match rx.recv() {
                        Ok(item) => queue.push_back(item),
                        Err(_) => all_inflated = true,
                    }
                }
                while !all_inflated {
                    match rx.try_recv() {
                        Ok(item) => queue.push_back(item),
                        Err(mpsc::TryRecvError::Empty) => break,
                        Err(mpsc::TryRecvError::Disconnected) => all_inflated = true,
                    }
                }
                let Some(item) = queue.pop_front() else {
                    break;
                };
                let item = item.and_then(|(kind, b, u)| {
                    let ahead = queue
                        .iter()
                        .map(|i| i.as_ref().ok().and_then(|(_, _, u)| u.as_ref()));
                    let to_the_end = seek && all_inflated;
                    frames
                        .apply_in_run(kind, &b, u.as_ref(), ahead, to_the_end, Some(cores))
                        .map(|()| b)
                });
                match item {
                    Ok(b) => {
                        if let Err(mpsc::SendError(b)) = back_tx.send(b) {
                            kept.push(b);
                        }
                    }
                    Err(e) => {
                        applied = Err(e);
                        break;
                    }
                }
            }
            drop(rx);
            drop(back_tx);
            if let Ok(more) = inflating.join() {
                kept.extend(more);
            }
            // The two biggest stay for the next run (a fresh body costs page
            // faults when it is first written: milliseconds for a keyframe).
            kept.sort_by_key(Vec::capacity);
            *body = kept.pop().unwrap_or_default();
            *body2 = kept.pop().unwrap_or_default();
            applied
        });
        match r {
            Ok(()) => self.frame().ok_or(CodecError::NeedKeyframe),
            Err(e) => {
                self.reset();
                Err(e)
            }
        }
    }
}

/// Inflating a body in pieces: their size, and where the full ones go.
type Pieces<'a> = (usize, &'a mut dyn FnMut(Vec<u8>));

/// What the inflating thread of a run sends of the keyframe that starts it
/// (see [`Frames::apply_key_streamed`]): its size, then its body in pieces.
enum Part {
    Key(Size),
    Bytes(Vec<u8>),
}

/// Appends the keyframe pieces that `parts` has (waiting for one) to `body`;
/// false once the last has come.
fn more_of_the_key(
    parts: &std::sync::mpsc::Receiver<Result<Part, CodecError>>,
    body: &mut Vec<u8>,
) -> Result<bool, CodecError> {
    let mut append = |part: Result<Part, CodecError>| match part? {
        Part::Bytes(b) => {
            body.extend_from_slice(&b);
            Ok(())
        }
        Part::Key(_) => Err(malformed(0, "a second keyframe size")),
    };
    let Ok(first) = parts.recv() else {
        return Ok(false);
    };
    append(first)?;
    // Whatever else has arrived, in one go.
    for part in parts.try_iter() {
        append(part)?;
    }
    Ok(true)
}

/// The body length `packet`'s header announces (0 if it has none or is
/// malformed): only a hint for choosing a buffer, never allocated from.
fn body_len(packet: &[u8]) -> usize {
    let mut c = Cursor { b: packet, pos: 1 };
    let lengths_before = match packet.first() {
        Some(&packet::KEY) => 2,
        Some(&packet::DELTA) => 0,
        _ => return 0,
    };
    for _ in 0..lengths_before {
        if c.varint().is_err() {
            return 0;
        }
    }
    c.varint()
        .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// What an inflated packet does to the tile cache, read before it is
/// applied: [`Decoder::decode_run`] looks at the packets ahead to know
/// which cached tiles it can drop instead of copying.
#[derive(Debug, Default)]
struct CacheUse {
    /// A keyframe: it empties the cache.
    key: bool,
    /// Slots the packet reads (its CACHE tiles).
    reads: Vec<u16>,
    /// Slots it takes after it is applied (its cacheable tiles).
    claims: usize,
}

/// The cache use of a packet body for frames of `size`, or `None` when the
/// body doesn't hold together (applying it will say why).
fn cache_use(body: &[u8], size: Size, key: bool) -> Option<CacheUse> {
    let (w, h) = (size.width as usize, size.height as usize);
    let tw = w.div_ceil(TILE);
    let head = parse_head(body, size).ok()?;
    let ctl = &body[head.ctl];
    let res = &body[head.res_at..];
    let mut u = CacheUse {
        key,
        ..CacheUse::default()
    };
    let mut rp = 0usize;
    for (at, &code) in ctl.iter().enumerate() {
        let (cw, ch) = (TILE.min(w - at % tw * TILE), TILE.min(h - at / tw * TILE));
        rp += match code & 7 {
            op::SOLID => 3,
            op::PALETTE => 1 + 3 * (usize::from(*res.get(rp)?) + 1),
            op::PIXELS => cw * ch * 3,
            op::CACHE => {
                let b = res.get(rp..rp + 2)?;
                u.reads.push(u16::from_le_bytes([b[0], b[1]]));
                2
            }
            _ => 0,
        };
        if cacheable(code, cw, ch) {
            u.claims += 1;
        }
    }
    (rp == res.len()).then_some(u)
}

/// Into `out`: the cache slots that the packet about to be applied (`this`;
/// the ring's next slot is `next`) may drop instead of copying when it
/// overwrites the tile they refer to, because `this` or a packet after it
/// (`ahead`, in order) claims them again before any packet reads them. A
/// `None` in `ahead` (a packet not understood) ends what is known, as does
/// the end of `ahead`: a slot not claimed again by then is kept (the frames
/// after the run may read it), unless `to_the_end` says that `ahead` is
/// the rest of the run and that what the run doesn't read may go (a seek,
/// see [`Decoder::seek`]). `read` is scratch.
fn droppable<'a>(
    next: usize,
    this: &CacheUse,
    ahead: impl IntoIterator<Item = Option<&'a CacheUse>>,
    to_the_end: bool,
    out: &mut SlotSet,
    read: &mut SlotSet,
) {
    out.clear();
    read.clear();
    // A packet reads the cache before it claims slots.
    for &r in &this.reads {
        read.insert(r.into());
    }
    out.insert_ring_range_but(next, this.claims, read);
    let (mut next, mut claimed) = (next + this.claims, this.claims);
    for u in ahead {
        // After SLOTS claims every slot was either read or claimed again.
        if claimed >= SLOTS {
            return;
        }
        let Some(u) = u else {
            return;
        };
        if u.key {
            // A keyframe empties the cache: what wasn't read is lost.
            out.insert_all_but(read);
            return;
        }
        for &r in &u.reads {
            if !out.contains(r.into()) {
                read.insert(r.into());
            }
        }
        out.insert_ring_range_but(next, u.claims, read);
        next += u.claims;
        claimed += u.claims;
    }
    if to_the_end {
        out.insert_all_but(read);
    }
}

impl Inflater {
    /// [`Inflater::packet`], and what the body does to the tile cache (for
    /// [`Decoder::decode_run`]'s lookahead; `None` if it can't be read).
    fn packet_and_use(
        &mut self,
        packet: &[u8],
        body: &mut Vec<u8>,
    ) -> Result<(Kind, Option<CacheUse>), CodecError> {
        let k = self.packet(packet, body)?;
        let key = matches!(k, Kind::Key(_));
        Ok((k, self.size.and_then(|size| cache_use(body, size, key))))
    }

    /// Reads `packet`'s header and inflates its body into `body`.
    fn packet(&mut self, packet: &[u8], body: &mut Vec<u8>) -> Result<Kind, CodecError> {
        let (kind, at, raw_len) = self.header(packet)?;
        if !matches!(kind, Kind::Unchanged) {
            self.inflate(&packet[at..], raw_len, body, None)?;
        }
        Ok(kind)
    }

    /// Reads `packet`'s header: what it is, where its zstd data starts and
    /// the length of its body (0 and 0 for an unchanged packet). A keyframe
    /// starts a new zstd stream.
    fn header(&mut self, packet: &[u8]) -> Result<(Kind, usize, usize), CodecError> {
        let mut c = Cursor { b: packet, pos: 1 };
        let kind = match packet.first() {
            Some(&packet::UNCHANGED) => {
                if packet.len() != 1 {
                    return Err(malformed(
                        1,
                        format!("unchanged packet of {} bytes, expected 1", packet.len()),
                    ));
                }
                return if self.size.is_some() {
                    Ok((Kind::Unchanged, 0, 0))
                } else {
                    Err(CodecError::NeedKeyframe)
                };
            }
            Some(&packet::KEY) => {
                let w = c.varint()?;
                let h = c.varint()?;
                let (Ok(w), Ok(h)) = (u32::try_from(w), u32::try_from(h)) else {
                    return Err(malformed(1, format!("frame size {w}x{h} out of range")));
                };
                let size = Size::new(w, h);
                self.limits.check_size(size)?;
                self.limits.check_alloc(size.area() * 8)?;
                self.size = Some(size);
                // A new zstd stream. The context is reused from keyframe to
                // keyframe: its window stays allocated (a fresh one costs
                // page faults on every seek).
                if let Some(z) = self.zstd.as_mut() {
                    zstd::stream::raw::Operation::reinit(z)
                        .map_err(|e| CodecError::Zstd(e.to_string()))?;
                } else {
                    let mut z = zstd::stream::raw::Decoder::new()
                        .map_err(|e| CodecError::Zstd(e.to_string()))?;
                    z.set_parameter(zstd::stream::raw::DParameter::WindowLogMax(
                        crate::WINDOW_LOG,
                    ))
                    .map_err(|e| CodecError::Zstd(e.to_string()))?;
                    self.zstd = Some(z);
                }
                Kind::Key(size)
            }
            Some(&packet::DELTA) => {
                if self.size.is_none() {
                    return Err(CodecError::NeedKeyframe);
                }
                Kind::Delta
            }
            Some(&b) => {
                return Err(malformed(
                    0,
                    format!(
                    "packet type {b:#04x}, expected 0x4b (key), 0x44 (delta) or 0x55 (unchanged)"
                ),
                ))
            }
            None => return Err(malformed(0, "empty packet")),
        };
        let Some(size) = self.size else {
            return Err(CodecError::NeedKeyframe);
        };
        let raw_len = c.varint()?;
        let (w, h) = (size.width as usize, size.height as usize);
        let (tw, th) = (w.div_ceil(TILE), h.div_ceil(TILE));
        // The body can't legitimately exceed this: every tile as PIXELS plus headers.
        let max_body = (w * h * 3 + tw * th * 64 + 4096) as u64;
        if raw_len > max_body {
            return Err(malformed(
                1,
                format!("body of {raw_len} bytes claimed, at most {max_body} possible for {size}"),
            ));
        }
        Ok((kind, c.pos, raw_len as usize))
    }

    /// Inflates the next `raw_len` bytes of the stream from `input` into
    /// `body`; with `pieces` (`(n, send)`), into pieces of at most `n` bytes
    /// instead, each full one given to `send` (the last stays in `body`).
    fn inflate(
        &mut self,
        input: &[u8],
        raw_len: usize,
        body: &mut Vec<u8>,
        mut pieces: Option<Pieces<'_>>,
    ) -> Result<(), CodecError> {
        use zstd::stream::raw::{InBuffer, Operation, OutBuffer};
        let Some(z) = self.zstd.as_mut() else {
            return Err(CodecError::NeedKeyframe);
        };
        // zstd writes into the vector's spare capacity (no zero-filling
        // first); it may write up to the capacity, which `raw_len` bounds
        // unless an earlier packet was bigger: more than announced is an
        // error either way.
        let piece = pieces.as_ref().map_or(raw_len, |&(n, _)| n.max(1));
        body.clear();
        body.reserve(raw_len.min(piece));
        let mut inb = InBuffer::around(input);
        // Bytes produced in all, and before the piece in `body`.
        let (mut produced, mut sent) = (0, 0);
        let mut spare = [0u8; 1];
        loop {
            let done_in = inb.pos() == input.len();
            let before = (inb.pos(), produced);
            if produced < raw_len {
                if let Some((_, send)) = pieces.as_mut().filter(|_| body.len() == body.capacity()) {
                    let next = Vec::with_capacity((raw_len - produced).min(piece));
                    send(std::mem::replace(body, next));
                    sent = produced;
                }
                let mut out = OutBuffer::around_pos(body, produced - sent);
                z.run(&mut inb, &mut out)
                    .map_err(|e| CodecError::Zstd(e.to_string()))?;
                let n = sent + out.pos() - produced;
                produced = sent + out.pos();
                if produced > raw_len {
                    return Err(malformed(
                        0,
                        format!("compressed body longer than the {raw_len} bytes announced"),
                    ));
                }
                if n == 0 && done_in {
                    return Err(malformed(
                        0,
                        format!("compressed body ends after {produced} of {raw_len} bytes"),
                    ));
                }
            } else {
                // Everything expected arrived; no more may follow.
                let mut out = OutBuffer::around(&mut spare[..]);
                z.run(&mut inb, &mut out)
                    .map_err(|e| CodecError::Zstd(e.to_string()))?;
                if out.pos() > 0 {
                    return Err(malformed(
                        0,
                        format!("compressed body longer than the {raw_len} bytes announced"),
                    ));
                }
                if inb.pos() == input.len() {
                    return Ok(());
                }
                if done_in {
                    return Ok(());
                }
            }
            // Each turn must consume input or produce output: hostile input
            // can't make this loop spin.
            if (inb.pos(), produced) == before {
                return Err(malformed(
                    inb.pos(),
                    format!("compressed body stalls after {produced} of {raw_len} bytes"),
                ));
            }
        }
    }
}

impl Frames {
    /// Applies an inflated packet of a run (see [`Decoder::decode_run`]):
    /// `u` is its cache use, `ahead` that of the packets inflated after it,
    /// in order. Cached tiles that no packet reads before they are claimed
    /// again are dropped instead of copied when the packet overwrites them.
    fn apply_in_run<'a>(
        &mut self,
        kind: Kind,
        body: &[u8],
        u: Option<&CacheUse>,
        ahead: impl IntoIterator<Item = Option<&'a CacheUse>>,
        to_the_end: bool,
        cores: Option<&Cores>,
    ) -> Result<(), CodecError> {
        if let (Kind::Delta, Some(u)) = (kind, u) {
            let next = self.cache.next_slot();
            droppable(
                next,
                u,
                ahead,
                to_the_end,
                &mut self.droppable,
                &mut self.read_ahead,
            );
        }
        let r = self.apply(kind, body, cores);
        self.droppable.clear();
        r
    }

    /// Applies an inflated packet to the frame.
    ///
    /// `cores`: see [`Cores`].
    fn apply(&mut self, kind: Kind, body: &[u8], cores: Option<&Cores>) -> Result<(), CodecError> {
        let key = match kind {
            Kind::Unchanged => return Ok(()),
            Kind::Delta => false,
            Kind::Key(size) => {
                self.start_key(size);
                true
            }
        };
        let Some(size) = self.size else {
            return Err(CodecError::NeedKeyframe);
        };
        let (tw, th) = (
            (size.width as usize).div_ceil(TILE),
            (size.height as usize).div_ceil(TILE),
        );
        self.apply_body(body, key, tw, th, cores)
    }

    /// Makes ready for a keyframe of `size`. A keyframe writes every pixel:
    /// the buffers are only resized (and zeroed) when the size changes.
    fn start_key(&mut self, size: Size) {
        let n = (size.area() * 4) as usize;
        if self.cur.len() != n {
            // A zeroed allocation this big is mapped lazily: no zero-filling
            // pass before the keyframe writes it.
            self.cur = vec![0; n];
        }
        if self.prev.len() != n {
            // Allocated when a delta first needs it (most never do).
            self.prev = Vec::new();
        }
        self.size = Some(size);
    }

    /// Applies a keyframe of `size` whose body arrives in pieces: `more`
    /// appends the next piece to `body` (emptied first) and says `false`
    /// once there are none left. The tile rows are decoded as their data
    /// arrives, on this thread while another inflates the rest; the rows
    /// left when the last piece arrives go on every thread when they are
    /// many. The frame is the same as [`Frames::apply`]'s; bad data is an
    /// error once it is known to be (the frame is then half decoded, and the
    /// decoder needs a keyframe, as after any error).
    fn apply_key_streamed(
        &mut self,
        size: Size,
        body: &mut Vec<u8>,
        mut more: impl FnMut(&mut Vec<u8>) -> Result<bool, CodecError>,
        cores: Option<&Cores>,
    ) -> Result<(), CodecError> {
        self.start_key(size);
        let (tw, th) = (
            (size.width as usize).div_ceil(TILE),
            (size.height as usize).div_ceil(TILE),
        );
        body.clear();
        let mut complete = false;
        let head = loop {
            match parse_head(body, size) {
                Ok(head) => break head,
                Err(e) if complete => return Err(e),
                Err(_) => complete = !more(body)?,
            }
        };
        self.plan.clear();
        self.plan.reserve(tw * th);
        let mut planned = Planned::default();
        let mut rows_done = 0;
        loop {
            self.plan_tiles(body, &head, true, &mut planned, complete)?;
            if complete {
                break;
            }
            if self.plan.len() / tw > rows_done {
                // Only this thread: the other one is inflating.
                self.decode_rows(body, &head, None, rows_done, None, None);
                rows_done = self.plan.len() / tw;
            }
            complete = !more(body)?;
        }
        // The work of the rows left.
        let (w, h) = (size.width as usize, size.height as usize);
        let rest = (rows_done * tw..tw * th)
            .map(|at| {
                let (x0, y0) = (at % tw * TILE, at / tw * TILE);
                let code = body[head.ctl.start + at];
                tile_work(code, TILE.min(w - x0), TILE.min(h - y0))
            })
            .sum();
        self.decode_rows(body, &head, None, rows_done, Some(rest), cores);
        self.store_tiles(&body[head.ctl.clone()], true);
        Ok(())
    }

    fn apply_body(
        &mut self,
        body: &[u8],
        key: bool,
        tw: usize,
        th: usize,
        cores: Option<&Cores>,
    ) -> Result<(), CodecError> {
        let Some(size) = self.size else {
            return Err(CodecError::NeedKeyframe);
        };
        let head = parse_head(body, size)?;
        // Plan every tile (where its data starts) and check everything a
        // tile could find wrong, so that decoding the tiles, maybe on
        // several threads, can't fail half way.
        self.plan.clear();
        self.plan.reserve(tw * th);
        let mut planned = Planned::default();
        self.plan_tiles(body, &head, key, &mut planned, true)?;
        let ctl = &body[head.ctl.clone()];
        let res = &body[head.res_at..];
        let mut in_place = None;
        if !key {
            // The COPY tiles of the vector most of them use are done in the
            // frame itself; the others (if any) read their sources from
            // `prev`, saved before anything changes the frame.
            let vectors = copy_vectors(ctl, &head.mvs);
            let others = matches!(vectors, CopyVectors::Several(_));
            in_place = match vectors {
                CopyVectors::None => None,
                CopyVectors::One(mv) | CopyVectors::Several(mv) => Some(mv),
            };
            self.keep_what_the_delta_reads(ctl, res, &head.mvs, tw, in_place.filter(|_| others));
            if let Some(mv) = in_place {
                self.copy_in_place(ctl, &head.mvs, mv, tw, th);
            }
        }
        self.decode_rows(body, &head, in_place, 0, Some(planned.work), cores);
        self.store_tiles(ctl, key);
        Ok(())
    }

    /// Plans the tiles of `body` (sections at `head`) from the first one
    /// not in `self.plan` yet: where each tile's data starts, after checking
    /// everything a tile could find wrong. With `complete`, the body is
    /// whole: every tile must be planned and every byte used. Otherwise
    /// (a keyframe still arriving, see [`Frames::apply_key_streamed`]),
    /// planning stops, without an error, at the first tile whose residual
    /// bytes haven't all arrived.
    fn plan_tiles(
        &mut self,
        body: &[u8],
        head: &Head,
        key: bool,
        planned: &mut Planned,
        complete: bool,
    ) -> Result<(), CodecError> {
        let Some(size) = self.size else {
            return Err(CodecError::NeedKeyframe);
        };
        let (w, h) = (size.width as usize, size.height as usize);
        let tw = w.div_ceil(TILE);
        let ctl = &body[head.ctl.clone()];
        let idx = &body[head.idx.clone()];
        let res = &body[head.res_at..];
        while self.plan.len() < ctl.len() {
            let at = self.plan.len();
            let code = ctl[at];
            let (x0, y0) = (at % tw * TILE, at / tw * TILE);
            let (cw, ch) = (TILE.min(w - x0), TILE.min(h - y0));
            let Planned { ip, rp, .. } = *planned;
            let arrived = res.len() - rp;
            // Whether the tile's next `n` residual bytes are still to come
            // (an error if none will).
            let missing = |n: usize| -> Result<bool, CodecError> {
                match (n > arrived, complete) {
                    (false, _) => Ok(false),
                    (true, false) => Ok(true),
                    (true, true) => Err(malformed(
                        head.res_at + rp,
                        format!("tile data of {n} bytes, only {arrived} present"),
                    )),
                }
            };
            let (n_res, n_idx) = match code & 7 {
                op::SKIP if !key => (0, 0),
                op::SOLID => (3, 0),
                op::COPY if !key => {
                    let i = usize::from(code >> 3);
                    let Some(&(dx, dy)) = head.mvs.get(i) else {
                        return Err(malformed(
                            at,
                            format!("copy uses motion vector {i} of {}", head.mvs.len()),
                        ));
                    };
                    let (sx, sy) = (x0 as i64 + dx, y0 as i64 + dy);
                    if sx < 0 || sy < 0 || sx as usize + cw > w || sy as usize + ch > h {
                        return Err(malformed(
                            at,
                            format!("copy source ({sx},{sy}) outside the {size} frame"),
                        ));
                    }
                    (0, 0)
                }
                op::PALETTE => {
                    if missing(1)? {
                        return Ok(());
                    }
                    let n = usize::from(res[rp]) + 1;
                    if n > 16 {
                        return Err(malformed(
                            head.res_at + rp,
                            format!("palette of {n} colours, at most 16"),
                        ));
                    }
                    if cw * ch > idx.len() - ip {
                        return Err(malformed(at, "palette indices run out"));
                    }
                    let ix = &idx[ip..ip + cw * ch];
                    if let Some(bad) = ix.iter().position(|&i| usize::from(i) >= n) {
                        return Err(malformed(
                            ip + bad,
                            format!("palette index {} of {n} colours", ix[bad]),
                        ));
                    }
                    (1 + n * 3, cw * ch)
                }
                op::CACHE if !key => {
                    if missing(2)? {
                        return Ok(());
                    }
                    let slot = u16::from_le_bytes([res[rp], res[rp + 1]]);
                    if cw == TILE && ch == TILE && self.cache.is_dropped(slot.into()) {
                        return Err(CodecError::TileDropped { slot });
                    }
                    if cw != TILE || ch != TILE || !self.cache.has(slot.into()) {
                        return Err(malformed(
                            at,
                            format!("cache slot {slot} is empty or the tile is not full-size"),
                        ));
                    }
                    (2, 0)
                }
                op::PIXELS => (cw * ch * 3, 0),
                other => {
                    return Err(malformed(
                        at,
                        format!(
                            "tile code {other} not allowed in a {} packet",
                            if key { "key" } else { "delta" }
                        ),
                    ));
                }
            };
            if missing(n_res)? {
                return Ok(());
            }
            self.plan.push(TilePlan { res: rp, idx: ip });
            *planned = Planned {
                ip: ip + n_idx,
                rp: rp + n_res,
                work: planned.work + tile_work(code, cw, ch),
            };
        }
        if complete && (planned.ip != idx.len() || planned.rp != res.len()) {
            return Err(malformed(body.len(), "unused bytes after the last tile"));
        }
        Ok(())
    }

    /// Decodes the planned tiles of the tile rows from `first_row` on, on
    /// several threads when their `work` makes it pay (`None`: on this
    /// thread only).
    fn decode_rows(
        &mut self,
        body: &[u8],
        head: &Head,
        in_place: Option<(i64, i64)>,
        first_row: usize,
        work: Option<usize>,
        cores: Option<&Cores>,
    ) {
        let Some(size) = self.size else { return };
        let (w, h) = (size.width as usize, size.height as usize);
        let th = h.div_ceil(TILE);
        let job = TileJob {
            w,
            h,
            tw: w.div_ceil(TILE),
            ctl: &body[head.ctl.clone()],
            plan: &self.plan,
            res: &body[head.res_at..],
            idx: &body[head.idx.clone()],
            mvs: &head.mvs,
            prev: &self.prev,
            cache: self.cache.flushed(),
            in_place,
        };
        let last_row = (self.plan.len() / job.tw).min(th);
        let threads = self.threads.min(last_row.saturating_sub(first_row));
        if threads > 1 && work.is_some_and(|w| w >= self.min_parallel_work) {
            let (cur, edges) = (&mut self.cur, &mut self.edges);
            let mut all = || decode_rows_parallel(&job, cur, threads, edges, first_row..last_row);
            match cores {
                Some(c) => c.all(all),
                None => all(),
            }
        } else {
            let row_len = TILE * w * 4;
            let mut top = [0u8; (TILE + 1) * 4];
            for ty in first_row..last_row {
                let (done, rest) = self.cur.split_at_mut(ty * row_len);
                let n = row_len.min(rest.len());
                let rows = &mut rest[..n];
                let above = done.len().checked_sub(w * 4).map(|a| &done[a..]);
                job.row(
                    ty,
                    rows,
                    &mut self.tile_planes,
                    &mut top,
                    |_, first, end, out| {
                        if let Some(above) = above {
                            out.copy_from_slice(&above[first * 4..end * 4]);
                        }
                        true
                    },
                    |_, _| {},
                );
            }
        }
    }

    /// After a packet is decoded, its new content goes into the tile cache
    /// (CODEC.md §3.1): as references to the frame, copied when they would
    /// be lost. A keyframe empties the cache first.
    fn store_tiles(&mut self, ctl: &[u8], key: bool) {
        let Some(size) = self.size else { return };
        let (w, h) = (size.width as usize, size.height as usize);
        let (tw, th) = (w.div_ceil(TILE), h.div_ceil(TILE));
        if key {
            self.cache.reset(tw * th);
        }
        for ty in 0..th {
            for tx in 0..tw {
                let (cw, ch) = (TILE.min(w - tx * TILE), TILE.min(h - ty * TILE));
                if cacheable(ctl[ty * tw + tx], cw, ch) {
                    self.cache.store(ty * tw + tx);
                }
            }
        }
    }

    /// Before a planned delta changes the frame: copies what its tiles read
    /// and would otherwise lose. Cache slots still referring to a position
    /// this packet writes, or read by a CACHE tile, get their pixels; with
    /// `save_copy_sources_but(v)`, the tiles of the previous frame under the
    /// source of each COPY not moving by `v` go to `prev` (a COPY reads the
    /// previous frame, and its source may be written by this packet or, on
    /// another thread, be in the middle of being written; those moving by
    /// `v` are done in place).
    fn keep_what_the_delta_reads(
        &mut self,
        ctl: &[u8],
        res: &[u8],
        mvs: &[(i64, i64)],
        tw: usize,
        save_copy_sources_but: Option<(i64, i64)>,
    ) {
        let save_copy_sources = save_copy_sources_but.is_some();
        let Some(size) = self.size else { return };
        let (w, h) = (size.width as usize, size.height as usize);
        if save_copy_sources {
            self.saved.clear();
            self.saved.resize(ctl.len(), false);
            if self.prev.len() != self.cur.len() {
                self.prev = vec![0; self.cur.len()];
            }
        }
        let rb = w * 4;
        for (at, &code) in ctl.iter().enumerate() {
            let (x0, y0) = (at % tw * TILE, at / tw * TILE);
            match code & 7 {
                op::SKIP => continue,
                op::CACHE => {
                    let rp = self.plan[at].res;
                    let slot = usize::from(u16::from_le_bytes([res[rp], res[rp + 1]]));
                    self.cache.flush_slot(slot, &self.cur, w, tw);
                }
                op::COPY
                    if save_copy_sources
                        && Some(mvs[usize::from(code >> 3)]) != save_copy_sources_but =>
                {
                    // The plan checked that the source lies inside the frame.
                    let (dx, dy) = mvs[usize::from(code >> 3)];
                    let (cw, ch) = (TILE.min(w - x0), TILE.min(h - y0));
                    let (sx, sy) = ((x0 as i64 + dx) as usize, (y0 as i64 + dy) as usize);
                    for ty in sy / TILE..=(sy + ch - 1) / TILE {
                        for tx in sx / TILE..=(sx + cw - 1) / TILE {
                            let t = ty * tw + tx;
                            if std::mem::replace(&mut self.saved[t], true) {
                                continue;
                            }
                            let (a, b) = (tx * TILE * 4, ((tx + 1) * TILE).min(w) * 4);
                            for y in ty * TILE..((ty + 1) * TILE).min(h) {
                                let r = y * rb + a..y * rb + b;
                                self.prev[r.clone()].copy_from_slice(&self.cur[r]);
                            }
                        }
                    }
                }
                _ => {}
            }
            if self
                .cache
                .flush_pos_unless(at, &self.cur, w, tw, &self.droppable)
            {
                self.dropped += 1;
            }
        }
    }

    /// Does a delta's COPY tiles that move by `(dx, dy)` in the frame
    /// itself, before its other tiles (which read no previous frame, only
    /// the frame as decoded so far, and so see the copies either way, or
    /// read sources saved before this) and without saving their sources:
    /// like `memmove`, tiles go in the order that reads every source before
    /// it is overwritten (rows from the side the content comes from, and
    /// columns likewise). A window dragged or a page scrolled is one
    /// vector: each of its tiles is then copied once instead of twice.
    fn copy_in_place(
        &mut self,
        ctl: &[u8],
        mvs: &[(i64, i64)],
        (dx, dy): (i64, i64),
        tw: usize,
        th: usize,
    ) {
        let Some(size) = self.size else { return };
        let (w, h) = (size.width as usize, size.height as usize);
        let rb = w * 4;
        for i in 0..th {
            let ty = if dy < 0 { th - 1 - i } else { i };
            for j in 0..tw {
                let tx = if dx < 0 { tw - 1 - j } else { j };
                let code = ctl[ty * tw + tx];
                if code & 7 != op::COPY || mvs[usize::from(code >> 3)] != (dx, dy) {
                    continue;
                }
                let (x0, y0) = (tx * TILE, ty * TILE);
                let (cw, ch) = (TILE.min(w - x0), TILE.min(h - y0));
                // The plan checked that the source lies inside the frame.
                let (sx, sy) = ((x0 as i64 + dx) as usize, (y0 as i64 + dy) as usize);
                for k in 0..ch {
                    let r = if dy < 0 { ch - 1 - k } else { k };
                    let src = (sy + r) * rb + sx * 4;
                    self.cur
                        .copy_within(src..src + cw * 4, (y0 + r) * rb + x0 * 4);
                }
            }
        }
    }
}

/// The motion vectors a delta's COPY tiles use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CopyVectors {
    /// No COPY tiles.
    None,
    /// All of them use this one.
    One((i64, i64)),
    /// More than one; this one moves the most tiles (the first of those
    /// listed if several do).
    Several((i64, i64)),
}

/// Which vectors a delta's COPY tiles use (the plan checked the indices).
fn copy_vectors(ctl: &[u8], mvs: &[(i64, i64)]) -> CopyVectors {
    let mut per_index = [0usize; 32];
    for &code in ctl {
        if code & 7 == op::COPY {
            per_index[usize::from(code >> 3)] += 1;
        }
    }
    // Tiles per distinct vector (a list may name a vector twice), in the
    // order listed.
    let mut per_vector: Vec<((i64, i64), usize)> = Vec::new();
    for (&v, &n) in mvs.iter().zip(&per_index).filter(|&(_, &n)| n > 0) {
        match per_vector.iter_mut().find(|(u, _)| *u == v) {
            Some((_, m)) => *m += n,
            None => per_vector.push((v, n)),
        }
    }
    let most = per_vector
        .iter()
        .rev()
        .max_by_key(|&&(_, n)| n)
        .map(|&(v, _)| v);
    match (most, per_vector.len()) {
        (None, _) => CopyVectors::None,
        (Some(v), 1) => CopyVectors::One(v),
        (Some(v), _) => CopyVectors::Several(v),
    }
}

/// Where the sections of a packet body lie (CODEC.md §2): its motion
/// vectors, and the byte ranges of its tile codes and palette indices; the
/// residuals are the rest of the body.
struct Head {
    mvs: Vec<(i64, i64)>,
    ctl: Range<usize>,
    idx: Range<usize>,
    res_at: usize,
}

/// Reads where the sections of a body for frames of `size` lie; an error
/// if they don't hold together or the body (so far) ends before its
/// palette indices do.
fn parse_head(body: &[u8], size: Size) -> Result<Head, CodecError> {
    let (tw, th) = (
        (size.width as usize).div_ceil(TILE),
        (size.height as usize).div_ceil(TILE),
    );
    let mut c = Cursor { b: body, pos: 0 };
    let n_mv = c.varint()?;
    if n_mv > 31 {
        return Err(malformed(
            0,
            format!("{n_mv} motion vectors, at most 31 allowed"),
        ));
    }
    let mut mvs = Vec::new();
    for _ in 0..n_mv {
        let at = c.pos;
        let dx =
            unzigzag(c.varint()?).ok_or_else(|| malformed(at, "motion vector x beyond 32 bits"))?;
        let at = c.pos;
        let dy =
            unzigzag(c.varint()?).ok_or_else(|| malformed(at, "motion vector y beyond 32 bits"))?;
        mvs.push((dx, dy));
    }
    let n_ctl = c.varint()?;
    if n_ctl != (tw * th) as u64 {
        return Err(malformed(
            c.pos,
            format!("{n_ctl} tile codes, expected {} for {size}", tw * th),
        ));
    }
    let ctl_at = c.pos;
    c.take(n_ctl, "tile codes")?;
    let ctl = ctl_at..c.pos;
    let n_idx = c.varint()?;
    let idx_at = c.pos;
    c.take(n_idx, "palette indices")?;
    Ok(Head {
        mvs,
        ctl,
        idx: idx_at..c.pos,
        res_at: c.pos,
    })
}

/// How far the planning of a body's tiles has got: the palette indices and
/// residual bytes of the tiles planned, and their decoding work.
#[derive(Clone, Copy, Default)]
struct Planned {
    ip: usize,
    rp: usize,
    work: usize,
}

/// A tile's decoding work, in the units of the keyframe policy (CODEC.md
/// §8): a predicted pixel 4, a palette pixel 1, a solid, copied or cached
/// pixel 1/4.
fn tile_work(code: u8, cw: usize, ch: usize) -> usize {
    match code & 7 {
        op::SOLID | op::COPY | op::CACHE => cw * ch / 4,
        op::PALETTE => cw * ch,
        op::PIXELS => cw * ch * 4,
        _ => 0,
    }
}

/// Where a tile's data starts in the residual and palette-index streams.
#[derive(Clone, Copy, Debug)]
struct TilePlan {
    res: usize,
    idx: usize,
}

/// Shares the cores between the inflating thread of
/// [`Decoder::decode_run`] and a packet whose tiles are decoded on several
/// threads: those threads wait for each other (a tile waits for the one
/// above it), so the inflating thread must not take a core from one of
/// them. The inflating thread waits between packets while such a packet is
/// decoded, and that packet waits for the packet being inflated (the
/// applying thread gets its turn at the next packet, whoever is faster).
#[derive(Default)]
struct Cores {
    state: Mutex<Turns>,
    turn: Condvar,
}

/// What [`Cores`] guards.
#[derive(Default)]
struct Turns {
    /// A packet is being inflated.
    inflating: bool,
    /// The applying thread wants every core.
    all: bool,
}

impl Cores {
    fn lock(&self) -> MutexGuard<'_, Turns> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, g: MutexGuard<'a, Turns>) -> MutexGuard<'a, Turns> {
        self.turn.wait(g).unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` (inflating one packet) once no packet is using every core.
    fn inflating<R>(&self, f: impl FnOnce() -> R) -> R {
        let mut g = self.lock();
        while g.all {
            g = self.wait(g);
        }
        g.inflating = true;
        drop(g);
        let r = f();
        self.lock().inflating = false;
        self.turn.notify_all();
        r
    }

    /// Runs `f` (decoding a packet's tiles on several threads) once no
    /// packet is being inflated; no inflating starts meanwhile.
    fn all<R>(&self, f: impl FnOnce() -> R) -> R {
        let mut g = self.lock();
        g.all = true;
        while g.inflating {
            g = self.wait(g);
        }
        drop(g);
        let r = f();
        self.lock().all = false;
        self.turn.notify_all();
        r
    }
}

/// How many bodies the inflating thread of [`Decoder::decode_run`] may run
/// ahead of the applying one, and how many bytes of bodies it may hold
/// (one body may take it past that: a whole 1080p keyframe is 6 MB). The
/// further it runs ahead, the more cached tiles the applying side knows it
/// can drop (measured 24 Nov on `desktop-1080`'s group ends: 32 bodies or
/// 16 MiB, worst 26.9–29.0 ms; 128 or 24 MiB, 21.0–23.2 ms; no limit, the same).
const AHEAD: usize = 128;
const AHEAD_BYTES: usize = 24 << 20;

/// How many pieces of a keyframe being applied as it inflates may wait for
/// the applying side (of 4–256 KiB: a 1080p keyframe comes in ~24).
const PIECES_AHEAD: usize = 64;

/// Most threads a decoder uses.
const MAX_THREADS: usize = 4;

/// Decoding work (CODEC.md §8 units) from which a packet's tiles are
/// decoded on several threads: about 256 tiles of PIXELS (an eighth of a
/// 1080p frame, 1–2 ms of work), so that starting the threads (up to 0.2 ms
/// on a virtual machine) costs little. Measured with `g2a-report play`.
const PARALLEL_WORK: usize = 256 * TILE * TILE * 4;

/// One packet's tiles, planned and checked: decoding them can't fail.
struct TileJob<'a> {
    w: usize,
    h: usize,
    tw: usize,
    ctl: &'a [u8],
    plan: &'a [TilePlan],
    res: &'a [u8],
    idx: &'a [u8],
    mvs: &'a [(i64, i64)],
    prev: &'a [u8],
    cache: &'a TileCache,
    /// The vector whose COPY tiles are done already
    /// ([`Frames::copy_in_place`]); the others read `prev`.
    in_place: Option<(i64, i64)>,
}

impl TileJob<'_> {
    /// Decodes tile row `ty` into `rows` (its pixel rows of the current
    /// frame). `above(tx, first, end, out)` fills `out` with the pixels
    /// `first..end` of the frame row just above, once tile `tx` of the row
    /// above is complete (false: give up, another thread failed);
    /// `done(tx, rows)` is told when tile `tx` is complete.
    fn row(
        &self,
        ty: usize,
        rows: &mut [u8],
        work: &mut Vec<u8>,
        top: &mut [u8; (TILE + 1) * 4],
        mut above: impl FnMut(usize, usize, usize, &mut [u8]) -> bool,
        mut done: impl FnMut(usize, &[u8]),
    ) {
        let (w, rb) = (self.w, self.w * 4);
        let y0 = ty * TILE;
        let ch = TILE.min(self.h - y0);
        for tx in 0..self.tw {
            let at = ty * self.tw + tx;
            let code = self.ctl[at];
            let TilePlan { res: rp, idx: ip } = self.plan[at];
            let (x0, x1) = (tx * TILE, ((tx + 1) * TILE).min(w));
            let cw = x1 - x0;
            match code & 7 {
                op::SOLID => {
                    let px = [self.res[rp], self.res[rp + 1], self.res[rp + 2], 255];
                    for row in rows.chunks_exact_mut(rb) {
                        for p in row[x0 * 4..x1 * 4].chunks_exact_mut(4) {
                            p.copy_from_slice(&px);
                        }
                    }
                }
                op::COPY if Some(self.mvs[usize::from(code >> 3)]) != self.in_place => {
                    let (dx, dy) = self.mvs[usize::from(code >> 3)];
                    let (sx, sy) = ((x0 as i64 + dx) as usize, (y0 as i64 + dy) as usize);
                    for (r, row) in rows.chunks_exact_mut(rb).enumerate() {
                        let src = (sy + r) * rb + sx * 4;
                        row[x0 * 4..x1 * 4].copy_from_slice(&self.prev[src..src + cw * 4]);
                    }
                }
                op::PALETTE => {
                    let n = usize::from(self.res[rp]) + 1;
                    let cols = &self.res[rp + 1..rp + 1 + n * 3];
                    let ix = &self.idx[ip..ip + cw * ch];
                    for (row, ix) in rows.chunks_exact_mut(rb).zip(ix.chunks_exact(cw)) {
                        for (p, &i) in row[x0 * 4..x1 * 4].chunks_exact_mut(4).zip(ix) {
                            let i = usize::from(i) * 3;
                            p[..3].copy_from_slice(&cols[i..i + 3]);
                            p[3] = 255;
                        }
                    }
                }
                op::CACHE => {
                    let slot = usize::from(u16::from_le_bytes([self.res[rp], self.res[rp + 1]]));
                    self.cache.put(slot, rows, w, x0, 0);
                }
                op::PIXELS => {
                    let top = if y0 > 0 {
                        let first = x0.saturating_sub(1);
                        let out = &mut top[..(x1 - first) * 4];
                        if !above(tx, first, x1, out) {
                            return;
                        }
                        Some(&*out)
                    } else {
                        None
                    };
                    let t = TileRect { x0, cw, ch };
                    let planes = &self.res[rp..rp + cw * ch * 3];
                    decode_pixels_tile(rows, work, w, t, top, planes);
                }
                // SKIP (the plan admits nothing else).
                _ => {}
            }
            done(tx, rows);
        }
    }
}

/// The bottom pixel row of every tile row, published tile by tile by the
/// thread decoding it for the thread decoding the row below (a wavefront:
/// a PIXELS tile predicts from the row above it).
#[derive(Default)]
struct Edges {
    /// `th` rows of `w` pixels (BGRA as little-endian words).
    px: Vec<AtomicU32>,
    /// Tiles complete in each tile row.
    done: Vec<Counter>,
}

/// A progress counter alone on its cache line (no false sharing between
/// the rows' threads).
#[derive(Default)]
#[repr(align(128))]
struct Counter(AtomicUsize);

/// Decodes the tile rows `rows` of `job` on `threads` threads (the
/// caller's among them); the rows above them are decoded already. Rows are
/// claimed in order, so a thread only ever waits on a row that is being
/// decoded.
fn decode_rows_parallel(
    job: &TileJob<'_>,
    cur: &mut [u8],
    threads: usize,
    edges: &mut Edges,
    rows: Range<usize>,
) {
    let (w, th) = (job.w, job.h.div_ceil(TILE));
    if edges.px.len() < w * th {
        edges.px.resize_with(w * th, || AtomicU32::new(0));
    }
    edges.done.clear();
    edges.done.resize_with(th, Counter::default);
    let edges = &*edges;
    let failed = AtomicBool::new(false);
    let first = rows.start;
    let (done, rest) = cur.split_at_mut(first * TILE * w * 4);
    // The frame row above the first tile row (decoded already).
    let above_first: &[u8] = &done[done.len().saturating_sub(w * 4)..];
    let rows = Mutex::new(
        rest.chunks_mut(TILE * w * 4)
            .take(rows.len())
            .enumerate()
            .map(|(i, chunk)| (first + i, chunk)),
    );
    let worker = || {
        // A panicking thread lets the others stop waiting for it.
        struct Flag<'a>(&'a AtomicBool);
        impl Drop for Flag<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.store(true, Ordering::Relaxed);
                }
            }
        }
        let _flag = Flag(&failed);
        let mut work = Vec::new();
        let mut top = [0u8; (TILE + 1) * 4];
        loop {
            let next = rows.lock().unwrap_or_else(PoisonError::into_inner).next();
            let Some((ty, chunk)) = next else { return };
            let above = |tx: usize, from: usize, end: usize, out: &mut [u8]| {
                if ty == first {
                    out.copy_from_slice(&above_first[from * 4..end * 4]);
                    return true;
                }
                let progress = &edges.done[ty - 1].0;
                let mut spins = 0u32;
                while progress.load(Ordering::Acquire) <= tx {
                    if failed.load(Ordering::Relaxed) {
                        return false;
                    }
                    spins += 1;
                    if spins < 256 {
                        std::hint::spin_loop();
                    } else {
                        std::thread::yield_now();
                    }
                }
                let line = &edges.px[(ty - 1) * w..ty * w];
                for (o, p) in out.chunks_exact_mut(4).zip(&line[from..end]) {
                    o.copy_from_slice(&p.load(Ordering::Relaxed).to_le_bytes());
                }
                true
            };
            let publish = |tx: usize, chunk: &[u8]| {
                let (x0, x1) = (tx * TILE, ((tx + 1) * TILE).min(w));
                if ty + 1 < th {
                    let last = &chunk[chunk.len() - w * 4..];
                    let line = &edges.px[ty * w..(ty + 1) * w];
                    for (p, v) in line[x0..x1]
                        .iter()
                        .zip(last[x0 * 4..x1 * 4].chunks_exact(4))
                    {
                        p.store(
                            u32::from_le_bytes([v[0], v[1], v[2], v[3]]),
                            Ordering::Relaxed,
                        );
                    }
                }
                edges.done[ty].0.store(tx + 1, Ordering::Release);
            };
            job.row(ty, chunk, &mut work, &mut top, above, publish);
        }
    };
    std::thread::scope(|s| {
        for _ in 1..threads {
            s.spawn(worker);
        }
        worker();
    });
}

/// A tile's place in its tile row.
#[derive(Clone, Copy)]
struct TileRect {
    x0: usize,
    cw: usize,
    ch: usize,
}

/// Decodes a PIXELS tile (CODEC.md §4): the residuals of the three planes
/// (`g`, `r - g`, `b - g`, each `cw * ch` bytes in raster order) plus the
/// MED prediction from the already decoded pixels to the left and above.
///
/// `rows` are the tile row's pixel rows of the frame (width `w`); `top` the
/// pixels of the frame row above the tile, from column `x0 - 1` (`x0` at the
/// left edge) to the tile's right end, `None` at the top of the frame.
/// Works on a copy of the tile in plane values with a one-pixel border (the
/// row above and the column to the left), 4 bytes a pixel (the three planes
/// and a zero), so that a row is one loop of [`med_row`] with the three
/// planes side by side; then writes the pixels back in BGRA.
fn decode_pixels_tile(
    rows: &mut [u8],
    work: &mut Vec<u8>,
    w: usize,
    t: TileRect,
    top: Option<&[u8]>,
    res: &[u8],
) {
    let TileRect { x0, cw, ch } = t;
    let sw = (cw + 1) * 4;
    work.clear();
    work.resize(sw * (ch + 1), 0);
    // Borders from the frame (zero where the frame has none: never read then,
    // except the left neighbour of the frame's top-left pixel, which is 0).
    if let Some(top) = top {
        let first = x0.saturating_sub(1);
        for gx in first..x0 + cw {
            let i = (gx + 1 - x0) * 4;
            work[i..i + 3].copy_from_slice(&planes(top, (gx - first) * 4));
        }
    }
    if x0 > 0 {
        for y in 0..ch {
            let i = (y + 1) * sw;
            work[i..i + 3].copy_from_slice(&planes(rows, (y * w + x0 - 1) * 4));
        }
    }
    let n = cw * ch;
    let q = |y: usize| {
        let rs = y * cw..(y + 1) * cw;
        [
            &res[rs.clone()],
            &res[n + rs.start..n + rs.end],
            &res[2 * n + rs.start..2 * n + rs.end],
        ]
    };
    let mut y = 0;
    while y < ch {
        // Rows y (and y + 1 when there is one) of the tile: work rows
        // y + 1 (and y + 2) below work row y.
        let pair = y + 1 < ch && !(y == 0 && top.is_none());
        let (above, below) = work.split_at_mut((y + 1) * sw);
        let up = &above[y * sw..];
        if y == 0 && top.is_none() {
            // Top row of the frame: predict from the left (0 at x = 0).
            let cur = &mut below[..sw];
            let q = q(0);
            let mut l = [cur[0], cur[1], cur[2]];
            let res = q[0].iter().zip(q[1]).zip(q[2]);
            for (d, ((&e0, &e1), &e2)) in cur[4..].chunks_exact_mut(4).zip(res) {
                l = [
                    e0.wrapping_add(l[0]),
                    e1.wrapping_add(l[1]),
                    e2.wrapping_add(l[2]),
                ];
                d[..3].copy_from_slice(&l);
            }
        } else if pair {
            let (cur, next) = below[..2 * sw].split_at_mut(sw);
            let (qa, qb) = (q(y), q(y + 1));
            let start = left_edge(x0, up, cur, qa);
            left_edge(x0, cur, next, qb);
            med_rows2(up, cur, next, qa, qb, start);
        } else {
            let cur = &mut below[..sw];
            let q = q(y);
            let start = left_edge(x0, up, cur, q);
            med_row(up, cur, q, start);
        }
        // Back to BGRA (the inverse of `planes`).
        let done = if pair { 2 } else { 1 };
        for r in y..y + done {
            let row = (r * w + x0) * 4;
            let v = &work[(r + 1) * sw + 4..(r + 2) * sw];
            for (px, v) in rows[row..row + cw * 4]
                .chunks_exact_mut(4)
                .zip(v.chunks_exact(4))
            {
                px.copy_from_slice(&[v[2].wrapping_add(v[0]), v[0], v[1].wrapping_add(v[0]), 255]);
            }
        }
        y += done;
    }
}

/// At the frame's left edge (`x0 == 0`) a row's first pixel is predicted
/// from the pixel above; returns the pixel where MED prediction starts.
fn left_edge(x0: usize, up: &[u8], cur: &mut [u8], q: [&[u8]; 3]) -> usize {
    if x0 != 0 {
        return 0;
    }
    for k in 0..3 {
        cur[4 + k] = q[k][0].wrapping_add(up[4 + k]);
    }
    1
}

/// [`med_row`] for two rows at once: `cur` below `up`, `next` below `cur`,
/// with residuals `qa` and `qb`. The SIMD version runs the second row one
/// pixel behind the first in the same registers, so the two dependency
/// chains overlap.
fn med_rows2(
    up: &[u8],
    cur: &mut [u8],
    next: &mut [u8],
    qa: [&[u8]; 3],
    qb: [&[u8]; 3],
    start: usize,
) {
    #[cfg(target_arch = "x86_64")]
    {
        simd::med_rows2(up, cur, next, qa, qb, start);
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        med_row_scalar(up, cur, qa, start);
        med_row_scalar(cur, next, qb, start);
    }
}

/// MED reconstruction of the pixels `start..` of one tile row, in the
/// 4-bytes-a-pixel plane layout of [`decode_pixels_tile`]: `up` is the row
/// above and `cur` this row, both from the column left of the tile (the
/// left neighbour of pixel `x` is at `x * 4`, the pixel itself at
/// `(x + 1) * 4`); `q` the three planes' residuals of the row.
fn med_row(up: &[u8], cur: &mut [u8], q: [&[u8]; 3], start: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        simd::med_row(up, cur, q, start);
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        med_row_scalar(up, cur, q, start);
    }
}

/// [`med_row`] one plane value at a time: the reference that the SIMD
/// version is tested against, and the version of other architectures. The
/// three planes are independent dependency chains (each pixel waits on its
/// left neighbour), run side by side.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn med_row_scalar(up: &[u8], cur: &mut [u8], q: [&[u8]; 3], start: usize) {
    let cw = q[0].len();
    let mut l = [cur[start * 4], cur[start * 4 + 1], cur[start * 4 + 2]];
    let dst = cur[(start + 1) * 4..(cw + 1) * 4].chunks_exact_mut(4);
    let above = up[start * 4..cw * 4]
        .chunks_exact(4)
        .zip(up[(start + 1) * 4..(cw + 1) * 4].chunks_exact(4));
    let res = q[0][start..].iter().zip(&q[1][start..]).zip(&q[2][start..]);
    for ((d, (c, b)), ((&e0, &e1), &e2)) in dst.zip(above).zip(res) {
        l = [
            e0.wrapping_add(med(l[0], b[0], c[0])),
            e1.wrapping_add(med(l[1], b[1], c[1])),
            e2.wrapping_add(med(l[2], b[2], c[2])),
        ];
        d[..3].copy_from_slice(&l);
    }
}

/// The SSE2 version of [`med_row`]: one pixel's three planes in the 16-bit
/// lanes of one register, so the chain from a pixel to the next is six
/// vector instructions for all three planes.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod simd {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi16, _mm_and_si128, _mm_cvtsi128_si32, _mm_cvtsi128_si64,
        _mm_cvtsi64_si128, _mm_max_epi16, _mm_min_epi16, _mm_packus_epi16, _mm_set1_epi16,
        _mm_setzero_si128, _mm_sub_epi16, _mm_unpacklo_epi64, _mm_unpacklo_epi8,
    };

    /// See [`super::med_row`].
    pub(super) fn med_row(up: &[u8], cur: &mut [u8], q: [&[u8]; 3], start: usize) {
        // SAFETY: `med_row_sse2` needs SSE2, which every x86_64 CPU has (it
        // is part of the architecture's baseline, enabled for every x86_64
        // target). The function only uses slices and register intrinsics.
        unsafe { med_row_sse2(up, cur, q, start) }
    }

    /// Four bytes as 16-bit lanes (the upper four lanes zero).
    #[target_feature(enable = "sse2")]
    fn widen([b0, b1, b2, b3]: [u8; 4]) -> __m128i {
        widen8([b0, b1, b2, b3, 0, 0, 0, 0])
    }

    #[target_feature(enable = "sse2")]
    fn med_row_sse2(up: &[u8], cur: &mut [u8], q: [&[u8]; 3], start: usize) {
        let cw = q[0].len();
        let px = |b: &[u8]| [b[0], b[1], b[2], b[3]];
        let mut a = widen(px(&cur[start * 4..]));
        let mut c = widen(px(&up[start * 4..]));
        let dst = cur[(start + 1) * 4..(cw + 1) * 4].chunks_exact_mut(4);
        let above = up[(start + 1) * 4..(cw + 1) * 4].chunks_exact(4);
        let res = q[0][start..].iter().zip(&q[1][start..]).zip(&q[2][start..]);
        for ((d, b), ((&e0, &e1), &e2)) in dst.zip(above).zip(res) {
            let b = widen(px(b));
            a = step(a, b, c, widen([e0, e1, e2, 0]));
            d.copy_from_slice(&_mm_cvtsi128_si32(_mm_packus_epi16(a, a)).to_le_bytes());
            c = b;
        }
    }

    /// See [`super::med_rows2`].
    pub(super) fn med_rows2(
        up: &[u8],
        cur: &mut [u8],
        next: &mut [u8],
        qa: [&[u8]; 3],
        qb: [&[u8]; 3],
        start: usize,
    ) {
        // SAFETY: as in `med_row`: SSE2 is in every x86_64 CPU.
        unsafe { med_rows2_sse2(up, cur, next, qa, qb, start) }
    }

    /// One MED step for the 8 lanes of `a` (left), `b` (above), `c`
    /// (above left): `a + b - c` clamped to `[min(a, b), max(a, b)]`, plus
    /// the residuals `e`, modulo 256.
    #[target_feature(enable = "sse2")]
    fn step(a: __m128i, b: __m128i, c: __m128i, e: __m128i) -> __m128i {
        let lo = _mm_min_epi16(a, b);
        let hi = _mm_max_epi16(a, b);
        let grad = _mm_add_epi16(a, _mm_sub_epi16(b, c));
        let pred = _mm_min_epi16(_mm_max_epi16(grad, lo), hi);
        _mm_and_si128(_mm_add_epi16(pred, e), _mm_set1_epi16(0xFF))
    }

    /// Eight bytes as 16-bit lanes.
    #[target_feature(enable = "sse2")]
    fn widen8(b: [u8; 8]) -> __m128i {
        _mm_unpacklo_epi8(
            _mm_cvtsi64_si128(i64::from_le_bytes(b)),
            _mm_setzero_si128(),
        )
    }

    /// Lanes 0–3 hold a pixel of `cur` (pixel x), lanes 4–7 one of `next`
    /// (pixel x - 1, whose neighbours above are `cur`'s pixels x - 2 and
    /// x - 1, both done by then). The above-left vector of a step is the
    /// above vector of the step before.
    #[target_feature(enable = "sse2")]
    fn med_rows2_sse2(
        up: &[u8],
        cur: &mut [u8],
        next: &mut [u8],
        qa: [&[u8]; 3],
        qb: [&[u8]; 3],
        start: usize,
    ) {
        let cw = qa[0].len();
        if start >= cw {
            // A one-pixel-wide tile at the frame's left edge: done already.
            return;
        }
        let px = |b: &[u8]| [b[0], b[1], b[2], b[3]];
        // First step: `cur`'s pixel `start` alone (lanes 4–7 unused).
        let a0 = widen(px(&cur[start * 4..]));
        let c0 = widen(px(&up[start * 4..]));
        let b0 = widen(px(&up[(start + 1) * 4..]));
        let e0 = widen([qa[0][start], qa[1][start], qa[2][start], 0]);
        let first = step(a0, b0, c0, e0);
        let d = &mut cur[(start + 1) * 4..(start + 2) * 4];
        d.copy_from_slice(&_mm_cvtsi128_si32(_mm_packus_epi16(first, first)).to_le_bytes());
        // Lanes: `cur`'s pixel `start`, `next`'s left neighbour of `start`.
        let mut a = _mm_unpacklo_epi64(first, widen(px(&next[start * 4..])));
        // Above-left of the next step: `up`'s pixel `start` and `cur`'s
        // left neighbour of `start`.
        let mut c = _mm_unpacklo_epi64(b0, a0);
        let dst_a = cur[(start + 2) * 4..(cw + 1) * 4].chunks_exact_mut(4);
        let dst_b = next[(start + 1) * 4..cw * 4].chunks_exact_mut(4);
        let above = up[(start + 2) * 4..(cw + 1) * 4].chunks_exact(4);
        let res_a = qa[0][start + 1..]
            .iter()
            .zip(&qa[1][start + 1..])
            .zip(&qa[2][start + 1..]);
        let res_b = qb[0][start..]
            .iter()
            .zip(&qb[1][start..])
            .zip(&qb[2][start..]);
        for (((da, db), u), (((&ea0, &ea1), &ea2), ((&eb0, &eb1), &eb2))) in
            dst_a.zip(dst_b).zip(above).zip(res_a.zip(res_b))
        {
            let b = _mm_unpacklo_epi64(widen(px(u)), a);
            let e = widen8([ea0, ea1, ea2, 0, eb0, eb1, eb2, 0]);
            a = step(a, b, c, e);
            let out = _mm_cvtsi128_si64(_mm_packus_epi16(a, a)).to_le_bytes();
            da.copy_from_slice(&out[..4]);
            db.copy_from_slice(&out[4..]);
            c = b;
        }
        // Last step: `next`'s last pixel alone (lanes 0–3 unused).
        let last = cw - 1;
        let b = _mm_unpacklo_epi64(a, a);
        let e = widen8([0, 0, 0, 0, qb[0][last], qb[1][last], qb[2][last], 0]);
        let a = step(a, b, c, e);
        let out = _mm_cvtsi128_si64(_mm_packus_epi16(a, a)).to_le_bytes();
        next[cw * 4..(cw + 1) * 4].copy_from_slice(&out[4..]);
    }
}

/// A zigzag-coded 32-bit value (CODEC.md §5); `None` beyond 32 bits.
fn unzigzag(v: u64) -> Option<i64> {
    let v = u32::try_from(v).ok()?;
    Some(i64::from(((v >> 1) as i32) ^ -((v & 1) as i32)))
}

#[cfg(test)]
mod med_row_tests {
    use super::*;
    use proptest::prelude::*;

    /// A tile row in the 4-bytes-a-pixel layout: plane values and a zero.
    fn layout(px: &[[u8; 3]]) -> Vec<u8> {
        px.iter().flat_map(|p| [p[0], p[1], p[2], 0]).collect()
    }

    proptest! {
        /// The SIMD row decoder gives the scalar reference's bytes, for every
        /// width and both starts (the frame's left edge starts at 1).
        #[test]
        fn med_row_matches_the_scalar_reference(
            (up, cur, q) in (1usize..70).prop_flat_map(|cw| (
                prop::collection::vec(any::<[u8; 3]>(), cw + 1),
                prop::collection::vec(any::<[u8; 3]>(), cw + 1),
                prop::collection::vec(any::<u8>(), cw * 3),
            )),
            start in 0usize..2,
        ) {
            let cw = up.len() - 1;
            let (up, cur) = (layout(&up), layout(&cur));
            let q = [&q[..cw], &q[cw..2 * cw], &q[2 * cw..]];
            let mut want = cur.clone();
            med_row_scalar(&up, &mut want, q, start);
            let mut got = cur.clone();
            med_row(&up, &mut got, q, start);
            prop_assert_eq!(got, want);
        }
    }

    proptest! {
        /// The two-row SIMD decoder gives the bytes of the scalar reference
        /// run on one row and then the next.
        #[test]
        fn med_rows2_matches_two_scalar_rows(
            (up, cur, next, qa, qb) in (1usize..70).prop_flat_map(|cw| (
                prop::collection::vec(any::<[u8; 3]>(), cw + 1),
                prop::collection::vec(any::<[u8; 3]>(), cw + 1),
                prop::collection::vec(any::<[u8; 3]>(), cw + 1),
                prop::collection::vec(any::<u8>(), cw * 3),
                prop::collection::vec(any::<u8>(), cw * 3),
            )),
            start in 0usize..2,
        ) {
            let cw = up.len() - 1;
            let (up, cur, next) = (layout(&up), layout(&cur), layout(&next));
            let qa = [&qa[..cw], &qa[cw..2 * cw], &qa[2 * cw..]];
            let qb = [&qb[..cw], &qb[cw..2 * cw], &qb[2 * cw..]];
            let (mut want_a, mut want_b) = (cur.clone(), next.clone());
            med_row_scalar(&up, &mut want_a, qa, start);
            med_row_scalar(&want_a, &mut want_b, qb, start);
            let (mut got_a, mut got_b) = (cur.clone(), next.clone());
            med_rows2(&up, &mut got_a, &mut got_b, qa, qb, start);
            prop_assert_eq!(got_a, want_a);
            prop_assert_eq!(got_b, want_b);
        }
    }

    #[test]
    fn med_row_scalar_is_the_reference_predictor() {
        // One row by hand: left 10, above-left 20, above 30 gives
        // med(10, 30, 20) = 20; plus residual 5.
        let up = layout(&[[20, 0, 255], [30, 0, 0]]);
        let mut cur = layout(&[[10, 255, 1], [0, 0, 0]]);
        med_row_scalar(&up, &mut cur, [&[5], &[1], &[0]], 0);
        assert_eq!(
            &cur[4..7],
            &[
                5 + med(10, 30, 20),
                1u8.wrapping_add(med(255, 0, 0)),
                med(1, 0, 255)
            ]
        );
    }
}

#[cfg(test)]
mod droppable_tests {
    use super::*;

    fn delta(reads: &[u16], claims: usize) -> CacheUse {
        CacheUse {
            key: false,
            reads: reads.to_vec(),
            claims,
        }
    }

    fn set_of(out: &SlotSet) -> Vec<usize> {
        (0..SLOTS).filter(|&s| out.contains(s)).collect()
    }

    #[test]
    fn slots_claimed_again_before_any_read_are_droppable_and_the_rest_kept() {
        let (mut out, mut read) = (SlotSet::default(), SlotSet::default());
        // The ring is at 4090: this packet claims 4090..4096 and 0..4 and
        // reads 4093 (read before claimed: kept); the next packet reads
        // 10 and 5, then claims 4..12: 5 and 10 are kept (read before their
        // claim), 4 and 6..10 and 11 droppable.
        let this = delta(&[4093], 10);
        let ahead = [delta(&[10, 5], 8)];
        droppable(
            4090,
            &this,
            ahead.iter().map(Some),
            false,
            &mut out,
            &mut read,
        );
        let want: Vec<usize> = (0..4)
            .chain([4, 6, 7, 8, 9, 11])
            .chain([4090, 4091, 4092, 4094, 4095])
            .collect();
        assert_eq!(set_of(&out), want);
    }

    #[test]
    fn a_read_after_the_claim_again_reads_the_new_tile() {
        let (mut out, mut read) = (SlotSet::default(), SlotSet::default());
        // Slot 7 is claimed again by the next packet, then read by the one
        // after: that read is of the new tile, so the old one may go.
        let ahead = [delta(&[], 8), delta(&[7], 0)];
        droppable(
            0,
            &delta(&[], 0),
            ahead.iter().map(Some),
            false,
            &mut out,
            &mut read,
        );
        assert_eq!(set_of(&out), (0..8).collect::<Vec<_>>());
    }

    #[test]
    fn what_is_not_known_is_kept_and_a_keyframe_drops_what_was_not_read() {
        let (mut out, mut read) = (SlotSet::default(), SlotSet::default());
        // A packet that could not be read ends the lookahead: the claims
        // after it don't count.
        let ahead = [None, Some(delta(&[], 100))];
        droppable(
            0,
            &delta(&[], 0),
            ahead.iter().map(Option::as_ref),
            false,
            &mut out,
            &mut read,
        );
        assert!(set_of(&out).is_empty());
        // A keyframe empties the cache: every slot not read before it goes.
        let key = CacheUse {
            key: true,
            ..CacheUse::default()
        };
        let ahead = [delta(&[3], 0), key];
        droppable(
            0,
            &delta(&[9], 0),
            ahead.iter().map(Some),
            false,
            &mut out,
            &mut read,
        );
        assert_eq!(set_of(&out).len(), SLOTS - 2);
        assert!(!out.contains(3) && !out.contains(9));
        // The end of the run keeps what wasn't claimed again.
        droppable(100, &delta(&[], 2), [], false, &mut out, &mut read);
        assert_eq!(set_of(&out), [100, 101]);
    }
}

#[cfg(test)]
mod copy_tests {
    use super::*;

    /// A 128×32 frame of four SOLID tiles, each its own colour.
    fn solid_key(colours: [[u8; 3]; 4]) -> Vec<u8> {
        let mut body = vec![0, 4, op::SOLID, op::SOLID, op::SOLID, op::SOLID, 0];
        body.extend(colours.iter().flatten());
        body
    }

    /// The colour of each tile of a 128×32 frame (checking it is uniform).
    fn tiles(frame: &[u8]) -> Vec<[u8; 3]> {
        (0..4)
            .map(|t| {
                let px = [frame[t * 128], frame[t * 128 + 1], frame[t * 128 + 2]];
                for y in 0..32 {
                    for x in t * 32..(t + 1) * 32 {
                        let at = (y * 128 + x) * 4;
                        assert_eq!(frame[at..at + 3], px, "tile {t} not uniform");
                    }
                }
                px
            })
            .collect()
    }

    #[test]
    fn the_main_vector_counts_every_index_naming_it_and_ties_go_to_the_first() {
        let copy = |i: u8| op::COPY | i << 3;
        let mvs = [(1, 0), (2, 0), (1, 0), (0, 3)];
        let ctl = [copy(0), copy(1), copy(1), copy(2), op::SKIP, copy(2)];
        assert_eq!(copy_vectors(&ctl, &mvs), CopyVectors::Several((1, 0)));
        let ctl = [copy(3), copy(1), op::PIXELS, copy(1), copy(3)];
        assert_eq!(copy_vectors(&ctl, &mvs), CopyVectors::Several((2, 0)));
        let ctl = [copy(0), copy(2), op::SOLID];
        assert_eq!(copy_vectors(&ctl, &mvs), CopyVectors::One((1, 0)));
        assert_eq!(copy_vectors(&[op::SKIP], &mvs), CopyVectors::None);
    }

    #[test]
    fn the_main_vector_is_copied_in_place_and_the_others_read_saved_sources() {
        // Tiles A B C D. The delta moves tiles 0 and 1 by (+32, 0) (the
        // vector most tiles use, done in place: 0 <- B, 1 <- C) and tile 2
        // by (-64, 0) (0 <- A, whose position the in-place copy has
        // already overwritten with B by then), and leaves tile 3.
        let (a, b, c, d) = ([1, 2, 3], [40, 50, 60], [70, 80, 90], [200, 210, 220]);
        let mut delta = vec![2, 64, 0, 127, 0, 4];
        delta.extend([op::COPY, op::COPY, op::COPY | 1 << 3, op::SKIP, 0]);
        assert_eq!(
            copy_vectors(&delta[6..10], &[(32, 0), (-64, 0)]),
            CopyVectors::Several((32, 0))
        );
        for threads in [1, 2] {
            let mut dec = Decoder::new(Limits::default());
            dec.set_threads(threads);
            dec.set_min_parallel_work(1);
            let size = Size::new(128, 32);
            let f = &mut dec.frames;
            f.apply(Kind::Key(size), &solid_key([a, b, c, d]), None)
                .unwrap();
            f.apply(Kind::Delta, &delta, None).unwrap();
            assert_eq!(tiles(&f.cur), [b, c, a, d], "{threads} threads");
        }
    }
}

#[cfg(test)]
mod streamed_key_tests {
    use super::*;
    use crate::tests::sample;
    use crate::{Encoder, EncoderConfig};
    use g2a_core::{FrameRef, PixelFormat};

    const SIZE: Size = Size::new(960, 540);

    /// The first frame of a real sample as a keyframe: its inflated body,
    /// and the frame that applying the whole body gives.
    fn key(name: &str) -> (Vec<u8>, Vec<u8>) {
        let frames = sample(name, SIZE);
        let f = FrameRef::packed(&frames[0].1, SIZE, PixelFormat::Bgra8).unwrap();
        let mut packet = Vec::new();
        let mut enc = Encoder::new(EncoderConfig::default()).unwrap();
        enc.encode(&f, true, &mut packet).unwrap();
        let mut dec = Decoder::new(Limits::default());
        dec.set_threads(1);
        let want = dec.decode(&packet).unwrap().data.to_vec();
        let mut body = Vec::new();
        dec.inflater.packet(&packet, &mut body).unwrap();
        (body, want)
    }

    /// A decoder of `threads` threads (every packet big enough for them).
    fn decoder(threads: usize) -> Decoder {
        let mut d = Decoder::new(Limits::default());
        d.set_threads(threads);
        d.set_min_parallel_work(0);
        d
    }

    /// Applies `body` as a streamed keyframe, `piece` bytes at a time, then
    /// `end` once the pieces run out.
    fn streamed(
        d: &mut Decoder,
        body: &[u8],
        piece: usize,
        end: Result<bool, CodecError>,
    ) -> Result<(), CodecError> {
        let mut pieces = body.chunks(piece);
        let mut end = Some(end);
        let more = |b: &mut Vec<u8>| match pieces.next() {
            Some(p) => {
                b.extend_from_slice(p);
                Ok(true)
            }
            None => end.take().unwrap_or(Ok(false)),
        };
        d.frames
            .apply_key_streamed(SIZE, &mut Vec::new(), more, None)
    }

    #[test]
    fn a_keyframe_applied_piece_by_piece_is_the_keyframe_applied_whole() {
        for name in ["term-960x540-40f.bgra.zst", "desktop-960x540-40f.bgra.zst"] {
            let (body, want) = key(name);
            // Pieces that cut the head, palettes and tiles anywhere.
            for piece in [1, 5, 333, 4096, 65_536, body.len()] {
                for threads in [1, 3] {
                    let mut d = decoder(threads);
                    streamed(&mut d, &body, piece, Ok(false)).unwrap();
                    let got = d.frame().unwrap();
                    assert!(
                        got.data == want,
                        "{name}: pieces of {piece}, {threads} threads"
                    );
                    // The tile cache holds the keyframe's tiles, as after
                    // the whole body.
                    assert!(d.frames.cache.has(0), "{name}");
                }
            }
        }
    }

    #[test]
    fn rows_are_decoded_before_the_last_piece_comes() {
        // The last 100 bytes never come: the inflating side fails instead.
        // Every tile row but the last (whose data they end) is decoded.
        let (body, want) = key("desktop-960x540-40f.bgra.zst");
        let mut d = decoder(1);
        let cut = Err(CodecError::Zstd("cut".into()));
        let r = streamed(&mut d, &body[..body.len() - 100], 4096, cut);
        assert_eq!(r, Err(CodecError::Zstd("cut".into())));
        let rows = 540 / TILE * TILE * 960 * 4;
        assert!(d.frames.cur[..rows] == want[..rows]);
    }

    #[test]
    fn a_streamed_body_short_or_long_is_an_error() {
        let (body, _) = key("term-960x540-40f.bgra.zst");
        for piece in [7, 4096] {
            let mut d = decoder(2);
            let r = streamed(&mut d, &body[..body.len() - 1], piece, Ok(false));
            assert!(matches!(r, Err(CodecError::Malformed { .. })), "{r:?}");
            let mut long = body.clone();
            long.push(0);
            let r = streamed(&mut d, &long, piece, Ok(false));
            assert!(matches!(r, Err(CodecError::Malformed { .. })), "{r:?}");
            // A head cut short.
            let r = streamed(&mut d, &body[..3], piece, Ok(false));
            assert!(matches!(r, Err(CodecError::Malformed { .. })), "{r:?}");
        }
    }
}
