//! Handle: spawning, callbacks and coroutines from other threads, and what happens once the
//! runtime is gone.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::{within, Flag};
use evloop::time::sleep;
use evloop::{Handle, Runtime, RuntimeClosed};

/// Runs the loop until `done` is set, so that other threads' submissions get served.
async fn serve_until(done: Flag) {
    done.wait().await;
}

#[test]
fn spawn_from_another_thread_wakes_a_sleeping_loop() {
    within(Duration::from_secs(10), || {
        evloop::run(async {
            let handle = Handle::current();
            let (sender, receiver) = mpsc::channel();
            let thread = std::thread::spawn(move || {
                // Not an order the test relies on: it passes whichever comes first. The pause
                // only makes the parked loop the likely case; the loom model
                // `remote_wake_races_the_poll_and_the_park` checks every interleaving.
                std::thread::sleep(Duration::from_millis(20));
                let task = handle.spawn(async move {
                    sender.send(std::thread::current().id()).unwrap();
                    5
                });
                common::block_on_thread(task)
            });
            while !thread.is_finished() {
                sleep(Duration::from_millis(50)).await;
            }
            assert_eq!(thread.join().unwrap().unwrap(), 5);
            assert_eq!(
                receiver.recv().unwrap(),
                std::thread::current().id(),
                "ran on the loop"
            );
        })
    });
}

#[test]
fn call_soon_threadsafe_runs_the_callback_on_the_loop_thread() {
    within(Duration::from_secs(10), || {
        let rt = Runtime::new().unwrap();
        let loop_thread = std::thread::current().id();
        let handle = rt.handle();
        let done = Flag::default();
        let ran_on = Arc::new(std::sync::Mutex::new(None));
        let thread = std::thread::spawn({
            let done = done.clone();
            let ran_on = ran_on.clone();
            move || {
                handle
                    .call_soon_threadsafe(move || {
                        *ran_on.lock().unwrap() = Some(std::thread::current().id());
                        done.set();
                    })
                    .unwrap();
            }
        });
        rt.block_on(serve_until(done));
        thread.join().unwrap();
        assert_eq!(*ran_on.lock().unwrap(), Some(loop_thread));
    });
}

#[test]
fn run_coroutine_threadsafe_result_blocks_until_done() {
    within(Duration::from_secs(10), || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let done = Flag::default();
        let thread = std::thread::spawn({
            let done = done.clone();
            move || {
                // The coroutine waits for this thread's go, so "not yet" holds however slowly
                // either side runs.
                let (go, ready) = evloop::sync::oneshot::channel();
                let mut future = handle.run_coroutine_threadsafe(async {
                    ready.await.unwrap();
                    "slept"
                });
                assert!(!future.done());
                let early = future.result_timeout(Duration::from_millis(1));
                assert_eq!(
                    early.unwrap_err().to_string(),
                    "deadline has elapsed before the operation completed"
                );
                go.send(()).unwrap();
                let result = future.result_timeout(Duration::from_secs(5)).unwrap();
                done.set();
                result
            }
        });
        rt.block_on(serve_until(done));
        assert_eq!(thread.join().unwrap().unwrap(), "slept");
    });
}

#[test]
fn a_concurrent_future_can_be_cancelled_and_awaited() {
    within(Duration::from_secs(10), || {
        evloop::run(async {
            let handle = Handle::current();
            let future = handle.run_coroutine_threadsafe(sleep(Duration::from_secs(3600)));
            future.cancel();
            assert!(future.await.unwrap_err().is_cancelled());
            let quick = handle.run_coroutine_threadsafe(async { 1 });
            assert_eq!(quick.await.unwrap(), 1);
        })
    });
}

#[test]
#[should_panic(
    expected = "ConcurrentFuture::result blocks its thread, and this thread runs an evloop loop"
)]
fn blocking_on_a_concurrent_future_from_its_own_loop_panics() {
    evloop::run(async {
        let future = Handle::current().run_coroutine_threadsafe(async {});
        let _ = future.result();
    });
}

