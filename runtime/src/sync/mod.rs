//! Synchronisation: coordinating tasks (and threads) — asyncio's `Lock`, `Semaphore`, `Event`,
//! `Condition`, `Barrier`, `Queue` and futures set by hand.
//!
//! Every primitive here is `Send + Sync` (where its contents allow), works under any executor (it
//! only uses wakers), and is built on one waiter queue (`wait_queue.rs`) with FIFO order and
//! *grants*: a waiter that can proceed is given what it waited for inside the primitive's critical
//! section, then woken. That is what makes every `wait`/`acquire`/`get` future cancel-safe:
//! dropped before its grant, it just leaves the queue; dropped after, it gives the grant back to
//! the next waiter. Nothing is lost either way.
//!
//! | asyncio | evloop |
//! |---|---|
//! | `Lock` | [`Lock`] (= [`Mutex<()>`](Mutex)); `async with lock` is `let _held = lock.lock().await` |
//! | `Semaphore`, `BoundedSemaphore` | [`Semaphore`], [`BoundedSemaphore`] |
//! | `Event` | [`Event`] |
//! | `Condition` | [`Condition`], used with a [`MutexGuard`] |
//! | `Barrier` | [`Barrier`] |
//! | `Queue`, `LifoQueue`, `PriorityQueue` | [`Queue`], [`LifoQueue`], [`PriorityQueue`] |
//! | `loop.create_future()` + `set_result` | [`oneshot::channel`] |
//!
//! **Threads** use the same primitives: every waiting operation has a blocking form for plain
//! threads (`lock_blocking`, `acquire_blocking`, `wait_blocking`, `put_blocking`/`get_blocking`)
//! and a timed one (`..._timeout`), which queue with the tasks, in one FIFO, and give up as a
//! cancelled future does (nothing lost). Owned guards ([`Mutex::lock_owned`],
//! [`Semaphore::acquire_owned`]) keep the primitive alive through an `Rc` or `Arc`, so they can
//! move into a spawned task.
//!
//! **Where evloop differs from asyncio, on purpose**, all for the same reason (a grant is handed
//! over inside the release, so nobody overtakes a woken waiter and nothing is lost if it is
//! cancelled): a mutex reports locked while it is handed to the next waiter
//! ([`Mutex::is_locked`]); `qsize` counts an item promised to a woken getter
//! ([`GenericQueue::qsize`]); a semaphore grants permits to waiters at release time, in FIFO order
//! ([`Semaphore`]).
//!
//! The state of each primitive sits behind locks and atomics from the loom shim (a mutex for most;
//! the semaphore's free permits are one atomic word, its waiters behind a mutex), so the loom
//! models check these very types across threads. Only `mutex.rs` uses `unsafe` (its data cell; its module doc
//! says why and why it is sound).

mod barrier;
mod buffer;
mod condition;
mod event;
mod mutex;
pub mod oneshot;
mod queue;
mod semaphore;
mod shared_ref;
pub(crate) mod wait_queue;

pub use barrier::{Barrier, BarrierWait, BrokenBarrier};
pub use buffer::{Buffer, Fifo, Lifo, Priority};
pub use condition::{Condition, ConditionWait};
pub use event::{Event, EventWait};
pub use mutex::{Lock, Mutex, MutexGuard, MutexLock, OwnedMutexGuard};
pub use queue::{
    GenericQueue, LifoQueue, PriorityQueue, Queue, QueueGet, QueueJoin, QueuePut, QueueShutDown,
    QueueStream, TaskDoneError, TryGetError, TryPutError,
};
pub use semaphore::{
    Acquire, BoundedAcquire, BoundedPermit, BoundedSemaphore, NoPermits, OwnedSemaphorePermit,
    Semaphore, SemaphorePermit, TooManyPermits,
};
pub use shared_ref::SharedRef;
