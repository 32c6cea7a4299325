//! One byte stream for every kind of stream socket: [`Stream<S>`](Stream), which is
//! [`TcpStream`](super::TcpStream) with a TCP socket and [`UnixStream`](super::UnixStream) with a
//! Unix one. Reading, writing, reading and writing fully, shutting down, splitting into two halves
//! that two tasks can own at once, and the `futures-io` traits are written once, here; `tcp.rs`
//! and `unix.rs` add only what differs: how to connect, and the options of each kind.
//!
//! What a kind of socket must say for that is the sealed [`StreamSocket`] trait, implemented for
//! std's `TcpStream` and `UnixStream`: the socket type names the kind, as in smol's
//! `Async<TcpStream>`.

#![forbid(unsafe_code)]

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use crate::io::source::Source;
use crate::io::Direction;

/// Waits for a non-blocking `connect` on `source` to finish, following mio's protocol: wait until
/// writable; a pending socket error is the outcome (refused, unreachable); otherwise `peer_addr`
/// answers — "not connected" means still in progress (the readiness was not the handshake's: a
/// new source starts out writable), so wait for the next writable event. `describe` adds the
/// address to errors.
pub(super) async fn finish_connect<S: mio::event::Source>(
    source: &Source<S>,
    take_error: impl Fn(&S) -> io::Result<Option<io::Error>>,
    peer_addr: impl Fn(&S) -> io::Result<()>,
    describe: impl Fn(io::Error) -> io::Error,
) -> io::Result<()> {
    loop {
        poll_fn(|cx| source.poll_ready(Direction::Write, cx)).await;
        if let Some(error) = take_error(source.get_ref()).map_err(&describe)? {
            return Err(describe(error));
        }
        match peer_addr(source.get_ref()) {
            Ok(()) => return Ok(()),
            Err(error) if is_in_progress(&error) => source.clear(Direction::Write),
            Err(error) => return Err(describe(error)),
        }
    }
}

/// What `peer_addr` says of a socket whose non-blocking connect has not finished yet.
fn is_in_progress(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::NotConnected || error.raw_os_error() == Some(libc::EINPROGRESS)
}

mod sealed {
    pub trait Sealed {}
}

/// A kind of stream socket that a [`Stream`] can carry: std's `TcpStream` (TCP) or
/// `UnixStream` (Unix). Sealed: the methods are the stream's plumbing.
pub trait StreamSocket: sealed::Sealed + Sized {
    /// The address of either end: `std::net::SocketAddr` or `std::os::unix::net::SocketAddr`.
    type Addr: fmt::Debug;
    #[doc(hidden)]
    type Io: mio::event::Source;
    #[doc(hidden)]
    const NAME: &'static str;
    /// Whether a read that returns fewer bytes than asked has emptied the receive queue, so the
    /// next read would certainly say `WouldBlock` (`reactor.rs`). True of TCP. Not of Unix
    /// sockets: a read stops early at a message that carries descriptors or other credentials,
    /// with more data queued behind it, and no new edge would report that data.
    #[doc(hidden)]
    const SHORT_READ_DRAINS: bool;
    #[doc(hidden)]
    fn read(io: &Self::Io, buffer: &mut [u8]) -> io::Result<usize>;
    #[doc(hidden)]
    fn write(io: &Self::Io, data: &[u8]) -> io::Result<usize>;
    #[doc(hidden)]
    fn shutdown(io: &Self::Io, how: Shutdown) -> io::Result<()>;
    #[doc(hidden)]
    fn local_addr(io: &Self::Io) -> io::Result<Self::Addr>;
    #[doc(hidden)]
    fn peer_addr(io: &Self::Io) -> io::Result<Self::Addr>;
    #[doc(hidden)]
    fn from_io(io: Self::Io) -> Self;
}

