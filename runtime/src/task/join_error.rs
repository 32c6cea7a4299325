//! `JoinError`: why a task produced no value.
//!
//! A task ends without a value in one of two ways: it was cancelled (its future was dropped before
//! it finished, by `JoinHandle::abort` or by the runtime shutting down), or its future panicked.
//! A blocking job of the thread pool ends the same ways (cancelled before a worker started it, or
//! panicked), so it reports through the same type.
//! The loop catches the panic, so one failing task never takes the loop or its siblings down; the
//! payload travels to whoever awaits the handle, who may inspect it or resume the unwind.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, Mutex};

/// A panic payload, made `Sync` so that `JoinError` is (and converts into
/// `Box<dyn Error + Send + Sync>`): a payload is only `Send`, and the mutex is what lets a shared
/// reference to the error read it. This is not a cross-thread protocol, so std's mutex is used
/// directly rather than the loom shim's.
type Payload = Mutex<Box<dyn Any + Send + 'static>>;

/// The error a [`JoinHandle`](crate::JoinHandle) gives when its task did not return a value.
///
/// # Examples
///
/// ```
/// let error = evloop::run(async {
///     let handle = evloop::spawn(async { panic!("boom") });
///     handle.await.unwrap_err()
/// });
/// assert!(error.is_panic());
/// assert_eq!(error.to_string(), "task panicked: boom");
/// ```
pub struct JoinError {
    repr: Repr,
}

enum Repr {
    /// `JoinHandle::abort` dropped the future.
    Aborted,
    /// The runtime was shut down (or already gone) before the task finished.
    RuntimeShutdown,
    /// A thread-pool job was dropped before a worker started it.
    NotStarted,
    /// A thread-pool job was submitted after its pool had been shut down.
    PoolClosed,
    /// A thread-pool job could not run because its pool is broken: a worker's initializer
    /// panicked, with this message (an `Arc<String>`, one word, shared by every refused job).
    BrokenPool(Arc<String>),
    /// The future panicked; the payload of that panic. Boxed so that the error is two words: it
    /// sits in every task's output slot, and panics are rare.
    Panic(Box<Payload>),
}

impl JoinError {
    pub(crate) fn aborted() -> JoinError {
        JoinError {
            repr: Repr::Aborted,
        }
    }

    pub(crate) fn runtime_shutdown() -> JoinError {
        JoinError {
            repr: Repr::RuntimeShutdown,
        }
    }

    pub(crate) fn not_started() -> JoinError {
        JoinError {
            repr: Repr::NotStarted,
        }
    }

    pub(crate) fn pool_closed() -> JoinError {
        JoinError {
            repr: Repr::PoolClosed,
        }
    }

    /// The error of every job of a pool broken by an initializer that panicked; `why` is the
    /// panic's message ([`panic_message_of`]), shared by all of them.
    pub(crate) fn broken_pool(why: Arc<String>) -> JoinError {
        JoinError {
            repr: Repr::BrokenPool(why),
        }
    }

    pub(crate) fn panic(payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            repr: Repr::Panic(Box::new(Mutex::new(payload))),
        }
    }

    /// Returns `true` if the task was cancelled: aborted through its handle, or dropped because
    /// its runtime shut down before it finished. For a thread-pool job: cancelled before a worker
    /// started it, or refused by a pool that had been shut down.
    pub fn is_cancelled(&self) -> bool {
        matches!(
            self.repr,
            Repr::Aborted | Repr::RuntimeShutdown | Repr::NotStarted | Repr::PoolClosed
        )
    }

    /// Returns `true` if the job could not run because its thread pool is broken: a worker's
    /// [`initializer`](crate::blocking::ThreadPoolBuilder::initializer) panicked
    /// (concurrent.futures' `BrokenThreadPool`). Neither a cancellation nor the job's own panic.
    pub fn is_broken_pool(&self) -> bool {
        matches!(self.repr, Repr::BrokenPool(_))
    }

    /// Returns `true` if the task's future panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// Returns the panic payload, to inspect it or to continue the unwind with
    /// [`std::panic::resume_unwind`].
    ///
    /// # Panics
    ///
    /// Panics if the task was cancelled rather than panicking; use [`try_into_panic`] to check.
    ///
    /// [`try_into_panic`]: JoinError::try_into_panic
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        match self.try_into_panic() {
            Ok(payload) => payload,
            Err(error) => panic!(
                "JoinError::into_panic called on a cancelled task's error ({error}); check \
                 is_panic() first"
            ),
        }
    }

    /// Returns the panic payload, or the error itself if the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(payload) => Ok(payload
                .into_inner()
                .unwrap_or_else(|poisoned| poisoned.into_inner())),
            _ => Err(self),
        }
    }
}

