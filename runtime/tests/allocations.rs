//! A spawn makes exactly one heap allocation (the task); a long-lived task group stays as large
//! as its live children; and the types that cross threads are `Send`/`Sync` as documented. Own
//! test binary: it installs a counting global allocator.
//!
//! The allocator counts per thread: the test harness's other threads (its output, the other
//! test) allocate at any moment, and a global count would see their allocations too.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    /// Allocations made by this thread. `const`-initialised and without a destructor, so reading
    /// it never allocates (which would recurse into the allocator).
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    /// Bytes this thread allocated minus bytes it freed (as the tests here free on the thread
    /// that allocated, the bytes it holds).
    static LIVE_BYTES: Cell<isize> = const { Cell::new(0) };
}

/// The bytes the calling thread holds.
fn live_bytes() -> isize {
    LIVE_BYTES.with(Cell::get)
}

fn count_bytes(delta: isize) {
    let _ = LIVE_BYTES.try_with(|live| live.set(live.get() + delta));
}

/// The allocations the calling thread has made so far.
fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    // SAFETY (of the signature): callers uphold `GlobalAlloc::alloc`'s contract, passed on as is.
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // `try_with`: a thread being torn down may still allocate after its locals are gone.
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        count_bytes(layout.size() as isize);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    // SAFETY (of the signature): callers uphold `GlobalAlloc::dealloc`'s contract, passed on as is.
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count_bytes(-(layout.size() as isize));
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn a_spawn_allocates_once_in_steady_state() {
    const TASKS: usize = 1_000;
    let rt = evloop::Runtime::new().unwrap();
    let mut handles = Vec::with_capacity(TASKS);
    let round = |handles: &mut Vec<evloop::JoinHandle<usize>>| {
        rt.block_on(async {
            for i in 0..TASKS {
                handles.push(evloop::spawn(async move { i }));
            }
            for handle in handles.drain(..) {
                handle.await.unwrap();
            }
        })
    };
    round(&mut handles); // warm up: the run queue grows to its working size
    let before = allocations();
    round(&mut handles);
    let allocations = allocations() - before;
    // One per task; the main future's waker (one `Arc`) per `block_on`.
    assert_eq!(allocations, TASKS + 1);
}

#[test]
fn a_long_lived_task_group_stays_as_large_as_its_live_children() {
    const CHILDREN: usize = 10_000;
    let growth = evloop::run(async {
        evloop::task_group(async |group| {
            let mut growth = Vec::new();
            for _ in 0..3 {
                let before = live_bytes();
                for _ in 0..CHILDREN {
                    group.spawn(async { Ok::<_, ()>(()) }).await;
                }
                growth.push(live_bytes() - before);
            }
            Ok::<_, ()>(growth)
        })
        .await
        .unwrap()
    });
    // One child alive at a time: after the first round (buffers reach their working size) the
    // group must not grow. Before finished children's places were reused, each round grew by
    // some 70 bytes per child ever spawned.
    assert!(
        growth[1] <= 1024 && growth[2] <= 1024,
        "the group grew by {growth:?} bytes over rounds of {CHILDREN} short-lived children"
    );
}

#[test]
fn cross_thread_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<evloop::Handle>();
    send_sync::<evloop::JoinError>();
    send_sync::<evloop::RuntimeClosed>();
    send::<evloop::JoinHandle<u32>>();
    send::<evloop::ConcurrentFuture<u32>>();
    send::<evloop::time::Sleep>();
    send::<evloop::time::Interval>();
}
