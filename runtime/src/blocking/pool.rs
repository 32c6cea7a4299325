//! `ThreadPoolExecutor`: worker threads that run blocking closures — Python's
//! `concurrent.futures.ThreadPoolExecutor`, usable with or without an event loop.
//!
//! # Thread life cycle
//!
//! - **Start lazily.** A new pool has no threads. A thread starts while the queue is longer than
//!   [`QUEUED_JOBS_PER_IDLE_WORKER`] × the idle workers (smol's `blocking` rule), up to
//!   `max_workers`. The rule is checked when a job is submitted *and* when a worker takes a job
//!   (it stops being idle): so a burst of quick jobs grows the pool gradually (a new thread
//!   counts as idle from the moment it starts), while jobs that block start one thread after
//!   another until each has its own — blocking jobs never wait behind each other while the pool
//!   is below its limit.
//! - **Reuse.** A worker runs jobs from the queue until it is empty, then waits on a condition
//!   variable for more. It counts itself idle as soon as a job's closure returns, *before* the
//!   result wakes whoever waits for it: a caller that submits one job at a time must find the
//!   worker idle, or every second submit would start a thread (concurrent.futures' idle count).
//! - **Retire when idle.** A worker that waited `idle_timeout` with nothing to do exits. Its
//!   `JoinHandle` goes to a reaping list, joined at the next submit or shutdown, so that no exited
//!   thread is left unjoined and `shutdown(wait = true)` can join *every* thread it ever started.
//! - **Shut down.** `shutdown` sets a flag and wakes every worker; each finishes the queue (or the
//!   queue is emptied first, with `cancel_futures`) and exits. With `wait`, the caller joins them:
//!   no thread outlives `shutdown(wait = true)`.
//!
//! **Initializer.** With [`ThreadPoolBuilder::initializer`], each worker runs it once when it
//! starts, before its first job. If it panics, the pool is *broken* (concurrent.futures'
//! `BrokenThreadPool`): every queued job and every later submit fails with
//! [`JoinError::is_broken_pool`](crate::JoinError::is_broken_pool), idle workers exit, running
//! jobs finish. A broken pool never hangs a waiter.
//!
//! A panicking job does not take its worker down: the job catches it (see `job.rs`), and the
//! worker catches whatever foreign code the job's hand-off runs (a waker, a result's `Drop`).
//!
//! All state sits behind one mutex (`PoolState`): submit, the workers' queue pops and shutdown
//! are short critical sections. The mutex and condvars come from the loom shim, so the loom models
//! check submit against idle exit, shutdown and cancel on this very code.

#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use slab::Slab;

use super::job::{Job, JobCell, QueuedJob};
use super::{Map, PoolFuture};
use crate::foreign::{self, FirstPanic};
use crate::park::{refuse_on_a_loop, time_left, TimeLeft};
use crate::runtime::is_a_loop_thread;
use crate::shim::{
    lock, thread, wait_timeout, Arc, AtomicBool, AtomicUsize, Condvar, Mutex, MutexGuard, Ordering,
};
use crate::task::{panic_message_of, JoinError};

/// A new worker is started while more than this many jobs wait per idle worker.
pub(crate) const QUEUED_JOBS_PER_IDLE_WORKER: usize = 5;

/// How long a worker that ran out of jobs keeps watching the queue before it goes to sleep. A
/// task that awaits one job and then submits the next (a sequential round trip) gets its next job
/// picked up without a sleep and a wake-up: both are system calls plus a context switch, several
/// microseconds each. tokio's workers spin briefly before parking for the same reason.
const SPIN_BEFORE_SLEEP: Duration = Duration::from_micros(50);

/// How long a `ThreadPoolExecutor`'s worker waits for a job before it exits (by default).
const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// The most threads Python's `ThreadPoolExecutor` starts by default: `min(32, cpus + 4)`.
fn default_max_workers() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    (cpus + 4).min(32)
}

