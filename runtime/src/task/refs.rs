//! The references to a task, one type per role: who holds the task, and what each holder may do.
//!
//! Every holder of a task owns one counted reference (the count is in the state word, state.rs);
//! the last one to let go frees the cell (cell.rs). What differs is the role, and each role is a
//! type, so the compiler keeps the protocol rather than a comment:
//!
//! | role | type | taken | given up |
//! |---|---|---|---|
//! | the run queue's entry | [`Queued`] | at spawn; by the wake that sets `SCHEDULED` | by [`Queued::run`] (clearing `SCHEDULED` releases it) |
//! | the task list's | [`Listed`] | at spawn | after the future is gone and the task is unlinked |
//! | the join handle's | `JoinRef` (join_ref.rs) | at spawn | when the handle is dropped |
//! | a waker's | a `Waker` (below) | by cloning a waker | by dropping it, or waking by value |
//! | an abort handle's | a plain [`TaskRef`] | `JoinHandle::abort_handle` | when it is dropped |
//!
//! A [`TaskRef`] is the reference itself and does what any holder may do from any thread: read the
//! state, wake the task, ask for it to be cancelled. The roles add what only their holder may do:
//! only a run-queue entry can be run, and running it is the one place a task's future is polled;
//! only the task list's reference can cancel a task at shutdown.
//!
//! # One step, from the queue to completion
//!
//! [`Queued::run`] clears `SCHEDULED`, which releases the queue entry's reference. The task stays
//! alive through the poll because the task list holds its own (invariant 1 in cell.rs). If the
//! future finished, the step completes the task ([`TaskRef::finish`]: set `COMPLETE`, wake the
//! join handle or drop the output nobody wants) and hands the caller the task list's reference,
//! to unlink.
//!
//! # Waking
//!
//! A `Waker` *is* a task pointer: its data is the header's address and its vtable (below) turns
//! each call into a state transition. A wake that sets `SCHEDULED` takes a reference with it, in
//! the same atomic step; that reference becomes a [`Queued`] and goes to [`schedule`]: the loop's
//! local queue on the loop thread (no lock, no system call), the runtime's inbox elsewhere. No
//! allocation: cloning a waker costs one atomic increment.

use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::NonNull;
use std::task::{Context, RawWaker, RawWakerVTable, Waker};

use super::cell::{self, free, record_of, Header};
use super::join_ref::JoinRef;
use super::record::{NoRecord, RecordSlot, TaskRecord};
use super::state::{Snapshot, WakeAction};
use super::{JoinError, TaskId};
use crate::debug::UnhandledError;
use crate::foreign;
use crate::runtime::{schedule, LoopToken, Shared};
use crate::shim::Arc;

/// One counted reference to a task. Dropping it releases the reference; the last one frees the
/// task. It may cross threads: on its own it only reaches the state word and the scheduler.
pub(crate) struct TaskRef {
    header: NonNull<Header>,
}

// SAFETY: through a `TaskRef` alone, another thread can only touch the atomic state, the
// scheduler (an `Arc<Shared>`, which is `Sync`) and the join waker (a `Waker`, `Send + Sync`),
// or free the cell once the future and output are gone (invariant 2 in cell.rs); freeing drops
// the record, whose fields are all `Send`. Touching the future or the record requires a
// `LoopToken` of the task's runtime, which exists only on that runtime's loop thread.
unsafe impl Send for TaskRef {}
// SAFETY: as above; every `&self` method is one of those thread-safe accesses.
unsafe impl Sync for TaskRef {}

impl TaskRef {
    /// Takes ownership of a reference previously given up with [`TaskRef::into_raw`] or counted
    /// by a state transition.
    ///
    /// # Safety
    /// `header` must point to a live task and the caller must own one of its references.
    pub(super) unsafe fn from_raw(header: NonNull<Header>) -> TaskRef {
        TaskRef { header }
    }

    /// Gives up ownership of this reference without releasing it.
    pub(super) fn into_raw(self) -> NonNull<Header> {
        ManuallyDrop::new(self).header
    }

    /// The header's address (the handle's identity for the join protocol).
    pub(super) fn header_ptr(&self) -> NonNull<Header> {
        self.header
    }

    /// The task's id: where its cell is, which no other live task shares.
    pub(crate) fn id(&self) -> TaskId {
        TaskId::of(self.header)
    }

    pub(super) fn header(&self) -> &Header {
        // SAFETY: a `TaskRef` owns a reference, so the cell is alive.
        unsafe { self.header.as_ref() }
    }

    pub(super) fn state(&self) -> Snapshot {
        self.header().state.load()
    }

