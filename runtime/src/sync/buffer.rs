//! The orders a queue can hand items out in: [`Fifo`], [`Lifo`] and [`Priority`], behind the
//! [`Buffer`] trait that [`GenericQueue`](super::GenericQueue) is generic over.
//!
//! # When `Ord` panics
//!
//! A priority queue compares items with their own `Ord`, which is user code and may panic. The
//! queue's counts (items unfinished, items promised to getters) are only right if the item is
//! where the queue thinks it is, so every buffer keeps one promise, written on the trait: a
//! `push` that panics has stored the item, a `pop` that panics has left it stored. [`Priority`]
//! is a binary heap written for that promise: it moves items only by swapping two of them, so
//! whenever a comparison panics every item is still in the heap (only their order may be off), and
//! `pop` restores the heap *before* it takes the smallest item out. `std`'s `BinaryHeap` keeps the
//! first half of the promise but not the second: its `pop` holds the item in a local while it
//! restores the heap, and a panic there drops the item.

#![forbid(unsafe_code)]

use std::collections::VecDeque;

/// How a queue stores its items, and so which one [`get`](super::GenericQueue::get) takes next.
///
/// If `push` or `pop` panics (a comparison, say), no item may be lost: `push` must have stored
/// the item, and `pop` must have left the item it was taking in the buffer. The queue relies on
/// it to keep its counts right.
pub trait Buffer<T>: Default {
    /// Stores an item.
    fn push(&mut self, item: T);
    /// Takes the next item out, if any.
    fn pop(&mut self) -> Option<T>;
    /// How many items are stored.
    fn len(&self) -> usize;
    /// Whether no item is stored.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Takes every item out, in no particular order (a queue being dropped). The default pops
    /// them one by one; a buffer whose `pop` compares should override it with one that does not.
    fn drain_unordered(&mut self) -> Vec<T> {
        std::iter::from_fn(|| self.pop()).collect()
    }
}

/// First in, first out: [`Queue`](super::Queue)'s order.
#[derive(Debug)]
pub struct Fifo<T>(VecDeque<T>);

/// Last in, first out: [`LifoQueue`](super::LifoQueue)'s order.
#[derive(Debug)]
pub struct Lifo<T>(Vec<T>);

/// Smallest first, as Python's `heapq`: [`PriorityQueue`](super::PriorityQueue)'s order. Wrap
/// items in [`std::cmp::Reverse`] for largest first. Items that compare equal come out in no
/// particular order.
#[derive(Debug)]
pub struct Priority<T: Ord>(
    /// A binary min-heap: each item is no larger than the two at `2i + 1` and `2i + 2`.
    Vec<T>,
);

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Fifo(VecDeque::new())
    }
}

impl<T> Default for Lifo<T> {
    fn default() -> Self {
        Lifo(Vec::new())
    }
}

impl<T: Ord> Default for Priority<T> {
    fn default() -> Self {
        Priority(Vec::new())
    }
}

impl<T> Buffer<T> for Fifo<T> {
    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T> Buffer<T> for Lifo<T> {
    fn push(&mut self, item: T) {
        self.0.push(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T: Ord> Buffer<T> for Priority<T> {
    fn push(&mut self, item: T) {
        self.0.push(item);
        // Stored before the first comparison: a panicking one leaves it in the heap.
        let last = self.0.len() - 1;
        sift_up(&mut self.0, last);
    }

    fn pop(&mut self) -> Option<T> {
        let last = self.0.len().checked_sub(1)?;
        // The smallest goes to the end and waits there while the rest becomes a heap again; only
        // then is it taken out, so a panicking comparison leaves it stored.
        self.0.swap(0, last);
        sift_down(&mut self.0[..last], 0);
        self.0.pop()
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn drain_unordered(&mut self) -> Vec<T> {
        std::mem::take(&mut self.0)
    }
}

/// Moves the item at `index` up while it is smaller than its parent.
fn sift_up<T: Ord>(heap: &mut [T], mut index: usize) {
    while index > 0 {
        let parent = (index - 1) / 2;
        if heap[index] >= heap[parent] {
            break;
        }
        heap.swap(index, parent);
        index = parent;
    }
}

/// Moves the item at `index` down while a child is smaller than it.
fn sift_down<T: Ord>(heap: &mut [T], mut index: usize) {
    loop {
        let left = 2 * index + 1;
        if left >= heap.len() {
            break;
        }
        let right = left + 1;
        let smaller = if right < heap.len() && heap[right] < heap[left] {
            right
        } else {
            left
        };
        if heap[index] <= heap[smaller] {
            break;
        }
        heap.swap(index, smaller);
        index = smaller;
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn priority_hands_out_the_smallest_first() {
        let mut heap = Priority::default();
        let items = [5, 1, 9, 3, 3, 7, 0, 8, 2, 6, 4];
        for item in items {
            heap.push(item);
        }
        let out: Vec<_> = std::iter::from_fn(|| heap.pop()).collect();
        let mut sorted = items.to_vec();
        sorted.sort();
        assert_eq!(out, sorted);
    }

    #[test]
    fn drain_unordered_takes_everything() {
        let mut fifo = Fifo::default();
        fifo.push(1);
        fifo.push(2);
        assert_eq!(fifo.drain_unordered(), [1, 2]);
        assert!(fifo.is_empty());
        let mut heap = Priority::default();
        heap.push(2);
        heap.push(1);
        let mut all = heap.drain_unordered();
        all.sort();
        assert_eq!(all, [1, 2]);
        assert!(heap.is_empty());
    }
}