/// A pool of worker threads for blocking work.
///
/// Dropping it is `shutdown(wait = true, cancel_futures = false)`: every submitted job runs and
/// every thread is joined, as at the end of Python's `with ThreadPoolExecutor() as pool:` block.
/// (On a loop thread, dropping it does not wait; see the `Drop` impl.)
///
/// # Examples
///
/// ```
/// use evloop::blocking::ThreadPoolExecutor;
/// use std::time::Duration;
///
/// let pool = ThreadPoolExecutor::new(3);
/// let future = pool.submit(|| {
///     std::thread::sleep(Duration::from_millis(10));
///     "slept"
/// });
/// assert!(!future.done()); // submit returns at once
/// assert_eq!(future.result().unwrap(), "slept");
///
/// // map: results in input order
/// let squares: Vec<u64> = pool.map(|x: u64| x * x, 1..=4).map(Result::unwrap).collect();
/// assert_eq!(squares, [1, 4, 9, 16]);
/// pool.shutdown(true, false);
/// ```
pub struct ThreadPoolExecutor {
    shared: Arc<PoolShared>,
}

struct PoolShared {
    state: Mutex<PoolState>,
    /// `state.queue.len()`, readable without the lock: what a spinning worker watches.
    queued: AtomicUsize,
    /// Set while one worker spins (see `spin_for_work`): at most one spins at a time. Set under
    /// the state lock; cleared without it, after which the spinner re-checks under the lock.
    spinning: AtomicBool,
    /// Signalled when a job is queued or shutdown begins: idle workers wait on it.
    work: Condvar,
    /// Signalled when a worker exits: a bounded shutdown waits on it.
    exited: Condvar,
    max_workers: usize,
    idle_timeout: Duration,
    thread_name_prefix: String,
    initializer: Option<Initializer>,
}

/// What each worker runs once before its first job.
type Initializer = std::sync::Arc<dyn Fn() + Send + Sync>;

struct PoolState {
    queue: VecDeque<Box<dyn Job>>,
    /// Workers not running a job (waiting, or about to look at the queue). A worker counts
    /// itself idle as soon as its job's closure returns, *before* the result wakes anyone (see
    /// `worker`).
    idle: usize,
    /// Idle workers still handing a result back (between counting themselves idle and waking
    /// the waiter): the job is not over for a paused clock until the waiter has been woken.
    handing_back: usize,
    /// Workers blocked on `work` (a subset of `idle`): only then does a submit need to signal
    /// the condvar, whose `notify_one` is a system call even when nobody waits.
    sleeping: usize,
    /// Workers alive (started and not yet exited).
    workers: usize,
    shutdown: bool,
    /// Set when a worker's initializer panicked: its message, which every job of the pool now
    /// fails with.
    broken: Option<std::sync::Arc<String>>,
    /// Handles of the live workers, keyed by the worker's slot.
    threads: Slab<thread::JoinHandle<()>>,
    /// Handles of workers that retired when idle, waiting to be joined.
    retired: Vec<thread::JoinHandle<()>>,
}

/// Configures a [`ThreadPoolExecutor`].
///
/// # Examples
///
/// ```
/// use evloop::blocking::ThreadPoolExecutor;
/// use std::time::Duration;
///
/// let pool = ThreadPoolExecutor::builder()
///     .max_workers(4)
///     .thread_name_prefix("resizer")
///     .idle_timeout(Duration::from_millis(500))
///     .build();
/// let name = pool.submit(|| std::thread::current().name().map(String::from)).result();
/// assert_eq!(name.unwrap().as_deref(), Some("resizer-0"));
/// ```
#[derive(Clone)]
pub struct ThreadPoolBuilder {
    max_workers: usize,
    idle_timeout: Duration,
    thread_name_prefix: String,
    initializer: Option<Initializer>,
}

impl fmt::Debug for ThreadPoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPoolBuilder")
            .field("max_workers", &self.max_workers)
            .field("idle_timeout", &self.idle_timeout)
            .field("thread_name_prefix", &self.thread_name_prefix)
            .field("initializer", &self.initializer.is_some())
            .finish()
    }
}

impl ThreadPoolBuilder {
    /// The most threads the pool runs at once (default: `min(32, cpus + 4)`, as Python).
    ///
    /// # Panics
    ///
    /// If `max_workers` is zero: no job could ever run.
    pub fn max_workers(mut self, max_workers: usize) -> ThreadPoolBuilder {
        assert!(
            max_workers > 0,
            "a thread pool needs at least one worker (max_workers > 0)"
        );
        self.max_workers = max_workers;
        self
    }

