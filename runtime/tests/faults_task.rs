//! When user code panics inside the loop's own machinery: wakers the loop calls, `Drop`s it runs,
//! `Ord`s it compares with, hooks it reports to. Each test is a case that crashed, hung or lied
//! before (DESIGN.md §"When user code panics" has the table these rows come from).
//!
//! Runs under Miri (`.ci/run`): a use-after-free here does not always crash a normal build.

mod common;

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use common::{DropCounter, DropToken, Flag};
use evloop::sync::{Event, PriorityQueue, Queue, Semaphore};

/// A waker that panics when woken.
struct PanicOnWake;

impl Wake for PanicOnWake {
    fn wake(self: Arc<Self>) {
        panic!("this waker panics when woken (on purpose)");
    }
}

fn panic_on_wake() -> Waker {
    Waker::from(Arc::new(PanicOnWake))
}

/// Polls `future` once with `waker`.
fn poll_with<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(waker))
}

/// A value whose `Drop` panics.
struct PanicOnDrop(#[allow(dead_code)] DropToken);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("this value panics when dropped (on purpose)");
    }
}

/// A future that waits forever holding `guard`: dropping it panics.
async fn holds_forever<T>(guard: PanicOnDrop) -> T {
    let _guard = guard;
    std::future::pending().await
}

/// Spawns a few tasks and checks they all run: the loop is still in working order.
async fn loop_still_works() {
    let handles: Vec<_> = (0..8)
        .map(|i| evloop::spawn(async move { i * 2 }))
        .collect();
    for (i, handle) in handles.into_iter().enumerate() {
        assert_eq!(handle.await.unwrap(), i * 2);
    }
}

// ---- the task core -------------------------------------------------------------------------

#[test]
fn a_join_waker_that_panics_from_another_thread_leaves_the_task_list_intact() {
    evloop::run(async {
        let flag = Flag::default();
        let task = evloop::spawn({
            let flag = flag.clone();
            async move {
                flag.wait().await;
                7
            }
        });
        // Another thread polls the handle once, registering a waker that panics when woken.
        let mut task = std::thread::spawn(move || {
            let mut task = task;
            assert!(poll_with(&mut task, &panic_on_wake()).is_pending());
            task
        })
        .join()
        .unwrap();
        // The task completes: the loop calls that waker from the task's completion.
        flag.set();
        evloop::yield_now().await;
        evloop::yield_now().await;
        // The loop goes on spawning, running and finishing tasks over the same list...
        loop_still_works().await;
        // ...and the output is still there for the handle.
        assert_eq!(poll_fn(|cx| Pin::new(&mut task).poll(cx)).await.unwrap(), 7);
        // A task still linked when the runtime shuts down is cancelled, not freed twice.
        let _pending = evloop::spawn(std::future::pending::<()>());
    });
}

#[test]
fn a_join_waker_that_panics_on_a_task_left_at_shutdown_is_harmless() {
    let rt = evloop::Runtime::new().unwrap();
    // The handle is carried out of the loop in a tuple: it is not awaited there.
    let (mut task,) = rt.block_on(async {
        let mut task = evloop::spawn(std::future::pending::<()>());
        assert!(poll_with(&mut task, &panic_on_wake()).is_pending());
        (task,)
    });
    // Shutdown cancels the task and calls the join waker: it panics, the shutdown goes on.
    drop(rt);
    let error = common::block_on_thread(poll_fn(|cx| Pin::new(&mut task).poll(cx))).unwrap_err();
    assert!(error.is_cancelled());
}

#[test]
fn an_output_whose_drop_panics_is_dropped_without_harm_when_nobody_wants_it() {
    let dropped = DropCounter::default();
    evloop::run({
        let dropped = dropped.clone();
        async move {
            let token = dropped.token();
            let task = evloop::spawn(async move { PanicOnDrop(token) });
            evloop::yield_now().await; // it completes...
            drop(task); // ...and the handle drops its output
            let detached = evloop::spawn(async move { PanicOnDrop(dropped.token()) });
            drop(detached); // detached first: the loop drops the output when it comes
            loop_still_works().await;
        }
    });
    assert_eq!(dropped.count(), 2);
}

#[test]
fn a_future_whose_drop_panics_reports_the_panic_to_its_handle_when_aborted() {
    evloop::run(async {
        let dropped = DropCounter::default();
        let task = evloop::spawn(holds_forever::<()>(PanicOnDrop(dropped.token())));
        evloop::yield_now().await;
        task.abort();
        let error = task.await.unwrap_err();
        assert!(error.is_panic(), "{error}");
        assert_eq!(dropped.count(), 1);
        loop_still_works().await;
    });
}

