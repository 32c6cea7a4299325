//! HTTP/1.1 keep-alive throughput and latency, one loop against N, side by side with tokio.
//!
//! ```sh
//! cargo run --release -p evloop-benches --bin http_scaling              # 64 connections, 5 s each
//! cargo run --release -p evloop-benches --bin http_scaling -- --seconds 10 --connections 128
//! ```
//!
//! Every server runs the *same* hyper HTTP/1 service (`examples/hyper_on_evloop.rs`'s `hello`,
//! which answers each request with a short body): only the runtime under it differs. evloop 1 loop
//! and evloop N loops (a `LoopSet`, one `SO_REUSEPORT` listener per loop) use the hyper adapters
//! of `hyper_on_evloop.rs`; tokio `current_thread` and tokio `multi_thread` (N workers) use
//! hyper-util's. N is the number of CPUs.
//!
//! Each server runs in a child process (this binary with `--serve KIND`), so that its CPU time
//! can be read from `/proc`; the load generator is this process: one evloop loop driving the
//! connections, each sending a request, reading the whole response, and sending the next. On a
//! machine with few cores the generator competes with the server, so requests per second of the
//! server's CPU time is reported next to requests per second.
//!
//! A second table takes the load generator off the other cores: each process (`--self KIND`)
//! serves *and* drives its own connections over loopback. evloop N loops: each loop listens on
//! its own port and drives its share of the connections, so nothing is shared between the loops;
//! tokio `multi_thread`: one listener, the connections' client and server tasks spread by work
//! stealing. There is no other process to compete with, so requests per second over N loops
//! against one loop is the scaling that N cores allow (the "× 1 loop" column).

#[path = "../examples/hyper_on_evloop.rs"]
mod hyper_on_evloop;

use std::io::BufRead;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const KINDS: [&str; 4] = [
    "evloop-1",
    "evloop-N",
    "tokio-current_thread",
    "tokio-multi_thread",
];

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let option = |name: &str| {
        args.iter()
            .position(|arg| arg == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let seconds: u64 = option("--seconds").map_or(5, |s| s.parse().expect("--seconds N"));
    let connections: usize =
        option("--connections").map_or(64, |c| c.parse().expect("--connections N"));
    if let Some(kind) = option("--serve") {
        serve(&kind);
        return;
    }
    if let Some(kind) = option("--self") {
        let start = Instant::now();
        let load = self_loaded(&kind, connections, start + Duration::from_secs(seconds));
        // One line for the parent: requests, wall seconds, CPU seconds, p50 and p99 in µs.
        println!(
            "{} {} {} {} {}",
            load.requests,
            start.elapsed().as_secs_f64(),
            cpu_seconds(std::process::id()),
            load.percentile(0.50).as_secs_f64() * 1e6,
            load.percentile(0.99).as_secs_f64() * 1e6,
        );
        return;
    }
    println!(
        "HTTP/1.1 keep-alive, {connections} connections, {seconds} s per server, N = {} CPUs",
        cpus()
    );
    println!("| server | requests/s | requests per server CPU-second | p50 | p99 |");
    println!("|---|---:|---:|---:|---:|");
    for kind in KINDS {
        let mut server = start_server(kind);
        let address = server.1;
        let cpu_before = cpu_seconds(server.0.id());
        let load = generate_load(address, connections, Duration::from_secs(seconds));
        let cpu = cpu_seconds(server.0.id()) - cpu_before;
        let _ = server.0.kill();
        let _ = server.0.wait();
        let name = kind.replace('N', &cpus().to_string());
        println!(
            "| {name} | {:.0} | {:.0} | {:.0} µs | {:.0} µs |",
            load.requests as f64 / load.elapsed.as_secs_f64(),
            load.requests as f64 / cpu.max(f64::EPSILON),
            load.percentile(0.50).as_secs_f64() * 1e6,
            load.percentile(0.99).as_secs_f64() * 1e6,
        );
    }
    println!();
    println!("Self-loaded: each process serves and drives its own {connections} connections");
    println!("| server | requests/s | × 1 loop | requests per CPU-second | p50 | p99 |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut one_loop = None;
    for kind in KINDS {
        let output = Command::new(std::env::current_exe().unwrap())
            .args(["--self", kind])
            .args(["--seconds", &seconds.to_string()])
            .args(["--connections", &connections.to_string()])
            .output()
            .expect("running the self-loaded server");
        assert!(output.status.success(), "{kind} failed");
        let line = String::from_utf8(output.stdout).unwrap();
        let figures: Vec<f64> = line
            .split_whitespace()
            .map(|figure| figure.parse().unwrap())
            .collect();
        let &[requests, wall, cpu, p50, p99] = figures.as_slice() else {
            panic!("{kind} printed {line:?}")
        };
        let per_second = requests / wall;
        let one_loop = *one_loop.get_or_insert(per_second);
        let name = kind.replace('N', &cpus().to_string());
        println!(
            "| {name} | {per_second:.0} | {:.2} | {:.0} | {p50:.0} µs | {p99:.0} µs |",
            per_second / one_loop,
            requests / cpu.max(f64::EPSILON),
        );
    }
}

/// Starts this binary as the server `kind` and reads the address it listens on.
fn start_server(kind: &str) -> (Child, SocketAddr) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--serve", kind])
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting the server");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("the server's address");
    let address = line.trim().parse().expect("an address");
    (child, address)
}

/// The CPU time (user + system) process `pid` has used, in seconds, from `/proc/<pid>/stat`.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/<pid>/stat");
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15 of the line; here, after "pid (comm) ", 11 and 12.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: `sysconf` takes an integer and no pointer.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    ticks as f64 / per_second as f64
}

