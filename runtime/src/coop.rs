//! The cooperative budget: a task that is always ready cannot keep the loop to itself.
//!
//! The loop's fairness rule (`runtime/run_loop.rs`) works only if tasks return `Pending` now and
//! then. A task that never has to wait never does: `while !done { sleep(1 ms).await }` whose every
//! turn outlasts the millisecond finds its sleep elapsed each time; a task reading a socket whose
//! peer is faster than it finds data each time; a task taking a free permit in a loop finds one
//! each time. Each `.await` completes at once, the task's poll never ends, and no other task runs.
//!
//! So, as tokio does (its `coop`), each poll of a task gets a budget of [`BUDGET`] operations on
//! the runtime's resources: an elapsed timer, a ready socket, a primitive that grants at once,
//! a finished task's handle. Each such operation spends one unit *before* it changes anything
//! ([`poll_proceed`]); once the budget is spent it returns `Pending` instead and wakes its task,
//! which goes to the back of the run queue: every other ready task, the timers and I/O get their
//! turn, and the task goes on at its next poll with a new budget. Nothing is lost: an operation
//! that declined did nothing, which is what a cancel-safe `Pending` means anyway.
//!
//! The budget is a thread-local counter that the loop sets before each poll ([`budgeted`]).
//! Outside a loop's poll (a future driven by another executor, a plain thread) there is no
//! budget and every operation proceeds.

use std::cell::Cell;
use std::task::{Context, Poll};

/// Resource operations per poll of a task: tokio's number.
pub(crate) const BUDGET: u8 = 128;

thread_local! {
    /// The budget left in the poll under way on this thread; `None` outside a loop's poll.
    static LEFT: Cell<Option<u8>> = const { Cell::new(None) };
}

/// Runs `poll` (one poll of a task or of the main future) with a fresh budget.
#[inline]
pub(crate) fn budgeted<R>(poll: impl FnOnce() -> R) -> R {
    /// Puts the budget of an enclosing poll back, even if `poll` unwinds.
    struct Restore(Option<u8>);
    impl Drop for Restore {
        fn drop(&mut self) {
            LEFT.with(|left| left.set(self.0));
        }
    }
    let _restore = Restore(LEFT.with(|left| left.replace(Some(BUDGET))));
    poll()
}

/// Spends one unit of the budget, or, if none is left, wakes the task and returns `Pending`:
/// call it on a resource's *ready* path, before changing anything.
#[inline]
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    LEFT.with(|left| match left.get() {
        None => Poll::Ready(()),
        Some(0) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Some(units) => {
            left.set(Some(units - 1));
            Poll::Ready(())
        }
    })
}

/// Gives back the unit spent by the last [`poll_proceed`] of an operation that turned out not to
/// be ready after all (a socket that said `WouldBlock`).
#[inline]
pub(crate) fn refund() {
    LEFT.with(|left| {
        if let Some(units) = left.get() {
            left.set(Some(units.saturating_add(1).min(BUDGET)));
        }
    });
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn the_budget_runs_out_after_budget_operations_and_only_inside_a_poll() {
        let mut cx = Context::from_waker(Waker::noop());
        assert!(poll_proceed(&mut cx).is_ready(), "no budget outside a poll");
        let spent = budgeted(|| {
            (0..1000)
                .take_while(|_| poll_proceed(&mut cx).is_ready())
                .count()
        });
        assert_eq!(spent, BUDGET as usize);
        assert!(
            poll_proceed(&mut cx).is_ready(),
            "unlimited again after the poll"
        );
    }

    #[test]
    fn a_refund_gives_a_unit_back() {
        let mut cx = Context::from_waker(Waker::noop());
        budgeted(|| {
            assert!(poll_proceed(&mut cx).is_ready());
            refund();
            let spent = (0..1000)
                .take_while(|_| poll_proceed(&mut cx).is_ready())
                .count();
            assert_eq!(spent, BUDGET as usize);
        });
    }
}
