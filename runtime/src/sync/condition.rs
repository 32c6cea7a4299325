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
use std::time::Duration;

use super::mutex::{Mutex, MutexGuard};
use super::semaphore::Acquire;
use super::wait_queue::{change_then_wake, Removed, WaitQueue};
use crate::park::{block_plain_thread, block_plain_thread_for};
use crate::shim::{lock, Mutex as StateLock};

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

    /// Like [`wait`](Condition::wait), but stops waiting for a notification after `timeout`; the
    /// mutex is re-locked either way, and the guard comes back with `true` if the time ran out
    /// before a notification (asyncio's `wait_for(cond.wait(), t)` re-acquires the lock the same
    /// way; Rust's `Condvar::wait_timeout` has this shape). A notification that arrives while the
    /// guard is being re-locked counts: `false` then.
    ///
    /// # Panics
    ///
    /// Outside an evloop runtime: the timer is the loop's (unlike [`wait`](Condition::wait),
    /// which works under any executor). Threads use
    /// [`wait_blocking_timeout`](Condition::wait_blocking_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::sync::{Condition, Mutex};
    ///
    /// evloop::run(async {
    ///     let (data, changed) = (Mutex::new(0), Condition::new());
    ///     let (guard, timed_out) = changed.wait_timeout(data.lock().await, Duration::from_millis(5)).await;
    ///     assert!(timed_out);
    ///     assert_eq!(*guard, 0); // the lock is held again
    /// });
    /// ```
    pub async fn wait_timeout<'a, T>(
        &'a self,
        guard: MutexGuard<'a, T>,
        timeout: Duration,
    ) -> (MutexGuard<'a, T>, bool) {
        let mut wait = self.wait(guard);
        match crate::time::timeout(timeout, &mut wait).await {
            Ok(guard) => (guard, false),
            Err(_) => match wait.stop_waiting() {
                Ok(notified) => (wait.await, !notified),
                Err(guard) => (guard, true),
            },
        }
    }

    /// Waits from a plain thread, blocking it: unlocks `guard`'s mutex, waits to be notified,
    /// locks it again (see [`wait`](Condition::wait)). Threads and tasks may wait on, and notify,
    /// the same condition.
    ///
    /// # Panics
    ///
    /// On an evloop loop thread, which would stop while it waits: use `wait(guard).await` there.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::{Condition, Mutex};
    ///
    /// let (ready, changed) = (Mutex::new(false), Condition::new());
    /// std::thread::scope(|scope| {
    ///     scope.spawn(|| {
    ///         let mut ready_now = ready.lock_blocking();
    ///         while !*ready_now {
    ///             ready_now = changed.wait_blocking(ready_now);
    ///         }
    ///     });
    ///     *ready.lock_blocking() = true;
    ///     changed.notify_all();
    /// });
    /// ```
    #[track_caller]
    pub fn wait_blocking<'a, T>(&'a self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        block_plain_thread(
            &mut self.wait(guard),
            "Condition::wait_blocking",
            "use `wait(guard).await`",
        )
    }

    /// Like [`wait_blocking`](Condition::wait_blocking), but stops waiting for a notification
    /// after `timeout` (`threading.Condition.wait(timeout)`, `Condvar::wait_timeout`): the guard
    /// comes back either way, with `true` if the time ran out.
    ///
    /// # Panics
    ///
    /// On an evloop loop thread: use [`wait_timeout`](Condition::wait_timeout) there.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::sync::{Condition, Mutex};
    ///
    /// let (data, changed) = (Mutex::new(5), Condition::new());
    /// let (guard, timed_out) =
    ///     changed.wait_blocking_timeout(data.lock_blocking(), Duration::from_millis(5));
    /// assert!(timed_out);
    /// assert_eq!(*guard, 5); // the lock is held again
    /// ```
    #[track_caller]
    pub fn wait_blocking_timeout<'a, T>(
        &'a self,
        guard: MutexGuard<'a, T>,
        timeout: Duration,
    ) -> (MutexGuard<'a, T>, bool) {
        let mut wait = self.wait(guard);
        let call = "Condition::wait_blocking_timeout";
        let instead = "use `wait_timeout(guard, d).await`";
        if let Some(guard) = block_plain_thread_for(&mut wait, timeout, call, instead) {
            return (guard, false);
        }
        match wait.stop_waiting() {
            Ok(notified) => (block_plain_thread(&mut wait, call, instead), !notified),
            Err(guard) => (guard, true),
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

    /// How many tasks and threads wait for a notification right now.
    pub fn n_waiting(&self) -> usize {
        lock(&self.waiters).len()
    }

    /// Wakes the `n` longest-waiting tasks; returns how many there were. Usually called with the
    /// mutex held, after changing the state they wait on.
    pub fn notify(&self, n: usize) -> usize {
        change_then_wake(&self.waiters, |waiters, wakers| {
            waiters.grant_first(n, wakers)
        })
    }

    /// Wakes every waiting task.
    pub fn notify_all(&self) {
        change_then_wake(&self.waiters, WaitQueue::grant_all);
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
    /// Waiting for the mutex again: notified, or no longer waiting for a notification (a timed
    /// wait that ran out).
    Relocking {
        acquire: Acquire<'a>,
        mutex: &'a Mutex<T>,
        notified: bool,
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
                    let key = lock(&this.condition.waiters).push(1, cx.waker());
                    let mutex = MutexGuard::unlock(guard);
                    this.stage = Stage::Waiting { key, mutex };
                    return Poll::Pending;
                }
                Stage::Waiting { key, mutex } => {
                    if !lock(&this.condition.waiters).poll_granted(key, cx) {
                        this.stage = Stage::Waiting { key, mutex };
                        return Poll::Pending;
                    }
                    this.stage = Stage::relocking(mutex, true);
                }
                Stage::Relocking {
                    mut acquire,
                    mutex,
                    notified,
                } => {
                    return match Pin::new(&mut acquire).poll(cx) {
                        Poll::Ready(permit) => Poll::Ready(mutex.guard(permit)),
                        Poll::Pending => {
                            this.stage = Stage::Relocking {
                                acquire,
                                mutex,
                                notified,
                            };
                            Poll::Pending
                        }
                    };
                }
                Stage::Done => panic!("ConditionWait polled after it returned the guard"),
            }
        }
    }
}

