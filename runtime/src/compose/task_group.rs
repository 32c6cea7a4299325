//! `task_group`: structured concurrency — asyncio 3.11's `TaskGroup`, in a form that lets
//! children borrow from the enclosing scope.
//!
//! # Semantics (asyncio's)
//!
//! - Children spawned into the group run concurrently with the body (the code inside the group)
//!   and with each other. The group completes only when the body and every child have finished.
//! - The first child `Err` cancels every other child *and the body*, wherever they are awaiting;
//!   the group then returns a [`GroupError`] carrying every error that occurred (children that
//!   failed in the same round included), plus the body's own error if it had one.
//! - A panicking child (or body) cancels the rest the same way, and the panic is resumed in the
//!   task awaiting the group once everything is gone (as `std::thread::scope` does).
//! - Dropping the group's future (cancelling the task that runs it) cancels every child.
//! - Groups nest: a failing inner group is one `Err` of the outer group's child.
//!
//! # Why children can borrow, soundly
//!
//! The children are not runtime tasks: they are futures stored *inside the group's own future*,
//! polled by it (each with its own waker from a [`ReadySet`], so only woken children are polled).
//! Whatever happens to the group's future happens to them: dropping it drops them, and forgetting
//! it (`mem::forget`) means they are never polled again, so a borrow they hold can never be used
//! after the borrowed data is gone. This is the answer to tokio's "scoped task trilemma" (issue
//! 3162): with separate tasks, forgetting the scope leaves tasks running on freed memory; with
//! in-place children there is nothing left running. On one thread this costs no parallelism.
//!
//! Cancellation is immediate: when a child fails, the siblings and the body are dropped during
//! that same poll, so their `Drop` has run before the group returns its error.

#![forbid(unsafe_code)]

use std::any::Any;
use std::cell::{Cell, OnceCell, RefCell};
use std::fmt;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::debug::{report_on_this_thread, UnhandledError};
use crate::foreign::{DropEach, FirstPanic};
use crate::ready_set::ReadySet;

/// A child, type-erased: its value goes to its [`ChildHandle`], its error to the group.
type Child<'env, E> = Pin<Box<dyn Future<Output = Result<(), E>> + 'env>>;

/// Children the group owns (an empty slot is a child that finished), dropped one by one: a
/// child's `Drop` is user code, and a second panic while the first one unwinds would abort the
/// process (`foreign.rs`).
type Children<'env, E> = DropEach<Option<Child<'env, E>>>;

/// Runs `body` with a [`TaskGroup`] to spawn children into, and waits for the body and every
/// child. Returns the body's value, or a [`GroupError`] with every error if anything failed —
/// asyncio's `async with asyncio.TaskGroup() as tg:`.
///
/// As in asyncio: the first failure cancels every sibling and the body; a child spawned before
/// the body yields has started when the yield returns; a child cancelled on its own
/// ([`ChildHandle::abort`]) is not an error. Where it differs: errors are values (`Err`), collected
/// in a [`GroupError`] (asyncio's `ExceptionGroup`); a panic is resumed in the awaiting task, and
/// the errors collected with it are reported as unhandled; children may borrow from the caller,
/// because they are polled inside the group's own future rather than spawned as tasks.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::time::sleep;
///
/// evloop::run(async {
///     let urls = vec!["a", "bb", "ccc"]; // borrowed by the children below
///     let total = evloop::task_group(async |group| {
///         let sizes: Vec<_> = urls
///             .iter()
///             .map(|url| group.spawn(async move {
///                 sleep(Duration::from_millis(5)).await; // a fetch, say
///                 Ok::<_, String>(url.len())
///             }))
///             .collect();
///         let mut total = 0;
///         for size in sizes {
///             total += size.await;
///         }
///         Ok(total)
///     })
///     .await;
///     assert_eq!(total.unwrap(), 6);
///
///     // One failure cancels the rest and is reported.
///     let failed = evloop::task_group(async |group| {
///         group.spawn(async { sleep(Duration::from_secs(3600)).await; Ok(()) });
///         group.spawn(async { Err::<(), _>("disk full") });
///         Ok(())
///     })
///     .await;
///     assert_eq!(failed.unwrap_err().errors(), ["disk full"]);
/// });
/// ```
pub async fn task_group<'env, B, T, E>(body: B) -> Result<T, GroupError<E>>
where
    B: AsyncFnOnce(&TaskGroup<'env, E>) -> Result<T, E>,
    E: 'env,
{
    let group = TaskGroup {
        state: RefCell::new(GroupState {
            inbox: DropEach(Vec::new()),
            closed: false,
        }),
    };
    let body = body(&group);
    drive(&group, body).await
}

/// The handle a group's body (and its children) spawn children with.
pub struct TaskGroup<'env, E> {
    state: RefCell<GroupState<'env, E>>,
}

