//! The futures a queue's callers await: [`QueuePut`], [`QueueGet`] and [`QueueJoin`]. Each polls
//! under the queue's lock, takes what was promised to it (`mod.rs`: "Hand-offs by promise"), and
//! on `Drop` passes an unused promise on, so that a cancelled put or get loses nothing. Last, the
//! stream of items, [`QueueStream`]: a `get` after another.

use futures_core::Stream;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::{GenericQueue, QueueShutDown};
use crate::coop;
use crate::foreign::FirstPanic;
use crate::shim::lock;
use crate::sync::buffer::Buffer;
use crate::sync::wait_queue::{change_then_wake, Removed, Wakers};

/// The future returned by [`GenericQueue::put`](super::GenericQueue::put).
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct QueuePut<'a, T, B: Buffer<T>> {
    pub(super) queue: &'a GenericQueue<T, B>,
    /// The item, until it is in the queue or handed back.
    pub(super) item: Option<T>,
    /// Our place among the putters, once we had to wait.
    pub(super) key: Option<usize>,
}

// The item is moved, never pinned.
impl<T, B: Buffer<T>> Unpin for QueuePut<'_, T, B> {}

impl<T, B: Buffer<T>> Future for QueuePut<'_, T, B> {
    type Output = Result<(), QueueShutDown<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), QueueShutDown<T>>> {
        // A first try may succeed without waiting: it spends the task's budget (`coop.rs`).
        if self.key.is_none() && coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let queue = self.queue;
        let mut wakers = Wakers::new();
        let mut panics = FirstPanic::new();
        let mut state = lock(&queue.state);
        let may_put = match self.key {
            None => state.putters.is_empty() && state.free_slots(queue.maxsize) > 0,
            Some(key) => {
                let granted = state.putters.poll_granted(key, cx);
                if granted {
                    state.slots_promised -= 1;
                    self.key = None;
                }
                granted
            }
        };
        let item = self.item.take().expect("QueuePut polled after it finished");
        let outcome = if state.shut_down {
            if let Some(key) = self.key.take() {
                state.putters.remove(key);
            }
            Err(QueueShutDown(item))
        } else if may_put {
            state.store(item, &mut wakers, &mut panics);
            Ok(())
        } else {
            if self.key.is_none() {
                self.key = Some(state.putters.push(1, cx.waker()));
            }
            self.item = Some(item);
            return Poll::Pending;
        };
        drop(state);
        wakers.wake_all();
        panics.resume();
        Poll::Ready(outcome)
    }
}

impl<T, B: Buffer<T>> QueuePut<'_, T, B> {
    /// Gives up putting and hands the item back (a timed-out `put_blocking_timeout`); leaving
    /// the queue is `Drop`'s work, as for a cancelled put.
    pub(super) fn take_item(mut self) -> T {
        self.item
            .take()
            .expect("a pending put still holds its item")
    }
}

impl<T, B: Buffer<T>> Drop for QueuePut<'_, T, B> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let maxsize = self.queue.maxsize;
        change_then_wake(&self.queue.state, |state, wakers| {
            if state.putters.remove(key) != Removed::Waiting {
                // Room was promised to us and never used: promise it to the next putter.
                state.slots_promised -= 1;
                state.promise_slots(maxsize, wakers);
            }
        });
    }
}

impl<T, B: Buffer<T>> fmt::Debug for QueuePut<'_, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueuePut")
            .field("queued", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

/// The future returned by [`GenericQueue::get`](super::GenericQueue::get).
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct QueueGet<'a, T, B: Buffer<T>> {
    pub(super) queue: &'a GenericQueue<T, B>,
    /// Our place among the getters, once we had to wait.
    pub(super) key: Option<usize>,
}

impl<T, B: Buffer<T>> Future for QueueGet<'_, T, B> {
    type Output = Result<T, QueueShutDown>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, QueueShutDown>> {
        // A first try may succeed without waiting: it spends the task's budget (`coop.rs`).
        if self.key.is_none() && coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        let queue = self.queue;
        let mut wakers = Wakers::new();
        let mut panics = FirstPanic::new();
        let mut state = lock(&queue.state);
        let item = match self.key {
            None if state.getters.is_empty() && state.has_unpromised_item() => {
                state.take(queue.maxsize, &mut wakers, &mut panics)
            }
            Some(key) if state.getters.poll_granted(key, cx) => {
                self.key = None;
                state.items_promised -= 1;
                state.take(queue.maxsize, &mut wakers, &mut panics)
            }
            _ if state.shut_down => {
                if let Some(key) = self.key.take() {
                    state.getters.remove(key);
                }
                None
            }
            None => {
                self.key = Some(state.getters.push(1, cx.waker()));
                return Poll::Pending;
            }
            Some(_) => return Poll::Pending,
        };
        drop(state);
        wakers.wake_all();
        panics.resume();
        Poll::Ready(item.ok_or(QueueShutDown(())))
    }
}

impl<T, B: Buffer<T>> Drop for QueueGet<'_, T, B> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        change_then_wake(&self.queue.state, |state, wakers| {
            if state.getters.remove(key) != Removed::Waiting {
                // An item was promised to us and never taken: promise it to the next getter.
                state.items_promised -= 1;
                state.promise_items(wakers);
            }
        });
    }
}

impl<T, B: Buffer<T>> fmt::Debug for QueueGet<'_, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueGet")
            .field("queued", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

/// The future returned by [`GenericQueue::join`](super::GenericQueue::join).
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct QueueJoin<'a, T, B: Buffer<T>> {
    pub(super) queue: &'a GenericQueue<T, B>,
    pub(super) key: Option<usize>,
}

impl<T, B: Buffer<T>> Future for QueueJoin<'_, T, B> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = lock(&self.queue.state);
        match self.key {
            None if state.unfinished == 0 => Poll::Ready(()),
            None => {
                let key = state.joiners.push(1, cx.waker());
                drop(state);
                self.key = Some(key);
                Poll::Pending
            }
            Some(key) if state.joiners.poll_granted(key, cx) => {
                drop(state);
                self.key = None;
                Poll::Ready(())
            }
            Some(_) => Poll::Pending,
        }
    }
}

impl<T, B: Buffer<T>> Drop for QueueJoin<'_, T, B> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            // Nothing to pass on: reaching zero grants every joiner.
            lock(&self.queue.state).joiners.remove(key);
        }
    }
}

impl<T, B: Buffer<T>> fmt::Debug for QueueJoin<'_, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueJoin")
            .field("queued", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

/// The items of a queue as a `futures_core::Stream` (see
/// [`GenericQueue::stream`](super::GenericQueue::stream)): each item in turn, as `get` returns
/// it, ending once the queue is shut down and drained.
///
/// Dropping the stream while it waits is dropping a `get`: no item is lost.
#[must_use = "streams do nothing unless polled"]
pub struct QueueStream<'a, T, B: Buffer<T>> {
    pub(super) queue: &'a GenericQueue<T, B>,
    /// The `get` under way, between polls.
    pub(super) get: Option<QueueGet<'a, T, B>>,
}

impl<T, B: Buffer<T>> Stream for QueueStream<'_, T, B> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let queue = self.queue;
        let get = self.get.get_or_insert_with(|| queue.get());
        let item = ready!(Pin::new(get).poll(cx));
        self.get = None;
        Poll::Ready(item.ok())
    }
}

impl<T, B: Buffer<T>> fmt::Debug for QueueStream<'_, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueStream")
            .field("waiting", &self.get.is_some())
            .finish_non_exhaustive()
    }
}
