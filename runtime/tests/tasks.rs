//! Tasks: spawn, join, abort, panics, wake-up rules, fairness.

mod common;

use std::cell::{Cell, RefCell};
use std::future::{pending, poll_fn};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use common::{block_on_thread, within, DropCounter, Flag};
use evloop::time::{sleep, Instant};
use evloop::{spawn, yield_now, Runtime};

#[test]
fn spawned_tasks_run_in_spawn_order_and_return_their_output() {
    let order = evloop::run(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let handles: Vec<_> = (0..5)
            .map(|i| {
                let log = log.clone();
                spawn(async move {
                    log.borrow_mut().push(i);
                    i * 10
                })
            })
            .collect();
        let mut outputs = Vec::new();
        for handle in handles {
            outputs.push(handle.await.unwrap());
        }
        assert_eq!(outputs, [0, 10, 20, 30, 40]);
        Rc::try_unwrap(log).unwrap().into_inner()
    });
    assert_eq!(order, [0, 1, 2, 3, 4]);
}

#[test]
fn live_tasks_have_distinct_ids_and_every_handle_of_one_task_shares_its_id() {
    evloop::run(async {
        let handles: Vec<_> = (0..100).map(|_| spawn(pending::<()>())).collect();
        let ids: std::collections::HashSet<_> = handles.iter().map(|task| task.id()).collect();
        assert_eq!(ids.len(), handles.len(), "one id per live task");
        for task in &handles {
            assert_eq!(task.abort_handle().id(), task.id());
            assert_eq!(task.abort_handle().clone().id(), task.id());
        }
        let from_a_thread = std::thread::scope(|scope| {
            let handle = evloop::Handle::current();
            scope.spawn(move || handle.spawn(async {})).join().unwrap()
        });
        assert!(!ids.contains(&from_a_thread.id()));
        from_a_thread.await.unwrap();
        for task in &handles {
            task.abort();
        }
        // Finished but still held: the id stays the task's, and no new task takes it.
        let after: Vec<_> = (0..100).map(|_| spawn(async {})).collect();
        assert!(after.iter().all(|task| !ids.contains(&task.id())));
        assert!(handles.iter().all(|task| ids.contains(&task.id())));
    });
}

#[test]
fn tasks_can_spawn_tasks() {
    fn chain(depth: u32) -> evloop::JoinHandle<u32> {
        spawn(async move {
            if depth == 0 {
                0
            } else {
                chain(depth - 1).await.unwrap() + 1
            }
        })
    }
    assert_eq!(evloop::run(async { chain(1000).await.unwrap() }), 1000);
}

#[test]
fn a_detached_task_keeps_running() {
    let ran = Rc::new(Cell::new(false));
    evloop::run({
        let ran = ran.clone();
        async move {
            drop(spawn(async move {
                yield_now().await;
                ran.set(true);
            }));
            for _ in 0..3 {
                yield_now().await;
            }
        }
    });
    assert!(ran.get());
}

#[test]
fn abort_before_the_first_poll_drops_the_future_unpolled() {
    evloop::run(async {
        let polled = Rc::new(Cell::new(false));
        let drops = DropCounter::default();
        let token = drops.token();
        let handle = spawn({
            let polled = polled.clone();
            async move {
                let _token = token;
                polled.set(true);
            }
        });
        handle.abort();
        let error = handle.await.unwrap_err();
        assert!(error.is_cancelled() && !error.is_panic());
        assert_eq!(error.to_string(), "task was cancelled by JoinHandle::abort");
        assert!(!polled.get());
        assert_eq!(drops.count(), 1);
    });
}

#[test]
fn abort_drops_a_pending_future_before_it_is_polled_again() {
    evloop::run(async {
        let drops = DropCounter::default();
        let polls = Rc::new(Cell::new(0));
        let token = drops.token();
        let handle = spawn({
            let polls = polls.clone();
            async move {
                let _token = token;
                loop {
                    polls.set(polls.get() + 1);
                    yield_now().await;
                }
            }
        });
        yield_now().await;
        let polls_at_abort = polls.get();
        assert!(polls_at_abort >= 1);
        handle.abort();
        assert_eq!(
            drops.count(),
            0,
            "the future is dropped by the loop, not by abort"
        );
        assert!(handle.await.unwrap_err().is_cancelled());
        assert_eq!(drops.count(), 1);
        assert_eq!(polls.get(), polls_at_abort, "polled after abort");
    });
}

#[test]
fn abort_after_completion_keeps_the_output() {
    evloop::run(async {
        let handle = spawn(async { 5 });
        yield_now().await;
        assert!(handle.is_finished());
        handle.abort();
        assert_eq!(handle.await.unwrap(), 5);
    });
}

