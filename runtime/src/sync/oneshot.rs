//! One-shot futures: a value promised by one side, awaited by the other — asyncio's
//! `loop.create_future()` with `set_result` called from another task or thread.
//!
//! [`channel`] returns a [`Sender`] (the promise: `set_result`) and a [`Receiver`] (the future:
//! `await`). The sender may be cloned and shared between threads; the first `send` wins, and any
//! later one gets its value back in [`SendError::AlreadySent`] — asyncio's `InvalidStateError`, as a
//! value instead of an exception. Sending after the receiver is gone gives the value back in
//! [`SendError::ReceiverGone`]. If every sender goes away without sending, the receiver gets
//! [`RecvError`] (the promise was broken) instead of waiting forever.
//!
//! The state is one small struct behind a mutex from the loom shim: a hand-off that happens once
//! does not need anything cleverer, and loom checks it as is.

#![forbid(unsafe_code)]

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::shim::{lock, Arc, Mutex};

/// Creates a connected promise/future pair.
///
/// # Examples
///
/// ```
/// use evloop::sync::oneshot;
///
/// evloop::run(async {
///     let (promise, future) = oneshot::channel();
///     std::thread::spawn(move || {
///         // Some work on a plain thread, then `set_result`:
///         promise.send(6 * 7).unwrap();
///     });
///     assert_eq!(future.await, Ok(42));
/// });
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Mutex::new(State {
        value: Value::Pending,
        senders: 1,
        receiver_alive: true,
        receiver_waker: None,
    }));
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

struct State<T> {
    value: Value<T>,
    /// Live `Sender` clones; at 0 with nothing sent, the promise is broken.
    senders: usize,
    receiver_alive: bool,
    receiver_waker: Option<Waker>,
}

enum Value<T> {
    Pending,
    Sent(T),
    /// Sent and then taken by the receiver.
    Received,
}

/// The promise side: sets the value once. Clone it to let several tasks or threads race to set it.
///
/// # Examples
///
/// ```
/// use evloop::sync::oneshot;
///
/// evloop::run(async {
///     let (promise, future) = oneshot::channel();
///     let racers: Vec<_> = (1..=3)
///         .map(|n| {
///             let promise = promise.clone();
///             std::thread::spawn(move || promise.send(n).is_ok())
///         })
///         .collect();
///     let winners = racers.into_iter().map(|r| r.join().unwrap()).filter(|&won| won).count();
///     assert_eq!(winners, 1); // the first to send wins; the others get their value back
///     assert!((1..=3).contains(&future.await.unwrap()));
/// });
/// ```
pub struct Sender<T> {
    shared: Arc<Mutex<State<T>>>,
}

impl<T> Sender<T> {
    /// Sets the value and wakes the receiver.
    ///
    /// # Errors
    ///
    /// The value comes back in [`SendError::AlreadySent`] if a value was sent before, or in
    /// [`SendError::ReceiverGone`] if the receiver was dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::oneshot::{self, SendError};
    ///
    /// let (promise, mut future) = oneshot::channel();
    /// assert!(promise.send("first").is_ok());
    /// assert_eq!(promise.send("second"), Err(SendError::AlreadySent("second")));
    /// assert_eq!(future.try_recv(), Ok("first"));
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        let waker = {
            let mut state = lock(&self.shared);
            if !state.receiver_alive {
                return Err(SendError::ReceiverGone(value));
            }
            if !matches!(state.value, Value::Pending) {
                return Err(SendError::AlreadySent(value));
            }
            state.value = Value::Sent(value);
            state.receiver_waker.take()
        };
        if let Some(waker) = waker {
            crate::foreign::wake(waker);
        }
        Ok(())
    }

    /// Whether the receiver was dropped (a `send` would fail).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::oneshot;
    ///
    /// let (promise, future) = oneshot::channel::<u8>();
    /// assert!(!promise.is_closed());
    /// drop(future); // nobody is waiting any more: skip the work
    /// assert!(promise.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        !lock(&self.shared).receiver_alive
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        lock(&self.shared).senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut state = lock(&self.shared);
            state.senders -= 1;
            let broken = state.senders == 0 && matches!(state.value, Value::Pending);
            if broken {
                state.receiver_waker.take()
            } else {
                None
            }
        };
        if let Some(waker) = waker {
            crate::foreign::wake(waker);
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// The future side: resolves to the value, or to [`RecvError`] if every sender was dropped
/// without sending.
///
/// # Examples
///
/// ```
/// use evloop::sync::oneshot;
///
/// evloop::run(async {
///     let (promise, future) = oneshot::channel::<u8>();
///     drop(promise); // a broken promise: the receiver learns that nothing will come
///     assert!(future.await.is_err());
/// });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Receiver<T> {
    shared: Arc<Mutex<State<T>>>,
}

