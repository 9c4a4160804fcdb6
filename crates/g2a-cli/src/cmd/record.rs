//! `g2a record`: records the live screen of an X11 display until stopped.
//!
//! The loop: wait for the next tick of the frame-rate cap, grab what
//! changed (g2a-capture: MIT-SHM + XDamage), give new cursor shapes and
//! moves to the cursor track, and push the frame to the recorder, which
//! encodes on a background thread behind a bounded queue and drops frames
//! (counting them in the file) when it can't keep up. Ctrl-C, SIGTERM,
//! SIGHUP or `--duration` end the loop; the file is always finished.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use g2a::{FrameStatus, QueueFull, Recorder};
use g2a_capture::{Capture, CaptureOptions, Grab, Pacer, Target};
use g2a_core::Timestamp;
use g2a_format::{MediaType, SenderRole, SessionHeader};

use super::options::RecordingOptions;
use super::progress::Progress;

/// Frames pushed at least this often even when nothing changed, so that
/// the recording's duration and seeking follow the wall clock.
const KEEPALIVE: Duration = Duration::from_secs(1);

/// Largest diagnostics file attached (the container's records are bounded
/// too; this gives a clear message first).
const MAX_DIAG_BYTES: u64 = 64 << 20;

/// Largest chat transcript read.
const MAX_CHAT_BYTES: u64 = 16 << 20;

/// Arguments of `g2a record`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// X display to record (default: $DISPLAY).
    #[arg(long)]
    display: Option<String>,
    /// The recording to write (default: G2ACRecordings in the Documents
    /// folder, named after --session-id or the start time).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Stop after this long: seconds, MM:SS or HH:MM:SS (default: until
    /// Ctrl-C or SIGTERM).
    #[arg(long, value_parser = Timestamp::parse)]
    duration: Option<Timestamp>,
    /// Frame rate cap (frames per second).
    #[arg(long, default_value_t = 10.0)]
    fps: f64,
    /// Record only this region of the screen.
    #[arg(long, value_name = "WxH+X+Y", value_parser = Target::parse_region, conflicts_with = "window")]
    region: Option<Target>,
    /// Record only this window (its area on screen, following it), by id:
    /// 0x1a00004 (xwininfo) or decimal (xdotool).
    #[arg(long, value_name = "ID", value_parser = Target::parse_window)]
    window: Option<Target>,
    /// Import a chat transcript: lines `HH:MM:SS ROLE NAME: TEXT` (ROLE:
    /// rep, customer or system; times from the start of the recording) or
    /// JSON lines {"time","role","name","text"}.
    #[arg(long, value_name = "FILE")]
    chat: Option<PathBuf>,
    /// Attach a diagnostics document (repeatable); .json is JSON, .txt
    /// .log .csv .xml .ini .md are text, anything else binary.
    #[arg(long = "diag", value_name = "FILE")]
    diag: Vec<PathBuf>,
    /// Frames that may wait for the encoder; when it is full, new frames
    /// are dropped (and counted in the recording).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=64))]
    queue: u16,
    /// Don't use MIT-SHM shared memory (read pixels through the socket).
    #[arg(long)]
    no_shm: bool,
    /// Don't use XDamage (read the whole area on every tick).
    #[arg(long)]
    no_damage: bool,
    #[command(flatten)]
    rec: RecordingOptions,
    /// Upload the recording to a review service while it is made
    /// (https://HOST:PORT, with --token-file); the local file is kept, and
    /// `g2a upload` finishes an upload the network cut short.
    #[arg(long, value_name = "URL")]
    upload: Option<String>,
    #[command(flatten)]
    auth: super::upload::Auth,
    /// With --upload: delete each local file once the server has all of it.
    #[arg(long, requires = "upload")]
    remove_after_upload: bool,
}