struct GroupState<'env, E> {
    /// Children spawned since the group last looked; it adopts them on its next poll.
    inbox: Children<'env, E>,
    /// Set once the group has failed (it is cancelling everything) or finished.
    closed: bool,
}

impl<'env, E: 'env> TaskGroup<'env, E> {
    /// Spawns a child: it starts running at the group's next turn, concurrently with the body
    /// and the other children, and may borrow anything that outlives the group. Its `Ok` value
    /// goes to the returned handle; its `Err` fails the whole group.
    ///
    /// # Panics
    ///
    /// If the group has already failed or finished (see [`TaskGroup::try_spawn`]).
    #[track_caller]
    pub fn spawn<C: 'env>(
        &self,
        child: impl Future<Output = Result<C, E>> + 'env,
    ) -> ChildHandle<C> {
        match self.try_spawn(child) {
            Ok(handle) => handle,
            Err(closed) => panic!("{closed}"),
        }
    }

    /// Spawns a child, or returns [`GroupClosed`] if the group has already failed (and is
    /// cancelling its children) or finished.
    pub fn try_spawn<C: 'env>(
        &self,
        child: impl Future<Output = Result<C, E>> + 'env,
    ) -> Result<ChildHandle<C>, GroupClosed> {
        let mut state = self.state.borrow_mut();
        if state.closed {
            return Err(GroupClosed(()));
        }
        let slot = Rc::new(Slot {
            value: Cell::new(None),
            waker: Cell::new(None),
            aborted: Cell::new(false),
            child_waker: OnceCell::new(),
        });
        let handle = ChildHandle { slot: slot.clone() };
        state.inbox.push(Some(Box::pin(async move {
            let mut child = std::pin::pin!(child);
            // Polls the child until it finishes, or until its handle aborts it (`None`).
            let finished = poll_fn(|cx| {
                if slot.aborted.get() {
                    return Poll::Ready(None);
                }
                // The group polls a child always with the same waker: keep it once, for `abort`.
                slot.child_waker.get_or_init(|| cx.waker().clone());
                child.as_mut().poll(cx).map(Some)
            })
            .await;
            if let Some(value) = finished.transpose()? {
                slot.value.set(Some(value));
                if let Some(waker) = slot.waker.take() {
                    crate::foreign::wake(waker);
                }
            }
            Ok(())
        })));
        Ok(handle)
    }

    fn close(&self) -> Children<'env, E> {
        let mut state = self.state.borrow_mut();
        state.closed = true;
        std::mem::replace(&mut state.inbox, DropEach(Vec::new()))
    }

    fn take_spawned(&self) -> Children<'env, E> {
        std::mem::replace(&mut self.state.borrow_mut().inbox, DropEach(Vec::new()))
    }
}

impl<E> fmt::Debug for TaskGroup<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("closed", &self.state.borrow().closed)
            .finish_non_exhaustive()
    }
}

/// Where a child leaves its value for its handle, and where the handle can abort it.
struct Slot<C> {
    value: Cell<Option<C>>,
    /// The handle's awaiting code, woken when the value is there.
    waker: Cell<Option<Waker>>,
    /// Set by `ChildHandle::abort`: the child is dropped at its next poll.
    aborted: Cell<bool>,
    /// The group's waker for this child, kept at its first poll so that `abort` can have the
    /// group poll it (and find it aborted) at once.
    child_waker: OnceCell<Waker>,
}

