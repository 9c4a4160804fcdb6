//! The window: eframe/egui drawing, input handling, and the glue between the
//! clock, the timeline and the worker threads. The logic it relies on
//! (clock, geometry, timeline, slots) lives in plain modules with unit tests.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui::{
    self, Color32, Key, Pos2, Rect, RichText, Sense, Stroke, TextureHandle, TextureOptions, Vec2,
};
use g2a_core::Timestamp;
use g2a_export::Format;
use g2a_format::{MediaType, SessionHeader, SessionSet, SharedCipher};

use crate::clock::Clock;
use crate::decode::{DecodeWorker, Job, Request, ThumbCache, ThumbWorker, Wake};
use crate::export::{ExportJob, ExportState};
use crate::geometry::{place, PxRect, Scale};
use crate::timeline::{skip_idle, time_to_x, x_to_time, IdleStretch, MarkerKind, Timeline};
use crate::{Bench, PlayError, PlayOptions, Unlock, THUMB_CACHE};

/// A gap longer than this without activity is an idle stretch.
const MIN_IDLE: Duration = Duration::from_secs(3);
/// A change stays on screen this long before an idle stretch is skipped.
const IDLE_HOLD: Duration = Duration::from_secs(1);
/// How often a followed recording is checked for new records.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);
/// Largest number of entries the Open dialog lists.
const MAX_LISTING: usize = 500;
/// How long an answer may take before the window shows a spinner.
const SPINNER_AFTER: Duration = Duration::from_millis(250);

pub(crate) fn run_window(opts: PlayOptions) -> Result<(), PlayError> {
    let (w, h) = opts.window_size;
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("g2a play")
            .with_app_id("g2a-play")
            .with_inner_size([w as f32, h as f32])
            .with_position([0.0, 0.0]),
        renderer: eframe::Renderer::Glow,
        vsync: false,
        ..Default::default()
    };
    let bench_result = Arc::new(std::sync::Mutex::new(None::<Result<(), String>>));
    let br = Arc::clone(&bench_result);
    eframe::run_native(
        "g2a play",
        native,
        Box::new(move |cc| Ok(Box::new(PlayApp::new(cc, opts, br)))),
    )
    .map_err(|e| PlayError::Window(e.to_string()))?;
    let result = bench_result
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    match result {
        Some(Err(e)) => Err(PlayError::Bench(e)),
        _ => Ok(()),
    }
}

/// Which pane shows beside the video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pane {
    Chat,
    Events,
    Diagnostics,
}

/// What the window shows.
enum Screen {
    /// Nothing open.
    Empty,
    /// A message instead of a recording (an error, or why it can't open).
    Message(String),
    /// An encrypted recording waiting for its passphrase.
    Locked {
        path: PathBuf,
        pass: String,
        error: Option<String>,
    },
    /// A recording.
    Open(Box<Session>),
}

/// The Open dialog.
struct OpenDialog {
    path: String,
    dir: PathBuf,
    entries: Vec<(String, bool)>,
}

impl OpenDialog {
    fn new(start: &Path) -> OpenDialog {
        let dir = if start.is_dir() {
            start.to_path_buf()
        } else {
            start
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        };
        let mut d = OpenDialog {
            path: start.display().to_string(),
            dir: PathBuf::new(),
            entries: Vec::new(),
        };
        d.list(dir);
        d
    }

    /// Lists `dir`: sub-directories and `.g2a` files, at most [`MAX_LISTING`].
    fn list(&mut self, dir: PathBuf) {
        let mut entries: Vec<(String, bool)> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter_map(|e| {
                        let name = e.file_name().to_string_lossy().into_owned();
                        let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
                        (is_dir && !name.starts_with('.') || name.ends_with(".g2a"))
                            .then_some((name, is_dir))
                    })
                    .take(MAX_LISTING)
                    .collect()
            })
            .unwrap_or_default();
        entries.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        self.entries = entries;
        self.dir = dir;
    }
}

/// The export dialog.
struct ExportDialog {
    format: Format,
    out: String,
    job: Option<ExportJob>,
}

/// Measurement state.
struct BenchRun {
    kind: Bench,
    started: Option<Instant>,
    /// Seeks: index of the next seek, the position asked, latencies (ms):
    /// to the frame painted, worker decode, conversion, texture upload.
    next: u32,
    waiting: Option<Timestamp>,
    latencies: Vec<f64>,
    decodes: Vec<f64>,
    converts: Vec<f64>,
    uploads: Vec<f64>,
    /// Play: frames shown, lags (ms of media time behind the clock).
    shown: u64,
    lags: Vec<f64>,
    start_pos: Timestamp,
}

/// An open recording.
struct Session {
    path: PathBuf,
    set: SessionSet,
    header: SessionHeader,
    cipher: Option<SharedCipher>,
    timeline: Timeline,
    idle: Vec<IdleStretch>,
    duration: Timestamp,
    worker: DecodeWorker,
    thumbs: ThumbWorker,
    thumb_tex: ThumbCache<TextureHandle>,
    clock: Clock,
    skip_idle: bool,
    follow: bool,
    live_edge: bool,
    last_refresh: Instant,
    texture: Option<TextureHandle>,
    frame_size: [usize; 2],
    shown_ts: Option<Timestamp>,
    last_req: Option<Request>,
    /// When the last request was made, and whether it was answered.
    last_made: Instant,
    answered: bool,
    error: Option<String>,
    scale: Scale,
    pan: (f32, f32),
    pane: Pane,
    /// The chat message on screen when the pane was last drawn.
    chat_current: Option<usize>,
    diag_sel: Option<usize>,
    /// A frame set this update: report it once painted.
    just_shown: Option<(Timestamp, Instant)>,
    /// Where the frame was drawn last (physical pixels).
    drawn: PxRect,
    /// Where the timeline was drawn last (physical pixels).
    timeline_px: PxRect,
    /// Where the first chat row was drawn last (physical pixels).
    chat_row_px: PxRect,
    frames_shown: u64,
    /// Of the frame shown last: worker decode, conversion, request to
    /// texture upload.
    timings: (Duration, Duration, Duration),
}

