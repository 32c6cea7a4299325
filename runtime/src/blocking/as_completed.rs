//! `as_completed`: iterate over pool futures in the order they finish — Python's
//! `concurrent.futures.as_completed`.
//!
//! Each future is polled with its own waker from a [`ReadySet`], so the iterating thread looks
//! only at futures that reported progress: a completion costs O(1) whatever the number of
//! futures. The thread sleeps in between through `park::wait_on_thread`, the same mechanism as
//! `PoolFuture::result`.
//!
//! The same value is also a `futures_core::Stream`, for a task on a loop: there it must not block,
//! so the stream waits like any future (and its timeout is a loop timer, started on first poll).

#![forbid(unsafe_code)]

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_core::Stream;

use super::PoolFuture;
use crate::park::{refuse_on_a_loop, wait_on_thread};
use crate::ready_set::ReadySet;
use crate::time::{sleep_until, Elapsed, Sleep};

/// Yields each future once it is done, in completion order, blocking the calling thread in
/// between. With a `timeout`, the iteration ends with an [`Elapsed`] error if not every future
/// finished in time; [`AsCompleted::into_pending`] gives back those still running.
///
/// # Examples
///
/// ```
/// use evloop::blocking::{as_completed, ThreadPoolExecutor};
/// use std::sync::mpsc;
///
/// let pool = ThreadPoolExecutor::new(3);
/// // Three jobs, each waiting at its own gate until it is let through.
/// let (gates, futures): (Vec<_>, Vec<_>) = ["slow", "fast", "medium"]
///     .into_iter()
///     .map(|name| {
///         let (open, gate) = mpsc::channel::<()>();
///         (open, pool.submit(move || gate.recv().map(|()| name)))
///     })
///     .unzip();
/// let mut done = as_completed(futures, None);
/// let mut order = Vec::new();
/// // Let them finish in the order fast, medium, slow: each comes out as it finishes.
/// for gate in [1, 2, 0] {
///     gates[gate].send(()).unwrap();
///     let finished = done.next().unwrap().expect("no timeout");
///     order.push(finished.result().unwrap().unwrap());
/// }
/// assert_eq!(order, ["fast", "medium", "slow"]);
/// ```
pub fn as_completed<T>(
    futures: impl IntoIterator<Item = PoolFuture<T>>,
    timeout: Option<Duration>,
) -> AsCompleted<T> {
    let futures: Vec<_> = futures.into_iter().map(Some).collect();
    AsCompleted {
        remaining: futures.len(),
        ready: ReadySet::new(futures.len()),
        futures,
        deadline: timeout.and_then(|timeout| Instant::now().checked_add(timeout)),
        timed_out: false,
        timer: None,
    }
}

/// The iterator returned by [`as_completed`].
pub struct AsCompleted<T> {
    futures: Vec<Option<PoolFuture<T>>>,
    ready: ReadySet,
    remaining: usize,
    deadline: Option<Instant>,
    timed_out: bool,
    /// The deadline as a loop timer, once the stream form was polled.
    timer: Option<Sleep>,
}

impl<T> AsCompleted<T> {
    /// The futures not yet yielded (still running, or finished but not yet reached).
    pub fn into_pending(self) -> Vec<PoolFuture<T>> {
        self.futures.into_iter().flatten().collect()
    }

    /// The futures not yet yielded, each with its index among the inputs.
    pub(super) fn into_pending_indexed(self) -> Vec<(usize, PoolFuture<T>)> {
        self.futures
            .into_iter()
            .enumerate()
            .filter_map(|(index, future)| Some((index, future?)))
            .collect()
    }

    /// Blocks until the next future is done: `Some(Ok((index, future)))`, `Some(Err(Elapsed))`
    /// once if the timeout passes first, `None` when every future has been yielded.
    #[track_caller]
    pub(super) fn next_indexed(&mut self) -> Option<Result<(usize, PoolFuture<T>), Elapsed>> {
        if self.remaining == 0 || self.timed_out {
            return None;
        }
        refuse_on_a_loop(
            "blocking::as_completed's next",
            "use evloop::as_completed on the PoolFutures",
        );
        let deadline = self.deadline;
        match wait_on_thread(&mut poll_fn(|cx| self.poll_next_done(cx)), deadline) {
            Some(index) => {
                self.remaining -= 1;
                let future = self.futures[index].take().expect("yielded once");
                Some(Ok((index, future)))
            }
            None => {
                self.timed_out = true;
                Some(Err(Elapsed::new()))
            }
        }
    }

    /// `Ready(index)` of a future that is done, looking only at futures reported ready.
    fn poll_next_done(&mut self, cx: &mut Context<'_>) -> Poll<usize> {
        self.ready.begin_round(cx);
        while let Some(index) = self.ready.next_in_round() {
            // A future already yielded is gone.
            let Some(future) = &self.futures[index] else {
                continue;
            };
            let mut child = Context::from_waker(self.ready.waker(index));
            if future.poll_done(&mut child).is_ready() {
                return Poll::Ready(index);
            }
        }
        Poll::Pending
    }
}

impl<T> Iterator for AsCompleted<T> {
    type Item = Result<PoolFuture<T>, Elapsed>;

    /// Blocks until the next future is done (or the timeout passes).
    ///
    /// # Panics
    ///
    /// On a thread that runs an evloop loop (see [`PoolFuture::result`]).
    #[track_caller]
    fn next(&mut self) -> Option<Self::Item> {
        self.next_indexed()
            .map(|next| next.map(|(_, future)| future))
    }
}

/// The loop's form of the iteration: each future once it is done, then `Err(Elapsed)` once if the
/// timeout passes first. Poll it from a task on an evloop loop (the timeout is a loop timer).
///
/// `AsCompleted` is both an `Iterator` and a `Stream`, so name the trait when a method exists in
/// both: `StreamExt::next(&mut it)` waits, `it.next()` would block the loop (and panics there).
///
/// # Examples
///
/// ```
/// use futures_util::StreamExt;
/// use evloop::blocking::{as_completed, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new(2);
/// let futures = vec![pool.submit(|| 1), pool.submit(|| 2)];
/// let total = evloop::run(async {
///     let mut done = as_completed(futures, None);
///     let mut total = 0;
///     while let Some(finished) = StreamExt::next(&mut done).await {
///         total += finished.unwrap().await.unwrap();
///     }
///     total
/// });
/// assert_eq!(total, 3);
/// ```
impl<T> Stream for AsCompleted<T> {
    type Item = Result<PoolFuture<T>, Elapsed>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.remaining == 0 || this.timed_out {
            return Poll::Ready(None);
        }
        if let Poll::Ready(index) = this.poll_next_done(cx) {
            this.remaining -= 1;
            let future = this.futures[index].take().expect("yielded once");
            return Poll::Ready(Some(Ok(future)));
        }
        if let Some(deadline) = this.deadline {
            let timer = this
                .timer
                .get_or_insert_with(|| sleep_until(deadline.into()));
            if Pin::new(timer).poll(cx).is_ready() {
                this.timed_out = true;
                return Poll::Ready(Some(Err(Elapsed::new())));
            }
        }
        Poll::Pending
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // With a timeout, `Elapsed` may come instead of the rest: never more items in all.
        let most = if self.timed_out { 0 } else { self.remaining };
        let least = if self.deadline.is_some() { 0 } else { most };
        (least, Some(most))
    }
}

impl<T> fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.remaining)
            .field("timed_out", &self.timed_out)
            .finish()
    }
}
