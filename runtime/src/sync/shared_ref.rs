//! `SharedRef`: the pointers an owned guard may keep its primitive by — `Rc`, `Arc`, `&'static`.
//!
//! `lock()` borrows the mutex, so its guard cannot outlive the borrow: it cannot move into a
//! spawned task, which must be `'static`. An *owned* guard (`Mutex::lock_owned`,
//! `Semaphore::acquire_owned`, tokio's shape) keeps the primitive alive itself, by holding a
//! pointer to it. Any `Deref` would not do: the owned mutex guard reads the data through its
//! pointer and unlocks through it again later, so the pointer must reach the *same* mutex every
//! time, and a user's `Deref` could return a different one on each call. The trait is sealed and
//! implemented only for the pointers whose target never moves or changes.

use std::ops::Deref;
use std::rc::Rc;
use std::sync::Arc;

/// A shared pointer that reaches the same value on every dereference: [`Rc`], [`Arc`], or a
/// `&'static` reference. What [`Mutex::lock_owned`](super::Mutex::lock_owned) and
/// [`Semaphore::acquire_owned`](super::Semaphore::acquire_owned) take. Sealed.
pub trait SharedRef<T: ?Sized>: Deref<Target = T> + sealed::Sealed {}

impl<T: ?Sized> SharedRef<T> for Rc<T> {}
impl<T: ?Sized> SharedRef<T> for Arc<T> {}
impl<T: ?Sized> SharedRef<T> for &'static T {}

mod sealed {
    /// Only this crate can say which pointers are stable.
    pub trait Sealed {}

    impl<T: ?Sized> Sealed for std::rc::Rc<T> {}
    impl<T: ?Sized> Sealed for std::sync::Arc<T> {}
    impl<T: ?Sized> Sealed for &'static T {}
}
