//! What the window shows beside the video: the chat transcript, session
//! events, diagnostics, resolution changes, the timeline markers and the
//! idle stretches, read from a recording's records.
//!
//! [`Timeline::update`] reads each file from where it stopped last time, so
//! following a live recording costs only the new records. Diagnostics keep
//! at most [`DIAG_PREVIEW`] bytes each: the window never holds a large
//! document whole.

use std::time::Duration;

use g2a_codec::Decoder;
use g2a_core::{Size, Timestamp};
use g2a_format::{
    unseal, EventKind, MediaType, PayloadCipher, Reader, Record, SenderRole, SessionSet,
    SharedCipher, TrailerState,
};

/// Bytes of a diagnostics document kept for its view.
pub const DIAG_PREVIEW: usize = 256 * 1024;

/// Bytes of a recording read through one mapping before it is reopened.
const SCAN_SEGMENT: u64 = 32 << 20;

/// A sealed video payload at most this long may be an "unchanged" packet
/// (a few bytes plus nonce and tag); longer ones are changes.
const SMALL_SEALED: usize = 256;

/// A chat message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatEntry {
    /// When it was sent.
    pub ts: Timestamp,
    /// The sender's role, lowercase.
    pub role: String,
    /// The sender's name.
    pub sender: String,
    /// The message.
    pub text: String,
}

/// A session event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventEntry {
    /// When it happened.
    pub ts: Timestamp,
    /// What happened.
    pub kind: String,
    /// Details.
    pub detail: String,
}

/// A diagnostics document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagEntry {
    /// When it was attached.
    pub ts: Timestamp,
    /// Its name.
    pub name: String,
    /// Its media type.
    pub media: MediaType,
    /// Its first [`DIAG_PREVIEW`] bytes.
    pub preview: Vec<u8>,
    /// Its full length.
    pub len: usize,
}

/// What a timeline marker points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MarkerKind {
    /// A chat message ([`Timeline::chats`] index).
    Chat,
    /// A session event ([`Timeline::events`] index).
    Event,
    /// A resolution change ([`Timeline::resizes`] index).
    Resize,
    /// A diagnostics document ([`Timeline::diags`] index).
    Diagnostic,
}

/// A marker on the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    /// Its time.
    pub ts: Timestamp,
    /// Its kind.
    pub kind: MarkerKind,
    /// Index in the list of its kind.
    pub index: usize,
}

/// A stretch of time in which nothing happens (no screen change, no chat,
/// no event): `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdleStretch {
    /// Where skipping starts.
    pub start: Timestamp,
    /// Where it lands (the next activity).
    pub end: Timestamp,
}

/// The recording's side tracks and timeline, kept up to date by
/// [`Timeline::update`].
#[derive(Debug, Default)]
pub struct Timeline {
    /// Chat messages, in time order.
    pub chats: Vec<ChatEntry>,
    /// Session events, in time order.
    pub events: Vec<EventEntry>,
    /// Diagnostics documents, in time order.
    pub diags: Vec<DiagEntry>,
    /// Screen sizes, in time order (the first is the starting size).
    pub resizes: Vec<(Timestamp, Size)>,
    /// Times of video frames that changed the screen, in time order.
    activity: Vec<Timestamp>,
    /// Time of the first video frame.
    pub first_frame: Option<Timestamp>,
    /// Video frames read.
    pub video_frames: u64,
    /// Time of the last record.
    pub end: Timestamp,
    /// Sealed records that could not be opened (no cipher or wrong key).
    pub sealed_unread: u64,
    /// Per file: the offset where the next update continues.
    offsets: Vec<u64>,
    /// Markers, in time order (rebuilt by [`Timeline::update`]).
    markers: Vec<Marker>,
}

fn role_name(role: SenderRole) -> String {
    match role {
        SenderRole::Representative => "representative".into(),
        SenderRole::Customer => "customer".into(),
        SenderRole::System => "system".into(),
        SenderRole::Other(c) => format!("role {c}"),
        _ => "other".into(),
    }
}