    /// How long an idle worker waits for a job before its thread exits (default 10 s).
    pub fn idle_timeout(mut self, idle_timeout: Duration) -> ThreadPoolBuilder {
        self.idle_timeout = idle_timeout;
        self
    }

    /// The workers' thread names: `{prefix}-{n}` (default `evloop-pool`).
    pub fn thread_name_prefix(mut self, prefix: impl Into<String>) -> ThreadPoolBuilder {
        self.thread_name_prefix = prefix.into();
        self
    }

    /// Runs `initializer` once on each worker thread as it starts, before its first job —
    /// `ThreadPoolExecutor(initializer=...)`: open a per-thread connection, set a thread-local.
    ///
    /// If it panics, the pool is broken: the jobs waiting and every job submitted later fail with
    /// a [`JoinError`](crate::JoinError) for which
    /// [`is_broken_pool`](crate::JoinError::is_broken_pool) is true (concurrent.futures'
    /// `BrokenThreadPool`); jobs already running finish.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use evloop::blocking::ThreadPoolExecutor;
    ///
    /// thread_local!(static CONNECTION: Cell<u32> = const { Cell::new(0) });
    ///
    /// let pool = ThreadPoolExecutor::builder()
    ///     .max_workers(2)
    ///     .initializer(|| CONNECTION.set(42)) // each worker "connects" once
    ///     .build();
    /// assert_eq!(pool.submit(|| CONNECTION.get()).result().unwrap(), 42);
    ///
    /// let broken = ThreadPoolExecutor::builder()
    ///     .initializer(|| panic!("database unreachable"))
    ///     .build();
    /// let error = broken.submit(|| ()).result().unwrap_err();
    /// assert!(error.is_broken_pool());
    /// assert!(broken.submit(|| ()).result().unwrap_err().is_broken_pool());
    /// ```
    pub fn initializer(
        mut self,
        initializer: impl Fn() + Send + Sync + 'static,
    ) -> ThreadPoolBuilder {
        self.initializer = Some(std::sync::Arc::new(initializer));
        self
    }

    /// Creates the pool. No thread starts until the first job is submitted.
    pub fn build(self) -> ThreadPoolExecutor {
        ThreadPoolExecutor {
            shared: Arc::new(PoolShared {
                state: Mutex::new(PoolState {
                    queue: VecDeque::new(),
                    idle: 0,
                    handing_back: 0,
                    sleeping: 0,
                    workers: 0,
                    shutdown: false,
                    broken: None,
                    threads: Slab::new(),
                    retired: Vec::new(),
                }),
                queued: AtomicUsize::new(0),
                spinning: AtomicBool::new(false),
                work: Condvar::new(),
                exited: Condvar::new(),
                max_workers: self.max_workers,
                idle_timeout: self.idle_timeout,
                thread_name_prefix: self.thread_name_prefix,
                initializer: self.initializer,
            }),
        }
    }
}

impl ThreadPoolExecutor {
    /// A pool of at most `max_workers` threads.
    ///
    /// # Panics
    ///
    /// If `max_workers` is zero.
    pub fn new(max_workers: usize) -> ThreadPoolExecutor {
        ThreadPoolExecutor::builder()
            .max_workers(max_workers)
            .build()
    }

    /// A [`ThreadPoolBuilder`] with Python's defaults.
    pub fn builder() -> ThreadPoolBuilder {
        ThreadPoolBuilder {
            max_workers: default_max_workers(),
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            thread_name_prefix: String::from("evloop-pool"),
            initializer: None,
        }
    }

