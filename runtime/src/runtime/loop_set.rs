//! Beyond one core: several loops, one per core, sharing nothing but what the program shares on
//! purpose — monoio's, glommio's and actix-rt's shape, and Python's several-processes-on-one-port
//! with threads instead of processes.
//!
//! A [`LoopSet`] starts N threads, each running an ordinary evloop runtime, and runs the same
//! entry point on each, given a [`LoopContext`]: its index, a [`Handle`] to every loop, and the
//! set's stop signal. Nothing moves between loops by itself: no work stealing, no `Send` bound on
//! the tasks of a loop, no cache line bouncing between cores for the run queue. What crosses is
//! explicit: a `Send` future spawned on another loop's `Handle`, the `sync` primitives (they work
//! across threads, hence across loops), sockets bound with `SO_REUSEPORT`
//! ([`TcpListener::bind_reuse_port`](crate::net::TcpListener::bind_reuse_port)) so that the
//! kernel spreads connections over the loops. The loops share one blocking pool.
//!
//! A loop whose entry point has finished keeps running until every entry point has: the others
//! may still spawn onto it or wait on its tasks. Then every loop shuts down, each dropping its
//! own tasks.
//!
//! The cost of shared-nothing is imbalance: a loop with a hot connection cannot hand work to an
//! idle one (DESIGN.md "Beyond one core").
//!
//! # Stopping
//!
//! [`StopHandle::stop`] (or [`LoopContext::stop_all`], or a `SIGINT`/`SIGTERM` with
//! [`stop_on_signals`](LoopSet::stop_on_signals)) asks every loop to stop: each entry point sees it
//! through [`LoopContext::stopped`] and drains (stops accepting, finishes what is in flight).
//! An entry point still running [`drain_deadline`](LoopSet::drain_deadline) after the request is
//! dropped, cancelled like any future, and its loop's result is `None`. A loop whose entry point
//! panics asks the others to stop, and once every loop has ended, [`run`](LoopSet::run) resumes
//! that panic on the caller's thread. So `run` always returns (or panics) once the loops are done,
//! and never waits on a stuck entry point longer than the deadline.

use std::future::{poll_fn, Future};
use std::io;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::Poll;
use std::time::Duration;

use super::{Builder, Handle};
use crate::debug::TaskDump;
use crate::sync::Event;

/// How long an entry point may go on draining after a stop request, by default.
const DEFAULT_DRAIN_DEADLINE: Duration = Duration::from_secs(10);

/// N evloop loops, one per thread (one per core by default), running the same entry point.
///
/// # Examples
///
/// ```
/// use evloop::LoopSet;
///
/// // Each loop reports its index and the thread it runs on.
/// let outputs = LoopSet::new().loops(2).run(|context| async move {
///     let thread = std::thread::current().name().unwrap().to_string();
///     (context.index(), thread)
/// })?;
/// assert_eq!(
///     outputs,
///     [Some((0, "evloop-loop-0".to_string())), Some((1, "evloop-loop-1".to_string()))]
/// );
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct LoopSet {
    loops: usize,
    pin_threads: bool,
    drain_deadline: Duration,
    stop_on_signals: bool,
    builder: Builder,
    stop: StopHandle,
}

