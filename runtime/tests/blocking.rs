//! The thread pool and run_in_executor: submit, map, as_completed, cancel, timeouts, panics,
//! shutdown, and blocking work inside the loop.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use common::{gated_jobs, within};
use evloop::blocking::{self, as_completed, ThreadPoolExecutor};
use evloop::time::sleep;
use evloop::ReturnWhen;

/// A pool with one worker kept busy until the returned sender is used: jobs submitted meanwhile
/// stay queued.
fn busy_single_worker() -> (ThreadPoolExecutor, mpsc::Sender<()>) {
    let pool = ThreadPoolExecutor::new(1);
    let (release, wait) = mpsc::channel::<()>();
    let started = Arc::new(Barrier::new(2));
    let worker_started = started.clone();
    drop(pool.submit(move || {
        worker_started.wait();
        let _ = wait.recv();
    }));
    started.wait();
    (pool, release)
}

#[test]
fn submit_returns_at_once_and_result_blocks() {
    let pool = ThreadPoolExecutor::new(2);
    let (release, gate) = mpsc::channel::<()>();
    let future = pool.submit(move || {
        gate.recv().unwrap();
        7
    });
    // `submit` returned while the job cannot finish: it did not wait for it.
    assert!(!future.done());
    release.send(()).unwrap();
    assert_eq!(future.result().unwrap(), 7);
}

#[test]
fn a_panicking_job_reports_and_its_worker_survives() {
    let pool = ThreadPoolExecutor::new(1);
    let first = pool.submit(|| std::thread::current().id());
    let first_thread = first.result().unwrap();
    let error = pool.submit(|| panic!("job failed")).result().unwrap_err();
    assert!(error.is_panic());
    assert_eq!(error.to_string(), "task panicked: job failed");
    let after = pool
        .submit(|| std::thread::current().id())
        .result()
        .unwrap();
    assert_eq!(
        after, first_thread,
        "the same worker thread ran the next job"
    );
}

#[test]
fn cancel_succeeds_only_before_the_job_starts() {
    let (pool, release) = busy_single_worker();
    let ran = Arc::new(AtomicUsize::new(0));
    let queued = pool.submit({
        let ran = ran.clone();
        move || ran.fetch_add(1, Ordering::SeqCst)
    });
    assert!(queued.cancel());
    assert!(queued.is_cancelled() && queued.done());
    release.send(()).unwrap();
    let error = queued.result().unwrap_err();
    assert!(error.is_cancelled(), "{error}");
    assert!(error.to_string().contains("before a worker started it"));
    let (finish, finishing) = mpsc::channel::<()>();
    // The job runs until we say so. We wait for `running()`, not the pool's counts: a worker
    // may have taken the job from the queue and not yet started it, and until it starts, it can
    // still be cancelled.
    let running = pool.submit(move || finishing.recv().unwrap());
    while !running.running() {
        std::thread::yield_now();
    }
    assert!(!running.cancel(), "a running job cannot be cancelled");
    finish.send(()).unwrap();
    running.result().unwrap();
    pool.shutdown(true, false);
    assert_eq!(ran.load(Ordering::SeqCst), 0, "the cancelled job never ran");
}

#[test]
fn result_timeout_expires_then_succeeds() {
    let pool = ThreadPoolExecutor::new(1);
    let (finish, finishing) = mpsc::channel::<()>();
    let mut future = pool.submit(move || {
        finishing.recv().unwrap(); // not before the first wait has timed out
        "late"
    });
    let early = future.result_timeout(Duration::from_millis(1));
    assert!(early.is_err());
    assert_eq!(
        early.unwrap_err().to_string(),
        "deadline has elapsed before the operation completed"
    );
    finish.send(()).unwrap();
    assert_eq!(
        future
            .result_timeout(Duration::from_secs(10))
            .unwrap()
            .unwrap(),
        "late"
    );
}

#[test]
fn map_keeps_input_order() {
    let pool = ThreadPoolExecutor::new(4);
    let results: Vec<u64> = pool
        .map(
            |ms: u64| {
                std::thread::sleep(Duration::from_millis(ms));
                ms
            },
            [40, 10, 30, 0, 20],
        )
        .map(Result::unwrap)
        .collect();
    assert_eq!(results, [40, 10, 30, 0, 20]);
}

