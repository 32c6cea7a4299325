//! Blocking a plain thread until something wakes it: a flag, a mutex and a condition variable.
//!
//! Two places need this. A thread outside the loop that waits for a task's result
//! ([`ConcurrentFuture::result`](crate::ConcurrentFuture::result)) parks here, with a `Waker` that
//! unparks it. And under `cfg(loom)` the loop itself parks here instead of in `mio::Poll`, which
//! loom cannot run (see `io/driver.rs`). Built on the shim's `Mutex`/`Condvar`, so loom
//! checks every interleaving of park and unpark.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use crate::runtime::is_a_loop_thread;
use crate::shim::{lock, Condvar, Mutex};

/// A one-bit "you have been woken" flag that a thread can sleep on.
#[derive(Debug, Default)]
pub(crate) struct Parker {
    notified: Mutex<bool>,
    condvar: Condvar,
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker::default()
    }

    /// Sleeps until `unpark` is called (or has been called since the last park), or until
    /// `timeout` passes. Consumes the notification. Spurious returns are allowed.
    pub(crate) fn park(&self, timeout: Option<Duration>) {
        let mut notified = lock(&self.notified);
        if !*notified {
            notified = match timeout {
                None => self
                    .condvar
                    .wait(notified)
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
                Some(timeout) => {
                    self.condvar
                        .wait_timeout(notified, timeout)
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .0
                }
            };
        }
        *notified = false;
    }

    /// Wakes the parked thread, or makes its next `park` return at once.
    pub(crate) fn unpark(&self) {
        *lock(&self.notified) = true;
        self.condvar.notify_one();
    }
}

// `std::task::Wake` needs a `std::sync::Arc`, which is why waiters wrap their `Parker` in one even
// under loom: only the `Parker`'s own protocol is what loom must see.
impl Wake for Parker {
    fn wake(self: std::sync::Arc<Self>) {
        self.unpark();
    }
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.unpark();
    }
}

/// How long a wait with an optional deadline may still sleep.
pub(crate) enum TimeLeft {
    /// No deadline: sleep until woken.
    Unbounded,
    /// This much is left.
    Duration(Duration),
    /// The deadline has passed.
    Expired,
}

/// What is left of a wait until `deadline` (`None`: no deadline).
pub(crate) fn time_left(deadline: Option<Instant>) -> TimeLeft {
    match deadline {
        None => TimeLeft::Unbounded,
        Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => TimeLeft::Duration(left),
            _ => TimeLeft::Expired,
        },
    }
}

/// Drives `future` on the calling thread, sleeping while it is pending, until it completes or
/// `deadline` passes (`None` on timeout). The future is left intact on timeout, so the caller may
/// wait again.
pub(crate) fn wait_on_thread<F>(future: &mut F, deadline: Option<Instant>) -> Option<F::Output>
where
    F: Future + Unpin,
{
    let parker = std::sync::Arc::new(Parker::new());
    let waker = Waker::from(parker.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = Pin::new(&mut *future).poll(&mut cx) {
            return Some(output);
        }
        match time_left(deadline) {
            TimeLeft::Unbounded => parker.park(None),
            TimeLeft::Duration(left) => parker.park(Some(left)),
            TimeLeft::Expired => return None,
        }
    }
}

/// Drives `future` to completion on this plain thread: the body of every `*_blocking` call that
/// lets a thread wait on a task-side primitive.
///
/// # Panics
///
/// On a loop thread, as [`refuse_on_a_loop`].
#[track_caller]
pub(crate) fn block_plain_thread<F>(future: &mut F, call: &str, instead: &str) -> F::Output
where
    F: Future + Unpin,
{
    refuse_on_a_loop(call, instead);
    wait_on_thread(future, None).expect("no deadline: waits to the end")
}

/// Like [`block_plain_thread`], for at most `timeout`: `None` if the future did not complete in
/// time. It is polled once more at the deadline (a grant that arrived just then is taken, not
/// passed over), and left intact otherwise: the caller drops it, which cancels it (every
/// primitive's future is cancel-safe), or takes back what it holds.
///
/// # Panics
///
/// On a loop thread, as [`refuse_on_a_loop`].
#[track_caller]
pub(crate) fn block_plain_thread_for<F>(
    future: &mut F,
    timeout: Duration,
    call: &str,
    instead: &str,
) -> Option<F::Output>
where
    F: Future + Unpin,
{
    refuse_on_a_loop(call, instead);
    let deadline = Instant::now().checked_add(timeout);
    wait_on_thread(future, deadline).or_else(|| {
        match Pin::new(future).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(output) => Some(output),
            Poll::Pending => None,
        }
    })
}

/// The rule for every call that blocks its thread (`result`, `*_blocking`, a waiting
/// `shutdown`...): not on a thread that runs an evloop loop. Blocking there stops the loop and
/// every task on it while the call waits, and if what it waits for needs the loop (a task, a job
/// that waits on a task, a primitive only a task will release), it waits forever.
///
/// # Panics
///
/// If the calling thread runs an evloop loop; the message names `call` and says what to do
/// (`instead`). The panic points at the caller's line.
#[track_caller]
pub(crate) fn refuse_on_a_loop(call: &str, instead: &str) {
    if is_a_loop_thread() {
        panic!(
            "{call} blocks its thread, and this thread runs an evloop loop, which would stop \
             while it waits (forever, if what it waits for needs the loop): {instead} instead"
        );
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn an_unpark_before_park_is_not_lost() {
        let parker = Parker::new();
        parker.unpark();
        parker.park(None); // returns at once
    }

    #[test]
    fn park_times_out() {
        Parker::new().park(Some(Duration::from_millis(1)));
    }

    #[test]
    fn wait_on_thread_is_woken_from_another_thread() {
        let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut future = std::future::poll_fn({
            let flag = flag.clone();
            move |cx| {
                if flag.load(std::sync::atomic::Ordering::SeqCst) {
                    Poll::Ready(7)
                } else {
                    let waker = cx.waker().clone();
                    let flag = flag.clone();
                    std::thread::spawn(move || {
                        flag.store(true, std::sync::atomic::Ordering::SeqCst);
                        waker.wake();
                    });
                    Poll::Pending
                }
            }
        });
        assert_eq!(wait_on_thread(&mut future, None), Some(7));
    }

    #[test]
    fn wait_on_thread_gives_up_at_the_deadline() {
        let mut never = std::future::pending::<()>();
        let deadline = Instant::now() + Duration::from_millis(5);
        assert_eq!(wait_on_thread(&mut never, Some(deadline)), None);
    }
}
