//! UDP and Unix sockets over real loopback/paths, and `Async<T>` on a pipe.

use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::path::PathBuf;
use std::time::Duration;

use evloop::io::Async;
use evloop::net::{UdpSocket, UnixDatagram, UnixListener, UnixStream};
use evloop::spawn;
use evloop::time::timeout;

fn socket_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("evloop-{name}-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn udp_send_to_recv_from_and_connected_send_recv() {
    evloop::run(async {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        let (a_address, b_address) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        assert_eq!(a.send_to(b"one", b_address).await.unwrap(), 3);
        let mut buffer = [0; 16];
        let (n, from) = b.recv_from(&mut buffer).await.unwrap();
        assert_eq!((&buffer[..n], from), (&b"one"[..], a_address));
        a.connect(b_address).unwrap();
        b.connect(a_address).unwrap();
        assert_eq!(a.peer_addr().unwrap(), b_address);
        a.send(b"two").await.unwrap();
        let n = b.recv(&mut buffer).await.unwrap();
        assert_eq!(&buffer[..n], b"two");
    });
}

#[test]
fn a_udp_receiver_waits_until_a_datagram_arrives() {
    evloop::run(async {
        let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
        let address = receiver.local_addr().unwrap();
        let mut buffer = [0; 8];
        assert!(
            timeout(Duration::from_millis(10), receiver.recv_from(&mut buffer))
                .await
                .is_err()
        );
        let sender = spawn(async move {
            let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
            socket.send_to(b"late", address).await.unwrap();
        });
        let (n, _) = receiver.recv_from(&mut buffer).await.unwrap();
        assert_eq!(&buffer[..n], b"late");
        sender.await.unwrap();
    });
}

#[test]
fn udp_bind_to_a_used_port_is_a_clear_error() {
    evloop::run(async {
        let first = UdpSocket::bind("127.0.0.1:0").unwrap();
        let error = UdpSocket::bind(first.local_addr().unwrap()).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::AddrInUse);
    });
}

#[test]
fn unix_stream_listener_accept_and_half_close() {
    let path = socket_path("stream");
    evloop::run(async {
        let listener = UnixListener::bind(&path).unwrap();
        assert_eq!(
            listener.local_addr().unwrap().as_pathname(),
            Some(path.as_path())
        );
        let client = UnixStream::connect(&path).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        client.write_all(b"request").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut request = [0; 7];
        server.read_exact(&mut request).await.unwrap();
        assert_eq!(&request, b"request");
        assert_eq!(server.read(&mut [0; 1]).await.unwrap(), 0, "end of stream");
        server.write_all(b"ok").await.unwrap();
        let mut reply = [0; 2];
        client.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"ok");
    });
    std::fs::remove_file(path).unwrap();
}

#[test]
fn unix_stream_split_halves_in_two_tasks() {
    evloop::run(async {
        let (a, b) = UnixStream::pair().unwrap();
        let (mut reader, mut writer) = b.into_split();
        let echo = spawn(async move {
            let mut buffer = [0; 5];
            reader.read_exact(&mut buffer).await.unwrap();
            writer.write_all(&buffer).await.unwrap();
        });
        a.write_all(b"hello").await.unwrap();
        let mut reply = [0; 5];
        a.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"hello");
        echo.await.unwrap();
    });
}

#[test]
fn unix_connect_to_a_missing_path_is_a_clear_error() {
    evloop::run(async {
        let path = socket_path("missing");
        let error = UnixStream::connect(&path).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        assert!(error.to_string().contains("connecting to"), "{error}");
        let listener_path = socket_path("taken");
        let _listener = UnixListener::bind(&listener_path).unwrap();
        let error = UnixListener::bind(&listener_path).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::AddrInUse);
        std::fs::remove_file(listener_path).unwrap();
    });
}

#[test]
fn unix_datagrams() {
    let (a_path, b_path) = (socket_path("dgram-a"), socket_path("dgram-b"));
    evloop::run(async {
        let a = UnixDatagram::bind(&a_path).unwrap();
        let b = UnixDatagram::bind(&b_path).unwrap();
        a.send_to(b"to b", &b_path).await.unwrap();
        let mut buffer = [0; 8];
        let (n, from) = b.recv_from(&mut buffer).await.unwrap();
        assert_eq!(&buffer[..n], b"to b");
        assert_eq!(from.as_pathname(), Some(a_path.as_path()));
        b.connect(&a_path).unwrap();
        b.send(b"back").await.unwrap();
        let n = a.recv(&mut buffer).await.unwrap();
        assert_eq!(&buffer[..n], b"back");
        let (x, y) = UnixDatagram::pair().unwrap();
        x.send(b"pair").await.unwrap();
        let n = y.recv(&mut buffer).await.unwrap();
        assert_eq!(&buffer[..n], b"pair");
        let unbound = UnixDatagram::unbound().unwrap();
        unbound.send_to(b"anon", &a_path).await.unwrap();
        let n = a.recv(&mut buffer).await.unwrap();
        assert_eq!(&buffer[..n], b"anon");
    });
    std::fs::remove_file(a_path).unwrap();
    std::fs::remove_file(b_path).unwrap();
}

#[test]
fn async_wraps_a_pipe() {
    evloop::run(async {
        let (reader, writer) = std::io::pipe().unwrap();
        let reader = Async::new(reader).unwrap();
        let writer = Async::new(writer).unwrap();
        let mut buffer = [0; 4];
        assert!(
            timeout(
                Duration::from_millis(10),
                reader.read_with(|r| (&*r).read(&mut buffer))
            )
            .await
            .is_err(),
            "nothing written yet: the read waits"
        );
        writer.write_with(|w| (&*w).write(b"pipe")).await.unwrap();
        reader.readable().await.unwrap();
        let n = reader.read_with(|r| (&*r).read(&mut buffer)).await.unwrap();
        assert_eq!(&buffer[..n], b"pipe");
        let writer = writer.into_inner();
        drop(writer); // the reader now sees end-of-file
        assert_eq!(
            reader.read_with(|r| (&*r).read(&mut buffer)).await.unwrap(),
            0
        );
    });
}

#[test]
fn async_refuses_a_regular_file_clearly() {
    evloop::run(async {
        let file = std::fs::File::open("/proc/self/status").unwrap();
        let error = Async::new(file).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::EPERM), "{error}");
    });
}

#[test]
#[should_panic(expected = "must be created inside a runtime")]
fn sockets_outside_a_runtime_panic_with_advice() {
    let _ = UdpSocket::bind("127.0.0.1:0");
}
