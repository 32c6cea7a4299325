//! Networking: TCP, UDP and Unix sockets on the loop's reactor.
//!
//! The types have std's shape (`bind`, `accept`, `connect`, `read`, `write`, ...) with `async` where
//! std would block. Each wraps a mio socket in a [`Source`](crate::io) registered with the
//! current runtime; every operation is "try the system call, and on `WouldBlock` wait for the
//! reactor to report readiness" (`io/source.rs`).
//!
//! Sockets are `!Send`: they belong to the runtime that registered them, as an asyncio transport
//! belongs to its loop. Spawn the tasks that use them with [`spawn`](crate::spawn).
//!
//! Host names: `bind` and `connect` accept anything `std::net::ToSocketAddrs` does and resolve it
//! with the system resolver, which blocks for host names. [`lookup_host`] resolves on the blocking
//! pool instead.

mod accept;
mod stream;
mod tcp;
mod udp;
mod unix;

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

pub use accept::{Incoming, Listener};
pub use stream::{ReadHalf, Stream, StreamSocket, WriteHalf};
pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};

/// Resolves `host` (a `"name:port"` string) on the runtime's blocking pool, so that a slow DNS
/// answer does not stall the loop.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let addresses = evloop::net::lookup_host("localhost:80").await?;
///     assert!(addresses.iter().all(|address| address.port() == 80));
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub async fn lookup_host(host: impl Into<String>) -> io::Result<Vec<SocketAddr>> {
    let host = host.into();
    crate::run_in_executor(move || host.to_socket_addrs().map(Vec::from_iter))
        .await
        .map_err(io::Error::other)?
}

fn resolve(address: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    Ok(address.to_socket_addrs()?.collect())
}

/// Tries `operation` on each address in turn; returns the first success, or the last error with
/// the address it was for (`"binding 127.0.0.1:80: permission denied"`).
fn with_address<T>(
    addresses: Vec<SocketAddr>,
    doing: &str,
    mut operation: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last_error = io::Error::new(io::ErrorKind::InvalidInput, "no address given");
    for address in addresses {
        match operation(address) {
            Ok(value) => return Ok(value),
            Err(error) => {
                last_error = io::Error::new(error.kind(), format!("{doing} {address}: {error}"));
            }
        }
    }
    Err(last_error)
}
