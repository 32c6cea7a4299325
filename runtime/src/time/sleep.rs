//! `Sleep`: a future that completes at a deadline — asyncio's `asyncio.sleep`.
//!
//! A `Sleep` is registered in its runtime's timer heap from its first pending poll until it
//! completes or is dropped; the registration remembers which runtime it is in (by id), so a
//! `Sleep` moved to another runtime registers there instead of corrupting the first one's heap.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::Instant;
use crate::coop;
use crate::runtime::with_local;

/// Waits until `duration` has passed.
///
/// `Duration::MAX` (or any duration too large for the clock) waits about 30 years, i.e. until
/// cancelled; `Duration::ZERO` completes on the first poll.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::time::{sleep, Instant};
///
/// evloop::run(async {
///     let start = Instant::now();
///     sleep(Duration::from_millis(10)).await;
///     assert!(start.elapsed() >= Duration::from_millis(10));
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(Instant::now().deadline_after(duration))
}

/// Waits until `deadline`. A deadline in the past completes on the first poll.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::time::{sleep_until, Instant};
///
/// evloop::run(async {
///     let deadline = Instant::now() + Duration::from_millis(5);
///     sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        registration: None,
    }
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// Dropping it before the deadline cancels the timer.
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    deadline: Instant,
    registration: Option<Registration>,
}

/// Where a `Sleep` is registered: which runtime, and its key in that runtime's timer heap.
#[derive(Debug, Clone, Copy)]
struct Registration {
    runtime: u64,
    key: usize,
}

impl Sleep {
    /// The instant at which this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Returns `true` if the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Moves the deadline; the sleep completes at the new one, earlier or later.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::time::{sleep, Instant};
    ///
    /// evloop::run(async {
    ///     let mut nap = sleep(Duration::from_secs(3600));
    ///     nap.reset(Instant::now() + Duration::from_millis(1));
    ///     nap.await; // an hour became a millisecond
    /// });
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
    }

    /// Removes the timer from its runtime's heap, if it is registered in the current one.
    ///
    /// A `Sleep` dropped on a thread other than its runtime's cannot reach that heap; its entry
    /// then stays until the runtime is dropped (a few dozen bytes; the waker is released when the
    /// deadline passes).
    fn deregister(&mut self) {
        if let Some(registration) = self.registration.take() {
            with_local(|local| {
                if local.shared().id() == registration.runtime {
                    local.disarm_timer(registration.key);
                }
            });
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = self.deadline;
        let registration = self.registration;
        // One visit to the loop's state: read its clock, then register (or deregister).
        let registered = with_local(|local| {
            let runtime = local.shared().id();
            // A registration in another runtime's heap cannot be touched from here.
            let key_here = registration
                .filter(|registration| registration.runtime == runtime)
                .map(|registration| registration.key);
            local
                .arm_timer(key_here, deadline, cx.waker())
                .map(|key| Registration { runtime, key })
        });
        match registered {
            Some(Some(registration)) => self.registration = Some(registration),
            // Due: on the loop's clock, or (outside any runtime) on the system's. An elapsed timer
            // completes without suspending, so it spends the task's budget (`coop.rs`): a loop of
            // elapsed sleeps cannot keep the loop to itself.
            Some(None) => {
                self.registration = None;
                return coop::poll_proceed(cx);
            }
            None if Instant::now() >= deadline => return Poll::Ready(()),
            None => panic!(
                "an evloop timer (sleep, timeout, interval) was polled outside of an evloop \
                 runtime: timers need the loop that fires them, so await it inside evloop::run \
                 or Runtime::block_on"
            ),
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.deregister();
    }
}