/// A child's value, once it succeeds. Await it from the body or from another child.
///
/// If the child fails, the whole group is cancelled, the awaiting code included, so awaiting a
/// handle yields only success values.
pub struct ChildHandle<C> {
    slot: Rc<Slot<C>>,
}

impl<C> ChildHandle<C> {
    /// The value, if the child has finished and it was not taken yet.
    pub fn try_take(&mut self) -> Option<C> {
        self.slot.value.take()
    }

    /// Cancels this child alone — asyncio's `task.cancel()` on one task of a `TaskGroup`, which
    /// is not an error of the group: the siblings and the body go on. The child's future is
    /// dropped at the group's next turn (its `Drop` runs then); if it had already finished, its
    /// value is dropped. The handle is consumed: there is nothing left to await.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// evloop::run(async {
    ///     let result = evloop::task_group(async |group| {
    ///         let watcher = group.spawn(async {
    ///             evloop::time::sleep(Duration::from_secs(3600)).await;
    ///             Ok::<_, ()>(())
    ///         });
    ///         let work = group.spawn(async { Ok(6 * 7) });
    ///         let answer = work.await;
    ///         watcher.abort(); // not needed any more; not an error
    ///         Ok(answer)
    ///     })
    ///     .await;
    ///     assert_eq!(result.unwrap(), 42);
    /// });
    /// ```
    pub fn abort(self) {
        self.slot.aborted.set(true);
        self.slot.value.take();
        if let Some(waker) = self.slot.child_waker.get() {
            waker.wake_by_ref(); // the group's own per-child waker: it only marks the child ready
        }
    }
}

impl<C> Future for ChildHandle<C> {
    type Output = C;

    /// # Panics
    ///
    /// If polled again after it returned the value.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<C> {
        match self.slot.value.take() {
            Some(value) => Poll::Ready(value),
            None => {
                self.slot.waker.set(Some(cx.waker().clone()));
                Poll::Pending
            }
        }
    }
}

impl<C> fmt::Debug for ChildHandle<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildHandle").finish_non_exhaustive()
    }
}

/// The index of the body in the group's ready set; children come after it.
const BODY: usize = 0;

