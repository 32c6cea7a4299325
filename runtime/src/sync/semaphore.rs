//! `Semaphore` and `BoundedSemaphore`: at most N holders at a time — asyncio's answer to "too many
//! coroutines at once" (sockets, open files, a rate-limited API).
//!
//! # Two paths
//!
//! The free permits live in one atomic word, shifted left by one; the low bit, `QUEUED`, says
//! that the [`WaitQueue`] (under its own mutex from the loom shim) is not empty.
//!
//! - **Fast path** (nobody queued): `acquire` and release are one compare-and-swap each on the
//!   word, and only while `QUEUED` is clear. An uncontended [`Mutex`](super::Mutex) is built on
//!   this, which is what makes it as cheap as async-lock's and `futures`' (benches/README.md).
//!   Both are `#[inline]`, so they compile into the caller's task; the slow paths are not.
//! - **Slow path** (somebody queued, or not enough permits): under the queue's mutex. A waiter
//!   queues itself and sets `QUEUED` with one atomic OR, so any release that has not happened yet
//!   sees the bit, fails its compare-and-swap, and takes the lock; any release that happened
//!   before is already counted in the word. Then it grants whatever the word holds to the queue
//!   in arrival order (maybe itself). While `QUEUED` is set only lock holders touch the permit
//!   count, so granting is plain arithmetic on the word; the last grant that empties the queue
//!   clears the bit.
//!
//! Invariant: whenever the lock is free, the head waiter (if any) asks for more than the word
//! holds — every change of the permits under `QUEUED` is followed by granting. So a waiter that
//! queues behind others needs no check at all, and only the first in line runs the granting.
//!
//! Releasing under `QUEUED` grants permits to the queued waiters, oldest first, inside the
//! critical section, so a waiter that is dropped after being granted gives its permits back to
//! the next one instead of losing them (see `wait_queue.rs`).
//!
//! Cancel safety: dropping an `acquire` future at any point loses no permit and no wake-up, and a
//! dropped waiter never blocks those behind it. (tokio documents its `acquire` as losing the
//! waiter's place in the queue when cancelled; here too the place is lost, but nothing else.)

#![forbid(unsafe_code)]

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::wait_queue::{change_then_wake, Removed, WaitQueue, Wakers};
use super::SharedRef;
use crate::coop;
use crate::park::{block_plain_thread, block_plain_thread_for};
use crate::shim::{lock, AtomicUsize, Mutex, Ordering};
use crate::time::Elapsed;

/// The word's low bit: the wait queue is not empty, so only lock holders may change the permits.
const QUEUED: usize = 1;
/// One permit, in the word.
const ONE: usize = 2;
/// The most permits a semaphore can hold (the word keeps one bit for `QUEUED`).
pub(super) const MAX_PERMITS: usize = usize::MAX >> 1;

/// A counting semaphore with FIFO fairness.
///
/// **Differs from asyncio on purpose:** a release hands its permits to the oldest waiters at once,
/// inside the release (the permits are theirs before they even run), rather than waking them to
/// race for the count as asyncio's `Semaphore` does. So a newcomer never takes a permit a woken
/// waiter was meant to get (asyncio had to patch exactly that unfairness), and a waiter that is
/// cancelled after its grant passes the permits on (see the module doc). Consequently
/// [`available_permits`](Semaphore::available_permits) does not count permits already granted to
/// a waiter that has not resumed yet. Threads waiting in `acquire_blocking` take their turn in the
/// same queue.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
/// use evloop::sync::Semaphore;
///
/// evloop::run(async {
///     let limit = Rc::new(Semaphore::new(2)); // at most 2 "API calls" at a time
///     let running = Rc::new(Cell::new(0));
///     let peak = Rc::new(Cell::new(0));
///     let calls: Vec<_> = (0..10)
///         .map(|_| {
///             let (limit, running, peak) = (limit.clone(), running.clone(), peak.clone());
///             evloop::spawn(async move {
///                 let _permit = limit.acquire().await;
///                 running.set(running.get() + 1);
///                 peak.set(peak.get().max(running.get()));
///                 evloop::time::sleep(Duration::from_millis(2)).await;
///                 running.set(running.get() - 1);
///             })
///         })
///         .collect();
///     for call in calls {
///         call.await.unwrap();
///     }
///     assert_eq!(peak.get(), 2);
/// });
/// ```
pub struct Semaphore {
    /// Free permits × 2, plus `QUEUED`.
    word: AtomicUsize,
    waiters: Mutex<WaitQueue>,
}

