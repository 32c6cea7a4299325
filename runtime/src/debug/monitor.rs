//! The runtime's `Monitor`: task numbers, which task is running, and poll timing while slow-poll
//! detection is on.
//!
//! # Debug mode
//!
//! A runtime is in *debug mode* while slow-poll detection is on (a threshold, a callback, or
//! `EVLOOP_DEBUG`). Then every task gets a record (`task/record.rs`), the loop times every poll,
//! and the task dump lists every task with its poll time. Otherwise only tasks spawned with a
//! name have a record, their polls are counted but not timed, and the dump lists them alone.
//!
//! The split is the price list. A record costs a task 72 bytes and a clock read when it is
//! adopted; timing costs a clock read per poll (about 25 ns on the benchmark machine, where a
//! `yield_now` round trip is 12 ns). A runtime that pays none of it is exactly as fast
//! as one without this module: for a task without a record the loop checks one field of the
//! task's vtable and goes on. `benches/README.md` has the measurements.
//!
//! # Polling a recorded task
//!
//! [`Monitor::poll_started`] before the step notes the running task (the dump shows it as
//! running) and reads the clock if timing; [`Monitor::poll_finished`] after it adds the time to
//! the record and, if the poll was slow, returns the report to make. The loop makes the report
//! last, after its own bookkeeping, because the reporter is user code.
//!
//! When the loop polls tasks back to back, the reading that ends one poll also starts the next:
//! one clock read per poll instead of two. The few nanoseconds of bookkeeping in between count
//! towards the next poll. The chain is cut ([`Monitor::forget_reading`]) whenever anything else
//! may run in between: at the end of each batch of tasks, and after a report, which runs user
//! code.
//!
//! Everything here is loop-thread state (`Cell`s), like the rest of `Local`.

use std::cell::Cell;
use std::panic::Location;
use std::time::Duration;

use super::slow_poll::{Reporter, SlowPoll};
use super::{TaskDump, TaskSnapshot, TaskState};
use crate::task::{TaskList, TaskNumber, TaskRecord};
use crate::time::Instant;

/// Slow-poll detection's settings, when it is on.
#[derive(Debug, Clone)]
pub(crate) struct SlowPollSettings {
    pub(crate) threshold: Duration,
    pub(crate) reporter: Reporter,
}

/// One runtime's task ids, running task and poll timing (see the module doc).
#[derive(Debug)]
pub(crate) struct Monitor {
    next_number: Cell<TaskNumber>,
    /// The recorded task whose step is under way, if any.
    running: Cell<Option<TaskNumber>>,
    /// `Some` in debug mode.
    slow_poll: Option<SlowPollSettings>,
    /// The clock reading that ended the last poll, while the next poll may start from it.
    last_reading: Cell<Option<std::time::Instant>>,
}

/// Handed out just before a poll and given back just after it.
#[must_use = "give it back to Monitor::poll_finished"]
pub(crate) struct PollStart {
    /// The clock reading before the poll; `None` when polls are not timed.
    started: Option<std::time::Instant>,
}

impl Monitor {
    pub(crate) fn new(slow_poll: Option<SlowPollSettings>) -> Monitor {
        Monitor {
            next_number: Cell::new(TaskNumber::FIRST),
            running: Cell::new(None),
            slow_poll,
            last_reading: Cell::new(None),
        }
    }

    /// Whether the runtime is in debug mode: every task has a record, every poll is timed.
    pub(crate) fn is_debug_mode(&self) -> bool {
        self.slow_poll.is_some()
    }

    /// Hands out the next task id.
    pub(crate) fn next_number(&self) -> TaskNumber {
        let id = self.next_number.get();
        self.next_number.set(id.next());
        id
    }

    /// Call just before a step of the task with `record` (`None`: the main future).
    #[inline]
    pub(crate) fn poll_started(&self, record: Option<&TaskRecord>) -> PollStart {
        if let Some(record) = record {
            self.running.set(record.number());
        }
        PollStart {
            started: self.slow_poll.as_ref().map(|_| {
                self.last_reading
                    .take()
                    .unwrap_or_else(std::time::Instant::now)
            }),
        }
    }

    /// Call just after the step: adds its duration to the record and, if it took longer than
    /// the threshold, returns the report to make with [`Monitor::report`]. `location` says
    /// where the main future comes from, when `record` is `None`.
    #[inline]
    pub(crate) fn poll_finished(
        &self,
        start: PollStart,
        record: Option<&TaskRecord>,
        location: &'static Location<'static>,
    ) -> Option<SlowPoll> {
        if record.is_some() {
            self.running.set(None);
        }
        let (Some(started), Some(settings)) = (start.started, &self.slow_poll) else {
            return None;
        };
        let now = std::time::Instant::now();
        let took = now - started;
        self.last_reading.set(Some(now));
        if let Some(record) = record {
            record.add_poll_time(took);
        }
        (took > settings.threshold).then(|| SlowPoll {
            task: record.and_then(TaskRecord::number),
            name: record.and_then(TaskRecord::name).map(str::to_string),
            location: record.map_or(location, TaskRecord::location),
            duration: took,
            threshold: settings.threshold,
        })
    }

    /// Hands a slow poll to the reporter.
    pub(crate) fn report(&self, slow: &SlowPoll) {
        if let Some(settings) = &self.slow_poll {
            self.forget_reading(); // the reporter's own time is nobody's poll
            settings.reporter.report(slow);
        }
    }

    /// Cuts the chain of clock readings: the next poll reads the clock afresh.
    pub(crate) fn forget_reading(&self) {
        self.last_reading.set(None);
    }

    /// The task being polled right now, if it has a record.
    pub(crate) fn running(&self) -> Option<TaskNumber> {
        self.running.get()
    }

    /// A snapshot of the recorded tasks in `list`, leaving out `leave_out`; the tasks without a
    /// record are only counted. `now` is the time on the runtime's clock.
    pub(crate) fn snapshot(
        &self,
        list: &TaskList,
        now: Instant,
        leave_out: Option<TaskNumber>,
    ) -> TaskDump {
        let running = self.running.get();
        let mut dump = TaskDump::default();
        for task in list.iter() {
            let Some(record) = task.record() else {
                dump.unrecorded += 1;
                continue;
            };
            let number = record.number().expect("a listed task has been adopted");
            if Some(number) == leave_out {
                continue;
            }
            let state = if Some(number) == running {
                TaskState::Running
            } else if task.is_scheduled() {
                TaskState::Scheduled
            } else {
                TaskState::Idle
            };
            let spawned_at = record.spawned_at().expect("set when adopted");
            dump.tasks.push(TaskSnapshot {
                id: task.id(),
                number,
                name: record.name().map(str::to_string),
                location: record.location(),
                state,
                polls: record.polls(),
                age: now.saturating_duration_since(spawned_at),
                poll_time: self.is_debug_mode().then(|| record.poll_time()),
            });
        }
        dump.tasks.sort_unstable_by_key(|task| task.number);
        dump
    }
}
