//! Byte-level helpers: little-endian integers, LEB128 varints, bounded reads.
//! See docs/FORMAT.md §2 (encodings).

use crate::FormatError;

/// Appends `v` as an unsigned LEB128 varint (FORMAT.md §2.2).
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Bytes `put_varint` writes for `v`.
#[cfg(test)]
pub(crate) fn varint_len(v: u64) -> usize {
    let bits = 64 - v.max(1).leading_zeros() as usize;
    bits.div_ceil(7).max(1)
}

/// Zigzag-encodes a signed value.
pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Reverses [`zigzag`].
pub(crate) fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Appends a length-prefixed byte string.
pub(crate) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// A bounded cursor over a byte slice; every read is checked against the
/// bytes present, and errors carry the absolute file offset.
#[derive(Debug, Clone)]
pub(crate) struct SliceReader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: u64,
    what: &'static str,
}

impl<'a> SliceReader<'a> {
    /// A reader over `buf`, which starts at absolute offset `base`.
    pub(crate) fn new(buf: &'a [u8], base: u64, what: &'static str) -> Self {
        SliceReader {
            buf,
            pos: 0,
            base,
            what,
        }
    }

    pub(crate) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    fn truncated(&self, needed: u64) -> FormatError {
        FormatError::Truncated {
            what: self.what,
            offset: self.offset(),
            needed,
            available: self.remaining() as u64,
        }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        if n > self.remaining() {
            return Err(self.truncated(n as u64));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }

    pub(crate) fn u8(&mut self) -> Result<u8, FormatError> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, FormatError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, FormatError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, FormatError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    pub(crate) fn i64(&mut self) -> Result<i64, FormatError> {
        Ok(self.u64()? as i64)
    }

    /// An unsigned LEB128 varint of at most 10 bytes.
    pub(crate) fn varint(&mut self) -> Result<u64, FormatError> {
        let start = self.offset();
        let mut v: u64 = 0;
        for i in 0..10 {
            let b = self.u8()?;
            if i == 9 && b > 1 {
                return Err(FormatError::malformed(
                    self.what,
                    start,
                    "varint overflows 64 bits",
                ));
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(FormatError::malformed(
            self.what,
            start,
            "varint longer than 10 bytes",
        ))
    }

    /// A varint that must fit in `u32`.
    pub(crate) fn varint_u32(&mut self) -> Result<u32, FormatError> {
        let at = self.offset();
        let v = self.varint()?;
        u32::try_from(v).map_err(|_| {
            FormatError::malformed(self.what, at, format!("value {v} does not fit in 32 bits"))
        })
    }

    /// A length-prefixed byte string; the length is checked against the
    /// bytes present before anything is read.
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], FormatError> {
        let len = self.varint()?;
        if len > self.remaining() as u64 {
            return Err(self.truncated(len));
        }
        self.take(len as usize)
    }

    /// A length-prefixed UTF-8 string.
    pub(crate) fn str(&mut self) -> Result<&'a str, FormatError> {
        let at = self.offset();
        let b = self.bytes()?;
        std::str::from_utf8(b).map_err(|e| {
            FormatError::malformed(self.what, at, format!("text is not valid UTF-8: {e}"))
        })
    }

    /// Fails unless every byte was consumed.
    pub(crate) fn finish(&self) -> Result<(), FormatError> {
        if self.remaining() != 0 {
            return Err(FormatError::malformed(
                self.what,
                self.offset(),
                format!("{} trailing bytes after the last field", self.remaining()),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn varint_roundtrip(v: u64) {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            prop_assert_eq!(out.len(), varint_len(v));
            let mut r = SliceReader::new(&out, 0, "test");
            prop_assert_eq!(r.varint().unwrap(), v);
            prop_assert!(r.is_empty());
        }

        #[test]
        fn zigzag_roundtrip(v: i64) {
            prop_assert_eq!(unzigzag(zigzag(v)), v);
        }
    }

    #[test]
    fn rejects_overlong_varint() {
        let b = [0xffu8; 11];
        assert!(SliceReader::new(&b, 0, "t").varint().is_err());
        let b = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert!(SliceReader::new(&b, 0, "t").varint().is_err());
    }

    #[test]
    fn bytes_length_checked_before_read() {
        let mut b = Vec::new();
        put_varint(&mut b, u64::MAX / 2);
        assert!(matches!(
            SliceReader::new(&b, 10, "t").bytes(),
            Err(FormatError::Truncated { .. })
        ));
    }
}
