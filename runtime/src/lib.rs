//! evloop: Python asyncio's model, in Rust, in code written to be read.
//!
//! One thread runs an event loop on [`mio`](https://docs.rs/mio); tasks are futures that the loop
//! polls when something wakes them. Futures need not be `Send`: everything runs on the loop's
//! thread. Other threads reach the loop through a [`Handle`].
//!
//! ```
//! use std::time::Duration;
//! use evloop::time::{sleep, timeout};
//!
//! evloop::run(async {
//!     // asyncio.create_task
//!     let slow = evloop::spawn(async {
//!         sleep(Duration::from_millis(20)).await;
//!         "slow"
//!     });
//!     let fast = evloop::spawn(async { "fast" });
//!     assert_eq!(fast.await.unwrap(), "fast");
//!
//!     // asyncio.wait_for: the slow task's result, or cancel it and give up
//!     match evloop::wait_for(Duration::from_secs(1), slow).await {
//!         Ok(result) => assert_eq!(result.unwrap(), "slow"),
//!         Err(elapsed) => panic!("{elapsed}"),
//!     }
//!
//!     // asyncio.timeout: a deadline around any future, which is dropped when it passes
//!     assert!(timeout(Duration::from_millis(5), sleep(Duration::from_secs(3600))).await.is_err());
//! });
//! ```
//!
//! # Map of the crate
//!
//! | asyncio | evloop | where |
//! |---|---|---|
//! | `asyncio.run(main())` | [`run`] | `runtime/mod.rs` |
//! | event loop object | [`Runtime`], [`Builder`] | `runtime/` |
//! | `asyncio.create_task` | [`spawn`] → [`JoinHandle`] | `task/` |
//! | `asyncio.create_task(coro, name=...)` | [`spawn_named`] | `runtime/mod.rs` |
//! | `asyncio.all_tasks()` | [`tasks`] → [`debug::TaskDump`] | `debug/` |
//! | debug mode, `slow_callback_duration` | [`Builder::slow_poll_threshold`], `EVLOOP_DEBUG=1` | `debug/` |
//! | `task.cancel()` | [`JoinHandle::abort`] | `task/join_handle.rs` |
//! | `asyncio.sleep(0)` | [`yield_now`] | `yield_now.rs` |
//! | `asyncio.sleep`, `asyncio.timeout`, `asyncio.timeout_at` | [`time::sleep`], [`time::timeout`], [`time::timeout_at`] | `time/` |
//! | `asyncio.wait_for(task, t)` | [`wait_for`] (cancels the task on expiry) | `compose/wait_for.rs` |
//! | `loop.call_soon_threadsafe` | [`Handle::call_soon_threadsafe`] | `runtime/handle.rs` |
//! | `asyncio.Lock`, `Semaphore`, `BoundedSemaphore`, `Event` | [`sync::Mutex`], [`sync::Lock`], [`sync::Semaphore`], [`sync::BoundedSemaphore`], [`sync::Event`] | `sync/` |
//! | `asyncio.Condition`, `Barrier` | [`sync::Condition`], [`sync::Barrier`] | `sync/` |
//! | `asyncio.Queue`, `LifoQueue`, `PriorityQueue` | [`sync::Queue`], [`sync::LifoQueue`], [`sync::PriorityQueue`] | `sync/queue/` |
//! | `loop.create_future()` + `set_result` | [`sync::oneshot::channel`] | `sync/oneshot.rs` |
//! | `asyncio.run_coroutine_threadsafe` | [`Handle::run_coroutine_threadsafe`] → [`ConcurrentFuture`] | `runtime/` |
//! | `asyncio.gather`, `return_exceptions=True` | [`gather()`], [`gather_all`], [`gather!`] | `compose/gather.rs`, `compose/join.rs` |
//! | `async with asyncio.TaskGroup() as tg` | [`task_group`] → [`TaskGroup`] | `compose/task_group.rs` |
//! | `asyncio.as_completed`, `asyncio.wait`, `asyncio.shield` | [`as_completed`], [`wait`], [`shield`] | `compose/` |
//! | `loop.run_in_executor(None, f)` | [`run_in_executor`] → [`blocking::PoolFuture`] | `runtime/mod.rs`, `blocking/` |
//! | `concurrent.futures.ThreadPoolExecutor` | [`blocking::ThreadPoolExecutor`] (`submit`, `map`, `shutdown`) | `blocking/pool.rs` |
//! | `concurrent.futures.as_completed` | [`blocking::as_completed`] | `blocking/as_completed.rs` |
//! | `asyncio.start_server`, `open_connection` | [`net::TcpListener`], [`net::TcpStream`] | `net/` |
//! | datagrams, Unix sockets | [`net::UdpSocket`], [`net::UnixStream`], ... | `net/` |
//! | `loop.add_reader` / `add_writer` | [`io::Async`] | `io/` |
//!
//! How to choose between `gather`, `task_group`, `as_completed` and `wait`: see the table in the
//! `compose` module's documentation, repeated here.
//!
//! | you want | use | on failure |
//! |---|---|---|
//! | results of N tasks, in order; fail fast | [`gather()`] | returns the first `Err` at once; **the other tasks keep running** (asyncio's behaviour) |
//! | every result, `Ok` or `Err` | [`gather_all`] | every result comes back |
//! | a fixed set of futures of different types, borrowing locals | [`gather!`] | a tuple of outputs |
//! | tasks that live and die together | [`task_group`] | the first `Err` cancels every sibling and the body; every error comes back in a [`GroupError`] |
//! | results as soon as each is ready | [`as_completed`] | each output as it comes; an overall timeout ends it |
//! | some of the results now, the rest later | [`wait`] | returns at the first completion / first failure / all; the unfinished come back |
//! | work that must finish even if its caller gives up | [`shield`] | — |
//!
//! Read `DESIGN.md` at the repository root for the architecture: the task life cycle, the wake-up
//! paths and the invariants that keep them correct.

#![deny(missing_docs, missing_debug_implementations, rust_2018_idioms)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

pub mod blocking;
mod compose;
mod coop;
pub mod debug;
mod foreign;
pub mod io;
pub mod net;
mod park;
pub mod process;
mod ready_set;
mod runtime;
mod shim;
pub mod signal;
pub mod sync;
mod task;
pub mod time;
mod yield_now;

pub use compose::{
    as_completed, gather, gather_all, shield, task_group, wait, wait_for, AsCompleted, ChildHandle,
    EmptyWait, Gather, GatherAll, GroupClosed, GroupError, ReturnWhen, Shield, TaskGroup, Waited,
};
pub use debug::tasks;
pub use runtime::{
    run, run_in_executor, spawn, spawn_named, Builder, CallbackHandle, ConcurrentFuture, Handle,
    LocalSpawner, LoopContext, LoopSet, Runtime, RuntimeClosed, StopHandle,
};
pub use task::{AbortHandle, JoinError, JoinHandle, TaskId};
pub use yield_now::yield_now;

/// Implementation details of [`gather!`]; not part of the API.
#[doc(hidden)]
pub mod compose_internals {
    pub use crate::compose::join::{Join, MaybeDone};
}
