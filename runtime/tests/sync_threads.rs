//! Threads and tasks sharing one primitive: every `sync` primitive has a blocking side for plain
//! threads (`*_blocking`, and timed forms), with the same FIFO order and cancel safety as its
//! async side. Threads are ordered by what the primitive reports (`n_waiting`), never by sleeps.

mod common;

use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use common::{run_paused, within};
use evloop::sync::{
    Barrier, BoundedSemaphore, Condition, Event, Mutex, Queue, Semaphore, TryGetError, TryPutError,
};
use evloop::time::sleep;

/// Sleeps on the loop (1 ms at a time) until `ready()` holds: lets a thread get to where the test
/// needs it, without assuming how long that takes.
async fn until(ready: impl Fn() -> bool) {
    while !ready() {
        sleep(Duration::from_millis(1)).await;
    }
}

#[test]
fn a_mutex_serves_tasks_and_threads_in_arrival_order() {
    within(Duration::from_secs(20), || {
        evloop::run(async {
            let mutex = Arc::new(Mutex::new(Vec::new()));
            let held = mutex.lock().await;
            // task, thread, task, thread: each queues only after the one before it has.
            let mut threads = Vec::new();
            let mut tasks = Vec::new();
            for turn in 0..4 {
                if turn % 2 == 0 {
                    let mutex = mutex.clone();
                    tasks.push(evloop::spawn(async move {
                        mutex.lock().await.push(format!("task {turn}"));
                    }));
                } else {
                    let mutex = mutex.clone();
                    threads.push(std::thread::spawn(move || {
                        mutex.lock_blocking().push(format!("thread {turn}"));
                    }));
                }
                until(|| mutex.n_waiting() == turn + 1).await;
            }
            drop(held);
            for task in tasks {
                task.await.unwrap();
            }
            for thread in threads {
                thread.join().unwrap();
            }
            assert_eq!(
                *mutex.lock().await,
                ["task 0", "thread 1", "task 2", "thread 3"]
            );
        });
    });
}

#[test]
fn a_timed_lock_gives_up_and_leaves_the_queue() {
    let mutex = Mutex::new(0);
    let held = mutex.try_lock().unwrap();
    std::thread::scope(|scope| {
        let waiter = scope.spawn(|| {
            mutex
                .lock_blocking_timeout(Duration::from_millis(20))
                .is_err()
        });
        assert!(waiter.join().unwrap(), "the mutex was held throughout");
    });
    assert_eq!(mutex.n_waiting(), 0);
    drop(held);
    assert!(
        mutex.try_lock().is_ok(),
        "nothing holds it after the timeout"
    );
    let guard = mutex.lock_blocking_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(*guard, 0);
}

#[test]
fn a_timed_acquire_racing_a_release_loses_no_permit() {
    // Each round, a thread's timed wait runs out at about the moment a permit is released: the
    // permit ends up either with the thread (which returns it) or back in the semaphore.
    for round in 0..200 {
        let semaphore = Semaphore::new(0);
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                semaphore
                    .acquire_blocking_timeout(Duration::from_micros(round % 50))
                    .is_ok()
            });
            semaphore.add_permits(1);
            waiter.join().unwrap();
        });
        assert_eq!(semaphore.available_permits(), 1, "round {round}");
        assert_eq!(semaphore.n_waiting(), 0);
    }
}

