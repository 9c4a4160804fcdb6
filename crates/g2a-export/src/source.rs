//! Where exported frames come from: the [`ExportSource`] trait, its
//! implementation over a [`g2a::Player`], and an in-memory raw BGRA source.

use std::io::Read;
use std::sync::Arc;

use g2a::{CursorImage, CursorTrack, Player};
use g2a_core::{Size, Timestamp};
use g2a_format::{Record, SenderRole};

use crate::ExportError;

/// One chat message, shown as a subtitle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLine {
    /// Time sent.
    pub ts: Timestamp,
    /// Sender's display name.
    pub sender: String,
    /// Sender's role ("representative", "customer", "system").
    pub role: String,
    /// The message.
    pub text: String,
}

/// The cursor to draw onto a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorOverlay {
    /// Hotspot position on the screen.
    pub x: i32,
    /// Hotspot position on the screen.
    pub y: i32,
    /// The shape (BGRA with straight alpha, and its hotspot).
    pub image: Arc<CursorImage>,
}

/// A frame handed to the exporter.
#[derive(Debug, Clone)]
pub struct SourceFrame<'a> {
    /// Recording time.
    pub ts: Timestamp,
    /// Size of the frame.
    pub size: Size,
    /// `size.width * size.height` packed BGRA pixels (alpha ignored).
    pub data: &'a [u8],
    /// False when the pixels are identical to the previous frame's: the
    /// exporter then skips converting and, at a variable frame rate,
    /// encoding it.
    pub changed: bool,
    /// The cursor to draw, when the recording has a cursor track.
    pub cursor: Option<CursorOverlay>,
}

/// A source of frames and chat to export.
///
/// Call protocol: [`seek`](ExportSource::seek) once, then
/// [`next_frame`](ExportSource::next_frame) until it returns `Ok(None)`.
///
/// # For implementations
/// After `seek(from)`, the first frame returned is the one on screen at
/// `from` (its `ts` may be earlier than `from`); frames come in time
/// order. `changed` may always be true (only speed suffers), but must be
/// false only when the pixels really equal the previous frame's.
pub trait ExportSource {
    /// Size of the first frame.
    fn screen_size(&self) -> Size;
    /// End of the recording.
    fn duration(&self) -> Timestamp;
    /// The chat transcript, in time order.
    ///
    /// # Errors
    /// When the source cannot be read.
    fn chat(&mut self) -> Result<Vec<ChatLine>, ExportError>;
    /// Positions at `from`.
    ///
    /// # Errors
    /// When the source cannot be read.
    fn seek(&mut self, from: Timestamp) -> Result<(), ExportError>;
    /// The next frame, `None` at the end.
    ///
    /// # Errors
    /// When the source cannot be read.
    fn next_frame(&mut self) -> Result<Option<SourceFrame<'_>>, ExportError>;
}

/// The lowercase label of a role.
#[must_use]
pub fn role_label(role: SenderRole) -> String {
    match role {
        SenderRole::Representative => "representative".to_owned(),
        SenderRole::Customer => "customer".to_owned(),
        SenderRole::System => "system".to_owned(),
        SenderRole::Other(c) => format!("role {c}"),
        _ => "other".to_owned(),
    }
}

/// An [`ExportSource`] over a [`Player`], drawing its cursor track.
#[derive(Debug)]
pub struct PlayerSource {
    player: Player,
    cursor: CursorTrack,
    size: Size,
    /// Set by `seek`: return the frame at this time before reading on.
    first: Option<Timestamp>,
}

impl PlayerSource {
    /// Wraps `player`, loading its cursor track. An encrypted recording
    /// needs the player's cipher set ([`Player::set_cipher`]).
    ///
    /// # Errors
    /// [`ExportError::Player`] when the recording has no readable frame.
    pub fn new(mut player: Player) -> Result<PlayerSource, ExportError> {
        let size = player.frame_at(Timestamp::ZERO)?.size;
        let cursor = player.cursor_track()?;
        Ok(PlayerSource {
            player,
            cursor,
            size,
            first: Some(Timestamp::ZERO),
        })
    }

    /// Opens the recording at `path` (and its continuation files).
    ///
    /// # Errors
    /// When the file cannot be opened or has no video.
    pub fn open(path: &std::path::Path) -> Result<PlayerSource, ExportError> {
        PlayerSource::new(Player::open(path)?)
    }

