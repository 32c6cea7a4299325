//! TCP: `TcpListener` and `TcpStream`, in the shape of std's and tokio's.

#![forbid(unsafe_code)]

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::task::{Context, Poll};

use socket2::{Domain, Socket, Type};

use super::accept::{AcceptBackoff, Listener};
use super::stream::{self, Stream};
use super::{resolve, with_address};
use crate::io::source::Source;
use crate::io::Direction;

/// The backlog `bind_reuse_port` asks for (the kernel caps it at `somaxconn`).
const LISTEN_BACKLOG: i32 = 1024;

/// A TCP socket server, listening for connections.
///
/// # Examples
///
/// ```
/// use evloop::net::{TcpListener, TcpStream};
///
/// evloop::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0")?;
///     let address = listener.local_addr()?;
///     let client = evloop::spawn(async move {
///         let stream = TcpStream::connect(address).await?;
///         stream.write_all(b"hello").await
///     });
///     let (stream, _peer) = listener.accept().await?;
///     let mut greeting = [0; 5];
///     stream.read_exact(&mut greeting).await?;
///     assert_eq!(&greeting, b"hello");
///     client.await.unwrap()
/// })
/// .unwrap();
/// ```
pub struct TcpListener {
    source: Source<mio::net::TcpListener>,
    backoff: AcceptBackoff,
}

impl TcpListener {
    /// Binds a listener to the first of `address`'s resolved addresses that works.
    ///
    /// # Errors
    ///
    /// If no address could be bound (in use, not local, permission denied); the error names the
    /// address.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn bind(address: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let listener = with_address(resolve(address)?, "binding", std::net::TcpListener::bind)?;
        TcpListener::from_std(listener)
    }

    /// Binds a listener with `SO_REUSEPORT` (and `SO_REUSEADDR`), so that several listeners —
    /// one per loop of a [`LoopSet`](crate::LoopSet) — can bind the same address, and the kernel
    /// spreads incoming connections over them. Every listener on the port must be bound this way.
    ///
    /// # Errors
    ///
    /// As for [`bind`](TcpListener::bind); on a platform without `SO_REUSEPORT`, the OS's error.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::TcpListener;
    ///
    /// evloop::run(async {
    ///     let first = TcpListener::bind_reuse_port("127.0.0.1:0")?;
    ///     let second = TcpListener::bind_reuse_port(first.local_addr()?)?; // the same port
    ///     assert_eq!(first.local_addr()?, second.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    #[track_caller]
    pub fn bind_reuse_port(address: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let listener = with_address(resolve(address)?, "binding", |address| {
            let socket = Socket::new(Domain::for_address(address), Type::STREAM, None)?;
            socket.set_reuse_address(true)?;
            socket.set_reuse_port(true)?;
            socket.bind(&address.into())?;
            socket.listen(LISTEN_BACKLOG)?;
            Ok(std::net::TcpListener::from(socket))
        })?;
        TcpListener::from_std(listener)
    }

    /// Wraps a listener made elsewhere (switching it to non-blocking mode).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            source: Source::new(mio::net::TcpListener::from_std(listener))?,
            backoff: AcceptBackoff::default(),
        })
    }

    /// Waits for a connection and returns it with the peer's address.
    ///
    /// # Errors
    ///
    /// The OS's error, notably when the process is out of file descriptors (`EMFILE`): the
    /// connection stays queued, and the *next* `accept` waits 50 ms before retrying, so that a
    /// server loop that logs errors and calls `accept` again does not spin the CPU, and serves
    /// again once descriptors free up (`net/accept.rs`).
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }
}

impl Listener for TcpListener {
    type Connection = TcpStream;
    type Addr = SocketAddr;

    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        self.backoff
            .poll_accept(&self.source, cx, |listener| listener.accept())
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

/// A TCP connection: a [`Stream`] over a TCP socket. Reading, writing, splitting and the
/// `futures-io` traits are [`Stream`]'s; connecting and TCP's options are below.
///
/// # Examples
///
/// ```
/// use evloop::net::{TcpListener, TcpStream};
///
/// evloop::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0")?;
///     let client = TcpStream::connect(listener.local_addr()?).await?;
///     client.set_nodelay(true)?;
///     let (server, peer) = listener.accept().await?;
///     assert_eq!(peer, client.local_addr()?);
///     server.write_all(b"hi").await?;
///     let mut reply = [0; 2];
///     client.read_exact(&mut reply).await?;
///     assert_eq!(&reply, b"hi");
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub type TcpStream = Stream<std::net::TcpStream>;

impl Stream<std::net::TcpStream> {
    /// Connects to the first of `address`'s resolved addresses that accepts.
    ///
    /// Host names are resolved with the system resolver, which blocks the loop: resolve them
    /// first with [`lookup_host`](super::lookup_host), which runs on the blocking pool.
    ///
    /// # Errors
    ///
    /// If every address refused or was unreachable. The connection's own error is checked once
    /// it completes (see `stream::finish_connect`), so a refused connection is an `Err` here,
    /// never a stream that fails later.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub async fn connect(address: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let mut last_error = None;
        for address in resolve(address)? {
            match TcpStream::connect_one(address).await {
                Ok(stream) => return Ok(stream),
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to")
        }))
    }

    async fn connect_one(address: SocketAddr) -> io::Result<TcpStream> {
        let describe = |error: io::Error| {
            io::Error::new(error.kind(), format!("connecting to {address}: {error}"))
        };
        let stream = TcpStream::from_mio(mio::net::TcpStream::connect(address).map_err(describe)?)?;
        stream::finish_connect(
            &stream.source,
            mio::net::TcpStream::take_error,
            |stream| stream.peer_addr().map(drop),
            describe,
        )
        .await?;
        Ok(stream)
    }

    /// Wraps a connected stream made elsewhere (switching it to non-blocking mode).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_mio(mio::net::TcpStream::from_std(stream))
    }

    /// Reads bytes without consuming them: the next read returns them again.
    pub async fn peek(&self, buffer: &mut [u8]) -> io::Result<usize> {
        self.source
            .io(Direction::Read, |stream| stream.peek(buffer))
            .await
    }

    /// Enables or disables Nagle's algorithm (`TCP_NODELAY`).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.source.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.source.get_ref().nodelay()
    }
}