/// A short name for an event kind.
#[must_use]
pub fn event_name(kind: EventKind) -> String {
    match kind {
        EventKind::RemoteControlGranted => "remote control granted".into(),
        EventKind::RemoteControlRevoked => "remote control revoked".into(),
        EventKind::FileTransferred => "file transferred".into(),
        EventKind::Reboot => "reboot".into(),
        EventKind::ParticipantJoined => "participant joined".into(),
        EventKind::ParticipantLeft => "participant left".into(),
        EventKind::FramesDropped => "frames dropped".into(),
        EventKind::Other(c) => format!("event {c}"),
        _ => "event".into(),
    }
}

impl Timeline {
    /// Reads `set` (with `cipher` for an encrypted recording).
    #[must_use]
    pub fn load(set: &SessionSet, cipher: Option<&SharedCipher>) -> Timeline {
        let mut t = Timeline::default();
        t.update(set, cipher);
        t
    }

    /// Reads the records added to `set` since the last update (all of them
    /// the first time). Returns true when anything was added.
    pub fn update(&mut self, set: &SessionSet, cipher: Option<&SharedCipher>) -> bool {
        let cipher = cipher.map(|c| c.0.as_ref());
        let mut added = false;
        let mut buf = Vec::new();
        for (i, file) in set.files().iter().enumerate() {
            if self.offsets.len() <= i {
                self.offsets.push(file.header_len());
            }
            // A complete file on disk is read in segments, each through a
            // fresh mapping, so the pages read never add up to the whole
            // recording in memory. A file still being written (no trailer:
            // reopening it would rescan it) is read through the set.
            let complete = *file.trailer() == TrailerState::Valid;
            let mut fresh = None;
            loop {
                let reader = match (complete, file.path()) {
                    (true, Some(p)) => match Reader::open(p) {
                        Ok(r) => fresh.insert(r),
                        Err(_) => file,
                    },
                    _ => file,
                };
                let start = self.offsets[i];
                let mut recs = reader.records_from(start);
                let mut more = false;
                while let Some((_, rec)) = recs.next_with_offset() {
                    added = true;
                    self.take(rec, cipher, &mut buf);
                    if std::ptr::eq(reader, file) {
                        continue;
                    }
                    if recs.position().saturating_sub(start) >= SCAN_SEGMENT {
                        more = true;
                        break;
                    }
                }
                self.offsets[i] = recs.position();
                if !more {
                    break;
                }
            }
        }
        if added {
            self.chats.sort_by_key(|c| c.ts);
            self.events.sort_by_key(|e| e.ts);
            self.diags.sort_by_key(|d| d.ts);
            self.resizes.sort_by_key(|r| r.0);
            self.activity.sort_unstable();
            self.rebuild_markers();
        }
        added
    }

    /// Takes one record into the lists.
    fn take(&mut self, rec: Record<'_>, cipher: Option<&dyn PayloadCipher>, buf: &mut Vec<u8>) {
        self.end = self.end.max(rec.ts());
        if rec.is_sealed() && rec.is_video_frame() {
            // Only a short payload can be an unchanged packet: open just those.
            if let Record::Sealed { ts, sealed, .. } = rec {
                self.video_frames += 1;
                self.first_frame = Some(self.first_frame.map_or(ts, |f| f.min(ts)));
                let changed = sealed.len() > SMALL_SEALED
                    || !matches!(unseal(rec, cipher, buf),
                        Ok(Record::Video { data, .. }) if Decoder::is_unchanged(data));
                if changed {
                    self.activity.push(ts);
                }
            }
            return;
        }
        match unseal(rec, cipher, buf) {
            Ok(r) => self.add(r),
            Err(_) => self.sealed_unread += 1,
        }
    }

