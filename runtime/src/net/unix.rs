//! Unix domain sockets: `UnixListener`, `UnixStream`, `UnixDatagram`, the same shape as TCP and
//! UDP with paths for addresses.

#![forbid(unsafe_code)]

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{Context, Poll};

use super::accept::{AcceptBackoff, Listener};
use super::stream::{self, Stream};
use crate::io::source::Source;
use crate::io::Direction;

/// A Unix socket server.
///
/// # Examples
///
/// ```
/// use evloop::net::{UnixListener, UnixStream};
///
/// evloop::run(async {
///     let path = std::env::temp_dir().join(format!("evloop-doc-{}.sock", std::process::id()));
///     let _ = std::fs::remove_file(&path);
///     let listener = UnixListener::bind(&path)?;
///     let client = UnixStream::connect(&path).await?;
///     let (server, _) = listener.accept().await?;
///     client.write_all(b"over a path").await?;
///     let mut buffer = [0; 11];
///     server.read_exact(&mut buffer).await?;
///     assert_eq!(&buffer, b"over a path");
///     std::fs::remove_file(&path)
/// })
/// .unwrap();
/// ```
pub struct UnixListener {
    source: Source<mio::net::UnixListener>,
    backoff: AcceptBackoff,
}

impl UnixListener {
    /// Binds a listener to `path` (which must not exist).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let path = path.as_ref();
        let listener = mio::net::UnixListener::bind(path).map_err(|error| {
            io::Error::new(error.kind(), format!("binding {}: {error}", path.display()))
        })?;
        Ok(UnixListener {
            source: Source::new(listener)?,
            backoff: AcceptBackoff::default(),
        })
    }

    /// Wraps a listener made elsewhere (switching it to non-blocking mode).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            source: Source::new(mio::net::UnixListener::from_std(listener))?,
            backoff: AcceptBackoff::default(),
        })
    }

    /// Waits for a connection.
    ///
    /// # Errors
    ///
    /// The OS's error; out of descriptors, the next `accept` backs off first, as
    /// [`TcpListener::accept`](super::TcpListener::accept) does.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// The path the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }
}

impl Listener for UnixListener {
    type Connection = UnixStream;
    type Addr = SocketAddr;

    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        self.backoff
            .poll_accept(&self.source, cx, |listener| listener.accept())
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

/// A Unix stream connection: a [`Stream`] over a Unix socket. Reading, writing, splitting and
/// the `futures-io` traits are [`Stream`]'s; connecting and pairs are below.
///
/// # Examples
///
/// ```
/// use evloop::net::UnixStream;
///
/// evloop::run(async {
///     let (left, right) = UnixStream::pair()?;
///     let (mut reader, mut writer) = right.into_split();
///     writer.write_all(b"ping").await?;
///     let mut echoed = [0; 4];
///     left.read_exact(&mut echoed).await?;
///     left.write_all(&echoed).await?;
///     reader.read_exact(&mut echoed).await?;
///     assert_eq!(&echoed, b"ping");
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub type UnixStream = Stream<std::os::unix::net::UnixStream>;

impl Stream<std::os::unix::net::UnixStream> {
    /// Connects to the socket at `path`.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        let context = |error: io::Error| {
            io::Error::new(
                error.kind(),
                format!("connecting to {}: {error}", path.display()),
            )
        };
        let stream = UnixStream::from_mio(mio::net::UnixStream::connect(path).map_err(context)?)?;
        stream::finish_connect(
            &stream.source,
            mio::net::UnixStream::take_error,
            |stream| stream.peer_addr().map(drop),
            context,
        )
        .await?;
        Ok(stream)
    }

    /// A connected pair of streams.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((UnixStream::from_mio(a)?, UnixStream::from_mio(b)?))
    }

    /// Wraps a stream made elsewhere (switching it to non-blocking mode).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_mio(mio::net::UnixStream::from_std(stream))
    }
}

/// A Unix datagram socket.
pub struct UnixDatagram {
    source: Source<mio::net::UnixDatagram>,
}

impl UnixDatagram {
    /// Binds a socket to `path`.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        UnixDatagram::from_mio(mio::net::UnixDatagram::bind(path)?)
    }

    /// A socket bound to no path (it can send, and receive replies once connected).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_mio(mio::net::UnixDatagram::unbound()?)
    }

    /// A connected pair of sockets.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = mio::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_mio(a)?, UnixDatagram::from_mio(b)?))
    }

    #[track_caller]
    fn from_mio(socket: mio::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            source: Source::new(socket)?,
        })
    }

    /// Sets the peer for `send` and `recv`.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.source.get_ref().connect(path)
    }

    /// Sends a datagram to the connected peer.
    pub async fn send(&self, data: &[u8]) -> io::Result<usize> {
        self.source
            .io(Direction::Write, |socket| socket.send(data))
            .await
    }

    /// Receives a datagram from the connected peer.
    pub async fn recv(&self, buffer: &mut [u8]) -> io::Result<usize> {
        self.source
            .io(Direction::Read, |socket| socket.recv(buffer))
            .await
    }

    /// Sends a datagram to the socket at `path`.
    pub async fn send_to(&self, data: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        self.source
            .io(Direction::Write, |socket| socket.send_to(data, path))
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
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram").finish_non_exhaustive()
    }
}
