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

    /// Returns `true` while a worker runs the job (concurrent.futures' `running()`): no longer
    /// cancellable, not yet done.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use evloop::blocking::ThreadPoolExecutor;
    ///
    /// let pool = ThreadPoolExecutor::new(1);
    /// let (started, start) = mpsc::channel();
    /// let (finish, finishing) = mpsc::channel::<()>();
    /// let job = pool.submit(move || {
    ///     started.send(()).unwrap();
    ///     finishing.recv().unwrap();
    /// });
    /// start.recv().unwrap();
    /// assert!(job.running() && !job.cancel());
    /// finish.send(()).unwrap();
    /// job.result().unwrap();
    /// ```
    pub fn running(&self) -> bool {
        self.cell.is_running()
    }

    /// A handle that can cancel the job, and ask how it is doing, from any thread — while
    /// another thread blocks on [`result`](PoolFuture::result), which consumes the future.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::blocking::ThreadPoolExecutor;
    /// use std::sync::mpsc;
    ///
    /// let pool = ThreadPoolExecutor::new(1);
    /// let (release, stuck) = mpsc::channel::<()>();
    /// let blocker = pool.submit(move || stuck.recv().is_ok()); // keeps the only worker busy
    /// let queued = pool.submit(|| "never runs");
    /// let cancel = queued.cancel_handle();
    /// let waiter = std::thread::spawn(move || queued.result()); // blocks on the result...
    /// assert!(cancel.cancel()); // ...until another thread cancels the job
    /// assert!(waiter.join().unwrap().unwrap_err().is_cancelled());
    /// release.send(()).unwrap();
    /// assert!(blocker.result().unwrap());
    /// ```
    pub fn cancel_handle(&self) -> CancelHandle
    where
        T: Send + 'static,
    {
        CancelHandle {
            job: std::sync::Arc::new(self.cell.clone()),
        }
    }

    /// Runs `callback` once the job is done — returned, panicked, was cancelled or refused —
    /// as concurrent.futures' `add_done_callback`, for code with no loop to await on. It runs on
    /// the thread that completes the job (a worker, or the one that cancels it), or at once on
    /// this thread if the job is already done. Callbacks run in the order they were added; one
    /// that panics is reported by the panic hook and the others still run.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::blocking::ThreadPoolExecutor;
    /// use std::sync::mpsc;
    ///
    /// let pool = ThreadPoolExecutor::new(2);
    /// let (done, finished) = mpsc::channel();
    /// for name in ["a", "b"] {
    ///     let done = done.clone();
    ///     pool.submit(move || name.len()).add_done_callback(move || done.send(name).unwrap());
    /// }
    /// let mut names: Vec<&str> = finished.iter().take(2).collect();
    /// names.sort();
    /// assert_eq!(names, ["a", "b"]);
    /// ```
    pub fn add_done_callback(&self, callback: impl FnOnce() + Send + 'static) {
        self.cell.add_done_callback(Box::new(callback));
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

/// Cancels a pool job, and tells how it is doing, from any thread: from
/// [`PoolFuture::cancel_handle`]. Cloneable; holding it keeps nothing but the job's small state.
#[derive(Clone)]
pub struct CancelHandle {
    /// The job's cell, its result type erased.
    job: std::sync::Arc<dyn JobStatus>,
}

impl CancelHandle {
    /// Cancels the job if no worker has started it yet, and returns whether it did (see
    /// [`PoolFuture::cancel`]).
    pub fn cancel(&self) -> bool {
        self.job.cancel()
    }

    /// Whether the job is done: returned, panicked, was cancelled or refused.
    pub fn done(&self) -> bool {
        self.job.done()
    }

    /// Whether a worker runs the job right now.
    pub fn running(&self) -> bool {
        self.job.running()
    }

    /// Whether the job was cancelled before it started (or refused by a closed pool).
    pub fn is_cancelled(&self) -> bool {
        self.job.is_cancelled()
    }
}

impl fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelHandle")
            .field("done", &self.done())
            .field("running", &self.running())
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

/// What a [`CancelHandle`] may do to a job, whatever its result type.
trait JobStatus: Send + Sync {
    fn cancel(&self) -> bool;
    fn done(&self) -> bool;
    fn running(&self) -> bool;
    fn is_cancelled(&self) -> bool;
}

impl<T: Send> JobStatus for Arc<JobCell<T>> {
    fn cancel(&self) -> bool {
        JobCell::cancel(self)
    }
    fn done(&self) -> bool {
        self.is_done()
    }
    fn running(&self) -> bool {
        self.is_running()
    }
    fn is_cancelled(&self) -> bool {
        JobCell::is_cancelled(self)
    }
}

impl<T> fmt::Debug for PoolFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolFuture")
            .field("done", &self.done())
            .field("running", &self.running())
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}