    fn add(&mut self, rec: Record<'_>) {
        match rec {
            Record::Video { ts, data, .. } => {
                self.video_frames += 1;
                self.first_frame = Some(self.first_frame.map_or(ts, |f| f.min(ts)));
                if !Decoder::is_unchanged(data) {
                    self.activity.push(ts);
                }
            }
            Record::ScreenSize { ts, size } if self.resizes.last().map(|r| r.1) != Some(size) => {
                self.resizes.push((ts, size));
                self.activity.push(ts);
            }
            Record::Chat {
                ts,
                role,
                sender,
                text,
            } => {
                self.chats.push(ChatEntry {
                    ts,
                    role: role_name(role),
                    sender: sender.to_owned(),
                    text: text.to_owned(),
                });
                self.activity.push(ts);
            }
            Record::Event { ts, kind, detail } => {
                self.events.push(EventEntry {
                    ts,
                    kind: event_name(kind),
                    detail: detail.to_owned(),
                });
                self.activity.push(ts);
            }
            Record::Diagnostic {
                ts,
                name,
                media_type,
                data,
            } => {
                self.diags.push(DiagEntry {
                    ts,
                    name: name.to_owned(),
                    media: media_type,
                    preview: data[..data.len().min(DIAG_PREVIEW)].to_vec(),
                    len: data.len(),
                });
                self.activity.push(ts);
            }
            _ => {}
        }
    }

    fn rebuild_markers(&mut self) {
        let mut m: Vec<Marker> = Vec::new();
        let mut push = |ts, kind, index| m.push(Marker { ts, kind, index });
        for (i, c) in self.chats.iter().enumerate() {
            push(c.ts, MarkerKind::Chat, i);
        }
        for (i, e) in self.events.iter().enumerate() {
            push(e.ts, MarkerKind::Event, i);
        }
        // The first size is the starting size, not a change.
        for (i, r) in self.resizes.iter().enumerate().skip(1) {
            push(r.0, MarkerKind::Resize, i);
        }
        for (i, d) in self.diags.iter().enumerate() {
            push(d.ts, MarkerKind::Diagnostic, i);
        }
        m.sort_by_key(|m| (m.ts, m.kind, m.index));
        self.markers = m;
    }

    /// Every marker, in time order.
    #[must_use]
    pub fn markers(&self) -> &[Marker] {
        &self.markers
    }

    /// The first marker of `kind` strictly after `ts`.
    #[must_use]
    pub fn next_marker(&self, ts: Timestamp, kind: Option<MarkerKind>) -> Option<Marker> {
        let from = self.markers.partition_point(|m| m.ts <= ts);
        self.markers[from..]
            .iter()
            .find(|m| kind.is_none_or(|k| m.kind == k))
            .copied()
    }

    /// The last marker of `kind` strictly before `ts`.
    #[must_use]
    pub fn prev_marker(&self, ts: Timestamp, kind: Option<MarkerKind>) -> Option<Marker> {
        let to = self.markers.partition_point(|m| m.ts < ts);
        self.markers[..to]
            .iter()
            .rev()
            .find(|m| kind.is_none_or(|k| m.kind == k))
            .copied()
    }

    /// The marker nearest to `ts` within `tolerance`, if any.
    #[must_use]
    pub fn marker_near(&self, ts: Timestamp, tolerance: Duration) -> Option<Marker> {
        let tol = tolerance.as_micros() as u64;
        let at = self.markers.partition_point(|m| m.ts < ts);
        let dist = |m: &Marker| m.ts.as_micros().abs_diff(ts.as_micros());
        [at.checked_sub(1), Some(at)]
            .into_iter()
            .flatten()
            .filter_map(|i| self.markers.get(i))
            .filter(|m| dist(m) <= tol)
            .min_by_key(|m| dist(m))
            .copied()
    }

    /// The idle stretches of the recording (see [`idle_stretches`]).
    #[must_use]
    pub fn idle(&self, min_idle: Duration, hold: Duration) -> Vec<IdleStretch> {
        idle_stretches(&self.activity, self.end, min_idle, hold)
    }
}

