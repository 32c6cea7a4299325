//! Running out of file descriptors on `accept`, for TCP and Unix listeners alike: the error
//! reaches the caller, a server loop that retries does not spin the CPU (nor starve the loop's
//! timers), and the server serves again once descriptors free up.
//!
//! The tests lower `RLIMIT_NOFILE`, so each runs in a child process (the same test, re-run with
//! an environment variable) and leaves the test harness's own limit alone.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use evloop::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use futures_util::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const CHILD: &str = "EVLOOP_TEST_EMFILE_CHILD";

/// A kind of listener, with a plain blocking client for it.
trait Kind {
    type Listener;
    type Client: Read + Write;
    type Stream: AsyncRead + AsyncWrite + Unpin;
    /// Binds a listener and connects a client to it (the connection waits in the backlog).
    fn listen() -> (Self::Listener, Self::Client);
    async fn accept(listener: &Self::Listener) -> io::Result<Self::Stream>;
}

struct Tcp;

impl Kind for Tcp {
    type Listener = TcpListener;
    type Client = std::net::TcpStream;
    type Stream = TcpStream;
    fn listen() -> (TcpListener, std::net::TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        (listener, client)
    }
    async fn accept(listener: &TcpListener) -> io::Result<TcpStream> {
        Ok(listener.accept().await?.0)
    }
}

struct Unix;

impl Kind for Unix {
    type Listener = UnixListener;
    type Client = std::os::unix::net::UnixStream;
    type Stream = UnixStream;
    fn listen() -> (UnixListener, std::os::unix::net::UnixStream) {
        let path = std::env::temp_dir().join(format!("evloop-emfile-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).unwrap();
        let client = std::os::unix::net::UnixStream::connect(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        (listener, client)
    }
    async fn accept(listener: &UnixListener) -> io::Result<UnixStream> {
        Ok(listener.accept().await?.0)
    }
}

#[test]
fn tcp_accept_survives_descriptor_exhaustion() {
    in_a_child(
        "tcp_accept_survives_descriptor_exhaustion",
        exhaust_and_recover::<Tcp>,
    );
}

#[test]
fn unix_accept_survives_descriptor_exhaustion() {
    in_a_child(
        "unix_accept_survives_descriptor_exhaustion",
        exhaust_and_recover::<Unix>,
    );
}

/// Runs `body` in a child process running only the test `name`.
fn in_a_child(name: &str, body: fn()) {
    if std::env::var_os(CHILD).is_some() {
        return body();
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "child failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn exhaust_and_recover<K: Kind>() {
    set_fd_limit(64);
    let mut client = evloop::run(async {
        let (listener, mut client) = K::listen();
        client.write_all(b"x").unwrap();
        // Use up every remaining descriptor.
        let mut hogs = Vec::new();
        while let Ok(file) = std::fs::File::open("/dev/null") {
            hogs.push(file);
        }
        // 1. The error reaches the caller.
        let error = K::accept(&listener)
            .await
            .err()
            .expect("out of descriptors");
        assert_eq!(error.raw_os_error(), Some(libc::EMFILE), "{error}");
        // 2. A server loop that just retries does not spin: each retry waits for the back-off,
        //    and meanwhile the loop runs its other tasks and timers.
        let timer = evloop::spawn(evloop::time::sleep(Duration::from_millis(50)));
        let cpu_before = thread_cpu_time();
        let wall_before = Instant::now();
        for _ in 0..6 {
            assert!(K::accept(&listener).await.is_err());
        }
        let (cpu, wall) = (thread_cpu_time() - cpu_before, wall_before.elapsed());
        assert!(
            wall >= Duration::from_millis(250),
            "retried without backing off: {wall:?}"
        );
        assert!(
            cpu < Duration::from_millis(100),
            "the retry loop burned {cpu:?} of CPU"
        );
        assert!(timer.is_finished(), "the retry loop starved the timers");
        // 3. Once descriptors free up, the pending connection is served.
        drop(hogs);
        let mut stream = K::accept(&listener).await.unwrap();
        let mut byte = [0; 1];
        stream.read_exact(&mut byte).await.unwrap();
        assert_eq!(&byte, b"x");
        stream.write_all(b"y").await.unwrap();
        client
    });
    let mut reply = [0; 1];
    client
        .read_exact(&mut reply)
        .expect("the client gets the server's reply");
    assert_eq!(&reply, b"y");
}

fn set_fd_limit(soft: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write a properly sized struct we own.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = soft;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
    }
}

/// CPU time of the calling thread, from `getrusage` (reading /proc would need a descriptor,
/// and this test has none to spare).
fn thread_cpu_time() -> Duration {
    // SAFETY: `rusage` is plain data; getrusage fills the struct we own.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        assert_eq!(libc::getrusage(libc::RUSAGE_THREAD, &mut usage), 0);
        usage
    };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}
