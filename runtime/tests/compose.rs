//! gather, gather_all, gather!, as_completed, wait and shield, from asyncio's test cases: order
//! preserved, first error, siblings left running, every result, empty inputs, timeouts, and
//! cancellation of what the caller still owns.

mod common;

use std::cell::Cell;
use std::future::{pending, Future};
use std::rc::Rc;
use std::time::Duration;

use common::{run_paused, DropCounter};
use evloop::blocking::ThreadPoolExecutor;
use evloop::time::{sleep, timeout, Instant};
use evloop::{as_completed, gather, gather_all, shield, spawn, wait, yield_now, ReturnWhen};

async fn delayed<T: 'static>(ms: u64, value: T) -> T {
    sleep(Duration::from_millis(ms)).await;
    value
}

#[test]
fn gather_keeps_input_order_and_runs_concurrently() {
    run_paused(async {
        let start = Instant::now();
        let result = gather([30u64, 10, 20].map(|ms| async move {
            sleep(Duration::from_millis(ms)).await;
            Ok::<_, ()>(ms)
        }))
        .await;
        assert_eq!(result, Ok(vec![30, 10, 20]));
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(30),
            "ran concurrently"
        );
    });
}

#[test]
fn gather_returns_the_first_error_at_once_and_leaves_the_others_running() {
    run_paused(async {
        let sibling_finished = Rc::new(Cell::new(false));
        let start = Instant::now();
        let result = gather((0..3).map(|i| {
            let sibling_finished = sibling_finished.clone();
            async move {
                match i {
                    0 => {
                        sleep(Duration::from_millis(10)).await;
                        Err(format!("task {i} failed"))
                    }
                    1 => {
                        sleep(Duration::from_millis(40)).await;
                        sibling_finished.set(true);
                        Ok(i)
                    }
                    _ => Ok(i),
                }
            }
        }))
        .await;
        assert_eq!(result, Err(String::from("task 0 failed")));
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(10),
            "returned at the first error"
        );
        assert!(!sibling_finished.get());
        sleep(Duration::from_millis(50)).await;
        assert!(
            sibling_finished.get(),
            "the sibling kept running (asyncio's gather)"
        );
    });
}

#[test]
fn dropping_gather_cancels_the_tasks_it_owns() {
    evloop::run(async {
        let drops = DropCounter::default();
        let children: Vec<_> = (0..4)
            .map(|_| {
                let token = drops.token();
                async move {
                    let _token = token;
                    pending::<Result<(), ()>>().await
                }
            })
            .collect();
        assert!(timeout(Duration::from_millis(5), gather(children))
            .await
            .is_err());
        yield_now().await; // the loop drops the aborted futures
        assert_eq!(drops.count(), 4);
    });
}

#[test]
fn gather_of_nothing_returns_at_once() {
    evloop::run(async {
        let empty: Vec<std::future::Ready<Result<u8, ()>>> = Vec::new();
        assert_eq!(gather(empty).await, Ok(vec![]));
        let empty: Vec<std::future::Ready<Result<u8, ()>>> = Vec::new();
        assert!(gather_all(empty).await.is_empty());
    });
}

#[test]
fn gather_all_returns_every_result_in_order() {
    evloop::run(async {
        let results = gather_all([20u64, 0, 10].map(|ms| async move {
            sleep(Duration::from_millis(ms)).await;
            if ms == 0 {
                Err("zero")
            } else {
                Ok(ms)
            }
        }))
        .await;
        assert_eq!(results, [Ok(20), Err("zero"), Ok(10)]);
    });
}

#[test]
fn a_panicking_task_makes_gather_panic_in_the_caller() {
    evloop::run(async {
        let outcome = spawn(async {
            let failing = async {
                let reason = std::hint::black_box("gathered task panicked");
                if !reason.is_empty() {
                    panic!("{reason}");
                }
                Ok::<(), ()>(())
            };
            let _ = gather([failing]).await;
        })
        .await;
        assert_eq!(
            outcome.unwrap_err().to_string(),
            "task panicked: gathered task panicked"
        );
    });
}

