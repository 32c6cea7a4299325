//! `Builder`: the runtime's settings, before it exists.

use std::io;
use std::rc::Rc;
use std::time::Duration;

use super::driver::Driver;
use super::local::Local;
use super::shared::Shared;
use super::{BlockingSettings, Runtime};
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

    /// Creates the runtime.
    ///
    /// # Errors
    ///
    /// If the OS poller cannot be created (for example, the process is out of file descriptors).
    pub fn build(self) -> io::Result<Runtime> {
        let (token, driver): (_, Driver) = Shared::create()?;
        Ok(Runtime {
            local: Rc::new(Local::new(
                token,
                driver,
                self.tasks_per_tick,
                self.blocking,
                Clock::new(self.start_paused),
            )),
        })
    }
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}
