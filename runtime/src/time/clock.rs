//! The loop's clock, and virtual time for tests: [`pause`], [`advance`], [`resume`].
//!
//! Every runtime reads the time through its own `Clock`, and [`Instant::now`] on a loop thread asks
//! that clock. Running, the clock is the system's monotonic clock. Paused, it stands still: it
//! moves only when a test calls [`advance`], or when the loop finds it has nothing to do but wait
//! for a timer — then, instead of sleeping, it jumps the clock to the earliest deadline and fires
//! that timer (*auto-advance*: [`Clock::wait_for`] decides, the loop asks it before it sleeps). So a test of "retry after 30 s, give up after
//! 5 min" runs in microseconds, and its timers still fire in deadline order, each at its exact
//! deadline.
//!
//! **What holds the clock back.** The loop jumps only when it is truly idle: no task ready, the
//! main future not woken, nothing in the inbox, no I/O event pending, and no job running on the
//! runtime's blocking pool (`run_in_executor`), because that job will wake a task when it is done.
//! Work the loop cannot see does not hold it back: a thread of your own that will call
//! `Handle::spawn` later, or a socket whose peer has not answered yet. With a paused clock, a
//! `timeout` around real network I/O therefore expires at once if no data is already waiting, as
//! if the peer took the whole timeout to answer. That is what virtual time means; keep real I/O
//! and a paused clock apart, or use [`resume`] around the I/O.
//!
//! **After [`resume`]** the clock runs again from where it stood: it never goes backwards, so
//! deadlines taken while paused stay in order. It is then ahead of the system clock by the time it
//! was advanced; `Instant::now()` on other threads still reads the system clock.
//!
//! The clock is loop-thread state (plain `Cell`s); another thread cannot pause or advance it.

#![forbid(unsafe_code)]

use std::cell::Cell;
use std::time::Duration;

use super::Instant;
use crate::runtime::with_local;

/// The clock's answer to the loop about to sleep ([`Clock::wait_for`]).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TimerWait {
    /// The clock runs: sleep for at most this long.
    Sleep(Duration),
    /// The clock is paused and something else may still happen first: sleep until it does.
    SleepUntilWoken,
    /// The paused clock jumped to the deadline: the timer is due now, so do not sleep.
    Jumped,
}

/// One runtime's clock: the system's monotonic clock plus an offset, or a frozen instant.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    /// `Some` while paused: the time the clock shows.
    paused: Cell<Option<Instant>>,
    /// How far ahead of the system clock this clock runs (the time advanced while paused).
    offset: Cell<Duration>,
}

impl Clock {
    /// A clock that starts paused at the current time if `paused`, running otherwise.
    pub(crate) fn new(paused: bool) -> Clock {
        let clock = Clock::default();
        if paused {
            clock.pause();
        }
        clock
    }

    /// The time on this clock.
    pub(crate) fn now(&self) -> Instant {
        match self.paused.get() {
            Some(now) => now,
            None => Instant::from(std::time::Instant::now()) + self.offset.get(),
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused.get().is_some()
    }

    fn pause(&self) {
        if !self.is_paused() {
            self.paused.set(Some(self.now()));
        }
    }

    fn resume(&self) {
        if let Some(paused_at) = self.paused.take() {
            let system = Instant::from(std::time::Instant::now());
            self.offset.set(paused_at.saturating_duration_since(system));
        }
    }

    /// What the loop does about the timer due at `deadline` when nothing is ready to run.
    ///
    /// Running, the clock says: sleep until the deadline. Paused, it does not move on its own:
    /// if `nothing_else_can_happen` (the loop is idle: see the module doc for what holds the
    /// clock back), it jumps to the deadline and the loop fires the timer at once; otherwise the
    /// loop sleeps with no timeout until that something (a job, an I/O event) wakes it.
    pub(crate) fn wait_for(
        &self,
        deadline: Instant,
        nothing_else_can_happen: impl FnOnce() -> bool,
    ) -> TimerWait {
        if !self.is_paused() {
            return TimerWait::Sleep(deadline.saturating_duration_since(self.now()));
        }
        if nothing_else_can_happen() {
            self.advance_to(deadline);
            return TimerWait::Jumped;
        }
        TimerWait::SleepUntilWoken
    }

    /// Moves a paused clock forward to `deadline` (never backwards). Returns `false`, and does
    /// nothing, if the clock is running.
    pub(crate) fn advance_to(&self, deadline: Instant) -> bool {
        match self.paused.get() {
            Some(now) => {
                self.paused.set(Some(now.max(deadline)));
                true
            }
            None => false,
        }
    }
}

/// Pauses the current runtime's clock: from now on it moves only through [`advance`], or by
/// jumping to the next timer's deadline when the loop has nothing else to do (see the module
/// doc of `evloop::time` and [`Builder::start_paused`](crate::Builder::start_paused)). Pausing a
/// paused clock does nothing.
///
/// # Panics
///
/// Outside a runtime: the clock belongs to the loop.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::time::{self, Instant};
///
/// evloop::run(async {
///     time::pause();
///     let start = Instant::now();
///     time::sleep(Duration::from_secs(3600)).await; // returns at once: the clock jumps
///     assert_eq!(Instant::now() - start, Duration::from_secs(3600));
/// });
/// ```
#[track_caller]
pub fn pause() {
    with_clock("time::pause", Clock::pause);
}

/// Lets the current runtime's clock run again, from the time it shows (it never goes back).
/// Resuming a running clock does nothing.
///
/// # Panics
///
/// Outside a runtime.
#[track_caller]
pub fn resume() {
    with_clock("time::resume", Clock::resume);
}

/// Moves the paused clock forward by `duration`, wakes every timer that is then due, and yields
/// once so that the tasks they woke run before the caller goes on.
///
/// Use it to step time by hand while some task keeps the loop busy (the loop jumps on its own
/// only when it is idle).
///
/// # Panics
///
/// Outside a runtime, or if the clock is not paused: call [`pause`] first (or build the runtime
/// with [`Builder::start_paused`](crate::Builder::start_paused)).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::time;
///
/// evloop::run(async {
///     time::pause();
///     let nap = evloop::spawn(time::sleep(Duration::from_secs(30)));
///     time::advance(Duration::from_secs(29)).await;
///     assert!(!nap.is_finished());
///     time::advance(Duration::from_secs(1)).await;
///     assert!(nap.is_finished());
/// });
/// ```
#[track_caller]
pub fn advance(duration: Duration) -> impl std::future::Future<Output = ()> {
    // The panics are raised here, not in the closure, so that they name the caller's line.
    let advanced = with_local(|local| {
        let clock = local.clock();
        let to = clock.now().deadline_after(duration);
        let advanced = clock.advance_to(to);
        if advanced {
            local.fire_timers(to);
        }
        advanced
    });
    match advanced {
        None => outside_a_runtime("time::advance"),
        Some(advanced) => assert!(
            advanced,
            "time::advance needs a paused clock: call time::pause() first, or build the runtime \
             with Builder::start_paused(true)"
        ),
    }
    crate::yield_now()
}

#[track_caller]
fn with_clock(call: &str, f: impl FnOnce(&Clock)) {
    if with_local(|local| f(local.clock())).is_none() {
        outside_a_runtime(call);
    }
}

#[track_caller]
fn outside_a_runtime(call: &str) -> ! {
    panic!(
        "{call} was called outside of an evloop runtime: the clock belongs to the loop, so call \
         it inside evloop::run or Runtime::block_on"
    )
}
