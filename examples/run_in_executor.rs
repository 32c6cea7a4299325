//! The classic asyncio example: three blocking functions, run from async code on the thread pool,
//! collected in the order they finish.
//!
//! ```sh
//! cargo run --release --example run_in_executor
//! ```
//!
//! Each function sleeps (standing for a blocking call: a file read, a DNS lookup, a C library).
//! On the loop's thread they would take 2 + 1 + 3 = 6 seconds one after the other and freeze
//! every task meanwhile; on the pool they overlap and the loop stays free.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

fn sync_function(name: &'static str, seconds: u64) -> String {
    std::thread::sleep(Duration::from_secs(seconds));
    format!("result from {name} after {seconds} s")
}

fn main() {
    let start = Instant::now();
    let finished = evloop::run(async move {
        let order = Rc::new(RefCell::new(Vec::new()));
        let waiters: Vec<_> = [
            ("sync_function_1", 2),
            ("sync_function_2", 1),
            ("sync_function_3", 3),
        ]
        .into_iter()
        .map(|(name, seconds)| {
            // loop.run_in_executor(None, ...): the closure runs on a pool thread.
            let job = evloop::run_in_executor(move || sync_function(name, seconds));
            // A task per job records when it finishes: completion order, not submit order.
            let order = order.clone();
            evloop::spawn(async move {
                let result = job.await.expect("the job did not panic");
                println!("{:>6.2?}  {result}", start.elapsed());
                order.borrow_mut().push(name);
            })
        })
        .collect();
        // The loop is free meanwhile: a heartbeat task ticks every half second.
        let heartbeat = evloop::spawn(async move {
            let mut ticks = evloop::time::interval(Duration::from_millis(500));
            loop {
                ticks.tick().await;
                println!("{:>6.2?}  (the loop is responsive)", start.elapsed());
            }
        });
        for waiter in waiters {
            waiter.await.unwrap();
        }
        heartbeat.abort();
        Rc::try_unwrap(order).unwrap().into_inner()
    });
    println!(
        "finished in this order: {finished:?}, in {:.2?} in all (not 6 s): the calls overlapped",
        start.elapsed()
    );
}
