//! What the packets ahead do to the tile cache (CODEC.md §3.1), so that a
//! run drops the cached tiles nobody will read instead of copying them.

use g2a_core::Size;

use super::bitstream::parse_head;
use crate::cache::{cacheable, SlotSet, SLOTS};
use crate::op;
use crate::pixel::TILE;

/// What an inflated packet does to the tile cache, read before it is
/// applied: [`Decoder::decode_run`] looks at the packets ahead to know
/// which cached tiles it can drop instead of copying.
#[derive(Debug, Default)]
pub(super) struct CacheUse {
    /// A keyframe: it empties the cache.
    pub(super) key: bool,
    /// Slots the packet reads (its CACHE tiles).
    pub(super) reads: Vec<u16>,
    /// Slots it takes after it is applied (its cacheable tiles).
    pub(super) claims: usize,
}

/// The cache use of a packet body for frames of `size`, or `None` when the
/// body doesn't hold together (applying it will say why).
pub(super) fn cache_use(body: &[u8], size: Size, key: bool) -> Option<CacheUse> {
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
pub(super) fn droppable<'a>(
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
