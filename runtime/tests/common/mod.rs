//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test file uses its own subset

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

/// Counts how many values carrying it have been dropped.
#[derive(Clone, Default)]
pub struct DropCounter(pub Arc<AtomicUsize>);

impl DropCounter {
    pub fn token(&self) -> DropToken {
        DropToken(self.0.clone())
    }
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Increments its counter when dropped.
pub struct DropToken(Arc<AtomicUsize>);

impl Drop for DropToken {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Runs `f` on a fresh thread and fails the test (instead of hanging it) if it takes longer than
/// `limit` — for tests whose failure mode is a lost wake-up.
/// Under Miri, which interprets the code about a hundred times slower, the limit is stretched.
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let limit = if cfg!(miri) { limit * 50 } else { limit };
    let (done, result) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = done.send(f());
    });
    match result.recv_timeout(limit) {
        Ok(value) => {
            worker.join().unwrap();
            value
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The closure panicked: re-raise its panic here.
            std::panic::resume_unwind(worker.join().unwrap_err())
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("did not finish within {limit:?}: a wake-up was lost")
        }
    }
}

struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls a future once with a no-op waker (to put a waiter in a queue by hand, at a chosen point).
pub fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::pin::Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// Drives a future on the calling plain thread (no runtime), parking between polls.
pub fn block_on_thread<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}

/// A flag that one side sets and the other awaits: a minimal cross-thread notification built only
/// on `Waker`, to test evloop's wake-up paths without any evloop primitive.
#[derive(Clone, Default)]
pub struct Flag {
    inner: Arc<(AtomicBool, Mutex<Option<Waker>>)>,
}

impl Flag {
    pub fn set(&self) {
        self.inner.0.store(true, Ordering::SeqCst);
        if let Some(waker) = self.inner.1.lock().unwrap().take() {
            waker.wake();
        }
    }

    pub async fn wait(&self) {
        std::future::poll_fn(|cx| {
            if self.inner.0.load(Ordering::SeqCst) {
                return Poll::Ready(());
            }
            *self.inner.1.lock().unwrap() = Some(cx.waker().clone());
            if self.inner.0.load(Ordering::SeqCst) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }
}

/// Jobs on `pool` that each wait at their own gate, then return their value: `(gates, futures)`,
/// in `values`' order. A test lets them finish in the order it wants by sending on the gates,
/// instead of relying on how long each sleeps.
pub fn gated_jobs(
    pool: &evloop::blocking::ThreadPoolExecutor,
    values: impl IntoIterator<Item = u64>,
) -> (
    Vec<mpsc::Sender<()>>,
    Vec<evloop::blocking::PoolFuture<u64>>,
) {
    values
        .into_iter()
        .map(|value| {
            let (open, gate) = mpsc::channel::<()>();
            (open, pool.submit(move || gate.recv().map_or(0, |()| value)))
        })
        .unzip()
}

/// Runs `future` on a runtime whose clock is paused: timers fire in deadline order at exact
/// (virtual) instants, and the clock jumps to the next deadline when the loop is idle, so durations
/// measured with `evloop::time::Instant` do not depend on how loaded the machine is.
pub fn run_paused<F: Future>(future: F) -> F::Output {
    evloop::Runtime::builder()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(future)
}
