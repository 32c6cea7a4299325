//! `Semaphore` and `BoundedSemaphore`: at most N holders at a time — asyncio's answer to "too many
//! coroutines at once" (sockets, open files, a rate-limited API).
//!
//! State: the free permits and a [`WaitQueue`], under one mutex from the loom shim (the semaphore
//! is `Send + Sync`: tasks and threads may share it). `acquire(n)` takes `n` permits at once if
//! nobody is queued and they are free; otherwise it queues. Releasing permits grants them to the
//! queued waiters in arrival order, inside the same critical section, so a waiter that is dropped
//! after being granted gives its permits back to the next one instead of losing them.
//!
//! Cancel safety: dropping an `acquire` future at any point loses no permit and no wake-up, and a
//! dropped waiter never blocks those behind it. (tokio documents its `acquire` as losing the
//! waiter's place in the queue when cancelled; here too the place is lost, but nothing else.)

#![forbid(unsafe_code)]

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::wait_queue::{wake_all, Removed, WaitQueue};
use crate::shim::{lock, Mutex};

/// A counting semaphore with FIFO fairness.
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
    state: Mutex<State>,
}

struct State {
    permits: usize,
    waiters: WaitQueue,
}

impl Semaphore {
    /// A semaphore with `permits` permits.
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            state: Mutex::new(State {
                permits,
                waiters: WaitQueue::default(),
            }),
        }
    }

    /// Waits for one permit. It is returned when the guard is dropped.
    pub fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `permits` permits, taken all at once (never some now and the rest later).
    pub fn acquire_many(&self, permits: usize) -> Acquire<'_> {
        Acquire {
            semaphore: self,
            need: permits,
            key: None,
        }
    }

    /// Takes a permit if one is free and nobody is queued; never waits.
    ///
    /// # Errors
    ///
    /// [`NoPermits`] if it would have to wait.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, NoPermits> {
        let mut state = lock(&self.state);
        if state.waiters.is_empty() && state.permits >= 1 {
            state.permits -= 1;
            Ok(SemaphorePermit {
                semaphore: self,
                permits: 1,
            })
        } else {
            Err(NoPermits(()))
        }
    }

    /// Adds `permits` permits (and grants them to waiters, oldest first).
    pub fn add_permits(&self, permits: usize) {
        let wakers = {
            let mut state = lock(&self.state);
            state.permits += permits;
            let mut wakers = Vec::new();
            grant(&mut state, &mut wakers);
            wakers
        };
        wake_all(wakers);
    }

    /// The permits free right now.
    pub fn available_permits(&self) -> usize {
        lock(&self.state).permits
    }
}

/// Grants free permits to the queued waiters, oldest first, as far as they go.
fn grant(state: &mut State, wakers: &mut Vec<std::task::Waker>) {
    let State { permits, waiters } = state;
    waiters.grant_in_order(
        |need| {
            if need <= *permits {
                *permits -= need;
                true
            } else {
                false
            }
        },
        wakers,
    );
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Semaphore")
            .field("permits", &state.permits)
            .field("waiters", &state.waiters)
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

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SemaphorePermit<'a>> {
        let semaphore = self.semaphore;
        let mut state = lock(&semaphore.state);
        let acquired = match self.key {
            Some(key) => state.waiters.poll_granted(key, cx),
            None if state.waiters.is_empty() && state.permits >= self.need => {
                state.permits -= self.need;
                true
            }
            None => {
                self.key = Some(state.waiters.push(self.need, cx.waker()));
                false
            }
        };
        if !acquired {
            return Poll::Pending;
        }
        self.key = None;
        Poll::Ready(SemaphorePermit {
            semaphore,
            permits: self.need,
        })
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let wakers = {
            let mut state = lock(&self.semaphore.state);
            if let Removed::Granted { need } = state.waiters.remove(key) {
                // Granted but never taken: hand the permits to the next in line.
                state.permits += need;
            }
            // Even if we were only waiting, the waiters behind us may fit now (we may have been
            // a large request blocking the head of the queue).
            let mut wakers = Vec::new();
            grant(&mut state, &mut wakers);
            wakers
        };
        wake_all(wakers);
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

    /// How many permits this guard holds.
    pub fn permits(&self) -> usize {
        self.permits
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.semaphore.add_permits(self.permits);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
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
