//! Queue, LifoQueue, PriorityQueue: order, bounds, FIFO fairness, task_done/join, shutdown, the
//! thread bridge, and cancellation at every await point with no lost item (asyncio's bug) — many
//! of them after asyncio's own `test_queues.py`.

mod common;

use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use common::{poll_once, within, DropCounter};
use evloop::sync::{LifoQueue, PriorityQueue, Queue, QueueShutDown, TryGetError, TryPutError};
use evloop::time::{sleep, timeout};
use evloop::{spawn, yield_now};

#[test]
fn each_queue_hands_items_out_in_its_own_order() {
    let fifo = Queue::new(0);
    let lifo = LifoQueue::new(0);
    let priority = PriorityQueue::new(0);
    for n in [3, 1, 2] {
        fifo.put_nowait(n).unwrap();
        lifo.put_nowait(n).unwrap();
        priority.put_nowait(n).unwrap();
    }
    let drain = |get: &dyn Fn() -> Result<i32, TryGetError>| -> Vec<i32> {
        std::iter::from_fn(|| get().ok()).collect()
    };
    assert_eq!(drain(&|| fifo.get_nowait()), [3, 1, 2]);
    assert_eq!(drain(&|| lifo.get_nowait()), [2, 1, 3]);
    assert_eq!(drain(&|| priority.get_nowait()), [1, 2, 3]);
}

#[test]
fn nowait_calls_report_full_and_empty_and_give_the_item_back() {
    let queue = Queue::new(1);
    assert_eq!(queue.get_nowait(), Err(TryGetError::Empty));
    queue.put_nowait("a").unwrap();
    assert!(queue.is_full());
    assert_eq!(queue.put_nowait("b"), Err(TryPutError::Full("b")));
    assert_eq!(queue.qsize(), 1);
    assert_eq!(queue.maxsize(), 1);
    assert_eq!(queue.get_nowait(), Ok("a"));
    assert!(queue.is_empty());
}

#[test]
fn put_waits_while_full_and_get_waits_while_empty() {
    evloop::run(async {
        let queue = Rc::new(Queue::new(2));
        let producer = spawn({
            let queue = queue.clone();
            async move {
                for n in 0..5 {
                    queue.put(n).await.unwrap();
                }
            }
        });
        yield_now().await;
        assert_eq!(queue.qsize(), 2, "the producer waits at the bound");
        assert!(!producer.is_finished());
        let mut got = Vec::new();
        for _ in 0..5 {
            got.push(queue.get().await.unwrap());
            assert!(queue.qsize() <= 2);
        }
        producer.await.unwrap();
        assert_eq!(got, [0, 1, 2, 3, 4]);
        let getter = spawn({
            let queue = queue.clone();
            async move { queue.get().await }
        });
        yield_now().await;
        assert!(!getter.is_finished(), "waits while empty");
        queue.put(9).await.unwrap();
        assert_eq!(getter.await.unwrap(), Ok(9));
    });
}

#[test]
fn getters_and_putters_are_served_first_come_first_served() {
    evloop::run(async {
        let queue = Queue::new(1);
        let mut first = queue.get();
        let mut second = queue.get();
        assert!(poll_once(&mut first).is_pending());
        assert!(poll_once(&mut second).is_pending());
        queue.put_nowait(1).unwrap();
        assert!(
            queue.get_nowait().is_err(),
            "the item is promised to the oldest getter; a newcomer may not take it"
        );
        assert!(poll_once(&mut second).is_pending(), "not second's turn");
        assert_eq!(poll_once(&mut first), Poll::Ready(Ok(1)));

        queue.put_nowait(2).unwrap();
        assert_eq!(poll_once(&mut second), Poll::Ready(Ok(2)));

        queue.put_nowait(3).unwrap(); // full now
        let mut put_a = queue.put(4);
        let mut put_b = queue.put(5);
        assert!(poll_once(&mut put_a).is_pending());
        assert!(poll_once(&mut put_b).is_pending());
        assert_eq!(queue.get_nowait(), Ok(3));
        assert!(
            matches!(queue.put_nowait(6), Err(TryPutError::Full(6))),
            "the freed room is promised to the oldest putter"
        );
        assert!(poll_once(&mut put_b).is_pending());
        assert_eq!(poll_once(&mut put_a), Poll::Ready(Ok(())));
        assert_eq!(queue.get_nowait(), Ok(4));
        assert_eq!(poll_once(&mut put_b), Poll::Ready(Ok(())));
        assert_eq!(queue.get_nowait(), Ok(5));
    });
}

