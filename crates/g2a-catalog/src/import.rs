//! Importing `.g2a` recordings: metadata from the header, checked against
//! the organisation and the portal's passphrase, files verified and copied
//! into the catalog with their sizes and SHA-256 checksums.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use g2a_format::{SessionHeader, SessionSet, Track, TrailerState, VerifyReport};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::catalog::RECORDINGS_DIR;
use crate::crypto::{split_key_block, SCHEME};
use crate::model::{Actor, ImportOptions, Imported, NewSession, RecordingFile};
use crate::names::shown;
use crate::sessions::Attribution;
use crate::{private, Catalog, CatalogError};

/// Metadata keys read from the header's free metadata.
const RATING_KEY: &str = "rating";
/// Prefix of the folders recordings are copied into before they are
/// moved into place (session ids never begin with a dot).
pub(crate) const STAGING_PREFIX: &str = ".import-";

/// A recording read, checked and copied, waiting for its rows.
struct Staged {
    meta: NewSession,
    ids: Attribution,
    key: Option<(i64, Vec<u8>)>,
    /// Absolute staging folder.
    staging: PathBuf,
    /// File names, in order.
    names: Vec<std::ffi::OsString>,
    sums: Vec<(u64, String)>,
    warnings: Vec<String>,
    overrides: Vec<String>,
}

impl Catalog {
    /// Imports a recording (its first file; continuation files next to it
    /// are found and imported with it) as `actor` (company managers only).
    ///
    /// The header is not trusted: its portal, team and representative must
    /// exist; the representative must be a representative, in that team,
    /// and the team assigned to the portal (a company manager may accept a
    /// mismatch with [`ImportOptions::accept_attribution`], audited). A
    /// recording in clear is refused for a portal that has a passphrase
    /// (unless [`ImportOptions::accept_unencrypted`], audited); an
    /// encrypted one must be encrypted to a key of that portal (or of the
    /// parent whose passphrase it inherits). Every file is verified: damage
    /// and a missing trailer come back as warnings. Files are copied under
    /// a staging name and moved into place with the rows, so two imports at
    /// once never see each other's files.
    ///
    /// # Errors
    /// Denied; [`CatalogError::Format`] for unreadable recordings;
    /// [`CatalogError::NotFound`] for unknown names;
    /// [`CatalogError::Attribution`]; [`CatalogError::Coverage`];
    /// [`CatalogError::Exists`] when the session is already in the catalog;
    /// [`CatalogError::Crypto`] for an unknown encryption scheme or key.
    pub fn import_recording(
        &self,
        actor: &Actor,
        first: &Path,
        opts: &ImportOptions,
    ) -> Result<Imported, CatalogError> {
        let mut session = None;
        let staged = self
            .require_company(actor, "import")
            .and_then(|()| self.stage(first, opts, &mut session));
        let staging = staged.as_ref().ok().map(|s| s.staging.clone());
        let mut target = None;
        let r = self.managed(actor, "import", session.as_deref(), |detail| {
            *detail = format!("file {}", shown(&first.display().to_string()));
            let s = staged?;
            if !s.overrides.is_empty() {
                detail.push_str(&format!("; overridden: {}", s.overrides.join("; ")));
            }
            if !s.warnings.is_empty() {
                detail.push_str(&format!("; warnings: {}", s.warnings.join("; ")));
            }
            if self.session_exists(&s.meta.id)? {
                return Err(CatalogError::Exists {
                    kind: "session",
                    name: s.meta.id.clone(),
                });
            }
            let rel_dir = PathBuf::from(RECORDINGS_DIR).join(&s.meta.id);
            let abs_dir = self.dir.join(&rel_dir);
            std::fs::rename(&s.staging, &abs_dir).map_err(|e| CatalogError::io(&abs_dir, e))?;
            target = Some(abs_dir);
            let files: Vec<RecordingFile> = s
                .names
                .iter()
                .zip(&s.sums)
                .enumerate()
                .map(|(seq, (name, (size, sha256)))| RecordingFile {
                    seq: u32::try_from(seq).unwrap_or(u32::MAX),
                    path: rel_dir.join(name),
                    size: *size,
                    sha256: sha256.clone(),
                })
                .collect();
            self.insert_session_with_files(
                &s.meta,
                &s.ids,
                s.key.as_ref().map(|(id, b)| (*id, b.as_slice())),
                &files,
            )?;
            Ok(s.warnings
                .into_iter()
                .chain(s.overrides)
                .collect::<Vec<_>>())
        });
        match r {
            Ok(warnings) => Ok(Imported {
                session: self.session_for_import(session.as_deref().unwrap_or_default())?,
                warnings,
            }),
            Err(e) => {
                // Leave no orphan files behind.
                for d in [staging, target].into_iter().flatten() {
                    if d.exists() {
                        let _ = std::fs::remove_dir_all(&d);
                    }
                }
                Err(e)
            }
        }
    }

