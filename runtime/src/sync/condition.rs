//! `Condition`: wait, with a [`Mutex`] released, until another task says the state may have
//! changed — asyncio's `asyncio.Condition`, shaped like `std::sync::Condvar`.
//!
//! asyncio's `Condition` owns its lock and has `acquire`/`release`; in Rust the lock is the
//! [`MutexGuard`] you already hold. [`Condition::wait`] takes the guard, queues the caller,
//! *then* unlocks — so a `notify` made under the lock after that cannot be missed — and hands a
//! re-locked guard back when it returns. One condition may serve any number of waiters on the same
//! mutex, and several conditions may share one mutex (the classic `not_empty`/`not_full` pair).
//!
//! `notify(n)` grants the `n` oldest waiters (see `wait_queue.rs`). Cancellation (dropping the
//! `wait` future) never swallows a notification, whichever await it is dropped at:
//!
//! - still waiting: it just leaves the queue;
//! - notified but not yet run, or run and now waiting to re-lock the mutex: the notification is
//!   passed to the next waiter, as if this one had never been there. (asyncio shipped both
//!   "a cancelled `wait` returned without the lock" and "a cancelled `wait` lost the
//!   notification"; the first cannot be expressed here — a dropped `wait` owns no guard.)
//!
//! A notification with nobody waiting is not stored (as in asyncio and std): always wait in a loop
//! on the state you care about, which [`Condition::wait_for`] does for you.

#![forbid(unsafe_code)]

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::mutex::{Mutex, MutexGuard};
use super::semaphore::Acquire;
use super::wait_queue::{Removed, WaitQueue, Wakers};
use crate::shim::{lock, mutant, Mutex as StateLock};

/// A condition variable for tasks: wait with a [`Mutex`] released until notified.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use evloop::sync::{Condition, Mutex};
///
/// evloop::run(async {
///     let stock = Rc::new((Mutex::new(0), Condition::new()));
///     let buyer = evloop::spawn({
///         let stock = stock.clone();
///         async move {
///             let (items, restocked) = &*stock;
///             // Waits (the mutex released) until there are 3 items, then takes them.
///             let mut items = restocked.wait_for(items.lock().await, |items| *items >= 3).await;
///             *items -= 3;
///         }
///     });
///     for _ in 0..5 {
///         let (items, restocked) = &*stock;
///         *items.lock().await += 1;
///         restocked.notify_all();
///         evloop::yield_now().await;
///     }
///     buyer.await.unwrap();
///     assert_eq!(*stock.0.lock().await, 2);
/// });
/// ```
#[derive(Default)]
pub struct Condition {
    waiters: StateLock<WaitQueue>,
}

impl Condition {
    /// A condition nobody waits on yet.
    pub fn new() -> Condition {
        Condition::default()
    }

    /// Unlocks `guard`'s mutex, waits to be notified, then locks the mutex again and returns the
    /// new guard. Spurious returns do not happen, but the state may have changed again by the time
    /// the mutex is re-locked: check it in a loop, or use [`wait_for`](Condition::wait_for).
    pub fn wait<'a, T>(&'a self, guard: MutexGuard<'a, T>) -> ConditionWait<'a, T> {
        ConditionWait {
            condition: self,
            stage: Stage::Holding(guard),
        }
    }

    /// Waits until `predicate` holds for the guarded data, then returns the guard (at once if it
    /// already holds). The predicate runs with the mutex locked.
    pub async fn wait_for<'a, T>(
        &'a self,
        mut guard: MutexGuard<'a, T>,
        mut predicate: impl FnMut(&mut T) -> bool,
    ) -> MutexGuard<'a, T> {
        while !predicate(&mut guard) {
            guard = self.wait(guard).await;
        }
        guard
    }

    /// Wakes the `n` longest-waiting tasks; returns how many there were. Usually called with the
    /// mutex held, after changing the state they wait on.
    pub fn notify(&self, n: usize) -> usize {
        let mut wakers = Wakers::new();
        let notified = lock(&self.waiters).grant_first(n, &mut wakers);
        wakers.wake_all();
        notified
    }

    /// Wakes every waiting task.
    pub fn notify_all(&self) {
        let mut wakers = Wakers::new();
        lock(&self.waiters).grant_all(&mut wakers);
        wakers.wake_all();
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("waiters", &*lock(&self.waiters))
            .finish()
    }
}

/// The future returned by [`Condition::wait`]; its output is the re-locked guard.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ConditionWait<'a, T> {
    condition: &'a Condition,
    stage: Stage<'a, T>,
}

enum Stage<'a, T> {
    /// Not polled yet: still holding the lock.
    Holding(MutexGuard<'a, T>),
    /// Queued on the condition, the mutex released.
    Waiting { key: usize, mutex: &'a Mutex<T> },
    /// Notified; waiting for the mutex again.
    Relocking {
        acquire: Acquire<'a>,
        mutex: &'a Mutex<T>,
    },
    /// Returned the guard.
    Done,
}

impl<'a, T> Future for ConditionWait<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let this = self.get_mut();
        loop {
            match std::mem::replace(&mut this.stage, Stage::Done) {
                Stage::Holding(guard) => {
                    // Queue first, unlock second: a notify made under the lock can't slip between.
                    // (The mutant does it the other way round: a lost wake-up.)
                    let (key, mutex) = if mutant("condition_unlocks_before_queueing") {
                        let mutex = MutexGuard::unlock(guard);
                        (lock(&this.condition.waiters).push(1, cx.waker()), mutex)
                    } else {
                        let key = lock(&this.condition.waiters).push(1, cx.waker());
                        (key, MutexGuard::unlock(guard))
                    };
                    this.stage = Stage::Waiting { key, mutex };
                    return Poll::Pending;
                }
                Stage::Waiting { key, mutex } => {
                    if !lock(&this.condition.waiters).poll_granted(key, cx) {
                        this.stage = Stage::Waiting { key, mutex };
                        return Poll::Pending;
                    }
                    let acquire = mutex.holder().acquire();
                    this.stage = Stage::Relocking { acquire, mutex };
                }
                Stage::Relocking { mut acquire, mutex } => {
                    return match Pin::new(&mut acquire).poll(cx) {
                        Poll::Ready(permit) => Poll::Ready(mutex.guard(permit)),
                        Poll::Pending => {
                            this.stage = Stage::Relocking { acquire, mutex };
                            Poll::Pending
                        }
                    };
                }
                Stage::Done => panic!("ConditionWait polled after it returned the guard"),
            }
        }
    }
}

// No field is ever pinned: the stage is moved in and out freely.
impl<T> Unpin for ConditionWait<'_, T> {}

impl<T> Drop for ConditionWait<'_, T> {
    fn drop(&mut self) {
        let notification_unused = match self.stage {
            Stage::Waiting { key, .. } => {
                let removed = lock(&self.condition.waiters).remove(key);
                removed != Removed::Waiting
            }
            // Notified, but the caller never got the guard back: the notification is not used.
            Stage::Relocking { .. } => true,
            Stage::Holding(_) | Stage::Done => false,
        };
        if notification_unused && !mutant("cancelled_waiter_keeps_its_notification") {
            self.condition.notify(1);
        }
    }
}

impl<T> fmt::Debug for ConditionWait<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = match self.stage {
            Stage::Holding(_) => "holding the lock",
            Stage::Waiting { .. } => "waiting for a notification",
            Stage::Relocking { .. } => "re-locking",
            Stage::Done => "done",
        };
        f.debug_struct("ConditionWait")
            .field("stage", &stage)
            .finish()
    }
}
