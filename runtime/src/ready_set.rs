//! A ready set: one waker per child future, so that a parent polling many children polls only
//! those that were woken — and each of them at most once per poll of the parent.
//!
//! `gather`, `as_completed`, `wait` and `TaskGroup` (and, on the thread side,
//! `blocking::as_completed`) all drive a set of child futures from one parent future. Polling every child on every wake-up costs O(n) per completion and O(n²) in all;
//! instead each child is polled with its own small waker which, when woken, appends the child's
//! index to a shared list and wakes the parent. The parent polls just those.
//!
//! # Rounds: yielding means yielding
//!
//! The parent works in *rounds*. [`begin_round`](ReadySet::begin_round) takes the children ready
//! at that moment; [`next_in_round`](ReadySet::next_in_round) hands them out one by one. A child
//! woken *during* the round (most often by itself: a `yield_now`) goes to the next round, and its
//! wake has already woken the parent, so the parent's task is queued again behind the other ready
//! tasks. That is the loop's own fairness rule (`runtime/run_loop.rs`) applied inside a parent:
//! asyncio's `sleep(0)` inside a group's child lets every other task run once, and so does evloop's
//! `yield_now`. (futures-util's `FuturesUnordered` stops after polling as many futures as it holds,
//! for the same reason.) A child is listed at most once however often it is woken: a flag per
//! child says it is listed already.
//!
//! The list is behind the shim's mutex because child wakers may be woken from any thread (a
//! thread-pool job completing, another runtime): the loom models cover that path. The round itself
//! belongs to the parent alone.

#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::fmt;
use std::task::{Context, Wake, Waker};

use crate::shim::{lock, Mutex};

/// Indices reported ready, and the parent's waker.
#[derive(Default)]
struct Shared {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Children woken since the current round began, each listed once.
    ready: VecDeque<usize>,
    /// `listed[i]`: child `i` is in `ready` already (a second wake adds nothing).
    listed: Vec<bool>,
    parent: Option<Waker>,
}

/// The waker handed to child `index`.
struct ChildWaker {
    index: usize,
    // `Wake` needs std's `Arc` around the waker; the shared list inside is the shim's.
    shared: std::sync::Arc<Shared>,
}

impl Wake for ChildWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        let parent = {
            let mut state = lock(&self.shared.state);
            if !std::mem::replace(&mut state.listed[self.index], true) {
                state.ready.push_back(self.index);
            }
            state.parent.take()
        };
        // Outside the lock: the parent's waker may run any code, or panic (`foreign.rs`).
        if let Some(parent) = parent {
            crate::foreign::wake(parent);
        }
    }
}

/// The children's wakers, the list of those woken, and the parent's current round.
pub(crate) struct ReadySet {
    shared: std::sync::Arc<Shared>,
    wakers: Vec<Waker>,
    /// The children still to poll in this round (the parent's alone: no lock).
    round: VecDeque<usize>,
    /// Indices of children that finished, for the next [`insert`](ReadySet::insert) to reuse: a
    /// long-lived parent (a task group spawning child after child) stays as large as the most
    /// children it ever had alive at once, not as all it ever had.
    free: Vec<usize>,
}

impl ReadySet {
    /// A set of `children` children, all in the first round (they have never been polled).
    pub(crate) fn new(children: usize) -> ReadySet {
        let mut set = ReadySet {
            shared: std::sync::Arc::default(),
            wakers: Vec::with_capacity(children),
            round: VecDeque::with_capacity(children),
            free: Vec::new(),
        };
        for _ in 0..children {
            set.insert();
        }
        set
    }

    /// Adds a child and returns its index: a finished child's, if one was [`remove`]d, else a new
    /// one. It joins the current round: a child added during a poll of the parent (a group's
    /// `spawn`) gets its first step in that same poll.
    ///
    /// A reused index keeps its waker. A clone of it still held for the finished child (a timer
    /// it registered, say) may wake the new one once: a spurious poll, which every future must
    /// allow.
    ///
    /// [`remove`]: ReadySet::remove
    pub(crate) fn insert(&mut self) -> usize {
        let index = self.free.pop().unwrap_or_else(|| {
            let index = self.wakers.len();
            self.wakers
                .push(Waker::from(std::sync::Arc::new(ChildWaker {
                    index,
                    shared: self.shared.clone(),
                })));
            lock(&self.shared.state).listed.push(false);
            index
        });
        self.round.push_back(index);
        index
    }

