//! The task allocation: one heap block per spawned task, and the unsafe operations on it.
//!
//! # Layout
//!
//! ```text
//! TaskCell<F, R> (#[repr(C)], one Box)
//! ├── Header                      what every holder needs, whatever the future's type
//! │   ├── state: State            flags + reference count (state.rs)
//! │   ├── vtable: &'static Vtable the operations that need to know F, and where the record is
//! │   ├── scheduler: Arc<Shared>  where wakes go: the owning runtime's cross-thread half
//! │   ├── links: Links            neighbours in the runtime's task list (list.rs)
//! │   └── join_waker: Option<Waker> who to wake when the task completes
//! ├── record: R                   a `TaskRecord` (number, name, polls... record.rs) or `NoRecord`
//! └── slot: union { future: F, output: Result<F::Output, JoinError> }
//! ```
//!
//! The future and, later, its output share one slot: the output is written over the place the
//! future occupied once it has been dropped. Which of the two the slot holds is never stored
//! separately; it follows from the state word (see the rules below). Because the header comes
//! first in a `#[repr(C)]` struct, a pointer to the cell is also a pointer to its header, and all
//! type-erased code (wakers, the run queue, the task list) holds a `NonNull<Header>`.
//!
//! Who holds such a pointer, and what each holder may do with it, is `refs.rs`: this file is the
//! memory, that one the references to it.
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
//! "The loop thread" is proven by a `LoopToken`: one exists per runtime, it is created on the
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

use super::record::{RecordSlot, TaskRecord};
use super::state::State;
use super::JoinError;
use crate::foreign;
use crate::runtime::Shared;
use crate::shim::{Arc, UnsafeCell};

/// The part of a task that does not depend on the future's type.
#[repr(C)]
pub(crate) struct Header {
    pub(super) state: State,
    pub(super) vtable: &'static Vtable,
    pub(super) scheduler: Arc<Shared>,
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
    pub(super) record_offset: Option<NonZeroUsize>,
    /// Polls the future. On `Ready` (or a panic) the future has been dropped and the output
    /// written to the slot.
    pub(super) poll: unsafe fn(NonNull<Header>, &mut Context<'_>) -> Poll<()>,
    /// Drops the future and writes `Err(error)` as the output.
    pub(super) cancel: unsafe fn(NonNull<Header>, JoinError),
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

/// Allocates a task for `future`, owned by the runtime behind `scheduler`, with `record`: a
/// [`TaskRecord`], or `NoRecord`. This is the only heap allocation a spawn makes (a name is one
/// more).
///
/// The state word starts with three references counted, and the caller owns all three: they
/// become the task list's, the run queue's and the join handle's (`NewTask::allocate` in refs.rs).
pub(super) fn allocate<F, R>(future: F, scheduler: Arc<Shared>, record: R) -> NonNull<Header>
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
    // `Box::leak`, not a reference to the header: the pointer keeps the whole allocation's
    // provenance, which `record_of` and `dealloc` rely on.
    NonNull::from(Box::leak(cell)).cast::<Header>()
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
    // SAFETY: the cell was allocated by `Box::new` in `allocate` with this exact type. The
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

/// Frees a task whose last reference was released.
///
/// # Safety
/// No reference to the task remains.
pub(super) unsafe fn free(header: NonNull<Header>) {
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
