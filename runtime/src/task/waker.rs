//! The `Waker` of a task: a pointer to the task's header and a table of four functions.
//!
//! A `Waker` must be `Send + Sync` even though evloop runs tasks on one thread: it gets cloned into
//! timers, the blocking pool, other libraries' threads. So it holds one counted reference
//! (`TaskRef`) and touches only what a `TaskRef` may touch from any thread. Waking moves the task
//! onto a run queue through [`crate::runtime::schedule`], which picks the loop's local queue on
//! the loop thread (no lock, no syscall) and the cross-thread inbox elsewhere.
//!
//! No allocation: the waker *is* the task pointer. Cloning costs one atomic increment.

use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::raw::{Header, TaskRef};

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

fn header(data: *const ()) -> NonNull<Header> {
    // SAFETY (of every caller): `data` came from `borrowed` or `clone`, both of which store a
    // valid header pointer.
    NonNull::new(data as *mut Header).expect("task waker with a null pointer")
}

/// A waker for the poll the loop is about to make. It holds no reference of its own: the task list
/// keeps the task alive during the poll (invariant 1 in raw.rs), and `ManuallyDrop` makes sure the
/// waker releases nothing when it goes. A future that keeps the waker clones it, which counts.
pub(super) fn borrowed(header: NonNull<Header>) -> ManuallyDrop<Waker> {
    // SAFETY: the vtable's functions uphold the `RawWaker` contract for a header pointer: clone
    // takes a reference, drop releases one, and both wakes are thread-safe.
    ManuallyDrop::new(unsafe {
        Waker::from_raw(RawWaker::new(header.as_ptr() as *const (), &VTABLE))
    })
}

/// Borrows the reference a waker owns, without releasing it.
fn with_task<R>(data: *const (), f: impl FnOnce(&TaskRef) -> R) -> R {
    // SAFETY: a live waker owns (or, while borrowed, is backed by) a reference to the task.
    let task = ManuallyDrop::new(unsafe { TaskRef::from_raw(header(data)) });
    f(&task)
}

fn clone(data: *const ()) -> RawWaker {
    with_task(data, |task| task.header().state.acquire());
    RawWaker::new(data, &VTABLE)
}

fn wake(data: *const ()) {
    // SAFETY: a waker woken by value gives up the reference it owns.
    unsafe { TaskRef::from_raw(header(data)) }.wake();
}

fn wake_by_ref(data: *const ()) {
    with_task(data, TaskRef::wake_by_ref);
}

fn drop_waker(data: *const ()) {
    // SAFETY: a dropped waker gives up the reference it owns: the `TaskRef` rebuilt from it is
    // that reference, and dropping it releases it exactly once.
    drop(unsafe { TaskRef::from_raw(header(data)) });
}