impl LoopSet {
    /// A set of one loop per CPU the process may use (`std::thread::available_parallelism`),
    /// with default runtime settings, unpinned threads and a 10 s drain deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// let outputs = evloop::LoopSet::new().run(|context| async move { context.count() })?;
    /// let loops = outputs.len(); // as many loops as CPUs
    /// assert!(outputs.iter().all(|count| *count == Some(loops)));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> LoopSet {
        LoopSet {
            loops: std::thread::available_parallelism().map_or(1, usize::from),
            pin_threads: false,
            drain_deadline: DEFAULT_DRAIN_DEADLINE,
            stop_on_signals: false,
            builder: Builder::new(),
            stop: StopHandle::new(),
        }
    }

    /// Sets how many loops to run.
    ///
    /// # Panics
    ///
    /// If `loops` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let set = evloop::LoopSet::new().loops(3);
    /// let outputs = set.run(|context| async move { context.index() })?;
    /// assert_eq!(outputs, [Some(0), Some(1), Some(2)]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn loops(mut self, loops: usize) -> LoopSet {
        assert!(loops > 0, "LoopSet::loops must be at least 1");
        self.loops = loops;
        self
    }

    /// Pins loop `i`'s thread to the `i`-th CPU the process may use (Linux `sched_setaffinity`;
    /// elsewhere this does nothing). Off by default: pinning helps when the loops are the
    /// machine's main work, and hurts when something else needs the same cores.
    ///
    /// # Examples
    ///
    /// ```
    /// let set = evloop::LoopSet::new().loops(2).pin_threads(true);
    /// let outputs = set.run(|context| async move { context.index() })?;
    /// assert_eq!(outputs, [Some(0), Some(1)]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn pin_threads(mut self, pin: bool) -> LoopSet {
        self.pin_threads = pin;
        self
    }

    /// Sets how long entry points may go on after a stop request before they are dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let outputs = evloop::LoopSet::new()
    ///     .loops(1)
    ///     .drain_deadline(Duration::from_millis(10))
    ///     .run(|context| async move {
    ///         context.stop_all();
    ///         evloop::time::sleep(Duration::from_secs(3600)).await; // does not drain in time
    ///     })?;
    /// assert_eq!(outputs, [None]); // dropped at the deadline
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn drain_deadline(mut self, deadline: Duration) -> LoopSet {
        self.drain_deadline = deadline;
        self
    }

    /// Stops every loop on Ctrl-C (`SIGINT`) or `SIGTERM`. Listening starts before any entry
    /// point runs, so no such signal is missed, and it replaces their default action (ending the
    /// process) for good (see [`signal`](crate::signal)).
    ///
    /// # Examples
    ///
    /// ```
    /// let outputs = evloop::LoopSet::new()
    ///     .loops(1)
    ///     .stop_on_signals(true)
    ///     .run(|context| async move {
    ///         // SAFETY: `kill` has no memory-safety preconditions; the process signals itself.
    ///         unsafe { libc::kill(libc::getpid(), libc::SIGTERM) };
    ///         context.stopped().await; // the signal asked every loop to stop
    ///         "drained"
    ///     })?;
    /// assert_eq!(outputs, [Some("drained")]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stop_on_signals(mut self, stop: bool) -> LoopSet {
        self.stop_on_signals = stop;
        self
    }

    /// The settings of every loop's runtime. A blocking pool is made from its blocking settings
    /// and shared by all loops (unless the builder names a pool of its own, which is then shared).
    ///
    /// # Examples
    ///
    /// ```
    /// let loops = evloop::LoopSet::new()
    ///     .loops(2)
    ///     .runtime_builder(evloop::Runtime::builder().tasks_per_tick(16).max_blocking_threads(4));
    /// let outputs = loops.run(|_| async { evloop::run_in_executor(|| 6 * 7).await.unwrap() })?;
    /// assert_eq!(outputs, [Some(42), Some(42)]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn runtime_builder(mut self, builder: Builder) -> LoopSet {
        self.builder = builder;
        self
    }

    /// A handle that stops the set from anywhere, taken before [`run`](LoopSet::run), which
    /// blocks the calling thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let set = evloop::LoopSet::new().loops(2);
    /// let stop = set.stop_handle();
    /// stop.stop(); // before `run`, even: the entry points see it at once
    /// let outputs = set.run(|context| async move { context.stopped().await })?;
    /// assert_eq!(outputs, [Some(()), Some(())]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Starts the loops, runs `entry` on each, and waits until every loop has ended. Returns
    /// each loop's output in index order: `None` for an entry point dropped at the drain deadline.
    ///
    /// # Errors
    ///
    /// If a loop's thread or runtime cannot be created (out of threads or descriptors); the
    /// loops already started are stopped first.
    ///
    /// # Panics
    ///
    /// If an entry point (or a loop) panicked: the others were asked to stop, and the first
    /// panic is resumed here once all have ended.
    ///
    /// # Examples
    ///
    /// ```
    /// // Loop 0 hands loop 1 a piece of work; each returns what it did.
    /// let outputs = evloop::LoopSet::new().loops(2).run(|context| async move {
    ///     if context.index() == 0 {
    ///         context.handle(1).spawn(async { 2 + 2 }).await.unwrap()
    ///     } else {
    ///         0
    ///     }
    /// })?;
    /// assert_eq!(outputs, [Some(4), Some(0)]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn run<F, Fut, T>(self, entry: F) -> io::Result<Vec<Option<T>>>
    where
        F: Fn(LoopContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = T> + 'static,
        T: Send + 'static,
    {
        let entry = Arc::new(entry);
        let builder = self.shared_pool_builder();
        let round_robin = Arc::new(AtomicUsize::new(0));
        let running = Arc::new(Running::new(self.loops));
        let (started, handles_up) = mpsc::channel::<(usize, io::Result<Handle>)>();
        let mut threads = Vec::with_capacity(self.loops);
        let mut releases = Vec::with_capacity(self.loops);
        for index in 0..self.loops {
            let (release, released) = mpsc::channel::<Option<Arc<[Handle]>>>();
            let spec = LoopSpec {
                index,
                pin: self.pin_threads,
                drain_deadline: self.drain_deadline,
                stop_on_signals: self.stop_on_signals && index == 0,
                builder: builder.clone(),
                stop: self.stop.clone(),
                round_robin: round_robin.clone(),
                running: running.clone(),
            };
            let (entry, started) = (entry.clone(), started.clone());
            let thread = std::thread::Builder::new()
                .name(format!("evloop-loop-{index}"))
                .spawn(move || spec.run(&*entry, started, &released));
            match thread {
                Ok(thread) => {
                    threads.push(thread);
                    releases.push(release);
                }
                Err(error) => {
                    abandon(&releases, threads);
                    return Err(error);
                }
            }
        }
        drop(started);
        // Every loop reports its handle (or why it has none) before any entry point starts, so
        // each entry point can reach every loop. Each loop drops its sender once it has reported
        // (a loop that panics first drops it while unwinding), so a missing report ends the wait
        // instead of hanging it.
        let mut handles: Vec<Option<Handle>> = (0..self.loops).map(|_| None).collect();
        for _ in 0..self.loops {
            let Ok((index, handle)) = handles_up.recv() else {
                break; // a loop thread died before reporting: its panic is joined below
            };
            match handle {
                Ok(handle) => handles[index] = Some(handle),
                Err(error) => {
                    abandon(&releases, threads);
                    return Err(error);
                }
            }
        }
        let handles: Option<Arc<[Handle]>> = handles.into_iter().collect();
        for release in &releases {
            let _ = release.send(handles.clone());
        }
        let mut outputs = Vec::with_capacity(self.loops);
        let mut first_panic = None;
        for thread in threads {
            match thread.join() {
                Ok(output) => outputs.push(output),
                Err(panic) => {
                    first_panic.get_or_insert(panic);
                    outputs.push(None);
                }
            }
        }
        if let Some(panic) = first_panic {
            resume_unwind(panic);
        }
        Ok(outputs)
    }

    /// The runtime builder, with one blocking pool for all loops.
    fn shared_pool_builder(&self) -> Builder {
        if self.builder.has_blocking_pool() {
            return self.builder.clone();
        }
        let pool = self.builder.blocking_settings().build_pool();
        self.builder.clone().blocking_pool(Arc::new(pool))
    }
}