    /// The cross-thread half of the runtime this task belongs to.
    pub(crate) fn scheduler(&self) -> &Arc<Shared> {
        &self.header().scheduler
    }

    fn assert_owned_by(&self, token: &LoopToken) {
        assert!(
            token.owns(self.scheduler()),
            "evloop bug: a task was handed to another runtime's loop"
        );
    }

    /// Whether the task has a [`TaskRecord`].
    pub(crate) fn has_record(&self) -> bool {
        self.header().vtable.record_offset.is_some()
    }

    /// The task's record, if it has one, on its own loop thread.
    pub(crate) fn record(&self, token: &LoopToken) -> Option<&TaskRecord> {
        if !self.has_record() {
            return None;
        }
        self.assert_owned_by(token);
        // SAFETY: this reference keeps the task alive while the borrow of `self` lasts.
        unsafe { record_of(self.header) }
    }

    /// Asks the loop to drop the task's future before polling it again (`JoinHandle::abort`,
    /// `AbortHandle::abort`), queueing the task if it is not queued already.
    pub(super) fn request_cancel(&self) {
        if self.header().state.request_cancel() == WakeAction::Enqueue {
            // SAFETY: the transition took a reference for the queue entry.
            schedule(unsafe { Queued::from_raw(self.header) });
        }
    }

    /// Wakes the task without consuming this reference (every `wake_by_ref` comes here).
    pub(super) fn wake_by_ref(&self) {
        if self.header().state.wake_by_ref() == WakeAction::Enqueue {
            // SAFETY: the transition took a reference for the queue entry.
            schedule(unsafe { Queued::from_raw(self.header) });
        }
    }

    /// Wakes the task, consuming this reference.
    pub(super) fn wake(self) {
        let header = self.into_raw();
        // SAFETY: `into_raw` kept our reference alive for this transition.
        match unsafe { header.as_ref() }.state.wake_by_val() {
            // SAFETY: our reference now belongs to the queue entry.
            WakeAction::Enqueue => schedule(unsafe { Queued::from_raw(header) }),
            WakeAction::Nothing { last_ref: true } => {
                // SAFETY: ours was the last reference, so nothing else can reach the cell.
                unsafe { free(header) }
            }
            WakeAction::Nothing { last_ref: false } => {}
        }
    }

    /// Hands a panic nobody retrieved (the task was detached, or its handle was dropped without
    /// looking) to the runtime's unhandled-error handler, naming the task if it has a record.
    /// `token` is there when the caller is on the task's loop thread: only then can the record
    /// be read (a handle dropped on another thread reports without it).
    pub(super) fn report_unretrieved(&self, panic: JoinError, token: Option<&LoopToken>) {
        let mut error = UnhandledError::task_panicked(panic.to_string(), self.id());
        if let Some(record) = token.and_then(|token| self.record(token)) {
            error = error.in_task(record.number(), record.name(), record.location());
        }
        self.scheduler().report_unhandled(&error);
        foreign::drop_quietly(panic); // the payload's `Drop` is the panicking code's
    }

    /// Publishes the output written to the slot: sets `COMPLETE`, then either wakes the join
    /// handle's owner or, if there is no handle any more, drops the output — returning it instead
    /// if it is a panic, which nobody will ever retrieve (the caller reports it).
    ///
    /// Both are foreign code, and both come last: the task's state is final before either runs,
    /// and neither can unwind into the caller, which still has the task to unlink (a panicking
    /// join waker once unwound from here and dropped the task list's reference while the task was
    /// still linked: a use-after-free from safe code).
    #[must_use = "a panic nobody retrieved must be reported"]
    fn finish(&self) -> Option<JoinError> {
        let header = self.header();
        let before = header.state.complete();
        if !before.has_join_interest() {
            // SAFETY: no handle exists, so the loop still owns the output it just wrote.
            return unsafe { (header.vtable.drop_output)(self.header) };
        }
        if before.has_join_waker() {
            header.join_waker.with(|waker| {
                // SAFETY: JOIN_WAKER set means the task side may read the slot, and COMPLETE (just
                // set) means the handle can no longer take it back to write.
                if let Some(waker) = unsafe { &*waker } {
                    foreign::wake_by_ref(waker);
                }
            });
        }
        None
    }
}

impl Clone for TaskRef {
    /// Takes one more reference to the task (the loop holds one across a recorded task's step,
    /// so that the record outlives it).
    fn clone(&self) -> TaskRef {
        self.header().state.acquire();
        TaskRef {
            header: self.header,
        }
    }
}

