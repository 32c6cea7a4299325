//! `timeout` and `timeout_at`: give a future a deadline — asyncio's `asyncio.timeout()` around one
//! `await`. (For a task's `JoinHandle`, asyncio's `wait_for` is [`crate::wait_for`].)

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use super::{sleep_until, Instant, Sleep};

/// Runs `future` for at most `duration`.
///
/// Returns `Ok` with the output if it completes in time. Otherwise returns `Err(Elapsed)` and
/// drops the future, which cancels it: its `Drop` runs, as when asyncio cancels the awaited
/// coroutine. This is asyncio's `async with asyncio.timeout(d):` around one `await`.
///
/// **Join handles: use [`wait_for`](crate::wait_for).** Dropping a [`JoinHandle`](crate::JoinHandle)
/// detaches its task rather than cancelling it, so `timeout(d, handle)` gives up waiting but leaves
/// the task running. asyncio's `wait_for(task, d)` cancels the task and waits until the
/// cancellation is done; `evloop::wait_for(d, handle)` does exactly that.
///
/// **When the deadline counts.** As in asyncio, a deadline takes effect when the future is resumed,
/// not in the middle of a step: the first poll always polls the future (so one that is ready at
/// once succeeds even with a zero duration), and a deadline found already passed then only
/// schedules the next poll. From the second poll on, the deadline is looked at first: once it has
/// passed, the future is not polled again. So with nested timeouts whose deadlines have both
/// passed, the outermost reports its expiry, as asyncio's `timeout()` does, rather than handing
/// back the inner one's `Err(Elapsed)` as its output.
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
    timeout_at(Instant::now().deadline_after(duration), future)
}

/// Runs `future` until `deadline` at most: [`timeout`] with an instant rather than a duration
/// (asyncio's `timeout_at`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::time::{self, sleep, timeout_at, Instant};
///
/// evloop::run(async {
///     time::pause(); // virtual time: the example cannot race a busy machine's clock
///     let deadline = Instant::now() + Duration::from_millis(5);
///     // Two steps share one deadline.
///     assert!(timeout_at(deadline, sleep(Duration::from_millis(1))).await.is_ok());
///     assert!(timeout_at(deadline, sleep(Duration::from_secs(3600))).await.is_err());
/// });
/// ```
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout {
        future: future.into_future(),
        sleep: sleep_until(deadline),
        polled: false,
    }
}

pin_project! {
    /// The future returned by [`timeout`] and [`timeout_at`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        sleep: Sleep,
        // Set after the first poll: from then on the deadline is looked at first.
        polled: bool,
    }
}

impl<F> Timeout<F> {
    /// Gives the inner future back, cancelling the deadline.
    pub fn into_inner(self) -> F {
        self.future
    }

    /// When the timeout expires (asyncio's `Timeout.when()`).
    pub fn deadline(&self) -> Instant {
        self.sleep.deadline()
    }

    /// Moves the deadline, earlier or later, even after it has passed, as long as the timeout
    /// has not returned (asyncio's `Timeout.reschedule()`). The next poll goes by the new one.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::pin::pin;
    /// use std::time::Duration;
    /// use evloop::time::{sleep, timeout, Instant};
    ///
    /// evloop::run(async {
    ///     let mut slow = pin!(timeout(Duration::from_millis(1), sleep(Duration::from_millis(20))));
    ///     // More time after all.
    ///     slow.as_mut().reset(Instant::now() + Duration::from_secs(3600));
    ///     assert!(slow.as_mut().await.is_ok());
    /// });
    /// ```
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        self.project().sleep.reset(deadline);
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if *this.polled && Pin::new(&mut *this.sleep).poll(cx).is_ready() {
            return Poll::Ready(Err(Elapsed(())));
        }
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        if !*this.polled {
            *this.polled = true;
            if Pin::new(this.sleep).poll(cx).is_ready() {
                // Passed already: it counts at the next poll, after any outer timeout's check.
                cx.waker().wake_by_ref();
            }
        }
        Poll::Pending
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