#[test]
fn a_runtime_shuts_down_tasks_whose_drop_panics_one_after_another() {
    let dropped = DropCounter::default();
    let rt = evloop::Runtime::new().unwrap();
    rt.block_on(async {
        for _ in 0..3 {
            evloop::spawn(holds_forever::<()>(PanicOnDrop(dropped.token())));
        }
        evloop::yield_now().await;
    });
    drop(rt); // before: the second panic during cleanup aborted the process
    assert_eq!(dropped.count(), 3);
}

#[test]
fn a_timer_waker_that_panics_does_not_stop_the_other_timers() {
    // A paused clock: no timer can be due before the loop jumps to it, however slow the test runs.
    common::run_paused(async {
        // A sleep polled by hand with a panicking waker: the loop calls it when the timer fires.
        let mut rogue = Box::pin(evloop::time::sleep(Duration::from_millis(1)));
        assert!(poll_with(&mut rogue, &panic_on_wake()).is_pending());
        // Timers due at the same tick: each must still be woken.
        let sleepers: Vec<_> = (0..3)
            .map(|_| evloop::spawn(evloop::time::sleep(Duration::from_millis(1))))
            .collect();
        for sleeper in sleepers {
            sleeper.await.unwrap();
        }
        loop_still_works().await;
    });
}

#[test]
fn a_slow_poll_hook_that_panics_leaves_the_runtime_usable() {
    let armed = Arc::new(AtomicBool::new(true));
    let rt = evloop::Runtime::builder()
        .slow_poll_threshold(Duration::ZERO)
        .on_slow_poll({
            let armed = armed.clone();
            move |_| {
                if armed.swap(false, Ordering::SeqCst) {
                    panic!("the slow-poll hook panics (on purpose)");
                }
            }
        })
        .build()
        .unwrap();
    let hook_panic = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async {
            evloop::spawn(async {}).await.unwrap();
        })
    }));
    assert!(hook_panic.is_err(), "the hook's panic leaves block_on");
    // The step's bookkeeping was done before the hook ran: the runtime runs tasks as before.
    assert!(!armed.load(Ordering::SeqCst));
    let again = rt.block_on(async { evloop::spawn(async { 5 }).await.unwrap() });
    assert_eq!(again, 5);
}

// ---- task groups ---------------------------------------------------------------------------

/// Spawns a task running a group of `children` children that each hold a `PanicOnDrop` and wait
/// forever. The body fails once they have started if `body_fails`, or else waits forever too.
fn spawn_guarded_group(
    dropped: &DropCounter,
    children: usize,
    body_fails: bool,
) -> evloop::JoinHandle<Result<(), evloop::GroupError<&'static str>>> {
    let dropped = dropped.clone();
    evloop::spawn(async move {
        evloop::task_group(async |group| {
            for _ in 0..children {
                group.spawn(holds_forever::<Result<(), _>>(PanicOnDrop(dropped.token())));
            }
            evloop::yield_now().await; // the children start
            if body_fails {
                return Err("the body fails: the group cancels its children");
            }
            std::future::pending().await
        })
        .await
    })
}

#[test]
fn two_group_children_whose_drop_panics_are_both_dropped_and_the_first_panic_resumed() {
    evloop::run(async {
        let dropped = DropCounter::default();
        let group = spawn_guarded_group(&dropped, 2, true);
        let error = group.await.unwrap_err();
        assert!(error.is_panic(), "a child's Drop panic is resumed: {error}");
        assert_eq!(dropped.count(), 2, "both children were dropped");
        loop_still_works().await;
    });
}

#[test]
fn dropping_a_group_whose_children_panic_on_drop_drops_them_all() {
    evloop::run(async {
        let dropped = DropCounter::default();
        let group = spawn_guarded_group(&dropped, 3, false);
        evloop::yield_now().await;
        evloop::yield_now().await;
        group.abort(); // cancels the task that runs the group: the group's future is dropped
        assert!(group.await.unwrap_err().is_panic());
        assert_eq!(dropped.count(), 3);
    });
}

#[test]
fn dropping_as_completed_drops_every_future_even_if_their_drops_panic() {
    evloop::run(async {
        let dropped = DropCounter::default();
        let futures: Vec<_> = (0..3)
            .map(|_| holds_forever::<()>(PanicOnDrop(dropped.token())))
            .collect();
        let mut completed = evloop::as_completed(futures, None);
        assert!(poll_with(&mut Box::pin(completed.next()), Waker::noop()).is_pending());
        assert!(catch_unwind(AssertUnwindSafe(|| drop(completed))).is_err());
        assert_eq!(dropped.count(), 3);
    });
}

