//! Task names and the task dump: `spawn_named`, `evloop::tasks()`, `Handle::dump()`. Which tasks
//! are listed (named ones; every one in debug mode), their state, polls, age and poll time, and
//! the table `Display` prints. No real sleeps: these tests also run under Miri, because the dump
//! walks the task list through the crate's unsafe code.

use std::panic::Location;
use std::time::Duration;

use evloop::debug::{TaskDump, TaskState};

fn debug_runtime() -> evloop::Runtime {
    evloop::Runtime::builder()
        .slow_poll_threshold(Duration::from_secs(3600))
        .build()
        .unwrap()
}

fn names(dump: &TaskDump) -> Vec<&str> {
    dump.iter().map(|task| task.name().unwrap_or("-")).collect()
}

#[test]
fn named_tasks_are_listed_in_spawn_order_and_the_others_counted() {
    evloop::run(async {
        let called_at = Location::caller();
        let first = evloop::spawn_named("first", std::future::pending::<()>());
        let unnamed = evloop::spawn(std::future::pending::<()>());
        let second = evloop::spawn_named(String::from("second"), std::future::pending::<()>());
        let dump = evloop::tasks();
        assert_eq!(names(&dump), ["first", "second"]);
        assert_eq!(dump.unrecorded(), 1);
        let lines: Vec<u32> = dump.iter().map(|task| task.location().line()).collect();
        assert_eq!(lines, [called_at.line() + 1, called_at.line() + 3]);
        assert!(dump.iter().all(|task| task.location().file() == file!()));
        let numbers: Vec<u64> = dump.iter().map(|task| task.number().as_u64()).collect();
        assert!(
            numbers[0] < numbers[1],
            "numbers follow spawn order: {numbers:?}"
        );
        assert_eq!(
            dump.get(dump.iter().next().unwrap().number())
                .unwrap()
                .name(),
            Some("first")
        );
        let ids: Vec<evloop::TaskId> = dump.iter().map(|task| task.id()).collect();
        assert_eq!(
            ids,
            [first.id(), second.id()],
            "a snapshot's id is its handle's"
        );
        for task in [first, unnamed, second] {
            task.abort();
        }
    });
}

#[test]
fn finished_and_aborted_tasks_leave_the_dump() {
    evloop::run(async {
        let done = evloop::spawn_named("done", async {});
        let aborted = evloop::spawn_named("aborted", std::future::pending::<()>());
        let _alive = evloop::spawn_named("alive", std::future::pending::<()>());
        assert_eq!(evloop::tasks().len(), 3);
        done.await.unwrap();
        aborted.abort();
        assert!(aborted.await.unwrap_err().is_cancelled());
        assert_eq!(names(&evloop::tasks()), ["alive"]);
    });
}

#[test]
fn the_dump_tells_running_scheduled_and_idle_tasks_apart() {
    evloop::run(async {
        let (wake, woken) = evloop::sync::oneshot::channel::<()>();
        let idle = evloop::spawn_named("idle", async move { woken.await.ok() });
        let observer = evloop::spawn_named("observer", async { evloop::tasks() });
        evloop::yield_now().await; // both run once: `idle` now waits on its channel
        let dump = observer.await.unwrap();
        let state = |name| {
            dump.iter()
                .find(|task| task.name() == Some(name))
                .map(|task| task.state())
        };
        assert_eq!(state("observer"), Some(TaskState::Running));
        assert_eq!(state("idle"), Some(TaskState::Idle));

        wake.send(()).unwrap(); // queues `idle` without running it
        let dump = evloop::tasks();
        assert_eq!(dump.iter().next().unwrap().state(), TaskState::Scheduled);
        assert_eq!(dump.iter().next().unwrap().polls(), 1);
        idle.await.unwrap();
    });
}

