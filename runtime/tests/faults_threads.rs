//! Faults where threads meet the loop: wakers that panic on a pool worker, results whose `Drop`
//! panics, blocking calls made on a loop thread, and panics that must name the caller's line.

mod common;

use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Arc, Once};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use common::{gated_jobs, within};
use evloop::blocking::ThreadPoolExecutor;

struct PanicOnWake;

impl Wake for PanicOnWake {
    fn wake(self: Arc<Self>) {
        panic!("this waker panics when woken (on purpose)");
    }
}

fn poll_with<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(waker))
}

#[test]
fn a_panicking_waker_does_not_kill_the_pool_worker_that_calls_it() {
    within(Duration::from_secs(30), || {
        let pool = ThreadPoolExecutor::new(1);
        let (gates, mut jobs) = gated_jobs(&pool, [1]);
        let mut job = jobs.remove(0);
        assert!(poll_with(&mut job, &Waker::from(Arc::new(PanicOnWake))).is_pending());
        gates[0].send(()).unwrap(); // the job returns; its worker wakes the rogue waker
                                    // The one worker survived: it runs the next job, and the count says so.
        assert_eq!(pool.submit(|| 2).result().unwrap(), 2);
        assert_eq!(pool.worker_count(), 1);
        // The first job's result was stored before its waker was called.
        assert_eq!(job.result().unwrap(), 1);
    });
}

#[test]
fn a_result_whose_drop_panics_does_not_kill_the_pool_worker() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("this result panics when dropped (on purpose)");
        }
    }
    within(Duration::from_secs(30), || {
        let pool = ThreadPoolExecutor::new(1);
        let (release, gate) = mpsc::channel::<()>();
        let unwanted = pool.submit(move || {
            gate.recv().unwrap();
            PanicOnDrop
        });
        drop(unwanted); // nobody wants the result: the worker drops it
        release.send(()).unwrap();
        assert_eq!(pool.submit(|| 2).result().unwrap(), 2);
        assert_eq!(pool.worker_count(), 1);
    });
}

#[test]
fn the_runtime_pool_shuts_down_at_once_after_a_waker_panicked_on_its_worker() {
    within(Duration::from_secs(60), || {
        let rt = evloop::Runtime::builder()
            // Longer than `within` allows: a worker wrongly counted as busy would fail the test.
            .blocking_shutdown_timeout(Duration::from_secs(3600))
            .build()
            .unwrap();
        let (release, gate) = mpsc::channel::<()>();
        let (finished, job_finished) = mpsc::channel::<()>();
        rt.block_on(async {
            let mut job = evloop::run_in_executor(move || {
                gate.recv().unwrap();
                finished.send(()).unwrap();
            });
            assert!(poll_with(&mut job, &Waker::from(Arc::new(PanicOnWake))).is_pending());
        });
        release.send(()).unwrap();
        job_finished.recv().unwrap();
        drop(rt); // waits for running jobs only: there are none
    });
}

#[test]
fn shutdown_drops_every_cancelled_closure_even_if_their_drops_panic() {
    struct PanicOnDrop(Arc<std::sync::atomic::AtomicUsize>);
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            panic!("this closure panics when dropped (on purpose)");
        }
    }
    within(Duration::from_secs(30), || {
        let dropped = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let pool = ThreadPoolExecutor::new(1);
        // The one worker is busy (it has started this job), so the next two stay queued.
        let (started, job_started) = mpsc::channel::<()>();
        let (release, gate) = mpsc::channel::<()>();
        let busy = pool.submit(move || {
            started.send(()).unwrap();
            gate.recv().unwrap();
            1
        });
        job_started.recv().unwrap();
        let queued: Vec<_> = (0..2)
            .map(|_| {
                let guard = PanicOnDrop(dropped.clone());
                pool.submit(move || drop(guard))
            })
            .collect();
        // Cancelling them drops both closures; the first panic comes back here, after both.
        let shutdown = catch_unwind(AssertUnwindSafe(|| pool.shutdown(false, true)));
        assert!(shutdown.is_err(), "the first panic reaches the caller");
        assert_eq!(dropped.load(std::sync::atomic::Ordering::SeqCst), 2);
        assert!(queued.iter().all(|job| job.is_cancelled()));
        release.send(()).unwrap();
        assert_eq!(busy.result().unwrap(), 1);
    });
}

// ---- blocking calls on a loop thread -------------------------------------------------------

