//! What a queue's operations report when they cannot do what was asked: [`QueueShutDown`],
//! [`TryPutError`], [`TryGetError`], [`TaskDoneError`].

use std::fmt;

/// The error of a `put` or `get` on a shut-down queue (asyncio's `QueueShutDown`); a refused
/// `put` gives its item back in it.
#[derive(Clone, PartialEq, Eq)]
pub struct QueueShutDown<T = ()>(pub T);

impl<T> QueueShutDown<T> {
    /// The item a refused `put` gives back.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueShutDown(..)")
    }
}

impl<T> fmt::Display for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue was shut down")
    }
}

impl<T> std::error::Error for QueueShutDown<T> {}

/// The error of [`GenericQueue::put_nowait`](super::GenericQueue::put_nowait); the item comes back.
#[derive(Clone, PartialEq, Eq)]
pub enum TryPutError<T> {
    /// No room without waiting (asyncio's `QueueFull`).
    Full(T),
    /// The queue was shut down.
    ShutDown(T),
}

impl<T> TryPutError<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::Full(item) | TryPutError::ShutDown(item) => item,
        }
    }
}

impl<T> fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("Full(..)"),
            TryPutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryPutError::Full(_) => "the queue is full; use put().await to wait for room",
            TryPutError::ShutDown(_) => "the queue was shut down",
        })
    }
}

impl<T> std::error::Error for TryPutError<T> {}

/// The error of [`GenericQueue::get_nowait`](super::GenericQueue::get_nowait).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TryGetError {
    /// No item without waiting (asyncio's `QueueEmpty`).
    Empty,
    /// No item, and the queue was shut down, so none will come.
    ShutDown,
}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryGetError::Empty => "the queue is empty; use get().await to wait for an item",
            TryGetError::ShutDown => "the queue is empty and was shut down",
        })
    }
}

impl std::error::Error for TryGetError {}

/// The error of [`GenericQueue::task_done`](super::GenericQueue::task_done) called more often than items were put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDoneError(pub(super) ());

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called more times than there were items put in the queue")
    }
}

impl std::error::Error for TaskDoneError {}