impl Session {
    fn start(
        path: &Path,
        set: SessionSet,
        cipher: Option<SharedCipher>,
        opts: &PlayOptions,
        wake: &Wake,
    ) -> Result<Session, PlayError> {
        let timeline = Timeline::load(&set, cipher.as_ref());
        // The scan read every page of the recording: a fresh mapping of the
        // files drops them from this process's memory.
        let set = SessionSet::open(path).unwrap_or(set);
        let worker = DecodeWorker::start(path, cipher.clone(), opts.cursor, Arc::clone(wake))?;
        let thumbs = ThumbWorker::start(path, cipher.clone(), Arc::clone(wake))?;
        let duration = set.duration();
        let now = Instant::now();
        let first = timeline.first_frame.unwrap_or(Timestamp::ZERO);
        let start = match opts.seek {
            Some(t) => t.min(duration),
            None if opts.follow => duration,
            None => first,
        };
        let mut clock = Clock::new(start, now);
        clock.set_speed(opts.speed, now);
        if opts.autoplay {
            clock.play(now);
        }
        let idle = timeline.idle(MIN_IDLE, IDLE_HOLD);
        let mut s = Session {
            path: path.to_path_buf(),
            header: set.header().clone(),
            set,
            cipher,
            timeline,
            idle,
            duration,
            worker,
            thumbs,
            thumb_tex: ThumbCache::new(THUMB_CACHE),
            clock,
            skip_idle: opts.skip_idle,
            follow: opts.follow,
            live_edge: opts.follow && opts.seek.is_none(),
            last_refresh: now,
            texture: None,
            frame_size: [0, 0],
            shown_ts: None,
            last_req: None,
            last_made: now,
            answered: true,
            error: None,
            scale: if opts.actual_size {
                Scale::Actual
            } else {
                Scale::Fit
            },
            pan: (0.0, 0.0),
            pane: Pane::Chat,
            chat_current: None,
            diag_sel: None,
            just_shown: None,
            drawn: PxRect::default(),
            timeline_px: PxRect::default(),
            chat_row_px: PxRect::default(),
            frames_shown: 0,
            timings: Default::default(),
        };
        s.request(Request::At(start));
        Ok(s)
    }

    fn request(&mut self, req: Request) {
        self.request_with(req, false);
    }

    /// Asks for `req`; `force` re-sends a frame the window already has.
    fn request_with(&mut self, req: Request, force: bool) {
        let made = Instant::now();
        self.last_req = Some(req);
        self.last_made = made;
        self.answered = false;
        self.worker.request(Job {
            req,
            refresh: self.follow,
            made,
            force,
        });
    }

    /// Moves to `t` (a user seek): leaves the live edge unless `t` is at it.
    fn seek(&mut self, t: Timestamp) {
        let t = t.min(self.duration);
        self.clock.seek(t, Instant::now());
        self.live_edge = self.follow && t >= self.duration;
        self.request(Request::At(t));
    }

    fn step(&mut self, forward: bool) {
        self.clock.pause(Instant::now());
        self.live_edge = false;
        let d = if forward { 1 } else { -1 };
        // Steps asked before the last one was answered add up.
        let req = match self.last_req {
            Some(Request::Step { from, frames }) if !self.answered => Request::Step {
                from,
                frames: frames.saturating_add(d),
            },
            _ => Request::Step {
                from: self.shown_ts.unwrap_or(self.clock.position(Instant::now())),
                frames: d,
            },
        };
        self.request(req);
    }

    fn position(&self) -> Timestamp {
        self.clock.position(Instant::now()).min(self.duration)
    }

    /// Follows a live recording: picks up new records, keeps the live edge.
    fn follow_tick(&mut self) {
        if !self.follow || self.last_refresh.elapsed() < FOLLOW_EVERY {
            return;
        }
        self.last_refresh = Instant::now();
        if self.set.refresh().unwrap_or(false) {
            self.timeline.update(&self.set, self.cipher.as_ref());
            self.idle = self.timeline.idle(MIN_IDLE, IDLE_HOLD);
            self.duration = self.duration.max(self.set.duration());
            if self.live_edge {
                self.clock.seek(self.duration, Instant::now());
                self.request(Request::At(self.duration));
            }
        }
    }

    /// Advances playback; returns true while the picture may change.
    fn tick(&mut self) -> bool {
        self.follow_tick();
        let now = Instant::now();
        if !self.clock.playing() {
            return false;
        }
        let mut pos = self.clock.position(now);
        if self.skip_idle {
            let to = skip_idle(&self.idle, pos);
            if to != pos {
                self.clock.seek(to, now);
                pos = to;
            }
        }
        if self.follow {
            if pos >= self.duration {
                self.clock.seek(self.duration, now);
                pos = self.duration;
                self.live_edge = true;
            }
        } else if self.clock.clamp_to(self.duration, now) {
            pos = self.duration;
        }
        if self.last_req != Some(Request::At(pos)) {
            self.request(Request::At(pos));
        }
        true
    }

    /// Takes a decoded frame from the worker into the texture.
    fn receive(&mut self, ctx: &egui::Context) {
        let Some(d) = self.worker.take() else {
            return;
        };
        if d.job.made == self.last_made {
            self.answered = true;
        }
        self.duration = self.duration.max(d.duration);
        match d.image {
            Ok(img) => {
                if let Some(img) = img {
                    let opts = match self.scale {
                        Scale::Fit => TextureOptions::LINEAR,
                        Scale::Actual => TextureOptions::NEAREST,
                    };
                    self.frame_size = img.size;
                    match &mut self.texture {
                        Some(t) => t.set(img, opts),
                        None => self.texture = Some(ctx.load_texture("frame", img, opts)),
                    }
                    self.frames_shown += 1;
                    self.just_shown = Some((d.ts, d.job.made));
                    self.timings = (d.decode_time, d.convert_time, d.job.made.elapsed());
                } else if !self.clock.playing() {
                    // A seek while paused that landed on the frame already
                    // shown: report it as shown (trace, measurements).
                    self.just_shown = Some((d.ts, d.job.made));
                    self.timings = (d.decode_time, d.convert_time, d.job.made.elapsed());
                }
                self.error = None;
                self.shown_ts = Some(d.ts);
                if matches!(d.job.req, Request::Step { .. }) {
                    self.clock.seek(d.ts, Instant::now());
                }
            }
            Err(e) => self.error = Some(e),
        }
    }
}

