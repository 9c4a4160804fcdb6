//! The error type of screen capture.

use g2a_core::{Rect, Size};

/// Why capture could not start or continue.
///
/// Grouped by who is at fault: the display (cannot connect, lacks a
/// feature, the X connection broke), the caller (a region or window that
/// does not exist), and the operating system (reading shared memory).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// No connection to the X display could be made.
    #[error("cannot connect to the X display '{display}'")]
    Connect {
        /// The display name given, or `$DISPLAY`.
        display: String,
        /// Why.
        #[source]
        source: x11rb::errors::ConnectError,
    },
    /// The X connection failed while capturing.
    #[error("the X connection failed")]
    Connection(#[from] x11rb::errors::ConnectionError),
    /// The X server refused a request, or the connection failed waiting
    /// for its reply.
    #[error("an X request failed")]
    Request(#[from] x11rb::errors::ReplyError),
    /// The X server ran out of resource ids for this client.
    #[error("cannot allocate an X resource id")]
    Id(#[from] x11rb::errors::ReplyOrIdError),
    /// The screen's pixels are not 32-bit little-endian BGRX.
    #[error("unsupported screen pixel layout: found {found}, expected depth 24 or 32 at 32 bits per pixel, least significant byte first, red mask 0xff0000")]
    UnsupportedPixels {
        /// What the display uses.
        found: String,
    },
    /// The screen number of the display name does not exist.
    #[error("the display has {count} screen(s), screen {index} does not exist")]
    NoScreen {
        /// The screen asked for.
        index: usize,
        /// The screens the display has.
        count: usize,
    },
    /// The region to capture is empty or not within the screen.
    #[error("region {width}x{height}+{x}+{y} is not within the {screen} screen", width = region.width, height = region.height, x = region.x, y = region.y)]
    RegionOutside {
        /// The region asked for.
        region: Rect,
        /// The screen's size.
        screen: Size,
    },
    /// The window to capture does not exist (any more), or is not on the
    /// captured screen.
    #[error("window 0x{0:x} does not exist or is not on this screen")]
    NoWindow(u32),
    /// The window to capture is entirely off the screen or unmapped.
    #[error("window 0x{0:x} has no visible area on the screen")]
    WindowHidden(u32),
    /// Reading the shared memory segment failed.
    #[error("cannot read the shared memory segment")]
    Shm(#[source] std::io::Error),
    /// A reply had fewer pixel bytes than its size requires.
    #[error("the X server sent {found} bytes of pixels for a {width}x{height} image, expected {expected}")]
    ShortImage {
        /// Bytes received.
        found: usize,
        /// Bytes expected.
        expected: usize,
        /// Image width.
        width: u32,
        /// Image height.
        height: u32,
    },
    /// The frame buffer disagrees with its size (an internal bug).
    #[error("internal error: the frame buffer does not match its size")]
    Frame(#[from] g2a_core::FrameError),
    /// A frame rate outside `(0, 1000]` frames per second.
    #[error("frame rate {0} is out of range: expected above 0 and at most 1000")]
    BadFrameRate(f64),
}
