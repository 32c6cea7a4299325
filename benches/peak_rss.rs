//! Peak memory with 1,000,000 pending tasks: evloop, tokio and smol, each in a fresh process.
//!
//! ```sh
//! cargo run --release -p evloop-benches --bin peak_rss
//! ```
//!
//! Without arguments it re-runs itself once per runtime (peak RSS is per process) and prints a
//! table. With a runtime name it spawns 1,000,000 detached tasks that each wait forever, runs the
//! loop until every one has been polled once, and prints the process's peak resident set
//! (`VmHWM` in `/proc/self/status`) in MB.

use std::cell::Cell;
use std::future::pending;
use std::process::Command;
use std::rc::Rc;

const TASKS: usize = 1_000_000;

/// A task body: count the first poll, then wait forever.
// An `async move` block, as users write with `spawn`, rather than an `async fn`: the `async fn`
// form keeps its argument in a slot of its own, 8 bytes more per future, which moves evloop's task
// into the next malloc size class (101.5 MB instead of 86 MB here; benches/README.md).
#[allow(clippy::manual_async_fn)]
fn body(polled: Rc<Cell<usize>>) -> impl std::future::Future<Output = ()> {
    async move {
        polled.set(polled.get() + 1);
        pending::<()>().await
    }
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/self/status");
    let kb: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb / 1024.0
}

fn measure(runtime: &str) -> f64 {
    let polled = Rc::new(Cell::new(0));
    match runtime {
        "evloop" => evloop::run(async {
            for _ in 0..TASKS {
                drop(evloop::spawn(body(polled.clone())));
            }
            while polled.get() < TASKS {
                evloop::yield_now().await;
            }
            peak_rss_mb()
        }),
        "tokio" => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            tokio::task::LocalSet::new().block_on(&rt, async {
                for _ in 0..TASKS {
                    drop(tokio::task::spawn_local(body(polled.clone())));
                }
                while polled.get() < TASKS {
                    tokio::task::yield_now().await;
                }
                peak_rss_mb()
            })
        }
        "smol" => {
            let executor = async_executor::LocalExecutor::new();
            async_io::block_on(executor.run(async {
                for _ in 0..TASKS {
                    executor.spawn(body(polled.clone())).detach();
                }
                while polled.get() < TASKS {
                    futures_lite::future::yield_now().await;
                }
                peak_rss_mb()
            }))
        }
        other => panic!("unknown runtime {other:?}: use evloop, tokio or smol"),
    }
}

fn main() {
    if let Some(runtime) = std::env::args().nth(1) {
        println!("{:.1}", measure(&runtime));
        // Exit without dropping a million tasks: the measurement is done.
        std::process::exit(0);
    }
    let exe = std::env::current_exe().unwrap();
    let mut row = Vec::new();
    for runtime in ["evloop", "tokio", "smol"] {
        let output = Command::new(&exe).arg(runtime).output().unwrap();
        assert!(
            output.status.success(),
            "{runtime}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        row.push(String::from_utf8(output.stdout).unwrap().trim().to_string());
    }
    println!("| workload | evloop | tokio current_thread | smol LocalExecutor |");
    println!("|---|---:|---:|---:|");
    println!(
        "| peak RSS, 1M pending tasks (MB) | {} | {} | {} |",
        row[0], row[1], row[2]
    );
}
