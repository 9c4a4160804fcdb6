//! A frame buffer that starts on a cache-line boundary.

/// Bytes starting on a 64-byte boundary. The kernel copies shared-memory
/// (and page-cache) pages into a buffer at another offset within a cache
/// line several times slower: 300 reads of a 1080p frame from a memfd took
/// 1.56 s into a buffer at offset 16 and 0.48-0.50 s at offset 0 or 64
/// (docs/BENCHMARKS.md, "Whole-process encoding"). The capture's frame
/// buffer and `g2a import --raw`'s read buffer are both this.
///
/// ```
/// let mut b = g2a_core::AlignedBuf::default();
/// b.reset(1920 * 1080 * 4);
/// assert_eq!(b.bytes().as_ptr() as usize % 64, 0);
/// ```
#[derive(Debug, Default)]
pub struct AlignedBuf {
    storage: Vec<u8>,
    start: usize,
    len: usize,
}

impl AlignedBuf {
    /// Makes the buffer `len` bytes long, all zero.
    pub fn reset(&mut self, len: usize) {
        self.storage.clear();
        self.storage.resize(len + 63, 0);
        self.start = self.storage.as_ptr().align_offset(64).min(63);
        self.len = len;
    }

    /// The bytes.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.storage[self.start..self.start + self.len]
    }

    /// The bytes, to write.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.storage[self.start..self.start + self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_on_a_cache_line_and_has_the_length_asked() {
        let mut b = AlignedBuf::default();
        assert!(b.bytes().is_empty());
        for len in [1, 64, 1000, 1920 * 1080 * 4] {
            b.reset(len);
            assert_eq!(b.bytes().len(), len);
            assert_eq!(b.bytes().as_ptr() as usize % 64, 0);
            assert!(b.bytes().iter().all(|&x| x == 0));
            b.bytes_mut()[len - 1] = 7;
            assert_eq!(b.bytes()[len - 1], 7);
        }
    }
}
