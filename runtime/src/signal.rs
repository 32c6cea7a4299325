//! Unix signals as things a task awaits — asyncio's `loop.add_signal_handler`, tokio's `signal`.
//!
//! # How a signal reaches a task
//!
//! A signal handler may only do what is async-signal-safe: no lock, no allocation, no waker. So
//! the handler writes one byte into a pipe, and the loop watches the pipe's reading end like any
//! socket (the "self-pipe trick"). The handler and the pipe are `signal-hook`'s (through
//! `signal-hook-mio`, whose pipe is a mio source): writing signal handlers by hand is exactly the
//! subtle, platform-specific code a well-kept crate exists for (DESIGN.md §14).
//!
//! Each [`Signals`] has a pipe of its own, registered with the reactor of the loop it was made on.
//! So every listener of a signal sees every arrival (two tasks waiting for `SIGTERM` are both
//! woken), listeners on different loops are independent, and a signal that arrives while nobody
//! is waiting yet is remembered: the handler sets a flag and writes its byte whenever it runs,
//! and the next [`recv`](Signals::recv) finds them. What is remembered is *that* a signal came,
//! not how many times: two `SIGHUP`s before a `recv` are one arrival, as with any Unix signal.
//!
//! # What listening changes for the whole process
//!
//! The first listener of a signal installs a handler, and the signal's default action (for
//! `SIGINT` and `SIGTERM`: ending the process) is gone from then on, for the whole process and
//! for good, even after every listener is dropped: tokio makes the same trade. A program that
//! listens for `SIGINT` therefore decides itself what Ctrl-C does.

#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;
use signal_hook_mio::v1_0::Signals as SignalPipe;
use signal_hook_registry::FORBIDDEN;

use crate::io::source::Source;
use crate::io::Direction;

/// Interrupt from the keyboard (Ctrl-C).
pub const SIGINT: i32 = libc::SIGINT;
/// A polite request to end (what `kill` and service managers send).
pub const SIGTERM: i32 = libc::SIGTERM;
/// The controlling terminal hung up; daemons take it as "reload your configuration".
pub const SIGHUP: i32 = libc::SIGHUP;
/// Quit from the keyboard (Ctrl-\).
pub const SIGQUIT: i32 = libc::SIGQUIT;
/// For the program's own use.
pub const SIGUSR1: i32 = libc::SIGUSR1;
/// For the program's own use.
pub const SIGUSR2: i32 = libc::SIGUSR2;
/// A child process stopped or ended.
pub const SIGCHLD: i32 = libc::SIGCHLD;
/// The terminal's window changed size.
pub const SIGWINCH: i32 = libc::SIGWINCH;

/// Waits for Ctrl-C (`SIGINT`).
///
/// The handler is installed when this future is first polled; a Ctrl-C before that ends the
/// process as usual. To be sure of catching an early one, make a [`Signals`] at start-up instead.
///
/// # Errors
///
/// If the pipe or the handler cannot be set up (out of descriptors, for instance).
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```no_run
/// evloop::run(async {
///     println!("press Ctrl-C to stop");
///     evloop::signal::ctrl_c().await.unwrap();
///     println!("stopping cleanly");
/// });
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    Signals::new([SIGINT])?.recv().await;
    Ok(())
}

/// The arrivals of one or more signals, on the loop it was made on: [`recv`](Signals::recv) one at
/// a time, or use it as a `futures_core::Stream` of signal numbers (it never ends).
///
/// See the module documentation for how arrivals are delivered and remembered.
///
/// # Examples
///
/// ```
/// use evloop::signal::{Signals, SIGUSR1};
///
/// evloop::run(async {
///     let mut signals = Signals::new([SIGUSR1])?;
///     // SAFETY: `kill` has no memory-safety preconditions; the process signals itself.
///     unsafe { libc::kill(libc::getpid(), SIGUSR1) };
///     assert_eq!(signals.recv().await, SIGUSR1); // sent before anyone waited: not lost
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct Signals {
    source: Source<PipeSource>,
    /// Arrivals read from the pipe and not yet returned.
    arrived: VecDeque<i32>,
}

