//! `Handle`: the way into a runtime from other threads — asyncio's `call_soon_threadsafe` and
//! `run_coroutine_threadsafe`, plus tokio's `Handle::spawn`. A callback scheduled from a thread
//! comes back as a [`CallbackHandle`], asyncio's `Handle`: cancelled before the loop gets to it,
//! it never runs.
//!
//! A handle holds the runtime's `Shared` half only. Everything it submits goes through the inbox
//! (`shared.rs`), which wakes the loop if it sleeps. On the runtime's own thread it takes the
//! direct path instead, so a `Handle` behaves the same wherever it is used.
//!
//! When the runtime is gone (dropped, or shutting down), submissions are refused, never lost in
//! silence and never blocking: `spawn` returns a handle whose result is a cancelled
//! [`JoinError`](crate::JoinError), `call_soon_threadsafe` returns [`RuntimeClosed`], and a
//! [`ConcurrentFuture`]'s `result()` returns the `JoinError`.

use std::fmt;
use std::future::Future;

use super::shared::{Closed, Shared};
use super::{with_local, ConcurrentFuture};
use crate::debug::TaskDump;
use crate::shim::Arc;
use crate::task::{AbortHandle, JoinHandle, Origin, SendNewTask};

/// A cloneable, thread-safe reference to a runtime, for spawning onto it from anywhere.
///
/// # Examples
///
/// ```
/// let rt = evloop::Runtime::new()?;
/// let handle = rt.handle();
/// let from_thread = std::thread::spawn(move || {
///     handle.run_coroutine_threadsafe(async { 40 + 2 }).result()
/// });
/// // The loop must run for the task to run: await something meanwhile.
/// rt.block_on(async {
///     while !from_thread.is_finished() {
///         evloop::time::sleep(std::time::Duration::from_millis(1)).await;
///     }
/// });
/// assert_eq!(from_thread.join().unwrap().unwrap(), 42);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

/// The error returned when submitting to a runtime that has shut down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeClosed(());

impl fmt::Display for RuntimeClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the evloop runtime behind this Handle has shut down; nothing was scheduled \
             (keep the runtime alive while other threads submit work to it)",
        )
    }
}

impl std::error::Error for RuntimeClosed {}

impl Handle {
    pub(crate) fn new(shared: Arc<Shared>) -> Handle {
        Handle { shared }
    }

    /// Returns a handle to the runtime running on this thread.
    ///
    /// # Panics
    ///
    /// If no runtime is running on this thread; see [`Handle::try_current`].
    #[track_caller]
    pub fn current() -> Handle {
        // A `match`: a panic inside a closure would not name the caller's line.
        match Handle::try_current() {
            Some(handle) => handle,
            None => panic!(
                "Handle::current called outside of a runtime: call it inside evloop::run or \
                 Runtime::block_on and pass the Handle to other threads"
            ),
        }
    }

    /// Returns a handle to the runtime running on this thread, or `None` outside a runtime.
    pub fn try_current() -> Option<Handle> {
        with_local(|local| Handle::new(local.shared().clone()))
    }

