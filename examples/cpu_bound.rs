//! CPU-bound work from async code. Python needs processes for this (the GIL lets one thread
//! compute at a time); Rust threads compute in parallel, so the loop's thread pool is enough.
//!
//! ```sh
//! cargo run --release --example cpu_bound
//! ```
//!
//! Counts primes below a bound twice: on the loop's own thread, then split into chunks over a
//! pool with one thread per core, awaited from async code. A timer task ticks every 10 ms
//! throughout and reports how late its ticks were: on the loop's thread the computation freezes
//! it; on the pool it keeps time.
//!
//! For CPU-bound work, size the pool to the cores (as here): the runtime's own pool behind
//! `run_in_executor` allows hundreds of threads, which suits blocking *waits*, not computation.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use evloop::blocking::ThreadPoolExecutor;
use evloop::time::{interval, sleep};

const LIMIT: u64 = 6_000_000;
const CHUNKS: u64 = 32;

fn count_primes(range: std::ops::Range<u64>) -> u64 {
    range
        .filter(|&n| n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0))
        .count() as u64
}

/// Ticks every 10 ms and records the worst lateness.
fn spawn_ticker(worst: Rc<Cell<Duration>>) -> evloop::JoinHandle<()> {
    evloop::spawn(async move {
        let mut ticks = interval(Duration::from_millis(10));
        loop {
            let scheduled = ticks.tick().await;
            worst.set(worst.get().max(scheduled.elapsed()));
        }
    })
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    evloop::run(async {
        // 1. On the loop's thread.
        let worst = Rc::new(Cell::new(Duration::ZERO));
        let ticker = spawn_ticker(worst.clone());
        evloop::yield_now().await;
        let start = Instant::now();
        let on_loop = count_primes(0..LIMIT);
        let loop_time = start.elapsed();
        sleep(Duration::from_millis(20)).await; // the ticker wakes and sees how late it is
        ticker.abort();
        println!(
            "on the loop thread: {on_loop} primes in {loop_time:.2?}; worst tick lateness {:.2?}",
            worst.get()
        );

        // 2. Split over a pool with a thread per core.
        let pool = ThreadPoolExecutor::new(cores);
        let worst = Rc::new(Cell::new(Duration::ZERO));
        let ticker = spawn_ticker(worst.clone());
        let start = Instant::now();
        let step = LIMIT / CHUNKS;
        let jobs: Vec<_> = (0..CHUNKS)
            .map(|i| pool.submit(move || count_primes(i * step..(i + 1) * step)))
            .collect();
        let mut on_pool = 0;
        for job in jobs {
            on_pool += job.await.unwrap();
        }
        let pool_time = start.elapsed();
        ticker.abort();
        println!(
            "on the pool:        {on_pool} primes in {pool_time:.2?}; worst tick lateness {:.2?}",
            worst.get()
        );
        assert_eq!(on_loop, on_pool);
        println!(
            "speed-up {:.2}x on {cores} cores, and the loop kept ticking meanwhile",
            loop_time.as_secs_f64() / pool_time.as_secs_f64()
        );
    });
}