/// The stretches without activity: between two consecutive activity times
/// `a < b` more than `min_idle` apart, playback may skip from `a + hold`
/// (the change stays on screen for `hold`) to `b`. After the last activity
/// the stretch runs to `end`. `activity` must be sorted.
#[must_use]
pub fn idle_stretches(
    activity: &[Timestamp],
    end: Timestamp,
    min_idle: Duration,
    hold: Duration,
) -> Vec<IdleStretch> {
    let mut out = Vec::new();
    let ends = activity.iter().copied().skip(1).chain(std::iter::once(end));
    for (a, b) in activity.iter().copied().zip(ends) {
        if b.saturating_since(a) > min_idle {
            let start = a.saturating_add(hold);
            if start < b {
                out.push(IdleStretch { start, end: b });
            }
        }
    }
    out
}

/// Where playback continues from `ts`: the end of the idle stretch that
/// contains it, or `ts` itself.
#[must_use]
pub fn skip_idle(stretches: &[IdleStretch], ts: Timestamp) -> Timestamp {
    let i = stretches.partition_point(|s| s.end <= ts);
    match stretches.get(i) {
        Some(s) if s.start <= ts => s.end,
        _ => ts,
    }
}

/// Horizontal position (0..=width) of `ts` on a timeline `width` wide that
/// shows `0..=duration`.
#[must_use]
pub fn time_to_x(ts: Timestamp, duration: Timestamp, width: f32) -> f32 {
    if duration == Timestamp::ZERO {
        return 0.0;
    }
    let f = ts.as_micros().min(duration.as_micros()) as f64 / duration.as_micros() as f64;
    (f * f64::from(width)) as f32
}

