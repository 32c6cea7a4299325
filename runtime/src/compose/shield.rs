//! `shield`: keep work running even if whoever waits for it is cancelled — asyncio's
//! `asyncio.shield`.

#![forbid(unsafe_code)]

use std::fmt;
use std::future::Future;
use std::panic::{resume_unwind, Location};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::runtime::is_a_loop_thread;
use crate::runtime::spawn_at;
use crate::task::JoinHandle;

/// Runs `future` so that it finishes even if whoever waits for it gives up, and returns a future
/// for its output. Dropping the returned future (for instance when a
/// [`timeout`](crate::time::timeout) fires around it) does not stop the work: it runs to completion
/// as a task of its own.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
/// use evloop::sync::Event;
/// use evloop::time::timeout;
///
/// evloop::run(async {
///     let saved = Rc::new(Cell::new(false));
///     let disk_ready = Rc::new(Event::new()); // a slow disk, ready once set
///     let save = {
///         let (saved, disk_ready) = (saved.clone(), disk_ready.clone());
///         async move {
///             disk_ready.wait().await;
///             saved.set(true); // must not be interrupted halfway
///         }
///     };
///     // The caller gives up after 5 ms; the shielded work goes on.
///     assert!(timeout(Duration::from_millis(5), evloop::shield(save)).await.is_err());
///     disk_ready.set();
///     evloop::yield_now().await; // the save runs
///     assert!(saved.get());
/// });
/// ```
///
/// The work's first step runs when the shield is first polled, inside the awaiting task's poll; if
/// that step finishes the work (a join handle whose task is done, a value ready at once), the
/// shield is ready at once, as asyncio's `shield` of a finished future is. Otherwise the work
/// becomes a task of its own and goes on whatever happens to the shield. A shield dropped before
/// it was ever polled still starts its work as a task: shielded work always runs.
///
/// **Abandoned results.** Once the shield is dropped, nobody can receive the work's output. If
/// the work panics, the panic is reported to the runtime's unhandled-error handler
/// ([`Builder::on_unhandled_error`](crate::Builder::on_unhandled_error)), as asyncio logs an
/// exception nobody retrieved. An `Err` it returns is an ordinary output to the runtime (the
/// output type is generic), so it is dropped silently: work whose errors matter after its caller
/// gave up should handle them itself (log them, send them somewhere) before returning.
///
/// # Panics
///
/// Outside a runtime. If the work panics, awaiting the shield panics with the same payload.
#[track_caller]
pub fn shield<F>(future: F) -> Shield<F>
where
    F: Future + 'static,
    F::Output: 'static,
{
    assert!(
        is_a_loop_thread(),
        "evloop::shield called outside of a runtime: call it inside evloop::run or \
         Runtime::block_on"
    );
    Shield {
        work: Work::Unstarted(Box::pin(future)),
        location: Location::caller(),
    }
}

/// The future returned by [`shield`]; dropping it detaches the work instead of cancelling it.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Shield<F: Future + 'static> {
    work: Work<F>,
    /// Where `shield` was called: the spawn location of the work's task.
    location: &'static Location<'static>,
}

enum Work<F: Future> {
    /// Not polled yet: the first step runs in place.
    Unstarted(Pin<Box<F>>),
    /// Its own task since its first step returned `Pending`.
    Spawned(JoinHandle<F::Output>),
    /// The output was returned.
    Done,
}

impl<F: Future + 'static> Future for Shield<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        if let Work::Unstarted(future) = &mut this.work {
            if let Poll::Ready(output) = future.as_mut().poll(cx) {
                this.work = Work::Done;
                return Poll::Ready(output);
            }
            // Pending: from now on it is a task, which is queued and so polls again (registering
            // its own waker) before anything could have been missed.
            let Work::Unstarted(future) = std::mem::replace(&mut this.work, Work::Done) else {
                unreachable!("matched above")
            };
            this.work = Work::Spawned(spawn_at(future, this.location, "evloop::shield"));
        }
        let Work::Spawned(task) = &mut this.work else {
            panic!("Shield polled after it returned its output")
        };
        match Pin::new(task).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(result) => {
                this.work = Work::Done;
                match result {
                    Ok(output) => Poll::Ready(output),
                    Err(error) => match error.try_into_panic() {
                        Ok(payload) => resume_unwind(payload),
                        // Only a runtime shutdown (or an `AbortHandle`) cancels a shielded task.
                        Err(error) => panic!("shielded work ended without a result: {error}"),
                    },
                }
            }
        }
    }
}

impl<F: Future + 'static> Drop for Shield<F> {
    /// Work that was never polled still runs: it becomes a task here (or, if the runtime is gone,
    /// is dropped with it).
    fn drop(&mut self) {
        if let Work::Unstarted(future) = std::mem::replace(&mut self.work, Work::Done) {
            if is_a_loop_thread() {
                drop(spawn_at(future, self.location, "evloop::shield"));
            }
        }
    }
}

impl<F: Future + 'static> fmt::Debug for Shield<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.work {
            Work::Unstarted(_) => "unstarted",
            Work::Spawned(_) => "running as a task",
            Work::Done => "done",
        };
        f.debug_struct("Shield").field("work", &state).finish()
    }
}
