//! Tasks: a future the loop owns and polls, from `spawn` to the moment its memory is freed.
//!
//! # Life cycle
//!
//! 1. **Spawn** ([`refs::NewTask::allocate`], [`cell::allocate`]): one heap allocation holds the
//!    state word, the future, (later) its output and, for tasks that have one, a record for people
//!    (`record.rs`: number, name, spawn location and time, polls). The spawner gets a
//!    [`JoinHandle`]; the runtime links the task into its task list and pushes it on the run queue.
//! 2. **Schedule** (the waker in `refs.rs`): a wake sets the `SCHEDULED` bit and queues the task —
//!    on the loop's local queue from the loop thread, through the runtime's inbox from anywhere
//!    else. A task that is already queued is not queued again.
//! 3. **Poll** ([`refs::Queued::run`]): the loop pops the task, clears `SCHEDULED` and polls the
//!    future once with a waker that points at the task.
//! 4. **Complete or cancel**: when the future returns `Ready`, panics, or is dropped because of
//!    `abort` or shutdown, its output (or a [`JoinError`]) is written where the future was, the
//!    `COMPLETE` bit is set, the task leaves the task list and the join handle's waker is woken.
//! 5. **Free**: every holder (task list, queue entry, join handle, each waker clone) owns one
//!    counted reference; the last one to let go frees the allocation.
//!
//! # Reading order
//!
//! One task's life is four files: `runtime/local.rs` (spawn, the run queue, one step, unlinking),
//! `cell.rs` (the allocation and what may touch it), `refs.rs` (who holds the task: the queue
//! entry, the task list, the waker; running a step and completing) and `state.rs` (the word they
//! all agree through). The join handle's side of completion is `join_ref.rs`; the task list is
//! `list.rs`.
//!
//! All `unsafe` code of the crate's task machinery is in `cell.rs`, `refs.rs`, `join_ref.rs` and
//! `list.rs`; `cell.rs`'s module doc gives the access rules that make it sound. Their tests, and
//! the crate's task tests, run under Miri (see DESIGN.md).

mod abort_handle;
mod cell;
mod id;
mod join_error;
mod join_handle;
mod join_ref;
mod list;
mod record;
mod refs;
mod state;

pub use abort_handle::AbortHandle;
pub use id::TaskId;
pub(crate) use join_error::panic_message_of;
pub use join_error::JoinError;
pub use join_handle::JoinHandle;
pub(crate) use list::TaskList;
pub use record::TaskNumber;
pub(crate) use record::{NoRecord, Origin, TaskRecord};
pub(crate) use refs::{NewTask, Queued, RunOutcome, SendNewTask, TaskRef};
