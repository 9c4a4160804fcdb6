//! One viewer's decoding thread: follows the page's commands, keeps the
//! playback clock, and sends the changed rectangles of each new screen.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::Message;
use g2a::{CursorTrack, Player};
use g2a_catalog::Grant;
use g2a_core::{Size, Timestamp};
use g2a_format::Record;
use serde_json::json;

use super::diff::{changed_rects, encode_rect, encode_rects};
use super::Command;
use crate::content::{draw_cursor, grant_player, is_live, micros};

/// Playback clock tick.
const TICK: Duration = Duration::from_millis(33);
/// How often a live recording is checked for new data.
const LIVE_POLL: Duration = Duration::from_millis(250);
/// Frames sent and not yet acknowledged, at most.
const IN_FLIGHT: u64 = 2;
/// A stretch without any change this long is idle (skipped on request).
const IDLE: i64 = 2_000_000;
/// Skipping idle lands this long before the next change.
const IDLE_LEAD: i64 = 300_000;

type Out = tokio::sync::mpsc::Sender<Message>;

struct Viewer {
    player: Player,
    first: std::path::PathBuf,
    cursor: Arc<CursorTrack>,
    /// Times (µs) at which something visible happens: video frames that
    /// are not bare repeats, chat, events. Sorted. Found when skipping idle
    /// stretches is first asked for: it reads every record (~0.6 s for a
    /// one-hour 1080p recording), which fifty viewers opening at once would
    /// otherwise pay before their first frame.
    activity: Option<Vec<i64>>,
    duration: i64,
    live: bool,
    following: bool,
    playing: bool,
    speed: f64,
    skip_idle: bool,
    anchor: (Instant, i64),
    t: i64,
    /// What the page shows: size and BGRA pixels.
    shown: Option<(Size, Vec<u8>)>,
    /// What `shown` was made of: the frame's time and size, and the
    /// cursor's position and shape.
    shown_key: Option<ShownKey>,
    scratch: Vec<u8>,
    shown_t: i64,
    dirty: bool,
    seq: u64,
    acked: u64,
    last_poll: Instant,
    thumbs: Option<Player>,
}

/// How busy the service's viewers are, which sets how many threads one
/// viewer decodes and encodes with.
pub(super) struct Load {
    /// The viewers' permits (see [`crate::state::AppState::viewers`]).
    pub viewers: Arc<tokio::sync::Semaphore>,
    /// Permits in all.
    pub max: usize,
    /// The machine's parallelism.
    pub cores: usize,
    /// Cursor tracks shared by the viewers of a recording.
    pub cursors: super::CursorTracks,
}

impl Load {
    /// All cores (at most 4) while viewers are fewer than cores: a seek
    /// then shows its frame sooner. One thread each when there are at least
    /// as many viewers as cores: the viewers themselves keep the cores busy,
    /// and the hand-offs between one viewer's threads only cost (50 viewers
    /// on 2 cores: the slowest kept 0.76-0.9x with two threads each, 1.0x
    /// with one, and the last first frame came after 7.9 s instead of 13-16).
    fn threads(&self) -> usize {
        let active = self.max.saturating_sub(self.viewers.available_permits());
        if active >= self.cores {
            1
        } else {
            self.cores.min(4)
        }
    }
}

type ShownKey = (Timestamp, Size, Option<(i32, i32, usize)>);

fn ts(us: i64) -> Timestamp {
    Timestamp::from_micros(u64::try_from(us.max(0)).unwrap_or(0))
}

/// Video payloads this small carry no change (a repeat of the previous
/// frame); anything larger counts as activity.
const REPEAT_BYTES: usize = 64;

fn activity_of(p: &Player) -> Vec<i64> {
    let mut v = Vec::new();
    let _ = p.for_each_record(|r| match r {
        Record::Video {
            ts, data, keyframe, ..
        } if keyframe || data.len() > REPEAT_BYTES => {
            v.push(micros(ts));
        }
        Record::Chat { ts, .. } | Record::Event { ts, .. } => v.push(micros(ts)),
        _ => {}
    });
    v.sort_unstable();
    v
}