    /// Queues `function` to run on a worker thread and returns its [`PoolFuture`] at once.
    ///
    /// After [`shutdown`](ThreadPoolExecutor::shutdown), the job is refused: the returned future
    /// is already done, with a [`JoinError`](crate::JoinError) saying the pool was shut down.
    ///
    /// # Panics
    ///
    /// If the pool has no worker and the OS refuses to start a thread (the process is at its
    /// thread limit): the job could never run.
    pub fn submit<F, T>(&self, function: F) -> PoolFuture<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        submit(&self.shared, function)
    }

    /// Runs `function` on every item, on the pool, and returns the results *in input order* —
    /// Python's `executor.map`. Every job is submitted before the first result is awaited; the
    /// iterator blocks for each result in turn. Dropping it cancels the jobs no worker has
    /// started; [`Map::timeout`] gives up at a deadline. For a long or endless input, use
    /// [`map_buffered`](ThreadPoolExecutor::map_buffered).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = evloop::blocking::ThreadPoolExecutor::new(4);
    /// let lengths: Vec<usize> = pool
    ///     .map(|word: &str| word.len(), ["one", "three", "five"])
    ///     .collect::<Result<_, _>>()
    ///     .unwrap();
    /// assert_eq!(lengths, [3, 5, 4]);
    /// ```
    pub fn map<I, F, T>(&self, function: F, items: I) -> Map<T>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        Map::submitted(self.submitting(function, items.into_iter()).collect())
    }

    /// Like [`map`](ThreadPoolExecutor::map), but with at most `buffersize` jobs submitted and
    /// not yet taken (Python 3.14's `map(buffersize=)`): the first `buffersize` items are
    /// submitted now, and each result taken submits the next item. `items` is read lazily, so it
    /// may be endless.
    ///
    /// # Panics
    ///
    /// If `buffersize` is zero: no job would ever be submitted.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = evloop::blocking::ThreadPoolExecutor::new(4);
    /// // An endless input: only 8 jobs are ever ahead of the consumer.
    /// let evens: Vec<u64> = pool
    ///     .map_buffered(|n: u64| n * 2, 0.., 8)
    ///     .take(3)
    ///     .map(Result::unwrap)
    ///     .collect();
    /// assert_eq!(evens, [0, 2, 4]);
    /// ```
    pub fn map_buffered<I, F, T>(&self, function: F, items: I, buffersize: usize) -> Map<T>
    where
        I: IntoIterator,
        I::IntoIter: 'static,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        assert!(
            buffersize > 0,
            "map_buffered needs buffersize > 0 (the number of jobs submitted ahead)"
        );
        Map::buffered(
            Box::new(self.submitting(function, items.into_iter())),
            buffersize,
        )
    }

    /// `items`, each submitted as a job running `function` when the iterator reaches it.
    fn submitting<It, F, T>(&self, function: F, items: It) -> impl Iterator<Item = PoolFuture<T>>
    where
        It: Iterator,
        It::Item: Send + 'static,
        F: Fn(It::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        // Shared by every job; not part of any cross-thread protocol, hence std's `Arc`.
        let function = std::sync::Arc::new(function);
        // The pool's shared half, not the executor: a buffered map may outlive the executor, and
        // submits after its shutdown are refused like any other.
        let shared = self.shared.clone();
        items.map(move |item| {
            let function = function.clone();
            submit(&shared, move || function(item))
        })
    }

    /// Stops accepting jobs. With `cancel_futures`, jobs still queued are cancelled (their
    /// futures report it); otherwise they all run. With `wait`, blocks until every job has run and
    /// every worker thread has exited; without, returns at once and the workers finish on their
    /// own. Calling it again (or dropping the pool) joins whatever is left.
    ///
    /// # Panics
    ///
    /// With `wait`, on a thread that runs an evloop loop: the loop would stop until every job
    /// returned, and forever if a job waits for something only the loop can do. Nothing is shut
    /// down then. Call it with `wait = false` there (or from `run_in_executor`).
    #[track_caller]
    pub fn shutdown(&self, wait: bool, cancel_futures: bool) {
        if wait {
            refuse_on_a_loop(
                "ThreadPoolExecutor::shutdown(wait = true)",
                "call shutdown(false, ..) on the loop",
            );
        }
        self.shut_down(wait, cancel_futures);
    }

    /// `shutdown`, without the loop-thread check.
    fn shut_down(&self, wait: bool, cancel_futures: bool) {
        let (cancelled, handles) = {
            let mut state = lock(&self.shared.state);
            let cancelled = self.close(&mut state, cancel_futures);
            let handles = if wait {
                take_handles(&mut state)
            } else {
                Vec::new()
            };
            (cancelled, handles)
        };
        // Dropping queued jobs completes their futures as "not started" (and may run wakers):
        // outside the lock. Each closure's `Drop` is the caller's code: all are dropped, and the
        // first panic comes back to the caller once the workers are joined (`foreign.rs`).
        let mut panics = FirstPanic::new();
        panics.drop_each(cancelled);
        join_all(handles);
        panics.resume();
    }

    /// The first step of both shutdowns: refuses new jobs and wakes every worker, so that each
    /// finishes the queue and exits. With `cancel_queued`, the queued jobs are taken out and
    /// returned instead; the caller drops them after releasing the lock, which completes their
    /// futures as "not started" (their waiters' wakers and their closures' `Drop`s are foreign
    /// code).
    fn close(
        &self,
        state: &mut MutexGuard<'_, PoolState>,
        cancel_queued: bool,
    ) -> VecDeque<Box<dyn Job>> {
        state.shutdown = true;
        self.shared.work.notify_all();
        if !cancel_queued {
            return VecDeque::new();
        }
        self.shared.queued.store(0, Ordering::Release);
        std::mem::take(&mut state.queue)
    }

    /// The runtime's shutdown of its default pool: cancel what is queued, give running jobs up to
    /// `timeout` to finish, then detach (and report) the threads still running one. Never waits
    /// longer than `timeout`.
    pub(crate) fn shutdown_within(&self, timeout: Duration) {
        let deadline = std::time::Instant::now().checked_add(timeout);
        let cancelled = self.close(&mut lock(&self.shared.state), true);
        // Nobody asked for these closures to be dropped but the runtime itself: a panicking
        // `Drop` is reported by the panic hook and the shutdown goes on.
        for job in cancelled {
            foreign::drop_quietly(job);
        }
        let mut state = lock(&self.shared.state);
        while state.workers > 0 {
            state = match time_left(deadline) {
                TimeLeft::Unbounded => self
                    .shared
                    .exited
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
                TimeLeft::Duration(left) => {
                    wait_timeout(&self.shared.exited, &self.shared.state, state, left).0
                }
                TimeLeft::Expired => break,
            };
        }
        let still_running = state.workers;
        let handles = take_handles(&mut state);
        drop(state);
        if still_running == 0 {
            join_all(handles);
        } else {
            // Dropping a JoinHandle detaches its thread; it exits when its job returns.
            drop(handles);
            eprintln!(
                "evloop: {still_running} blocking job(s) still running {timeout:?} after the \
                 runtime shut down; their threads were detached and exit when the jobs return \
                 (Builder::blocking_shutdown_timeout sets how long to wait)"
            );
        }
    }

    /// Whether a job is queued or running: what holds a paused clock back (`time/clock.rs`).
    pub(crate) fn is_busy(&self) -> bool {
        let state = lock(&self.shared.state);
        !state.queue.is_empty() || state.idle < state.workers || state.handing_back > 0
    }

    /// Whether a worker's [initializer](ThreadPoolBuilder::initializer) panicked, so that the
    /// pool refuses every job (concurrent.futures' `BrokenThreadPool`).
    pub fn is_broken(&self) -> bool {
        lock(&self.shared.state).broken.is_some()
    }

    /// The number of worker threads alive now.
    pub fn worker_count(&self) -> usize {
        lock(&self.shared.state).workers
    }
}

