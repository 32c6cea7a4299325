//! The loop's timers: a binary heap of deadlines over a slab of entries.
//!
//! Each registered [`Sleep`](super::Sleep) owns one slab entry (its deadline and the waker to wake)
//! for as long as it is registered; the key is its handle. The heap orders `(deadline, key)`
//! records so that the loop can find the earliest deadline in O(1) and pop expired ones in
//! O(log n). Only the loop thread touches any of it, so it needs no lock.
//!
//! Cancellation is lazy: dropping a `Sleep` removes its slab entry at once (so its waker is freed)
//! but leaves its heap record behind. A record is acted on only if the entry under its key still
//! exists *and has the record's deadline*; otherwise it is stale and skipped. The check is safe
//! even when the slab has reused the key for a newer timer: a record can only fire an entry whose
//! own deadline equals the record's, which is in the past, so that entry is due anyway. Stale
//! records are bounded by rebuilding the heap when they outnumber live timers.
//!
//! Why not a hierarchical timing wheel (tokio) or a `BTreeMap` (async-io)? A heap plus slab is the
//! smallest structure with O(log n) insert and expiry and O(1) cancellation, allocates nothing
//! per timer in steady state, and fires in exact deadline order with no resolution loss. DESIGN.md
//! has the timer benchmark against both.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::task::Waker;

use slab::Slab;

use super::Instant;

/// Rebuild the heap once it holds this many records more than twice the live timers.
const COMPACT_SLACK: usize = 64;

#[derive(Debug)]
struct Entry {
    deadline: Instant,
    /// `None` once the timer has fired and until its `Sleep` registers again or goes away.
    waker: Option<Waker>,
}

/// All timers of one runtime.
#[derive(Debug, Default)]
pub(crate) struct TimerHeap {
    entries: Slab<Entry>,
    records: BinaryHeap<Reverse<(Instant, usize)>>,
}

impl TimerHeap {
    /// Registers a timer and returns its key.
    pub(crate) fn insert(&mut self, deadline: Instant, waker: Waker) -> usize {
        let key = self.entries.insert(Entry {
            deadline,
            waker: Some(waker),
        });
        self.records.push(Reverse((deadline, key)));
        key
    }

    /// Gives a registered timer a new deadline (an interval's next tick) and waker.
    pub(crate) fn reset(&mut self, key: usize, deadline: Instant, waker: &Waker) {
        let entry = &mut self.entries[key];
        if entry.deadline != deadline || entry.waker.is_none() {
            entry.deadline = deadline;
            // The old record goes stale (its deadline no longer matches).
            self.records.push(Reverse((deadline, key)));
        }
        match &mut entry.waker {
            Some(old) if old.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
    }

    /// Unregisters a timer (its `Sleep` finished or was dropped).
    pub(crate) fn remove(&mut self, key: usize) {
        self.entries.remove(key);
        if self.records.len() > 2 * self.entries.len() + COMPACT_SLACK {
            self.compact();
        }
    }

    /// The earliest deadline of a timer that has not fired yet.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(&Reverse((deadline, key))) = self.records.peek() {
            if self.is_live(deadline, key) {
                return Some(deadline);
            }
            self.records.pop();
        }
        None
    }

    /// Moves the wakers of every timer due at `now` into `due` (the caller wakes them after
    /// releasing its borrow of the heap, because a waker may run arbitrary code).
    pub(crate) fn expire(&mut self, now: Instant, due: &mut Vec<Waker>) {
        while let Some(&Reverse((deadline, key))) = self.records.peek() {
            if deadline > now {
                break;
            }
            self.records.pop();
            if let Some(entry) = self.entries.get_mut(key) {
                if entry.deadline == deadline {
                    due.extend(entry.waker.take());
                }
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every waker still registered, taking the heap apart (the runtime's shutdown, which drops
    /// them one by one: a waker's `drop` is foreign code).
    pub(crate) fn into_wakers(mut self) -> Vec<Waker> {
        self.entries
            .drain()
            .filter_map(|entry| entry.waker)
            .collect()
    }

    /// A record is live if its entry exists, still has its deadline and has not fired.
    fn is_live(&self, deadline: Instant, key: usize) -> bool {
        self.entries
            .get(key)
            .is_some_and(|entry| entry.deadline == deadline && entry.waker.is_some())
    }

    fn compact(&mut self) {
        self.records = self
            .entries
            .iter()
            .filter(|(_, entry)| entry.waker.is_some())
            .map(|(key, entry)| Reverse((entry.deadline, key)))
            .collect();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;
    use std::time::Duration;

    struct Counter(AtomicUsize);
    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> (Arc<Counter>, Waker) {
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        (counter.clone(), Waker::from(counter))
    }

    fn fire(heap: &mut TimerHeap, now: Instant) {
        let mut due = Vec::new();
        heap.expire(now, &mut due);
        due.into_iter().for_each(Waker::wake);
    }

    #[test]
    fn timers_fire_in_deadline_order_and_only_when_due() {
        let start = Instant::now();
        let mut heap = TimerHeap::default();
        let (late, late_waker) = counter();
        let (early, early_waker) = counter();
        heap.insert(start + Duration::from_millis(20), late_waker);
        heap.insert(start + Duration::from_millis(10), early_waker);
        assert_eq!(
            heap.next_deadline(),
            Some(start + Duration::from_millis(10))
        );
        fire(&mut heap, start + Duration::from_millis(15));
        assert_eq!(
            (
                early.0.load(Ordering::SeqCst),
                late.0.load(Ordering::SeqCst)
            ),
            (1, 0)
        );
        fire(&mut heap, start + Duration::from_millis(20));
        assert_eq!(late.0.load(Ordering::SeqCst), 1);
        assert_eq!(heap.next_deadline(), None);
    }

    #[test]
    fn a_removed_timer_never_fires_even_if_its_key_is_reused() {
        let start = Instant::now();
        let mut heap = TimerHeap::default();
        let (old, old_waker) = counter();
        let key = heap.insert(start + Duration::from_millis(5), old_waker);
        heap.remove(key);
        let (new, new_waker) = counter();
        let reused = heap.insert(start + Duration::from_millis(50), new_waker);
        assert_eq!(reused, key, "the slab reuses the key");
        fire(&mut heap, start + Duration::from_millis(10));
        assert_eq!(old.0.load(Ordering::SeqCst), 0);
        assert_eq!(
            new.0.load(Ordering::SeqCst),
            0,
            "the stale record must not fire the new timer"
        );
        assert_eq!(
            heap.next_deadline(),
            Some(start + Duration::from_millis(50))
        );
    }

    #[test]
    fn reset_moves_the_deadline() {
        let start = Instant::now();
        let mut heap = TimerHeap::default();
        let (count, waker) = counter();
        let key = heap.insert(start + Duration::from_millis(5), waker.clone());
        heap.reset(key, start + Duration::from_millis(30), &waker);
        fire(&mut heap, start + Duration::from_millis(10));
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        fire(&mut heap, start + Duration::from_millis(30));
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn stale_records_are_compacted() {
        let start = Instant::now();
        let mut heap = TimerHeap::default();
        let (_count, waker) = counter();
        for i in 0..10_000 {
            let key = heap.insert(start + Duration::from_secs(60 + i), waker.clone());
            heap.remove(key);
        }
        assert!(
            heap.records.len() <= COMPACT_SLACK + 1,
            "{} records left",
            heap.records.len()
        );
        assert!(heap.is_empty());
    }
}
