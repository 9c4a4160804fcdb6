//! `g2a info FILE [--json]`.

use std::path::PathBuf;
use std::process::ExitCode;

use g2a_format::{Reader, Track, TrailerState};
use serde_json::json;

/// Arguments of `g2a info`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The recording (its continuation files are found next to it).
    file: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

fn trailer_name(t: &TrailerState) -> String {
    match t {
        TrailerState::Valid => "complete (trailer index)".into(),
        TrailerState::Missing => {
            "no trailer: index rebuilt by scanning (unfinished or cut off)".into()
        }
        TrailerState::Invalid(why) => format!("trailer damaged ({why}): index rebuilt by scanning"),
        _ => "unknown".into(),
    }
}

pub(crate) fn run(a: Args) -> anyhow::Result<ExitCode> {
    let player = g2a::Player::from_set(super::open_set(&a.file)?);
    let set = player.set();
    let codec = player.codec_stats();
    let frames = codec.frames();
    let unchanged_share = if frames > 0 {
        codec.unchanged_frames as f64 / frames as f64
    } else {
        0.0
    };
    let h = set.header();
    let files: Vec<&Reader> = set.files().iter().collect();
    let mut tracks = Vec::new();
    for t in Track::ALL {
        let (mut records, mut bytes) = (0u64, 0u64);
        for f in &files {
            let s = f.track_stats(t);
            records += s.records;
            bytes += s.bytes;
        }
        if records > 0 || t != Track::Unknown {
            tracks.push((t, records, bytes));
        }
    }
    let keyframes: usize = files.iter().map(|f| f.keyframes().len()).sum();
    if a.json {
        let v = json!({
            "session_id": h.session_id,
            "portal": h.portal,
            "team": h.team,
            "representative": h.representative,
            "customer": h.customer,
            "start_time_unix_micros": h.start_time_unix_micros,
            "start_time": super::utc(h.start_time_unix_micros),
            "side": h.side.name(),
            "recorder": { "name": h.recorder_name, "version": h.recorder_version },
            "screen_size": { "width": h.screen_size.width, "height": h.screen_size.height },
            "metadata": h.metadata.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
            "format_version": format!("{}.{}", g2a_format::VERSION_MAJOR, h.minor_version),
            "encrypted": h.encryption.is_some(),
            "duration_micros": set.duration().as_micros(),
            "duration": set.duration().to_string(),
            "tracks": tracks.iter().map(|(t, r, b)| json!({"track": t.name(), "records": r, "bytes": b})).collect::<Vec<_>>(),
            "keyframes": keyframes,
            "codec": {
                "frames": frames,
                "key_frames": codec.key_frames,
                "key_bytes": codec.key_bytes,
                "delta_frames": codec.delta_frames,
                "delta_bytes": codec.delta_bytes,
                "unchanged_frames": codec.unchanged_frames,
                "unchanged_bytes": codec.unchanged_bytes,
                "other_codec_frames": codec.foreign_frames,
                "encrypted_frames": codec.sealed_frames,
                "unchanged_share": unchanged_share,
            },
            "files": files.iter().map(|f| json!({
                "path": f.path().map(|p| p.display().to_string()),
                "bytes": f.len(),
                "index": trailer_name(f.trailer()),
                "complete": *f.trailer() == TrailerState::Valid,
                "damaged_ranges": f.damage().len(),
                "continuation_of": f.header().continuation.as_ref().map(|c| c.predecessor.clone()),
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("session        {}", super::shown(&h.session_id));
    println!("portal         {}", super::shown(&h.portal));
    println!("team           {}", super::shown(&h.team));
    println!("representative {}", super::shown(&h.representative));
    println!("customer       {}", super::shown(&h.customer));
    println!("started        {}", super::utc(h.start_time_unix_micros));
    println!("recorded on    {} machine", h.side.name());
    println!(
        "recorder       {} {}",
        super::shown(&h.recorder_name),
        super::shown(&h.recorder_version)
    );
    println!("screen         {}", h.screen_size);
    for (k, v) in &h.metadata {
        println!("meta           {} = {}", super::shown(k), super::shown(v));
    }
    println!(
        "format         {}.{}{}",
        g2a_format::VERSION_MAJOR,
        h.minor_version,
        if h.encryption.is_some() {
            " (encrypted)"
        } else {
            ""
        }
    );
    println!("duration       {}", set.duration());
    println!("keyframes      {keyframes}");
    if frames > 0 {
        let avg = |b: u64, n: u64| b.checked_div(n).unwrap_or(0);
        println!(
            "frames         {frames} ({:.1}% unchanged)",
            unchanged_share * 100.0
        );
        println!(
            "  keyframes    {:>10} frames {:>14} bytes {:>10} bytes/frame",
            codec.key_frames,
            codec.key_bytes,
            avg(codec.key_bytes, codec.key_frames)
        );
        println!(
            "  deltas       {:>10} frames {:>14} bytes {:>10} bytes/frame",
            codec.delta_frames,
            codec.delta_bytes,
            avg(codec.delta_bytes, codec.delta_frames)
        );
        println!(
            "  unchanged    {:>10} frames {:>14} bytes",
            codec.unchanged_frames, codec.unchanged_bytes
        );
        if codec.foreign_frames > 0 {
            println!("  other codec  {:>10} frames", codec.foreign_frames);
        }
        if codec.sealed_frames > 0 {
            println!(
                "  encrypted    {:>10} frames (their kinds need the recording's key)",
                codec.sealed_frames
            );
        }
    }
    println!("tracks");
    for (t, r, b) in &tracks {
        println!("  {:<12} {r:>10} records {b:>14} bytes", t.name());
    }
    println!("files");
    for f in &files {
        let name = f
            .path()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let cont = f
            .header()
            .continuation
            .as_ref()
            .map(|c| format!(", continues {}", c.predecessor))
            .unwrap_or_default();
        println!(
            "  {name}: {} bytes, {}{cont}",
            f.len(),
            trailer_name(f.trailer())
        );
        for d in f.damage() {
            println!("    damaged bytes {}..{}: {}", d.start, d.end, d.reason);
        }
    }
    Ok(ExitCode::SUCCESS)
}