impl<T> Receiver<T> {
    /// Takes the value if it has been sent; never waits.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if nothing was sent yet, [`TryRecvError::Closed`] if nothing ever
    /// will be (every sender is gone, or the value was already received).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::oneshot::{self, TryRecvError};
    ///
    /// let (promise, mut future) = oneshot::channel();
    /// assert_eq!(future.try_recv(), Err(TryRecvError::Empty));
    /// promise.send(7).unwrap();
    /// assert_eq!(future.try_recv(), Ok(7));
    /// assert_eq!(future.try_recv(), Err(TryRecvError::Closed)); // taken already
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = lock(&self.shared);
        match std::mem::replace(&mut state.value, Value::Received) {
            Value::Sent(value) => Ok(value),
            Value::Received => Err(TryRecvError::Closed),
            Value::Pending => {
                state.value = Value::Pending;
                if state.senders == 0 {
                    Err(TryRecvError::Closed)
                } else {
                    Err(TryRecvError::Empty)
                }
            }
        }
    }

    /// Blocks this thread until the value arrives: for plain threads waiting on a task.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if every sender was dropped without sending.
    ///
    /// # Panics
    ///
    /// On an evloop loop thread, which would stop the loop while it waits: `.await` there.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::oneshot;
    ///
    /// let (promise, future) = oneshot::channel();
    /// let waiter = std::thread::spawn(move || future.recv_blocking());
    /// evloop::run(async move {
    ///     let task = evloop::spawn(async { 40 + 2 });
    ///     promise.send(task.await.unwrap()).unwrap(); // a task answers a plain thread
    /// });
    /// assert_eq!(waiter.join().unwrap(), Ok(42));
    /// ```
    pub fn recv_blocking(mut self) -> Result<T, RecvError> {
        crate::park::block_plain_thread(
            &mut self,
            "Receiver::recv_blocking",
            "`.await` the Receiver",
        )
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let mut state = lock(&self.shared);
        match std::mem::replace(&mut state.value, Value::Received) {
            Value::Sent(value) => Poll::Ready(Ok(value)),
            Value::Received => panic!("oneshot::Receiver polled after it returned its value"),
            Value::Pending => {
                state.value = Value::Pending;
                if state.senders == 0 {
                    return Poll::Ready(Err(RecvError(())));
                }
                match &state.receiver_waker {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    _ => state.receiver_waker = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = lock(&self.shared);
        state.receiver_alive = false;
        state.receiver_waker = None;
        // A value sent but never received is dropped here, with the receiver that gave it up.
        let unreceived = std::mem::replace(&mut state.value, Value::Received);
        drop(state);
        drop(unreceived);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.shared);
        let value = match state.value {
            Value::Pending if state.senders == 0 => "broken",
            Value::Pending => "pending",
            Value::Sent(_) => "sent",
            Value::Received => "received",
        };
        f.debug_struct("Receiver").field("value", &value).finish()
    }
}

/// Why [`Sender::send`] failed; the value comes back.
///
/// # Examples
///
/// ```
/// use evloop::sync::oneshot::{self, SendError};
///
/// let (promise, future) = oneshot::channel();
/// drop(future);
/// match promise.send(String::from("report")) {
///     Err(SendError::ReceiverGone(report)) => assert_eq!(report, "report"), // not lost
///     other => panic!("unexpected: {other:?}"),
/// }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum SendError<T> {
    /// A value was sent before (asyncio's `InvalidStateError`).
    AlreadySent(T),
    /// The receiver was dropped; nobody would see the value.
    ReceiverGone(T),
}

impl<T> SendError<T> {
    /// The value that was not sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::oneshot;
    ///
    /// let (promise, _future) = oneshot::channel();
    /// promise.send(1).unwrap();
    /// assert_eq!(promise.send(2).unwrap_err().into_inner(), 2);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            SendError::AlreadySent(value) | SendError::ReceiverGone(value) => value,
        }
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::AlreadySent(_) => f.write_str("AlreadySent(..)"),
            SendError::ReceiverGone(_) => f.write_str("ReceiverGone(..)"),
        }
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SendError::AlreadySent(_) => "a value was already sent on this oneshot channel",
            SendError::ReceiverGone(_) => "the oneshot receiver was dropped",
        })
    }
}

impl<T> std::error::Error for SendError<T> {}

/// The error of awaiting a [`Receiver`] whose senders were all dropped without sending.
///
/// # Examples
///
/// ```
/// use evloop::sync::oneshot;
///
/// let (promise, future) = oneshot::channel::<()>();
/// drop(promise);
/// let error = future.recv_blocking().unwrap_err();
/// assert!(error.to_string().contains("dropped"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecvError(());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("every oneshot sender was dropped without sending a value")
    }
}

impl std::error::Error for RecvError {}

/// The error of [`Receiver::try_recv`].
///
/// # Examples
///
/// ```
/// use evloop::sync::oneshot::{self, TryRecvError};
///
/// let (promise, mut future) = oneshot::channel::<u8>();
/// assert_eq!(future.try_recv(), Err(TryRecvError::Empty)); // not yet: ask again later
/// drop(promise);
/// assert_eq!(future.try_recv(), Err(TryRecvError::Closed)); // never
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing sent yet.
    Empty,
    /// Nothing will come: every sender is gone, or the value was already received.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryRecvError::Empty => "no value has been sent yet",
            TryRecvError::Closed => "no value will come: the senders are gone or it was received",
        })
    }
}

impl std::error::Error for TryRecvError {}
