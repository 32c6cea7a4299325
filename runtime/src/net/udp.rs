//! UDP: `UdpSocket`, datagrams to and from any address, or to one connected peer.

#![forbid(unsafe_code)]

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

use super::{resolve, with_address};
use crate::io::source::Source;
use crate::io::Direction;

/// A UDP socket.
///
/// # Examples
///
/// ```
/// use evloop::net::UdpSocket;
///
/// evloop::run(async {
///     let a = UdpSocket::bind("127.0.0.1:0")?;
///     let b = UdpSocket::bind("127.0.0.1:0")?;
///     a.send_to(b"hi", b.local_addr()?).await?;
///     let mut buffer = [0; 16];
///     let (n, from) = b.recv_from(&mut buffer).await?;
///     assert_eq!((&buffer[..n], from), (&b"hi"[..], a.local_addr()?));
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct UdpSocket {
    source: Source<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds a socket to the first of `address`'s resolved addresses that works.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn bind(address: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        UdpSocket::from_std(with_address(
            resolve(address)?,
            "binding",
            std::net::UdpSocket::bind,
        )?)
    }

    /// Wraps a socket made elsewhere (switching it to non-blocking mode).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            source: Source::new(mio::net::UdpSocket::from_std(socket))?,
        })
    }

    /// Sets the peer for [`send`](UdpSocket::send) and [`recv`](UdpSocket::recv); datagrams from
    /// other addresses are then filtered out by the OS.
    pub fn connect(&self, address: impl ToSocketAddrs) -> io::Result<()> {
        with_address(resolve(address)?, "connecting to", |address| {
            self.source.get_ref().connect(address)
        })
    }

    /// Sends a datagram to the connected peer.
    pub async fn send(&self, data: &[u8]) -> io::Result<usize> {
        self.source
            .io(Direction::Write, |socket| socket.send(data))
            .await
    }

    /// Receives a datagram from the connected peer. A datagram longer than `buffer` is cut.
    pub async fn recv(&self, buffer: &mut [u8]) -> io::Result<usize> {
        self.source
            .io(Direction::Read, |socket| socket.recv(buffer))
            .await
    }

    /// Sends a datagram to `target`.
    pub async fn send_to(&self, data: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.source
            .io(Direction::Write, |socket| socket.send_to(data, target))
            .await
    }

    /// Receives a datagram and the address it came from.
    pub async fn recv_from(&self, buffer: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.source
            .io(Direction::Read, |socket| socket.recv_from(buffer))
            .await
    }

    /// This socket's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().peer_addr()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}
