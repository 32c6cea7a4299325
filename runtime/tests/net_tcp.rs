//! TCP over real loopback sockets: every method, split halves used concurrently, half-close,
//! errors for bad input, dropping sockets and pending operations, and 10,000 connections.

mod common;

use std::io::ErrorKind;
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use common::within;
use evloop::net::{TcpListener, TcpStream};
use evloop::spawn;
use evloop::time::timeout;
use futures_util::{AsyncReadExt, AsyncWriteExt};

async fn connected_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, peer) = listener.accept().await.unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
    (client, server)
}

#[test]
fn connect_accept_read_write_and_addresses() {
    evloop::run(async {
        let (client, server) = connected_pair().await;
        assert_eq!(client.peer_addr().unwrap(), server.local_addr().unwrap());
        client.write_all(b"hello").await.unwrap();
        let mut buffer = [0; 5];
        server.read_exact(&mut buffer).await.unwrap();
        assert_eq!(&buffer, b"hello");
        assert_eq!(server.write(b"back").await.unwrap(), 4);
        let mut buffer = [0; 16];
        let n = client.read(&mut buffer).await.unwrap();
        assert_eq!(&buffer[..n], b"back");
    });
}

#[test]
fn peek_does_not_consume() {
    evloop::run(async {
        let (client, server) = connected_pair().await;
        client.write_all(b"abc").await.unwrap();
        let mut peeked = [0; 3];
        let n = server.peek(&mut peeked).await.unwrap();
        assert_eq!(&peeked[..n], &b"abc"[..n]);
        let mut read = [0; 3];
        server.read_exact(&mut read).await.unwrap();
        assert_eq!(&read, b"abc");
    });
}

#[test]
fn nodelay_can_be_set() {
    evloop::run(async {
        let (client, _server) = connected_pair().await;
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        client.set_nodelay(false).unwrap();
        assert!(!client.nodelay().unwrap());
    });
}

#[test]
fn half_close_delivers_end_of_stream_and_keeps_the_other_direction() {
    evloop::run(async {
        let (client, server) = connected_pair().await;
        client.write_all(b"request").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        // The server reads everything, then end-of-stream...
        let mut request = Vec::new();
        let mut buffer = [0; 4];
        loop {
            let n = server.read(&mut buffer).await.unwrap();
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buffer[..n]);
        }
        assert_eq!(request, b"request");
        // ...and can still answer on its own direction.
        server.write_all(b"response").await.unwrap();
        let mut response = [0; 8];
        client.read_exact(&mut response).await.unwrap();
        assert_eq!(&response, b"response");
        // Writing after our own write shutdown is a clear error.
        let error = client.write_all(b"more").await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::BrokenPipe);
        // Reading after our own read shutdown returns end-of-stream, not a hang.
        server.shutdown(Shutdown::Read).unwrap();
        assert_eq!(server.read(&mut buffer).await.unwrap(), 0);
    });
}

#[test]
fn read_exact_reports_an_early_close() {
    evloop::run(async {
        let (client, server) = connected_pair().await;
        client.write_all(b"ab").await.unwrap();
        drop(client);
        let mut buffer = [0; 4];
        let error = server.read_exact(&mut buffer).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::UnexpectedEof);
    });
}

#[test]
fn split_halves_work_concurrently_in_two_tasks() {
    within(Duration::from_secs(20), || {
        evloop::run(async {
            let (client, server) = connected_pair().await;
            let (mut server_reader, mut server_writer) = server.into_split();
            // Echo server: one task reads, another writes, through a channel of tasks.
            let received = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
            let reader = spawn({
                let received = received.clone();
                async move {
                    let mut buffer = [0; 1024];
                    loop {
                        let n = server_reader.read(&mut buffer).await.unwrap();
                        if n == 0 {
                            break;
                        }
                        received.borrow_mut().extend_from_slice(&buffer[..n]);
                    }
                }
            });
            let writer = spawn(async move {
                for i in 0..100u8 {
                    server_writer.write_all(&[i; 100]).await.unwrap();
                }
                server_writer.shutdown().unwrap();
            });
            let (mut client_reader, mut client_writer) = client.into_split();
            // Both directions at once: 1 MB each way, more than the socket buffers hold.
            let sender = spawn(async move {
                let chunk = vec![7u8; 64 * 1024];
                for _ in 0..16 {
                    client_writer.write_all(&chunk).await.unwrap();
                }
                drop(client_writer); // both halves gone on this side only when reader drops too
            });
            let mut from_server = Vec::new();
            client_reader.read_to_end(&mut from_server).await.unwrap();
            writer.await.unwrap();
            sender.await.unwrap();
            drop(client_reader); // closes the client socket: the server reader sees EOF
            reader.await.unwrap();
            assert_eq!(from_server.len(), 100 * 100);
            assert!(from_server
                .chunks(100)
                .enumerate()
                .all(|(i, c)| c.iter().all(|&b| b == i as u8)));
            assert_eq!(received.borrow().len(), 16 * 64 * 1024);
        })
    });
}

