//! The waiter queue every synchronisation primitive is built on: a FIFO of waiting futures, each
//! with a waker and a *grant* slot.
//!
//! A primitive keeps its state (permits, a flag) and a `WaitQueue` under one mutex. When a waiter
//! can proceed, the primitive does not merely wake it: it **grants** it what it waited for (its
//! permits, the event's notification) inside the same critical section, and then wakes it. The
//! woken future finds the grant when it polls. This is what makes cancellation safe:
//!
//! - a waiter dropped *before* it was granted is simply removed; nothing was given to it;
//! - a waiter dropped *after* it was granted but before it saw the grant gives the grant back
//!   ([`WaitQueue::remove`] reports it), and the primitive passes it to the next waiter — so no
//!   permit or wake-up is ever lost (asyncio's Semaphore shipped exactly this bug);
//! - waiters are granted strictly in arrival order; a newcomer only proceeds at once if the queue
//!   is empty, so it never jumps the queue (FIFO fairness).
//!
//! A primitive may also *wake without granting* ([`WaitQueue::wake_waiting`]): the waiters keep
//! their places and re-check the primitive's state when they run. That is how a state change that
//! is not a hand-out (a queue shut down, a barrier broken) reaches every waiter.
//!
//! Keys come from a slab; a waiter keeps its key from its first `Pending` until it is granted and
//! polled, or dropped. Wakers are collected into a [`Wakers`] list inside the critical section and
//! called after the lock is released, so a woken thread never finds the lock still held.

#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::task::{Context, Waker};

use slab::Slab;

use crate::foreign;
use crate::shim::{lock, Mutex};

struct Waiter {
    /// How much the waiter asks for (permits); 1 for a plain notification.
    need: usize,
    waker: Option<Waker>,
    granted: bool,
}

/// A FIFO of waiters, kept under its primitive's mutex.
#[derive(Default)]
pub(crate) struct WaitQueue {
    waiters: Slab<Waiter>,
    /// Keys of the waiters not granted yet, oldest first.
    order: VecDeque<usize>,
}

/// What `remove` found about a waiter that went away.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Removed {
    /// It was still waiting: nothing to give back.
    Waiting,
    /// It had been granted `need`, which it never took: the primitive must pass it on.
    Granted { need: usize },
}

impl WaitQueue {
    /// `true` if nobody is waiting for a grant.
    pub(crate) fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// How many waiters wait for a grant (granted ones that have not run yet are not counted).
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    /// Queues a waiter asking for `need`; returns its key.
    pub(crate) fn push(&mut self, need: usize, waker: &Waker) -> usize {
        let key = self.waiters.insert(Waiter {
            need,
            waker: Some(waker.clone()),
            granted: false,
        });
        self.order.push_back(key);
        key
    }

    /// If waiter `key` has been granted, removes it and returns `true`; otherwise refreshes its
    /// waker and returns `false`.
    pub(crate) fn poll_granted(&mut self, key: usize, cx: &mut Context<'_>) -> bool {
        let waiter = &mut self.waiters[key];
        if waiter.granted {
            self.waiters.remove(key);
            return true;
        }
        match &waiter.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => waiter.waker = Some(cx.waker().clone()),
        }
        false
    }

    /// Removes a waiter that is going away (its future was dropped).
    pub(crate) fn remove(&mut self, key: usize) -> Removed {
        let mut waiter = self.waiters.remove(key);
        // The waker's `drop` is foreign code, and the caller is in the middle of passing on what
        // the waiter leaves behind: it must not be cut short.
        foreign::drop_quietly(waiter.waker.take());
        if waiter.granted {
            Removed::Granted { need: waiter.need }
        } else {
            self.order.retain(|&waiting| waiting != key);
            Removed::Waiting
        }
    }

    /// Grants waiters in arrival order for as long as `take(need)` accepts the oldest one's
    /// request, and collects their wakers into `wakers` (to be called after the lock is released).
    pub(crate) fn grant_in_order(
        &mut self,
        mut take: impl FnMut(usize) -> bool,
        wakers: &mut Wakers,
    ) {
        while let Some(&key) = self.order.front() {
            let waiter = &mut self.waiters[key];
            if !take(waiter.need) {
                break;
            }
            waiter.granted = true;
            if let Some(waker) = waiter.waker.take() {
                wakers.push(waker);
            }
            self.order.pop_front();
        }
    }

    /// Grants every waiter (an event being set), collecting their wakers.
    pub(crate) fn grant_all(&mut self, wakers: &mut Wakers) {
        self.grant_in_order(|_| true, wakers);
    }

    /// Grants the oldest `count` waiters (a condition's `notify(count)`); returns how many there
    /// were.
    pub(crate) fn grant_first(&mut self, count: usize, wakers: &mut Wakers) -> usize {
        let mut granted = 0;
        self.grant_in_order(
            |_| {
                granted += 1;
                granted <= count
            },
            wakers,
        );
        granted.min(count)
    }

    /// Wakes every waiter that has not been granted, without granting it: each keeps its place
    /// and re-checks the primitive's state when it runs (its waker is refreshed then).
    pub(crate) fn wake_waiting(&mut self, wakers: &mut Wakers) {
        for &key in &self.order {
            if let Some(waker) = self.waiters[key].waker.take() {
                wakers.push(waker);
            }
        }
    }
}