/// A job for `map` tests: records that it ran, and job `1` waits until `gate` is opened (or
/// dropped), so the test knows which jobs have started when it acts.
fn recording_job(
    started: &Arc<Mutex<Vec<u64>>>,
    job_one_running: mpsc::Sender<()>,
    gate: mpsc::Receiver<()>,
) -> impl Fn(u64) -> u64 + Send + Sync + 'static {
    let started = started.clone();
    let gate = Mutex::new(gate);
    move |i| {
        started.lock().unwrap().push(i);
        if i == 1 {
            job_one_running.send(()).unwrap();
            let _ = gate.lock().unwrap().recv();
        }
        i * 10
    }
}

#[test]
fn dropping_a_map_early_cancels_the_jobs_not_started() {
    let pool = ThreadPoolExecutor::new(1);
    let started = Arc::new(Mutex::new(Vec::new()));
    let (job_one_running, running) = mpsc::channel();
    let (open, gate) = mpsc::channel::<()>();
    let mut results = pool.map(recording_job(&started, job_one_running, gate), 0..6);
    assert_eq!(results.next().unwrap().unwrap(), 0);
    running.recv().unwrap(); // job 1 runs; jobs 2..6 are queued
    drop(results);
    drop(open);
    pool.shutdown(true, false);
    assert_eq!(
        *started.lock().unwrap(),
        [0, 1],
        "queued jobs were cancelled"
    );
}

#[test]
fn a_map_with_a_timeout_stops_at_the_deadline_and_cancels_the_rest() {
    let pool = ThreadPoolExecutor::new(1);
    let started = Arc::new(Mutex::new(Vec::new()));
    let (job_one_running, _job_one_ran) = mpsc::channel(); // kept: job 1 reports to it
    let (open, gate) = mpsc::channel::<()>();
    let mut results = pool
        .map(recording_job(&started, job_one_running, gate), 0..6)
        .timeout(Duration::from_millis(50));
    // The deadline counts from the call to `map`, as in Python, so on a loaded machine it may
    // pass even before job 0 is done; job 1 waits for the gate, which opens only after the map
    // gave up, so it passes before job 1 is. Either way: results in order until the deadline,
    // one error, then nothing, and no job after job 1 ever starts.
    let mut results_before_the_deadline = Vec::new();
    let timed_out = loop {
        match results.next().expect("an error before the end") {
            Ok(result) => results_before_the_deadline.push(result.unwrap()),
            Err(timed_out) => break timed_out,
        }
    };
    assert!(results_before_the_deadline.len() <= 1);
    assert!(results_before_the_deadline
        .iter()
        .all(|&result| result == 0));
    assert!(timed_out.to_string().contains("deadline"), "{timed_out}");
    assert!(results.next().is_none(), "nothing after the timeout");
    drop(open);
    pool.shutdown(true, false);
    let started = started.lock().unwrap().clone();
    assert!(
        started == [0] || started == [0, 1],
        "{started:?}: the rest were cancelled"
    );
}

#[test]
fn a_buffered_map_keeps_at_most_buffersize_jobs_in_flight() {
    let pool = ThreadPoolExecutor::new(4);
    let submitted = Arc::new(AtomicUsize::new(0));
    let items = {
        let submitted = submitted.clone();
        (0..100u64).inspect(move |_| {
            submitted.fetch_add(1, Ordering::SeqCst);
        })
    };
    let mut results = pool.map_buffered(|i: u64| i + 1, items, 3);
    assert_eq!(
        submitted.load(Ordering::SeqCst),
        3,
        "only the first window is submitted"
    );
    assert_eq!(results.next().unwrap().unwrap(), 1);
    assert_eq!(
        submitted.load(Ordering::SeqCst),
        4,
        "one more for each result taken"
    );
    let rest: Vec<u64> = results.map(Result::unwrap).collect();
    assert_eq!(rest, (2..=100).collect::<Vec<_>>());
    assert_eq!(submitted.load(Ordering::SeqCst), 100);
}

#[test]
fn a_buffered_map_of_an_endless_iterator_can_be_closed() {
    let pool = ThreadPoolExecutor::new(2);
    let firsts: Vec<u64> = pool
        .map_buffered(|i: u64| i * 2, 0.., 4)
        .take(5)
        .map(Result::unwrap)
        .collect();
    assert_eq!(firsts, [0, 2, 4, 6, 8]);
}

