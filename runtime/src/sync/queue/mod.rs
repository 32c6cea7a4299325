//! `Queue`, `LifoQueue`, `PriorityQueue`: hand items from producers to consumers, with an optional
//! bound — asyncio's `asyncio.Queue` family, shared by tasks *and* plain threads.
//!
//! One generic type, [`GenericQueue<T, B>`], does the work; the three names are aliases that pick
//! the [`Buffer`] (the order items come out in): [`Fifo`], [`Lifo`] or [`Priority`].
//!
//! # Hand-offs by promise
//!
//! Getters and putters wait in two [`WaitQueue`]s. When an item arrives and getters are waiting,
//! the item stays in the buffer but is *promised* to the oldest getter (the getter is granted,
//! `items_promised` goes up); when the getter runs, it takes an item. Free room is promised to
//! waiting putters the same way (`slots_promised`). So, under the state lock:
//!
//! - items free for a newcomer = `buffer.len() - items_promised`, room free for a newcomer =
//!   `maxsize - buffer.len() - slots_promised`. A newcomer takes at once only if nobody is queued
//!   before it and something is free: first come, first served;
//! - a getter dropped after its grant gives its promise back and the item is promised to the next
//!   getter; a getter dropped before its grant just leaves. Either way the item stays in the
//!   buffer: **a cancelled `get` never loses an item** (asyncio's did). A cancelled `put` drops
//!   the item it had not put yet, which is what cancelling a put means; the room it was promised
//!   passes to the next putter.
//!
//! # task_done, join, shutdown
//!
//! Every successful put counts one unfinished item; [`task_done`](GenericQueue::task_done) marks
//! one finished; [`join`](GenericQueue::join) waits until none is unfinished. [`shutdown`]
//! (asyncio 3.13) refuses further puts, wakes every waiting putter and getter with
//! [`QueueShutDown`] (putters get their item back), and lets getters drain what is left;
//! [`shutdown_immediate`] also empties the buffer, marking those items done, and *returns* them
//! rather than dropping them. After an immediate shutdown the buffer may hold fewer items than
//! were promised; a promised getter then gets `QueueShutDown`.
//!
//! # Threads
//!
//! [`put_blocking`](GenericQueue::put_blocking) and [`get_blocking`](GenericQueue::get_blocking)
//! drive the same futures on a plain thread (parked, not spinning), so a thread and a task can
//! share one queue — a thread producer feeding task consumers, or the other way round.
//!
//! Files: `mod.rs` (the queue, its state and the promise bookkeeping), `waiting.rs` (the futures
//! `put`, `get` and `join` return), `errors.rs`; the buffers are in `sync/buffer.rs`.
//!
//! [`shutdown`]: GenericQueue::shutdown
//! [`shutdown_immediate`]: GenericQueue::shutdown_immediate

#![forbid(unsafe_code)]

use std::fmt;
use std::time::Duration;

mod errors;
mod waiting;

pub use errors::{QueueShutDown, TaskDoneError, TryGetError, TryPutError};
pub use waiting::{QueueGet, QueueJoin, QueuePut, QueueStream};

use super::buffer::{Buffer, Fifo, Lifo, Priority};
use super::wait_queue::{change_then_wake, WaitQueue, Wakers};
use crate::foreign::{DropEach, FirstPanic};
use crate::park::{block_plain_thread, block_plain_thread_for};
use crate::shim::{lock, Mutex};

/// A first-in, first-out queue (asyncio's `Queue`).
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use evloop::sync::Queue;
///
/// evloop::run(async {
///     let queue = Rc::new(Queue::new(2)); // at most 2 items waiting
///     let consumer = evloop::spawn({
///         let queue = queue.clone();
///         async move {
///             let mut total = 0;
///             while let Ok(n) = queue.get().await {
///                 total += n;
///                 queue.task_done().unwrap();
///             }
///             total // `get` failed: the queue was shut down and is empty
///         }
///     });
///     for n in 1..=10 {
///         queue.put(n).await.unwrap(); // waits while the queue is full
///     }
///     queue.join().await; // every item was taken and marked done
///     queue.shutdown();
///     assert_eq!(consumer.await.unwrap(), 55);
/// });
/// ```
pub type Queue<T> = GenericQueue<T, Fifo<T>>;

