//! loom models of the core loop's cross-thread paths: remote wakes, remote spawns, abort, joins,
//! and all of them racing shutdown. Each model drives the real `evloop` crate, built with
//! `--cfg loom` so that its atomics, mutexes, condvar parker and thread-locals are loom's.
//!
//! Run with: `RUSTFLAGS="--cfg loom" cargo test -p loom-tests --release`
#![cfg(loom)]

use std::future::poll_fn;
use std::task::{Poll, Waker};

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;

/// A one-shot signal built only on `Waker`, with loom's primitives: one side `set`s, the other
/// awaits `wait`. It stands for any foreign source of wake-ups (a channel, the blocking pool).
#[derive(Clone, Default)]
struct Signal {
    inner: Arc<(AtomicBool, Mutex<Option<Waker>>)>,
}

impl Signal {
    fn set(&self) {
        self.inner.0.store(true, Ordering::SeqCst);
        let waker = self.inner.1.lock().unwrap().take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    async fn wait(&self) {
        poll_fn(|cx| {
            *self.inner.1.lock().unwrap() = Some(cx.waker().clone());
            if self.inner.0.load(Ordering::SeqCst) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }
}

/// Counts drops, to check that a future is dropped exactly once whatever the interleaving.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A task waits on a signal that another thread sets: the remote wake races the loop's poll of
/// the task (registering the waker) and the loop going to sleep. Property: the wake-up is never
/// lost (loom reports a deadlock if the loop sleeps forever) and the task is polled at most twice.
#[test]
fn remote_wake_races_the_poll_and_the_park() {
    loom::model(|| {
        let rt = evloop::Runtime::new().unwrap();
        let signal = Signal::default();
        let polls = Arc::new(AtomicUsize::new(0));
        let setter = {
            let signal = signal.clone();
            thread::spawn(move || signal.set())
        };
        let task_polls = polls.clone();
        rt.block_on(async move {
            evloop::spawn(async move {
                task_polls.fetch_add(1, Ordering::SeqCst);
                signal.wait().await;
            })
            .await
            .unwrap();
        });
        setter.join().unwrap();
        assert!(polls.load(Ordering::SeqCst) >= 1);
    });
}

/// The main future (not a task) is woken from another thread: the MainWaker's flag + notify
/// against the loop's parked/notified word.
#[test]
fn remote_wake_of_the_main_future_is_never_lost() {
    loom::model(|| {
        let rt = evloop::Runtime::new().unwrap();
        let signal = Signal::default();
        let setter = {
            let signal = signal.clone();
            thread::spawn(move || signal.set())
        };
        rt.block_on(signal.wait());
        setter.join().unwrap();
    });
}

/// A waker cloned, woken and dropped on another thread while the task completes and the runtime
/// is dropped. Property: no double free or leak (loom checks every `Arc` is released) and the
/// task's future is dropped exactly once.
#[test]
fn a_waker_cloned_and_dropped_on_another_thread_races_completion() {
    loom::model(|| {
        let rt = evloop::Runtime::new().unwrap();
        let drops = Arc::new(AtomicUsize::new(0));
        let saved: Arc<Mutex<Option<Waker>>> = Arc::default();
        let token = DropCount(drops.clone());
        let task_saved = saved.clone();
        let handle = rt.block_on(async move {
            let handle = evloop::spawn(async move {
                let _token = token;
                let mut first = true;
                poll_fn(|cx| {
                    if first {
                        first = false;
                        *task_saved.lock().unwrap() = Some(cx.waker().clone());
                        Poll::Pending
                    } else {
                        Poll::Ready(())
                    }
                })
                .await
            });
            evloop::yield_now().await; // the task registers its waker
            handle
        });
        let waker = saved.lock().unwrap().take().unwrap();
        let waker_thread = thread::spawn(move || {
            let clone = waker.clone();
            waker.wake();
            drop(clone);
        });
        rt.block_on(handle).unwrap();
        drop(rt);
        waker_thread.join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

/// `Handle::spawn` from another thread races the runtime's shutdown. Property: the task either
/// runs or is refused — its JoinHandle resolves either way (never hangs) — and its future is
/// dropped exactly once, with no leak.
#[test]
fn handle_spawn_races_shutdown() {
    loom::model(|| {
        let rt = evloop::Runtime::new().unwrap();
        let handle = rt.handle();
        let drops = Arc::new(AtomicUsize::new(0));
        let token = DropCount(drops.clone());
        let spawner = thread::spawn(move || {
            handle.spawn(async move {
                let _token = token;
                1
            })
        });
        drop(rt);
        let join = spawner.join().unwrap();
        assert!(
            join.is_finished(),
            "a refused or cancelled task is complete at once"
        );
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

/// `call_soon_threadsafe` racing shutdown: accepted (and then run or dropped by shutdown) or
/// refused with `RuntimeClosed`; never both, never lost without a trace.
#[test]
fn call_soon_threadsafe_races_shutdown() {
    loom::model(|| {
        let rt = evloop::Runtime::new().unwrap();
        let handle = rt.handle();
        let drops = Arc::new(AtomicUsize::new(0));
        let token = DropCount(drops.clone());
        let caller = thread::spawn(move || handle.call_soon_threadsafe(move || drop(token)));
        drop(rt);
        let _accepted_or_refused = caller.join().unwrap();
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "the callback is dropped exactly once"
        );
    });
}

/// `abort` from another thread races the task's completion. Property: the join handle gives the
/// real output or a cancellation, and the future is dropped exactly once.
#[test]
fn abort_from_another_thread_races_completion() {
    loom::model(|| {
        let rt = evloop::Runtime::new().unwrap();
        let drops = Arc::new(AtomicUsize::new(0));
        let token = DropCount(drops.clone());
        let handle = rt.block_on(async move {
            evloop::spawn(async move {
                let _token = token;
                evloop::yield_now().await;
                7
            })
        });
        let handle = Arc::new(Mutex::new(Some(handle)));
        let aborter = {
            let handle = handle.clone();
            thread::spawn(move || {
                if let Some(handle) = &*handle.lock().unwrap() {
                    handle.abort();
                }
            })
        };
        let result = rt.block_on(poll_fn(|cx| {
            let mut slot = handle.lock().unwrap();
            let join = slot.as_mut().unwrap();
            let poll = std::pin::Pin::new(join).poll(cx);
            if poll.is_ready() {
                *slot = None;
            }
            poll
        }));
        aborter.join().unwrap();
        match result {
            Ok(value) => assert_eq!(value, 7),
            Err(error) => assert!(error.is_cancelled()),
        }
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

/// A thread blocks on `run_coroutine_threadsafe(..).result()` while the loop runs the task: the
/// join-waker hand-off (JoinHandle registering its waker vs the loop completing the task) and
/// the parker. Property: the thread gets the value; nothing hangs.
#[test]
fn a_thread_blocking_on_a_task_result_is_woken() {
    loom::model(|| {
        let rt = evloop::Runtime::new().unwrap();
        let handle = rt.handle();
        let done = Signal::default();
        let waiter = {
            let done = done.clone();
            thread::spawn(move || {
                let value = handle
                    .run_coroutine_threadsafe(async { 5 })
                    .result()
                    .unwrap();
                done.set();
                value
            })
        };
        rt.block_on(done.wait());
        assert_eq!(waiter.join().unwrap(), 5);
    });
}

use std::future::Future;
