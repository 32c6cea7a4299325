//! A guided tour of evloop: run it and read along.
//!
//! ```sh
//! cargo run --release --example tour
//! ```
//!
//! Each chapter prints what it does and what happened. It grows with each capability of the
//! runtime; today: tasks, cancellation, timeouts, a wake-up from another thread, blocking work
//! on the thread pool, serving and fetching over loopback, and composing tasks (gather,
//! task_group, as_completed), synchronisation (a semaphore limit, an event, a queue fed by a
//! thread), and seeing inside the loop (named tasks, a task dump, a slow-poll warning, virtual
//! time).
//!
//! Each chapter also names where its machinery lives: the source files under `runtime/src/` and
//! the DESIGN.md section that explains them, so that you can go from using a feature to reading
//! how it works (DESIGN.md §18 lists every file in reading order).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use evloop::time::{interval, sleep, timeout, Instant};
use evloop::{spawn, yield_now, Handle};

/// Prints a chapter's title and where to read how it works.
fn chapter(title: &str, inside: &str) {
    println!("\n== {title} ==");
    println!("   (how it works: {inside})");
}

async fn tasks() {
    chapter(
        "1. Tasks: asyncio.create_task is evloop::spawn",
        "runtime/local.rs, task/cell.rs, task/refs.rs, task/state.rs; DESIGN.md §2-4",
    );
    // Three tasks with different delays run concurrently on one thread: the total time is the
    // longest delay, not the sum.
    let start = Instant::now();
    let handles: Vec<_> = [30u64, 10, 20]
        .into_iter()
        .map(|ms| {
            spawn(async move {
                sleep(Duration::from_millis(ms)).await;
                println!("  task sleeping {ms} ms finished at {:?}", start.elapsed());
                ms
            })
        })
        .collect();
    let mut total = 0;
    for handle in handles {
        total += handle.await.expect("the task did not panic");
    }
    println!(
        "  slept {total} ms in all, in {:?} of wall time: they overlapped",
        start.elapsed()
    );

    // Tasks may hold !Send values such as Rc: everything runs on the loop's thread.
    let log = Rc::new(RefCell::new(Vec::new()));
    let other = spawn({
        let log = log.clone();
        async move { log.borrow_mut().push("the other task") }
    });
    log.borrow_mut().push("main, before yield_now");
    yield_now().await; // asyncio.sleep(0): let the other task run
    log.borrow_mut().push("main, after yield_now");
    other.await.unwrap();
    println!("  order of events: {:?}", log.borrow());

    // A panic stays inside its task and arrives as an error through the handle. (The panic hook
    // still reports it when it happens; a one-line hook keeps the tour readable.)
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| println!("  [panic hook] {info}")));
    let failing = spawn(async {
        let reason = std::hint::black_box("a bug in one task");
        panic!("{reason}");
    });
    let error = failing.await.unwrap_err();
    std::panic::set_hook(default_hook);
    println!("  a panicking task gave: \"{error}\"; the loop carries on");
}

async fn cancellation() {
    chapter(
        "2. Cancellation: abort() drops the future",
        "task/join_ref.rs, task/abort_handle.rs; DESIGN.md §3 Cancellation",
    );
    struct Cleanup;
    impl Drop for Cleanup {
        fn drop(&mut self) {
            println!("  the cancelled task's Drop ran (its cleanup happens here)");
        }
    }
    let worker = spawn(async {
        let _cleanup = Cleanup;
        let mut ticks = interval(Duration::from_millis(5));
        loop {
            ticks.tick().await;
        }
    });
    sleep(Duration::from_millis(12)).await;
    println!("  aborting a task that ticks forever");
    worker.abort();
    let error = worker.await.unwrap_err();
    println!(
        "  awaiting it now gives: \"{error}\" (is_cancelled = {})",
        error.is_cancelled()
    );
}

async fn timeouts() {
    chapter(
        "3. Timeouts: asyncio.timeout is evloop::time::timeout, asyncio.wait_for is evloop::wait_for",
        "time/timer_heap.rs, time/timeout.rs, compose/wait_for.rs; DESIGN.md §5",
    );
    let quick = timeout(Duration::from_millis(100), async {
        sleep(Duration::from_millis(5)).await;
        "answer"
    })
    .await;
    println!("  a 5 ms job under a 100 ms timeout: {quick:?}");
    let slow = timeout(Duration::from_millis(10), sleep(Duration::from_secs(3600))).await;
    match slow {
        Ok(()) => println!("  impossible: the hour passed"),
        Err(elapsed) => println!("  an hour-long job under a 10 ms timeout: Err(\"{elapsed}\")"),
    }
    // A task under wait_for: on the deadline it is cancelled, and waited for, so its clean-up has
    // run when wait_for returns (a plain timeout around a JoinHandle would leave it running).
    let task = evloop::spawn(sleep(Duration::from_secs(3600)));
    let cancel = task.abort_handle();
    let waited = evloop::wait_for(Duration::from_millis(10), task).await;
    println!(
        "  an hour-long task under wait_for(10 ms): {waited:?}, task finished: {}",
        cancel.is_finished()
    );
}