impl<'a, T> Stage<'a, T> {
    /// Waiting for `mutex` again, `notified` or not.
    fn relocking(mutex: &'a Mutex<T>, notified: bool) -> Stage<'a, T> {
        Stage::Relocking {
            acquire: mutex.holder().acquire(),
            mutex,
            notified,
        }
    }
}

impl<'a, T> ConditionWait<'a, T> {
    /// Stops waiting for a notification (a timed wait ran out) and goes on to re-lock the mutex.
    /// Returns whether it had been notified after all: a notification granted just before this
    /// is kept, not passed on, and the wait counts as notified. `Err` with the guard if the wait
    /// never began (it was never polled): the lock is still held.
    fn stop_waiting(&mut self) -> Result<bool, MutexGuard<'a, T>> {
        match std::mem::replace(&mut self.stage, Stage::Done) {
            Stage::Waiting { key, mutex } => {
                let notified = lock(&self.condition.waiters).remove(key) != Removed::Waiting;
                self.stage = Stage::relocking(mutex, notified);
                Ok(notified)
            }
            relocking @ Stage::Relocking { notified, .. } => {
                self.stage = relocking;
                Ok(notified)
            }
            Stage::Holding(guard) => Err(guard),
            Stage::Done => unreachable!("a condition wait that returned its guard timed out"),
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
            Stage::Relocking { notified, .. } => notified,
            Stage::Holding(_) | Stage::Done => false,
        };
        if notification_unused {
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
