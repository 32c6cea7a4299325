//! The soak: a mixed workload, with faults injected, for a given time — then a check that nothing
//! was lost.
//!
//! ```sh
//! cargo run --release -p evloop-benches --bin soak -- --seconds 20
//! ```
//!
//! Round after round, one runtime runs a few hundred tasks of random kinds: timers and timeouts,
//! a bounded queue with producers and consumers cancelled at random, a semaphore whose acquires
//! time out, an event and a mutex with a condition, TCP and Unix connections dropped in the
//! middle of a transfer, pool jobs (some panic, some are cancelled or never awaited), task groups
//! whose children fail, are aborted or panic on drop, tasks given up on by `wait_for`, child
//! processes fed and read through pipes and dropped mid-exchange — and
//! faults: futures that panic, wakers that panic when
//! the runtime (or a pool worker) calls them, values whose `Drop` panics. A random third of the
//! tasks is aborted. After each round every task must have ended one way or another, every permit
//! must be back and every queue item accounted for; at the end every item ever created must have
//! been dropped exactly once, no child process may be left a zombie, and the open descriptors and
//! resident memory must be back where they were after the first round. Any difference, or a round that does not finish within a minute
//! (a lost wake-up), fails the run with exit code 1.
//!
//! Injected panics are counted by a panic hook and not printed; any other panic is.

use std::cell::Cell;
use std::future::Future;
use std::io::Read;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use evloop::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use evloop::sync::{Condition, Event, Mutex, Queue, Semaphore};
use evloop::time::{sleep, timeout};

/// Marks the payload of every panic this program raises on purpose.
const INJECTED: &str = "injected fault";
/// Tasks started per round.
const TASKS_PER_ROUND: usize = 300;
/// The semaphore's permits: all of them must be back after every round.
const PERMITS: usize = 4;
/// A round that takes longer than this has lost a wake-up.
const ROUND_LIMIT: Duration = Duration::from_secs(60);

/// Panics raised on purpose, counted by the panic hook (they may happen on pool threads).
static INJECTED_PANICS: AtomicUsize = AtomicUsize::new(0);
/// Items (queue items, task outputs, job results) created and dropped: equal at the end.
static ITEMS_CREATED: AtomicUsize = AtomicUsize::new(0);
/// Errors nobody retrieved (a detached task's injected panic, a group's errors dropped with its
/// panic), counted by the runtime's unhandled-error handler rather than printed.
static UNHANDLED: AtomicUsize = AtomicUsize::new(0);
static ITEMS_DROPPED: AtomicUsize = AtomicUsize::new(0);

/// A value that counts its creation and its drop; some panic when dropped.
struct Item {
    panics_on_drop: bool,
}

impl Item {
    fn new(panics_on_drop: bool) -> Item {
        ITEMS_CREATED.fetch_add(1, Ordering::Relaxed);
        Item { panics_on_drop }
    }
}

impl Drop for Item {
    fn drop(&mut self) {
        ITEMS_DROPPED.fetch_add(1, Ordering::Relaxed);
        if self.panics_on_drop {
            panic!("{INJECTED}: an item whose drop panics");
        }
    }
}

/// A waker that panics when woken.
struct PanicWaker;

impl Wake for PanicWaker {
    fn wake(self: Arc<Self>) {
        panic!("{INJECTED}: a waker that panics");
    }
}

/// xorshift64*: enough randomness to choose workloads, reproducible from a seed.
struct Random(Cell<u64>);

