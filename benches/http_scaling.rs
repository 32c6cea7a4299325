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
    if let Some(kind) = option("--serve") {
        serve(&kind);
        return;
    }
    let seconds: u64 = option("--seconds").map_or(5, |s| s.parse().expect("--seconds N"));
    let connections: usize =
        option("--connections").map_or(64, |c| c.parse().expect("--connections N"));
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

/// One connection's requests until `deadline`; returns each request's latency.
async fn connection(address: SocketAddr, deadline: Instant) -> Vec<Duration> {
    let stream = evloop::net::TcpStream::connect(address).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let request = b"GET / HTTP/1.1\r\nhost: bench\r\n\r\n";
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0; 1024];
    let mut latencies = Vec::new();
    while Instant::now() < deadline {
        let sent = Instant::now();
        stream.write_all(request).await.unwrap();
        // Read one response: the head, then as many body bytes as it announces.
        buffer.clear();
        let (head_end, body_len) = loop {
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length:"))
                    .and_then(|value| value.trim().parse::<usize>().ok())
                    .expect("a content-length");
                break (end + 4, length);
            }
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the server closed the connection");
            buffer.extend_from_slice(&chunk[..n]);
        };
        while buffer.len() < head_end + body_len {
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the server closed the connection");
            buffer.extend_from_slice(&chunk[..n]);
        }
        latencies.push(sent.elapsed());
    }
    latencies
}