async fn threads() {
    chapter(
        "4. Other threads: a Handle wakes the sleeping loop",
        "runtime/handle.rs, runtime/shared.rs, io/driver.rs; DESIGN.md §4",
    );
    let handle = Handle::current();
    let start = Instant::now();
    let thread = std::thread::spawn(move || {
        // A plain thread (think: a callback from a C library) hands work to the loop...
        handle
            .call_soon_threadsafe(|| println!("  callback from another thread, run on the loop"))
            .expect("the runtime is alive");
        // ...and blocks until a coroutine it submitted has run there: the loop was asleep in
        // the OS poller and the submission woke it.
        let future = handle.run_coroutine_threadsafe(async {
            sleep(Duration::from_millis(10)).await;
            6 * 7
        });
        future.result().expect("the coroutine did not panic")
    });
    while !thread.is_finished() {
        sleep(Duration::from_millis(1)).await;
    }
    let answer = thread.join().unwrap();
    println!(
        "  the thread got {answer} back after {:?} via run_coroutine_threadsafe",
        start.elapsed()
    );
}

async fn blocking_work() {
    chapter(
        "5. Blocking work: loop.run_in_executor is evloop::run_in_executor",
        "blocking/pool.rs, blocking/job.rs, park.rs; DESIGN.md §10",
    );
    let start = Instant::now();
    // Three blocking calls (sleeps standing for file reads or DNS lookups) on pool threads.
    let jobs: Vec<_> = [30u64, 10, 20]
        .into_iter()
        .map(|ms| {
            evloop::run_in_executor(move || {
                std::thread::sleep(Duration::from_millis(ms));
                ms
            })
        })
        .collect();
    // Meanwhile the loop is free: a timer fires on time.
    sleep(Duration::from_millis(5)).await;
    println!(
        "  5 ms timer fired at {:?} while the pool threads blocked",
        start.elapsed()
    );
    let mut total = 0;
    for job in jobs {
        total += job.await.expect("the job did not panic");
    }
    println!(
        "  {total} ms of blocking calls took {:?}: they overlapped",
        start.elapsed()
    );
    // The same future type works without a loop: blocking::ThreadPoolExecutor, from a plain
    // thread. (Its blocking calls refuse to run on the loop's thread, which they would stop.)
    let squares: Vec<u32> = std::thread::spawn(|| {
        let pool = evloop::blocking::ThreadPoolExecutor::new(2);
        pool.map(|x: u32| x * x, 1..=5)
            .map(Result::unwrap)
            .collect()
    })
    .join()
    .expect("the thread did not panic");
    println!("  ThreadPoolExecutor::map from a plain thread, results in input order: {squares:?}");
}

async fn networking() {
    chapter(
        "6. Networking: a server and its clients on one thread",
        "io/reactor.rs, io/source.rs, net/stream.rs, net/tcp.rs; DESIGN.md §11",
    );
    let listener = evloop::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    let address = listener.local_addr().unwrap();
    println!("  echo server listening on {address}");
    // The server: one task per connection, as asyncio.start_server does.
    let server = spawn(async move {
        loop {
            let (stream, peer) = listener.accept().await.expect("accept");
            spawn(async move {
                let mut buffer = [0; 64];
                let n = stream.read(&mut buffer).await.unwrap_or(0);
                let reply = format!("echo to {peer}: {}", String::from_utf8_lossy(&buffer[..n]));
                let _ = stream.write_all(reply.as_bytes()).await;
            });
        }
    });
    // Three clients at once; the loop interleaves their connects, reads and writes.
    let clients: Vec<_> = ["alpha", "beta", "gamma"]
        .into_iter()
        .map(|name| {
            spawn(async move {
                let stream = evloop::net::TcpStream::connect(address).await?;
                stream.write_all(name.as_bytes()).await?;
                stream.shutdown(std::net::Shutdown::Write)?;
                let mut reply = Vec::new();
                let mut buffer = [0; 64];
                loop {
                    let n = stream.read(&mut buffer).await?;
                    if n == 0 {
                        break;
                    }
                    reply.extend_from_slice(&buffer[..n]);
                }
                Ok::<String, std::io::Error>(String::from_utf8_lossy(&reply).into_owned())
            })
        })
        .collect();
    for client in clients {
        println!(
            "  client got: {}",
            client.await.unwrap().expect("the exchange worked")
        );
    }
    server.abort();
}