#[test]
fn the_gather_macro_polls_in_place_and_returns_a_tuple() {
    run_paused(async {
        let local = String::from("borrowed");
        let start = Instant::now();
        let (a, b, c) = evloop::gather!(delayed(20, 1u8), delayed(20, "two"), async {
            sleep(Duration::from_millis(20)).await;
            local.len()
        })
        .await;
        assert_eq!((a, b, c), (1, "two", 8));
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(20),
            "concurrent, not sequential"
        );
    });
}

#[test]
fn as_completed_yields_in_completion_order() {
    run_paused(async {
        let tasks = [30u64, 0, 15].map(|ms| spawn(delayed(ms, ms)));
        let mut order = Vec::new();
        let mut completed = as_completed(tasks, None);
        assert_eq!(completed.remaining(), 3);
        while let Some(output) = completed.next().await {
            let (index, result) = output.unwrap();
            order.push((index, result.unwrap()));
        }
        assert_eq!(
            order,
            [(1, 0), (2, 15), (0, 30)],
            "each output with its input's index"
        );
    });
}

#[test]
fn as_completed_ends_with_a_timeout_error() {
    evloop::run(async {
        let futures = [delayed(0, 1), delayed(3_600_000, 2)];
        let mut completed = as_completed(futures, Some(Duration::from_millis(20)));
        assert_eq!(completed.next().await.unwrap(), Ok((0, 1)));
        assert!(completed.next().await.unwrap().is_err(), "timed out");
        assert!(completed.next().await.is_none());
    });
}

#[test]
fn after_a_timeout_as_completed_gives_back_the_unfinished_futures_to_abort() {
    run_paused(async {
        let quick = spawn(delayed(1, "quick"));
        let stuck = spawn(delayed(3_600_000, "stuck"));
        let stuck_cancel = stuck.abort_handle();
        let mut completed = as_completed([quick, stuck], Some(Duration::from_millis(10)));
        assert_eq!(completed.next().await.unwrap().unwrap().0, 0);
        assert!(completed.next().await.unwrap().is_err(), "timed out");
        let leftovers = completed.into_pending();
        assert_eq!(leftovers.len(), 1);
        assert_eq!(leftovers[0].0, 1, "the stuck one, by its index");
        for (_, task) in leftovers {
            task.abort();
        }
        yield_now().await;
        assert!(stuck_cancel.is_finished(), "aborted through what came back");
    });
}

#[test]
fn an_exhausted_as_completed_leaves_no_timer_behind() {
    run_paused(async {
        let mut completed = as_completed([delayed(1, ())], Some(Duration::from_secs(3600)));
        completed.next().await.unwrap().unwrap();
        assert!(completed.next().await.is_none());
        // `completed` is still alive. A timer it left registered would wake this future when the
        // paused clock jumps to its deadline, before the real one: count the polls.
        let polls = Cell::new(0);
        let mut nap = std::pin::pin!(sleep(Duration::from_secs(7200)));
        std::future::poll_fn(|cx| {
            polls.set(polls.get() + 1);
            nap.as_mut().poll(cx)
        })
        .await;
        assert_eq!(polls.get(), 2, "woken once, at its own deadline");
        drop(completed);
    });
}

#[test]
fn as_completed_accepts_pool_futures() {
    let pool = ThreadPoolExecutor::new(3);
    evloop::run(async {
        // Each job waits at its own gate; they are let through in the order 0, 20, 40, each once
        // the one before has come out.
        let (gates, jobs) = common::gated_jobs(&pool, [40, 0, 20]);
        let mut order = Vec::new();
        let mut completed = as_completed(jobs, None);
        for gate in [1, 2, 0] {
            gates[gate].send(()).unwrap();
            order.push(completed.next().await.unwrap().unwrap().1.unwrap());
        }
        assert!(completed.next().await.is_none());
        assert_eq!(order, [0, 20, 40]);
    });
}

#[test]
fn as_completed_of_nothing_ends_at_once() {
    evloop::run(async {
        let none: Vec<std::future::Ready<()>> = Vec::new();
        assert!(as_completed(none, None).next().await.is_none());
    });
}