impl Drop for ThreadPoolExecutor {
    /// `shutdown(wait = true, cancel_futures = false)` — except on a thread that runs an evloop
    /// loop, where it does not wait: every job still runs, and the workers exit on their own
    /// once the queue is empty (a drop cannot refuse, and must not stop the loop).
    fn drop(&mut self) {
        self.shut_down(!is_a_loop_thread(), false);
    }
}

impl fmt::Debug for ThreadPoolExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.shared.state);
        f.debug_struct("ThreadPoolExecutor")
            .field("max_workers", &self.shared.max_workers)
            .field("workers", &state.workers)
            .field("idle", &state.idle)
            .field("queued", &state.queue.len())
            .field("shutdown", &state.shutdown)
            .finish()
    }
}

/// Queues `function` on the pool behind `shared` (see [`ThreadPoolExecutor::submit`]).
fn submit<F, T>(shared: &Arc<PoolShared>, function: F) -> PoolFuture<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let mut state = lock(&shared.state);
    if let Some(why) = &state.broken {
        return PoolFuture::new(JobCell::broken(JoinError::broken_pool(why.clone())));
    }
    if state.shutdown {
        return PoolFuture::new(JobCell::refused());
    }
    let cell = JobCell::queued();
    state
        .queue
        .push_back(Box::new(QueuedJob::new(function, cell.clone())));
    shared.queued.store(state.queue.len(), Ordering::Release);
    let spawn_error = grow(shared, &mut state).err();
    let retired = std::mem::take(&mut state.retired);
    // A spinning worker will see the job; otherwise a sleeping one needs the signal.
    let signal = state.sleeping > 0 && !shared.spinning.load(Ordering::Acquire);
    if let (Some(error), 0) = (spawn_error, state.workers) {
        // Nobody will ever run the job: take it back (it is the last one, we hold the lock)
        // and report, rather than leave a future that never completes.
        let job = state.queue.pop_back();
        drop(state);
        drop(job);
        panic!(
            "evloop: could not start a thread-pool worker ({error}); the process may be at \
                 its thread limit (see `ulimit -u`)"
        );
    }
    drop(state);
    // Signalled after unlocking: a worker woken while we still held the lock would only
    // block on it again (one more context switch per job).
    if signal {
        shared.work.notify_one();
    }
    join_all(retired);
    PoolFuture::new(cell)
}