impl Default for Semaphore {
    /// One permit, as asyncio's `Semaphore()`.
    fn default() -> Semaphore {
        Semaphore::new(1)
    }
}

impl Semaphore {
    /// A semaphore with `permits` permits.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds `usize::MAX / 2`.
    pub fn new(permits: usize) -> Semaphore {
        assert!(
            permits <= MAX_PERMITS,
            "a Semaphore holds at most usize::MAX / 2 permits"
        );
        Semaphore {
            word: AtomicUsize::new(permits * ONE),
            waiters: Mutex::new(WaitQueue::default()),
        }
    }

    /// Waits for one permit. It is returned when the guard is dropped.
    #[inline]
    pub fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `permits` permits, taken all at once (never some now and the rest later).
    ///
    /// # Panics
    ///
    /// At once, if `permits` exceeds `usize::MAX / 2`, the most a semaphore can ever hold: such
    /// a request could never be granted, and as the head of the queue it would hold up every
    /// later `acquire` for good.
    #[track_caller]
    #[inline]
    pub fn acquire_many(&self, permits: usize) -> Acquire<'_> {
        assert!(
            permits <= MAX_PERMITS,
            "Semaphore::acquire_many({permits}) can never be granted: a semaphore holds at most \
             usize::MAX / 2 permits; ask for fewer"
        );
        Acquire {
            semaphore: self,
            need: permits,
            key: None,
        }
    }

    /// Waits for one permit, like [`acquire`](Semaphore::acquire), and returns a permit that
    /// owns `this` (an `Rc`, an `Arc` or a `&'static`), so it can move into a spawned task or
    /// another thread — tokio's `acquire_owned`. Cancel-safe as `acquire`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use evloop::sync::Semaphore;
    ///
    /// evloop::run(async {
    ///     let slots = Rc::new(Semaphore::new(2));
    ///     let mut workers = Vec::new();
    ///     for job in 0..5 {
    ///         // Taken here, released by the task when it finishes.
    ///         let slot = Semaphore::acquire_owned(slots.clone()).await;
    ///         workers.push(evloop::spawn(async move {
    ///             let _slot = slot;
    ///             evloop::yield_now().await;
    ///             job
    ///         }));
    ///     }
    ///     for worker in workers {
    ///         worker.await.unwrap();
    ///     }
    ///     assert_eq!(slots.available_permits(), 2);
    /// });
    /// ```
    pub async fn acquire_owned<P: SharedRef<Semaphore>>(this: P) -> OwnedSemaphorePermit<P> {
        let permits = this.acquire().await.into_count();
        OwnedSemaphorePermit {
            semaphore: this,
            permits,
        }
    }

    /// Takes one permit from a plain thread, blocking it until one is granted. Threads and tasks
    /// queue together, first come, first served.
    ///
    /// # Panics
    ///
    /// On an evloop loop thread, which would stop while it waits: use `acquire().await` there.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::Semaphore;
    ///
    /// let slots = Semaphore::new(2);
    /// std::thread::scope(|scope| {
    ///     for _ in 0..4 {
    ///         scope.spawn(|| {
    ///             let _slot = slots.acquire_blocking(); // at most two threads in here at once
    ///             assert!(slots.available_permits() <= 1);
    ///         });
    ///     }
    /// });
    /// assert_eq!(slots.available_permits(), 2);
    /// ```
    #[track_caller]
    pub fn acquire_blocking(&self) -> SemaphorePermit<'_> {
        self.acquire_blocking_as("Semaphore::acquire_blocking", "`acquire().await`")
    }

    /// Like [`acquire_blocking`](Semaphore::acquire_blocking), giving up after `timeout`
    /// (Python's `acquire(timeout=)`). Giving up leaves the queue as a cancelled `acquire()` does:
    /// no permit is lost.
    ///
    /// # Errors
    ///
    /// [`Elapsed`] if no permit was granted in time.
    ///
    /// # Panics
    ///
    /// On an evloop loop thread: use `timeout(d, acquire()).await` there.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::sync::Semaphore;
    ///
    /// let semaphore = Semaphore::new(1);
    /// let permit = semaphore.acquire_blocking_timeout(Duration::from_millis(10)).unwrap();
    /// assert!(semaphore.acquire_blocking_timeout(Duration::from_millis(10)).is_err());
    /// drop(permit);
    /// assert_eq!(semaphore.available_permits(), 1); // nothing lost to the timeout
    /// ```
    #[track_caller]
    pub fn acquire_blocking_timeout(
        &self,
        timeout: Duration,
    ) -> Result<SemaphorePermit<'_>, Elapsed> {
        self.acquire_blocking_timeout_as(
            timeout,
            "Semaphore::acquire_blocking_timeout",
            "`evloop::time::timeout(d, semaphore.acquire()).await`",
        )
    }

    /// `acquire_blocking`, named `call` in the loop-thread panic (a mutex's lock is one).
    #[track_caller]
    pub(super) fn acquire_blocking_as(&self, call: &str, instead: &str) -> SemaphorePermit<'_> {
        block_plain_thread(&mut self.acquire(), call, instead)
    }

    /// `acquire_blocking_timeout`, named `call` in the loop-thread panic.
    #[track_caller]
    pub(super) fn acquire_blocking_timeout_as(
        &self,
        timeout: Duration,
        call: &str,
        instead: &str,
    ) -> Result<SemaphorePermit<'_>, Elapsed> {
        block_plain_thread_for(&mut self.acquire(), timeout, call, instead).ok_or_else(Elapsed::new)
    }

    /// Takes a permit if one is free and nobody is queued; never waits.
    ///
    /// # Errors
    ///
    /// [`NoPermits`] if it would have to wait.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, NoPermits> {
        if self.try_take(1) {
            Ok(SemaphorePermit {
                semaphore: self,
                permits: 1,
            })
        } else {
            Err(NoPermits(()))
        }
    }

    /// Takes a permit if one is free and nobody is queued, like
    /// [`try_acquire`](Semaphore::try_acquire), and returns a permit that owns `this` (an `Rc`,
    /// an `Arc` or a `&'static`) — tokio's `try_acquire_owned`.
    ///
    /// # Errors
    ///
    /// [`NoPermits`] if it would have to wait; `this` is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use evloop::sync::Semaphore;
    ///
    /// let slots = Arc::new(Semaphore::new(1));
    /// let slot = Semaphore::try_acquire_owned(slots.clone()).unwrap();
    /// assert!(Semaphore::try_acquire_owned(slots.clone()).is_err());
    /// std::thread::spawn(move || drop(slot)).join().unwrap(); // released on another thread
    /// assert_eq!(slots.available_permits(), 1);
    /// ```
    pub fn try_acquire_owned<P: SharedRef<Semaphore>>(
        this: P,
    ) -> Result<OwnedSemaphorePermit<P>, NoPermits> {
        let permits = this.try_acquire()?.into_count();
        Ok(OwnedSemaphorePermit {
            semaphore: this,
            permits,
        })
    }

    /// Adds `permits` permits (and grants them to waiters, oldest first).
    ///
    /// # Panics
    ///
    /// If the semaphore would then hold more than `usize::MAX / 2` permits.
    #[inline]
    pub fn add_permits(&self, permits: usize) {
        if !self.try_give(permits) {
            self.give_to_waiters(permits);
        }
    }

    /// The permits free right now.
    pub fn available_permits(&self) -> usize {
        self.word.load(Ordering::Acquire) / ONE
    }

    /// How many tasks and threads wait for permits right now (a waiter already granted its
    /// permits but not yet resumed is not counted).
    pub fn n_waiting(&self) -> usize {
        lock(&self.waiters).len()
    }

    /// The fast path of a release: adds `permits` to the word if nobody is queued. `false` (and
    /// nothing done) if somebody is.
    ///
    /// This and [`try_take`](Semaphore::try_take) are `#[inline]` and their slow paths are not:
    /// an uncontended `Mutex` is these two and nothing else, and inlined into the caller's task
    /// they cost about a third of the instructions they cost as calls (benches/README.md).
    #[inline]
    fn try_give(&self, permits: usize) -> bool {
        let mut word = self.word.load(Ordering::Acquire);
        while word & QUEUED == 0 {
            let Some(new) = Self::add_to_word(word, permits) else {
                too_many_permits()
            };
            match self
                .word
                .compare_exchange_weak(word, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(current) => word = current,
            }
        }
        false
    }

    /// The slow path of a release: somebody is queued, so the permits go to them, in order,
    /// under the lock.
    #[inline(never)]
    fn give_to_waiters(&self, permits: usize) {
        let mut wakers = Wakers::new();
        let mut waiters = lock(&self.waiters);
        // `QUEUED` is set and we hold the lock: nobody else changes the word now.
        let word = self.word.load(Ordering::Acquire);
        let Some(new) = Self::add_to_word(word, permits) else {
            drop(waiters); // no panic with the lock held
            too_many_permits()
        };
        self.word.store(new, Ordering::Release);
        self.grant(&mut waiters, &mut wakers);
        drop(waiters);
        wakers.wake_all();
    }

    /// `word` with `permits` more permits, or `None` if the semaphore would then hold more than
    /// `usize::MAX / 2`.
    #[inline]
    fn add_to_word(word: usize, permits: usize) -> Option<usize> {
        permits
            .checked_mul(ONE)
            .and_then(|added| word.checked_add(added))
    }

    /// The fast path: takes `need` permits if nobody is queued and they are free.
    #[inline]
    fn try_take(&self, need: usize) -> bool {
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            if word & QUEUED != 0 || word / ONE < need {
                return false;
            }
            // `Acquire` (with `Release`, for the word) so that a mutex holder sees everything the
            // previous holder wrote; the loom mutex model catches `Relaxed` here as a data race on
            // the mutex's data.
            let ordering = Ordering::AcqRel;
            match self.word.compare_exchange_weak(
                word,
                word - need * ONE,
                ordering,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(current) => word = current,
            }
        }
    }

    /// Grants free permits to the queued waiters, oldest first, as far as they go, and clears
    /// `QUEUED` once nobody is left. Called with the queue's lock held; while anybody is queued
    /// `QUEUED` is set, so no fast path changes the word meanwhile.
    fn grant(&self, waiters: &mut WaitQueue, wakers: &mut Wakers) {
        // The closure only runs while somebody is queued, so `QUEUED` is set: a load and a
        // store are enough, no read-modify-write.
        waiters.grant_in_order(
            |need| {
                let word = self.word.load(Ordering::Acquire);
                let fits = word / ONE >= need;
                if fits {
                    self.word.store(word - need * ONE, Ordering::Release);
                }
                fits
            },
            wakers,
        );
        if waiters.is_empty() {
            self.word.fetch_and(!QUEUED, Ordering::AcqRel);
        }
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("permits", &self.available_permits())
            .field("waiters", &*lock(&self.waiters))
            .finish()
    }
}

