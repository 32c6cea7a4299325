//! `JoinHandle`: the spawner's end of a task — await its result, cancel it, or let it go.
//!
//! asyncio's `Task` object plays this role. Three Rust-specific rules:
//! - dropping the handle *detaches* the task (it keeps running; its output is dropped when it
//!   finishes), as with threads and tokio. Cancelling is explicit: [`JoinHandle::abort`].
//! - the result is a `Result`: a panic or a cancellation arrives as a [`JoinError`] instead of
//!   an exception.
//! - the handle is `Send` when the output is, so a plain thread or another runtime can await it,
//!   even when the task's future itself is `!Send`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::join_ref::JoinRef;
use super::{AbortHandle, JoinError, TaskId};

/// An owned permission to await a spawned task's output, and to cancel the task — the part of
/// asyncio's `Task` object that the spawner keeps.
///
/// Created by [`spawn`](crate::spawn) and [`Handle::spawn`](crate::Handle::spawn).
///
/// Dropping it *detaches* the task, as `del task` leaves an asyncio task running. So a
/// [`timeout`](crate::time::timeout) around it only stops waiting, where asyncio's `wait_for`
/// cancels the task: use [`wait_for`](crate::wait_for) for that. Other differences: a panic or a
/// cancellation comes back as a [`JoinError`]
/// rather than an exception, and a panic nobody retrieves is reported
/// ([`Builder::on_unhandled_error`](crate::Builder::on_unhandled_error)), as asyncio logs "Task
/// exception was never retrieved"; [`abort_handle`](JoinHandle::abort_handle) is `task.cancel()`
/// for code that does not own the handle.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let handle = evloop::spawn(async { 6 * 7 });
///     assert_eq!(handle.await.unwrap(), 42);
///
///     let sleeper = evloop::spawn(evloop::time::sleep(std::time::Duration::from_secs(3600)));
///     sleeper.abort();
///     assert!(sleeper.await.unwrap_err().is_cancelled());
/// });
/// ```
pub struct JoinHandle<T> {
    join: JoinRef<T>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(join: JoinRef<T>) -> JoinHandle<T> {
        JoinHandle { join }
    }

    /// Cancels the task: its future is dropped (on the loop's thread) before it would be polled
    /// again, and awaiting this handle then gives a [`JoinError`] for which
    /// [`is_cancelled`](JoinError::is_cancelled) is true.
    ///
    /// If the task already finished, or finishes during its current poll, its real output stays
    /// available. Calling `abort` more than once, or from another thread, is fine.
    pub fn abort(&self) {
        self.join.abort();
    }

    /// Returns `true` once the task's future is gone: it returned, panicked or was cancelled.
    pub fn is_finished(&self) -> bool {
        self.join.is_finished()
    }

    /// A handle that cancels this task without owning this `JoinHandle`, so the task can still be
    /// cancelled after the `JoinHandle` was moved into `gather`, `wait`, `shield` or another task.
    pub fn abort_handle(&self) -> AbortHandle {
        AbortHandle::new(self.join.task())
    }

    /// The task's id: equal to the id of every other handle of the same task while it is alive
    /// (asyncio compares task objects; tokio's `JoinHandle::id`). See [`TaskId`] for how long it
    /// stays unique.
    pub fn id(&self) -> TaskId {
        self.join.id()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    /// # Panics
    ///
    /// If polled again after it returned `Ready`.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().join.poll_output(cx)
    }
}

// The handle never pins its output in place: it moves it out of the task's slot.
impl<T> Unpin for JoinHandle<T> {}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}
