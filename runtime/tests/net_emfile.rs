//! Running out of file descriptors on `accept`: the error reaches the caller, a server loop that
//! retries does not spin the CPU, and the server serves again once descriptors free up.
//!
//! The test lowers `RLIMIT_NOFILE`, so it runs in a child process (this test, re-run with an
//! environment variable) and leaves the test harness's own limit alone.

use std::io::{Read, Write};

use std::time::{Duration, Instant};

use evloop::net::TcpListener;

const CHILD: &str = "EVLOOP_TEST_EMFILE_CHILD";

#[test]
fn accept_survives_descriptor_exhaustion() {
    if std::env::var_os(CHILD).is_some() {
        return exhaust_and_recover();
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "accept_survives_descriptor_exhaustion",
            "--nocapture",
        ])
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

fn exhaust_and_recover() {
    set_fd_limit(64);
    let mut client = evloop::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        // A client that connects (the handshake completes in the backlog) and sends a byte.
        let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        client.write_all(b"x").unwrap();
        // Use up every remaining descriptor.
        let mut hogs = Vec::new();
        while let Ok(file) = std::fs::File::open("/dev/null") {
            hogs.push(file);
        }
        // 1. The error reaches the caller.
        let error = listener.accept().await.unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::EMFILE), "{error}");
        // 2. A server loop that just retries does not spin: each retry waits for the back-off.
        let cpu_before = thread_cpu_time();
        let wall_before = Instant::now();
        for _ in 0..6 {
            assert!(listener.accept().await.is_err());
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
        // 3. Once descriptors free up, the pending connection is served.
        drop(hogs);
        let (stream, _) = listener.accept().await.unwrap();
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
