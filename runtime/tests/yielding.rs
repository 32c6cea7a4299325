//! Yielding means yielding, everywhere: a future driven by a task group, `as_completed`, `wait` or
//! `gather` that calls `yield_now` lets every other ready task run before it runs again, as
//! asyncio's `sleep(0)` does inside a `TaskGroup` child; a group child spawned before the body
//! yields has had its first step when the yield returns, children starting in spawn order; and a
//! task that never has to wait (elapsed timers, a socket that is always ready, free permits) is
//! made to yield by the cooperative budget.
//!
//! Counted in loop iterations, not time: a spinner counts its own turns until a flag, set by a task
//! queued before it started spinning, lets it stop.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use evloop::net::{TcpListener, TcpStream};
use evloop::sync::Semaphore;
use evloop::time::sleep;
use evloop::{as_completed, spawn, task_group, wait, yield_now, ReturnWhen};

/// Resource operations a task may complete in one poll without waiting (tokio's number, and
/// evloop's): a spinner that never waits completes at most this many turns before others run,
/// and one more (the operation that declined) when it is polled again.
const BUDGET: u32 = 128;
const MOST_TURNS: u32 = BUDGET + 1;

/// More turns than any fair driver needs: a spinner gives up here rather than hang the test.
const GIVE_UP: u32 = 10_000;

/// Spins on `yield_now` until `flag` is set; returns how many turns that took.
async fn spin_until(flag: Rc<Cell<bool>>) -> u32 {
    let mut turns = 0;
    while !flag.get() && turns < GIVE_UP {
        yield_now().await;
        turns += 1;
    }
    turns
}

/// A flag and a task, queued now, that sets it when it runs.
fn flag_set_by_a_queued_task() -> Rc<Cell<bool>> {
    let flag = Rc::new(Cell::new(false));
    drop(spawn({
        let flag = flag.clone();
        async move { flag.set(true) }
    }));
    flag
}

#[test]
fn a_group_child_spinning_on_yield_now_lets_queued_tasks_run() {
    let turns = evloop::run(async {
        let flag = flag_set_by_a_queued_task();
        task_group(async |group| {
            let spinner = group.spawn(async { Ok::<_, ()>(spin_until(flag).await) });
            Ok(spinner.await)
        })
        .await
        .unwrap()
    });
    assert_eq!(turns, 1, "one yield lets the queued task run");
}

#[test]
fn a_group_child_spinning_in_a_spawned_task_lets_queued_tasks_run() {
    // The same, with the group inside a task rather than the main future.
    let turns = evloop::run(async {
        spawn(async {
            let flag = flag_set_by_a_queued_task();
            task_group(async |group| {
                let spinner = group.spawn(async { Ok::<_, ()>(spin_until(flag).await) });
                Ok::<_, ()>(spinner.await)
            })
            .await
            .unwrap()
        })
        .await
        .unwrap()
    });
    assert!(turns <= 2, "spun {turns} turns before the queued task ran");
}

#[test]
fn a_future_driven_by_as_completed_yields_when_it_yields() {
    let turns = evloop::run(async {
        let flag = flag_set_by_a_queued_task();
        let mut completed = as_completed([spin_until(flag)], None);
        completed.next().await.unwrap().unwrap().1
    });
    assert_eq!(turns, 1);
}

#[test]
fn a_future_driven_by_wait_yields_when_it_yields() {
    let turns = evloop::run(async {
        let flag = flag_set_by_a_queued_task();
        let spinner = Box::pin(async { Ok::<_, ()>(spin_until(flag).await) });
        let waited = wait([spinner], ReturnWhen::AllCompleted, None)
            .await
            .unwrap();
        waited.done[0].1.unwrap()
    });
    assert_eq!(turns, 1);
}

#[test]
fn a_child_spawned_before_the_body_yields_has_started_when_the_yield_returns() {
    evloop::run(async {
        let started = Cell::new(false);
        task_group(async |group| {
            let started = &started;
            group.spawn(async move {
                started.set(true);
                Ok::<_, ()>(())
            });
            yield_now().await;
            assert!(
                started.get(),
                "the child had its first step during the yield"
            );
            Ok(())
        })
        .await
        .unwrap();
    });
}

#[test]
fn group_children_start_in_spawn_order() {
    evloop::run(async {
        let log = RefCell::new(Vec::new());
        task_group(async |group| {
            for name in ["a", "b", "c"] {
                let log = &log;
                group.spawn(async move {
                    log.borrow_mut().push(name);
                    Ok::<_, ()>(())
                });
            }
            yield_now().await;
            assert_eq!(*log.borrow(), ["a", "b", "c"]);
            Ok(())
        })
        .await
        .unwrap();
    });
}

#[test]
fn a_loop_of_elapsed_sleeps_lets_queued_tasks_run() {
    // asyncio's `sleep` always suspends; an elapsed evloop `sleep` completes at once, so such a
    // loop would never end its poll without the budget.
    let turns = evloop::run(async {
        let flag = flag_set_by_a_queued_task();
        let mut turns = 0;
        while !flag.get() && turns < GIVE_UP {
            sleep(Duration::ZERO).await;
            turns += 1;
        }
        turns
    });
    assert!(
        turns <= MOST_TURNS,
        "spun {turns} elapsed sleeps before the queued task ran"
    );
}

#[test]
fn a_reader_whose_socket_is_always_ready_lets_queued_tasks_run() {
    let reads = evloop::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        // A fast peer: far more bytes waiting than the reader will take before the flag is set.
        client.write_all(&[7; 16 * 1024]).await.unwrap();
        let flag = flag_set_by_a_queued_task();
        let mut reads = 0;
        let mut byte = [0; 1];
        while !flag.get() && reads < GIVE_UP {
            assert_eq!(server.read(&mut byte).await.unwrap(), 1);
            reads += 1;
        }
        reads
    });
    assert!(
        reads <= MOST_TURNS,
        "{reads} reads before the queued task ran"
    );
}

#[test]
fn a_loop_taking_free_permits_lets_queued_tasks_run() {
    let turns = evloop::run(async {
        let semaphore = Semaphore::new(1);
        let flag = flag_set_by_a_queued_task();
        let mut turns = 0;
        while !flag.get() && turns < GIVE_UP {
            drop(semaphore.acquire().await);
            turns += 1;
        }
        turns
    });
    assert!(
        turns <= MOST_TURNS,
        "took {turns} free permits before the queued task ran"
    );
}

/// asyncio runs, in one loop iteration, the callbacks that were ready when it began: a task that
/// yields goes behind the main coroutine if the main coroutine yielded first. So after one
/// `sleep(0)` in main, a task that yields at every step has taken exactly one step.
#[test]
fn a_yield_in_the_main_future_lets_each_ready_task_take_exactly_one_step() {
    let order = evloop::run(async {
        let order = Rc::new(RefCell::new(Vec::new()));
        let stepper = spawn({
            let order = order.clone();
            async move {
                for step in 0..3 {
                    order.borrow_mut().push(format!("task {step}"));
                    yield_now().await;
                }
            }
        });
        yield_now().await;
        order.borrow_mut().push(String::from("main"));
        stepper.await.unwrap();
        Rc::try_unwrap(order).unwrap().into_inner()
    });
    assert_eq!(order, ["task 0", "main", "task 1", "task 2"]);
}
