//! The exporter: frames from an [`ExportSource`] through swscale and an
//! FFmpeg encoder into MP4 or ASF, with the chat as `mov_text` subtitles.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ff::format::Pixel;
use ff::software::scaling;
use ff::{codec, encoder, frame, media, Dictionary, Packet, Rational};
use ffmpeg_next as ff;
use g2a_core::{Size, Timestamp};

use crate::error::{ff, io};
use crate::options::output_size;
use crate::source::{ChatLine, CursorOverlay, ExportSource};
use crate::{Control, ExportError, ExportOptions, ExportSummary, Format, Progress, WmvCodec};

/// Milliseconds: the time base of variable-frame-rate output and subtitles.
const MS: Rational = Rational(1, 1000);

/// Longest time a chat line stays on screen when no other line follows.
const CHAT_SHOW_MS: i64 = 6_000;

/// Duration given to the last frame when nothing tells it (100 ms: the
/// usual 10 fps of screen recordings).
const DEFAULT_FRAME_MS: i64 = 100;

/// The `tx3g` sample description FFmpeg's own `mov_text` encoder writes
/// (3GPP TS 26.245 §5.16): bottom-centred white text, font "Serif".
const TX3G_SAMPLE_ENTRY: [u8; 48] = [
    0, 0, 0, 0, // displayFlags
    0x01, 0xFF, // horizontal centre, vertical bottom
    0, 0, 0, 0, // background colour
    0, 0, 0, 0, 0, 0, 0, 0, // default text box
    0, 0, 0, 0, 0, 1, 0, 0x12, 0xFF, 0xFF, 0xFF, 0xFF, // style: font 1, 18 px, white
    0, 0, 0, 0x12, b'f', b't', b'a', b'b', 0, 1, // font table, one entry
    0, 1, 5, b'S', b'e', b'r', b'i', b'f', // font 1 = "Serif"
];

/// Initialises FFmpeg once (quiet logging).
pub(crate) fn init() -> Result<(), ExportError> {
    static INIT: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    INIT.get_or_init(|| {
        ff::init().map_err(|e| e.to_string())?;
        ff::util::log::set_level(ff::util::log::Level::Error);
        Ok(())
    })
    .clone()
    .map_err(|message| ExportError::Ffmpeg {
        action: "initialise",
        message,
    })
}

/// The name the output is written under until it is complete.
fn temp_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    out.with_file_name(name)
}