/// Runs until the page goes away (the command channel closes) or a send
/// fails.
pub(super) fn run(grant: &Grant, load: &Load, cmds: &Receiver<Command>, out: &Out) {
    let mut v = match open(grant, &load.cursors) {
        Ok(v) => v,
        Err(e) => {
            let _ = out.blocking_send(error_message(&e));
            return;
        }
    };
    if v.info(out).is_err() {
        return;
    }
    loop {
        let busy = v.playing || v.following || (v.dirty && v.can_send());
        let wait = if busy {
            TICK
        } else {
            Duration::from_millis(500)
        };
        match cmds.recv_timeout(wait) {
            Ok(c) => {
                if v.apply(c, out).is_err() {
                    return;
                }
                // Take every queued command before drawing.
                while let Ok(c) = cmds.try_recv() {
                    if v.apply(c, out).is_err() {
                        return;
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        if v.step_clock().is_err() || v.draw(load.threads(), out).is_err() {
            return;
        }
    }
}

fn error_message(e: &str) -> Message {
    Message::Text(
        json!({"type": "error", "code": "internal", "message": crate::api::one_line(e)})
            .to_string()
            .into(),
    )
}

fn open(grant: &Grant, cursors: &super::CursorTracks) -> Result<Viewer, String> {
    let player = grant_player(grant).map_err(|e| e.body.message)?;
    let duration = micros(player.duration());
    let live = grant.session.live && is_live(&player);
    // A finished recording in clear has one cursor track for all its
    // viewers (an encrypted one's is read with each login's key).
    let shared = match (live, player.is_encrypted(), grant.files.first()) {
        (false, false, Some(first)) => {
            let bytes = grant
                .files
                .iter()
                .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
                .sum();
            cursors.get((first.clone(), bytes), || player.cursor_track().ok())
        }
        _ => None,
    };
    let cursor = match shared {
        Some(c) => c,
        None => Arc::new(player.cursor_track().map_err(|e| e.to_string())?),
    };
    Ok(Viewer {
        first: grant.files.first().cloned().unwrap_or_default(),
        player,
        cursor,
        activity: None,
        duration,
        live,
        following: false,
        playing: false,
        speed: 1.0,
        skip_idle: false,
        anchor: (Instant::now(), 0),
        t: 0,
        shown: None,
        shown_key: None,
        scratch: Vec::new(),
        shown_t: -1,
        dirty: true,
        seq: 0,
        acked: 0,
        last_poll: Instant::now(),
        thumbs: None,
    })
}

struct Gone;

impl Viewer {
    fn send(out: &Out, m: Message) -> Result<(), Gone> {
        out.blocking_send(m).map_err(|_| Gone)
    }

    fn can_send(&self) -> bool {
        self.seq - self.acked < IN_FLIGHT
    }

    fn info(&self, out: &Out) -> Result<(), Gone> {
        let size = self.player.header().screen_size;
        let m = json!({"type": "info", "duration": self.duration, "width": size.width,
            "height": size.height, "live": self.live});
        Self::send(out, Message::Text(m.to_string().into()))
    }

    fn apply(&mut self, c: Command, out: &Out) -> Result<(), Gone> {
        match c {
            Command::Seek { t } => {
                self.t = t.clamp(0, self.duration);
                self.anchor = (Instant::now(), self.t);
                self.following = false;
                self.dirty = true;
            }
            Command::Play { speed } => {
                self.speed = if speed.is_finite() {
                    speed.clamp(0.25, 16.0)
                } else {
                    1.0
                };
                if self.t >= self.duration && !self.live {
                    self.t = 0;
                }
                self.playing = true;
                self.anchor = (Instant::now(), self.t);
            }
            Command::Pause => {
                self.playing = false;
                self.following = false;
                self.dirty = true;
            }
            Command::Step { n } => {
                self.playing = false;
                self.following = false;
                self.step_frame(n.signum());
            }
            Command::SkipIdle { on } => self.skip_idle = on,
            Command::Live => {
                self.following = true;
                self.playing = true;
                self.speed = 1.0;
                self.refresh();
                self.t = self.duration;
                self.anchor = (Instant::now(), self.t);
                self.dirty = true;
            }
            Command::Ack { seq } => self.acked = self.acked.max(seq.min(self.seq)),
            Command::Thumb { t, w } => return self.thumb(t, w, out),
        }
        Ok(())
    }

    fn step_frame(&mut self, dir: i32) {
        let cur = self
            .player
            .frame_at(ts(self.t))
            .map(|f| micros(f.ts))
            .unwrap_or(0);
        let target = if dir > 0 {
            match self.player.next_frame() {
                Ok(Some(f)) => micros(f.ts),
                _ => cur,
            }
        } else if cur > 0 {
            self.player
                .frame_at(ts(cur - 1))
                .map(|f| micros(f.ts))
                .unwrap_or(0)
        } else {
            0
        };
        self.t = target;
        self.anchor = (Instant::now(), self.t);
        self.dirty = true;
    }

    fn refresh(&mut self) {
        if !self.live {
            return;
        }
        if let Ok(true) = self.player.refresh() {
            self.duration = micros(self.player.duration());
            self.live = is_live(&self.player);
            if !self.live {
                // The recording ended: the page learns it with the next
                // frame, and a follower stops at the end.
                if self.following {
                    self.following = false;
                    self.t = self.duration;
                    self.anchor = (Instant::now(), self.t);
                }
                self.dirty = true;
            }
            if let Ok(c) = self.player.cursor_track() {
                self.cursor = Arc::new(c);
            }
            if self.activity.is_some() {
                self.activity = Some(activity_of(&self.player));
            }
        }
        self.last_poll = Instant::now();
    }

    /// Advances the playback clock.
    fn step_clock(&mut self) -> Result<(), Gone> {
        if self.live && self.last_poll.elapsed() >= LIVE_POLL {
            self.refresh();
        }
        if !self.playing {
            return Ok(());
        }
        let (at, from) = self.anchor;
        let elapsed = at.elapsed().as_secs_f64() * 1e6 * self.speed;
        let mut t = from.saturating_add(elapsed as i64);
        if self.following {
            t = self.duration;
        }
        if self.skip_idle && !self.following {
            let player = &self.player;
            let activity = self.activity.get_or_insert_with(|| activity_of(player));
            let i = activity.partition_point(|&a| a <= t);
            let prev = if i > 0 { activity[i - 1] } else { 0 };
            if let Some(&next) = activity.get(i) {
                if next - prev > IDLE && t > prev + IDLE_LEAD && t < next - IDLE_LEAD {
                    t = next - IDLE_LEAD;
                    self.anchor = (Instant::now(), t);
                }
            }
        }
        if t >= self.duration {
            t = self.duration;
            if !self.live {
                self.playing = false;
            }
        }
        if t != self.t {
            self.t = t;
            self.dirty = true;
        }
        Ok(())
    }

    /// Sends the screen at the clock's time if it changed and the page is
    /// ready for it.
    fn draw(&mut self, threads: usize, out: &Out) -> Result<(), Gone> {
        if !self.dirty || !self.can_send() {
            return Ok(());
        }
        self.player.set_decode_threads(threads);
        self.dirty = false;
        let at = ts(self.t);
        let cursor = self.cursor.at(at).map(|c| {
            let shape = c
                .image
                .as_ref()
                .map_or(std::ptr::null(), std::sync::Arc::as_ptr);
            (c.x, c.y, shape as usize)
        });
        let (frame_ts, size, same) = match self.player.frame_at(at) {
            Ok(f) => {
                let key = (f.ts, f.size, cursor);
                // The same frame with the cursor where it was (playing at
                // 1x, two ticks in three): nothing to copy or compare.
                let same = self.shown.is_some() && self.shown_key == Some(key);
                if !same {
                    self.scratch.clear();
                    self.scratch.extend_from_slice(f.data);
                    self.shown_key = Some(key);
                }
                (micros(f.ts), f.size, same)
            }
            Err(g2a::Error::NoVideo) => return Ok(()),
            Err(e) => return Self::send(out, error_message(&e.to_string())),
        };
        let rects = if same {
            Vec::new()
        } else {
            draw_cursor(&self.cursor, at, &mut self.scratch, size);
            let old = match &self.shown {
                Some((s, px)) if *s == size => Some(px.as_slice()),
                _ => None,
            };
            changed_rects(old, &self.scratch, size)
        };
        // Nothing changed and the position moved little: only the clock.
        if rects.is_empty() && (self.t - self.shown_t).abs() < 250_000 && self.playing {
            return Ok(());
        }
        let mut header = Vec::with_capacity(rects.len());
        let mut body = Vec::new();
        for (r, z) in rects
            .iter()
            .zip(encode_rects(&self.scratch, size, &rects, threads))
        {
            header.push([
                r.x,
                r.y,
                r.w,
                r.h,
                u32::try_from(z.len()).unwrap_or(u32::MAX),
            ]);
            body.extend_from_slice(&z);
        }
        self.seq += 1;
        let head = json!({"seq": self.seq, "t": self.t, "ts": frame_ts, "w": size.width,
            "h": size.height, "rects": header, "playing": self.playing, "speed": self.speed,
            "duration": self.duration, "live": self.live, "following": self.following})
        .to_string();
        let mut msg = Vec::with_capacity(5 + head.len() + body.len());
        msg.push(1u8);
        msg.extend_from_slice(&u32::try_from(head.len()).unwrap_or(0).to_le_bytes());
        msg.extend_from_slice(head.as_bytes());
        msg.extend_from_slice(&body);
        if !same {
            match &mut self.shown {
                Some((s, px)) if *s == size => std::mem::swap(px, &mut self.scratch),
                _ => self.shown = Some((size, std::mem::take(&mut self.scratch))),
            }
        }
        self.shown_t = self.t;
        Self::send(out, Message::Binary(msg.into()))
    }

    /// A thumbnail from a second Player, so the main one keeps its place.
    fn thumb(&mut self, t: i64, w: u32, out: &Out) -> Result<(), Gone> {
        if self.thumbs.is_none() {
            let Ok(mut p) = Player::open(&self.first) else {
                return Ok(());
            };
            p.set_cipher(self.player.cipher().cloned());
            self.thumbs = Some(p);
        }
        let Some(p) = self.thumbs.as_mut() else {
            return Ok(());
        };
        if self.live {
            // Thumbnails of a live recording reach its newest part too.
            let _ = p.refresh();
        }
        let w = w.clamp(16, 480);
        let Ok(f) = p.frame_at(ts(t.clamp(0, self.duration))) else {
            return Ok(());
        };
        let (fw, fh) = (f.size.width.max(1), f.size.height.max(1));
        let h = (u64::from(w) * u64::from(fh) / u64::from(fw)).max(1) as u32;
        let mut small = vec![0u8; (w * h * 4) as usize];
        for y in 0..h {
            let sy = (u64::from(y) * u64::from(fh) / u64::from(h)) as usize;
            for x in 0..w {
                let sx = (u64::from(x) * u64::from(fw) / u64::from(w)) as usize;
                let s = (sy * fw as usize + sx) * 4;
                let d = ((y * w + x) * 4) as usize;
                small[d..d + 4].copy_from_slice(&f.data[s..s + 4]);
            }
        }
        let size = Size::new(w, h);
        let z = encode_rect(&small, size, super::Rect { x: 0, y: 0, w, h });
        let head = json!({"t": t, "w": w, "h": h}).to_string();
        let mut msg = Vec::with_capacity(5 + head.len() + z.len());
        msg.push(2u8);
        msg.extend_from_slice(&u32::try_from(head.len()).unwrap_or(0).to_le_bytes());
        msg.extend_from_slice(head.as_bytes());
        msg.extend_from_slice(&z);
        Self::send(out, Message::Binary(msg.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::Load;

    #[test]
    fn a_viewer_decodes_on_all_cores_only_while_viewers_are_fewer_than_cores() {
        let viewers = std::sync::Arc::new(tokio::sync::Semaphore::new(8));
        let load = Load {
            cursors: super::super::CursorTracks::default(),
            viewers: viewers.clone(),
            max: 8,
            cores: 2,
        };
        let first = viewers.clone().try_acquire_owned().unwrap();
        assert_eq!(load.threads(), 2, "one viewer on two cores");
        let second = viewers.clone().try_acquire_owned().unwrap();
        assert_eq!(load.threads(), 1, "two viewers on two cores");
        drop(second);
        assert_eq!(load.threads(), 2);
        drop(first);
        let many = Load {
            cursors: super::super::CursorTracks::default(),
            viewers: std::sync::Arc::new(tokio::sync::Semaphore::new(8)),
            max: 8,
            cores: 16,
        };
        assert_eq!(many.threads(), 4, "at most four");
    }
}