#[test]
fn wait_first_completed_reports_every_future_already_done() {
    let pool = ThreadPoolExecutor::new(3);
    let (gates, futures) = gated_jobs(&pool, [10, 20, 30]);
    gates[0].send(()).unwrap();
    gates[2].send(()).unwrap();
    // Let both finish before waiting: both are done when it returns.
    while !(futures[0].done() && futures[2].done()) {
        std::thread::yield_now();
    }
    let waited = blocking::wait(futures, ReturnWhen::FirstCompleted, None);
    let mut done: Vec<usize> = waited.done.iter().map(|(index, _)| *index).collect();
    done.sort();
    assert_eq!(done, [0, 2]);
    assert_eq!(waited.not_done.len(), 1);
    assert_eq!(waited.not_done[0].0, 1);
    gates[1].send(()).unwrap();
    let results: Vec<u64> = waited
        .done
        .into_iter()
        .map(|(_, f)| f.result().unwrap())
        .collect();
    assert_eq!(results.iter().sum::<u64>(), 40);
}

#[test]
fn wait_first_exception_skips_cancelled_jobs_and_stops_at_a_panic() {
    let (pool, release) = busy_single_worker();
    let cancelled = pool.submit(|| 1);
    assert!(cancelled.cancel());
    let panicking = pool.submit(|| -> i32 { panic!("job failed") });
    let queued = pool.submit(|| 3);
    // The worker is let go at once; the wait may start before or after the panic, and must not
    // return on the cancelled job either way.
    let releaser = std::thread::spawn(move || release.send(()).unwrap());
    let waited = blocking::wait(
        vec![cancelled, panicking, queued],
        ReturnWhen::FirstException,
        None,
    );
    releaser.join().unwrap();
    let done: Vec<usize> = waited.done.iter().map(|(index, _)| *index).collect();
    assert!(
        done.contains(&0) && done.contains(&1),
        "stopped at the panic: {done:?}"
    );
    let (_, panicked) = waited
        .done
        .into_iter()
        .find(|(index, _)| *index == 1)
        .unwrap();
    assert!(panicked.result().unwrap_err().is_panic());
}

#[test]
fn wait_all_completed_with_a_timeout_returns_the_unfinished() {
    let pool = ThreadPoolExecutor::new(2);
    let (gates, futures) = gated_jobs(&pool, [1, 2]);
    gates[0].send(()).unwrap();
    // Job 0 is done before the timed wait starts, however slowly its thread ran: the 50 ms only
    // ever have to pass, never to suffice.
    while !futures[0].done() {
        std::thread::yield_now();
    }
    let waited = blocking::wait(
        futures,
        ReturnWhen::AllCompleted,
        Some(Duration::from_millis(50)),
    );
    assert_eq!(waited.done.len(), 1);
    assert_eq!(waited.done[0].0, 0);
    assert_eq!(waited.not_done.len(), 1);
    gates[1].send(()).unwrap();
    let (_, rest) = waited.not_done.into_iter().next().unwrap();
    assert_eq!(rest.result().unwrap(), 2);
    let nothing = blocking::wait(
        Vec::<evloop::blocking::PoolFuture<()>>::new(),
        ReturnWhen::AllCompleted,
        None,
    );
    assert!(nothing.done.is_empty() && nothing.not_done.is_empty());
}

#[test]
fn as_completed_yields_in_completion_order() {
    let pool = ThreadPoolExecutor::new(3);
    let (gates, futures) = gated_jobs(&pool, [60, 0, 30]);
    let mut completed = as_completed(futures, None);
    let mut order = Vec::new();
    // The jobs finish in the order 0, 30, 60: each is let through once the one before came out.
    for gate in [1, 2, 0] {
        gates[gate].send(()).unwrap();
        order.push(completed.next().unwrap().unwrap().result().unwrap());
    }
    assert!(completed.next().is_none());
    assert_eq!(order, [0, 30, 60]);
}

#[test]
fn as_completed_times_out_and_gives_back_the_rest() {
    let (pool, release) = busy_single_worker();
    let quick = ThreadPoolExecutor::new(1).submit(|| "quick");
    while !quick.done() {
        std::thread::yield_now(); // done before the 50 ms start, on however loaded a machine
    }
    let stuck = pool.submit(|| "stuck");
    let mut iteration = as_completed([stuck, quick], Some(Duration::from_millis(50)));
    assert_eq!(
        iteration.next().unwrap().unwrap().result().unwrap(),
        "quick"
    );
    assert!(iteration.next().unwrap().is_err(), "timed out");
    assert!(iteration.next().is_none());
    let pending = iteration.into_pending();
    assert_eq!(pending.len(), 1);
    release.send(()).unwrap();
    let stuck = pending.into_iter().next().unwrap();
    assert_eq!(stuck.result().unwrap(), "stuck");
}

