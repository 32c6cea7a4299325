//! `Async<T>`: readiness-driven async I/O for any non-blocking file descriptor — a pipe, a
//! terminal, a socket made by another library.
//!
//! The name is smol's, and so is the shape: `Async` puts the descriptor in non-blocking mode,
//! registers it with the loop, and offers `readable()`/`writable()` waits plus
//! `read_with`/`write_with`, which retry a non-blocking operation until it stops returning
//! `WouldBlock`. When `&T` implements `Read`/`Write`, `Async<T>` implements the `futures-io`
//! traits, so the ecosystem's combinators work on it.

#![forbid(unsafe_code)]

use std::fmt;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use mio::unix::SourceFd;

use super::reactor::Direction;
use super::source::Source;

/// The descriptor number, registered with mio through `SourceFd`.
#[derive(Debug)]
struct RawSource(RawFd);

impl mio::event::Source for RawSource {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        SourceFd(&self.0).register(registry, token, interests)
    }
    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        SourceFd(&self.0).reregister(registry, token, interests)
    }
    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        SourceFd(&self.0).deregister(registry)
    }
}

/// An I/O object driven by the loop's readiness events.
///
/// # Examples
///
/// ```
/// use evloop::io::Async;
/// use std::os::unix::net::UnixStream;
///
/// evloop::run(async {
///     let (a, b) = UnixStream::pair()?;
///     let a = Async::new(a)?;
///     let b = Async::new(b)?;
///     a.write_with(|stream| (&*stream).write(b"ping")).await?;
///     let mut buffer = [0; 4];
///     let n = b.read_with(|stream| (&*stream).read(&mut buffer)).await?;
///     assert_eq!(&buffer[..n], b"ping");
///     # use std::io::{Read, Write};
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct Async<T: AsFd> {
    source: Source<RawSource>,
    inner: T,
}

impl<T: AsFd> Async<T> {
    /// Puts `inner`'s descriptor in non-blocking mode and registers it with the current runtime.
    ///
    /// # Errors
    ///
    /// If the descriptor cannot be made non-blocking or registered (an fd kind epoll refuses,
    /// such as a regular file).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn new(inner: T) -> io::Result<Async<T>> {
        super::sys::set_nonblocking(inner.as_fd())?;
        let source = Source::new(RawSource(inner.as_fd().as_raw_fd()))?;
        Ok(Async { source, inner })
    }

    /// The wrapped object.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped object, mutably. Do not change its blocking mode.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Deregisters the descriptor and returns the object (still in non-blocking mode).
    pub fn into_inner(self) -> T {
        drop(self.source);
        self.inner
    }

    /// Waits until the descriptor is reported readable. Spurious readiness is possible: the next
    /// read may still return `WouldBlock` (use [`read_with`](Async::read_with) to retry).
    pub async fn readable(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.source.poll_ready(Direction::Read, cx)).await;
        Ok(())
    }

    /// Waits until the descriptor is reported writable.
    pub async fn writable(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.source.poll_ready(Direction::Write, cx)).await;
        Ok(())
    }

    /// Runs the non-blocking read operation `op` until it returns something other than
    /// `WouldBlock`, waiting for readability in between.
    pub async fn read_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.source.io(Direction::Read, |_| op(&self.inner)).await
    }

    /// Runs the non-blocking write operation `op` until it returns something other than
    /// `WouldBlock`, waiting for writability in between.
    pub async fn write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.source.io(Direction::Write, |_| op(&self.inner)).await
    }
}

// `Async` never pins `T` in place: readiness lives in the reactor, not in the object.
impl<T: AsFd> Unpin for Async<T> {}

impl<T: AsFd> AsFd for Async<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl<T: AsFd + fmt::Debug> fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Async").field(&self.inner).finish()
    }
}

impl<T: AsFd> AsyncRead for Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buffer: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.source
            .poll_io(Direction::Read, cx, |_| (&this.inner).read(buffer))
    }
}

impl<T: AsFd> AsyncWrite for Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.source
            .poll_io(Direction::Write, cx, |_| (&this.inner).write(data))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.source
            .poll_io(Direction::Write, cx, |_| (&this.inner).flush())
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}