impl Drop for TaskRef {
    fn drop(&mut self) {
        if self.header().state.release() {
            // SAFETY: that was the last reference.
            unsafe { free(self.header) }
        }
    }
}

impl std::fmt::Debug for TaskRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskRef")
            .field("ptr", &self.header)
            .field("state", &self.state())
            .finish()
    }
}

/// The run queue's entry for a task: the reference that `SCHEDULED` stands for. Running it is the
/// only way to poll a task.
#[derive(Debug)]
pub(crate) struct Queued(TaskRef);

/// The task list's reference: the one that keeps a task alive while its future is (invariant 1
/// in cell.rs).
#[derive(Debug)]
pub(crate) struct Listed(TaskRef);

/// What one step of a task did.
pub(crate) enum RunOutcome {
    /// Nothing for the caller to do: the future returned `Pending`, or the entry was stale (the
    /// task had completed since it was queued).
    NothingToDo,
    /// The future is gone (finished, panicked or cancelled): unlink the task from the list, then
    /// drop its reference.
    Completed(Listed),
}

impl Queued {
    /// # Safety
    /// The caller owns the reference a state transition took for the queue entry (`SCHEDULED`).
    unsafe fn from_raw(header: NonNull<Header>) -> Queued {
        Queued(TaskRef { header })
    }

    /// Runs one step of the task: the loop popped this entry.
    ///
    /// Cancels the task instead if `abort` was called, and does nothing if it is already
    /// complete (a wake that raced with completion left a stale entry).
    pub(crate) fn run(self, token: &LoopToken) -> RunOutcome {
        self.assert_owned_by(token);
        // Clearing `SCHEDULED` released the entry's reference: forget it, not drop it.
        let before = self.header().state.unschedule();
        let header = self.0.into_raw();
        if before.is_complete() {
            if before.ref_count() == 1 {
                // SAFETY: the queue entry held the last reference.
                unsafe { free(header) }
            }
            return RunOutcome::NothingToDo;
        }
        // SAFETY: the future is alive, so the task list holds a reference (invariant 1) that
        // keeps the cell alive through this step.
        let header_ref = unsafe { header.as_ref() };
        if before.is_cancel_requested() {
            // SAFETY: we are the owning loop thread (checked above) and the task is not complete,
            // so the slot holds the future.
            unsafe { (header_ref.vtable.cancel)(header, JoinError::aborted()) };
        } else {
            let waker = borrowed_waker(header);
            let mut cx = Context::from_waker(&waker);
            // SAFETY: as above.
            if unsafe { (header_ref.vtable.poll)(header, &mut cx) }.is_pending() {
                return RunOutcome::NothingToDo;
            }
        }
        // SAFETY: the future is gone; the task list's reference (invariant 1) passes to the
        // caller, who unlinks the task and releases it.
        let listed = unsafe { Listed::from_raw(header) };
        if let Some(panic) = listed.finish() {
            listed.report_unretrieved(panic, Some(token));
        }
        RunOutcome::Completed(listed)
    }
}

impl Listed {
    /// # Safety
    /// The caller owns the task list's reference to a live task.
    pub(super) unsafe fn from_raw(header: NonNull<Header>) -> Listed {
        Listed(TaskRef { header })
    }

    /// Gives up the reference without releasing it (the list keeps it as a pointer).
    pub(super) fn into_raw(self) -> NonNull<Header> {
        self.0.into_raw()
    }

    /// Cancels a task whose future is still alive because the runtime is shutting down: drops the
    /// future on the loop's thread and completes the task with `error`. (A task refused before
    /// any loop saw it is cancelled by [`SendNewTask::refuse`] instead.)
    pub(crate) fn cancel(self, token: &LoopToken, error: JoinError) {
        self.assert_owned_by(token);
        debug_assert!(!self.state().is_complete());
        // SAFETY: the loop thread, and the future is alive.
        unsafe { (self.header().vtable.cancel)(self.header, error) };
        if let Some(panic) = self.finish() {
            self.report_unretrieved(panic, Some(token));
        }
    }
}

/// A role is a reference with a narrower set of moves: every shared operation is `TaskRef`'s.
impl Deref for Queued {
    type Target = TaskRef;
    fn deref(&self) -> &TaskRef {
        &self.0
    }
}

impl Deref for Listed {
    type Target = TaskRef;
    fn deref(&self) -> &TaskRef {
        &self.0
    }
}

/// A task that has just been allocated: the task list's reference and the run queue's. The
/// runtime links the first and queues the second (or cancels it if it is shutting down).
pub(crate) struct NewTask {
    pub(crate) listed: Listed,
    pub(crate) queued: Queued,
}

