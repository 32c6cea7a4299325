//! loom models of the synchronisation primitives (`evloop::sync`), whose state sits behind the
//! shim's mutex: every interleaving of acquire, release, cancel, set and wait across threads.
//!
//! Run with: `RUSTFLAGS="--cfg loom" cargo test -p loom-tests --release`
#![cfg(loom)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use evloop::sync::{oneshot, Barrier, Condition, Event, Mutex, Queue, Semaphore};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

/// Wakes a loom thread parked in `block_on`.
struct Unpark(loom::thread::Thread);

impl Wake for Unpark {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.unpark();
    }
}

/// A minimal executor for one loom thread: poll, park until woken, repeat.
fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(std::sync::Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

/// Two threads contend for one permit. Properties: at most one holder at a time (mutual
/// exclusion), nobody waits forever (loom reports deadlocks), and the permit is back at the end.
#[test]
fn a_semaphore_excludes_and_conserves_permits() {
    loom::model(|| threads_share_one_permit(2));
}

/// Three threads contend for one permit, so that a release finds one waiter queued behind
/// another. Properties: one holder at a time, every thread gets its turn (no lost wake-up along
/// the queue), the permit is back at the end.
///
/// The one model with three threads, and the one whose search cannot be exhaustive: with no
/// bound it did not finish in 4 minutes. Unless `LOOM_MAX_PREEMPTIONS` says otherwise it stops
/// at 4 preemptions (148,986 interleavings, about 8 s).
#[test]
fn a_semaphore_serves_three_threads_in_turn() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = builder.preemption_bound.or(Some(4));
    builder.check(|| threads_share_one_permit(3));
}

/// `threads` threads (this one included) each take the one permit of a semaphore once, checking
/// that nobody else holds it meanwhile; at the end the permit is back.
fn threads_share_one_permit(threads: usize) {
    let semaphore = Arc::new(Semaphore::new(1));
    let holders = Arc::new(AtomicUsize::new(0));
    let contender = |semaphore: Arc<Semaphore>, holders: Arc<AtomicUsize>| {
        move || {
            let _permit = block_on(semaphore.acquire());
            assert_eq!(
                holders.fetch_add(1, Ordering::SeqCst),
                0,
                "two holders at once"
            );
            holders.fetch_sub(1, Ordering::SeqCst);
        }
    };
    let others: Vec<_> = (1..threads)
        .map(|_| thread::spawn(contender(semaphore.clone(), holders.clone())))
        .collect();
    contender(semaphore.clone(), holders)();
    for other in others {
        other.join().unwrap();
    }
    assert_eq!(semaphore.available_permits(), 1);
}

/// A queued waiter is cancelled (dropped) while another thread releases a permit: whether the
/// grant reached it before the drop or not, the permit ends up free.
#[test]
fn a_cancelled_waiter_racing_a_release_loses_no_permit() {
    loom::model(|| {
        let semaphore = Arc::new(Semaphore::new(0));
        let waiter = {
            let semaphore = semaphore.clone();
            thread::spawn(move || {
                let mut acquire = pin!(semaphore.acquire());
                let polled = acquire
                    .as_mut()
                    .poll(&mut Context::from_waker(Waker::noop()));
                // Dropped here, granted or not (if it won at once, the permit drops too).
                drop(polled);
            })
        };
        semaphore.add_permits(1);
        waiter.join().unwrap();
        assert_eq!(semaphore.available_permits(), 1);
    });
}

/// `set` on one thread races `wait` on another: the waiter always returns.
#[test]
fn event_set_races_wait() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let waiter = {
            let event = event.clone();
            thread::spawn(move || block_on(event.wait()))
        };
        event.set();
        waiter.join().unwrap();
        assert!(event.is_set());
    });
}

/// `set` then `clear` on one thread race the wake-up of a waiter on another. Property: a waiter
/// queued before the `set` returns even if the flag is down again by the time it runs (asyncio's
/// rule: a `set` releases everyone waiting at that moment).
#[test]
fn event_clear_does_not_strand_a_released_waiter() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let queued = Arc::new(AtomicUsize::new(0));
        let waiter = {
            let event = event.clone();
            let queued = queued.clone();
            thread::spawn(move || {
                let mut wait = Box::pin(event.wait());
                let polled = wait.as_mut().poll(&mut Context::from_waker(Waker::noop()));
                assert!(polled.is_pending(), "nobody has set the event yet");
                queued.store(1, Ordering::SeqCst);
                block_on(wait);
            })
        };
        while queued.load(Ordering::SeqCst) == 0 {
            thread::yield_now();
        }
        event.set();
        event.clear();
        waiter.join().unwrap();
    });
}