/// The future returned by [`Semaphore::acquire`] and [`Semaphore::acquire_many`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Acquire<'a> {
    semaphore: &'a Semaphore,
    need: usize,
    /// Our place in the queue, once we had to wait.
    key: Option<usize>,
}

impl<'a> Future for Acquire<'a> {
    type Output = SemaphorePermit<'a>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SemaphorePermit<'a>> {
        if self.key.is_none() {
            // A first try may succeed without waiting: it spends the task's budget (`coop.rs`),
            // so a loop taking free permits cannot keep the loop to itself. Declining here
            // changes nothing.
            if coop::poll_proceed(cx).is_pending() {
                return Poll::Pending;
            }
            if self.semaphore.try_take(self.need) {
                return Poll::Ready(SemaphorePermit {
                    semaphore: self.semaphore,
                    permits: self.need,
                });
            }
        }
        self.poll_queue(cx)
    }
}

impl<'a> Acquire<'a> {
    /// The slow path: joins the queue (first poll) or checks for a grant (later polls).
    #[inline(never)]
    fn poll_queue(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SemaphorePermit<'a>> {
        let semaphore = self.semaphore;
        let acquired = match self.key {
            None => {
                let mut wakers = Wakers::new();
                let mut waiters = lock(&semaphore.waiters);
                let first_in_line = waiters.is_empty();
                let key = waiters.push(self.need, cx.waker());
                let mut acquired = false;
                if first_in_line {
                    // Raise `QUEUED`, then grant what the word holds: a release that came in
                    // since `try_take` is counted there; any later one sees the bit and takes
                    // the lock.
                    semaphore.word.fetch_or(QUEUED, Ordering::AcqRel);
                    semaphore.grant(&mut waiters, &mut wakers);
                    acquired = waiters.poll_granted(key, cx);
                }
                // Behind others, there is nothing to check: the head does not fit (invariant),
                // so neither do we, in FIFO order.
                drop(waiters);
                // We were alone in the queue, so `wakers` holds at most our own waker: we are
                // running, there is nobody to wake.
                drop(wakers);
                if !acquired {
                    self.key = Some(key);
                }
                acquired
            }
            Some(key) => {
                let acquired = lock(&semaphore.waiters).poll_granted(key, cx);
                if acquired {
                    self.key = None;
                }
                acquired
            }
        };
        if !acquired {
            return Poll::Pending;
        }
        Poll::Ready(SemaphorePermit {
            semaphore,
            permits: self.need,
        })
    }
}