#[test]
fn wait_first_completed_returns_the_rest_still_running() {
    evloop::run(async {
        let tasks = [50u64, 5, 30].map(|ms| spawn(delayed(ms, ms)));
        let waited = wait(tasks, ReturnWhen::FirstCompleted, None).await.unwrap();
        assert_eq!(waited.done.len(), 1);
        assert_eq!(
            (waited.done[0].0, *waited.done[0].1.as_ref().unwrap()),
            (1, 5)
        );
        let pending: Vec<usize> = waited.pending.iter().map(|(index, _)| *index).collect();
        assert_eq!(pending, [0, 2]);
        // The unfinished ones were not cancelled: they still complete.
        for (_, task) in waited.pending {
            task.await.unwrap();
        }
    });
}

#[test]
fn wait_first_exception_stops_at_the_first_err() {
    evloop::run(async {
        let futures = [
            Box::pin(delayed(5, Ok(1)))
                as std::pin::Pin<Box<dyn std::future::Future<Output = Result<i32, &str>>>>,
            Box::pin(delayed(10, Err("broken"))),
            Box::pin(delayed(3_600_000, Ok(3))),
        ];
        let waited = wait(futures, ReturnWhen::FirstException, None)
            .await
            .unwrap();
        let done: Vec<_> = waited
            .done
            .iter()
            .map(|(index, output)| (*index, *output))
            .collect();
        assert_eq!(done, [(0, Ok(1)), (1, Err("broken"))]);
        assert_eq!(waited.pending.len(), 1);
    });
}

#[test]
fn wait_all_completed_and_timeout() {
    evloop::run(async {
        let all = wait(
            [5u64, 10].map(|ms| spawn(delayed(ms, ms))),
            ReturnWhen::AllCompleted,
            None,
        )
        .await
        .unwrap();
        assert_eq!((all.done.len(), all.pending.len()), (2, 0));
        let start = Instant::now();
        let slow = [spawn(delayed(3_600_000, 0u64))];
        let timed_out = wait(
            slow,
            ReturnWhen::AllCompleted,
            Some(Duration::from_millis(10)),
        )
        .await
        .unwrap();
        assert_eq!((timed_out.done.len(), timed_out.pending.len()), (0, 1));
        assert!(start.elapsed() < Duration::from_secs(5));
    });
}

#[test]
fn wait_of_nothing_is_an_error_as_in_asyncio() {
    evloop::run(async {
        let none: Vec<evloop::JoinHandle<()>> = Vec::new();
        let error = wait(none, ReturnWhen::AllCompleted, None)
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "wait was given no futures: there is nothing to wait for"
        );
    });
}

#[test]
fn wait_first_completed_returns_every_future_already_finished() {
    evloop::run(async {
        let tasks = [
            spawn(async { 1 }),
            spawn(async { 2 }),
            spawn(pending::<i32>()),
        ];
        yield_now().await; // the first two finish
        let waited = wait(tasks, ReturnWhen::FirstCompleted, None).await.unwrap();
        let mut done: Vec<usize> = waited.done.iter().map(|(index, _)| *index).collect();
        done.sort();
        assert_eq!(done, [0, 1], "both finished tasks are in done");
        assert_eq!(waited.pending.len(), 1);
    });
}

#[test]
fn wait_first_exception_does_not_count_a_cancelled_task() {
    run_paused(async {
        let cancelled = spawn(pending::<Result<(), &str>>());
        cancelled.abort();
        let finishes_later = spawn(async {
            sleep(Duration::from_millis(5)).await;
            Ok(())
        });
        let waited = wait(
            [cancelled, finishes_later],
            ReturnWhen::FirstException,
            None,
        )
        .await
        .unwrap();
        // No exception happened: it returns once everything has finished, as asyncio does.
        assert_eq!((waited.done.len(), waited.pending.len()), (2, 0));
    });
}

#[test]
fn shield_keeps_the_work_running_when_the_waiter_gives_up() {
    evloop::run(async {
        let finished = Rc::new(Cell::new(false));
        let work = {
            let finished = finished.clone();
            async move {
                sleep(Duration::from_millis(20)).await;
                finished.set(true);
                "result"
            }
        };
        assert!(timeout(Duration::from_millis(1), shield(work))
            .await
            .is_err());
        assert!(!finished.get());
        sleep(Duration::from_millis(40)).await;
        assert!(
            finished.get(),
            "the shielded work finished after its waiter was cancelled"
        );
        assert_eq!(shield(async { 5 }).await, 5);
    });
}
