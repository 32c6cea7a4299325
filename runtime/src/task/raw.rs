//! The task allocation: one heap block per spawned task, and the references that point into it.
//!
//! # Layout
//!
//! ```text
//! TaskCell<F, R> (#[repr(C)], one Box)
//! ├── Header                      what every holder needs, whatever the future's type
//! │   ├── state: State            flags + reference count (see state.rs)
//! │   ├── vtable: &'static Vtable the operations that need to know F, and where the record is
//! │   ├── scheduler: Arc<Shared>  where wakes go: the owning runtime's cross-thread half
//! │   ├── links: Links            neighbours in the runtime's task list (list.rs)
//! │   └── join_waker: Option<Waker> who to wake when the task completes
//! ├── record: R                   a `TaskRecord` (id, name, polls... record.rs) or `NoRecord`
//! └── slot: union { future: F, output: Result<F::Output, JoinError> }
//! ```
//!
//! The future and, later, its output share one slot: the output is written over the place the
//! future occupied once it has been dropped. Which of the two the slot holds is never stored
//! separately; it follows from the state word (see the rules below). Because the header comes
//! first in a `#[repr(C)]` struct, a pointer to the cell is also a pointer to its header, and all
//! type-erased code (wakers, the run queue, the task list) holds a `NonNull<Header>`.
//!
//! # Who may touch what
//!
//! | field | who | when |
//! |---|---|---|
//! | `state` | anyone holding a reference | always (atomic) |
//! | `vtable`, `scheduler` | anyone holding a reference | always (never written after creation) |
//! | `record` | the loop thread | always (handed out only against a `LoopToken`; its `Cell`s are not `Sync`) |
//! | `links` | the loop thread | while the task is in its task list |
//! | `slot` as future | the loop thread | while not `COMPLETE` |
//! | `slot` as output | the loop thread, then the `JoinRef` | the loop writes it before setting `COMPLETE`; from then on the join handle owns it |
//! | `join_waker` | the `JoinRef` while `JOIN_WAKER` is clear; read-only for both sides while it is set | — |
//!
//! The join handle's side of the protocol (`JoinRef`: taking the output, registering its waker,
//! giving up its interest) is in `join_ref.rs`.
//!
//! "The loop thread" is proven by a [`LoopToken`]: one exists per runtime, it is created on the
//! thread that runs that runtime's loop and it can never leave it (`!Send`). Every operation that
//! touches the future takes one and checks that it belongs to the task's runtime. That is what
//! lets a `!Send` future live in an allocation that `Send` wakers point to: the wakers only ever
//! touch the state word, the scheduler and the join waker.
//!
//! # Invariants
//!
//! 1. While the future is alive (not `COMPLETE`), the task list holds a reference, so the task
//!    cannot be freed during a poll even though the poll itself holds none.
//! 2. When the last reference goes, the slot is empty: the output was taken by the handle, dropped
//!    by the handle, or dropped by the loop because no handle wanted it. Freeing the cell drops
//!    only the header.

use std::future::Future;
use std::mem::ManuallyDrop;
use std::num::NonZeroUsize;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

use super::join_ref::JoinRef;
use super::record::{NoRecord, RecordSlot, TaskRecord};
use super::state::{Snapshot, State, WakeAction};
use super::waker;
use super::{JoinError, TaskId};
use crate::debug::UnhandledError;
use crate::foreign;
use crate::runtime::{schedule, LoopToken, Shared};
use crate::shim::{Arc, UnsafeCell};

/// The part of a task that does not depend on the future's type.
#[repr(C)]
pub(crate) struct Header {
    pub(super) state: State,
    pub(super) vtable: &'static Vtable,
    scheduler: Arc<Shared>,
    pub(super) links: UnsafeCell<Links>,
    pub(super) join_waker: UnsafeCell<Option<Waker>>,
}

impl Header {
    /// Whether the task is queued to run (woken since its last poll began).
    pub(super) fn is_scheduled(&self) -> bool {
        self.state.load().is_scheduled()
    }
}