impl Drop for Acquire<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.leave_queue(key);
        }
    }
}

impl Acquire<'_> {
    /// Gives up the place `key` in the queue, passing on a grant it may already have had.
    #[inline(never)]
    fn leave_queue(&self, key: usize) {
        let semaphore = self.semaphore;
        change_then_wake(&semaphore.waiters, |waiters, wakers| {
            if let Removed::Granted { need } = waiters.remove(key) {
                // Granted but never taken: hand the permits to the next in line.
                semaphore.word.fetch_add(need * ONE, Ordering::AcqRel);
            }
            // Even if we were only waiting, the waiters behind us may fit now (we may have been
            // a large request blocking the head of the queue); and if we were the last, `grant`
            // clears `QUEUED`.
            semaphore.grant(waiters, wakers);
        });
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("need", &self.need)
            .field("queued", &self.key.is_some())
            .finish()
    }
}

/// Permits held; returned to the semaphore when dropped.
#[must_use = "the permit is released as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    semaphore: &'a Semaphore,
    permits: usize,
}

impl SemaphorePermit<'_> {
    /// Keeps the permits out of the semaphore for good (its capacity shrinks).
    pub fn forget(self) {
        std::mem::forget(self);
    }

    /// How many permits it held, now to be returned by whoever took it over (an owned permit
    /// or guard).
    pub(super) fn into_count(self) -> usize {
        let permits = self.permits;
        std::mem::forget(self);
        permits
    }

    /// How many permits this guard holds.
    pub fn permits(&self) -> usize {
        self.permits
    }
}

