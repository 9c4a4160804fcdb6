//! Uploads from recorders: the catalog's side of the service's resumable
//! upload API (tus 1.0).
//!
//! An upload is one file of a recording. Its bytes are appended to a file
//! in the catalog (the service writes them; the catalog says where), and
//! the file's length on disk is the upload's offset, so whatever reached
//! the disk survives a killed server and the client resumes from there.
//!
//! As soon as the bytes hold the recording's header, the upload is *bound*:
//! the header is checked as an import checks it (organisation, passphrase
//! coverage) and against the recorder's portal, the session is entered in
//! the catalog as **live**, and the file moves to the session's folder,
//! where replay (and the live view) read it as it grows. A continuation file
//! joins its session once its predecessor has. When all its bytes are in,
//! the file is verified, hashed and the session's end and tracks are
//! updated; the session stops being live when none of its files is still
//! arriving. An upload left idle is finished as it is (the bytes that came
//! are a readable recording), never thrown away; one that never delivered a
//! header is dropped.

use std::io::Read;
use std::path::{Path, PathBuf};

use g2a_format::{continuation_path, SessionHeader, SessionSet};
use rand::RngCore;
use rusqlite::{params, OptionalExtension};

use crate::catalog::RECORDINGS_DIR;
use crate::import::{hash_file, tracks_of, verify_warnings, HeaderCheck};
use crate::model::ImportOptions;
use crate::names::shown;
use crate::recorders::Uploader;
use crate::{private, Catalog, CatalogError};

/// The folder uploads wait in until their header is read, inside the
/// catalog folder.
pub(crate) const UPLOADS_DIR: &str = "uploads";
/// Largest file one upload may bring (1 TiB).
pub const MAX_UPLOAD_BYTES: u64 = 1 << 40;
/// Unfinished uploads one recorder may have at once.
pub const MAX_OPEN_UPLOADS: i64 = 64;
/// Largest prefix read to find the header (the header's limit, FORMAT.md
/// §3, plus its fixed part).
const MAX_HEADER_BYTES: u64 = (1 << 20) + 20;
/// Who the catalog's own upload housekeeping is audited as.
const SWEEPER: &str = "service";

/// Where an upload stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadState {
    /// Bytes are still expected.
    Receiving,
    /// Every byte came; the file is part of its session.
    Done,
    /// Refused (not a recording, not this recorder's portal, …); its bytes
    /// were dropped.
    Failed,
}

impl UploadState {
    /// Lower-case name, as stored and as the API says it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            UploadState::Receiving => "receiving",
            UploadState::Done => "done",
            UploadState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<Self, CatalogError> {
        match s {
            "receiving" => Ok(UploadState::Receiving),
            "done" => Ok(UploadState::Done),
            "failed" => Ok(UploadState::Failed),
            other => Err(CatalogError::Corrupt(format!(
                "upload state {}",
                shown(other)
            ))),
        }
    }
}

/// An upload as the recorder and the service see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadInfo {
    /// Its id (32 hex digits).
    pub id: String,
    /// The recorder that made it.
    pub recorder: String,
    /// The recording file's name (`rec.g2a`, `rec.001.g2a`, …).
    pub file_name: String,
    /// Its length in bytes, once the recorder said it.
    pub length: Option<u64>,
    /// Bytes received and on disk.
    pub offset: u64,
    /// Where it stands.
    pub state: UploadState,
    /// The session, once the header arrived.
    pub session_id: Option<String>,
    /// 0 for a session's first file, then 1, 2, … for continuation files.
    pub seq: Option<u32>,
    /// The file the bytes go to (absolute).
    pub path: PathBuf,
    /// What verifying the finished file found (damage, no trailer, an
    /// abandoned upload).
    pub warnings: Vec<String>,
    /// Why a failed upload was refused.
    pub error: Option<String>,
    /// When it was created, µs since the Unix epoch.
    pub created_unix_micros: i64,
    /// When bytes last came.
    pub updated_unix_micros: i64,
}

/// What [`Catalog::sweep_uploads`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadSweep {
    /// Uploads whose bytes were all in (a server stopped before it
    /// finished them) and are now finished.
    pub finished: u32,
    /// Idle uploads finished as they were.
    pub abandoned: u32,
    /// Idle uploads without a header, dropped.
    pub dropped: u32,
    /// Continuation files that were waiting for their predecessor and
    /// have now joined their session.
    pub joined: u32,
}