/// A task's neighbours in its runtime's task list.
#[derive(Default)]
pub(super) struct Links {
    pub(super) prev: Option<NonNull<Header>>,
    pub(super) next: Option<NonNull<Header>>,
}

#[repr(C)]
struct TaskCell<F: Future, R> {
    header: Header,
    record: R,
    slot: UnsafeCell<Slot<F>>,
}

/// The future until it finishes, then its output. See the module doc for which is live.
union Slot<F: Future> {
    future: ManuallyDrop<F>,
    output: ManuallyDrop<Result<F::Output, JoinError>>,
}

/// The operations that need the future's concrete type, one table per `F`.
///
/// Each entry points to one of the `unsafe fn`s below and is called under that function's
/// `# Safety` contract.
pub(super) struct Vtable {
    /// Where the task's [`TaskRecord`] is, in bytes from the start of the cell; `None` if the
    /// task has none. (Never zero: the header comes first.)
    record_offset: Option<NonZeroUsize>,
    /// Polls the future. On `Ready` (or a panic) the future has been dropped and the output
    /// written to the slot.
    poll: unsafe fn(NonNull<Header>, &mut Context<'_>) -> Poll<()>,
    /// Drops the future and writes `Err(error)` as the output.
    cancel: unsafe fn(NonNull<Header>, JoinError),
    /// Moves the output into `*(dst as *mut Option<Result<F::Output, JoinError>>)`.
    pub(super) take_output: unsafe fn(NonNull<Header>, *mut ()),
    /// Drops the output in place; if it was a panic's `JoinError`, hands that back instead (it is
    /// an error nobody retrieved, for the unhandled-error handler).
    pub(super) drop_output: unsafe fn(NonNull<Header>) -> Option<JoinError>,
    /// Frees the allocation.
    dealloc: unsafe fn(NonNull<Header>),
}

impl<F: Future, R: RecordSlot> TaskCell<F, R> {
    const VTABLE: Vtable = Vtable {
        record_offset: if R::IS_RECORD {
            NonZeroUsize::new(std::mem::offset_of!(TaskCell<F, R>, record))
        } else {
            None
        },
        poll: poll::<F, R>,
        cancel: cancel::<F, R>,
        take_output: take_output::<F, R>,
        drop_output: drop_output::<F, R>,
        dealloc: dealloc::<F, R>,
    };
}

/// Drops the future in the slot, catching a panic from its `Drop`.
///
/// # Safety
/// `slot` must hold the future, and the caller must have exclusive access to it.
unsafe fn drop_future<F: Future>(slot: *mut Slot<F>) -> Result<(), JoinError> {
    // SAFETY: the caller guarantees the slot holds a live future that nobody else touches; after
    // this the slot is treated as empty.
    catch_unwind(AssertUnwindSafe(|| unsafe {
        ManuallyDrop::drop(&mut (*slot).future)
    }))
    .map_err(JoinError::panic)
}

/// # Safety
/// `header` points to a live `TaskCell<F, R>` whose slot holds the future; caller is the loop
/// thread.
unsafe fn poll<F: Future, R>(header: NonNull<Header>, cx: &mut Context<'_>) -> Poll<()> {
    // SAFETY: per the contract, the cell is live and has type `TaskCell<F, R>`.
    let cell = unsafe { header.cast::<TaskCell<F, R>>().as_ref() };
    cell.slot.with_mut(|slot| {
        // SAFETY: the slot holds the future (not COMPLETE) and only the loop thread touches it
        // then. The future never moves: it lives in this heap block until it is dropped in place.
        let future = unsafe { Pin::new_unchecked(&mut *(*slot).future) };
        let output = match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            // SAFETY: the future finished; nobody else touches the slot until COMPLETE is set.
            Ok(Poll::Ready(value)) => unsafe { drop_future::<F>(slot) }.map(|()| value),
            Err(payload) => {
                // SAFETY: as above; a future that panicked is dropped, never polled again.
                let _ = unsafe { drop_future::<F>(slot) };
                Err(JoinError::panic(payload))
            }
        };
        // SAFETY: the future has been dropped, so the slot is free to hold the output.
        unsafe { (*slot).output = ManuallyDrop::new(output) };
        Poll::Ready(())
    })
}

