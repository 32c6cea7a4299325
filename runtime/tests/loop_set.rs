//! One loop per core: a `LoopSet` of N runtimes, what crosses between them, and how they stop.

mod common;

use std::cell::Cell;
use std::collections::HashSet;
use std::future::{poll_fn, Future};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use evloop::net::{
    Listener, Stream, StreamSocket, TcpListener, TcpStream, UnixListener, UnixStream,
};
use evloop::sync::{Queue, Semaphore};
use evloop::{LoopContext, LoopSet, Runtime};
use futures_util::StreamExt;

use common::within;

#[test]
fn every_loop_runs_the_entry_point_on_its_own_named_thread() {
    within(Duration::from_secs(20), || {
        let outputs = LoopSet::new()
            .loops(3)
            .run(|context| async move {
                let thread = std::thread::current().name().unwrap().to_string();
                (context.index(), context.count(), thread)
            })
            .unwrap();
        let expected: Vec<_> = (0..3)
            .map(|i| Some((i, 3, format!("evloop-loop-{i}"))))
            .collect();
        assert_eq!(outputs, expected);
    });
}

#[test]
fn a_send_future_spawned_on_another_loop_runs_there() {
    within(Duration::from_secs(20), || {
        let outputs = LoopSet::new()
            .loops(2)
            .run(|context| async move {
                let other = (context.index() + 1) % context.count();
                let task = context
                    .handle(other)
                    .spawn(async { std::thread::current().name().unwrap().to_string() });
                task.await.unwrap()
            })
            .unwrap();
        assert_eq!(
            outputs,
            [Some("evloop-loop-1".into()), Some("evloop-loop-0".into())]
        );
    });
}

#[test]
fn next_handle_spreads_work_round_robin_over_the_loops() {
    within(Duration::from_secs(20), || {
        let outputs = LoopSet::new()
            .loops(2)
            .run(|context| async move {
                if context.index() != 0 {
                    return Vec::new();
                }
                let mut threads = Vec::new();
                for _ in 0..6 {
                    let task = context
                        .next_handle()
                        .spawn(async { std::thread::current().name().unwrap().to_string() });
                    threads.push(task.await.unwrap());
                }
                threads
            })
            .unwrap();
        let threads = outputs[0].clone().unwrap();
        assert_eq!(
            threads,
            ["evloop-loop-0", "evloop-loop-1"].repeat(3),
            "each loop in turn"
        );
    });
}

#[test]
fn a_semaphore_limits_tasks_spread_over_two_loops() {
    within(Duration::from_secs(20), || {
        let limit = Arc::new(Semaphore::new(1));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let outputs = LoopSet::new()
            .loops(2)
            .run({
                let (limit, running, peak) = (limit.clone(), running.clone(), peak.clone());
                move |_context| {
                    let (limit, running, peak) = (limit.clone(), running.clone(), peak.clone());
                    async move {
                        for _ in 0..50 {
                            let _permit = limit.acquire().await;
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            peak.fetch_max(now, Ordering::SeqCst);
                            evloop::yield_now().await; // hold the permit across a turn
                            running.fetch_sub(1, Ordering::SeqCst);
                        }
                    }
                }
            })
            .unwrap();
        assert_eq!(outputs.len(), 2);
        assert_eq!(peak.load(Ordering::SeqCst), 1, "never two at once");
        assert_eq!(limit.available_permits(), 1, "every permit came back");
    });
}

#[test]
fn a_queue_carries_items_from_one_loop_to_another() {
    within(Duration::from_secs(20), || {
        let queue = Arc::new(Queue::new(4));
        let outputs = LoopSet::new()
            .loops(2)
            .run({
                let queue = queue.clone();
                move |context| {
                    let queue = queue.clone();
                    async move {
                        if context.index() == 0 {
                            for n in 0..100 {
                                queue.put(n).await.unwrap(); // waits on the bound: the other loop drains
                            }
                            queue.shutdown();
                            Vec::new()
                        } else {
                            queue.stream().collect::<Vec<i32>>().await
                        }
                    }
                }
            })
            .unwrap();
        assert_eq!(
            outputs[1].as_deref(),
            Some(&(0..100).collect::<Vec<_>>()[..])
        );
    });
}

#[test]
fn the_loops_share_one_blocking_pool() {
    within(Duration::from_secs(20), || {
        // One worker for the whole set: every job of both loops runs on the same thread. With a
        // pool per loop there would be two.
        let outputs = LoopSet::new()
            .loops(2)
            .runtime_builder(Runtime::builder().max_blocking_threads(1))
            .run(|_context| async move {
                let mut workers = HashSet::new();
                for _ in 0..10 {
                    let worker = evloop::run_in_executor(|| std::thread::current().id());
                    workers.insert(worker.await.unwrap());
                }
                workers
            })
            .unwrap();
        let all: HashSet<_> = outputs.into_iter().flatten().flatten().collect();
        assert_eq!(all.len(), 1, "one worker served both loops: {all:?}");
    });
}