async fn composing() {
    chapter(
        "7. Composing tasks: gather, task_group, as_completed",
        "ready_set.rs, compose/task_group.rs, compose/gather.rs; DESIGN.md §12",
    );
    let results = evloop::gather((1..=3).map(|n| async move {
        sleep(Duration::from_millis(10 * n)).await;
        Ok::<_, String>(n * n)
    }))
    .await;
    println!("  gather, results in input order: {results:?}");

    // task_group: children may borrow; the first failure cancels the others.
    let names = ["parse", "validate", "store"];
    let outcome = evloop::task_group(async |group| {
        for name in &names {
            group.spawn(async move {
                if *name == "validate" {
                    Err(format!("{name}: bad input"))
                } else {
                    sleep(Duration::from_secs(3600)).await; // cancelled, not awaited for an hour
                    Ok(())
                }
            });
        }
        Ok(())
    })
    .await;
    println!("  task_group: {}", outcome.unwrap_err());

    let jobs = [30u64, 10, 20].map(|ms| {
        spawn(async move {
            sleep(Duration::from_millis(ms)).await;
            ms
        })
    });
    let mut order = Vec::new();
    let mut completed = evloop::as_completed(jobs, None);
    while let Some(done) = completed.next().await {
        let (_index, result) = done.expect("no timeout");
        order.push(result.expect("no panic"));
    }
    println!("  as_completed, in completion order: {order:?}");
}

async fn synchronisation() {
    chapter(
        "8. Synchronisation: a semaphore limit, an event, a queue",
        "sync/wait_queue.rs, sync/semaphore.rs, sync/queue/; DESIGN.md §13",
    );
    // 10 "API calls", at most 2 at a time.
    let limit = Rc::new(evloop::sync::Semaphore::new(2));
    let running = Rc::new(Cell::new(0));
    let peak = Rc::new(Cell::new(0));
    let start_line = Rc::new(evloop::sync::Event::new());
    let calls: Vec<_> = (0..10)
        .map(|_| {
            let (limit, running, peak, start_line) = (
                limit.clone(),
                running.clone(),
                peak.clone(),
                start_line.clone(),
            );
            spawn(async move {
                start_line.wait().await; // everyone waits for the starting signal
                let _permit = limit.acquire().await;
                running.set(running.get() + 1);
                peak.set(peak.get().max(running.get()));
                sleep(Duration::from_millis(2)).await;
                running.set(running.get() - 1);
            })
        })
        .collect();
    yield_now().await;
    println!("  10 calls waiting for the event; setting it");
    start_line.set();
    for call in calls {
        call.await.unwrap();
    }
    println!(
        "  all done; at most {} ran at once (Semaphore(2))",
        peak.get()
    );

    // A bounded queue between a plain thread and a task: the thread blocks while it is full.
    let queue = std::sync::Arc::new(evloop::sync::Queue::new(2));
    let producer = std::thread::spawn({
        let queue = queue.clone();
        move || {
            for word in ["queues", "connect", "threads", "and", "tasks"] {
                queue.put_blocking(word).unwrap();
            }
            queue.shutdown(); // no more items: the consumer's get() fails once it is empty
        }
    });
    let mut words = Vec::new();
    while let Ok(word) = queue.get().await {
        words.push(word);
    }
    producer.join().unwrap();
    println!("  from a thread through Queue(2): {}", words.join(" "));
}

/// Code written for the ecosystem's traits, not for evloop: a library that spawns through
/// `futures-task`, and `futures-core` streams driven with futures-util's combinators.
async fn ecosystem() {
    use futures_util::task::LocalSpawnExt;
    use futures_util::StreamExt;

    chapter(
        "9. The ecosystem's traits: a spawner for libraries, streams for combinators",
        "runtime/spawner.rs, net/accept.rs, sync/queue/waiting.rs; DESIGN.md §11, §14",
    );
    // A "library" that only knows `futures_task::LocalSpawn`, handed evloop's spawner.
    fn start_heartbeat(spawner: &impl futures_util::task::LocalSpawn, beats: Rc<Cell<u32>>) {
        spawner
            .spawn_local(async move {
                let mut ticks = interval(Duration::from_millis(1)).take(3); // a Stream of ticks
                while ticks.next().await.is_some() {
                    beats.set(beats.get() + 1);
                }
            })
            .expect("the runtime is running");
    }
    let beats = Rc::new(Cell::new(0));
    start_heartbeat(&evloop::LocalSpawner::current(), beats.clone());

    // A queue is a Stream of its items until it is shut down and drained.
    let queue = evloop::sync::Queue::new(0);
    for word in ["streams", "and", "spawners"] {
        queue.put_nowait(word).unwrap();
    }
    queue.shutdown();
    let words: Vec<&str> = queue.stream().collect().await;
    while beats.get() < 3 {
        sleep(Duration::from_millis(1)).await; // the heartbeat task runs meanwhile
    }
    println!(
        "  a library spawned through LocalSpawn: {} heartbeats; a queue as a stream: {}",
        beats.get(),
        words.join(" ")
    );
}