impl Random {
    fn below(&self, n: u64) -> u64 {
        let mut x = self.0.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
    fn chance(&self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// What one run did, for the report and the checks.
#[derive(Default)]
struct Tally {
    rounds: usize,
    tasks: usize,
    finished: usize,
    panicked: usize,
    cancelled: usize,
    queue_put: usize,
    queue_got: usize,
    connections: usize,
    pool_jobs: usize,
    children: usize,
}

/// What the tasks of one round share.
struct Shared {
    random: Random,
    queue: Queue<Item>,
    semaphore: Semaphore,
    event: Event,
    mutex: Mutex<u64>,
    condition: Condition,
    queue_put: Cell<usize>,
    queue_got: Cell<usize>,
    connections: Cell<usize>,
    pool_jobs: Cell<usize>,
    children: Cell<usize>,
    tcp: std::net::SocketAddr,
    unix: std::path::PathBuf,
}

fn main() -> ExitCode {
    let seconds: u64 = std::env::args()
        .skip_while(|arg| arg != "--seconds")
        .nth(1)
        .map_or(20, |value| value.parse().expect("--seconds takes a number"));
    install_panic_hook();
    let watchdog = Arc::new(AtomicUsize::new(0));
    start_watchdog(watchdog.clone());

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tally = Tally::default();
    let mut baseline = None;
    let mut seed = 0x9e37_79b9_7f4a_7c15;
    let mut failures = Vec::new();
    while Instant::now() < deadline || tally.rounds < 2 {
        seed += 1;
        if let Err(failure) = round(seed, &mut tally) {
            failures.push(format!("round {}: {failure}", tally.rounds));
        }
        tally.rounds += 1;
        watchdog.fetch_add(1, Ordering::Relaxed);
        if tally.rounds == 1 {
            // After the first round: the allocator and the runtime's buffers are warm.
            baseline = Some((open_descriptors(), resident_mb()));
        }
    }
    let (fds_before, rss_before) = baseline.expect("at least one round ran");
    let (fds_after, rss_after) = (open_descriptors(), resident_mb());
    let created = ITEMS_CREATED.load(Ordering::Relaxed);
    let dropped = ITEMS_DROPPED.load(Ordering::Relaxed);
    println!(
        "soak: {} s, {} rounds, {} tasks ({} finished, {} panicked, {} cancelled), {} queue items \
         put / {} got, {} connections, {} pool jobs, {} child processes, {} faults injected, {} \
         unhandled errors reported",
        seconds,
        tally.rounds,
        tally.tasks,
        tally.finished,
        tally.panicked,
        tally.cancelled,
        tally.queue_put,
        tally.queue_got,
        tally.connections,
        tally.pool_jobs,
        tally.children,
        INJECTED_PANICS.load(Ordering::Relaxed),
        UNHANDLED.load(Ordering::Relaxed),
    );
    println!(
        "soak: items created {created}, dropped {dropped}; descriptors {fds_before} -> \
         {fds_after}; resident memory {rss_before:.1} MB -> {rss_after:.1} MB"
    );
    if created != dropped {
        failures.push(format!("{created} items created but {dropped} dropped"));
    }
    if fds_after != fds_before {
        failures.push(format!(
            "descriptors leaked: {fds_before} after the first round, {fds_after} at the end"
        ));
    }
    let zombies = zombie_children();
    if zombies > 0 {
        failures.push(format!("{zombies} child processes left unreaped (zombies)"));
    }
    // Memory: a leak of even a few bytes per task grows with the hundreds of thousands of tasks a
    // run makes; the allocator's own caching does not.
    if rss_after > rss_before + 32.0 {
        failures.push(format!(
            "resident memory grew from {rss_before:.1} MB to {rss_after:.1} MB"
        ));
    }
    if failures.is_empty() {
        println!("soak: nothing lost");
        ExitCode::SUCCESS
    } else {
        for failure in &failures {
            eprintln!("soak: FAILED: {failure}");
        }
        ExitCode::FAILURE
    }
}

/// One runtime, one round of tasks, and the checks that need the round's state.
fn round(seed: u64, tally: &mut Tally) -> Result<(), String> {
    let tcp_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let unix = std::env::temp_dir().join(format!("evloop-soak-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&unix);
    let rt = evloop::Runtime::builder()
        .on_unhandled_error(|_| {
            UNHANDLED.fetch_add(1, Ordering::Relaxed);
        })
        .build()
        .unwrap();
    let result = rt.block_on(async {
        let shared = Rc::new(Shared {
            random: Random(Cell::new(seed)),
            queue: Queue::new(8),
            semaphore: Semaphore::new(PERMITS),
            event: Event::new(),
            mutex: Mutex::new(0),
            condition: Condition::new(),
            queue_put: Cell::new(0),
            queue_got: Cell::new(0),
            connections: Cell::new(0),
            pool_jobs: Cell::new(0),
            children: Cell::new(0),
            tcp: tcp_listener.local_addr().unwrap(),
            unix: unix.clone(),
        });
        let servers = [
            evloop::spawn(echo_tcp(TcpListener::from_std(tcp_listener).unwrap())),
            evloop::spawn(echo_unix(UnixListener::bind(&unix).unwrap())),
        ];
        let tasks: Vec<_> = (0..TASKS_PER_ROUND)
            .map(|_| evloop::spawn(workload(shared.clone())))
            .collect();
        evloop::yield_now().await;
        for task in &tasks {
            if shared.random.chance(30) {
                task.abort();
            }
        }
        // Whatever happened, wake everyone who may still wait on the event or the condition.
        sleep(Duration::from_millis(5)).await;
        shared.event.set();
        shared.condition.notify_all();
        for task in tasks {
            tally.tasks += 1;
            match task.await {
                Ok(()) => tally.finished += 1,
                Err(error) if error.is_panic() => tally.panicked += 1,
                Err(_) => tally.cancelled += 1,
            }
        }
        for server in servers {
            server.abort();
            let _ = server.await;
        }
        // The queue's books: every item put was got or is still in it.
        let left = shared.queue.shutdown_immediate();
        let (put, got) = (shared.queue_put.get(), shared.queue_got.get());
        tally.queue_put += put;
        tally.queue_got += got;
        tally.connections += shared.connections.get();
        tally.pool_jobs += shared.pool_jobs.get();
        tally.children += shared.children.get();
        let books = if put != got + left.len() {
            Err(format!("{put} items put, {got} got, {} left", left.len()))
        } else if shared.semaphore.available_permits() != PERMITS {
            Err(format!(
                "{} of {PERMITS} permits back",
                shared.semaphore.available_permits()
            ))
        } else {
            // A child process dropped mid-exchange is reaped by a named task of the runtime's
            // once it ends (its stdin is closed, so it ends soon): let those finish first.
            let mut dump = evloop::tasks();
            for _ in 0..1000 {
                let only_reapers = dump.unrecorded() == 0
                    && dump.iter().all(|task| {
                        task.name()
                            .is_some_and(|name| name.starts_with("evloop: reaping child"))
                    });
                if dump.is_empty() || !only_reapers {
                    break;
                }
                sleep(Duration::from_millis(1)).await;
                dump = evloop::tasks();
            }
            let alive = dump.len() + dump.unrecorded();
            if alive == 0 {
                Ok(())
            } else {
                Err(format!("{alive} tasks still alive after the round"))
            }
        };
        for item in left {
            quietly(|| drop(item));
        }
        books
    });
    quietly(|| drop(rt));
    let _ = std::fs::remove_file(&unix);
    result
}

/// One task: a workload of a random kind.
async fn workload(shared: Rc<Shared>) {
    let random = &shared.random;
    match random.below(13) {
        0 => {
            sleep(Duration::from_micros(random.below(2000))).await;
            let _ = timeout(
                Duration::from_micros(random.below(500)),
                sleep(Duration::from_millis(1)),
            )
            .await;
        }
        1 => {
            // A producer, cancelled at random by its timeout.
            let item = Item::new(random.chance(5));
            let put = timeout(
                Duration::from_micros(random.below(3000)),
                shared.queue.put(item),
            )
            .await;
            if let Ok(Ok(())) = put {
                shared.queue_put.set(shared.queue_put.get() + 1);
            }
        }
        2 => {
            // A consumer, cancelled at random: a cancelled get must not lose its item.
            let got = timeout(
                Duration::from_micros(random.below(3000)),
                shared.queue.get(),
            )
            .await;
            if let Ok(Ok(item)) = got {
                shared.queue_got.set(shared.queue_got.get() + 1);
                quietly(|| drop(item));
            }
        }
        3 => {
            let need = 1 + random.below(2) as usize;
            let wait = Duration::from_micros(random.below(3000));
            if let Ok(permit) = timeout(wait, shared.semaphore.acquire_many(need)).await {
                evloop::yield_now().await;
                drop(permit);
            }
        }
        4 => {
            let _ = timeout(
                Duration::from_micros(random.below(5000)),
                shared.event.wait(),
            )
            .await;
            if random.chance(10) {
                shared.event.set();
            }
        }
        5 => {
            let guard = shared.mutex.lock().await;
            if random.chance(50) {
                let wait = Duration::from_micros(random.below(2000));
                let _ = timeout(wait, shared.condition.wait(guard)).await;
            } else {
                shared.condition.notify(1);
            }
        }
        6 => {
            // A future that panics.
            evloop::yield_now().await;
            panic!("{INJECTED}: a task that panics");
        }
        7 => {
            // A waker that panics when the loop calls it: a timer, then the event.
            let mut nap = Box::pin(sleep(Duration::from_micros(random.below(1000))));
            let _ = poll_with_panic_waker(&mut nap);
            let mut wait = Box::pin(shared.event.wait());
            let _ = poll_with_panic_waker(&mut wait);
            sleep(Duration::from_millis(2)).await;
            if random.chance(50) {
                drop(wait);
            } else {
                let _ = timeout(Duration::from_millis(1), wait).await;
            }
        }
        8 => {
            // A value whose drop panics, inside a task that is aborted (through its handle or an
            // `AbortHandle`), given up on by `wait_for`, or left to finish.
            let item = Item::new(true);
            let inner = evloop::spawn(async move {
                let _item = item;
                sleep(Duration::from_micros(500)).await;
            });
            match random.below(4) {
                0 => inner.abort(),
                1 => inner.abort_handle().abort(),
                _ => {}
            }
            if random.chance(50) {
                let _ = evloop::wait_for(Duration::from_micros(random.below(1000)), inner).await;
            } else {
                let _ = inner.await;
            }
        }
        9 => tcp_client(&shared).await,
        10 => unix_client(&shared).await,
        11 => pool_job(&shared).await,
        12 if random.chance(5) => child_process(&shared).await,
        12 => {}
        _ => unreachable!(),
    }
    if random.chance(5) {
        let _ = group(&shared).await;
    }
}

/// A child process fed a line through its stdin and read through its stdout, the whole exchange
/// cancelled at random (with or without `kill_on_drop`): the descriptors count at the end checks
/// that no pipe or pidfd leaks.
async fn child_process(shared: &Shared) {
    use evloop::process::Command;
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    let random = &shared.random;
    shared.children.set(shared.children.get() + 1);
    let spawned = Command::new("sh")
        .args(["-c", "read line; echo \"$line\""])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(random.chance(50))
        .spawn();
    let Ok(mut child) = spawned else { return };
    let exchange = async {
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"soak\n").await?;
        drop(stdin); // end of input
        let mut echoed = String::new();
        child
            .stdout
            .as_mut()
            .unwrap()
            .read_to_string(&mut echoed)
            .await?;
        assert_eq!(echoed, "soak\n");
        child.wait().await
    };
    let _ = timeout(Duration::from_micros(random.below(5000)), exchange).await;
}

async fn pool_job(shared: &Shared) {
    shared.pool_jobs.set(shared.pool_jobs.get() + 1);
    let panics = shared.random.chance(20);
    let item_panics = shared.random.chance(20);
    let mut job = evloop::run_in_executor(move || {
        if panics {
            panic!("{INJECTED}: a pool job that panics");
        }
        Item::new(item_panics)
    });
    let result = match shared.random.below(4) {
        0 => {
            job.cancel();
            job.await
        }
        // The worker calls the panicking waker (unless the job is already done).
        1 => match poll_with_panic_waker(&mut job) {
            Poll::Ready(result) => result,
            Poll::Pending => job.await,
        },
        2 => {
            drop(job); // nobody wants the result: the worker drops it
            return;
        }
        _ => job.await,
    };
    if let Ok(item) = result {
        quietly(|| drop(item));
    }
}

/// A task group whose children fail, panic or panic when dropped.
async fn group(shared: &Shared) -> Result<(), evloop::GroupError<&'static str>> {
    let random = &shared.random;
    evloop::task_group(async |group| {
        for _ in 0..1 + random.below(3) {
            let kind = random.below(3);
            let item = Item::new(random.chance(50));
            let child = group.spawn(async move {
                let _item = item;
                sleep(Duration::from_micros(200)).await;
                match kind {
                    0 => Ok(()),
                    1 => Err("a child failed"),
                    _ => std::future::pending().await,
                }
            });
            if random.chance(30) {
                child.abort(); // one child cancelled on its own: no error of the group
            }
        }
        sleep(Duration::from_millis(1)).await;
        Err("the body gives up")
    })
    .await
}

async fn tcp_client(shared: &Shared) {
    let Ok(stream) = TcpStream::connect(shared.tcp).await else {
        return;
    };
    shared.connections.set(shared.connections.get() + 1);
    transfer_then_drop(&shared.random, stream).await;
}

async fn unix_client(shared: &Shared) {
    let Ok(stream) = UnixStream::connect(&shared.unix).await else {
        return;
    };
    shared.connections.set(shared.connections.get() + 1);
    transfer_then_drop(&shared.random, stream).await;
}

/// Writes a random amount, reads some of the echo, and returns (dropping the connection with
/// data still in flight, often).
async fn transfer_then_drop<S>(random: &Random, mut stream: S)
where
    S: futures_lite::AsyncRead + futures_lite::AsyncWrite + Unpin,
{
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    let data = vec![7u8; 1 + random.below(64 * 1024) as usize];
    if stream.write_all(&data).await.is_err() {
        return;
    }
    let mut buffer = vec![0; 1024];
    let _ = timeout(Duration::from_millis(2), stream.read(&mut buffer)).await;
}

async fn echo_tcp(listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        drop(evloop::spawn(echo(stream)));
    }
}

async fn echo_unix(listener: UnixListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        drop(evloop::spawn(echo(stream)));
    }
}

async fn echo<S>(mut stream: S)
where
    S: futures_lite::AsyncRead + futures_lite::AsyncWrite + Unpin,
{
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    let mut buffer = vec![0; 4096];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if stream.write_all(&buffer[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Polls `future` once with a waker that panics when woken; whoever wakes it later (the loop, a
/// pool worker, an event) must survive that.
fn poll_with_panic_waker<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    let waker = Waker::from(Arc::new(PanicWaker));
    Pin::new(future).poll(&mut Context::from_waker(&waker))
}

/// Runs `f`, swallowing an injected panic (a value dropped here may panic on purpose).
fn quietly(f: impl FnOnce()) {
    let _ = std::panic::catch_unwind(AssertUnwindSafe(f));
}

/// Counts injected panics without printing them; prints any other.
fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with(INJECTED) {
            INJECTED_PANICS.fetch_add(1, Ordering::Relaxed);
        } else {
            default(info);
        }
    }));
}

