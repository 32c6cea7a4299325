//! Time: sleeping, deadlines on other futures, and periodic ticks.
//!
//! Every timer is a [`Sleep`]. On its first poll it registers a deadline and a waker in the
//! loop's timer heap (`timer_heap.rs`); the loop wakes it when the deadline passes and sleeps no
//! longer than the earliest deadline. [`timeout`] races a future against a `Sleep`; [`Interval`]
//! re-arms one `Sleep` for each tick.
//!
//! Deadlines are [`Instant`]s: evloop's own type, read from the runtime's clock, which a test can
//! pause ([`pause`], [`advance`], [`resume`], `Builder::start_paused`): a paused clock jumps to the
//! next deadline whenever the loop would otherwise sleep, so hours of timers run in microseconds
//! (see `clock.rs` for what holds the jump back, and why real I/O and a paused clock do not mix). A duration too large to add to now (`Duration::MAX`) becomes a
//! deadline about 30 years away — it never fires in practice, and nothing overflows or panics. A
//! deadline in the past completes on the first poll.
//!
//! Timers need the runtime that fires them: polling a `Sleep` outside one panics with a message.

#![forbid(unsafe_code)]

mod clock;
mod instant;
mod interval;
mod sleep;
mod timeout;
mod timer_heap;

pub use clock::{advance, pause, resume};
pub(crate) use clock::{Clock, TimerWait};
pub use instant::Instant;
pub use interval::{interval, Interval};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};
pub(crate) use timer_heap::TimerHeap;
