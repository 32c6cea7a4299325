//! Synchronisation benchmarks: evloop's `sync` against tokio's `sync` (on `current_thread` +
//! `LocalSet`) and smol's (async-lock and async-channel on a `LocalExecutor`), the same workloads
//! in one run.
//!
//! ```sh
//! cargo bench -p evloop-benches --bench sync
//! ```
//!
//! - semaphore: 1,000 tasks each take a permit of a `Semaphore(10)` 1,000 times, yielding while
//!   they hold it, so 990 tasks are always queued and every release hands a permit over;
//! - mutex: 100 tasks each lock a `Mutex<u64>` 10,000 times and add one (the holder never waits
//!   while it holds the lock, so the lock is free whenever somebody asks: the fast path);
//! - mutex held across a yield: 100 tasks each lock it 1,000 times and yield while they hold it,
//!   so 99 tasks are always queued and every unlock has a waiter to wake (the slow path);
//! - ping-pong: two tasks bounce a number 1,000,000 times through two queues of capacity one
//!   (tokio: `mpsc::channel(1)`, smol: `async_channel::bounded(1)`).
//!
//! The two mutex rows have a fourth column: `futures::lock::Mutex` on `futures`' `LocalPool`.

mod harness;

use std::future::Future;
use std::hint::black_box;
use std::rc::Rc;

use harness::{smol_run, smol_spawn, tokio_run, Per, Workload};

const ROUNDS: usize = 7;

const SEMAPHORE_TASKS: u64 = 1_000;
const ACQUISITIONS_PER_TASK: u64 = 1_000;
const PERMITS: usize = 10;
const MUTEX_TASKS: u64 = 100;
const LOCKS_PER_TASK: u64 = 10_000;
const HELD_LOCKS_PER_TASK: u64 = 1_000;
const ROUND_TRIPS: u64 = 1_000_000;

/// The two mutex workloads, written once for every column: each module provides
/// `run_counting(task)`, which runs `MUTEX_TASKS` tasks made by `task` around one counter on its
/// runtime and returns the count, and names its runtime's `yield_now`.
macro_rules! mutex_workloads {
    (yield_now: $yield_now:path) => {
        pub fn mutex() {
            let total = run_counting(|counter| async move {
                for _ in 0..LOCKS_PER_TASK {
                    *counter.lock().await += 1;
                }
            });
            assert_eq!(total, MUTEX_TASKS * LOCKS_PER_TASK);
        }

        pub fn mutex_held_across_yield() {
            let total = run_counting(|counter| async move {
                for _ in 0..HELD_LOCKS_PER_TASK {
                    let mut value = counter.lock().await;
                    $yield_now().await;
                    *value += 1;
                }
            });
            assert_eq!(total, MUTEX_TASKS * HELD_LOCKS_PER_TASK);
        }
    };
}

mod evloop_work {
    use super::*;
    use evloop::sync::{Mutex, Queue, Semaphore};