impl Default for LoopSet {
    fn default() -> LoopSet {
        LoopSet::new()
    }
}

/// Tells the loops already started that there will be no entry point to run, and waits for them.
fn abandon<T>(
    releases: &[mpsc::Sender<Option<Arc<[Handle]>>>],
    threads: Vec<std::thread::JoinHandle<T>>,
) {
    for release in releases {
        let _ = release.send(None);
    }
    for thread in threads {
        let _ = thread.join();
    }
}

/// What one loop's thread needs.
struct LoopSpec {
    index: usize,
    pin: bool,
    drain_deadline: Duration,
    stop_on_signals: bool,
    builder: Builder,
    stop: StopHandle,
    round_robin: Arc<AtomicUsize>,
    running: Arc<Running>,
}

/// How many entry points are still running; every loop waits for zero before it shuts down.
#[derive(Debug)]
struct Running {
    left: AtomicUsize,
    none_left: Event,
}

impl Running {
    fn new(loops: usize) -> Running {
        Running {
            left: AtomicUsize::new(loops),
            none_left: Event::new(),
        }
    }
}

/// Counts one entry point as finished when dropped: when it returns, is cut off, or unwinds.
struct EntryDone(Arc<Running>);

impl Drop for EntryDone {
    fn drop(&mut self) {
        if self.0.left.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.none_left.set();
        }
    }
}

