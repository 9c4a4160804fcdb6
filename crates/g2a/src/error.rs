/// Errors of the Recorder and the Player.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The container failed (I/O, damage, caller misuse).
    #[error(transparent)]
    Format(#[from] g2a_format::FormatError),
    /// The codec failed.
    #[error(transparent)]
    Codec(#[from] g2a_codec::CodecError),
    /// A frame buffer does not match its stated layout.
    #[error(transparent)]
    Frame(#[from] g2a_core::FrameError),
    /// A frame's size is outside the limits.
    #[error(transparent)]
    Limit(#[from] g2a_core::LimitError),
    /// A record's time is earlier than the previous record's of its track.
    #[error("{track:?} timestamp went backwards: the previous record is at {previous}, this one at {found}")]
    TimeWentBackwards {
        /// The track.
        track: g2a_format::Track,
        /// The previous frame's time.
        previous: g2a_core::Timestamp,
        /// The time given.
        found: g2a_core::Timestamp,
    },
    /// A video record of a codec this player can't decode.
    #[error("video record at {ts} uses codec {found}, expected {expected}")]
    UnsupportedCodec {
        /// Time of the record.
        ts: g2a_core::Timestamp,
        /// The codec found.
        found: g2a_format::CodecId,
        /// The codec supported.
        expected: g2a_format::CodecId,
    },
    /// The recording has no video.
    #[error("the recording has no video frames")]
    NoVideo,
    /// The background encoding thread failed earlier.
    #[error("the recorder's encoding thread failed: {0}")]
    Worker(String),
}
