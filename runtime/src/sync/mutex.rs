//! `Mutex<T>` and `Lock`: one holder at a time, waiting asynchronously — asyncio's `asyncio.Lock`,
//! with the data inside, as Rust does it.
//!
//! Built from parts already here: a [`Semaphore`] of one permit decides *who* holds the lock, in
//! FIFO order and cancel-safely (a waiter dropped after being granted the lock passes it on: the
//! "cancelled head waiter deadlocks `Lock`" bug asyncio shipped cannot happen); the data sits in
//! a plain mutex from the loom shim, which the permit guarantees is never contended, so taking it
//! is one uncontended atomic operation — and no `unsafe` code is needed to hand out `&mut T`.
//!
//! The guard holds both; it releases the data first, then the permit, so the next holder always
//! finds the data free.

#![forbid(unsafe_code)]

use std::fmt;
use std::ops::{Deref, DerefMut};

use super::semaphore::{NoPermits, Semaphore, SemaphorePermit};
use crate::shim::{lock, MutexGuard as DataGuard};

/// An asynchronous mutex: [`lock`](Mutex::lock) waits (without blocking the thread) until the
/// data is free, first come, first served.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use evloop::sync::Mutex;
///
/// evloop::run(async {
///     let counter = Rc::new(Mutex::new(0));
///     let tasks: Vec<_> = (0..10)
///         .map(|_| {
///             let counter = counter.clone();
///             evloop::spawn(async move {
///                 let mut value = counter.lock().await;
///                 let read = *value;
///                 evloop::yield_now().await; // still held across the await
///                 *value = read + 1;
///             })
///         })
///         .collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
///     assert_eq!(*counter.lock().await, 10);
/// });
/// ```
pub struct Mutex<T> {
    holder: Semaphore,
    data: crate::shim::Mutex<T>,
}

/// asyncio's plain `Lock`: a [`Mutex`] guarding nothing.
///
/// ```
/// let lock = evloop::sync::Lock::default();
/// evloop::run(async {
///     let _held = lock.lock().await;
///     assert!(lock.try_lock().is_err());
/// });
/// ```
pub type Lock = Mutex<()>;

impl<T> Mutex<T> {
    /// A mutex holding `data`.
    pub fn new(data: T) -> Mutex<T> {
        Mutex {
            holder: Semaphore::new(1),
            data: crate::shim::Mutex::new(data),
        }
    }

    /// Waits until the mutex is free and takes it. Dropping the returned future while it waits
    /// gives up its place in the queue and loses nothing else.
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        let permit = self.holder.acquire().await;
        self.guard(permit)
    }

    /// Takes the mutex if it is free and nobody is queued; never waits.
    ///
    /// # Errors
    ///
    /// [`NoPermits`] if it is held (or others are queued first).
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, NoPermits> {
        let permit = self.holder.try_acquire()?;
        Ok(self.guard(permit))
    }

    fn guard<'a>(&'a self, permit: SemaphorePermit<'a>) -> MutexGuard<'a, T> {
        MutexGuard {
            // Never contended: only the holder of the single permit gets here.
            data: lock(&self.data),
            _permit: permit,
        }
    }

    /// Whether someone holds the mutex right now.
    pub fn is_locked(&self) -> bool {
        self.holder.available_permits() == 0
    }

    /// The data, by exclusive reference: no locking needed.
    pub fn get_mut(&mut self) -> &mut T {
        self.data
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The data, consuming the mutex.
    pub fn into_inner(self) -> T {
        self.data
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex")
            .field("locked", &self.is_locked())
            .finish_non_exhaustive()
    }
}

/// Exclusive access to a [`Mutex`]'s data; the mutex is released when the guard is dropped.
#[must_use = "the mutex is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T> {
    // Field order is drop order: the data is released before the permit lets the next holder in.
    data: DataGuard<'a, T>,
    _permit: SemaphorePermit<'a>,
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.data
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.data, f)
    }
}