#[test]
fn a_get_cancelled_after_an_item_was_promised_to_it_loses_nothing() {
    evloop::run(async {
        let queue = Queue::new(0);
        let mut first = queue.get();
        let mut second = queue.get();
        assert!(poll_once(&mut first).is_pending());
        assert!(poll_once(&mut second).is_pending());
        queue.put_nowait("item").unwrap(); // promised to `first`...
        drop(first); // ...which is cancelled before it runs
        assert_eq!(
            poll_once(&mut second),
            Poll::Ready(Ok("item")),
            "the item passes to the next getter"
        );

        let mut alone = queue.get();
        assert!(poll_once(&mut alone).is_pending());
        queue.put_nowait("kept").unwrap();
        drop(alone);
        assert_eq!(
            queue.get_nowait(),
            Ok("kept"),
            "with no other getter it stays queued"
        );
    });
}

#[test]
fn a_put_cancelled_after_room_was_promised_to_it_passes_the_room_on() {
    evloop::run(async {
        let drops = DropCounter::default();
        let queue = Queue::new(1);
        queue.put_nowait((0, drops.token())).unwrap();
        let mut first = queue.put((1, drops.token()));
        let mut second = queue.put((2, drops.token()));
        assert!(poll_once(&mut first).is_pending());
        assert!(poll_once(&mut second).is_pending());
        assert_eq!(queue.get_nowait().unwrap().0, 0); // room promised to `first`
        drop(first); // cancelled: its item was never put, so it is dropped
        assert_eq!(
            drops.count(),
            2,
            "item 0 (taken, dropped) and the cancelled item 1"
        );
        assert!(matches!(poll_once(&mut second), Poll::Ready(Ok(()))));
        assert_eq!(queue.get_nowait().unwrap().0, 2);
    });
}

#[test]
fn cancelling_gets_with_timeouts_never_loses_or_duplicates_an_item() {
    let total: usize = evloop::run(async {
        let queue = Rc::new(Queue::new(3));
        let consumers: Vec<_> = (0..8)
            .map(|_| {
                let queue = queue.clone();
                spawn(async move {
                    let mut got = Vec::new();
                    loop {
                        // Short timeouts cancel many gets, some of them after their grant.
                        match timeout(Duration::from_micros(300), queue.get()).await {
                            Ok(Ok(item)) => got.push(item),
                            Ok(Err(QueueShutDown(()))) => return got,
                            Err(_elapsed) => {}
                        }
                    }
                })
            })
            .collect();
        for n in 0..2000usize {
            queue.put(n).await.unwrap();
            if n % 7 == 0 {
                sleep(Duration::from_micros(200)).await;
            }
        }
        queue.shutdown();
        let mut all = Vec::new();
        for consumer in consumers {
            all.extend(consumer.await.unwrap());
        }
        all.sort_unstable();
        assert_eq!(all, (0..2000).collect::<Vec<_>>(), "each item exactly once");
        all.len()
    });
    assert_eq!(total, 2000);
}

#[test]
fn join_waits_for_task_done_on_every_item() {
    evloop::run(async {
        let queue = Rc::new(Queue::new(0));
        queue.join().await; // nothing unfinished: at once
        for n in 0..3 {
            queue.put(n).await.unwrap();
        }
        let joiner = spawn({
            let queue = queue.clone();
            async move { queue.join().await }
        });
        for _ in 0..3 {
            queue.get().await.unwrap();
            yield_now().await;
            assert!(!joiner.is_finished(), "taken is not done");
            queue.task_done().unwrap();
        }
        joiner.await.unwrap();
        assert!(
            queue.task_done().is_err(),
            "more task_done calls than items is an error (asyncio: ValueError)"
        );
    });
}

