/// Errors of the screen codec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// A packet is malformed.
    #[error("malformed packet at byte {offset}: {detail}")]
    Malformed {
        /// Byte offset within the packet (or its decompressed body).
        offset: usize,
        /// What was found and what was expected.
        detail: String,
    },
    /// A delta packet arrived with no keyframe before it.
    #[error("delta packet without a preceding keyframe: decode a keyframe first (after a seek, start at the keyframe)")]
    NeedKeyframe,
    /// A frame or packet exceeds the configured limits.
    #[error(transparent)]
    Limit(#[from] g2a_core::LimitError),
    /// The input frame is unusable.
    #[error(transparent)]
    Frame(#[from] g2a_core::FrameError),
    /// The entropy coder failed.
    #[error("zstd: {0}")]
    Zstd(String),
    /// A packet reads a cached tile that the seek before it did not keep
    /// ([`Decoder::seek`](crate::Decoder::seek) keeps only what its own
    /// packets read): decode the keyframe group up to the frame before this
    /// packet again with [`Decoder::decode_run`](crate::Decoder::decode_run),
    /// then this packet.
    #[error("cache slot {slot} was not kept by the seek before this packet: decode its keyframe group again with decode_run, then this packet")]
    TileDropped {
        /// The slot the packet reads.
        slot: u16,
    },
    /// An invalid configuration.
    #[error("invalid encoder configuration: {0}")]
    Config(String),
}

pub(crate) fn malformed(offset: usize, detail: impl Into<String>) -> CodecError {
    CodecError::Malformed {
        offset,
        detail: detail.into(),
    }
}
