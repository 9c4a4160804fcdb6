//! The catalog's files are private to the account that runs it: folders
//! are created 0700 and files 0600, and opening a catalog (or a session's
//! recording) whose modes let other users read it is refused.

use std::fs::{DirBuilder, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::CatalogError;

/// Mode of every folder the catalog creates.
pub(crate) const DIR_MODE: u32 = 0o700;
/// Mode of every file the catalog creates.
pub(crate) const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) with mode 0700; an existing `dir`
/// is set to 0700.
pub(crate) fn create_dir(dir: &Path) -> Result<(), CatalogError> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(|e| CatalogError::io(dir, e))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))
        .map_err(|e| CatalogError::io(dir, e))
}

/// Creates a new file with mode 0600 (it must not exist).
pub(crate) fn create_file(path: &Path) -> Result<File, CatalogError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
        .map_err(|e| CatalogError::io(path, e))
}

/// Refuses `path` when its mode lets the group or other users in.
pub(crate) fn check(path: &Path) -> Result<(), CatalogError> {
    let meta = std::fs::metadata(path).map_err(|e| CatalogError::io(path, e))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(CatalogError::NotPrivate {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

/// True when `path`'s mode has no write bit (the catalog is then opened
/// read-only, also for root, who could write it anyway).
pub(crate) fn is_read_only(path: &Path) -> Result<bool, CatalogError> {
    let meta = std::fs::metadata(path).map_err(|e| CatalogError::io(path, e))?;
    Ok(meta.permissions().mode() & 0o222 == 0)
}
