//! The only unsafe code of this crate: memory-mapping a recording.

use std::fs::File;
use std::ops::Deref;

/// The bytes of a recording: a read-only map of a file, or an owned buffer.
#[derive(Debug)]
pub(crate) enum Bytes {
    Map(memmap2::Mmap),
    Owned(Vec<u8>),
    Empty,
}

impl Bytes {
    /// Maps `file` read-only. An empty file gives an empty buffer (mapping
    /// zero bytes fails on Linux).
    pub(crate) fn map(file: &File) -> std::io::Result<Bytes> {
        if file.metadata()?.len() == 0 {
            return Ok(Bytes::Empty);
        }
        // SAFETY: (1) the map is read-only and never handed out beyond the
        // `Reader` that owns it; (2) `.g2a` files are append-only: writers
        // never rewrite bytes already written, so bytes below the length seen
        // at mapping time don't change under us while a recording grows;
        // (3) a file truncated by another process while mapped would raise
        // SIGBUS on access — the documented limit of reading a file that
        // another program truncates, shared by every mmap-based reader.
        #[allow(unsafe_code)]
        let map = unsafe { memmap2::Mmap::map(file)? };
        Ok(Bytes::Map(map))
    }

    /// Tells the kernel that `start..end` will be read soon, so that the
    /// pages not in memory are read ahead in one go rather than one fault
    /// at a time. Advisory: out-of-range parts are ignored, errors too.
    pub(crate) fn will_need(&self, start: u64, end: u64) {
        if let Bytes::Map(m) = self {
            let len = m.len() as u64;
            let (start, end) = (start.min(len), end.min(len));
            if start < end {
                let _ = m.advise_range(
                    memmap2::Advice::WillNeed,
                    start as usize,
                    (end - start) as usize,
                );
            }
        }
    }
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Map(m) => m,
            Bytes::Owned(v) => v,
            Bytes::Empty => &[],
        }
    }
}
