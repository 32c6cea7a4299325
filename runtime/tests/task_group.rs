//! TaskGroup, from asyncio's test cases: every child awaited, the first failure cancels siblings
//! and the body, every error collected, panics resumed after cleanup, parent cancellation,
//! nesting, borrowing, and spawning into a closing group.

mod common;

use std::cell::{Cell, RefCell};
use std::future::pending;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::time::Duration;

use common::DropCounter;
use evloop::time::{sleep, timeout, Instant};
use evloop::{task_group, yield_now, GroupError, TaskGroup};

#[test]
fn the_group_waits_for_every_child() {
    evloop::run(async {
        let finished = Rc::new(RefCell::new(Vec::new()));
        let result = task_group(async |group| {
            for ms in [30u64, 10, 20] {
                let finished = finished.clone();
                group.spawn(async move {
                    sleep(Duration::from_millis(ms)).await;
                    finished.borrow_mut().push(ms);
                    Ok::<_, String>(())
                });
            }
            Ok("body done")
        })
        .await;
        assert_eq!(result.unwrap(), "body done");
        assert_eq!(
            *finished.borrow(),
            [10, 20, 30],
            "all children finished before the group"
        );
    });
}

#[test]
fn children_borrow_from_the_enclosing_scope() {
    evloop::run(async {
        let words = [String::from("borrowed"), String::from("not copied")];
        let mut counts = vec![0; 2];
        let total = task_group(async |group| {
            let handles: Vec<_> = words
                .iter()
                .map(|word| group.spawn(async move { Ok::<_, ()>(word.len()) }))
                .collect();
            let mut total = 0;
            for (count, handle) in counts.iter_mut().zip(handles) {
                *count = handle.await;
                total += *count;
            }
            Ok(total)
        })
        .await
        .unwrap();
        assert_eq!((total, counts), (18, vec![8, 10]));
        assert_eq!(words.len(), 2, "still ours");
    });
}

#[test]
fn the_first_error_cancels_siblings_and_the_body() {
    evloop::run(async {
        let drops = DropCounter::default();
        let body_reached_end = Cell::new(false);
        let start = Instant::now();
        let result: Result<(), GroupError<&str>> = task_group(async |group| {
            for _ in 0..3 {
                let token = drops.token();
                group.spawn(async move {
                    let _token = token;
                    sleep(Duration::from_secs(3600)).await;
                    Ok(())
                });
            }
            group.spawn(async {
                sleep(Duration::from_millis(10)).await;
                Err::<(), _>("child failed")
            });
            let _body_token = drops.token();
            sleep(Duration::from_secs(3600)).await; // the body is cancelled here
            body_reached_end.set(true);
            Ok(())
        })
        .await;
        let error = result.unwrap_err();
        assert_eq!(error.errors(), ["child failed"]);
        assert!(error.body_error().is_none());
        assert_eq!(drops.count(), 4, "three siblings and the body were dropped");
        assert!(!body_reached_end.get());
        assert!(start.elapsed() < Duration::from_secs(10));
        assert_eq!(
            error.to_string(),
            "1 error(s) in the task group; child error 1: child failed"
        );
    });
}

#[test]
fn errors_of_children_failing_together_are_all_collected() {
    evloop::run(async {
        let result: Result<(), _> = task_group(async |group| {
            group.spawn(async { Err::<(), _>("first") });
            group.spawn(async { Err::<(), _>("second") });
            group.spawn(async { Ok(()) });
            Ok(())
        })
        .await;
        assert_eq!(result.unwrap_err().errors(), ["first", "second"]);
    });
}

#[test]
fn the_bodys_own_error_is_reported_and_cancels_the_children() {
    evloop::run(async {
        let drops = DropCounter::default();
        let result: Result<(), _> = task_group(async |group| {
            let token = drops.token();
            group.spawn(async move {
                let _token = token;
                pending::<Result<(), &str>>().await
            });
            yield_now().await;
            Err("body failed")
        })
        .await;
        let error = result.unwrap_err();
        assert_eq!(error.body_error(), Some(&"body failed"));
        assert!(error.errors().is_empty());
        assert_eq!(drops.count(), 1);
        assert_eq!(error.into_errors(), ["body failed"]);
    });
}

#[test]
fn a_child_panic_cancels_everything_then_resumes_in_the_caller() {
    evloop::run(async {
        let drops = DropCounter::default();
        let outcome = evloop::spawn({
            let drops = drops.clone();
            async move {
                let _: Result<(), GroupError<()>> = task_group(async |group| {
                    let token = drops.token();
                    group.spawn(async move {
                        let _token = token;
                        pending::<Result<(), ()>>().await
                    });
                    group.spawn(async {
                        yield_now().await;
                        panic!("child panicked");
                        #[allow(unreachable_code)]
                        Ok::<(), ()>(())
                    });
                    let _body_token = drops.token();
                    pending::<()>().await;
                    Ok(())
                })
                .await;
            }
        })
        .await;
        let error = outcome.unwrap_err();
        assert!(error.is_panic());
        assert_eq!(error.to_string(), "task panicked: child panicked");
        assert_eq!(
            drops.count(),
            2,
            "sibling and body dropped before the panic resumed"
        );
    });
}

#[test]
fn cancelling_the_group_cancels_every_child() {
    evloop::run(async {
        let drops = DropCounter::default();
        let result = timeout(
            Duration::from_millis(10),
            task_group(async |group| {
                for _ in 0..5 {
                    let token = drops.token();
                    group.spawn(async move {
                        let _token = token;
                        pending::<Result<(), ()>>().await
                    });
                }
                pending::<Result<(), ()>>().await
            }),
        )
        .await;
        assert!(result.is_err(), "timed out");
        assert_eq!(drops.count(), 5);
    });
}

