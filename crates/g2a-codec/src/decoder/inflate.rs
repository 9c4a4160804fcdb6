//! The first stage: packet headers and the zstd stream (CODEC.md §2, §6).

use g2a_core::{Limits, Size};

use super::bitstream::{max_body_len, packet_header, PacketHeader};
use super::lookahead::{cache_use, CacheUse};
use super::Kind;
use crate::error::malformed;
use crate::{packet, CodecError};

/// The first stage: packet headers and the zstd stream.
pub(super) struct Inflater {
    pub(super) limits: Limits,
    /// Frame size of the current keyframe group.
    pub(super) size: Option<Size>,
    pub(super) zstd: Option<zstd::stream::raw::Decoder<'static>>,
}

/// Inflating a body in pieces: their size, and where the full ones go.
pub(super) type Pieces<'a> = (usize, &'a mut dyn FnMut(Vec<u8>));

impl Inflater {
    /// [`Inflater::packet`], and what the body does to the tile cache (for
    /// [`Decoder::decode_run`]'s lookahead; `None` if it can't be read).
    pub(super) fn packet_and_use(
        &mut self,
        packet: &[u8],
        body: &mut Vec<u8>,
    ) -> Result<(Kind, Option<CacheUse>), CodecError> {
        let k = self.packet(packet, body)?;
        let key = matches!(k, Kind::Key(_));
        Ok((k, self.size.and_then(|size| cache_use(body, size, key))))
    }

    /// Reads `packet`'s header and inflates its body into `body`.
    pub(super) fn packet(&mut self, packet: &[u8], body: &mut Vec<u8>) -> Result<Kind, CodecError> {
        let (kind, at, raw_len) = self.header(packet)?;
        if !matches!(kind, Kind::Unchanged) {
            self.inflate(&packet[at..], raw_len, body, None)?;
        }
        Ok(kind)
    }

    /// Reads `packet`'s header: what it is, where its zstd data starts and
    /// the length of its body (0 and 0 for an unchanged packet). A keyframe
    /// starts a new zstd stream.
    pub(super) fn header(&mut self, packet: &[u8]) -> Result<(Kind, usize, usize), CodecError> {
        if packet.first() == Some(&packet::DELTA) && self.size.is_none() {
            return Err(CodecError::NeedKeyframe);
        }
        let (kind, at, body_len) = match packet_header(packet)? {
            PacketHeader::Unchanged => {
                return match self.size {
                    Some(_) => Ok((Kind::Unchanged, 0, 0)),
                    None => Err(CodecError::NeedKeyframe),
                }
            }
            PacketHeader::Key { size, body_len, at } => {
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
                (Kind::Key(size), at, body_len)
            }
            PacketHeader::Delta { body_len, at } => (Kind::Delta, at, body_len),
        };
        let Some(size) = self.size else {
            return Err(CodecError::NeedKeyframe);
        };
        let max = max_body_len(size);
        if body_len > max {
            return Err(malformed(
                1,
                format!("body of {body_len} bytes claimed, at most {max} possible for {size}"),
            ));
        }
        Ok((kind, at, body_len as usize))
    }

    /// Inflates the next `raw_len` bytes of the stream from `input` into
    /// `body`; with `pieces` (`(n, send)`), into pieces of at most `n` bytes
    /// instead, each full one given to `send` (the last stays in `body`).
    pub(super) fn inflate(
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
