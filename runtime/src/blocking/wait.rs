//! `wait`: block until some of a set of pool futures are done, and get back the done and the
//! not-done ones — Python's `concurrent.futures.wait(fs, timeout, return_when)`.
//!
//! It is [`as_completed`](super::as_completed) with a stopping rule: take finished futures as
//! they come until the rule is met (or the timeout passes), then sweep the rest once, so that
//! every future already finished by then is reported done, not only the one that met the rule.

#![forbid(unsafe_code)]

use std::fmt;
use std::time::Duration;

use super::{as_completed, PoolFuture};
use crate::compose::ReturnWhen;

/// What [`wait`] returns: Python's `DoneAndNotDoneFutures`. Each future comes with its index in
/// the input.
pub struct DoneAndNotDone<T> {
    /// The futures that were done when `wait` returned, in the order it saw them finish. Their
    /// results are waiting in them: [`PoolFuture::result`] returns at once.
    pub done: Vec<(usize, PoolFuture<T>)>,
    /// The others, in input order: still queued or running. Wait on them again, or cancel them.
    pub not_done: Vec<(usize, PoolFuture<T>)>,
}

/// Blocks the calling thread until `return_when` is met by `futures`, or `timeout` passes —
/// `concurrent.futures.wait`:
///
/// - [`FirstCompleted`](ReturnWhen::FirstCompleted): any future is done (or cancelled);
/// - [`FirstException`](ReturnWhen::FirstException): any job panicked — a cancelled job is not
///   an exception — or all are done;
/// - [`AllCompleted`](ReturnWhen::AllCompleted): all are done.
///
/// Every future done by the time it returns is in `done`. With no futures it returns at once
/// with both lists empty (as concurrent.futures does; asyncio's `wait` refuses an empty set, and
/// so does [`evloop::wait`](crate::wait)).
///
/// # Panics
///
/// On a thread that runs an evloop loop: use [`evloop::wait`](crate::wait) on the futures there.
///
/// # Examples
///
/// ```
/// use std::sync::mpsc;
/// use std::time::Duration;
/// use evloop::blocking::{self, ThreadPoolExecutor};
/// use evloop::ReturnWhen;
///
/// let pool = ThreadPoolExecutor::new(2);
/// let (release, stuck) = mpsc::channel::<()>();
/// let futures = vec![
///     pool.submit(move || stuck.recv().is_ok()), // waits until released
///     pool.submit(|| true),
/// ];
/// let waited = blocking::wait(futures, ReturnWhen::FirstCompleted, Some(Duration::from_secs(10)));
/// assert_eq!(waited.done.len(), 1);
/// assert_eq!(waited.done[0].0, 1, "the second job finished first");
/// assert_eq!(waited.not_done[0].0, 0);
/// release.send(()).unwrap();
/// ```
#[track_caller]
pub fn wait<T>(
    futures: impl IntoIterator<Item = PoolFuture<T>>,
    return_when: ReturnWhen,
    timeout: Option<Duration>,
) -> DoneAndNotDone<T> {
    let mut finishing = as_completed(futures, timeout);
    let mut done = Vec::new();
    while let Some(Ok((index, future))) = finishing.next_indexed() {
        let met = match return_when {
            ReturnWhen::FirstCompleted => true,
            ReturnWhen::FirstException => future.panicked(),
            ReturnWhen::AllCompleted => false,
        };
        done.push((index, future));
        if met {
            break;
        }
    }
    let (finished, not_done): (Vec<_>, Vec<_>) = finishing
        .into_pending_indexed()
        .into_iter()
        .partition(|(_, future)| future.done());
    done.extend(finished);
    DoneAndNotDone { done, not_done }
}

impl<T> fmt::Debug for DoneAndNotDone<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DoneAndNotDone")
            .field("done", &self.done.len())
            .field("not_done", &self.not_done.len())
            .finish()
    }
}
