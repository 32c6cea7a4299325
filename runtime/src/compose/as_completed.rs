//! `as_completed`: outputs in the order they are ready — asyncio's `asyncio.as_completed`.

#![forbid(unsafe_code)]

use std::fmt;
use std::future::{poll_fn, Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;

use crate::foreign::DropEach;
use crate::ready_set::ReadySet;
use crate::time::{sleep, Elapsed, Sleep};

/// Yields the outputs of `futures` in the order they complete, each with its index in `futures`.
/// With a `timeout`, the stream ends with an [`Elapsed`] error if not every future completed in
/// time; [`AsCompleted::into_pending`] then gives back the unfinished ones, to abort or await (what
/// asyncio's users do with the leftovers of a timed-out `as_completed`).
///
/// The futures are polled in place, by whoever iterates: pass [`JoinHandle`](crate::JoinHandle)s
/// or [`PoolFuture`](crate::blocking::PoolFuture)s of work that must run regardless (asyncio's
/// `as_completed` wraps coroutines in tasks for that reason); plain futures make progress while
/// the stream is being awaited. Only futures that were woken are polled again.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::time::sleep;
///
/// evloop::run(async {
///     let jobs = [30u64, 10, 20].map(|ms| {
///         evloop::spawn(async move {
///             sleep(Duration::from_millis(ms)).await;
///             ms
///         })
///     });
///     let mut finished = Vec::new();
///     let mut completed = evloop::as_completed(jobs, None);
///     while let Some(output) = completed.next().await {
///         let (index, result) = output.expect("no timeout");
///         finished.push((index, result.unwrap()));
///     }
///     assert_eq!(finished, [(1, 10), (2, 20), (0, 30)]);
///
///     // With a timeout: what did not finish comes back, to be cancelled.
///     let slow = [evloop::spawn(sleep(Duration::from_secs(3600)))];
///     let mut completed = evloop::as_completed(slow, Some(Duration::from_millis(5)));
///     assert!(completed.next().await.unwrap().is_err());
///     for (index, task) in completed.into_pending() {
///         assert_eq!(index, 0);
///         task.abort();
///     }
/// });
/// ```
pub fn as_completed<I>(
    futures: I,
    timeout: Option<Duration>,
) -> AsCompleted<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    let futures = DropEach(
        futures
            .into_iter()
            .map(|future| Some(Box::pin(future.into_future())))
            .collect(),
    );
    AsCompleted {
        remaining: futures.len(),
        ready: ReadySet::new(futures.len()),
        futures,
        deadline: timeout.map(sleep),
        timed_out: false,
    }
}

/// One item of the stream: an output with its input's index, or the timeout.
type Indexed<F> = Result<(usize, <F as Future>::Output), Elapsed>;

/// The stream returned by [`as_completed`].
pub struct AsCompleted<F: Future> {
    /// Dropped one by one: each future's `Drop` is user code (`foreign.rs`).
    futures: DropEach<Option<Pin<Box<F>>>>,
    ready: ReadySet,
    remaining: usize,
    deadline: Option<Sleep>,
    timed_out: bool,
}

impl<F: Future> AsCompleted<F> {
    /// The next output in completion order, with the index of its future in the input; `None`
    /// when all are done (or after the timeout).
    pub async fn next(&mut self) -> Option<Result<(usize, F::Output), Elapsed>> {
        poll_fn(|cx| self.poll_next_output(cx)).await
    }

    /// How many futures have not produced their output yet.
    pub fn remaining(&self) -> usize {
        self.remaining
    }

    /// The futures that have not produced their output, with their indices in the input: after a
    /// timeout, the work to abort (join handles) or to await some other way.
    pub fn into_pending(mut self) -> Vec<(usize, Pin<Box<F>>)> {
        self.futures
            .drain(..)
            .enumerate()
            .filter_map(|(index, future)| future.map(|future| (index, future)))
            .collect()
    }

    fn poll_next_output(&mut self, cx: &mut Context<'_>) -> Poll<Option<Indexed<F>>> {
        if self.remaining == 0 || self.timed_out {
            return Poll::Ready(None);
        }
        // Each ready future at most once per poll; one that wakes itself waits for the next
        // poll, after the loop's other tasks (`ready_set.rs`).
        self.ready.begin_round(cx);
        while let Some(index) = self.ready.next_in_round() {
            let Some(future) = &mut self.futures[index] else {
                continue; // reported again after it finished
            };
            let mut child = Context::from_waker(self.ready.waker(index));
            if let Poll::Ready(output) = future.as_mut().poll(&mut child) {
                self.futures[index] = None;
                self.remaining -= 1;
                if self.remaining == 0 {
                    self.deadline = None; // nothing left to time: no timer left behind
                }
                return Poll::Ready(Some(Ok((index, output))));
            }
        }
        if let Some(deadline) = &mut self.deadline {
            if Pin::new(deadline).poll(cx).is_ready() {
                self.timed_out = true;
                self.deadline = None;
                return Poll::Ready(Some(Err(Elapsed::new())));
            }
        }
        Poll::Pending
    }
}

impl<F: Future> Stream for AsCompleted<F> {
    type Item = Result<(usize, F::Output), Elapsed>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_output(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.remaining + 1))
    }
}

// Children are boxed and the deadline is `Unpin`: the stream itself never needs pinning.
impl<F: Future> Unpin for AsCompleted<F> {}

impl<F: Future> fmt::Debug for AsCompleted<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.remaining)
            .field("timed_out", &self.timed_out)
            .finish()
    }
}