/// Formats a Unix time in microseconds as `YYYY-MM-DD HH:MM:SS UTC`.
fn utc(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// A rectangle in points to physical pixels.
fn to_px(r: Rect, ppp: f32) -> PxRect {
    PxRect {
        x: r.min.x * ppp,
        y: r.min.y * ppp,
        w: r.width() * ppp,
        h: r.height() * ppp,
    }
}

fn marker_colour(kind: MarkerKind) -> Color32 {
    match kind {
        MarkerKind::Chat => Color32::from_rgb(80, 160, 255),
        MarkerKind::Event => Color32::from_rgb(255, 170, 40),
        MarkerKind::Resize => Color32::from_rgb(200, 90, 255),
        MarkerKind::Diagnostic => Color32::from_rgb(90, 210, 120),
    }
}

/// A hex dump of the first bytes of `data`.
fn hex_dump(data: &[u8]) -> String {
    let mut s = String::new();
    for (i, row) in data.chunks(16).take(256).enumerate() {
        s.push_str(&format!("{:08x}  ", i * 16));
        for b in row {
            s.push_str(&format!("{b:02x} "));
        }
        s.push('\n');
    }
    s
}

/// Resident memory of this process (Linux `/proc/self/status`), in KiB:
/// total, peak, anonymous, file-backed (the mapped recording).
fn rss_kib() -> [u64; 4] {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    [
        field("VmRSS:"),
        field("VmHWM:"),
        field("RssAnon:"),
        field("RssFile:"),
    ]
}

struct PlayApp {
    opts: PlayOptions,
    unlock: Option<Unlock>,
    screen: Screen,
    open_dialog: Option<OpenDialog>,
    export_dialog: Option<ExportDialog>,
    wake: Wake,
    bench: Option<BenchRun>,
    bench_result: Arc<std::sync::Mutex<Option<Result<(), String>>>>,
}

impl PlayApp {
    fn new(
        cc: &eframe::CreationContext<'_>,
        mut opts: PlayOptions,
        bench_result: Arc<std::sync::Mutex<Option<Result<(), String>>>>,
    ) -> PlayApp {
        let ctx = cc.egui_ctx.clone();
        let wake: Wake = Arc::new(move || ctx.request_repaint());
        let unlock = opts.unlock.take();
        let bench = opts.bench.map(|kind| BenchRun {
            kind,
            started: None,
            next: 0,
            waiting: None,
            latencies: Vec::new(),
            decodes: Vec::new(),
            converts: Vec::new(),
            uploads: Vec::new(),
            shown: 0,
            lags: Vec::new(),
            start_pos: Timestamp::ZERO,
        });
        let mut app = PlayApp {
            opts,
            unlock,
            screen: Screen::Empty,
            open_dialog: None,
            export_dialog: None,
            wake,
            bench,
            bench_result,
        };
        match app.opts.file.clone() {
            Some(p) => app.open(&p),
            None => {
                app.open_dialog = Some(OpenDialog::new(Path::new(".")));
            }
        }
        app
    }

    /// Opens `path`: asks for the passphrase first when it is encrypted.
    fn open(&mut self, path: &Path) {
        self.export_dialog = None;
        self.screen = match SessionSet::open(path) {
            Err(e) => Screen::Message(format!("cannot open {}: {e}", path.display())),
            Ok(set) => match crate::lock::gate(path, set.header(), self.unlock.is_some()) {
                crate::lock::Gate::Open => self.start(path, set, None),
                crate::lock::Gate::AskPassphrase => Screen::Locked {
                    path: path.to_path_buf(),
                    pass: String::new(),
                    error: None,
                },
                crate::lock::Gate::Refuse(m) => Screen::Message(m),
            },
        };
    }

    fn start(&self, path: &Path, set: SessionSet, cipher: Option<SharedCipher>) -> Screen {
        match Session::start(path, set, cipher, &self.opts, &self.wake) {
            Ok(s) => Screen::Open(Box::new(s)),
            Err(e) => Screen::Message(e.to_string()),
        }
    }

    /// Tries the passphrase typed for a locked recording.
    fn try_unlock(&mut self) {
        let Screen::Locked { path, pass, error } = &mut self.screen else {
            return;
        };
        let Some(unlock) = &self.unlock else {
            return;
        };
        let path = path.clone();
        let result = crate::lock::unlock_recording(&path, unlock, pass);
        match result {
            Ok(cipher) => match SessionSet::open(&path) {
                Ok(set) => self.screen = self.start(&path, set, Some(cipher)),
                Err(e) => {
                    self.screen = Screen::Message(format!("cannot open {}: {e}", path.display()))
                }
            },
            Err(e) => {
                if self.opts.trace {
                    eprintln!("unlock refused: {e}");
                }
                pass.clear();
                *error = Some(e);
            }
        }
    }

    fn keys(&mut self, ctx: &egui::Context) {
        if ctx.wants_keyboard_input() {
            return;
        }
        let (pressed, shift, ctrl) = ctx.input(|i| {
            let keys: Vec<Key> = i
                .events
                .iter()
                .filter_map(|e| match e {
                    egui::Event::Key {
                        key, pressed: true, ..
                    } => Some(*key),
                    _ => None,
                })
                .collect();
            (keys, i.modifiers.shift, i.modifiers.ctrl)
        });
        for key in pressed {
            match key {
                Key::O => {
                    let start = match &self.screen {
                        Screen::Open(s) => s.path.clone(),
                        _ => PathBuf::from("."),
                    };
                    self.open_dialog = Some(OpenDialog::new(&start));
                }
                Key::Q if ctrl => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
                _ => {}
            }
            let Screen::Open(s) = &mut self.screen else {
                continue;
            };
            let now = Instant::now();
            let pos = s.position();
            let jump = |d: u64, fwd: bool| {
                let us = d * 1_000_000;
                Timestamp::from_micros(if fwd {
                    pos.as_micros().saturating_add(us)
                } else {
                    pos.as_micros().saturating_sub(us)
                })
            };
            match key {
                Key::Space => {
                    if !s.clock.playing() && pos >= s.duration && !s.follow {
                        s.seek(Timestamp::ZERO);
                    }
                    s.clock.toggle(now);
                }
                Key::ArrowRight if shift => s.seek(jump(10, true)),
                Key::ArrowLeft if shift => s.seek(jump(10, false)),
                Key::ArrowRight => s.step(true),
                Key::ArrowLeft => s.step(false),
                Key::PageDown => s.seek(jump(60, true)),
                Key::PageUp => s.seek(jump(60, false)),
                Key::Home => s.seek(Timestamp::ZERO),
                Key::End => s.seek(s.duration),
                Key::Plus | Key::Equals | Key::CloseBracket => s.clock.step_speed(true, now),
                Key::Minus | Key::OpenBracket => s.clock.step_speed(false, now),
                Key::C | Key::M => {
                    let kind = (key == Key::C).then_some(MarkerKind::Chat);
                    let at = s.shown_ts.unwrap_or(pos);
                    let m = if shift {
                        s.timeline.prev_marker(at, kind)
                    } else {
                        s.timeline.next_marker(at, kind)
                    };
                    if let Some(m) = m {
                        s.seek(m.ts);
                        if m.kind == MarkerKind::Chat {
                            s.pane = Pane::Chat;
                        }
                    }
                }
                Key::F => s.set_scale(Scale::Fit),
                Key::Num1 => s.set_scale(Scale::Actual),
                Key::I => s.skip_idle = !s.skip_idle,
                Key::L => {
                    s.follow = !s.follow;
                    s.live_edge = s.follow;
                }
                Key::X if self.export_dialog.is_none() => {
                    self.export_dialog = Some(ExportDialog {
                        format: Format::Mp4,
                        out: s.path.with_extension("mp4").display().to_string(),
                        job: None,
                    });
                }
                _ => {}
            }
        }
    }
}

impl Session {
    fn set_scale(&mut self, scale: Scale) {
        if self.scale != scale {
            self.scale = scale;
            self.pan = (0.0, 0.0);
            // Upload the frame again with the filter of the new scale.
            if let Some(t) = self.shown_ts {
                self.request_with(Request::At(t), true);
                self.clock.seek(t, Instant::now());
            }
        }
    }

    fn header_ui(&self, ui: &mut egui::Ui) {
        let h = &self.header;
        let mut parts = vec![format!("Session {}", h.session_id)];
        for (label, v) in [
            ("portal", &h.portal),
            ("team", &h.team),
            ("representative", &h.representative),
            ("customer", &h.customer),
        ] {
            if !v.is_empty() {
                parts.push(format!("{label}: {v}"));
            }
        }
        if h.start_time_unix_micros != 0 {
            parts.push(format!("started {}", utc(h.start_time_unix_micros)));
        }
        parts.push(format!("screen {}", h.screen_size));
        parts.push(format!("length {}", self.duration));
        let files = self.set.files().len();
        parts.push(format!("{files} file{}", if files == 1 { "" } else { "s" }));
        if h.encryption.is_some() {
            parts.push("encrypted".into());
        }
        ui.label(RichText::new(parts.join("  ·  ")).strong());
        let mut extra: Vec<String> = vec![format!(
            "recorded by {} {} on the {:?} side",
            h.recorder_name, h.recorder_version, h.side
        )];
        extra.extend(h.metadata.iter().map(|(k, v)| format!("{k}={v}")));
        ui.label(RichText::new(extra.join("  ·  ")).small());
    }

    fn controls_ui(&mut self, ui: &mut egui::Ui) {
        let now = Instant::now();
        ui.horizontal(|ui| {
            let label = if self.clock.playing() {
                "⏸ Pause"
            } else {
                "▶ Play"
            };
            if ui.button(label).on_hover_text("space").clicked() {
                self.clock.toggle(now);
            }
            if ui.button("⏮ Frame").on_hover_text("←").clicked() {
                self.step(false);
            }
            if ui.button("Frame ⏭").on_hover_text("→").clicked() {
                self.step(true);
            }
            let mut speed = self.clock.speed();
            egui::ComboBox::from_id_salt("speed")
                .selected_text(format!("{speed}×"))
                .width(70.0)
                .show_ui(ui, |ui| {
                    for s in crate::SPEEDS {
                        ui.selectable_value(&mut speed, s, format!("{s}×"));
                    }
                });
            if speed != self.clock.speed() {
                self.clock.set_speed(speed, now);
            }
            ui.checkbox(&mut self.skip_idle, "Skip idle")
                .on_hover_text("i: jump over stretches where nothing happens");
            if ui.checkbox(&mut self.follow, "Follow live").changed() {
                self.live_edge = self.follow;
            }
            let mut scale = self.scale;
            ui.selectable_value(&mut scale, Scale::Fit, "Fit")
                .on_hover_text("f");
            ui.selectable_value(&mut scale, Scale::Actual, "1:1")
                .on_hover_text("1");
            self.set_scale(scale);
            let shown = self.shown_ts.map_or_else(|| "--".into(), |t| t.to_string());
            let live = if self.follow && self.live_edge {
                "  LIVE"
            } else {
                ""
            };
            ui.label(RichText::new(format!("{shown} / {}{live}", self.duration)).monospace());
            if !self.answered && !self.clock.playing() {
                // Only a slow answer gets the (animated, so repainting)
                // spinner: painting meanwhile takes CPU from the decoder.
                let waited = self.last_made.elapsed();
                if waited >= SPINNER_AFTER {
                    ui.spinner().on_hover_text("decoding");
                } else {
                    ui.ctx().request_repaint_after(SPINNER_AFTER - waited);
                }
            }
            if self.timeline.sealed_unread > 0 {
                ui.label(format!(
                    "{} sealed records not readable",
                    self.timeline.sealed_unread
                ));
            }
        });
    }

    fn timeline_ui(&mut self, ui: &mut egui::Ui, ctx: &egui::Context) {
        let width = ui.available_width();
        let (rect, resp) = ui.allocate_exact_size(Vec2::new(width, 34.0), Sense::click_and_drag());
        self.timeline_px = to_px(rect, ctx.pixels_per_point());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 3.0, Color32::from_gray(45));
        let d = self.duration;
        let x_of = |t: Timestamp| rect.left() + time_to_x(t, d, rect.width());
        for s in &self.idle {
            let r = Rect::from_x_y_ranges(x_of(s.start)..=x_of(s.end), rect.y_range());
            painter.rect_filled(
                r,
                0.0,
                Color32::from_gray(if self.skip_idle { 25 } else { 35 }),
            );
        }
        for m in self.timeline.markers() {
            let x = x_of(m.ts);
            let (top, bottom) = match m.kind {
                MarkerKind::Chat => (rect.top(), rect.center().y),
                MarkerKind::Event => (rect.center().y, rect.bottom()),
                MarkerKind::Resize | MarkerKind::Diagnostic => {
                    (rect.top() + 8.0, rect.bottom() - 8.0)
                }
            };
            painter.line_segment(
                [Pos2::new(x, top), Pos2::new(x, bottom)],
                Stroke::new(2.0, marker_colour(m.kind)),
            );
        }
        let play_x = x_of(self.position());
        painter.line_segment(
            [
                Pos2::new(play_x, rect.top()),
                Pos2::new(play_x, rect.bottom()),
            ],
            Stroke::new(2.0, Color32::from_rgb(240, 60, 60)),
        );
        if let Some(p) = resp.interact_pointer_pos() {
            if resp.dragged() || resp.clicked() || resp.is_pointer_button_down_on() {
                let t = x_to_time(p.x - rect.left(), d, rect.width());
                if self.last_req != Some(Request::At(t)) {
                    self.seek(t);
                }
            }
        }
        if let Some(p) = resp.hover_pos() {
            let t = x_to_time(p.x - rect.left(), d, rect.width());
            painter.line_segment(
                [Pos2::new(p.x, rect.top()), Pos2::new(p.x, rect.bottom())],
                Stroke::new(1.0, Color32::from_gray(200)),
            );
            // Thumbnails by bucket: 1/200 of the recording, at least 1 s.
            let bucket = (d.as_micros() / 200).max(1_000_000);
            // Keyed by the bucket's middle, in µs: still right when a live
            // recording grows and the buckets widen.
            let key = (t.as_micros() / bucket * bucket + bucket / 2).min(d.as_micros());
            let thumb = self.thumb_tex.get(key).cloned();
            if thumb.is_none() {
                self.thumbs.request(key, Timestamp::from_micros(key));
            }
            let tol = Duration::from_micros(
                (d.as_micros() as f64 * 4.0 / f64::from(rect.width().max(1.0))) as u64,
            );
            let marker = self
                .timeline
                .marker_near(t, tol)
                .map(|m| self.marker_text(m.kind, m.index));
            resp.on_hover_ui_at_pointer(|ui| {
                ui.label(RichText::new(t.to_string()).monospace());
                if let Some(m) = marker {
                    ui.label(m);
                }
                match thumb {
                    Some(tex) => {
                        ui.image((tex.id(), tex.size_vec2() / ctx.pixels_per_point()));
                    }
                    None => {
                        ui.label("…");
                    }
                }
            });
        }
        while let Some((key, img)) = self.thumbs.take() {
            let tex = ctx.load_texture(format!("thumb{key}"), img, TextureOptions::LINEAR);
            self.thumb_tex.insert(key, tex);
        }
    }

    fn marker_text(&self, kind: MarkerKind, i: usize) -> String {
        let tl = &self.timeline;
        match kind {
            MarkerKind::Chat => tl
                .chats
                .get(i)
                .map(|c| format!("💬 {}: {}", c.sender, c.text)),
            MarkerKind::Event => tl
                .events
                .get(i)
                .map(|e| format!("⚑ {} {}", e.kind, e.detail)),
            MarkerKind::Resize => tl.resizes.get(i).map(|r| format!("⛶ screen now {}", r.1)),
            MarkerKind::Diagnostic => tl.diags.get(i).map(|d| format!("🗎 {}", d.name)),
        }
        .unwrap_or_default()
    }

    fn panes_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.selectable_value(
                &mut self.pane,
                Pane::Chat,
                format!("Chat ({})", self.timeline.chats.len()),
            );
            ui.selectable_value(
                &mut self.pane,
                Pane::Events,
                format!("Events ({})", self.timeline.events.len()),
            );
            ui.selectable_value(
                &mut self.pane,
                Pane::Diagnostics,
                format!("Diagnostics ({})", self.timeline.diags.len()),
            );
        });
        ui.separator();
        let now = self.shown_ts.unwrap_or_default();
        let mut seek = None;
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
        let row_h = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
        match self.pane {
            Pane::Chat => {
                let chats = &self.timeline.chats;
                let current = chats.partition_point(|c| c.ts <= now).checked_sub(1);
                let mut area = egui::ScrollArea::vertical()
                    .auto_shrink(false)
                    .id_salt("chat");
                // Keep the message on screen in view as playback moves on.
                if current != self.chat_current {
                    self.chat_current = current;
                    if let Some(i) = current {
                        let spacing = ui.spacing().item_spacing.y;
                        let h = ui.available_height();
                        let y = (i as f32 * (row_h + spacing) - h / 3.0).max(0.0);
                        area = area.vertical_scroll_offset(y);
                    }
                }
                area.show_rows(ui, row_h, chats.len(), |ui, range| {
                    for i in range {
                        let c = &chats[i];
                        let text = format!("{}  {}: {}", c.ts, c.sender, c.text);
                        let r =
                            ui.selectable_label(current == Some(i), text)
                                .on_hover_text(format!(
                                    "{} ({}) at {}:\n{}",
                                    c.sender, c.role, c.ts, c.text
                                ));
                        if i == 0 {
                            self.chat_row_px = to_px(r.rect, ui.ctx().pixels_per_point());
                        }
                        if r.clicked() {
                            seek = Some(c.ts);
                        }
                    }
                });
            }
            Pane::Events => {
                let events = &self.timeline.events;
                egui::ScrollArea::vertical()
                    .auto_shrink(false)
                    .id_salt("events")
                    .show_rows(ui, row_h, events.len(), |ui, range| {
                        for i in range {
                            let e = &events[i];
                            if ui
                                .selectable_label(
                                    false,
                                    format!("{}  {}  {}", e.ts, e.kind, e.detail),
                                )
                                .clicked()
                            {
                                seek = Some(e.ts);
                            }
                        }
                    });
            }
            Pane::Diagnostics => {
                let diags = &self.timeline.diags;
                egui::ScrollArea::vertical()
                    .auto_shrink(false)
                    .id_salt("diag-list")
                    .max_height(160.0)
                    .show_rows(ui, row_h, diags.len(), |ui, range| {
                        for i in range {
                            let d = &diags[i];
                            let r = ui.selectable_label(
                                self.diag_sel == Some(i),
                                format!("{}  {}  ({} bytes)", d.ts, d.name, d.len),
                            );
                            if r.clicked() {
                                self.diag_sel = Some(i);
                            }
                            if r.double_clicked() {
                                seek = Some(d.ts);
                            }
                        }
                    });
                ui.separator();
                if let Some(d) = self.diag_sel.and_then(|i| diags.get(i)) {
                    ui.label(RichText::new(&d.name).strong());
                    let mut body = match d.media {
                        MediaType::Text | MediaType::Json => {
                            String::from_utf8_lossy(&d.preview).into_owned()
                        }
                        _ => hex_dump(&d.preview),
                    };
                    if d.preview.len() < d.len {
                        body.push_str(&format!(
                            "\n… ({} of {} bytes shown)",
                            d.preview.len(),
                            d.len
                        ));
                    }
                    ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Wrap);
                    egui::ScrollArea::both()
                        .auto_shrink(false)
                        .id_salt("diag-view")
                        .show(ui, |ui| {
                            ui.add(
                                egui::Label::new(RichText::new(body).monospace()).selectable(true),
                            );
                        });
                } else {
                    ui.label("Select a document to view it (double-click seeks to it).");
                }
            }
        }
        if let Some(t) = seek {
            self.seek(t);
        }
    }

    fn video_ui(&mut self, ui: &mut egui::Ui, ctx: &egui::Context) {
        let rect = ui.max_rect();
        let resp = ui.interact(rect, ui.id().with("video"), Sense::drag());
        let ppp = ctx.pixels_per_point();
        if resp.dragged() && self.scale == Scale::Actual {
            let d = resp.drag_delta() * ppp;
            self.pan = (self.pan.0 + d.x, self.pan.1 + d.y);
        }
        if let Some(e) = &self.error {
            ui.colored_label(Color32::from_rgb(255, 120, 120), e);
        }
        let Some(tex) = &self.texture else {
            ui.centered_and_justified(|ui| ui.label("decoding…"));
            return;
        };
        let vp = to_px(rect, ppp);
        let [w, h] = self.frame_size;
        let p = place(w as u32, h as u32, vp, self.scale, self.pan);
        self.pan = p.pan;
        self.drawn = p.rect;
        let r = Rect::from_min_size(
            Pos2::new(p.rect.x / ppp, p.rect.y / ppp),
            Vec2::new(p.rect.w / ppp, p.rect.h / ppp),
        );
        ui.painter_at(rect).image(
            tex.id(),
            r,
            Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
            Color32::WHITE,
        );
    }
}

