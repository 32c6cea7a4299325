//! `gather`: run futures concurrently as tasks and collect their results in input order —
//! asyncio's `asyncio.gather`, with its two behaviours:
//!
//! - [`gather()`]: the first `Err` is returned as soon as it happens, and the other tasks are *left
//!   running* (asyncio's default). If that is not what you want — usually it is not — use a
//!   [`TaskGroup`](crate::task_group), which cancels the others and reports every error.
//! - [`gather_all`]: waits for every task and returns every result, `Ok` or `Err`
//!   (asyncio's `return_exceptions=True`).
//!
//! Dropping an unfinished gather future cancels the tasks it still owns. A task that panics
//! makes the gather future panic with the same payload, in the awaiting task.
//!
//! [`gather!`](crate::gather!) is the fixed-size form for futures of different types: it polls
//! them in place (so they may borrow) and returns a tuple.

#![forbid(unsafe_code)]

use std::fmt;
use std::future::Future;
use std::panic::{resume_unwind, Location};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::ready_set::ReadySet;
use crate::runtime::spawn_at;
use crate::task::{JoinError, JoinHandle};

/// Runs every future as a task and returns `Ok` with their outputs in input order, or the first
/// `Err` as soon as one fails (the other tasks keep running).
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let doubled = evloop::gather((1..=3).map(|n| async move { Ok::<_, String>(n * 2) })).await;
///     assert_eq!(doubled, Ok(vec![2, 4, 6]));
///
///     let failed = evloop::gather([
///         Box::pin(async { Ok(1) }) as std::pin::Pin<Box<dyn std::future::Future<Output = _>>>,
///         Box::pin(async { Err("bad input") }),
///     ])
///     .await;
///     assert_eq!(failed, Err("bad input"));
/// });
/// ```
///
/// # Panics
///
/// Outside a runtime; and if a task panics, with that task's panic.
#[track_caller]
pub fn gather<I, F, T, E>(futures: I) -> Gather<T, E>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>> + 'static,
    T: 'static,
    E: 'static,
{
    Gather {
        children: Children::spawn(futures),
    }
}

/// Runs every future as a task and returns all their results, `Ok` or `Err`, in input order.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let results = evloop::gather_all([1, 0, 4].map(|n| async move {
///         if n == 0 { Err("zero") } else { Ok(12 / n) }
///     }))
///     .await;
///     assert_eq!(results, [Ok(12), Err("zero"), Ok(3)]);
/// });
/// ```
///
/// # Panics
///
/// Outside a runtime; and if a task panics, with that task's panic.
#[track_caller]
pub fn gather_all<I, F, T, E>(futures: I) -> GatherAll<T, E>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>> + 'static,
    T: 'static,
    E: 'static,
{
    GatherAll {
        children: Children::spawn(futures),
    }
}

/// The tasks of a gather, their results so far, and which of them were woken.
struct Children<T, E> {
    handles: Vec<Option<JoinHandle<Result<T, E>>>>,
    results: Vec<Option<Result<T, E>>>,
    ready: ReadySet,
    remaining: usize,
}

impl<T: 'static, E: 'static> Children<T, E> {
    #[track_caller]
    fn spawn<I, F>(futures: I) -> Children<T, E>
    where
        I: IntoIterator<Item = F>,
        F: Future<Output = Result<T, E>> + 'static,
    {
        // The closure is not `#[track_caller]`: take the caller's location out here.
        let location = Location::caller();
        let handles: Vec<_> = futures
            .into_iter()
            .map(|future| Some(spawn_at(future, location, "evloop::gather")))
            .collect();
        Children {
            results: handles.iter().map(|_| None).collect(),
            ready: ReadySet::new(handles.len()),
            remaining: handles.len(),
            handles,
        }
    }
}

impl<T, E> Children<T, E> {
    /// Collects results until every task is done (`Ready(None)`) or, with `stop_at_error`, until
    /// one fails (`Ready(Some(error))`).
    fn poll_until(&mut self, cx: &mut Context<'_>, stop_at_error: bool) -> Poll<Option<E>> {
        self.ready.begin_round(cx);
        while self.remaining > 0 {
            let Some(index) = self.ready.next_in_round() else {
                return Poll::Pending;
            };
            let Some(handle) = &mut self.handles[index] else {
                continue;
            };
            let mut child = Context::from_waker(self.ready.waker(index));
            let Poll::Ready(joined) = Pin::new(handle).poll(&mut child) else {
                continue;
            };
            self.handles[index] = None;
            self.remaining -= 1;
            match joined {
                Ok(Err(error)) if stop_at_error => {
                    self.detach_all();
                    return Poll::Ready(Some(error));
                }
                Ok(result) => self.results[index] = Some(result),
                Err(error) => resume_task_failure(error),
            }
        }
        Poll::Ready(None)
    }

    /// Lets the remaining tasks run on without this gather (dropping a handle detaches).
    fn detach_all(&mut self) {
        self.handles
            .iter_mut()
            .for_each(|handle| drop(handle.take()));
    }
}

/// A gathered task panicked (resumed here) or was cancelled by someone else.
fn resume_task_failure(error: JoinError) -> ! {
    match error.try_into_panic() {
        Ok(payload) => resume_unwind(payload),
        Err(error) => panic!("a task owned by gather ended without a result: {error}"),
    }
}

impl<T, E> Drop for Children<T, E> {
    fn drop(&mut self) {
        // Unfinished: cancel the tasks still owned (after an error they were detached already).
        for handle in self.handles.iter().flatten() {
            handle.abort();
        }
    }
}

/// The future returned by [`gather()`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Gather<T, E> {
    children: Children<T, E>,
}

impl<T, E> Future for Gather<T, E> {
    type Output = Result<Vec<T>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let children = &mut self.get_mut().children;
        match children.poll_until(cx, true) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(error)) => Poll::Ready(Err(error)),
            Poll::Ready(None) => Poll::Ready(Ok(children
                .results
                .iter_mut()
                .map(|result| match result.take() {
                    Some(Ok(value)) => value,
                    _ => unreachable!("every task succeeded"),
                })
                .collect())),
        }
    }
}

/// The future returned by [`gather_all`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct GatherAll<T, E> {
    children: Children<T, E>,
}

impl<T, E> Future for GatherAll<T, E> {
    type Output = Vec<Result<T, E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let children = &mut self.get_mut().children;
        match children.poll_until(cx, false) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(_) => Poll::Ready(
                children
                    .results
                    .iter_mut()
                    .map(|result| result.take().expect("every task finished"))
                    .collect(),
            ),
        }
    }
}

// Results are stored by value and never pinned: the gather futures may move freely.
impl<T, E> Unpin for Gather<T, E> {}
impl<T, E> Unpin for GatherAll<T, E> {}

impl<T, E> fmt::Debug for Gather<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gather")
            .field("remaining", &self.children.remaining)
            .finish()
    }
}

impl<T, E> fmt::Debug for GatherAll<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherAll")
            .field("remaining", &self.children.remaining)
            .finish()
    }
}
