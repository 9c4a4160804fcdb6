//! Cursor tracks shared between the viewers of a finished recording.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use g2a::CursorTrack;

/// A recording: its first file and the bytes of all its files (a file that
/// changes is another recording).
pub(super) type Key = (PathBuf, u64);

/// Finished, unencrypted recordings' cursor tracks, each read once however
/// many viewers open the recording at once: reading a one-hour
/// recording's track takes ~90 ms, which fifty viewers opening it
/// together paid fifty times before their first frames.
#[derive(Debug, Default, Clone)]
pub struct CursorTracks {
    /// Most recently used last.
    kept: Arc<Mutex<Vec<Entry>>>,
}

/// A recording's track, read once.
type Cell = OnceLock<Option<Arc<CursorTrack>>>;
type Entry = (Key, Arc<Cell>);

/// Recordings whose tracks are kept.
const KEPT: usize = 32;

impl CursorTracks {
    /// The track of `key`, read by `read` if no viewer has read it yet (a
    /// viewer asking while another reads it waits for that reading); `None`
    /// when reading failed.
    pub(super) fn get(
        &self,
        key: Key,
        read: impl FnOnce() -> Option<CursorTrack>,
    ) -> Option<Arc<CursorTrack>> {
        let cell = {
            let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
            let entry = match kept.iter().position(|(k, _)| *k == key) {
                Some(i) => kept.remove(i),
                None => (key, Arc::new(Cell::new())),
            };
            let cell = entry.1.clone();
            kept.push(entry);
            if kept.len() > KEPT {
                kept.remove(0);
            }
            cell
        };
        cell.get_or_init(|| read().map(Arc::new)).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_track_is_read_once_for_viewers_opening_together_and_kept_for_a_while() {
        let tracks = CursorTracks::default();
        let reads = AtomicUsize::new(0);
        let key = || (PathBuf::from("/r/a.g2a"), 100);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    let t = tracks.get(key(), || {
                        reads.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        Some(CursorTrack::default())
                    });
                    assert!(t.is_some());
                });
            }
        });
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        // The same files grown: another recording.
        let t = tracks.get((PathBuf::from("/r/a.g2a"), 101), || None);
        assert!(t.is_none());
        // Old entries go once KEPT others are newer.
        for i in 0..KEPT as u64 {
            tracks.get((PathBuf::from("/r/b.g2a"), i), || {
                Some(CursorTrack::default())
            });
        }
        let again = tracks.get(key(), || {
            reads.fetch_add(1, Ordering::SeqCst);
            Some(CursorTrack::default())
        });
        assert!(again.is_some());
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }
}