/// Exports `source` to `out`, calling `progress` after each source frame.
///
/// The file is written under `OUT.part` and renamed to `out` when
/// complete; on any error or on [`Control::Cancel`] the partial file is
/// removed and nothing is left under `out`.
///
/// # Errors
/// Invalid options, a source that fails or has no frame, a missing
/// encoder, I/O failures, and [`ExportError::Cancelled`].
///
/// # Examples
/// ```
/// use g2a_core::{Size, Timestamp};
/// use g2a_export::{export, Control, ExportOptions, RawFrames};
/// let size = Size::new(64, 48);
/// let mut src = RawFrames::new(size);
/// for i in 0..10u64 {
///     let mut px = vec![255u8; 64 * 48 * 4];
///     px[i as usize * 4] = 0;
///     src.push(Timestamp::from_millis(i * 100), px)?;
/// }
/// src.set_end(Timestamp::from_secs(1));
/// let dir = tempfile::tempdir()?;
/// let out = dir.path().join("clip.mp4");
/// let s = export(&mut src, &out, &ExportOptions::default(), &mut |_| Control::Continue)?;
/// assert_eq!(s.duration, Timestamp::from_secs(1));
/// assert!(out.exists());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn export(
    source: &mut dyn ExportSource,
    out: &Path,
    opts: &ExportOptions,
    progress: &mut dyn FnMut(Progress) -> Control,
) -> Result<ExportSummary, ExportError> {
    opts.validate()?;
    let format = match opts.format {
        Some(f) => f,
        None => Format::from_path(out)?,
    };
    init()?;
    let tmp = temp_path(out);
    let started = Instant::now();
    match run(source, &tmp, format, opts, progress) {
        Ok(mut summary) => {
            std::fs::rename(&tmp, out).map_err(io("rename the export to", out))?;
            summary.bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
            summary.elapsed = started.elapsed();
            Ok(summary)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// The encoder settings for a format.
struct Plan {
    codec: &'static str,
    pixel: Pixel,
    muxer: &'static str,
}

fn plan(format: Format, opts: &ExportOptions) -> Plan {
    match format {
        Format::Mp4 if opts.full_colour => Plan {
            codec: "libx264rgb",
            pixel: Pixel::BGRZ,
            muxer: "mp4",
        },
        Format::Mp4 => Plan {
            codec: "libx264",
            pixel: Pixel::YUV420P,
            muxer: "mp4",
        },
        Format::Wmv => Plan {
            codec: match opts.wmv_codec {
                WmvCodec::Wmv2 => "wmv2",
                WmvCodec::Msmpeg4 => "msmpeg4",
            },
            pixel: Pixel::YUV420P,
            muxer: "asf",
        },
    }
}

/// The video half of the output: encoder, scaler and packet timing.
struct VideoOut {
    enc: encoder::Video,
    stream: usize,
    enc_tb: Rational,
    stream_tb: Rational,
    /// Duration (in `enc_tb`) of each frame sent, by pts, until its packet
    /// comes out: FFmpeg 5.1 encoders leave packet durations at 0.
    durations: HashMap<i64, i64>,
    scaler: scaling::Context,
    src: frame::Video,
    scratch: Vec<u8>,
    out_size: Size,
    pixel: Pixel,
    encoded: u64,
}

impl VideoOut {
    /// Converts packed BGRA `data` (with `cursor` drawn) into a new frame.
    fn convert(
        &mut self,
        data: &[u8],
        size: Size,
        cursor: Option<&CursorOverlay>,
    ) -> Result<frame::Video, ExportError> {
        let pixels: &[u8] = match cursor {
            Some(c) => {
                self.scratch.clear();
                self.scratch.extend_from_slice(data);
                c.image.draw_onto(&mut self.scratch, size, c.x, c.y);
                &self.scratch
            }
            None => data,
        };
        let row = size.width as usize * 4;
        let stride = self.src.stride(0);
        let plane = self.src.data_mut(0);
        for (dst, src) in plane.chunks_mut(stride).zip(pixels.chunks_exact(row)) {
            dst[..row].copy_from_slice(src);
        }
        let mut out = frame::Video::new(self.pixel, self.out_size.width, self.out_size.height);
        self.scaler
            .run(&self.src, &mut out)
            .map_err(ff("convert a frame"))?;
        Ok(out)
    }

    /// Sends `frame` at `pts` lasting `duration` (both in `enc_tb`), and
    /// writes the packets that come out.
    fn send(
        &mut self,
        octx: &mut ff::format::context::Output,
        frame: &mut frame::Video,
        pts: i64,
        duration: i64,
    ) -> Result<(), ExportError> {
        frame.set_pts(Some(pts));
        self.durations.insert(pts, duration.max(1));
        self.enc.send_frame(frame).map_err(ff("encode a frame"))?;
        self.encoded += 1;
        self.drain(octx)
    }

    fn drain(&mut self, octx: &mut ff::format::context::Output) -> Result<(), ExportError> {
        let mut pkt = Packet::empty();
        while self.enc.receive_packet(&mut pkt).is_ok() {
            let d = pkt
                .pts()
                .and_then(|p| self.durations.remove(&p))
                .unwrap_or(1);
            pkt.set_duration(d);
            pkt.set_stream(self.stream);
            pkt.rescale_ts(self.enc_tb, self.stream_tb);
            pkt.write_interleaved(octx)
                .map_err(ff("write a video packet"))?;
        }
        Ok(())
    }

    fn finish(&mut self, octx: &mut ff::format::context::Output) -> Result<(), ExportError> {
        self.enc.send_eof().map_err(ff("flush the encoder"))?;
        self.drain(octx)
    }
}

fn open_video(
    octx: &mut ff::format::context::Output,
    plan: &Plan,
    screen: Size,
    out_size: Size,
    enc_tb: Rational,
    opts: &ExportOptions,
) -> Result<VideoOut, ExportError> {
    let codec = encoder::find_by_name(plan.codec).ok_or(ExportError::Missing {
        kind: "encoder",
        name: plan.codec,
    })?;
    let global_header = octx
        .format()
        .flags()
        .contains(ff::format::flag::Flags::GLOBAL_HEADER);
    let mut enc = codec::context::Context::new_with_codec(codec)
        .encoder()
        .video()
        .map_err(ff("create the video encoder"))?;
    enc.set_width(out_size.width);
    enc.set_height(out_size.height);
    enc.set_format(plan.pixel);
    enc.set_time_base(enc_tb);
    if opts.fps.is_some() {
        enc.set_frame_rate(Some(Rational(enc_tb.1, enc_tb.0)));
    }
    let mut dict = Dictionary::new();
    let mut flags = codec::flag::Flags::empty();
    if global_header {
        flags |= codec::flag::Flags::GLOBAL_HEADER;
    }
    match plan.muxer {
        "mp4" => {
            dict.set("preset", "veryfast");
            dict.set("crf", &opts.quality.crf(opts.full_colour).to_string());
            dict.set("threads", "2");
            enc.set_gop(300);
        }
        _ => {
            // MPEG-4-family encoders: constant quantiser, no B-frames.
            // FFmpeg's command line also sets each frame's quality; ffmpeg-next
            // cannot, so the quantiser range is pinned instead.
            let q = opts.quality.qscale();
            flags |= codec::flag::Flags::QSCALE;
            enc.set_global_quality(q * ff::ffi::FF_QP2LAMBDA);
            enc.set_qmin(q);
            enc.set_qmax(q);
            enc.set_max_b_frames(0);
            enc.set_gop(250);
        }
    }
    enc.set_flags(flags);
    let enc = enc
        .open_as_with(codec, dict)
        .map_err(ff("open the video encoder"))?;
    let mut st = octx.add_stream(codec).map_err(ff("add the video stream"))?;
    st.set_time_base(enc_tb);
    st.set_parameters(&enc);
    if opts.fps.is_some() {
        st.set_avg_frame_rate(Rational(enc_tb.1, enc_tb.0));
    }
    let stream = st.index();
    // Lanczos keeps the most detail of text when resizing (measured in
    // docs/EXPORT.md against area, bicubic and bilinear); at the same size
    // only the pixel format changes and the filter does not matter.
    let flags = scaling::Flags::LANCZOS;
    let scaler = scaling::Context::get(
        Pixel::BGRA,
        screen.width,
        screen.height,
        plan.pixel,
        out_size.width,
        out_size.height,
        flags,
    )
    .map_err(ff("set up the scaler"))?;
    Ok(VideoOut {
        enc,
        stream,
        enc_tb,
        stream_tb: enc_tb,
        durations: HashMap::new(),
        scaler,
        src: frame::Video::new(Pixel::BGRA, screen.width, screen.height),
        scratch: Vec::new(),
        out_size,
        pixel: plan.pixel,
        encoded: 0,
    })
}

/// Adds the `mov_text` stream; returns its index.
fn add_subtitles(octx: &mut ff::format::context::Output) -> Result<usize, ExportError> {
    let mut params = codec::Parameters::new();
    params.set_medium(media::Type::Subtitle);
    params.set_id(codec::Id::MOV_TEXT);
    if !crate::ffi::set_extradata(&mut params, &TX3G_SAMPLE_ENTRY) {
        return Err(ExportError::Ffmpeg {
            action: "allocate the subtitle description",
            message: "out of memory".to_owned(),
        });
    }
    let mut st = octx
        .add_stream(encoder::find(codec::Id::MOV_TEXT))
        .map_err(ff("add the subtitle stream"))?;
    st.set_time_base(MS);
    st.set_parameters(params);
    let mut meta = Dictionary::new();
    meta.set("language", "und");
    meta.set("handler_name", "Chat");
    st.set_metadata(meta);
    Ok(st.index())
}

/// One `mov_text` sample: 16-bit big-endian length, then UTF-8 text
/// (3GPP TS 26.245 §5.17), cut at a character boundary to fit.
fn mov_text_sample(text: &str) -> Vec<u8> {
    let mut end = text.len().min(usize::from(u16::MAX));
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut v = Vec::new();
    v.extend_from_slice(&(end as u16).to_be_bytes());
    v.extend_from_slice(&text.as_bytes()[..end]);
    v
}

/// The chat lines inside `[from, end)`, as (start ms, duration ms, text)
/// relative to `from`.
fn subtitle_cues(chat: &[ChatLine], from: Timestamp, end: Timestamp) -> Vec<(i64, i64, String)> {
    let inside: Vec<&ChatLine> = chat.iter().filter(|l| l.ts >= from && l.ts < end).collect();
    let rel = |t: Timestamp| ms(t.as_micros().saturating_sub(from.as_micros()));
    let end_ms = rel(end);
    inside
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let start = rel(l.ts);
            let next = inside.get(i + 1).map_or(end_ms, |n| rel(n.ts));
            let stop = next.min(start + CHAT_SHOW_MS).min(end_ms).max(start + 1);
            let text = format!("{} ({}): {}", l.sender, l.role, l.text);
            (start, stop - start, text)
        })
        .collect()
}

fn ms(us: u64) -> i64 {
    i64::try_from(us / 1000).unwrap_or(i64::MAX)
}

fn run(
    source: &mut dyn ExportSource,
    tmp: &Path,
    format: Format,
    opts: &ExportOptions,
    progress: &mut dyn FnMut(Progress) -> Control,
) -> Result<ExportSummary, ExportError> {
    let plan = plan(format, opts);
    let screen = source.screen_size();
    let out_size = output_size(screen, opts.size);
    let from = opts.from.unwrap_or(Timestamp::ZERO);
    let src_end = source.duration();
    let end = opts.to.map_or(src_end, |t| t.min(src_end.max(from)));
    let chat = if format == Format::Mp4 && opts.chat_subtitles {
        let mut c = source.chat()?;
        c.retain(|l| l.ts >= from && opts.to.is_none_or(|t| l.ts < t));
        c
    } else {
        Vec::new()
    };

    let mut octx = ff::format::output_as(tmp, plan.muxer).map_err(|e| match e {
        ff::Error::Other { errno } if errno != 0 => ExportError::Io {
            action: "create",
            path: tmp.to_path_buf(),
            source: std::io::Error::from_raw_os_error(errno),
        },
        e => ff("create the output")(e),
    })?;
    let enc_tb = match opts.fps {
        Some(fps) => {
            let den = (fps * 1000.0).round() as i32;
            Rational(1000, den)
        }
        None => MS,
    };
    let mut video = open_video(&mut octx, &plan, screen, out_size, enc_tb, opts)?;
    let sub_stream = if chat.is_empty() {
        None
    } else {
        Some(add_subtitles(&mut octx)?)
    };
    let mut muxer_opts = Dictionary::new();
    if plan.muxer == "mp4" {
        muxer_opts.set("movflags", "+faststart");
    }
    octx.write_header_with(muxer_opts)
        .map_err(ff("write the header"))?;
    video.stream_tb = octx.stream(video.stream).map_or(enc_tb, |s| s.time_base());
    // Times relative to `from`, in microseconds.
    let end_rel = end.as_micros().saturating_sub(from.as_micros());
    let total = Timestamp::from_micros(end_rel);
    let to_limit = opts.to;
    source.seek(from)?;
    let mut read: u64 = 0;
    let mut unchanged: u64 = 0;
    let mut last_cursor: Option<CursorOverlay> = None;
    // The converted picture not yet sent (VFR) or last shown (CFR), with
    // its pts in `enc_tb`.
    let mut pending: Option<(frame::Video, i64)> = None;
    // The recording's frame interval (smallest step between frames, in
    // ms): the last frame lasts that long when nothing follows it.
    let mut step_ms: i64 = i64::MAX;
    let mut prev_ts: Option<Timestamp> = None;
    let mut last_rel_us: u64 = 0;
    // CFR: the next output frame number.
    let mut next_k: i64 = 0;
    let tick_us = |k: i64| -> u64 {
        // Start of output frame k, in microseconds.
        (k as f64 * f64::from(enc_tb.0) / f64::from(enc_tb.1) * 1e6).round() as u64
    };
    while let Some(f) = source.next_frame()? {
        let first = read == 0;
        if !first && to_limit.is_some_and(|t| f.ts >= t) {
            break;
        }
        read += 1;
        if f.size != screen || f.data.len() as u64 != screen.area() * 4 {
            return Err(ExportError::BadFrame {
                ts: f.ts,
                found: f.size,
                bytes: f.data.len(),
                expected: screen,
            });
        }
        let rel_us = if first {
            0
        } else {
            f.ts.as_micros().saturating_sub(from.as_micros())
        };
        if let Some(p) = prev_ts.filter(|&p| f.ts > p) {
            step_ms = step_ms.min(ms(f.ts.as_micros() - p.as_micros()).max(1));
        }
        prev_ts = Some(f.ts);
        last_rel_us = rel_us;
        let cursor = if opts.draw_cursor { f.cursor } else { None };
        let redraw = first || f.changed || cursor != last_cursor;
        if opts.fps.is_none() {
            if redraw {
                let pts = ms(rel_us);
                let picture = video.convert(f.data, screen, cursor.as_ref())?;
                match pending.take() {
                    // Two frames in one millisecond: the later one wins.
                    Some((_, p)) if pts <= p => pending = Some((picture, p)),
                    Some((mut prev, p)) => {
                        video.send(&mut octx, &mut prev, p, pts - p)?;
                        pending = Some((picture, pts));
                    }
                    None => pending = Some((picture, pts)),
                }
            } else {
                unchanged += 1;
            }
        } else {
            if let Some((pic, _)) = pending.as_mut() {
                while tick_us(next_k) < rel_us {
                    video.send(&mut octx, pic, next_k, 1)?;
                    next_k += 1;
                }
            }
            if redraw || pending.is_none() {
                let picture = video.convert(f.data, screen, cursor.as_ref())?;
                pending = Some((picture, next_k));
            } else {
                unchanged += 1;
            }
        }
        last_cursor = cursor;
        let report = Progress {
            position: Timestamp::from_micros(rel_us.min(end_rel)),
            total,
            frames_read: read,
            frames_encoded: video.encoded,
        };
        if progress(report) == Control::Cancel {
            return Err(ExportError::Cancelled);
        }
    }
    let Some((mut last, last_pts)) = pending else {
        return Err(ExportError::NoFrames { from });
    };
    // Without `to` cutting it short, the recording lasts at least until
    // its last frame has been shown for one frame interval.
    let cut = opts.to.is_some_and(|t| t < src_end);
    let step_us = if step_ms < i64::MAX {
        step_ms as u64 * 1000
    } else {
        DEFAULT_FRAME_MS as u64 * 1000
    };
    let end_rel = if cut {
        end_rel
    } else {
        end_rel.max(last_rel_us + step_us)
    };
    let duration_us = if opts.fps.is_none() {
        let end_ms = ms(end_rel);
        let d = if end_ms > last_pts {
            end_ms - last_pts
        } else if step_ms < i64::MAX {
            step_ms
        } else {
            DEFAULT_FRAME_MS
        };
        video.send(&mut octx, &mut last, last_pts, d)?;
        u64::try_from(last_pts + d).unwrap_or(0) * 1000
    } else {
        // Frames up to the end, at least one.
        while next_k == 0 || tick_us(next_k) < end_rel {
            video.send(&mut octx, &mut last, next_k, 1)?;
            next_k += 1;
        }
        tick_us(next_k)
    };
    video.finish(&mut octx)?;
    // Subtitles go last, when the video's end is known; the muxer keeps
    // each track's samples in order.
    let cues = subtitle_cues(
        &chat,
        from,
        Timestamp::from_micros(from.as_micros().saturating_add(duration_us)),
    );
    if let Some(idx) = sub_stream {
        let tb = octx.stream(idx).map_or(MS, |s| s.time_base());
        for (start, dur, text) in &cues {
            let mut pkt = Packet::copy(&mov_text_sample(text));
            pkt.set_pts(Some(*start));
            pkt.set_dts(Some(*start));
            pkt.set_duration(*dur);
            pkt.set_stream(idx);
            pkt.set_flags(codec::packet::Flags::KEY);
            pkt.rescale_ts(MS, tb);
            pkt.write_interleaved(&mut octx)
                .map_err(ff("write a subtitle packet"))?;
        }
    }
    octx.write_trailer().map_err(ff("write the trailer"))?;
    drop(octx);
    Ok(ExportSummary {
        format,
        size: out_size,
        duration: Timestamp::from_micros(duration_us),
        frames_read: read,
        frames_encoded: video.encoded,
        frames_unchanged: unchanged,
        chat_lines: cues.len(),
        bytes: 0,
        elapsed: std::time::Duration::ZERO,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mov_text_sample_has_length_prefix_and_cuts_at_char_boundary() {
        assert_eq!(mov_text_sample("hi"), vec![0, 2, b'h', b'i']);
        let long = "é".repeat(40_000); // 80 000 bytes
        let s = mov_text_sample(&long);
        let n = usize::from(u16::from_be_bytes([s[0], s[1]]));
        assert_eq!(n, 65_534);
        assert!(std::str::from_utf8(&s[2..]).is_ok());
    }

    #[test]
    fn cues_end_at_next_line_or_after_six_seconds() {
        let line = |ms: u64, t: &str| ChatLine {
            ts: Timestamp::from_millis(ms),
            sender: "Kim".into(),
            role: "customer".into(),
            text: t.into(),
        };
        let chat = [
            line(500, "a"),
            line(1500, "b"),
            line(20_000, "c"),
            line(90_000, "d"),
        ];
        let cues = subtitle_cues(
            &chat,
            Timestamp::from_millis(1000),
            Timestamp::from_secs(60),
        );
        assert_eq!(
            cues,
            vec![
                (500, 6000, "Kim (customer): b".to_owned()),
                (19_000, 6000, "Kim (customer): c".to_owned()),
            ]
        );
    }

    #[test]
    fn temp_name_is_beside_the_output() {
        assert_eq!(temp_path(Path::new("/a/b.mp4")), Path::new("/a/b.mp4.part"));
    }
}
