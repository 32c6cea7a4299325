//! The runtime itself: block_on, reuse, nesting, panics, and shutdown dropping every task.

mod common;

use std::future::pending;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use common::{within, DropCounter};
use evloop::time::sleep;
use evloop::{spawn, yield_now, Builder, Runtime};

#[test]
fn block_on_accepts_borrowing_futures() {
    let rt = Runtime::new().unwrap();
    let mut data = vec![1, 2, 3];
    rt.block_on(async {
        data.push(4);
    });
    assert_eq!(data, [1, 2, 3, 4]);
}

#[test]
#[allow(clippy::async_yields_async)] // returning the handle unawaited is the point
fn tasks_survive_between_block_on_calls() {
    let rt = Runtime::new().unwrap();
    let handle = rt.block_on(async { spawn(async { 9 }) });
    assert_eq!(rt.block_on(handle).unwrap(), 9);
}

#[test]
#[allow(clippy::async_yields_async)] // returning handles unawaited is the point
fn dropping_the_runtime_drops_every_live_future() {
    let drops = DropCounter::default();
    let rt = Runtime::new().unwrap();
    let mut handles = rt.block_on(async {
        let mut handles = Vec::new();
        // Pending forever: nothing will ever wake it.
        let token = drops.token();
        handles.push(spawn(async move {
            let _token = token;
            pending::<()>().await
        }));
        // Waiting on a timer.
        let token = drops.token();
        handles.push(spawn(async move {
            let _token = token;
            sleep(Duration::from_secs(3600)).await
        }));
        // Detached.
        let token = drops.token();
        drop(spawn(async move {
            let _token = token;
            pending::<()>().await
        }));
        yield_now().await;
        handles
    });
    // The main future below is ready on its first poll, so the loop never takes these in.
    let token = drops.token();
    let queued = rt.block_on(async move {
        spawn(async move {
            let _token = token;
        })
    });
    handles.push(queued);
    let token = drops.token();
    let handle = rt.handle();
    let remote = std::thread::spawn(move || {
        handle.spawn(async move {
            let _token = token;
        })
    });
    handles.push(remote.join().unwrap());
    assert_eq!(drops.count(), 0);
    drop(rt);
    assert_eq!(
        drops.count(),
        5,
        "every future is dropped by the time drop returns"
    );
    for handle in handles {
        let error = common::block_on_thread(handle).unwrap_err();
        assert!(error.is_cancelled());
        assert!(error.to_string().contains("runtime shut down"), "{error}");
    }
}

#[test]
fn run_cancels_tasks_still_alive_when_main_returns() {
    let drops = DropCounter::default();
    let token = drops.token();
    evloop::run(async move {
        drop(spawn(async move {
            let _token = token;
            pending::<()>().await
        }));
    });
    assert_eq!(drops.count(), 1);
}

#[test]
fn a_future_dropped_at_shutdown_may_spawn_and_the_spawn_is_cancelled() {
    struct SpawnOnDrop(DropCounter);
    impl Drop for SpawnOnDrop {
        fn drop(&mut self) {
            let token = self.0.token();
            let handle = spawn(async move {
                let _token = token;
            });
            assert!(
                handle.is_finished(),
                "spawned during shutdown: cancelled at once"
            );
        }
    }
    let drops = DropCounter::default();
    let guard = SpawnOnDrop(drops.clone());
    evloop::run(async move {
        drop(spawn(async move {
            let _guard = guard;
            pending::<()>().await
        }));
        yield_now().await;
    });
    assert_eq!(drops.count(), 1);
}

#[test]
#[should_panic(
    expected = "cannot start an evloop runtime (block_on / evloop::run) from inside a running one"
)]
fn block_on_inside_block_on_panics() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let inner = Runtime::new().unwrap();
        inner.block_on(async {});
    });
}

#[test]
#[should_panic(expected = "cannot start an evloop runtime")]
fn run_inside_a_task_panics() {
    evloop::run(async {
        spawn(async { evloop::run(async {}) }).await.unwrap();
    });
}

#[test]
fn a_runtime_can_be_created_and_dropped_inside_another() {
    evloop::run(async {
        let inner = Runtime::new().unwrap();
        drop(inner);
        assert_eq!(spawn(async { 1 }).await.unwrap(), 1);
    });
}

#[test]
fn a_panic_in_the_main_future_propagates_and_leaves_the_runtime_usable() {
    let rt = Runtime::new().unwrap();
    let result = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async { panic!("main failed") });
    }));
    assert!(result.is_err());
    assert_eq!(rt.block_on(async { spawn(async { 3 }).await.unwrap() }), 3);
}

#[test]
fn sequential_runtimes_on_one_thread_are_independent() {
    for i in 0..100 {
        assert_eq!(
            evloop::run(async move { spawn(async move { i }).await.unwrap() }),
            i
        );
    }
}

#[test]
fn the_tasks_per_tick_bound_is_configurable() {
    let rt = Builder::new().tasks_per_tick(1).build().unwrap();
    let total = rt.block_on(async {
        let handles: Vec<_> = (0..100).map(|i| spawn(async move { i })).collect();
        let mut total = 0;
        for handle in handles {
            total += handle.await.unwrap();
        }
        total
    });
    assert_eq!(total, 4950);
}

#[test]
#[should_panic(expected = "tasks_per_tick must be at least 1")]
fn zero_tasks_per_tick_is_refused() {
    let _ = Builder::new().tasks_per_tick(0);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "measures real CPU time, which Miri's interpreter inflates"
)]
fn an_idle_loop_sleeps_until_the_next_timer_instead_of_spinning() {
    // 200 ms of sleeping must cost far less CPU than 200 ms: the loop parks in the OS poller.
    // Measured on the loop's own thread, so that tests running in parallel do not count.
    within(Duration::from_secs(10), || {
        let cpu_before = thread_cpu_time();
        evloop::run(sleep(Duration::from_millis(200)));
        let cpu = thread_cpu_time() - cpu_before;
        assert!(
            cpu < Duration::from_millis(100),
            "the loop burned {cpu:?} while idle"
        );
    });
}

fn thread_cpu_time() -> Duration {
    // Fields 14 and 15 of /proc/thread-self/stat: user and system time, in clock ticks (100 per
    // second).
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}