/// A last-in, first-out queue (asyncio's `LifoQueue`).
///
/// ```
/// let stack = evloop::sync::LifoQueue::new(0);
/// for n in 1..=3 {
///     stack.put_nowait(n).unwrap();
/// }
/// assert_eq!(stack.get_nowait(), Ok(3));
/// ```
pub type LifoQueue<T> = GenericQueue<T, Lifo<T>>;

/// A queue that hands out the smallest item first (asyncio's `PriorityQueue`).
///
/// ```
/// let jobs = evloop::sync::PriorityQueue::new(0);
/// jobs.put_nowait((2, "later")).unwrap();
/// jobs.put_nowait((1, "urgent")).unwrap();
/// assert_eq!(jobs.get_nowait(), Ok((1, "urgent")));
/// ```
pub type PriorityQueue<T> = GenericQueue<T, Priority<T>>;

/// A queue whose order is chosen by `B`; use it through [`Queue`], [`LifoQueue`] or
/// [`PriorityQueue`].
pub struct GenericQueue<T, B: Buffer<T>> {
    /// The bound; 0 means unbounded.
    maxsize: usize,
    state: Mutex<State<T, B>>,
}

struct State<T, B> {
    items: B,
    getters: WaitQueue,
    putters: WaitQueue,
    joiners: WaitQueue,
    /// Items in `items` promised to granted getters that have not taken them yet.
    items_promised: usize,
    /// Free room promised to granted putters that have not filled it yet.
    slots_promised: usize,
    /// Items put and not yet marked done.
    unfinished: usize,
    shut_down: bool,
    _items: std::marker::PhantomData<T>,
}

impl<T> Queue<T> {
    /// A FIFO queue holding at most `maxsize` items (0: unbounded).
    pub fn new(maxsize: usize) -> Queue<T> {
        GenericQueue::with_buffer(maxsize)
    }
}

impl<T> LifoQueue<T> {
    /// A LIFO queue holding at most `maxsize` items (0: unbounded).
    pub fn new(maxsize: usize) -> LifoQueue<T> {
        GenericQueue::with_buffer(maxsize)
    }
}

impl<T: Ord> PriorityQueue<T> {
    /// A priority queue holding at most `maxsize` items (0: unbounded).
    pub fn new(maxsize: usize) -> PriorityQueue<T> {
        GenericQueue::with_buffer(maxsize)
    }
}

impl<T, B: Buffer<T>> GenericQueue<T, B> {
    /// A queue with buffer `B`, holding at most `maxsize` items (0: unbounded).
    pub fn with_buffer(maxsize: usize) -> GenericQueue<T, B> {
        GenericQueue {
            maxsize,
            state: Mutex::new(State {
                items: B::default(),
                getters: WaitQueue::default(),
                putters: WaitQueue::default(),
                joiners: WaitQueue::default(),
                items_promised: 0,
                slots_promised: 0,
                unfinished: 0,
                shut_down: false,
                _items: std::marker::PhantomData,
            }),
        }
    }