#[test]
fn semaphores_serve_threads_and_tasks_and_default_to_one_permit() {
    assert_eq!(Semaphore::default().available_permits(), 1);
    assert_eq!(BoundedSemaphore::default().available_permits(), 1);
    within(Duration::from_secs(20), || {
        evloop::run(async {
            let semaphore = Arc::new(BoundedSemaphore::new(1));
            let inside = Arc::new(StdMutex::new(0));
            let most = Arc::new(StdMutex::new(0));
            let enter = |inside: &StdMutex<i32>, most: &StdMutex<i32>| {
                let mut now = inside.lock().unwrap();
                *now += 1;
                let mut most = most.lock().unwrap();
                *most = (*most).max(*now);
            };
            let threads: Vec<_> = (0..3)
                .map(|_| {
                    let (semaphore, inside, most) =
                        (semaphore.clone(), inside.clone(), most.clone());
                    std::thread::spawn(move || {
                        for _ in 0..50 {
                            let _permit = semaphore.acquire_blocking();
                            enter(&inside, &most);
                            *inside.lock().unwrap() -= 1;
                        }
                    })
                })
                .collect();
            for _ in 0..50 {
                let _permit = semaphore.acquire().await;
                enter(&inside, &most);
                evloop::yield_now().await; // held across an await
                *inside.lock().unwrap() -= 1;
            }
            for thread in threads {
                thread.join().unwrap();
            }
            assert_eq!(*most.lock().unwrap(), 1, "one holder at a time");
            assert_eq!(semaphore.available_permits(), 1);
        });
    });
}

#[test]
fn a_task_sets_the_event_a_thread_waits_for() {
    within(Duration::from_secs(20), || {
        let event = Arc::new(Event::new());
        assert!(event
            .wait_blocking_timeout(Duration::from_millis(5))
            .is_err());
        let waiter = std::thread::spawn({
            let event = event.clone();
            move || event.wait_blocking()
        });
        evloop::run(async {
            until(|| event.n_waiting() == 1).await;
            event.set();
        });
        waiter.join().unwrap();
        assert!(event.wait_blocking_timeout(Duration::ZERO).is_ok(), "set");
    });
}

#[test]
fn a_condition_wakes_a_thread_when_a_task_notifies() {
    within(Duration::from_secs(20), || {
        let shared = Arc::new((Mutex::new(false), Condition::new()));
        let waiter = std::thread::spawn({
            let shared = shared.clone();
            move || {
                let (ready, changed) = &*shared;
                let mut ready_now = ready.lock_blocking();
                while !*ready_now {
                    ready_now = changed.wait_blocking(ready_now);
                }
            }
        });
        evloop::run(async {
            let (ready, changed) = &*shared;
            until(|| changed.n_waiting() == 1).await;
            *ready.lock().await = true;
            changed.notify(1);
        });
        waiter.join().unwrap();
    });
}

#[test]
fn a_timed_condition_wait_gives_the_guard_back_either_way() {
    let (data, changed) = (Mutex::new(1), Condition::new());
    // Nobody notifies: times out, with the lock held again.
    let (guard, timed_out) =
        changed.wait_blocking_timeout(data.lock_blocking(), Duration::from_millis(5));
    assert!(timed_out);
    assert!(data.is_locked());
    assert_eq!(changed.n_waiting(), 0);
    drop(guard);
    // Notified in time: not timed out.
    std::thread::scope(|scope| {
        let waiter = scope.spawn(|| {
            changed
                .wait_blocking_timeout(data.lock_blocking(), Duration::from_secs(60))
                .1
        });
        while changed.n_waiting() == 0 {
            std::thread::yield_now();
        }
        changed.notify(1);
        assert!(!waiter.join().unwrap());
    });
}

#[test]
fn an_async_timed_condition_wait_relocks_and_says_whether_it_timed_out() {
    run_paused(async {
        let shared = std::rc::Rc::new((Mutex::new(0), Condition::new()));
        let (data, changed) = &*shared;
        let (guard, timed_out) = changed
            .wait_timeout(data.lock().await, Duration::from_secs(5))
            .await;
        assert!(timed_out && data.is_locked());
        drop(guard);
        let notifier = evloop::spawn({
            let shared = shared.clone();
            async move {
                sleep(Duration::from_secs(1)).await;
                *shared.0.lock().await = 7;
                shared.1.notify(1);
            }
        });
        let (guard, timed_out) = changed
            .wait_timeout(data.lock().await, Duration::from_secs(5))
            .await;
        assert!(!timed_out);
        assert_eq!(*guard, 7);
        drop(guard);
        notifier.await.unwrap();
        // A timeout of zero, before the wait could even start: the guard comes straight back.
        let (guard, timed_out) = changed
            .wait_timeout(data.lock().await, Duration::ZERO)
            .await;
        assert!(timed_out);
        drop(guard);
        assert_eq!(changed.n_waiting(), 0);
    });
}

