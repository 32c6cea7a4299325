//! A server that stops gracefully: on Ctrl-C or `SIGTERM` it stops accepting, lets the requests
//! in flight finish within a deadline, and exits 0.
//!
//! ```sh
//! cargo run --release --example graceful_server            # listens on 127.0.0.1:8080
//! curl 'http://127.0.0.1:8080/slow?ms=3000' &              # a request that takes 3 s
//! kill -TERM <pid>   # or Ctrl-C: the slow request still gets its answer, then the server exits
//! ```
//!
//! The shape, as asyncio servers do it: listen for the signals *first* (so an early one is not
//! lost), accept in a task of its own, and on a signal cancel that task (dropping the listener,
//! so new connections are refused), then wait for the connections already accepted, with a
//! deadline after which the rest are cancelled. The test at the bottom runs this server in a
//! child process, sends it `SIGTERM` during a request, and checks all of that.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use evloop::net::{TcpListener, TcpStream};
use evloop::signal::{Signals, SIGINT, SIGTERM};
use evloop::time::{sleep, timeout};
use evloop::JoinHandle;

/// How long the connections in flight get to finish after the signal.
const DRAIN_DEADLINE: Duration = Duration::from_secs(5);

/// Reads one request head; answers it (after `ms` milliseconds for `/slow?ms=N`); closes.
async fn handle(stream: TcpStream) -> io::Result<()> {
    let mut head = Vec::new();
    let mut buffer = [0; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        let n = stream.read(&mut buffer).await?;
        if n == 0 {
            return Ok(()); // closed before a whole request
        }
        head.extend_from_slice(&buffer[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    if let Some(ms) = path.strip_prefix("/slow?ms=") {
        println!("handling {path}");
        sleep(Duration::from_millis(ms.parse().unwrap_or(1000))).await;
    }
    let body = format!("done: {path}\n");
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await
}

/// Accepts until cancelled, keeping a handle on every connection still being served.
async fn accept_loop(listener: TcpListener, connections: Rc<RefCell<Vec<JoinHandle<()>>>>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                eprintln!("accept: {error}"); // out of descriptors, say: accept backs off
                continue;
            }
        };
        let mut connections = connections.borrow_mut();
        connections.retain(|connection| !connection.is_finished());
        connections.push(evloop::spawn(async move {
            if let Err(error) = handle(stream).await {
                eprintln!("connection: {error}");
            }
        }));
    }
}

/// Serves on `address` until SIGINT or SIGTERM, then drains. Returns how it ended.
async fn run_server(address: &str) -> io::Result<&'static str> {
    let mut stop = Signals::new([SIGINT, SIGTERM])?; // first: a signal from now on is caught
    let listener = TcpListener::bind(address)?;
    println!("listening on {}", listener.local_addr()?);
    let connections = Rc::new(RefCell::new(Vec::new()));
    let acceptor = evloop::spawn(accept_loop(listener, connections.clone()));

    let signal = stop.recv().await;
    acceptor.abort();
    let _ = acceptor.await; // cancelled: the listener is closed, new connections are refused
    let in_flight: Vec<_> = connections.take();
    let cancel: Vec<_> = in_flight.iter().map(JoinHandle::abort_handle).collect();
    println!(
        "signal {signal}: stopped accepting; {} connection(s) in flight",
        in_flight.iter().filter(|c| !c.is_finished()).count()
    );
    let drained = timeout(DRAIN_DEADLINE, async {
        for connection in in_flight {
            let _ = connection.await;
        }
    })
    .await;
    Ok(match drained {
        Ok(()) => "drained",
        Err(_) => {
            cancel.iter().for_each(evloop::AbortHandle::abort);
            "deadline passed: the rest were cancelled"
        }
    })
}

fn serve(address: &str) -> io::Result<()> {
    let ended = evloop::run(run_server(address))?;
    println!("{ended}; exiting");
    Ok(())
}

fn main() -> io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    serve(&address)
}

#[cfg(test)]
mod tests {
    use super::*;
    use evloop::process::Command;
    use futures_util::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
    use futures_util::{Stream, StreamExt};
    use std::process::Stdio;

    const CHILD: &str = "EVLOOP_GRACEFUL_SERVER_CHILD";

    /// The next line the server printed.
    async fn next_line(lines: &mut (impl Stream<Item = io::Result<String>> + Unpin)) -> String {
        lines
            .next()
            .await
            .expect("the server printed more")
            .unwrap()
    }

    /// Not a test: the server, run by `a_sigterm_drains_in_flight_requests_and_exits_0` in a
    /// child process (this same test binary, with `CHILD` set).
    #[test]
    #[ignore = "run as a child process by the end-to-end test"]
    fn server_in_a_child_process() {
        if std::env::var_os(CHILD).is_some() {
            serve("127.0.0.1:0").unwrap();
        }
    }

    #[test]
    fn a_sigterm_drains_in_flight_requests_and_exits_0() {
        evloop::run(async {
            let mut server = Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "tests::server_in_a_child_process", "--ignored"])
                .args(["--nocapture", "--test-threads=1"])
                .arg("--quiet")
                .env(CHILD, "1")
                .stdout(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
            // The server listens on a port of the OS's choosing: read which (after the test
            // harness's own lines).
            let listening = loop {
                let line = next_line(&mut lines).await;
                if let Some(address) = line.strip_prefix("listening on ") {
                    break address.parse::<std::net::SocketAddr>().unwrap();
                }
            };

            // A slow request, in flight when the signal comes.
            let slow = TcpStream::connect(listening).await.unwrap();
            slow.write_all(b"GET /slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .unwrap();
            assert_eq!(next_line(&mut lines).await, "handling /slow?ms=300");

            server.terminate().unwrap(); // SIGTERM, as a service manager sends it
            assert_eq!(
                next_line(&mut lines).await,
                format!("signal {SIGTERM}: stopped accepting; 1 connection(s) in flight")
            );

            // New connections are refused now...
            assert!(TcpStream::connect(listening).await.is_err());
            // ...while the one in flight gets its whole answer.
            let mut response = String::new();
            let mut reader = slow;
            AsyncReadExt::read_to_string(&mut reader, &mut response)
                .await
                .unwrap();
            assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
            assert!(response.ends_with("done: /slow?ms=300\n"), "{response}");

            assert_eq!(next_line(&mut lines).await, "drained; exiting");
            let status = timeout(Duration::from_secs(10), server.wait())
                .await
                .expect("the server exits within the deadline")
                .unwrap();
            assert!(status.success(), "exit status {status}");
        });
    }
}