// ---- the servers ------------------------------------------------------------------------------

fn serve(kind: &str) {
    match kind {
        "evloop-1" => serve_evloop(1),
        "evloop-N" => serve_evloop(cpus()),
        "tokio-current_thread" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(serve_tokio()),
        "tokio-multi_thread" => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cpus())
            .enable_all()
            .build()
            .unwrap()
            .block_on(serve_tokio()),
        other => panic!("unknown server {other}"),
    }
}

/// One `SO_REUSEPORT` listener per loop; loop 0 picks the port, the others bind it too.
fn serve_evloop(loops: usize) {
    use std::sync::{Arc, OnceLock};
    let port: Arc<(OnceLock<SocketAddr>, evloop::sync::Event)> = Arc::default();
    evloop::LoopSet::new()
        .loops(loops)
        .run(move |context| {
            let port = port.clone();
            async move {
                let listener = if context.index() == 0 {
                    let listener =
                        evloop::net::TcpListener::bind_reuse_port("127.0.0.1:0").unwrap();
                    let address = listener.local_addr().unwrap();
                    port.0.set(address).unwrap();
                    println!("{address}");
                    port.1.set();
                    listener
                } else {
                    port.1.wait().await;
                    evloop::net::TcpListener::bind_reuse_port(port.0.get().unwrap()).unwrap()
                };
                hyper_on_evloop::serve(listener).await;
            }
        })
        .unwrap();
}

async fn serve_tokio() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("{}", listener.local_addr().unwrap());
    serve_tokio_on(listener).await;
}

/// Accepts connections forever, serving each with hyper on its own task.
async fn serve_tokio_on(listener: tokio::net::TcpListener) {
    loop {
        let (stream, _) = listener.accept().await.unwrap();
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            // The same timer use as the evloop servers' (hyper's header-read timeout).
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .serve_connection(
                    hyper_util::rt::TokioIo::new(stream),
                    hyper::service::service_fn(hyper_on_evloop::hello),
                )
                .await;
        });
    }
}

// ---- self-loaded: server and clients in one process ---------------------------------------------

/// Serves and drives `connections` connections until `deadline` in the runtime `kind`.
fn self_loaded(kind: &str, connections: usize, deadline: Instant) -> Load {
    let mut latencies = match kind {
        "evloop-1" => self_loaded_evloop(1, connections, deadline),
        "evloop-N" => self_loaded_evloop(cpus(), connections, deadline),
        "tokio-current_thread" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(self_loaded_tokio(connections, deadline)),
        "tokio-multi_thread" => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cpus())
            .enable_all()
            .build()
            .unwrap()
            .block_on(self_loaded_tokio(connections, deadline)),
        other => panic!("unknown server {other}"),
    };
    latencies.sort_unstable();
    Load {
        requests: latencies.len(),
        elapsed: Duration::ZERO, // the caller times the whole process
        latencies,
    }
}