impl PlayApp {
    fn dialogs(&mut self, ctx: &egui::Context) {
        let mut open_path = None;
        if let Some(d) = &mut self.open_dialog {
            let mut keep = true;
            egui::Window::new("Open recording")
                .collapsible(false)
                .default_width(520.0)
                .show(ctx, |ui| {
                    ui.horizontal(|ui| {
                        ui.label("File:");
                        let r =
                            ui.add(egui::TextEdit::singleline(&mut d.path).desired_width(360.0));
                        if r.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)) {
                            open_path = Some(PathBuf::from(&d.path));
                        }
                        if ui.button("Open").clicked() {
                            open_path = Some(PathBuf::from(&d.path));
                        }
                        if ui.button("Cancel").clicked() {
                            keep = false;
                        }
                    });
                    ui.label(RichText::new(d.dir.display().to_string()).small());
                    let mut go = None;
                    egui::ScrollArea::vertical()
                        .max_height(300.0)
                        .show(ui, |ui| {
                            if ui.selectable_label(false, "📁 ..").clicked() {
                                go = Some(d.dir.join(".."));
                            }
                            for (name, is_dir) in &d.entries {
                                let label = if *is_dir {
                                    format!("📁 {name}")
                                } else {
                                    format!("🎞 {name}")
                                };
                                let r = ui.selectable_label(false, label);
                                if r.clicked() {
                                    let p = d.dir.join(name);
                                    if *is_dir {
                                        go = Some(p);
                                    } else {
                                        d.path = p.display().to_string();
                                    }
                                }
                                if r.double_clicked() && !is_dir {
                                    open_path = Some(d.dir.join(name));
                                }
                            }
                        });
                    if let Some(dir) = go {
                        let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
                        d.path = dir.display().to_string();
                        d.list(dir);
                    }
                });
            if !keep {
                self.open_dialog = None;
            }
        }
        if let Some(p) = open_path {
            self.open_dialog = None;
            self.open(&p);
        }

        let mut close_export = false;
        if let (Some(d), Screen::Open(s)) = (&mut self.export_dialog, &self.screen) {
            egui::Window::new("Export")
                .collapsible(false)
                .default_width(480.0)
                .show(ctx, |ui| match &d.job {
                    None => {
                        ui.horizontal(|ui| {
                            ui.label("Format:");
                            let before = d.format;
                            ui.radio_value(&mut d.format, Format::Mp4, "MP4 (H.264)");
                            ui.radio_value(&mut d.format, Format::Wmv, "WMV");
                            if before != d.format {
                                d.out = Path::new(&d.out)
                                    .with_extension(d.format.extension())
                                    .display()
                                    .to_string();
                            }
                        });
                        ui.horizontal(|ui| {
                            ui.label("To:");
                            ui.add(egui::TextEdit::singleline(&mut d.out).desired_width(380.0));
                        });
                        ui.horizontal(|ui| {
                            if ui.button("Export").clicked() {
                                d.job = Some(ExportJob::start(
                                    &s.path,
                                    s.cipher.as_ref(),
                                    PathBuf::from(&d.out),
                                    d.format,
                                    Arc::clone(&self.wake),
                                ));
                            }
                            if ui.button("Close").clicked() {
                                close_export = true;
                            }
                        });
                    }
                    Some(job) => {
                        let st = job.state();
                        ui.label(format!("Exporting to {}", job.out.display()));
                        ui.add(egui::ProgressBar::new(st.fraction()).show_percentage());
                        match &st {
                            ExportState::Running { position, total } => {
                                ui.label(format!("{position} of {total}"));
                                if ui.button("Cancel").clicked() {
                                    job.cancel();
                                }
                            }
                            ExportState::Done(msg) => {
                                ui.label(msg);
                            }
                            ExportState::Cancelled => {
                                ui.label("Cancelled: the partial file was removed.");
                            }
                            ExportState::Failed(e) => {
                                ui.colored_label(Color32::from_rgb(255, 120, 120), e);
                            }
                        }
                        if st.finished() && ui.button("Close").clicked() {
                            close_export = true;
                        }
                    }
                });
        }
        if close_export {
            self.export_dialog = None;
        }
    }

    /// Drives a measurement; returns true when it has finished.
    fn bench_tick(&mut self, shown: Option<(Timestamp, Instant)>, ctx: &egui::Context) {
        let (Some(b), Screen::Open(s)) = (&mut self.bench, &mut self.screen) else {
            if let (Some(_), Screen::Message(m)) = (&self.bench, &self.screen) {
                *self.bench_result.lock().unwrap_or_else(|e| e.into_inner()) = Some(Err(m.clone()));
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            return;
        };
        let now = Instant::now();
        // Wait for the first frame.
        if b.started.is_none() {
            if s.shown_ts.is_none() {
                return;
            }
            b.started = Some(now);
            b.start_pos = s.position();
            if let Bench::Play { speed, .. } = b.kind {
                s.clock.set_speed(speed, now);
                s.clock.play(now);
            }
        }
        let mut done = false;
        match b.kind {
            Bench::Seeks { count } => {
                if let (Some(want), Some((_, made))) = (b.waiting, shown) {
                    if s.last_req == Some(Request::At(want)) {
                        b.latencies
                            .push(now.duration_since(made).as_secs_f64() * 1e3);
                        b.decodes.push(s.timings.0.as_secs_f64() * 1e3);
                        b.converts.push(s.timings.1.as_secs_f64() * 1e3);
                        b.uploads.push(s.timings.2.as_secs_f64() * 1e3);
                        b.waiting = None;
                    }
                }
                if b.waiting.is_none() {
                    if b.next >= count {
                        done = true;
                    } else {
                        // Spread over the recording in a scattered order.
                        let k = (u64::from(b.next) * 7919) % u64::from(count);
                        let t = Timestamp::from_micros(
                            (s.duration.as_micros() as f64 * (k as f64 + 0.5) / f64::from(count))
                                as u64,
                        );
                        b.next += 1;
                        b.waiting = Some(t);
                        s.seek(t);
                    }
                }
            }
            Bench::Play { seconds, .. } => {
                if let Some((ts, _)) = shown {
                    b.shown += 1;
                    let lag = s
                        .clock
                        .position(now)
                        .as_micros()
                        .saturating_sub(ts.as_micros());
                    b.lags.push(lag as f64 / 1e3);
                }
                let elapsed = b
                    .started
                    .map_or(0.0, |t| now.duration_since(t).as_secs_f32());
                done = elapsed >= seconds || !s.clock.playing();
            }
        }
        // Playing animates by itself; a seek is woken by the decode worker,
        // so the window stays idle while the frame decodes, as after a
        // user's click (painting meanwhile would take CPU from the decoder).
        if !matches!(b.kind, Bench::Seeks { .. }) || done {
            ctx.request_repaint();
        }
        if !done {
            return;
        }
        let [rss, peak, anon, file] = rss_kib();
        let stats = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            let at = |q: f64| {
                v.get(((v.len() as f64 - 1.0) * q).round() as usize)
                    .copied()
                    .unwrap_or(0.0)
            };
            let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
            format!(
                "n={} mean={mean:.1} median={:.1} p95={:.1} max={:.1}",
                v.len(),
                at(0.5),
                at(0.95),
                at(1.0)
            )
        };
        match b.kind {
            Bench::Seeks { .. } => {
                println!(
                    "bench seeks: latency ms (request -> frame painted): {}",
                    stats(&mut b.latencies)
                );
                println!("  worker seek+decode ms: {}", stats(&mut b.decodes));
                println!("  BGRA->RGBA ms: {}", stats(&mut b.converts));
                println!(
                    "  request -> texture handed to egui ms: {}",
                    stats(&mut b.uploads)
                );
            }
            Bench::Play { speed, .. } => {
                let wall = b
                    .started
                    .map_or(0.0, |t| now.duration_since(t).as_secs_f64());
                let media = s.position().saturating_since(b.start_pos).as_secs_f64();
                let rate = s.timeline.video_frames as f64 / s.duration.as_secs_f64().max(1e-9);
                println!(
                    "bench play: speed {speed}x for {wall:.1} s wall, {media:.1} s of media; \
                     frames shown {} ({:.1}/s); recording has {rate:.1} frames/s so {:.1}/s needed; \
                     decode requests skipped (latest wins) {}; lag of shown frame behind clock ms: {}",
                    b.shown,
                    b.shown as f64 / wall.max(1e-9),
                    rate * f64::from(speed),
                    s.worker.skipped(),
                    stats(&mut b.lags)
                );
            }
        }
        println!(
            "bench rss: {} MiB now ({} MiB anonymous, {} MiB mapped file), {} MiB peak",
            rss / 1024,
            anon / 1024,
            file / 1024,
            peak / 1024
        );
        *self.bench_result.lock().unwrap_or_else(|e| e.into_inner()) = Some(Ok(()));
        self.bench = None;
        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
    }
}

