//! Calling code evloop does not own: wakers, `Drop`s of user values, hooks.
//!
//! A runtime is a loop that keeps calling into code written by someone else. Any of those calls
//! can panic, and a panic that unwinds through the runtime's own machinery in the middle of a
//! state change leaves that change half done: a task freed while still linked, a worker that
//! never counts itself out, a permit that nobody will hand on. So evloop keeps one rule
//! everywhere (DESIGN.md §"When user code panics" lists every call site):
//!
//! **finish the bookkeeping first, then call the foreign code, through this module.**
//!
//! What happens to the panic depends on whether anyone can receive it:
//!
//! - **A waker** is a notification made on behalf of whoever changed the state (a task that
//!   completed, an event that was set, a timer that fired). Nobody waits for the waker's own
//!   result, and the caller did nothing wrong, so [`wake`] catches the panic and drops it. The
//!   panic hook has already reported it (on stderr, by default) — what asyncio does with an
//!   exception raised in a callback, and tokio with a panicking join waker. The wakes after it in
//!   the same batch still happen.
//! - **Many user values dropped at once** (a task group's children, a queue's items): each one is
//!   dropped in turn under [`FirstPanic`], which keeps the first panic and resumes it once all
//!   are gone. A second panic during the first one's unwinding would abort the process.
//! - **Anything else** either goes to the code that asked for it (a future's own `poll`, an `Ord`
//!   called inside `put`: the caller gets the panic, after the primitive is consistent again), or
//!   to a task's `JoinHandle` (a task's future and its `Drop`, see `task/cell.rs`).

use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::task::Waker;

/// Runs `f`, catching a panic from it; the panic hook has reported it, and nobody else can use
/// it. For foreign code called on behalf of nobody in particular.
pub(crate) fn quietly(f: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(f));
}

/// Wakes `waker`, which may be anyone's: a panic from it is caught (see the module doc).
pub(crate) fn wake(waker: Waker) {
    quietly(|| waker.wake());
}

/// As [`wake`], keeping the waker.
pub(crate) fn wake_by_ref(waker: &Waker) {
    quietly(|| waker.wake_by_ref());
}

/// Drops `value`, catching a panic from its `Drop`: for a value (a waker, most often) discarded
/// in the middle of a state change that must not be cut short.
pub(crate) fn drop_quietly<T>(value: T) {
    quietly(|| drop(value));
}

/// The first panic of a batch of foreign calls, resumed once the batch is over.
#[derive(Default)]
pub(crate) struct FirstPanic {
    payload: Option<Box<dyn Any + Send>>,
}

impl FirstPanic {
    pub(crate) fn new() -> FirstPanic {
        FirstPanic::default()
    }

    /// Runs `f`; if it panics, keeps the panic (the first one only) and returns `None`.
    pub(crate) fn catch<R>(&mut self, f: impl FnOnce() -> R) -> Option<R> {
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(value) => Some(value),
            Err(payload) => {
                self.keep(payload);
                None
            }
        }
    }

    /// Keeps `payload` unless a panic is kept already.
    fn keep(&mut self, payload: Box<dyn Any + Send>) {
        self.payload.get_or_insert(payload);
    }

    /// Drops every item, each on its own, so that one panicking `Drop` cannot stop the rest.
    pub(crate) fn drop_each(&mut self, items: impl IntoIterator) {
        for item in items {
            self.catch(|| drop(item));
        }
    }

    /// Takes the kept panic, if any.
    pub(crate) fn take(self) -> Option<Box<dyn Any + Send>> {
        self.payload
    }

    /// Resumes the kept panic, if any. During another panic's unwinding (a `Drop` called by it)
    /// the kept one is dropped instead: resuming it would abort the process.
    pub(crate) fn resume(self) {
        if let Some(payload) = self.payload {
            if !std::thread::panicking() {
                resume_unwind(payload);
            }
        }
    }
}

/// A `Vec` of user values (futures, children) that drops them one by one: one value's panicking
/// `Drop` neither keeps the others from being dropped nor, with a second panic, aborts the
/// process. The first panic is resumed once all are gone.
pub(crate) struct DropEach<T>(pub(crate) Vec<T>);

impl<T> Drop for DropEach<T> {
    fn drop(&mut self) {
        let mut panics = FirstPanic::new();
        panics.drop_each(self.0.drain(..));
        panics.resume();
    }
}

impl<T> std::ops::Deref for DropEach<T> {
    type Target = Vec<T>;
    fn deref(&self) -> &Vec<T> {
        &self.0
    }
}

impl<T> std::ops::DerefMut for DropEach<T> {
    fn deref_mut(&mut self) -> &mut Vec<T> {
        &mut self.0
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    struct Loud(u32);
    impl Drop for Loud {
        fn drop(&mut self) {
            panic!("drop {}", self.0);
        }
    }

    #[test]
    fn drop_each_drops_all_and_keeps_the_first_panic() {
        let mut first = FirstPanic::new();
        first.drop_each([Loud(1), Loud(2), Loud(3)]);
        let payload = first.take().expect("a panic was kept");
        assert_eq!(payload.downcast_ref::<String>().unwrap(), "drop 1");
    }

    #[test]
    fn resume_rethrows_the_kept_panic() {
        let mut first = FirstPanic::new();
        assert_eq!(first.catch(|| 5), Some(5));
        first.catch(|| panic!("kept"));
        assert!(catch_unwind(AssertUnwindSafe(|| first.resume())).is_err());
    }
}
