//! The driver: how the loop sleeps when it has nothing to run, and how another thread wakes it.
//!
//! In a normal build this is `mio`: the loop blocks in `Poll::poll` (epoll/kqueue) with the time
//! until the next timer as its timeout, and another thread interrupts it with a `mio::Waker`
//! (an eventfd on Linux). I/O readiness arrives through the same `poll`.
//!
//! Under `cfg(loom)` the loop cannot block in mio (loom cannot model system calls), so the loom
//! driver sleeps on a condition-variable [`Parker`](crate::park::Parker) instead. It still owns a
//! `mio::Poll`, only so that sockets can be registered the same way; no readiness event is ever
//! delivered under loom. Everything above this file — the parked / notified protocol in
//! `shared.rs`, the inbox, the task states, the reactor — is the same code in both builds, which is
//! what lets the loom models check the real wake-up path. Timers are not modelled: under loom a
//! timed park returns at once, as if the time had passed.
//!
//! Deciding *whether* to park, and making sure no wake-up is lost between that decision and the
//! sleep, is not done here but in `Shared::park`.

use std::io;
use std::time::Duration;

use mio::event::Event;

#[cfg(not(loom))]
pub(crate) use mio_driver::{Driver, Unparker};

#[cfg(loom)]
pub(crate) use loom_driver::{Driver, Unparker};

#[cfg(not(loom))]
mod mio_driver {
    use super::*;
    use mio::{Events, Poll, Token, Waker};

    /// The token of the cross-thread wake-up's eventfd.
    const WAKE_TOKEN: Token = Token(usize::MAX);

    /// How many readiness events one `poll` can return.
    const EVENTS_CAPACITY: usize = 1024;

    /// The loop's side: owns the `mio::Poll`.
    pub(crate) struct Driver {
        poll: Poll,
        events: Events,
    }

    /// The other threads' side: interrupts a blocked `poll`.
    pub(crate) struct Unparker {
        waker: Waker,
    }

    impl Driver {
        pub(crate) fn new() -> io::Result<(Driver, Unparker)> {
            let poll = Poll::new()?;
            let waker = Waker::new(poll.registry(), WAKE_TOKEN)?;
            let driver = Driver {
                poll,
                events: Events::with_capacity(EVENTS_CAPACITY),
            };
            Ok((driver, Unparker { waker }))
        }

        /// Blocks until woken, an I/O source is ready, or `timeout` passes (`None`: no timeout;
        /// zero: just collect what is ready). Hands every I/O event to `on_event`.
        pub(crate) fn park(&mut self, timeout: Option<Duration>, on_event: impl FnMut(&Event)) {
            match self.poll.poll(&mut self.events, timeout) {
                Ok(()) => {}
                // A signal arrived: return early, the loop re-checks everything anyway.
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                // epoll_wait fails otherwise only on a bad descriptor or argument, which would be a
                // bug here; carrying on would spin.
                Err(error) => panic!("evloop: the OS poller failed: {error}"),
            }
            self.events
                .iter()
                .filter(|event| event.token() != WAKE_TOKEN)
                .for_each(on_event);
        }

        /// Where I/O sources are registered.
        pub(crate) fn registry(&self) -> &mio::Registry {
            self.poll.registry()
        }
    }

    impl Unparker {
        pub(crate) fn unpark(&self) {
            // This fails only if the eventfd's counter is saturated, which means a wake-up is
            // already pending: nothing is lost by ignoring it.
            let _ = self.waker.wake();
        }
    }
}

#[cfg(loom)]
mod loom_driver {
    use super::*;
    use crate::park::Parker;
    use crate::shim::Arc;

    pub(crate) struct Driver {
        parker: Arc<Parker>,
        /// Only for registering sources; never polled.
        poll: mio::Poll,
    }

    pub(crate) struct Unparker {
        parker: Arc<Parker>,
    }

    impl Driver {
        pub(crate) fn new() -> io::Result<(Driver, Unparker)> {
            let parker = Arc::new(Parker::new());
            Ok((
                Driver {
                    parker: parker.clone(),
                    poll: mio::Poll::new()?,
                },
                Unparker { parker },
            ))
        }

        /// Sleeps on the parker; no I/O event is ever delivered under loom.
        pub(crate) fn park(&mut self, timeout: Option<Duration>, _on_event: impl FnMut(&Event)) {
            match timeout {
                None => self.parker.park(None),
                Some(_) => crate::shim::thread::yield_now(),
            }
        }

        pub(crate) fn registry(&self) -> &mio::Registry {
            self.poll.registry()
        }
    }

    impl Unparker {
        pub(crate) fn unpark(&self) {
            self.parker.unpark();
        }
    }
}