impl LoopSpec {
    /// The body of a loop's thread: build the runtime, report its handle, wait for every loop's
    /// handles, run the entry point until it ends or the drain deadline cuts it off.
    fn run<F, Fut, T>(
        self,
        entry: &F,
        started: mpsc::Sender<(usize, io::Result<Handle>)>,
        released: &mpsc::Receiver<Option<Arc<[Handle]>>>,
    ) -> Option<T>
    where
        F: Fn(LoopContext) -> Fut,
        Fut: Future<Output = T>,
    {
        // A panic anywhere on this thread asks the other loops to stop before it unwinds.
        let stop = self.stop.clone();
        let outcome = catch_unwind(AssertUnwindSafe(|| self.run_loop(entry, started, released)));
        match outcome {
            Ok(output) => output,
            Err(panic) => {
                stop.stop();
                resume_unwind(panic)
            }
        }
    }

    fn run_loop<F, Fut, T>(
        self,
        entry: &F,
        started: mpsc::Sender<(usize, io::Result<Handle>)>,
        released: &mpsc::Receiver<Option<Arc<[Handle]>>>,
    ) -> Option<T>
    where
        F: Fn(LoopContext) -> Fut,
        Fut: Future<Output = T>,
    {
        if self.pin {
            if let Err(error) = crate::io::sys::pin_current_thread(self.index) {
                eprintln!("evloop: loop {} runs unpinned: {error}", self.index);
            }
        }
        let runtime = match self.builder.build() {
            Ok(runtime) => runtime,
            Err(error) => {
                let _ = started.send((self.index, Err(error)));
                return None;
            }
        };
        // Listening starts before any entry point runs, so that no stop signal is missed.
        let signals = if self.stop_on_signals {
            let listen = async {
                crate::signal::Signals::new([crate::signal::SIGINT, crate::signal::SIGTERM])
            };
            match runtime.block_on(listen) {
                Ok(signals) => Some(signals),
                Err(error) => {
                    let _ = started.send((self.index, Err(error)));
                    return None;
                }
            }
        } else {
            None
        };
        let _ = started.send((self.index, Ok(runtime.handle())));
        drop(started);
        let handles = released.recv().ok().flatten()?;
        let context = LoopContext {
            index: self.index,
            handles,
            stop: self.stop.clone(),
            round_robin: self.round_robin,
        };
        let (drain_deadline, stop) = (self.drain_deadline, self.stop);
        let running = self.running;
        let entry_done = EntryDone(running.clone());
        runtime.block_on(async move {
            if let Some(mut signals) = signals {
                let stop = stop.clone();
                crate::spawn(async move {
                    signals.recv().await;
                    stop.stop();
                });
            }
            let mut entry = pin!(entry(context));
            let mut cut_off = pin!(async {
                stop.stopped().await;
                crate::time::sleep(drain_deadline).await;
            });
            let output = poll_fn(|cx| {
                if let Poll::Ready(output) = entry.as_mut().poll(cx) {
                    return Poll::Ready(Some(output));
                }
                cut_off.as_mut().poll(cx).map(|()| None)
            })
            .await;
            drop(entry_done);
            // Keep serving the other loops (their spawns, their waits on our tasks) until every
            // entry point is done.
            running.none_left.wait().await;
            output
        })
    }
}

