//! `Interval`: ticks at a fixed period.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;

use super::{sleep_until, Instant, Sleep};

/// Creates an [`Interval`] whose first tick completes at once and the following ones every
/// `period` after it.
///
/// # Panics
///
/// If `period` is zero: an interval that never waits would spin the loop.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// evloop::run(async {
///     let mut ticks = evloop::time::interval(Duration::from_millis(10));
///     let first = ticks.tick().await; // at once
///     let second = ticks.tick().await; // scheduled 10 ms later
///     assert!(second - first >= Duration::from_millis(10));
/// });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "evloop::time::interval: the period must be non-zero"
    );
    Interval {
        sleep: sleep_until(Instant::now()),
        period,
    }
}

/// A stream of ticks on a fixed schedule: `start`, `start + period`, `start + 2 × period`, ...
///
/// Ticks stay on that schedule. If the program falls behind by more than a period (a long
/// blocking call, a slow consumer), the missed ticks are skipped rather than delivered in a
/// burst: the next tick completes at once and the one after it is back on the schedule.
#[derive(Debug)]
pub struct Interval {
    sleep: Sleep,
    period: Duration,
}

impl Interval {
    /// Waits for the next tick and returns the instant it was scheduled for.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick (for use in hand-written futures).
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let scheduled = self.sleep.deadline();
        self.sleep
            .reset(next_tick(scheduled, self.period, Instant::now()));
        Poll::Ready(scheduled)
    }

    /// The period between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }
}

/// The ticks as a `futures_core::Stream` that never ends: each item is the instant the tick was
/// scheduled for, as [`Interval::tick`] returns.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use futures_util::StreamExt;
/// use evloop::time::{self, interval};
///
/// evloop::run(async {
///     time::pause(); // virtual time: three ticks without waiting
///     let ticks: Vec<_> = interval(Duration::from_secs(10)).take(3).collect().await;
///     assert_eq!(ticks[2] - ticks[0], Duration::from_secs(20));
/// });
/// ```
impl Stream for Interval {
    type Item = Instant;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.poll_tick(cx).map(Some)
    }
}

/// The first point on the grid `scheduled + k × period` (k ≥ 1) that is after `now`, or the next
/// one if we are on time.
fn next_tick(scheduled: Instant, period: Duration, now: Instant) -> Instant {
    let behind = now.saturating_duration_since(scheduled);
    let missed = behind.as_nanos() / period.as_nanos();
    let steps = u32::try_from(missed + 1).unwrap_or(u32::MAX);
    let advance = period.checked_mul(steps).unwrap_or(Duration::MAX);
    scheduled.deadline_after(advance)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn on_time_the_next_tick_is_one_period_later() {
        let start = Instant::now();
        let period = Duration::from_millis(10);
        assert_eq!(next_tick(start, period, start), start + period);
        assert_eq!(
            next_tick(start, period, start + Duration::from_millis(3)),
            start + period
        );
    }

    #[test]
    fn missed_ticks_are_skipped() {
        let start = Instant::now();
        let period = Duration::from_millis(10);
        let late = start + Duration::from_millis(35);
        assert_eq!(
            next_tick(start, period, late),
            start + Duration::from_millis(40)
        );
    }

    #[test]
    fn a_huge_period_does_not_overflow() {
        let start = Instant::now();
        assert!(next_tick(start, Duration::MAX, start) > start + Duration::from_secs(86_400 * 365));
    }
}