    /// Puts `item` in, waiting while the queue is full.
    ///
    /// # Errors
    ///
    /// [`QueueShutDown`] holding `item` if the queue is (or gets) shut down first.
    pub fn put(&self, item: T) -> QueuePut<'_, T, B> {
        QueuePut {
            queue: self,
            item: Some(item),
            key: None,
        }
    }

    /// The items as a `futures_core::Stream`: each in turn, as [`get`](Self::get) returns it,
    /// until the queue is shut down and drained (`async for item in queue`, with a stop).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_util::StreamExt;
    /// use evloop::sync::Queue;
    ///
    /// evloop::run(async {
    ///     let queue = Queue::new(0);
    ///     for n in 1..=3 {
    ///         queue.put_nowait(n).unwrap();
    ///     }
    ///     queue.shutdown(); // getters drain what is left, then the stream ends
    ///     let items: Vec<i32> = queue.stream().collect().await;
    ///     assert_eq!(items, [1, 2, 3]);
    /// });
    /// ```
    pub fn stream(&self) -> QueueStream<'_, T, B> {
        QueueStream {
            queue: self,
            get: None,
        }
    }

    /// Takes the next item, waiting while the queue is empty.
    ///
    /// # Errors
    ///
    /// [`QueueShutDown`] if the queue is shut down and has no item left for this getter.
    pub fn get(&self) -> QueueGet<'_, T, B> {
        QueueGet {
            queue: self,
            key: None,
        }
    }

    /// Puts `item` in if there is room now (and no putter is queued before it).
    ///
    /// # Errors
    ///
    /// [`TryPutError::Full`] (asyncio's `QueueFull`) or [`TryPutError::ShutDown`], each with
    /// `item`.
    pub fn put_nowait(&self, item: T) -> Result<(), TryPutError<T>> {
        let mut wakers = Wakers::new();
        let mut panics = FirstPanic::new();
        let result = {
            let mut state = lock(&self.state);
            if state.shut_down {
                Err(TryPutError::ShutDown(item))
            } else if state.putters.is_empty() && state.free_slots(self.maxsize) > 0 {
                state.store(item, &mut wakers, &mut panics);
                Ok(())
            } else {
                Err(TryPutError::Full(item))
            }
        };
        wakers.wake_all();
        panics.resume();
        result
    }

    /// Takes an item if one is there for the taking now.
    ///
    /// # Errors
    ///
    /// [`TryGetError::Empty`] (asyncio's `QueueEmpty`), or [`TryGetError::ShutDown`] if it is
    /// also shut down, so nothing will come.
    pub fn get_nowait(&self) -> Result<T, TryGetError> {
        let mut wakers = Wakers::new();
        let mut panics = FirstPanic::new();
        let result = {
            let mut state = lock(&self.state);
            if state.has_unpromised_item() {
                Ok(state.take(self.maxsize, &mut wakers, &mut panics))
            } else if state.shut_down {
                Err(TryGetError::ShutDown)
            } else {
                Err(TryGetError::Empty)
            }
        };
        wakers.wake_all();
        panics.resume();
        result.map(|item| item.expect("an unpromised item is in the buffer"))
    }

    /// Puts `item` in from a plain thread, blocking it while the queue is full.
    ///
    /// # Errors
    ///
    /// As [`put`](GenericQueue::put).
    ///
    /// # Panics
    ///
    /// On an evloop loop thread, which would stop the loop while it waits: use `put().await`.
    pub fn put_blocking(&self, item: T) -> Result<(), QueueShutDown<T>> {
        block_plain_thread(
            &mut self.put(item),
            "Queue::put_blocking",
            "use `put(item).await`",
        )
    }

    /// Takes an item from a plain thread, blocking it while the queue is empty.
    ///
    /// # Errors
    ///
    /// As [`get`](GenericQueue::get).
    ///
    /// # Panics
    ///
    /// On an evloop loop thread, which would stop the loop while it waits: use `get().await`.
    pub fn get_blocking(&self) -> Result<T, QueueShutDown> {
        block_plain_thread(&mut self.get(), "Queue::get_blocking", "use `get().await`")
    }

    /// Like [`put_blocking`](GenericQueue::put_blocking), giving up after `timeout`
    /// (`queue.Queue.put(item, timeout=)`).
    ///
    /// # Errors
    ///
    /// [`TryPutError::Full`] with `item` if no room came in time (Python's `queue.Full`), or
    /// [`TryPutError::ShutDown`] with `item`.
    ///
    /// # Panics
    ///
    /// On an evloop loop thread: use `timeout(d, put(item)).await` there.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::sync::{Queue, TryPutError};
    ///
    /// let queue = Queue::new(1);
    /// queue.put_blocking_timeout("first", Duration::from_millis(10)).unwrap();
    /// let refused = queue.put_blocking_timeout("second", Duration::from_millis(10));
    /// assert!(matches!(refused, Err(TryPutError::Full("second"))));
    /// ```
    #[track_caller]
    pub fn put_blocking_timeout(&self, item: T, timeout: Duration) -> Result<(), TryPutError<T>> {
        let mut put = self.put(item);
        match block_plain_thread_for(
            &mut put,
            timeout,
            "Queue::put_blocking_timeout",
            "use `evloop::time::timeout(d, queue.put(item)).await`",
        ) {
            Some(put) => put.map_err(|QueueShutDown(item)| TryPutError::ShutDown(item)),
            None => Err(TryPutError::Full(put.take_item())),
        }
    }

    /// Like [`get_blocking`](GenericQueue::get_blocking), giving up after `timeout`
    /// (`queue.Queue.get(timeout=)`).
    ///
    /// # Errors
    ///
    /// [`TryGetError::Empty`] if no item came in time (Python's `queue.Empty`), or
    /// [`TryGetError::ShutDown`].
    ///
    /// # Panics
    ///
    /// On an evloop loop thread: use `timeout(d, get()).await` there.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use evloop::sync::{Queue, TryGetError};
    ///
    /// let queue = Queue::new(0);
    /// assert_eq!(queue.get_blocking_timeout(Duration::from_millis(5)), Err(TryGetError::Empty));
    /// queue.put_blocking("job").unwrap();
    /// assert_eq!(queue.get_blocking_timeout(Duration::from_millis(5)), Ok("job"));
    /// ```
    #[track_caller]
    pub fn get_blocking_timeout(&self, timeout: Duration) -> Result<T, TryGetError> {
        match block_plain_thread_for(
            &mut self.get(),
            timeout,
            "Queue::get_blocking_timeout",
            "use `evloop::time::timeout(d, queue.get()).await`",
        ) {
            Some(got) => got.map_err(|QueueShutDown(())| TryGetError::ShutDown),
            None => Err(TryGetError::Empty),
        }
    }

    /// Marks one item taken with `get` as processed (for [`join`](GenericQueue::join)).
    ///
    /// # Errors
    ///
    /// [`TaskDoneError`] if called more times than items were put (asyncio's `ValueError`).
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        change_then_wake(&self.state, |state, wakers| {
            if state.unfinished == 0 {
                return Err(TaskDoneError(()));
            }
            state.finish(1, wakers);
            Ok(())
        })
    }

    /// Waits until every item put has been marked done with
    /// [`task_done`](GenericQueue::task_done). Returns at once if none is unfinished.
    pub fn join(&self) -> QueueJoin<'_, T, B> {
        QueueJoin {
            queue: self,
            key: None,
        }
    }

    /// Shuts the queue down: puts fail from now on, waiting putters get their items back in
    /// [`QueueShutDown`], and getters get `QueueShutDown` once the items left are gone.
    pub fn shutdown(&self) {
        change_then_wake(&self.state, State::shut_down);
    }

    /// Shuts the queue down (as [`shutdown`](GenericQueue::shutdown)) and takes every item out
    /// at once: they are marked done, getters get [`QueueShutDown`] right away, and the items are
    /// returned to the caller, so none is lost.
    pub fn shutdown_immediate(&self) -> Vec<T> {
        change_then_wake(&self.state, |state, wakers| {
            state.shut_down(wakers);
            let mut drained = Vec::new();
            while let Some(item) = state.items.pop() {
                drained.push(item);
            }
            let done = drained.len().min(state.unfinished);
            state.finish(done, wakers);
            drained
        })
    }

    /// The number of items in the queue.
    ///
    /// **Differs from asyncio on purpose:** an item already promised to a getter that was woken
    /// but has not resumed yet still counts (it is in the queue until that getter takes it), and
    /// nobody else can take it: a cancelled getter passes its promise on, so the item is never
    /// lost, and a newcomer never overtakes the woken getter.
    pub fn qsize(&self) -> usize {
        lock(&self.state).items.len()
    }

    /// Whether the queue holds no item.
    pub fn is_empty(&self) -> bool {
        self.qsize() == 0
    }

    /// Whether the queue holds `maxsize` items (never, if unbounded).
    pub fn is_full(&self) -> bool {
        self.maxsize > 0 && self.qsize() >= self.maxsize
    }

    /// The bound given at creation; 0 means unbounded.
    pub fn maxsize(&self) -> usize {
        self.maxsize
    }

    /// Whether [`shutdown`](GenericQueue::shutdown) was called.
    pub fn is_shut_down(&self) -> bool {
        lock(&self.state).shut_down
    }

    /// How many tasks and threads wait in `get` right now (one already promised an item but not
    /// yet resumed is not counted).
    pub fn n_waiting_getters(&self) -> usize {
        lock(&self.state).getters.len()
    }

    /// How many tasks and threads wait in `put` for room right now.
    pub fn n_waiting_putters(&self) -> usize {
        lock(&self.state).putters.len()
    }
}

