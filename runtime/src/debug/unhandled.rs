//! Errors nobody would ever see: a task that panicked after its `JoinHandle` was dropped, a
//! task group that resumes a panic and so drops the errors it had collected. asyncio logs
//! "Task exception was never retrieved" and passes such errors to the loop's exception handler
//! (`loop.set_exception_handler`); evloop hands each to the runtime's unhandled-error handler,
//! [`Builder::on_unhandled_error`](crate::Builder::on_unhandled_error), which by default prints one
//! line on stderr.
//!
//! The handler lives in the runtime's cross-thread half (`runtime/shared.rs`): a `JoinHandle` may
//! be dropped on any thread. It is user code, called once the runtime's own bookkeeping for the
//! error is done; a panic from it is caught and dropped (`foreign.rs`).

use std::fmt;
use std::panic::Location;
use std::sync::Arc;

use crate::task::{TaskId, TaskNumber};

/// An error that nobody retrieved and nobody will: what the runtime's unhandled-error handler
/// receives.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let rt = evloop::Runtime::builder()
///     .on_unhandled_error({
///         let seen = seen.clone();
///         move |error| seen.lock().unwrap().push(error.to_string())
///     })
///     .build()?;
/// rt.block_on(async {
///     // Detached (its handle is dropped at once), then it panics: nobody will ever see it...
///     drop(evloop::spawn_named("fetcher", async { panic!("connection reset") }));
///     evloop::yield_now().await;
/// });
/// // ...but the handler did.
/// let seen = seen.lock().unwrap();
/// assert!(seen[0].contains("connection reset") && seen[0].contains("fetcher"), "{seen:?}");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct UnhandledError {
    what: &'static str,
    message: String,
    task_id: Option<TaskId>,
    task: Option<TaskOrigin>,
}

/// Which task an error came from, when the task has a record (named, or debug mode).
#[derive(Debug, Clone)]
struct TaskOrigin {
    number: Option<TaskNumber>,
    name: Option<String>,
    location: &'static Location<'static>,
}

impl UnhandledError {
    /// A detached task's panic (or one whose handle was dropped without looking at it).
    pub(crate) fn task_panicked(message: String, task_id: TaskId) -> UnhandledError {
        UnhandledError {
            what: "a task panicked and nobody retrieved its result",
            message,
            task_id: Some(task_id),
            task: None,
        }
    }

    /// Errors a task group had collected, dropped because a panic is resumed instead.
    pub(crate) fn group_errors_dropped(errors: usize) -> UnhandledError {
        UnhandledError {
            what: "a task group resumed a panic",
            message: format!(
                "{errors} error(s) its children or body returned before it are dropped with it"
            ),
            task_id: None,
            task: None,
        }
    }

    /// Says more about the task the error came from, from its record.
    pub(crate) fn in_task(
        mut self,
        number: Option<TaskNumber>,
        name: Option<&str>,
        location: &'static Location<'static>,
    ) -> UnhandledError {
        self.task = Some(TaskOrigin {
            number,
            name: name.map(String::from),
            location,
        });
        self
    }

    /// What the error says: the panic's message, or what was dropped.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The name of the task it came from, if it had one.
    pub fn task_name(&self) -> Option<&str> {
        self.task.as_ref()?.name.as_deref()
    }

    /// The id of the task it came from (the same as that task's
    /// [`JoinHandle::id`](crate::JoinHandle::id)); `None` for errors that are not a task's,
    /// such as those a task group dropped.
    pub fn task_id(&self) -> Option<TaskId> {
        self.task_id
    }

    /// The number of the task it came from, if the task had a record (named tasks, and every
    /// task in debug mode).
    pub fn task_number(&self) -> Option<TaskNumber> {
        self.task.as_ref()?.number
    }

    /// Where the task it came from was spawned, if known: named tasks, and every task in debug
    /// mode (`EVLOOP_DEBUG=1`), carry it.
    pub fn spawned_at(&self) -> Option<&'static Location<'static>> {
        Some(self.task.as_ref()?.location)
    }
}

impl fmt::Display for UnhandledError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.message)?;
        match &self.task {
            Some(task) => {
                f.write_str(" (task")?;
                if let Some(number) = task.number {
                    write!(f, " {number}")?;
                }
                if let Some(name) = &task.name {
                    write!(f, " {name:?}")?;
                }
                write!(f, " spawned at {})", task.location)
            }
            None => f.write_str(" (EVLOOP_DEBUG=1 names the task and where it was spawned)"),
        }
    }
}

/// Hands `error` to the handler of the runtime running on this thread (stderr outside one: a task
/// group driven by another executor).
pub(crate) fn report_on_this_thread(error: &UnhandledError) {
    if crate::runtime::with_local(|local| local.shared().report_unhandled(error)).is_none() {
        eprintln!("evloop: {error}");
    }
}

type Callback = Arc<dyn Fn(&UnhandledError) + Send + Sync>;

/// Where a runtime's unhandled errors go: stderr, or the user's handler.
#[derive(Clone, Default)]
pub(crate) struct ErrorHandler {
    callback: Option<Callback>,
}

impl ErrorHandler {
    pub(crate) fn callback(callback: impl Fn(&UnhandledError) + Send + Sync + 'static) -> Self {
        ErrorHandler {
            callback: Some(Arc::new(callback)),
        }
    }

    /// Hands `error` to the handler; a panic from it is caught (the panic hook reports it).
    pub(crate) fn report(&self, error: &UnhandledError) {
        match &self.callback {
            Some(callback) => crate::foreign::quietly(|| callback(error)),
            None => eprintln!("evloop: {error}"),
        }
    }
}

impl fmt::Debug for ErrorHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.callback {
            Some(_) => "ErrorHandler(callback)",
            None => "ErrorHandler(stderr)",
        })
    }
}
