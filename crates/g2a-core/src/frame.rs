use crate::{Limits, Size};

/// The layout of one captured pixel.
///
/// Both formats are 4 bytes per pixel in memory order B, G, R, then a fourth
/// byte that g2a never reads (alpha or padding). Codecs reproduce B, G and R
/// exactly; decoded frames carry 255 in the fourth byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum PixelFormat {
    /// B, G, R, A (alpha ignored).
    #[default]
    Bgra8,
    /// B, G, R, X (padding byte ignored), as X11 delivers.
    Bgrx8,
}

impl PixelFormat {
    /// Bytes per pixel.
    #[must_use]
    pub const fn bytes_per_pixel(self) -> usize {
        4
    }
}

/// A borrowed view of one frame of pixels with a row stride.
///
/// Construction checks that the buffer holds every row the size and stride
/// claim, so that consumers can index rows without further checks.
#[derive(Debug, Clone, Copy)]
pub struct FrameRef<'a> {
    data: &'a [u8],
    size: Size,
    stride: usize,
    format: PixelFormat,
}

impl<'a> FrameRef<'a> {
    /// A frame of `size` whose row `y` starts at `data[y * stride]`.
    ///
    /// # Errors
    /// [`FrameError`] when a side is zero, the stride is shorter than a row,
    /// or `data` is shorter than `stride * (height - 1) + row bytes`.
    pub fn new(
        data: &'a [u8],
        size: Size,
        stride: usize,
        format: PixelFormat,
    ) -> Result<Self, FrameError> {
        if size.is_empty() {
            return Err(FrameError::Empty { size });
        }
        let row_bytes = (size.width as usize)
            .checked_mul(format.bytes_per_pixel())
            .ok_or(FrameError::TooLarge { size })?;
        if stride < row_bytes {
            return Err(FrameError::Stride { stride, row_bytes });
        }
        let needed = stride
            .checked_mul(size.height as usize - 1)
            .and_then(|v| v.checked_add(row_bytes))
            .ok_or(FrameError::TooLarge { size })?;
        if data.len() < needed {
            return Err(FrameError::ShortBuffer {
                found: data.len(),
                expected: needed,
                size,
                stride,
            });
        }
        Ok(FrameRef {
            data,
            size,
            stride,
            format,
        })
    }

    /// A tightly packed frame (stride = width × 4).
    ///
    /// # Errors
    /// As [`FrameRef::new`].
    pub fn packed(data: &'a [u8], size: Size, format: PixelFormat) -> Result<Self, FrameError> {
        let stride = (size.width as usize).saturating_mul(format.bytes_per_pixel());
        Self::new(data, size, stride, format)
    }

    /// Checks the frame's size against `limits`.
    ///
    /// # Errors
    /// [`FrameError::Limit`] when the size is outside the limits.
    pub fn check_limits(&self, limits: &Limits) -> Result<(), FrameError> {
        limits.check_size(self.size).map_err(FrameError::Limit)
    }

    /// Frame size.
    #[must_use]
    pub fn size(&self) -> Size {
        self.size
    }

    /// Bytes from one row start to the next.
    #[must_use]
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Pixel format.
    #[must_use]
    pub fn format(&self) -> PixelFormat {
        self.format
    }

    /// Bytes of one row's pixels (width × 4, without stride padding).
    #[must_use]
    pub fn row_bytes(&self) -> usize {
        self.size.width as usize * self.format.bytes_per_pixel()
    }

    /// The pixels of row `y` (without stride padding).
    ///
    /// # Panics
    /// When `y >= height`.
    #[must_use]
    pub fn row(&self, y: u32) -> &'a [u8] {
        assert!(
            y < self.size.height,
            "row {y} outside frame of height {}",
            self.size.height
        );
        let start = y as usize * self.stride;
        &self.data[start..start + self.row_bytes()]
    }

    /// The whole underlying buffer.
    #[must_use]
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// True when rows are back to back with no padding.
    #[must_use]
    pub fn is_packed(&self) -> bool {
        self.stride == self.row_bytes()
    }
}

/// A frame buffer that does not match its stated layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A zero side.
    #[error("frame size {size} has a zero side: expected at least 1x1")]
    Empty {
        /// The size given.
        size: Size,
    },
    /// The stride is shorter than one row.
    #[error("stride of {stride} bytes is shorter than a row of {row_bytes} bytes")]
    Stride {
        /// The stride given.
        stride: usize,
        /// The bytes of one row.
        row_bytes: usize,
    },
    /// The buffer does not hold all rows.
    #[error(
        "frame buffer holds {found} bytes: a {size} frame with stride {stride} needs {expected}"
    )]
    ShortBuffer {
        /// Bytes present.
        found: usize,
        /// Bytes needed.
        expected: usize,
        /// The size given.
        size: Size,
        /// The stride given.
        stride: usize,
    },
    /// The size overflows the address space.
    #[error("frame size {size} does not fit in memory")]
    TooLarge {
        /// The size given.
        size: Size,
    },
    /// The size is outside the configured limits.
    #[error(transparent)]
    Limit(crate::LimitError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_buffer() {
        let buf = vec![0u8; 40];
        assert!(FrameRef::new(&buf, Size::new(2, 4), 10, PixelFormat::Bgra8).is_ok());
        assert!(matches!(
            FrameRef::new(&buf, Size::new(2, 5), 10, PixelFormat::Bgra8),
            Err(FrameError::ShortBuffer {
                found: 40,
                expected: 48,
                ..
            })
        ));
        assert!(matches!(
            FrameRef::new(&buf, Size::new(3, 1), 10, PixelFormat::Bgra8),
            Err(FrameError::Stride { .. })
        ));
        assert!(matches!(
            FrameRef::new(&buf, Size::new(0, 1), 10, PixelFormat::Bgra8),
            Err(FrameError::Empty { .. })
        ));
        let f = FrameRef::new(&buf, Size::new(2, 4), 10, PixelFormat::Bgra8).unwrap();
        assert_eq!(f.row(3).len(), 8);
        assert!(!f.is_packed());
    }
}
