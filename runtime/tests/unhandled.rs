//! No error silently lost: what nobody retrieved reaches the runtime's unhandled-error handler
//! (asyncio's "Task exception was never retrieved" and `loop.set_exception_handler`), once, and
//! what somebody did retrieve does not.

use std::sync::{Arc, Mutex};

use evloop::debug::UnhandledError;
use evloop::{spawn, spawn_named, task_group, yield_now};

/// A runtime whose handler collects what it receives, as lines.
fn runtime_collecting() -> (evloop::Runtime, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let rt = evloop::Runtime::builder()
        .on_unhandled_error({
            let seen = seen.clone();
            move |error: &UnhandledError| seen.lock().unwrap().push(error.to_string())
        })
        .build()
        .unwrap();
    (rt, seen)
}

#[test]
fn a_detached_task_that_panics_is_reported_with_its_name_and_spawn_line() {
    let (rt, seen) = runtime_collecting();
    let line = rt.block_on(async {
        let line = line!() + 1;
        drop(spawn_named("fetcher", async { panic!("connection reset") }));
        yield_now().await;
        line
    });
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].contains("connection reset"), "{}", seen[0]);
    assert!(seen[0].contains("\"fetcher\""), "{}", seen[0]);
    assert!(
        seen[0].contains(&format!("unhandled.rs:{line}")),
        "names the spawn line: {}",
        seen[0]
    );
}

#[test]
fn a_handle_dropped_without_looking_at_a_panic_reports_it() {
    let (rt, seen) = runtime_collecting();
    rt.block_on(async {
        let task = spawn(async { panic!("nobody looked") });
        yield_now().await;
        assert!(task.is_finished());
        drop(task);
    });
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].contains("nobody looked"));
}

#[test]
fn a_report_names_the_task_by_the_id_its_handle_had() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let rt = evloop::Runtime::builder()
        .on_unhandled_error({
            let seen = seen.clone();
            move |error: &UnhandledError| {
                seen.lock()
                    .unwrap()
                    .push((error.task_id(), error.task_number()))
            }
        })
        .build()
        .unwrap();
    let id = rt.block_on(async {
        let _keep_running = spawn(std::future::pending::<()>());
        let task = spawn(async { panic!("unnamed, no debug mode") });
        let id = task.id();
        drop(task);
        yield_now().await;
        id
    });
    let seen = seen.lock().unwrap();
    assert_eq!(
        *seen,
        [(Some(id), None)],
        "an unrecorded task has an id, not a number"
    );
}

#[test]
fn a_retrieved_panic_or_a_cancellation_is_not_reported() {
    let (rt, seen) = runtime_collecting();
    rt.block_on(async {
        let task = spawn(async { panic!("seen by the caller") });
        assert!(task.await.unwrap_err().is_panic());
        let cancelled = spawn(std::future::pending::<()>());
        cancelled.abort();
        drop(cancelled);
        let detached = spawn(std::future::pending::<()>());
        drop(detached); // cancelled at shutdown: not an error either
        yield_now().await;
    });
    drop(rt);
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
}

#[test]
fn errors_a_group_collected_before_a_panic_are_reported() {
    let (rt, seen) = runtime_collecting();
    rt.block_on(async {
        let group = spawn(async {
            task_group(async |group| {
                group.spawn(async { Err::<(), _>("disk full") });
                group.spawn(async {
                    panic!("and then this");
                    #[allow(unreachable_code)]
                    Ok(())
                });
                Ok(())
            })
            .await
        });
        assert!(group.await.unwrap_err().is_panic(), "the panic is resumed");
    });
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].contains("1 error(s)"), "{}", seen[0]);
}

#[test]
fn a_panicking_handler_does_not_take_the_loop_down() {
    let rt = evloop::Runtime::builder()
        .on_unhandled_error(|_| panic!("the handler panics (on purpose)"))
        .build()
        .unwrap();
    let answer = rt.block_on(async {
        drop(spawn(async { panic!("reported to a handler that panics") }));
        yield_now().await;
        spawn(async { 42 }).await.unwrap()
    });
    assert_eq!(answer, 42);
}
