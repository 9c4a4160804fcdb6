//! `g2a-report`: size, speed, seek time and memory of g2a on real clips,
//! printed beside the anchors measured in the same run.
//!
//! Driven by `benches/report.sh`; its subcommands:
//!
//! - `clip CLIP OUT.g2a [RAW]`: records the clip with the `Recorder` on one
//!   thread, replays it with the `Player` checking every frame against the
//!   input, seeks to 200 random times, and prints JSON. The frames come from
//!   RAW, the clip's raw `bgr0` frames that the anchors' script encodes (the
//!   same input, read the same way, and no decoder running beside the
//!   encoder), or else from `ffmpeg` decoding the clip. Encoding and
//!   decoding each run twice and the faster run counts, as the anchors'
//!   `--reps 2`. Peak memory is measured per phase in child processes.
//! - `encode CLIP OUT.g2a [LOOPS [RAW]]`: only the recording (LOOPS > 1
//!   loops the clip with `-stream_loop`, to build long recordings); prints
//!   JSON.
//! - `play OUT.g2a`: decode and seek figures of an existing recording.
//! - `seek-profile OUT.g2a`: per keyframe group, the CPU time of decoding
//!   the keyframe alone and the whole group (the worst seek in it).
//! - `table DIR`: the Markdown table from the JSON files in DIR.
#![forbid(unsafe_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use g2a::{Player, Recorder, RecorderOptions};
use g2a_core::{FrameRef, PixelFormat, Timestamp};
use g2a_format::SessionHeader;
use serde_json::{json, Value};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU seconds the calling thread has run so far (the scheduler's own
/// nanosecond count, `/proc/thread-self/schedstat`).
fn cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |ns| ns / 1e9)
}

