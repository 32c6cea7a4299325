//! Seeing inside a running loop: slow-poll warnings and task dumps (asyncio's debug mode and
//! `asyncio.all_tasks()`). Virtual time, the third debugging aid, is in [`time`](crate::time).
//!
//! - **Slow-poll warnings** (`slow_poll.rs`): with a threshold set
//!   ([`Builder::slow_poll_threshold`](crate::Builder::slow_poll_threshold), or
//!   `EVLOOP_DEBUG=1` for asyncio's 100 ms), every poll that runs longer is reported with the
//!   task's id, name and spawn location — to stderr, or to a [`SlowPoll`] callback.
//! - **Task dumps** (`dump.rs`): [`tasks`] on the loop thread, or
//!   [`Handle::dump`](crate::Handle::dump) from any thread, return a [`TaskDump`] of every live
//!   task: number, id, name, spawn location, state, polls, age and, while polls are timed, poll
//!   time.
//!
//! - **Unhandled errors** (`unhandled.rs`): a detached task's panic, or the errors a task group drops
//!   when it resumes a panic, go to [`Builder::on_unhandled_error`](crate::Builder::on_unhandled_error)
//!   (stderr by default) — asyncio's "Task exception was never retrieved".
//!
//! The first two rest on what the loop records about a task: its record (`task/record.rs`: number,
//! name, spawn location and time, polls, poll time), which lives in the task's own allocation and
//! which only some tasks have — every task in debug mode, and named tasks
//! ([`spawn_named`](crate::spawn_named)) — so that a task without one costs nothing more; and the
//! runtime's monitor (`monitor.rs`), which hands out numbers, knows which task runs, and times
//! polls in debug mode. Spawn locations come from `#[track_caller]` on every function that spawns.

mod dump;
mod monitor;
mod slow_poll;
mod unhandled;

pub use crate::task::TaskNumber;
pub use dump::{tasks, TaskDump, TaskSnapshot, TaskState};
pub(crate) use monitor::{Monitor, SlowPollSettings};
pub use slow_poll::SlowPoll;
pub(crate) use slow_poll::{enabled_by_env, Reporter, DEFAULT_THRESHOLD};
pub use unhandled::UnhandledError;
pub(crate) use unhandled::{report_on_this_thread, ErrorHandler};
