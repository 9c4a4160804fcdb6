//! Export options, progress reports and the summary of a finished export.

use std::path::Path;
use std::time::Duration;

use g2a_core::{Size, Timestamp};

use crate::ExportError;

/// The container and codec of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// MPEG-4 with H.264 (libx264), `+faststart`, and the chat as a
    /// `mov_text` subtitle track. 4:2:0 unless [`ExportOptions::full_colour`].
    Mp4,
    /// ASF with Windows Media Video ([`WmvCodec`]), playable by Windows
    /// Media Player without add-ons. No subtitle track.
    Wmv,
}

impl Format {
    /// The format named by `path`'s extension (`.mp4`/`.m4v`, `.wmv`/`.asf`).
    ///
    /// # Errors
    /// [`ExportError::UnknownFormat`] for any other extension.
    pub fn from_path(path: &Path) -> Result<Format, ExportError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("mp4" | "m4v") => Ok(Format::Mp4),
            Some("wmv" | "asf") => Ok(Format::Wmv),
            _ => Err(ExportError::UnknownFormat {
                path: path.to_path_buf(),
            }),
        }
    }

    /// Its usual file extension.
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            Format::Mp4 => "mp4",
            Format::Wmv => "wmv",
        }
    }
}

/// The video codec of a WMV export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum WmvCodec {
    /// Windows Media Video 8 (FFmpeg `wmv2`): the default.
    #[default]
    Wmv2,
    /// Microsoft MPEG-4 v3 (FFmpeg `msmpeg4`, "DivX 3"), for the oldest players.
    Msmpeg4,
}

/// Quality against size. The default, [`Quality::Standard`], meets the
/// documented fidelity targets (docs/EXPORT.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Quality {
    /// Smaller files; text stays readable.
    Small,
    /// The default.
    #[default]
    Standard,
    /// Close to the recording; larger files.
    High,
}

impl Quality {
    /// H.264 constant rate factor. RGB 4:4:4 codes red and blue as chroma
    /// planes (coarser quantiser), so it gets 4 less for the same fidelity.
    pub(crate) fn crf(self, full_colour: bool) -> u32 {
        let offset = if full_colour { 4 } else { 0 };
        self.base_crf() - offset
    }

    fn base_crf(self) -> u32 {
        match self {
            Quality::Small => 23,
            Quality::Standard => 16,
            Quality::High => 12,
        }
    }

    /// MPEG-4-family quantiser for WMV (1 is best).
    pub(crate) fn qscale(self) -> i32 {
        match self {
            Quality::Small => 5,
            Quality::Standard => 3,
            Quality::High => 2,
        }
    }
}

/// What to export and how. Built with [`Default`] and the by-value setters.
///
/// ```
/// use g2a_export::{ExportOptions, Format, Quality};
/// use g2a_core::{Size, Timestamp};
/// let opts = ExportOptions::default()
///     .format(Format::Mp4)
///     .size(Size::new(1280, 720))
///     .from(Timestamp::from_secs(10))
///     .quality(Quality::High);
/// assert_eq!(opts.size, Some(Size::new(1280, 720)));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ExportOptions {
    /// Output format; `None` guesses it from the output name.
    pub format: Option<Format>,
    /// Fit the video into this box, keeping the aspect ratio and rounding
    /// to even sides; `None` keeps the recording's size.
    pub size: Option<Size>,
    /// Start (the frame on screen then becomes the first frame).
    pub from: Option<Timestamp>,
    /// End (exclusive); `None` exports to the end of the recording.
    pub to: Option<Timestamp>,
    /// Constant output frame rate (repeating the latest frame); `None` gives
    /// a variable frame rate in MP4 and WMV, with one frame per change.
    pub fps: Option<f64>,
    /// Quality against size.
    pub quality: Quality,
    /// MP4 only: H.264 4:4:4 in RGB (libx264rgb), keeping coloured text
    /// exact in colour; not every browser plays it.
    pub full_colour: bool,
    /// WMV only: which codec.
    pub wmv_codec: WmvCodec,
    /// MP4 only: write the chat as a subtitle track (default true).
    pub chat_subtitles: bool,
    /// Draw the recorded cursor into the frames (default true).
    pub draw_cursor: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            format: None,
            size: None,
            from: None,
            to: None,
            fps: None,
            quality: Quality::default(),
            full_colour: false,
            wmv_codec: WmvCodec::default(),
            chat_subtitles: true,
            draw_cursor: true,
        }
    }
}

impl ExportOptions {
    /// Sets the output format.
    #[must_use]
    pub fn format(mut self, f: Format) -> Self {
        self.format = Some(f);
        self
    }
    /// Sets the box the video is fitted into.
    #[must_use]
    pub fn size(mut self, s: Size) -> Self {
        self.size = Some(s);
        self
    }
    /// Sets the start time.
    #[must_use]
    pub fn from(mut self, t: Timestamp) -> Self {
        self.from = Some(t);
        self
    }
    /// Sets the end time (exclusive).
    #[must_use]
    pub fn to(mut self, t: Timestamp) -> Self {
        self.to = Some(t);
        self
    }
    /// Sets a constant frame rate.
    #[must_use]
    pub fn fps(mut self, fps: f64) -> Self {
        self.fps = Some(fps);
        self
    }
    /// Sets the quality.
    #[must_use]
    pub fn quality(mut self, q: Quality) -> Self {
        self.quality = q;
        self
    }
    /// Chooses H.264 4:4:4 RGB for MP4.
    #[must_use]
    pub fn full_colour(mut self, yes: bool) -> Self {
        self.full_colour = yes;
        self
    }
    /// Chooses the WMV codec.
    #[must_use]
    pub fn wmv_codec(mut self, c: WmvCodec) -> Self {
        self.wmv_codec = c;
        self
    }
    /// Writes (or not) the chat subtitle track in MP4.
    #[must_use]
    pub fn chat_subtitles(mut self, yes: bool) -> Self {
        self.chat_subtitles = yes;
        self
    }
    /// Draws (or not) the recorded cursor.
    #[must_use]
    pub fn draw_cursor(mut self, yes: bool) -> Self {
        self.draw_cursor = yes;
        self
    }