/// What an entry point of a [`LoopSet`] is given: which loop it runs on, a way to every other
/// loop, and the set's stop signal.
///
/// # Examples
///
/// ```
/// let outputs = evloop::LoopSet::new().loops(2).run(|context| async move {
///     format!("loop {} of {}", context.index(), context.count())
/// })?;
/// assert_eq!(outputs[1].as_deref(), Some("loop 1 of 2"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct LoopContext {
    index: usize,
    handles: Arc<[Handle]>,
    stop: StopHandle,
    round_robin: Arc<AtomicUsize>,
}

impl LoopContext {
    /// This loop's index, from 0 to [`count`](LoopContext::count) − 1.
    ///
    /// # Examples
    ///
    /// ```
    /// let set = evloop::LoopSet::new().loops(2);
    /// let outputs = set.run(|context| async move { context.index() })?;
    /// assert_eq!(outputs, [Some(0), Some(1)]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// How many loops the set runs.
    ///
    /// # Examples
    ///
    /// ```
    /// let set = evloop::LoopSet::new().loops(3);
    /// let outputs = set.run(|context| async move { context.count() })?;
    /// assert_eq!(outputs, [Some(3); 3]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn count(&self) -> usize {
        self.handles.len()
    }

    /// A handle to loop `index`: spawn `Send` futures onto it, or run callbacks there.
    ///
    /// # Panics
    ///
    /// If `index` is not below [`count`](LoopContext::count).
    ///
    /// # Examples
    ///
    /// ```
    /// let outputs = evloop::LoopSet::new().loops(2).run(|context| async move {
    ///     let other = context.handle(1 - context.index());
    ///     other.spawn(async { std::thread::current().name().map(String::from) }).await.unwrap()
    /// })?;
    /// assert_eq!(outputs[0], Some(Some("evloop-loop-1".to_string())));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn handle(&self, index: usize) -> &Handle {
        &self.handles[index]
    }

    /// Handles to every loop, in index order.
    ///
    /// # Examples
    ///
    /// ```
    /// let outputs = evloop::LoopSet::new().loops(2).run(|context| async move {
    ///     let mut sum = 0;
    ///     for handle in context.handles() {
    ///         sum += handle.spawn(async { 1 }).await.unwrap();
    ///     }
    ///     sum
    /// })?;
    /// assert_eq!(outputs, [Some(2), Some(2)]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn handles(&self) -> &[Handle] {
        &self.handles
    }

    /// The next loop in a round-robin over the set, shared by all loops: spreading work with
    /// `context.next_handle().spawn(...)` sends each loop its turn.
    ///
    /// # Examples
    ///
    /// ```
    /// let outputs = evloop::LoopSet::new().loops(2).run(|context| async move {
    ///     if context.index() > 0 {
    ///         return Vec::new();
    ///     }
    ///     let mut ran_on = Vec::new();
    ///     for _ in 0..4 {
    ///         let name = async { std::thread::current().name().map(String::from) };
    ///         ran_on.push(context.next_handle().spawn(name).await.unwrap().unwrap());
    ///     }
    ///     ran_on
    /// })?;
    /// let expected = ["evloop-loop-0", "evloop-loop-1"].repeat(2);
    /// assert_eq!(outputs[0].as_ref().unwrap(), &expected);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn next_handle(&self) -> &Handle {
        let turn = self.round_robin.fetch_add(1, Ordering::Relaxed);
        &self.handles[turn % self.handles.len()]
    }

    /// Waits until the set is asked to stop.
    ///
    /// # Examples
    ///
    /// ```
    /// let outputs = evloop::LoopSet::new().loops(2).run(|context| async move {
    ///     if context.index() == 1 {
    ///         context.stop_all();
    ///     }
    ///     context.stopped().await; // loop 0 waits here until loop 1 asks
    ///     "stopped"
    /// })?;
    /// assert_eq!(outputs, [Some("stopped"); 2]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn stopped(&self) {
        self.stop.stopped().await;
    }

    /// Whether the set has been asked to stop.
    ///
    /// # Examples
    ///
    /// ```
    /// let outputs = evloop::LoopSet::new().loops(1).run(|context| async move {
    ///     let before = context.is_stopping();
    ///     context.stop_all();
    ///     (before, context.is_stopping())
    /// })?;
    /// assert_eq!(outputs, [Some((false, true))]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_stopping(&self) -> bool {
        self.stop.is_stopped()
    }

    /// Asks every loop of the set to stop (see the module documentation).
    ///
    /// # Examples
    ///
    /// ```
    /// let outputs = evloop::LoopSet::new().loops(2).run(|context| async move {
    ///     if context.index() == 0 {
    ///         context.stop_all(); // e.g. on a "shutdown" command received by loop 0
    ///     }
    ///     context.stopped().await;
    /// })?;
    /// assert_eq!(outputs.len(), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stop_all(&self) {
        self.stop.stop();
    }

    /// A snapshot of every loop's live tasks (each loop takes its own at its next turn), in
    /// index order: the task dump (`evloop::tasks`) across the set.
    ///
    /// # Examples
    ///
    /// ```
    /// let outputs = evloop::LoopSet::new().loops(1).run(|context| async move {
    ///     let _task = evloop::spawn_named("listener", std::future::pending::<()>());
    ///     context.dump_all().await[0].to_string()
    /// })?;
    /// assert!(outputs[0].as_ref().unwrap().contains("listener"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn dump_all(&self) -> Vec<TaskDump> {
        let mut dumps = Vec::with_capacity(self.handles.len());
        for handle in self.handles.iter() {
            if let Ok(dump) = handle.dump().await {
                dumps.push(dump);
            }
        }
        dumps
    }
}