/// Runs `call` inside a task and returns its panic message.
fn panic_message_on_a_loop(call: impl FnOnce() + 'static) -> String {
    evloop::run(async move {
        let error = evloop::spawn(async move { call() }).await.unwrap_err();
        message(error.into_panic())
    })
}

fn message(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => payload
            .downcast_ref::<&str>()
            .map(|message| message.to_string())
            .unwrap_or_default(),
    }
}

fn assert_refused(message: &str, call: &str) {
    assert!(
        message.contains(call) && message.contains("loop"),
        "expected a refusal of {call} on a loop thread, got: {message}"
    );
}

#[test]
fn pool_future_result_refuses_to_block_a_loop_thread() {
    let pool = Arc::new(ThreadPoolExecutor::new(1));
    let p = pool.clone();
    let message = panic_message_on_a_loop(move || {
        let _ = p.submit(|| 1).result();
    });
    assert_refused(&message, "PoolFuture::result");
    let p = pool.clone();
    let message = panic_message_on_a_loop(move || {
        let _ = p.submit(|| 1).result_timeout(Duration::from_secs(1));
    });
    assert_refused(&message, "PoolFuture::result_timeout");
}

#[test]
fn the_pool_s_other_blocking_calls_refuse_a_loop_thread() {
    let pool = Arc::new(ThreadPoolExecutor::new(1));
    let p = pool.clone();
    let message = panic_message_on_a_loop(move || {
        let _ = p.map(|x: u32| x, [1, 2]).next();
    });
    assert_refused(&message, "Map::next");
    let p = pool.clone();
    let message = panic_message_on_a_loop(move || {
        let futures = vec![p.submit(|| 1)];
        let _ = evloop::blocking::as_completed(futures, None).next();
    });
    assert_refused(&message, "as_completed");
    let p = pool.clone();
    let message = panic_message_on_a_loop(move || p.shutdown(true, false));
    assert_refused(&message, "ThreadPoolExecutor::shutdown");
    // A refused shutdown changed nothing: the pool still works from a plain thread.
    assert_eq!(pool.submit(|| 3).result().unwrap(), 3);
}

#[test]
fn dropping_a_pool_on_a_loop_thread_does_not_block_the_loop() {
    let (release, gate) = mpsc::channel::<()>();
    let (finished, job_finished) = mpsc::channel::<u32>();
    within(Duration::from_secs(30), move || {
        evloop::run(async move {
            let pool = ThreadPoolExecutor::new(1);
            let _job = pool.submit(move || {
                gate.recv().unwrap();
                finished.send(9).unwrap();
            });
            drop(pool); // would wait for the gated job, which waits for this loop: returns at once
            release.send(()).unwrap();
        });
        // The job still ran to the end on its own thread.
        assert_eq!(job_finished.recv().unwrap(), 9);
    });
}

// ---- panics name the caller's line ---------------------------------------------------------

thread_local! {
    static LAST_PANIC_LOCATION: Cell<Option<(&'static str, u32)>> = const { Cell::new(None) };
}

/// The location of the panic `f` raises, as the panic hook saw it.
fn panic_location(f: impl FnOnce()) -> (&'static str, u32) {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Some(location) = info.location() {
                // Only `'static` file names are kept: `Location::file` of a `#[track_caller]`
                // location is one.
                let file: &'static str = Box::leak(location.file().to_string().into_boxed_str());
                LAST_PANIC_LOCATION.with(|last| last.set(Some((file, location.line()))));
            }
            default(info);
        }));
    });
    LAST_PANIC_LOCATION.with(|last| last.set(None));
    assert!(
        catch_unwind(AssertUnwindSafe(f)).is_err(),
        "expected a panic"
    );
    LAST_PANIC_LOCATION
        .with(Cell::get)
        .expect("the hook saw the panic")
}

#[test]
fn calls_outside_a_runtime_panic_at_the_caller_s_line() {
    let at = |f: &dyn Fn()| panic_location(f).0;
    assert_eq!(at(&|| drop(evloop::spawn(async {}))), file!(), "spawn");
    assert_eq!(
        at(&|| drop(evloop::spawn_named("n", async {}))),
        file!(),
        "spawn_named"
    );
    assert_eq!(at(&|| drop(evloop::tasks())), file!(), "tasks");
    assert_eq!(
        at(&|| drop(evloop::Handle::current())),
        file!(),
        "Handle::current"
    );
    assert_eq!(
        at(&|| drop(evloop::run_in_executor(|| ()))),
        file!(),
        "run_in_executor"
    );
}
