//! A run of packets on two threads: one inflates the packets ahead while
//! the other applies them ([`Decoder::decode_run`], [`Decoder::seek`]).

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use g2a_core::Size;

use super::bitstream::body_len;
use super::lookahead::CacheUse;
use super::{Decoder, FrameView, Kind};
use crate::error::malformed;
use crate::CodecError;

impl Decoder {
    pub(super) fn run(
        &mut self,
        packets: &[&[u8]],
        seek: bool,
    ) -> Result<FrameView<'_>, CodecError> {
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

/// What the inflating thread of a run sends of the keyframe that starts it
/// (see [`Frames::apply_key_streamed`]): its size, then its body in pieces.
pub(super) enum Part {
    Key(Size),
    Bytes(Vec<u8>),
}

/// Appends the keyframe pieces that `parts` has (waiting for one) to `body`;
/// false once the last has come.
pub(super) fn more_of_the_key(
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

/// Shares the cores between the inflating thread of
/// [`Decoder::decode_run`] and a packet whose tiles are decoded on several
/// threads: those threads wait for each other (a tile waits for the one
/// above it), so the inflating thread must not take a core from one of
/// them. The inflating thread waits between packets while such a packet is
/// decoded, and that packet waits for the packet being inflated (the
/// applying thread gets its turn at the next packet, whoever is faster).
#[derive(Default)]
pub(super) struct Cores {
    pub(super) state: Mutex<Turns>,
    pub(super) turn: Condvar,
}

/// What [`Cores`] guards.
#[derive(Default)]
pub(super) struct Turns {
    /// A packet is being inflated.
    pub(super) inflating: bool,
    /// The applying thread wants every core.
    pub(super) all: bool,
}

impl Cores {
    pub(super) fn lock(&self) -> MutexGuard<'_, Turns> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn wait<'a>(&self, g: MutexGuard<'a, Turns>) -> MutexGuard<'a, Turns> {
        self.turn.wait(g).unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` (inflating one packet) once no packet is using every core.
    pub(super) fn inflating<R>(&self, f: impl FnOnce() -> R) -> R {
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
    pub(super) fn all<R>(&self, f: impl FnOnce() -> R) -> R {
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
pub(super) const AHEAD: usize = 128;
pub(super) const AHEAD_BYTES: usize = 24 << 20;

/// How many pieces of a keyframe being applied as it inflates may wait for
/// the applying side (of 4–256 KiB: a 1080p keyframe comes in ~24).
pub(super) const PIECES_AHEAD: usize = 64;
