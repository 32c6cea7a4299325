//! A ready set: one waker per child future, so that a parent polling many children polls only
//! those that were woken.
//!
//! `gather`, `as_completed`, `wait` and `TaskGroup` all drive a set of child futures from one
//! parent future. Polling every child on every wake-up costs O(n) per completion and O(n²) in all;
//! instead each child is polled with its own small waker which, when woken, appends the child's
//! index to a shared list and wakes the parent. The parent then pops indices and polls just
//! those. A child woken several times may appear more than once; the parent skips children it
//! has already finished.
//!
//! The list is behind the shim's mutex because child wakers may be woken from any thread (a
//! thread-pool job completing, another runtime): the loom models cover that path.

#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::fmt;
use std::task::{Context, Wake, Waker};

use crate::shim::{lock, mutant, Mutex};

/// Indices reported ready, and the parent's waker.
#[derive(Default)]
struct Shared {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    ready: VecDeque<usize>,
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
            state.ready.push_back(self.index);
            state
                .parent
                .take()
                .filter(|_| !mutant("child_wake_skips_the_parent"))
        };
        // Outside the lock: the parent's waker may run any code, or panic (`foreign.rs`).
        if let Some(parent) = parent {
            crate::foreign::wake(parent);
        }
    }
}

/// The children's wakers and the list of those woken.
pub(crate) struct ReadySet {
    shared: std::sync::Arc<Shared>,
    wakers: Vec<Waker>,
}

impl ReadySet {
    /// A set of `children` children, all initially ready (they have never been polled).
    pub(crate) fn new(children: usize) -> ReadySet {
        let mut set = ReadySet {
            shared: std::sync::Arc::default(),
            wakers: Vec::with_capacity(children),
        };
        for _ in 0..children {
            set.insert();
        }
        set
    }

    /// Adds a child, initially ready, and returns its index.
    pub(crate) fn insert(&mut self) -> usize {
        let index = self.wakers.len();
        self.wakers
            .push(Waker::from(std::sync::Arc::new(ChildWaker {
                index,
                shared: self.shared.clone(),
            })));
        lock(&self.shared.state).ready.push_back(index);
        index
    }

    /// The waker to poll child `index` with.
    pub(crate) fn waker(&self, index: usize) -> &Waker {
        &self.wakers[index]
    }

    /// The next child reported ready, or `None` after registering `cx`'s waker to be woken when
    /// one is.
    pub(crate) fn pop(&self, cx: &mut Context<'_>) -> Option<usize> {
        let mut state = lock(&self.shared.state);
        match state.ready.pop_front() {
            Some(index) => Some(index),
            None => {
                match &state.parent {
                    Some(parent) if parent.will_wake(cx.waker()) => {}
                    _ if mutant("ready_set_forgets_the_parent") => {}
                    _ => state.parent = Some(cx.waker().clone()),
                }
                None
            }
        }
    }
}

impl fmt::Debug for ReadySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadySet")
            .field("children", &self.wakers.len())
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

    #[test]
    fn only_woken_children_are_reported() {
        let set = ReadySet::new(3);
        let parent = std::sync::Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(parent.clone());
        let mut cx = Context::from_waker(&waker);
        let initial: Vec<_> = std::iter::from_fn(|| set.pop(&mut cx)).collect();
        assert_eq!(initial, [0, 1, 2], "every child starts ready");
        set.waker(2).wake_by_ref();
        assert_eq!(parent.0.load(Ordering::SeqCst), 1, "the parent is woken");
        assert_eq!(set.pop(&mut cx), Some(2));
        assert_eq!(set.pop(&mut cx), None);
    }

    #[test]
    fn a_woken_child_from_another_thread_wakes_the_parent() {
        let mut set = ReadySet::new(0);
        let index = set.insert();
        let parent = std::sync::Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(parent.clone());
        let mut cx = Context::from_waker(&waker);
        assert_eq!(set.pop(&mut cx), Some(index));
        assert_eq!(set.pop(&mut cx), None);
        let child = set.waker(index).clone();
        std::thread::spawn(move || child.wake()).join().unwrap();
        assert_eq!(parent.0.load(Ordering::SeqCst), 1);
        assert_eq!(set.pop(&mut cx), Some(index));
    }
}