/// Two threads update data behind the async `Mutex`, one of them giving up a queued attempt
/// first. Properties: no lost update (exclusion), nobody waits forever, the lock ends up free.
#[test]
fn a_mutex_excludes_even_with_a_cancelled_waiter() {
    loom::model(|| {
        let mutex = Arc::new(Mutex::new(0));
        let other = {
            let mutex = mutex.clone();
            thread::spawn(move || {
                // A queued attempt that is abandoned (boxed, so that `drop` really drops the
                // future: `pin!` would keep it alive, and queued, until the end of the scope),
                // then a real one.
                let mut attempt = Box::pin(mutex.lock());
                let _ = attempt
                    .as_mut()
                    .poll(&mut Context::from_waker(Waker::noop()));
                drop(attempt);
                let mut guard = block_on(mutex.lock());
                let value = *guard;
                *guard = value + 1;
            })
        };
        {
            let mut guard = block_on(mutex.lock());
            let value = *guard;
            *guard = value + 1;
        }
        other.join().unwrap();
        assert_eq!(*block_on(mutex.lock()), 2);
        assert!(!mutex.is_locked());
    });
}

/// `notify_all` on one thread races a `wait_for` on another: whichever comes first, the waiter
/// returns, with the lock held and the flag it waited for set (no lost wake-up: a waiter queues
/// itself before it unlocks).
#[test]
fn condition_notify_races_wait() {
    loom::model(|| {
        let shared = Arc::new((Mutex::new(false), Condition::new()));
        let waiter = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (ready, condition) = &*shared;
                let guard =
                    block_on(async { condition.wait_for(ready.lock().await, |r| *r).await });
                assert!(*guard);
            })
        };
        {
            let (ready, condition) = &*shared;
            *block_on(ready.lock()) = true;
            condition.notify_all();
        }
        waiter.join().unwrap();
    });
}

/// Two waiters are queued; one is cancelled on another thread while `notify(1)` runs. Whether the
/// notification reached the cancelled one first or not, the other one is woken.
#[test]
fn a_cancelled_condition_waiter_passes_its_notification_on() {
    loom::model(|| {
        let shared = Arc::new((Mutex::new(()), Condition::new()));
        let queue_a_waiter = |shared: Arc<(Mutex<()>, Condition)>| {
            let mut waiter = Box::pin(async move {
                let (mutex, condition) = &*shared;
                drop(condition.wait(mutex.lock().await).await);
            });
            let polled = waiter
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()));
            assert!(polled.is_pending(), "queued on the condition");
            waiter
        };
        let cancelled = queue_a_waiter(shared.clone());
        let survivor = queue_a_waiter(shared.clone());
        let canceller = thread::spawn(move || drop(cancelled));
        shared.1.notify(1);
        block_on(survivor);
        canceller.join().unwrap();
    });
}

/// Two parties meet at a barrier from two threads: both are released, with indexes 0 and 1.
#[test]
fn a_barrier_releases_both_threads() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let other = {
            let barrier = barrier.clone();
            thread::spawn(move || block_on(barrier.wait()).unwrap())
        };
        let mine = block_on(barrier.wait()).unwrap();
        let theirs = other.join().unwrap();
        assert_eq!(mine + theirs, 1, "indexes 0 and 1");
        assert_eq!(barrier.n_waiting(), 0);
    });
}

/// `abort` on one thread while a party waits at the barrier on another. Property: the waiter is
/// released with `BrokenBarrier` (whether it arrived before or after the abort), never left
/// waiting.
#[test]
fn a_barrier_abort_releases_a_waiter_on_another_thread() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let waiter = {
            let barrier = barrier.clone();
            thread::spawn(move || block_on(barrier.wait()))
        };
        barrier.abort();
        assert!(waiter.join().unwrap().is_err());
        assert!(barrier.is_broken());
    });
}

/// A producer thread puts two items into a queue of one slot while the consumer cancels a get
/// (maybe after an item was promised to it) and then gets twice. Property: both items arrive,
/// in order, once each; nobody waits forever.
#[test]
fn queue_items_survive_a_cancelled_get() {
    loom::model(|| {
        let queue = Arc::new(Queue::new(1));
        let producer = {
            let queue = queue.clone();
            thread::spawn(move || {
                block_on(queue.put(1)).unwrap();
                block_on(queue.put(2)).unwrap();
            })
        };
        let mut cancelled = Box::pin(queue.get());
        if let Poll::Ready(item) = cancelled
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            // It got item 1 outright: that get completed, so there was nothing to cancel.
            assert_eq!(item, Ok(1));
            drop(cancelled);
            assert_eq!(block_on(queue.get()), Ok(2));
        } else {
            drop(cancelled);
            assert_eq!(block_on(queue.get()), Ok(1));
            assert_eq!(block_on(queue.get()), Ok(2));
        }
        producer.join().unwrap();
        assert!(queue.is_empty());
    });
}

/// A getter on another thread takes twice while the main thread puts one item and shuts the queue
/// down. Properties: the item put before `shutdown` reaches the getter (shutdown loses nothing),
/// and the second get, which finds the queue empty, is released with `QueueShutDown` whether it
/// was already waiting or came after.
#[test]
fn queue_shutdown_releases_a_waiting_getter() {
    loom::model(|| {
        let queue = Arc::new(Queue::new(0));
        let getter = {
            let queue = queue.clone();
            thread::spawn(move || (block_on(queue.get()), block_on(queue.get())))
        };
        queue.put_nowait(7).unwrap();
        queue.shutdown();
        let (first, second) = getter.join().unwrap();
        assert_eq!(first, Ok(7), "the item was there before shutdown");
        assert!(second.is_err());
        assert!(queue.is_empty());
    });
}