    /// Checks the options once, before any file is created.
    pub(crate) fn validate(&self) -> Result<(), ExportError> {
        if let (Some(from), Some(to)) = (self.from, self.to) {
            if from >= to {
                return Err(ExportError::EmptyRange { from, to });
            }
        }
        if let Some(fps) = self.fps {
            if !(fps > 0.0 && fps <= 240.0) {
                return Err(ExportError::BadFrameRate { found: fps });
            }
        }
        if let Some(s) = self.size {
            if !(16..=8192).contains(&s.width) || !(16..=8192).contains(&s.height) {
                return Err(ExportError::BadSize { found: s });
            }
        }
        Ok(())
    }
}

/// The output size for a `screen` fitted into `want` (or kept), with even
/// sides of at least 2, keeping the aspect ratio.
#[must_use]
pub fn output_size(screen: Size, want: Option<Size>) -> Size {
    let even = |v: u64| (v.max(2) & !1) as u32;
    let Some(b) = want else {
        return Size::new(
            even(u64::from(screen.width)),
            even(u64::from(screen.height)),
        );
    };
    let (sw, sh) = (
        u64::from(screen.width.max(1)),
        u64::from(screen.height.max(1)),
    );
    let (bw, bh) = (u64::from(b.width), u64::from(b.height));
    // Fit: the side that limits decides, the other follows the aspect ratio.
    if bw * sh <= bh * sw {
        Size::new(even(bw), even((bw * sh + sw / 2) / sw))
    } else {
        Size::new(even((bh * sw + sh / 2) / sh), even(bh))
    }
}

/// A progress report, given to the callback after each source frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Output time reached.
    pub position: Timestamp,
    /// Output duration expected.
    pub total: Timestamp,
    /// Source frames read.
    pub frames_read: u64,
    /// Frames given to the encoder.
    pub frames_encoded: u64,
}

/// What the progress callback wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Stop, remove the partial output, return [`ExportError::Cancelled`].
    Cancel,
}

/// What a finished export wrote.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ExportSummary {
    /// The format written.
    pub format: Format,
    /// The video size.
    pub size: Size,
    /// Duration of the video.
    pub duration: Timestamp,
    /// Source frames read.
    pub frames_read: u64,
    /// Frames encoded (repeats included when `fps` is set).
    pub frames_encoded: u64,
    /// Source frames skipped because nothing on screen changed.
    pub frames_unchanged: u64,
    /// Chat lines written as subtitles.
    pub chat_lines: usize,
    /// Size of the output file.
    pub bytes: u64,
    /// Wall-clock time taken.
    pub elapsed: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn format_from_extension() {
        assert_eq!(Format::from_path(Path::new("a.MP4")).unwrap(), Format::Mp4);
        assert_eq!(Format::from_path(Path::new("a.wmv")).unwrap(), Format::Wmv);
        assert!(matches!(
            Format::from_path(Path::new("a.avi")),
            Err(ExportError::UnknownFormat { .. })
        ));
    }

    #[test]
    fn validate_rejects_bad_options() {
        let t = Timestamp::from_secs;
        assert!(ExportOptions::default()
            .from(t(5))
            .to(t(5))
            .validate()
            .is_err());
        assert!(ExportOptions::default().fps(0.0).validate().is_err());
        assert!(ExportOptions::default().fps(f64::NAN).validate().is_err());
        assert!(ExportOptions::default()
            .size(Size::new(8, 100))
            .validate()
            .is_err());
        assert!(ExportOptions::default()
            .fps(25.0)
            .size(Size::new(640, 360))
            .validate()
            .is_ok());
    }

    #[test]
    fn output_size_fits_and_keeps_aspect() {
        let hd = Size::new(1920, 1080);
        assert_eq!(output_size(hd, None), hd);
        assert_eq!(output_size(Size::new(641, 481), None), Size::new(640, 480));
        assert_eq!(
            output_size(hd, Some(Size::new(1280, 1280))),
            Size::new(1280, 720)
        );
        assert_eq!(
            output_size(hd, Some(Size::new(4000, 720))),
            Size::new(1280, 720)
        );
        assert_eq!(
            output_size(hd, Some(Size::new(853, 480))),
            Size::new(852, 480)
        );
    }

    proptest! {
        #[test]
        fn output_size_is_even_and_inside_the_box(
            sw in 1u32..5000, sh in 1u32..5000, bw in 16u32..8192, bh in 16u32..8192
        ) {
            let o = output_size(Size::new(sw, sh), Some(Size::new(bw, bh)));
            prop_assert!(o.width % 2 == 0 && o.height % 2 == 0);
            prop_assert!(o.width >= 2 && o.height >= 2);
            prop_assert!(o.width <= bw.max(2) && o.height <= bh.max(2));
            // Aspect ratio within rounding (2 pixels on the derived side).
            let want = f64::from(sw) / f64::from(sh);
            let got_w = f64::from(o.height) * want;
            let got_h = f64::from(o.width) / want;
            prop_assert!((got_w - f64::from(o.width)).abs() <= 2.0 * want.max(1.0) + 1.0
                || (got_h - f64::from(o.height)).abs() <= 2.0 / want.min(1.0) + 1.0);
        }
    }
}
