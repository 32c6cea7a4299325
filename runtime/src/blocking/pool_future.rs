//! `PoolFuture`: the result of a job on the thread pool, for a thread to block on or a task to
//! `.await` — Python's `concurrent.futures.Future`.
//!
//! Blocking and awaiting are the same mechanism: `result()` polls the future with a waker that
//! unparks the calling thread (`park.rs`), exactly as a task's waker re-queues the task. So there
//! is one completion path to get right, not two.

#![forbid(unsafe_code)]

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::job::JobCell;
use crate::park::{refuse_on_a_loop, wait_on_thread};
use crate::shim::Arc;
use crate::task::JoinError;
use crate::time::Elapsed;

/// The pending result of a job submitted to a
/// [`ThreadPoolExecutor`](super::ThreadPoolExecutor) (or to the runtime's pool with
/// [`run_in_executor`](crate::run_in_executor)).
///
/// Block on it from a thread with [`result`](PoolFuture::result), or `.await` it in a task.
/// Dropping it does not cancel the job: like a `JoinHandle`, it detaches; use
/// [`cancel`](PoolFuture::cancel) to stop a job that has not started.
///
/// # Examples
///
/// ```
/// use evloop::blocking::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::new(2);
/// let future = pool.submit(|| 6 * 7);
/// assert_eq!(future.result().unwrap(), 42);
///
/// // The same future type, awaited inside the loop:
/// let answer = evloop::run(async move { pool.submit(|| "async").await });
/// assert_eq!(answer.unwrap(), "async");
/// ```
#[must_use = "dropping a PoolFuture detaches the job; keep it to get the result"]
pub struct PoolFuture<T> {
    cell: Arc<JobCell<T>>,
}

impl<T> PoolFuture<T> {
    pub(crate) fn new(cell: Arc<JobCell<T>>) -> PoolFuture<T> {
        PoolFuture { cell }
    }

    /// Returns `true` once the job has finished: returned, panicked or was cancelled.
    pub fn done(&self) -> bool {
        self.cell.is_done()
    }

    /// Cancels the job if no worker has started it yet, and returns whether it did. A running
    /// job cannot be interrupted (threads cannot be cancelled safely); `false` then.
    pub fn cancel(&self) -> bool {
        self.cell.cancel()
    }

    /// Returns `true` if the job was cancelled before it started (or refused by a closed pool).
    pub fn is_cancelled(&self) -> bool {
        self.cell.is_cancelled()
    }

    /// Blocks the calling thread until the job finishes, and returns its result: the value, or a
    /// [`JoinError`] if it panicked or was cancelled.
    ///
    /// # Panics
    ///
    /// On a thread that runs an evloop loop, which would stop while it waits: `.await` the
    /// `PoolFuture` there instead.
    #[track_caller]
    pub fn result(mut self) -> Result<T, JoinError> {
        refuse_on_a_loop("PoolFuture::result", "`.await` the PoolFuture");
        wait_on_thread(&mut self, None).expect("waiting with no deadline always completes")
    }

    /// Blocks until the job finishes or `timeout` passes.
    ///
    /// # Errors
    ///
    /// [`Elapsed`] if the job has not finished in time; it goes on, and this future can be waited
    /// on again.
    ///
    /// # Panics
    ///
    /// On a loop thread (as [`result`](PoolFuture::result)), and if called again after it
    /// returned the result.
    #[track_caller]
    pub fn result_timeout(&mut self, timeout: Duration) -> Result<Result<T, JoinError>, Elapsed> {
        refuse_on_a_loop(
            "PoolFuture::result_timeout",
            "`evloop::time::timeout(d, future).await`",
        );
        let deadline = std::time::Instant::now().checked_add(timeout);
        wait_on_thread(self, deadline).ok_or_else(Elapsed::new)
    }

    /// Whether the job finished by panicking: an exception for `wait`'s `FirstException` (a
    /// cancelled job is not one, as in concurrent.futures).
    pub(crate) fn panicked(&self) -> bool {
        self.cell.panicked()
    }

    /// `Ready` once the job is done, leaving the result in place (for `as_completed`).
    pub(crate) fn poll_done(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.cell.poll_done(cx)
    }
}

impl<T> Future for PoolFuture<T> {
    type Output = Result<T, JoinError>;

    /// # Panics
    ///
    /// If polled again after it returned `Ready`.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.cell.poll_result(cx)
    }
}

impl<T> fmt::Debug for PoolFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolFuture")
            .field("done", &self.done())
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}
