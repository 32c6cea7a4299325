//! One job's hand-off: the closure goes from the submitter to a worker, the result comes back.
//!
//! A [`JobCell`] is shared (by `Arc`) between the queued job and its [`PoolFuture`]. It holds the
//! job's stage and the waker of whoever waits for the result, under one mutex:
//!
//! ```text
//! Queued ──worker claims──► Running ──job returns or panics──► Done(result) ──taken──► Taken
//!    └──cancel() / dropped unrun───────────────────────────────► Done(Err(not started))
//! ```
//!
//! Done-callbacks (`PoolFuture::add_done_callback`) are kept in the cell too: the transition to
//! `Done` takes them out in the same critical section that stores the result, so a callback added
//! concurrently either is taken (and run by whoever completes the job) or sees `Done` and runs at
//! once on the adding thread — never both, never neither.
//!
//! The mutex makes each transition one critical section, so the three races that matter have a
//! simple answer: a worker claiming the job vs `cancel()` (whoever takes the lock first wins; the
//! other sees the new stage), the result arriving vs the waiter registering its waker (the waiter
//! checks the stage and stores its waker in the same critical section; the worker stores the
//! result and takes the waker in one), and the waiter going away (the result is dropped with the
//! cell). The waker is called after the lock is released, so a waker that runs code cannot
//! deadlock with the cell.
//!
//! [`PoolFuture`]: super::PoolFuture

#![forbid(unsafe_code)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::{Context, Poll, Waker};

use crate::foreign;
use crate::shim::{lock, Arc, Mutex};
use crate::task::JoinError;

enum Stage<T> {
    Queued,
    Running,
    Done(Result<T, JoinError>),
    Taken,
}

struct CellState<T> {
    stage: Stage<T>,
    /// Set when the job completed without running (cancelled, or dropped unrun).
    cancelled: bool,
    waker: Option<Waker>,
    /// Run once the job is done, by whoever completes it.
    callbacks: Vec<DoneCallback>,
}

/// A done-callback: user code, run once.
pub(crate) type DoneCallback = Box<dyn FnOnce() + Send>;

impl<T> CellState<T> {
    fn is_done(&self) -> bool {
        matches!(self.stage, Stage::Done(_) | Stage::Taken)
    }

    /// What completing the job hands to foreign code, taken in the completing critical section.
    fn take_completion(&mut self) -> Completion {
        Completion {
            waker: self.waker.take(),
            callbacks: std::mem::take(&mut self.callbacks),
        }
    }
}

/// The waiter's waker and the done-callbacks of a job that just completed: called after the
/// cell's lock is released (they are foreign code, and may look at the cell).
struct Completion {
    waker: Option<Waker>,
    callbacks: Vec<DoneCallback>,
}

impl Completion {
    fn run(self) {
        if let Some(waker) = self.waker {
            foreign::wake(waker);
        }
        for callback in self.callbacks {
            // A panicking callback is reported by the panic hook; the others still run (asyncio
            // and concurrent.futures log it and go on).
            foreign::quietly(callback);
        }
    }
}

/// The shared stage of one job.
pub(crate) struct JobCell<T> {
    state: Mutex<CellState<T>>,
}

impl<T> JobCell<T> {
    /// A cell for a job about to be queued.
    pub(crate) fn queued() -> Arc<JobCell<T>> {
        Arc::new(JobCell {
            state: Mutex::new(CellState {
                stage: Stage::Queued,
                cancelled: false,
                waker: None,
                callbacks: Vec::new(),
            }),
        })
    }

    /// A cell for a job that will never run (the pool was closed): complete from the start.
    pub(crate) fn refused() -> Arc<JobCell<T>> {
        Arc::new(JobCell {
            state: Mutex::new(CellState {
                stage: Stage::Done(Err(JoinError::pool_closed())),
                cancelled: true,
                waker: None,
                callbacks: Vec::new(),
            }),
        })
    }

    /// A cell for a job submitted to a broken pool: failed with `error` from the start.
    pub(crate) fn broken(error: JoinError) -> Arc<JobCell<T>> {
        Arc::new(JobCell {
            state: Mutex::new(CellState {
                stage: Stage::Done(Err(error)),
                cancelled: false,
                waker: None,
                callbacks: Vec::new(),
            }),
        })
    }

    /// A worker claims the job. `false` if it was cancelled meanwhile: skip it.
    fn start(&self) -> bool {
        let mut state = lock(&self.state);
        if matches!(state.stage, Stage::Queued) {
            state.stage = Stage::Running;
            true
        } else {
            false
        }
    }

    /// Stores the result, then wakes the waiter and runs the done-callbacks (after releasing the
    /// lock).
    fn finish(&self, result: Result<T, JoinError>) {
        let completion = {
            let mut state = lock(&self.state);
            state.stage = Stage::Done(result);
            state.take_completion()
        };
        completion.run();
    }

    /// Completes a job that has not started as cancelled. Returns `false` if it had started (or
    /// was already complete): a running job cannot be interrupted.
    pub(crate) fn cancel(&self) -> bool {
        self.fail_unstarted(JoinError::not_started())
    }

    /// Completes a job that has not started with `error` (a cancellation, or a broken pool's
    /// refusal). Returns `false` if it had started or was already complete.
    fn fail_unstarted(&self, error: JoinError) -> bool {
        let completion = {
            let mut state = lock(&self.state);
            if !matches!(state.stage, Stage::Queued) {
                return false;
            }
            state.cancelled = error.is_cancelled();
            state.stage = Stage::Done(Err(error));
            state.take_completion()
        };
        completion.run();
        true
    }