/// Current anonymous resident memory in MB (heap and stacks, not the
/// recording's mapped file pages, which are reclaimable page cache).
fn anon_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("RssAnon:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A clip's frames, 4 bytes a pixel: from its raw `bgr0` file when given
/// (with the `ffmpeg` child that decodes it otherwise, to wait for).
struct Frames {
    size: g2a_core::Size,
    format: PixelFormat,
    input: Box<dyn Read>,
    child: Option<std::process::Child>,
}

impl Frames {
    fn open(clip: &Path, loops: u32, raw: Option<&Path>) -> Res<Frames> {
        let size = g2a_benches::probe_size(clip).ok_or("ffprobe failed")?;
        if let Some(raw) = raw {
            return Ok(Frames {
                size,
                format: PixelFormat::Bgrx8,
                input: Box::new(std::fs::File::open(raw)?),
                child: None,
            });
        }
        let mut child = Command::new("ffmpeg")
            .args([
                "-loglevel",
                "error",
                "-stream_loop",
                &(loops.saturating_sub(1)).to_string(),
                "-i",
            ])
            .arg(clip)
            .args(["-f", "rawvideo", "-pix_fmt", "bgra", "-"])
            .stdout(Stdio::piped())
            .spawn()?;
        let input = Box::new(child.stdout.take().ok_or("no pipe")?);
        Ok(Frames {
            size,
            format: PixelFormat::Bgra8,
            input,
            child: Some(child),
        })
    }
}

impl Drop for Frames {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Records the clip `reps` times (the same file each time); the fastest
/// run's CPU time counts.
fn encode(clip: &Path, out: &Path, loops: u32, raw: Option<&Path>, reps: u32) -> Res<Value> {
    let mut best: Option<Value> = None;
    for _ in 0..reps.max(1) {
        let v = encode_once(clip, out, loops, raw)?;
        if best
            .as_ref()
            .is_none_or(|b| num(&v, "encode_cpu_fps") > num(b, "encode_cpu_fps"))
        {
            best = Some(v);
        }
    }
    best.ok_or_else(|| "no run".into())
}

/// The recording's header: session `report` with no organisation, or what
/// `G2A_REPORT_SESSION=ID,PORTAL,TEAM,REPRESENTATIVE` says (started two
/// hours ago), for a recording a catalog will import (benches/serve.sh).
fn report_header(size: g2a_core::Size) -> Res<SessionHeader> {
    let Ok(spec) = std::env::var("G2A_REPORT_SESSION") else {
        return Ok(SessionHeader::new("report", size));
    };
    let [id, portal, team, rep] = spec.split(',').collect::<Vec<_>>()[..] else {
        return Err(
            format!("G2A_REPORT_SESSION={spec:?}: want ID,PORTAL,TEAM,REPRESENTATIVE").into(),
        );
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_micros() as i64;
    Ok(SessionHeader::new(id, size)
        .with_portal(portal)
        .with_team(team)
        .with_representative(rep)
        .with_customer("benchmark customer")
        .with_start_time_unix_micros(now - 7_200_000_000)
        .with_recorder("g2a-report", env!("CARGO_PKG_VERSION")))
}

fn encode_once(clip: &Path, out: &Path, loops: u32, raw: Option<&Path>) -> Res<Value> {
    let mut src = Frames::open(clip, loops, raw)?;
    let size = src.size;
    let header = report_header(size)?;
    let opts = RecorderOptions::default().writer(g2a::WriterOptions::default().size_cap(None));
    let mut rec = Recorder::create(out, header, opts)?;
    let mut buf = vec![0u8; (size.area() * 4) as usize];
    let mut n = 0u64;
    let mut spent = Duration::ZERO;
    let mut anon_peak = 0f64;
    let mut cpu = 0.0;
    while src.input.read_exact(&mut buf).is_ok() {
        let f = FrameRef::packed(&buf, size, src.format)?;
        let t = Instant::now();
        let c0 = cpu_secs();
        rec.push_frame(Timestamp::from_micros(n * 100_000), &f)?;
        cpu += cpu_secs() - c0;
        spent += t.elapsed();
        n += 1;
        if n % 50 == 0 {
            anon_peak = anon_peak.max(anon_rss_mb());
        }
    }
    drop(src);
    let s = rec.finish()?;
    Ok(json!({
        "frames": n,
        "bytes": s.files.bytes,
        "encode_fps": n as f64 / spent.as_secs_f64(),
        "encode_cpu_fps": n as f64 / cpu,
        "encode_anon_mb": anon_peak,
        "key_frames": s.encoder.key_frames,
        "key_bytes": s.encoder.key_bytes,
        "delta_bytes": s.encoder.delta_bytes,
        "unchanged_frames": s.encoder.unchanged_frames,
        "encode_peak_rss_mb": peak_rss_mb(),
    }))
}

/// Decodes every frame of `file` on one thread, comparing each with the
/// frames of `reference` when given; returns (frames, wall time, CPU
/// seconds, lossless, peak anonymous MB).
fn decode_all(file: &Path, mut reference: Option<Frames>) -> Res<(u64, Duration, f64, bool, f64)> {
    let mut player = Player::open(file)?;
    // Decode speed is frames per CPU second of one thread.
    player.set_decode_threads(1);
    let mut n = 0u64;
    let mut spent = Duration::ZERO;
    let mut anon_peak = anon_rss_mb();
    let mut lossless = true;
    let mut cpu_decode = 0.0;
    let mut buf = Vec::new();
    loop {
        let t = Instant::now();
        let c0 = cpu_secs();
        let Some(f) = player.next_frame()? else { break };
        spent += t.elapsed();
        cpu_decode += cpu_secs() - c0;
        if n % 50 == 0 {
            anon_peak = anon_peak.max(anon_rss_mb());
        }
        if let Some(r) = reference.as_mut() {
            buf.resize(f.data.len(), 0);
            r.input.read_exact(&mut buf)?;
            lossless &= f
                .data
                .chunks_exact(4)
                .zip(buf.chunks_exact(4))
                .all(|(a, b)| a[..3] == b[..3]);
        }
        n += 1;
    }
    Ok((n, spent, cpu_decode, lossless, anon_peak))
}

fn play(file: &Path, clip: Option<&Path>, raw: Option<&Path>) -> Res<Value> {
    // Sequential decode, checked against the input when given; then once
    // more unchecked, and the faster run counts (as the anchors' reps).
    let reference = match clip {
        Some(c) => Some(Frames::open(c, 1, raw)?),
        None => None,
    };
    let (n, spent, cpu_decode, lossless, anon_first) = decode_all(file, reference)?;
    let (spent, cpu_decode, mut anon_peak) = if clip.is_some() {
        let (_, spent2, cpu2, _, anon2) = decode_all(file, None)?;
        (
            spent.min(spent2),
            cpu_decode.min(cpu2),
            anon_first.max(anon2),
        )
    } else {
        (spent, cpu_decode, anon_first)
    };
    let mut player = Player::open(file)?;
    // Random seeks, each from wherever the previous one left the player;
    // wall-clock time, the decoder on its default threads.
    let dur = player.duration().as_micros().max(1);
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut times = Vec::new();
    for _ in 0..200 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let at = Timestamp::from_micros(x % dur);
        let t = Instant::now();
        let f = player.frame_at(at)?;
        std::hint::black_box(f.data.len());
        times.push(t.elapsed().as_secs_f64() * 1e3);
        anon_peak = anon_peak.max(anon_rss_mb());
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() - 1) as f64 * p) as usize];
    let open_t = Instant::now();
    let reopened = Player::open(file)?;
    let open_ms = open_t.elapsed().as_secs_f64() * 1e3;
    Ok(json!({
        "frames_decoded": n,
        "decode_fps": n as f64 / spent.as_secs_f64(),
        "decode_cpu_fps": n as f64 / cpu_decode,
        "play_anon_mb": anon_peak,
        "lossless": clip.map(|_| lossless),
        "seek_ms_p50": pct(0.5),
        "seek_ms_p95": pct(0.95),
        "seek_ms_max": pct(1.0),
        "open_ms": open_ms,
        "duration_s": reopened.duration().as_secs_f64(),
        "play_peak_rss_mb": peak_rss_mb(),
    }))
}