#[test]
fn one_stop_request_ends_every_loop() {
    within(Duration::from_secs(20), || {
        let set = LoopSet::new().loops(3);
        let stop = set.stop_handle();
        let waiting = Arc::new(Barrier::new(4));
        let stopper = std::thread::spawn({
            let waiting = waiting.clone();
            move || {
                waiting.wait(); // every entry point is running
                stop.stop();
            }
        });
        let outputs = set
            .run(move |context| {
                let waiting = waiting.clone();
                async move {
                    evloop::run_in_executor(move || waiting.wait())
                        .await
                        .unwrap();
                    context.stopped().await; // stop accepting, drain...
                    assert!(context.is_stopping());
                    context.index()
                }
            })
            .unwrap();
        stopper.join().unwrap();
        assert_eq!(outputs, [Some(0), Some(1), Some(2)]);
    });
}

#[test]
fn an_entry_point_that_ignores_the_stop_is_cut_off_at_the_deadline() {
    within(Duration::from_secs(20), || {
        let outputs = LoopSet::new()
            .loops(2)
            .drain_deadline(Duration::from_millis(50))
            .run(|context| async move {
                if context.index() == 0 {
                    context.stop_all();
                    "stopped in time"
                } else {
                    evloop::time::sleep(Duration::from_secs(3600)).await; // never drains
                    "unreachable"
                }
            })
            .unwrap();
        assert_eq!(outputs, [Some("stopped in time"), None]);
    });
}

#[test]
fn a_panicking_loop_stops_the_others_and_its_panic_reaches_the_caller() {
    within(Duration::from_secs(20), || {
        let others_stopped = Arc::new(AtomicUsize::new(0));
        let panic = std::panic::catch_unwind({
            let others_stopped = others_stopped.clone();
            move || {
                LoopSet::new().loops(3).run(move |context| {
                    let others_stopped = others_stopped.clone();
                    async move {
                        if context.index() == 1 {
                            panic!("loop 1 failed");
                        }
                        context.stopped().await;
                        others_stopped.fetch_add(1, Ordering::SeqCst);
                    }
                })
            }
        })
        .unwrap_err();
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"loop 1 failed"));
        assert_eq!(
            others_stopped.load(Ordering::SeqCst),
            2,
            "the others drained"
        );
    });
}

#[test]
fn a_dump_lists_every_loops_tasks() {
    within(Duration::from_secs(20), || {
        let spawned = Arc::new(Barrier::new(2));
        let dumped = Arc::new(Barrier::new(2));
        let outputs = LoopSet::new()
            .loops(2)
            .run(move |context| {
                let (spawned, dumped) = (spawned.clone(), dumped.clone());
                async move {
                    let _named = evloop::spawn_named(
                        format!("worker-{}", context.index()),
                        std::future::pending::<()>(),
                    );
                    // Every loop has its task before anyone dumps, and keeps running until
                    // everyone has dumped (a loop that ended could not answer).
                    evloop::run_in_executor(move || spawned.wait())
                        .await
                        .unwrap();
                    let dumps: Vec<String> = context
                        .dump_all()
                        .await
                        .iter()
                        .map(ToString::to_string)
                        .collect();
                    evloop::run_in_executor(move || dumped.wait())
                        .await
                        .unwrap();
                    dumps
                }
            })
            .unwrap();
        for dumps in outputs {
            let dumps = dumps.unwrap();
            assert_eq!(dumps.len(), 2, "one dump per loop");
            assert!(dumps[0].contains("worker-0"), "{}", dumps[0]);
            assert!(dumps[1].contains("worker-1"), "{}", dumps[1]);
        }
    });
}

