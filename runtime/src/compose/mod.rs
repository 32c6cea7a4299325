//! Composing tasks: running several things at once and collecting what they produce.
//!
//! # Choosing
//!
//! | you want | use | on failure |
//! |---|---|---|
//! | results of N tasks, in order; fail fast | [`gather()`](crate::gather()) | returns the first `Err` at once; **the other tasks keep running** (asyncio's behaviour) |
//! | every result, `Ok` or `Err` | [`gather_all`](crate::gather_all) | nothing special: every result comes back |
//! | a fixed set of futures of different types, borrowing locals | [`gather!`](crate::gather!) | returns a tuple; each future's output as it is |
//! | tasks that live and die together | [`task_group`](crate::task_group) | the first `Err` cancels every sibling and the body; every error comes back in a [`GroupError`](crate::GroupError) |
//! | results as soon as each is ready | [`as_completed`](crate::as_completed) | each output as it comes, `Err`s included; an overall timeout ends it |
//! | some of the results now, the rest later | [`wait`](crate::wait) | returns when the first completes / first fails / all complete; the unfinished come back |
//! | work that must finish even if its caller gives up | [`shield`](crate::shield) | — |
//! | one task's result, or give up and cancel it after a while | [`wait_for`](crate::wait_for) | on the deadline the task is cancelled, and its clean-up has run when `wait_for` returns |
//!
//! `gather` and `task_group` differ where it matters: `gather` reports one error and leaves the
//! rest of the work running unobserved; `task_group` guarantees that when it returns, every child
//! has finished or been cancelled, and reports every error. Prefer `task_group` unless the other
//! tasks really should go on.
//!
//! Files: `gather.rs`, `join.rs` (`gather!`), `task_group.rs`, `as_completed.rs`, `wait.rs`,
//! `wait_for.rs`, `shield.rs`. All of them poll their children through a
//! [`ReadySet`](crate::ready_set) (`ready_set.rs`, at the crate's root because the thread side's
//! `blocking::as_completed` uses it too): per-child wakers, so only the children that were woken
//! are polled.

mod as_completed;
mod gather;
pub(crate) mod join;
mod shield;
mod task_group;
mod wait;
mod wait_for;

pub use as_completed::{as_completed, AsCompleted};
pub use gather::{gather, gather_all, Gather, GatherAll};
pub use shield::{shield, Shield};
pub use task_group::{task_group, ChildHandle, GroupClosed, GroupError, TaskGroup};
pub use wait::{wait, EmptyWait, ReturnWhen, Waited};
pub use wait_for::wait_for;