/// # Safety
/// As for `poll`.
unsafe fn cancel<F: Future, R>(header: NonNull<Header>, error: JoinError) {
    // SAFETY: per the contract, the cell is live and has type `TaskCell<F, R>`.
    let cell = unsafe { header.cast::<TaskCell<F, R>>().as_ref() };
    cell.slot.with_mut(|slot| {
        // SAFETY: the slot holds the future and the loop thread has exclusive access to it.
        let output = unsafe { drop_future::<F>(slot) }.and(Err(error));
        // SAFETY: the future has been dropped, so the slot is free to hold the output.
        unsafe { (*slot).output = ManuallyDrop::new(output) };
    });
}

/// # Safety
/// `header` points to a live `TaskCell<F, R>` whose slot holds the output, owned by the caller;
/// `dst` points to an `Option<Result<F::Output, JoinError>>`.
unsafe fn take_output<F: Future, R>(header: NonNull<Header>, dst: *mut ()) {
    // SAFETY: per the contract.
    let cell = unsafe { header.cast::<TaskCell<F, R>>().as_ref() };
    cell.slot.with_mut(|slot| {
        // SAFETY: the caller owns the output; after this the slot is empty.
        let output = unsafe { ManuallyDrop::take(&mut (*slot).output) };
        // SAFETY: the caller passes a pointer to a value of exactly this type.
        unsafe { *(dst as *mut Option<Result<F::Output, JoinError>>) = Some(output) };
    });
}

/// # Safety
/// As for `take_output`.
unsafe fn drop_output<F: Future, R>(header: NonNull<Header>) -> Option<JoinError> {
    // SAFETY: per the contract.
    let cell = unsafe { header.cast::<TaskCell<F, R>>().as_ref() };
    cell.slot.with_mut(|slot| {
        // SAFETY: the caller owns the output; after this the slot is empty.
        match unsafe { ManuallyDrop::take(&mut (*slot).output) } {
            Err(error) if error.is_panic() => Some(error),
            // The output's own `Drop` may panic; nobody is waiting for it, and unwinding into
            // the loop (or a waker's thread) would leave the task half-released, so the panic is
            // dropped here after the panic hook has reported it (`foreign.rs`).
            output => {
                foreign::drop_quietly(output);
                None
            }
        }
    })
}

/// # Safety
/// `header` points to a `TaskCell<F, R>` whose last reference was just released, so nothing else
/// can reach it; its slot is empty (invariant 2).
unsafe fn dealloc<F: Future, R>(header: NonNull<Header>) {
    // SAFETY: the cell was allocated by `Box::new` in `TaskRef::allocate` with this exact type. The
    // slot is a union of `ManuallyDrop`s, so dropping the box drops only the header and record.
    let cell = unsafe { Box::from_raw(header.cast::<TaskCell<F, R>>().as_ptr()) };
    // The header holds the join waker, whose `drop` is foreign code; whoever released the last
    // reference (the loop, a waker's thread) must not unwind from here. The memory is freed
    // either way: a box frees its allocation even when a field's `drop` unwinds.
    foreign::drop_quietly(cell);
}

/// The record of the task at `header`, if it has one.
///
/// # Safety
/// `header` points to a live task, whose loop thread this is, and the task stays alive for `'a`.
pub(super) unsafe fn record_of<'a>(header: NonNull<Header>) -> Option<&'a TaskRecord> {
    // SAFETY: the task is alive, so its header (and vtable) can be read.
    let offset = unsafe { header.as_ref() }.vtable.record_offset?;
    // SAFETY: `record_offset` is set only for a `TaskCell<_, TaskRecord>` and is the offset of
    // its `record` field; `header` is the cell's address, with the whole allocation's provenance
    // (it came from `Box::leak`, not from a reference to the header). The record is only ever
    // read through shared references (its mutable parts are `Cell`s) and the caller is on the
    // loop thread, the only thread that touches them.
    Some(unsafe {
        header
            .cast::<u8>()
            .add(offset.get())
            .cast::<TaskRecord>()
            .as_ref()
    })
}