#[test]
fn polls_are_counted_and_age_is_on_the_runtimes_clock() {
    let runtime = evloop::Runtime::builder()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        let ticker = evloop::spawn_named("ticker", async {
            for _ in 0..3 {
                evloop::yield_now().await;
            }
            std::future::pending::<()>().await
        });
        evloop::time::advance(Duration::from_secs(90)).await;
        for _ in 0..3 {
            evloop::yield_now().await;
        }
        let dump = evloop::tasks();
        let ticker_now = dump.iter().next().unwrap();
        assert_eq!(ticker_now.polls(), 4);
        assert_eq!(ticker_now.age(), Duration::from_secs(90));
        assert_eq!(
            ticker_now.poll_time(),
            None,
            "polls are timed in debug mode only"
        );
        ticker.abort();
    });
}

#[test]
fn in_debug_mode_every_task_is_listed_with_its_poll_time() {
    debug_runtime().block_on(async {
        let tasks: Vec<_> = (0..3)
            .map(|_| evloop::spawn(std::future::pending::<()>()))
            .collect();
        evloop::yield_now().await;
        let dump = evloop::tasks();
        assert_eq!(dump.len(), 3);
        assert_eq!(dump.unrecorded(), 0);
        for task in &dump {
            assert_eq!(task.name(), None);
            assert_eq!(task.polls(), 1);
            assert!(task.poll_time().is_some());
        }
        for task in tasks {
            task.abort();
        }
    });
}

#[test]
fn display_renders_one_row_per_task_and_counts_the_rest() {
    evloop::run(async {
        let named = evloop::spawn_named("fetch example.com", std::future::pending::<()>());
        let unnamed: Vec<_> = (0..2)
            .map(|_| evloop::spawn(std::future::pending::<()>()))
            .collect();
        let table = evloop::tasks().to_string();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3, "{table}");
        for column in [
            "task",
            "state",
            "polls",
            "age",
            "poll time",
            "name",
            "spawned at",
        ] {
            assert!(lines[0].contains(column), "{table}");
        }
        assert!(lines[1].contains("fetch example.com"), "{table}");
        assert!(lines[1].contains("scheduled"), "{table}");
        assert!(lines[1].contains(file!()), "{table}");
        assert_eq!(
            lines[2],
            "(and 2 unnamed tasks: EVLOOP_DEBUG=1 lists every task)"
        );
        named.abort();
        for task in unnamed {
            task.abort();
        }
    });
    evloop::run(async {
        assert_eq!(
            evloop::tasks().to_string().lines().last(),
            Some("(no live tasks)")
        );
    });
}

#[test]
fn handle_dump_works_from_another_thread_and_leaves_itself_out() {
    let runtime = evloop::Runtime::new().unwrap();
    let handle = runtime.handle();
    let called_at = Location::caller();
    let from_thread = std::thread::spawn(move || {
        let task = handle.spawn_named("from a thread", std::future::pending::<()>());
        let dump = handle.dump().result().unwrap();
        (task, dump)
    });
    let (task, dump) = runtime.block_on(async {
        let (sender, receiver) = evloop::sync::oneshot::channel();
        std::thread::spawn(move || sender.send(from_thread.join().unwrap()));
        receiver.await.unwrap()
    });
    assert_eq!(names(&dump), ["from a thread"]);
    assert_eq!(dump.unrecorded(), 0, "the dump's own task is not counted");
    let task_snapshot = dump.iter().next().unwrap();
    assert_eq!(task_snapshot.location().line(), called_at.line() + 2);
    task.abort();
    drop(runtime);

    // In debug mode the dump's task has a record: it is left out of the list.
    let runtime = debug_runtime();
    let handle = runtime.handle();
    let dump = runtime.block_on(async move {
        let _unnamed = evloop::spawn(std::future::pending::<()>());
        handle.dump().await.unwrap()
    });
    assert_eq!(dump.len(), 1);
    assert_eq!(dump.unrecorded(), 0);
    drop(runtime);

    let handle_after = evloop::Runtime::new().unwrap().handle();
    assert!(handle_after.dump().result().unwrap_err().is_cancelled());
}

#[test]
#[should_panic(expected = "evloop::tasks called outside of a runtime")]
fn tasks_outside_a_runtime_panics_with_a_clear_message() {
    let _ = evloop::tasks();
}