pub(crate) fn run(a: Args) -> anyhow::Result<ExitCode> {
    if !(a.fps > 0.0 && a.fps <= 1000.0) {
        bail!(
            "--fps {} is out of range: expected a rate above 0 and at most 1000",
            a.fps
        );
    }
    let chat = match &a.chat {
        Some(p) => read_chat(p)?,
        None => Vec::new(),
    };
    let diags = a
        .diag
        .iter()
        .map(|p| read_diag(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let target = a.region.or(a.window).unwrap_or(Target::Screen);
    let copts = CaptureOptions::default()
        .shm(!a.no_shm)
        .damage(!a.no_damage);
    let mut cap = Capture::open_with(a.display.as_deref(), target, copts)
        .with_context(|| format!("cannot record the {target}"))?;
    let size = cap.size();

    let started = now_name();
    // The id defaults to the output file's name (as --session-id's help
    // says), or the start time when the output is the default folder.
    let named = a
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{started}.g2a")));
    let session = a.rec.session_id(&named);
    let output = match &a.output {
        Some(p) => p.clone(),
        None => default_output(&session)?,
    };
    let header = a.rec.header(SessionHeader::new(session, size))?;
    let opts = a
        .rec
        .recorder_options()?
        .queue(usize::from(a.queue), QueueFull::DropFrame);
    let uploader = match &a.upload {
        Some(url) => Some(a.auth.uploader(url, g2a_upload::UploadOptions::default())?),
        None => None,
    };
    let mut rec = Recorder::create(&output, header, opts)
        .with_context(|| format!("cannot create {}", output.display()))?;
    let live = uploader.map(|u| {
        u.follow(
            output.clone(),
            a.remove_after_upload,
            Box::new(super::upload::Shown::new(false)),
        )
    });
    let stats = cap.stats();
    eprintln!(
        "recording the {target} ({size}) of {} to {} at up to {} fps ({}, {}, {}); Ctrl-C stops",
        a.display
            .clone()
            .or_else(|| std::env::var("DISPLAY").ok())
            .unwrap_or_default(),
        output.display(),
        a.fps,
        if stats.shm { "MIT-SHM" } else { "GetImage" },
        if stats.damage {
            "XDamage"
        } else {
            "no XDamage"
        },
        if stats.xfixes {
            "XFixes cursor"
        } else {
            "no cursor shapes"
        },
    );

    let stop = interrupt_flag();
    let cpu_start = cpu_seconds();
    let start = Instant::now();
    let mut state = LoopState::default();
    let result = record_loop(
        &a, &mut cap, &mut rec, &stop, start, chat, &diags, &mut state,
    );
    let wall = start.elapsed();
    let summary = rec
        .finish()
        .with_context(|| format!("cannot finish {}", output.display()))?;
    let cpu = match (cpu_start, cpu_seconds()) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let why = match &result {
        Err(_) => "an error",
        Ok(()) if summary.stopped_by_cap => "the size cap",
        Ok(()) => state.end.unwrap_or("the end"),
    };
    let cs = cap.stats();
    println!(
        "{}: stopped by {why} after {:.1} s: {} frames recorded, {} dropped, {} grabs ({} changed), \
         {} bytes in {} file(s)",
        output.display(),
        wall.as_secs_f64(),
        summary.frames,
        summary.dropped,
        cs.grabs,
        cs.changed,
        summary.files.bytes,
        summary.files.paths.len(),
    );
    println!(
        "CPU {} of one core, peak RSS {}, {} cursor shapes, {} chat messages, {} diagnostics",
        cpu.map_or_else(
            || "n/a".into(),
            |c| format!(
                "{:.1}% ({c:.2} s user+sys)",
                100.0 * c / wall.as_secs_f64().max(1e-9)
            )
        ),
        peak_rss_bytes().map_or_else(|| "n/a".into(), |b| format!("{} MB", b >> 20)),
        state.shapes,
        state.chats,
        diags.len(),
    );
    let uploaded = live.map(|l| {
        if !l.is_stopped() {
            eprintln!("g2a: sending the rest of the recording to the service");
        }
        l.finish()
    });
    result.with_context(|| {
        format!(
            "recording stopped after {} frames (they are recorded in {})",
            summary.frames,
            output.display()
        )
    })?;
    match uploaded {
        Some(Ok(files)) => {
            for (f, st) in &files {
                super::upload::print_status(f, st);
            }
        }
        Some(Err(e)) => bail!(
            "the recording is complete in {}, its upload is not: {e}",
            output.display()
        ),
        None => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// What the loop did.
#[derive(Debug, Default)]
struct LoopState {
    /// Why it ended.
    end: Option<&'static str>,
    /// Cursor shapes recorded.
    shapes: u64,
    /// Chat messages recorded.
    chats: u64,
}

/// One chat line of a transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChatLine {
    pub(crate) ts: Timestamp,
    pub(crate) role: SenderRole,
    pub(crate) name: String,
    pub(crate) text: String,
}

/// A diagnostics document to attach.
#[derive(Debug)]
struct Diag {
    name: String,
    media_type: MediaType,
    data: Vec<u8>,
}

#[allow(clippy::too_many_arguments)]
fn record_loop(
    a: &Args,
    cap: &mut Capture,
    rec: &mut Recorder,
    stop: &AtomicBool,
    start: Instant,
    chat: Vec<ChatLine>,
    diags: &[Diag],
    state: &mut LoopState,
) -> anyhow::Result<()> {
    for d in diags {
        rec.push_diagnostic(Timestamp::ZERO, &d.name, d.media_type, &d.data)
            .with_context(|| format!("cannot record the diagnostics file {}", d.name))?;
    }
    let mut chat = chat.into_iter().peekable();
    let mut pacer = Pacer::new(a.fps)?;
    let end = a
        .duration
        .map(|d| start + Duration::from_micros(d.as_micros()));
    let mut progress = Progress::new("frames", None);
    let mut cursor: Option<(i32, i32, Option<u32>)> = None;
    let mut last_push: Option<Timestamp> = None;
    let mut owed = false;
    let mut recorded: u64 = 0;
    loop {
        let now = Instant::now();
        if end.is_some_and(|e| now >= e) {
            state.end = Some("--duration");
            break;
        }
        let wake = now + pacer.advance(now);
        if !sleep_until(end.map_or(wake, |e| wake.min(e)), stop) {
            state.end = Some("a signal");
            break;
        }
        if end.is_some_and(|e| Instant::now() >= e) {
            state.end = Some("--duration");
            break;
        }
        let ts = since(start);
        let grab = cap.grab()?;
        if let Some(shape) = &grab.new_shape {
            rec.push_cursor_shape(ts, shape.id, shape.hotspot, shape.size, &shape.pixels)?;
            state.shapes += 1;
        }
        let now_cursor = match grab.cursor {
            Some(c) => Some((c.x, c.y, c.shape)),
            // Off this screen: hidden, where it was last seen.
            None => cursor.map(|(x, y, _)| (x, y, None)),
        };
        if now_cursor != cursor {
            if let Some((x, y, shape)) = now_cursor {
                rec.push_cursor(ts, x, y, shape)?;
            }
            cursor = now_cursor;
        }
        let due = last_push.is_none_or(|t| ts.saturating_since(t) >= KEEPALIVE);
        if grab.changed || owed || due {
            match push(rec, ts, &grab)? {
                FrameStatus::Recorded => {
                    recorded += 1;
                    owed = false;
                    last_push = Some(ts);
                }
                // The change must still reach the file: push the next
                // grab even if nothing changes by then.
                FrameStatus::Dropped => owed = true,
                FrameStatus::Stopped => {
                    state.end = Some("the size cap");
                    break;
                }
                _ => {}
            }
        }
        while let Some(line) = chat.next_if(|l| l.ts <= ts) {
            rec.push_chat(line.ts, line.role, &line.name, &line.text)?;
            state.chats += 1;
        }
        progress.update(
            recorded,
            &format!(
                "{:.1} s, {} dropped",
                ts.as_secs_f64(),
                rec.dropped_frames()
            ),
        );
    }
    progress.finish();
    // The last moment, so the recording lasts as long as it ran.
    let ts = since(start);
    if last_push.is_some_and(|t| t < ts) {
        let grab = cap.grab()?;
        // The queue may be full: wait for the encoder a little (at most a
        // second) rather than lose the end.
        for _ in 0..50 {
            if push(rec, ts, &grab)? != FrameStatus::Dropped {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    // The rest of the transcript, at its own times.
    for line in chat {
        rec.push_chat(line.ts, line.role, &line.name, &line.text)?;
        state.chats += 1;
    }
    Ok(())
}

fn push(rec: &mut Recorder, ts: Timestamp, grab: &Grab<'_>) -> anyhow::Result<FrameStatus> {
    Ok(rec.push_frame(ts, &grab.frame)?)
}

fn since(start: Instant) -> Timestamp {
    Timestamp::from_micros(u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX))
}

/// Sleeps until `deadline` in short slices; false when `stop` was set.
fn sleep_until(deadline: Instant, stop: &AtomicBool) -> bool {
    loop {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// Set by Ctrl-C, SIGTERM or SIGHUP.
fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = Arc::clone(&flag);
    // Only fails when a handler is already installed; then the signals
    // keep their default action and the file is recoverable with
    // `g2a recover`.
    let _ = ctrlc::set_handler(move || f.store(true, Ordering::SeqCst));
    flag
}

/// Reads a chat transcript (see `--chat`), sorted by time.
pub(crate) fn read_chat(path: &Path) -> anyhow::Result<Vec<ChatLine>> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if len > MAX_CHAT_BYTES {
        bail!(
            "{} is {len} bytes: a chat transcript may be at most {MAX_CHAT_BYTES}",
            path.display()
        );
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_chat(&text).with_context(|| format!("in {}", path.display()))
}

/// Parses a chat transcript: `HH:MM:SS ROLE NAME: TEXT` lines or JSON
/// lines; blank lines and lines starting with `#` are skipped.
pub(crate) fn parse_chat(text: &str) -> anyhow::Result<Vec<ChatLine>> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed = if line.starts_with('{') {
            parse_chat_json(line)
        } else {
            parse_chat_text(line)
        };
        out.push(parsed.with_context(|| format!("line {}", i + 1))?);
    }
    out.sort_by_key(|l| l.ts);
    Ok(out)
}

fn parse_role(s: &str) -> anyhow::Result<SenderRole> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "rep" | "representative" => SenderRole::Representative,
        "customer" => SenderRole::Customer,
        "system" => SenderRole::System,
        _ => bail!("role '{s}': expected rep, representative, customer or system"),
    })
}

fn parse_chat_text(line: &str) -> anyhow::Result<ChatLine> {
    let expected = "expected HH:MM:SS ROLE NAME: TEXT";
    let (time, rest) = line
        .split_once(char::is_whitespace)
        .with_context(|| format!("'{line}': {expected}"))?;
    let ts = Timestamp::parse(time)?;
    let (role, rest) = rest
        .trim_start()
        .split_once(char::is_whitespace)
        .with_context(|| format!("'{line}': {expected}"))?;
    let role = parse_role(role)?;
    let (name, text) = rest
        .split_once(':')
        .with_context(|| format!("'{line}': no ':' after the name, {expected}"))?;
    Ok(ChatLine {
        ts,
        role,
        name: name.trim().to_owned(),
        text: text.strip_prefix(' ').unwrap_or(text).to_owned(),
    })
}

fn parse_chat_json(line: &str) -> anyhow::Result<ChatLine> {
    let v: serde_json::Value = serde_json::from_str(line).context("not JSON")?;
    let field = |k: &str| -> anyhow::Result<&serde_json::Value> {
        v.get(k).with_context(|| {
            format!("no \"{k}\": expected {{\"time\",\"role\",\"name\",\"text\"}}")
        })
    };
    let ts = match field("time")? {
        serde_json::Value::String(s) => Timestamp::parse(s)?,
        serde_json::Value::Number(n) => n
            .as_f64()
            .and_then(Timestamp::from_secs_f64)
            .with_context(|| format!("time {n}: expected seconds from 0"))?,
        other => bail!("time {other}: expected \"HH:MM:SS\" or seconds"),
    };
    let text_of = |k: &str| -> anyhow::Result<String> {
        field(k)?
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("\"{k}\" is not a string"))
    };
    Ok(ChatLine {
        ts,
        role: parse_role(&text_of("role")?)?,
        name: text_of("name")?,
        text: text_of("text")?,
    })
}