/// Each loop listens on a port of its own and drives its share of the connections to it.
fn self_loaded_evloop(loops: usize, connections: usize, deadline: Instant) -> Vec<Duration> {
    let outputs = evloop::LoopSet::new()
        .loops(loops)
        .run(move |context| async move {
            let listener = evloop::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let address = listener.local_addr().unwrap();
            let server = evloop::spawn(hyper_on_evloop::serve(listener));
            let share = (context.index()..connections).step_by(loops).count();
            let clients: Vec<_> = (0..share)
                .map(|_| evloop::spawn(connection(address, deadline)))
                .collect();
            let mut latencies = Vec::new();
            for client in clients {
                latencies.extend(client.await.unwrap());
            }
            server.abort();
            latencies
        })
        .unwrap();
    outputs.into_iter().flatten().flatten().collect()
}

/// One listener; the client and server tasks go wherever tokio's scheduler puts them.
async fn self_loaded_tokio(connections: usize, deadline: Instant) -> Vec<Duration> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(serve_tokio_on(listener));
    let clients: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(tokio_connection(address, deadline)))
        .collect();
    let mut latencies = Vec::new();
    for client in clients {
        latencies.extend(client.await.unwrap());
    }
    server.abort();
    latencies
}

// ---- the load generator -------------------------------------------------------------------------

struct Load {
    requests: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Load {
    fn percentile(&self, fraction: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let index = ((self.latencies.len() - 1) as f64 * fraction).round() as usize;
        self.latencies[index]
    }
}

/// `connections` keep-alive connections, each sending requests one after another for `duration`.
fn generate_load(address: SocketAddr, connections: usize, duration: Duration) -> Load {
    evloop::run(async move {
        let start = Instant::now();
        let deadline = start + duration;
        let workers: Vec<_> = (0..connections)
            .map(|_| evloop::spawn(connection(address, deadline)))
            .collect();
        let mut latencies = Vec::new();
        for worker in workers {
            latencies.extend(worker.await.unwrap());
        }
        let elapsed = start.elapsed();
        latencies.sort_unstable();
        Load {
            requests: latencies.len(),
            elapsed,
            latencies,
        }
    })
}

/// One connection's requests until `deadline`, on evloop; returns each request's latency.
async fn connection(address: SocketAddr, deadline: Instant) -> Vec<Duration> {
    let stream = evloop::net::TcpStream::connect(address).await.unwrap();
    stream.set_nodelay(true).unwrap();
    requests_until(stream, deadline).await
}

/// `connection` on tokio's sockets, for the self-loaded tokio servers.
async fn tokio_connection(address: SocketAddr, deadline: Instant) -> Vec<Duration> {
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.set_nodelay(true).unwrap();
    requests_until(stream, deadline).await
}

/// A connected client socket, evloop's or tokio's, each through its own API (no adapter in the
/// measured path).
trait ClientSocket {
    async fn send(&mut self, data: &[u8]);
    async fn receive(&mut self, buffer: &mut [u8]) -> usize;
}

impl ClientSocket for evloop::net::TcpStream {
    async fn send(&mut self, data: &[u8]) {
        self.write_all(data).await.unwrap();
    }
    async fn receive(&mut self, buffer: &mut [u8]) -> usize {
        self.read(buffer).await.unwrap()
    }
}

impl ClientSocket for tokio::net::TcpStream {
    async fn send(&mut self, data: &[u8]) {
        tokio::io::AsyncWriteExt::write_all(self, data)
            .await
            .unwrap();
    }
    async fn receive(&mut self, buffer: &mut [u8]) -> usize {
        tokio::io::AsyncReadExt::read(self, buffer).await.unwrap()
    }
}

/// Sends a request, reads the whole response, and again, until `deadline`; returns each
/// request's latency.
async fn requests_until(mut stream: impl ClientSocket, deadline: Instant) -> Vec<Duration> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0; 1024];
    let mut latencies = Vec::new();
    while Instant::now() < deadline {
        let sent = Instant::now();
        stream.send(REQUEST).await;
        buffer.clear();
        while !response_is_complete(&buffer) {
            let n = stream.receive(&mut chunk).await;
            assert!(n > 0, "the server closed the connection");
            buffer.extend_from_slice(&chunk[..n]);
        }
        latencies.push(sent.elapsed());
    }
    latencies
}

/// The request every connection sends, again and again.
const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nhost: bench\r\n\r\n";

/// Whether `buffer` holds one whole response: the head, then as many body bytes as it announces.
fn response_is_complete(buffer: &[u8]) -> bool {
    let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
    let body_len = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse::<usize>().ok())
        .expect("a content-length");
    buffer.len() >= end + 4 + body_len
}
