//! The one thing ffmpeg-next has no safe call for: giving a stream's codec
//! parameters their extradata (the `tx3g` sample description of a
//! `mov_text` subtitle track).
#![allow(unsafe_code)]

use ffmpeg_next::codec::Parameters;
use ffmpeg_next::ffi;

/// Copies `bytes` into `params.extradata` (FFmpeg-allocated, padded), replacing
/// any previous extradata. Returns false when FFmpeg cannot allocate.
pub(crate) fn set_extradata(params: &mut Parameters, bytes: &[u8]) -> bool {
    let Ok(len) = i32::try_from(bytes.len()) else {
        return false;
    };
    let padding = ffi::AV_INPUT_BUFFER_PADDING_SIZE as usize;
    // SAFETY: (1) `params` owns a valid AVCodecParameters allocated by
    // avcodec_parameters_alloc (Parameters::new), so `as_mut_ptr` is non-null
    // and exclusively ours through `&mut`. (2) `buf` is a fresh zeroed
    // allocation of `bytes.len() + padding` bytes, checked non-null, so the
    // copy of `bytes.len()` bytes stays in bounds and cannot overlap `bytes`.
    // (3) The old extradata, if any, was allocated by av_malloc (FFmpeg's
    // rule for this field) and is freed with av_freep before being replaced;
    // avcodec_parameters_free frees the new buffer with av_free when
    // `params` is dropped, as FFmpeg requires.
    unsafe {
        let buf = ffi::av_mallocz(bytes.len() + padding).cast::<u8>();
        if buf.is_null() {
            return false;
        }
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len());
        let p = params.as_mut_ptr();
        ffi::av_freep(std::ptr::addr_of_mut!((*p).extradata).cast());
        (*p).extradata = buf;
        (*p).extradata_size = len;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extradata_is_copied_into_parameters() {
        let mut p = Parameters::new();
        assert!(set_extradata(&mut p, &[1, 2, 3]));
        assert!(set_extradata(&mut p, &[4, 5, 6, 7]));
        // SAFETY: read-only look at the fields set above through a valid pointer.
        let (ptr, len) = unsafe { ((*p.as_ptr()).extradata, (*p.as_ptr()).extradata_size) };
        assert_eq!(len, 4);
        // SAFETY: `ptr` holds `len` initialised bytes (copied above).
        let got = unsafe { std::slice::from_raw_parts(ptr, 4) };
        assert_eq!(got, &[4, 5, 6, 7]);
    }
}
