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