impl NewTask {
    /// Allocates a task for `future`, owned by the runtime behind `scheduler`, with `record`: a
    /// [`TaskRecord`], or [`NoRecord`]. Returns the runtime's two references and the join
    /// handle's.
    pub(crate) fn allocate<F, R>(
        future: F,
        scheduler: Arc<Shared>,
        record: R,
    ) -> (NewTask, JoinRef<F::Output>)
    where
        F: std::future::Future + 'static,
        R: RecordSlot + 'static,
    {
        let header = cell::allocate(future, scheduler, record);
        // SAFETY: the state starts with three references, one for each of these; the queue's
        // stands for the `SCHEDULED` a new task starts with, and the handle's output type is the
        // future's.
        unsafe {
            let new_task = NewTask {
                listed: Listed::from_raw(header),
                queued: Queued::from_raw(header),
            };
            (new_task, JoinRef::new(TaskRef::from_raw(header)))
        }
    }
}

/// A new task whose future is `Send`, spawned from a thread that is not its loop's. If the runtime
/// refuses it (it has shut down), the spawning thread may drop the future itself.
pub(crate) struct SendNewTask(pub(crate) NewTask);

impl SendNewTask {
    /// Allocates a task for a `Send` future spawned from another thread.
    pub(crate) fn allocate<F>(
        future: F,
        scheduler: Arc<Shared>,
        record: Option<TaskRecord>,
    ) -> (SendNewTask, JoinRef<F::Output>)
    where
        F: std::future::Future + Send + 'static,
    {
        let (task, join) = match record {
            Some(record) => NewTask::allocate(future, scheduler, record),
            None => NewTask::allocate(future, scheduler, NoRecord),
        };
        (SendNewTask(task), join)
    }

    /// Completes a task the runtime refused, as cancelled by shutdown, dropping its future here.
    pub(crate) fn refuse(self) {
        let task = &self.0.listed;
        // SAFETY: the future is `Send` (this type is only built by `SendNewTask::allocate`), so
        // this thread may drop it; the task was never adopted by a loop, so nothing else touches
        // it.
        unsafe { (task.header().vtable.cancel)(task.header, JoinError::runtime_shutdown()) };
        // The spawner holds the handle, so there is no unretrieved output to report.
        let _ = task.finish();
    }
}

// ---------------------------------------------------------------------------------------------
// The waker's reference: a `RawWaker` whose data is the header's address.
// ---------------------------------------------------------------------------------------------

static WAKER_VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

fn header_of(data: *const ()) -> NonNull<Header> {
    // SAFETY (of every caller): `data` came from `borrowed_waker` or `clone`, both of which store
    // a valid header pointer.
    NonNull::new(data as *mut Header).expect("task waker with a null pointer")
}

/// A waker for the poll the loop is about to make. It holds no reference of its own: the task list
/// keeps the task alive during the poll (invariant 1 in cell.rs), and `ManuallyDrop` makes sure the
/// waker releases nothing when it goes. A future that keeps the waker clones it, which counts.
fn borrowed_waker(header: NonNull<Header>) -> ManuallyDrop<Waker> {
    // SAFETY: the vtable's functions uphold the `RawWaker` contract for a header pointer: clone
    // takes a reference, drop releases one, and both wakes are thread-safe.
    ManuallyDrop::new(unsafe {
        Waker::from_raw(RawWaker::new(header.as_ptr() as *const (), &WAKER_VTABLE))
    })
}

/// Borrows the reference a waker owns, without releasing it.
fn with_task<R>(data: *const (), f: impl FnOnce(&TaskRef) -> R) -> R {
    // SAFETY: a live waker owns (or, while borrowed, is backed by) a reference to the task.
    let task = ManuallyDrop::new(unsafe { TaskRef::from_raw(header_of(data)) });
    f(&task)
}

fn clone(data: *const ()) -> RawWaker {
    with_task(data, |task| task.header().state.acquire());
    RawWaker::new(data, &WAKER_VTABLE)
}

fn wake(data: *const ()) {
    // SAFETY: a waker woken by value gives up the reference it owns.
    unsafe { TaskRef::from_raw(header_of(data)) }.wake();
}

fn wake_by_ref(data: *const ()) {
    with_task(data, TaskRef::wake_by_ref);
}

fn drop_waker(data: *const ()) {
    // SAFETY: a dropped waker gives up the reference it owns: the `TaskRef` rebuilt from it is
    // that reference, and dropping it releases it exactly once.
    drop(unsafe { TaskRef::from_raw(header_of(data)) });
}
