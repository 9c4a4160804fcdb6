//! [`open_video`]: any FFmpeg-readable video as packed BGRA frames with
//! microsecond timestamps, for `g2a import VIDEO`.

use std::path::{Path, PathBuf};

use ff::format::Pixel;
use ff::software::scaling;
use ff::{codec, decoder, frame, media, Packet, Rational};
use ffmpeg_next as ff;
use g2a_core::{Limits, Size, Timestamp};

use crate::error::ff;
use crate::ExportError;

/// Options of [`open_video`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportOptions {
    /// Frames larger than these limits are refused before any buffer is
    /// allocated for them.
    pub limits: Limits,
    /// Decoder threads (0: FFmpeg chooses).
    pub threads: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            limits: Limits::default(),
            threads: 2,
        }
    }
}

impl ImportOptions {
    /// Sets the limits.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
    /// Sets the number of decoder threads.
    #[must_use]
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n;
        self
    }
}

/// A decoded frame, borrowed until the next call.
#[derive(Debug, Clone, Copy)]
pub struct DecodedFrame<'a> {
    /// Time from the first frame.
    pub ts: Timestamp,
    /// Its size.
    pub size: Size,
    /// `size.width * size.height` packed BGRA pixels, alpha 255.
    pub data: &'a [u8],
}

/// A video opened by [`open_video`]; pull frames with
/// [`next_frame`](VideoFrames::next_frame).
pub struct VideoFrames {
    path: PathBuf,
    input: ff::format::context::Input,
    decoder: decoder::Video,
    stream: usize,
    time_base: Rational,
    frame_rate: Option<f64>,
    duration: Option<Timestamp>,
    first_pts: Option<i64>,
    last_ts: Option<Timestamp>,
    limits: Limits,
    scaler: Option<(scaling::Context, Pixel, u32, u32)>,
    decoded: frame::Video,
    bgra: frame::Video,
    buf: Vec<u8>,
    size: Size,
    eof_sent: bool,
    done: bool,
}

impl std::fmt::Debug for VideoFrames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoFrames")
            .field("path", &self.path)
            .field("size", &self.size)
            .field("at", &self.last_ts)
            .finish_non_exhaustive()
    }
}

/// Opens `path` (any container and codec FFmpeg reads) and prepares to
/// decode its best video stream.
///
/// Timestamps are the frames' presentation times in microseconds from the
/// first frame, never decreasing. RGB inputs (such as H.264 4:4:4 `gbrp`)
/// convert to BGRA exactly; YUV inputs use swscale's accurate rounding.
///
/// # Errors
/// [`ExportError::Io`]/[`ExportError::Ffmpeg`] when the file cannot be
/// opened or decoded, [`ExportError::NoVideoStream`], and
/// [`ExportError::Limit`] for frames over the limits.
pub fn open_video(path: &Path, opts: &ImportOptions) -> Result<VideoFrames, ExportError> {
    crate::export::init()?;
    let input = ff::format::input(&path).map_err(|e| match e {
        ff::Error::Other { errno } if errno != 0 => ExportError::Io {
            action: "open",
            path: path.to_path_buf(),
            source: std::io::Error::from_raw_os_error(errno),
        },
        e => ff("open the video")(e),
    })?;
    let stream =
        input
            .streams()
            .best(media::Type::Video)
            .ok_or_else(|| ExportError::NoVideoStream {
                path: path.to_path_buf(),
            })?;
    let index = stream.index();
    let time_base = stream.time_base();
    let rate = stream.avg_frame_rate();
    let frame_rate = (rate.0 > 0 && rate.1 > 0).then(|| f64::from(rate.0) / f64::from(rate.1));
    let duration = (input.duration() > 0)
        .then(|| Timestamp::from_micros(u64::try_from(input.duration()).unwrap_or(0)));
    let mut ctx = codec::context::Context::from_parameters(stream.parameters())
        .map_err(ff("read the stream parameters"))?;
    if opts.threads > 0 {
        ctx.set_threading(codec::threading::Config {
            kind: codec::threading::Type::Frame,
            count: opts.threads,
            ..Default::default()
        });
    }
    let mut decoder = ctx.decoder().video().map_err(ff("open the decoder"))?;
    decoder.set_packet_time_base(time_base);
    let size = Size::new(decoder.width(), decoder.height());
    opts.limits.check_size(size)?;
    Ok(VideoFrames {
        path: path.to_path_buf(),
        input,
        decoder,
        stream: index,
        time_base,
        frame_rate,
        duration,
        first_pts: None,
        last_ts: None,
        limits: opts.limits,
        scaler: None,
        decoded: frame::Video::empty(),
        bgra: frame::Video::empty(),
        buf: Vec::new(),
        size,
        eof_sent: false,
        done: false,
    })
}

