//! The state file beside each recording (`FILE.upload`): where its upload
//! lives on which server, so that a later run resumes it.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::UploadError;

/// Largest state file read (it holds two short strings).
const MAX_STATE: u64 = 16 * 1024;

/// What a state file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct UploadRecord {
    /// The server's base URL.
    pub server: String,
    /// The upload's path on that server (`/api/v1/uploads/ID`).
    pub location: String,
}

/// The state file of `file`: `FILE.upload` beside it.
#[must_use]
pub fn state_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".upload");
    file.with_file_name(name)
}

/// Reads the state file of `file`, if there is one that makes sense; a
/// damaged one is ignored (the upload then starts again, which the server
/// allows: the old one is dropped by its idle sweep).
pub(crate) fn load(file: &Path) -> Result<Option<UploadRecord>, UploadError> {
    let p = state_path(file);
    let bytes = match std::fs::metadata(&p) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(UploadError::io(p, e)),
        Ok(m) if m.len() > MAX_STATE => return Ok(None),
        Ok(_) => std::fs::read(&p).map_err(|e| UploadError::io(&p, e))?,
    };
    Ok(serde_json::from_slice::<UploadRecord>(&bytes)
        .ok()
        .filter(|r| r.location.starts_with("/api/v1/uploads/")))
}

/// Writes the state file of `file` atomically (a temporary file renamed
/// over it), so a killed uploader leaves the old or the new one whole.
pub(crate) fn save(file: &Path, rec: &UploadRecord) -> Result<(), UploadError> {
    let p = state_path(file);
    let mut tmp = p.clone().into_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec(rec).map_err(std::io::Error::other)?)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &p)
    };
    write().map_err(|e| UploadError::io(&p, e))
}

/// Removes the state file of `file` (the upload is over).
pub(crate) fn remove(file: &Path) -> Result<(), UploadError> {
    let p = state_path(file);
    match std::fs::remove_file(&p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(UploadError::io(p, e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_files_round_trip_and_damaged_ones_are_ignored() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("s.g2a");
        assert_eq!(state_path(&f), d.path().join("s.g2a.upload"));
        assert_eq!(load(&f).unwrap(), None);
        let r = UploadRecord {
            server: "https://h:8443".into(),
            location: "/api/v1/uploads/ab".into(),
        };
        save(&f, &r).unwrap();
        assert_eq!(load(&f).unwrap(), Some(r));
        for junk in [
            &b"{"[..],
            b"{\"server\":\"x\",\"location\":\"/etc/passwd\"}",
            b"",
        ] {
            std::fs::write(state_path(&f), junk).unwrap();
            assert_eq!(load(&f).unwrap(), None);
        }
        std::fs::write(state_path(&f), vec![b' '; 1 << 20]).unwrap();
        assert_eq!(load(&f).unwrap(), None);
        remove(&f).unwrap();
        remove(&f).unwrap();
        assert!(!state_path(&f).exists());
    }
}