/// Starts workers while the queue is longer than the idle workers can take in, up to the limit
/// (see the module doc). A new worker blocks on the pool's lock until the caller releases it.
fn grow(shared: &Arc<PoolShared>, state: &mut MutexGuard<'_, PoolState>) -> io::Result<()> {
    while state.queue.len() > state.idle * QUEUED_JOBS_PER_IDLE_WORKER
        && state.workers < shared.max_workers
    {
        let slot = state.threads.vacant_entry();
        let key = slot.key();
        let worker_shared = shared.clone();
        let handle = thread::Builder::new()
            .name(format!("{}-{key}", shared.thread_name_prefix))
            .spawn(move || worker(&worker_shared, key))?;
        slot.insert(handle);
        state.workers += 1;
        state.idle += 1;
    }
    Ok(())
}

fn take_handles(state: &mut PoolState) -> Vec<thread::JoinHandle<()>> {
    let mut handles: Vec<_> = state.threads.drain().collect();
    handles.append(&mut state.retired);
    handles
}

fn join_all(handles: Vec<thread::JoinHandle<()>>) {
    for handle in handles {
        // A worker never panics (it catches whatever its jobs raise), so there is nothing to
        // report.
        let _ = handle.join();
    }
}

/// A worker thread's whole life: run the initializer, then take jobs until shutdown (or the pool
/// breaks), or until idle for too long.
fn worker(shared: &Arc<PoolShared>, key: usize) {
    if let Some(initializer) = &shared.initializer {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| initializer())) {
            break_pool(shared, key, panic_message_of(&*panic));
            // The payload's `Drop` is the initializer's code.
            foreign::drop_quietly(panic);
            return;
        }
    }
    let mut state = lock(&shared.state);
    // Whether this worker just spun without finding work (it then sleeps instead of spinning
    // again).
    let mut spun = false;
    loop {
        if let Some(job) = take_job(shared, &mut state) {
            drop(state);
            state = run_jobs(shared, job);
            spun = false;
            continue;
        }
        if state.shutdown || state.broken.is_some() {
            break;
        }
        if !spun && try_start_spinning(shared) {
            // Still counted as idle, so a submit meanwhile neither starts a thread nor signals
            // a sleeper; we look at the queue again, under the lock, right after.
            drop(state);
            spin_for_work(shared);
            state = lock(&shared.state);
            spun = true;
            continue;
        }
        state.sleeping += 1;
        let (guard, timed_out) =
            wait_timeout(&shared.work, &shared.state, state, shared.idle_timeout);
        state = guard;
        state.sleeping -= 1;
        spun = false;
        if timed_out && state.queue.is_empty() && !state.shutdown {
            // Retire: hand our own JoinHandle to the reaping list (shutdown or the next submit
            // joins it), so that every thread is joined by someone.
            if let Some(handle) = state.threads.try_remove(key) {
                state.retired.push(handle);
            }
            break;
        }
    }
    state.idle -= 1;
    state.workers -= 1;
    shared.exited.notify_all();
}

/// Takes the next queued job for the calling worker, which stops counting as idle; if jobs are
/// still waiting and nobody is idle to take them, starts another worker (if that fails, the jobs
/// wait for a worker to free up).
fn take_job(
    shared: &Arc<PoolShared>,
    state: &mut MutexGuard<'_, PoolState>,
) -> Option<Box<dyn Job>> {
    let job = state.queue.pop_front()?;
    shared.queued.store(state.queue.len(), Ordering::Release);
    state.idle -= 1;
    if !state.shutdown {
        let _ = grow(shared, state);
    }
    Some(job)
}

