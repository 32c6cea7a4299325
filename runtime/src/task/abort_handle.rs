//! `AbortHandle`: cancel a task without owning its `JoinHandle` — tokio's `AbortHandle`.
//!
//! A `JoinHandle` moved into `gather`, `wait` or `shield` (or into another task) can no longer be
//! reached to cancel its task. An `AbortHandle`, taken from the `JoinHandle` beforehand, can: it
//! holds one counted reference to the task and reaches nothing but the task's state word, so it
//! can be cloned, sent to any thread and kept after the task finished.

use std::fmt;

use super::refs::TaskRef;
use super::TaskId;

/// Cancels a task from anywhere, without owning its [`JoinHandle`](super::JoinHandle).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// evloop::run(async {
///     let sleeper = evloop::spawn(evloop::time::sleep(Duration::from_secs(3600)));
///     let cancel = sleeper.abort_handle();
///     let waiting = evloop::spawn(async move { sleeper.await }); // the handle is gone...
///     cancel.abort(); // ...but the task can still be cancelled
///     assert!(waiting.await.unwrap().unwrap_err().is_cancelled());
///     assert!(cancel.is_finished());
/// });
/// ```
#[derive(Clone)]
pub struct AbortHandle {
    task: TaskRef,
}

impl AbortHandle {
    pub(crate) fn new(task: TaskRef) -> AbortHandle {
        AbortHandle { task }
    }

    /// Cancels the task, as [`JoinHandle::abort`](super::JoinHandle::abort): its future is dropped
    /// before it would be polled again. Does nothing if the task has finished.
    pub fn abort(&self) {
        self.task.request_cancel();
    }

    /// Whether the task's future is gone: it returned, panicked or was cancelled.
    pub fn is_finished(&self) -> bool {
        self.task.state().is_complete()
    }

    /// Whether `abort` reached the task before it finished (its future was, or will be, dropped
    /// unfinished).
    pub(crate) fn was_aborted(&self) -> bool {
        self.task.state().is_cancel_requested()
    }

    /// The task's id, the same as its [`JoinHandle::id`](super::JoinHandle::id).
    pub fn id(&self) -> TaskId {
        self.task.id()
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}
