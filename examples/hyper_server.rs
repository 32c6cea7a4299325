//! hyper's HTTP/1 server running on evloop: a real third-party protocol stack on this runtime.
//!
//! ```sh
//! cargo run --release --example hyper_server             # listens on 127.0.0.1:3000
//! curl http://127.0.0.1:3000/anything
//! ```
//!
//! hyper is runtime-agnostic: it asks for I/O through its `rt::Read`/`rt::Write` traits and for
//! timers through `rt::Timer`. The adapters below implement them on evloop's `TcpStream` (via
//! the `futures-io` traits it implements) and `time::sleep`. The test at the bottom serves with
//! this code and fetches with hyper's own client over loopback (`cargo test` runs it).

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
struct HyperIo<T>(T);

impl<T: AsyncRead + Unpin> hyper::rt::Read for HyperIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buffer: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        // Read into a stack buffer and copy: no `unsafe` for hyper's uninitialised buffer.
        let mut chunk = [0; 8 * 1024];
        let room = buffer.remaining().min(chunk.len());
        match Pin::new(&mut self.0).poll_read(cx, &mut chunk[..room]) {
            Poll::Ready(Ok(n)) => {
                buffer.put_slice(&chunk[..n]);
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
        Pin::new(&mut self.0).poll_write(cx, data)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}

/// hyper's timers on evloop's timer heap (used for the header read timeout).
#[derive(Clone, Copy)]
struct EvloopTimer;

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

async fn hello(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = format!(
        "hello from hyper on evloop: {} {}\n",
        request.method(),
        request.uri()
    );
    Ok(Response::new(Full::new(Bytes::from(body))))
}

/// Accepts connections forever, serving each with hyper on its own task.
async fn serve(listener: evloop::net::TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        evloop::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(EvloopTimer)
                .serve_connection(HyperIo(stream), hyper::service::service_fn(hello));
            if let Err(error) = connection.await {
                eprintln!("connection error: {error}");
            }
        });
    }
}

fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".into());
    evloop::run(async move {
        let listener = evloop::net::TcpListener::bind(&address)?;
        println!("hyper on evloop at http://{}/", listener.local_addr()?);
        serve(listener).await;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Empty};

    #[test]
    fn hyper_serves_a_real_hyper_client_over_loopback() {
        evloop::run(async {
            let listener = evloop::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let address = listener.local_addr().unwrap();
            let server = evloop::spawn(serve(listener));

            // hyper's own HTTP/1 client, on evloop too, over one keep-alive connection.
            let stream = evloop::net::TcpStream::connect(address).await.unwrap();
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(HyperIo(stream))
                    .await
                    .unwrap();
            let driver = evloop::spawn(connection);
            for path in ["/", "/second", "/third?x=1"] {
                let request = Request::get(path)
                    .header("host", address.to_string())
                    .body(Empty::new())
                    .unwrap();
                let response = sender.send_request(request).await.unwrap();
                assert_eq!(response.status(), 200);
                let body = response.into_body().collect().await.unwrap().to_bytes();
                assert_eq!(body, format!("hello from hyper on evloop: GET {path}\n"));
            }
            drop(sender);
            driver.await.unwrap().unwrap();
            server.abort();
        });
    }
}
