//! The reactor: which I/O source is waiting for what, and who to wake when the OS says it is ready.
//!
//! The reactor owns the driver (`driver.rs`, the OS poller the loop sleeps in). Every socket or
//! file descriptor the loop watches is registered with it ([`Reactor::register`]) under a
//! `Token`, and owns an [`IoState`] here: its readiness and two wakers, one per direction, so that
//! one task can read while another writes the same socket. Each event the driver reports goes to
//! `dispatch`, which records the readiness and collects the wakers to call. An I/O source keeps a
//! weak reference to the reactor, to deregister itself; it knows nothing else of the runtime.
//!
//! # Readiness is cleared only by `WouldBlock`
//!
//! mio is edge-triggered: the OS reports a change once, not a level. So a direction stays "ready"
//! from the event until an operation in that direction returns `WouldBlock` — only then is it
//! cleared and the task made to wait for the next edge. Clearing on anything else would lose data
//! that arrived before the task looked. This is safe on one thread without a tick counter: events
//! are dispatched only between polls, never between a task's `WouldBlock` and its clearing.
//!
//! One exception saves a system call per message: a TCP read that returns fewer bytes than it
//! asked for has drained the socket's receive queue, so the `WouldBlock` the next read would get
//! is certain, and the stream marks the direction [`drained`](IoState::drained) instead (tokio
//! does the same). Whatever arrives later raises a new edge. A drained direction keeps its
//! closed and error bits: the edge that reported them has passed and will not come again, so
//! forgetting them would leave the next read waiting for ever.
//!
//! # Token reuse
//!
//! Registrations live in a `Slab`, and a freed slot is reused by the next registration. A token
//! therefore carries the slot *and* a generation number, and an event whose generation does not
//! match the slot's current owner is ignored: a late event for a closed socket never wakes the
//! socket that took its slot.
//!
//! Everything here runs on the loop thread (`Local` owns the reactor), so plain `Cell`s suffice.

#![forbid(unsafe_code)]

use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use mio::{event::Event, Interest, Token};
use slab::Slab;

use super::Driver;

/// Low bits of a token: the slab key; high bits: the generation. The top bit stays clear, so no
/// token collides with the driver's wake-up token (`usize::MAX`).
const KEY_BITS: u32 = 24;
const KEY_MASK: usize = (1 << KEY_BITS) - 1;
const GENERATION_MASK: usize = (usize::MAX >> 1) >> KEY_BITS;

const READABLE: u8 = 1 << 0;
const WRITABLE: u8 = 1 << 1;
const READ_CLOSED: u8 = 1 << 2;
const WRITE_CLOSED: u8 = 1 << 3;
const ERROR: u8 = 1 << 4;

/// One of the two independent halves of a source's readiness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    /// The readiness bits that let an operation in this direction make progress (an error or a
    /// closed side too: the operation then returns it instead of blocking).
    fn ready_mask(self) -> u8 {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR,
        }
    }

    /// The bit an event in this direction sets, and a `WouldBlock` or a short read clears.
    fn ready_bit(self) -> u8 {
        match self {
            Direction::Read => READABLE,
            Direction::Write => WRITABLE,
        }
    }
}

/// The readiness and wakers of one registered source.
#[derive(Default)]
pub(crate) struct IoState {
    readiness: Cell<u8>,
    read_waker: Cell<Option<Waker>>,
    write_waker: Cell<Option<Waker>>,
}

impl std::fmt::Debug for IoState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IoState")
            .field("readiness", &self.readiness.get())
            .finish_non_exhaustive()
    }
}

impl IoState {
    fn waker_slot(&self, direction: Direction) -> &Cell<Option<Waker>> {
        match direction {
            Direction::Read => &self.read_waker,
            Direction::Write => &self.write_waker,
        }
    }

    /// `Ready` if an operation in `direction` may make progress; otherwise remembers `cx`'s
    /// waker for the next event in that direction.
    pub(crate) fn poll_ready(&self, direction: Direction, cx: &mut Context<'_>) -> Poll<()> {
        if self.readiness.get() & direction.ready_mask() != 0 {
            return Poll::Ready(());
        }
        let slot = self.waker_slot(direction);
        let waker = match slot.take() {
            Some(waker) if waker.will_wake(cx.waker()) => waker,
            _ => cx.waker().clone(),
        };
        slot.set(Some(waker));
        Poll::Pending
    }

    /// An operation in `direction` returned `WouldBlock`: wait for the next edge.
    pub(crate) fn clear(&self, direction: Direction) {
        let bits = match direction {
            Direction::Read => READABLE | READ_CLOSED,
            Direction::Write => WRITABLE | WRITE_CLOSED,
        };
        self.readiness.set(self.readiness.get() & !bits);
    }