#[test]
fn after_shutdown_submissions_fail_clearly_and_never_hang() {
    within(Duration::from_secs(10), || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        drop(rt);
        let task = handle.spawn(async { 1 });
        let error = common::block_on_thread(task).unwrap_err();
        assert!(error.is_cancelled());
        assert!(error.to_string().contains("runtime shut down"), "{error}");

        let callback = handle.call_soon_threadsafe(|| unreachable!("never runs"));
        assert!(matches!(callback, Err(RuntimeClosed { .. })));
        assert!(callback.unwrap_err().to_string().contains("has shut down"));

        let future = handle.run_coroutine_threadsafe(async { 2 });
        assert!(future.done());
        assert!(future.result().unwrap_err().is_cancelled());
        assert!(format!("{handle:?}").contains("closed: true"));
    });
}

#[test]
fn a_refused_spawn_drops_its_future_on_the_calling_thread() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    drop(rt);
    let drops = common::DropCounter::default();
    let token = drops.token();
    let _task = handle.spawn(async move {
        let _token = token;
    });
    assert_eq!(drops.count(), 1);
}

#[test]
fn handle_spawn_on_the_loop_thread_takes_the_direct_path() {
    evloop::run(async {
        let task = Handle::current().spawn(async { std::thread::current().id() });
        assert_eq!(task.await.unwrap(), std::thread::current().id());
    });
}

#[test]
fn current_and_try_current() {
    assert!(Handle::try_current().is_none());
    evloop::run(async {
        assert!(Handle::try_current().is_some());
        let _ = Handle::current();
    });
}

#[test]
#[should_panic(expected = "Handle::current called outside of a runtime")]
fn handle_current_outside_a_runtime_panics() {
    let _ = Handle::current();
}

#[test]
fn many_threads_spawning_at_once_lose_nothing() {
    within(Duration::from_secs(20), || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let ran = Arc::new(AtomicUsize::new(0));
        let done = Flag::default();
        const THREADS: usize = 4;
        const PER_THREAD: usize = if cfg!(miri) { 100 } else { 2_500 };
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let handle = handle.clone();
                let ran = ran.clone();
                let done = done.clone();
                std::thread::spawn(move || {
                    for _ in 0..PER_THREAD {
                        let ran = ran.clone();
                        let done = done.clone();
                        handle
                            .call_soon_threadsafe(move || {
                                if ran.fetch_add(1, Ordering::SeqCst) + 1 == THREADS * PER_THREAD {
                                    done.set();
                                }
                            })
                            .unwrap();
                    }
                })
            })
            .collect();
        rt.block_on(serve_until(done));
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(ran.load(Ordering::SeqCst), THREADS * PER_THREAD);
    });
}

#[test]
fn a_callback_cancelled_before_the_loop_runs_it_never_runs_and_is_dropped() {
    within(Duration::from_secs(10), || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let drops = common::DropCounter::default();
        let (ran, kept) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        let scheduled = std::thread::spawn({
            let (handle, token) = (handle.clone(), drops.token());
            let (ran, kept) = (ran.clone(), kept.clone());
            move || {
                let cancelled = handle
                    .call_soon_threadsafe(move || {
                        let _token = token;
                        ran.store(true, Ordering::SeqCst);
                    })
                    .unwrap();
                let kept = handle
                    .call_soon_threadsafe(move || kept.store(true, Ordering::SeqCst))
                    .unwrap();
                (cancelled, kept)
            }
        });
        let (cancelled, not_cancelled) = scheduled.join().unwrap();
        std::thread::spawn({
            let cancelled = cancelled.clone();
            move || cancelled.cancel() // from yet another thread
        })
        .join()
        .unwrap();
        rt.block_on(async {
            while !kept.load(Ordering::SeqCst) {
                evloop::yield_now().await;
            }
        });
        assert!(
            !ran.load(Ordering::SeqCst),
            "a cancelled callback never runs"
        );
        assert_eq!(drops.count(), 1, "and it was dropped");
        assert!(cancelled.cancelled() && !not_cancelled.cancelled());
        not_cancelled.cancel(); // after it ran: nothing happens
        assert!(!not_cancelled.cancelled());
    });
}
