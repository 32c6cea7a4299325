//! Barrier (asyncio's test cases: trip, cyclic rounds, abort, reset, cancellation) and oneshot
//! (set from a thread, set twice, receiver gone, broken promise, blocking receive).

mod common;

use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use common::{poll_once, within, DropCounter};
use evloop::sync::oneshot::{self, SendError, TryRecvError};
use evloop::sync::{Barrier, BrokenBarrier};
use evloop::{spawn, yield_now};

#[test]
fn a_barrier_releases_everyone_when_the_last_arrives_round_after_round() {
    evloop::run(async {
        let barrier = Rc::new(Barrier::new(3));
        for _round in 0..3 {
            let early: Vec<_> = (0..2)
                .map(|_| {
                    let barrier = barrier.clone();
                    spawn(async move { barrier.wait().await })
                })
                .collect();
            yield_now().await;
            assert_eq!(barrier.n_waiting(), 2);
            assert!(early.iter().all(|task| !task.is_finished()));
            assert_eq!(barrier.wait().await, Ok(2), "the last arrival's index");
            let mut indexes = Vec::new();
            for task in early {
                indexes.push(task.await.unwrap().unwrap());
            }
            indexes.sort();
            assert_eq!(indexes, [0, 1]);
            assert_eq!(barrier.n_waiting(), 0, "empty again for the next round");
        }
        assert_eq!(barrier.parties(), 3);
    });
}

#[test]
fn abort_breaks_the_barrier_for_waiters_and_later_callers_until_reset() {
    evloop::run(async {
        let barrier = Rc::new(Barrier::new(2));
        let waiter = spawn({
            let barrier = barrier.clone();
            async move { barrier.wait().await }
        });
        yield_now().await;
        barrier.abort();
        let error: BrokenBarrier = waiter.await.unwrap().unwrap_err();
        assert!(
            error.to_string().contains("reset()"),
            "says how to recover: {error}"
        );
        assert!(barrier.is_broken());
        assert!(barrier.wait().await.is_err(), "later callers fail at once");
        barrier.reset();
        assert!(!barrier.is_broken());
        let other = spawn({
            let barrier = barrier.clone();
            async move { barrier.wait().await }
        });
        assert!(barrier.wait().await.is_ok(), "usable again after reset");
        assert!(other.await.unwrap().is_ok());
    });
}

#[test]
fn reset_fails_the_waiters_of_the_interrupted_round_only() {
    evloop::run(async {
        let barrier = Barrier::new(2);
        let mut waiting = barrier.wait();
        assert!(poll_once(&mut waiting).is_pending());
        barrier.reset();
        assert!(matches!(poll_once(&mut waiting), Poll::Ready(Err(_))));
        assert_eq!(barrier.n_waiting(), 0);
        let mut next_round = barrier.wait();
        assert!(poll_once(&mut next_round).is_pending());
        assert_eq!(barrier.wait().await, Ok(1));
        assert_eq!(poll_once(&mut next_round), Poll::Ready(Ok(0)));
    });
}

#[test]
fn a_waiter_cancelled_before_the_trip_no_longer_counts() {
    evloop::run(async {
        let barrier = Barrier::new(3);
        let mut stays = barrier.wait();
        assert!(poll_once(&mut stays).is_pending());
        let mut leaves = barrier.wait();
        assert!(poll_once(&mut leaves).is_pending());
        drop(leaves);
        assert_eq!(barrier.n_waiting(), 1);
        let mut third = barrier.wait();
        assert!(
            poll_once(&mut third).is_pending(),
            "only two live parties so far"
        );
        assert!(barrier.wait().await.is_ok());
        assert!(matches!(poll_once(&mut stays), Poll::Ready(Ok(_))));
        assert!(matches!(poll_once(&mut third), Poll::Ready(Ok(_))));
    });
}

