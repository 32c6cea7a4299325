//! The runtime's loop-thread half: the run queue, the task list, the timers, the reactor, the
//! driver, the monitor (task ids, poll timing), and the blocking pool once `run_in_executor` has
//! been used.
//!
//! Nothing here is shared with other threads, so nothing here takes a lock or an atomic
//! read-modify-write: `RefCell`s suffice. Each `RefCell` is borrowed only for the duration of one
//! queue or list operation and never across a poll, because a polled future may spawn, wake,
//! register a timer or a socket, and so re-enter this struct.
//!
//! The loop itself, which calls these operations in order, is in `run_loop.rs`.
//!
//! **Following one task.** Its life starts and ends here: [`Local::spawn`] allocates it
//! (`task/refs.rs` `NewTask::allocate`, the memory in `task/cell.rs`), [`Local::link`] lists and
//! queues it, [`Local::run_ready_tasks`] pops it and runs one step (`Queued::run`, `task/refs.rs`),
//! a wake comes back through [`schedule`] at the bottom of this file, and `finish_step` unlinks a
//! task whose future is gone. The state word those steps agree through is `task/state.rs`.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::panic::Location;
use std::rc::Rc;
use std::task::Waker;
use std::time::Duration;

use super::context::with_local;
use super::shared::{Inbox, LoopToken, Shared};
use super::BlockingSettings;
use crate::blocking::{PoolFuture, ThreadPoolExecutor};
use crate::debug::{Monitor, TaskDump};
use crate::io::{Driver, Reactor};
use crate::shim::Arc;
use crate::task::{
    JoinError, JoinHandle, NewTask, NoRecord, Origin, Queued, RunOutcome, TaskList, TaskNumber,
    TaskRef,
};
use crate::time::{Clock, Instant, TimerHeap};
use crate::{coop, foreign};

/// The state only the loop thread touches.
pub(crate) struct Local {
    pub(crate) token: LoopToken,
    /// Tasks ready to be polled, in wake order. Each entry owns a reference.
    run_queue: RefCell<VecDeque<Queued>>,
    /// Every task whose future is alive (for shutdown and the task dump).
    tasks: RefCell<TaskList>,
    /// Task ids, the running task, and poll timing in debug mode (`debug/monitor.rs`).
    monitor: Monitor,
    /// Set once a task with a record has been adopted. Until then the loop skips the per-poll
    /// question "does this task have a record?": a check of this flag, unlike one of the task's
    /// vtable, does not wait for the task's memory, and it keeps the `yield_now` benchmark at its
    /// speed from before records existed.
    has_recorded_tasks: Cell<bool>,
    timers: RefCell<TimerHeap>,
    /// The time as this runtime's timers see it: the system clock, or a paused one (tests).
    clock: Clock,
    /// Registered I/O sources (readiness and wakers) and the driver the loop sleeps in
    /// (`io/reactor.rs`). Shared (weakly) with every I/O source, to deregister itself.
    reactor: Rc<RefCell<Reactor>>,
    /// The loop's spare buffers for swapping the inbox out (see `Shared::take_inbox`).
    inbox_buffers: RefCell<Inbox>,
    /// Reused buffer of wakers to call once the structure that held them is released: due timers,
    /// ready I/O sources.
    due_wakers: RefCell<Vec<Waker>>,
    /// Set once shutdown begins; spawns made after that are cancelled on the spot.
    shutting_down: Cell<bool>,
    /// The fairness bound: tasks polled per tick before timers and the inbox are looked at.
    pub(crate) tasks_per_tick: usize,
    /// The pool behind `run_in_executor`, created on first use (a runtime that never blocks starts
    /// no thread).
    /// Shared with the other loops of a `LoopSet` when it was handed in by the builder; the last
    /// runtime to let go of it shuts it down.
    blocking_pool: RefCell<Option<std::sync::Arc<ThreadPoolExecutor>>>,
    blocking_settings: BlockingSettings,
}

