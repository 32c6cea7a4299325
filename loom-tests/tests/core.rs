//! loom models of the core loop's cross-thread paths: remote wakes, remote spawns, abort, joins,
//! and all of them racing shutdown. Each model drives the real `evloop` crate, built with
//! `--cfg loom` so that its atomics, mutexes, condvar parker and thread-locals are loom's.
//!
//! Run with: `RUSTFLAGS="--cfg loom" cargo test -p loom-tests --release`
#![cfg(loom)]
// Several models spawn a task inside `block_on` and return its `JoinHandle` unawaited, on purpose:
// the model then acts on the handle from another thread.
#![allow(clippy::async_yields_async)]

use std::future::{poll_fn, Future};
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
        let join = rt.block_on(async move {
            evloop::spawn(async move {
                let _token = token;
                evloop::yield_now().await;
                7
            })
        });
        let (aborter, result) = abort_on_another_thread(&rt, join);
        aborter.join().unwrap();
        match result {
            Ok(value) => assert_eq!(value, 7),
            Err(error) => assert!(error.is_cancelled()),
        }
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

/// `abort` from another thread is the only thing that can end a task that waits forever: it must
/// queue the task and wake the sleeping loop. Property: the join handle reports a cancellation,
/// the future is dropped once, nothing hangs.
#[test]
fn abort_from_another_thread_cancels_an_idle_task() {
    loom::model(|| {
        let rt = evloop::Runtime::new().unwrap();
        let drops = Arc::new(AtomicUsize::new(0));
        let token = DropCount(drops.clone());
        let join = rt.block_on(async move {
            let join = evloop::spawn(async move {
                let _token = token;
                std::future::pending::<()>().await
            });
            evloop::yield_now().await; // the task runs and goes idle
            join
        });
        let (aborter, result) = abort_on_another_thread(&rt, join);
        aborter.join().unwrap();
        assert!(result.unwrap_err().is_cancelled());
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

/// Awaits `join` on the loop while another thread aborts it; returns that thread and the result.
fn abort_on_another_thread<T: Send + 'static>(
    rt: &evloop::Runtime,
    join: evloop::JoinHandle<T>,
) -> (thread::JoinHandle<()>, Result<T, evloop::JoinError>) {
    // The handle is shared so the other thread can call `abort` while the loop polls it.
    let join = Arc::new(Mutex::new(Some(join)));
    let aborter = {
        let join = join.clone();
        thread::spawn(move || {
            if let Some(join) = &*join.lock().unwrap() {
                join.abort();
            }
        })
    };
    let result = rt.block_on(poll_fn(|cx| {
        let mut slot = join.lock().unwrap();
        let poll = std::pin::Pin::new(slot.as_mut().unwrap()).poll(cx);
        if poll.is_ready() {
            *slot = None;
        }
        poll
    }));
    (aborter, result)
}

/// The `JoinHandle` is dropped on another thread while the loop completes the task. Property:
/// the output is dropped exactly once — by the loop if the handle let go first, by the handle
/// if the output was already there — and so is the future.
#[test]
fn a_join_handle_dropped_on_another_thread_races_completion() {
    loom::model(|| {
        let rt = evloop::Runtime::new().unwrap();
        let drops = Arc::new(AtomicUsize::new(0));
        let output_drops = Arc::new(AtomicUsize::new(0));
        let token = DropCount(drops.clone());
        let output = DropCount(output_drops.clone());
        let join = rt.block_on(async move {
            evloop::spawn(async move {
                let _token = token;
                output
            })
        });
        let dropper = thread::spawn(move || drop(join));
        rt.block_on(evloop::yield_now()); // the loop runs the task
        dropper.join().unwrap();
        drop(rt);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert_eq!(output_drops.load(Ordering::SeqCst), 1);
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

/// `run_coroutine_threadsafe` from another thread, then a blocking `result()`, races the
/// runtime's shutdown. Property: the thread gets the value or a cancellation by shutdown, never
/// waits forever.
#[test]
fn run_coroutine_threadsafe_races_shutdown() {
    loom::model(|| {
        let rt = evloop::Runtime::new().unwrap();
        let handle = rt.handle();
        let caller = thread::spawn(move || handle.run_coroutine_threadsafe(async { 5 }).result());
        drop(rt);
        match caller.join().unwrap() {
            Ok(value) => assert_eq!(value, 5),
            Err(error) => assert!(error.is_cancelled()),
        }
    });
}
