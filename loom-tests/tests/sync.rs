//! loom models of the synchronisation primitives (`evloop::sync`), whose state sits behind the
//! shim's mutex: every interleaving of acquire, release, cancel, set and wait across threads.
//!
//! Run with: `RUSTFLAGS="--cfg loom" cargo test -p loom-tests --release`
#![cfg(loom)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Wake, Waker};

use evloop::sync::{Event, Mutex, Semaphore};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

/// Wakes a loom thread parked in `block_on`.
struct Unpark(loom::thread::Thread);

impl Wake for Unpark {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.unpark();
    }
}

/// A minimal executor for one loom thread: poll, park until woken, repeat.
fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(std::sync::Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

/// Two threads contend for one permit. Properties: at most one holder at a time (mutual
/// exclusion), nobody waits forever (loom reports deadlocks), and the permit is back at the end.
#[test]
fn a_semaphore_excludes_and_conserves_permits() {
    loom::model(|| {
        let semaphore = Arc::new(Semaphore::new(1));
        let holders = Arc::new(AtomicUsize::new(0));
        let contender = |semaphore: Arc<Semaphore>, holders: Arc<AtomicUsize>| {
            move || {
                let permit = block_on(semaphore.acquire());
                assert_eq!(
                    holders.fetch_add(1, Ordering::SeqCst),
                    0,
                    "two holders at once"
                );
                holders.fetch_sub(1, Ordering::SeqCst);
                drop(permit);
            }
        };
        let other = thread::spawn(contender(semaphore.clone(), holders.clone()));
        contender(semaphore.clone(), holders)();
        other.join().unwrap();
        assert_eq!(semaphore.available_permits(), 1);
    });
}

/// A queued waiter is cancelled (dropped) while another thread releases a permit: whether the
/// grant reached it before the drop or not, the permit ends up free.
#[test]
fn a_cancelled_waiter_racing_a_release_loses_no_permit() {
    loom::model(|| {
        let semaphore = Arc::new(Semaphore::new(0));
        let waiter = {
            let semaphore = semaphore.clone();
            thread::spawn(move || {
                let mut acquire = pin!(semaphore.acquire());
                let polled = acquire
                    .as_mut()
                    .poll(&mut Context::from_waker(Waker::noop()));
                // Dropped here, granted or not (if it won at once, the permit drops too).
                drop(polled);
            })
        };
        semaphore.add_permits(1);
        waiter.join().unwrap();
        assert_eq!(semaphore.available_permits(), 1);
    });
}

/// `set` on one thread races `wait` on another: the waiter always returns.
#[test]
fn event_set_races_wait() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let waiter = {
            let event = event.clone();
            thread::spawn(move || block_on(event.wait()))
        };
        event.set();
        waiter.join().unwrap();
        assert!(event.is_set());
    });
}

/// Two threads update data behind the async `Mutex`, one of them giving up a queued attempt
/// first. Properties: no lost update (exclusion), nobody waits forever, the lock ends up free.
#[test]
fn a_mutex_excludes_even_with_a_cancelled_waiter() {
    loom::model(|| {
        let mutex = Arc::new(Mutex::new(0));
        let other = {
            let mutex = mutex.clone();
            thread::spawn(move || {
                // A queued attempt that is abandoned (boxed, so that `drop` really drops the
                // future: `pin!` would keep it alive, and queued, until the end of the scope),
                // then a real one.
                let mut attempt = Box::pin(mutex.lock());
                let _ = attempt
                    .as_mut()
                    .poll(&mut Context::from_waker(Waker::noop()));
                drop(attempt);
                let mut guard = block_on(mutex.lock());
                let value = *guard;
                *guard = value + 1;
            })
        };
        {
            let mut guard = block_on(mutex.lock());
            let value = *guard;
            *guard = value + 1;
        }
        other.join().unwrap();
        assert_eq!(*block_on(mutex.lock()), 2);
        assert!(!mutex.is_locked());
    });
}
