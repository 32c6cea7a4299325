//! `Builder`: the runtime's settings, before it exists.

use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use super::local::Local;
use super::shared::Shared;
use super::{BlockingSettings, Runtime};
use crate::blocking::ThreadPoolExecutor;
use crate::debug::{
    self, ErrorHandler, Monitor, Reporter, SlowPoll, SlowPollSettings, UnhandledError,
};
use crate::io::Driver;
use crate::time::Clock;

/// How many tasks the loop polls before it looks at timers and the inbox again; tokio's value.
const DEFAULT_TASKS_PER_TICK: usize = 61;

/// The runtime pool's thread limit: blocking work is mostly waiting (files, DNS, C libraries), so
/// it may use many more threads than cores; tokio's value.
const DEFAULT_MAX_BLOCKING_THREADS: usize = 512;

/// How long an idle blocking thread lingers before it exits; tokio's value.
const DEFAULT_BLOCKING_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the runtime's shutdown waits for blocking jobs that are still running.
const DEFAULT_BLOCKING_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(1);

/// Configures and builds a [`Runtime`].
///
/// # Examples
///
/// ```
/// let rt = evloop::Runtime::builder().tasks_per_tick(16).build()?;
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    tasks_per_tick: usize,
    blocking: BlockingSettings,
    start_paused: bool,
    slow_poll_threshold: Option<Duration>,
    slow_poll_reporter: Reporter,
    unhandled: ErrorHandler,
    blocking_pool: Option<Arc<ThreadPoolExecutor>>,
}

impl Builder {
    /// A builder with the default settings.
    pub fn new() -> Builder {
        Builder {
            tasks_per_tick: DEFAULT_TASKS_PER_TICK,
            blocking: BlockingSettings {
                max_threads: DEFAULT_MAX_BLOCKING_THREADS,
                idle_timeout: DEFAULT_BLOCKING_IDLE_TIMEOUT,
                shutdown_timeout: DEFAULT_BLOCKING_SHUTDOWN_TIMEOUT,
            },
            start_paused: false,
            slow_poll_threshold: None,
            slow_poll_reporter: Reporter::default(),
            unhandled: ErrorHandler::default(),
            blocking_pool: None,
        }
    }

    /// Sets how many tasks the loop polls in a row before it checks timers, other threads' wakes
    /// and I/O (default 61). Lower favours timers and I/O latency; higher favours throughput.
    ///
    /// # Panics
    ///
    /// If `tasks` is zero: the loop would never run a task.
    pub fn tasks_per_tick(mut self, tasks: usize) -> Builder {
        assert!(tasks > 0, "Builder::tasks_per_tick must be at least 1");
        self.tasks_per_tick = tasks;
        self
    }

    /// Sets the most threads the runtime's blocking pool (behind
    /// [`run_in_executor`](crate::run_in_executor)) may run at once (default 512). Threads start
    /// only when needed and exit after 10 s idle.
    ///
    /// # Panics
    ///
    /// If `threads` is zero: blocking jobs could never run.
    pub fn max_blocking_threads(mut self, threads: usize) -> Builder {
        assert!(
            threads > 0,
            "Builder::max_blocking_threads must be at least 1"
        );
        self.blocking.max_threads = threads;
        self
    }

    /// Runs this runtime's blocking work (`run_in_executor`) on `pool`, which other runtimes may
    /// share, instead of a pool of its own; [`LoopSet`](crate::LoopSet) gives all its loops one
    /// pool this way. The settings `max_blocking_threads` and the idle timeout are then the
    /// pool's own. The last runtime to let go of the pool shuts it down as it would its own
    /// (see [`blocking_shutdown_timeout`](Builder::blocking_shutdown_timeout)); the others leave
    /// it running.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use evloop::blocking::ThreadPoolExecutor;
    ///
    /// let pool = Arc::new(ThreadPoolExecutor::new(2));
    /// let first = evloop::Runtime::builder().blocking_pool(pool.clone()).build()?;
    /// let second = evloop::Runtime::builder().blocking_pool(pool).build()?;
    /// let worker = || async { evloop::run_in_executor(|| std::thread::current().id()).await };
    /// let a = first.block_on(worker()).unwrap();
    /// let b = second.block_on(worker()).unwrap();
    /// assert_eq!(a, b); // the pool's idle worker served both runtimes
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn blocking_pool(mut self, pool: Arc<ThreadPoolExecutor>) -> Builder {
        self.blocking_pool = Some(pool);
        self
    }

    /// Whether a shared blocking pool was handed in (`LoopSet` makes one only if not).
    pub(crate) fn has_blocking_pool(&self) -> bool {
        self.blocking_pool.is_some()
    }

    /// The blocking settings, for a pool made to these settings elsewhere (`LoopSet`).
    pub(crate) fn blocking_settings(&self) -> BlockingSettings {
        self.blocking
    }

    /// Sets how long dropping the runtime waits for blocking jobs that are still running
    /// (default 1 s). Jobs not yet started are dropped at once; a job still running after this
    /// time is left to finish on its own thread, which is detached, and a line on stderr reports
    /// it. `Duration::ZERO` never waits; `Duration::MAX` waits for every job.
    pub fn blocking_shutdown_timeout(mut self, timeout: Duration) -> Builder {
        self.blocking.shutdown_timeout = timeout;
        self
    }