/// Why an upload could not be bound to its session.
enum BindError {
    /// Not yet: a continuation file whose predecessor has not arrived.
    Wait,
    /// Never: the upload fails.
    Refuse(CatalogError),
}

impl From<CatalogError> for BindError {
    fn from(e: CatalogError) -> Self {
        BindError::Refuse(e)
    }
}

impl From<rusqlite::Error> for BindError {
    fn from(e: rusqlite::Error) -> Self {
        BindError::Refuse(e.into())
    }
}

/// A file name an upload may have: what a recorder names its files.
fn check_file_name(name: &str) -> Result<(), CatalogError> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name.ends_with(".g2a")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(CatalogError::Invalid(format!(
            "file name {} must be 1 to 200 of [A-Za-z0-9._-], end in .g2a and not begin with '.'",
            shown(name)
        )))
    }
}

fn check_length(length: u64) -> Result<(), CatalogError> {
    if length > MAX_UPLOAD_BYTES {
        return Err(CatalogError::Limit(format!(
            "an upload of {length} bytes is larger than the {MAX_UPLOAD_BYTES} bytes a file may have"
        )));
    }
    Ok(())
}

fn file_len(p: &Path) -> Result<u64, CatalogError> {
    match std::fs::metadata(p) {
        Ok(m) => Ok(m.len()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(CatalogError::io(p, e)),
    }
}

/// The first bytes of a file, at most `max`.
fn read_prefix(p: &Path, max: u64) -> Result<Vec<u8>, CatalogError> {
    let f = std::fs::File::open(p).map_err(|e| CatalogError::io(p, e))?;
    let mut buf = Vec::new();
    f.take(max)
        .read_to_end(&mut buf)
        .map_err(|e| CatalogError::io(p, e))?;
    Ok(buf)
}

/// The columns [`row_to_upload`] reads.
const UPLOAD_SELECT: &str = "SELECT u.id, r.name, u.file_name, u.length, u.path, u.session_id, u.seq, u.state, u.warnings, u.error, u.created_us, u.updated_us, u.token_id
     FROM uploads u JOIN recorder_tokens r ON r.id = u.token_id";

/// A row of [`UPLOAD_SELECT`]: the upload (offset and absolute path still
/// to be filled in) and its token id.
type UploadRow = (UploadInfo, String, i64);

fn row_to_upload(r: &rusqlite::Row<'_>) -> rusqlite::Result<UploadRow> {
    let warnings: String = r.get(8)?;
    let error: String = r.get(9)?;
    let state: String = r.get(7)?;
    let path: String = r.get(4)?;
    Ok((
        UploadInfo {
            id: r.get(0)?,
            recorder: r.get(1)?,
            file_name: r.get(2)?,
            length: r.get::<_, Option<i64>>(3)?.map(|l| l.max(0) as u64),
            offset: 0,
            state: UploadState::Receiving,
            session_id: r.get(5)?,
            seq: r
                .get::<_, Option<i64>>(6)?
                .map(|s| s.clamp(0, i64::from(u32::MAX)) as u32),
            path: PathBuf::from(&path),
            warnings: warnings
                .split('\n')
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect(),
            error: (!error.is_empty()).then_some(error),
            created_unix_micros: r.get(10)?,
            updated_unix_micros: r.get(11)?,
        },
        state,
        r.get(12)?,
    ))
}

impl Catalog {
    /// Starts an upload of one recording file for `who`. `length` is the
    /// file's size when known; a recorder streaming a recording it is still
    /// making gives it later ([`Catalog::set_upload_length`]).
    ///
    /// # Errors
    /// [`CatalogError::Invalid`] for a bad file name;
    /// [`CatalogError::Limit`] for a file over [`MAX_UPLOAD_BYTES`] or a
    /// recorder with [`MAX_OPEN_UPLOADS`] unfinished uploads; I/O and
    /// database errors.
    pub fn create_upload(
        &self,
        who: &Uploader,
        file_name: &str,
        length: Option<u64>,
    ) -> Result<UploadInfo, CatalogError> {
        let r = (|| {
            check_file_name(file_name)?;
            if let Some(l) = length {
                check_length(l)?;
            }
            let open: i64 = self.conn.query_row(
                "SELECT COUNT(*) FROM uploads WHERE token_id = ?1 AND state = 'receiving'",
                [who.id],
                |r| r.get(0),
            )?;
            if open >= MAX_OPEN_UPLOADS {
                return Err(CatalogError::Limit(format!(
                    "recorder {} has {open} unfinished uploads; finish them first",
                    shown(&who.name)
                )));
            }
            let mut b = [0u8; 16];
            rand::rngs::OsRng.fill_bytes(&mut b);
            let id = hex::encode(b);
            let dir = self.dir.join(UPLOADS_DIR);
            private::create_dir(&dir)?;
            let rel = PathBuf::from(UPLOADS_DIR).join(&id);
            drop(private::create_file(&self.dir.join(&rel))?);
            let now = self.now();
            let tx = self.write_tx()?;
            self.conn.execute(
                "INSERT INTO uploads (id, token_id, file_name, length, path, state, created_us, updated_us)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'receiving', ?6, ?6)",
                params![
                    id,
                    who.id,
                    file_name,
                    length.map(|l| l as i64),
                    rel.to_string_lossy(),
                    now
                ],
            )?;
            self.audit_as(
                &who.audit_name(),
                "upload-start",
                None,
                "allowed",
                &format!(
                    "upload {id} of {file_name}, {}",
                    length.map_or("length to come".to_owned(), |l| format!("{l} bytes"))
                ),
            )?;
            tx.commit()?;
            self.upload_of(who, &id)
        })();
        if let Err(e) = &r {
            self.audit_best_effort(
                &who.audit_name(),
                "upload-start",
                None,
                &crate::audit::outcome_of(e),
                &format!("file {}", shown(file_name)),
            );
        }
        r
    }

    /// An upload of `who`'s, with its offset as on disk now.
    ///
    /// # Errors
    /// [`CatalogError::NotFound`] for an unknown upload or another
    /// recorder's; I/O and database errors.
    pub fn upload_of(&self, who: &Uploader, id: &str) -> Result<UploadInfo, CatalogError> {
        match self.load_upload(id)? {
            Some((u, token)) if token == who.id => Ok(u),
            _ => Err(CatalogError::NotFound {
                kind: "upload",
                name: id.to_owned(),
            }),
        }
    }

    /// Loads an upload and its token id, with its offset read from disk.
    /// A file that the catalog moved to its session's folder but that is
    /// still in the uploads folder (the server stopped in between) is moved
    /// now.
    fn load_upload(&self, id: &str) -> Result<Option<(UploadInfo, i64)>, CatalogError> {
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let row = self
            .conn
            .query_row(
                &format!("{UPLOAD_SELECT} WHERE u.id = ?1"),
                [id],
                row_to_upload,
            )
            .optional()?;
        let Some((mut u, state, token)) = row else {
            return Ok(None);
        };
        u.state = UploadState::parse(&state)?;
        u.path = self.dir.join(&u.path);
        if u.state == UploadState::Receiving && !u.path.exists() {
            let waiting = self.dir.join(UPLOADS_DIR).join(&u.id);
            if waiting.exists() && waiting != u.path {
                std::fs::rename(&waiting, &u.path).map_err(|e| CatalogError::io(&u.path, e))?;
            }
        }
        u.offset = match u.state {
            UploadState::Receiving => file_len(&u.path)?,
            UploadState::Done => u.length.unwrap_or(0),
            UploadState::Failed => 0,
        };
        Ok(Some((u, token)))
    }

    /// Gives the length of an upload started without one.
    ///
    /// # Errors
    /// [`CatalogError::Invalid`] when the length is already set to another
    /// value or is below the bytes already received;
    /// [`CatalogError::Limit`]; unknown upload.
    pub fn set_upload_length(
        &self,
        who: &Uploader,
        id: &str,
        length: u64,
    ) -> Result<UploadInfo, CatalogError> {
        let u = self.upload_of(who, id)?;
        check_length(length)?;
        match u.length {
            Some(l) if l == length => return Ok(u),
            Some(l) => {
                return Err(CatalogError::Invalid(format!(
                    "upload {id} has length {l} already, not {length}"
                )))
            }
            None => {}
        }
        if length < u.offset {
            return Err(CatalogError::Invalid(format!(
                "upload {id} has {} bytes already, more than the length {length}",
                u.offset
            )));
        }
        self.conn.execute(
            "UPDATE uploads SET length = ?1 WHERE id = ?2",
            params![length as i64, id],
        )?;
        self.upload_of(who, id)
    }

    /// Takes note of bytes appended to an upload's file (after the caller
    /// synced them): binds the upload to its session once the header is
    /// in, and finishes it once all its bytes are.
    ///
    /// Bytes that are not a recording, a header this recorder may not
    /// upload (another portal) or that does not fit the catalog (as
    /// [`Catalog::import_recording`] checks it) fail the upload: its bytes
    /// are dropped and the error says why. A continuation file whose
    /// predecessor has not arrived yet waits: it stays open and unbound
    /// (its bytes are kept) and joins its session when this is called
    /// again, or the sweep calls it, after the predecessor has.
    ///
    /// # Errors
    /// As said; unknown upload; I/O and database errors.
    pub fn upload_received(&self, who: &Uploader, id: &str) -> Result<UploadInfo, CatalogError> {
        let mut u = self.upload_of(who, id)?;
        if u.state != UploadState::Receiving {
            return Ok(u);
        }
        self.conn.execute(
            "UPDATE uploads SET updated_us = ?1 WHERE id = ?2",
            params![self.now(), id],
        )?;
        if u.session_id.is_none() {
            let prefix = read_prefix(&u.path, u.offset.min(MAX_HEADER_BYTES))?;
            match SessionHeader::from_prefix(&prefix) {
                Err(e) => {
                    let e = CatalogError::Format {
                        path: PathBuf::from(&u.file_name),
                        error: e,
                    };
                    self.fail_upload(&who.audit_name(), &u, &e)?;
                    return Err(e);
                }
                Ok(None) => {
                    if u.length.is_some_and(|l| u.offset >= l) {
                        let e = CatalogError::Invalid(format!(
                            "{} ends after {} bytes, before its header does",
                            shown(&u.file_name),
                            u.offset
                        ));
                        self.fail_upload(&who.audit_name(), &u, &e)?;
                        return Err(e);
                    }
                    return Ok(u);
                }
                Ok(Some((h, _))) => {
                    match self.bind_upload(who, &u, &h) {
                        Ok(()) => {}
                        Err(BindError::Wait) => return Ok(u),
                        Err(BindError::Refuse(e)) => {
                            self.fail_upload(&who.audit_name(), &u, &e)?;
                            return Err(e);
                        }
                    }
                    u = self.upload_of(who, id)?;
                }
            }
        }
        if u.length.is_some_and(|l| u.offset >= l) {
            self.finish_upload(&who.audit_name(), &u, None)?;
            u = self.upload_of(who, id)?;
        }
        Ok(u)
    }

    /// Enters an upload's session (live) and file in the catalog and moves
    /// the file into the session's folder.
    fn bind_upload(
        &self,
        who: &Uploader,
        u: &UploadInfo,
        h: &SessionHeader,
    ) -> Result<(), BindError> {
        let HeaderCheck { meta, ids, key, .. } = self.check_header(h, &ImportOptions::default())?;
        if !self
            .ancestors("portals", ids.portal)?
            .contains(&who.portal_id)
        {
            return Err(CatalogError::denied(
                &who.audit_name(),
                "upload",
                format!(
                    "the recording is of portal {}; this recorder uploads only to portal {} and its subportals",
                    shown(&meta.portal),
                    shown(&who.portal)
                ),
            ).into());
        }
        let rel_dir = PathBuf::from(RECORDINGS_DIR).join(&meta.id);
        let rel = rel_dir.join(&u.file_name);
        let seq = match &h.continuation {
            None => {
                if self.session_exists(&meta.id)? {
                    return Err(CatalogError::Exists {
                        kind: "session",
                        name: meta.id.clone(),
                    }
                    .into());
                }
                0
            }
            Some(c) => {
                let s = self
                    .load_session(&meta.id)?
                    .ok_or_else(|| BindError::Wait)?;
                let mine: bool = self
                    .conn
                    .query_row(
                        "SELECT 1 FROM uploads WHERE session_id = ?1 AND token_id = ?2 LIMIT 1",
                        params![meta.id, who.id],
                        |_| Ok(true),
                    )
                    .optional()?
                    .unwrap_or(false);
                if !mine {
                    return Err(CatalogError::denied(
                        &who.audit_name(),
                        "upload",
                        format!(
                            "session {} was not uploaded by this recorder",
                            shown(&meta.id)
                        ),
                    )
                    .into());
                }
                let prev = s
                    .files
                    .iter()
                    .find(|f| i64::from(f.seq) == i64::from(c.index) - 1);
                let Some(prev) = prev else {
                    return Err(BindError::Wait);
                };
                let prev_name = prev
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let first = s.files.first().map(|f| f.path.clone()).unwrap_or_default();
                let expected = continuation_path(&first, c.index);
                let expected_name = expected
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if c.predecessor != prev_name || u.file_name != expected_name {
                    return Err(CatalogError::Attribution {
                        session: shown(&meta.id),
                        reason: format!(
                            "{} says it continues {} as file {}; the session expects {} after {}",
                            shown(&u.file_name),
                            shown(&c.predecessor),
                            c.index,
                            shown(&expected_name),
                            shown(&prev_name)
                        ),
                    }
                    .into());
                }
                if s.files.iter().any(|f| f.seq == c.index) {
                    return Err(CatalogError::Exists {
                        kind: "recording file",
                        name: u.file_name.clone(),
                    }
                    .into());
                }
                if (ids.portal, ids.team, ids.rep) != (s.portal_id, s.team_id, s.rep_id)
                    || key.as_ref().map(|k| k.0) != s.key_id
                {
                    return Err(CatalogError::Attribution {
                        session: shown(&meta.id),
                        reason: format!(
                            "continuation file {} names another portal, team, representative or key than the session's first file",
                            shown(&u.file_name)
                        ),
                    }.into());
                }
                c.index
            }
        };
        private::create_dir(&self.dir.join(&rel_dir))?;
        if self.dir.join(&rel).exists() {
            return Err(CatalogError::Exists {
                kind: "recording file",
                name: rel.display().to_string(),
            }
            .into());
        }
        let tx = self.write_tx()?;
        if seq == 0 {
            self.insert_session_with_files(
                &meta,
                &ids,
                key.as_ref().map(|(id, b)| (*id, b.as_slice())),
                &[],
            )?;
        }
        self.conn.execute(
            "INSERT INTO session_files (session_id, seq, path, size, sha256) VALUES (?1, ?2, ?3, 0, '')",
            params![meta.id, seq, rel.to_string_lossy()],
        )?;
        self.conn
            .execute("UPDATE sessions SET live = 1 WHERE id = ?1", [&meta.id])?;
        self.conn.execute(
            "UPDATE uploads SET session_id = ?1, seq = ?2, path = ?3 WHERE id = ?4",
            params![meta.id, seq, rel.to_string_lossy(), u.id],
        )?;
        self.audit_as(
            &who.audit_name(),
            "upload",
            Some(&meta.id),
            "allowed",
            &format!(
                "upload {} is file {seq} ({}) of session {}; live",
                u.id, u.file_name, meta.id
            ),
        )?;
        tx.commit()?;
        let abs = self.dir.join(&rel);
        std::fs::rename(&u.path, &abs).map_err(|e| CatalogError::io(&abs, e))?;
        Ok(())
    }

    /// Marks an upload failed and drops its bytes; audited.
    fn fail_upload(
        &self,
        actor: &str,
        u: &UploadInfo,
        why: &CatalogError,
    ) -> Result<(), CatalogError> {
        let tx = self.write_tx()?;
        self.conn.execute(
            "UPDATE uploads SET state = 'failed', error = ?1, updated_us = ?2 WHERE id = ?3",
            params![
                crate::names::bounded(&why.to_string(), 1000),
                self.now(),
                u.id
            ],
        )?;
        self.audit_as(
            actor,
            "upload",
            u.session_id.as_deref(),
            &crate::audit::outcome_of(why),
            &format!("upload {} of {}: bytes dropped", u.id, u.file_name),
        )?;
        tx.commit()?;
        match std::fs::remove_file(&u.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(CatalogError::io(&u.path, e)),
        }
    }

    /// Verifies and hashes a bound upload whose bytes are all in (or that
    /// was abandoned: `abandoned` says why), makes it part of its session,
    /// and ends the session's live state when no file of it is still
    /// arriving.
    fn finish_upload(
        &self,
        actor: &str,
        u: &UploadInfo,
        abandoned: Option<&str>,
    ) -> Result<(), CatalogError> {
        let (Some(session), Some(seq)) = (u.session_id.as_deref(), u.seq) else {
            return Err(CatalogError::Corrupt(format!(
                "upload {} finished before its header was read",
                u.id
            )));
        };
        let (size, sha256) = hash_file(&u.path)?;
        let mut warnings = Vec::new();
        if let Some(why) = abandoned {
            warnings.push(format!("{} after {size} bytes", why));
        }
        match g2a_format::Reader::open(&u.path) {
            Ok(r) => verify_warnings(&u.file_name, &r.verify(), &mut warnings),
            Err(e) => warnings.push(format!("{}: {e}", u.file_name)),
        }
        let tx = self.write_tx()?;
        self.conn.execute(
            "UPDATE uploads SET state = 'done', length = ?1, warnings = ?2, updated_us = ?3 WHERE id = ?4",
            params![
                size as i64,
                crate::names::bounded(&warnings.join("\n"), 4000),
                self.now(),
                u.id
            ],
        )?;
        self.conn.execute(
            "UPDATE session_files SET size = ?1, sha256 = ?2 WHERE session_id = ?3 AND seq = ?4",
            params![size as i64, sha256, session, seq],
        )?;
        let still: bool = self
            .conn
            .query_row(
                "SELECT 1 FROM uploads WHERE session_id = ?1 AND state = 'receiving' LIMIT 1",
                [session],
                |_| Ok(true),
            )
            .optional()?
            .unwrap_or(false);
        let first: Option<String> = self
            .conn
            .query_row(
                "SELECT path FROM session_files WHERE session_id = ?1 AND seq = 0",
                [session],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(first) = first {
            let set = SessionSet::open(self.dir.join(first))
                .map_err(|e| CatalogError::format(&u.path, e))?;
            let duration = i64::try_from(set.duration().as_micros()).unwrap_or(i64::MAX);
            self.conn.execute(
                "UPDATE sessions SET end_us = start_us + ?1, tracks = ?2, live = ?3 WHERE id = ?4",
                params![duration, tracks_of(&set).join(","), still, session],
            )?;
        }
        self.audit_as(
            actor,
            "upload",
            Some(session),
            "allowed",
            &format!(
                "upload {} done: file {seq} ({}), {size} bytes, sha256 {sha256}{}{}",
                u.id,
                u.file_name,
                if still {
                    "; session still live"
                } else {
                    "; session complete"
                },
                if warnings.is_empty() {
                    String::new()
                } else {
                    format!("; warnings: {}", warnings.join("; "))
                }
            ),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Housekeeping of uploads, for the service to run now and then (and
    /// at start): finishes uploads whose bytes are all in (a server stopped
    /// before it could), finishes uploads idle for `idle_secs` as they are
    /// (a recorder that went away: its bytes are a readable recording), and
    /// drops idle uploads that never delivered a header.
    ///
    /// # Errors
    /// Database and I/O errors.
    pub fn sweep_uploads(&self, idle_secs: u64) -> Result<UploadSweep, CatalogError> {
        let mut out = UploadSweep::default();
        if self.is_read_only() {
            return Ok(out);
        }
        let ids: Vec<String> = {
            let mut st = self
                .conn
                .prepare("SELECT id FROM uploads WHERE state = 'receiving'")?;
            let v = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
            v
        };
        let idle_before = self
            .now()
            .saturating_sub(i64::try_from(idle_secs.saturating_mul(1_000_000)).unwrap_or(i64::MAX));
        for id in ids {
            let Some((u, token)) = self.load_upload(&id)? else {
                continue;
            };
            let complete = u.length.is_some_and(|l| u.offset >= l);
            let idle = u.updated_unix_micros < idle_before;
            if u.session_id.is_none() && complete && !idle {
                // A continuation file waiting for its predecessor, or a
                // header the last request could not read: try again.
                let Some(who) = self.uploader_by_id(token)? else {
                    continue;
                };
                if self.upload_received(&who, &id).is_ok() {
                    out.joined += 1;
                }
                continue;
            }
            if u.session_id.is_some() && complete {
                self.finish_upload(SWEEPER, &u, None)?;
                out.finished += 1;
            } else if u.session_id.is_some() && idle {
                self.finish_upload(SWEEPER, &u, Some("upload abandoned by the recorder"))?;
                out.abandoned += 1;
            } else if idle || complete {
                let why = CatalogError::Invalid(format!(
                    "upload {} of {} stopped after {} bytes without joining a session (no complete header, or a continuation file whose predecessor never came)",
                    u.id,
                    shown(&u.file_name),
                    u.offset
                ));
                self.fail_upload(SWEEPER, &u, &why)?;
                out.dropped += 1;
            }
        }
        Ok(out)
    }
}
