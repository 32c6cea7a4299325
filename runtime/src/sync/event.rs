//! `Event`: a flag that tasks (and threads) can wait for — asyncio's `asyncio.Event`.
//!
//! `set` raises the flag and grants every current waiter (see `wait_queue.rs`), so a waiter woken
//! by `set` returns even if `clear` comes before it runs, as in asyncio. `wait` after `set` returns
//! at once.

#![forbid(unsafe_code)]

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::wait_queue::{change_then_wake, WaitQueue};
use crate::coop;
use crate::park::{block_plain_thread, block_plain_thread_for};
use crate::shim::{lock, Mutex};
use crate::time::Elapsed;

/// An event flag: [`set`](Event::set) wakes every waiter; [`wait`](Event::wait) returns once it is
/// set.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use evloop::sync::Event;
///
/// evloop::run(async {
///     let ready = Rc::new(Event::new());
///     let waiter = evloop::spawn({
///         let ready = ready.clone();
///         async move {
///             ready.wait().await;
///             "proceeded"
///         }
///     });
///     evloop::yield_now().await;
///     assert!(!waiter.is_finished());
///     ready.set();
///     assert_eq!(waiter.await.unwrap(), "proceeded");
///     ready.wait().await; // already set: at once
/// });
/// ```
#[derive(Default)]
pub struct Event {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    set: bool,
    waiters: WaitQueue,
}

impl Event {
    /// A cleared event.
    pub fn new() -> Event {
        Event::default()
    }

    /// Sets the flag and wakes every waiter.
    pub fn set(&self) {
        change_then_wake(&self.state, |state, wakers| {
            state.set = true;
            state.waiters.grant_all(wakers);
        });
    }

    /// Clears the flag: later `wait`s wait again.
    pub fn clear(&self) {
        lock(&self.state).set = false;
    }

    /// How many tasks and threads wait for the flag right now.
    pub fn n_waiting(&self) -> usize {
        lock(&self.state).waiters.len()
    }

    /// Whether the flag is set.
    pub fn is_set(&self) -> bool {
        lock(&self.state).set
    }

    /// Waits until the flag is set (returns at once if it is).
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            key: None,
        }
    }

    /// Blocks a plain thread until the flag is set (at once if it is) — `threading.Event.wait()`.
    ///
    /// # Panics
    ///
    /// On an evloop loop thread, which would stop while it waits: use `wait().await` there.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::Event;
    ///
    /// let ready = Event::new();
    /// std::thread::scope(|scope| {
    ///     let waiter = scope.spawn(|| ready.wait_blocking());
    ///     ready.set();
    ///     waiter.join().unwrap();
    /// });
    /// ```
    #[track_caller]
    pub fn wait_blocking(&self) {
        block_plain_thread(
            &mut self.wait(),
            "Event::wait_blocking",
            "use `wait().await`",
        );
    }

    /// Like [`wait_blocking`](Event::wait_blocking), giving up after `timeout`
    /// (`threading.Event.wait(timeout)`).
    ///
    /// # Errors
    ///
    /// [`Elapsed`] if the flag was not set in time.
    ///
    /// # Panics
    ///
    /// On an evloop loop thread: use `timeout(d, wait()).await` there.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::sync::Event;
    ///
    /// let event = Event::new();
    /// assert!(event.wait_blocking_timeout(Duration::from_millis(5)).is_err());
    /// event.set();
    /// assert!(event.wait_blocking_timeout(Duration::from_millis(5)).is_ok());
    /// ```
    #[track_caller]
    pub fn wait_blocking_timeout(&self, timeout: Duration) -> Result<(), Elapsed> {
        block_plain_thread_for(
            &mut self.wait(),
            timeout,
            "Event::wait_blocking_timeout",
            "use `evloop::time::timeout(d, event.wait()).await`",
        )
        .ok_or_else(Elapsed::new)
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Event")
            .field("set", &state.set)
            .field("waiters", &state.waiters)
            .finish()
    }
}

/// The future returned by [`Event::wait`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct EventWait<'a> {
    event: &'a Event,
    key: Option<usize>,
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = lock(&self.event.state);
        match self.key {
            Some(key) => {
                let released = state.waiters.poll_granted(key, cx);
                if released {
                    drop(state);
                    self.key = None;
                    return Poll::Ready(());
                }
                Poll::Pending
            }
            // Set already: done without waiting, which spends the task's budget (`coop.rs`),
            // decided with the lock released (declining wakes the task: foreign code).
            None if state.set => {
                drop(state);
                coop::poll_proceed(cx)
            }
            None => {
                let key = state.waiters.push(1, cx.waker());
                drop(state);
                self.key = Some(key);
                Poll::Pending
            }
        }
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            // A notification never taken needs no passing on: `set` notified everyone.
            lock(&self.event.state).waiters.remove(key);
        }
    }
}

impl fmt::Debug for EventWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWait")
            .field("queued", &self.key.is_some())
            .finish()
    }
}
