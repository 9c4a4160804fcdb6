//! The cursor track: positions and shapes, looked up by time, and drawn
//! onto frames by players and exporters.

use std::collections::HashMap;
use std::sync::Arc;

use g2a_core::{Size, Timestamp};
use g2a_format::{unseal, Record, SessionSet, SharedCipher, Track};

/// A cursor shape: BGRA pixels with alpha and the hotspot within them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorImage {
    /// Its size.
    pub size: Size,
    /// Hotspot (the pointed-at pixel) within the image.
    pub hotspot: (u32, u32),
    /// `size.width * size.height` BGRA pixels, straight (not premultiplied) alpha.
    pub pixels: Vec<u8>,
}

impl CursorImage {
    /// Alpha-blends the image onto a packed BGRA frame of `frame_size`, with
    /// its hotspot at `(x, y)`; parts outside the frame are clipped.
    pub fn draw_onto(&self, frame: &mut [u8], frame_size: Size, x: i32, y: i32) {
        let (fw, fh) = (i64::from(frame_size.width), i64::from(frame_size.height));
        if frame.len() as u64 != frame_size.area() * 4 {
            return;
        }
        let left = i64::from(x) - i64::from(self.hotspot.0);
        let top = i64::from(y) - i64::from(self.hotspot.1);
        let (w, h) = (i64::from(self.size.width), i64::from(self.size.height));
        for cy in 0..h {
            let fy = top + cy;
            if fy < 0 || fy >= fh {
                continue;
            }
            for cx in 0..w {
                let fx = left + cx;
                if fx < 0 || fx >= fw {
                    continue;
                }
                let s = ((cy * w + cx) * 4) as usize;
                let d = ((fy * fw + fx) * 4) as usize;
                let a = u32::from(self.pixels[s + 3]);
                if a == 0 {
                    continue;
                }
                for c in 0..3 {
                    let src = u32::from(self.pixels[s + c]);
                    let dst = u32::from(frame[d + c]);
                    frame[d + c] = ((src * a + dst * (255 - a) + 127) / 255) as u8;
                }
                frame[d + 3] = 255;
            }
        }
    }
}

/// The cursor at some moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorState {
    /// Hotspot position on the screen.
    pub x: i32,
    /// Hotspot position on the screen.
    pub y: i32,
    /// The shape shown; `None` when the cursor is hidden or its shape is
    /// unknown.
    pub image: Option<Arc<CursorImage>>,
}

/// A recording's cursor track, loaded for lookups by time.
///
/// Memory: one entry (16 bytes) per cursor position and each distinct
/// shape once.
#[derive(Debug, Clone, Default)]
pub struct CursorTrack {
    moves: Vec<(Timestamp, i32, i32, Option<u32>)>,
    shapes: HashMap<u32, Vec<(Timestamp, Arc<CursorImage>)>>,
}

impl CursorTrack {
    /// Reads the cursor records of every file of `set`. The shapes of an
    /// encrypted recording are sealed and left out: use
    /// [`CursorTrack::load_with`] (or [`Player::cursor_track`](crate::Player::cursor_track)).
    #[must_use]
    pub fn load(set: &SessionSet) -> CursorTrack {
        let mut t = CursorTrack::default();
        for file in set.files() {
            for rec in file.records() {
                t.add(rec);
            }
        }
        t.moves.sort_by_key(|m| m.0);
        t
    }

    /// Reads the cursor records of every file of `set`, opening sealed
    /// cursor shapes with `cipher`.
    ///
    /// # Errors
    /// [`FormatError::Encrypted`](g2a_format::FormatError::Encrypted) for a
    /// sealed shape without a cipher, [`FormatError::Crypto`](g2a_format::FormatError::Crypto)
    /// when one does not open.
    pub fn load_with(
        set: &SessionSet,
        cipher: Option<&SharedCipher>,
    ) -> Result<CursorTrack, crate::Error> {
        let cipher = cipher.map(|c| c.0.as_ref());
        let mut t = CursorTrack::default();
        let mut buf = Vec::new();
        for file in set.files() {
            for rec in file.records() {
                if rec.track() == Track::Cursor {
                    t.add(unseal(rec, cipher, &mut buf)?);
                }
            }
        }
        t.moves.sort_by_key(|m| m.0);
        Ok(t)
    }

    /// Adds one (opened) record; records of other kinds are ignored.
    fn add(&mut self, rec: Record<'_>) {
        match rec {
            Record::CursorPosition { ts, x, y, shape } => self.moves.push((ts, x, y, shape)),
            Record::CursorShape {
                ts,
                id,
                hotspot_x,
                hotspot_y,
                size,
                pixels,
            } => {
                let versions = self.shapes.entry(id).or_default();
                // Continuation files repeat shapes: keep one copy.
                if versions
                    .last()
                    .is_some_and(|(_, img)| img.pixels == pixels && img.size == size)
                {
                    return;
                }
                versions.push((
                    ts,
                    Arc::new(CursorImage {
                        size,
                        hotspot: (hotspot_x, hotspot_y),
                        pixels: pixels.to_vec(),
                    }),
                ));
            }
            _ => {}
        }
    }

    /// True when the recording has cursor positions.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.moves.is_empty()
    }

    /// Number of cursor positions.
    #[must_use]
    pub fn len(&self) -> usize {
        self.moves.len()
    }

    /// The cursor at `ts`: the last position at or before it, with the
    /// shape defined for its id at that time. `None` before the first
    /// position.
    #[must_use]
    pub fn at(&self, ts: Timestamp) -> Option<CursorState> {
        let i = self.moves.partition_point(|m| m.0 <= ts);
        let &(_, x, y, shape) = self.moves.get(i.checked_sub(1)?)?;
        let image = shape.and_then(|id| {
            let versions = self.shapes.get(&id)?;
            let j = versions.partition_point(|v| v.0 <= ts);
            // A shape defined a moment after its first use still applies.
            versions.get(j.saturating_sub(1)).map(|v| Arc::clone(&v.1))
        });
        Some(CursorState { x, y, image })
    }
}
