//! `Barrier`: `parties` tasks wait until all of them have arrived, then all go on together —
//! asyncio's `asyncio.Barrier` (Python 3.11).
//!
//! The barrier is cyclic: once it trips it is empty again, ready for the next round (a
//! *generation*). The last arrival trips it by granting every waiter of the round (see
//! `wait_queue.rs`), so a waiter released by a trip returns `Ok` even if the barrier is aborted
//! or reset before it runs.
//!
//! [`abort`](Barrier::abort) breaks the barrier: every waiter, and every later `wait`, gets
//! [`BrokenBarrier`] until [`reset`](Barrier::reset). `reset` empties the barrier for a new round;
//! the waiters of the interrupted round get `BrokenBarrier` (as in asyncio). Both wake waiters
//! without granting them: a woken waiter sees the broken flag, or a newer generation than its own,
//! and leaves the queue with the error.
//!
//! Cancellation: a waiter dropped before the barrier trips no longer counts as arrived (as in
//! asyncio), so the round still needs `parties` live tasks. Dropped after the trip, it changes
//! nothing: the others were released already.

#![forbid(unsafe_code)]

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::wait_queue::{change_then_wake, Removed, WaitQueue, Wakers};
use crate::park::{block_plain_thread, block_plain_thread_for};
use crate::shim::{lock, Mutex};

/// A rendezvous point for a fixed number of tasks, reusable round after round.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use evloop::sync::Barrier;
///
/// evloop::run(async {
///     let start_line = Rc::new(Barrier::new(3));
///     let runners: Vec<_> = (0..3)
///         .map(|_| {
///             let start_line = start_line.clone();
///             evloop::spawn(async move { start_line.wait().await.unwrap() })
///         })
///         .collect();
///     let mut places = Vec::new();
///     for runner in runners {
///         places.push(runner.await.unwrap());
///     }
///     places.sort();
///     assert_eq!(places, [0, 1, 2]); // each got its arrival index
/// });
/// ```
pub struct Barrier {
    parties: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// How many have arrived in the current round.
    arrived: usize,
    /// Counts rounds; a trip, a reset and an abort each end one.
    generation: u64,
    broken: bool,
    waiters: WaitQueue,
}

impl State {
    /// Ends the current round without a trip (`abort`, `reset`, a timed-out thread): its waiters
    /// are woken, not granted, and leave with `BrokenBarrier`.
    fn end_round(&mut self, broken: bool, wakers: &mut Wakers) {
        self.broken = broken;
        self.arrived = 0;
        self.generation += 1;
        self.waiters.wake_waiting(wakers);
    }
}

impl Barrier {
    /// A barrier for `parties` tasks.
    ///
    /// # Panics
    ///
    /// If `parties` is 0: nobody could ever trip it (asyncio raises `ValueError`).
    pub fn new(parties: usize) -> Barrier {
        assert!(parties > 0, "a Barrier needs at least one party");
        Barrier {
            parties,
            state: Mutex::new(State::default()),
        }
    }

    /// Waits until `parties` tasks are waiting, then releases them all. Returns this task's
    /// arrival index in `0..parties` (the last to arrive gets `parties - 1`).
    ///
    /// # Errors
    ///
    /// [`BrokenBarrier`] if the barrier is broken (by [`abort`](Barrier::abort)) when called or
    /// while waiting, or [`reset`](Barrier::reset) while waiting.
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            queued: None,
        }
    }

    /// Waits from a plain thread, blocking it until the barrier trips — `threading.Barrier.wait()`.
    /// Threads and tasks may meet at the same barrier.
    ///
    /// # Errors
    ///
    /// As [`wait`](Barrier::wait).
    ///
    /// # Panics
    ///
    /// On an evloop loop thread, which would stop while it waits: use `wait().await` there.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::Barrier;
    ///
    /// let meeting = Barrier::new(3);
    /// let mut indexes: Vec<usize> = std::thread::scope(|scope| {
    ///     let threads: Vec<_> = (0..3).map(|_| scope.spawn(|| meeting.wait_blocking())).collect();
    ///     threads.into_iter().map(|thread| thread.join().unwrap().unwrap()).collect()
    /// });
    /// indexes.sort();
    /// assert_eq!(indexes, [0, 1, 2]);
    /// ```
    #[track_caller]
    pub fn wait_blocking(&self) -> Result<usize, BrokenBarrier> {
        block_plain_thread(
            &mut self.wait(),
            "Barrier::wait_blocking",
            "use `wait().await`",
        )
    }

    /// Like [`wait_blocking`](Barrier::wait_blocking), giving up after `timeout`. As with
    /// `threading.Barrier.wait(timeout)`, giving up *breaks* the barrier, so the parties that
    /// did arrive are not left waiting for one that will not come: they, and this caller, get
    /// [`BrokenBarrier`] until [`reset`](Barrier::reset). (A cancelled `wait().await` only leaves
    /// the round instead, as in asyncio.) If the barrier tripped just as the time ran out, the
    /// caller was released and gets `Ok`.
    ///
    /// # Errors
    ///
    /// [`BrokenBarrier`] if it timed out, or was broken or reset while waiting.
    ///
    /// # Panics
    ///
    /// On an evloop loop thread: use `timeout(d, wait()).await` there.
    #[track_caller]
    pub fn wait_blocking_timeout(&self, timeout: Duration) -> Result<usize, BrokenBarrier> {
        let mut wait = self.wait();
        block_plain_thread_for(
            &mut wait,
            timeout,
            "Barrier::wait_blocking_timeout",
            "use `evloop::time::timeout(d, barrier.wait()).await`",
        )
        .unwrap_or_else(|| wait.give_up())
    }

    /// How many tasks must arrive to trip the barrier.
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// How many tasks are waiting in the current round.
    pub fn n_waiting(&self) -> usize {
        lock(&self.state).arrived
    }

    /// Whether the barrier is broken.
    pub fn is_broken(&self) -> bool {
        lock(&self.state).broken
    }

    /// Breaks the barrier: current and future `wait`s fail with [`BrokenBarrier`] until
    /// [`reset`](Barrier::reset).
    pub fn abort(&self) {
        self.end_round(true);
    }

    /// Returns the barrier to its empty, unbroken state. Tasks waiting in the interrupted round
    /// get [`BrokenBarrier`].
    pub fn reset(&self) {
        self.end_round(false);
    }

    fn end_round(&self, broken: bool) {
        change_then_wake(&self.state, |state, wakers| state.end_round(broken, wakers));
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("waiting", &state.arrived)
            .field("broken", &state.broken)
            .finish()
    }
}