impl Signals {
    /// Starts listening for `signals` on the current loop.
    ///
    /// # Errors
    ///
    /// A signal that cannot be caught (`SIGKILL`, `SIGSTOP`) or must not be (`SIGSEGV`, `SIGILL`,
    /// `SIGFPE`: a handler could not return from them) is an `InvalidInput` error naming it; a
    /// number that is no signal is the OS's `InvalidInput`. Out of descriptors, the OS's error.
    ///
    /// # Panics
    ///
    /// Outside a runtime: there is no loop to deliver the arrivals to.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::signal::{Signals, SIGTERM, SIGUSR2};
    ///
    /// evloop::run(async {
    ///     let _stop = Signals::new([SIGTERM, SIGUSR2])?; // either one, from now on
    ///     assert!(Signals::new([libc::SIGKILL]).is_err()); // cannot be caught
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    #[track_caller]
    pub fn new(signals: impl IntoIterator<Item = i32>) -> io::Result<Signals> {
        let signals: Vec<i32> = signals.into_iter().collect();
        // signal-hook panics on these rather than return an error: refuse them here. (Numbers in
        // range that are no signal are refused by the OS, as an error.)
        if let Some(bad) = signals.iter().find(|s| !(1..128).contains(*s)) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{bad} is not a signal number"),
            ));
        }
        if let Some(forbidden) = signals.iter().find(|s| FORBIDDEN.contains(s)) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "signal {forbidden} cannot be listened for (it cannot be caught, or a \
                     handler could not return from it)"
                ),
            ));
        }
        let pipe = SignalPipe::new(&signals).map_err(|error| {
            io::Error::new(
                error.kind(),
                format!("listening for signals {signals:?}: {error}"),
            )
        })?;
        Ok(Signals {
            source: Source::new(PipeSource(RefCell::new(pipe)))?,
            arrived: VecDeque::new(),
        })
    }

    /// Waits for the next arrival and returns its signal number.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::signal::{Signals, SIGHUP};
    ///
    /// evloop::run(async {
    ///     let mut reload = Signals::new([SIGHUP])?;
    ///     let waiter = evloop::spawn(async move { reload.recv().await });
    ///     evloop::yield_now().await; // the task waits now
    ///     // SAFETY: `kill` has no memory-safety preconditions; the process signals itself.
    ///     unsafe { libc::kill(libc::getpid(), SIGHUP) };
    ///     assert_eq!(waiter.await.unwrap(), SIGHUP);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn recv(&mut self) -> i32 {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next arrival (for hand-written futures).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use evloop::signal::{Signals, SIGUSR1};
    ///
    /// evloop::run(async {
    ///     let mut signals = Signals::new([SIGUSR1])?;
    ///     // SAFETY: `kill` has no memory-safety preconditions; the process signals itself.
    ///     unsafe { libc::kill(libc::getpid(), SIGUSR1) };
    ///     assert_eq!(poll_fn(|cx| signals.poll_recv(cx)).await, SIGUSR1);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<i32> {
        loop {
            if let Some(signal) = self.arrived.pop_front() {
                return Poll::Ready(signal);
            }
            let arrived = &mut self.arrived;
            let read = ready!(self.source.poll_io(Direction::Read, cx, |pipe| {
                // Drains the pipe and collects the signals whose flags were set; nothing new is
                // this source's `WouldBlock`: wait for the handler's next byte.
                arrived.extend(pipe.0.borrow_mut().pending());
                if arrived.is_empty() {
                    Err(io::ErrorKind::WouldBlock.into())
                } else {
                    Ok(())
                }
            }));
            read.expect("reading the signal pipe reports nothing but WouldBlock");
        }
    }
}

impl Stream for Signals {
    type Item = i32;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<i32>> {
        self.get_mut().poll_recv(cx).map(Some)
    }
}

impl fmt::Debug for Signals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signals")
            .field("arrived", &self.arrived)
            .finish_non_exhaustive()
    }
}

/// signal-hook's pipe as a mio source that can be read through a shared reference (`Source`
/// hands its operations `&S`; reading the pipe needs `&mut`). Only the loop thread touches it.
struct PipeSource(RefCell<SignalPipe>);

impl mio::event::Source for PipeSource {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        self.0.get_mut().register(registry, token, interests)
    }
    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        self.0.get_mut().reregister(registry, token, interests)
    }
    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        self.0.get_mut().deregister(registry)
    }
}
