//! `TaskId`: which task a handle refers to — tokio's `task::Id`, asyncio's task identity.
//!
//! Code that keeps tasks in a map, or matches a handle against a task dump or an error report,
//! needs a value that names a task. The cheapest such value is already there: the address of the
//! task's allocation. While anything refers to the task (a `JoinHandle`, an `AbortHandle`, the
//! loop itself while the task runs) that allocation cannot be freed, so no other task can have
//! the same address. Once the last reference is gone the memory may be reused by a later task,
//! and with it the id — the guarantee tokio documents for its ids too ("unique among running
//! tasks").
//!
//! Storing a counter in every task instead would cost 8 bytes per task, which moves the default
//! task cell into the next malloc size class and made spawning 10–30 ns slower when measured
//! (DESIGN.md §7). Tasks that have a record (named tasks, debug mode) also carry a per-runtime
//! [`TaskNumber`](crate::debug::TaskNumber) that is never reused, for people reading a dump.

use std::fmt;
use std::num::NonZeroUsize;
use std::ptr::NonNull;

/// Identifies a task among the tasks that are alive at the same time, in the whole process.
///
/// Two handles of live tasks ([`JoinHandle::id`](crate::JoinHandle::id),
/// [`AbortHandle::id`](crate::AbortHandle::id), [`TaskSnapshot::id`](crate::debug::TaskSnapshot::id))
/// have the same id exactly when they refer to the same task. Once a task has finished and every
/// handle to it is gone, a task spawned later may get its id: keep a handle if you need the id to
/// stay unique. It displays as a hexadecimal number.
///
/// # Examples
///
/// ```
/// use std::collections::HashMap;
///
/// evloop::run(async {
///     let handles: Vec<_> = (0..3).map(|i| evloop::spawn(async move { i * 10 })).collect();
///     let by_id: HashMap<evloop::TaskId, usize> =
///         handles.iter().enumerate().map(|(i, handle)| (handle.id(), i)).collect();
///     assert_eq!(by_id.len(), 3, "three live tasks, three ids");
///     let abort = handles[1].abort_handle();
///     assert_eq!(by_id[&abort.id()], 1, "an abort handle names the same task");
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskId(NonZeroUsize);

impl TaskId {
    /// The id of the task whose allocation starts at `cell`.
    pub(super) fn of<T>(cell: NonNull<T>) -> TaskId {
        TaskId(cell.addr())
    }
}

impl fmt::Debug for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskId({self})")
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:x}", self.0)
    }
}
