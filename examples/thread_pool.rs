//! `ThreadPoolExecutor` without any event loop: Python's `concurrent.futures`, in Rust.
//!
//! ```sh
//! cargo run --release --example thread_pool
//! ```

use std::time::{Duration, Instant};

use evloop::blocking::{as_completed, ThreadPoolExecutor};

fn work(n: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(100 * (4 - n)));
    n * 10
}

fn main() {
    let start = Instant::now();
    let pool = ThreadPoolExecutor::new(3);

    // submit: returns at once with a future; done() checks, result() blocks.
    let future = pool.submit(|| work(1));
    println!("submitted; done yet? {}", future.done());
    println!(
        "result: {} (after {:.2?})",
        future.result().unwrap(),
        start.elapsed()
    );

    // map: every job starts at once, results come back in input order.
    let results: Vec<u64> = pool.map(work, [1, 2, 3]).map(Result::unwrap).collect();
    println!(
        "map, in input order: {results:?} (after {:.2?})",
        start.elapsed()
    );

    // as_completed: whichever finishes first comes first.
    let futures: Vec<_> = [1, 2, 3].map(|n| pool.submit(move || work(n))).into();
    for done in as_completed(futures, Some(Duration::from_secs(5))) {
        let future = done.expect("all finish within 5 s");
        println!(
            "as_completed: {} (after {:.2?})",
            future.result().unwrap(),
            start.elapsed()
        );
    }

    // A job that is still queued can be cancelled; a panicking job reports its panic.
    let busy: Vec<_> = (0..3).map(|_| pool.submit(|| work(3))).collect();
    let queued = pool.submit(|| work(3));
    println!("cancel a queued job: {}", queued.cancel());
    println!("its result: {}", queued.result().unwrap_err());
    std::panic::set_hook(Box::new(|info| println!("[panic hook] {info}")));
    let failing = pool.submit(|| -> u64 { panic!("bad input") });
    println!("a panicking job: {}", failing.result().unwrap_err());
    let _ = std::panic::take_hook();
    busy.into_iter().for_each(|future| drop(future.result()));

    // shutdown(wait = true): every submitted job has run and every thread has exited.
    pool.shutdown(true, false);
    let refused = pool.submit(|| work(1));
    println!("submit after shutdown: {}", refused.result().unwrap_err());
}
