//! The task dump: asyncio's `all_tasks()`, with what a person needs to find a stuck task.
//!
//! [`tasks`] walks the runtime's task list (the same list shutdown uses to cancel what is left)
//! and copies out each task's record (`task/record.rs`), so the snapshot owns its data and can be
//! kept, sent to another thread or printed later. Tasks without a record are counted, not listed:
//! in debug mode every task has one; otherwise only named tasks do (`monitor.rs` says why).

use std::fmt;
use std::panic::Location;
use std::time::Duration;

use crate::runtime::with_local;
use crate::task::{TaskId, TaskNumber};

/// Returns a snapshot of the live tasks of the current runtime, in spawn order — asyncio's
/// `asyncio.all_tasks()`. `Display` renders it as a table.
///
/// **Which tasks are listed.** In debug mode — slow-poll detection on, through
/// [`Builder::slow_poll_threshold`](crate::Builder::slow_poll_threshold) or `EVLOOP_DEBUG=1` —
/// every task. Otherwise the tasks spawned with [`spawn_named`](crate::spawn_named), and the
/// others are only counted ([`TaskDump::unrecorded`]): listing a task takes a record of it,
/// which a runtime outside debug mode does not pay for unless the task has a name.
///
/// A task is live from the moment the runtime takes it in until its future finishes (or is
/// cancelled). The task that calls `tasks()` is in the snapshot, as
/// [`Running`](TaskState::Running), if it is listed at all. Tasks spawned from other threads
/// appear once the loop has taken them in, at its next turn. From another thread, use
/// [`Handle::dump`](crate::Handle::dump).
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::debug::TaskState;
///
/// evloop::run(async {
///     let sleeper = evloop::spawn_named("sleeper", evloop::time::sleep(Duration::from_secs(60)));
///     evloop::yield_now().await; // let it start and go to sleep
///
///     let dump = evloop::tasks();
///     println!("{dump}");
///     let task = dump.iter().find(|task| task.name() == Some("sleeper")).unwrap();
///     assert_eq!(task.state(), TaskState::Idle);
///     assert_eq!(task.polls(), 1);
///     sleeper.abort();
/// });
/// ```
#[track_caller]
pub fn tasks() -> TaskDump {
    // A `match`, not `unwrap_or_else`: a panic inside a closure would name this line, not the
    // caller's (`#[track_caller]` does not reach into closures).
    match with_local(|local| local.dump(None)) {
        Some(dump) => dump,
        None => panic!(
            "evloop::tasks called outside of a runtime: call it inside evloop::run or \
             Runtime::block_on, or use Handle::dump from another thread"
        ),
    }
}

/// A snapshot of a runtime's live tasks, from [`tasks`] or [`Handle::dump`](crate::Handle::dump),
/// in spawn order (by [`TaskNumber`]).
///
/// `Display` renders a table, one task per line, and a last line counting the tasks that are
/// not listed:
///
/// ```text
/// task  state    polls    age  poll time  name     spawned at
///    1  running      3  1.2ms          -  main     examples/tour.rs:40:9
///    2  idle         1  1.1ms          -  sleeper  examples/tour.rs:41:22
/// (and 10 unnamed tasks: EVLOOP_DEBUG=1 lists every task)
/// ```
#[derive(Debug, Clone, Default)]
pub struct TaskDump {
    pub(crate) tasks: Vec<TaskSnapshot>,
    pub(crate) unrecorded: usize,
}

impl TaskDump {
    /// How many live tasks are not listed because they have no record: unnamed tasks of a
    /// runtime outside debug mode (see [`tasks`]).
    pub fn unrecorded(&self) -> usize {
        self.unrecorded
    }

    /// The tasks, in spawn order (by number).
    pub fn iter(&self) -> std::slice::Iter<'_, TaskSnapshot> {
        self.tasks.iter()
    }

    /// How many tasks are listed.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether no task is listed.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// The task with this number, if it was live.
    pub fn get(&self, number: TaskNumber) -> Option<&TaskSnapshot> {
        self.tasks
            .binary_search_by_key(&number, |task| task.number)
            .ok()
            .map(|index| &self.tasks[index])
    }
}

