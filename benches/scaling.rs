//! How the cost per operation grows with the amount of work: pending timers (10k, 100k, 1M) and
//! idle connections (1k, 10k), evloop side by side with tokio (`current_thread`) and smol.
//!
//! ```sh
//! cargo run --release -p evloop-benches --bin scaling                   # both curves
//! cargo run --release -p evloop-benches --bin scaling -- timers         # one of them
//! ```
//!
//! Each point runs in a process of its own (this binary with `--one CURVE SIZE RUNTIME`), three
//! times, and the median is reported: a million timers leave the allocator and the caches in a
//! state that would colour the next measurement in the same process.
//!
//! The figures are CPU time (user + system, `getrusage`) of the measured process per operation:
//! what the work costs, which wall time hides behind the sleeps themselves.
//!
//! - **timers**: `SIZE` tasks each sleep 0–10 ms (the same pseudo-random sequence for every
//!   runtime), all pending at once; the figure covers the whole run: spawning, arming, firing,
//!   joining.
//! - **idle connections**: `SIZE` loopback TCP connections are opened and left idle, then each
//!   makes one 1-byte round trip, all at once; the figure covers that round-trip phase only. The
//!   echo server is this (parent) process, on an evloop loop of its own, the same for every
//!   runtime measured.

mod harness;

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

const RUNTIMES: [&str; 3] = ["evloop", "tokio", "smol"];
const RUNS: usize = 3;

/// A pseudo-random sleep of 0–10 ms, the same sequence for every runtime (as in `core.rs`).
fn sleep_for(i: u64) -> Duration {
    let mixed = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 33;
    Duration::from_micros(mixed % 10_001)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--one") {
        let (curve, size, runtime) = (&args[1], args[2].parse().unwrap(), &args[3]);
        let address = args.get(4).map(|a| a.parse().unwrap());
        let per_operation = one_point(curve, size, runtime, address);
        println!("{}", per_operation.as_nanos());
        return;
    }
    let filter = args.first().cloned();
    let curves: [(&str, &[u64], &str); 2] = [
        ("timers", &[10_000, 100_000, 1_000_000], "CPU ns per timer"),
        (
            "idle_connections",
            &[1_000, 10_000],
            "CPU ns per round trip",
        ),
    ];
    raise_descriptor_limit();
    let echo = start_echo_server();
    println!("| curve | size | evloop | tokio current_thread | smol | evloop ÷ best peer |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (curve, sizes, unit) in curves {
        if filter.as_deref().is_some_and(|f| !curve.contains(f)) {
            continue;
        }
        for &size in sizes {
            let medians: Vec<f64> = RUNTIMES
                .iter()
                .map(|runtime| median_of_runs(curve, size, runtime, echo))
                .collect();
            let best_peer = medians[1].min(medians[2]);
            println!(
                "| {curve} ({unit}) | {size} | {:.0} | {:.0} | {:.0} | {:.2} |",
                medians[0],
                medians[1],
                medians[2],
                medians[0] / best_peer
            );
        }
    }
}

