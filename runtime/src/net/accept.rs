//! Accepting connections: one back-off for every kind of listener when the process is out of
//! descriptors, and the [`Listener`] trait with its stream of connections, [`Incoming`].
//!
//! When `accept` fails with `EMFILE` (or `ENFILE`, `ENOBUFS`, `ENOMEM`), the connection it was
//! for stays in the kernel's backlog, so the listener stays readable. A server loop that logs the
//! error and calls `accept` again would get the same error at once, forever: the loop never
//! sleeps, its timers never fire, its other tasks never run, and the tasks that would close
//! connections (and free descriptors) never get the chance. So after such an error the *next*
//! `accept` first sleeps for [`ACCEPT_BACKOFF`], then tries again. The error itself still reaches
//! the caller, who may log it or shed load.
//!
//! # The stream of connections
//!
//! [`Listener::incoming`] turns a listener into a `futures_core::Stream` of accepted connections,
//! for code written against the ecosystem's stream combinators (`for_each_concurrent` to serve
//! each connection in turn, `take(n)`...). It ends never: an error is an item, as from `accept`.

#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use futures_core::Stream as FuturesStream;

use super::stream::{Stream, StreamSocket};
use crate::io::source::Source;
use crate::io::Direction;
use crate::time::{sleep, Sleep};

/// How long `accept` waits before retrying after the process ran out of descriptors (or memory).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// A listener's memory of its last failure for lack of resources.
#[derive(Debug, Default)]
pub(super) struct AcceptBackoff {
    /// Set after `accept` failed for lack of resources: the next `accept` waits for it first.
    pause: RefCell<Option<Sleep>>,
}

impl AcceptBackoff {
    /// Polls `accept` on `listener` once it is readable, after the back-off if the last try ran
    /// out of resources; starts a new back-off if this one does. The accepted socket is
    /// registered with the runtime as a [`Stream`].
    pub(super) fn poll_accept<L, S, A>(
        &self,
        listener: &Source<L>,
        cx: &mut Context<'_>,
        accept: impl FnMut(&L) -> io::Result<(S::Io, A)>,
    ) -> Poll<io::Result<(Stream<S>, A)>>
    where
        L: mio::event::Source,
        S: StreamSocket,
    {
        {
            // Polling a timer runs no user code, so the borrow cannot be re-entered.
            let mut pause = self.pause.borrow_mut();
            if let Some(sleep) = pause.as_mut() {
                ready!(Pin::new(sleep).poll(cx));
                *pause = None;
                listener.retry(Direction::Read);
            }
        }
        let accepted = ready!(listener.poll_io(Direction::Read, cx, accept));
        Poll::Ready(match accepted {
            Ok((socket, address)) => Stream::from_mio(socket).map(|stream| (stream, address)),
            Err(error) => {
                if is_resource_exhaustion(&error) {
                    *self.pause.borrow_mut() = Some(sleep(ACCEPT_BACKOFF));
                }
                Err(error)
            }
        })
    }
}

/// Out of descriptors (process or system) or kernel memory: conditions that pass with time.
fn is_resource_exhaustion(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::super::TcpListener {}
    impl Sealed for super::super::UnixListener {}
}

/// What every listener does: [`TcpListener`](super::TcpListener) and
/// [`UnixListener`](super::UnixListener). Sealed.
pub trait Listener: sealed::Sealed + Sized {
    /// The connection: `TcpStream` or `UnixStream`.
    type Connection;
    /// The peer's address.
    type Addr;

    /// Polls for the next connection, as `accept().await` waits for it (for hand-written
    /// futures). Out of descriptors, the next poll backs off first (see `accept`).
    fn poll_accept(&self, cx: &mut Context<'_>)
        -> Poll<io::Result<(Self::Connection, Self::Addr)>>;

    /// The accepted connections as a `futures_core::Stream`: each item is what `accept` would
    /// have returned, without the peer's address. It never ends.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_util::StreamExt;
    /// use evloop::net::{Listener, TcpListener, TcpStream};
    ///
    /// evloop::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let address = listener.local_addr()?;
    ///     let clients = evloop::spawn(async move {
    ///         for _ in 0..3 {
    ///             TcpStream::connect(address).await?.write_all(b"hi").await?;
    ///         }
    ///         Ok::<(), std::io::Error>(())
    ///     });
    ///     let mut served = 0;
    ///     let mut incoming = listener.incoming().take(3);
    ///     while let Some(stream) = incoming.next().await {
    ///         let mut greeting = [0; 2];
    ///         stream?.read_exact(&mut greeting).await?;
    ///         served += 1;
    ///     }
    ///     assert_eq!(served, 3);
    ///     clients.await.unwrap()
    /// })
    /// .unwrap();
    /// ```
    fn incoming(&self) -> Incoming<'_, Self> {
        Incoming { listener: self }
    }
}

/// The stream of a listener's connections (see [`Listener::incoming`]).
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a, L> {
    listener: &'a L,
}

impl<L: Listener> FuturesStream for Incoming<'_, L> {
    type Item = io::Result<L::Connection>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.listener
            .poll_accept(cx)
            .map(|accepted| Some(accepted.map(|(connection, _)| connection)))
    }
}
