//! `Builder`: the runtime's settings, before it exists.

use std::io;
use std::rc::Rc;

use super::driver::Driver;
use super::local::Local;
use super::shared::Shared;
use super::Runtime;

/// How many tasks the loop polls before it looks at timers and the inbox again; tokio's value.
const DEFAULT_TASKS_PER_TICK: usize = 61;

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
}

impl Builder {
    /// A builder with the default settings.
    pub fn new() -> Builder {
        Builder {
            tasks_per_tick: DEFAULT_TASKS_PER_TICK,
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

    /// Creates the runtime.
    ///
    /// # Errors
    ///
    /// If the OS poller cannot be created (for example, the process is out of file descriptors).
    pub fn build(self) -> io::Result<Runtime> {
        let (token, driver): (_, Driver) = Shared::create()?;
        Ok(Runtime {
            local: Rc::new(Local::new(token, driver, self.tasks_per_tick)),
        })
    }
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}
