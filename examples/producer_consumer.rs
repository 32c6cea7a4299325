//! A bounded `Queue` between a producer *thread* and consumer *tasks*, with `task_done`/`join`.
//!
//! ```sh
//! cargo run --release --example producer_consumer
//! ```
//!
//! A plain thread (say, a library's callback thread, or a file reader) produces 1,000 jobs with
//! `put_blocking`, which blocks that thread while the queue's 8 slots are full: back-pressure
//! reaches the producer without any busy waiting. Three consumer tasks on the loop take jobs with
//! `get().await` and mark each one done. The main task `join`s the queue (all jobs done), then
//! shuts it down, which ends the consumers' loops. The producer finishes with an `Event` to say
//! it is done, so the main task knows every job is in before it waits for the queue to drain.

use std::sync::Arc;
use std::time::{Duration, Instant};

use evloop::sync::{Event, Queue};

const JOBS: u64 = 1_000;
const SLOTS: usize = 8;
const CONSUMERS: usize = 3;

fn main() {
    let queue = Arc::new(Queue::new(SLOTS));
    let all_in = Arc::new(Event::new());
    let start = Instant::now();

    let producer = std::thread::spawn({
        let (queue, all_in) = (queue.clone(), all_in.clone());
        move || {
            let mut most_waiting = 0;
            for job in 1..=JOBS {
                queue
                    .put_blocking(job)
                    .expect("the queue is open until all jobs are done");
                most_waiting = most_waiting.max(queue.qsize());
            }
            all_in.set();
            most_waiting
        }
    });

    let (processed, sums) = evloop::run(async {
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|_| {
                let queue = queue.clone();
                evloop::spawn(async move {
                    let (mut count, mut sum) = (0, 0);
                    // `get` fails once the queue is shut down and empty.
                    while let Ok(job) = queue.get().await {
                        evloop::time::sleep(Duration::from_micros(50)).await; // "work"
                        sum += job;
                        count += 1;
                        queue.task_done().expect("one task_done per job taken");
                    }
                    (count, sum)
                })
            })
            .collect();
        all_in.wait().await; // every job is in the queue...
        queue.join().await; // ...and every one is done
        queue.shutdown();
        let mut processed = Vec::new();
        let mut sums = 0;
        for consumer in consumers {
            let (count, sum) = consumer.await.expect("a consumer failed");
            processed.push(count);
            sums += sum;
        }
        (processed, sums)
    });
    let most_waiting = producer.join().expect("the producer thread panicked");

    println!(
        "{JOBS} jobs from a thread, {CONSUMERS} consumer tasks, in {:.2?}",
        start.elapsed()
    );
    println!("jobs per consumer: {processed:?}");
    println!("most jobs waiting in the queue at once: {most_waiting} (bound {SLOTS})");
    assert_eq!(processed.iter().sum::<u64>(), JOBS);
    assert_eq!(sums, JOBS * (JOBS + 1) / 2, "a job was lost or duplicated");
    assert!(most_waiting <= SLOTS);
}

#[cfg(test)]
mod tests {
    /// `cargo test` runs the example itself: its assertions check that no job is lost or
    /// duplicated and that the bound held.
    #[test]
    fn every_job_from_the_thread_is_processed_once() {
        super::main();
    }
}
