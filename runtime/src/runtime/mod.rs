//! The runtime: `run`, `Runtime`, `spawn`, and the machinery behind them.
//!
//! A runtime is split in two halves by who may touch them:
//! - `Local` (`local.rs`): the run queue, the task list, the timers, the reactor (and the driver
//!   it polls, `io/driver.rs`). Owned by the loop thread, never shared, no locks.
//! - `Shared` (`shared.rs`): the inbox and the wake-up word. The only part other threads reach,
//!   through a [`Handle`], a `Waker` or a `JoinHandle`.
//!
//! `run_loop.rs` is the loop that drives them, `context.rs` the thread-local "current runtime".

mod builder;
mod concurrent_future;
mod context;
mod handle;
mod local;
mod loop_set;
mod run_loop;
mod shared;
mod spawner;

use std::future::Future;
use std::io;
use std::panic::Location;
use std::rc::Rc;
use std::time::Duration;

pub use builder::Builder;
pub use concurrent_future::ConcurrentFuture;
pub(crate) use context::{current_reactor, is_a_loop_thread, with_local};
pub use handle::{CallbackHandle, Handle, RuntimeClosed};
pub(crate) use local::schedule;
pub(crate) use local::Local;
pub use loop_set::{LoopContext, LoopSet, StopHandle};
pub(crate) use shared::{LoopToken, Shared};
pub use spawner::LocalSpawner;

use crate::blocking::{PoolFuture, ThreadPoolExecutor};
use crate::task::{JoinHandle, Origin};

/// The runtime's blocking-pool settings (see [`Builder`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BlockingSettings {
    pub(crate) max_threads: usize,
    pub(crate) idle_timeout: Duration,
    pub(crate) shutdown_timeout: Duration,
}

impl BlockingSettings {
    /// A pool made to these settings: a runtime's own, made on first use, or a `LoopSet`'s,
    /// shared by its loops.
    pub(crate) fn build_pool(&self) -> ThreadPoolExecutor {
        ThreadPoolExecutor::builder()
            .max_workers(self.max_threads)
            .idle_timeout(self.idle_timeout)
            .thread_name_prefix("evloop-blocking")
            .build()
    }
}

/// An event loop with its tasks and timers. Most programs only need [`run`].
///
/// The runtime runs on the thread that calls [`block_on`](Runtime::block_on); tasks spawned on it
/// run while `block_on` is active on that thread. Dropping the runtime cancels every task that is
/// still alive: each future is dropped, on this thread, before `drop` returns.
///
/// A `Runtime` is neither `Send` nor `Sync`: its tasks may hold `!Send` values, so it must stay on
/// the thread that created it. Other threads reach it through a [`Handle`].
///
/// # Examples
///
/// ```
/// use evloop::Runtime;
///
/// let rt = Runtime::new()?;
/// let handle = rt.block_on(async { evloop::spawn(async { "hello" }) });
/// // The task runs during the next `block_on`.
/// assert_eq!(rt.block_on(handle).unwrap(), "hello");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Runtime {
    local: Rc<Local>,
}

impl Runtime {
    /// Creates a runtime with the default settings.
    ///
    /// # Errors
    ///
    /// If the OS poller cannot be created (for example, the process is out of file descriptors).
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// Returns a [`Builder`] to configure a runtime.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Runs `future` to completion on this thread, running the runtime's tasks meanwhile, and
    /// returns its output. Tasks still alive when it returns stay alive for the next `block_on`
    /// (or are cancelled when the runtime is dropped).
    ///
    /// The future need not be `Send` nor `'static`.
    ///
    /// # Panics
    ///
    /// If called while a runtime is already running on this thread (from inside a task, or
    /// inside another `block_on`): that would block the running loop. Panics from `future` itself
    /// propagate; the runtime stays usable.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        run_loop::block_on(&self.local, future, std::panic::Location::caller())
    }

    /// Returns a [`Handle`] through which other threads can spawn onto this runtime.
    pub fn handle(&self) -> Handle {
        Handle::new(self.local.shared().clone())
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let _current = context::enter_for_shutdown(&self.local);
        self.local.shutdown();
    }
}

/// Runs `future` on a new runtime, then cancels every task still alive — Python's `asyncio.run`.
///
/// This is the usual entry point of a program: everything else (spawning tasks, timers,
/// synchronisation) happens inside the future.
///
/// # Panics
///
/// If called from inside a running runtime, or if the runtime cannot be created (the process is
/// out of file descriptors). Use [`Runtime::new`] to handle the latter as an error.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let answer = evloop::run(async {
///     let task = evloop::spawn(async {
///         evloop::time::sleep(Duration::from_millis(10)).await;
///         42
///     });
///     task.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    let runtime = match Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => panic!("evloop::run could not create the runtime: {error}"),
    };
    runtime.block_on(future)
}