/// The message a panic payload carries, if it is one of the two types `panic!` produces.
fn panic_message(payload: &Payload) -> Option<String> {
    let payload = payload
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    string_payload(&**payload)
}

fn string_payload(payload: &(dyn Any + Send)) -> Option<String> {
    payload
        .downcast_ref::<&'static str>()
        .map(|message| message.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
}

/// What a panic's `payload` says, for a report: its message, or that it has none.
pub(crate) fn panic_message_of(payload: &(dyn Any + Send)) -> String {
    string_payload(payload).unwrap_or_else(|| String::from("a non-string payload"))
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Aborted => f.write_str("task was cancelled by JoinHandle::abort"),
            Repr::RuntimeShutdown => f.write_str(
                "task was cancelled because its runtime shut down before it finished \
                 (or was already gone when it was spawned)",
            ),
            Repr::NotStarted => f.write_str(
                "job was cancelled before a worker started it (by PoolFuture::cancel, by \
                 shutdown with cancel_futures, or by its runtime shutting down)",
            ),
            Repr::PoolClosed => f.write_str(
                "job was refused: its thread pool had already been shut down (submit jobs \
                 before calling shutdown)",
            ),
            Repr::BrokenPool(message) => write!(
                f,
                "job was refused: its thread pool is broken, because a worker's initializer \
                 panicked ({message}); build a new pool"
            ),
            Repr::Panic(payload) => match panic_message(payload) {
                Some(message) => write!(f, "task panicked: {message}"),
                None => f.write_str("task panicked with a non-string payload"),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Aborted => f.write_str("JoinError::Aborted"),
            Repr::RuntimeShutdown => f.write_str("JoinError::RuntimeShutdown"),
            Repr::NotStarted => f.write_str("JoinError::NotStarted"),
            Repr::PoolClosed => f.write_str("JoinError::PoolClosed"),
            Repr::BrokenPool(message) => f
                .debug_tuple("JoinError::BrokenPool")
                .field(message)
                .finish(),
            Repr::Panic(payload) => f
                .debug_tuple("JoinError::Panic")
                .field(&panic_message(payload).unwrap_or_else(|| "<non-string payload>".into()))
                .finish(),
        }
    }
}

impl std::error::Error for JoinError {}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_messages() {
        assert!(JoinError::aborted().is_cancelled());
        assert!(JoinError::runtime_shutdown().is_cancelled());
        assert!(JoinError::runtime_shutdown()
            .to_string()
            .contains("runtime shut down"));
        let panic = JoinError::panic(Box::new(String::from("bad input")));
        assert!(panic.is_panic() && !panic.is_cancelled());
        assert_eq!(panic.to_string(), "task panicked: bad input");
        assert_eq!(format!("{panic:?}"), "JoinError::Panic(\"bad input\")");
        let payload = panic.into_panic();
        assert_eq!(payload.downcast_ref::<String>().unwrap(), "bad input");
        assert!(JoinError::aborted().try_into_panic().is_err());
        let broken = JoinError::broken_pool(Arc::new(panic_message_of(&"no database")));
        assert!(broken.is_broken_pool() && !broken.is_cancelled() && !broken.is_panic());
        assert!(broken.to_string().contains("no database"), "{broken}");
    }

    #[test]
    fn a_join_error_is_two_words() {
        // It lives in every task's output slot; see DESIGN.md, "Memory per task".
        assert_eq!(std::mem::size_of::<JoinError>(), 16);
        assert_eq!(std::mem::size_of::<Result<(), JoinError>>(), 16);
    }
}
