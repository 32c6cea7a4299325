//! The ecosystem's traits on evloop: `futures-task`'s spawners, `futures-core`'s `Stream` (driven
//! with futures-util's `StreamExt`), and futures-util's buffered line reading on evloop's streams.

mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use evloop::blocking::{as_completed, ThreadPoolExecutor};
use evloop::net::{Listener, TcpListener, TcpStream, UnixStream};
use evloop::sync::Queue;
use evloop::time::{self, interval, Instant};
use evloop::{Handle, LocalSpawner, Runtime};
use futures_util::io::{AsyncBufReadExt, BufReader};
use futures_util::task::{LocalSpawn, LocalSpawnExt, Spawn, SpawnExt};
use futures_util::StreamExt;

use common::within;

// ---- futures-task: LocalSpawn and Spawn ----------------------------------------------------

#[test]
fn a_local_spawner_runs_not_send_futures_on_the_loop() {
    let seen = evloop::run(async {
        let spawner = LocalSpawner::current();
        let seen = Rc::new(RefCell::new(Vec::new()));
        for n in 0..3 {
            let seen = seen.clone();
            spawner
                .spawn_local(async move { seen.borrow_mut().push(n) })
                .unwrap();
        }
        let doubled = spawner
            .spawn_local_with_handle(async { 21 * 2 })
            .unwrap()
            .await;
        assert_eq!(doubled, 42); // queued after the three detached tasks, so they have run
        Rc::try_unwrap(seen).unwrap().into_inner()
    });
    assert_eq!(seen, [0, 1, 2]);
}

#[test]
fn a_local_spawner_refuses_once_its_runtime_is_gone() {
    let runtime = Runtime::new().unwrap();
    let spawner = runtime.block_on(async { LocalSpawner::current() });
    assert!(spawner.status_local().is_ok());
    drop(runtime);
    assert!(spawner.status_local().unwrap_err().is_shutdown());
    let dropped = Rc::new(Cell::new(false));
    struct SetOnDrop(Rc<Cell<bool>>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let token = SetOnDrop(dropped.clone());
    let refused = spawner.spawn_local(async move { drop(token) });
    assert!(refused.unwrap_err().is_shutdown());
    assert!(dropped.get(), "the refused future was dropped, not kept");
}

#[test]
#[should_panic(expected = "outside a runtime")]
fn a_local_spawner_outside_a_runtime_panics_with_a_message() {
    let _ = LocalSpawner::current();
}

#[test]
fn a_handle_spawns_send_futures_from_another_thread() {
    within(Duration::from_secs(10), || {
        let runtime = Runtime::new().unwrap();
        let handle = runtime.handle();
        let results = Arc::new(StdMutex::new(Vec::new()));
        let spawned = std::thread::spawn({
            let results = results.clone();
            move || {
                assert!(handle.status().is_ok());
                // `SpawnExt::spawn`, not the inherent `Handle::spawn` (which returns a handle).
                SpawnExt::spawn(
                    &handle,
                    async move { results.lock().unwrap().push("detached") },
                )
                .unwrap();
                handle.spawn_with_handle(async { 6 * 7 }).unwrap()
            }
        })
        .join()
        .unwrap();
        assert_eq!(runtime.block_on(spawned), 42);
        assert_eq!(*results.lock().unwrap(), ["detached"]);
    });
}

#[test]
fn a_handle_to_a_runtime_that_shut_down_refuses_to_spawn() {
    let runtime = Runtime::new().unwrap();
    let handle: Handle = runtime.handle();
    drop(runtime);
    assert!(handle.status().unwrap_err().is_shutdown());
    assert!(SpawnExt::spawn(&handle, async {})
        .unwrap_err()
        .is_shutdown());
}

// ---- futures-core: Stream ------------------------------------------------------------------

#[test]
fn an_interval_is_a_stream_of_ticks() {
    evloop::run(async {
        time::pause();
        let start = Instant::now();
        let ticks: Vec<Instant> = interval(Duration::from_secs(1)).take(4).collect().await;
        let offsets: Vec<_> = ticks.iter().map(|tick| *tick - start).collect();
        assert_eq!(
            offsets,
            [0, 1, 2, 3].map(Duration::from_secs),
            "one item per tick, on the schedule"
        );
    });
}

#[test]
fn a_queue_stream_yields_items_until_shutdown_and_drained() {
    let received = evloop::run(async {
        let queue = Rc::new(Queue::new(2));
        let producer = evloop::spawn({
            let queue = queue.clone();
            async move {
                for n in 0..10 {
                    queue.put(n).await.unwrap(); // waits on the bound: the stream makes room
                }
                queue.shutdown();
            }
        });
        let received: Vec<i32> = queue.stream().collect().await;
        producer.await.unwrap();
        received
    });
    assert_eq!(received, (0..10).collect::<Vec<_>>());
}

#[test]
fn dropping_a_waiting_queue_stream_loses_no_item() {
    evloop::run(async {
        time::pause(); // the timeout below expires without waiting
        let queue = Queue::new(0);
        {
            let mut stream = queue.stream();
            // Waits (nothing queued) and is then dropped by the timeout: a cancelled `get`.
            let waited = time::timeout(Duration::from_millis(10), stream.next()).await;
            assert!(waited.is_err());
        }
        queue.put_nowait("kept").unwrap();
        assert_eq!(queue.stream().next().await, Some("kept"));
    });
}

#[test]
fn a_listener_is_a_stream_of_connections_served_concurrently() {
    within(Duration::from_secs(20), || {
        evloop::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let address = listener.local_addr().unwrap();
            let clients = evloop::spawn(async move {
                let mut replies = Vec::new();
                for n in 0..4u8 {
                    let stream = TcpStream::connect(address).await.unwrap();
                    stream.write_all(&[n]).await.unwrap();
                    let mut reply = [0];
                    stream.read_exact(&mut reply).await.unwrap();
                    replies.push(reply[0]);
                }
                replies
            });
            listener
                .incoming()
                .take(4)
                .for_each_concurrent(None, |stream| async move {
                    let stream = stream.unwrap();
                    let mut byte = [0];
                    stream.read_exact(&mut byte).await.unwrap();
                    stream.write_all(&[byte[0] * 10]).await.unwrap();
                })
                .await;
            assert_eq!(clients.await.unwrap(), [0, 10, 20, 30]);
        });
    });
}