impl Drop for SemaphorePermit<'_> {
    #[inline]
    fn drop(&mut self) {
        self.semaphore.add_permits(self.permits);
    }
}

/// Permits held by a value that owns its semaphore through `P` (an `Rc`, an `Arc` or a
/// `&'static`): from [`Semaphore::acquire_owned`]. Returned to the semaphore when dropped.
#[must_use = "the permit is released as soon as it is dropped"]
pub struct OwnedSemaphorePermit<P: SharedRef<Semaphore>> {
    semaphore: P,
    permits: usize,
}

impl<P: SharedRef<Semaphore>> OwnedSemaphorePermit<P> {
    /// Keeps the permits out of the semaphore for good (its capacity shrinks).
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits this guard holds.
    pub fn permits(&self) -> usize {
        self.permits
    }

    /// The semaphore it holds permits of.
    pub fn semaphore(&self) -> &P {
        &self.semaphore
    }
}

impl<P: SharedRef<Semaphore>> Drop for OwnedSemaphorePermit<P> {
    fn drop(&mut self) {
        if self.permits > 0 {
            self.semaphore.add_permits(self.permits);
        }
    }
}

impl<P: SharedRef<Semaphore>> fmt::Debug for OwnedSemaphorePermit<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

/// The panic of a release or `add_permits` that would take a semaphore past
/// [`MAX_PERMITS`]: out of line, so the fast paths that check for it stay small.
#[cold]
#[inline(never)]
fn too_many_permits() -> ! {
    panic!("a Semaphore holds at most usize::MAX / 2 permits: too many permits added")
}

