//! `yield_now`: let the other ready tasks run — asyncio's `await asyncio.sleep(0)`.

#![forbid(unsafe_code)]

use std::future::poll_fn;
use std::task::Poll;

/// Suspends the current task once, letting every other ready task (and the loop's timers and
/// I/O, within the fairness bound) run before it continues.
///
/// It works by waking itself and returning `Pending` once: the task goes to the back of the run
/// queue.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// evloop::run(async {
///     let log = Rc::new(RefCell::new(Vec::new()));
///     let other = evloop::spawn({
///         let log = log.clone();
///         async move { log.borrow_mut().push("other") }
///     });
///     log.borrow_mut().push("main, before");
///     evloop::yield_now().await; // `other` runs here
///     log.borrow_mut().push("main, after");
///     other.await.unwrap();
///     assert_eq!(*log.borrow(), ["main, before", "other", "main, after"]);
/// });
/// ```
pub async fn yield_now() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}