impl Local {
    pub(crate) fn new(
        token: LoopToken,
        driver: Driver,
        tasks_per_tick: usize,
        blocking_settings: BlockingSettings,
        shared_pool: Option<std::sync::Arc<ThreadPoolExecutor>>,
        clock: Clock,
        monitor: Monitor,
    ) -> Local {
        Local {
            token,
            run_queue: RefCell::new(VecDeque::new()),
            tasks: RefCell::new(TaskList::default()),
            monitor,
            has_recorded_tasks: Cell::new(false),
            timers: RefCell::new(TimerHeap::default()),
            clock,
            reactor: Rc::new(RefCell::new(Reactor::new(driver))),
            inbox_buffers: RefCell::new(Inbox::default()),
            due_wakers: RefCell::new(Vec::new()),
            shutting_down: Cell::new(false),
            tasks_per_tick,
            blocking_pool: RefCell::new(shared_pool),
            blocking_settings,
        }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        self.token.shared()
    }

    /// Whether `task` belongs to this runtime.
    pub(crate) fn owns(&self, task: &Queued) -> bool {
        self.token.owns(task.scheduler())
    }

    /// Spawns `future`, unnamed, on this runtime (loop thread); `location` is the spawn call site.
    pub(crate) fn spawn<F>(
        &self,
        future: F,
        location: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
    {
        if self.monitor.is_debug_mode() {
            return self.spawn_recorded(future, Origin::at(location));
        }
        let (task, join) = NewTask::allocate(future, self.shared().clone(), NoRecord);
        self.link(task);
        JoinHandle::new(join)
    }

    /// Spawns `future` with a record of where it comes from: a named task, or any task in debug
    /// mode.
    // `cold`: outside debug mode this is the rare path, and the plain spawn is the one that must
    // stay small enough to inline into the code that spawns.
    #[cold]
    pub(crate) fn spawn_recorded<F>(&self, future: F, origin: Origin) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
    {
        let record = origin.into_record();
        let (task, join) = NewTask::allocate(future, self.shared().clone(), record);
        self.adopt(task);
        JoinHandle::new(join)
    }

    /// Takes a new task in: a task with a record gets its id and spawn time, then it is linked
    /// (see [`Local::link`]).
    pub(crate) fn adopt(&self, task: NewTask) {
        if let Some(record) = task.listed.record(&self.token) {
            record.adopt(self.monitor.next_number(), self.clock.now());
            self.has_recorded_tasks.set(true);
        }
        self.link(task);
    }

    /// Links a new task into the task list and queues its first poll. During shutdown the task
    /// is cancelled instead, so that nothing outlives the runtime.
    fn link(&self, task: NewTask) {
        if self.shutting_down.get() {
            task.listed
                .cancel(&self.token, JoinError::runtime_shutdown());
            return;
        }
        self.tasks.borrow_mut().push(task.listed);
        self.run_queue.borrow_mut().push_back(task.queued);
    }

    /// Runs `function` on the runtime's blocking pool, starting the pool on first use.
    pub(crate) fn run_in_executor<F, T>(&self, function: F) -> PoolFuture<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let mut pool = self.blocking_pool.borrow_mut();
        let pool =
            pool.get_or_insert_with(|| std::sync::Arc::new(self.blocking_settings.build_pool()));
        pool.submit(function)
    }

    /// Queues a task woken on this thread.
    fn push(&self, task: Queued) {
        self.run_queue.borrow_mut().push_back(task);
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.get()
    }

    pub(crate) fn has_ready_tasks(&self) -> bool {
        !self.run_queue.borrow().is_empty()
    }

    pub(crate) fn live_tasks(&self) -> usize {
        self.tasks.borrow().len()
    }

    /// Polls up to `tasks_per_tick` queued tasks. If the main future is ready already
    /// (`main_is_ready`: it yielded), only the tasks queued now: asyncio runs, in one iteration,
    /// what was ready when the iteration began, so a task that yields goes behind a main
    /// coroutine that yielded first, and gets one step per `sleep(0)` of main.
    pub(crate) fn run_ready_tasks(&self, main_is_ready: bool) {
        let mut left = self.tasks_per_tick;
        if main_is_ready {
            left = left.min(self.run_queue.borrow().len());
        }
        for _ in 0..left {
            let Some(task) = self.run_queue.borrow_mut().pop_front() else {
                break;
            };
            if self.has_recorded_tasks.get() && task.has_record() {
                self.run_recorded(task);
            } else {
                self.finish_step(coop::budgeted(|| task.run(&self.token)));
            }
        }
        // Timers, I/O and the main future come next: their time is no task's.
        self.monitor.forget_reading();
    }