/// Runs `first`, then each job found waiting when a result is handed back, until none is.
/// Returns with the pool locked and this worker counted idle.
///
/// The worker counts itself idle again as soon as a job's closure returns, *before* the result
/// wakes its waiter, who may submit the next job at once (a sequential caller): it must find this
/// worker idle, or it starts a second thread (concurrent.futures counts idle workers the same
/// way). The same critical section takes the next job, so a busy worker locks the pool once per
/// job. Until the result is out, the worker is also counted in `handing_back` (the job is not
/// over for a paused clock until its waiter is woken); that is settled the next time it locks.
fn run_jobs<'a>(shared: &'a Arc<PoolShared>, first: Box<dyn Job>) -> MutexGuard<'a, PoolState> {
    let mut job = first;
    // Whether the previous job's result was handed back under `handing_back`, still to settle.
    let mut settle_previous = false;
    loop {
        let mut counted_idle = false;
        let mut next = None;
        let mut hand_back = || {
            let mut state = lock(&shared.state);
            if settle_previous {
                state.handing_back -= 1; // that result is out: its `run` has returned
            }
            state.idle += 1;
            state.handing_back += 1;
            counted_idle = true;
            next = take_job(shared, &mut state);
        };
        // A job catches its closure's panic, but the waker it wakes and the result it may drop
        // (nobody wanted it) are foreign code too: whatever they do, this worker comes back and
        // settles its counts, or the pool would count a dead thread as a worker.
        foreign::quietly(|| job.run(&mut hand_back));
        if !counted_idle {
            // Foreign code unwound before the hand-back: count idle here instead.
            let mut state = lock(&shared.state);
            if settle_previous {
                state.handing_back -= 1;
            }
            state.idle += 1;
            return state;
        }
        settle_previous = true;
        match next {
            Some(following) => job = following,
            None => {
                let mut state = lock(&shared.state);
                state.handing_back -= 1;
                return state;
            }
        }
    }
}

/// A worker's initializer panicked (saying `why`): marks the pool broken, fails every queued
/// job, wakes the idle workers so that they exit, and retires the calling worker (`key`).
fn break_pool(shared: &Arc<PoolShared>, key: usize, why: String) {
    let (why, queued) = {
        let mut state = lock(&shared.state);
        // The first initializer to fail names the cause.
        let why = state
            .broken
            .get_or_insert_with(|| std::sync::Arc::new(why))
            .clone();
        if let Some(handle) = state.threads.try_remove(key) {
            state.retired.push(handle);
        }
        state.idle -= 1;
        state.workers -= 1;
        shared.queued.store(0, Ordering::Release);
        shared.work.notify_all();
        shared.exited.notify_all();
        (why, std::mem::take(&mut state.queue))
    };
    // Outside the lock: failing a job wakes its waiter, and drops its closure (user code).
    for job in queued {
        let error = JoinError::broken_pool(why.clone());
        foreign::quietly(|| job.fail(error));
    }
}

/// Makes the caller the pool's one spinning worker, if no other worker spins. Called with the
/// pool's lock held, so that a submit (which reads the flag under the same lock) sees either the
/// spinner or a sleeper to signal.
fn try_start_spinning(shared: &PoolShared) -> bool {
    !shared.spinning.swap(true, Ordering::AcqRel)
}

/// Watches the queue for up to [`SPIN_BEFORE_SLEEP`], so that a job submitted right after the
/// previous one finished is taken without a sleep and a wake-up. Only one worker spins at a time,
/// so an idle pool burns at most one core for that long, however many workers a burst started.
///
/// Under loom, which has no clock, the spin is one look at the queue: what the models check is
/// the hand-over around it (a submit that saw the spinner does not signal, so the spinner must
/// look again under the lock before it sleeps), not how long it spins.
fn spin_for_work(shared: &PoolShared) {
    let start = std::time::Instant::now();
    while shared.queued.load(Ordering::Acquire) == 0
        && start.elapsed() < SPIN_BEFORE_SLEEP
        && !cfg!(loom)
    {
        std::hint::spin_loop();
    }
    shared.spinning.store(false, Ordering::Release);
}