#[test]
fn a_task_can_be_aborted_from_another_thread() {
    within(Duration::from_secs(10), || {
        evloop::run(async {
            let handle = spawn(pending::<()>());
            let handle = Arc::new(handle);
            let remote = handle.clone();
            std::thread::spawn(move || remote.abort()).join().unwrap();
            let handle = Arc::try_unwrap(handle).unwrap();
            assert!(handle.await.unwrap_err().is_cancelled());
        })
    });
}

#[test]
fn a_panicking_task_reports_through_its_handle_and_spares_the_loop() {
    evloop::run(async {
        let bystander = spawn(async {
            yield_now().await;
            "still here"
        });
        let failing = spawn(async {
            yield_now().await;
            let code = std::hint::black_box(7); // a runtime value: the payload is a String
            panic!("task failure {code}");
        });
        let detached_failing = spawn(async { panic!("nobody listens") });
        drop(detached_failing);
        let error = failing.await.unwrap_err();
        assert!(error.is_panic());
        assert_eq!(error.to_string(), "task panicked: task failure 7");
        let payload = error.into_panic();
        assert_eq!(payload.downcast_ref::<String>().unwrap(), "task failure 7");
        assert_eq!(bystander.await.unwrap(), "still here");
    });
}

#[test]
fn a_future_whose_drop_panics_during_abort_reports_the_panic() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop failed");
        }
    }
    evloop::run(async {
        let handle = spawn(async {
            let _guard = PanicOnDrop;
            pending::<()>().await
        });
        yield_now().await;
        handle.abort();
        let error = handle.await.unwrap_err();
        assert!(error.is_panic(), "{error}");
    });
}

#[test]
fn a_task_woken_many_times_is_queued_and_polled_once() {
    evloop::run(async {
        let polls = Rc::new(Cell::new(0));
        let handle = spawn({
            let polls = polls.clone();
            poll_fn(move |cx| {
                polls.set(polls.get() + 1);
                if polls.get() == 1 {
                    for _ in 0..100 {
                        cx.waker().wake_by_ref();
                        // By value too: the clone's reference must move to the queue or go.
                        #[allow(clippy::waker_clone_wake)]
                        cx.waker().clone().wake();
                    }
                    Poll::Pending
                } else {
                    Poll::Ready(())
                }
            })
        });
        handle.await.unwrap();
        assert_eq!(polls.get(), 2);
    });
}

#[test]
fn a_waker_that_outlives_its_task_and_runtime_is_harmless() {
    let saved: Arc<Mutex<Option<Waker>>> = Arc::default();
    {
        let rt = Runtime::new().unwrap();
        let saved = saved.clone();
        rt.block_on(async move {
            spawn(poll_fn(move |cx| {
                *saved.lock().unwrap() = Some(cx.waker().clone());
                Poll::Ready(())
            }))
            .await
            .unwrap();
        });
    }
    let waker = saved.lock().unwrap().take().unwrap();
    waker.wake_by_ref();
    std::thread::spawn(move || waker.wake()).join().unwrap();
}

#[test]
fn a_task_woken_from_another_thread_resumes() {
    within(Duration::from_secs(10), || {
        evloop::run(async {
            let flag = Flag::default();
            let waiter = spawn({
                let flag = flag.clone();
                async move {
                    flag.wait().await;
                    "woken"
                }
            });
            yield_now().await; // let the waiter register its waker
            let setter = flag.clone();
            std::thread::spawn(move || {
                // Not an order the test relies on: it passes whichever comes first. The pause
                // only makes the parked loop the likely case; the loom model
                // `remote_wake_races_the_poll_and_the_park` checks every interleaving.
                std::thread::sleep(Duration::from_millis(20));
                setter.set();
            });
            assert_eq!(waiter.await.unwrap(), "woken");
        })
    });
}

#[test]
fn the_main_future_is_woken_from_another_thread_while_the_loop_sleeps() {
    within(Duration::from_secs(10), || {
        for _ in 0..50 {
            evloop::run(async {
                let flag = Flag::default();
                let setter = flag.clone();
                let thread = std::thread::spawn(move || setter.set());
                flag.wait().await;
                thread.join().unwrap();
            });
        }
    });
}

