//! The join handle's side of a task: taking the output, registering the waker to be woken on
//! completion, and giving up interest when the handle is dropped.
//!
//! The protocol, against the loop's side in `refs.rs` (`TaskRef::finish`):
//! - the output belongs to the loop until `COMPLETE`, then to the handle if `JOIN_INTEREST` is still
//!   set, otherwise the loop drops it itself;
//! - the join-waker slot is written by the handle only while `JOIN_WAKER` is clear; it sets the bit
//!   to hand the slot over, and can take it back only with a compare-and-swap that fails once the
//!   task is complete — so the loop's read at completion is never raced. A handle dropped before
//!   completion takes it back the same way and drops its waker then, rather than leaving it in the
//!   task (holding whatever it points to) until the task ends.

use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::task::{Context, Poll};

use super::refs::TaskRef;
use super::{JoinError, TaskId};

/// The join handle's reference to its task, typed with the output. Created only by
/// `NewTask::allocate`, so `T` is always the task's real output type.
pub(crate) struct JoinRef<T> {
    /// The handle's reference; released by hand in `drop`, where the interest protocol decides
    /// whether the release already happened.
    task: ManuallyDrop<TaskRef>,
    /// Set once `poll_output` has returned the output; the slot is empty from then on.
    output_taken: bool,
    /// `JoinRef<T>` moves a `T` to wherever it is polled: `Send` only if `T` is.
    _output: PhantomData<T>,
}

impl<T> JoinRef<T> {
    /// Wraps the handle's reference.
    ///
    /// # Safety
    /// `task` must be a task whose output type is `T` (only `NewTask::allocate` calls this).
    pub(super) unsafe fn new(task: TaskRef) -> JoinRef<T> {
        JoinRef {
            task: ManuallyDrop::new(task),
            output_taken: false,
            _output: PhantomData,
        }
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.task.state().is_complete()
    }

    /// Requests cancellation: the loop drops the future before polling it again.
    pub(crate) fn abort(&self) {
        self.task.request_cancel();
    }

    /// Another reference to the task, for an [`AbortHandle`](super::AbortHandle).
    pub(crate) fn task(&self) -> TaskRef {
        (*self.task).clone()
    }

    /// The task's id.
    pub(crate) fn id(&self) -> TaskId {
        self.task.id()
    }

    /// Returns the output if the task is complete; otherwise arranges for `cx`'s waker to be woken
    /// when it is.
    ///
    /// # Panics
    /// If the output was already returned.
    pub(crate) fn poll_output(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        assert!(
            !self.output_taken,
            "JoinHandle polled after it already returned its output"
        );
        let header = self.task.header();
        let state = header.state.load();
        if state.is_complete() {
            // Finished already: done without waiting, which spends the task's budget
            // (`coop.rs`), as awaiting finished handles in a loop could otherwise go on forever.
            if crate::coop::poll_proceed(cx).is_pending() {
                return Poll::Pending;
            }
            return Poll::Ready(self.take_output());
        }
        if state.has_join_waker() {
            // The task side owns the slot, but reading is shared: is the stored waker ours?
            let same = header.join_waker.with(|waker| {
                // SAFETY: while JOIN_WAKER is set nobody writes the slot.
                unsafe { &*waker }
                    .as_ref()
                    .is_some_and(|waker| waker.will_wake(cx.waker()))
            });
            if same {
                return Poll::Pending;
            }
            if header.state.unset_join_waker().is_err() {
                return Poll::Ready(self.take_output());
            }
        }
        // JOIN_WAKER is clear: the slot is ours to write.
        // SAFETY: the task side reads the slot only while JOIN_WAKER is set.
        header
            .join_waker
            .with_mut(|waker| unsafe { *waker = Some(cx.waker().clone()) });
        match header.state.set_join_waker() {
            Ok(()) => Poll::Pending,
            Err(_) => Poll::Ready(self.take_output()),
        }
    }

    fn take_output(&mut self) -> Result<T, JoinError> {
        let mut output: Option<Result<T, JoinError>> = None;
        // SAFETY: COMPLETE was observed with Acquire and we hold JOIN_INTEREST, so the slot holds
        // the output and it is ours; `T` is the task's output type (see the type's doc).
        unsafe {
            (self.task.header().vtable.take_output)(
                self.task.header_ptr(),
                &mut output as *mut Option<Result<T, JoinError>> as *mut (),
            )
        };
        self.output_taken = true;
        output.expect("take_output always writes the output")
    }
}

impl<T> Drop for JoinRef<T> {
    fn drop(&mut self) {
        // SAFETY: `self.task` is never used again: this is the handle's drop.
        let task = unsafe { ManuallyDrop::take(&mut self.task) };
        if self.output_taken {
            return; // `task` drops here, releasing the handle's reference.
        }
        let header = task.header();
        // A waker registered by a poll would stay in the task until it ends (and keep whatever it
        // points to alive): take the slot back, as `poll_output` does to replace it, and drop it
        // now. If the task completed meanwhile, the slot stays with it and goes with the task.
        if header.state.load().has_join_waker() && header.state.unset_join_waker().is_ok() {
            // SAFETY: JOIN_WAKER is clear and the task is not complete, so the task side no
            // longer reads the slot: it is ours.
            let waker = header.join_waker.with_mut(|slot| unsafe { (*slot).take() });
            crate::foreign::drop_quietly(waker);
        }
        match task.header().state.drop_join_interest() {
            // Not complete: the reference was released together with the interest, and the loop
            // will drop the output when it comes.
            Ok(()) => {
                task.into_raw();
            }
            // Complete: the output is ours and nobody else will drop it.
            Err(()) => {
                // SAFETY: COMPLETE with JOIN_INTEREST means the slot holds the output, owned by us.
                let panic = unsafe { (task.header().vtable.drop_output)(task.header_ptr()) };
                if let Some(panic) = panic {
                    // The handle goes without having looked: nobody will see this panic.
                    task.report_unretrieved(panic, None);
                }
            }
        }
    }
}
