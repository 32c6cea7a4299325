//! Blocking work: a thread pool, so that blocking calls never stall the loop.
//!
//! The loop runs on one thread; a blocking call made there (a file read, a DNS lookup, a slow C
//! library, a long computation) stops every task. asyncio's answer is
//! `loop.run_in_executor(executor, func)`, which runs `func` on a thread pool and gives back a
//! future; `concurrent.futures.ThreadPoolExecutor` is that pool, usable on its own. evloop has both:
//!
//! - [`run_in_executor`](crate::run_in_executor) runs a closure on the runtime's own pool;
//! - [`ThreadPoolExecutor`] is a pool you create, usable with no event loop at all;
//! - both return a [`PoolFuture`], which a task `.await`s and a thread blocks on with
//!   [`PoolFuture::result`]: one handle type for both worlds;
//! - [`as_completed`] iterates over pool futures in completion order, blocking the thread;
//! - [`wait`] blocks until the first, the first failed, or all of them are done.
//!
//! Files: `pool.rs` (threads: start, reuse, retirement, shutdown), `job.rs` (the hand-off of a job
//! to a worker and of its result back), `pool_future.rs`, `map.rs`, `as_completed.rs`, `wait.rs`.
//!
//! Unlike Python, Rust needs no processes for CPU-bound work: there is no GIL, so the pool's
//! threads run in parallel on all cores (`examples/cpu_bound.rs` measures it).

mod as_completed;
mod job;
mod map;
mod pool;
mod pool_future;
mod wait;

pub use as_completed::{as_completed, AsCompleted};
pub use map::{Map, MapTimeout};
pub use pool::{ThreadPoolBuilder, ThreadPoolExecutor};
pub use pool_future::{CancelHandle, PoolFuture};
pub use wait::{wait, DoneAndNotDone};