/// The error of [`Semaphore::try_acquire`]: no permit is free (or others are queued first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoPermits(());

impl fmt::Display for NoPermits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no permit is available without waiting; use acquire().await to wait for one")
    }
}

impl std::error::Error for NoPermits {}

/// A semaphore that refuses to grow past its initial number of permits — asyncio's
/// `BoundedSemaphore`, whose extra `release()` raises `ValueError`.
///
/// Permits come back through their guards, which can never over-release; the check guards
/// [`add_permits`](BoundedSemaphore::add_permits), the one way to add more.
///
/// # Examples
///
/// ```
/// use evloop::sync::BoundedSemaphore;
///
/// let semaphore = BoundedSemaphore::new(1);
/// let permit = semaphore.try_acquire().unwrap();
/// permit.forget(); // taken out for good...
/// assert!(semaphore.add_permits(1).is_ok()); // ...so one may be added back
/// assert!(semaphore.add_permits(1).is_err()); // but not past the bound
/// ```
#[derive(Debug)]
pub struct BoundedSemaphore {
    semaphore: Semaphore,
    bound: usize,
    /// Permits taken out with `forget`, which `add_permits` may restore.
    outstanding: Mutex<usize>,
}

impl Default for BoundedSemaphore {
    /// One permit, as asyncio's `BoundedSemaphore()`.
    fn default() -> BoundedSemaphore {
        BoundedSemaphore::new(1)
    }
}

impl BoundedSemaphore {
    /// A semaphore with `permits` permits, which is also its bound.
    pub fn new(permits: usize) -> BoundedSemaphore {
        BoundedSemaphore {
            semaphore: Semaphore::new(permits),
            bound: permits,
            outstanding: Mutex::new(0),
        }
    }

