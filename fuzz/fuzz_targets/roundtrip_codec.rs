//! Arbitrary frame sequences (sizes, strides, BGRA/BGRX, moved and scrolled
//! regions, noise, size changes) encode and decode back to the same B, G and
//! R bytes, frame after frame.
#![no_main]

use arbitrary::Arbitrary;
use g2a_codec::{Decoder, EncodedKind, Encoder, EncoderConfig, KeyframePolicy};
use g2a_core::{FrameRef, Limits, PixelFormat, Size};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Change {
    Same,
    Noise {
        at: u16,
        bytes: Vec<u8>,
    },
    Fill {
        x: u8,
        y: u8,
        w: u8,
        h: u8,
        colour: [u8; 3],
    },
    Move {
        x: u8,
        y: u8,
        w: u8,
        h: u8,
        dx: i8,
        dy: i8,
    },
    Scroll {
        dy: i8,
    },
    Resize {
        w: u8,
        h: u8,
    },
    Key,
}

#[derive(Arbitrary, Debug)]
struct Input {
    w: u8,
    h: u8,
    pad: u8,
    bgrx: bool,
    level: u8,
    max_delta: u16,
    first: Vec<u8>,
    changes: Vec<Change>,
}

struct Screen {
    w: usize,
    h: usize,
    px: Vec<u8>, // packed BGRA
}

impl Screen {
    fn new(w: usize, h: usize, seed: &[u8]) -> Screen {
        let mut px = vec![0u8; w * h * 4];
        for (i, b) in px.iter_mut().enumerate() {
            *b = if seed.is_empty() {
                (i / 4 % 7 * 30) as u8
            } else {
                seed[i % seed.len()]
            };
        }
        Screen { w, h, px }
    }
    fn get(&self, x: usize, y: usize) -> [u8; 4] {
        let i = (y * self.w + x) * 4;
        [self.px[i], self.px[i + 1], self.px[i + 2], self.px[i + 3]]
    }
    fn set(&mut self, x: usize, y: usize, p: [u8; 4]) {
        let i = (y * self.w + x) * 4;
        self.px[i..i + 4].copy_from_slice(&p);
    }
}

fuzz_target!(|input: Input| {
    let w = usize::from(input.w % 160) + 1;
    let h = usize::from(input.h % 120) + 1;
    let mut s = Screen::new(w, h, &input.first);
    let mut policy = KeyframePolicy::default();
    policy.max_delta_bytes = u64::from(input.max_delta) + 1;
    policy.key_ratio = u32::from(input.level % 3);
    let cfg = EncoderConfig::default()
        .level(i32::from(input.level % 6) + 1)
        .keyframes(policy);
    let mut enc = Encoder::new(cfg).expect("encoder");
    let mut dec = Decoder::new(Limits::default());
    let mut packet = Vec::new();
    let mut changes = input.changes.iter().take(12).collect::<Vec<_>>();
    changes.insert(0, &Change::Same);
    for change in changes {
        let mut force = false;
        match change {
            Change::Same => {}
            Change::Key => force = true,
            Change::Noise { at, bytes } => {
                let n = s.px.len();
                for (k, b) in bytes.iter().enumerate() {
                    s.px[(usize::from(*at) + k * 13) % n] = *b;
                }
            }
            Change::Fill {
                x,
                y,
                w: fw,
                h: fh,
                colour,
            } => {
                for yy in usize::from(*y) % s.h..(usize::from(*y) + usize::from(*fh)).min(s.h) {
                    for xx in usize::from(*x) % s.w..(usize::from(*x) + usize::from(*fw)).min(s.w) {
                        s.set(xx, yy, [colour[0], colour[1], colour[2], 255]);
                    }
                }
            }
            Change::Move {
                x,
                y,
                w: mw,
                h: mh,
                dx,
                dy,
            } => {
                let old = Screen {
                    w: s.w,
                    h: s.h,
                    px: s.px.clone(),
                };
                for yy in 0..usize::from(*mh) {
                    for xx in 0..usize::from(*mw) {
                        let (sx, sy) = (usize::from(*x) + xx, usize::from(*y) + yy);
                        let tx = sx as i64 + i64::from(*dx);
                        let ty = sy as i64 + i64::from(*dy);
                        if sx < s.w
                            && sy < s.h
                            && tx >= 0
                            && ty >= 0
                            && (tx as usize) < s.w
                            && (ty as usize) < s.h
                        {
                            s.set(tx as usize, ty as usize, old.get(sx, sy));
                        }
                    }
                }
            }
            Change::Scroll { dy } => {
                let old = Screen {
                    w: s.w,
                    h: s.h,
                    px: s.px.clone(),
                };
                for yy in 0..s.h {
                    let from = yy as i64 + i64::from(*dy);
                    if from >= 0 && (from as usize) < s.h {
                        for xx in 0..s.w {
                            s.set(xx, yy, old.get(xx, from as usize));
                        }
                    }
                }
            }
            Change::Resize { w: nw, h: nh } => {
                let nw = usize::from(*nw % 160) + 1;
                let nh = usize::from(*nh % 120) + 1;
                let mut n = Screen::new(nw, nh, &[]);
                for yy in 0..nh.min(s.h) {
                    for xx in 0..nw.min(s.w) {
                        n.set(xx, yy, s.get(xx, yy));
                    }
                }
                s = n;
            }
        }
        // Lay the frame out with a stride and, for BGRX, junk in the X byte.
        let stride = s.w * 4 + usize::from(input.pad % 16);
        let mut buf = vec![0xAB; stride * s.h];
        for y in 0..s.h {
            let row = &s.px[y * s.w * 4..(y + 1) * s.w * 4];
            buf[y * stride..y * stride + s.w * 4].copy_from_slice(row);
            if input.bgrx {
                for p in buf[y * stride..y * stride + s.w * 4].chunks_exact_mut(4) {
                    p[3] = (y * 31) as u8;
                }
            }
        }
        let format = if input.bgrx {
            PixelFormat::Bgrx8
        } else {
            PixelFormat::Bgra8
        };
        let size = Size::new(s.w as u32, s.h as u32);
        let frame = FrameRef::new(&buf, size, stride, format).expect("frame");
        let kind = enc.encode(&frame, force, &mut packet).expect("encode");
        if force {
            assert_eq!(kind, EncodedKind::Key);
        }
        let out = dec.decode(&packet).expect("our own packet decodes");
        assert_eq!(out.size, size);
        for y in 0..s.h {
            for x in 0..s.w {
                let i = (y * s.w + x) * 4;
                assert_eq!(
                    &out.data[i..i + 3],
                    &s.px[i..i + 3],
                    "pixel {x},{y} differs"
                );
                assert_eq!(out.data[i + 3], 255);
            }
        }
    }
});