#[test]
fn shutdown_fails_waiting_putters_and_getters_and_lets_getters_drain() {
    evloop::run(async {
        let queue = Queue::<i32>::new(1);
        let mut getter = queue.get();
        assert!(poll_once(&mut getter).is_pending());
        queue.shutdown();
        assert_eq!(poll_once(&mut getter), Poll::Ready(Err(QueueShutDown(()))));

        let queue = Queue::new(1);
        queue.put_nowait(1).unwrap();
        let mut putter = queue.put(2);
        assert!(poll_once(&mut putter).is_pending());
        queue.shutdown();
        assert!(queue.is_shut_down());
        assert_eq!(
            poll_once(&mut putter),
            Poll::Ready(Err(QueueShutDown(2))),
            "a refused put gives its item back"
        );
        assert!(matches!(queue.put_nowait(3), Err(TryPutError::ShutDown(3))));
        assert_eq!(queue.put(4).await, Err(QueueShutDown(4)));
        assert_eq!(queue.get().await, Ok(1), "items left can still be taken");
        assert_eq!(queue.get().await, Err(QueueShutDown(())));
        assert_eq!(queue.get_nowait(), Err(TryGetError::ShutDown));
    });
}

#[test]
fn shutdown_immediate_returns_the_items_marks_them_done_and_fails_promised_getters() {
    evloop::run(async {
        let queue = Rc::new(Queue::new(0));
        let mut promised = queue.get();
        assert!(poll_once(&mut promised).is_pending());
        for n in 0..3 {
            queue.put_nowait(n).unwrap();
        }
        let joiner = spawn({
            let queue = queue.clone();
            async move { queue.join().await }
        });
        yield_now().await;
        assert!(!joiner.is_finished());
        assert_eq!(queue.shutdown_immediate(), [0, 1, 2], "returned, not lost");
        assert_eq!(
            poll_once(&mut promised),
            Poll::Ready(Err(QueueShutDown(())))
        );
        joiner.await.unwrap();
        assert!(queue.is_empty());
    });
}

#[test]
fn a_thread_producer_feeds_task_consumers_through_one_queue() {
    let sum = within(Duration::from_secs(10), || {
        let queue = Arc::new(Queue::new(4));
        let producer = std::thread::spawn({
            let queue = queue.clone();
            move || {
                for n in 1..=1000u64 {
                    queue.put_blocking(n).unwrap(); // blocks the thread while full
                }
                queue.shutdown();
            }
        });
        let sum = evloop::run(async {
            let consumers: Vec<_> = (0..4)
                .map(|_| {
                    let queue = queue.clone();
                    spawn(async move {
                        let mut sum = 0;
                        while let Ok(n) = queue.get().await {
                            sum += n;
                        }
                        sum
                    })
                })
                .collect();
            let mut sum = 0;
            for consumer in consumers {
                sum += consumer.await.unwrap();
            }
            sum
        });
        producer.join().unwrap();
        sum
    });
    assert_eq!(sum, 1000 * 1001 / 2);
}

#[test]
fn a_task_producer_feeds_a_thread_consumer() {
    within(Duration::from_secs(10), || {
        let queue = Arc::new(Queue::new(1));
        let consumer = std::thread::spawn({
            let queue = queue.clone();
            move || std::iter::from_fn(|| queue.get_blocking().ok()).collect::<Vec<_>>()
        });
        evloop::run(async {
            for n in 0..100 {
                queue.put(n).await.unwrap();
            }
            queue.shutdown();
        });
        assert_eq!(consumer.join().unwrap(), (0..100).collect::<Vec<_>>());
    });
}

#[test]
#[should_panic(expected = "use `get().await`")]
fn get_blocking_on_the_loop_thread_is_refused() {
    evloop::run(async {
        let queue = Queue::<u8>::new(0);
        let _ = queue.get_blocking();
    });
}

#[test]
fn a_queue_works_under_a_foreign_executor() {
    within(Duration::from_secs(10), || {
        let queue = Arc::new(Queue::new(1));
        let thread = std::thread::spawn({
            let queue = queue.clone();
            move || {
                futures_executor::block_on(async {
                    let mut got = Vec::new();
                    while let Ok(n) = queue.get().await {
                        got.push(n);
                        queue.task_done().unwrap();
                    }
                    got
                })
            }
        });
        evloop::run(async {
            for n in 0..50 {
                queue.put(n).await.unwrap();
            }
            queue.join().await;
            queue.shutdown();
        });
        assert_eq!(thread.join().unwrap(), (0..50).collect::<Vec<_>>());
    });
}
