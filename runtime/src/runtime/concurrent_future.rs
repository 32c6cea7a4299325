//! `ConcurrentFuture`: a task's result that a plain thread can block on.
//!
//! asyncio's `run_coroutine_threadsafe` returns a `concurrent.futures.Future`, which the calling
//! thread waits on with `result(timeout)`. Here the same object is a [`JoinHandle`] seen from a
//! thread: blocking means polling the handle with a waker that unparks this thread (see
//! `park.rs`), so there is no second completion mechanism to keep in sync with the first. It is
//! also a `Future`, so async code can `.await` it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::park::{refuse_on_a_loop, wait_on_thread};
use crate::task::{JoinError, JoinHandle};
use crate::time::Elapsed;

/// The result of [`Handle::run_coroutine_threadsafe`](crate::Handle::run_coroutine_threadsafe):
/// wait for it from a thread with [`result`](ConcurrentFuture::result), or `.await` it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let rt = evloop::Runtime::new()?;
/// let handle = rt.handle();
/// let waiter = std::thread::spawn(move || {
///     let (go, ready) = evloop::sync::oneshot::channel();
///     let mut future = handle.run_coroutine_threadsafe(async {
///         ready.await.unwrap(); // waits until this thread says go
///         "done"
///     });
///     assert!(!future.done());
///     assert!(future.result_timeout(Duration::from_millis(1)).is_err()); // not yet
///     go.send(()).unwrap();
///     future.result() // blocks until the loop has run it
/// });
/// rt.block_on(async {
///     while !waiter.is_finished() {
///         evloop::time::sleep(Duration::from_millis(1)).await;
///     }
/// });
/// assert_eq!(waiter.join().unwrap().unwrap(), "done");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct ConcurrentFuture<T> {
    handle: JoinHandle<T>,
}

impl<T> ConcurrentFuture<T> {
    pub(crate) fn new(handle: JoinHandle<T>) -> ConcurrentFuture<T> {
        ConcurrentFuture { handle }
    }

    /// Returns `true` once the task has finished (returned, panicked or was cancelled).
    pub fn done(&self) -> bool {
        self.handle.is_finished()
    }

    /// Cancels the task, as [`JoinHandle::abort`].
    pub fn cancel(&self) {
        self.handle.abort();
    }

    /// Blocks this thread until the task finishes, and returns its result.
    ///
    /// # Panics
    ///
    /// On a thread that runs an evloop loop: on the task's own loop it would wait for itself
    /// forever, and on another it would stop that loop while it waits. `.await` the
    /// `ConcurrentFuture` there instead.
    #[track_caller]
    pub fn result(mut self) -> Result<T, JoinError> {
        refuse_on_a_loop("ConcurrentFuture::result", "`.await` the ConcurrentFuture");
        wait_on_thread(&mut self.handle, None).expect("waiting with no deadline always completes")
    }

    /// Blocks this thread until the task finishes or `timeout` passes.
    ///
    /// # Errors
    ///
    /// [`Elapsed`] if the task has not finished in time; it keeps running and this
    /// `ConcurrentFuture` can be waited on again.
    ///
    /// # Panics
    ///
    /// On a loop thread (as [`result`](ConcurrentFuture::result)), and if called again after it
    /// returned the result.
    #[track_caller]
    pub fn result_timeout(&mut self, timeout: Duration) -> Result<Result<T, JoinError>, Elapsed> {
        refuse_on_a_loop(
            "ConcurrentFuture::result_timeout",
            "`evloop::time::timeout(d, future).await`",
        );
        let deadline = std::time::Instant::now().checked_add(timeout);
        wait_on_thread(&mut self.handle, deadline).ok_or_else(Elapsed::new)
    }
}

impl<T> Future for ConcurrentFuture<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.handle).poll(cx)
    }
}

impl<T> fmt::Debug for ConcurrentFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConcurrentFuture")
            .field("done", &self.done())
            .finish()
    }
}
