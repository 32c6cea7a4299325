//! A task's state word: five flags and a reference count packed into one atomic integer.
//!
//! Every thread that holds a task (the loop, a `Waker` on another thread, a `JoinHandle`) agrees on
//! what the task is doing through this word alone, so each transition below is one atomic
//! read-modify-write. Packing the reference count next to the flags lets a wake set `SCHEDULED`
//! *and* take a reference for the run queue in the same instruction.
//!
//! ```text
//!  bit:  ...6 5 | 4          3             2                1         0
//!        refcnt | JOIN_WAKER JOIN_INTEREST CANCEL_REQUESTED COMPLETE  SCHEDULED
//! ```
//!
//! Orderings: transitions that hand data to another thread (the output, the join waker, a wake
//! that must see the waker's writes) use `AcqRel`; taking a reference uses `Relaxed`, as in
//! `Arc::clone`, because whoever clones already holds a reference that keeps the task alive.

use crate::shim::{AtomicUsize, Ordering};

/// The task is in a run queue (the loop's local queue or the cross-thread inbox), exactly once.
///
/// Set by whoever wins the race to wake the task, together with one reference owned by the queue
/// entry; cleared by the loop just before it polls the task. While it is set, further wakes are
/// no-ops: this is why a task woken many times is queued once. Never set once `COMPLETE` is.
pub(super) const SCHEDULED: usize = 1 << 0;

/// The future is gone: it returned `Ready`, panicked, or was cancelled and dropped.
///
/// From the moment it is set, the output slot holds the task's result (unless no `JoinHandle`
/// wanted it), and the `JoinHandle` owns that result. Set once, by the loop, never cleared.
pub(super) const COMPLETE: usize = 1 << 1;

/// `JoinHandle::abort` was called. The loop drops the future instead of polling it next time it
/// pops the task. Set at most once, only while not `COMPLETE`.
pub(super) const CANCEL_REQUESTED: usize = 1 << 2;

/// A `JoinHandle` still exists and will want the output. Cleared when the handle is dropped
/// before completion; the loop then drops the output itself instead of storing it.
pub(super) const JOIN_INTEREST: usize = 1 << 3;

/// The join-waker slot holds a waker and the *task side* owns it: the loop may read it to wake the
/// `JoinHandle`'s owner on completion. While clear, the `JoinHandle` owns the slot and may write it.
/// Only the `JoinHandle` sets or clears it, and only while not `COMPLETE`.
pub(super) const JOIN_WAKER: usize = 1 << 4;

/// One reference. The count sits above the flags. References are held by: the task list
/// (while the future is alive), a run-queue entry (while `SCHEDULED`), the `JoinHandle`, and
/// every `Waker` clone. The last one to go frees the allocation.
const REF_ONE: usize = 1 << 5;

/// A snapshot of the state word, read at one instant.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Snapshot(usize);

impl Snapshot {
    pub(super) fn is_scheduled(self) -> bool {
        self.0 & SCHEDULED != 0
    }
    pub(super) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(super) fn is_cancel_requested(self) -> bool {
        self.0 & CANCEL_REQUESTED != 0
    }
    pub(super) fn has_join_interest(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(super) fn has_join_waker(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    pub(super) fn ref_count(self) -> usize {
        self.0 / REF_ONE
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("scheduled", &self.is_scheduled())
            .field("complete", &self.is_complete())
            .field("cancel_requested", &self.is_cancel_requested())
            .field("join_interest", &self.has_join_interest())
            .field("join_waker", &self.has_join_waker())
            .field("refs", &self.ref_count())
            .finish()
    }
}

/// What a wake asks its caller to do.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum WakeAction {
    /// The wake set `SCHEDULED`: push the task on a run queue, with the reference the wake holds.
    Enqueue,
    /// The task was already queued or is complete: nothing to do (a by-value wake has already
    /// released its reference; `last_ref` says whether that was the last one).
    Nothing { last_ref: bool },
}

/// The atomic state word of one task.
pub(super) struct State(AtomicUsize);

impl State {
    /// The state of a freshly spawned task: queued, with a `JoinHandle`, and three references
    /// (the task list's, the run queue's and the handle's), written before any other thread can
    /// see the task.
    pub(super) fn new_spawned() -> State {
        State(AtomicUsize::new(SCHEDULED | JOIN_INTEREST | (3 * REF_ONE)))
    }

