//! Signals sent to this test process itself. Each test listens for a signal no other test here
//! uses, so that tests running in parallel do not see each other's arrivals.

mod common;

use std::time::Duration;

use evloop::signal::{self, Signals, SIGHUP, SIGINT, SIGUSR1, SIGUSR2, SIGWINCH};
use futures_util::StreamExt;

use common::within;

fn raise(signal: i32) {
    // SAFETY: `kill` has no memory-safety preconditions; the process signals itself.
    let sent = unsafe { libc::kill(libc::getpid(), signal) };
    assert_eq!(sent, 0, "kill failed: {}", std::io::Error::last_os_error());
}

#[test]
fn a_signal_sent_before_anyone_waits_is_not_lost() {
    within(Duration::from_secs(10), || {
        evloop::run(async {
            let mut signals = Signals::new([SIGUSR1]).unwrap();
            raise(SIGUSR1);
            evloop::time::sleep(Duration::from_millis(5)).await; // nobody waits meanwhile
            assert_eq!(signals.recv().await, SIGUSR1);
        });
    });
}

#[test]
fn every_listener_of_a_signal_sees_each_arrival() {
    within(Duration::from_secs(10), || {
        evloop::run(async {
            let mut first = Signals::new([SIGUSR2]).unwrap();
            let mut second = Signals::new([SIGUSR2]).unwrap();
            let waiter = evloop::spawn(async move { first.recv().await });
            evloop::yield_now().await; // the waiter is waiting now
            raise(SIGUSR2);
            assert_eq!(second.recv().await, SIGUSR2);
            assert_eq!(waiter.await.unwrap(), SIGUSR2);
        });
    });
}

#[test]
fn listeners_on_two_loops_each_see_the_signal() {
    within(Duration::from_secs(10), || {
        let (ready, listening) = std::sync::mpsc::channel();
        let other_loop = std::thread::spawn(move || {
            evloop::run(async move {
                let mut signals = Signals::new([SIGHUP]).unwrap();
                ready.send(()).unwrap();
                signals.recv().await
            })
        });
        let here = evloop::run(async move {
            let mut signals = Signals::new([SIGHUP]).unwrap();
            listening.recv().unwrap(); // the other loop listens too
            raise(SIGHUP);
            signals.recv().await
        });
        assert_eq!(here, SIGHUP);
        assert_eq!(other_loop.join().unwrap(), SIGHUP);
    });
}

#[test]
fn signals_are_a_stream_of_arrivals() {
    within(Duration::from_secs(10), || {
        evloop::run(async {
            let mut arrivals = Signals::new([SIGWINCH]).unwrap();
            for _ in 0..3 {
                raise(SIGWINCH);
                // One arrival per wait: the next signal is sent only once this one was seen.
                assert_eq!(arrivals.next().await, Some(SIGWINCH));
            }
        });
    });
}

#[test]
fn ctrl_c_is_woken_by_sigint() {
    within(Duration::from_secs(10), || {
        evloop::run(async {
            // Listening first replaces SIGINT's default action (ending the process), so the
            // `raise` below cannot end the test run even if `ctrl_c` were late.
            let mut backstop = Signals::new([SIGINT]).unwrap();
            let waiter = evloop::spawn(signal::ctrl_c());
            evloop::yield_now().await; // the task's first poll installs its listener
            raise(SIGINT);
            waiter.await.unwrap().unwrap();
            assert_eq!(backstop.recv().await, SIGINT);
        });
    });
}

#[test]
fn a_signal_that_cannot_be_caught_is_a_clear_error() {
    evloop::run(async {
        let error = Signals::new([libc::SIGKILL]).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
        assert!(
            error.to_string().contains(&libc::SIGKILL.to_string()),
            "names the signal: {error}"
        );
        for not_a_signal in [0, -1, 100, 999] {
            let error = Signals::new([not_a_signal]).unwrap_err();
            assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{error}");
        }
    });
}
