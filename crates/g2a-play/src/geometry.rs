//! Where the video goes in the window: fitted (scaled to the viewport,
//! centred) or 1:1 (one frame pixel per screen pixel, panned, on whole
//! screen pixels so text stays crisp with nearest filtering).
//!
//! Geometry is in physical (screen) pixels; the window converts with its
//! points-per-pixel factor.

/// How the frame is scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scale {
    /// Fit the viewport, keeping the aspect ratio.
    #[default]
    Fit,
    /// One frame pixel per screen pixel, with panning.
    Actual,
}

/// An axis-aligned rectangle, in physical pixels.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PxRect {
    /// Left.
    pub x: f32,
    /// Top.
    pub y: f32,
    /// Width.
    pub w: f32,
    /// Height.
    pub h: f32,
}

/// Where the frame is drawn, and the pan actually used.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    /// The frame's rectangle (may extend past the viewport at 1:1).
    pub rect: PxRect,
    /// The pan after clamping (offset of the frame's top-left from the
    /// centred / top-left position), to store back.
    pub pan: (f32, f32),
}

/// Offset along one axis of a frame `len` long in a viewport `room` long:
/// centred when it fits, else `pan` clamped so no gap shows (`pan` 0 shows
/// the frame's start). Whole pixels.
fn axis(len: f32, room: f32, pan: f32) -> (f32, f32) {
    if len <= room {
        (((room - len) / 2.0).floor(), 0.0)
    } else {
        let p = pan.round().clamp(room - len, 0.0);
        (p, p)
    }
}

/// Places a `frame_w`×`frame_h` frame in `viewport`.
#[must_use]
pub fn place(
    frame_w: u32,
    frame_h: u32,
    viewport: PxRect,
    scale: Scale,
    pan: (f32, f32),
) -> Placement {
    let (fw, fh) = (frame_w as f32, frame_h as f32);
    // Snap the viewport's origin to a whole pixel.
    let (vx, vy) = (viewport.x.ceil(), viewport.y.ceil());
    let (vw, vh) = (
        (viewport.w - (vx - viewport.x)).max(0.0).floor(),
        (viewport.h - (vy - viewport.y)).max(0.0).floor(),
    );
    if frame_w == 0 || frame_h == 0 || vw <= 0.0 || vh <= 0.0 {
        return Placement {
            rect: PxRect {
                x: vx,
                y: vy,
                w: 0.0,
                h: 0.0,
            },
            pan: (0.0, 0.0),
        };
    }
    match scale {
        Scale::Fit => {
            let s = (vw / fw).min(vh / fh);
            let (w, h) = ((fw * s).floor().max(1.0), (fh * s).floor().max(1.0));
            Placement {
                rect: PxRect {
                    x: vx + ((vw - w) / 2.0).floor(),
                    y: vy + ((vh - h) / 2.0).floor(),
                    w,
                    h,
                },
                pan: (0.0, 0.0),
            }
        }
        Scale::Actual => {
            let (ox, px) = axis(fw, vw, pan.0);
            let (oy, py) = axis(fh, vh, pan.1);
            Placement {
                rect: PxRect {
                    x: vx + ox,
                    y: vy + oy,
                    w: fw,
                    h: fh,
                },
                pan: (px, py),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vp(x: f32, y: f32, w: f32, h: f32) -> PxRect {
        PxRect { x, y, w, h }
    }

    #[test]
    fn fit_keeps_aspect_and_centres() {
        let p = place(
            1920,
            1080,
            vp(0.0, 0.0, 960.0, 1000.0),
            Scale::Fit,
            (0.0, 0.0),
        );
        assert_eq!(p.rect, vp(0.0, 230.0, 960.0, 540.0));
        let p = place(
            960,
            540,
            vp(10.0, 20.0, 1000.0, 270.0),
            Scale::Fit,
            (5.0, 5.0),
        );
        assert_eq!(p.rect, vp(270.0, 20.0, 480.0, 270.0));
        assert_eq!(p.pan, (0.0, 0.0));
    }

    #[test]
    fn actual_size_is_whole_pixels_and_centred_when_it_fits() {
        let p = place(
            960,
            540,
            vp(0.5, 30.25, 1200.0, 700.0),
            Scale::Actual,
            (40.0, 40.0),
        );
        assert_eq!(p.rect.w, 960.0);
        assert_eq!(p.rect.h, 540.0);
        assert_eq!(p.rect.x.fract(), 0.0);
        assert_eq!(p.rect.y.fract(), 0.0);
        assert_eq!(p.rect.x, 1.0 + 119.0);
        assert_eq!(p.pan, (0.0, 0.0));
    }

    #[test]
    fn actual_size_pans_within_bounds() {
        let view = vp(100.0, 50.0, 800.0, 600.0);
        let p = place(1920, 1080, view, Scale::Actual, (0.0, 0.0));
        assert_eq!(p.rect, vp(100.0, 50.0, 1920.0, 1080.0));
        let p = place(1920, 1080, view, Scale::Actual, (-500.4, -100.6));
        assert_eq!(p.rect, vp(-400.0, -51.0, 1920.0, 1080.0));
        assert_eq!(p.pan, (-500.0, -101.0));
        // Too far: the frame's far edge stops at the viewport's.
        let p = place(1920, 1080, view, Scale::Actual, (-5000.0, 300.0));
        assert_eq!(p.pan, (-1120.0, 0.0));
        assert_eq!(p.rect.x + p.rect.w, view.x + view.w);
    }

    #[test]
    fn degenerate_sizes_give_an_empty_rect() {
        let p = place(0, 1080, vp(0.0, 0.0, 800.0, 600.0), Scale::Fit, (0.0, 0.0));
        assert_eq!((p.rect.w, p.rect.h), (0.0, 0.0));
        let p = place(
            1920,
            1080,
            vp(0.0, 0.0, 0.0, 600.0),
            Scale::Actual,
            (0.0, 0.0),
        );
        assert_eq!((p.rect.w, p.rect.h), (0.0, 0.0));
    }
}