    /// Reads and checks a recording and copies its files into a staging
    /// folder; `id` receives the header's session id as soon as it is read,
    /// so that a refusal is logged with it.
    fn stage(
        &self,
        first: &Path,
        opts: &ImportOptions,
        id: &mut Option<String>,
    ) -> Result<Staged, CatalogError> {
        let set = SessionSet::open(first).map_err(|e| CatalogError::format(first, e))?;
        let h = set.header().clone();
        *id = Some(h.session_id.clone());
        let duration = i64::try_from(set.duration().as_micros()).unwrap_or(i64::MAX);
        let HeaderCheck {
            mut meta,
            ids,
            key,
            overrides,
        } = self.check_header(&h, opts)?;
        meta.end_unix_micros = h.start_time_unix_micros.saturating_add(duration);
        meta.tracks = tracks_of(&set);
        let mut warnings = Vec::new();
        for r in set.files() {
            let name = r
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            verify_warnings(&name, &r.verify(), &mut warnings);
        }
        let mut tag = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut tag);
        let staging = self
            .dir
            .join(RECORDINGS_DIR)
            .join(format!("{STAGING_PREFIX}{}", hex::encode(tag)));
        private::create_dir(&staging)?;
        let copied = (|| {
            let mut names = Vec::new();
            let mut sums = Vec::new();
            for r in set.files() {
                let src = r
                    .path()
                    .ok_or_else(|| CatalogError::Corrupt("session file has no path".into()))?;
                let name = src.file_name().ok_or_else(|| {
                    CatalogError::Invalid(format!("{} has no file name", src.display()))
                })?;
                sums.push(copy_hashing(src, &staging.join(name))?);
                names.push(name.to_owned());
            }
            Ok((names, sums))
        })();
        let (names, sums) = match copied {
            Ok(v) => v,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(e);
            }
        };
        Ok(Staged {
            meta,
            ids,
            key,
            staging,
            names,
            sums,
            warnings,
            overrides,
        })
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
            let p = self.dir.join(&f.path);
            match hash_file(&p) {
                Ok((size, sum)) if size == f.size && sum == f.sha256 => {}
                _ => bad.push(p),
            }
        }
        Ok(bad)
    }
}

/// What a recording's header resolves to in this catalog.
pub(crate) struct HeaderCheck {
    /// The session's metadata (its end is its start, and it has no tracks:
    /// the caller knows those from the files).
    pub(crate) meta: NewSession,
    pub(crate) ids: Attribution,
    /// The portal key the recording is encrypted to, and its key block.
    pub(crate) key: Option<(i64, Vec<u8>)>,
    /// The checks a company manager's options overrode.
    pub(crate) overrides: Vec<String>,
}

/// The tracks that have records in any file of the set.
pub(crate) fn tracks_of(set: &SessionSet) -> Vec<String> {
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
    tracks
}

