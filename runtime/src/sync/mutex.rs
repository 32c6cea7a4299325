//! `Mutex<T>` and `Lock`: one holder at a time, waiting asynchronously — asyncio's `asyncio.Lock`,
//! with the data inside, as Rust does it.
//!
//! A [`Semaphore`] of one permit decides *who* holds the lock, in FIFO order and cancel-safely (a
//! waiter dropped after being granted the lock passes it on: the "cancelled head waiter deadlocks
//! `Lock`" bug asyncio shipped cannot happen), and costs one compare-and-swap to take and one to
//! give back when nobody waits. The data sits in an `UnsafeCell` (from the loom shim) that only the
//! permit's holder touches.
//!
//! This is the one place in `sync` with `unsafe` code, and it is there because it was measured
//! to matter: the first version kept the data in an uncontended `std` mutex (no `unsafe`), and
//! locking cost 19.7 ns against async-lock's 11.1 (benches/README.md); two atomic operations fewer
//! per lock is most of the difference. The argument is short: the single permit is held by at
//! most one guard at a time, so a guard's access to the cell is exclusive; the permit's
//! compare-and-swap (or the queue's lock, on the slow path) orders one holder's accesses before
//! the next holder's. The loom model `a_mutex_excludes_even_with_a_cancelled_waiter` checks that
//! ordering on the real code (loom's `UnsafeCell` reports any access not ordered after the
//! previous one), and the mutex tests run under Miri.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::semaphore::{Acquire, NoPermits, Semaphore, SemaphorePermit};
use super::SharedRef;
use crate::shim::UnsafeCell;
use crate::time::Elapsed;

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
    data: UnsafeCell<T>,
}

