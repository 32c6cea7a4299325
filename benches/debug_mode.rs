//! What seeing inside the loop costs: the core workloads on a default runtime, with every task
//! named (each gets a record, polls are counted but not timed), and in debug mode (every task
//! gets a record and every poll is timed, as with `EVLOOP_DEBUG=1`).
//!
//! ```sh
//! cargo bench -p evloop-benches --bench debug_mode
//! ```
//!
//! The threshold is an hour, so nothing is ever reported: the figures are the cost of recording
//! and timing alone. Same harness as `core.rs` (median of interleaved rounds).

mod harness;

use std::future::Future;
use std::hint::black_box;
use std::time::Duration;

use harness::{Per, Workload};

const ROUNDS: usize = 7;

const SPAWN_TASKS: u64 = 1_000_000;
const YIELD_TASKS: u64 = 1_000;
const YIELDS_PER_TASK: u64 = 1_000;
const CHAIN_LENGTH: u64 = 100_000;

/// How the runtime of one column is set up.
#[derive(Clone, Copy)]
enum Mode {
    Default,
    Named,
    Debug,
}

fn run<F: Future>(mode: Mode, future: F) -> F::Output {
    let builder = evloop::Runtime::builder();
    let builder = match mode {
        Mode::Debug => builder.slow_poll_threshold(Duration::from_secs(3600)),
        Mode::Default | Mode::Named => builder,
    };
    builder.build().unwrap().block_on(future)
}

fn spawn<F>(mode: Mode, future: F) -> evloop::JoinHandle<F::Output>
where
    F: Future + 'static,
{
    match mode {
        Mode::Named => evloop::spawn_named("task", future),
        Mode::Default | Mode::Debug => evloop::spawn(future),
    }
}

fn spawn_many(mode: Mode) {
    run(mode, async {
        let handles: Vec<_> = (0..SPAWN_TASKS)
            .map(|i| spawn(mode, async move { i }))
            .collect();
        for handle in handles {
            black_box(handle.await.unwrap());
        }
    });
}

fn yield_many(mode: Mode) {
    run(mode, async {
        let handles: Vec<_> = (0..YIELD_TASKS)
            .map(|_| {
                spawn(mode, async {
                    for _ in 0..YIELDS_PER_TASK {
                        evloop::yield_now().await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    });
}

fn link(mode: Mode, left: u64) -> evloop::JoinHandle<u64> {
    spawn(mode, async move {
        if left == 0 {
            0
        } else {
            link(mode, left - 1).await.unwrap() + 1
        }
    })
}

fn chain(mode: Mode) {
    black_box(run(mode, async move {
        link(mode, CHAIN_LENGTH - 1).await.unwrap()
    }));
}

fn main() {
    harness::run_table(
        ["evloop", "every task named", "debug mode"],
        ROUNDS,
        Per::Nanoseconds,
        &[
            Workload {
                name: "spawn 1M trivial tasks, await each (ns/task)",
                operations: SPAWN_TASKS,
                runs: [
                    || spawn_many(Mode::Default),
                    || spawn_many(Mode::Named),
                    || spawn_many(Mode::Debug),
                ],
            },
            Workload {
                name: "1,000 tasks x 1,000 yield_now (ns/yield)",
                operations: YIELD_TASKS * YIELDS_PER_TASK,
                runs: [
                    || yield_many(Mode::Default),
                    || yield_many(Mode::Named),
                    || yield_many(Mode::Debug),
                ],
            },
            Workload {
                name: "chain of 100k tasks, each spawning the next (ns/task)",
                operations: CHAIN_LENGTH,
                runs: [
                    || chain(Mode::Default),
                    || chain(Mode::Named),
                    || chain(Mode::Debug),
                ],
            },
        ],
    );
}
