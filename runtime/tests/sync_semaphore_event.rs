//! Semaphore, BoundedSemaphore and Event: FIFO fairness, cancellation at every await point with
//! no lost permit or wake-up (the bugs asyncio shipped), threads, and a foreign executor.

mod common;

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use common::{block_on_thread, poll_once, within};
use evloop::sync::{BoundedSemaphore, Event, Semaphore};
use evloop::time::{sleep, timeout};
use evloop::{spawn, yield_now};

#[test]
fn permits_limit_concurrency_and_come_back() {
    evloop::run(async {
        let semaphore = Rc::new(Semaphore::new(3));
        let running = Rc::new(Cell::new(0));
        let peak = Rc::new(Cell::new(0));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (semaphore, running, peak) = (semaphore.clone(), running.clone(), peak.clone());
                spawn(async move {
                    let _permit = semaphore.acquire().await;
                    running.set(running.get() + 1);
                    peak.set(peak.get().max(running.get()));
                    sleep(Duration::from_millis(1)).await;
                    running.set(running.get() - 1);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(peak.get(), 3);
        assert_eq!(semaphore.available_permits(), 3);
    });
}

#[test]
fn waiters_are_served_first_come_first_served() {
    let semaphore = Semaphore::new(1);
    let held = semaphore.try_acquire().unwrap();
    let mut big = semaphore.acquire_many(2);
    assert!(poll_once(&mut big).is_pending());
    drop(held); // one permit free, but the queued request needs two
    assert_eq!(semaphore.available_permits(), 1);
    assert!(
        semaphore.try_acquire().is_err(),
        "a newcomer must not jump the queue"
    );
    let mut small = semaphore.acquire();
    assert!(
        poll_once(&mut small).is_pending(),
        "nor may a queued newcomer"
    );
    semaphore.add_permits(1);
    let big_permit = match poll_once(&mut big) {
        Poll::Ready(permit) => permit,
        Poll::Pending => panic!("the head of the queue gets both permits"),
    };
    assert_eq!(big_permit.permits(), 2);
    drop(big_permit);
    assert!(poll_once(&mut small).is_ready());
}

#[test]
fn a_waiter_cancelled_after_its_grant_passes_the_permit_on() {
    let semaphore = Semaphore::new(0);
    let mut first = semaphore.acquire();
    let mut second = semaphore.acquire();
    assert!(poll_once(&mut first).is_pending());
    assert!(poll_once(&mut second).is_pending());
    semaphore.add_permits(1); // granted to `first`, which will never look
    drop(first);
    assert!(
        poll_once(&mut second).is_ready(),
        "the permit passed to the next waiter"
    );
}

#[test]
fn a_cancelled_head_waiter_unblocks_the_ones_behind_it() {
    let semaphore = Semaphore::new(1);
    let mut big = semaphore.acquire_many(5);
    let mut small = semaphore.acquire();
    assert!(poll_once(&mut big).is_pending());
    assert!(poll_once(&mut small).is_pending());
    drop(big);
    assert!(poll_once(&mut small).is_ready());
}

#[test]
fn random_cancellations_never_lose_a_permit() {
    within(Duration::from_secs(20), || {
        evloop::run(async {
            let semaphore = Rc::new(Semaphore::new(4));
            let tasks: Vec<_> = (0..200u64)
                .map(|i| {
                    let semaphore = semaphore.clone();
                    spawn(async move {
                        // Some give up while queued, some after holding a while.
                        let wait = Duration::from_micros(i * 37 % 500);
                        if let Ok(permit) =
                            timeout(wait, semaphore.acquire_many(1 + (i % 3) as usize)).await
                        {
                            sleep(Duration::from_micros(i % 7 * 100)).await;
                            drop(permit);
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            assert_eq!(semaphore.available_permits(), 4, "every permit came back");
            let _all = semaphore.acquire_many(4).await;
        })
    });
}

#[test]
fn forget_add_permits_and_try_acquire() {
    let semaphore = Semaphore::new(2);
    semaphore.try_acquire().unwrap().forget();
    assert_eq!(semaphore.available_permits(), 1);
    let permit = semaphore.try_acquire().unwrap();
    let error = semaphore.try_acquire().unwrap_err();
    assert!(error.to_string().contains("acquire().await"), "{error}");
    drop(permit);
    semaphore.add_permits(3);
    assert_eq!(semaphore.available_permits(), 4);
}

#[test]
fn a_bounded_semaphore_refuses_to_grow_past_its_bound() {
    let semaphore = BoundedSemaphore::new(2);
    let error = semaphore.add_permits(1).unwrap_err();
    assert!(
        error.to_string().contains("never holds more than 2"),
        "{error}"
    );
    semaphore.try_acquire().unwrap().forget();
    assert_eq!(semaphore.available_permits(), 1);
    semaphore.add_permits(1).unwrap();
    assert_eq!(semaphore.available_permits(), 2);
    evloop::run(async {
        let permit = semaphore.acquire().await;
        drop(permit);
    });
    assert_eq!(semaphore.available_permits(), 2);
}

#[test]
fn a_request_larger_than_a_semaphore_can_ever_hold_is_refused_at_once() {
    let semaphore = Semaphore::new(1);
    let refused = std::panic::catch_unwind(|| drop(semaphore.acquire_many(usize::MAX)));
    let message = *refused.unwrap_err().downcast::<String>().unwrap();
    assert!(message.contains("can never be granted"), "{message}");
    // Nothing was queued: a later request is served at once.
    let mut next = pin!(semaphore.acquire());
    assert!(poll_once(&mut next).is_ready());
}

#[test]
fn adding_permits_past_the_most_a_semaphore_holds_panics_and_changes_nothing() {
    let most = usize::MAX / 2;
    let semaphore = Semaphore::new(most - 1);
    semaphore.add_permits(1);
    for too_many in [1, most, usize::MAX] {
        let refused = std::panic::catch_unwind(|| semaphore.add_permits(too_many));
        let message = *refused.unwrap_err().downcast::<&str>().unwrap();
        assert!(message.contains("too many permits added"), "{message}");
        assert_eq!(semaphore.available_permits(), most);
    }
    // The same with somebody queued, where the permits would go to the waiters.
    let mut take_all = pin!(semaphore.acquire_many(most));
    let Poll::Ready(all) = poll_once(&mut take_all) else {
        panic!("every permit is free")
    };
    let mut more = pin!(semaphore.acquire());
    assert!(poll_once(&mut more).is_pending());
    let refused = std::panic::catch_unwind(|| semaphore.add_permits(most + 1));
    assert!(refused.is_err());
    assert!(poll_once(&mut more).is_pending(), "nothing was granted");
    drop(all);
    assert!(poll_once(&mut more).is_ready());
}

#[test]
fn a_bounded_semaphore_refuses_a_request_beyond_its_bound_at_once() {
    let semaphore = BoundedSemaphore::new(2);
    let refused = std::panic::catch_unwind(|| drop(semaphore.acquire_many(3)));
    assert!(refused.is_err());
    let mut both = pin!(semaphore.acquire_many(2));
    assert!(poll_once(&mut both).is_ready());
}

#[test]
fn a_semaphore_shared_with_a_thread_and_a_foreign_executor() {
    within(Duration::from_secs(10), || {
        let semaphore = Arc::new(Semaphore::new(0));
        let releaser = {
            let semaphore = semaphore.clone();
            std::thread::spawn(move || {
                // Release only once the other side waits, so the wake-up path is the one tested.
                while semaphore.n_waiting() == 0 {
                    std::thread::yield_now();
                }
                semaphore.add_permits(1);
            })
        };
        // Not evloop: a plain thread-parking executor.
        let permit = block_on_thread(semaphore.acquire());
        drop(permit);
        releaser.join().unwrap();
        evloop::run(async {
            let _permit = semaphore.acquire().await;
        });
    });
}

#[test]
fn set_wakes_every_waiter_and_later_waits_return_at_once() {
    evloop::run(async {
        let event = Rc::new(Event::new());
        let woken = Rc::new(Cell::new(0));
        let waiters: Vec<_> = (0..5)
            .map(|_| {
                let (event, woken) = (event.clone(), woken.clone());
                spawn(async move {
                    event.wait().await;
                    woken.set(woken.get() + 1);
                })
            })
            .collect();
        yield_now().await;
        assert_eq!(woken.get(), 0);
        assert!(!event.is_set());
        event.set();
        for waiter in waiters {
            waiter.await.unwrap();
        }
        assert_eq!(woken.get(), 5);
        event.wait().await;
        event.clear();
        assert!(timeout(Duration::from_millis(5), event.wait())
            .await
            .is_err());
    });
}

#[test]
fn a_waiter_woken_by_set_returns_even_if_cleared_before_it_runs() {
    let event = Event::new();
    let mut wait = pin!(event.wait());
    assert!(wait
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_pending());
    event.set();
    event.clear();
    assert!(wait
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_ready());
}

#[test]
fn a_cancelled_wait_leaves_the_other_waiters_intact() {
    evloop::run(async {
        let event = Rc::new(Event::new());
        assert!(timeout(Duration::from_millis(2), event.wait())
            .await
            .is_err());
        let waiter = spawn({
            let event = event.clone();
            async move { event.wait().await }
        });
        yield_now().await;
        event.set();
        waiter.await.unwrap();
    });
}

#[test]
fn an_event_set_from_another_thread_wakes_a_task() {
    within(Duration::from_secs(10), || {
        let event = Arc::new(Event::new());
        let setter = {
            let event = event.clone();
            std::thread::spawn(move || {
                // Set only once the task waits, so the wake-up path is the one tested.
                while event.n_waiting() == 0 {
                    std::thread::yield_now();
                }
                event.set();
            })
        };
        evloop::run(async { event.wait().await });
        setter.join().unwrap();
        assert!(event.is_set());
    });
}

#[test]
fn owned_permits_move_into_tasks_and_come_back_when_they_finish() {
    evloop::run(async {
        let slots = Rc::new(Semaphore::new(2));
        let running = Rc::new(Cell::new(0));
        let most = Rc::new(Cell::new(0));
        let mut workers = Vec::new();
        for _ in 0..6 {
            let permit = Semaphore::acquire_owned(slots.clone()).await;
            let (running, most) = (running.clone(), most.clone());
            workers.push(spawn(async move {
                let _permit = permit;
                running.set(running.get() + 1);
                most.set(most.get().max(running.get()));
                yield_now().await;
                running.set(running.get() - 1);
            }));
        }
        for worker in workers {
            worker.await.unwrap();
        }
        assert_eq!(most.get(), 2);
        assert_eq!(slots.available_permits(), 2);
        let permit = Semaphore::acquire_owned(slots.clone()).await;
        assert_eq!(permit.permits(), 1);
        permit.forget();
        assert_eq!(slots.available_permits(), 1, "a forgotten permit stays out");
    });
}

#[test]
fn an_owned_permit_on_an_arc_is_returned_from_another_thread() {
    within(Duration::from_secs(20), || {
        evloop::run(async {
            let semaphore = Arc::new(Semaphore::new(1));
            let permit = Semaphore::acquire_owned(semaphore.clone()).await;
            std::thread::spawn(move || drop(permit)).join().unwrap();
            assert_eq!(semaphore.available_permits(), 1);
        });
    });
}

#[test]
fn try_acquire_owned_takes_a_free_permit_and_gives_it_back_when_dropped() {
    let slots = Rc::new(Semaphore::new(2));
    let first = Semaphore::try_acquire_owned(slots.clone()).unwrap();
    let second = Semaphore::try_acquire_owned(slots.clone()).unwrap();
    assert!(Semaphore::try_acquire_owned(slots.clone()).is_err());
    assert_eq!((first.permits(), slots.available_permits()), (1, 0));
    drop(first);
    second.forget();
    assert_eq!(slots.available_permits(), 1, "the forgotten one stays out");
    assert_eq!(Rc::strong_count(&slots), 1);
}
