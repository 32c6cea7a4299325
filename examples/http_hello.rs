//! A small HTTP/1.1 server with keep-alive, on evloop's sockets alone (no HTTP library): enough
//! for `curl` and a load generator.
//!
//! ```sh
//! cargo run --release --example http_hello               # listens on 127.0.0.1:8080
//! curl -v http://127.0.0.1:8080/
//! wrk -c 64 -d 10s http://127.0.0.1:8080/               # if wrk is installed
//! ```
//!
//! The connection handler is in `http_service.rs`, shared with `multicore_http`, which runs the
//! same server on one loop per core.

use evloop::net::TcpListener;

#[path = "http_service.rs"]
mod http_service;

fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    evloop::run(async move {
        let listener = TcpListener::bind(&address)?;
        println!("http_hello on http://{}/", listener.local_addr()?);
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    eprintln!("accept failed: {error}");
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            evloop::spawn(async move {
                if let Err(error) = http_service::serve(stream).await {
                    eprintln!("connection error: {error}");
                }
            });
        }
    })
}
