//! Decoding off the UI thread.
//!
//! A [`DecodeWorker`] is a thread that owns its own [`Player`] (and cursor
//! track). The window puts [`Job`]s into a [`LatestSlot`]: while the worker
//! decodes, newer requests replace older ones, so a scrub never queues up
//! work and the latest requested position wins. Results go back through a
//! second one-place slot, so at most one decoded frame waits for the window,
//! and the window wakes through a callback.
//!
//! The [`ThumbWorker`] does the same for timeline thumbnails with a second
//! [`Player`], so hovering never delays the main picture; thumbnails are
//! small ([`THUMB_WIDTH`] wide) and kept in a bounded [`ThumbCache`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use eframe::egui::{Color32, ColorImage};
use g2a::{CursorTrack, Player};
use g2a_core::{Size, Timestamp};
use g2a_format::{SharedCipher, Track, TrailerState};

use crate::slot::{LatestSlot, Taken};
use crate::PlayError;

/// What to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Request {
    /// The frame on screen at this time.
    At(Timestamp),
    /// `frames` frames after (positive) or before (negative) the one
    /// recorded at `from`.
    Step {
        /// Where the steps start.
        from: Timestamp,
        /// How many frames, and which way.
        frames: i32,
    },
}

/// A request with its bookkeeping.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Job {
    /// What to show.
    pub(crate) req: Request,
    /// Read what a live recording added first.
    pub(crate) refresh: bool,
    /// When the window asked (for latency figures).
    pub(crate) made: Instant,
    /// Send the picture even if it is the frame sent last (the window
    /// uploads it again, for example with another filter).
    pub(crate) force: bool,
}

/// A decoded frame ready for the screen.
pub(crate) struct Decoded {
    /// The job it answers.
    pub(crate) job: Job,
    /// The frame's recording time.
    pub(crate) ts: Timestamp,
    /// The pixels (RGBA, cursor drawn), or the error that prevented them.
    /// `Ok(None)`: the same frame as the one sent last (nothing to upload).
    pub(crate) image: Result<Option<ColorImage>, String>,
    /// The recording's duration as the worker's player sees it.
    pub(crate) duration: Timestamp,
    /// Time the worker spent: seeking and decoding, then converting.
    pub(crate) decode_time: Duration,
    /// Time spent converting to RGBA (and drawing the cursor).
    pub(crate) convert_time: Duration,
}

/// Converts packed BGRA to an egui image (alpha forced opaque).
pub(crate) fn bgra_to_image(size: Size, bgra: &[u8]) -> ColorImage {
    let pixels = bgra
        .chunks_exact(4)
        .map(|p| Color32::from_rgb(p[2], p[1], p[0]))
        .collect();
    ColorImage::new([size.width as usize, size.height as usize], pixels)
}

/// Box-filters packed BGRA down to `width` pixels wide (never up).
pub(crate) fn thumbnail(size: Size, bgra: &[u8], width: u32) -> ColorImage {
    let (sw, sh) = (size.width as usize, size.height as usize);
    if sw == 0 || sh == 0 || bgra.len() < sw * sh * 4 {
        return ColorImage::new([0, 0], Vec::new());
    }
    let tw = (width as usize).clamp(1, sw);
    let th = (sh * tw / sw).max(1);
    let mut pixels = Vec::new();
    pixels.resize(tw * th, Color32::BLACK);
    for ty in 0..th {
        let (y0, y1) = (ty * sh / th, ((ty + 1) * sh / th).max(ty * sh / th + 1));
        for tx in 0..tw {
            let (x0, x1) = (tx * sw / tw, ((tx + 1) * sw / tw).max(tx * sw / tw + 1));
            let mut acc = [0u32; 3];
            for y in y0..y1 {
                for p in bgra[(y * sw + x0) * 4..(y * sw + x1) * 4].chunks_exact(4) {
                    acc[0] += u32::from(p[2]);
                    acc[1] += u32::from(p[1]);
                    acc[2] += u32::from(p[0]);
                }
            }
            let n = ((y1 - y0) * (x1 - x0)) as u32;
            pixels[ty * tw + tx] =
                Color32::from_rgb((acc[0] / n) as u8, (acc[1] / n) as u8, (acc[2] / n) as u8);
        }
    }
    ColorImage::new([tw, th], pixels)
}