    pub(super) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Ordering::Acquire))
    }

    /// Applies `f` in a compare-and-swap loop until it returns `None` (no change wanted) or the
    /// swap succeeds. Returns the state seen last and whether `f` changed it.
    fn update(&self, mut f: impl FnMut(usize) -> Option<usize>) -> (Snapshot, bool) {
        let mut current = self.0.load(Ordering::Acquire);
        loop {
            let Some(next) = f(current) else {
                return (Snapshot(current), false);
            };
            match self
                .0
                .compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return (Snapshot(current), true),
                Err(actual) => current = actual,
            }
        }
    }

    /// `waker.wake_by_ref()`: queue the task unless it is queued or complete. On `Enqueue` the
    /// caller holds a new reference for the queue entry.
    pub(super) fn wake_by_ref(&self) -> WakeAction {
        let (_, changed) = self.update(|s| {
            if s & (SCHEDULED | COMPLETE) != 0 {
                None
            } else {
                Some((s | SCHEDULED) + REF_ONE)
            }
        });
        if changed {
            WakeAction::Enqueue
        } else {
            WakeAction::Nothing { last_ref: false }
        }
    }

    /// `waker.wake()`: like `wake_by_ref`, but the waker's own reference either moves to the
    /// queue entry (`Enqueue`) or is released, in the same atomic step.
    pub(super) fn wake_by_val(&self) -> WakeAction {
        let (prev, _) = self.update(|s| {
            if s & (SCHEDULED | COMPLETE) != 0 {
                Some(s - REF_ONE)
            } else {
                Some(s | SCHEDULED)
            }
        });
        if prev.0 & (SCHEDULED | COMPLETE) != 0 {
            WakeAction::Nothing {
                last_ref: prev.ref_count() == 1,
            }
        } else {
            WakeAction::Enqueue
        }
    }

    /// `JoinHandle::abort`: ask for cancellation, and queue the task if it is not queued, so the
    /// loop gets to drop the future soon. Returns `Enqueue` when the caller must queue it (with a
    /// new reference, as in `wake_by_ref`).
    pub(super) fn request_cancel(&self) -> WakeAction {
        let (prev, changed) = self.update(|s| {
            if s & (COMPLETE | CANCEL_REQUESTED) != 0 {
                None
            } else if s & SCHEDULED != 0 {
                Some(s | CANCEL_REQUESTED)
            } else {
                Some((s | CANCEL_REQUESTED | SCHEDULED) + REF_ONE)
            }
        });
        if changed && !prev.is_scheduled() {
            WakeAction::Enqueue
        } else {
            WakeAction::Nothing { last_ref: false }
        }
    }

    /// The loop popped the task from a run queue: clear `SCHEDULED` and release the queue entry's
    /// reference in one step. If the task is not complete, the task list's reference keeps it
    /// alive for the poll that follows. Returns the state before the change; if it was complete
    /// and this was the last reference, the caller frees the task.
    pub(super) fn unschedule(&self) -> Snapshot {
        let prev = Snapshot(self.0.fetch_sub(SCHEDULED + REF_ONE, Ordering::AcqRel));
        debug_assert!(
            prev.is_scheduled(),
            "a queued task must be SCHEDULED: {prev:?}"
        );
        prev
    }

    /// The loop finished the future (output written to the slot). Returns the state before, from
    /// which the caller learns whether a `JoinHandle` wants the output and has a waker to wake.
    pub(super) fn complete(&self) -> Snapshot {
        let prev = Snapshot(self.0.fetch_or(COMPLETE, Ordering::AcqRel));
        debug_assert!(!prev.is_complete(), "a task completes once");
        prev
    }

    /// The `JoinHandle` has written its waker into the slot and hands the slot to the task side.
    /// Fails (returning the state) if the task completed meanwhile: the output is ready instead.
    pub(super) fn set_join_waker(&self) -> Result<(), Snapshot> {
        let (prev, changed) = self.update(|s| {
            if s & COMPLETE != 0 {
                None
            } else {
                Some(s | JOIN_WAKER)
            }
        });
        debug_assert!(!changed || !prev.has_join_waker());
        if changed {
            Ok(())
        } else {
            Err(prev)
        }
    }

    /// The `JoinHandle` takes the slot back to replace its waker. Fails if the task completed.
    pub(super) fn unset_join_waker(&self) -> Result<(), Snapshot> {
        let (prev, changed) = self.update(|s| {
            if s & COMPLETE != 0 {
                None
            } else {
                Some(s & !JOIN_WAKER)
            }
        });
        if changed {
            Ok(())
        } else {
            Err(prev)
        }
    }

    /// A `JoinHandle` that never took the output is dropped. If the task is not complete, this
    /// clears `JOIN_INTEREST` and releases the handle's reference in one step (`Ok`): the loop
    /// will drop the output when it comes. If it is complete, nothing changes (`Err`): the
    /// handle owns the output and must drop it, then release its reference with `release`.
    pub(super) fn drop_join_interest(&self) -> Result<(), ()> {
        let (_, changed) = self.update(|s| {
            if s & COMPLETE != 0 {
                None
            } else {
                Some((s & !JOIN_INTEREST) - REF_ONE)
            }
        });
        if changed {
            Ok(())
        } else {
            Err(())
        }
    }

    /// Takes one more reference (a `Waker` clone, a queue entry for a remote spawn).
    pub(super) fn acquire(&self) {
        let prev = self.0.fetch_add(REF_ONE, Ordering::Relaxed);
        // As `Arc` does: a count this large means references are being leaked in a loop; going on
        // would eventually wrap around and free a live task.
        if prev > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Releases one reference. Returns `true` if it was the last: the caller frees the task.
    pub(super) fn release(&self) -> bool {
        let prev = Snapshot(self.0.fetch_sub(REF_ONE, Ordering::AcqRel));
        debug_assert!(prev.ref_count() > 0, "reference count underflow");
        prev.ref_count() == 1
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_spawned_task_is_queued_once_however_often_it_is_woken() {
        let state = State::new_spawned();
        assert_eq!(state.wake_by_ref(), WakeAction::Nothing { last_ref: false });
        state.unschedule();
        assert_eq!(state.wake_by_ref(), WakeAction::Enqueue);
        assert_eq!(state.wake_by_ref(), WakeAction::Nothing { last_ref: false });
        assert_eq!(state.load().ref_count(), 3);
    }

    #[test]
    fn waking_by_value_moves_or_releases_the_wakers_reference() {
        let state = State::new_spawned();
        state.unschedule(); // registry + handle remain
        state.acquire(); // a waker
        assert_eq!(state.wake_by_val(), WakeAction::Enqueue);
        assert_eq!(
            state.load().ref_count(),
            3,
            "the waker's reference became the queue's"
        );
        state.acquire(); // another waker
        assert_eq!(state.wake_by_val(), WakeAction::Nothing { last_ref: false });
        assert_eq!(state.load().ref_count(), 3);
    }

    #[test]
    fn a_complete_task_ignores_wakes_and_cancellation() {
        let state = State::new_spawned();
        state.unschedule();
        state.complete();
        assert_eq!(state.wake_by_ref(), WakeAction::Nothing { last_ref: false });
        assert_eq!(
            state.request_cancel(),
            WakeAction::Nothing { last_ref: false }
        );
        assert!(!state.load().is_cancel_requested());
    }

    #[test]
    fn abort_queues_an_idle_task_but_not_a_queued_one() {
        let state = State::new_spawned();
        assert_eq!(
            state.request_cancel(),
            WakeAction::Nothing { last_ref: false }
        );
        assert!(state.load().is_cancel_requested());
        let state = State::new_spawned();
        state.unschedule();
        assert_eq!(state.request_cancel(), WakeAction::Enqueue);
        assert!(state.load().is_scheduled());
    }

    #[test]
    fn join_waker_handoff_fails_once_complete() {
        let state = State::new_spawned();
        assert!(state.set_join_waker().is_ok());
        assert!(state.unset_join_waker().is_ok());
        state.unschedule();
        state.complete();
        assert!(state.set_join_waker().is_err());
        assert!(state.drop_join_interest().is_err());
    }

    #[test]
    fn dropping_interest_before_completion_releases_the_handle_reference() {
        let state = State::new_spawned();
        assert!(state.drop_join_interest().is_ok());
        let snapshot = state.load();
        assert!(!snapshot.has_join_interest());
        assert_eq!(snapshot.ref_count(), 2);
    }
}