/// A child process fed and read through pipes, and a signal caught as an event, both on the loop.
async fn signals_and_processes() {
    use evloop::process::Command;
    use evloop::signal::{Signals, SIGUSR1};
    use futures_util::io::{AsyncReadExt, AsyncWriteExt};
    use std::process::Stdio;

    chapter(
        "10. Signals and child processes",
        "signal.rs, process/mod.rs, process/exit.rs; DESIGN.md §11",
    );
    // asyncio.create_subprocess_exec("sort", stdin=PIPE, stdout=PIPE)
    let mut sort = Command::new("sort")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sort is installed");
    let mut stdin = sort.stdin.take().unwrap();
    stdin.write_all(b"loop\nchild\nasync\n").await.unwrap();
    drop(stdin); // end of input
    let mut sorted = String::new();
    let mut stdout = sort.stdout.take().unwrap();
    stdout.read_to_string(&mut sorted).await.unwrap();
    let status = sort.wait().await.unwrap();
    println!(
        "  sort answered {:?} and {status}",
        sorted.lines().collect::<Vec<_>>()
    );

    // loop.add_signal_handler(SIGUSR1, ...): here a child process sends it to us.
    let mut usr1 = Signals::new([SIGUSR1]).unwrap();
    let kill = format!("kill -USR1 {}", std::process::id()); // the shell's own `kill`
    let sent = Command::new("sh").args(["-c", &kill]).status().await;
    assert!(sent.unwrap().success());
    println!("  caught signal {} from a child process", usr1.recv().await);
}

/// Chapter 11 runs on runtimes of its own: one in debug mode, one with a paused clock.
fn debugging() {
    chapter(
        "11. Seeing inside the loop: named tasks, a dump, a slow poll, virtual time",
        "task/record.rs, debug/monitor.rs, debug/dump.rs, time/clock.rs; DESIGN.md §5-6",
    );
    // Debug mode (EVLOOP_DEBUG=1 turns it on for any program): every task is listed in the dump
    // and a poll that blocks the loop for longer than the threshold is reported.
    let runtime = evloop::Runtime::builder()
        .slow_poll_threshold(Duration::from_millis(50))
        .on_slow_poll(|slow| println!("  reported: {slow}"))
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let (stop, stopped) = evloop::sync::oneshot::channel::<()>();
        let ticker = evloop::spawn_named("ticker", async {
            loop {
                sleep(Duration::from_millis(5)).await;
            }
        });
        let waiter = evloop::spawn_named("waiter", async move { stopped.await.is_ok() });
        let unnamed = spawn(async {
            for _ in 0..3 {
                yield_now().await;
            }
        });
        sleep(Duration::from_millis(22)).await;
        println!("  evloop::tasks() after 22 ms:");
        for line in evloop::tasks().to_string().lines() {
            println!("    {line}");
        }
        // Blocking code in a task stops every other task: the loop reports it.
        evloop::spawn_named("blocker", async {
            std::thread::sleep(Duration::from_millis(80)); // should be run_in_executor
        })
        .await
        .unwrap();
        stop.send(()).unwrap();
        assert!(waiter.await.unwrap());
        unnamed.await.unwrap();
        ticker.abort();
    });

    // Virtual time: "retry every 30 s, give up after 5 minutes", without waiting 5 minutes.
    let paused = evloop::Runtime::builder()
        .start_paused(true)
        .build()
        .expect("a runtime");
    let real_start = std::time::Instant::now();
    let (attempts, simulated) = paused.block_on(async {
        let start = Instant::now();
        let mut attempts = 0;
        let gave_up = timeout(Duration::from_secs(300), async {
            loop {
                attempts += 1; // a connection attempt that always fails
                sleep(Duration::from_secs(30)).await;
            }
        })
        .await;
        assert!(gave_up.is_err());
        (attempts, Instant::now() - start)
    });
    println!(
        "  paused clock: {attempts} attempts over {simulated:?} of virtual time, in {:?} of real time",
        real_start.elapsed()
    );
}

fn main() {
    println!("evloop tour: one thread, many tasks");
    evloop::run(async {
        tasks().await;
        cancellation().await;
        timeouts().await;
        threads().await;
        blocking_work().await;
        networking().await;
        composing().await;
        synchronisation().await;
        ecosystem().await;
        signals_and_processes().await;
    });
    println!("\nevloop::run returned: every task still alive was cancelled.");
    debugging();
    println!("\nTour over.");
}
