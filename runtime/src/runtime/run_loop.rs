//! The event loop: what `block_on` does, one tick at a time.
//!
//! ```text
//! loop {
//!     1. if the main future was woken, poll it; return when it is ready
//!     2. poll up to `tasks_per_tick` tasks from the run queue (if the main future is ready
//!        again, only the tasks queued before it: asyncio's one iteration)
//!     3. take what other threads left in the inbox (woken and spawned tasks)
//!     4. fire the timers that are due
//!     5. if tasks are ready: collect I/O readiness without sleeping (only if sockets are
//!        registered); otherwise sleep in the driver until I/O, a wake-up or the next deadline
//! }
//! ```
//!
//! **Fairness.** Step 2 is bounded, so a task that wakes itself forever (a `yield_now` loop) gets
//! at most `tasks_per_tick` polls (61 by default, as tokio) before timers, the inbox and the main
//! future get their turn; it goes to the back of the queue each time, so other ready tasks run in
//! between. A task that never returns from `poll` cannot be preempted by any cooperative runtime;
//! one that never has to wait (elapsed timers, an always-ready socket) is made to return by the
//! cooperative budget each poll runs with (`coop.rs`).
//!
//! **Costs on the busy path.** When tasks are ready and no socket is registered, the loop makes no
//! system call: the inbox check is one atomic load, the clock is read only if timers exist. With
//! sockets registered, each busy tick also polls the OS for readiness with a zero timeout, so a
//! busy loop still serves I/O.
//!
//! **Debug mode** (slow-poll detection, `debug/monitor.rs`): steps 1 and 2 also time each poll
//! and report the slow ones; outside it they only note which recorded task is running.
//!
//! **The main future** is not a task: it may borrow from the caller's stack (it need not be
//! `'static`), so it lives in `block_on`'s frame and has its own waker, a flag plus a notify.

use std::future::Future;
use std::panic::Location;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Wake, Waker};

use super::context;
use super::local::Local;
use super::shared::Shared;
use crate::coop;
use crate::shim::{Arc, AtomicBool, Ordering};
use crate::time::{Instant, TimerWait};

/// The main future's waker: sets a flag the loop checks every tick, and wakes the loop if it
/// sleeps.
struct MainWaker {
    woken: AtomicBool,
    shared: Arc<Shared>,
}

// `Wake` requires std's `Arc`; the flag and the notify inside are the shim's, which loom checks.
impl Wake for MainWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.shared.notify();
    }
}

/// Runs the loop until `future` completes. `caller` is where `run` or `block_on` was called, for
/// slow-poll reports about the main future.
pub(crate) fn block_on<F: Future>(
    local: &Rc<Local>,
    future: F,
    caller: &'static Location<'static>,
) -> F::Output {
    let _enter = context::enter(local);
    let main = std::sync::Arc::new(MainWaker {
        woken: AtomicBool::new(true),
        shared: local.shared().clone(),
    });
    let waker = Waker::from(main.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        // A load first: the swap (a read-modify-write) only when there is something to take.
        if main.woken.load(Ordering::Acquire) && main.woken.swap(false, Ordering::AcqRel) {
            let start = local.monitor().poll_started(None);
            let poll = coop::budgeted(|| future.as_mut().poll(&mut cx));
            if let Some(slow) = local.monitor().poll_finished(start, None, caller) {
                local.monitor().report(&slow);
            }
            if let Poll::Ready(output) = poll {
                return output;
            }
        }
        local.run_ready_tasks(main.woken.load(Ordering::Acquire));
        local.take_inbox();
        let next_deadline = if local.has_timers() {
            local.fire_timers(Instant::now())
        } else {
            None
        };
        if local.has_ready_tasks() || main.woken.load(Ordering::Acquire) {
            if local.has_io_sources() {
                local.poll_io_now();
            }
            continue;
        }
        // How long to sleep is the clock's to say: a paused one jumps to the deadline instead,
        // if nothing else can still happen first.
        let timeout = match next_deadline {
            None => None,
            Some(deadline) => {
                let idle =
                    || local.is_idle_for_virtual_time() && !main.woken.load(Ordering::Acquire);
                match local.clock().wait_for(deadline, idle) {
                    TimerWait::Sleep(duration) => Some(duration),
                    TimerWait::Jumped => continue, // the next tick fires the timer
                    // Asking whether the loop was idle took the inbox and I/O events in: they may
                    // have made something ready.
                    TimerWait::SleepUntilWoken
                        if local.has_ready_tasks() || main.woken.load(Ordering::Acquire) =>
                    {
                        continue
                    }
                    TimerWait::SleepUntilWoken => None,
                }
            }
        };
        local.park(timeout);
    }
}
