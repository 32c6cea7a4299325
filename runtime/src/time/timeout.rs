//! `timeout`: give a future a deadline — asyncio's `asyncio.wait_for`.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use super::{sleep, Sleep};

/// Runs `future` for at most `duration`.
///
/// Returns `Ok` with the output if it completes in time. Otherwise returns `Err(Elapsed)` and
/// drops the future, which cancels it (its `Drop` runs, as when asyncio cancels the awaited task).
/// The future is always polled before the deadline is checked, so a future that is ready at once
/// succeeds even with a zero duration.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::time::{sleep, timeout};
///
/// evloop::run(async {
///     let quick = timeout(Duration::from_secs(1), async { 5 }).await;
///     assert_eq!(quick, Ok(5));
///
///     let slow = timeout(Duration::from_millis(5), sleep(Duration::from_secs(3600))).await;
///     assert!(slow.is_err());
/// });
/// ```
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    Timeout {
        future: future.into_future(),
        sleep: sleep(duration),
    }
}

pin_project! {
    /// The future returned by [`timeout`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        sleep: Sleep,
    }
}

impl<F> Timeout<F> {
    /// Gives the inner future back, cancelling the deadline.
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match Pin::new(this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The error of a [`timeout`] whose deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl Elapsed {
    pub(crate) fn new() -> Elapsed {
        Elapsed(())
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed before the operation completed")
    }
}

impl std::error::Error for Elapsed {}