#[test]
fn blocking_as_completed_is_also_a_stream_for_a_task() {
    let pool = ThreadPoolExecutor::new(2);
    let (open, gate) = std::sync::mpsc::channel::<()>();
    let futures = vec![
        pool.submit(move || gate.recv().map(|()| "gated").unwrap()),
        pool.submit(|| "quick"),
    ];
    // Done before the stream starts, so that it comes first however loaded the machine is.
    while !futures[1].done() {
        std::thread::yield_now();
    }
    let (first, timed_out) = evloop::run(async {
        let mut done = as_completed(futures, Some(Duration::from_millis(50)));
        // `StreamExt::next`: `AsCompleted` is also an `Iterator`, whose `next` would block.
        let first = StreamExt::next(&mut done).await.unwrap().unwrap();
        let first = first.await.unwrap();
        // The gated job is still waiting: the timeout ends the stream with one `Elapsed`.
        let timed_out = StreamExt::next(&mut done).await.unwrap().is_err();
        assert!(StreamExt::next(&mut done).await.is_none());
        (first, timed_out)
    });
    open.send(()).unwrap();
    assert_eq!(first, "quick");
    assert!(timed_out);
}

// ---- line protocols: futures-util's BufReader on evloop's streams ---------------------------

#[test]
fn lines_are_read_with_futures_util_bufreader() {
    evloop::run(async {
        let (client, server) = UnixStream::pair().unwrap();
        let (reader, mut writer) = server.into_split();
        let echo = evloop::spawn(async move {
            // asyncio's `reader.readline()`: one line at a time, the newline kept.
            let mut lines = BufReader::new(reader);
            let mut line = String::new();
            while lines.read_line(&mut line).await.unwrap() > 0 {
                writer
                    .write_all(line.to_uppercase().as_bytes())
                    .await
                    .unwrap();
                line.clear();
            }
        });
        let (reader, mut writer) = client.into_split();
        writer.write_all(b"one\ntwo\nthree\n").await.unwrap();
        writer.shutdown().unwrap();
        let mut replies = BufReader::new(reader).lines();
        let mut got = Vec::new();
        while let Some(line) = replies.next().await {
            got.push(line.unwrap());
        }
        echo.await.unwrap();
        assert_eq!(got, ["ONE", "TWO", "THREE"]);
    });
}
