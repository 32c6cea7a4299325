//! loom models of the blocking pool: the hand-off of a job to a worker, of its result back to a
//! waiting task or thread, and both racing cancel and shutdown. Each drives the real pool
//! (`evloop::blocking`), whose mutex, condvars and threads are loom's under `--cfg loom`.
//! Idle retirement is modelled with a zero idle timeout, which the loom build times out at once.
//!
//! Run with: `RUSTFLAGS="--cfg loom" cargo test -p loom-tests --release`
#![cfg(loom)]

use std::time::Duration;

use evloop::blocking::{as_completed, ThreadPoolExecutor};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

/// A task awaits a job's result while the worker delivers it: the result arrives and wakes the
/// loop whichever comes first (the task registering its waker, or the worker storing the value).
#[test]
fn a_job_result_wakes_the_awaiting_task() {
    loom::model(|| {
        let pool = ThreadPoolExecutor::new(1);
        let rt = evloop::Runtime::new().unwrap();
        let value = rt.block_on(async { pool.submit(|| 7).await });
        assert_eq!(value.unwrap(), 7);
        pool.shutdown(true, false);
    });
}

/// `cancel()` races the worker claiming the job. Property: exactly one of them wins — either the
/// job never runs and reports cancelled, or it runs once and reports its value.
#[test]
fn cancel_races_the_worker_claiming_the_job() {
    loom::model(|| {
        let pool = ThreadPoolExecutor::new(1);
        let runs = Arc::new(AtomicUsize::new(0));
        let future = pool.submit({
            let runs = runs.clone();
            move || runs.fetch_add(1, Ordering::SeqCst)
        });
        let cancelled = future.cancel();
        let result = future.result();
        pool.shutdown(true, false);
        if cancelled {
            assert!(result.unwrap_err().is_cancelled());
            assert_eq!(runs.load(Ordering::SeqCst), 0);
        } else {
            assert_eq!(result.unwrap(), 0);
            assert_eq!(runs.load(Ordering::SeqCst), 1);
        }
    });
}

/// A submit from another thread races `shutdown(wait = true)`. Property: the job either runs
/// (and shutdown waited for it) or is refused; its future always completes; nothing hangs.
#[test]
fn submit_races_shutdown() {
    loom::model(|| {
        let pool = Arc::new(ThreadPoolExecutor::new(1));
        let runs = Arc::new(AtomicUsize::new(0));
        let submitter = {
            let pool = pool.clone();
            let runs = runs.clone();
            thread::spawn(move || {
                pool.submit(move || {
                    runs.fetch_add(1, Ordering::SeqCst);
                })
            })
        };
        pool.shutdown(true, false);
        let future = submitter.join().unwrap();
        match future.result() {
            Ok(()) => assert_eq!(runs.load(Ordering::SeqCst), 1),
            Err(error) => {
                assert!(error.is_cancelled());
                assert_eq!(runs.load(Ordering::SeqCst), 0);
            }
        }
        pool.shutdown(true, false); // joins a worker started after the first shutdown looked
    });
}

/// A thread iterates `as_completed` while workers finish the jobs: every future is yielded once.
#[test]
fn as_completed_sees_every_completion() {
    loom::model(|| {
        let pool = ThreadPoolExecutor::new(1);
        let futures = [pool.submit(|| 1), pool.submit(|| 2)];
        let mut values: Vec<i32> = as_completed(futures, None)
            .map(|done| done.unwrap().result().unwrap())
            .collect();
        values.sort();
        assert_eq!(values, [1, 2]);
        pool.shutdown(true, false);
    });
}

/// A worker retires when idle (its timed wait times out: under loom a zero `idle_timeout` times
/// out at once, see `shim::wait_timeout`) while a submit arrives. Property: the submitted job
/// runs, whether the worker saw it before retiring or a new worker was started for it.
#[test]
fn submit_races_idle_exit() {
    loom::model(|| {
        let pool = ThreadPoolExecutor::builder()
            .max_workers(1)
            .idle_timeout(Duration::ZERO)
            .build();
        assert_eq!(pool.submit(|| 1).result().unwrap(), 1);
        // The worker now looks for work, times out and retires, racing this submit.
        assert_eq!(pool.submit(|| 2).result().unwrap(), 2);
        pool.shutdown(true, false);
    });
}

/// A worker that has just finished a job spins (one look at the queue, under loom) while a
/// submit arrives; the submit sees the spinner and does not signal. Property: the spinner looks
/// again under the lock before it sleeps, so the job runs.
#[test]
fn a_submit_racing_the_spinning_worker_is_not_missed() {
    loom::model(|| {
        let pool = ThreadPoolExecutor::new(1);
        assert_eq!(pool.submit(|| 1).result().unwrap(), 1);
        // The worker now spins, then sleeps, racing this submit.
        assert_eq!(pool.submit(|| 2).result().unwrap(), 2);
        pool.shutdown(true, false);
    });
}

/// A caller submits one job at a time and waits for each result: the worker must count itself
/// idle before the result wakes the caller, so that the next submit finds it idle. Property: one
/// worker serves both jobs, in every interleaving (concurrent.futures reuses idle threads).
#[test]
fn a_sequential_submit_reuses_the_idle_worker() {
    loom::model(|| {
        let pool = ThreadPoolExecutor::new(2);
        assert_eq!(pool.submit(|| 1).result().unwrap(), 1);
        assert_eq!(pool.submit(|| 2).result().unwrap(), 2);
        assert_eq!(pool.worker_count(), 1, "a second thread was started");
        pool.shutdown(true, false);
    });
}

/// A done-callback is added while the worker completes the job. Property: it runs exactly once
/// — taken by the completing worker, or run at once by the adding thread if the job was done.
#[test]
fn a_done_callback_added_while_the_job_finishes_runs_once() {
    loom::model(|| {
        let pool = ThreadPoolExecutor::new(1);
        let calls = Arc::new(AtomicUsize::new(0));
        let future = pool.submit(|| 1);
        future.add_done_callback({
            let calls = calls.clone();
            move || {
                calls.fetch_add(1, Ordering::SeqCst);
            }
        });
        assert_eq!(future.result().unwrap(), 1);
        pool.shutdown(true, false); // the worker, which may run the callback, is joined
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    });
}

/// A worker's initializer panics while a job is submitted. Property: the job's future completes
/// with the broken pool's error — whether it was queued before the pool broke (and failed by the
/// breaking worker) or submitted after (refused at once) — and shutdown joins everything.
#[test]
fn a_submit_racing_a_failing_initializer_never_hangs() {
    quiet_panics_saying(INITIALIZER_FAILS);
    loom::model(|| {
        let pool = ThreadPoolExecutor::builder()
            .max_workers(1)
            .initializer(|| panic!("{INITIALIZER_FAILS}"))
            .build();
        let first = pool.submit(|| 1);
        let second = pool.submit(|| 2);
        assert!(first.result().unwrap_err().is_broken_pool());
        assert!(second.result().unwrap_err().is_broken_pool());
        pool.shutdown(true, false);
    });
}

const INITIALIZER_FAILS: &str = "the model's initializer fails";

/// Keeps the panic hook from printing `message` (a panic the model makes on purpose, once per
/// interleaving); every other panic is reported as usual.
fn quiet_panics_saying(message: &'static str) {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied());
        if text != Some(message) {
            report(info);
        }
    }));
}
