//! The seam between evloop and the loom model checker.
//!
//! Every piece of evloop that two threads can touch at once (a task's state word, the loop's inbox,
//! the parker) imports its `Arc`, `Mutex`, `Condvar`, atomics, `thread` and `UnsafeCell` from here,
//! never from `std` directly. In a normal build these are `std`'s own types. Built with
//! `RUSTFLAGS="--cfg loom"`, they are loom's instrumented copies, so the models in `loom-tests/`
//! explore every interleaving of *this crate's code*, not of a copy kept beside it.
//!
//! `UnsafeCell` is the one type that differs in shape: loom needs to see each access to the cell's
//! contents, so both versions expose the contents only through `with` (shared access) and
//! `with_mut` (exclusive access) closures, which loom checks for data races and std compiles down to
//! a plain pointer.
//!
//! Code that only ever runs on the loop's own thread (the run queue, the timer heap) uses plain
//! `std::cell` types and does not come through here: there is nothing for loom to interleave.

#[cfg(loom)]
pub(crate) use loom::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Condvar, Mutex, MutexGuard,
    },
    thread,
};

// The thread-local "current runtime" slot is declared for each build in runtime/context.rs.
#[cfg(not(loom))]
pub(crate) use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Condvar, Mutex, MutexGuard,
    },
    thread,
};

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

/// `std::cell::UnsafeCell` behind loom's closure-based interface (see the module doc).
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// The contents, consuming the cell.
    pub(crate) fn into_inner(self) -> T {
        self.0.into_inner()
    }

    /// Runs `f` with a pointer for reading the contents. The caller's protocol must rule out a
    /// concurrent `with_mut`.
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a pointer for writing the contents. The caller's protocol must rule out any
    /// concurrent access.
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// Waits on `condvar` for at most `timeout`, ignoring poisoning (as [`lock`] does); `guard` must
/// be `mutex`'s. Returns the guard and whether the wait timed out.
///
/// loom does not model time: its `wait_timeout` never times out. So that the models can still
/// reach the code that runs after a timeout (a pool worker retiring when idle), the loom build
/// treats a *zero* timeout as "times out at once": it unlocks `mutex`, lets other threads run,
/// locks it again and reports a timeout, which is what a real zero-length wait does. Any other
/// timeout waits for a notification. (That is why `mutex` is passed: loom's guard cannot give
/// its mutex back; the std build does not need it.)
pub(crate) fn wait_timeout<'a, T>(
    condvar: &Condvar,
    mutex: &'a Mutex<T>,
    guard: MutexGuard<'a, T>,
    timeout: std::time::Duration,
) -> (MutexGuard<'a, T>, bool) {
    #[cfg(loom)]
    if timeout.is_zero() {
        drop(guard);
        thread::yield_now();
        return (lock(mutex), true);
    }
    #[cfg(not(loom))]
    let _ = mutex;
    let (guard, result) = condvar
        .wait_timeout(guard, timeout)
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    (guard, result.timed_out())
}

/// Locks `mutex`, ignoring poisoning.
///
/// evloop never panics while holding one of its own locks (the critical sections only move
/// pointers and flags), so a poisoned lock can only come from a panic inside loom's own machinery
/// or an allocation failure; the data is still consistent and carrying on is correct.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