    /// Starts the runtime with its clock paused (default `false`), for tests: timers then fire
    /// as soon as the loop has nothing else to do, with the clock jumping to each deadline in
    /// turn, instead of after real waits. The same as calling [`time::pause`](crate::time::pause)
    /// first thing; see it for what a paused clock does with real I/O.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::time::{sleep, timeout, Instant};
    ///
    /// let rt = evloop::Runtime::builder().start_paused(true).build()?;
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     // "Retry every 30 s, give up after 5 minutes": runs in microseconds.
    ///     let gave_up = timeout(Duration::from_secs(300), async {
    ///         loop {
    ///             sleep(Duration::from_secs(30)).await;
    ///         }
    ///     })
    ///     .await;
    ///     assert!(gave_up.is_err());
    ///     assert_eq!(Instant::now() - start, Duration::from_secs(300));
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start_paused(mut self, paused: bool) -> Builder {
        self.start_paused = paused;
        self
    }

    /// Turns on slow-poll detection: every poll of a task (or of the main future) that runs
    /// longer than `threshold` is reported — the task's id, name and spawn location, and how long
    /// the poll took — to stderr, or to the callback set with [`on_slow_poll`](Builder::on_slow_poll).
    /// asyncio's debug mode does the same with `slow_callback_duration` (100 ms).
    ///
    /// Off by default; setting the environment variable `EVLOOP_DEBUG=1` turns it on with a
    /// 100 ms threshold without a code change. It puts the runtime in *debug mode*: every task
    /// gets a record, so the task dump ([`tasks`](crate::tasks)) lists them all with their total
    /// poll time, and every poll is timed — about 30 ns per poll on the benchmark machine
    /// (`benches/README.md` has the measurements).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = evloop::Runtime::builder()
    ///     .slow_poll_threshold(Duration::from_millis(50))
    ///     .build()?;
    /// rt.block_on(async {
    ///     // Prints "evloop: task 1 spawned at src/lib.rs:10:5 blocked the loop for 60.1ms ..."
    ///     evloop::spawn(async { std::thread::sleep(Duration::from_millis(60)) })
    ///         .await
    ///         .unwrap();
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn slow_poll_threshold(mut self, threshold: Duration) -> Builder {
        self.slow_poll_threshold = Some(threshold);
        self
    }

    /// Sends slow-poll reports to `callback` instead of stderr, and turns detection on (with a
    /// 100 ms threshold unless [`slow_poll_threshold`](Builder::slow_poll_threshold) sets one).
    ///
    /// The callback runs on the loop's thread, between two polls, so it may use evloop — take a
    /// [`tasks`](crate::tasks) dump, for instance — but it blocks the loop while it runs. A panic
    /// in it propagates out of `block_on`. See [`SlowPoll`] for an example.
    pub fn on_slow_poll(mut self, callback: impl Fn(&SlowPoll) + Send + Sync + 'static) -> Builder {
        self.slow_poll_reporter = Reporter::callback(callback);
        self
    }

    /// Sends errors that nobody retrieved, and nobody could, to `handler` instead of stderr —
    /// asyncio's `loop.set_exception_handler`, for what asyncio reports as "Task exception was
    /// never retrieved":
    ///
    /// - a task that panicked after its `JoinHandle` was dropped (detached), or whose handle was
    ///   dropped without being awaited after the panic;
    /// - the errors a [`task_group`](crate::task_group) had collected when one of its children
    ///   panicked: the panic is resumed, and the errors would vanish with the group.
    ///
    /// The handler runs on the thread that found the error (the loop's, or the one that dropped
    /// the handle). A panic in it is caught. See [`UnhandledError`] for an example.
    pub fn on_unhandled_error(
        mut self,
        handler: impl Fn(&UnhandledError) + Send + Sync + 'static,
    ) -> Builder {
        self.unhandled = ErrorHandler::callback(handler);
        self
    }

    /// Creates the runtime.
    ///
    /// # Errors
    ///
    /// If the OS poller cannot be created (for example, the process is out of file descriptors).
    pub fn build(self) -> io::Result<Runtime> {
        let slow_poll = self.slow_poll_settings();
        let (token, driver): (_, Driver) = Shared::create(slow_poll.is_some(), self.unhandled)?;
        let monitor = Monitor::new(slow_poll);
        Ok(Runtime {
            local: Rc::new(Local::new(
                token,
                driver,
                self.tasks_per_tick,
                self.blocking,
                self.blocking_pool,
                Clock::new(self.start_paused),
                monitor,
            )),
        })
    }

    /// Whether slow-poll detection is on, and with what: an explicit threshold wins; a callback
    /// or `EVLOOP_DEBUG` turns it on with asyncio's 100 ms.
    fn slow_poll_settings(&self) -> Option<SlowPollSettings> {
        let threshold = self.slow_poll_threshold.or_else(|| {
            let wanted = self.slow_poll_reporter.is_callback()
                || debug::enabled_by_env(std::env::var_os("EVLOOP_DEBUG").as_deref());
            wanted.then_some(debug::DEFAULT_THRESHOLD)
        })?;
        Some(SlowPollSettings {
            threshold,
            reporter: self.slow_poll_reporter.clone(),
        })
    }
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}