impl eframe::App for PlayApp {
    fn update(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        // Report the frame painted by the previous update.
        let mut painted = None;
        if let Screen::Open(s) = &mut self.screen {
            painted = s.just_shown.take();
            if let (Some((ts, made)), true) = (painted, self.opts.trace) {
                let (r, t, c) = (s.drawn, s.timeline_px, s.chat_row_px);
                eprintln!(
                    "shown ts={} latency_ms={:.1} decode_ms={:.1} convert_ms={:.1} upload_at_ms={:.1} rect={},{},{},{} timeline={},{},{},{} chat0={},{},{},{} scale={:?} pane={:?}",
                    ts.as_micros(),
                    made.elapsed().as_secs_f64() * 1e3,
                    s.timings.0.as_secs_f64() * 1e3,
                    s.timings.1.as_secs_f64() * 1e3,
                    s.timings.2.as_secs_f64() * 1e3,
                    r.x,
                    r.y,
                    r.w,
                    r.h,
                    t.x,
                    t.y,
                    t.w,
                    t.h,
                    c.x,
                    c.y,
                    c.w,
                    c.h,
                    s.scale,
                    s.pane
                );
            }
        }
        self.bench_tick(painted, ctx);
        self.keys(ctx);
        let mut animate = false;
        let mut follow = false;
        if let Screen::Open(s) = &mut self.screen {
            animate |= s.tick();
            s.receive(ctx);
            follow = s.follow;
            if self.bench.is_some() && s.just_shown.is_some() {
                // The next update reports this frame as painted.
                ctx.request_repaint();
            }
        }

        egui::TopBottomPanel::top("header").show(ctx, |ui| {
            ui.horizontal(|ui| {
                if ui.button("📂 Open…").on_hover_text("o").clicked() {
                    self.open_dialog = Some(OpenDialog::new(match &self.screen {
                        Screen::Open(s) => &s.path,
                        _ => Path::new("."),
                    }));
                }
                if let Screen::Open(s) = &self.screen {
                    if ui.button("⬇ Export…").on_hover_text("x").clicked()
                        && self.export_dialog.is_none()
                    {
                        self.export_dialog = Some(ExportDialog {
                            format: Format::Mp4,
                            out: s.path.with_extension("mp4").display().to_string(),
                            job: None,
                        });
                    }
                    ui.label(s.path.display().to_string());
                }
            });
            if let Screen::Open(s) = &self.screen {
                s.header_ui(ui);
            }
        });

        match &mut self.screen {
            Screen::Open(s) => {
                egui::TopBottomPanel::bottom("controls").show(ctx, |ui| {
                    ui.add_space(4.0);
                    s.timeline_ui(ui, ctx);
                    s.controls_ui(ui);
                });
                egui::SidePanel::right("panes")
                    .default_width(380.0)
                    .min_width(220.0)
                    .show(ctx, |ui| s.panes_ui(ui));
                egui::CentralPanel::default()
                    .frame(egui::Frame::NONE.fill(Color32::from_gray(20)))
                    .show(ctx, |ui| s.video_ui(ui, ctx));
            }
            Screen::Locked { path, pass, error } => {
                let mut submit = false;
                egui::CentralPanel::default().show(ctx, |ui| {
                    ui.heading(format!("{} is encrypted", path.display()));
                    ui.label("Enter the passphrase to open it:");
                    let r = ui.add(
                        egui::TextEdit::singleline(pass)
                            .password(true)
                            .desired_width(320.0),
                    );
                    // Enter submits (a single-line field gives up the focus
                    // on Enter; the field keeps it otherwise).
                    if (r.lost_focus() || r.has_focus()) && ui.input(|i| i.key_pressed(Key::Enter))
                    {
                        submit = true;
                    }
                    r.request_focus();
                    if ui.button("Unlock").clicked() {
                        submit = true;
                    }
                    if let Some(e) = error {
                        ui.colored_label(Color32::from_rgb(255, 120, 120), e.as_str());
                    }
                });
                if submit {
                    self.try_unlock();
                }
            }
            Screen::Message(m) => {
                let m = m.clone();
                egui::CentralPanel::default().show(ctx, |ui| {
                    ui.centered_and_justified(|ui| ui.label(RichText::new(m).size(16.0)));
                });
            }
            Screen::Empty => {
                egui::CentralPanel::default().show(ctx, |ui| {
                    ui.centered_and_justified(|ui| ui.label("Open a recording (o)."));
                });
            }
        }
        self.dialogs(ctx);
        if animate {
            ctx.request_repaint_after(Duration::from_millis(8));
        } else if follow || self.bench.as_ref().is_some_and(|b| b.waiting.is_none()) {
            // (A seek being measured is woken by the decode worker.)
            ctx.request_repaint_after(Duration::from_millis(100));
        }
        if let Some(d) = &self.export_dialog {
            if d.job.as_ref().is_some_and(|j| !j.state().finished()) {
                ctx.request_repaint_after(Duration::from_millis(100));
            }
        }
    }
}