/// Implements [`StreamSocket`] for a std socket type whose mio twin has the same methods
/// (`Read` and `Write` for a shared reference, `shutdown`, `local_addr`, `peer_addr`). TCP's and
/// Unix's both do, so a macro says it once instead of two impls saying it twice.
macro_rules! stream_socket {
    ($socket:ty, io: $io:ty, address: $address:ty, name: $name:literal,
     short_read_drains: $drains:literal) => {
        impl sealed::Sealed for $socket {}

        impl StreamSocket for $socket {
            type Addr = $address;
            type Io = $io;
            const NAME: &'static str = $name;
            const SHORT_READ_DRAINS: bool = $drains;
            fn read(io: &$io, buffer: &mut [u8]) -> io::Result<usize> {
                io::Read::read(&mut &*io, buffer)
            }
            fn write(io: &$io, data: &[u8]) -> io::Result<usize> {
                io::Write::write(&mut &*io, data)
            }
            fn shutdown(io: &$io, how: Shutdown) -> io::Result<()> {
                io.shutdown(how)
            }
            fn local_addr(io: &$io) -> io::Result<$address> {
                io.local_addr()
            }
            fn peer_addr(io: &$io) -> io::Result<$address> {
                io.peer_addr()
            }
            fn from_io(io: $io) -> $socket {
                io.into()
            }
        }
    };
}

stream_socket!(
    std::net::TcpStream,
    io: mio::net::TcpStream,
    address: std::net::SocketAddr,
    name: "TcpStream",
    short_read_drains: true
);
stream_socket!(
    std::os::unix::net::UnixStream,
    io: mio::net::UnixStream,
    address: std::os::unix::net::SocketAddr,
    name: "UnixStream",
    short_read_drains: false
);

/// A connected byte stream: [`TcpStream`](super::TcpStream) or
/// [`UnixStream`](super::UnixStream), whose pages list what each kind adds (connecting, options).
///
/// Reads and writes take `&self`, so one task can read while another writes through a shared
/// reference; to move the two directions into two tasks, use [`into_split`](Stream::into_split).
/// It implements `futures-io`'s `AsyncRead` and `AsyncWrite`.
///
/// # Examples
///
/// ```
/// use evloop::net::UnixStream;
///
/// evloop::run(async {
///     let (left, right) = UnixStream::pair()?;
///     left.write_all(b"hello").await?;
///     let mut greeting = [0; 5];
///     right.read_exact(&mut greeting).await?;
///     assert_eq!(&greeting, b"hello");
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct Stream<S: StreamSocket> {
    pub(super) source: Source<S::Io>,
}

impl<S: StreamSocket> Stream<S> {
    /// Registers a connected (or connecting) mio socket with the current runtime.
    #[track_caller]
    pub(super) fn from_mio(io: S::Io) -> io::Result<Stream<S>> {
        Ok(Stream {
            source: Source::new(io)?,
        })
    }

    fn poll_read(&self, cx: &mut Context<'_>, buffer: &mut [u8]) -> Poll<io::Result<usize>> {
        let wanted = buffer.len();
        let result = ready!(self
            .source
            .poll_io(Direction::Read, cx, |io| S::read(io, buffer)));
        if let Ok(read) = result {
            if S::SHORT_READ_DRAINS && read > 0 && read < wanted {
                // The receive queue is empty: the next read waits for an edge instead of making
                // a system call that can only say `WouldBlock` (`reactor.rs`).
                self.source.drained(Direction::Read);
            }
        }
        Poll::Ready(result)
    }

    fn poll_write(&self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        self.source
            .poll_io(Direction::Write, cx, |io| S::write(io, data))
    }