/// The time at horizontal position `x` of a timeline `width` wide (clamped
/// to the timeline).
#[must_use]
pub fn x_to_time(x: f32, duration: Timestamp, width: f32) -> Timestamp {
    if width <= 0.0 || !x.is_finite() {
        return Timestamp::ZERO;
    }
    let f = f64::from((x / width).clamp(0.0, 1.0));
    Timestamp::from_micros((f * duration.as_micros() as f64).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use g2a::{Recorder, RecorderOptions};
    use g2a_core::{FrameRef, PixelFormat};
    use g2a_format::SessionHeader;

    fn ms(v: u64) -> Timestamp {
        Timestamp::from_millis(v)
    }

    #[test]
    fn idle_stretches_between_distant_activity() {
        let act = [ms(0), ms(100), ms(200), ms(10_000), ms(10_100)];
        let got = idle_stretches(
            &act,
            ms(20_000),
            Duration::from_secs(3),
            Duration::from_secs(1),
        );
        assert_eq!(
            got,
            vec![
                IdleStretch {
                    start: ms(1_200),
                    end: ms(10_000)
                },
                IdleStretch {
                    start: ms(11_100),
                    end: ms(20_000)
                },
            ]
        );
        assert_eq!(skip_idle(&got, ms(500)), ms(500));
        assert_eq!(skip_idle(&got, ms(1_200)), ms(10_000));
        assert_eq!(skip_idle(&got, ms(9_999)), ms(10_000));
        assert_eq!(skip_idle(&got, ms(10_000)), ms(10_000));
        assert_eq!(skip_idle(&got, ms(15_000)), ms(20_000));
    }

    #[test]
    fn no_idle_when_activity_is_dense_or_absent_gaps_are_short() {
        let act: Vec<_> = (0..100).map(|i| ms(i * 500)).collect();
        assert!(idle_stretches(
            &act,
            ms(49_500),
            Duration::from_secs(3),
            Duration::from_secs(1)
        )
        .is_empty());
        assert!(
            idle_stretches(&[], ms(1_000_000), Duration::from_secs(3), Duration::ZERO).is_empty()
        );
        // A gap just over min_idle but shorter than hold: nothing to skip.
        assert!(idle_stretches(
            &[ms(0), ms(3_500)],
            ms(3_500),
            Duration::from_secs(3),
            Duration::from_secs(4)
        )
        .is_empty());
    }

    #[test]
    fn timeline_positions_round_trip() {
        let d = ms(3_600_000);
        for t in [0, 1, 59_999, 1_800_000, 3_600_000] {
            let x = time_to_x(ms(t), d, 1000.0);
            let back = x_to_time(x, d, 1000.0);
            assert!(
                back.as_micros().abs_diff(ms(t).as_micros()) <= 3_600,
                "{t} -> {x} -> {back}"
            );
        }
        assert_eq!(x_to_time(-5.0, d, 1000.0), Timestamp::ZERO);
        assert_eq!(x_to_time(5000.0, d, 1000.0), d);
        assert_eq!(time_to_x(ms(5), Timestamp::ZERO, 1000.0), 0.0);
    }

    /// A real recording: 30 frames of 32×24 (10 identical in the middle),
    /// a resize, chat, events and a diagnostic.
    fn sample(dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("t.g2a");
        let size = Size::new(32, 24);
        let mut rec = Recorder::create(
            &path,
            SessionHeader::new("T-1", size),
            RecorderOptions::default(),
        )
        .unwrap();
        for i in 0..30u64 {
            let v = if (10..20).contains(&i) {
                10
            } else {
                i as u8 * 7
            };
            let px = vec![v; size.area() as usize * 4];
            let t = ms(i * 1000);
            match i {
                3 => rec
                    .push_chat(t, SenderRole::Customer, "Kim", "hello")
                    .unwrap(),
                5 => rec.push_event(t, EventKind::Reboot, "now").unwrap(),
                7 => rec
                    .push_chat(t, SenderRole::Representative, "Ann", "hi")
                    .unwrap(),
                8 => rec
                    .push_diagnostic(t, "log.txt", MediaType::Text, b"line one\nline two")
                    .unwrap(),
                _ => {}
            }
            rec.push_frame(t, &FrameRef::packed(&px, size, PixelFormat::Bgra8).unwrap())
                .unwrap();
        }
        rec.finish().unwrap();
        path
    }

    #[test]
    fn markers_and_panes_come_from_the_records() {
        let dir = tempfile::tempdir().unwrap();
        let set = SessionSet::open(sample(dir.path())).unwrap();
        let t = Timeline::load(&set, None);
        assert_eq!(t.chats.len(), 2);
        assert_eq!(t.chats[0].text, "hello");
        assert_eq!(t.chats[0].role, "customer");
        assert_eq!(t.events[0].kind, "reboot");
        assert_eq!(t.diags[0].name, "log.txt");
        assert_eq!(t.diags[0].preview, b"line one\nline two");
        assert_eq!(t.first_frame, Some(Timestamp::ZERO));
        assert_eq!(t.video_frames, 30);
        assert_eq!(t.end, ms(29_000));
        let kinds: Vec<_> = t.markers().iter().map(|m| (m.ts, m.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                (ms(3_000), MarkerKind::Chat),
                (ms(5_000), MarkerKind::Event),
                (ms(7_000), MarkerKind::Chat),
                (ms(8_000), MarkerKind::Diagnostic),
            ]
        );
        let next = t.next_marker(ms(3_000), Some(MarkerKind::Chat)).unwrap();
        assert_eq!((next.ts, next.index), (ms(7_000), 1));
        assert_eq!(
            t.prev_marker(ms(7_000), Some(MarkerKind::Chat))
                .unwrap()
                .index,
            0
        );
        assert_eq!(t.prev_marker(ms(3_000), None), None);
        assert_eq!(
            t.marker_near(ms(5_400), Duration::from_millis(500))
                .unwrap()
                .kind,
            MarkerKind::Event
        );
        assert_eq!(t.marker_near(ms(6_000), Duration::from_millis(500)), None);
        // Frames 11..=19 repeat frame 10: an idle stretch from 10 s + hold to 20 s.
        let idle = t.idle(Duration::from_secs(3), Duration::from_secs(1));
        assert_eq!(
            idle,
            vec![IdleStretch {
                start: ms(11_000),
                end: ms(20_000)
            }]
        );
    }

    #[test]
    fn update_reads_only_new_records() {
        let dir = tempfile::tempdir().unwrap();
        let set = SessionSet::open(sample(dir.path())).unwrap();
        let mut t = Timeline::load(&set, None);
        let before = t.markers().len();
        assert!(!t.update(&set, None));
        assert_eq!(t.markers().len(), before);
        assert_eq!(t.chats.len(), 2);
    }
}
