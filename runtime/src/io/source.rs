//! `Source`: an I/O object registered with the loop's reactor — the one place where a socket's
//! readiness turns into `Poll::Pending` and back.
//!
//! Every evloop I/O type (`TcpStream`, `UdpSocket`, `Async<T>`, ...) owns a `Source` around its
//! mio object. An operation goes through [`Source::poll_io`]: if the direction is not known to be
//! ready, wait for an event; otherwise try the system call, and on `WouldBlock` clear the
//! readiness and wait again (see `reactor.rs` for why only `WouldBlock` clears it).
//!
//! Dropping a `Source` deregisters it: the OS stops reporting it and its slot is freed; nothing is
//! woken. A pending operation future that is dropped leaves only a stale waker behind, which the
//! next operation replaces: the socket stays usable.
//!
//! Sources are `!Send`: they are registered with one runtime's reactor, which lives on that
//! runtime's thread, like an asyncio transport belongs to its loop.

#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use mio::Token;

use super::reactor::{Direction, IoState, Reactor};
use crate::coop;
use crate::runtime::current_reactor;

/// A mio source registered with the current runtime's reactor.
pub(crate) struct Source<S: mio::event::Source> {
    /// `None` only once `into_inner` has taken it (and then nothing else runs).
    io: Option<S>,
    token: Token,
    state: Rc<IoState>,
    /// The reactor that registered it; gone if the runtime was dropped first.
    reactor: Weak<RefCell<Reactor>>,
}

impl<S: mio::event::Source> Source<S> {
    /// Registers `io` with the current runtime.
    ///
    /// # Panics
    ///
    /// Outside a runtime: there would be no loop to report its readiness.
    #[track_caller]
    pub(crate) fn new(mut io: S) -> io::Result<Source<S>> {
        let Some(reactor) = current_reactor() else {
            panic!(
                "evloop I/O objects (sockets, Async) must be created inside a runtime: call this \
                 inside evloop::run or Runtime::block_on"
            );
        };
        let (token, state) = reactor.borrow_mut().register(&mut io)?;
        Ok(Source {
            io: Some(io),
            token,
            state,
            reactor: Rc::downgrade(&reactor),
        })
    }

    pub(crate) fn get_ref(&self) -> &S {
        self.io
            .as_ref()
            .expect("taken only by into_inner, which consumes the source")
    }

    /// Deregisters the source and gives back the mio object (to move it to another loop, as
    /// `TcpStream::into_std` does).
    pub(crate) fn into_inner(mut self) -> S {
        self.deregister();
        self.io.take().expect("present until now")
    }

    fn deregister(&mut self) {
        let Some(io) = &mut self.io else { return };
        if let Some(reactor) = self.reactor.upgrade() {
            reactor.borrow_mut().deregister(io, self.token);
        }
    }

    /// Runs `op` once `direction` is ready, waiting for readiness again as long as it returns
    /// `WouldBlock`. Each try spends a unit of the task's budget (`coop.rs`): a socket that is
    /// always ready (a fast peer) cannot keep the loop to one task.
    pub(crate) fn poll_io<R>(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            if self.state.poll_ready(direction, cx).is_pending() {
                return Poll::Pending;
            }
            if coop::poll_proceed(cx).is_pending() {
                return Poll::Pending;
            }
            match op(self.get_ref()) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    coop::refund(); // not ready after all: that was no operation
                    self.state.clear(direction);
                }
                result => return Poll::Ready(result),
            }
        }
    }

    /// `poll_io` as a future.
    pub(crate) async fn io<R>(
        &self,
        direction: Direction,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        poll_fn(|cx| self.poll_io(direction, cx, &mut op)).await
    }

    /// Waits until `direction` is reported ready (without performing an operation).
    pub(crate) fn poll_ready(&self, direction: Direction, cx: &mut Context<'_>) -> Poll<()> {
        self.state.poll_ready(direction, cx)
    }

    /// Forgets `direction`'s readiness, to wait for the next event (after the caller saw that
    /// the readiness did not mean what it waited for).
    pub(crate) fn clear(&self, direction: Direction) {
        self.state.clear(direction);
    }

    /// Forgets `direction`'s readiness after an operation that found the OS had no more (a short
    /// TCP read), keeping a closed side or an error (`reactor.rs`).
    pub(crate) fn drained(&self, direction: Direction) {
        self.state.drained(direction);
    }

    /// Marks `direction` ready so that the next operation is tried at once (after a back-off).
    pub(crate) fn retry(&self, direction: Direction) {
        self.state.set_ready(direction);
    }
}

impl<S: mio::event::Source> Drop for Source<S> {
    fn drop(&mut self) {
        self.deregister();
    }
}

impl<S: mio::event::Source + fmt::Debug> fmt::Debug for Source<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get_ref().fmt(f)
    }
}
