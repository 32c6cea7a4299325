//! A task's record, for people: its number, name, spawn location and time, and how it has been
//! polled. The task dump and the slow-poll report (`debug/`) read it.
//!
//! # Not every task has one
//!
//! A record lives in the task's own allocation, right after the header, and only tasks that need
//! one get one: every task while the runtime keeps records (slow-poll detection is on; see
//! `debug/monitor.rs`), and tasks spawned with a name, whose name has to live somewhere. The
//! other tasks cost exactly what they did before records existed: the record is a type parameter
//! of the task's allocation (`TaskCell<F, R>` in `cell.rs`, with `R` either [`TaskRecord`] or
//! [`NoRecord`]), so a task without one is not a byte larger. That matters: 8 more bytes per task
//! moves a small task into the next malloc size class, and the spawn benchmark measured 10 to
//! 30 ns more per spawn for it (DESIGN.md §7).
//!
//! # Who may touch what
//!
//! The location and the name are written when the task is allocated, on whatever thread spawns
//! it, and never change. The other fields are `Cell`s that only the loop thread reads and writes:
//! the runtime fills in the number and the spawn time when it adopts the task, and the loop counts
//! and times the polls. Only the loop thread can reach a record at all (`refs.rs` hands one out
//! against a [`LoopToken`]), which is what keeps the task header safe to share with wakers on
//! other threads.
//!
//! [`LoopToken`]: crate::runtime::LoopToken

use std::cell::Cell;
use std::fmt;
use std::num::NonZeroU64;
use std::panic::Location;
use std::time::Duration;

use crate::time::Instant;

/// A task's number within its runtime: 1 for the first task the runtime recorded, 2 for the
/// next, and so on. It is never reused while the runtime lives.
///
/// Only tasks with a record have one (see [`tasks`](crate::tasks)). It appears in the task dump
/// and in slow-poll reports ([`SlowPoll`](crate::debug::SlowPoll)); it displays as the number.
/// Every task, recorded or not, also has a [`TaskId`](crate::TaskId), which identifies it among
/// the live tasks of the process (it is what [`JoinHandle::id`](crate::JoinHandle::id) returns):
/// the number is for people reading a dump, the id for code matching handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskNumber(NonZeroU64);

impl TaskNumber {
    /// The first number a runtime hands out.
    pub(crate) const FIRST: TaskNumber = TaskNumber(NonZeroU64::MIN);

    /// The number after this one.
    pub(crate) fn next(self) -> TaskNumber {
        TaskNumber(
            self.0
                .checked_add(1)
                .expect("a runtime recorded 2^64 tasks: task numbers ran out"),
        )
    }

    /// The number.
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for TaskNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Where a task comes from: the `spawn` call site and the name given there, if any.
#[derive(Debug)]
pub(crate) struct Origin {
    location: &'static Location<'static>,
    name: Option<Box<str>>,
}

impl Origin {
    /// The caller's call site (through every `#[track_caller]` frame above), no name.
    #[track_caller]
    pub(crate) fn caller() -> Origin {
        Origin::at(Location::caller())
    }

    /// A given call site, no name.
    pub(crate) fn at(location: &'static Location<'static>) -> Origin {
        Origin {
            location,
            name: None,
        }
    }

    /// The caller's call site, with a name.
    #[track_caller]
    pub(crate) fn named(name: impl Into<String>) -> Origin {
        Origin {
            location: Location::caller(),
            name: Some(name.into().into_boxed_str()),
        }
    }

    /// Whether a task from here gets a record: always if it is named, otherwise if `record_all`.
    pub(crate) fn needs_record(&self, record_all: bool) -> bool {
        record_all || self.is_named()
    }

    pub(crate) fn is_named(&self) -> bool {
        self.name.is_some()
    }

    pub(crate) fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// The record for a task from here.
    pub(crate) fn into_record(self) -> TaskRecord {
        TaskRecord {
            number: Cell::new(None),
            location: self.location,
            name: self.name,
            spawned_at: Cell::new(None),
            polls: Cell::new(0),
            poll_time: Cell::new(Duration::ZERO),
        }
    }
}

/// What the loop records about one task (see the module doc).
pub(crate) struct TaskRecord {
    /// Set when the runtime adopts the task.
    number: Cell<Option<TaskNumber>>,
    location: &'static Location<'static>,
    name: Option<Box<str>>,
    /// Set when the runtime adopts the task, from its clock.
    spawned_at: Cell<Option<Instant>>,
    polls: Cell<u64>,
    /// The total time of its polls, while polls are timed.
    poll_time: Cell<Duration>,
}

impl TaskRecord {
    /// Records the number and adoption time the runtime gives the task.
    pub(crate) fn adopt(&self, number: TaskNumber, now: Instant) {
        debug_assert!(self.number.get().is_none(), "a task was adopted twice");
        self.number.set(Some(number));
        self.spawned_at.set(Some(now));
    }

    /// The number, once the task has been adopted.
    pub(crate) fn number(&self) -> Option<TaskNumber> {
        self.number.get()
    }

    pub(crate) fn location(&self) -> &'static Location<'static> {
        self.location
    }

    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// When the runtime adopted the task, on its clock.
    pub(crate) fn spawned_at(&self) -> Option<Instant> {
        self.spawned_at.get()
    }

    pub(crate) fn polls(&self) -> u64 {
        self.polls.get()
    }

    pub(crate) fn poll_time(&self) -> Duration {
        self.poll_time.get()
    }

    /// Counts one step of the task: a poll, or the step that drops an aborted task's future.
    pub(crate) fn count_poll(&self) {
        self.polls.set(self.polls.get().saturating_add(1));
    }

    /// Adds the duration of one timed poll.
    pub(crate) fn add_poll_time(&self, took: Duration) {
        self.poll_time
            .set(self.poll_time.get().saturating_add(took));
    }
}

impl fmt::Debug for TaskRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskRecord")
            .field("number", &self.number.get())
            .field("location", &self.location)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The record type of a task that has none: a task allocation without a record is exactly as
/// large as if records did not exist.
#[derive(Debug)]
pub(crate) struct NoRecord;

/// The two record types a task allocation can hold (`cell.rs` asks which, per task type).
pub(crate) trait RecordSlot {
    /// Whether this type is [`TaskRecord`].
    const IS_RECORD: bool;
}

impl RecordSlot for TaskRecord {
    const IS_RECORD: bool = true;
}

impl RecordSlot for NoRecord {
    const IS_RECORD: bool = false;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_costs_a_task_72_bytes() {
        // DESIGN.md §7 quotes this figure.
        assert_eq!(std::mem::size_of::<TaskRecord>(), 72);
        assert_eq!(std::mem::size_of::<NoRecord>(), 0);
    }

    #[test]
    fn numbers_count_up_from_one() {
        assert_eq!(TaskNumber::FIRST.as_u64(), 1);
        assert_eq!(TaskNumber::FIRST.next().to_string(), "2");
    }
}