/// The media type of a diagnostics file, by its extension.
pub(crate) fn media_type_of(path: &Path) -> MediaType {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "json" => MediaType::Json,
        "txt" | "log" | "csv" | "xml" | "ini" | "md" | "conf" | "cfg" | "yaml" | "yml" => {
            MediaType::Text
        }
        _ => MediaType::Binary,
    }
}

fn read_diag(path: &Path) -> anyhow::Result<Diag> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if len > MAX_DIAG_BYTES {
        bail!(
            "{} is {len} bytes: a diagnostics file may be at most {MAX_DIAG_BYTES}",
            path.display()
        );
    }
    let data = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let media_type = media_type_of(path);
    if media_type == MediaType::Json {
        serde_json::from_slice::<serde_json::Value>(&data)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
    }
    let name = path.file_name().map_or_else(
        || "diagnostics".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ok(Diag {
        name,
        media_type,
        data,
    })
}

/// The start time as a file name: `2026-11-23_10-55-59`.
fn now_name() -> String {
    let us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    super::utc(us)
        .trim_end_matches(" UTC")
        .replace(' ', "_")
        .replace(':', "-")
}

/// `<Documents>/G2ACRecordings/<session>.g2a`, creating the folder; a
/// number is added when the name is taken.
fn default_output(session: &str) -> anyhow::Result<PathBuf> {
    let docs = documents_dir().context(
        "cannot find the Documents folder ($HOME is not set): choose the output with -o",
    )?;
    let dir = docs.join("G2ACRecordings");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let stem: String = session
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = if stem.trim_matches('.').is_empty() {
        "session".to_owned()
    } else {
        stem
    };
    for n in 1..10_000u32 {
        let name = if n == 1 {
            format!("{stem}.g2a")
        } else {
            format!("{stem}-{n}.g2a")
        };
        let p = dir.join(name);
        if !p.exists() {
            return Ok(p);
        }
    }
    bail!(
        "{} holds 10000 recordings named {stem}: choose the output with -o",
        dir.display()
    )
}