impl VideoFrames {
    /// Size of the video as the stream declares it.
    #[must_use]
    pub fn size(&self) -> Size {
        self.size
    }

    /// Average frame rate, when the container tells it.
    #[must_use]
    pub fn frame_rate(&self) -> Option<f64> {
        self.frame_rate
    }

    /// Duration, when the container tells it.
    #[must_use]
    pub fn duration(&self) -> Option<Timestamp> {
        self.duration
    }

    /// The next frame in presentation order, `None` at the end.
    ///
    /// # Errors
    /// When reading or decoding fails, or a frame is over the limits.
    pub fn next_frame(&mut self) -> Result<Option<DecodedFrame<'_>>, ExportError> {
        loop {
            if self.done {
                return Ok(None);
            }
            match self.decoder.receive_frame(&mut self.decoded) {
                Ok(()) => return self.emit().map(Some),
                Err(ff::Error::Eof) => {
                    self.done = true;
                    return Ok(None);
                }
                Err(ff::Error::Other { errno }) if errno == ff::util::error::EAGAIN => {}
                Err(e) => return Err(ff("decode a frame")(e)),
            }
            if self.eof_sent {
                self.done = true;
                return Ok(None);
            }
            let mut pkt = Packet::empty();
            match pkt.read(&mut self.input) {
                Ok(()) => {
                    if pkt.stream() == self.stream {
                        self.decoder
                            .send_packet(&pkt)
                            .map_err(ff("decode a packet"))?;
                    }
                }
                Err(ff::Error::Eof) => {
                    self.decoder.send_eof().map_err(ff("flush the decoder"))?;
                    self.eof_sent = true;
                }
                Err(e) => return Err(ff("read a packet")(e)),
            }
        }
    }

    /// Converts the decoded frame to packed BGRA and times it.
    fn emit(&mut self) -> Result<DecodedFrame<'_>, ExportError> {
        let (w, h, fmt) = (
            self.decoded.width(),
            self.decoded.height(),
            self.decoded.format(),
        );
        let size = Size::new(w, h);
        self.limits.check_size(size)?;
        let ts = self.timestamp();
        let src = if fmt == Pixel::BGRA {
            &self.decoded
        } else {
            if !matches!(&self.scaler, Some((_, f, sw, sh)) if *f == fmt && *sw == w && *sh == h) {
                let sc = scaling::Context::get(
                    fmt,
                    w,
                    h,
                    Pixel::BGRA,
                    w,
                    h,
                    scaling::Flags::POINT
                        | scaling::Flags::ACCURATE_RND
                        | scaling::Flags::FULL_CHR_H_INT,
                )
                .map_err(ff("set up the colour conversion"))?;
                self.scaler = Some((sc, fmt, w, h));
                self.bgra = frame::Video::new(Pixel::BGRA, w, h);
            }
            if let Some((sc, ..)) = self.scaler.as_mut() {
                sc.run(&self.decoded, &mut self.bgra)
                    .map_err(ff("convert a frame to BGRA"))?;
            }
            &self.bgra
        };
        let row = w as usize * 4;
        let stride = src.stride(0);
        self.buf.clear();
        for line in src.data(0).chunks(stride).take(h as usize) {
            self.buf.extend_from_slice(&line[..row]);
        }
        for px in self.buf.chunks_exact_mut(4) {
            px[3] = 255;
        }
        Ok(DecodedFrame {
            ts,
            size,
            data: &self.buf,
        })
    }

    /// The decoded frame's time from the first frame, never decreasing.
    fn timestamp(&mut self) -> Timestamp {
        let pts = self.decoded.timestamp().or(self.decoded.pts());
        let step = self
            .frame_rate
            .and_then(|r| Timestamp::from_secs_f64(1.0 / r))
            .unwrap_or(Timestamp::from_millis(100));
        let ts = match (pts, self.first_pts) {
            (Some(p), Some(first)) => {
                let (num, den) = (i128::from(self.time_base.0), i128::from(self.time_base.1));
                let us = (i128::from(p) - i128::from(first)) * num * 1_000_000 / den.max(1);
                Timestamp::from_micros(u64::try_from(us.max(0)).unwrap_or(u64::MAX))
            }
            (Some(p), None) => {
                self.first_pts = Some(p);
                Timestamp::ZERO
            }
            (None, _) => self.last_ts.map_or(Timestamp::ZERO, |t| {
                Timestamp::from_micros(t.as_micros().saturating_add(step.as_micros()))
            }),
        };
        let ts = self.last_ts.map_or(ts, |last| ts.max(last));
        self.last_ts = Some(ts);
        ts
    }
}
