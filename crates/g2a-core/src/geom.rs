use std::fmt;

/// Width and height of a screen or image, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Size {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Size {
    /// A size of `width` × `height` pixels.
    #[must_use]
    pub const fn new(width: u32, height: u32) -> Self {
        Size { width, height }
    }

    /// Number of pixels (`width * height`), without overflow.
    #[must_use]
    pub const fn area(self) -> u64 {
        self.width as u64 * self.height as u64
    }

    /// True when either side is zero.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.width == 0 || self.height == 0
    }

    /// Parses `WIDTHxHEIGHT` (for example `1920x1080`).
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let (w, h) = text.trim().split_once(['x', 'X'])?;
        Some(Size::new(w.parse().ok()?, h.parse().ok()?))
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

/// An axis-aligned rectangle in pixels; `x`, `y` is the top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rect {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

impl Rect {
    /// A rectangle at `x`, `y` of `width` × `height`.
    #[must_use]
    pub const fn new(x: u32, y: u32, width: u32, height: u32) -> Self {
        Rect {
            x,
            y,
            width,
            height,
        }
    }

    /// The rectangle covering all of `size`.
    #[must_use]
    pub const fn of_size(size: Size) -> Self {
        Rect::new(0, 0, size.width, size.height)
    }

    /// The right edge (exclusive), without overflow.
    #[must_use]
    pub const fn right(self) -> u64 {
        self.x as u64 + self.width as u64
    }

    /// The bottom edge (exclusive), without overflow.
    #[must_use]
    pub const fn bottom(self) -> u64 {
        self.y as u64 + self.height as u64
    }

    /// True when the rectangle lies entirely inside a surface of `size`.
    #[must_use]
    pub const fn fits_in(self, size: Size) -> bool {
        self.right() <= size.width as u64 && self.bottom() <= size.height as u64
    }

    /// True when the rectangle has no pixels.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.width == 0 || self.height == 0
    }

    /// The overlap of two rectangles, or `None` when they don't overlap.
    #[must_use]
    pub fn intersect(self, other: Rect) -> Option<Rect> {
        let x0 = self.x.max(other.x);
        let y0 = self.y.max(other.y);
        let x1 = self.right().min(other.right());
        let y1 = self.bottom().min(other.bottom());
        if u64::from(x0) >= x1 || u64::from(y0) >= y1 {
            return None;
        }
        // x1 - x0 fits in u32 because both edges lie within one u32 rectangle.
        Some(Rect::new(
            x0,
            y0,
            (x1 - u64::from(x0)) as u32,
            (y1 - u64::from(y0)) as u32,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intersect_and_fit() {
        let a = Rect::new(0, 0, 10, 10);
        let b = Rect::new(5, 5, 10, 10);
        assert_eq!(a.intersect(b), Some(Rect::new(5, 5, 5, 5)));
        assert_eq!(a.intersect(Rect::new(10, 0, 1, 1)), None);
        assert!(a.fits_in(Size::new(10, 10)));
        assert!(!b.fits_in(Size::new(10, 10)));
        assert!(!Rect::new(u32::MAX, 0, 2, 1).fits_in(Size::new(u32::MAX, 1)));
    }

    #[test]
    fn size_parse() {
        assert_eq!(Size::parse("1920x1080"), Some(Size::new(1920, 1080)));
        assert_eq!(Size::parse("1920*1080"), None);
        assert_eq!(Size::new(3, 4).to_string(), "3x4");
    }
}