#[test]
fn a_cancelled_wait_drops_every_future_even_if_their_drops_panic() {
    evloop::run(async {
        let dropped = DropCounter::default();
        let futures: Vec<_> = (0..3)
            .map(|_| {
                Box::pin(holds_forever::<Result<(), ()>>(PanicOnDrop(
                    dropped.token(),
                )))
            })
            .collect();
        let mut waiting = Box::pin(evloop::wait(
            futures,
            evloop::ReturnWhen::AllCompleted,
            None,
        ));
        assert!(poll_with(&mut waiting, Waker::noop()).is_pending());
        assert!(catch_unwind(AssertUnwindSafe(|| drop(waiting))).is_err());
        assert_eq!(dropped.count(), 3);
    });
}

// ---- sync primitives -----------------------------------------------------------------------

#[test]
fn an_event_set_wakes_every_waiter_even_if_one_waker_panics() {
    evloop::run(async {
        let event = Rc::new(Event::new());
        let mut rogue = Box::pin(event.wait());
        assert!(poll_with(&mut rogue, &panic_on_wake()).is_pending());
        let waiter = evloop::spawn({
            let event = event.clone();
            async move { event.wait().await }
        });
        evloop::yield_now().await; // the task waits, behind the rogue
        event.set(); // the rogue waker panics; set returns and the task is woken all the same
        waiter.await.unwrap();
        drop(rogue);
    });
}

#[test]
fn a_semaphore_grants_the_waiters_behind_a_panicking_waker() {
    evloop::run(async {
        let semaphore = Rc::new(Semaphore::new(0));
        let mut rogue = Box::pin(semaphore.acquire());
        assert!(poll_with(&mut rogue, &panic_on_wake()).is_pending());
        let waiter = evloop::spawn({
            let semaphore = semaphore.clone();
            async move { semaphore.acquire().await.forget() }
        });
        evloop::yield_now().await;
        semaphore.add_permits(2);
        waiter.await.unwrap();
        // The rogue's permit is waiting for it.
        let permit = poll_with(&mut rogue, Waker::noop());
        assert!(matches!(permit, Poll::Ready(_)));
    });
}

/// A waker whose `drop` panics (only once it is armed, so creating and cloning it is harmless).
struct PanicOnDropWaker(Arc<AtomicBool>);

impl Wake for PanicOnDropWaker {
    fn wake(self: Arc<Self>) {}
}

impl Drop for PanicOnDropWaker {
    fn drop(&mut self) {
        if self.0.swap(false, Ordering::SeqCst) {
            panic!("this waker panics when dropped (on purpose)");
        }
    }
}

#[test]
fn a_cancelled_waiter_whose_waker_panics_on_drop_still_passes_on_its_place() {
    evloop::run(async {
        let semaphore = Rc::new(Semaphore::new(1));
        // Head of the queue: asks for 2 of the 1 permit, with a waker whose drop panics.
        let armed = Arc::new(AtomicBool::new(false));
        let waker = Waker::from(Arc::new(PanicOnDropWaker(armed.clone())));
        let mut big = Box::pin(semaphore.acquire_many(2));
        assert!(poll_with(&mut big, &waker).is_pending());
        drop(waker); // the queue now holds the only clone
        let small = evloop::spawn({
            let semaphore = semaphore.clone();
            async move { semaphore.acquire().await.forget() }
        });
        evloop::yield_now().await; // waits behind the big request
        armed.store(true, Ordering::SeqCst);
        drop(big); // the big request leaves: the small one fits now
        small.await.unwrap();
    });
}

/// An item whose next comparison panics once its flag is armed (the panic disarms it).
#[derive(Debug)]
struct Touchy(u32, Rc<Cell<bool>>);

