//! `wait_for`: wait for a task with a deadline, and cancel it when the deadline passes —
//! asyncio's `asyncio.wait_for(task, timeout)`.
//!
//! [`timeout`](crate::time::timeout) around a `JoinHandle` is not that: when the deadline passes it
//! drops the handle, and dropping a handle *detaches* the task, which goes on running. asyncio
//! cancels the task and waits until the cancellation is over, so that when `wait_for` raises
//! `TimeoutError` the task is done and its clean-up has run. This is that, for a `JoinHandle`.

#![forbid(unsafe_code)]

use std::time::Duration;

use crate::task::{JoinError, JoinHandle};
use crate::time::{timeout, Elapsed};

/// Waits for `task` for at most `duration`; if it has not finished by then, cancels it and waits
/// until the cancellation is done (its future dropped, its `Drop` run) before returning
/// `Err(Elapsed)` — asyncio's `wait_for`.
///
/// If the task finished in the meantime anyway (its last poll was already under way when the
/// deadline passed), its result is returned, as asyncio does when the awaited task completes
/// despite the cancellation.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// evloop::run(async {
///     let cleaned_up = Rc::new(Cell::new(false));
///     struct CleanUp(Rc<Cell<bool>>);
///     impl Drop for CleanUp {
///         fn drop(&mut self) {
///             self.0.set(true);
///         }
///     }
///     let guard = CleanUp(cleaned_up.clone());
///     let slow = evloop::spawn(async move {
///         let _guard = guard;
///         evloop::time::sleep(Duration::from_secs(3600)).await;
///     });
///     assert!(evloop::wait_for(Duration::from_millis(5), slow).await.is_err());
///     assert!(cleaned_up.get(), "the task was cancelled, and its clean-up ran, before wait_for returned");
///
///     let quick = evloop::spawn(async { 7 });
///     assert_eq!(evloop::wait_for(Duration::from_secs(1), quick).await.unwrap().unwrap(), 7);
/// });
/// ```
pub async fn wait_for<T>(
    duration: Duration,
    mut task: JoinHandle<T>,
) -> Result<Result<T, JoinError>, Elapsed> {
    match timeout(duration, &mut task).await {
        Ok(result) => Ok(result),
        Err(elapsed) => {
            task.abort();
            match (&mut task).await {
                Err(error) if error.is_cancelled() => Err(elapsed),
                finished_anyway => Ok(finished_anyway),
            }
        }
    }
}