/// Opens a player for a worker.
pub(crate) fn open_player(path: &Path, cipher: Option<&SharedCipher>) -> Result<Player, PlayError> {
    let mut p = Player::open(path).map_err(|e| PlayError::Open {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    p.set_cipher(cipher.cloned());
    Ok(p)
}

/// The wake-up callback: asks the window to repaint.
pub(crate) type Wake = Arc<dyn Fn() + Send + Sync>;

/// The main decode thread.
pub(crate) struct DecodeWorker {
    jobs: Arc<LatestSlot<Job>>,
    out: Arc<LatestSlot<Decoded>>,
    thread: Option<JoinHandle<()>>,
}

impl DecodeWorker {
    /// Starts a worker decoding `path`; `show_cursor` draws the cursor track.
    pub(crate) fn start(
        path: &Path,
        cipher: Option<SharedCipher>,
        show_cursor: bool,
        wake: Wake,
    ) -> Result<DecodeWorker, PlayError> {
        let player = open_player(path, cipher.as_ref())?;
        let jobs = Arc::new(LatestSlot::default());
        let out = Arc::new(LatestSlot::default());
        let (j, o) = (Arc::clone(&jobs), Arc::clone(&out));
        let thread = std::thread::Builder::new()
            .name("g2a-play-decode".into())
            .spawn(move || decode_loop(player, cipher, show_cursor, &j, &o, &wake))
            .map_err(|e| PlayError::Thread(e.to_string()))?;
        Ok(DecodeWorker {
            jobs,
            out,
            thread: Some(thread),
        })
    }

    /// Asks for a frame (replacing any request not yet started).
    pub(crate) fn request(&self, job: Job) {
        self.jobs.put(job);
    }

    /// The newest decoded frame, if one arrived.
    pub(crate) fn take(&self) -> Option<Decoded> {
        self.out.try_take()
    }

    /// Requests that were replaced before the worker got to them.
    pub(crate) fn skipped(&self) -> u64 {
        self.jobs.replaced()
    }
}

impl Drop for DecodeWorker {
    fn drop(&mut self) {
        self.jobs.close();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Media time a player decodes forward before it is remapped.
const REMAP_AFTER: Duration = Duration::from_secs(60);

/// A seek this far ahead of the current frame (or any seek back) counts
/// as a seek: each maps and reads about one keyframe interval.
const FAR_SEEK: Duration = Duration::from_secs(30);

/// Far seeks after which the player is remapped.
const REMAP_SEEKS: u32 = 16;

fn decode_loop(
    mut player: Player,
    cipher: Option<SharedCipher>,
    show_cursor: bool,
    jobs: &LatestSlot<Job>,
    out: &LatestSlot<Decoded>,
    wake: &Wake,
) {
    let load_cursor = |p: &Player| {
        // Loading scans every record: skip it when the trailers say there
        // is no cursor track.
        let has_cursor = p.set().files().iter().any(|f| {
            f.trailer() != &TrailerState::Valid || f.track_stats(Track::Cursor).records > 0
        });
        if show_cursor && has_cursor {
            CursorTrack::load_with(p.set(), cipher.as_ref()).unwrap_or_default()
        } else {
            CursorTrack::default()
        }
    };
    let mut cursor = load_cursor(&player);
    let mut cursor_loaded = Instant::now();
    // The cursor scan read every page: start with a fresh mapping.
    let _ = player.remap();
    // The pages the player has read stay resident until its mapping goes,
    // so it is remapped after many seeks or a long stretch played forward
    // (a remap keeps the decoded frame: it costs no decoding).
    let mut forward = Duration::ZERO;
    let mut last_sent: Option<Timestamp> = None;
    let mut stale = false;
    let mut far_seeks = 0u32;
    loop {
        let job = match jobs.take(Duration::from_secs(1)) {
            Taken::Value(j) => j,
            Taken::Empty => continue,
            Taken::Closed => return,
        };
        let started = Instant::now();
        if job.refresh && player.refresh().unwrap_or(false) && show_cursor {
            // Reloading scans the whole recording: at most every 2 s.
            if cursor_loaded.elapsed() > Duration::from_secs(2) {
                cursor = load_cursor(&player);
                cursor_loaded = Instant::now();
                stale = true;
            }
        }
        let target = match job.req {
            Request::At(t) => t,
            Request::Step { from, .. } => from,
        };
        let before = player.position();
        if let Some(h) = before {
            if target < h || target.saturating_since(h) > FAR_SEEK {
                far_seeks += 1;
            }
        }
        let result = match job.req {
            Request::At(t) => player.frame_at(t).map(|_| ()),
            Request::Step { from, frames } => step(&mut player, from, frames),
        };
        let duration = player.duration();
        let shown = result.and_then(|()| player.frame_at(player.position().unwrap_or_default()));
        let decoded_at = Instant::now();
        let (ts, image) = match shown {
            Ok(f) if last_sent == Some(f.ts) && !job.force => (f.ts, Ok(None)),
            Ok(f) => {
                last_sent = Some(f.ts);
                let image = match cursor.at(f.ts) {
                    Some(c) if c.image.is_some() => {
                        let mut px = f.data.to_vec();
                        if let Some(img) = &c.image {
                            img.draw_onto(&mut px, f.size, c.x, c.y);
                        }
                        bgra_to_image(f.size, &px)
                    }
                    _ => bgra_to_image(f.size, f.data),
                };
                (f.ts, Ok(Some(image)))
            }
            Err(e) => (player.position().unwrap_or_default(), Err(e.to_string())),
        };
        out.put(Decoded {
            job,
            ts,
            image,
            duration,
            decode_time: decoded_at.duration_since(started),
            convert_time: decoded_at.elapsed(),
        });
        wake();
        // Remap when due: after many far seeks (each read about one
        // keyframe interval), a long stretch played forward, or a cursor
        // reload (which read every page).
        if let (Some(b), Some(h)) = (before, player.position()) {
            if h >= b && h.saturating_since(b) <= FAR_SEEK {
                forward += h.saturating_since(b);
            }
        }
        if (stale || forward > REMAP_AFTER || far_seeks >= REMAP_SEEKS) && player.remap().is_ok() {
            forward = Duration::ZERO;
            far_seeks = 0;
            stale = false;
        }
    }
}

/// Moves `frames` frames from the frame at `from` (stopping at either end).
fn step(player: &mut Player, from: Timestamp, frames: i32) -> Result<(), g2a::Error> {
    let mut at = player.frame_at(from)?.ts;
    for _ in 0..frames.unsigned_abs() {
        if frames > 0 {
            match player.next_frame()? {
                Some(f) => at = f.ts,
                None => {
                    player.frame_at(at)?;
                    break;
                }
            }
        } else {
            let before = Timestamp::from_micros(at.as_micros().saturating_sub(1));
            let ts = player.frame_at(before)?.ts;
            if ts == at {
                break;
            }
            at = ts;
        }
    }
    Ok(())
}

/// Thumbnail width in pixels.
pub(crate) const THUMB_WIDTH: u32 = 240;

/// A bounded least-recently-used cache (thumbnails by time bucket).
#[derive(Debug)]
pub(crate) struct ThumbCache<T> {
    cap: usize,
    tick: u64,
    items: HashMap<u64, (u64, T)>,
}

impl<T> ThumbCache<T> {
    /// A cache of at most `cap` items (at least one).
    pub(crate) fn new(cap: usize) -> Self {
        ThumbCache {
            cap: cap.max(1),
            tick: 0,
            items: HashMap::new(),
        }
    }

    /// The item of `key`, marking it used.
    pub(crate) fn get(&mut self, key: u64) -> Option<&T> {
        self.tick += 1;
        let tick = self.tick;
        self.items.get_mut(&key).map(|e| {
            e.0 = tick;
            &e.1
        })
    }

    /// Inserts, evicting the least recently used item when full.
    pub(crate) fn insert(&mut self, key: u64, value: T) {
        self.tick += 1;
        if !self.items.contains_key(&key) && self.items.len() >= self.cap {
            if let Some(old) = self.items.iter().min_by_key(|(_, e)| e.0).map(|(k, _)| *k) {
                self.items.remove(&old);
            }
        }
        self.items.insert(key, (self.tick, value));
    }

    /// How many items are held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }
}

/// The thumbnail thread: bucket → small image.
pub(crate) struct ThumbWorker {
    jobs: Arc<LatestSlot<(u64, Timestamp)>>,
    out: Arc<LatestSlot<(u64, ColorImage)>>,
    thread: Option<JoinHandle<()>>,
}

impl ThumbWorker {
    /// Starts a thumbnail worker over its own player.
    pub(crate) fn start(
        path: &Path,
        cipher: Option<SharedCipher>,
        wake: Wake,
    ) -> Result<ThumbWorker, PlayError> {
        let path: PathBuf = path.to_path_buf();
        let mut player = open_player(&path, cipher.as_ref())?;
        let jobs: Arc<LatestSlot<(u64, Timestamp)>> = Arc::new(LatestSlot::default());
        let out = Arc::new(LatestSlot::default());
        let (j, o) = (Arc::clone(&jobs), Arc::clone(&out));
        let thread = std::thread::Builder::new()
            .name("g2a-play-thumbs".into())
            .spawn(move || loop {
                let (key, ts) = match j.take(Duration::from_secs(1)) {
                    Taken::Value(v) => v,
                    Taken::Empty => continue,
                    Taken::Closed => return,
                };
                // Remapped per thumbnail: the pages the last one read are
                // released (a remap keeps the decoded frame, so a thumbnail
                // just after the last one decodes forward from it).
                let _ = player.remap();
                if let Ok(f) = player.frame_at(ts) {
                    o.put((key, thumbnail(f.size, f.data, THUMB_WIDTH)));
                    wake();
                }
            })
            .map_err(|e| PlayError::Thread(e.to_string()))?;
        Ok(ThumbWorker {
            jobs,
            out,
            thread: Some(thread),
        })
    }

    /// Asks for the thumbnail of bucket `key` at `ts`.
    pub(crate) fn request(&self, key: u64, ts: Timestamp) {
        self.jobs.put((key, ts));
    }

    /// A finished thumbnail, if any.
    pub(crate) fn take(&self) -> Option<(u64, ColorImage)> {
        self.out.try_take()
    }
}

impl Drop for ThumbWorker {
    fn drop(&mut self) {
        self.jobs.close();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use g2a::{Recorder, RecorderOptions};
    use g2a_core::{FrameRef, PixelFormat};
    use g2a_format::SessionHeader;

    /// 20 frames of 16×8, 100 ms apart, frame i filled with i * 10.
    fn sample(dir: &Path) -> PathBuf {
        let path = dir.join("w.g2a");
        let size = Size::new(16, 8);
        let mut rec = Recorder::create(
            &path,
            SessionHeader::new("W", size),
            RecorderOptions::default(),
        )
        .unwrap();
        for i in 0..20u64 {
            let px = vec![i as u8 * 10; size.area() as usize * 4];
            rec.push_frame(
                Timestamp::from_millis(i * 100),
                &FrameRef::packed(&px, size, PixelFormat::Bgra8).unwrap(),
            )
            .unwrap();
        }
        rec.finish().unwrap();
        path
    }

    /// Asks and waits (bounded) for the answer to this very job.
    fn ask(w: &DecodeWorker, req: Request) -> (Timestamp, ColorImage) {
        let job = Job {
            req,
            refresh: false,
            made: Instant::now(),
            force: true,
        };
        w.request(job);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(d) = w.take() {
                if d.job.made == job.made {
                    return (d.ts, d.image.unwrap().unwrap());
                }
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        panic!("no answer to {req:?}");
    }

    #[test]
    fn worker_seeks_and_steps_on_its_own_thread() {
        let dir = tempfile::tempdir().unwrap();
        let path = sample(dir.path());
        let w = DecodeWorker::start(&path, None, true, Arc::new(|| {})).unwrap();
        let ms = Timestamp::from_millis;
        let (ts, img) = ask(&w, Request::At(ms(1_050)));
        assert_eq!(ts, ms(1_000));
        assert_eq!(img.size, [16, 8]);
        assert!(img
            .pixels
            .iter()
            .all(|&p| p == Color32::from_rgb(100, 100, 100)));
        assert_eq!(
            ask(
                &w,
                Request::Step {
                    from: ms(1_000),
                    frames: 3
                }
            )
            .0,
            ms(1_300)
        );
        assert_eq!(
            ask(
                &w,
                Request::Step {
                    from: ms(1_000),
                    frames: -2
                }
            )
            .0,
            ms(800)
        );
        // Steps stop at either end.
        assert_eq!(
            ask(
                &w,
                Request::Step {
                    from: ms(100),
                    frames: -5
                }
            )
            .0,
            ms(0)
        );
        assert_eq!(
            ask(
                &w,
                Request::Step {
                    from: ms(1_800),
                    frames: 5
                }
            )
            .0,
            ms(1_900)
        );
        // A burst of requests: the last one is answered.
        for i in 0..50 {
            w.request(Job {
                req: Request::At(ms(i * 30)),
                refresh: false,
                made: Instant::now(),
                force: false,
            });
        }
        let (ts, _) = ask(&w, Request::At(ms(1_234)));
        assert_eq!(ts, ms(1_200));
    }

    #[test]
    fn a_missing_file_is_an_open_error() {
        let err = DecodeWorker::start(
            Path::new("/nonexistent/x.g2a"),
            None,
            false,
            Arc::new(|| {}),
        )
        .err()
        .unwrap();
        assert!(matches!(err, PlayError::Open { .. }), "{err:?}");
    }

    #[test]
    fn bgra_becomes_rgba() {
        let img = bgra_to_image(Size::new(2, 1), &[1, 2, 3, 0, 10, 20, 30, 255]);
        assert_eq!(img.size, [2, 1]);
        assert_eq!(
            img.pixels,
            vec![Color32::from_rgb(3, 2, 1), Color32::from_rgb(30, 20, 10)]
        );
    }

    #[test]
    fn thumbnails_average_blocks_and_never_upscale() {
        // 4×2: left half black, right half white.
        let mut px = vec![0u8; 4 * 2 * 4];
        for y in 0..2 {
            for x in 2..4 {
                px[(y * 4 + x) * 4..(y * 4 + x) * 4 + 4].copy_from_slice(&[255; 4]);
            }
        }
        let t = thumbnail(Size::new(4, 2), &px, 2);
        assert_eq!(t.size, [2, 1]);
        assert_eq!(t.pixels, vec![Color32::BLACK, Color32::WHITE]);
        let t = thumbnail(Size::new(4, 2), &px, 100);
        assert_eq!(t.size, [4, 2]);
        assert_eq!(thumbnail(Size::new(4, 2), &px[..8], 2).size, [0, 0]);
    }

    #[test]
    fn thumb_cache_is_bounded_and_evicts_least_recent() {
        let mut c = ThumbCache::new(3);
        for k in 0..3 {
            c.insert(k, k * 10);
        }
        assert_eq!(c.get(0), Some(&0));
        c.insert(3, 30);
        assert_eq!(c.len(), 3);
        assert_eq!(c.get(1), None, "1 was the least recently used");
        assert_eq!(c.get(0), Some(&0));
        for k in 10..100 {
            c.insert(k, k);
        }
        assert_eq!(c.len(), 3);
    }
}
