//! The ecosystem's spawn traits, so that a library written against them runs its tasks on evloop:
//! [`LocalSpawner`] implements `futures_task::LocalSpawn` (`!Send` futures, on the loop's own
//! thread) and [`Handle`] implements `futures_task::Spawn` (`Send` futures, from any thread).
//!
//! A library that spawns without tying itself to one runtime takes one of these traits (or their
//! `futures-util` extensions, `LocalSpawnExt`/`SpawnExt`). What they spawn is a detached task:
//! it runs to completion, its output (`()`) goes nowhere, and a panic in it is reported as an
//! unhandled error (`Builder::on_unhandled_error`), as for any task whose handle was dropped.
//! `futures-util`'s `spawn_with_handle` builds a handle on top when the caller wants the result.
//!
//! A runtime that has shut down (or is shutting down) refuses with `SpawnError::shutdown()`, and
//! the future is dropped on the spot: the traits' contract, and evloop's rule that nothing
//! outlives its runtime.

#![forbid(unsafe_code)]

use std::fmt;
use std::panic::Location;
use std::rc::{Rc, Weak};

use futures_task::{FutureObj, LocalFutureObj, LocalSpawn, Spawn, SpawnError};

use super::context::current_local;
use super::{Handle, Local};
use crate::task::Origin;

/// Spawns `!Send` futures onto the runtime of the thread it was made on, through `futures-task`'s
/// [`LocalSpawn`] (asyncio's `loop.create_task`, for libraries that take a spawner).
///
/// It is `!Send`: a `!Send` future must stay on its loop's thread. It does not keep the runtime
/// alive; once the runtime is gone, spawning fails with [`SpawnError::shutdown`].
///
/// # Examples
///
/// ```
/// use futures_util::task::LocalSpawnExt;
///
/// evloop::run(async {
///     let spawner = evloop::LocalSpawner::current();
///     let shared = std::rc::Rc::new(5); // not Send: fine on the loop's own thread
///     let task = spawner
///         .spawn_local_with_handle(async move { *shared + 1 })
///         .unwrap();
///     assert_eq!(task.await, 6);
/// });
/// ```
#[derive(Clone)]
pub struct LocalSpawner {
    local: Weak<Local>,
}

impl LocalSpawner {
    /// The spawner of the runtime running on this thread.
    ///
    /// # Panics
    ///
    /// Outside a runtime: there is no loop to spawn onto (take a [`Handle`] to a runtime on
    /// another thread instead, whose [`Spawn`] takes `Send` futures).
    #[track_caller]
    pub fn current() -> LocalSpawner {
        match current_local() {
            Some(local) => LocalSpawner {
                local: Rc::downgrade(&local),
            },
            None => panic!(
                "evloop::LocalSpawner::current() called outside a runtime: call it inside \
                 evloop::run or Runtime::block_on"
            ),
        }
    }

    /// The runtime, if it still takes spawns.
    fn open_local(&self) -> Result<Rc<Local>, SpawnError> {
        match self.local.upgrade() {
            Some(local) if !local.is_shutting_down() => Ok(local),
            _ => Err(SpawnError::shutdown()),
        }
    }
}

impl LocalSpawn for LocalSpawner {
    #[track_caller]
    fn spawn_local_obj(&self, future: LocalFutureObj<'static, ()>) -> Result<(), SpawnError> {
        let local = self.open_local()?;
        drop(local.spawn(future, Location::caller())); // detached: dropping the handle
        Ok(())
    }

    fn status_local(&self) -> Result<(), SpawnError> {
        self.open_local().map(drop)
    }
}

impl fmt::Debug for LocalSpawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSpawner")
            .field("open", &self.open_local().is_ok())
            .finish()
    }
}

/// `Send` futures, from any thread, as [`Handle::spawn`] does; a runtime that has shut down
/// refuses with [`SpawnError::shutdown`].
///
/// # Examples
///
/// ```
/// use futures_util::task::SpawnExt;
///
/// let rt = evloop::Runtime::new()?;
/// let handle = rt.handle();
/// let task = std::thread::spawn(move || handle.spawn_with_handle(async { 40 + 2 }))
///     .join()
///     .unwrap()
///     .unwrap();
/// assert_eq!(rt.block_on(task), 42);
/// # Ok::<(), std::io::Error>(())
/// ```
impl Spawn for Handle {
    #[track_caller]
    fn spawn_obj(&self, future: FutureObj<'static, ()>) -> Result<(), SpawnError> {
        match self.submit(future, Origin::caller()) {
            Ok(_detached) => Ok(()),
            Err(_refused) => Err(SpawnError::shutdown()),
        }
    }

    fn status(&self) -> Result<(), SpawnError> {
        if self.is_closed() {
            Err(SpawnError::shutdown())
        } else {
            Ok(())
        }
    }
}
