//! The crate's one error type.

use std::path::PathBuf;

use g2a_core::{Size, Timestamp};

/// Errors of exporting and importing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// Reading or writing a file failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done ("create", "rename", ...).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// An FFmpeg library call failed.
    #[error("ffmpeg could not {action}: {message}")]
    Ffmpeg {
        /// What was being done.
        action: &'static str,
        /// FFmpeg's own message.
        message: String,
    },
    /// The FFmpeg build lacks an encoder or muxer this export needs.
    #[error("this ffmpeg build has no {name} {kind}: expected an FFmpeg with {name} (Debian: libavcodec59 with libx264)")]
    Missing {
        /// "encoder", "decoder" or "muxer".
        kind: &'static str,
        /// FFmpeg's name for it.
        name: &'static str,
    },
    /// The output format cannot be guessed from the file name.
    #[error("cannot tell the format of {}: expected a name ending in .mp4, .m4v, .wmv or .asf, or an explicit format", path.display())]
    UnknownFormat {
        /// The output path.
        path: PathBuf,
    },
    /// `from` is not before `to`.
    #[error("empty time range: from {from} is not before to {to}")]
    EmptyRange {
        /// Start asked for.
        from: Timestamp,
        /// End asked for.
        to: Timestamp,
    },
    /// The frame rate asked for is out of range.
    #[error("frame rate {found} is out of range: expected above 0 and at most 240")]
    BadFrameRate {
        /// The rate asked for.
        found: f64,
    },
    /// The output size asked for is out of range.
    #[error("output size {found} is out of range: expected each side between 16 and 8192")]
    BadSize {
        /// The size asked for.
        found: Size,
    },
    /// A source frame does not match the size of the first frame or its buffer is short.
    #[error("frame at {ts} is {found} with {bytes} bytes: expected a {expected} frame of {} packed BGRA bytes", expected.area() * 4)]
    BadFrame {
        /// Time of the frame.
        ts: Timestamp,
        /// Its size.
        found: Size,
        /// Its buffer length.
        bytes: usize,
        /// The size of the first frame.
        expected: Size,
    },
    /// The source has no frame in the range asked for.
    #[error("no video frame to export from {from}")]
    NoFrames {
        /// Start of the range.
        from: Timestamp,
    },
    /// The input video file has no video stream.
    #[error("{} has no video stream", path.display())]
    NoVideoStream {
        /// The input.
        path: PathBuf,
    },
    /// A decoded video frame is outside the limits.
    #[error(transparent)]
    Limit(#[from] g2a_core::LimitError),
    /// The progress callback asked to stop; no output file was left.
    #[error("export cancelled")]
    Cancelled,
    /// Reading the recording failed.
    #[error(transparent)]
    Player(#[from] g2a::Error),
}

/// Maps an FFmpeg error to [`ExportError::Ffmpeg`] for `action`.
pub(crate) fn ff(action: &'static str) -> impl FnOnce(ffmpeg_next::Error) -> ExportError {
    move |e| ExportError::Ffmpeg {
        action,
        message: e.to_string(),
    }
}

/// Maps an I/O error on `path` to [`ExportError::Io`].
pub(crate) fn io<'a>(
    action: &'static str,
    path: &'a std::path::Path,
) -> impl FnOnce(std::io::Error) -> ExportError + 'a {
    move |source| ExportError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}