    pub fn semaphore() {
        evloop::run(async {
            let semaphore = Rc::new(Semaphore::new(PERMITS));
            let tasks: Vec<_> = (0..SEMAPHORE_TASKS)
                .map(|_| {
                    let semaphore = semaphore.clone();
                    evloop::spawn(async move {
                        for _ in 0..ACQUISITIONS_PER_TASK {
                            let _permit = semaphore.acquire().await;
                            evloop::yield_now().await;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
        });
    }

    mutex_workloads!(yield_now: evloop::yield_now);

    fn run_counting<F: Future<Output = ()> + 'static>(task: impl Fn(Rc<Mutex<u64>>) -> F) -> u64 {
        evloop::run(async {
            let counter = Rc::new(Mutex::new(0u64));
            let tasks: Vec<_> = (0..MUTEX_TASKS)
                .map(|_| evloop::spawn(task(counter.clone())))
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            let total = *counter.lock().await;
            total
        })
    }

    pub fn ping_pong() {
        evloop::run(async {
            let (ping, pong) = (Rc::new(Queue::new(1)), Rc::new(Queue::new(1)));
            let echo = evloop::spawn({
                let (ping, pong) = (ping.clone(), pong.clone());
                async move {
                    while let Ok(n) = ping.get().await {
                        pong.put(n).await.unwrap();
                    }
                }
            });
            for n in 0..ROUND_TRIPS {
                ping.put(n).await.unwrap();
                black_box(pong.get().await.unwrap());
            }
            ping.shutdown();
            echo.await.unwrap();
        });
    }
}

mod tokio_work {
    use super::*;
    use tokio::sync::{mpsc, Mutex, Semaphore};
    use tokio::task::spawn_local;

    pub fn semaphore() {
        tokio_run(async {
            let semaphore = Rc::new(Semaphore::new(PERMITS));
            let tasks: Vec<_> = (0..SEMAPHORE_TASKS)
                .map(|_| {
                    let semaphore = semaphore.clone();
                    spawn_local(async move {
                        for _ in 0..ACQUISITIONS_PER_TASK {
                            let _permit = semaphore.acquire().await.unwrap();
                            tokio::task::yield_now().await;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
        });
    }

    mutex_workloads!(yield_now: tokio::task::yield_now);

    fn run_counting<F: Future<Output = ()> + 'static>(task: impl Fn(Rc<Mutex<u64>>) -> F) -> u64 {
        tokio_run(async {
            let counter = Rc::new(Mutex::new(0u64));
            let tasks: Vec<_> = (0..MUTEX_TASKS)
                .map(|_| spawn_local(task(counter.clone())))
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            let total = *counter.lock().await;
            total
        })
    }

    pub fn ping_pong() {
        tokio_run(async {
            let (ping_tx, mut ping_rx) = mpsc::channel(1);
            let (pong_tx, mut pong_rx) = mpsc::channel(1);
            let echo = spawn_local(async move {
                while let Some(n) = ping_rx.recv().await {
                    pong_tx.send(n).await.unwrap();
                }
            });
            for n in 0..ROUND_TRIPS {
                ping_tx.send(n).await.unwrap();
                black_box(pong_rx.recv().await.unwrap());
            }
            drop(ping_tx);
            echo.await.unwrap();
        });
    }
}

mod smol_work {
    use super::*;
    use async_lock::{Mutex, Semaphore};

    pub fn semaphore() {
        smol_run(async {
            let semaphore = Rc::new(Semaphore::new(PERMITS));
            let tasks: Vec<_> = (0..SEMAPHORE_TASKS)
                .map(|_| {
                    let semaphore = semaphore.clone();
                    smol_spawn(async move {
                        for _ in 0..ACQUISITIONS_PER_TASK {
                            let _permit = semaphore.acquire().await;
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

    mutex_workloads!(yield_now: futures_lite::future::yield_now);

    fn run_counting<F: Future<Output = ()> + 'static>(task: impl Fn(Rc<Mutex<u64>>) -> F) -> u64 {
        smol_run(async {
            let counter = Rc::new(Mutex::new(0u64));
            let tasks: Vec<_> = (0..MUTEX_TASKS)
                .map(|_| smol_spawn(task(counter.clone())))
                .collect();
            for task in tasks {
                task.await;
            }
            let total = *counter.lock().await;
            total
        })
    }

    pub fn ping_pong() {
        smol_run(async {
            let (ping_tx, ping_rx) = async_channel::bounded(1);
            let (pong_tx, pong_rx) = async_channel::bounded(1);
            let echo = smol_spawn(async move {
                while let Ok(n) = ping_rx.recv().await {
                    pong_tx.send(n).await.unwrap();
                }
            });
            for n in 0..ROUND_TRIPS {
                ping_tx.send(n).await.unwrap();
                black_box(pong_rx.recv().await.unwrap());
            }
            drop(ping_tx);
            echo.await;
        });
    }
}

/// `futures::lock::Mutex` on `futures`' own single-threaded executor, `LocalPool`.
mod futures_work {
    use super::*;
    use futures_executor::LocalPool;
    use futures_util::lock::Mutex;
    use futures_util::task::LocalSpawnExt;

    mutex_workloads!(yield_now: futures_lite::future::yield_now);

    /// Spawns `MUTEX_TASKS` tasks made by `task` around one counter, runs the pool until they
    /// are all done, and returns the count.
    fn run_counting<F: Future<Output = ()> + 'static>(task: impl Fn(Rc<Mutex<u64>>) -> F) -> u64 {
        let mut pool = LocalPool::new();
        let counter = Rc::new(Mutex::new(0u64));
        for _ in 0..MUTEX_TASKS {
            pool.spawner()
                .spawn_local(task(counter.clone()))
                .expect("the pool is running");
        }
        pool.run();
        let total = *counter.try_lock().expect("every task is done");
        total
    }
}

fn main() {
    harness::run_table(
        ["evloop::sync", "tokio::sync", "async-lock / async-channel"],
        ROUNDS,
        Per::Nanoseconds,
        &[
            Workload {
                name: "1,000 tasks x 1,000 acquisitions of Semaphore(10), yielding (ns/acquire)",
                operations: SEMAPHORE_TASKS * ACQUISITIONS_PER_TASK,
                runs: [
                    evloop_work::semaphore,
                    tokio_work::semaphore,
                    smol_work::semaphore,
                ],
            },
            Workload {
                name: "ping-pong through two bounded(1) queues (ns/round trip)",
                operations: ROUND_TRIPS,
                runs: [
                    evloop_work::ping_pong,
                    tokio_work::ping_pong,
                    smol_work::ping_pong,
                ],
            },
        ],
    );
    harness::run_table(
        [
            "evloop::sync",
            "tokio::sync",
            "async-lock",
            "futures::lock (LocalPool)",
        ],
        ROUNDS,
        Per::Nanoseconds,
        &[
            Workload {
                name: "100 tasks x 10,000 Mutex locks (ns/lock)",
                operations: MUTEX_TASKS * LOCKS_PER_TASK,
                runs: [
                    evloop_work::mutex,
                    tokio_work::mutex,
                    smol_work::mutex,
                    futures_work::mutex,
                ],
            },
            Workload {
                name: "100 tasks x 1,000 Mutex locks held across a yield (ns/lock)",
                operations: MUTEX_TASKS * HELD_LOCKS_PER_TASK,
                runs: [
                    evloop_work::mutex_held_across_yield,
                    tokio_work::mutex_held_across_yield,
                    smol_work::mutex_held_across_yield,
                    futures_work::mutex_held_across_yield,
                ],
            },
        ],
    );
}
