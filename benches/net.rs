//! Loopback networking: evloop, tokio (`current_thread` + `LocalSet`) and smol (async-executor
//! `LocalExecutor` + async-io's `Async`), single-threaded, in one run.
//!
//! ```sh
//! cargo bench -p evloop-benches --bench net
//! ```
//!
//! - *echo*: 64 connections, each making 5,000 round trips of 64 bytes to an echo server; server
//!   and clients in one runtime on one thread. Reported per round trip (wall time / all trips).
//! - *accept + connect*: 2,000 connections opened and accepted one after another.

mod harness;

use std::future::Future;
use std::net::SocketAddr;

use harness::{Per, Workload};

const ROUNDS: usize = 5;
const CONNECTIONS: usize = 64;
const TRIPS: usize = 5_000;
const MESSAGE: usize = 64;
const CONNECTS: usize = 2_000;

mod evloop_net {
    use super::*;
    use evloop::net::{TcpListener, TcpStream};

    pub fn echo() {
        evloop::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let address = listener.local_addr().unwrap();
            let server = evloop::spawn(async move {
                for _ in 0..CONNECTIONS {
                    let (stream, _) = listener.accept().await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    evloop::spawn(async move {
                        let mut buffer = [0; MESSAGE];
                        while stream.read_exact(&mut buffer).await.is_ok() {
                            stream.write_all(&buffer).await.unwrap();
                        }
                    });
                }
            });
            let clients: Vec<_> = (0..CONNECTIONS)
                .map(|_| evloop::spawn(client(address)))
                .collect();
            for client in clients {
                client.await.unwrap();
            }
            server.await.unwrap();
        });
    }

    async fn client(address: SocketAddr) {
        let stream = TcpStream::connect(address).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let mut buffer = [7; MESSAGE];
        for _ in 0..TRIPS {
            stream.write_all(&buffer).await.unwrap();
            stream.read_exact(&mut buffer).await.unwrap();
        }
    }

    pub fn accept_connect() {
        evloop::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let address = listener.local_addr().unwrap();
            for _ in 0..CONNECTS {
                let (client, accepted) =
                    futures_lite::future::zip(TcpStream::connect(address), listener.accept()).await;
                drop((client.unwrap(), accepted.unwrap()));
            }
        });
    }
}

mod tokio_net {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use crate::harness::tokio_run as run;

    pub fn echo() {
        run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            let server = tokio::task::spawn_local(async move {
                for _ in 0..CONNECTIONS {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    tokio::task::spawn_local(async move {
                        let mut buffer = [0; MESSAGE];
                        while stream.read_exact(&mut buffer).await.is_ok() {
                            stream.write_all(&buffer).await.unwrap();
                        }
                    });
                }
            });
            let clients: Vec<_> = (0..CONNECTIONS)
                .map(|_| tokio::task::spawn_local(client(address)))
                .collect();
            for client in clients {
                client.await.unwrap();
            }
            server.await.unwrap();
        });
    }

    async fn client(address: SocketAddr) {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let mut buffer = [7; MESSAGE];
        for _ in 0..TRIPS {
            stream.write_all(&buffer).await.unwrap();
            stream.read_exact(&mut buffer).await.unwrap();
        }
    }

    pub fn accept_connect() {
        run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            for _ in 0..CONNECTS {
                let (client, accepted) =
                    tokio::join!(TcpStream::connect(address), listener.accept());
                drop((client.unwrap(), accepted.unwrap()));
            }
        });
    }
}

mod smol_net {
    use super::*;
    use async_io::Async;
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    use std::net::{TcpListener, TcpStream};
    use std::rc::Rc;

    fn run<F: Future>(
        future: impl FnOnce(Rc<async_executor::LocalExecutor<'static>>) -> F,
    ) -> F::Output {
        let executor = Rc::new(async_executor::LocalExecutor::new());
        async_io::block_on(executor.run(future(executor.clone())))
    }

    pub fn echo() {
        run(|executor| async move {
            let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0)).unwrap();
            let address = listener.get_ref().local_addr().unwrap();
            let server = executor.spawn({
                let executor = executor.clone();
                async move {
                    for _ in 0..CONNECTIONS {
                        let (mut stream, _) = listener.accept().await.unwrap();
                        stream.get_ref().set_nodelay(true).unwrap();
                        executor
                            .spawn(async move {
                                let mut buffer = [0; MESSAGE];
                                while stream.read_exact(&mut buffer).await.is_ok() {
                                    stream.write_all(&buffer).await.unwrap();
                                }
                            })
                            .detach();
                    }
                }
            });
            let clients: Vec<_> = (0..CONNECTIONS)
                .map(|_| executor.spawn(client(address)))
                .collect();
            for client in clients {
                client.await;
            }
            server.await;
        });
    }

    async fn client(address: SocketAddr) {
        let mut stream = Async::<TcpStream>::connect(address).await.unwrap();
        stream.get_ref().set_nodelay(true).unwrap();
        let mut buffer = [7; MESSAGE];
        for _ in 0..TRIPS {
            stream.write_all(&buffer).await.unwrap();
            stream.read_exact(&mut buffer).await.unwrap();
        }
    }

    pub fn accept_connect() {
        run(|_| async {
            let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0)).unwrap();
            let address = listener.get_ref().local_addr().unwrap();
            for _ in 0..CONNECTS {
                let (client, accepted) = futures_lite::future::zip(
                    Async::<TcpStream>::connect(address),
                    listener.accept(),
                )
                .await;
                drop((client.unwrap(), accepted.unwrap()));
            }
        });
    }
}

fn main() {
    harness::run_table(
        ["evloop", "tokio current_thread", "smol LocalExecutor"],
        ROUNDS,
        Per::Microseconds,
        &[
            Workload {
                name: "echo, 64 connections × 5,000 round trips of 64 B (µs/round trip)",
                operations: (CONNECTIONS * TRIPS) as u64,
                runs: [evloop_net::echo, tokio_net::echo, smol_net::echo],
            },
            Workload {
                name: "accept + connect, 2,000 in a row (µs/connection)",
                operations: CONNECTS as u64,
                runs: [
                    evloop_net::accept_connect,
                    tokio_net::accept_connect,
                    smol_net::accept_connect,
                ],
            },
        ],
    );
}
