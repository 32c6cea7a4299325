//! Condition: notify/wait with the mutex released, FIFO notification, `wait_for`, and
//! cancellation at each await point passing the notification on (asyncio's lost-notification bug).

mod common;

use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use common::{block_on_thread, poll_once, within};
use evloop::sync::{Condition, ConditionWait, Mutex};
use evloop::{spawn, yield_now};

#[test]
fn wait_releases_the_mutex_and_notify_wakes_waiters_in_arrival_order() {
    let woken = evloop::run(async {
        let shared = Rc::new((Mutex::new(Vec::new()), Condition::new()));
        let waiters: Vec<_> = (0..3)
            .map(|i| {
                let shared = shared.clone();
                spawn(async move {
                    let (log, condition) = &*shared;
                    let guard = log.lock().await;
                    let mut guard = condition.wait(guard).await;
                    guard.push(i);
                })
            })
            .collect();
        yield_now().await;
        let (log, condition) = &*shared;
        // Every waiter released the mutex while waiting, so it is free.
        assert!(!log.is_locked());
        assert_eq!(condition.notify(2), 2);
        yield_now().await;
        yield_now().await;
        assert_eq!(
            *log.lock().await,
            [0, 1],
            "notify(2) wakes exactly the two oldest"
        );
        condition.notify_all();
        for waiter in waiters {
            waiter.await.unwrap();
        }
        let woken = log.lock().await.clone();
        woken
    });
    assert_eq!(woken, [0, 1, 2]);
}

#[test]
fn a_notify_with_nobody_waiting_is_not_stored() {
    evloop::run(async {
        let mutex = Mutex::new(());
        let condition = Condition::new();
        assert_eq!(condition.notify(1), 0);
        let mut wait = condition.wait(mutex.lock().await);
        assert!(poll_once(&mut wait).is_pending());
    });
}

#[test]
fn wait_for_returns_once_the_predicate_holds_and_at_once_if_it_already_does() {
    evloop::run(async {
        let shared = Rc::new((Mutex::new(0), Condition::new()));
        let (count, condition) = &*shared;
        let guard = condition.wait_for(count.lock().await, |n| *n == 0).await;
        drop(guard);
        let waiter = spawn({
            let shared = shared.clone();
            async move {
                let (count, condition) = &*shared;
                *condition.wait_for(count.lock().await, |n| *n >= 3).await
            }
        });
        for _ in 0..5 {
            *count.lock().await += 1;
            condition.notify_all();
            yield_now().await;
        }
        assert_eq!(
            waiter.await.unwrap(),
            3,
            "returns as soon as it holds, lock held"
        );
    });
}

/// Two `wait`s queued on `condition` in order, each having released `mutex`.
async fn two_queued_waiters<'a>(
    mutex: &'a Mutex<()>,
    condition: &'a Condition,
) -> (ConditionWait<'a, ()>, ConditionWait<'a, ()>) {
    let mut first = condition.wait(mutex.lock().await);
    assert!(poll_once(&mut first).is_pending());
    let mut second = condition.wait(mutex.lock().await);
    assert!(poll_once(&mut second).is_pending());
    (first, second)
}

#[test]
fn a_waiter_cancelled_after_its_notification_passes_it_on() {
    evloop::run(async {
        let mutex = Mutex::new(());
        let condition = Condition::new();
        let (first, mut second) = two_queued_waiters(&mutex, &condition).await;
        assert_eq!(condition.notify(1), 1); // goes to `first`...
        drop(first); // ...which is cancelled before it runs
        assert!(
            matches!(poll_once(&mut second), Poll::Ready(_)),
            "the notification must pass to the next waiter"
        );
    });
}

#[test]
fn a_waiter_cancelled_while_relocking_passes_its_notification_on() {
    evloop::run(async {
        let mutex = Mutex::new(());
        let condition = Condition::new();
        let (mut first, mut second) = two_queued_waiters(&mutex, &condition).await;
        let held = mutex.lock().await;
        condition.notify(1);
        assert!(
            poll_once(&mut first).is_pending(),
            "notified, now waiting for the mutex"
        );
        drop(first);
        drop(held);
        assert!(matches!(poll_once(&mut second), Poll::Ready(_)));
        assert_eq!(condition.notify(1), 0, "nobody is left waiting");
    });
}

#[test]
fn a_cancelled_waiter_that_was_not_notified_just_leaves() {
    evloop::run(async {
        let mutex = Mutex::new(());
        let condition = Condition::new();
        let mut gone = condition.wait(mutex.lock().await);
        assert!(poll_once(&mut gone).is_pending());
        drop(gone);
        assert_eq!(condition.notify(1), 0);
        assert!(!mutex.is_locked());
    });
}

#[test]
fn a_thread_and_a_foreign_executor_share_a_condition_with_a_task() {
    within(Duration::from_secs(10), || {
        let shared = Arc::new((Mutex::new(false), Condition::new()));
        let thread = std::thread::spawn({
            let shared = shared.clone();
            move || {
                // A plain thread, driven by the `futures` crate's executor, waits for the task.
                futures_executor::block_on(async {
                    let (ready, condition) = &*shared;
                    let guard = condition.wait_for(ready.lock().await, |ready| *ready).await;
                    assert!(*guard);
                });
            }
        });
        evloop::run(async {
            evloop::time::sleep(Duration::from_millis(10)).await;
            let (ready, condition) = &*shared;
            *ready.lock().await = true;
            condition.notify_all();
        });
        thread.join().unwrap();
        let (ready, _) = &*shared;
        assert!(*block_on_thread(ready.lock()));
    });
}

#[test]
fn waiters_on_two_conditions_share_one_mutex() {
    // The classic bounded buffer: `not_empty` and `not_full` on the same mutex.
    let received = evloop::run(async {
        let shared = Rc::new((Mutex::new(Vec::new()), Condition::new(), Condition::new()));
        let consumer = spawn({
            let shared = shared.clone();
            async move {
                let (buffer, not_empty, not_full) = &*shared;
                let mut received = Vec::new();
                while received.len() < 10 {
                    let mut items = not_empty
                        .wait_for(buffer.lock().await, |b| !b.is_empty())
                        .await;
                    received.push(items.remove(0));
                    not_full.notify(1);
                }
                received
            }
        });
        let (buffer, not_empty, not_full) = &*shared;
        for n in 0..10 {
            let mut items = not_full
                .wait_for(buffer.lock().await, |b| b.len() < 2)
                .await;
            items.push(n);
            not_empty.notify(1);
        }
        consumer.await.unwrap()
    });
    assert_eq!(received, (0..10).collect::<Vec<_>>());
}