impl Catalog {
    /// Checks a recording's header against the organisation and the
    /// portal's passphrase (see [`Catalog::import_recording`]).
    pub(crate) fn check_header(
        &self,
        h: &SessionHeader,
        opts: &ImportOptions,
    ) -> Result<HeaderCheck, CatalogError> {
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
            end_unix_micros: h.start_time_unix_micros,
            rating,
            tracks: Vec::new(),
        };
        crate::sessions::check_session(&meta)?;
        let ids = self.attribution(&meta)?;
        let mut overrides = Vec::new();
        if !ids.problems.is_empty() {
            if !opts.accept_attribution {
                return Err(CatalogError::Attribution {
                    session: shown(&meta.id),
                    reason: format!(
                        "{} (a company manager may import it anyway, accepting the header's attribution)",
                        ids.problems.join("; ")
                    ),
                });
            }
            overrides.extend(
                ids.problems
                    .iter()
                    .map(|p| format!("attribution accepted: {p}")),
            );
        }
        let key = match &h.encryption {
            None => {
                if let Some((_, owner)) = self.active_key_of(ids.portal)? {
                    let reason = format!(
                        "is not encrypted, but portal {} has a session replay passphrase{}",
                        shown(&meta.portal),
                        if owner == ids.portal {
                            String::new()
                        } else {
                            format!(" (of portal {})", shown(&self.portal_name(owner)?))
                        }
                    );
                    if !opts.accept_unencrypted {
                        return Err(CatalogError::Coverage {
                            session: shown(&meta.id),
                            reason: format!(
                                "{reason}: its recordings must be encrypted (a company manager may import it anyway, in clear)"
                            ),
                        });
                    }
                    overrides.push(format!("imported in clear: {reason}"));
                }
                None
            }
            Some(enc) => {
                if enc.scheme != SCHEME {
                    return Err(CatalogError::Crypto(format!(
                        "recording uses encryption scheme {:?}, expected {SCHEME:?}",
                        enc.scheme
                    )));
                }
                let (recipient, _) = split_key_block(&enc.key_block)?;
                let (kid, owner) = self.key_for_recipient(&recipient)?.ok_or_else(|| {
                    CatalogError::Crypto(format!(
                        "recording is encrypted to {recipient}, which is no portal key of this catalog"
                    ))
                })?;
                if !self.ancestors("portals", ids.portal)?.contains(&owner) {
                    return Err(CatalogError::Coverage {
                        session: shown(&meta.id),
                        reason: format!(
                            "is labelled portal {} but encrypted to the key of portal {}",
                            shown(&meta.portal),
                            shown(&self.portal_name(owner)?)
                        ),
                    });
                }
                Some((kid, enc.key_block.clone()))
            }
        };
        Ok(HeaderCheck {
            meta,
            ids,
            key,
            overrides,
        })
    }
}

/// Copies `src` to `dst` (which must not exist; created 0600), returning
/// size and SHA-256.
fn copy_hashing(src: &Path, dst: &Path) -> Result<(u64, String), CatalogError> {
    let mut input = File::open(src).map_err(|e| CatalogError::io(src, e))?;
    let mut out = private::create_file(dst)?;
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

pub(crate) fn hash_file(p: &Path) -> Result<(u64, String), CatalogError> {
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

/// What verifying file `name` found, as import warnings: each damaged byte
/// range, and a trailer that is missing or damaged.
pub(crate) fn verify_warnings(name: &str, rep: &VerifyReport, warnings: &mut Vec<String>) {
    for d in &rep.damage {
        warnings.push(format!(
            "{name}: damaged bytes {}..{} ({} bytes): {}",
            d.start,
            d.end,
            d.end - d.start,
            d.reason
        ));
    }
    match &rep.trailer {
        TrailerState::Valid => {}
        TrailerState::Missing => warnings.push(format!(
            "{name}: no trailer (the recording was not finished)"
        )),
        TrailerState::Invalid(why) => warnings.push(format!("{name}: trailer damaged: {why}")),
        _ => warnings.push(format!("{name}: trailer in an unknown state")),
    }
}
