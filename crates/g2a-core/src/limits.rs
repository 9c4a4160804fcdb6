/// Upper bounds on the sizes that untrusted input may claim.
///
/// Readers and decoders check every size against these *before* allocating
/// for it. The defaults admit any real screen (sides up to 16384 pixels, an
/// area up to 2^27 pixels: 16384 × 8192, eight 4K screens) and reject absurd
/// values early. The area limit keeps a decoder's two frames (8 bytes a
/// pixel) within the 1 GiB allocation limit, so that every frame an encoder
/// accepts, a decoder with the same limits accepts too (CODEC.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest accepted frame width or height, in pixels.
    pub max_dimension: u32,
    /// Largest accepted frame area, in pixels.
    pub max_pixels: u64,
    /// Largest accepted single record payload, in bytes.
    pub max_record_bytes: u64,
    /// Largest single buffer a decoder may allocate, in bytes.
    pub max_alloc_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

impl Limits {
    /// The default limits (FORMAT.md §4, CODEC.md §7), as a constant for
    /// what must agree with them (a writer never writes a record the
    /// default reader refuses).
    pub const DEFAULT: Limits = Limits {
        max_dimension: 16_384,
        max_pixels: 1 << 27,
        max_record_bytes: 256 << 20,
        max_alloc_bytes: 1 << 30,
    };

    /// Sets the largest accepted frame width or height.
    #[must_use]
    pub fn with_max_dimension(mut self, v: u32) -> Self {
        self.max_dimension = v;
        self
    }

    /// Sets the largest accepted frame area.
    #[must_use]
    pub fn with_max_pixels(mut self, v: u64) -> Self {
        self.max_pixels = v;
        self
    }

    /// Sets the largest accepted record payload.
    #[must_use]
    pub fn with_max_record_bytes(mut self, v: u64) -> Self {
        self.max_record_bytes = v;
        self
    }

    /// Sets the largest single allocation.
    #[must_use]
    pub fn with_max_alloc_bytes(mut self, v: u64) -> Self {
        self.max_alloc_bytes = v;
        self
    }

    /// Checks a frame size against these limits.
    ///
    /// # Errors
    /// [`LimitError`] when a side is zero or too large, or the area is too large.
    pub fn check_size(&self, size: crate::Size) -> Result<(), LimitError> {
        if size.is_empty() {
            return Err(LimitError::EmptyFrame { size });
        }
        if size.width > self.max_dimension || size.height > self.max_dimension {
            return Err(LimitError::Dimension {
                size,
                max: self.max_dimension,
            });
        }
        if size.area() > self.max_pixels {
            return Err(LimitError::Area {
                size,
                max: self.max_pixels,
            });
        }
        Ok(())
    }

    /// Checks that `bytes` may be allocated.
    ///
    /// # Errors
    /// [`LimitError::Alloc`] when it exceeds [`Limits::max_alloc_bytes`].
    pub fn check_alloc(&self, bytes: u64) -> Result<(), LimitError> {
        if bytes > self.max_alloc_bytes {
            return Err(LimitError::Alloc {
                requested: bytes,
                max: self.max_alloc_bytes,
            });
        }
        Ok(())
    }
}

/// A size that exceeds the configured [`Limits`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// A frame with a zero side.
    #[error("frame size {size} has a zero side: expected at least 1x1")]
    EmptyFrame {
        /// The size found.
        size: crate::Size,
    },
    /// A side longer than allowed.
    #[error("frame size {size} exceeds the limit of {max} pixels per side")]
    Dimension {
        /// The size found.
        size: crate::Size,
        /// The limit.
        max: u32,
    },
    /// An area larger than allowed.
    #[error("frame size {size} exceeds the limit of {max} pixels")]
    Area {
        /// The size found.
        size: crate::Size,
        /// The limit.
        max: u64,
    },
    /// An allocation larger than allowed.
    #[error("a buffer of {requested} bytes was requested: the limit is {max} bytes")]
    Alloc {
        /// Bytes requested.
        requested: u64,
        /// The limit.
        max: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Size;

    #[test]
    fn checks_sizes() {
        let l = Limits::default();
        assert!(l.check_size(Size::new(1920, 1080)).is_ok());
        assert!(matches!(
            l.check_size(Size::new(0, 5)),
            Err(LimitError::EmptyFrame { .. })
        ));
        assert!(matches!(
            l.check_size(Size::new(100_000, 5)),
            Err(LimitError::Dimension { .. })
        ));
        let small = Limits::default().with_max_pixels(100);
        assert!(matches!(
            small.check_size(Size::new(11, 10)),
            Err(LimitError::Area { .. })
        ));
        assert!(l.check_alloc(2 << 30).is_err());
    }

    #[test]
    fn every_frame_within_the_default_area_fits_a_decoders_two_frames() {
        let l = Limits::default();
        let biggest = Size::new(16_384, 8_192);
        assert!(l.check_size(biggest).is_ok());
        assert!(l.check_alloc(biggest.area() * 8).is_ok());
        assert!(matches!(
            l.check_size(Size::new(16_384, 8_193)),
            Err(LimitError::Area { .. })
        ));
    }
}
