//! Core-loop benchmarks: evloop, tokio (`current_thread` + `LocalSet`) and smol (`LocalExecutor`
//! + async-io), single-threaded, the same workloads in one run.
//!
//! ```sh
//! cargo bench -p evloop-benches --bench core
//! ```
//!
//! Each workload runs `ROUNDS` times per runtime (interleaved, so that drift of the machine hits
//! every runtime alike); the table shows the median time per operation. Peak memory is measured
//! by the `peak_rss` binary beside this file, because it needs a fresh process per runtime.
//!
//! This is a plain `main` (no criterion): the workloads are large enough (0.1–1 s) that a median of
//! a few rounds is stable, and the output is the table DESIGN.md records.

use std::future::Future;
use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

const ROUNDS: usize = 7;

const SPAWN_TASKS: u64 = 1_000_000;
const YIELD_TASKS: u64 = 1_000;
const YIELDS_PER_TASK: u64 = 1_000;
const CHAIN_LENGTH: u64 = 100_000;
const TIMER_TASKS: u64 = 100_000;

/// The three runtimes, behind one interface: run a future to completion on a fresh runtime.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Runtime {
    Evloop,
    Tokio,
    Smol,
}

const RUNTIMES: [Runtime; 3] = [Runtime::Evloop, Runtime::Tokio, Runtime::Smol];

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

    fn run<F: Future>(future: F) -> F::Output {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        tokio::task::LocalSet::new().block_on(&rt, future)
    }

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
    use async_executor::{LocalExecutor, Task};

    thread_local! {
        static EXECUTOR: Rc<LocalExecutor<'static>> = Rc::new(LocalExecutor::new());
    }

    fn spawn<T: 'static>(future: impl Future<Output = T> + 'static) -> Task<T> {
        EXECUTOR.with(|executor| executor.spawn(future))
    }

    fn run<F: Future>(future: F) -> F::Output {
        let executor = EXECUTOR.with(Rc::clone);
        async_io::block_on(executor.run(future))
    }

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

struct Workload {
    name: &'static str,
    unit: &'static str,
    operations: u64,
    run: fn(Runtime),
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument filters workloads by name.
    let filter: Option<String> = std::env::args().skip(1).find(|arg| !arg.starts_with("--"));
    let workloads = [
        Workload {
            name: "spawn 1M trivial tasks, await each",
            unit: "ns/task",
            operations: SPAWN_TASKS,
            run: |rt| match rt {
                Runtime::Evloop => evloop_work::spawn_many(),
                Runtime::Tokio => tokio_work::spawn_many(),
                Runtime::Smol => smol_work::spawn_many(),
            },
        },
        Workload {
            name: "1,000 tasks x 1,000 yield_now",
            unit: "ns/yield",
            operations: YIELD_TASKS * YIELDS_PER_TASK,
            run: |rt| match rt {
                Runtime::Evloop => evloop_work::yield_many(),
                Runtime::Tokio => tokio_work::yield_many(),
                Runtime::Smol => smol_work::yield_many(),
            },
        },
        Workload {
            name: "chain of 100k tasks, each spawning the next",
            unit: "ns/task",
            operations: CHAIN_LENGTH,
            run: |rt| match rt {
                Runtime::Evloop => evloop_work::chain(),
                Runtime::Tokio => tokio_work::chain(),
                Runtime::Smol => smol_work::chain(),
            },
        },
        Workload {
            name: "100k tasks sleeping 0-10 ms (wall / timer)",
            unit: "ns/timer",
            operations: TIMER_TASKS,
            run: |rt| match rt {
                Runtime::Evloop => evloop_work::timers(),
                Runtime::Tokio => tokio_work::timers(),
                Runtime::Smol => smol_work::timers(),
            },
        },
    ];
    println!("| workload | evloop | tokio current_thread | smol LocalExecutor |");
    println!("|---|---:|---:|---:|");
    for workload in workloads {
        if filter
            .as_ref()
            .is_some_and(|f| !workload.name.contains(f.as_str()))
        {
            continue;
        }
        let mut samples = vec![Vec::new(); RUNTIMES.len()];
        for _ in 0..ROUNDS {
            for (index, &rt) in RUNTIMES.iter().enumerate() {
                let start = Instant::now();
                (workload.run)(rt);
                samples[index].push(start.elapsed());
            }
        }
        let per_op: Vec<f64> = samples
            .into_iter()
            .map(|s| median(s).as_nanos() as f64 / workload.operations as f64)
            .collect();
        println!(
            "| {} ({}) | {:.1} | {:.1} | {:.1} |",
            workload.name, workload.unit, per_op[0], per_op[1], per_op[2]
        );
    }
}