impl<T, B: Buffer<T>> State<T, B> {
    fn has_unpromised_item(&self) -> bool {
        // `>`, not a subtraction: after `shutdown_immediate` the buffer may hold fewer items than
        // were promised.
        self.items.len() > self.items_promised
    }

    fn free_slots(&self, maxsize: usize) -> usize {
        if maxsize == 0 {
            return usize::MAX;
        }
        maxsize.saturating_sub(self.items.len() + self.slots_promised)
    }

    /// Stores an item (counting it unfinished) and promises items to waiting getters.
    ///
    /// A panic from the buffer (a `PriorityQueue` item's `Ord`) goes into `panics`, for the caller
    /// to resume once it has released the lock and woken whom it must; the item is stored all the
    /// same (the [`Buffer`] contract), so the counts go on as if nothing had happened.
    fn store(&mut self, item: T, wakers: &mut Wakers, panics: &mut FirstPanic) {
        panics.catch(|| self.items.push(item));
        self.unfinished += 1;
        self.promise_items(wakers);
    }

    /// Takes the next item (`None` only after `shutdown_immediate` emptied the buffer under a
    /// promise, or if the buffer panicked) and promises the room it leaves to waiting putters.
    ///
    /// A panic from the buffer goes into `panics`, as in `store`. The item stays stored, and free:
    /// the caller may have spent a promise on it, so it is promised again to the getters waiting.
    fn take(&mut self, maxsize: usize, wakers: &mut Wakers, panics: &mut FirstPanic) -> Option<T> {
        match panics.catch(|| self.items.pop()) {
            Some(item) => {
                self.promise_slots(maxsize, wakers);
                item
            }
            None => {
                self.promise_items(wakers);
                None
            }
        }
    }