/// Where a seek's time goes: for every keyframe, the CPU time to decode it
/// alone and the CPU time to decode it and every delta up to the next
/// keyframe (the worst seek of that group).
fn seek_profile(file: &Path) -> Res<Value> {
    let mut player = Player::open(file)?;
    let keys = player.keyframe_times();
    let mut key_ms = Vec::new();
    let mut chain_ms = Vec::new();
    let mut chain_frames = Vec::new();
    for (i, &k) in keys.iter().enumerate() {
        // Reset the player's position so that frame_at seeks; one thread,
        // so that this thread's CPU time is all the work.
        player = Player::open(file)?;
        player.set_decode_threads(1);
        let c0 = cpu_secs();
        player.frame_at(k)?;
        let c1 = cpu_secs();
        let end = keys.get(i + 1).copied();
        let mut n = 0u64;
        while let Some(f) = player.next_frame()? {
            if end.is_some_and(|e| f.ts >= e) {
                break;
            }
            n += 1;
        }
        let c2 = cpu_secs();
        key_ms.push((c1 - c0) * 1e3);
        chain_ms.push((c2 - c0) * 1e3);
        chain_frames.push(n);
    }
    let stats = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let p = |q: f64| {
            v.get(((v.len().max(1) - 1) as f64 * q) as usize)
                .copied()
                .unwrap_or(0.0)
        };
        json!({"p50": p(0.5), "p95": p(0.95), "max": p(1.0)})
    };
    Ok(json!({
        "keyframes": keys.len(),
        "key_decode_cpu_ms": stats(&mut key_ms),
        "group_decode_cpu_ms": stats(&mut chain_ms),
        "group_frames_max": chain_frames.iter().max(),
        "group_frames_mean": chain_frames.iter().sum::<u64>() as f64 / chain_frames.len().max(1) as f64,
    }))
}

