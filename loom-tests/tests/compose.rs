//! loom model of the ready set's cross-thread path: a task-group child woken from another thread
//! while the group polls. The same per-child wakers drive gather, as_completed and wait.
//!
//! Run with: `RUSTFLAGS="--cfg loom" cargo test -p loom-tests --release`
#![cfg(loom)]

use std::future::poll_fn;
use std::task::{Poll, Waker};

use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;

/// A child of a task group waits for a flag that another thread sets and wakes. Property: the
/// child's wake-up reaches the group (through its per-child waker and the group's own task
/// waker) and the group completes: loom reports a deadlock otherwise.
#[test]
fn a_group_child_woken_from_another_thread_completes_the_group() {
    loom::model(|| {
        let rt = evloop::Runtime::new().unwrap();
        let flag = Arc::new((AtomicBool::new(false), Mutex::new(None::<Waker>)));
        let setter = {
            let flag = flag.clone();
            thread::spawn(move || {
                flag.0.store(true, Ordering::SeqCst);
                let waker = flag.1.lock().unwrap().take();
                if let Some(waker) = waker {
                    waker.wake();
                }
            })
        };
        let result = rt.block_on(evloop::task_group(async |group| {
            let flag = &flag;
            let child = group.spawn(poll_fn(move |cx| {
                *flag.1.lock().unwrap() = Some(cx.waker().clone());
                if flag.0.load(Ordering::SeqCst) {
                    Poll::Ready(Ok::<_, ()>(1))
                } else {
                    Poll::Pending
                }
            }));
            Ok(child.await)
        }));
        setter.join().unwrap();
        assert_eq!(result.unwrap(), 1);
    });
}