#[test]
fn threads_and_a_task_meet_at_one_barrier() {
    within(Duration::from_secs(20), || {
        let barrier = Arc::new(Barrier::new(3));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let barrier = barrier.clone();
                std::thread::spawn(move || barrier.wait_blocking().unwrap())
            })
            .collect();
        let task_index = evloop::run(async {
            until(|| barrier.n_waiting() == 2).await;
            barrier.wait().await.unwrap()
        });
        let mut indexes: Vec<usize> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        indexes.push(task_index);
        indexes.sort();
        assert_eq!(indexes, [0, 1, 2]);
    });
}

#[test]
fn a_timed_out_barrier_wait_breaks_the_barrier_for_the_others() {
    within(Duration::from_secs(20), || {
        let barrier = Barrier::new(3);
        std::thread::scope(|scope| {
            let patient = scope.spawn(|| barrier.wait_blocking());
            while barrier.n_waiting() == 0 {
                std::thread::yield_now();
            }
            // The third party never comes: this one gives up, and the patient one is released.
            assert!(barrier
                .wait_blocking_timeout(Duration::from_millis(10))
                .is_err());
            assert!(patient.join().unwrap().is_err());
        });
        assert!(barrier.is_broken());
        barrier.reset();
        assert!(!barrier.is_broken());
    });
}

#[test]
fn timed_queue_operations_hand_the_item_back_or_report_empty() {
    let queue = Queue::new(1);
    assert_eq!(
        queue.get_blocking_timeout(Duration::from_millis(5)),
        Err(TryGetError::Empty)
    );
    queue
        .put_blocking_timeout(1, Duration::from_millis(5))
        .unwrap();
    match queue.put_blocking_timeout(2, Duration::from_millis(5)) {
        Err(TryPutError::Full(item)) => assert_eq!(item, 2, "the item comes back"),
        other => panic!("expected Full(2), got {other:?}"),
    }
    assert_eq!(queue.n_waiting_putters(), 0);
    assert_eq!(queue.qsize(), 1);
    assert_eq!(queue.get_blocking_timeout(Duration::from_millis(5)), Ok(1));
    queue.shutdown();
    assert!(matches!(
        queue.put_blocking_timeout(3, Duration::from_millis(5)),
        Err(TryPutError::ShutDown(3))
    ));
    assert_eq!(
        queue.get_blocking_timeout(Duration::from_millis(5)),
        Err(TryGetError::ShutDown)
    );
}

#[test]
fn a_thread_takes_what_a_task_puts() {
    within(Duration::from_secs(20), || {
        let queue = Arc::new(Queue::new(2));
        let consumer = std::thread::spawn({
            let queue = queue.clone();
            move || {
                let mut got = Vec::new();
                while let Ok(item) = queue.get_blocking_timeout(Duration::from_secs(10)) {
                    got.push(item);
                }
                got
            }
        });
        evloop::run(async {
            for item in 0..20 {
                queue.put(item).await.unwrap();
            }
            queue.shutdown();
        });
        assert_eq!(consumer.join().unwrap(), (0..20).collect::<Vec<_>>());
    });
}

#[test]
#[should_panic(expected = "Mutex::lock_blocking blocks its thread")]
fn blocking_on_a_loop_thread_is_refused() {
    let mutex = Mutex::new(());
    evloop::run(async {
        let _guard = mutex.lock_blocking();
    });
}