/// Runs this binary's subcommand in a child (for a clean peak-RSS figure).
fn child(args: &[&str]) -> Res<Value> {
    let exe = std::env::current_exe()?;
    let out = Command::new(exe)
        .args(args)
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err(format!("g2a-report {args:?} failed").into());
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

fn clip_report(clip: &Path, out: &Path, raw: Option<&Path>) -> Res<Value> {
    let (c, o) = (clip.to_string_lossy(), out.to_string_lossy());
    let (mut e, p) = match raw {
        Some(r) => {
            let r = r.to_string_lossy();
            (
                child(&["encode", &c, &o, "1", &r, "2"])?,
                child(&["play-check", &o, &c, &r])?,
            )
        }
        None => (
            child(&["encode", &c, &o, "1", "-", "2"])?,
            child(&["play-check", &o, &c])?,
        ),
    };
    let anchor_bytes = std::fs::metadata(clip)?.len();
    if let (Some(eo), Some(po)) = (e.as_object_mut(), p.as_object()) {
        eo.extend(po.clone());
        eo.insert("x264_veryslow_bytes".into(), json!(anchor_bytes));
        eo.insert(
            "clip".into(),
            json!(clip.file_stem().map(|s| s.to_string_lossy().into_owned())),
        );
    }
    Ok(e)
}

fn num(v: &Value, k: &str) -> f64 {
    v.get(k).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

fn table(dir: &Path) -> Res<()> {
    let mut rows: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".g2a.json"))
        .collect();
    rows.sort();
    println!("| clip | frames | g2a bytes | x264 veryslow bytes | size ratio | g2a enc fps | x264 ultrafast enc fps | enc × | g2a dec fps | x264 dec fps | dec × | seek p50 / p95 / max ms | open ms | memory enc / play MB | lossless |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for p in rows {
        let g: Value = serde_json::from_str(&std::fs::read_to_string(&p)?)?;
        let name = g["clip"].as_str().unwrap_or("?").to_string();
        let anchor: Value = std::fs::read_to_string(dir.join(format!("{name}.json")))
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(Value::Null);
        let a = &anchor["codecs"]["x264rgb-ultrafast"];
        let frames = num(&g, "frames");
        let aenc = frames / num(a, "enc_cpu_s");
        let adec = frames / num(a, "dec_cpu_s");
        println!(
            "| {name} | {frames} | {} | {} | {:.3} | {:.0} | {aenc:.0} | {:.1} | {:.0} | {adec:.0} | {:.1} | {:.1} / {:.1} / {:.1} | {:.2} | {:.0} / {:.0} | {} |",
            g["bytes"],
            g["x264_veryslow_bytes"],
            num(&g, "bytes") / num(&g, "x264_veryslow_bytes"),
            num(&g, "encode_cpu_fps"),
            num(&g, "encode_cpu_fps") / aenc,
            num(&g, "decode_cpu_fps"),
            num(&g, "decode_cpu_fps") / adec,
            num(&g, "seek_ms_p50"),
            num(&g, "seek_ms_p95"),
            num(&g, "seek_ms_max"),
            num(&g, "open_ms"),
            num(&g, "encode_anon_mb"),
            num(&g, "play_anon_mb"),
            g["lossless"],
        );
    }
    Ok(())
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let v = match a.as_slice() {
        ["clip", clip, out] => clip_report(Path::new(clip), Path::new(out), None)?,
        ["clip", clip, out, raw] => {
            clip_report(Path::new(clip), Path::new(out), Some(Path::new(raw)))?
        }
        ["encode", clip, out] => encode(Path::new(clip), Path::new(out), 1, None, 1)?,
        ["encode", clip, out, loops] => {
            encode(Path::new(clip), Path::new(out), loops.parse()?, None, 1)?
        }
        ["encode", clip, out, loops, raw, reps] => {
            let raw = (*raw != "-").then(|| Path::new(raw));
            encode(
                Path::new(clip),
                Path::new(out),
                loops.parse()?,
                raw,
                reps.parse()?,
            )?
        }
        ["play", file] => play(Path::new(file), None, None)?,
        ["play-check", file, clip] => play(Path::new(file), Some(Path::new(clip)), None)?,
        ["play-check", file, clip, raw] => {
            play(Path::new(file), Some(Path::new(clip)), Some(Path::new(raw)))?
        }
        ["seek-profile", file] => seek_profile(Path::new(file))?,
        ["table", dir] => return table(Path::new(dir)),
        ["catalog", dir, n] => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_micros() as i64;
            let t = Instant::now();
            g2a_benches::synthetic_catalog(Path::new(dir), n.parse()?, now, false)?;
            json!({"sessions": n.parse::<u64>()?, "generated_secs": t.elapsed().as_secs_f64()})
        }
        _ => {
            eprintln!("usage: g2a-report clip CLIP OUT.g2a [RAW] | encode CLIP OUT.g2a [LOOPS [RAW|- REPS]] | play FILE | play-check FILE CLIP [RAW] | seek-profile FILE | table DIR | catalog DIR SESSIONS");
            std::process::exit(2);
        }
    };
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(())
}