/// A putter waiting for room is cancelled on one thread just as a get on that thread gives it the
/// room, while a second putter waits on another thread. Property: the room passes on to the other
/// putter (nobody waits forever), and the queue holds exactly the items that were put.
#[test]
fn a_cancelled_put_passes_its_room_on() {
    loom::model(|| {
        let queue = Arc::new(Queue::new(1));
        queue.put_nowait(0).unwrap();
        let mut cancelled = Box::pin(queue.put(1));
        let polled = cancelled
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()));
        assert!(polled.is_pending(), "the queue is full");
        let other = {
            let queue = queue.clone();
            thread::spawn(move || block_on(queue.put(2)).unwrap())
        };
        assert_eq!(block_on(queue.get()), Ok(0));
        drop(cancelled); // maybe after the room was promised to it
        other.join().unwrap();
        assert_eq!(block_on(queue.get()), Ok(2));
        assert!(queue.is_empty());
    });
}

/// A value is sent on one thread while the receiver is polled and then dropped on another; a
/// second sender stays alive throughout. Properties: nothing is received that was not sent, and
/// by the time both threads are done the value has been dropped exactly once — a value sent to
/// a receiver that is gone comes back to the sender instead of sitting in the channel for as
/// long as some sender lives.
#[test]
fn oneshot_send_races_receiver_poll_and_drop() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (sender, receiver) = oneshot::channel();
        let _kept = sender.clone();
        let sent = {
            let drops = drops.clone();
            thread::spawn(move || sender.send(CountDrop(drops)).is_ok())
        };
        let mut receiver = Box::pin(receiver);
        let received = receiver
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()));
        let got_it = matches!(received, Poll::Ready(Ok(_)));
        drop(received);
        drop(receiver);
        let sent = sent.join().unwrap();
        assert!(sent || !got_it, "received a value nobody sent");
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "the value is dropped exactly once, and not kept in the channel"
        );
    });
}

/// The only sender is dropped on one thread while the receiver waits on another: the receiver
/// learns the promise is broken instead of waiting forever.
#[test]
fn oneshot_sender_drop_wakes_the_receiver() {
    loom::model(|| {
        let (sender, receiver) = oneshot::channel::<u8>();
        let dropper = thread::spawn(move || drop(sender));
        assert!(block_on(receiver).is_err());
        dropper.join().unwrap();
    });
}

/// Counts its drops.
struct CountDrop(Arc<AtomicUsize>);

impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A thread's timed `acquire_blocking_timeout` gives up while another thread releases a permit.
/// (loom has no clock: a zero timeout polls once, looks once more at the deadline, then leaves
/// the queue, and loom runs that against every point of the release.) Property: the permit is
/// never lost: the thread got it and gave it back, or it is still in the semaphore.
#[test]
fn a_timed_out_acquire_racing_a_release_loses_no_permit() {
    loom::model(|| {
        let semaphore = Arc::new(Semaphore::new(0));
        let waiter = {
            let semaphore = semaphore.clone();
            thread::spawn(move || {
                let _ = semaphore.acquire_blocking_timeout(Duration::ZERO);
            })
        };
        semaphore.add_permits(1);
        waiter.join().unwrap();
        assert_eq!(semaphore.available_permits(), 1, "a permit was lost");
    });
}

/// A thread's timed condition wait gives up while another thread notifies. Property: a
/// notification granted to the waiter is reported as such (`timed_out == false`), never dropped
/// as a timeout: `notify(1)` found a waiter exactly when the wait says it was notified.
#[test]
fn a_timed_out_condition_wait_racing_a_notify_keeps_the_notification() {
    loom::model(|| {
        let shared = Arc::new((Mutex::new(()), Condition::new()));
        let waiter = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (mutex, condition) = &*shared;
                condition
                    .wait_blocking_timeout(mutex.lock_blocking(), Duration::ZERO)
                    .1
            })
        };
        let notified = shared.1.notify(1);
        let timed_out = waiter.join().unwrap();
        assert_eq!(
            notified == 1,
            !timed_out,
            "notified {notified}, timed out {timed_out}"
        );
    });
}

/// A thread's timed barrier wait gives up while the other party arrives. Property: both are
/// released by the trip, or the give-up breaks the barrier and both get `BrokenBarrier`; nobody
/// waits forever for a party that left.
#[test]
fn a_timed_out_barrier_wait_races_the_trip() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let patient = {
            let barrier = barrier.clone();
            thread::spawn(move || barrier.wait_blocking())
        };
        let impatient = barrier.wait_blocking_timeout(Duration::ZERO);
        let patient = patient.join().unwrap();
        assert_eq!(
            impatient.is_ok(),
            patient.is_ok(),
            "{impatient:?} vs {patient:?}"
        );
    });
}
