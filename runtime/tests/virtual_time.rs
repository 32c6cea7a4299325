//! Virtual time: a paused clock that jumps to the next deadline when the loop is idle, `advance`
//! by hand, `resume`, and what holds the jump back (blocking jobs).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use evloop::time::{self, sleep, timeout, Instant};

fn paused_runtime() -> evloop::Runtime {
    evloop::Runtime::builder()
        .start_paused(true)
        .build()
        .unwrap()
}

#[test]
fn a_paused_clock_jumps_to_each_deadline_in_order() {
    let real_start = std::time::Instant::now();
    paused_runtime().block_on(async {
        let start = Instant::now();
        let fired = Rc::new(RefCell::new(Vec::new()));
        let sleepers: Vec<_> = [3u64, 1, 2]
            .into_iter()
            .map(|hours| {
                let fired = fired.clone();
                evloop::spawn(async move {
                    sleep(Duration::from_secs(hours * 3600)).await;
                    fired.borrow_mut().push((hours, Instant::now() - start));
                })
            })
            .collect();
        for sleeper in sleepers {
            sleeper.await.unwrap();
        }
        let hour = Duration::from_secs(3600);
        assert_eq!(*fired.borrow(), [(1, hour), (2, 2 * hour), (3, 3 * hour)]);
    });
    // Not a timing measurement: three real hours would never get here.
    assert!(real_start.elapsed() < Duration::from_secs(60));
}

#[test]
fn retry_every_30_s_with_a_5_minute_timeout_takes_no_real_time() {
    let attempts = paused_runtime().block_on(async {
        let mut attempts = 0;
        let result = timeout(Duration::from_secs(300), async {
            loop {
                attempts += 1;
                sleep(Duration::from_secs(30)).await;
            }
        })
        .await;
        assert!(
            result.is_err(),
            "the remote never answers: the timeout fires"
        );
        attempts
    });
    // Attempts at 0, 30, ..., 270 s: at 300 s both deadlines are due, and a timeout whose deadline
    // has passed does not poll the future it guards again (as asyncio's callback, scheduled
    // first, cancels the task before the sleep's wakes it), so no attempt starts at 300 s.
    assert_eq!(attempts, 10);
}

#[test]
fn advance_fires_what_is_due_and_nothing_later() {
    evloop::run(async {
        time::pause();
        let short = evloop::spawn(sleep(Duration::from_secs(10)));
        let long = evloop::spawn(sleep(Duration::from_secs(20)));
        evloop::yield_now().await; // both register their timers
        time::advance(Duration::from_secs(10)).await;
        assert!(short.is_finished());
        assert!(!long.is_finished());
        time::advance(Duration::from_secs(10)).await;
        assert!(long.is_finished());
    });
}

#[test]
fn a_busy_loop_does_not_jump_but_advance_moves_it() {
    paused_runtime().block_on(async {
        let start = Instant::now();
        let napper = evloop::spawn(sleep(Duration::from_secs(5)));
        // This task keeps the loop busy, so the clock must not jump on its own.
        for _ in 0..100 {
            evloop::yield_now().await;
        }
        assert_eq!(Instant::now(), start, "a paused clock stands still");
        assert!(!napper.is_finished());
        time::advance(Duration::from_secs(5)).await;
        assert!(napper.is_finished());
    });
}

#[test]
fn a_running_blocking_job_holds_the_clock_back() {
    paused_runtime().block_on(async {
        // 50 real milliseconds of blocking work against a 1-second virtual timeout: the clock
        // must wait for the job instead of jumping to the timeout's deadline.
        let job = evloop::run_in_executor(|| std::thread::sleep(Duration::from_millis(50)));
        let result = timeout(Duration::from_secs(1), job).await;
        assert!(result.is_ok(), "the paused clock jumped past a running job");
    });
}

#[test]
fn resume_lets_the_clock_run_on_from_where_it_stood() {
    evloop::run(async {
        time::pause();
        let paused_at = Instant::now();
        time::advance(Duration::from_secs(3600)).await;
        time::resume();
        let resumed = Instant::now();
        assert!(
            resumed >= paused_at + Duration::from_secs(3600),
            "never goes back"
        );
        sleep(Duration::from_millis(1)).await;
        assert!(Instant::now() > resumed, "runs again");
    });
}

#[test]
fn pause_outside_a_runtime_says_where_to_call_it() {
    let panic = std::panic::catch_unwind(time::pause).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("inside evloop::run"), "{message}");
}

#[test]
#[should_panic(expected = "time::advance needs a paused clock")]
fn advance_on_a_running_clock_panics_with_what_to_do() {
    evloop::run(async {
        time::advance(Duration::from_secs(1)).await;
    });
}

#[test]
fn a_timeout_around_io_expires_at_once_with_a_paused_clock() {
    // The documented trade-off: the clock does not wait for a peer it cannot see, so waiting for
    // a connection that never comes takes the full virtual timeout and no real time.
    paused_runtime().block_on(async {
        let listener = evloop::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let start = Instant::now();
        let accepted = timeout(Duration::from_secs(10), listener.accept()).await;
        assert!(accepted.is_err());
        assert_eq!(Instant::now() - start, Duration::from_secs(10));
    });
}
