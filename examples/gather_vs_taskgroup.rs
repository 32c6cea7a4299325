//! The same failing workload under `gather` and under `task_group`: what each reports, and which
//! tasks kept running. The seed of every user's choice between the two.
//!
//! ```sh
//! cargo run --release --example gather_vs_taskgroup
//! ```
//!
//! Four jobs: two succeed after 40 ms, two fail (after 10 and 10 ms). With `gather`, the first
//! failure comes back at once and the other jobs go on running unobserved (asyncio's gather). With
//! `task_group`, the first failure cancels the rest (their cleanup runs) and every error that
//! happened is reported.

use std::time::Duration;

use evloop::time::{sleep, Instant};

/// Prints when a job is dropped before it finished: that is what cancellation looks like.
struct CancelNotice(&'static str, Instant);

impl Drop for CancelNotice {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            println!(
                "  {:>6.1?}  {} was cancelled (its Drop ran)",
                self.1.elapsed(),
                self.0
            );
        }
    }
}

async fn job(
    name: &'static str,
    ms: u64,
    fails: bool,
    start: Instant,
) -> Result<&'static str, String> {
    let notice = CancelNotice(name, start);
    sleep(Duration::from_millis(ms)).await;
    std::mem::forget(notice); // finished: no cancellation to report
    if fails {
        println!("  {:>6.1?}  {name} failed", start.elapsed());
        Err(format!("{name}: connection reset"))
    } else {
        println!("  {:>6.1?}  {name} finished", start.elapsed());
        Ok(name)
    }
}

const JOBS: [(&str, u64, bool); 4] = [
    ("fetch-a", 40, false),
    ("fetch-b", 10, true),
    ("fetch-c", 10, true),
    ("fetch-d", 40, false),
];

fn main() {
    evloop::run(async {
        println!("gather: the first error, at once; the other jobs keep running");
        let start = Instant::now();
        let result =
            evloop::gather(JOBS.map(|(name, ms, fails)| job(name, ms, fails, start))).await;
        println!("  {:>6.1?}  gather returned {result:?}", start.elapsed());
        sleep(Duration::from_millis(50)).await; // watch the remaining jobs finish on their own
        println!();

        println!("task_group: the first error cancels the rest; every error is reported");
        let start = Instant::now();
        let result = evloop::task_group(async |group| {
            for (name, ms, fails) in JOBS {
                group.spawn(job(name, ms, fails, start));
            }
            Ok(())
        })
        .await;
        match result {
            Ok(()) => println!("  everything succeeded"),
            Err(errors) => println!("  {:>6.1?}  task_group returned: {errors}", start.elapsed()),
        }
        sleep(Duration::from_millis(50)).await;
        println!(
            "  (nothing else runs: when task_group returns, every child is done or cancelled)"
        );
    });
}
