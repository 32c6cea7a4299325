//! The classic case for a semaphore: 100 "API calls", at most 2 at a time.
//!
//! ```sh
//! cargo run --release --example rate_limited_crawler
//! ```
//!
//! The "API" is a small TCP server on loopback, in the same loop, that answers each request after
//! 20 ms and counts how many requests it is serving at once. The crawler starts all 100 calls
//! together as tasks; each takes a permit of a `Semaphore(2)` before it connects. The server's peak
//! is the number that matters (it is what the rate limit protects), and the crawler's own count
//! must agree. With 2 at a time, 100 calls of 20 ms take about a second.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use evloop::net::{TcpListener, TcpStream};
use evloop::sync::Semaphore;

const CALLS: usize = 100;
const AT_A_TIME: usize = 2;
const SERVICE_TIME: Duration = Duration::from_millis(20);

/// Current and peak number of things in progress.
#[derive(Default)]
struct Concurrency {
    now: Cell<usize>,
    peak: Cell<usize>,
}

impl Concurrency {
    fn enter(&self) {
        self.now.set(self.now.get() + 1);
        self.peak.set(self.peak.get().max(self.now.get()));
    }
    fn leave(&self) {
        self.now.set(self.now.get() - 1);
    }
}

/// The rate-limited "API": reads a request number, waits, answers with its square.
async fn serve(listener: TcpListener, load: Rc<Concurrency>) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let load = load.clone();
        evloop::spawn(async move {
            let mut request = [0; 8];
            if stream.read_exact(&mut request).await.is_err() {
                return;
            }
            load.enter();
            evloop::time::sleep(SERVICE_TIME).await;
            let n = u64::from_le_bytes(request);
            let _ = stream.write_all(&(n * n).to_le_bytes()).await;
            load.leave();
        });
    }
}

/// One API call: connect, send `n`, read the answer.
async fn call(address: std::net::SocketAddr, n: u64) -> std::io::Result<u64> {
    let stream = TcpStream::connect(address).await?;
    stream.write_all(&n.to_le_bytes()).await?;
    let mut answer = [0; 8];
    stream.read_exact(&mut answer).await?;
    Ok(u64::from_le_bytes(answer))
}

fn main() -> std::io::Result<()> {
    evloop::run(async {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        let server_load = Rc::new(Concurrency::default());
        let server = evloop::spawn(serve(listener, server_load.clone()));

        let limit = Rc::new(Semaphore::new(AT_A_TIME));
        let crawler_load = Rc::new(Concurrency::default());
        let start = Instant::now();
        let calls: Vec<_> = (0..CALLS as u64)
            .map(|n| {
                let (limit, crawler_load) = (limit.clone(), crawler_load.clone());
                evloop::spawn(async move {
                    let _permit = limit.acquire().await; // released when the call is done
                    crawler_load.enter();
                    let answer = call(address, n).await;
                    crawler_load.leave();
                    answer
                })
            })
            .collect();
        let mut checksum = 0;
        for (n, handle) in calls.into_iter().enumerate() {
            let answer = handle.await.expect("a call task failed")?;
            assert_eq!(answer, (n * n) as u64);
            checksum += answer;
        }
        let elapsed = start.elapsed();
        server.abort();

        println!("{CALLS} calls, at most {AT_A_TIME} at a time, in {elapsed:.2?}");
        println!(
            "peak concurrency: {} at the server, {} in the crawler",
            server_load.peak.get(),
            crawler_load.peak.get()
        );
        println!("sum of answers: {checksum}");
        assert_eq!(
            server_load.peak.get(),
            AT_A_TIME,
            "the limit was not respected"
        );
        assert_eq!(crawler_load.peak.get(), AT_A_TIME);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    /// `cargo test` runs the example itself: its assertions check the limit and every answer.
    #[test]
    fn the_crawler_never_exceeds_its_limit() {
        super::main().unwrap();
    }
}
