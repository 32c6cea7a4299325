//! What every side-by-side benchmark does: run each workload for evloop, tokio and smol in
//! interleaved rounds (so that drift of the machine hits every runtime alike), take the median,
//! and print a Markdown table row per workload — the table DESIGN.md records.

// Each benchmark binary compiles this module on its own and uses part of it.
#![allow(dead_code)]

use std::future::Future;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Runs `future` on tokio's single-threaded runtime, inside a `LocalSet` so that it may
/// `spawn_local` `!Send` tasks, as evloop's tasks may be.
pub fn tokio_run<F: Future>(future: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio::task::LocalSet::new().block_on(&runtime, future)
}

thread_local! {
    static SMOL_EXECUTOR: Rc<async_executor::LocalExecutor<'static>> =
        Rc::new(async_executor::LocalExecutor::new());
}

/// Spawns on this thread's smol `LocalExecutor` (the one `smol_run` drives).
pub fn smol_spawn<T: 'static>(
    future: impl Future<Output = T> + 'static,
) -> async_executor::Task<T> {
    SMOL_EXECUTOR.with(|executor| executor.spawn(future))
}

/// Runs `future` on this thread's smol `LocalExecutor`, driven by async-io's `block_on`.
pub fn smol_run<F: Future>(future: F) -> F::Output {
    let executor = SMOL_EXECUTOR.with(Rc::clone);
    async_io::block_on(executor.run(future))
}

/// One workload: a name for the table, how many operations one run makes, and one run per
/// column (a runtime, or a primitive on a runtime), in the order of the table's columns.
pub struct Workload<const COLUMNS: usize = 3> {
    pub name: &'static str,
    pub operations: u64,
    pub runs: [fn(); COLUMNS],
}

/// The unit of the table's figures.
#[derive(Clone, Copy)]
pub enum Per {
    Nanoseconds,
    Microseconds,
}

/// Prints a table with a column per runtime and a row per workload (those whose name contains
/// the command line's filter, if any: `cargo bench --bench NAME -- FILTER`).
pub fn run_table<const COLUMNS: usize>(
    columns: [&str; COLUMNS],
    rounds: usize,
    per: Per,
    workloads: &[Workload<COLUMNS>],
) {
    let filter: Option<String> = std::env::args().skip(1).find(|arg| !arg.starts_with("--"));
    println!("| workload | {} |", columns.join(" | "));
    println!("|---|{}", "---:|".repeat(COLUMNS));
    for workload in workloads {
        if filter
            .as_ref()
            .is_some_and(|f| !workload.name.contains(f.as_str()))
        {
            continue;
        }
        let mut samples = vec![Vec::new(); workload.runs.len()];
        for _ in 0..rounds {
            for (index, run) in workload.runs.iter().enumerate() {
                let start = Instant::now();
                run();
                samples[index].push(start.elapsed());
            }
        }
        let scale = match per {
            Per::Nanoseconds => 1e9,
            Per::Microseconds => 1e6,
        };
        let figures: Vec<String> = samples
            .into_iter()
            .map(|s| {
                format!(
                    "{:.2}",
                    median(s).as_secs_f64() * scale / workload.operations as f64
                )
            })
            .collect();
        println!("| {} | {} |", workload.name, figures.join(" | "));
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}
