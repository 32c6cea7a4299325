//! What every byte stream (TCP, Unix) does the same way: read, write, read and write fully, and
//! split into two halves that two tasks can own at once.

#![forbid(unsafe_code)]

use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use crate::io::source::Source;
use crate::io::Direction;

pub(crate) fn poll_read<S>(
    source: &Source<S>,
    cx: &mut Context<'_>,
    buffer: &mut [u8],
) -> Poll<io::Result<usize>>
where
    S: mio::event::Source,
    for<'a> &'a S: Read,
{
    source.poll_io(Direction::Read, cx, |io| (&*io).read(buffer))
}

pub(crate) fn poll_write<S>(
    source: &Source<S>,
    cx: &mut Context<'_>,
    data: &[u8],
) -> Poll<io::Result<usize>>
where
    S: mio::event::Source,
    for<'a> &'a S: Write,
{
    source.poll_io(Direction::Write, cx, |io| (&*io).write(data))
}

/// Waits for a non-blocking `connect` on `source` to finish, following mio's protocol: wait until
/// writable; a pending socket error is the outcome (refused, unreachable); otherwise `peer_addr`
/// answers — "not connected" means still in progress (the readiness was not the handshake's: a
/// new source starts out writable), so wait for the next writable event. `describe` adds the
/// address to errors.
pub(crate) async fn finish_connect<S: mio::event::Source>(
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

/// Reads until `buffer` is full; an early end of stream is an `UnexpectedEof` error.
pub(crate) async fn read_exact(
    mut poll_read: impl FnMut(&mut Context<'_>, &mut [u8]) -> Poll<io::Result<usize>>,
    mut buffer: &mut [u8],
) -> io::Result<()> {
    while !buffer.is_empty() {
        let n = poll_fn(|cx| poll_read(cx, buffer)).await?;
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

/// Writes all of `data`; a write of zero bytes is a `WriteZero` error.
pub(crate) async fn write_all(
    mut poll_write: impl FnMut(&mut Context<'_>, &[u8]) -> Poll<io::Result<usize>>,
    mut data: &[u8],
) -> io::Result<()> {
    while !data.is_empty() {
        let n = poll_fn(|cx| poll_write(cx, data)).await?;
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

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::super::TcpStream {}
    impl Sealed for super::super::UnixStream {}
}

/// A byte stream that [`into_split`](super::TcpStream::into_split) can divide into a
/// [`ReadHalf`] and a [`WriteHalf`]: [`TcpStream`](super::TcpStream) and
/// [`UnixStream`](super::UnixStream). Sealed: the methods are the halves' plumbing.
pub trait SplitStream: sealed::Sealed {
    #[doc(hidden)]
    fn poll_read_half(&self, cx: &mut Context<'_>, buffer: &mut [u8]) -> Poll<io::Result<usize>>;
    #[doc(hidden)]
    fn poll_write_half(&self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>>;
    #[doc(hidden)]
    fn shutdown_write(&self) -> io::Result<()>;
}

/// The reading half of a split stream. It and its [`WriteHalf`] can live in different tasks; the
/// socket closes when both are dropped.
#[derive(Debug)]
pub struct ReadHalf<S> {
    stream: Rc<S>,
}

/// The writing half of a split stream.
#[derive(Debug)]
pub struct WriteHalf<S> {
    stream: Rc<S>,
}

pub(crate) fn split<S>(stream: S) -> (ReadHalf<S>, WriteHalf<S>) {
    let stream = Rc::new(stream);
    (
        ReadHalf {
            stream: stream.clone(),
        },
        WriteHalf { stream },
    )
}

impl<S: SplitStream> ReadHalf<S> {
    /// Reads some bytes; `Ok(0)` means the peer closed its side.
    pub async fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.stream.poll_read_half(cx, buffer)).await
    }

    /// Reads exactly `buffer.len()` bytes.
    pub async fn read_exact(&mut self, buffer: &mut [u8]) -> io::Result<()> {
        read_exact(|cx, buffer| self.stream.poll_read_half(cx, buffer), buffer).await
    }
}

impl<S: SplitStream> WriteHalf<S> {
    /// Writes some bytes and returns how many.
    pub async fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.stream.poll_write_half(cx, data)).await
    }

    /// Writes all of `data`.
    pub async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        write_all(|cx, data| self.stream.poll_write_half(cx, data), data).await
    }

    /// Shuts the writing side down: the peer reads end-of-stream; reading still works.
    pub fn shutdown(&self) -> io::Result<()> {
        self.stream.shutdown_write()
    }
}

impl<S: SplitStream> AsyncRead for ReadHalf<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buffer: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_read_half(cx, buffer)
    }
}

impl<S: SplitStream> AsyncWrite for WriteHalf<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_half(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(())) // sockets have no user-space buffer here
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.stream.shutdown_write())
    }
}
