//! Slow-poll warnings: a poll that blocks the loop for longer than the threshold is reported with
//! the task's id, name and spawn location; well-behaved tasks are not reported; `EVLOOP_DEBUG=1`
//! turns reporting to stderr on without a code change.

use std::panic::Location;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use evloop::debug::SlowPoll;

/// A runtime that reports polls over `threshold` into the returned list.
fn reporting_runtime(threshold: Duration) -> (evloop::Runtime, Arc<Mutex<Vec<SlowPoll>>>) {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let runtime = evloop::Runtime::builder()
        .slow_poll_threshold(threshold)
        .on_slow_poll({
            let reports = reports.clone();
            move |slow| reports.lock().unwrap().push(slow.clone())
        })
        .build()
        .unwrap();
    (runtime, reports)
}

/// Work that keeps the loop busy without ever blocking it for long.
async fn well_behaved(rounds: u32) {
    for round in 0..rounds {
        if round % 2 == 0 {
            evloop::yield_now().await;
        } else {
            evloop::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

#[test]
fn a_blocking_sleep_in_a_task_is_reported_with_its_spawn_location() {
    let (runtime, reports) = reporting_runtime(Duration::from_millis(50));
    let spawned_at = runtime.block_on(async {
        let neighbours: Vec<_> = (0..10).map(|_| evloop::spawn(well_behaved(20))).collect();
        let spawned_at = Location::caller(); // this line's file; the spawn is on the next line
        let blocking = evloop::spawn(async {
            std::thread::sleep(Duration::from_millis(120));
        });
        blocking.await.unwrap();
        for neighbour in neighbours {
            neighbour.await.unwrap();
        }
        spawned_at
    });
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1, "exactly the blocking task: {reports:#?}");
    let report = &reports[0];
    assert_eq!(report.location().file(), spawned_at.file());
    assert_eq!(report.location().line(), spawned_at.line() + 1);
    assert!(report.task_number().is_some());
    assert_eq!(report.name(), None);
    assert!(report.duration() >= Duration::from_millis(120));
    assert_eq!(report.threshold(), Duration::from_millis(50));
    let line = report.to_string();
    assert!(
        line.contains(&format!("spawned at {}", report.location())),
        "{line}"
    );
    assert!(line.contains("blocked the loop"), "{line}");
}

#[test]
fn well_behaved_tasks_are_not_reported() {
    let (runtime, reports) = reporting_runtime(Duration::from_millis(100));
    runtime.block_on(async {
        let tasks: Vec<_> = (0..50).map(|_| evloop::spawn(well_behaved(40))).collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert!(reports.lock().unwrap().is_empty());
}

#[test]
fn the_report_names_a_named_task() {
    let (runtime, reports) = reporting_runtime(Duration::from_millis(20));
    runtime.block_on(async {
        evloop::spawn_named("resize images", async {
            std::thread::sleep(Duration::from_millis(40));
        })
        .await
        .unwrap();
    });
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].name(), Some("resize images"));
    assert!(
        reports[0].to_string().contains("\"resize images\""),
        "{}",
        reports[0]
    );
}

#[test]
fn a_blocking_main_future_is_reported_with_the_block_on_location() {
    let (runtime, reports) = reporting_runtime(Duration::from_millis(20));
    let called_at = Location::caller();
    runtime.block_on(async { std::thread::sleep(Duration::from_millis(40)) });
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].task_number(), None);
    assert_eq!(reports[0].location().file(), called_at.file());
    assert_eq!(reports[0].location().line(), called_at.line() + 1);
    assert!(reports[0].to_string().starts_with("the main future"));
}

#[test]
fn tasks_spawned_by_gather_and_from_other_threads_report_their_callers_line() {
    let (runtime, reports) = reporting_runtime(Duration::from_millis(20));
    let handle = runtime.handle();
    let from_thread = std::thread::spawn(move || {
        let spawned_at = Location::caller();
        let task = handle.spawn(async { std::thread::sleep(Duration::from_millis(40)) });
        (spawned_at, task)
    });
    let (thread_spawned_at, gather_spawned_at) = runtime.block_on(async {
        let gather_spawned_at = Location::caller();
        let results = evloop::gather([async {
            std::thread::sleep(Duration::from_millis(40));
            Ok::<(), ()>(())
        }])
        .await;
        assert_eq!(results, Ok(vec![()]));
        let (thread_spawned_at, task) = from_thread.join().unwrap();
        task.await.unwrap();
        (thread_spawned_at, gather_spawned_at)
    });
    let lines: Vec<u32> = reports
        .lock()
        .unwrap()
        .iter()
        .map(|report| report.location().line())
        .collect();
    assert_eq!(
        lines,
        [gather_spawned_at.line() + 1, thread_spawned_at.line() + 1]
    );
}

#[test]
fn the_reporter_may_take_a_task_dump() {
    let dumps = Arc::new(Mutex::new(Vec::new()));
    let runtime = evloop::Runtime::builder()
        .slow_poll_threshold(Duration::from_millis(20))
        .on_slow_poll({
            let dumps = dumps.clone();
            move |slow| {
                let dump = evloop::tasks();
                // The report comes after the loop's bookkeeping: the finished task is gone.
                assert!(dump.get(slow.task_number().unwrap()).is_none());
                dumps.lock().unwrap().push(dump.len());
            }
        })
        .build()
        .unwrap();
    runtime.block_on(async {
        let _idle = evloop::spawn_named("idle", std::future::pending::<()>());
        evloop::spawn(async { std::thread::sleep(Duration::from_millis(40)) })
            .await
            .unwrap();
    });
    assert_eq!(*dumps.lock().unwrap(), [1]);
}

/// Set in the child process of `evloop_debug_turns_on_reports_to_stderr`.
const CHILD: &str = "EVLOOP_SLOW_POLL_TEST_CHILD";

#[test]
fn evloop_debug_turns_on_reports_to_stderr() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_blocks_a_task_on_a_default_runtime",
            "--nocapture",
        ])
        .env("EVLOOP_DEBUG", "1")
        .env(CHILD, "1")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let spawned_at = stdout
        .lines()
        .find_map(|line| line.strip_prefix("spawned at "))
        .unwrap_or_else(|| panic!("the child prints where it spawned: {stdout}"));
    let report = stderr
        .lines()
        .find(|line| line.starts_with("evloop: task 1 spawned at "))
        .unwrap_or_else(|| panic!("a report on stderr: {stderr}"));
    // `file:line:column`; the child knows the file and line.
    assert!(
        report.contains(&format!("spawned at {spawned_at}:")),
        "{report}"
    );
    assert!(report.contains(" blocked the loop for "), "{report}");
    assert!(report.contains("(threshold 100.0ms)"), "{report}");
}

/// The child process of the test above; does nothing when run directly.
#[test]
fn child_blocks_a_task_on_a_default_runtime() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    evloop::run(async {
        let called_at = Location::caller();
        let task = evloop::spawn(async { std::thread::sleep(Duration::from_millis(150)) });
        println!("spawned at {}:{}", called_at.file(), called_at.line() + 1);
        task.await.unwrap();
    });
}
