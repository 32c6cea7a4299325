//! Tasks: a future the loop owns and polls, from `spawn` to the moment its memory is freed.
//!
//! # Life cycle
//!
//! 1. **Spawn** ([`raw::TaskRef::allocate`]): one heap allocation holds the state word, the future,
//!    (later) its output and, for tasks that have one, a record for people (`record.rs`: id,
//!    name, spawn location and time, polls). The spawner gets a [`JoinHandle`]; the runtime links
//!    the task into its task list and pushes it on the run queue.
//! 2. **Schedule** ([`waker`]): a wake sets the `SCHEDULED` bit and queues the task — on the loop's
//!    local queue from the loop thread, through the runtime's inbox from anywhere else. A task that
//!    is already queued is not queued again.
//! 3. **Poll** ([`raw::TaskRef::run`]): the loop pops the task, clears `SCHEDULED` and polls the
//!    future once with a waker that points at the task.
//! 4. **Complete or cancel**: when the future returns `Ready`, panics, or is dropped because of
//!    `abort` or shutdown, its output (or a [`JoinError`]) is written where the future was, the
//!    `COMPLETE` bit is set, the task leaves the task list and the join handle's waker is woken.
//! 5. **Free**: every holder (task list, queue entry, join handle, each waker clone) owns one
//!    counted reference; the last one to let go frees the allocation.
//!
//! All `unsafe` code of the crate's task machinery is in `raw.rs`, `join_ref.rs`, `waker.rs` and
//! `list.rs`;
//! `raw.rs`'s module doc gives the access rules that make it sound. Their tests, and the crate's
//! task tests, run under Miri (see DESIGN.md).

mod abort_handle;
mod id;
mod join_error;
mod join_handle;
mod join_ref;
mod list;
mod raw;
mod record;
mod state;
mod waker;

pub use abort_handle::AbortHandle;
pub use id::TaskId;
pub(crate) use join_error::panic_message_of;
pub use join_error::JoinError;
pub use join_handle::JoinHandle;
pub(crate) use list::TaskList;
pub(crate) use raw::{NewTask, RunOutcome, SendNewTask, TaskRef};
pub use record::TaskNumber;
pub(crate) use record::{NoRecord, Origin, TaskRecord};
