//! Blocking-pool round trips: evloop's `run_in_executor`, tokio's `spawn_blocking`
//! (`current_thread` runtime) and smol's `blocking::unblock` (async-executor + async-io), in one
//! run.
//!
//! ```sh
//! cargo bench -p evloop-benches --bench blocking
//! ```
//!
//! A round trip is: hand a trivial closure to the pool from a task, run it on a pool thread, wake
//! the task with the result. *Sequential*: 10,000 round trips one after the other (latency).
//! *Concurrent*: 10,000 submitted at once, then all awaited (throughput). Median of `ROUNDS`,
//! interleaved across runtimes.

mod harness;

use std::future::Future;
use std::hint::black_box;

use harness::{Per, Workload};

const ROUNDS: usize = 11;
const JOBS: u64 = 10_000;

fn evloop_sequential() {
    evloop::run(async {
        for i in 0..JOBS {
            black_box(evloop::run_in_executor(move || i).await.unwrap());
        }
    });
}

fn evloop_concurrent() {
    evloop::run(async {
        let jobs: Vec<_> = (0..JOBS)
            .map(|i| evloop::run_in_executor(move || i))
            .collect();
        for job in jobs {
            black_box(job.await.unwrap());
        }
    });
}

fn tokio_run<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

fn tokio_sequential() {
    tokio_run(async {
        for i in 0..JOBS {
            black_box(tokio::task::spawn_blocking(move || i).await.unwrap());
        }
    });
}

fn tokio_concurrent() {
    tokio_run(async {
        let jobs: Vec<_> = (0..JOBS)
            .map(|i| tokio::task::spawn_blocking(move || i))
            .collect();
        for job in jobs {
            black_box(job.await.unwrap());
        }
    });
}

fn smol_run<F: Future>(future: F) -> F::Output {
    let executor = async_executor::LocalExecutor::new();
    async_io::block_on(executor.run(future))
}

fn smol_sequential() {
    smol_run(async {
        for i in 0..JOBS {
            black_box(blocking::unblock(move || i).await);
        }
    });
}

fn smol_concurrent() {
    smol_run(async {
        let jobs: Vec<_> = (0..JOBS).map(|i| blocking::unblock(move || i)).collect();
        for job in jobs {
            black_box(job.await);
        }
    });
}

fn main() {
    harness::run_table(
        ["evloop", "tokio spawn_blocking", "smol blocking::unblock"],
        ROUNDS,
        Per::Microseconds,
        &[
            Workload {
                name: "10,000 sequential round trips (µs/job)",
                operations: JOBS,
                runs: [evloop_sequential, tokio_sequential, smol_sequential],
            },
            Workload {
                name: "10,000 concurrent round trips (µs/job)",
                operations: JOBS,
                runs: [evloop_concurrent, tokio_concurrent, smol_concurrent],
            },
        ],
    );
}
