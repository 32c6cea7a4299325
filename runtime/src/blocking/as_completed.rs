//! `as_completed`: iterate over pool futures in the order they finish — Python's
//! `concurrent.futures.as_completed`.
//!
//! Each future is polled with its own waker from a [`ReadySet`], so the iterating thread looks
//! only at futures that reported progress: a completion costs O(1) whatever the number of
//! futures. The thread sleeps in between through `park::wait_on_thread`, the same mechanism as
//! `PoolFuture::result`.

#![forbid(unsafe_code)]

use std::fmt;
use std::future::poll_fn;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::PoolFuture;
use crate::compose::ReadySet;
use crate::park::wait_on_thread;
use crate::time::Elapsed;

/// Yields each future once it is done, in completion order, blocking the calling thread in
/// between. With a `timeout`, the iteration ends with an [`Elapsed`] error if not every future
/// finished in time; [`AsCompleted::into_pending`] gives back those still running.
///
/// # Examples
///
/// ```
/// use evloop::blocking::{as_completed, ThreadPoolExecutor};
/// use std::time::Duration;
///
/// let pool = ThreadPoolExecutor::new(3);
/// let futures = [30u64, 10, 20].map(|ms| {
///     pool.submit(move || {
///         std::thread::sleep(Duration::from_millis(ms));
///         ms
///     })
/// });
/// let order: Vec<u64> = as_completed(futures, None)
///     .map(|done| done.expect("no timeout").result().unwrap())
///     .collect();
/// assert_eq!(order, [10, 20, 30]);
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
    }
}

/// The iterator returned by [`as_completed`].
pub struct AsCompleted<T> {
    futures: Vec<Option<PoolFuture<T>>>,
    ready: ReadySet,
    remaining: usize,
    deadline: Option<Instant>,
    timed_out: bool,
}

impl<T> AsCompleted<T> {
    /// The futures not yet yielded (still running, or finished but not yet reached).
    pub fn into_pending(self) -> Vec<PoolFuture<T>> {
        self.futures.into_iter().flatten().collect()
    }

    /// `Ready(index)` of a future that is done, looking only at futures reported ready.
    fn poll_next_done(&self, cx: &mut Context<'_>) -> Poll<usize> {
        while let Some(index) = self.ready.pop(cx) {
            // An index may be reported more than once; a future already yielded is gone.
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

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 || self.timed_out {
            return None;
        }
        let this = &*self;
        match wait_on_thread(&mut poll_fn(|cx| this.poll_next_done(cx)), self.deadline) {
            Some(index) => {
                self.remaining -= 1;
                self.futures[index].take().map(Ok)
            }
            None => {
                self.timed_out = true;
                Some(Err(Elapsed::new()))
            }
        }
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
