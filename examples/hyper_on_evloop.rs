//! hyper on evloop, shared by the `hyper_server` and `hyper_client` examples: the adapters that
//! give hyper evloop's I/O and timers, the service the server runs, and the client's fetch.
//!
//! hyper is runtime-agnostic: it asks for I/O through its `rt::Read`/`rt::Write` traits and for
//! timers through `rt::Timer`. The adapters below implement them on evloop's `TcpStream` (via
//! the `futures-io` traits it implements) and `time::sleep`.

// Each example uses its half (the server `serve`, the client `fetch`).
#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_io::{AsyncRead, AsyncWrite};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

/// Makes any `futures-io` stream usable by hyper.
pub struct HyperIo<T> {
    io: T,
    /// Where reads land before hyper's buffer (which may be uninitialised, and writing there
    /// directly would take `unsafe`); zeroed once per connection, not once per read.
    scratch: Box<[u8; 8 * 1024]>,
}

impl<T> HyperIo<T> {
    pub fn new(io: T) -> HyperIo<T> {
        HyperIo {
            io,
            scratch: Box::new([0; 8 * 1024]),
        }
    }
}

impl<T: AsyncRead + Unpin> hyper::rt::Read for HyperIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buffer: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        let room = buffer.remaining().min(this.scratch.len());
        match Pin::new(&mut this.io).poll_read(cx, &mut this.scratch[..room]) {
            Poll::Ready(Ok(n)) => {
                buffer.put_slice(&this.scratch[..n]);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for HyperIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, data)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_close(cx)
    }
}

/// hyper's timers on evloop's timer heap (used for the header read timeout).
#[derive(Clone, Copy)]
pub struct EvloopTimer;

struct HyperSleep(evloop::time::Sleep);

impl Future for HyperSleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl hyper::rt::Sleep for HyperSleep {}

impl hyper::rt::Timer for EvloopTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HyperSleep(evloop::time::sleep(duration)))
    }
    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HyperSleep(evloop::time::sleep_until(deadline.into())))
    }
}

pub async fn hello(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = format!(
        "hello from hyper on evloop: {} {}\n",
        request.method(),
        request.uri()
    );
    Ok(Response::new(Full::new(Bytes::from(body))))
}

/// Accepts connections forever, serving each with hyper on its own task.
pub async fn serve(listener: evloop::net::TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true); // answers go out at once, not after Nagle's delay
        evloop::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(EvloopTimer)
                .serve_connection(HyperIo::new(stream), hyper::service::service_fn(hello));
            if let Err(error) = connection.await {
                eprintln!("connection error: {error}");
            }
        });
    }
}

/// Fetches `paths` from the HTTP/1 server at `address` with hyper's client, over one keep-alive
/// connection, and returns each response's status and body.
pub async fn fetch(
    address: std::net::SocketAddr,
    paths: &[&str],
) -> Result<Vec<(u16, String)>, Box<dyn std::error::Error>> {
    use http_body_util::{BodyExt, Empty};

    let stream = evloop::net::TcpStream::connect(address).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(HyperIo::new(stream)).await?;
    // The connection is driven by its own task while requests go out through `sender`.
    let driver = evloop::spawn(connection);
    let mut responses = Vec::new();
    for path in paths {
        let request = Request::get(*path)
            .header("host", address.to_string())
            .body(Empty::new())?;
        let response = sender.send_request(request).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        responses.push((status, String::from_utf8_lossy(&body).into_owned()));
    }
    drop(sender); // the connection ends once no request can come
    driver.await??;
    Ok(responses)
}