#[test]
fn as_completed_of_nothing_is_empty() {
    assert!(
        as_completed(Vec::<evloop::blocking::PoolFuture<()>>::new(), None)
            .next()
            .is_none()
    );
}

#[test]
fn shutdown_with_cancel_futures_cancels_queued_jobs_and_finishes_running_ones() {
    let (pool, release) = busy_single_worker();
    let queued: Vec<_> = (0..5).map(|i| pool.submit(move || i)).collect();
    let watched: Vec<_> = queued.iter().map(|future| future.cancel_handle()).collect();
    let releaser = std::thread::spawn(move || {
        // The running job ends only once shutdown has cancelled the queued ones.
        while !watched.iter().all(|job| job.done()) {
            std::thread::yield_now();
        }
        release.send(()).unwrap();
    });
    pool.shutdown(true, true);
    releaser.join().unwrap();
    for future in queued {
        assert!(future.is_cancelled());
        assert!(future.result().unwrap_err().is_cancelled());
    }
    assert_eq!(pool.worker_count(), 0);
}

#[test]
fn shutdown_without_cancel_runs_every_queued_job() {
    let pool = ThreadPoolExecutor::new(2);
    let ran = Arc::new(AtomicUsize::new(0));
    let futures: Vec<_> = (0..20)
        .map(|_| {
            let ran = ran.clone();
            pool.submit(move || {
                std::thread::sleep(Duration::from_millis(1));
                ran.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    pool.shutdown(true, false);
    assert_eq!(ran.load(Ordering::SeqCst), 20);
    assert!(futures.iter().all(|future| future.done()));
}

#[test]
fn submit_after_shutdown_is_refused_clearly() {
    let pool = ThreadPoolExecutor::new(1);
    pool.shutdown(false, false);
    let refused = pool.submit(|| 1);
    assert!(refused.done() && refused.is_cancelled());
    let error = refused.result().unwrap_err();
    assert!(
        error
            .to_string()
            .contains("thread pool had already been shut down"),
        "{error}"
    );
}

#[test]
fn dropping_the_pool_waits_for_its_jobs() {
    let ran = Arc::new(AtomicUsize::new(0));
    {
        let pool = ThreadPoolExecutor::new(2);
        for _ in 0..10 {
            let ran = ran.clone();
            drop(pool.submit(move || {
                std::thread::sleep(Duration::from_millis(2));
                ran.fetch_add(1, Ordering::SeqCst);
            }));
        }
    }
    assert_eq!(ran.load(Ordering::SeqCst), 10);
}

#[test]
fn sequential_jobs_reuse_the_idle_worker() {
    // The worker must count itself idle before the result wakes the submitter: otherwise the
    // next submit sees nobody idle and starts a second thread. Many fresh pools, because the
    // race is in the first hand-back of each.
    let mut counts = Vec::new();
    for _ in 0..100 {
        let pool = ThreadPoolExecutor::new(4);
        for _ in 0..3 {
            pool.submit(|| ()).result().unwrap();
        }
        counts.push(pool.worker_count());
    }
    assert!(counts.iter().all(|&count| count == 1), "{counts:?}");
}

#[test]
fn threads_start_lazily_and_stay_within_the_limit() {
    let pool = ThreadPoolExecutor::new(3);
    assert_eq!(pool.worker_count(), 0);
    let barrier = Arc::new(Barrier::new(4));
    let futures: Vec<_> = (0..3)
        .map(|_| {
            let barrier = barrier.clone();
            pool.submit(move || {
                barrier.wait();
            })
        })
        .collect();
    barrier.wait(); // all three jobs run at once: three workers
    for future in futures {
        future.result().unwrap();
    }
    let extra: Vec<_> = (0..50).map(|i| pool.submit(move || i)).collect();
    assert!(pool.worker_count() <= 3);
    assert_eq!(
        extra.into_iter().map(|f| f.result().unwrap()).sum::<i32>(),
        1225
    );
}

#[test]
#[should_panic(expected = "at least one worker")]
fn a_pool_without_workers_is_refused() {
    let _ = ThreadPoolExecutor::new(0);
}

#[test]
fn run_in_executor_keeps_the_loop_responsive() {
    within(Duration::from_secs(10), || {
        evloop::run(async {
            let (release, released) = mpsc::channel::<()>();
            let blocking = evloop::run_in_executor(move || {
                released.recv().unwrap(); // blocks its pool thread until the loop says so
                "done"
            });
            // The loop keeps running timers while the pool thread blocks: if the job blocked
            // the loop instead, these ticks would never come and nobody would release it.
            for _ in 0..5 {
                sleep(Duration::from_millis(1)).await;
            }
            release.send(()).unwrap();
            assert_eq!(blocking.await.unwrap(), "done");
        })
    });
}

#[test]
fn pool_futures_are_awaitable_from_a_task() {
    let pool = ThreadPoolExecutor::new(2);
    let value = evloop::run(async { pool.submit(|| 11).await });
    assert_eq!(value.unwrap(), 11);
}

#[test]
fn ten_thousand_concurrent_run_in_executor_calls() {
    within(Duration::from_secs(60), || {
        let jobs: u64 = if cfg!(miri) { 50 } else { 10_000 };
        let total = evloop::run(async move {
            let futures: Vec<_> = (0..jobs)
                .map(|i| evloop::run_in_executor(move || i))
                .collect();
            let mut total = 0;
            for future in futures {
                total += future.await.unwrap();
            }
            total
        });
        assert_eq!(total, (0..jobs).sum::<u64>());
    });
}

#[test]
fn run_does_not_hang_on_a_stuck_blocking_job() {
    within(Duration::from_secs(10), || {
        let (_keep_stuck, stuck) = mpsc::channel::<()>();
        let rt = evloop::Runtime::builder()
            .blocking_shutdown_timeout(Duration::from_millis(50))
            .build()
            .unwrap();
        let start = Instant::now();
        rt.block_on(async move {
            drop(evloop::run_in_executor(move || {
                let _ = stuck.recv(); // never returns while the sender lives
            }));
            evloop::yield_now().await;
        });
        drop(rt);
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "shutdown waited {:?}",
            start.elapsed()
        );
    });
}

#[test]
fn run_lets_a_running_job_finish_within_the_bound() {
    let finished = Arc::new(AtomicUsize::new(0));
    let done = finished.clone();
    evloop::run(async move {
        let started = Arc::new(AtomicUsize::new(0));
        drop(evloop::run_in_executor({
            let started = started.clone();
            move || {
                started.store(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(30)); // still running when run returns
                done.fetch_add(1, Ordering::SeqCst);
            }
        }));
        while started.load(Ordering::SeqCst) == 0 {
            sleep(Duration::from_millis(1)).await;
        }
    });
    assert_eq!(
        finished.load(Ordering::SeqCst),
        1,
        "the running job finished before run returned"
    );
}

#[test]
#[should_panic(expected = "run_in_executor called outside of a runtime")]
fn run_in_executor_outside_a_runtime_panics() {
    drop(evloop::run_in_executor(|| ()));
}

#[test]
fn worker_threads_are_named() {
    let pool = ThreadPoolExecutor::builder()
        .thread_name_prefix("crunch")
        .build();
    let name = pool.submit(|| std::thread::current().name().map(String::from));
    assert_eq!(name.result().unwrap().as_deref(), Some("crunch-0"));
    let runtime_name = evloop::run(async {
        evloop::run_in_executor(|| std::thread::current().name().map(String::from)).await
    });
    assert_eq!(runtime_name.unwrap().as_deref(), Some("evloop-blocking-0"));
}

#[test]
fn the_initializer_runs_once_on_each_worker_before_its_jobs() {
    let initialized = Arc::new(Mutex::new(Vec::new()));
    let pool = ThreadPoolExecutor::builder()
        .max_workers(3)
        .initializer({
            let initialized = initialized.clone();
            move || {
                initialized
                    .lock()
                    .unwrap()
                    .push(std::thread::current().id())
            }
        })
        .build();
    let barrier = Arc::new(Barrier::new(3));
    let first: Vec<_> = (0..3)
        .map(|_| {
            let (barrier, initialized) = (barrier.clone(), initialized.clone());
            pool.submit(move || {
                barrier.wait(); // three workers at once
                initialized
                    .lock()
                    .unwrap()
                    .contains(&std::thread::current().id())
            })
        })
        .collect();
    assert!(first.into_iter().all(|job| job.result().unwrap()));
    for job in (0..20).map(|i| pool.submit(move || i)).collect::<Vec<_>>() {
        job.result().unwrap();
    }
    let initialized = initialized.lock().unwrap();
    assert_eq!(initialized.len(), 3, "once per worker: {initialized:?}");
}

#[test]
fn a_panicking_initializer_breaks_the_pool_and_every_job_fails_clearly() {
    within(Duration::from_secs(20), || {
        let pool = ThreadPoolExecutor::builder()
            .max_workers(2)
            .initializer(|| panic!("database unreachable"))
            .build();
        let jobs: Vec<_> = (0..5).map(|i| pool.submit(move || i)).collect();
        for job in jobs {
            let error = job.result().unwrap_err();
            assert!(error.is_broken_pool() && !error.is_cancelled(), "{error:?}");
            assert!(
                error.to_string().contains("database unreachable"),
                "{error}"
            );
        }
        assert!(pool.is_broken());
        let later = pool.submit(|| 1);
        assert!(later.done(), "refused at once");
        assert!(later.result().unwrap_err().is_broken_pool());
        assert!(pool.map(|x: u8| x, [1, 2]).all(|result| result.is_err()));
        pool.shutdown(true, false);
        assert_eq!(pool.worker_count(), 0);
    });
}

#[test]
fn a_pool_broken_by_a_later_worker_lets_running_jobs_finish() {
    within(Duration::from_secs(20), || {
        let started = Arc::new(AtomicUsize::new(0));
        let pool = ThreadPoolExecutor::builder()
            .max_workers(2)
            .initializer({
                let started = started.clone();
                move || {
                    if started.fetch_add(1, Ordering::SeqCst) == 1 {
                        panic!("the second worker cannot start");
                    }
                }
            })
            .build();
        let (gates, running) = gated_jobs(&pool, [7]);
        // Six queued jobs behind a running one: the pool starts its second worker, which breaks it.
        let queued: Vec<_> = (0..6).map(|i| pool.submit(move || i)).collect();
        for job in queued {
            let result = job.result();
            assert!(result.is_ok() || result.unwrap_err().is_broken_pool());
        }
        assert!(pool.is_broken());
        gates[0].send(()).unwrap();
        let mut running = running;
        assert_eq!(
            running.remove(0).result().unwrap(),
            7,
            "the running job finished"
        );
    });
}

#[test]
fn running_is_true_only_while_a_worker_runs_the_job() {
    let (pool, release) = busy_single_worker();
    let queued = pool.submit(|| 5);
    assert!(!queued.running() && !queued.done());
    let handle = queued.cancel_handle();
    release.send(()).unwrap();
    let (started, start) = mpsc::channel();
    let (finish, finishing) = mpsc::channel::<()>();
    let watched = pool.submit(move || {
        started.send(()).unwrap();
        finishing.recv().unwrap();
    });
    start.recv().unwrap();
    assert!(watched.running());
    assert!(
        !watched.cancel_handle().cancel(),
        "a running job cannot be cancelled"
    );
    finish.send(()).unwrap();
    assert_eq!(queued.result().unwrap(), 5);
    assert!(handle.done() && !handle.running() && !handle.is_cancelled());
    let watched_handle = watched.cancel_handle();
    watched.result().unwrap();
    assert!(!watched_handle.running());
}

#[test]
fn done_callbacks_run_once_in_order_even_when_added_late_or_on_cancel() {
    let (pool, release) = busy_single_worker();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let note = |what: &'static str| {
        let calls = calls.clone();
        move || calls.lock().unwrap().push(what)
    };
    let cancelled = pool.submit(|| ());
    cancelled.add_done_callback(note("cancelled"));
    assert!(cancelled.cancel());
    let job = pool.submit(|| 1);
    job.add_done_callback(note("first"));
    job.add_done_callback(|| panic!("a callback that fails"));
    job.add_done_callback(note("second"));
    let (all_ran, wait_for_callbacks) = mpsc::channel();
    job.add_done_callback(move || all_ran.send(()).unwrap());
    release.send(()).unwrap();
    wait_for_callbacks.recv().unwrap(); // the job is done and its callbacks ran
    job.add_done_callback(note("late")); // already done: runs here, now
    assert_eq!(
        *calls.lock().unwrap(),
        ["cancelled", "first", "second", "late"]
    );
    assert_eq!(job.result().unwrap(), 1);
    assert_eq!(
        pool.submit(|| 2).result().unwrap(),
        2,
        "the worker survived the panic"
    );
}