    /// Marks child `index` as finished: its index (and waker) will serve the next child inserted.
    pub(crate) fn remove(&mut self, index: usize) {
        self.free.push(index);
    }

    /// The waker to poll child `index` with.
    pub(crate) fn waker(&self, index: usize) -> &Waker {
        &self.wakers[index]
    }

    /// Registers `cx`'s waker to be woken when a child is, and, if the last round is over, starts
    /// a new one with the children woken since. Call it once at the start of each poll of the
    /// parent, then take the round's children with [`next_in_round`](ReadySet::next_in_round).
    pub(crate) fn begin_round(&mut self, cx: &mut Context<'_>) {
        let mut state = lock(&self.shared.state);
        match &state.parent {
            Some(parent) if parent.will_wake(cx.waker()) => {}
            _ => state.parent = Some(cx.waker().clone()),
        }
        if self.round.is_empty() {
            let State { ready, listed, .. } = &mut *state;
            for index in ready.drain(..) {
                listed[index] = false; // from now on, a wake lists it for the next round
                self.round.push_back(index);
            }
        }
    }

    /// The next child of the current round, or `None` once the round is over. Children woken
    /// meanwhile wait for the next round (and have woken the parent).
    pub(crate) fn next_in_round(&mut self) -> Option<usize> {
        self.round.pop_front()
    }
}

impl fmt::Debug for ReadySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadySet")
            .field("children", &self.wakers.len())
            .field("in_round", &self.round.len())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// The children handed out by one poll of the parent.
    fn round(set: &mut ReadySet, cx: &mut Context<'_>) -> Vec<usize> {
        set.begin_round(cx);
        std::iter::from_fn(|| set.next_in_round()).collect()
    }

    #[test]
    fn only_woken_children_are_reported() {
        let mut set = ReadySet::new(3);
        let parent = std::sync::Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(parent.clone());
        let mut cx = Context::from_waker(&waker);
        assert_eq!(
            round(&mut set, &mut cx),
            [0, 1, 2],
            "every child starts ready"
        );
        set.waker(2).wake_by_ref();
        assert_eq!(parent.0.load(Ordering::SeqCst), 1, "the parent is woken");
        assert_eq!(round(&mut set, &mut cx), [2]);
        assert_eq!(round(&mut set, &mut cx), []);
    }

    #[test]
    fn a_child_woken_during_its_round_waits_for_the_next_one_and_is_listed_once() {
        let mut set = ReadySet::new(2);
        let mut cx = Context::from_waker(Waker::noop());
        set.begin_round(&mut cx);
        assert_eq!(set.next_in_round(), Some(0));
        // Child 0 wakes itself twice while it is polled: not again in this round, once in the next.
        set.waker(0).wake_by_ref();
        set.waker(0).wake_by_ref();
        assert_eq!(set.next_in_round(), Some(1));
        assert_eq!(set.next_in_round(), None);
        assert_eq!(round(&mut set, &mut cx), [0]);
    }

    #[test]
    fn a_child_inserted_during_a_round_joins_it() {
        let mut set = ReadySet::new(1);
        let mut cx = Context::from_waker(Waker::noop());
        set.begin_round(&mut cx);
        assert_eq!(set.next_in_round(), Some(0));
        let added = set.insert();
        assert_eq!(set.next_in_round(), Some(added));
        assert_eq!(set.next_in_round(), None);
    }

    #[test]
    fn a_woken_child_from_another_thread_wakes_the_parent() {
        let mut set = ReadySet::new(0);
        let index = set.insert();
        let parent = std::sync::Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(parent.clone());
        let mut cx = Context::from_waker(&waker);
        assert_eq!(round(&mut set, &mut cx), [index]);
        assert_eq!(round(&mut set, &mut cx), []);
        let child = set.waker(index).clone();
        std::thread::spawn(move || child.wake()).join().unwrap();
        assert_eq!(parent.0.load(Ordering::SeqCst), 1);
        assert_eq!(round(&mut set, &mut cx), [index]);
    }
}
