//! The decoder (CODEC.md §2–§6), by stage: [`bitstream`] reads what the
//! spec defines (packet headers, the sections of a body, varints),
//! [`inflate`] runs the zstd stream, [`plan`] checks a body's tiles and
//! finds where each one's data starts, [`frames`] applies them to the
//! frame and keeps the tile cache, [`rows`] decodes tile rows on several
//! threads, [`predict`] is the MED predictor of PIXELS tiles; [`pipeline`]
//! overlaps inflating and applying in a run of packets, and [`lookahead`]
//! tells it which cached tiles need no copy.

mod bitstream;
mod frames;
mod inflate;
mod lookahead;
mod pipeline;
mod plan;
mod predict;
mod rows;
#[cfg(test)]
mod tests;

use g2a_core::{Limits, Size};

use crate::cache::LazyCache;
use crate::cache::SlotSet;
use crate::{op, packet, CodecError};
use frames::Frames;
use inflate::Inflater;
use rows::{Edges, PARALLEL_WORK};

/// A decoded frame: packed BGRA, alpha 255, `size.width * 4` bytes per row.
#[derive(Debug, Clone, Copy)]
pub struct FrameView<'a> {
    /// Frame size.
    pub size: Size,
    /// The pixels.
    pub data: &'a [u8],
}

/// How many tiles of each kind (CODEC.md §3) the packets a decoder has
/// applied held, and their motion vectors (§5): what a stream exercises of
/// the bitstream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TileCounts {
    /// SKIP tiles.
    pub skip: u64,
    /// SOLID tiles.
    pub solid: u64,
    /// COPY tiles.
    pub copy: u64,
    /// PALETTE tiles.
    pub palette: u64,
    /// PIXELS tiles.
    pub pixels: u64,
    /// CACHE tiles.
    pub cache: u64,
    /// Edge tiles (narrower or lower than 32 pixels), of any kind.
    pub edge: u64,
    /// Motion vectors listed by deltas.
    pub motion_vectors: u64,
}

impl TileCounts {
    fn add(&mut self, code: u8, edge: bool) {
        let n = match code & 7 {
            op::SKIP => &mut self.skip,
            op::SOLID => &mut self.solid,
            op::COPY => &mut self.copy,
            op::PALETTE => &mut self.palette,
            op::PIXELS => &mut self.pixels,
            _ => &mut self.cache,
        };
        *n += 1;
        self.edge += u64::from(edge);
    }
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

/// What a packet is, once its body is inflated.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Unchanged,
    Key(Size),
    Delta,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("size", &self.frames.size)
            .field("threads", &self.frames.threads)
            .finish()
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
                counts: TileCounts::default(),
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

    /// The tiles of the packets applied so far, by kind.
    #[must_use]
    pub fn tile_counts(&self) -> TileCounts {
        self.frames.counts
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
}

/// Most threads a decoder uses.
const MAX_THREADS: usize = 4;