/// One counted reference to a task. Dropping it releases the reference; the last one frees the
/// task. It may cross threads: on its own it only reaches the state word and the scheduler.
pub(crate) struct TaskRef {
    header: NonNull<Header>,
}

// SAFETY: through a `TaskRef` alone, another thread can only touch the atomic state, the
// scheduler (an `Arc<Shared>`, which is `Sync`) and the join waker (a `Waker`, `Send + Sync`),
// or free the cell once the future and output are gone (invariant 2); freeing drops the record,
// whose fields are all `Send`. Touching the future or the record requires a `LoopToken` of the
// task's runtime, which exists only on that runtime's loop thread.
unsafe impl Send for TaskRef {}
// SAFETY: as above; every `&self` method is one of those thread-safe accesses.
unsafe impl Sync for TaskRef {}

/// A task that has just been allocated: the references for the task list and the run queue. The
/// runtime links the first and queues the second (or cancels both if it is shutting down).
pub(crate) struct NewTask {
    pub(crate) listed: TaskRef,
    pub(crate) queued: TaskRef,
}

/// A new task whose future is `Send`, spawned from a thread that is not its loop's. If the runtime
/// refuses it (it has shut down), the spawning thread may drop the future itself.
pub(crate) struct SendNewTask(pub(crate) NewTask);

impl SendNewTask {
    /// Completes a task the runtime refused, as cancelled by shutdown, dropping its future here.
    pub(crate) fn refuse(self) {
        let task = &self.0.listed;
        // SAFETY: the future is `Send` (this type is only built by `TaskRef::new_send`), so this
        // thread may drop it; the task was never adopted by a loop, so nothing else touches it.
        unsafe { (task.header().vtable.cancel)(task.header, JoinError::runtime_shutdown()) };
        // The spawner holds the handle, so there is no unretrieved output to report.
        let _ = task.finish();
    }
}

/// What one step of a task did.
pub(crate) enum RunOutcome {
    /// Nothing for the caller to do: the future returned `Pending`, or the entry was stale (the
    /// task had completed since it was queued).
    NothingToDo,
    /// The future is gone (finished, panicked or cancelled). This is the task list's reference:
    /// unlink the task from the list, then drop it.
    Completed(TaskRef),
}

impl TaskRef {
    /// Allocates a task for `future`, owned by the runtime behind `scheduler`, with `record`: a
    /// [`TaskRecord`], or [`NoRecord`]. This is the only heap allocation a spawn makes (a name is
    /// one more).
    pub(crate) fn allocate<F, R>(
        future: F,
        scheduler: Arc<Shared>,
        record: R,
    ) -> (NewTask, JoinRef<F::Output>)
    where
        F: Future + 'static,
        R: RecordSlot + 'static,
    {
        let cell = Box::new(TaskCell {
            header: Header {
                state: State::new_spawned(),
                vtable: &TaskCell::<F, R>::VTABLE,
                scheduler,
                links: UnsafeCell::new(Links::default()),
                join_waker: UnsafeCell::new(None),
            },
            record,
            slot: UnsafeCell::new(Slot {
                future: ManuallyDrop::new(future),
            }),
        });
        let header = NonNull::from(Box::leak(cell)).cast::<Header>();
        // The state starts with three references, one for each of these.
        let new_task = NewTask {
            listed: TaskRef { header },
            queued: TaskRef { header },
        };
        // SAFETY: the handle's reference, for a task whose output type is `F::Output`.
        let join = unsafe { JoinRef::new(TaskRef { header }) };
        (new_task, join)
    }

