//! Any bytes as codec packets: the decoder returns an error or a frame of the
//! size it announced, and never panics, hangs or allocates past its limits.
//! Half of the runs start from a real keyframe so that hostile delta packets
//! reach the tile decoder with a valid reference frame. The same packets are
//! also decoded as one run (`Decoder::decode_run`, inflating on another
//! thread) and as a seek (`Decoder::seek`) up to the first error, which must
//! give the same frame.
#![no_main]

use g2a_codec::{Decoder, Encoder, EncoderConfig};
use g2a_core::{FrameRef, Limits, PixelFormat, Size};
use libfuzzer_sys::fuzz_target;

fn limits() -> Limits {
    Limits::default()
        .with_max_pixels(1 << 20)
        .with_max_alloc_bytes(64 << 20)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut dec = Decoder::new(limits());
    let mut key = Vec::new();
    if mode & 1 == 1 {
        // A real keyframe first: a 96x64 gradient.
        let size = Size::new(96, 64);
        let pixels: Vec<u8> = (0..96 * 64 * 4).map(|i| (i * 7 % 251) as u8).collect();
        let frame = FrameRef::packed(&pixels, size, PixelFormat::Bgra8).expect("frame");
        let mut enc = Encoder::new(EncoderConfig::default()).expect("encoder");
        enc.encode(&frame, true, &mut key).expect("encode");
        dec.decode(&key).expect("a real keyframe decodes");
    }
    // The rest is split into packets at 0xFF 0x00 markers.
    let mut run: Vec<&[u8]> = Vec::new();
    if !key.is_empty() {
        run.push(&key);
    }
    let mut last_ok: Option<Vec<u8>> = None;
    let mut failed = false;
    let mut start = 0;
    let mut i = 0;
    while i <= rest.len() {
        let end = i == rest.len() || (rest[i] == 0xFF && rest.get(i + 1) == Some(&0));
        if end {
            let packet = &rest[start..i];
            match dec.decode(packet) {
                Ok(frame) => {
                    let s = frame.size;
                    assert_eq!(frame.data.len(), s.width as usize * s.height as usize * 4);
                    assert!(frame.data.chunks_exact(4).all(|p| p[3] == 255));
                    if !failed {
                        run.push(packet);
                        last_ok = Some(frame.data.to_vec());
                    }
                }
                Err(_) => failed = true,
            }
            start = i + 2;
            i += 2;
        } else {
            i += 1;
        }
    }
    // The packets that decoded one by one before the first error, as a run.
    if let Some(want) = last_ok {
        let mut dec = Decoder::new(limits());
        dec.set_threads(2);
        let got = dec
            .decode_run(&run)
            .expect("the same packets decode as a run");
        assert!(
            got.data == &want[..],
            "a run decodes like its packets one by one"
        );
        // And as a seek (which keeps less of the tile cache): the same frame.
        let mut dec = Decoder::new(limits());
        dec.set_threads(2);
        let got = dec.seek(&run).expect("the same packets decode as a seek");
        assert!(
            got.data == &want[..],
            "a seek decodes like its packets one by one"
        );
    }
});