#[test]
fn a_waiter_released_by_the_trip_succeeds_even_if_the_barrier_breaks_before_it_runs() {
    evloop::run(async {
        let barrier = Barrier::new(2);
        let mut released = barrier.wait();
        assert!(poll_once(&mut released).is_pending());
        assert_eq!(barrier.wait().await, Ok(1));
        barrier.abort();
        assert_eq!(poll_once(&mut released), Poll::Ready(Ok(0)));
    });
}

#[test]
#[should_panic(expected = "at least one party")]
fn a_barrier_for_nobody_is_refused() {
    Barrier::new(0);
}

#[test]
fn a_barrier_shared_by_threads_and_a_task() {
    within(Duration::from_secs(10), || {
        let barrier = Arc::new(Barrier::new(3));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let barrier = barrier.clone();
                std::thread::spawn(move || futures_executor::block_on(barrier.wait()).unwrap())
            })
            .collect();
        let task_index = evloop::run(async { barrier.wait().await.unwrap() });
        let mut indexes: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        indexes.push(task_index);
        indexes.sort();
        assert_eq!(indexes, [0, 1, 2]);
    });
}

#[test]
fn a_oneshot_value_set_on_a_thread_resolves_the_task() {
    let value = evloop::run(async {
        let (promise, future) = oneshot::channel();
        std::thread::spawn(move || promise.send(String::from("done")).unwrap());
        future.await
    });
    assert_eq!(value.as_deref(), Ok("done"));
}

#[test]
fn setting_twice_or_after_the_receiver_is_gone_gives_the_value_back() {
    let (promise, mut future) = oneshot::channel();
    let second = promise.clone();
    assert!(promise.send(1).is_ok());
    assert_eq!(second.send(2), Err(SendError::AlreadySent(2)));
    assert_eq!(future.try_recv(), Ok(1));
    assert_eq!(future.try_recv(), Err(TryRecvError::Closed));

    let (promise, future) = oneshot::channel::<u8>();
    assert!(!promise.is_closed());
    drop(future);
    assert!(promise.is_closed());
    let refused = promise.send(3).unwrap_err();
    assert_eq!(refused, SendError::ReceiverGone(3));
    assert_eq!(refused.into_inner(), 3);
}

#[test]
fn the_receiver_learns_when_every_sender_is_gone_without_sending() {
    evloop::run(async {
        let (promise, mut future) = oneshot::channel::<u8>();
        let clone = promise.clone();
        drop(promise);
        assert_eq!(
            future.try_recv(),
            Err(TryRecvError::Empty),
            "a clone is alive"
        );
        let waiting = spawn(future);
        yield_now().await;
        assert!(!waiting.is_finished());
        drop(clone);
        assert!(
            waiting.await.unwrap().is_err(),
            "a broken promise, not a hang"
        );
    });
}

#[test]
fn an_unreceived_value_is_dropped_with_the_receiver_and_a_received_one_once() {
    let drops = DropCounter::default();
    let (promise, future) = oneshot::channel();
    promise.send(drops.token()).unwrap();
    drop(future);
    assert_eq!(drops.count(), 1);

    let (promise, future) = oneshot::channel();
    promise.send(drops.token()).unwrap();
    let value = evloop::run(future).unwrap();
    assert_eq!(drops.count(), 1);
    drop((value, promise));
    assert_eq!(drops.count(), 2);
}

#[test]
fn a_thread_waits_for_a_task_with_recv_blocking() {
    within(Duration::from_secs(10), || {
        let (promise, future) = oneshot::channel();
        let thread = std::thread::spawn(move || future.recv_blocking());
        evloop::run(async move {
            evloop::time::sleep(Duration::from_millis(5)).await;
            promise.send(7).unwrap();
        });
        assert_eq!(thread.join().unwrap(), Ok(7));
    });
}

#[test]
#[should_panic(expected = "`.await` the Receiver")]
fn recv_blocking_on_the_loop_thread_is_refused() {
    evloop::run(async {
        let (_promise, future) = oneshot::channel::<u8>();
        let _ = future.recv_blocking();
    });
}