/// The user's Documents folder: XDG_DOCUMENTS_DIR from `user-dirs.dirs`
/// when it names one, else `~/Documents`.
fn documents_dir() -> Option<PathBuf> {
    let home = PathBuf::from(std::env::var_os("HOME").filter(|h| !h.is_empty())?);
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|c| !c.is_empty())
        .map_or_else(|| home.join(".config"), PathBuf::from);
    std::fs::read_to_string(config.join("user-dirs.dirs"))
        .ok()
        .and_then(|text| xdg_documents(&text, &home))
        .or_else(|| Some(home.join("Documents")))
}

/// The documents folder a `user-dirs.dirs` file names, if any (the home
/// folder itself means "disabled").
pub(crate) fn xdg_documents(text: &str, home: &Path) -> Option<PathBuf> {
    let value = text
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("XDG_DOCUMENTS_DIR="))?
        .trim()
        .trim_matches('"');
    let path = match value.strip_prefix("$HOME") {
        Some(rest) => home.join(rest.trim_start_matches('/')),
        None => PathBuf::from(value),
    };
    let disabled = path.components().eq(home.components());
    (path.is_absolute() && !disabled).then_some(path)
}

/// User + system CPU time of this process so far (Linux `/proc`).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may
    // contain spaces: state is field 3, utime 14 and stime 15.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux architecture g2a builds for.
    Some((utime + stime) / 100.0)
}