#[test]
fn a_join_handle_can_be_awaited_on_another_thread_even_for_a_non_send_future() {
    within(Duration::from_secs(10), || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let not_send = Rc::new(21);
            let handle = spawn(async move {
                yield_now().await;
                *not_send * 2
            });
            // The loop learns the thread's result through a oneshot, so it waits without polling
            // (a loop of short sleeps would never yield once each turn took longer than the sleep,
            // as under Miri: an elapsed `sleep` completes without suspending).
            let (sender, receiver) = evloop::sync::oneshot::channel();
            let waiter = std::thread::spawn(move || sender.send(block_on_thread(handle)).is_ok());
            assert_eq!(receiver.await.unwrap().unwrap(), 42);
            assert!(waiter.join().unwrap());
        });
    });
}

#[test]
fn a_task_that_yields_forever_starves_neither_timers_nor_other_tasks() {
    within(Duration::from_secs(10), || {
        evloop::run(async {
            let spins = Rc::new(Cell::new(0u64));
            let spinner = spawn({
                let spins = spins.clone();
                async move {
                    loop {
                        spins.set(spins.get() + 1);
                        yield_now().await;
                    }
                }
            });
            let other = spawn(async { "ran" });
            assert_eq!(other.await.unwrap(), "ran");
            let start = Instant::now();
            sleep(Duration::from_millis(20)).await;
            assert!(start.elapsed() >= Duration::from_millis(20));
            assert!(spins.get() > 10, "the spinner ran meanwhile");
            spinner.abort();
        })
    });
}

#[test]
fn ready_tasks_interleave_round_robin() {
    let log = evloop::run(async {
        let log = Rc::new(RefCell::new(String::new()));
        let a = spawn({
            let log = log.clone();
            async move {
                for _ in 0..3 {
                    log.borrow_mut().push('a');
                    yield_now().await;
                }
            }
        });
        let b = spawn({
            let log = log.clone();
            async move {
                for _ in 0..3 {
                    log.borrow_mut().push('b');
                    yield_now().await;
                }
            }
        });
        a.await.unwrap();
        b.await.unwrap();
        Rc::try_unwrap(log).unwrap().into_inner()
    });
    assert_eq!(log, "ababab");
}

#[test]
fn many_tasks_all_complete() {
    // Miri runs this test too (the task machinery's `unsafe`): fewer tasks keep CI in its budget.
    let count: u64 = if cfg!(miri) { 500 } else { 10_000 };
    let total = evloop::run(async move {
        let handles: Vec<_> = (0..count)
            .map(|i| {
                spawn(async move {
                    yield_now().await;
                    i
                })
            })
            .collect();
        let mut total = 0;
        for handle in handles {
            total += handle.await.unwrap();
        }
        total
    });
    assert_eq!(total, (0..count).sum());
}

#[test]
fn is_finished_tracks_completion() {
    evloop::run(async {
        let handle = spawn(yield_now());
        assert!(!handle.is_finished());
        yield_now().await;
        yield_now().await;
        assert!(handle.is_finished());
        assert!(format!("{handle:?}").contains("finished: true"));
        handle.await.unwrap();
    });
}

#[test]
#[should_panic(expected = "evloop::spawn called outside of a runtime")]
fn spawn_outside_a_runtime_panics_with_advice() {
    drop(spawn(async {}));
}

#[test]
#[should_panic(expected = "JoinHandle polled after it already returned its output")]
fn polling_a_join_handle_after_completion_panics() {
    evloop::run(async {
        let mut handle = spawn(async {});
        (&mut handle).await.unwrap();
        let _ = (&mut handle).await;
    });
}

#[test]
fn remote_wake_storms_never_poll_a_task_twice_at_once_or_after_completion() {
    within(Duration::from_secs(20), || {
        evloop::run(async {
            let polls = Arc::new(AtomicUsize::new(0));
            let saved: Arc<Mutex<Option<Waker>>> = Arc::default();
            let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let task = spawn({
                let polls = polls.clone();
                let saved = saved.clone();
                poll_fn(move |cx| {
                    let n = polls.fetch_add(1, Ordering::SeqCst);
                    *saved.lock().unwrap() = Some(cx.waker().clone());
                    if n >= 100 {
                        Poll::Ready(())
                    } else {
                        Poll::Pending
                    }
                })
            });
            yield_now().await;
            // Wakes coalesce, so the threads keep waking until the task is done.
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let saved = saved.clone();
                    let done = done.clone();
                    std::thread::spawn(move || {
                        while !done.load(Ordering::SeqCst) {
                            if let Some(waker) = saved.lock().unwrap().clone() {
                                waker.wake();
                            }
                        }
                    })
                })
                .collect();
            task.await.unwrap();
            done.store(true, Ordering::SeqCst);
            for thread in threads {
                thread.join().unwrap();
            }
            for _ in 0..10 {
                yield_now().await; // any stale queue entries are drained here
            }
            assert_eq!(polls.load(Ordering::SeqCst), 101, "polled after completion");
        })
    });
}
