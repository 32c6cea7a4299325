//! Mutex and Lock: exclusion held across awaits, FIFO order, cancellation of waiters (asyncio's
//! "cancelled head waiter deadlocks Lock" and "release/cancel race grants the lock twice"), and a
//! thread sharing a mutex with a task.

mod common;

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use common::{block_on_thread, poll_once, within};
use evloop::sync::{Lock, Mutex};
use evloop::time::timeout;
use evloop::{spawn, yield_now};

#[test]
fn the_lock_is_held_across_awaits_and_granted_in_arrival_order() {
    let order = evloop::run(async {
        let lock = Rc::new(Lock::default());
        let order = Rc::new(RefCell::new(Vec::new()));
        let held = lock.lock().await;
        let waiters: Vec<_> = (0..5)
            .map(|i| {
                let (lock, order) = (lock.clone(), order.clone());
                spawn(async move {
                    let _guard = lock.lock().await;
                    order.borrow_mut().push(i);
                    yield_now().await; // others run meanwhile, none gets the lock
                    order.borrow_mut().push(i);
                })
            })
            .collect();
        yield_now().await; // every waiter queues, in spawn order
        drop(held);
        for waiter in waiters {
            waiter.await.unwrap();
        }
        Rc::try_unwrap(order).unwrap().into_inner()
    });
    assert_eq!(order, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
}

#[test]
fn a_cancelled_head_waiter_does_not_deadlock_the_lock() {
    let mutex = Mutex::new(0);
    let held = mutex.try_lock().unwrap();
    let mut first = Box::pin(mutex.lock());
    let mut second = Box::pin(mutex.lock());
    assert!(first
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_pending());
    assert!(second
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_pending());
    drop(held); // the lock is granted to `first`...
    drop(first); // ...which goes away without taking it
    let Poll::Ready(mut guard) = second
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    else {
        panic!("the lock passed to the next waiter");
    };
    *guard += 1;
    drop(guard);
    drop(second);
    assert!(!mutex.is_locked());
    assert_eq!(mutex.into_inner(), 1);
}

#[test]
fn cancelled_lock_attempts_never_break_exclusion() {
    within(Duration::from_secs(20), || {
        evloop::run(async {
            let mutex = Rc::new(Mutex::new(0u64));
            let tasks: Vec<_> = (0..100u64)
                .map(|i| {
                    let mutex = mutex.clone();
                    spawn(async move {
                        let attempt =
                            timeout(Duration::from_micros(i * 53 % 400), mutex.lock()).await;
                        if let Ok(mut guard) = attempt {
                            let before = *guard;
                            yield_now().await;
                            *guard = before + 1; // a lost update if exclusion broke
                        }
                    })
                })
                .collect();
            let mut finished = 0;
            for task in tasks {
                task.await.unwrap();
                finished += 1;
            }
            assert_eq!(finished, 100);
            let total = *mutex.lock().await;
            assert!(total <= 100);
            assert!(!mutex.is_locked());
        })
    });
}

#[test]
fn try_lock_get_mut_and_into_inner() {
    let mut mutex = Mutex::new(String::from("a"));
    mutex.get_mut().push('b');
    {
        let mut guard = mutex.try_lock().unwrap();
        guard.push('c');
        assert!(mutex.is_locked());
        let error = mutex.try_lock().unwrap_err();
        assert!(error.to_string().contains("without waiting"), "{error}");
        assert_eq!(format!("{guard:?}"), "\"abc\"");
    }
    assert_eq!(mutex.into_inner(), "abc");
}

#[test]
fn a_thread_and_a_task_share_a_mutex() {
    within(Duration::from_secs(10), || {
        let mutex = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let mutex = mutex.clone();
            std::thread::spawn(move || {
                for i in 0..100 {
                    block_on_thread(mutex.lock()).push(i);
                }
            })
        };
        evloop::run({
            let mutex = mutex.clone();
            async move {
                for i in 100..200 {
                    mutex.lock().await.push(i);
                    if i % 10 == 0 {
                        evloop::time::sleep(Duration::from_micros(100)).await;
                    }
                }
            }
        });
        thread.join().unwrap();
        let mut values = block_on_thread(mutex.lock()).clone();
        values.sort();
        assert_eq!(values, (0..200).collect::<Vec<_>>());
    });
}

#[test]
fn an_uncontended_lock_is_ready_at_once() {
    let mutex = Mutex::new(1);
    let mut lock = Box::pin(mutex.lock());
    assert!(matches!(poll_once(&mut lock), Poll::Ready(guard) if *guard == 1));
}

#[test]
fn an_owned_guard_moves_into_a_task_and_keeps_others_out_until_it_is_dropped() {
    evloop::run(async {
        let data = Rc::new(Mutex::new(Vec::new()));
        let go_on = Rc::new(evloop::sync::Event::new());
        let guard = Mutex::lock_owned(data.clone()).await;
        let holder = spawn({
            let go_on = go_on.clone();
            async move {
                let mut guard = guard;
                guard.push("holder, first");
                go_on.wait().await;
                guard.push("holder, after waiting");
            }
        });
        let other = spawn({
            let data = data.clone();
            async move { data.lock().await.push("other") }
        });
        yield_now().await;
        assert!(data.is_locked());
        assert_eq!(data.n_waiting(), 1, "the other task waits for the holder");
        go_on.set();
        holder.await.unwrap();
        other.await.unwrap();
        assert_eq!(
            *data.lock().await,
            ["holder, first", "holder, after waiting", "other"]
        );
    });
}

#[test]
fn an_owned_guard_on_an_arc_can_be_dropped_on_another_thread() {
    within(Duration::from_secs(20), || {
        evloop::run(async {
            let data = Arc::new(Mutex::new(0));
            let mut guard = Mutex::lock_owned(data.clone()).await;
            *guard += 1;
            let thread = std::thread::spawn(move || {
                *guard += 1;
                drop(guard); // unlocks from this thread
            });
            assert_eq!(
                *data.lock().await,
                2,
                "the task waited for the thread's unlock"
            );
            thread.join().unwrap();
        });
    });
}

#[test]
fn a_cancelled_lock_owned_leaves_the_mutex_free() {
    static DATA: std::sync::LazyLock<Mutex<u8>> = std::sync::LazyLock::new(|| Mutex::new(0));
    evloop::run(async {
        let held = Mutex::lock_owned(&*DATA).await;
        let mut waiting = Box::pin(Mutex::lock_owned(&*DATA));
        assert!(poll_once(&mut waiting).is_pending());
        assert_eq!(DATA.n_waiting(), 1);
        drop(held);
        drop(waiting); // granted the lock, dropped before it saw it: passes it on
        assert_eq!(DATA.n_waiting(), 0);
        assert!(DATA.try_lock().is_ok());
    });
}

#[test]
fn try_lock_owned_takes_a_free_mutex_and_refuses_a_held_or_promised_one() {
    let data = Rc::new(Mutex::new(1));
    let mut guard = Mutex::try_lock_owned(data.clone()).unwrap();
    *guard += 1;
    assert!(Mutex::try_lock_owned(data.clone()).is_err(), "held");
    let mut waiting = Box::pin(data.lock());
    assert!(poll_once(&mut waiting).is_pending());
    drop(guard);
    assert!(
        Mutex::try_lock_owned(data.clone()).is_err(),
        "free, but promised to the queued waiter"
    );
    drop(waiting); // passes the lock on: nobody else wants it
    assert_eq!(*Mutex::try_lock_owned(data.clone()).unwrap(), 2);
    assert_eq!(
        Rc::strong_count(&data),
        1,
        "every refused clone was dropped"
    );
}
