//! The runtime's cross-thread half: everything another thread may touch.
//!
//! The loop thread owns almost everything (see `local.rs`). What other threads need is small:
//! - the **inbox**, where they leave tasks they woke and tasks they spawned, under one mutex;
//! - the **wake word** and the driver's [`Unparker`], to interrupt the loop if it is asleep.
//!
//! # The wake word: no lost wake-up, one syscall per sleep
//!
//! `wake_state` is one of three values. The loop moves it `EMPTY → PARKED` right before it sleeps,
//! with a compare-and-swap that fails if a notification arrived since it last looked; it moves it
//! back to `EMPTY` when it wakes (consuming any notification). A notifier swaps in `NOTIFIED` and
//! calls the unparker only if it saw `PARKED`. Because all of these are read-modify-writes on the
//! same word, they are totally ordered: either the notifier's swap comes after the loop's CAS (it
//! sees `PARKED` and unparks), or before it (the CAS fails and the loop does not sleep). So a
//! notification is never lost, and while the loop is awake — which is whenever a task on its own
//! thread wakes something — notifying costs one atomic swap and no system call.
//!
//! # The inbox: one notification per batch
//!
//! A thread that pushes into an empty inbox notifies the loop; one that pushes into a non-empty
//! inbox does not need to, because the loop takes the whole inbox at once and the first pusher's
//! notification covers the batch. `inbox_nonempty` mirrors "the inbox has entries" so the loop
//! can skip the mutex on every tick when nothing arrived.

use std::io;
use std::marker::PhantomData;

use crate::debug::{ErrorHandler, UnhandledError};
use crate::io::{Driver, Unparker};
use crate::shim::{lock, Arc, AtomicBool, AtomicUsize, Mutex, Ordering};
use crate::task::{NewTask, Queued, SendNewTask};

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;

/// The part of a runtime that is `Send + Sync`. Every task and every [`Handle`](crate::Handle)
/// holds an `Arc` to it, so it outlives the runtime while any of them exists.
pub(crate) struct Shared {
    inbox: Mutex<Inbox>,
    inbox_nonempty: AtomicBool,
    wake_state: AtomicUsize,
    unparker: Unparker,
    /// Unique among all runtimes ever created in this process (never reused, unlike the address).
    id: u64,
    /// Whether every task gets a record (`task/record.rs`), so that a task spawned from another
    /// thread gets one too.
    records_all_tasks: bool,
    /// Where errors nobody retrieved go (`debug/unhandled.rs`); here, because a `JoinHandle`
    /// dropped on any thread may be the one to find such an error.
    unhandled: ErrorHandler,
}

/// Work other threads have handed to the loop.
#[derive(Default)]
pub(crate) struct Inbox {
    pub(crate) woken: Vec<Queued>,
    pub(crate) spawned: Vec<NewTask>,
    /// Set at shutdown: from then on, wakes are dropped and spawns refused.
    closed: bool,
}

/// Proof that the holder is on the loop thread of one particular runtime.
///
/// Exactly one is created per runtime, by [`Shared::create`], on the thread that will run the loop,
/// and it cannot leave that thread (`!Send`, `!Sync`). Functions that touch a task's future take
/// a `&LoopToken` and check that it belongs to the task's runtime (see `task/cell.rs`).
pub(crate) struct LoopToken {
    shared: Arc<Shared>,
    _not_send: PhantomData<*const ()>,
}

impl LoopToken {
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub(crate) fn owns(&self, shared: &Arc<Shared>) -> bool {
        Arc::ptr_eq(&self.shared, shared)
    }
}

/// Why a cross-thread submission was refused: the runtime has shut down.
pub(crate) struct Closed<T>(pub(crate) T);