#[test]
fn futures_io_combinators_work() {
    evloop::run(async {
        let (mut client, mut server) = connected_pair().await;
        client.write_all(b"line one\nline two\n").await.unwrap();
        client.close().await.unwrap();
        let mut text = String::new();
        server.read_to_string(&mut text).await.unwrap();
        assert_eq!(text, "line one\nline two\n");
    });
}

#[test]
fn binding_a_used_port_is_a_clear_error() {
    evloop::run(async {
        let first = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = first.local_addr().unwrap();
        let error = TcpListener::bind(address).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::AddrInUse);
        assert!(error.to_string().contains(&address.to_string()), "{error}");
    });
}

#[test]
fn connecting_to_a_closed_port_is_an_error_not_a_broken_stream() {
    evloop::run(async {
        let address: SocketAddr = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        }; // closed again: nothing listens there
        let error = TcpStream::connect(address).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
        assert!(error.to_string().contains(&address.to_string()), "{error}");
    });
}

#[test]
fn a_dropped_pending_read_leaves_the_socket_usable() {
    evloop::run(async {
        let (client, server) = connected_pair().await;
        let mut buffer = [0; 8];
        assert!(timeout(Duration::from_millis(10), server.read(&mut buffer))
            .await
            .is_err());
        client.write_all(b"later").await.unwrap();
        let n = server.read(&mut buffer).await.unwrap();
        assert_eq!(&buffer[..n], b"later");
    });
}

#[test]
fn a_dropped_pending_accept_leaves_the_listener_usable() {
    evloop::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        assert!(timeout(Duration::from_millis(10), listener.accept())
            .await
            .is_err());
        let address = listener.local_addr().unwrap();
        let client = spawn(async move { TcpStream::connect(address).await.map(drop) });
        listener.accept().await.unwrap();
        client.await.unwrap().unwrap();
    });
}

#[test]
fn dropping_a_socket_wakes_nothing_and_frees_its_registration() {
    evloop::run(async {
        for _ in 0..200 {
            let (client, server) = connected_pair().await;
            drop(client);
            drop(server);
        }
        // Registrations were reused without a stale event waking a new socket: a fresh pair
        // still waits for real data.
        let (client, server) = connected_pair().await;
        let mut buffer = [0; 1];
        assert!(timeout(Duration::from_millis(10), server.read(&mut buffer))
            .await
            .is_err());
        drop(client);
    });
}

#[test]
fn a_reader_and_a_writer_on_one_socket_are_woken_independently() {
    evloop::run(async {
        let (client, server) = connected_pair().await;
        let server = std::rc::Rc::new(server);
        let reader = spawn({
            let server = server.clone();
            async move {
                let mut buffer = [0; 3];
                server.read_exact(&mut buffer).await.unwrap();
                buffer
            }
        });
        let writer = spawn({
            let server = server.clone();
            async move { server.write_all(b"out").await.unwrap() }
        });
        writer.await.unwrap(); // completes while the reader still waits
        assert!(!reader.is_finished());
        let mut out = [0; 3];
        client.read_exact(&mut out).await.unwrap();
        client.write_all(b"inn").await.unwrap();
        assert_eq!(&reader.await.unwrap(), b"inn");
    });
}

#[test]
fn a_busy_loop_still_serves_io() {
    within(Duration::from_secs(10), || {
        evloop::run(async {
            let spinner = spawn(async {
                loop {
                    evloop::yield_now().await;
                }
            });
            let (client, server) = connected_pair().await;
            client.write_all(b"x").await.unwrap();
            let mut buffer = [0; 1];
            server.read_exact(&mut buffer).await.unwrap();
            spinner.abort();
        })
    });
}

/// Set in the child process that plays the 10,000 clients: the listener's address.
const CLIENTS_OF: &str = "EVLOOP_TEST_CLIENTS_OF";
const CONNECTIONS: usize = 10_000;

#[test]
fn ten_thousand_concurrent_connections() {
    // The server ends live in this process, the client ends in a child process (this same test,
    // re-run): each process then needs about 10,000 descriptors.
    let needed = (CONNECTIONS + 200) as u64;
    if !raise_fd_limit(needed) {
        eprintln!("skipped: the hard RLIMIT_NOFILE is below {needed}; raise it to run this test");
        return;
    }
    if let Ok(address) = std::env::var(CLIENTS_OF) {
        return run_clients(address.parse().unwrap());
    }
    within(Duration::from_secs(120), || {
        evloop::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let address = listener.local_addr().unwrap();
            let mut child = std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "ten_thousand_concurrent_connections",
                    "--nocapture",
                ])
                .env(CLIENTS_OF, address.to_string())
                .spawn()
                .unwrap();
            let mut connections = Vec::with_capacity(CONNECTIONS);
            for _ in 0..CONNECTIONS {
                let (stream, _) = listener.accept().await.unwrap();
                connections.push(spawn(async move {
                    let mut byte = [0; 1];
                    stream.read_exact(&mut byte).await.unwrap();
                    stream.write_all(&byte).await.unwrap();
                    // Wait for the client to close: every connection stays open until then.
                    assert_eq!(stream.read(&mut byte).await.unwrap(), 0);
                }));
            }
            for connection in connections {
                connection.await.unwrap();
            }
            let status = evloop::run_in_executor(move || child.wait())
                .await
                .unwrap()
                .unwrap();
            assert!(status.success(), "the client process failed: {status}");
        })
    });
}

