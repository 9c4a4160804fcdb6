//! The pointer: its position and its shapes from XFixes, each shape
//! converted once.

use std::collections::HashMap;

use g2a_core::Size;

/// Where the pointer is, relative to the captured area's top-left corner
/// (it may lie outside the area).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CursorPosition {
    /// Hotspot column.
    pub x: i32,
    /// Hotspot row.
    pub y: i32,
    /// The shape shown (an id of a [`CursorShape`] given earlier), or
    /// `None` when the cursor shows nothing (an empty image) or its shape is
    /// unknown (no XFixes).
    pub shape: Option<u32>,
}

/// A cursor image, given once per distinct shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorShape {
    /// The id positions refer to it by; ids are unique within one
    /// [`Capture`](crate::Capture).
    pub id: u32,
    /// The pointed-at pixel within the image.
    pub hotspot: (u32, u32),
    /// Image size.
    pub size: Size,
    /// `size.width * size.height` pixels, B, G, R, A bytes, straight
    /// (not premultiplied) alpha: what `g2a::Recorder::push_cursor_shape`
    /// takes.
    pub pixels: Vec<u8>,
}

/// Converts XFixes cursor pixels (one `u32` per pixel, ARGB, alpha
/// premultiplied) to B, G, R, A bytes with straight alpha.
#[must_use]
pub fn argb_premultiplied_to_bgra(argb: &[u32]) -> Vec<u8> {
    let mut out = vec![0u8; argb.len() * 4];
    for (px, o) in argb.iter().zip(out.chunks_exact_mut(4)) {
        let a = px >> 24;
        // Round to nearest; clamp values a malformed image may carry
        // above its alpha; fully transparent pixels become 0.
        let unmul = |c: u32| -> u8 { (c * 255 + a / 2).checked_div(a).unwrap_or(0).min(255) as u8 };
        o[0] = unmul(px & 0xff);
        o[1] = unmul((px >> 8) & 0xff);
        o[2] = unmul((px >> 16) & 0xff);
        o[3] = a as u8;
    }
    out
}

/// The largest number of distinct shapes remembered; beyond it the cache
/// starts over (shapes seen again get new ids and are given again).
const MAX_SHAPES: usize = 1024;

/// Maps XFixes cursor serials to shape ids, so each shape is given once.
#[derive(Debug, Default)]
pub(crate) struct ShapeCache {
    ids: HashMap<u32, Option<u32>>,
    next_id: u32,
}

impl ShapeCache {
    /// The id for the cursor with this serial, if it was seen before.
    pub(crate) fn get(&self, serial: u32) -> Option<Option<u32>> {
        self.ids.get(&serial).copied()
    }

    /// Remembers the cursor image with `serial` and returns the shape to
    /// give (or `None` for an empty image, which shows nothing).
    pub(crate) fn insert(
        &mut self,
        serial: u32,
        size: Size,
        hotspot: (u32, u32),
        argb: &[u32],
    ) -> Option<CursorShape> {
        if self.ids.len() >= MAX_SHAPES {
            self.ids.clear();
        }
        if size.is_empty() || argb.len() as u64 != size.area() {
            self.ids.insert(serial, None);
            return None;
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.ids.insert(serial, Some(id));
        Some(CursorShape {
            id,
            hotspot: (
                hotspot.0.min(size.width - 1),
                hotspot.1.min(size.height - 1),
            ),
            size,
            pixels: argb_premultiplied_to_bgra(argb),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn premultiplied_argb_becomes_straight_bgra() {
        let px = [
            0xff_10_20_30, // opaque: unchanged
            0x00_00_00_00, // transparent
            0x80_40_00_80, // half alpha: red 0x40 -> 0x80 (rounded), blue 0x80 -> 0xff
            0x10_ff_ff_ff, // malformed: colour above alpha, clamped
        ];
        let out = argb_premultiplied_to_bgra(&px);
        assert_eq!(&out[0..4], &[0x30, 0x20, 0x10, 0xff]);
        assert_eq!(&out[4..8], &[0, 0, 0, 0]);
        assert_eq!(&out[8..12], &[0xff, 0, 0x80, 0x80]);
        assert_eq!(&out[12..16], &[255, 255, 255, 0x10]);
    }

    #[test]
    fn each_serial_is_given_once() {
        let mut c = ShapeCache::default();
        let img = [0xff00_0000u32; 4];
        let s = c.insert(7, Size::new(2, 2), (5, 0), &img).unwrap();
        assert_eq!((s.id, s.hotspot, s.pixels.len()), (0, (1, 0), 16));
        assert_eq!(c.get(7), Some(Some(0)));
        assert_eq!(c.get(8), None);
        assert!(c.insert(9, Size::new(0, 0), (0, 0), &[]).is_none());
        assert_eq!(c.get(9), Some(None));
        // A size that disagrees with the pixels is treated as empty.
        assert!(c.insert(10, Size::new(3, 3), (0, 0), &img).is_none());
        assert_eq!(c.insert(11, Size::new(2, 2), (0, 0), &img).unwrap().id, 1);
    }
}