#[test]
fn a_failing_inner_group_is_one_error_of_the_outer_group() {
    evloop::run(async {
        let result: Result<(), GroupError<String>> = task_group(async |outer| {
            outer.spawn(async {
                task_group(async |inner| {
                    inner.spawn(async { Err::<(), _>("inner child failed") });
                    Ok(())
                })
                .await
                .map_err(|inner_error| format!("inner group: {inner_error}"))
            });
            outer.spawn(async {
                sleep(Duration::from_secs(3600)).await;
                Ok(())
            });
            Ok(())
        })
        .await;
        let error = result.unwrap_err();
        assert_eq!(error.errors().len(), 1);
        assert!(
            error.errors()[0].contains("inner child failed"),
            "{}",
            error.errors()[0]
        );
    });
}

#[test]
fn the_body_can_spawn_while_children_run_and_the_group_adopts_them() {
    evloop::run(async {
        let count = Cell::new(0);
        let result = task_group(async |group| {
            for round in 0..3 {
                group.spawn(async {
                    yield_now().await;
                    count.set(count.get() + 1);
                    Ok::<_, ()>(())
                });
                sleep(Duration::from_millis(round)).await;
            }
            Ok(())
        })
        .await;
        result.unwrap();
        assert_eq!(count.get(), 3);
    });
}

#[test]
fn an_empty_group_returns_the_body_value() {
    evloop::run(async {
        assert_eq!(
            task_group(async |_: &TaskGroup<'_, ()>| Ok(7))
                .await
                .unwrap(),
            7
        );
    });
}

#[test]
fn spawning_into_a_closing_group_is_refused_clearly() {
    /// Tries to spawn when it is dropped: during the group's cancellation.
    struct SpawnOnDrop<'g, 'env> {
        group: &'g TaskGroup<'env, &'static str>,
        refused: &'g Cell<Option<String>>,
    }
    impl Drop for SpawnOnDrop<'_, '_> {
        fn drop(&mut self) {
            let attempt = self.group.try_spawn(async { Ok(()) });
            self.refused
                .set(attempt.err().map(|closed| closed.to_string()));
        }
    }
    evloop::run(async {
        let refused = Cell::new(None);
        let result = task_group(async |group| {
            let _guard = SpawnOnDrop {
                group,
                refused: &refused,
            };
            group.spawn(async { Err::<(), _>("fail") });
            pending::<()>().await;
            Ok(())
        })
        .await;
        assert!(result.is_err());
        let message = refused.take().expect("the spawn was refused");
        assert!(
            message.contains("cannot spawn into this task group"),
            "{message}"
        );
    });
}

#[test]
fn a_child_handle_gives_the_value_to_another_child() {
    evloop::run(async {
        let result = task_group(async |group| {
            let first = group.spawn(async {
                sleep(Duration::from_millis(5)).await;
                Ok::<_, ()>(20)
            });
            let second = group.spawn(async move { Ok(first.await + 1) });
            Ok(second.await)
        })
        .await;
        assert_eq!(result.unwrap(), 21);
    });
}

#[test]
fn only_woken_children_are_polled() {
    evloop::run(async {
        let polls = Rc::new(Cell::new(0));
        task_group(async |group| {
            for _ in 0..100 {
                let polls = polls.clone();
                group.spawn(async move {
                    polls.set(polls.get() + 1);
                    sleep(Duration::from_secs(1)).await;
                    polls.set(polls.get() + 1);
                    Ok::<_, ()>(())
                });
            }
            let trigger = group.spawn(async {
                for _ in 0..50 {
                    yield_now().await; // 50 wake-ups of this child alone
                }
                Ok(())
            });
            trigger.await;
            assert_eq!(
                polls.get(),
                100,
                "the sleeping children were polled once each"
            );
            Err::<(), ()>(()) // end the test quickly: cancel the sleepers
        })
        .await
        .unwrap_err();
    });
}

#[test]
fn panics_in_the_body_are_resumed_after_the_children_are_dropped() {
    let drops = DropCounter::default();
    let result = catch_unwind(AssertUnwindSafe(|| {
        evloop::run(async {
            let _: Result<(), GroupError<()>> = task_group(async |group| {
                let token = drops.token();
                group.spawn(async move {
                    let _token = token;
                    pending::<Result<(), ()>>().await
                });
                yield_now().await;
                panic!("body panicked");
            })
            .await;
        })
    }));
    assert!(result.is_err());
    assert_eq!(drops.count(), 1);
}

#[test]
fn aborting_one_child_is_not_a_group_error_and_drops_it() {
    evloop::run(async {
        let drops = DropCounter::default();
        let sibling_done = Cell::new(false);
        let result = task_group(async |group| {
            let token = drops.token();
            let watcher = group.spawn(async move {
                let _token = token;
                pending::<()>().await;
                Ok::<_, &str>(())
            });
            let sibling = group.spawn(async {
                yield_now().await;
                sibling_done.set(true);
                Ok(1)
            });
            yield_now().await; // both started
            watcher.abort();
            let value = sibling.await;
            Ok(value)
        })
        .await;
        assert_eq!(
            result.unwrap(),
            1,
            "an aborted child is no error of the group"
        );
        assert_eq!(drops.count(), 1, "the aborted child's future was dropped");
        assert!(sibling_done.get());
    });
}

#[test]
fn a_child_aborted_before_it_started_is_never_polled() {
    evloop::run(async {
        let polled = Cell::new(false);
        task_group(async |group| {
            let child = group.spawn(async {
                polled.set(true);
                Ok::<_, ()>(())
            });
            child.abort(); // still in the group's inbox
            Ok(())
        })
        .await
        .unwrap();
        assert!(!polled.get());
    });
}
