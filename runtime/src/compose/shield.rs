//! `shield`: keep work running even if whoever waits for it is cancelled — asyncio's
//! `asyncio.shield`.

#![forbid(unsafe_code)]

use std::future::Future;
use std::panic::resume_unwind;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::task::JoinHandle;

/// Runs `future` as its own task and returns a future for its output. Dropping the returned
/// future (for instance when a [`timeout`](crate::time::timeout) fires around it) does not stop
/// the work: the task runs to completion on its own.
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
/// # Panics
///
/// Outside a runtime. If the work panics, awaiting the shield panics with the same payload.
#[track_caller]
pub fn shield<F>(future: F) -> Shield<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Shield {
        task: crate::spawn(future),
    }
}

/// The future returned by [`shield`]; dropping it detaches the work instead of cancelling it.
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Shield<T> {
    task: JoinHandle<T>,
}

impl<T> Future for Shield<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match Pin::new(&mut self.task).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(output)) => Poll::Ready(output),
            Poll::Ready(Err(error)) => match error.try_into_panic() {
                Ok(payload) => resume_unwind(payload),
                // Only a runtime shutdown cancels a shielded task, and that drops this future too.
                Err(error) => panic!("shielded work ended without a result: {error}"),
            },
        }
    }
}
