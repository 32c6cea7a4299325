//! Synchronisation: coordinating tasks (and threads) — asyncio's `Lock`, `Semaphore`, `Event`, ...
//!
//! Every primitive here is `Send + Sync`, works under any executor (it only uses wakers), and is
//! built on one waiter queue (`wait_queue.rs`) with FIFO order and *grants*: a waiter that can proceed
//! is given what it waited for inside the primitive's critical section, then woken. That is what
//! makes every `wait`/`acquire` future cancel-safe: dropped before its grant, it just leaves the
//! queue; dropped after, it gives the grant back to the next waiter. Nothing is lost either way.
//!
//! The state of each primitive sits behind a mutex from the loom shim, so the loom models check
//! these very types across threads.
//!
//! Available so far: [`Mutex`]/[`Lock`], [`Semaphore`], [`BoundedSemaphore`], [`Event`]. (Issue 6
//! continues with `Condition`, `Barrier`, the queues and `oneshot`.)

mod event;
mod mutex;
mod semaphore;
pub(crate) mod wait_queue;

pub use event::{Event, EventWait};
pub use mutex::{Lock, Mutex, MutexGuard};
pub use semaphore::{
    Acquire, BoundedAcquire, BoundedPermit, BoundedSemaphore, NoPermits, Semaphore,
    SemaphorePermit, TooManyPermits,
};