    /// Allocates a task for a `Send` future spawned from another thread (see [`SendNewTask`]).
    pub(crate) fn new_send<F>(
        future: F,
        scheduler: Arc<Shared>,
        record: Option<TaskRecord>,
    ) -> (SendNewTask, JoinRef<F::Output>)
    where
        F: Future + Send + 'static,
    {
        let (task, join) = match record {
            Some(record) => TaskRef::allocate(future, scheduler, record),
            None => TaskRef::allocate(future, scheduler, NoRecord),
        };
        (SendNewTask(task), join)
    }

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
            // The transition took a reference for the queue entry.
            schedule(TaskRef {
                header: self.header,
            });
        }
    }

    /// Wakes the task without consuming this reference (every `wake_by_ref` comes here).
    pub(super) fn wake_by_ref(&self) {
        if self.header().state.wake_by_ref() == WakeAction::Enqueue {
            // The transition took a reference for the queue entry.
            schedule(TaskRef {
                header: self.header,
            });
        }
    }

    /// Wakes the task, consuming this reference.
    pub(super) fn wake(self) {
        let header = self.into_raw();
        // SAFETY: `into_raw` kept our reference alive for this transition.
        match unsafe { header.as_ref() }.state.wake_by_val() {
            // Our reference now belongs to the queue entry.
            WakeAction::Enqueue => schedule(TaskRef { header }),
            WakeAction::Nothing { last_ref: true } => {
                // SAFETY: ours was the last reference, so nothing else can reach the cell.
                unsafe { free(header) }
            }
            WakeAction::Nothing { last_ref: false } => {}
        }
    }

    /// Runs one step of the task: the loop popped this run-queue entry.
    ///
    /// Cancels the task instead if `abort` was called, and does nothing if it is already
    /// complete (a wake that raced with completion left a stale entry).
    pub(crate) fn run(self, token: &LoopToken) -> RunOutcome {
        self.assert_owned_by(token);
        let before = self.header().state.unschedule();
        // `unschedule` released the queue entry's reference. From here `self` stands for the task
        // list's reference (invariant 1), which this function must not release: it is either
        // forgotten (task alive) or handed back in `Completed`.
        let header = self.into_raw();
        if before.is_complete() {
            if before.ref_count() == 1 {
                // SAFETY: the queue entry held the last reference.
                unsafe { free(header) }
            }
            return RunOutcome::NothingToDo;
        }
        // SAFETY: the task list's reference keeps the cell alive.
        let header_ref = unsafe { header.as_ref() };
        if before.is_cancel_requested() {
            // SAFETY: we are the owning loop thread (checked above) and the task is not complete,
            // so the slot holds the future.
            unsafe { (header_ref.vtable.cancel)(header, JoinError::aborted()) };
        } else {
            let waker = waker::borrowed(header);
            let mut cx = Context::from_waker(&waker);
            // SAFETY: as above.
            if unsafe { (header_ref.vtable.poll)(header, &mut cx) }.is_pending() {
                return RunOutcome::NothingToDo;
            }
        }
        let listed = TaskRef { header };
        if let Some(panic) = listed.finish() {
            listed.report_unretrieved(panic, Some(token));
        }
        RunOutcome::Completed(listed)
    }

    /// Cancels a task whose future is still alive because the runtime is shutting down: drops the
    /// future on the loop's thread and completes the task with `error`. (A task refused before
    /// any loop saw it is cancelled by [`SendNewTask::refuse`] instead.)
    pub(crate) fn cancel(&self, token: &LoopToken, error: JoinError) {
        self.assert_owned_by(token);
        debug_assert!(!self.state().is_complete());
        // SAFETY: the loop thread, and the future is alive.
        unsafe { (self.header().vtable.cancel)(self.header, error) };
        if let Some(panic) = self.finish() {
            self.report_unretrieved(panic, Some(token));
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

/// Frees a task whose last reference was released.
///
/// # Safety
/// No reference to the task remains.
unsafe fn free(header: NonNull<Header>) {
    // SAFETY: the caller guarantees the cell is unreachable; the vtable matches its type.
    unsafe {
        let state = header.as_ref().state.load();
        debug_assert!(
            state.is_complete(),
            "freed a task whose future is alive: {state:?}"
        );
        (header.as_ref().vtable.dealloc)(header)
    }
}
