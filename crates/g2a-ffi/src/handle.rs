//! Recorder handles: the registry of live handles and exclusive access.
//!
//! Invariants (cited by the `SAFETY` notes below):
//! 1. A handle is the address of a `Box<g2a_recorder>` leaked by
//!    [`register`], and is in [`LIVE`] from then until [`unregister`]
//!    removes it; only after that is the box rebuilt and dropped.
//! 2. [`LIVE`]'s lock is held whenever a handle is looked up, its inner
//!    lock taken, or it is removed; so a handle found in [`LIVE`] is not
//!    freed while the lookup runs, and one whose inner lock is held (a call
//!    in progress) is never removed.
//! 3. All access to a recorder goes through its inner `Mutex`: shared
//!    references to `g2a_recorder` are all that is ever created, so calls
//!    from several threads can't alias a `&mut`.

use std::collections::BTreeSet;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};

use g2a_core::Limits;

use crate::error::{panic_message, FfiError};
use crate::g2a_recorder;

/// The state behind a handle.
pub(crate) struct Inner {
    /// The recorder.
    pub(crate) recorder: g2a_rs::Recorder,
    /// The limits its frames are checked against.
    pub(crate) limits: Limits,
    /// Set when a call panicked: later calls are refused.
    pub(crate) poisoned: bool,
}

/// A handle may move between threads (one at a time): its state must be `Send`.
const _: () = {
    const fn send<T: Send>() {}
    send::<Inner>();
};

/// Addresses of the live handles.
static LIVE: Mutex<BTreeSet<usize>> = Mutex::new(BTreeSet::new());

fn live() -> MutexGuard<'static, BTreeSet<usize>> {
    // The set is only inserted into and removed from: a panic elsewhere
    // can't leave it half-updated, so a poisoned lock is still usable.
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Makes a handle for `inner`.
pub(crate) fn register(inner: Inner) -> *mut g2a_recorder {
    let ptr = Box::into_raw(Box::new(g2a_recorder {
        inner: Mutex::new(inner),
    }));
    live().insert(ptr as usize);
    ptr
}

/// Runs `f` with exclusive access to the recorder behind `rec`.
///
/// # Errors
/// [`FfiError::NullPointer`], [`FfiError::BadHandle`] for a pointer that is
/// not a live handle, [`FfiError::Busy`] when another call holds it,
/// [`FfiError::Poisoned`] after a panic in an earlier call,
/// [`FfiError::Panic`] when `f` panics, and whatever `f` returns.
pub(crate) fn with_recorder<T>(
    rec: *mut g2a_recorder,
    f: impl FnOnce(&mut Inner) -> Result<T, FfiError>,
) -> Result<T, FfiError> {
    if rec.is_null() {
        return Err(FfiError::NullPointer("rec"));
    }
    let set = live();
    if !set.contains(&(rec as usize)) {
        return Err(FfiError::BadHandle(rec as usize));
    }
    // SAFETY: `rec` is in LIVE and LIVE's lock is held, so it points to a
    // live, leaked `Box<g2a_recorder>` (invariants 1, 2). The box is not
    // freed while its inner lock is held (invariant 2), and the reference
    // is shared (invariant 3).
    let handle: &g2a_recorder = unsafe { &*rec };
    let mut guard = match handle.inner.try_lock() {
        Ok(g) => g,
        Err(TryLockError::WouldBlock) => return Err(FfiError::Busy),
        Err(TryLockError::Poisoned(_)) => return Err(FfiError::Poisoned),
    };
    drop(set);
    if guard.poisoned {
        return Err(FfiError::Poisoned);
    }
    match panic::catch_unwind(AssertUnwindSafe(|| f(&mut guard))) {
        Ok(r) => r,
        Err(payload) => {
            // The recorder may be half-updated: refuse later calls on it.
            guard.poisoned = true;
            Err(FfiError::Panic(panic_message(payload.as_ref())))
        }
    }
}

/// Removes `rec` from the live handles and returns its state, consuming
/// the handle. `Ok(None)` when an earlier panic left it unusable (its
/// state is then dropped here, best effort).
///
/// # Errors
/// [`FfiError::NullPointer`], [`FfiError::BadHandle`], [`FfiError::Busy`]
/// (the handle is then left alone).
pub(crate) fn unregister(rec: *mut g2a_recorder) -> Result<Option<Inner>, FfiError> {
    if rec.is_null() {
        return Err(FfiError::NullPointer("rec"));
    }
    let mut set = live();
    if !set.contains(&(rec as usize)) {
        return Err(FfiError::BadHandle(rec as usize));
    }
    {
        // SAFETY: as in `with_recorder`: in LIVE under its lock (1, 2), shared (3).
        let handle: &g2a_recorder = unsafe { &*rec };
        if let Err(TryLockError::WouldBlock) = handle.inner.try_lock() {
            return Err(FfiError::Busy);
        }
    }
    set.remove(&(rec as usize));
    drop(set);
    // SAFETY: `rec` came from `Box::into_raw` in `register` (invariant 1);
    // it was just removed from LIVE with no call holding its inner lock, so
    // no other reference to it exists or can be made (invariant 2).
    let handle = unsafe { Box::from_raw(rec) };
    let inner = handle
        .inner
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    if inner.poisoned {
        // Dropping finishes the file, best effort; catch a second panic.
        let _ = panic::catch_unwind(AssertUnwindSafe(move || drop(inner)));
        return Ok(None);
    }
    Ok(Some(inner))
}