impl<'a> IntoIterator for &'a TaskDump {
    type Item = &'a TaskSnapshot;
    type IntoIter = std::slice::Iter<'a, TaskSnapshot>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl IntoIterator for TaskDump {
    type Item = TaskSnapshot;
    type IntoIter = std::vec::IntoIter<TaskSnapshot>;

    fn into_iter(self) -> Self::IntoIter {
        self.tasks.into_iter()
    }
}

impl fmt::Display for TaskDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<[String; 7]> = self
            .tasks
            .iter()
            .map(|task| {
                [
                    task.number.to_string(),
                    task.state.to_string(),
                    task.polls.to_string(),
                    format!("{:.1?}", task.age),
                    task.poll_time
                        .map_or_else(|| "-".to_string(), |time| format!("{time:.1?}")),
                    task.name.clone().unwrap_or_else(|| "-".to_string()),
                    task.location.to_string(),
                ]
            })
            .collect();
        let header = [
            "task",
            "state",
            "polls",
            "age",
            "poll time",
            "name",
            "spawned at",
        ];
        let mut widths = header.map(|title| title.chars().count());
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        // Numbers right-aligned, words left-aligned; the last column is not padded.
        let right_aligned = [true, false, true, true, true, false, false];
        let mut write_row = |cells: [&str; 7]| -> fmt::Result {
            for (column, cell) in cells.iter().enumerate() {
                let width = widths[column];
                match (column, right_aligned[column]) {
                    (6, _) => write!(f, "{cell}")?,
                    (_, true) => write!(f, "{cell:>width$}  ")?,
                    (_, false) => write!(f, "{cell:<width$}  ")?,
                }
            }
            writeln!(f)
        };
        write_row(header)?;
        for row in &rows {
            write_row(row.each_ref().map(String::as_str))?;
        }
        match self.unrecorded {
            0 if rows.is_empty() => writeln!(f, "(no live tasks)"),
            0 => Ok(()),
            1 => writeln!(f, "(and 1 unnamed task: EVLOOP_DEBUG=1 lists every task)"),
            n => writeln!(
                f,
                "(and {n} unnamed tasks: EVLOOP_DEBUG=1 lists every task)"
            ),
        }
    }
}

/// One task in a [`TaskDump`].
#[derive(Debug, Clone)]
pub struct TaskSnapshot {
    pub(crate) id: TaskId,
    pub(crate) number: TaskNumber,
    pub(crate) name: Option<String>,
    pub(crate) location: &'static Location<'static>,
    pub(crate) state: TaskState,
    pub(crate) polls: u64,
    pub(crate) age: Duration,
    pub(crate) poll_time: Option<Duration>,
}

impl TaskSnapshot {
    /// The task's id: the same as its [`JoinHandle::id`](crate::JoinHandle::id), so a handle can
    /// be matched with its line in the dump.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The task's number in its runtime (1 for the first recorded task), the "task" column of
    /// the table.
    pub fn number(&self) -> TaskNumber {
        self.number
    }

    /// The name it was spawned with ([`spawn_named`](crate::spawn_named)), if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where it was spawned: the call to `spawn`, `spawn_named`, `gather`, `Handle::spawn`...
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// What it was doing when the snapshot was taken.
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// How many times the loop has polled it.
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// How long ago the runtime took it in, on the runtime's clock (which a test may have
    /// paused; see [`time::pause`](crate::time::pause)).
    pub fn age(&self) -> Duration {
        self.age
    }

    /// The time it has spent being polled, in total — the time it kept the loop busy. `None`
    /// outside debug mode (see [`tasks`]), where polls are not timed.
    pub fn poll_time(&self) -> Option<Duration> {
        self.poll_time
    }
}

/// What a task was doing when a [`TaskDump`] was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskState {
    /// Being polled: the task that took the snapshot.
    Running,
    /// Woken and queued: the loop will poll it soon.
    Scheduled,
    /// Waiting for something to wake it (a timer, I/O, a lock, another task...).
    Idle,
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaskState::Running => "running",
            TaskState::Scheduled => "scheduled",
            TaskState::Idle => "idle",
        })
    }
}