/// The median, in nanoseconds per operation, of `RUNS` fresh processes measuring one point.
fn median_of_runs(curve: &str, size: u64, runtime: &str, echo: SocketAddr) -> f64 {
    let mut runs: Vec<f64> = (0..RUNS)
        .map(|_| {
            let output = Command::new(std::env::current_exe().unwrap())
                .args([
                    "--one",
                    curve,
                    &size.to_string(),
                    runtime,
                    &echo.to_string(),
                ])
                .output()
                .expect("running one point");
            assert!(
                output.status.success(),
                "{curve} {size} {runtime}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            String::from_utf8_lossy(&output.stdout)
                .trim()
                .parse()
                .unwrap()
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[RUNS / 2]
}

/// Raises the soft descriptor limit to the hard one (10k connections need 10k descriptors).
fn raise_descriptor_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write a properly sized struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// A 1-byte echo server on an evloop loop of its own thread, for the idle-connection curve.
fn start_echo_server() -> SocketAddr {
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        evloop::run(async move {
            // The larger backlog of `bind_reuse_port` (1024): 10k connections arrive in a burst.
            let listener = evloop::net::TcpListener::bind_reuse_port("127.0.0.1:0").unwrap();
            address_tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                evloop::spawn(async move {
                    let mut byte = [0];
                    while let Ok(1) = stream.read(&mut byte).await {
                        if stream.write_all(&byte).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
    });
    address_rx.recv().unwrap()
}

/// The CPU time this process has used so far (user + system).
fn cpu_time() -> Duration {
    // SAFETY: `rusage` is plain data; all zeroes is a valid value to be overwritten.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `getrusage` writes a `rusage` we own.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// Measures one point in this process: CPU nanoseconds per operation.
fn one_point(curve: &str, size: u64, runtime: &str, echo: Option<SocketAddr>) -> Duration {
    raise_descriptor_limit();
    let elapsed = match (curve, runtime) {
        ("timers", "evloop") => evloop_timers(size),
        ("timers", "tokio") => tokio_timers(size),
        ("timers", "smol") => smol_timers(size),
        ("idle_connections", "evloop") => evloop_idle(size, echo.unwrap()),
        ("idle_connections", "tokio") => tokio_idle(size, echo.unwrap()),
        ("idle_connections", "smol") => smol_idle(size, echo.unwrap()),
        other => panic!("unknown point {other:?}"),
    };
    elapsed / u32::try_from(size).unwrap()
}

fn evloop_timers(size: u64) -> Duration {
    let start = cpu_time();
    evloop::run(async move {
        let handles: Vec<_> = (0..size)
            .map(|i| evloop::spawn(evloop::time::sleep(sleep_for(i))))
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    });
    cpu_time() - start
}

fn tokio_timers(size: u64) -> Duration {
    let start = cpu_time();
    harness::tokio_run(async move {
        let handles: Vec<_> = (0..size)
            .map(|i| tokio::task::spawn_local(tokio::time::sleep(sleep_for(i))))
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    });
    cpu_time() - start
}

fn smol_timers(size: u64) -> Duration {
    let start = cpu_time();
    harness::smol_run(async move {
        let tasks: Vec<_> = (0..size)
            .map(|i| {
                harness::smol_spawn(async move {
                    async_io::Timer::after(sleep_for(i)).await;
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
    });
    cpu_time() - start
}

fn evloop_idle(size: u64, echo: SocketAddr) -> Duration {
    evloop::run(async move {
        let mut streams = Vec::new();
        for _ in 0..size {
            streams.push(evloop::net::TcpStream::connect(echo).await.unwrap());
        }
        let start = cpu_time();
        let trips: Vec<_> = streams
            .into_iter()
            .map(|stream| {
                evloop::spawn(async move {
                    stream.write_all(b"x").await.unwrap();
                    let mut byte = [0];
                    stream.read_exact(&mut byte).await.unwrap();
                    stream // kept open until every trip is done
                })
            })
            .collect();
        let mut open = Vec::new();
        for trip in trips {
            open.push(trip.await.unwrap());
        }
        cpu_time() - start
    })
}

fn tokio_idle(size: u64, echo: SocketAddr) -> Duration {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    harness::tokio_run(async move {
        let mut streams = Vec::new();
        for _ in 0..size {
            streams.push(tokio::net::TcpStream::connect(echo).await.unwrap());
        }
        let start = cpu_time();
        let trips: Vec<_> = streams
            .into_iter()
            .map(|mut stream| {
                tokio::task::spawn_local(async move {
                    stream.write_all(b"x").await.unwrap();
                    let mut byte = [0];
                    stream.read_exact(&mut byte).await.unwrap();
                    stream
                })
            })
            .collect();
        let mut open = Vec::new();
        for trip in trips {
            open.push(trip.await.unwrap());
        }
        cpu_time() - start
    })
}

fn smol_idle(size: u64, echo: SocketAddr) -> Duration {
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    harness::smol_run(async move {
        let mut streams = Vec::new();
        for _ in 0..size {
            streams.push(
                async_io::Async::<std::net::TcpStream>::connect(echo)
                    .await
                    .unwrap(),
            );
        }
        let start = cpu_time();
        let trips: Vec<_> = streams
            .into_iter()
            .map(|mut stream| {
                harness::smol_spawn(async move {
                    stream.write_all(b"x").await.unwrap();
                    let mut byte = [0];
                    stream.read_exact(&mut byte).await.unwrap();
                    stream
                })
            })
            .collect();
        let mut open = Vec::new();
        for trip in trips {
            open.push(trip.await);
        }
        cpu_time() - start
    })
}
