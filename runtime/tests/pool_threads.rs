//! Counts the process's threads (`Threads:` in /proc/self/status) around the pool's life cycle:
//! threads start lazily, retire after the idle timeout, and none outlives a waiting shutdown —
//! the regression smol's `blocking` 1.7.0 shipped because no test counted.
//!
//! A plain `main` (`harness = false`): libtest would run other tests' threads beside these.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use evloop::blocking::ThreadPoolExecutor;

fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let line = status
        .lines()
        .find(|line| line.starts_with("Threads:"))
        .unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// How long a joined thread may still be counted: `join` returns when the kernel clears the
/// thread's id, a moment before it leaves the process's thread count (longer on a loaded
/// machine, where the exiting thread waits for a core). A thread that is really still alive (the
/// bug these checks look for) stays for its 60 s idle timeout.
const EXIT_LAG: Duration = Duration::from_secs(1);

/// Waits up to `limit` for the thread count to reach `expected`.
fn settles_to(expected: usize, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if threads() == expected {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

/// Runs `jobs` jobs that all block at once, so the pool needs `jobs` threads.
fn run_concurrently(pool: &ThreadPoolExecutor, jobs: usize) {
    let barrier = Arc::new(Barrier::new(jobs));
    let futures: Vec<_> = (0..jobs)
        .map(|_| {
            let barrier = barrier.clone();
            pool.submit(move || {
                barrier.wait();
            })
        })
        .collect();
    for future in futures {
        future.result().unwrap();
    }
}

fn a_new_pool_starts_no_thread(base: usize) {
    let pool = ThreadPoolExecutor::new(8);
    assert_eq!(threads(), base);
    drop(pool);
}

fn idle_threads_retire_after_the_timeout(base: usize) {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(8)
        .idle_timeout(Duration::from_millis(100))
        .build();
    run_concurrently(&pool, 8); // eight at once: eight threads, which may retire from now on
    assert!(threads() <= base + 8, "no more threads than max_workers");
    assert!(
        settles_to(base, Duration::from_secs(5)),
        "{} threads left after idling",
        threads()
    );
    // Retired threads are joined (reaped) by the next submit; the pool still works.
    assert_eq!(pool.submit(|| 1).result().unwrap(), 1);
    pool.shutdown(true, false);
    assert!(settles_to(base, EXIT_LAG));
}

fn no_thread_outlives_a_waiting_shutdown(base: usize) {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(6)
        .idle_timeout(Duration::from_secs(60))
        .build();
    run_concurrently(&pool, 6);
    assert_eq!(threads(), base + 6);
    pool.shutdown(true, false);
    assert!(
        settles_to(base, EXIT_LAG),
        "shutdown(wait = true) returned before its threads exited: {} threads",
        threads()
    );
}

fn the_runtime_pool_is_gone_when_run_returns(base: usize) {
    evloop::run(async {
        let barrier = Arc::new(Barrier::new(4));
        let futures: Vec<_> = (0..4)
            .map(|_| {
                let barrier = barrier.clone();
                evloop::run_in_executor(move || {
                    barrier.wait();
                })
            })
            .collect();
        for future in futures {
            future.await.unwrap();
        }
    });
    assert!(
        settles_to(base, EXIT_LAG),
        "run returned with blocking threads alive: {} threads",
        threads()
    );
}

/// A named check, given the thread count before any pool existed.
type Check = (&'static str, fn(usize));

fn main() {
    let base = threads();
    let checks: [Check; 4] = [
        ("a_new_pool_starts_no_thread", a_new_pool_starts_no_thread),
        (
            "idle_threads_retire_after_the_timeout",
            idle_threads_retire_after_the_timeout,
        ),
        (
            "no_thread_outlives_a_waiting_shutdown",
            no_thread_outlives_a_waiting_shutdown,
        ),
        (
            "the_runtime_pool_is_gone_when_run_returns",
            the_runtime_pool_is_gone_when_run_returns,
        ),
    ];
    let mut failed = 0;
    for (name, check) in checks {
        match std::panic::catch_unwind(|| check(base)) {
            Ok(()) => println!("test {name} ... ok"),
            Err(_) => {
                println!("test {name} ... FAILED");
                failed += 1;
            }
        }
    }
    println!("{} passed, {failed} failed", checks.len() - failed);
    if failed > 0 {
        std::process::exit(1);
    }
}
