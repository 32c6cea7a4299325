//! Timers: sleep, sleep_until, timeout, interval; deadlines in the past and far in the future.

mod common;

use std::cell::RefCell;
use std::future::pending;
use std::rc::Rc;
use std::time::Duration;

use common::{within, DropCounter};
use evloop::time::{interval, sleep, sleep_until, timeout, Instant};
use evloop::{spawn, yield_now};

#[test]
fn sleep_waits_at_least_its_duration() {
    evloop::run(async {
        let start = Instant::now();
        sleep(Duration::from_millis(30)).await;
        assert!(start.elapsed() >= Duration::from_millis(30));
    });
}

#[test]
fn timers_fire_in_deadline_order() {
    let order = evloop::run(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        // Deadlines from one instant, far enough ahead that every timer is registered before the
        // first is due, however slowly the tasks get their first poll (under Miri, milliseconds
        // apart): the order then depends on the deadlines alone.
        let setup = Duration::from_millis(if cfg!(miri) { 1_000 } else { 20 });
        let start = Instant::now() + setup;
        let handles: Vec<_> = [30u64, 10, 20, 0, 25]
            .into_iter()
            .map(|ms| {
                let log = log.clone();
                spawn(async move {
                    sleep_until(start + Duration::from_millis(ms)).await;
                    log.borrow_mut().push(ms);
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
        Rc::try_unwrap(log).unwrap().into_inner()
    });
    assert_eq!(order, [0, 10, 20, 25, 30]);
}

#[test]
fn a_deadline_in_the_past_completes_at_once() {
    evloop::run(async {
        let past = Instant::now() - Duration::from_millis(50);
        sleep_until(past).await;
        sleep(Duration::ZERO).await;
    });
}

#[test]
fn duration_max_neither_overflows_nor_fires() {
    evloop::run(async {
        let forever = sleep(Duration::MAX);
        assert!(forever.deadline() > Instant::now() + Duration::from_secs(86_400 * 365 * 29));
        assert!(timeout(Duration::from_millis(10), forever).await.is_err());
        assert!(timeout(Duration::MAX, async { 1 }).await.is_ok());
    });
}

#[test]
fn timeout_returns_the_output_in_time() {
    evloop::run(async {
        let result = timeout(Duration::from_secs(5), async {
            sleep(Duration::from_millis(5)).await;
            "in time"
        })
        .await;
        assert_eq!(result, Ok("in time"));
    });
}

#[test]
fn timeout_drops_the_inner_future_when_it_fires() {
    evloop::run(async {
        let drops = DropCounter::default();
        let token = drops.token();
        let start = Instant::now();
        let result = timeout(Duration::from_millis(20), async move {
            let _token = token;
            pending::<()>().await
        })
        .await;
        let error = result.unwrap_err();
        assert_eq!(
            error.to_string(),
            "deadline has elapsed before the operation completed"
        );
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert_eq!(drops.count(), 1);
    });
}

#[test]
fn a_ready_future_beats_a_zero_timeout() {
    evloop::run(async {
        assert_eq!(timeout(Duration::ZERO, async { 1 }).await, Ok(1));
        assert!(timeout(Duration::ZERO, pending::<()>()).await.is_err());
    });
}

#[test]
fn interval_ticks_on_a_fixed_schedule() {
    evloop::run(async {
        let period = Duration::from_millis(10);
        let mut ticks = interval(period);
        assert_eq!(ticks.period(), period);
        let created = Instant::now();
        let first = ticks.tick().await;
        assert!(
            first <= created,
            "the first tick is due at creation: immediate"
        );
        let mut previous = first;
        for _ in 0..3 {
            let next = ticks.tick().await;
            // One period later; a multiple of it if this thread was descheduled for longer.
            let step = next - previous;
            assert!(
                step >= period && step.as_nanos() % period.as_nanos() == 0,
                "{step:?}"
            );
            assert!(Instant::now() >= next);
            previous = next;
        }
    });
}

#[test]
fn interval_skips_ticks_missed_while_blocked() {
    // Virtual time: the loop is "blocked" for exactly 35 ms however slowly the test runs (under
    // Miri on a loaded machine, the real-clock version of this test saw the 10 ms tick pass
    // before the first tick was even taken).
    common::run_paused(async {
        let period = Duration::from_millis(10);
        let mut ticks = interval(period);
        let first = ticks.tick().await;
        // Time passes without the interval being polled: the ticks at 10, 20 and 30 ms are missed.
        evloop::time::advance(Duration::from_millis(35)).await;
        let late = ticks.tick().await;
        assert_eq!(late - first, period, "the overdue tick fires at once");
        let back_on_schedule = ticks.tick().await;
        // The next tick is the first grid point after the overdue one was taken: not a burst of
        // the missed ones.
        assert_eq!(
            back_on_schedule - first,
            Duration::from_millis(40),
            "missed ticks are skipped"
        );
    });
}

#[test]
#[should_panic(expected = "the period must be non-zero")]
fn a_zero_interval_is_refused() {
    let _ = interval(Duration::ZERO);
}

#[test]
#[should_panic(expected = "polled outside of an evloop runtime")]
fn a_timer_polled_outside_a_runtime_panics() {
    common::block_on_thread(sleep(Duration::from_secs(3600)));
}

#[test]
fn resetting_a_sleep_moves_its_deadline_both_ways() {
    evloop::run(async {
        let start = Instant::now();
        let mut nap = Box::pin(sleep(Duration::from_secs(3600)));
        assert!(timeout(Duration::from_millis(5), nap.as_mut())
            .await
            .is_err());
        nap.as_mut()
            .reset(Instant::now() + Duration::from_millis(10));
        nap.as_mut().await;
        assert!(start.elapsed() < Duration::from_secs(10));
        assert!(nap.is_elapsed());
    });
}

#[test]
fn cancelled_timers_do_not_keep_the_loop_waiting() {
    within(Duration::from_secs(10), || {
        evloop::run(async {
            for _ in 0..1000 {
                // Dropped before they fire: the loop must not wait an hour for them.
                let _ = timeout(Duration::ZERO, sleep(Duration::from_secs(3600))).await;
            }
            sleep(Duration::from_millis(1)).await;
        })
    });
}

#[test]
fn ten_thousand_timers_all_fire() {
    let timers: u64 = if cfg!(miri) { 300 } else { 10_000 };
    let fired = evloop::run(async move {
        let handles: Vec<_> = (0..timers)
            .map(|i| spawn(async move { sleep(Duration::from_micros(i % 1000 * 10)).await }))
            .collect();
        let count = handles.len();
        for handle in handles {
            handle.await.unwrap();
        }
        count
    });
    assert_eq!(fired as u64, timers);
}

#[test]
fn a_sleep_can_move_to_another_runtime() {
    let mut nap = Box::pin(sleep(Duration::from_millis(20)));
    evloop::run(async {
        let _ = timeout(Duration::from_millis(1), nap.as_mut()).await;
        yield_now().await;
    });
    evloop::run(nap); // registers in the second runtime and completes there
}