#[test]
fn reuse_port_listeners_share_one_port_and_the_kernel_spreads_connections() {
    within(Duration::from_secs(20), || {
        evloop::run(async {
            let first = TcpListener::bind_reuse_port("127.0.0.1:0").unwrap();
            let address = first.local_addr().unwrap();
            let second = TcpListener::bind_reuse_port(address).unwrap();
            // A plain `bind` on a port held with SO_REUSEPORT is refused.
            assert!(TcpListener::bind(address).is_err());
            let accepted = [Rc::new(Cell::new(0)), Rc::new(Cell::new(0))];
            let acceptors: Vec<_> = [first, second]
                .into_iter()
                .zip(&accepted)
                .map(|(listener, count)| {
                    let count = count.clone();
                    evloop::spawn(async move {
                        let mut incoming = listener.incoming();
                        let mut open = Vec::new(); // keep them: the test counts, then ends
                        while let Some(stream) = incoming.next().await {
                            open.push(stream.unwrap());
                            count.set(count.get() + 1);
                        }
                    })
                })
                .collect();
            let mut clients = Vec::new();
            for _ in 0..64 {
                clients.push(TcpStream::connect(address).await.unwrap());
            }
            while accepted[0].get() + accepted[1].get() < 64 {
                evloop::yield_now().await;
            }
            // The kernel hashes each connection to a listener: all 64 on one side has a chance
            // of 2^-63.
            assert!(
                accepted[0].get() > 0 && accepted[1].get() > 0,
                "{accepted:?}"
            );
            acceptors.iter().for_each(evloop::JoinHandle::abort);
        });
    });
}

/// What the single-acceptor fallback does, for either kind of stream socket. On loop 0: `bind` a
/// listener (and say where it listens), accept four connections on it and hand each, as a std
/// socket, to the next loop in turn, which registers it there with `register` and writes its
/// thread's name into it. Meanwhile `connect` makes the four connections from loop 0 and reads
/// each one's name; those names are returned, in order. The other loops return nothing (and keep
/// serving until loop 0 is done).
async fn hand_four_connections_to_the_loops<S, L, A, C>(
    context: LoopContext,
    bind: impl FnOnce() -> (L, A),
    connect: impl Fn(&A) -> C + 'static,
    register: fn(S) -> std::io::Result<Stream<S>>,
) -> Vec<String>
where
    S: StreamSocket + Send + 'static,
    L: Listener<Connection = Stream<S>>,
    A: 'static,
    C: Future<Output = std::io::Result<Stream<S>>>,
{
    if context.index() != 0 {
        return Vec::new();
    }
    let (listener, address) = bind();
    let clients = evloop::spawn(async move {
        let mut served_by = Vec::new();
        for _ in 0..4 {
            let stream = connect(&address).await.unwrap();
            let mut name = [0; 13]; // "evloop-loop-N"
            stream.read_exact(&mut name).await.unwrap();
            served_by.push(String::from_utf8(name.to_vec()).unwrap());
        }
        served_by
    });
    for _ in 0..4 {
        let (stream, _) = poll_fn(|cx| listener.poll_accept(cx)).await.unwrap();
        // Out of this loop as a std socket; registered again on the chosen loop.
        let std_stream = stream.into_std();
        context
            .next_handle()
            .call_soon_threadsafe(move || {
                let stream = register(std_stream).unwrap();
                evloop::spawn(async move {
                    let name = std::thread::current().name().unwrap().to_string();
                    stream.write_all(name.as_bytes()).await.unwrap();
                });
            })
            .unwrap();
    }
    clients.await.unwrap()
}

#[test]
fn a_single_acceptor_hands_connections_to_the_loops_in_turn() {
    within(Duration::from_secs(20), || {
        let outputs = LoopSet::new()
            .loops(2)
            .run(|context| {
                hand_four_connections_to_the_loops(
                    context,
                    || {
                        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                        let address = listener.local_addr().unwrap();
                        (listener, address)
                    },
                    |&address| TcpStream::connect(address),
                    TcpStream::from_std,
                )
            })
            .unwrap();
        assert_eq!(
            outputs[0].as_deref().unwrap(),
            ["evloop-loop-0", "evloop-loop-1"].repeat(2)
        );
    });
}

/// Linux does not spread Unix-domain connections with `SO_REUSEPORT` (a second bind of the same
/// path fails), so a Unix server on several loops uses the single acceptor.
#[test]
fn a_single_acceptor_hands_unix_connections_to_the_loops_in_turn() {
    let path = std::env::temp_dir().join(format!(
        "evloop-loop-set-acceptor-{}.sock",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    let served_path = path.clone();
    within(Duration::from_secs(20), move || {
        let outputs = LoopSet::new()
            .loops(2)
            .run(move |context| {
                let path = served_path.clone();
                hand_four_connections_to_the_loops(
                    context,
                    move || (UnixListener::bind(&path).unwrap(), path),
                    |path: &PathBuf| UnixStream::connect(path.clone()),
                    UnixStream::from_std,
                )
            })
            .unwrap();
        assert_eq!(
            outputs[0].as_deref().unwrap(),
            ["evloop-loop-0", "evloop-loop-1"].repeat(2)
        );
    });
    let _ = std::fs::remove_file(&path);
}
