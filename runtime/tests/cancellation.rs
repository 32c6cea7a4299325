//! Cancellation reaches what it should, as in asyncio: `wait_for` cancels the task it gave up on
//! and waits for the cancellation; an `AbortHandle` cancels a task whose `JoinHandle` was moved
//! away; nested timeouts report the outermost expiry; `timeout_at`, and a running timeout's
//! deadline read and moved (`when()`/`reschedule()`).
//!
//! Time is virtual (a paused clock), so nothing here depends on how fast the machine is.

mod common;

use std::cell::Cell;
use std::future::{pending, Future};
use std::pin::pin;
use std::rc::Rc;
use std::time::Duration;

use common::{run_paused, DropCounter};
use evloop::time::{advance, sleep, timeout, timeout_at, Instant};
use evloop::{gather, shield, spawn, wait_for};

const MS: Duration = Duration::from_millis(1);

#[test]
fn wait_for_cancels_the_task_on_expiry_and_waits_for_its_clean_up() {
    run_paused(async {
        let dropped = DropCounter::default();
        let token = dropped.token();
        let task = spawn(async move {
            let _token = token;
            sleep(3600 * 1000 * MS).await;
        });
        let cancel = task.abort_handle();
        assert!(wait_for(5 * MS, task).await.is_err());
        assert_eq!(
            dropped.count(),
            1,
            "the task's future was dropped before wait_for returned"
        );
        assert!(cancel.is_finished());
    });
}

#[test]
fn a_plain_timeout_around_a_join_handle_only_stops_waiting() {
    // The documented difference: dropping a JoinHandle detaches its task.
    run_paused(async {
        let finished = Rc::new(Cell::new(false));
        let task = spawn({
            let finished = finished.clone();
            async move {
                sleep(10 * MS).await;
                finished.set(true);
            }
        });
        assert!(timeout(5 * MS, task).await.is_err());
        sleep(10 * MS).await;
        assert!(finished.get(), "the detached task ran to the end");
    });
}

#[test]
fn wait_for_returns_the_result_of_a_task_that_finishes_in_time() {
    run_paused(async {
        let task = spawn(async {
            sleep(MS).await;
            "done"
        });
        assert_eq!(wait_for(5 * MS, task).await.unwrap().unwrap(), "done");
    });
}

#[test]
fn an_abort_handle_cancels_a_task_whose_join_handle_went_into_gather() {
    run_paused(async {
        let sleeper = spawn(async {
            sleep(3600 * 1000 * MS).await;
            Ok::<_, ()>(())
        });
        let cancel = sleeper.abort_handle();
        let quick = spawn(async { Ok::<_, ()>(()) });
        // Each join handle's output is a `Result<_, JoinError>`: the gather's error is a JoinError.
        let gathered = gather([sleeper, quick]);
        sleep(MS).await;
        cancel.abort();
        let error = gathered.await.unwrap_err();
        assert!(error.is_cancelled(), "{error}");
        assert!(cancel.is_finished());
    });
}

#[test]
fn an_abort_handle_cancels_shielded_work() {
    run_paused(async {
        let work = spawn(sleep(3600 * 1000 * MS));
        let cancel = work.abort_handle();
        let shielded = shield(work);
        cancel.abort();
        assert!(shielded.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn nested_timeouts_whose_deadlines_both_passed_report_the_outer_one() {
    run_paused(async {
        // The inner future keeps the loop busy past both deadlines, then waits.
        let busy = async {
            advance(20 * MS).await;
            pending::<()>().await
        };
        let outcome = timeout(10 * MS, timeout(5 * MS, busy)).await;
        assert!(
            outcome.is_err(),
            "the outer timeout reports its own expiry, not Ok(Err(inner)): {outcome:?}"
        );
    });
}

#[test]
fn an_inner_timeout_that_expires_first_reports_itself() {
    run_paused(async {
        let outcome = timeout(10 * MS, timeout(5 * MS, sleep(3600 * 1000 * MS))).await;
        assert!(matches!(outcome, Ok(Err(_))), "{outcome:?}");
    });
}

#[test]
fn a_future_ready_at_once_beats_a_zero_timeout() {
    run_paused(async {
        assert_eq!(timeout(Duration::ZERO, async { 5 }).await, Ok(5));
    });
}

#[test]
fn timeout_at_gives_several_steps_one_deadline() {
    run_paused(async {
        let start = Instant::now();
        let deadline = start + 10 * MS;
        assert!(timeout_at(deadline, sleep(6 * MS)).await.is_ok());
        assert!(timeout_at(deadline, sleep(6 * MS)).await.is_err());
        assert_eq!(Instant::now() - start, 10 * MS);
    });
}

#[test]
fn a_running_timeout_s_deadline_can_be_read_and_moved() {
    run_paused(async {
        let start = Instant::now();
        let mut running = pin!(timeout(5 * MS, sleep(20 * MS)));
        assert_eq!(running.deadline(), start + 5 * MS);
        running.as_mut().reset(start + 30 * MS);
        assert_eq!(running.deadline(), start + 30 * MS);
        assert!(running.as_mut().await.is_ok(), "the later deadline holds");
        assert_eq!(Instant::now() - start, 20 * MS);

        let mut shortened = pin!(timeout(3600 * 1000 * MS, sleep(3600 * 1000 * MS)));
        shortened.as_mut().reset(Instant::now() + MS);
        assert!(
            shortened.as_mut().await.is_err(),
            "the earlier deadline holds"
        );
    });
}

#[test]
fn shield_of_a_finished_task_is_ready_at_once() {
    run_paused(async {
        let task = spawn(async { 5 });
        evloop::yield_now().await; // the task finishes
        let mut shielded = pin!(shield(task));
        let ready = common::poll_once(&mut shielded);
        assert!(
            matches!(ready, std::task::Poll::Ready(Ok(5))),
            "ready on the first poll, as asyncio's shield of a done future"
        );
    });
}

#[test]
fn a_shield_dropped_before_it_was_polled_still_runs_its_work() {
    run_paused(async {
        let ran = Rc::new(Cell::new(false));
        drop(shield({
            let ran = ran.clone();
            async move {
                sleep(MS).await;
                ran.set(true);
            }
        }));
        sleep(2 * MS).await;
        assert!(ran.get());
    });
}

#[test]
fn dropping_a_pending_join_handle_drops_the_waker_it_registered() {
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: std::sync::Arc<Self>) {}
    }
    run_paused(async {
        let mut task = spawn(sleep(3600 * 1000 * MS));
        let waker_owner = std::sync::Arc::new(Noop);
        let waker = std::task::Waker::from(waker_owner.clone());
        assert!(std::pin::Pin::new(&mut task)
            .poll(&mut std::task::Context::from_waker(&waker))
            .is_pending());
        drop(waker);
        assert_eq!(
            std::sync::Arc::strong_count(&waker_owner),
            2,
            "the task holds the waker"
        );
        drop(task); // detaches the still-running task
        assert_eq!(
            std::sync::Arc::strong_count(&waker_owner),
            1,
            "the waker went with the handle, not with the task"
        );
    });
}