    /// An operation in `direction` did less than asked because the OS had no more (a short TCP
    /// read): wait for the next edge, but keep a closed side or an error, which no later edge
    /// will report again.
    pub(crate) fn drained(&self, direction: Direction) {
        self.readiness
            .set(self.readiness.get() & !direction.ready_bit());
    }

    /// Marks `direction` ready without an event (after a back-off, to retry an operation).
    pub(crate) fn set_ready(&self, direction: Direction) {
        self.readiness
            .set(self.readiness.get() | direction.ready_bit());
    }
}

/// Every registered source of one runtime, and the driver they are registered with.
pub(crate) struct Reactor {
    driver: Driver,
    sources: Sources,
}

impl Reactor {
    pub(crate) fn new(driver: Driver) -> Reactor {
        Reactor {
            driver,
            sources: Sources::default(),
        }
    }

    /// Registers an I/O source with the driver; it starts out writable, not readable (see
    /// `insert`).
    pub(crate) fn register(
        &mut self,
        source: &mut impl mio::event::Source,
    ) -> io::Result<(Token, Rc<IoState>)> {
        let (token, state) = self.sources.insert();
        let interest = Interest::READABLE | Interest::WRITABLE;
        if let Err(error) = self.driver.registry().register(source, token, interest) {
            self.sources.remove(token);
            return Err(error);
        }
        Ok((token, state))
    }

    /// Removes an I/O source; nothing is woken.
    pub(crate) fn deregister(&mut self, source: &mut impl mio::event::Source, token: Token) {
        // Fails only if the source was never registered here; the fd is about to be closed,
        // which removes it from the poller anyway.
        let _ = self.driver.registry().deregister(source);
        self.sources.remove(token);
    }

    /// Lets `poll` run the driver (sleep in it, or look without sleeping), recording each event it
    /// reports and moving the wakers to call into `wakers` (the caller calls them once the reactor
    /// is released: a waker may run any code).
    pub(crate) fn poll_events(
        &mut self,
        poll: impl FnOnce(&mut Driver, &mut dyn FnMut(&Event)),
        wakers: &mut Vec<Waker>,
    ) {
        let sources = &self.sources;
        poll(&mut self.driver, &mut |event| {
            sources.dispatch(event, wakers)
        });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.sources.slab.is_empty()
    }
}

/// The registered sources' states, by token: a slab whose slots carry a generation.
#[derive(Debug, Default)]
struct Sources {
    slab: Slab<(usize, Rc<IoState>)>,
    next_generation: usize,
}

impl Sources {
    /// Reserves a slot and returns the token to register with mio and the source's state.
    ///
    /// A new source starts as writable but not readable. A first write is simply tried (a new
    /// socket nearly always has room). A first read waits for the OS to say there is data:
    /// registering a descriptor that is already readable makes the OS report it at once, so
    /// nothing is missed, and a new connection's first read usually comes before its peer has
    /// sent anything, where trying would cost a system call that can only say `WouldBlock`.
    fn insert(&mut self) -> (Token, Rc<IoState>) {
        let generation = self.next_generation & GENERATION_MASK;
        self.next_generation = self.next_generation.wrapping_add(1);
        let state = Rc::new(IoState::default());
        state.readiness.set(WRITABLE);
        let key = self.slab.insert((generation, state.clone()));
        assert!(
            key <= KEY_MASK,
            "evloop: more than {KEY_MASK} I/O sources registered at once"
        );
        (Token(generation << KEY_BITS | key), state)
    }

    /// Frees a source's slot. Its wakers are dropped, not woken.
    fn remove(&mut self, token: Token) {
        let key = token.0 & KEY_MASK;
        if self
            .slab
            .get(key)
            .is_some_and(|(generation, _)| *generation == token.0 >> KEY_BITS)
        {
            self.slab.remove(key);
        }
    }

    /// Records an event's readiness and moves the wakers it concerns into `wakers` (called after
    /// the reactor is released, since a waker may run any code). Stale tokens are ignored.
    fn dispatch(&self, event: &Event, wakers: &mut Vec<Waker>) {
        let mut bits = 0;
        if event.is_readable() {
            bits |= READABLE;
        }
        if event.is_writable() {
            bits |= WRITABLE;
        }
        if event.is_read_closed() {
            bits |= READ_CLOSED;
        }
        if event.is_write_closed() {
            bits |= WRITE_CLOSED;
        }
        if event.is_error() {
            bits |= ERROR;
        }
        self.set_readiness(event.token(), bits, wakers);
    }