/// Asks a [`LoopSet`] to stop, from any thread (see the module documentation). Cloning it gives
/// another handle on the same stop signal.
///
/// # Examples
///
/// ```
/// let set = evloop::LoopSet::new().loops(2);
/// let stop = set.stop_handle();
/// let outputs = set.run(move |context| {
///     let stop = stop.clone();
///     async move {
///         if context.index() == 0 {
///             stop.stop();
///         }
///         context.stopped().await;
///         context.index()
///     }
/// })?;
/// assert_eq!(outputs, [Some(0), Some(1)]);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct StopHandle {
    requested: Arc<Event>,
}

impl StopHandle {
    fn new() -> StopHandle {
        StopHandle {
            requested: Arc::new(Event::new()),
        }
    }

    /// Asks every loop to stop. Idempotent.
    ///
    /// # Examples
    ///
    /// ```
    /// let set = evloop::LoopSet::new().loops(1);
    /// let stop = set.stop_handle();
    /// let outputs = set.run(move |context| {
    ///     let stop = stop.clone();
    ///     async move {
    ///         std::thread::spawn(move || stop.stop()); // from any thread
    ///         context.stopped().await;
    ///     }
    /// })?;
    /// assert_eq!(outputs, [Some(())]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stop(&self) {
        self.requested.set();
    }

    /// Whether a stop has been asked for.
    ///
    /// # Examples
    ///
    /// ```
    /// let stop = evloop::LoopSet::new().stop_handle();
    /// assert!(!stop.is_stopped());
    /// stop.stop();
    /// assert!(stop.is_stopped());
    /// ```
    pub fn is_stopped(&self) -> bool {
        self.requested.is_set()
    }

    /// Waits until a stop is asked for.
    ///
    /// # Examples
    ///
    /// ```
    /// let stop = evloop::LoopSet::new().stop_handle();
    /// let waiter = stop.clone();
    /// evloop::run(async move {
    ///     let waiting = evloop::spawn(async move { waiter.stopped().await });
    ///     stop.stop();
    ///     waiting.await.unwrap();
    /// });
    /// ```
    pub async fn stopped(&self) {
        self.requested.wait().await;
    }
}