    /// Reads some bytes into `buffer` and returns how many; `Ok(0)` means the peer closed its
    /// writing side (or `buffer` is empty).
    pub async fn read(&self, buffer: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read(cx, buffer)).await
    }

    /// Reads exactly `buffer.len()` bytes.
    ///
    /// # Errors
    ///
    /// `UnexpectedEof` if the peer closes first.
    pub async fn read_exact(&self, mut buffer: &mut [u8]) -> io::Result<()> {
        while !buffer.is_empty() {
            let n = self.read(buffer).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the peer closed the stream before the buffer was filled",
                ));
            }
            buffer = &mut buffer[n..];
        }
        Ok(())
    }

    /// Writes some bytes from `data` and returns how many.
    pub async fn write(&self, data: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write(cx, data)).await
    }

    /// Writes all of `data`.
    ///
    /// # Errors
    ///
    /// The OS's error, or `WriteZero` if the stream accepts no more bytes.
    pub async fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let n = self.write(data).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "the stream accepted no more bytes",
                ));
            }
            data = &data[n..];
        }
        Ok(())
    }

    /// Shuts down reading, writing or both. After `Shutdown::Write` the peer reads end-of-stream
    /// and a write here fails with `BrokenPipe`; after `Shutdown::Read` reads return `Ok(0)`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        S::shutdown(self.source.get_ref(), how)
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<S::Addr> {
        S::local_addr(self.source.get_ref())
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<S::Addr> {
        S::peer_addr(self.source.get_ref())
    }

    /// Splits the stream into a reading and a writing half that two tasks can own at once. The
    /// socket closes when both are dropped.
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
    pub fn into_split(self) -> (ReadHalf<S>, WriteHalf<S>) {
        let stream = Rc::new(self);
        (
            ReadHalf {
                stream: stream.clone(),
            },
            WriteHalf { stream },
        )
    }

    /// Deregisters the stream from this loop and gives back the std socket, still in
    /// non-blocking mode: to move a connection to another loop, which wraps it again with
    /// `from_std` (a single acceptor handing connections to a [`LoopSet`](crate::LoopSet)'s
    /// loops in turn). Data already received stays in the socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{TcpListener, TcpStream};
    ///
    /// evloop::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (accepted, _) = listener.accept().await?;
    ///     let std_stream = accepted.into_std(); // `Send`: it may cross to another thread
    ///     let served = std::thread::spawn(move || {
    ///         evloop::run(async move {
    ///             let stream = TcpStream::from_std(std_stream)?; // registered on this loop
    ///             stream.write_all(b"moved").await
    ///         })
    ///     });
    ///     let mut reply = [0; 5];
    ///     client.read_exact(&mut reply).await?;
    ///     assert_eq!(&reply, b"moved");
    ///     served.join().unwrap()
    /// })
    /// .unwrap();
    /// ```
    pub fn into_std(self) -> S {
        S::from_io(self.source.into_inner())
    }
}

impl<S: StreamSocket> AsyncRead for Stream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buffer: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Stream::poll_read(&self, cx, buffer)
    }
}

impl<S: StreamSocket> AsyncWrite for Stream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Stream::poll_write(&self, cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(())) // sockets have no user-space buffer here
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
    }
}

impl<S: StreamSocket> fmt::Debug for Stream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(S::NAME)
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

/// The reading half of a split [`Stream`]. It and its [`WriteHalf`] can live in different tasks;
/// the socket closes when both are dropped.
#[derive(Debug)]
pub struct ReadHalf<S: StreamSocket> {
    stream: Rc<Stream<S>>,
}

/// The writing half of a split [`Stream`].
#[derive(Debug)]
pub struct WriteHalf<S: StreamSocket> {
    stream: Rc<Stream<S>>,
}

impl<S: StreamSocket> ReadHalf<S> {
    /// Reads some bytes; `Ok(0)` means the peer closed its side.
    pub async fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        self.stream.read(buffer).await
    }

    /// Reads exactly `buffer.len()` bytes.
    pub async fn read_exact(&mut self, buffer: &mut [u8]) -> io::Result<()> {
        self.stream.read_exact(buffer).await
    }
}

impl<S: StreamSocket> WriteHalf<S> {
    /// Writes some bytes and returns how many.
    pub async fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.stream.write(data).await
    }

    /// Writes all of `data`.
    pub async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.stream.write_all(data).await
    }

    /// Shuts the writing side down: the peer reads end-of-stream; reading still works.
    pub fn shutdown(&self) -> io::Result<()> {
        self.stream.shutdown(Shutdown::Write)
    }
}

impl<S: StreamSocket> AsyncRead for ReadHalf<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buffer: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_read(cx, buffer)
    }
}

impl<S: StreamSocket> AsyncWrite for WriteHalf<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.stream.shutdown(Shutdown::Write))
    }
}
