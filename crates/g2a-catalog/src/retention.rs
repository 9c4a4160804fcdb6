//! Retention and deletion: the purge of sessions older than the retention
//! period, and the deletion of one session on request. Deleted rows are
//! overwritten in the database file (`secure_delete`) and the write-ahead
//! log is emptied afterwards, so what was deleted can't be read back from
//! the catalog's files.

use std::path::Path;

use rusqlite::params;

use crate::model::Actor;
use crate::{Catalog, CatalogError};

/// Removes a recording file (already gone is fine) and, once empty, its
/// session folder.
fn remove_recording_file(full: &Path) -> Result<(), CatalogError> {
    match std::fs::remove_file(full) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(CatalogError::io(full, e)),
    }
    if let Some(parent) = full.parent() {
        // Only removes the per-session directory once it is empty.
        let _ = std::fs::remove_dir(parent);
    }
    Ok(())
}

impl Catalog {
    /// Deletes the recordings and data of every session older than the
    /// retention window (company managers only). Returns how many sessions
    /// were purged. A purged session keeps only a tombstone (id, team,
    /// representative, start) so that asking for it says the data is gone.
    /// Files go first, then the rows in one transaction: a purge stopped
    /// half way is finished by the next one.
    ///
    /// # Errors
    /// Denied; I/O errors deleting files; database errors.
    pub fn purge(&self, actor: &Actor) -> Result<u64, CatalogError> {
        let cutoff = self.cutoff();
        let days = self.opts.retention_days;
        let n = self.managed(actor, "purge", None, |detail| {
            *detail = format!(
                "sessions that began before {} ({days} days)",
                crate::model::utc_date(cutoff)
            );
            self.require_company(actor, "purge")?;
            let files: Vec<String> = {
                let mut st = self.conn.prepare(
                    "SELECT f.path FROM session_files f JOIN sessions s ON s.id = f.session_id
                     WHERE s.start_us < ?1",
                )?;
                let v = st
                    .query_map([cutoff], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                v
            };
            for p in &files {
                remove_recording_file(&self.dir.join(p))?;
            }
            self.conn.execute(
                "DELETE FROM uploads WHERE session_id IN (SELECT id FROM sessions WHERE start_us < ?1)",
                [cutoff],
            )?;
            self.conn.execute(
                "DELETE FROM session_files WHERE session_id IN (SELECT id FROM sessions WHERE start_us < ?1)",
                [cutoff],
            )?;
            let n = self.conn.execute(
                "UPDATE sessions SET purged = 1, customer = '', rating = NULL, tracks = '', key_id = NULL, key_block = NULL
                 WHERE start_us < ?1 AND purged = 0",
                [cutoff],
            )?;
            detail.push_str(&format!(": {n} sessions purged, {} files deleted", files.len()));
            Ok(n as u64)
        })?;
        self.scrub();
        Ok(n)
    }

    /// Deletes one session on request (privacy laws): its recording files,
    /// its row and its file rows, with no tombstone (company managers only).
    /// The audit log keeps the request (who, which session id, how many
    /// files) but none of the session's content or metadata.
    ///
    /// # Errors
    /// Denied; [`CatalogError::NotFound`] for an unknown session; I/O and
    /// database errors.
    pub fn delete_session(&self, actor: &Actor, session_id: &str) -> Result<(), CatalogError> {
        self.managed(actor, "delete-session", Some(session_id), |detail| {
            self.require_company(actor, "delete session")?;
            let s = self
                .load_session(session_id)?
                .ok_or_else(|| CatalogError::NotFound {
                    kind: "session",
                    name: session_id.to_owned(),
                })?;
            for f in &s.files {
                remove_recording_file(&self.dir.join(&f.path))?;
            }
            let dir = self.dir.join(crate::catalog::RECORDINGS_DIR).join(&s.id);
            if dir.exists() {
                std::fs::remove_dir_all(&dir).map_err(|e| CatalogError::io(&dir, e))?;
            }
            self.conn
                .execute("DELETE FROM uploads WHERE session_id = ?1", [&s.id])?;
            self.conn
                .execute("DELETE FROM session_files WHERE session_id = ?1", [&s.id])?;
            self.conn
                .execute("DELETE FROM sessions WHERE id = ?1", params![s.id])?;
            *detail = format!("session deleted on request: {} file(s)", s.files.len());
            Ok(())
        })?;
        self.scrub();
        Ok(())
    }

    /// Empties the write-ahead log into the database (whose deleted content
    /// `secure_delete` has overwritten) and truncates it, so old page images
    /// don't keep deleted rows. Best effort: readers holding old snapshots
    /// can delay it until the next checkpoint.
    pub(crate) fn scrub(&self) {
        let _ = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    }
}
