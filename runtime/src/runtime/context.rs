//! Which runtime, if any, is running on this thread — and where a wake should go.
//!
//! `evloop::spawn`, timers and wakers need the current runtime without being handed it, as in
//! asyncio's "running loop". A thread-local slot holds the loop-thread half (`Local`) of the
//! runtime whose `block_on` is on the stack; it is set on entry and restored on exit (also when
//! the future panics).

use std::cell::RefCell;
use std::rc::Rc;

use super::local::Local;
use crate::io::Reactor;

// std's `const` initializer skips the lazy-initialisation check on every access; loom's macro
// does not accept it, hence two declarations of the same slot.
#[cfg(not(loom))]
std::thread_local! {
    static CURRENT: RefCell<Option<Rc<Local>>> = const { RefCell::new(None) };
}
#[cfg(loom)]
loom::thread_local! {
    static CURRENT: RefCell<Option<Rc<Local>>> = RefCell::new(None);
}

/// Restores the previous thread-local runtime when dropped.
pub(crate) struct EnterGuard {
    previous: Option<Rc<Local>>,
}

/// Makes `local` the current runtime for `block_on`.
///
/// # Panics
/// If a runtime is already running on this thread: blocking inside it would stop every task it
/// runs, the caller's included.
#[track_caller]
pub(crate) fn enter(local: &Rc<Local>) -> EnterGuard {
    CURRENT.with(|current| {
        let mut current = current.borrow_mut();
        assert!(
            current.is_none(),
            "cannot start an evloop runtime (block_on / evloop::run) from inside a running one: \
             it would block the running loop and every task on it. Spawn the work with \
             evloop::spawn and .await it instead."
        );
        *current = Some(local.clone());
    });
    EnterGuard { previous: None }
}

/// Makes `local` the current runtime while it shuts down, even inside another runtime (a runtime
/// can be dropped from within a task of another one). The previous one comes back afterwards.
pub(crate) fn enter_for_shutdown(local: &Rc<Local>) -> EnterGuard {
    let previous = CURRENT.with(|current| current.borrow_mut().replace(local.clone()));
    EnterGuard { previous }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // `try_with`: the guard may be dropped while the thread's locals are being destroyed.
        let _ = CURRENT.try_with(|current| *current.borrow_mut() = previous);
    }
}

/// Runs `f` with the current runtime's loop-thread half, or returns `None` outside a runtime.
// `inline(always)`: every spawn and every wake on the loop thread comes through here, and left to
// itself the compiler kept it out of line (a call and a frame per spawn: about 10 instructions,
// 1.3% of a spawn-and-join, measured with callgrind).
#[inline(always)]
pub(crate) fn with_local<R>(f: impl FnOnce(&Local) -> R) -> Option<R> {
    CURRENT
        .try_with(|current| current.borrow().as_deref().map(f))
        .ok()
        .flatten()
}

/// The current runtime's loop-thread half, for a value that must find it again later (a
/// `LocalSpawner`); it keeps a weak reference, since the runtime may go first.
pub(crate) fn current_local() -> Option<Rc<Local>> {
    CURRENT
        .try_with(|current| current.borrow().clone())
        .ok()
        .flatten()
}

/// Whether the calling thread is running an evloop loop (the rule for calls that block their
/// thread: `park::refuse_on_a_loop`).
pub(crate) fn is_a_loop_thread() -> bool {
    with_local(|_| ()).is_some()
}

/// The current runtime's reactor, for an I/O source to register with and, when it is dropped,
/// to deregister from (it keeps a weak reference: the runtime may go first).
pub(crate) fn current_reactor() -> Option<Rc<RefCell<Reactor>>> {
    with_local(Local::reactor)
}