    fn promise_items(&mut self, wakers: &mut Wakers) {
        let State {
            items,
            getters,
            items_promised,
            ..
        } = self;
        getters.grant_in_order(
            |_| {
                let free = items.len() > *items_promised;
                *items_promised += usize::from(free);
                free
            },
            wakers,
        );
    }

    fn promise_slots(&mut self, maxsize: usize, wakers: &mut Wakers) {
        let mut free = self.free_slots(maxsize);
        let State {
            putters,
            slots_promised,
            ..
        } = self;
        putters.grant_in_order(
            |_| {
                let fits = free > 0;
                if fits {
                    free -= 1;
                    *slots_promised += 1;
                }
                fits
            },
            wakers,
        );
    }

    fn finish(&mut self, done: usize, wakers: &mut Wakers) {
        self.unfinished -= done;
        if self.unfinished == 0 {
            self.joiners.grant_all(wakers);
        }
    }

    fn shut_down(&mut self, wakers: &mut Wakers) {
        self.shut_down = true;
        self.getters.wake_waiting(wakers);
        self.putters.wake_waiting(wakers);
    }
}

impl<T, B: Buffer<T>> Drop for GenericQueue<T, B> {
    /// Drops the items left, each on its own: one item's panicking `Drop` neither keeps the
    /// others from being dropped nor, by a second panic, aborts the process. The first panic is
    /// resumed at the end.
    fn drop(&mut self) {
        let items = lock(&self.state).items.drain_unordered();
        drop(DropEach(items));
    }
}

impl<T, B: Buffer<T>> fmt::Debug for GenericQueue<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Queue")
            .field("maxsize", &self.maxsize)
            .field("qsize", &state.items.len())
            .field("getters", &state.getters)
            .field("putters", &state.putters)
            .field("unfinished", &state.unfinished)
            .field("shut_down", &state.shut_down)
            .finish()
    }
}