impl Shared {
    /// Creates the shared half, its loop token and the driver the loop will park in.
    pub(crate) fn create(
        records_all_tasks: bool,
        unhandled: ErrorHandler,
    ) -> io::Result<(LoopToken, Driver)> {
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let (driver, unparker) = Driver::new()?;
        let shared = Arc::new(Shared {
            inbox: Mutex::new(Inbox::default()),
            inbox_nonempty: AtomicBool::new(false),
            wake_state: AtomicUsize::new(EMPTY),
            unparker,
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            records_all_tasks,
            unhandled,
        });
        let token = LoopToken {
            shared,
            _not_send: PhantomData,
        };
        Ok((token, driver))
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Hands an error nobody retrieved to the runtime's handler.
    pub(crate) fn report_unhandled(&self, error: &UnhandledError) {
        self.unhandled.report(error);
    }

    /// Whether every task of this runtime gets a record, or only named ones.
    pub(crate) fn records_all_tasks(&self) -> bool {
        self.records_all_tasks
    }

    /// Wakes the loop if it is asleep; otherwise makes its next attempt to sleep return at once.
    pub(crate) fn notify(&self) {
        if self.wake_state.swap(NOTIFIED, Ordering::AcqRel) == PARKED {
            self.unparker.unpark();
        }
    }

    /// The loop sleeps in `driver` unless it was notified since the last `park`; I/O events
    /// that end the sleep go to `on_event`. Only the loop thread calls this (it owns the driver).
    pub(crate) fn park(
        &self,
        driver: &mut Driver,
        timeout: Option<std::time::Duration>,
        on_event: impl FnMut(&mio::event::Event),
    ) {
        let may_sleep = self
            .wake_state
            .compare_exchange(EMPTY, PARKED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if may_sleep {
            driver.park(timeout, on_event);
        }
        // Consume the notification (or our own PARKED mark): whatever it announced, the loop is
        // about to look for it.
        self.wake_state.swap(EMPTY, Ordering::AcqRel);
    }

    /// Hands the loop a task that a thread other than the loop's woke. Dropped if the runtime has
    /// shut down (its future is already gone then).
    pub(crate) fn push_woken(&self, task: Queued) {
        let mut inbox = lock(&self.inbox);
        if inbox.closed {
            drop(inbox);
            drop(task);
            return;
        }
        inbox.woken.push(task);
        self.announce(inbox);
    }

    /// Hands the loop a task spawned on another thread, or gives it back if the runtime has shut
    /// down.
    pub(crate) fn push_spawned(&self, task: SendNewTask) -> Result<(), Closed<SendNewTask>> {
        let mut inbox = lock(&self.inbox);
        if inbox.closed {
            return Err(Closed(task));
        }
        inbox.spawned.push(task.0);
        self.announce(inbox);
        Ok(())
    }

    /// After a push: release the lock, and notify the loop if this push made the inbox non-empty.
    fn announce(&self, inbox: crate::shim::MutexGuard<'_, Inbox>) {
        let first = !self.inbox_nonempty.swap(true, Ordering::AcqRel);
        drop(inbox);
        if first {
            self.notify();
        }
    }

    /// Takes everything in the inbox (loop thread), swapping in the loop's empty buffers so that
    /// neither side allocates in steady state. Returns `false` at once if the inbox is empty.
    pub(crate) fn take_inbox(&self, into: &mut Inbox) -> bool {
        if !self.inbox_nonempty.load(Ordering::Acquire) {
            return false;
        }
        let mut inbox = lock(&self.inbox);
        std::mem::swap(&mut inbox.woken, &mut into.woken);
        std::mem::swap(&mut inbox.spawned, &mut into.spawned);
        self.inbox_nonempty.store(false, Ordering::Release);
        true
    }

    /// Closes the inbox for good and returns what was in it (shutdown, loop thread).
    pub(crate) fn close_inbox(&self) -> Inbox {
        let mut inbox = lock(&self.inbox);
        inbox.closed = true;
        self.inbox_nonempty.store(false, Ordering::Release);
        Inbox {
            woken: std::mem::take(&mut inbox.woken),
            spawned: std::mem::take(&mut inbox.spawned),
            closed: true,
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.inbox).closed
    }
}