/// Peak resident memory of this process (Linux `/proc`, VmHWM).
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_transcripts_parse_in_both_forms() {
        let text = "# a transcript\n\
                    00:00:05 customer Kim: my printer: offline\n\
                    \n\
                    00:00:02.5 rep Alex Smith: hello\n\
                    {\"time\": 7.25, \"role\": \"system\", \"name\": \"bot\", \"text\": \"joined\"}\n\
                    {\"time\": \"1:00\", \"role\": \"Representative\", \"name\": \"Alex\", \"text\": \"\"}\n";
        let lines = parse_chat(text).unwrap();
        assert_eq!(
            lines,
            vec![
                ChatLine {
                    ts: Timestamp::from_millis(2500),
                    role: SenderRole::Representative,
                    name: "Alex Smith".into(),
                    text: "hello".into()
                },
                ChatLine {
                    ts: Timestamp::from_secs(5),
                    role: SenderRole::Customer,
                    name: "Kim".into(),
                    text: "my printer: offline".into()
                },
                ChatLine {
                    ts: Timestamp::from_millis(7250),
                    role: SenderRole::System,
                    name: "bot".into(),
                    text: "joined".into()
                },
                ChatLine {
                    ts: Timestamp::from_secs(60),
                    role: SenderRole::Representative,
                    name: "Alex".into(),
                    text: String::new()
                },
            ]
        );
    }

    #[test]
    fn bad_chat_lines_say_where_and_what() {
        for (text, want) in [
            ("00:00:01 boss Kim: hi", "line 1"),
            ("x\n00:00:01 customer Kim hi", "line 1"),
            (
                "00:00:01 customer Kim: hi\n00:00:01 customer Kim hi",
                "line 2",
            ),
            ("{\"time\": 1, \"role\": \"customer\"}", "no \"name\""),
            (
                "{\"time\": -1, \"role\": \"customer\", \"name\": \"a\", \"text\": \"b\"}",
                "seconds",
            ),
            ("1:75 customer Kim: hi", "invalid time"),
        ] {
            let e = format!("{:#}", parse_chat(text).unwrap_err());
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn xdg_documents_dir_is_read() {
        let home = Path::new("/home/kim");
        let f = "# written by xdg-user-dirs-update\nXDG_DESKTOP_DIR=\"$HOME/Desktop\"\nXDG_DOCUMENTS_DIR=\"$HOME/Dokumente\"\n";
        assert_eq!(
            xdg_documents(f, home),
            Some(PathBuf::from("/home/kim/Dokumente"))
        );
        assert_eq!(
            xdg_documents("XDG_DOCUMENTS_DIR=\"/srv/docs\"", home),
            Some(PathBuf::from("/srv/docs"))
        );
        assert_eq!(xdg_documents("XDG_DOCUMENTS_DIR=\"$HOME/\"", home), None);
        assert_eq!(xdg_documents("XDG_DOCUMENTS_DIR=\"relative\"", home), None);
        assert_eq!(
            xdg_documents("XDG_DESKTOP_DIR=\"$HOME/Desktop\"", home),
            None
        );
    }

    #[test]
    fn diagnostics_media_types_follow_extensions() {
        assert_eq!(media_type_of(Path::new("sys.JSON")), MediaType::Json);
        assert_eq!(
            media_type_of(Path::new("/var/log/events.log")),
            MediaType::Text
        );
        assert_eq!(media_type_of(Path::new("dump.bin")), MediaType::Binary);
        assert_eq!(media_type_of(Path::new("noext")), MediaType::Binary);
    }

    #[test]
    fn cpu_and_memory_are_read_from_proc() {
        if Path::new("/proc/self/stat").exists() {
            assert!(cpu_seconds().is_some_and(|c| c >= 0.0));
            assert!(peak_rss_bytes().is_some_and(|b| b > 0));
        }
    }
}