    /// The player inside.
    #[must_use]
    pub fn player(&self) -> &Player {
        &self.player
    }

    fn overlay(cursor: &CursorTrack, ts: Timestamp) -> Option<CursorOverlay> {
        let c = cursor.at(ts)?;
        Some(CursorOverlay {
            x: c.x,
            y: c.y,
            image: c.image?,
        })
    }
}

impl ExportSource for PlayerSource {
    fn screen_size(&self) -> Size {
        self.size
    }

    fn duration(&self) -> Timestamp {
        self.player.duration()
    }

    fn chat(&mut self) -> Result<Vec<ChatLine>, ExportError> {
        let mut lines = Vec::new();
        self.player.for_each_record(|r| {
            if let Record::Chat {
                ts,
                role,
                sender,
                text,
            } = r
            {
                lines.push(ChatLine {
                    ts,
                    sender: sender.to_owned(),
                    role: role_label(role),
                    text: text.to_owned(),
                });
            }
        })?;
        Ok(lines)
    }

    fn seek(&mut self, from: Timestamp) -> Result<(), ExportError> {
        self.first = Some(from);
        Ok(())
    }

    fn next_frame(&mut self) -> Result<Option<SourceFrame<'_>>, ExportError> {
        let frame = match self.first.take() {
            // The Player resumes cheaply when asked again for the time it
            // is at, so this costs one seek per export.
            Some(from) => {
                let mut f = self.player.frame_at(from)?;
                f.changed = true;
                f
            }
            None => match self.player.next_frame()? {
                Some(f) => f,
                None => return Ok(None),
            },
        };
        let cursor = PlayerSource::overlay(&self.cursor, frame.ts);
        Ok(Some(SourceFrame {
            ts: frame.ts,
            size: frame.size,
            data: frame.data,
            changed: frame.changed,
            cursor,
        }))
    }
}

/// An [`ExportSource`] over raw BGRA frames held in memory: for tests, for
/// `import --raw` style pipelines and for embedding.
#[derive(Debug, Clone, Default)]
pub struct RawFrames {
    size: Size,
    frames: Vec<(Timestamp, Vec<u8>)>,
    chat: Vec<ChatLine>,
    cursor: Vec<(Timestamp, CursorOverlay)>,
    end: Timestamp,
    next: usize,
}

impl RawFrames {
    /// An empty sequence of `size` frames.
    #[must_use]
    pub fn new(size: Size) -> RawFrames {
        RawFrames {
            size,
            ..RawFrames::default()
        }
    }

    /// Reads raw packed BGRA frames of `size` back to back from `input`
    /// until it ends, frame `i` at time `i / fps`; at most `max_frames`
    /// (memory grows only with the bytes actually read).
    ///
    /// # Errors
    /// [`ExportError::Io`] when reading fails or the input ends inside a
    /// frame, [`ExportError::BadFrameRate`] for a rate outside (0, 240].
    pub fn from_reader(
        mut input: impl std::io::Read,
        size: Size,
        fps: f64,
        max_frames: usize,
    ) -> Result<RawFrames, ExportError> {
        if !(fps > 0.0 && fps <= 240.0) {
            return Err(ExportError::BadFrameRate { found: fps });
        }
        let frame_len = usize::try_from(size.area() * 4).unwrap_or(usize::MAX);
        let mut src = RawFrames::new(size);
        let path = std::path::Path::new("raw input");
        while src.frames.len() < max_frames {
            let mut buf = Vec::new();
            let got = (&mut input)
                .take(frame_len as u64)
                .read_to_end(&mut buf)
                .map_err(crate::error::io("read", path))?;
            if got == 0 {
                break;
            }
            if got < frame_len {
                return Err(ExportError::Io {
                    action: "read a whole frame from",
                    path: path.to_path_buf(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        format!("the input ends {got} bytes into a {frame_len}-byte {size} frame"),
                    ),
                });
            }
            let n = src.frames.len() as f64;
            let ts = Timestamp::from_secs_f64(n / fps).unwrap_or(Timestamp::MAX);
            src.push(ts, buf)?;
        }
        Ok(src)
    }

