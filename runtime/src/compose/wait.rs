//! `wait`: wait for some of a set of futures, and get back the finished and the unfinished ones —
//! asyncio's `asyncio.wait`.

#![forbid(unsafe_code)]

use std::any::Any;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use crate::foreign::DropEach;
use crate::ready_set::ReadySet;
use crate::task::JoinError;
use crate::time::sleep;

/// When [`wait`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnWhen {
    /// As soon as any future finishes.
    FirstCompleted,
    /// As soon as any future finishes with an `Err` (or when all have finished).
    FirstException,
    /// When every future has finished.
    AllCompleted,
}

/// What [`wait`] returns: the outputs of the futures that finished, and the futures that did not,
/// each with its index in the input.
pub struct Waited<F: Future> {
    /// `(index, output)` of each finished future, in completion order.
    pub done: Vec<(usize, F::Output)>,
    /// `(index, future)` of each unfinished one, in input order; they can be awaited or waited on
    /// again.
    pub pending: Vec<(usize, F)>,
}

/// Polls `futures` until `return_when` is met or `timeout` passes, then returns the finished
/// outputs and the unfinished futures — asyncio's `asyncio.wait`. Nothing is cancelled:
/// unfinished futures come back as they are (give it [`JoinHandle`](crate::JoinHandle)s for work
/// that must keep running meanwhile).
///
/// Futures yield `Result`s, so that `FirstException` can tell a failure: an `Err` output counts as
/// an exception, except a cancelled task's (a `JoinHandle`'s `JoinError` for which
/// [`is_cancelled`](crate::JoinError::is_cancelled) holds), as asyncio skips cancelled futures
/// there. A panicked task's `JoinError` counts.
///
/// When it returns, *every* future that had finished is in `done`, not only the first one seen:
/// each poll looks at every future that was woken before deciding.
///
/// # Errors
///
/// [`EmptyWait`] if `futures` is empty, as asyncio's `wait` raises `ValueError`: there is nothing
/// whose completion could be waited for.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::time::sleep;
/// use evloop::ReturnWhen;
///
/// evloop::run(async {
///     let tasks = [5u64, 500].map(|ms| {
///         evloop::spawn(async move {
///             sleep(Duration::from_millis(ms)).await;
///             ms
///         })
///     });
///     let waited = evloop::wait(tasks, ReturnWhen::FirstCompleted, None).await.unwrap();
///     assert_eq!(waited.done.len(), 1);
///     assert_eq!(waited.done[0].1.as_ref().unwrap(), &5);
///     assert_eq!(waited.pending[0].0, 1, "the 500 ms task is still running");
/// });
/// ```
pub async fn wait<I, F, T, E>(
    futures: I,
    return_when: ReturnWhen,
    timeout: Option<Duration>,
) -> Result<Waited<F>, EmptyWait>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>> + Unpin,
    E: 'static,
{
    // Dropped one by one if the wait is cancelled: each future's `Drop` is user code.
    let mut futures = DropEach(futures.into_iter().map(Some).collect::<Vec<_>>());
    if futures.is_empty() {
        return Err(EmptyWait(()));
    }
    let mut ready = ReadySet::new(futures.len());
    let mut done = Vec::new();
    let mut deadline = timeout.map(sleep);
    poll_fn(|cx| {
        // Each ready future once per poll (`ready_set.rs`); the whole round is polled before
        // deciding, so every future finished by now is in `done`.
        ready.begin_round(cx);
        let mut met = false;
        while let Some(index) = ready.next_in_round() {
            let Some(future) = &mut futures[index] else {
                continue;
            };
            let mut child = std::task::Context::from_waker(ready.waker(index));
            if let Poll::Ready(output) = Pin::new(future).poll(&mut child) {
                futures[index] = None;
                met |= match return_when {
                    ReturnWhen::FirstCompleted => true,
                    ReturnWhen::FirstException => is_exception(&output),
                    ReturnWhen::AllCompleted => false,
                };
                done.push((index, output));
            }
        }
        if met || futures.iter().all(Option::is_none) {
            return Poll::Ready(());
        }
        let timed_out = deadline
            .as_mut()
            .is_some_and(|deadline| Pin::new(deadline).poll(cx).is_ready());
        if timed_out {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    let pending = futures
        .drain(..)
        .enumerate()
        .filter_map(|(index, future)| future.map(|future| (index, future)))
        .collect();
    Ok(Waited { done, pending })
}

/// Whether `output` is an exception for `FirstException`: an `Err`, unless it is a `JoinError`
/// saying the task was cancelled. (`E` is generic; the one error type that can say "cancelled" is
/// recognised by its type, through `Any`.)
fn is_exception<T, E: 'static>(output: &Result<T, E>) -> bool {
    match output {
        Ok(_) => false,
        Err(error) => !(error as &dyn Any)
            .downcast_ref::<JoinError>()
            .is_some_and(JoinError::is_cancelled),
    }
}

/// The error of [`wait`] given no futures (asyncio's `ValueError: Set of Tasks/Futures is empty`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmptyWait(());

impl fmt::Display for EmptyWait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("wait was given no futures: there is nothing to wait for")
    }
}

impl std::error::Error for EmptyWait {}

impl<F: Future> std::fmt::Debug for Waited<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waited")
            .field("done", &self.done.len())
            .field("pending", &self.pending.len())
            .finish()
    }
}