    /// Waits for one permit.
    pub fn acquire(&self) -> BoundedAcquire<'_> {
        BoundedAcquire {
            inner: self.semaphore.acquire(),
            owner: self,
        }
    }

    /// Waits for `permits` permits, taken all at once.
    ///
    /// # Panics
    ///
    /// At once, if `permits` exceeds the bound: the semaphore can never hold that many, so the
    /// request could never be granted (and would hold up every later `acquire` behind it).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::BoundedSemaphore;
    ///
    /// evloop::run(async {
    ///     let semaphore = BoundedSemaphore::new(3);
    ///     let two = semaphore.acquire_many(2).await;
    ///     assert_eq!(semaphore.available_permits(), 1);
    ///     drop(two);
    ///     assert_eq!(semaphore.available_permits(), 3);
    /// });
    /// ```
    #[track_caller]
    pub fn acquire_many(&self, permits: usize) -> BoundedAcquire<'_> {
        assert!(
            permits <= self.bound,
            "BoundedSemaphore::acquire_many({permits}) can never be granted: this semaphore \
             never holds more than {} permits",
            self.bound
        );
        BoundedAcquire {
            inner: self.semaphore.acquire_many(permits),
            owner: self,
        }
    }

    /// Takes one permit from a plain thread, blocking it until one is granted (see
    /// [`Semaphore::acquire_blocking`]).
    ///
    /// # Panics
    ///
    /// On an evloop loop thread: use `acquire().await` there.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::sync::BoundedSemaphore;
    ///
    /// let semaphore = BoundedSemaphore::default(); // one permit, as asyncio's
    /// let permit = semaphore.acquire_blocking();
    /// assert!(semaphore.acquire_blocking_timeout(Duration::from_millis(5)).is_err());
    /// drop(permit);
    /// assert!(semaphore.add_permits(1).is_err(), "already at its bound");
    /// ```
    #[track_caller]
    pub fn acquire_blocking(&self) -> BoundedPermit<'_> {
        let permit = self
            .semaphore
            .acquire_blocking_as("BoundedSemaphore::acquire_blocking", "`acquire().await`");
        BoundedPermit {
            permit,
            owner: self,
        }
    }

    /// Like [`acquire_blocking`](BoundedSemaphore::acquire_blocking), giving up after `timeout`.
    ///
    /// # Errors
    ///
    /// [`Elapsed`] if no permit was granted in time; no permit is lost.
    ///
    /// # Panics
    ///
    /// On an evloop loop thread: use `timeout(d, acquire()).await` there.
    #[track_caller]
    pub fn acquire_blocking_timeout(
        &self,
        timeout: Duration,
    ) -> Result<BoundedPermit<'_>, Elapsed> {
        let permit = self.semaphore.acquire_blocking_timeout_as(
            timeout,
            "BoundedSemaphore::acquire_blocking_timeout",
            "`evloop::time::timeout(d, semaphore.acquire()).await`",
        )?;
        Ok(BoundedPermit {
            permit,
            owner: self,
        })
    }

    /// Takes a permit if one is free and nobody is queued.
    ///
    /// # Errors
    ///
    /// [`NoPermits`] if it would have to wait.
    pub fn try_acquire(&self) -> Result<BoundedPermit<'_>, NoPermits> {
        let permit = self.semaphore.try_acquire()?;
        Ok(BoundedPermit {
            permit,
            owner: self,
        })
    }

    /// Adds permits back, up to the initial number.
    ///
    /// # Errors
    ///
    /// [`TooManyPermits`] if that would take the semaphore past its bound; nothing is added.
    pub fn add_permits(&self, permits: usize) -> Result<(), TooManyPermits> {
        let mut outstanding = lock(&self.outstanding);
        if permits > *outstanding {
            return Err(TooManyPermits { bound: self.bound });
        }
        *outstanding -= permits;
        drop(outstanding);
        self.semaphore.add_permits(permits);
        Ok(())
    }

    /// The permits free right now.
    pub fn available_permits(&self) -> usize {
        self.semaphore.available_permits()
    }

    /// How many tasks and threads wait for permits right now.
    pub fn n_waiting(&self) -> usize {
        self.semaphore.n_waiting()
    }
}

/// The future returned by [`BoundedSemaphore::acquire`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct BoundedAcquire<'a> {
    inner: Acquire<'a>,
    owner: &'a BoundedSemaphore,
}

impl<'a> Future for BoundedAcquire<'a> {
    type Output = BoundedPermit<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BoundedPermit<'a>> {
        let owner = self.owner;
        Pin::new(&mut self.inner)
            .poll(cx)
            .map(|permit| BoundedPermit { permit, owner })
    }
}

/// A permit of a [`BoundedSemaphore`]; returned when dropped.
#[derive(Debug)]
#[must_use = "the permit is released as soon as it is dropped"]
pub struct BoundedPermit<'a> {
    permit: SemaphorePermit<'a>,
    owner: &'a BoundedSemaphore,
}

impl BoundedPermit<'_> {
    /// Keeps the permit out of the semaphore; `add_permits` may later put it back.
    pub fn forget(self) {
        *lock(&self.owner.outstanding) += self.permit.permits;
        self.permit.forget();
    }
}

/// The error of [`BoundedSemaphore::add_permits`] past the bound (asyncio's `ValueError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooManyPermits {
    bound: usize,
}

impl fmt::Display for TooManyPermits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BoundedSemaphore released too many times: it never holds more than {} permits",
            self.bound
        )
    }
}

impl std::error::Error for TooManyPermits {}