    fn set_readiness(&self, token: Token, bits: u8, wakers: &mut Vec<Waker>) {
        let key = token.0 & KEY_MASK;
        let Some((generation, state)) = self.slab.get(key) else {
            return;
        };
        if *generation != token.0 >> KEY_BITS {
            return; // the slot's previous owner: a stale event
        }
        state.readiness.set(state.readiness.get() | bits);
        for direction in [Direction::Read, Direction::Write] {
            if bits & direction.ready_mask() != 0 {
                wakers.extend(state.waker_slot(direction).take());
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting_waker() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    fn wait(state: &IoState, direction: Direction, waker: &Waker) -> Poll<()> {
        state.poll_ready(direction, &mut Context::from_waker(waker))
    }

    #[test]
    fn an_event_wakes_only_its_direction() {
        let mut sources = Sources::default();
        let (token, state) = sources.insert();
        state.clear(Direction::Read);
        state.clear(Direction::Write);
        let (reader, read_waker) = counting_waker();
        let (writer, write_waker) = counting_waker();
        assert!(wait(&state, Direction::Read, &read_waker).is_pending());
        assert!(wait(&state, Direction::Write, &write_waker).is_pending());
        let mut wakers = Vec::new();
        sources.set_readiness(token, READABLE, &mut wakers);
        wakers.drain(..).for_each(Waker::wake);
        assert_eq!(reader.0.load(Ordering::SeqCst), 1);
        assert_eq!(writer.0.load(Ordering::SeqCst), 0);
        assert!(wait(&state, Direction::Read, &read_waker).is_ready());
        assert!(wait(&state, Direction::Write, &write_waker).is_pending());
    }

    #[test]
    fn readiness_stays_until_cleared_by_would_block() {
        let mut sources = Sources::default();
        let (token, state) = sources.insert();
        state.clear(Direction::Read);
        sources.set_readiness(token, READABLE, &mut Vec::new());
        let (_, waker) = counting_waker();
        assert!(wait(&state, Direction::Read, &waker).is_ready());
        assert!(
            wait(&state, Direction::Read, &waker).is_ready(),
            "still ready: not cleared"
        );
        state.clear(Direction::Read);
        assert!(wait(&state, Direction::Read, &waker).is_pending());
    }

    #[test]
    fn a_drained_direction_waits_for_the_next_edge_but_keeps_a_closed_side() {
        let mut sources = Sources::default();
        let (token, state) = sources.insert();
        let (_, waker) = counting_waker();
        sources.set_readiness(token, READABLE, &mut Vec::new());
        state.drained(Direction::Read);
        assert!(wait(&state, Direction::Read, &waker).is_pending());
        assert!(
            wait(&state, Direction::Write, &waker).is_ready(),
            "the other direction is untouched"
        );
        sources.set_readiness(token, READABLE | READ_CLOSED, &mut Vec::new());
        state.drained(Direction::Read);
        assert!(
            wait(&state, Direction::Read, &waker).is_ready(),
            "the closed side is still reported"
        );
    }

    #[test]
    fn a_stale_token_never_wakes_the_slots_new_owner() {
        let mut sources = Sources::default();
        let (old_token, _old) = sources.insert();
        sources.remove(old_token);
        let (new_token, state) = sources.insert();
        assert_eq!(
            old_token.0 & KEY_MASK,
            new_token.0 & KEY_MASK,
            "the slot is reused"
        );
        state.clear(Direction::Read);
        let (count, waker) = counting_waker();
        assert!(wait(&state, Direction::Read, &waker).is_pending());
        let mut wakers = Vec::new();
        sources.set_readiness(old_token, READABLE, &mut wakers);
        assert!(wakers.is_empty());
        assert!(wait(&state, Direction::Read, &waker).is_pending());
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        sources.remove(old_token); // removing by a stale token frees nothing
        assert!(!sources.slab.is_empty());
    }

    #[test]
    fn an_error_wakes_both_directions() {
        let mut sources = Sources::default();
        let (token, state) = sources.insert();
        state.clear(Direction::Read);
        state.clear(Direction::Write);
        let (reader, read_waker) = counting_waker();
        let (writer, write_waker) = counting_waker();
        let _ = wait(&state, Direction::Read, &read_waker);
        let _ = wait(&state, Direction::Write, &write_waker);
        let mut wakers = Vec::new();
        sources.set_readiness(token, ERROR, &mut wakers);
        wakers.drain(..).for_each(Waker::wake);
        assert_eq!(
            reader.0.load(Ordering::SeqCst) + writer.0.load(Ordering::SeqCst),
            2
        );
    }
}