/// The future returned by [`Barrier::wait`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    queued: Option<Queued>,
}

#[derive(Debug, Clone, Copy)]
struct Queued {
    key: usize,
    generation: u64,
    index: usize,
}

impl Future for BarrierWait<'_> {
    type Output = Result<usize, BrokenBarrier>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<usize, BrokenBarrier>> {
        let barrier = self.barrier;
        let mut state = lock(&barrier.state);
        let Some(queued) = self.queued else {
            // Arriving.
            if state.broken {
                return Poll::Ready(Err(BrokenBarrier(())));
            }
            let index = state.arrived;
            state.arrived += 1;
            if state.arrived < barrier.parties {
                let key = state.waiters.push(1, cx.waker());
                let generation = state.generation;
                self.queued = Some(Queued {
                    key,
                    generation,
                    index,
                });
                return Poll::Pending;
            }
            // The last arrival trips the barrier: release this round, start the next.
            let mut wakers = Wakers::new();
            state.arrived = 0;
            state.generation += 1;
            state.waiters.grant_all(&mut wakers);
            drop(state);
            wakers.wake_all();
            return Poll::Ready(Ok(index));
        };
        let outcome = if state.waiters.poll_granted(queued.key, cx) {
            Ok(queued.index)
        } else if state.broken || state.generation != queued.generation {
            state.waiters.remove(queued.key);
            Err(BrokenBarrier(()))
        } else {
            return Poll::Pending;
        };
        drop(state);
        self.queued = None;
        Poll::Ready(outcome)
    }
}

impl BarrierWait<'_> {
    /// A timed-out thread's exit (`wait_blocking_timeout`): unless the barrier tripped for this
    /// waiter meanwhile, breaks the round it waits in, under the same lock a trip takes, so a
    /// trip and a break cannot both happen (nor the break hit the next round).
    fn give_up(mut self) -> Result<usize, BrokenBarrier> {
        let Some(queued) = self.queued.take() else {
            unreachable!("a barrier wait that timed out has arrived and not returned")
        };
        change_then_wake(&self.barrier.state, |state, wakers| {
            if state.waiters.remove(queued.key) != Removed::Waiting {
                return Ok(queued.index); // tripped just in time
            }
            if !state.broken && state.generation == queued.generation {
                state.end_round(true, wakers);
            }
            Err(BrokenBarrier(()))
        })
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        let Some(queued) = self.queued else { return };
        let mut state = lock(&self.barrier.state);
        let was_waiting = state.waiters.remove(queued.key) == Removed::Waiting;
        if was_waiting && !state.broken && state.generation == queued.generation {
            // Leaving the round before it trips: no longer counts as arrived.
            state.arrived -= 1;
        }
    }
}

impl fmt::Debug for BarrierWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWait")
            .field("queued", &self.queued)
            .finish()
    }
}

/// The error of [`Barrier::wait`] on a barrier that was aborted, or reset while waiting
/// (asyncio's `BrokenBarrierError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenBarrier(());

impl fmt::Display for BrokenBarrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the barrier was aborted or reset; call reset() to use it again")
    }
}

impl std::error::Error for BrokenBarrier {}
