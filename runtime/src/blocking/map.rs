//! `Map`: the results of [`ThreadPoolExecutor::map`](super::ThreadPoolExecutor::map), in input
//! order — the generator Python's `Executor.map` returns, with its three promises:
//!
//! - **Closing it cancels what has not started.** Python's generator cancels its remaining
//!   futures in a `finally:` block when it is closed; a `Map` does the same in `Drop`. A job
//!   already running goes on (a thread cannot be interrupted); its result is dropped.
//! - **A deadline for all of it** ([`Map::timeout`], Python's `map(timeout=)`), counted from the
//!   call to `map`: once it passes, the iterator reports it once and ends, cancelling the rest.
//! - **A bounded window** ([`map_buffered`](super::ThreadPoolExecutor::map_buffered), Python
//!   3.14's `buffersize=`): only that many jobs are submitted ahead; each result taken submits
//!   the next item, so mapping a huge (or endless) iterator does not queue all of it.

#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use super::PoolFuture;
use crate::park::{refuse_on_a_loop, wait_on_thread};
use crate::task::JoinError;
use crate::time::Elapsed;

/// Items not yet submitted, each submitted when pulled (a buffered map's source).
type Unsubmitted<T> = Box<dyn Iterator<Item = PoolFuture<T>>>;

/// The iterator returned by [`ThreadPoolExecutor::map`](super::ThreadPoolExecutor::map) and
/// [`map_buffered`](super::ThreadPoolExecutor::map_buffered): each job's result, in input order.
///
/// Dropping it cancels every job that has not started yet.
///
/// # Examples
///
/// ```
/// let pool = evloop::blocking::ThreadPoolExecutor::new(2);
/// let mut squares = pool.map(|x: u64| x * x, 1..=1000);
/// assert_eq!(squares.next().unwrap().unwrap(), 1);
/// drop(squares); // the jobs no worker has started yet are cancelled
/// ```
pub struct Map<T> {
    /// Submitted jobs, oldest (next to report) first.
    in_flight: VecDeque<PoolFuture<T>>,
    /// A buffered map's items that are not submitted yet; `None` when everything is submitted.
    unsubmitted: Option<Unsubmitted<T>>,
    /// When `map` was called: a timeout counts from there, as Python's does.
    started: Instant,
}

impl<T> Map<T> {
    /// A map whose jobs are all submitted already.
    pub(super) fn submitted(in_flight: VecDeque<PoolFuture<T>>) -> Map<T> {
        Map {
            in_flight,
            unsubmitted: None,
            started: Instant::now(),
        }
    }

    /// A map that submits the first `window` items of `unsubmitted` now, and one more for each
    /// result taken.
    pub(super) fn buffered(unsubmitted: Unsubmitted<T>, window: usize) -> Map<T> {
        let mut map = Map {
            in_flight: VecDeque::with_capacity(window),
            unsubmitted: Some(unsubmitted),
            started: Instant::now(),
        };
        for _ in 0..window {
            map.submit_next();
        }
        map
    }

    /// Gives up waiting once `timeout` has passed since `map` was called (Python's
    /// `map(timeout=)`): the returned iterator yields `Err(Elapsed)` once, then ends, and the jobs
    /// not started by then are cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{mpsc, Mutex};
    /// use std::time::Duration;
    ///
    /// let pool = evloop::blocking::ThreadPoolExecutor::new(1);
    /// let (release, stuck) = mpsc::channel::<()>();
    /// let stuck = Mutex::new(stuck);
    /// let job = move |wait: bool| {
    ///     if wait {
    ///         let _ = stuck.lock().unwrap().recv(); // until `release` is dropped
    ///     }
    /// };
    /// let mut results = pool.map(job, [false, true, false]).timeout(Duration::from_secs(1));
    /// assert!(results.next().unwrap().is_ok());
    /// assert!(results.next().unwrap().is_err()); // the second job is still stuck
    /// assert!(results.next().is_none()); // and the third was cancelled
    /// drop(release);
    /// ```
    pub fn timeout(self, timeout: Duration) -> MapTimeout<T> {
        MapTimeout {
            deadline: self.started.checked_add(timeout),
            map: Some(self),
        }
    }

    /// Submits the next unsubmitted item, if there is one.
    fn submit_next(&mut self) {
        if let Some(future) = self.unsubmitted.as_mut().and_then(Iterator::next) {
            self.in_flight.push_back(future);
        } else {
            self.unsubmitted = None;
        }
    }

    /// The next job in input order, submitting one more item in its place (Python 3.14 does the
    /// same before it waits).
    fn take_next(&mut self) -> Option<PoolFuture<T>> {
        let next = self.in_flight.pop_front()?;
        self.submit_next();
        Some(next)
    }
}

impl<T> Iterator for Map<T> {
    type Item = Result<T, JoinError>;

    /// Blocks until the next result in input order is there.
    ///
    /// # Panics
    ///
    /// On a thread that runs an evloop loop (see [`PoolFuture::result`]).
    #[track_caller]
    fn next(&mut self) -> Option<Self::Item> {
        refuse_on_a_loop("Map::next", "await each PoolFuture of `submit`");
        self.take_next().map(PoolFuture::result)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (more, most) = match &self.unsubmitted {
            Some(items) => items.size_hint(),
            None => (0, Some(0)),
        };
        let submitted = self.in_flight.len();
        (
            submitted.saturating_add(more),
            most.and_then(|most| most.checked_add(submitted)),
        )
    }
}

impl<T> Drop for Map<T> {
    /// Cancels every submitted job that no worker has started (Python closes the generator the
    /// same way) and submits nothing more.
    fn drop(&mut self) {
        self.unsubmitted = None;
        for future in &self.in_flight {
            future.cancel();
        }
    }
}

impl<T> fmt::Debug for Map<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map")
            .field("in_flight", &self.in_flight.len())
            .field("all_submitted", &self.unsubmitted.is_none())
            .finish()
    }
}

/// A [`Map`] with a deadline, from [`Map::timeout`]: each result in input order, or
/// `Err(Elapsed)` once when the deadline passes, after which it ends.
#[derive(Debug)]
pub struct MapTimeout<T> {
    /// `None` once the deadline passed (the map, dropped, cancelled what was left).
    map: Option<Map<T>>,
    /// `None` if the timeout is too large to represent: no deadline.
    deadline: Option<Instant>,
}

impl<T> Iterator for MapTimeout<T> {
    type Item = Result<Result<T, JoinError>, Elapsed>;

    /// Blocks until the next result in input order is there or the deadline passes.
    ///
    /// # Panics
    ///
    /// On a thread that runs an evloop loop (see [`PoolFuture::result`]).
    #[track_caller]
    fn next(&mut self) -> Option<Self::Item> {
        refuse_on_a_loop("MapTimeout::next", "await each PoolFuture of `submit`");
        let map = self.map.as_mut()?;
        let mut next = map.take_next()?;
        match wait_on_thread(&mut next, self.deadline) {
            Some(result) => Some(Ok(result)),
            None => {
                // Python cancels the waited-for future too; a running job cannot be stopped,
                // and one that has not started is cancelled like the rest.
                next.cancel();
                self.map = None;
                Some(Err(Elapsed::new()))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.map {
            // At most one `Err` instead of the results, so the bounds are the map's.
            Some(map) => (0, map.size_hint().1),
            None => (0, Some(0)),
        }
    }
}