    /// Appends a frame shown from `ts`.
    ///
    /// # Errors
    /// [`ExportError::BadFrame`] when `pixels` is not `size` packed BGRA.
    pub fn push(&mut self, ts: Timestamp, pixels: Vec<u8>) -> Result<(), ExportError> {
        if pixels.len() as u64 != self.size.area() * 4 {
            return Err(ExportError::BadFrame {
                ts,
                found: self.size,
                bytes: pixels.len(),
                expected: self.size,
            });
        }
        self.end = self.end.max(ts);
        self.frames.push((ts, pixels));
        Ok(())
    }

    /// Adds a chat line.
    pub fn push_chat(&mut self, line: ChatLine) {
        self.end = self.end.max(line.ts);
        self.chat.push(line);
    }

    /// Moves the cursor at `ts`.
    pub fn push_cursor(&mut self, ts: Timestamp, cursor: CursorOverlay) {
        self.cursor.push((ts, cursor));
    }

    /// Sets the end of the recording (it is at least the last frame's time).
    pub fn set_end(&mut self, end: Timestamp) {
        self.end = self.end.max(end);
    }

    /// Number of frames.
    #[must_use]
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// True when there is no frame.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }
}

impl ExportSource for RawFrames {
    fn screen_size(&self) -> Size {
        self.size
    }

    fn duration(&self) -> Timestamp {
        self.end
    }

    fn chat(&mut self) -> Result<Vec<ChatLine>, ExportError> {
        let mut c = self.chat.clone();
        c.sort_by_key(|l| l.ts);
        Ok(c)
    }

    fn seek(&mut self, from: Timestamp) -> Result<(), ExportError> {
        self.frames.sort_by_key(|f| f.0);
        self.cursor.sort_by_key(|c| c.0);
        let after = self.frames.partition_point(|f| f.0 <= from);
        self.next = after.saturating_sub(1);
        Ok(())
    }

    fn next_frame(&mut self) -> Result<Option<SourceFrame<'_>>, ExportError> {
        let i = self.next;
        let Some((ts, data)) = self.frames.get(i) else {
            return Ok(None);
        };
        self.next += 1;
        let changed = i == 0 || self.frames[i - 1].1 != *data;
        let c = self.cursor.partition_point(|c| c.0 <= *ts);
        let cursor = c.checked_sub(1).map(|c| self.cursor[c].1.clone());
        Ok(Some(SourceFrame {
            ts: *ts,
            size: self.size,
            data,
            changed,
            cursor,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_frames_from_reader_times_frames_and_rejects_partial_ones() {
        let size = Size::new(2, 1);
        let bytes: Vec<u8> = (0..24).collect();
        let mut r = RawFrames::from_reader(&bytes[..], size, 4.0, 10).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r.duration(), Timestamp::from_millis(500));
        r.seek(Timestamp::ZERO).unwrap();
        assert_eq!(r.next_frame().unwrap().unwrap().data, &bytes[..8]);
        assert_eq!(
            RawFrames::from_reader(&bytes[..], size, 4.0, 2)
                .unwrap()
                .len(),
            2
        );
        let e = RawFrames::from_reader(&bytes[..20], size, 4.0, 10).unwrap_err();
        assert!(
            e.to_string().contains("4 bytes into a 8-byte 2x1 frame"),
            "{e}"
        );
        assert!(RawFrames::from_reader(&bytes[..], size, 0.0, 10).is_err());
    }

    #[test]
    fn raw_frames_seek_starts_at_the_frame_on_screen() {
        let size = Size::new(2, 2);
        let mut r = RawFrames::new(size);
        for i in 0..5u8 {
            let px = vec![i / 2; 16];
            r.push(Timestamp::from_millis(u64::from(i) * 100), px)
                .unwrap();
        }
        assert!(r.push(Timestamp::ZERO, vec![0; 3]).is_err());
        r.seek(Timestamp::from_millis(250)).unwrap();
        let f = r.next_frame().unwrap().unwrap();
        assert_eq!(f.ts, Timestamp::from_millis(200));
        assert!(f.changed, "frame 2 differs from frame 1");
        let f = r.next_frame().unwrap().unwrap();
        assert_eq!(f.ts, Timestamp::from_millis(300));
        assert!(!f.changed, "frame 3 equals frame 2");
        assert!(r.next_frame().unwrap().is_some());
        assert!(r.next_frame().unwrap().is_none());
        assert_eq!(r.duration(), Timestamp::from_millis(400));
    }
}
