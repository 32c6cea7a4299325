//! Core-loop benchmarks: evloop, tokio (`current_thread` + `LocalSet`) and smol (`LocalExecutor`
//! + async-io), single-threaded, the same workloads in one run.
//!
//! ```sh
//! cargo bench -p evloop-benches --bench core
//! ```
//!
//! Each workload runs `ROUNDS` times per runtime, interleaved; the table shows the median time per
//! operation (`harness.rs`). Peak memory is measured by the `peak_rss` binary beside this file,
//! because it needs a fresh process per runtime.
//!
//! This is a plain `main` (no criterion): the workloads are large enough (0.1–1 s) that a median of
//! a few rounds is stable, and the output is the table DESIGN.md records.

mod harness;

use std::hint::black_box;
use std::time::Duration;

use harness::{Per, Workload};

const ROUNDS: usize = 7;

const SPAWN_TASKS: u64 = 1_000_000;
const YIELD_TASKS: u64 = 1_000;
const YIELDS_PER_TASK: u64 = 1_000;
const CHAIN_LENGTH: u64 = 100_000;
const TIMER_TASKS: u64 = 100_000;

/// A pseudo-random sleep of 0–10 ms, the same sequence for every runtime.
fn sleep_for(i: u64) -> Duration {
    let mixed = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 33;
    Duration::from_micros(mixed % 10_001)
}

mod evloop_work {
    use super::*;

    pub fn spawn_many() {
        evloop::run(async {
            let handles: Vec<_> = (0..SPAWN_TASKS)
                .map(|i| evloop::spawn(async move { i }))
                .collect();
            for handle in handles {
                black_box(handle.await.unwrap());
            }
        });
    }

    pub fn yield_many() {
        evloop::run(async {
            let handles: Vec<_> = (0..YIELD_TASKS)
                .map(|_| {
                    evloop::spawn(async {
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

    fn link(left: u64) -> evloop::JoinHandle<u64> {
        evloop::spawn(async move {
            if left == 0 {
                0
            } else {
                link(left - 1).await.unwrap() + 1
            }
        })
    }

    pub fn chain() {
        assert_eq!(
            evloop::run(async { link(CHAIN_LENGTH - 1).await.unwrap() }),
            CHAIN_LENGTH - 1
        );
    }

    pub fn timers() {
        evloop::run(async {
            let handles: Vec<_> = (0..TIMER_TASKS)
                .map(|i| evloop::spawn(evloop::time::sleep(sleep_for(i))))
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
        });
    }
}

mod tokio_work {
    use super::*;

    use crate::harness::tokio_run as run;

    pub fn spawn_many() {
        run(async {
            let handles: Vec<_> = (0..SPAWN_TASKS)
                .map(|i| tokio::task::spawn_local(async move { i }))
                .collect();
            for handle in handles {
                black_box(handle.await.unwrap());
            }
        });
    }

    pub fn yield_many() {
        run(async {
            let handles: Vec<_> = (0..YIELD_TASKS)
                .map(|_| {
                    tokio::task::spawn_local(async {
                        for _ in 0..YIELDS_PER_TASK {
                            tokio::task::yield_now().await;
                        }
                    })
                })
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
        });
    }

    fn link(left: u64) -> tokio::task::JoinHandle<u64> {
        tokio::task::spawn_local(async move {
            if left == 0 {
                0
            } else {
                link(left - 1).await.unwrap() + 1
            }
        })
    }

    pub fn chain() {
        assert_eq!(
            run(async { link(CHAIN_LENGTH - 1).await.unwrap() }),
            CHAIN_LENGTH - 1
        );
    }

    pub fn timers() {
        run(async {
            let handles: Vec<_> = (0..TIMER_TASKS)
                .map(|i| tokio::task::spawn_local(tokio::time::sleep(sleep_for(i))))
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
        });
    }
}

mod smol_work {
    use super::*;
    use crate::harness::{smol_run as run, smol_spawn as spawn};
    use async_executor::Task;

    pub fn spawn_many() {
        run(async {
            let tasks: Vec<_> = (0..SPAWN_TASKS).map(|i| spawn(async move { i })).collect();
            for task in tasks {
                black_box(task.await);
            }
        });
    }

    pub fn yield_many() {
        run(async {
            let tasks: Vec<_> = (0..YIELD_TASKS)
                .map(|_| {
                    spawn(async {
                        for _ in 0..YIELDS_PER_TASK {
                            futures_lite::future::yield_now().await;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await;
            }
        });
    }

    fn link(left: u64) -> Task<u64> {
        spawn(async move {
            if left == 0 {
                0
            } else {
                link(left - 1).await + 1
            }
        })
    }

    pub fn chain() {
        assert_eq!(
            run(async { link(CHAIN_LENGTH - 1).await }),
            CHAIN_LENGTH - 1
        );
    }

    pub fn timers() {
        run(async {
            let tasks: Vec<_> = (0..TIMER_TASKS)
                .map(|i| {
                    spawn(async move {
                        async_io::Timer::after(sleep_for(i)).await;
                    })
                })
                .collect();
            for task in tasks {
                task.await;
            }
        });
    }
}

fn main() {
    harness::run_table(
        ["evloop", "tokio current_thread", "smol LocalExecutor"],
        ROUNDS,
        Per::Nanoseconds,
        &[
            Workload {
                name: "spawn 1M trivial tasks, await each (ns/task)",
                operations: SPAWN_TASKS,
                runs: [
                    evloop_work::spawn_many,
                    tokio_work::spawn_many,
                    smol_work::spawn_many,
                ],
            },
            Workload {
                name: "1,000 tasks x 1,000 yield_now (ns/yield)",
                operations: YIELD_TASKS * YIELDS_PER_TASK,
                runs: [
                    evloop_work::yield_many,
                    tokio_work::yield_many,
                    smol_work::yield_many,
                ],
            },
            Workload {
                name: "chain of 100k tasks, each spawning the next (ns/task)",
                operations: CHAIN_LENGTH,
                runs: [evloop_work::chain, tokio_work::chain, smol_work::chain],
            },
            Workload {
                name: "100k tasks sleeping 0-10 ms (wall / timer, ns)",
                operations: TIMER_TASKS,
                runs: [evloop_work::timers, tokio_work::timers, smol_work::timers],
            },
        ],
    );
}
