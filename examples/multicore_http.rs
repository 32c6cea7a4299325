//! `http_hello` on one loop per core: N loops, each with its own listener on the same port
//! (`SO_REUSEPORT`), so the kernel spreads the connections over them. No task ever moves between
//! loops, and nothing is `Send` that does not need to be.
//!
//! ```sh
//! cargo run --release --example multicore_http -- --loops 2     # 127.0.0.1:8080, 2 loops
//! wrk -c 64 -d 10s http://127.0.0.1:8080/                        # if wrk is installed
//! ```
//!
//! Ctrl-C (or `SIGTERM`) stops every loop: each stops accepting and closes its connections, and
//! the program prints how many connections each loop accepted. The counts show the
//! cost of shared-nothing: the kernel balances connections, not work, so a loop whose
//! connections are busier cannot hand any of them to an idle one.

use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::{Arc, OnceLock};
use std::task::Poll;
use std::time::Duration;

use evloop::net::TcpListener;
use evloop::sync::Event;
use evloop::{LoopContext, LoopSet};

#[path = "http_service.rs"]
mod http_service;

/// Where the loops listen: loop 0 binds first (so port 0 picks one port for all), then the others
/// bind the address it got.
#[derive(Default)]
struct SharedPort {
    address: OnceLock<SocketAddr>,
    bound: Event,
}

/// One loop: bind the shared port, accept until asked to stop, return how many connections this
/// loop accepted.
async fn serve_loop(context: LoopContext, requested: String, port: Arc<SharedPort>) -> usize {
    let listener = if context.index() == 0 {
        let listener = TcpListener::bind_reuse_port(&requested).expect("binding the port");
        let address = listener.local_addr().expect("a bound address");
        port.address.set(address).expect("loop 0 binds once");
        port.bound.set();
        println!(
            "multicore_http on http://{address}/ with {} loops",
            context.count()
        );
        listener
    } else {
        port.bound.wait().await;
        TcpListener::bind_reuse_port(port.address.get().expect("set before `bound`"))
            .expect("binding the shared port")
    };
    let mut accepted = 0;
    loop {
        let next = {
            let mut accept = pin!(listener.accept());
            let mut stopped = pin!(context.stopped());
            // Whichever comes first: the request to stop, or a connection.
            poll_fn(|cx| {
                if stopped.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(None);
                }
                accept.as_mut().poll(cx).map(Some)
            })
            .await
        };
        match next {
            None => return accepted, // stop accepting; the loop closes its connections
            Some(Ok((stream, _))) => {
                accepted += 1;
                let _ = stream.set_nodelay(true);
                evloop::spawn(async move {
                    if let Err(error) = http_service::serve(stream).await {
                        eprintln!("connection error: {error}");
                    }
                });
            }
            Some(Err(error)) => eprintln!("accept failed: {error}"), // accept backs off itself
        }
    }
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut loops = None;
    let mut address = "127.0.0.1:8080".to_string();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--loops" => loops = args.next().and_then(|n| n.parse().ok()),
            other => address = other.to_string(),
        }
    }
    let mut set = LoopSet::new()
        .stop_on_signals(true)
        .drain_deadline(Duration::from_secs(5));
    if let Some(loops) = loops {
        set = set.loops(loops);
    }
    let port = Arc::new(SharedPort::default());
    let served = set.run(move |context| serve_loop(context, address.clone(), port.clone()))?;
    for (index, count) in served.iter().enumerate() {
        println!("loop {index}: {} connections", count.unwrap_or(0));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use evloop::net::TcpStream;

    #[test]
    fn two_loops_share_the_port_and_both_serve() {
        let set = LoopSet::new().loops(2);
        let stop = set.stop_handle();
        let port = Arc::new(SharedPort::default());
        let client = std::thread::spawn({
            let port = port.clone();
            move || {
                evloop::run(async move {
                    port.bound.wait().await;
                    let address = *port.address.get().unwrap();
                    for _ in 0..64 {
                        let stream = TcpStream::connect(address).await.unwrap();
                        stream
                            .write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
                            .await
                            .unwrap();
                        let mut response = [0; 1024];
                        let n = stream.read(&mut response).await.unwrap();
                        assert!(response[..n].starts_with(b"HTTP/1.1 200 OK"));
                    }
                });
                stop.stop();
            }
        });
        let accepted = set
            .run(move |context| serve_loop(context, "127.0.0.1:0".into(), port.clone()))
            .unwrap();
        client.join().unwrap();
        let accepted: Vec<usize> = accepted.into_iter().map(Option::unwrap).collect();
        assert_eq!(accepted.iter().sum::<usize>(), 64);
        // The kernel hashes each connection to a loop: all 64 on one has a chance of 2^-63.
        assert!(accepted.iter().all(|&n| n > 0), "per loop: {accepted:?}");
    }
}
