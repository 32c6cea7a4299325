//! `as_completed`: iterate over pool futures in the order they finish — Python's
//! `concurrent.futures.as_completed`.
//!
//! Each future gets its own small waker that records its index in a shared "ready" list and
//! unparks the iterating thread. The iterator then looks only at the futures that reported, so a
//! completion costs O(1) whatever the number of futures (a single shared waker would force a
//! scan of all of them at every wake-up).

#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::fmt;
use std::task::{Context, Wake, Waker};
use std::time::{Duration, Instant};

use super::PoolFuture;
use crate::park::{time_left, Parker, TimeLeft};
use crate::shim::{lock, Mutex};
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
    let signal = std::sync::Arc::new(ReadySignal {
        ready: Mutex::new((0..futures.len()).collect()),
        parker: Parker::new(),
    });
    let wakers = (0..futures.len())
        .map(|index| {
            Waker::from(std::sync::Arc::new(IndexWaker {
                index,
                signal: signal.clone(),
            }))
        })
        .collect();
    AsCompleted {
        remaining: futures.len(),
        futures,
        wakers,
        signal,
        deadline: timeout.and_then(|timeout| Instant::now().checked_add(timeout)),
        timed_out: false,
    }
}

/// Indices of futures that may have finished, and the parker of the thread that iterates.
struct ReadySignal {
    ready: Mutex<VecDeque<usize>>,
    parker: Parker,
}

/// The waker given to future `index`.
struct IndexWaker {
    index: usize,
    signal: std::sync::Arc<ReadySignal>,
}

impl Wake for IndexWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        lock(&self.signal.ready).push_back(self.index);
        self.signal.parker.unpark();
    }
}

/// The iterator returned by [`as_completed`].
pub struct AsCompleted<T> {
    futures: Vec<Option<PoolFuture<T>>>,
    wakers: Vec<Waker>,
    signal: std::sync::Arc<ReadySignal>,
    remaining: usize,
    deadline: Option<Instant>,
    timed_out: bool,
}

impl<T> AsCompleted<T> {
    /// The futures not yet yielded (still running, or finished but not yet reached).
    pub fn into_pending(self) -> Vec<PoolFuture<T>> {
        self.futures.into_iter().flatten().collect()
    }
}

impl<T> Iterator for AsCompleted<T> {
    type Item = Result<PoolFuture<T>, Elapsed>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 || self.timed_out {
            return None;
        }
        loop {
            let next_ready = lock(&self.signal.ready).pop_front();
            if let Some(index) = next_ready {
                // An index may be reported more than once; a future already yielded is gone.
                let Some(future) = &self.futures[index] else {
                    continue;
                };
                let mut cx = Context::from_waker(&self.wakers[index]);
                if future.poll_done(&mut cx).is_ready() {
                    self.remaining -= 1;
                    return self.futures[index].take().map(Ok);
                }
                continue;
            }
            match time_left(self.deadline) {
                TimeLeft::Unbounded => self.signal.parker.park(None),
                TimeLeft::Duration(left) => self.signal.parker.park(Some(left)),
                TimeLeft::Expired => {
                    self.timed_out = true;
                    return Some(Err(Elapsed::new()));
                }
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