    /// Runs one step of a task that has a record, noting it in the record and the monitor.
    // Kept out of line: it is the rarer path, and the plain loop above stays small.
    #[inline(never)]
    fn run_recorded(&self, task: Queued) {
        // The step may complete and free the task: hold a reference so the record outlives it.
        let keep = TaskRef::clone(&task);
        let record = keep.record(&self.token).expect("checked by the caller");
        record.count_poll();
        let start = self.monitor.poll_started(Some(record));
        let outcome = coop::budgeted(|| task.run(&self.token));
        let slow = self
            .monitor
            .poll_finished(start, Some(record), record.location());
        self.finish_step(outcome);
        drop(keep); // may free the task, which may run a waker's drop: no borrow held
                    // Last: the reporter is user code, which may take a dump or panic.
        if let Some(slow) = slow {
            self.monitor.report(&slow);
        }
    }

    /// Unlinks a task whose future the step ended.
    fn finish_step(&self, outcome: RunOutcome) {
        if let RunOutcome::Completed(listed) = outcome {
            let listed = self.tasks.borrow_mut().remove(listed);
            drop(listed); // may free the task, which may run a waker's drop: no borrow held
        }
    }

    pub(crate) fn monitor(&self) -> &Monitor {
        &self.monitor
    }

    /// A snapshot of the live tasks, leaving out `leave_out` (see `debug/dump.rs`).
    pub(crate) fn dump(&self, leave_out: Option<TaskNumber>) -> TaskDump {
        self.monitor
            .snapshot(&self.tasks.borrow(), self.clock.now(), leave_out)
    }

    /// Moves everything other threads handed over into the run queue.
    pub(crate) fn take_inbox(&self) {
        let mut buffers = self.inbox_buffers.borrow_mut();
        if !self.shared().take_inbox(&mut buffers) {
            return;
        }
        self.run_queue.borrow_mut().extend(buffers.woken.drain(..));
        for task in buffers.spawned.drain(..) {
            self.adopt(task);
        }
    }

    /// Wakes every timer due at `now` and returns the next deadline, if any timer is left.
    /// Keeps a timer that wakes `waker` at `deadline` in this runtime's heap: moves the one
    /// registered under `key`, if any, or registers a new one, and returns its key. `None` if
    /// the deadline has passed on this runtime's clock: the timer is due (and no longer
    /// registered).
    #[inline]
    pub(crate) fn arm_timer(
        &self,
        key: Option<usize>,
        deadline: Instant,
        waker: &Waker,
    ) -> Option<usize> {
        let mut timers = self.timers.borrow_mut();
        if self.clock.now() >= deadline {
            if let Some(key) = key {
                timers.remove(key);
            }
            return None;
        }
        Some(match key {
            Some(key) => {
                timers.reset(key, deadline, waker);
                key
            }
            None => timers.insert(deadline, waker.clone()),
        })
    }

    /// Removes the timer registered under `key`.
    #[inline]
    pub(crate) fn disarm_timer(&self, key: usize) {
        self.timers.borrow_mut().remove(key);
    }

    pub(crate) fn fire_timers(&self, now: Instant) -> Option<Instant> {
        let mut due = self.due_wakers.borrow_mut();
        let next = {
            let mut timers = self.timers.borrow_mut();
            timers.expire(now, &mut due);
            timers.next_deadline()
        };
        // Wakers can run any code (a foreign waker might even register a timer): call them with
        // the heap released, each through `foreign::wake` so that a panicking one neither leaves
        // the loop nor keeps the others from being woken. The reused buffer stays borrowed;
        // nothing below touches it.
        for waker in due.drain(..) {
            foreign::wake(waker);
        }
        next
    }

    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// With a paused clock: whether the loop is idle in the sense that lets the clock jump to the
    /// next deadline (see `time/clock.rs`). Looks, in this order, at the blocking pool, then the
    /// inbox and I/O: a job's worker counts as busy for this purpose (`handing_back` in
    /// `blocking/pool.rs`) until its result has woken its task through the inbox, so a pool found
    /// idle leaves no wake-up behind.
    pub(crate) fn is_idle_for_virtual_time(&self) -> bool {
        let pool_busy = self
            .blocking_pool
            .borrow()
            .as_ref()
            .is_some_and(|pool| pool.is_busy());
        if pool_busy {
            return false;
        }
        self.take_inbox();
        if self.has_io_sources() {
            self.poll_io_now();
        }
        !self.has_ready_tasks()
    }