/// The child process: 10,000 clients connected at once, each echoing one byte.
fn run_clients(address: SocketAddr) {
    evloop::run(async move {
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|i| {
                spawn(async move {
                    let stream = TcpStream::connect(address).await.unwrap();
                    stream.write_all(&[i as u8]).await.unwrap();
                    let mut byte = [0; 1];
                    stream.read_exact(&mut byte).await.unwrap();
                    assert_eq!(byte[0], i as u8);
                    stream
                })
            })
            .collect();
        let mut open = Vec::with_capacity(CONNECTIONS);
        for client in clients {
            open.push(client.await.unwrap());
        }
        assert_eq!(open.len(), CONNECTIONS, "all connections open at once");
    });
}

/// Raises the soft descriptor limit to at least `needed`, if the hard limit allows.
fn raise_fd_limit(needed: u64) -> bool {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write a properly sized struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return false;
        }
        if limit.rlim_cur >= needed {
            return true;
        }
        if limit.rlim_max < needed {
            return false;
        }
        limit.rlim_cur = needed;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0
    }
}

#[test]
fn a_readiness_waker_that_panics_does_not_stop_the_loop() {
    struct PanicOnWake;
    impl std::task::Wake for PanicOnWake {
        fn wake(self: std::sync::Arc<Self>) {
            panic!("this waker panics when woken (on purpose)");
        }
    }
    within(Duration::from_secs(30), || {
        evloop::run(async {
            let (client, server) = connected_pair().await;
            let (other_client, other_server) = connected_pair().await;
            // A read polled by hand with a panicking waker: the reactor wakes it on readiness.
            let mut buffer = [0; 4];
            let mut rogue = Box::pin(server.read(&mut buffer));
            let waker = std::task::Waker::from(std::sync::Arc::new(PanicOnWake));
            let mut cx = std::task::Context::from_waker(&waker);
            assert!(std::future::Future::poll(rogue.as_mut(), &mut cx).is_pending());
            // A task reading the other connection, woken in the same batch of events.
            let reader = spawn(async move {
                let mut byte = [0; 1];
                other_server.read_exact(&mut byte).await.unwrap();
                byte[0]
            });
            evloop::yield_now().await;
            client.write_all(b"ping").await.unwrap();
            other_client.write_all(b"!").await.unwrap();
            assert_eq!(reader.await.unwrap(), b'!');
            // The rogue read is still usable with a real waker.
            assert_eq!(rogue.await.unwrap(), 4);
        });
    });
}

/// A read that returns fewer bytes than asked ends the readiness it used (the socket is drained);
/// bytes sent after it must still wake the reader.
#[test]
fn bytes_sent_after_a_short_read_still_wake_the_reader() {
    within(Duration::from_secs(10), || {
        evloop::run(async {
            let (client, server) = connected_pair().await;
            for round in 0..50u8 {
                client.write_all(&[round; 10]).await.unwrap();
                let mut buffer = [0; 100];
                let n = server.read(&mut buffer).await.unwrap();
                assert!(n > 0 && n < buffer.len(), "a short read");
                let mut rest = vec![0; 10 - n];
                server.read_exact(&mut rest).await.unwrap();
                evloop::yield_now().await; // an event may come and go before the next write
            }
        });
    });
}

/// The peer's last bytes and its end of stream come in one event; a short read of those bytes
/// must not forget the end: the next read returns 0 instead of waiting for an edge that has
/// already passed.
#[test]
fn a_short_read_of_the_last_bytes_keeps_the_end_of_stream() {
    within(Duration::from_secs(10), || {
        evloop::run(async {
            let (client, server) = connected_pair().await;
            client.write_all(b"last").await.unwrap();
            client.shutdown(Shutdown::Write).unwrap();
            let mut buffer = [0; 100];
            assert_eq!(server.read(&mut buffer).await.unwrap(), 4);
            assert_eq!(server.read(&mut buffer).await.unwrap(), 0);
            assert_eq!(
                server.read(&mut buffer).await.unwrap(),
                0,
                "and stays ended"
            );
        });
    });
}