// SAFETY: the mutex hands `&mut T` to one holder at a time, possibly on another thread, so it
// may be shared between threads (`Sync`) exactly when `T` may be sent between them, as
// `std::sync::Mutex`. `Send` needs the same: the mutex owns a `T`.
unsafe impl<T: Send> Sync for Mutex<T> {}
// SAFETY: see above.
unsafe impl<T: Send> Send for Mutex<T> {}

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
            data: UnsafeCell::new(data),
        }
    }

    /// Waits until the mutex is free and takes it. Dropping the returned future while it waits
    /// gives up its place in the queue and loses nothing else.
    #[inline]
    pub fn lock(&self) -> MutexLock<'_, T> {
        MutexLock {
            mutex: self,
            acquire: self.holder.acquire(),
        }
    }

    /// Waits for the mutex, like [`lock`](Mutex::lock), and returns a guard that owns `this` (an
    /// `Rc`, an `Arc` or a `&'static`), so it can move into a spawned task or another thread —
    /// tokio's `lock_owned`. Cancel-safe as `lock`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use evloop::sync::Mutex;
    ///
    /// evloop::run(async {
    ///     let log = Rc::new(Mutex::new(Vec::new()));
    ///     let guard = Mutex::lock_owned(log.clone()).await;
    ///     // The lock travels with the task that finishes the work.
    ///     let writer = evloop::spawn(async move {
    ///         let mut guard = guard;
    ///         evloop::yield_now().await;
    ///         guard.push("written while held");
    ///     });
    ///     assert!(log.try_lock().is_err());
    ///     writer.await.unwrap();
    ///     assert_eq!(*log.lock().await, ["written while held"]);
    /// });
    /// ```
    pub async fn lock_owned<P: SharedRef<Mutex<T>>>(this: P) -> OwnedMutexGuard<T, P> {
        // The permit's count is the guard's to give back, in its `Drop`.
        this.holder.acquire().await.into_count();
        OwnedMutexGuard {
            mutex: this,
            _data: PhantomData,
        }
    }

    /// Takes the mutex from a plain thread, blocking it until the mutex is free. Threads and tasks
    /// queue together, first come, first served: a thread's turn comes as a task's would.
    ///
    /// # Panics
    ///
    /// On an evloop loop thread, which would stop while it waits: use `lock().await` there.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use evloop::sync::Mutex;
    ///
    /// let total = Arc::new(Mutex::new(0));
    /// let threads: Vec<_> = (0..4)
    ///     .map(|_| {
    ///         let total = total.clone();
    ///         std::thread::spawn(move || *total.lock_blocking() += 1)
    ///     })
    ///     .collect();
    /// threads.into_iter().for_each(|thread| thread.join().unwrap());
    /// assert_eq!(*total.lock_blocking(), 4);
    /// ```
    #[track_caller]
    pub fn lock_blocking(&self) -> MutexGuard<'_, T> {
        let permit = self
            .holder
            .acquire_blocking_as("Mutex::lock_blocking", "`lock().await`");
        self.guard(permit)
    }

    /// Like [`lock_blocking`](Mutex::lock_blocking), giving up after `timeout` (Python's
    /// `lock.acquire(timeout=)`). Giving up leaves the queue as a cancelled `lock()` does.
    ///
    /// # Errors
    ///
    /// [`Elapsed`] if the mutex was not free in time.
    ///
    /// # Panics
    ///
    /// On an evloop loop thread: use `timeout(d, lock()).await` there.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::sync::Mutex;
    ///
    /// let mutex = Mutex::new(0);
    /// let held = mutex.lock_blocking();
    /// std::thread::scope(|scope| {
    ///     let waiter = scope.spawn(|| mutex.lock_blocking_timeout(Duration::from_millis(10)).is_err());
    ///     assert!(waiter.join().unwrap(), "gave up: the mutex stayed held");
    /// });
    /// drop(held);
    /// assert_eq!(mutex.n_waiting(), 0); // the thread that gave up left the queue
    /// ```
    #[track_caller]
    pub fn lock_blocking_timeout(&self, timeout: Duration) -> Result<MutexGuard<'_, T>, Elapsed> {
        let permit = self.holder.acquire_blocking_timeout_as(
            timeout,
            "Mutex::lock_blocking_timeout",
            "`evloop::time::timeout(d, mutex.lock()).await`",
        )?;
        Ok(self.guard(permit))
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

    /// Takes the mutex if it is free and nobody is queued, like [`try_lock`](Mutex::try_lock),
    /// and returns a guard that owns `this` (an `Rc`, an `Arc` or a `&'static`) — tokio's
    /// `try_lock_owned`.
    ///
    /// # Errors
    ///
    /// [`NoPermits`] if it is held (or others are queued first); `this` is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use evloop::sync::Mutex;
    ///
    /// let config = Arc::new(Mutex::new(String::from("v1")));
    /// let mut guard = Mutex::try_lock_owned(config.clone()).unwrap();
    /// assert!(config.try_lock().is_err());
    /// // The guard, and the lock with it, moves to another thread.
    /// std::thread::spawn(move || guard.push_str("+patch")).join().unwrap();
    /// assert_eq!(*config.try_lock().unwrap(), "v1+patch");
    /// ```
    pub fn try_lock_owned<P: SharedRef<Mutex<T>>>(
        this: P,
    ) -> Result<OwnedMutexGuard<T, P>, NoPermits> {
        // The permit's count is the guard's to give back, in its `Drop`.
        this.holder.try_acquire()?.into_count();
        Ok(OwnedMutexGuard {
            mutex: this,
            _data: PhantomData,
        })
    }

    /// The semaphore deciding who holds the mutex (a condition wait re-acquires through it).
    pub(super) fn holder(&self) -> &Semaphore {
        &self.holder
    }

    /// The guard for the holder of `permit`, the mutex's single permit.
    pub(super) fn guard<'a>(&'a self, permit: SemaphorePermit<'a>) -> MutexGuard<'a, T> {
        MutexGuard {
            _permit: permit,
            mutex: self,
            _data: PhantomData,
        }
    }

    /// How many tasks and threads wait for the mutex right now.
    pub fn n_waiting(&self) -> usize {
        self.holder.n_waiting()
    }

    /// Whether someone holds the mutex right now.
    ///
    /// **Differs from asyncio on purpose:** from the moment a holder unlocks until the next
    /// waiter resumes, the mutex already belongs to that waiter and reports locked (asyncio's
    /// `Lock.locked()` is briefly `False` there, and a newcomer could take the lock from the woken
    /// waiter). Hand-over keeps the queue's order, so nobody jumps it.
    pub fn is_locked(&self) -> bool {
        self.holder.available_permits() == 0
    }

    /// The data, by exclusive reference: no locking needed.
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` rules out any guard, so nobody else can reach the data.
        self.data.with_mut(|data| unsafe { &mut *data })
    }

    /// The data, consuming the mutex.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
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

/// The future returned by [`Mutex::lock`]: waits for the mutex's permit, then gives its guard.
///
/// A named future rather than an `async fn` so that its `poll` can be `#[inline]`: an
/// uncontended lock then compiles into the caller's task as a budget check and one
/// compare-and-swap, however many places call `lock` (the compiler stops inlining an
/// `async fn`'s body into its callers once there are several).
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct MutexLock<'a, T> {
    mutex: &'a Mutex<T>,
    acquire: Acquire<'a>,
}