impl PartialEq for Touchy {
    fn eq(&self, other: &Touchy) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for Touchy {}
impl PartialOrd for Touchy {
    fn partial_cmp(&self, other: &Touchy) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Touchy {
    fn cmp(&self, other: &Touchy) -> std::cmp::Ordering {
        assert!(!self.1.replace(false), "this Ord panics (on purpose)");
        self.0.cmp(&other.0)
    }
}

#[test]
fn a_priority_queue_whose_ord_panics_loses_no_item_and_keeps_its_counts() {
    let armed = Rc::new(Cell::new(false));
    let queue = PriorityQueue::new(0);
    for n in [5, 3, 8] {
        queue.put_nowait(Touchy(n, armed.clone())).unwrap();
    }
    armed.set(true);
    let put = catch_unwind(AssertUnwindSafe(|| {
        queue.put_nowait(Touchy(1, armed.clone()))
    }));
    assert!(put.is_err(), "the panic reaches the caller of put");
    armed.set(true);
    let get = catch_unwind(AssertUnwindSafe(|| queue.get_nowait()));
    assert!(get.is_err(), "the panic reaches the caller of get");
    // Every item is still there, each counted once.
    assert_eq!(queue.qsize(), 4);
    let mut got: Vec<u32> = (0..4).map(|_| queue.get_nowait().unwrap().0).collect();
    got.sort();
    assert_eq!(got, [1, 3, 5, 8]);
    for _ in 0..4 {
        queue.task_done().unwrap();
    }
    assert!(queue.task_done().is_err(), "exactly four items were put");
}

#[test]
fn getters_waiting_on_a_priority_queue_are_not_forgotten_when_a_granted_get_panics() {
    common::within(Duration::from_secs(30), || {
        evloop::run(async {
            let armed = Rc::new(Cell::new(false));
            let queue: Rc<PriorityQueue<Touchy>> = Rc::new(PriorityQueue::new(0));
            let getters: Vec<_> = (0..4)
                .map(|_| {
                    let queue = queue.clone();
                    evloop::spawn(async move { queue.get().await.unwrap().0 })
                })
                .collect();
            evloop::yield_now().await; // all four wait on the empty queue
            for n in [3, 1, 2] {
                // Each item is promised to the oldest getter still waiting: the fourth waits on.
                queue.put_nowait(Touchy(n, armed.clone())).unwrap();
            }
            // The first getter's take compares, and that comparison panics: its promise is
            // spent but its item stays, so the item must be promised to the fourth getter.
            armed.set(true);
            let mut getters = getters.into_iter();
            assert!(getters.next().unwrap().await.unwrap_err().is_panic());
            let mut got: Vec<u32> = Vec::new();
            for getter in getters {
                got.push(getter.await.unwrap());
            }
            got.sort();
            assert_eq!(got, [1, 2, 3]);
        });
    });
}

#[test]
fn dropping_a_queue_drops_every_item_even_if_their_drops_panic() {
    let dropped = DropCounter::default();
    let queue = Queue::new(0);
    for _ in 0..3 {
        queue.put_nowait(PanicOnDrop(dropped.token())).unwrap();
    }
    let drop_panic = catch_unwind(AssertUnwindSafe(|| drop(queue)));
    assert!(drop_panic.is_err(), "the first panic is resumed");
    assert_eq!(dropped.count(), 3, "every item was dropped, none aborted");
}

#[test]
fn a_oneshot_send_succeeds_even_if_the_receiver_s_waker_panics() {
    let (sender, mut receiver) = evloop::sync::oneshot::channel();
    assert!(poll_with(&mut receiver, &panic_on_wake()).is_pending());
    sender.send(5).unwrap(); // the receiver's waker panics: the value is delivered all the same
    assert!(matches!(
        poll_with(&mut receiver, Waker::noop()),
        Poll::Ready(Ok(5))
    ));
}

#[test]
fn a_child_woken_from_outside_survives_its_driver_s_panicking_waker() {
    // `as_completed` polled by hand with a panicking waker: waking a child wakes that waker.
    let flag = Flag::default();
    let mut completed = evloop::as_completed([flag.wait()], None);
    let mut next = Box::pin(completed.next());
    assert!(poll_with(&mut next, &panic_on_wake()).is_pending());
    flag.set(); // wakes the child's waker, which wakes the driver's: caught, the set returns
    assert!(poll_with(&mut next, Waker::noop()).is_ready());
}

// ---- the loop's own wakes, counted ---------------------------------------------------------

/// Counts its wakes and panics on every one: the loop must still make each call.
struct CountingPanicWaker(Arc<AtomicUsize>);

impl Wake for CountingPanicWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
        panic!("counted, then panics (on purpose)");
    }
}

#[test]
fn an_event_calls_every_waker_once_even_when_each_one_panics() {
    let event = Event::new();
    let wakes = Arc::new(AtomicUsize::new(0));
    let waker = Waker::from(Arc::new(CountingPanicWaker(wakes.clone())));
    let mut waits: Vec<_> = (0..3).map(|_| Box::pin(event.wait())).collect();
    for wait in &mut waits {
        assert!(poll_with(wait, &waker).is_pending());
    }
    drop(waker);
    event.set();
    assert_eq!(wakes.load(Ordering::SeqCst), 3);
    for wait in &mut waits {
        assert!(poll_with(wait, Waker::noop()).is_ready());
    }
}

#[test]
fn a_main_future_can_be_polled_by_a_panicking_waker_of_its_own() {
    // A future inside the main future that wakes a rogue waker must not take the loop down.
    evloop::run(async {
        let flag = Flag::default();
        let mut wait = pin!(flag.wait());
        assert!(wait
            .as_mut()
            .poll(&mut Context::from_waker(&panic_on_wake()))
            .is_pending());
        let setter = evloop::spawn({
            let flag = flag.clone();
            async move {
                // Flag::set calls the rogue waker: the panic goes to this task's handle.
                flag.set();
            }
        });
        assert!(setter.await.unwrap_err().is_panic());
        wait.await;
        loop_still_works().await;
    });
}
