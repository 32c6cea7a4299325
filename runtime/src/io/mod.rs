//! I/O: the reactor that turns OS readiness into wake-ups, and `Async<T>` for any descriptor.
//!
//! - `reactor.rs`: registrations, readiness, the two wakers per source, the token-reuse rule.
//! - `source.rs`: a registered mio object and the retry-on-`WouldBlock` loop every operation uses.
//! - `async_fd.rs`: [`Async`], for pipes, terminals and foreign sockets.
//! - `sys.rs`: `fcntl(O_NONBLOCK)`, the only system call std lacks.
//!
//! The socket types built on these are in [`crate::net`]. The traits they implement are the
//! ecosystem's `futures-io` ones, re-exported here: [`AsyncRead`], [`AsyncWrite`].

mod async_fd;
mod driver;
mod reactor;
pub(crate) mod source;
pub(crate) mod sys;

pub use async_fd::Async;
pub(crate) use driver::{Driver, Unparker};
pub use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};
pub(crate) use reactor::{Direction, Reactor};