    /// Spawns a `Send` future onto the runtime, from any thread.
    ///
    /// If the runtime has shut down, the future is dropped on this thread and the returned handle
    /// resolves to a cancelled [`JoinError`](crate::JoinError).
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let handle = evloop::Handle::current();
    ///     let task = std::thread::spawn(move || handle.spawn(async { 7 })).join().unwrap();
    ///     assert_eq!(task.await.unwrap(), 7);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self.submit(future, Origin::caller()) {
            Ok(handle) | Err(handle) => handle,
        }
    }

    /// Spawns a `Send` future with a name, from any thread: [`spawn_named`](crate::spawn_named)
    /// for other threads. Otherwise the same as [`Handle::spawn`].
    #[track_caller]
    pub fn spawn_named<F>(&self, name: impl Into<String>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self.submit(future, Origin::named(name)) {
            Ok(handle) | Err(handle) => handle,
        }
    }

    /// Takes a snapshot of the runtime's live tasks, from any thread: [`tasks`](crate::tasks)
    /// for other threads. The snapshot is taken by the loop at its next turn, so wait for it with
    /// [`ConcurrentFuture::result_timeout`] if the loop may be stuck (a poll that never returns
    /// stops the dump too), or `.await` it. The dump's own task is left out of the snapshot.
    ///
    /// If the runtime has shut down, the result is a cancelled [`JoinError`](crate::JoinError).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = evloop::Runtime::new()?;
    /// let handle = rt.handle();
    /// let watcher = std::thread::spawn(move || {
    ///     handle.dump().result_timeout(Duration::from_secs(10)).unwrap().unwrap()
    /// });
    /// let dump = rt.block_on(async {
    ///     let _ticker = evloop::spawn_named("ticker", std::future::pending::<()>());
    ///     while !watcher.is_finished() {
    ///         evloop::time::sleep(Duration::from_millis(1)).await;
    ///     }
    ///     watcher.join().unwrap()
    /// });
    /// assert_eq!(dump.len(), 1);
    /// assert_eq!(dump.iter().next().unwrap().name(), Some("ticker"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn dump(&self) -> ConcurrentFuture<TaskDump> {
        self.run_coroutine_threadsafe(async {
            with_local(|local| {
                // This task is not part of the picture: left out if it has a record (debug
                // mode), taken off the count of unrecorded tasks if not.
                let own = local.monitor().running();
                let mut dump = local.dump(own);
                if own.is_none() {
                    dump.unrecorded -= 1;
                }
                dump
            })
            .expect("a task runs inside its runtime")
        })
    }

    /// Schedules `callback` to run on the loop's thread, from any thread — asyncio's
    /// `loop.call_soon_threadsafe`. It runs as a task of its own, after the tasks already queued.
    /// The returned [`CallbackHandle`] cancels it, if the loop has not run it yet.
    ///
    /// # Errors
    ///
    /// [`RuntimeClosed`] if the runtime has shut down; `callback` is dropped without running. A
    /// callback accepted just before the runtime shuts down is dropped without running as well.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    ///
    /// let ran = Arc::new(AtomicBool::new(false));
    /// evloop::run({
    ///     let ran = ran.clone();
    ///     async move {
    ///         let handle = evloop::Handle::current();
    ///         std::thread::spawn(move || {
    ///             handle.call_soon_threadsafe(move || ran.store(true, Ordering::SeqCst))
    ///         })
    ///         .join()
    ///         .unwrap()
    ///         .unwrap();
    ///         evloop::yield_now().await;
    ///         evloop::yield_now().await;
    ///     }
    /// });
    /// assert!(ran.load(Ordering::SeqCst));
    /// ```
    #[track_caller]
    pub fn call_soon_threadsafe<F>(&self, callback: F) -> Result<CallbackHandle, RuntimeClosed>
    where
        F: FnOnce() + Send + 'static,
    {
        self.submit(async move { callback() }, Origin::caller())
            .map(|task| CallbackHandle {
                task: task.abort_handle(),
            })
            .map_err(|_| RuntimeClosed(()))
    }

    /// Spawns `future` onto the runtime and returns a [`ConcurrentFuture`] that a plain thread can
    /// block on — asyncio's `asyncio.run_coroutine_threadsafe`.
    #[track_caller]
    pub fn run_coroutine_threadsafe<F>(&self, future: F) -> ConcurrentFuture<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        ConcurrentFuture::new(self.spawn(future))
    }

    /// Whether the runtime has shut down (it refuses everything submitted from now on).
    pub(super) fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// Spawns `future`; `Err` carries a handle to the cancelled task if the runtime refused it.
    pub(super) fn submit<F>(
        &self,
        future: F,
        origin: Origin,
    ) -> Result<JoinHandle<F::Output>, JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // On this runtime's own thread: the direct path.
        let mut future = Some((future, origin));
        let local = with_local(|local| {
            if !local.token.owns(&self.shared) {
                return None;
            }
            let refused = local.is_shutting_down();
            let (future, origin) = future.take().expect("taken once");
            let handle = if origin.is_named() {
                local.spawn_recorded(future, origin)
            } else {
                local.spawn(future, origin.location())
            };
            Some((handle, refused))
        })
        .flatten();
        if let Some((handle, refused)) = local {
            return if refused { Err(handle) } else { Ok(handle) };
        }
        let (future, origin) = future.expect("not taken: not on the loop thread");
        let record = origin
            .needs_record(self.shared.records_all_tasks())
            .then(|| origin.into_record());
        let (task, join) = SendNewTask::allocate(future, self.shared.clone(), record);
        let handle = JoinHandle::new(join);
        match self.shared.push_spawned(task) {
            Ok(()) => Ok(handle),
            Err(Closed(task)) => {
                task.refuse();
                Err(handle)
            }
        }
    }
}

/// A callback scheduled with [`Handle::call_soon_threadsafe`] — asyncio's `Handle`: cancel it
/// before the loop runs it, and it never runs (it is dropped on the loop's thread). Cloneable,
/// usable from any thread; dropping it changes nothing.
///
/// # Examples
///
/// ```
/// let rt = evloop::Runtime::new()?;
/// let handle = rt.handle();
/// // Scheduled from a thread while the loop is not running...
/// let callback = std::thread::spawn(move || {
///     handle.call_soon_threadsafe(|| unreachable!("cancelled before it ran"))
/// })
/// .join()
/// .unwrap()?;
/// callback.cancel(); // ...and cancelled before the loop gets to it.
/// rt.block_on(evloop::yield_now());
/// assert!(callback.cancelled());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct CallbackHandle {
    task: AbortHandle,
}

impl CallbackHandle {
    /// Makes sure the callback never runs, if the loop has not run it yet (asyncio's
    /// `Handle.cancel()`). Does nothing once it has run.
    pub fn cancel(&self) {
        self.task.abort();
    }

    /// Whether [`cancel`](CallbackHandle::cancel) came before the callback ran, so that it never
    /// runs.
    pub fn cancelled(&self) -> bool {
        self.task.was_aborted()
    }
}

impl fmt::Debug for CallbackHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackHandle")
            .field("cancelled", &self.cancelled())
            .finish()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("runtime_id", &self.shared.id())
            .field("closed", &self.shared.is_closed())
            .finish()
    }
}