/// Polls the body and the children until all are done or one fails.
async fn drive<'env, T, E, B>(group: &TaskGroup<'env, E>, body: B) -> Result<T, GroupError<E>>
where
    B: Future<Output = Result<T, E>>,
    E: 'env,
{
    let mut body = Some(Box::pin(body));
    let mut body_value = None;
    let mut children: Children<'env, E> = DropEach(Vec::new());
    let mut ready = ReadySet::new(1); // index 0: the body
    let mut alive = 0;
    let mut error = GroupError {
        child_errors: Vec::new(),
        body_error: None,
    };
    let mut panic: Option<Box<dyn Any + Send>> = None;
    let outcome = poll_fn(|cx| {
        // One round: the body and children that were ready when this poll began, each polled
        // once, plus every child spawned meanwhile (asyncio starts a task created before a
        // `sleep(0)` before that sleep returns). One that wakes itself runs in the next round,
        // after the loop's other tasks (`ready_set.rs`). Errors of the round are all kept.
        ready.begin_round(cx);
        let mut failed = false;
        loop {
            if !failed {
                for child in group.take_spawned().drain(..).flatten() {
                    // Index `i` of the ready set is slot `i - 1` here; a finished child's index
                    // is reused, so the group's size follows its live children.
                    let index = ready.insert();
                    if index > children.len() {
                        children.push(Some(child));
                    } else {
                        children[index - 1] = Some(child);
                    }
                    alive += 1;
                }
            }
            let Some(index) = ready.next_in_round() else {
                break;
            };
            let mut child_cx = Context::from_waker(ready.waker(index));
            if index == BODY {
                let Some(future) = &mut body else { continue };
                match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(&mut child_cx))) {
                    Ok(Poll::Pending) => {}
                    Ok(Poll::Ready(result)) => {
                        body = None;
                        match result {
                            Ok(value) => body_value = Some(value),
                            Err(body_error) => {
                                error.body_error = Some(body_error);
                                failed = true;
                            }
                        }
                    }
                    Err(payload) => {
                        body = None;
                        panic.get_or_insert(payload);
                        failed = true;
                    }
                }
            } else {
                let slot = &mut children[index - 1];
                let Some(future) = slot else { continue };
                match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(&mut child_cx))) {
                    Ok(Poll::Pending) => continue,
                    Ok(Poll::Ready(Ok(()))) => {}
                    Ok(Poll::Ready(Err(child_error))) => {
                        error.child_errors.push(child_error);
                        failed = true;
                    }
                    Err(payload) => {
                        panic.get_or_insert(payload);
                        failed = true;
                    }
                }
                *slot = None;
                ready.remove(index);
                alive -= 1;
            }
        }
        if failed {
            // Cancel on the spot: the body, every child, and children spawned but not started.
            // Their `Drop` runs here, before the group returns; each is dropped on its own, and
            // a panic among them is resumed like a child's (`foreign.rs`).
            let mut drops = FirstPanic::new();
            drops.drop_each(group.close().drain(..).flatten());
            drops.drop_each(body.take());
            drops.drop_each(children.drain(..).flatten());
            if let Some(payload) = drops.take() {
                panic.get_or_insert(payload);
            }
            return Poll::Ready(());
        }
        if body.is_none() && alive == 0 {
            group.close();
            return Poll::Ready(());
        }
        Poll::Pending
    })
    .await;
    let () = outcome;
    if let Some(payload) = panic {
        // The panic wins, and the errors collected with it would vanish unseen: report them.
        let dropped = error.child_errors.len() + usize::from(error.body_error.is_some());
        if dropped > 0 {
            report_on_this_thread(&UnhandledError::group_errors_dropped(dropped));
        }
        resume_unwind(payload);
    }
    match body_value {
        Some(value) if error.is_empty() => Ok(value),
        _ => Err(error),
    }
}

/// Every error of a failed group: each failing child's, in the order they were seen, and the
/// body's own if it returned one — asyncio's `ExceptionGroup`, always a group even for one error.
pub struct GroupError<E> {
    child_errors: Vec<E>,
    body_error: Option<E>,
}

impl<E> GroupError<E> {
    fn is_empty(&self) -> bool {
        self.child_errors.is_empty() && self.body_error.is_none()
    }

    /// The children's errors, in the order they happened.
    pub fn errors(&self) -> &[E] {
        &self.child_errors
    }

    /// The body's own error, if it returned one.
    pub fn body_error(&self) -> Option<&E> {
        self.body_error.as_ref()
    }

    /// Every error: the body's first (if any), then the children's.
    pub fn into_errors(self) -> Vec<E> {
        self.body_error
            .into_iter()
            .chain(self.child_errors)
            .collect()
    }
}

impl<E: fmt::Display> fmt::Display for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.child_errors.len() + usize::from(self.body_error.is_some());
        write!(f, "{count} error(s) in the task group")?;
        if let Some(body_error) = &self.body_error {
            write!(f, "; body: {body_error}")?;
        }
        for (number, child_error) in self.child_errors.iter().enumerate() {
            write!(f, "; child error {}: {child_error}", number + 1)?;
        }
        Ok(())
    }
}

impl<E: fmt::Debug> fmt::Debug for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupError")
            .field("child_errors", &self.child_errors)
            .field("body_error", &self.body_error)
            .finish()
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for GroupError<E> {}

/// The error of [`TaskGroup::try_spawn`] on a group that has failed or finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupClosed(());

impl fmt::Display for GroupClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "cannot spawn into this task group: it has failed (and is cancelling its children) \
             or finished; spawn work that must outlive it with evloop::spawn",
        )
    }
}

impl std::error::Error for GroupClosed {}