impl std::fmt::Debug for WaitQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitQueue")
            .field("waiting", &self.order.len())
            .field(
                "granted_not_taken",
                &(self.waiters.len() - self.order.len()),
            )
            .finish()
    }
}

/// Changes a primitive's `state` under its lock, collecting in a [`Wakers`] the waiters the change
/// lets go, and wakes them once the lock is released — the bracket around every hand-out in
/// `sync`. (Waking under the lock would make a woken thread find it still held, and a waker that
/// re-enters the primitive deadlock.)
pub(crate) fn change_then_wake<S, R>(
    state: &Mutex<S>,
    change: impl FnOnce(&mut S, &mut Wakers) -> R,
) -> R {
    let mut wakers = Wakers::new();
    let result = change(&mut lock(state), &mut wakers);
    wakers.wake_all();
    result
}

/// The wakers a critical section collected, to be called once its lock is released.
///
/// Most hand-outs wake exactly one waiter, so the first waker is kept inline: the common case
/// allocates nothing.
#[derive(Default)]
pub(crate) struct Wakers {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl Wakers {
    pub(crate) fn new() -> Wakers {
        Wakers::default()
    }

    pub(crate) fn push(&mut self, waker: Waker) {
        if self.first.is_none() {
            self.first = Some(waker);
        } else {
            self.rest.push(waker);
        }
    }

    /// Wakes them all. Call only after releasing the primitive's lock. A waker that panics does
    /// not keep the others from being woken (`foreign.rs`).
    pub(crate) fn wake_all(self) {
        if let Some(first) = self.first {
            foreign::wake(first);
        }
        for waker in self.rest {
            foreign::wake(waker);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn grants_go_in_arrival_order_and_stop_at_the_first_that_does_not_fit() {
        let mut queue = WaitQueue::default();
        let waker = Waker::noop();
        let big = queue.push(5, waker);
        let small = queue.push(1, waker);
        let mut available = 3;
        let mut wakers = Wakers::new();
        queue.grant_in_order(
            |need| {
                if need <= available {
                    available -= need;
                    true
                } else {
                    false
                }
            },
            &mut wakers,
        );
        assert!(
            wakers.first.is_none(),
            "the small waiter must not jump the big one"
        );
        let mut cx = Context::from_waker(waker);
        assert!(!queue.poll_granted(small, &mut cx));
        assert_eq!(queue.remove(big), Removed::Waiting);
        queue.grant_in_order(|need| need <= available, &mut wakers);
        assert!(wakers.first.is_some() && wakers.rest.is_empty());
        assert!(queue.poll_granted(small, &mut cx));
        assert!(queue.is_empty());
    }

    #[test]
    fn a_granted_waiter_that_goes_away_gives_its_grant_back() {
        let mut queue = WaitQueue::default();
        let key = queue.push(2, Waker::noop());
        queue.grant_all(&mut Wakers::new());
        assert_eq!(queue.remove(key), Removed::Granted { need: 2 });
    }

    #[test]
    fn grant_first_grants_at_most_count_and_says_how_many() {
        let mut queue = WaitQueue::default();
        let keys: Vec<_> = (0..3).map(|_| queue.push(1, Waker::noop())).collect();
        assert_eq!(queue.grant_first(2, &mut Wakers::new()), 2);
        assert_eq!(queue.remove(keys[1]), Removed::Granted { need: 1 });
        assert_eq!(queue.grant_first(5, &mut Wakers::new()), 1);
        assert_eq!(queue.grant_first(5, &mut Wakers::new()), 0);
    }

    #[test]
    fn wake_waiting_wakes_without_granting() {
        let mut queue = WaitQueue::default();
        let key = queue.push(1, Waker::noop());
        let mut wakers = Wakers::new();
        queue.wake_waiting(&mut wakers);
        assert!(wakers.first.is_some());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(
            !queue.poll_granted(key, &mut cx),
            "still waiting, not granted"
        );
        assert_eq!(queue.remove(key), Removed::Waiting);
    }
}