    pub(crate) fn has_timers(&self) -> bool {
        !self.timers.borrow().is_empty()
    }

    /// The reactor, for an I/O source to register with.
    pub(crate) fn reactor(&self) -> Rc<RefCell<Reactor>> {
        self.reactor.clone()
    }

    pub(crate) fn has_io_sources(&self) -> bool {
        !self.reactor.borrow().is_empty()
    }

    /// Sleeps in the driver (through the wake word, see `Shared::park`) for at most `timeout`,
    /// then wakes the tasks whose I/O became ready.
    pub(crate) fn park(&self, timeout: Option<Duration>) {
        self.collect_io_events(|driver, on_event| {
            self.shared().park(driver, timeout, on_event);
        });
    }

    /// Collects I/O readiness without sleeping (on busy ticks, so that I/O is never starved by
    /// tasks that keep the run queue full).
    pub(crate) fn poll_io_now(&self) {
        self.collect_io_events(|driver, on_event| driver.park(Some(Duration::ZERO), on_event));
    }

    fn collect_io_events(
        &self,
        poll: impl FnOnce(&mut Driver, &mut dyn FnMut(&mio::event::Event)),
    ) {
        let mut wakers = self.due_wakers.borrow_mut();
        self.reactor.borrow_mut().poll_events(poll, &mut wakers);
        // Wakers run with the reactor released: a woken task's code is not run here, but a
        // foreign waker may run anything, or panic (see `foreign.rs`).
        for waker in wakers.drain(..) {
            foreign::wake(waker);
        }
    }

    /// Cancels every live task and drops everything the runtime holds (from `Runtime::drop`).
    ///
    /// Order matters: the inbox closes first, so no other thread can hand in work from now on;
    /// then every live future is dropped (their `Drop` may wake or even spawn tasks: spawns are
    /// cancelled on the spot because `shutting_down` is set); last, the run queue, which may hold
    /// entries for tasks completed above, releases its references. Then the blocking pool: queued
    /// jobs are dropped (their tasks are gone), running ones get `blocking_settings.shutdown_timeout`
    /// to return before their threads are detached — so shutdown never hangs on a stuck job.
    pub(crate) fn shutdown(&self) {
        self.shutting_down.set(true);
        let inbox = self.shared().close_inbox();
        drop(inbox.woken);
        for task in inbox.spawned {
            task.listed
                .cancel(&self.token, JoinError::runtime_shutdown());
        }
        loop {
            let next = self.tasks.borrow_mut().pop_front();
            let Some(task) = next else { break };
            task.cancel(&self.token, JoinError::runtime_shutdown());
        }
        loop {
            let next = self.run_queue.borrow_mut().pop_front();
            let Some(task) = next else { break };
            drop(task);
        }
        // Timers left behind by the futures dropped above: their wakers go one by one, a
        // panicking `drop` caught like a panicking wake (`foreign.rs`), so shutdown goes on.
        let timers = std::mem::take(&mut *self.timers.borrow_mut());
        for waker in timers.into_wakers() {
            foreign::drop_quietly(waker);
        }
        let pool = self.blocking_pool.borrow_mut().take();
        // A pool shared with other loops is shut down by the last one to let go (exactly one:
        // `into_inner` hands it to one owner only), and left alone by the others.
        if let Some(pool) = pool.and_then(std::sync::Arc::into_inner) {
            pool.shutdown_within(self.blocking_settings.shutdown_timeout);
        }
    }
}

impl std::fmt::Debug for Local {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Local")
            .field("ready", &self.run_queue.borrow().len())
            .field("live_tasks", &self.live_tasks())
            .finish_non_exhaustive()
    }
}

/// Queues a task that has just been woken (the waker took a reference for the queue entry):
/// onto the local run queue on the task's own loop thread (no lock, no system call), through the
/// runtime's inbox from anywhere else.
pub(crate) fn schedule(task: Queued) {
    let mut task = Some(task);
    // `with_local` is `None` outside a runtime, and when the thread is exiting.
    with_local(|local| {
        if task.as_ref().is_some_and(|task| local.owns(task)) {
            local.push(task.take().expect("checked just above"));
        }
    });
    if let Some(task) = task {
        let shared = task.scheduler().clone();
        shared.push_woken(task);
    }
}