    pub(crate) fn is_done(&self) -> bool {
        lock(&self.state).is_done()
    }

    /// Whether a worker is running the job right now.
    pub(crate) fn is_running(&self) -> bool {
        matches!(lock(&self.state).stage, Stage::Running)
    }

    /// Runs `callback` once the job is done: now, on this thread, if it already is; otherwise on
    /// the thread that completes it.
    pub(crate) fn add_done_callback(&self, callback: DoneCallback) {
        let mut state = lock(&self.state);
        if state.is_done() {
            drop(state);
            foreign::quietly(callback);
        } else {
            state.callbacks.push(callback);
        }
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        lock(&self.state).cancelled
    }

    /// Whether the job ran and panicked (its result, not yet taken, is the panic).
    pub(crate) fn panicked(&self) -> bool {
        let state = lock(&self.state);
        !state.cancelled && matches!(state.stage, Stage::Done(Err(_)))
    }

    /// Takes the result if the job is done; otherwise remembers `cx`'s waker.
    ///
    /// # Panics
    /// If the result was already taken.
    pub(crate) fn poll_result(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        let mut state = lock(&self.state);
        match std::mem::replace(&mut state.stage, Stage::Taken) {
            Stage::Done(result) => Poll::Ready(result),
            Stage::Taken => panic!("PoolFuture polled after it already returned its result"),
            pending => {
                state.stage = pending;
                match &mut state.waker {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }

    /// Like `poll_result`, but leaves the result in place: `Ready` once it is there.
    pub(crate) fn poll_done(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = lock(&self.state);
        if state.is_done() {
            return Poll::Ready(());
        }
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

/// A job as it sits in the pool's queue: type-erased so that one queue holds every job.
pub(crate) trait Job: Send {
    /// Runs the job on the calling worker thread (or skips it if it was cancelled), calling
    /// `before_publish` once, after the closure returned and before its result can wake anyone.
    /// The worker counts itself idle there: whoever the result wakes may submit the next job at
    /// once, and must find this worker idle rather than start another thread.
    fn run(self: Box<Self>, before_publish: &mut dyn FnMut());

    /// Completes the job with `error` without running it (its pool broke), then drops its
    /// closure.
    fn fail(self: Box<Self>, error: JoinError);
}

/// The closure and the cell it reports to. Dropped without running (queue drained by
/// `shutdown(cancel_futures)` or by the runtime shutting down), it completes the cell as
/// "not started", so no waiter is left hanging.
pub(crate) struct QueuedJob<F, T> {
    function: Option<F>,
    cell: Arc<JobCell<T>>,
}

impl<F, T> QueuedJob<F, T> {
    pub(crate) fn new(function: F, cell: Arc<JobCell<T>>) -> QueuedJob<F, T> {
        QueuedJob {
            function: Some(function),
            cell,
        }
    }
}

impl<F, T> Job for QueuedJob<F, T>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    fn run(mut self: Box<Self>, before_publish: &mut dyn FnMut()) {
        let function = self.function.take().expect("a job runs once");
        if !self.cell.start() {
            before_publish();
            return; // cancelled while queued
        }
        // A panicking job must not take its worker down: the panic becomes the job's result.
        let result = catch_unwind(AssertUnwindSafe(function)).map_err(JoinError::panic);
        before_publish();
        self.cell.finish(result);
    }

    fn fail(mut self: Box<Self>, error: JoinError) {
        self.cell.fail_unstarted(error);
        drop(self.function.take()); // the closure's `Drop` is the caller's code: last
    }
}

impl<F, T> Drop for QueuedJob<F, T> {
    fn drop(&mut self) {
        if self.function.is_some() {
            self.cell.cancel();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::park::wait_on_thread;
    use std::future::poll_fn;

    fn result_of<T>(cell: &Arc<JobCell<T>>) -> Result<T, JoinError> {
        wait_on_thread(&mut poll_fn(|cx| cell.poll_result(cx)), None).unwrap()
    }

    #[test]
    fn a_job_runs_and_reports() {
        let cell = JobCell::queued();
        Box::new(QueuedJob::new(|| 5, cell.clone())).run(&mut || {});
        assert!(cell.is_done() && !cell.is_cancelled());
        assert_eq!(result_of(&cell).unwrap(), 5);
    }

    #[test]
    fn a_cancelled_job_never_runs() {
        let cell = JobCell::queued();
        let job = Box::new(QueuedJob::new(|| unreachable!("cancelled"), cell.clone()));
        assert!(cell.cancel());
        assert!(!cell.cancel(), "cancel succeeds once");
        job.run(&mut || {});
        assert!(cell.is_cancelled());
        let error: JoinError = result_of::<()>(&cell).unwrap_err();
        assert!(error.is_cancelled());
    }

    #[test]
    fn a_job_dropped_unrun_reports_not_started() {
        let cell = JobCell::<u8>::queued();
        drop(QueuedJob::new(|| 1, cell.clone()));
        assert!(result_of(&cell)
            .unwrap_err()
            .to_string()
            .contains("before a worker started it"));
    }

    #[test]
    fn a_panicking_job_reports_the_panic() {
        let cell = JobCell::<()>::queued();
        Box::new(QueuedJob::new(|| panic!("job failed"), cell.clone())).run(&mut || {});
        let error = result_of(&cell).unwrap_err();
        assert!(error.is_panic());
    }
}