impl<'a, T> Future for MutexLock<'a, T> {
    type Output = MutexGuard<'a, T>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let mutex = self.mutex;
        Pin::new(&mut self.acquire)
            .poll(cx)
            .map(|permit| mutex.guard(permit))
    }
}

impl<T> fmt::Debug for MutexLock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MutexLock")
            .field("acquire", &self.acquire)
            .finish_non_exhaustive()
    }
}

/// Exclusive access to a [`Mutex`]'s data; the mutex is released when the guard is dropped.
///
/// `Send` when `T` is (dropping it on another thread is fine), `Sync` when `T` is `Sync`.
#[must_use = "the mutex is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T> {
    /// The mutex's single permit, held for its `Drop` (which unlocks): proof that this guard's
    /// access to the data is exclusive.
    _permit: SemaphorePermit<'a>,
    mutex: &'a Mutex<T>,
    /// Makes the guard `Sync` only if `T` is, like the `&mut T` it stands for.
    _data: PhantomData<&'a mut T>,
}

impl<'a, T> MutexGuard<'a, T> {
    /// Unlocks, returning the mutex so it can be locked again (a condition wait does this).
    pub(super) fn unlock(guard: MutexGuard<'a, T>) -> &'a Mutex<T> {
        let mutex = guard.mutex;
        drop(guard);
        mutex
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the mutex's only permit, so no other guard exists, and the
        // permit's hand-over ordered the previous holder's accesses before ours (module doc).
        self.mutex.data.with(|data| unsafe { &*data })
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` also rules out another reference through this guard.
        self.mutex.data.with_mut(|data| unsafe { &mut *data })
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Exclusive access to a [`Mutex`]'s data by a guard that owns the mutex through `P` (an `Rc`, an
/// `Arc` or a `&'static`): from [`Mutex::lock_owned`]. The mutex is released when it is dropped.
///
/// `Send` when `T` and `P` are, `Sync` when `T` is `Sync` (and `P` is).
#[must_use = "the mutex is released as soon as the guard is dropped"]
pub struct OwnedMutexGuard<T, P: SharedRef<Mutex<T>>> {
    /// Holds the mutex's single permit (taken in `lock_owned`, given back in `drop`). `P` is a
    /// `SharedRef`, so it reaches that same mutex every time.
    mutex: P,
    /// Stands for the `T` this guard gives access to: `Send`/`Sync` only as `T` is.
    _data: PhantomData<T>,
}

impl<T, P: SharedRef<Mutex<T>>> OwnedMutexGuard<T, P> {
    /// The mutex it holds.
    pub fn mutex(&self) -> &P {
        &self.mutex
    }
}

impl<T, P: SharedRef<Mutex<T>>> Deref for OwnedMutexGuard<T, P> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the mutex's only permit (from `lock_owned`, until `drop`), and
        // `P: SharedRef` reaches that same mutex on every dereference; the rest as in
        // `MutexGuard::deref`.
        self.mutex.data.with(|data| unsafe { &*data })
    }
}

impl<T, P: SharedRef<Mutex<T>>> DerefMut for OwnedMutexGuard<T, P> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` also rules out another reference through this guard.
        self.mutex.data.with_mut(|data| unsafe { &mut *data })
    }
}

impl<T, P: SharedRef<Mutex<T>>> Drop for OwnedMutexGuard<T, P> {
    fn drop(&mut self) {
        self.mutex.holder.add_permits(1);
    }
}

impl<T: fmt::Debug, P: SharedRef<Mutex<T>>> fmt::Debug for OwnedMutexGuard<T, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
