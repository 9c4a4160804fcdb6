//! Importing `.g2a` recordings: metadata from the header, files copied into
//! the catalog with their sizes and SHA-256 checksums.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use g2a_format::{SessionSet, Track};
use sha2::{Digest, Sha256};

use crate::crypto::{split_key_block, SCHEME};
use crate::model::{Actor, NewSession, RecordingFile, SessionInfo};
use crate::{Catalog, CatalogError};

/// Metadata keys read from the header's free metadata.
const RATING_KEY: &str = "rating";

fn format_err(path: &Path, source: g2a_format::FormatError) -> CatalogError {
    CatalogError::Format {
        path: path.to_owned(),
        source,
    }
}

impl Catalog {
    /// Imports a recording (its first file; continuation files next to it
    /// are found and imported with it) as `actor` (company managers only).
    /// Session metadata comes from the header; portal, team and
    /// representative must exist in the catalog. Encrypted recordings must
    /// be encrypted to a key of this catalog.
    ///
    /// # Errors
    /// Denied; [`CatalogError::Format`] for unreadable recordings;
    /// [`CatalogError::NotFound`] for unknown names; [`CatalogError::Exists`]
    /// when the session is already in the catalog; [`CatalogError::Crypto`]
    /// for an unknown encryption scheme or key.
    pub fn import_recording(
        &mut self,
        actor: &Actor,
        first: &Path,
    ) -> Result<SessionInfo, CatalogError> {
        self.require_company(actor, "import")?;
        let set = SessionSet::open(first).map_err(|e| format_err(first, e))?;
        let h = set.header().clone();
        let duration = i64::try_from(set.duration().as_micros()).unwrap_or(i64::MAX);
        let mut tracks = Vec::new();
        for (track, name) in [
            (Track::Video, "video"),
            (Track::Cursor, "cursor"),
            (Track::Chat, "chat"),
            (Track::Diagnostics, "diagnostics"),
            (Track::Events, "events"),
        ] {
            if set.files().iter().any(|r| r.track_stats(track).records > 0) {
                tracks.push(name.to_owned());
            }
        }
        let rating = h
            .metadata
            .iter()
            .find(|(k, _)| k == RATING_KEY)
            .and_then(|(_, v)| v.trim().parse::<i64>().ok());
        let meta = NewSession {
            id: h.session_id.clone(),
            portal: h.portal.clone(),
            team: h.team.clone(),
            representative: h.representative.clone(),
            customer: h.customer.clone(),
            start_unix_micros: h.start_time_unix_micros,
            end_unix_micros: h.start_time_unix_micros.saturating_add(duration),
            rating,
            tracks,
        };
        crate::catalog::check_session(&meta)?;
        let key = match &h.encryption {
            None => None,
            Some(enc) => {
                if enc.scheme != SCHEME {
                    return Err(CatalogError::Crypto(format!(
                        "recording uses encryption scheme {:?}, expected {SCHEME:?}",
                        enc.scheme
                    )));
                }
                let (recipient, _) = split_key_block(&enc.key_block)?;
                let id = self.key_id_for_recipient(&recipient)?.ok_or_else(|| {
                    CatalogError::Crypto(format!(
                        "recording is encrypted to {recipient}, which is no portal key of this catalog"
                    ))
                })?;
                Some((id, enc.key_block.clone()))
            }
        };
        if self.session_exists(&meta.id)? {
            return Err(CatalogError::Exists {
                kind: "session",
                name: meta.id,
            });
        }
        let rel_dir = PathBuf::from("recordings").join(&meta.id);
        let abs_dir = self.dir().join(&rel_dir);
        std::fs::create_dir_all(&abs_dir).map_err(|e| CatalogError::io(&abs_dir, e))?;
        let mut files = Vec::new();
        for (seq, r) in set.files().iter().enumerate() {
            let src = r
                .path()
                .ok_or_else(|| CatalogError::Corrupt("session file has no path".into()))?;
            let name = src.file_name().ok_or_else(|| {
                CatalogError::Invalid(format!("{} has no file name", src.display()))
            })?;
            let rel = rel_dir.join(name);
            let (size, sha256) = copy_hashing(src, &self.dir().join(&rel))?;
            files.push(RecordingFile {
                seq: u32::try_from(seq).unwrap_or(u32::MAX),
                path: rel,
                size,
                sha256,
            });
        }
        drop(set);
        let inserted = self.insert_session_with_files(
            &meta,
            key.as_ref().map(|(id, b)| (*id, b.as_slice())),
            &files,
        );
        if let Err(e) = inserted {
            // Leave no orphan files behind.
            let _ = std::fs::remove_dir_all(&abs_dir);
            return Err(e);
        }
        self.audit(actor, "import", Some(&meta.id), "allowed")?;
        self.session_for_import(&meta.id)
    }

    /// Recomputes the size and checksum of every stored file of a session
    /// and compares them with the catalog (company managers only).
    /// Returns the files that differ or are missing.
    ///
    /// # Errors
    /// Denied; unknown session; database errors.
    pub fn check_files(
        &self,
        actor: &Actor,
        session_id: &str,
    ) -> Result<Vec<PathBuf>, CatalogError> {
        self.require_company(actor, "check files")?;
        let s = self.session_for_import(session_id)?;
        let mut bad = Vec::new();
        for f in &s.files {
            let p = self.dir().join(&f.path);
            match hash_file(&p) {
                Ok((size, sum)) if size == f.size && sum == f.sha256 => {}
                _ => bad.push(p),
            }
        }
        Ok(bad)
    }
}

/// Copies `src` to `dst` (which must not exist), returning size and SHA-256.
fn copy_hashing(src: &Path, dst: &Path) -> Result<(u64, String), CatalogError> {
    let mut input = File::open(src).map_err(|e| CatalogError::io(src, e))?;
    let mut out = File::options()
        .write(true)
        .create_new(true)
        .open(dst)
        .map_err(|e| CatalogError::io(dst, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = input.read(&mut buf).map_err(|e| CatalogError::io(src, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])
            .map_err(|e| CatalogError::io(dst, e))?;
        size += n as u64;
    }
    out.sync_all().map_err(|e| CatalogError::io(dst, e))?;
    Ok((size, hex::encode(hasher.finalize())))
}

fn hash_file(p: &Path) -> Result<(u64, String), CatalogError> {
    let mut input = File::open(p).map_err(|e| CatalogError::io(p, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = input.read(&mut buf).map_err(|e| CatalogError::io(p, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}