/// Spawns `future` as a new task on the current runtime — Python's `asyncio.create_task`.
///
/// The task starts running at the loop's next turn, concurrently with the caller. The future may
/// be `!Send` (everything runs on one thread) but must be `'static`; to run work that borrows
/// from the caller, `.await` it directly.
///
/// # Panics
///
/// If called outside a runtime (not inside [`run`], [`Runtime::block_on`] or a task). From another
/// thread, use [`Handle::spawn`].
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
///
/// evloop::run(async {
///     let shared = Rc::new(5); // not Send: fine on a single-threaded loop
///     let task = evloop::spawn({
///         let shared = shared.clone();
///         async move { *shared * 2 }
///     });
///     assert_eq!(task.await.unwrap(), 10);
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_at(future, Location::caller(), "evloop::spawn")
}

/// Spawns `future` as a new task with a name — `asyncio.create_task(coro, name=...)`.
///
/// The name is for people: it appears in the task dump ([`tasks`](crate::tasks)) and in
/// slow-poll reports, beside the task's id and the line that spawned it. Names need not be
/// unique. Otherwise the same as [`spawn`]; an unnamed task costs one allocation less.
///
/// # Panics
///
/// Outside a runtime, as [`spawn`]. From another thread, use [`Handle::spawn_named`].
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let task = evloop::spawn_named("answer", async { 42 });
///     assert_eq!(evloop::tasks().iter().next().unwrap().name(), Some("answer"));
///     assert_eq!(task.await.unwrap(), 42);
/// });
/// ```
#[track_caller]
pub fn spawn_named<F>(name: impl Into<String>, future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let origin = Origin::named(name);
    match with_local(|local| local.spawn_recorded(future, origin)) {
        Some(handle) => handle,
        None => outside_a_runtime("evloop::spawn_named"),
    }
}

/// Spawns an unnamed task on the current runtime, for the crate's functions that spawn for their
/// caller: `location` is the caller's call site, `call` the function's name for the panic.
#[track_caller]
pub(crate) fn spawn_at<F>(
    future: F,
    location: &'static Location<'static>,
    call: &str,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    // A `match`, not `unwrap_or_else`: `#[track_caller]` does not reach into a closure, and the
    // panic must name the caller's line, not this one.
    match with_local(|local| local.spawn(future, location)) {
        Some(handle) => handle,
        None => outside_a_runtime(call),
    }
}

#[track_caller]
fn outside_a_runtime(call: &str) -> ! {
    panic!(
        "{call} called outside of a runtime: call it from inside evloop::run or \
         Runtime::block_on, or use Handle::spawn from another thread"
    )
}

/// Runs a blocking closure on the runtime's thread pool and returns a future for its result —
/// asyncio's `loop.run_in_executor(None, func)`.
///
/// The loop keeps running other tasks while `function` blocks a pool thread. The result is the
/// closure's return value, or a [`JoinError`](crate::JoinError) if it panicked (the pool thread
/// survives) or never ran (the runtime shut down first). Dropping the future does not stop the
/// job; [`PoolFuture::cancel`] does, if it has not started.
///
/// The pool starts threads as needed, up to [`Builder::max_blocking_threads`] (512 by default).
/// When the runtime is dropped, jobs not yet started are dropped and running ones are given
/// [`Builder::blocking_shutdown_timeout`] (1 s) to finish before their threads are detached.
///
/// # Panics
///
/// If called outside a runtime. Use a [`ThreadPoolExecutor`](crate::blocking::ThreadPoolExecutor)
/// to run blocking work without one.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let contents = evloop::run(async {
///     let read = evloop::run_in_executor(|| {
///         std::thread::sleep(Duration::from_millis(20)); // stands for a blocking read
///         String::from("file contents")
///     });
///     // Meanwhile the loop is free: this timer fires on time.
///     evloop::time::sleep(Duration::from_millis(5)).await;
///     read.await
/// });
/// assert_eq!(contents.unwrap(), "file contents");
/// ```
#[track_caller]
pub fn run_in_executor<F, T>(function: F) -> PoolFuture<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match with_local(|local| local.run_in_executor(function)) {
        Some(future) => future,
        None => panic!(
            "evloop::run_in_executor called outside of a runtime: call it inside evloop::run, or \
             use evloop::blocking::ThreadPoolExecutor to run blocking work without a loop"
        ),
    }
}
