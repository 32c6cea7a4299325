//! Slow-poll reports: asyncio's "Executing <Task ...> took 0.250 seconds" warning.
//!
//! A poll that runs for long blocks the whole loop: no other task, timer or socket is served
//! until it returns. The usual culprit is blocking code in a task (`std::thread::sleep`, a
//! synchronous file or DNS call, a long computation), and the usual cure is
//! [`run_in_executor`](crate::run_in_executor) or a [`yield_now`](crate::yield_now) in the loop.
//! With detection on, the loop times every poll (`monitor.rs`) and reports each one that took
//! longer than the threshold, naming the task and the line that spawned it.
//!
//! Detection is off unless one of these turns it on:
//! - [`Builder::slow_poll_threshold`](crate::Builder::slow_poll_threshold);
//! - [`Builder::on_slow_poll`](crate::Builder::on_slow_poll), with asyncio's 100 ms threshold
//!   unless a threshold is set too;
//! - the environment variable `EVLOOP_DEBUG` set to anything but empty or `0`, as
//!   `PYTHONASYNCIODEBUG=1` turns on asyncio's debug mode: 100 ms, reported to stderr.
//!
//! It stays off by default even in debug builds: unoptimised code is many times slower, so a
//! 100 ms threshold would report polls that are quick in the release build, and tests that block
//! a loop on purpose would print warnings. Turning it on is one variable away.

use std::fmt;
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

use crate::task::TaskNumber;

/// asyncio's `slow_callback_duration`: the threshold `EVLOOP_DEBUG=1` and `on_slow_poll` use.
pub(crate) const DEFAULT_THRESHOLD: Duration = Duration::from_millis(100);

/// Whether the value of `EVLOOP_DEBUG` turns detection on: anything but unset, empty or `0`.
pub(crate) fn enabled_by_env(value: Option<&std::ffi::OsStr>) -> bool {
    value.is_some_and(|value| !value.is_empty() && value != "0")
}

/// One poll that blocked the loop for longer than the threshold, as passed to the callback set
/// with [`Builder::on_slow_poll`](crate::Builder::on_slow_poll). `Display` renders the line
/// evloop prints to stderr when no callback is set.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
///
/// let reports = Arc::new(Mutex::new(Vec::new()));
/// let rt = evloop::Runtime::builder()
///     .slow_poll_threshold(Duration::from_millis(20))
///     .on_slow_poll({
///         let reports = reports.clone();
///         move |slow| reports.lock().unwrap().push(slow.clone())
///     })
///     .build()?;
/// rt.block_on(async {
///     let blocking = evloop::spawn_named("blocking", async {
///         std::thread::sleep(Duration::from_millis(50)); // blocks the loop: reported
///     });
///     blocking.await.unwrap();
/// });
/// let reports = reports.lock().unwrap();
/// assert_eq!(reports.len(), 1);
/// assert_eq!(reports[0].name(), Some("blocking"));
/// assert!(reports[0].duration() >= Duration::from_millis(50));
/// assert_eq!(reports[0].location().file(), file!());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct SlowPoll {
    pub(crate) task: Option<TaskNumber>,
    pub(crate) name: Option<String>,
    pub(crate) location: &'static Location<'static>,
    pub(crate) duration: Duration,
    pub(crate) threshold: Duration,
}

impl SlowPoll {
    /// The number of the task that was polled, or `None` for the main future (the one given to
    /// [`run`](crate::run) or [`Runtime::block_on`](crate::Runtime::block_on)).
    pub fn task_number(&self) -> Option<TaskNumber> {
        self.task
    }

    /// The name the task was spawned with, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the task was spawned (the call to `spawn`, `spawn_named`, `gather`...), or, for the
    /// main future, where `run` or `block_on` was called.
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// How long the poll ran.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// The threshold it exceeded.
    pub fn threshold(&self) -> Duration {
        self.threshold
    }
}

impl fmt::Display for SlowPoll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.task, &self.name) {
            (Some(id), Some(name)) => write!(f, "task {id} {name:?} spawned at ")?,
            (Some(id), None) => write!(f, "task {id} spawned at ")?,
            (None, _) => f.write_str("the main future, run at ")?,
        }
        write!(
            f,
            "{} blocked the loop for {:.1?} in one poll (threshold {:.1?}); move blocking work \
             to evloop::run_in_executor, or yield in long loops",
            self.location, self.duration, self.threshold
        )
    }
}

/// A user's slow-poll callback.
type Callback = Arc<dyn Fn(&SlowPoll) + Send + Sync>;

/// Where slow polls go: a user's callback, or stderr.
#[derive(Clone, Default)]
pub(crate) struct Reporter {
    /// `None`: print to stderr. `Arc` so that a `Builder` stays `Clone`; `Send + Sync` so that it
    /// stays `Send` and `Sync`.
    callback: Option<Callback>,
}

impl Reporter {
    pub(crate) fn callback(callback: impl Fn(&SlowPoll) + Send + Sync + 'static) -> Reporter {
        Reporter {
            callback: Some(Arc::new(callback)),
        }
    }

    pub(crate) fn is_callback(&self) -> bool {
        self.callback.is_some()
    }

    pub(crate) fn report(&self, slow: &SlowPoll) {
        match &self.callback {
            Some(callback) => callback(slow),
            None => eprintln!("evloop: {slow}"),
        }
    }
}

impl fmt::Debug for Reporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_callback() {
            "Reporter(callback)"
        } else {
            "Reporter(stderr)"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn evloop_debug_is_on_for_any_value_but_empty_or_zero() {
        assert!(!enabled_by_env(None));
        assert!(!enabled_by_env(Some(OsStr::new(""))));
        assert!(!enabled_by_env(Some(OsStr::new("0"))));
        assert!(enabled_by_env(Some(OsStr::new("1"))));
        assert!(enabled_by_env(Some(OsStr::new("yes"))));
    }
}