/// Fails the run if a round does not finish in time: a lost wake-up hangs, and a soak must not.
fn start_watchdog(rounds: Arc<AtomicUsize>) {
    let done = Arc::new(AtomicBool::new(false));
    std::thread::spawn(move || {
        let mut seen = rounds.load(Ordering::Relaxed);
        let mut since = Instant::now();
        while !done.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_secs(1));
            let now = rounds.load(Ordering::Relaxed);
            if now != seen {
                (seen, since) = (now, Instant::now());
            } else if since.elapsed() > ROUND_LIMIT {
                eprintln!("soak: FAILED: round {seen} has not finished in {ROUND_LIMIT:?}");
                std::process::exit(1);
            }
        }
    });
}

/// How many children of this process have ended and not been reaped (`/proc/*/stat`: state `Z`,
/// parent us).
fn zombie_children() -> usize {
    let me = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
        .filter(|stat| {
            let Some(close) = stat.rfind(')') else {
                return false;
            };
            let mut fields = stat[close + 2..].split_whitespace();
            fields.next() == Some("Z") && fields.next() == Some(me.as_str())
        })
        .count()
}

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("Linux /proc")
        .count()
}

fn resident_mb() -> f64 {
    let mut statm = String::new();
    std::fs::File::open("/proc/self/statm")
        .and_then(|mut file| file.read_to_string(&mut statm))
        .expect("Linux /proc");
    let pages: f64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096.0 / 1e6
}
