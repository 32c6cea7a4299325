//! TCP: `TcpListener` and `TcpStream`, in the shape of std's and tokio's.

#![forbid(unsafe_code)]

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::accept::AcceptBackoff;
use super::stream::{self, ReadHalf, SplitStream, WriteHalf};
use super::{resolve, with_address};
use crate::io::source::Source;
use crate::io::Direction;

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
        let (stream, peer) = self
            .backoff
            .accept(&self.source, |listener| listener.accept())
            .await?;
        Ok((TcpStream::from_mio(stream)?, peer))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

/// A TCP connection.
///
/// Reads and writes take `&self`, so one task can read while another writes through a shared
/// reference; to move the two directions into two tasks, use
/// [`into_split`](TcpStream::into_split). It implements `futures-io`'s `AsyncRead` and
/// `AsyncWrite`.
pub struct TcpStream {
    source: Source<mio::net::TcpStream>,
}

impl TcpStream {
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

    #[track_caller]
    fn from_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            source: Source::new(stream)?,
        })
    }

    /// Reads some bytes into `buffer` and returns how many; `Ok(0)` means the peer closed its
    /// writing side (or `buffer` is empty).
    pub async fn read(&self, buffer: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| stream::poll_read(&self.source, cx, buffer)).await
    }

    /// Reads exactly `buffer.len()` bytes.
    ///
    /// # Errors
    ///
    /// `UnexpectedEof` if the peer closes first.
    pub async fn read_exact(&self, buffer: &mut [u8]) -> io::Result<()> {
        stream::read_exact(
            |cx, buffer| stream::poll_read(&self.source, cx, buffer),
            buffer,
        )
        .await
    }

    /// Reads bytes without consuming them: the next read returns them again.
    pub async fn peek(&self, buffer: &mut [u8]) -> io::Result<usize> {
        self.source
            .io(Direction::Read, |stream| stream.peek(buffer))
            .await
    }

    /// Writes some bytes from `data` and returns how many.
    pub async fn write(&self, data: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| stream::poll_write(&self.source, cx, data)).await
    }

    /// Writes all of `data`.
    pub async fn write_all(&self, data: &[u8]) -> io::Result<()> {
        stream::write_all(|cx, data| stream::poll_write(&self.source, cx, data), data).await
    }

    /// Shuts down reading, writing or both. After `Shutdown::Write` the peer reads end-of-stream
    /// and a write here fails with `BrokenPipe`; after `Shutdown::Read` reads return `Ok(0)`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.source.get_ref().shutdown(how)
    }

    /// Enables or disables Nagle's algorithm (`TCP_NODELAY`).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.source.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.source.get_ref().nodelay()
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().peer_addr()
    }

    /// Splits the stream into a reading and a writing half that two tasks can own at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{TcpListener, TcpStream};
    ///
    /// evloop::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     let (mut reader, mut writer) = server.into_split();
    ///     // An echo: one task reads, another writes.
    ///     let echo = evloop::spawn(async move {
    ///         let mut buffer = [0; 4];
    ///         reader.read_exact(&mut buffer).await?;
    ///         writer.write_all(&buffer).await
    ///     });
    ///     client.write_all(b"ping").await?;
    ///     let mut reply = [0; 4];
    ///     client.read_exact(&mut reply).await?;
    ///     assert_eq!(&reply, b"ping");
    ///     echo.await.unwrap()
    /// })
    /// .unwrap();
    /// ```
    pub fn into_split(self) -> (ReadHalf<TcpStream>, WriteHalf<TcpStream>) {
        stream::split(self)
    }
}

impl SplitStream for TcpStream {
    fn poll_read_half(&self, cx: &mut Context<'_>, buffer: &mut [u8]) -> Poll<io::Result<usize>> {
        stream::poll_read(&self.source, cx, buffer)
    }
    fn poll_write_half(&self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        stream::poll_write(&self.source, cx, data)
    }
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buffer: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        stream::poll_read(&self.source, cx, buffer)
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        stream::poll_write(&self.source, cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}
