//! A session's chain of continuation files, read as one timeline (FORMAT.md §7.3).

use std::path::Path;

use g2a_core::Timestamp;

use crate::reader::Merged;
use crate::{continuation_path, FormatError, KeyframeEntry, Reader, Record, SessionHeader};

/// Highest continuation index followed (a session capped at 200 MB per file
/// would need 200 TB to reach it).
const MAX_CONTINUATIONS: u32 = 999_999;

/// All files of one recorded session: the first file and every continuation
/// file that names its predecessor, opened as one timeline.
#[derive(Debug)]
pub struct SessionSet {
    files: Vec<Reader>,
}

/// A seek position within a [`SessionSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetPosition {
    /// Index of the file in [`SessionSet::files`].
    pub file: usize,
    /// The keyframe within that file.
    pub keyframe: KeyframeEntry,
}

impl SessionSet {
    /// Opens `first` and follows its continuation files (`rec.001.g2a`, …)
    /// for as long as each names the previous one as its predecessor.
    ///
    /// # Errors
    /// As [`Reader::open`], for any file of the chain.
    pub fn open(first: impl AsRef<Path>) -> Result<SessionSet, FormatError> {
        let first = first.as_ref();
        let mut files = vec![Reader::open(first)?];
        let mut prev_name = file_name(first);
        for i in 1..=MAX_CONTINUATIONS {
            let p = continuation_path(first, i);
            if !p.exists() {
                break;
            }
            let r = Reader::open(&p)?;
            match &r.header().continuation {
                Some(c) if c.predecessor == prev_name && c.index == i => {}
                _ => break,
            }
            prev_name = file_name(&p);
            files.push(r);
        }
        Ok(SessionSet { files })
    }

    /// A set of one reader (for example one opened from memory).
    #[must_use]
    pub fn from_reader(r: Reader) -> SessionSet {
        SessionSet { files: vec![r] }
    }

    /// The files, in order.
    #[must_use]
    pub fn files(&self) -> &[Reader] {
        &self.files
    }

    /// Mutable access, for [`Reader::refresh`] on a growing recording.
    pub fn files_mut(&mut self) -> &mut [Reader] {
        &mut self.files
    }

    /// The session header of the first file.
    #[must_use]
    pub fn header(&self) -> &SessionHeader {
        self.files[0].header()
    }

    /// Time of the last record of the session.
    #[must_use]
    pub fn duration(&self) -> Timestamp {
        self.files
            .iter()
            .map(Reader::duration)
            .max()
            .unwrap_or(Timestamp::ZERO)
    }

    /// The keyframe at or before `ts` across all files.
    #[must_use]
    pub fn seek_keyframe(&self, ts: Timestamp) -> Option<SetPosition> {
        self.files.iter().enumerate().rev().find_map(|(file, r)| {
            r.seek_keyframe(ts)
                .map(|keyframe| SetPosition { file, keyframe })
        })
    }

    /// Follows a growing recording: refreshes the last file, and opens a new
    /// continuation file when one appeared. Returns true when anything new arrived.
    ///
    /// # Errors
    /// [`FormatError::Io`] and header errors of a new continuation file.
    pub fn refresh(&mut self) -> Result<bool, FormatError> {
        let mut changed = false;
        if let Some(last) = self.files.last_mut() {
            changed |= last.refresh()?;
        }
        let Some(first) = self.files[0].path().map(Path::to_path_buf) else {
            return Ok(changed);
        };
        let next_index = self.files.len() as u32;
        let p = continuation_path(&first, next_index);
        if p.exists() {
            let r = Reader::open(&p)?;
            let prev = self
                .files
                .last()
                .and_then(Reader::path)
                .map(file_name)
                .unwrap_or_default();
            if r.header()
                .continuation
                .as_ref()
                .is_some_and(|c| c.predecessor == prev && c.index == next_index)
            {
                self.files.push(r);
                changed = true;
            }
        }
        Ok(changed)
    }

    /// Every record of every file, merged in time order.
    pub fn merged(&self) -> impl Iterator<Item = Record<'_>> {
        self.files
            .iter()
            .flat_map(Reader::merged as fn(&Reader) -> Merged<'_>)
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
