//! The service's shared state: a pool of catalog connections (each request
//! borrows one on a blocking thread), the login policy, the keyrings of
//! unlocked portal keys per login, and the viewer limit.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use g2a_catalog::{Catalog, Keyring, LoginPolicy};
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// How the service runs (what `g2a serve` sets from its flags).
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    /// How long logins last.
    pub login_policy: LoginPolicy,
    /// Catalog connections (and so catalog requests served at once).
    pub catalog_connections: usize,
    /// Viewers (browser players) decoding at once; more get "busy".
    pub max_viewers: usize,
    /// Largest request body accepted, in bytes (uploads excepted).
    pub max_body_bytes: usize,
    /// Whether the service is reached over TLS (cookies get `Secure`).
    pub tls: bool,
    /// Largest recording file one upload may bring, in bytes.
    pub max_upload_bytes: u64,
    /// Upload requests (`PATCH`) receiving at once; more get "busy".
    pub max_uploads: usize,
    /// An upload idle this long is finished as it is (seconds).
    pub upload_idle_secs: u64,
}

impl Default for ServiceOptions {
    fn default() -> Self {
        ServiceOptions {
            login_policy: LoginPolicy::default(),
            catalog_connections: 4,
            max_viewers: 16,
            max_body_bytes: 64 * 1024,
            tls: false,
            max_upload_bytes: 64 << 30,
            max_uploads: 64,
            upload_idle_secs: 24 * 3600,
        }
    }
}

/// The keys a login unlocked, and when it was last used.
struct KeyringEntry {
    keyring: Arc<Mutex<Keyring>>,
    last_used: Instant,
    expires_unix_micros: i64,
}

/// State shared by every request.
pub struct AppState {
    pool: deadpool::unmanaged::Pool<Catalog>,
    dir: PathBuf,
    /// Options.
    pub opts: ServiceOptions,
    keyrings: Mutex<HashMap<String, KeyringEntry>>,
    /// One permit per viewer decoding.
    pub viewers: Arc<Semaphore>,
    /// Cursor tracks shared by the viewers of a recording.
    pub cursors: crate::viewer::CursorTracks,
    /// Export jobs.
    pub jobs: crate::exports::Jobs,
    /// One permit per upload request receiving.
    pub uploads: Arc<Semaphore>,
    /// One lock per upload with a request in progress.
    pub upload_locks: crate::uploads::UploadLocks,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("catalog", &self.dir)
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Opens `opts.catalog_connections` connections to the catalog in `dir`.
    ///
    /// # Errors
    /// The catalog's, when it can't be opened.
    pub fn open(
        dir: &Path,
        opts: ServiceOptions,
    ) -> Result<Arc<AppState>, g2a_catalog::CatalogError> {
        let n = opts.catalog_connections.max(1);
        let mut cats = Vec::with_capacity(n);
        for _ in 0..n {
            cats.push(Catalog::open(dir)?);
        }
        Ok(Arc::new(AppState {
            pool: deadpool::unmanaged::Pool::from(cats),
            dir: dir.to_owned(),
            viewers: Arc::new(Semaphore::new(opts.max_viewers.max(1))),
            cursors: crate::viewer::CursorTracks::default(),
            uploads: Arc::new(Semaphore::new(opts.max_uploads.max(1))),
            upload_locks: crate::uploads::UploadLocks::default(),
            opts,
            keyrings: Mutex::new(HashMap::new()),
            jobs: crate::exports::Jobs::new().map_err(|e| g2a_catalog::CatalogError::Io {
                path: std::env::temp_dir(),
                error: e,
            })?,
        }))
    }

    /// The catalog directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `f` with a catalog connection on a blocking thread.
    ///
    /// # Errors
    /// "busy" when no connection frees up within 10 s; whatever `f`
    /// returns.
    pub async fn with_catalog<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Catalog) -> Result<T, ApiError> + Send + 'static,
    {
        let busy = || ApiError::busy("all catalog connections are in use");
        let cat = tokio::time::timeout(Duration::from_secs(10), self.pool.get())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        tokio::task::spawn_blocking(move || {
            let cat = cat;
            f(&cat)
        })
        .await
        .map_err(ApiError::internal)?
    }

    /// The keyring of a login (created empty on first use).
    pub fn keyring(&self, login_id: &str, expires_unix_micros: i64) -> Arc<Mutex<Keyring>> {
        let mut map = self
            .keyrings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let e = map
            .entry(login_id.to_owned())
            .or_insert_with(|| KeyringEntry {
                keyring: Arc::new(Mutex::new(Keyring::new())),
                last_used: Instant::now(),
                expires_unix_micros,
            });
        e.last_used = Instant::now();
        e.keyring.clone()
    }

    /// Drops (and so wipes) a login's keys, on logout.
    pub fn forget_keys(&self, login_id: &str) {
        let removed = self
            .keyrings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(login_id);
        if let Some(e) = removed {
            e.keyring
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clear();
        }
    }

    /// Drops the keys of logins idle or expired by now; returns how many
    /// keyrings are left.
    pub fn sweep_keys(&self, now_unix_micros: i64) -> usize {
        let idle = Duration::from_secs(self.opts.login_policy.idle_secs);
        let mut map = self
            .keyrings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.retain(|_, e| {
            let keep = e.last_used.elapsed() < idle && now_unix_micros < e.expires_unix_micros;
            if !keep {
                e.keyring
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clear();
            }
            keep
        });
        map.len()
    }
}

/// Microseconds since the Unix epoch, now.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
