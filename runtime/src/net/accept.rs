//! Accepting connections when the process is out of descriptors: one back-off for every kind of
//! listener.
//!
//! When `accept` fails with `EMFILE` (or `ENFILE`, `ENOBUFS`, `ENOMEM`), the connection it was
//! for stays in the kernel's backlog, so the listener stays readable. A server loop that logs the
//! error and calls `accept` again would get the same error at once, forever: the loop never
//! sleeps, its timers never fire, its other tasks never run, and the tasks that would close
//! connections (and free descriptors) never get the chance. So after such an error the *next*
//! `accept` first sleeps for [`ACCEPT_BACKOFF`], then tries again. The error itself still reaches
//! the caller, who may log it or shed load.

#![forbid(unsafe_code)]

use std::cell::Cell;
use std::io;
use std::time::Duration;

use crate::io::source::Source;
use crate::io::Direction;
use crate::time::{sleep_until, Instant};

/// How long `accept` waits before retrying after the process ran out of descriptors (or memory).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// A listener's memory of its last failure for lack of resources.
#[derive(Debug, Default)]
pub(super) struct AcceptBackoff {
    /// Set after `accept` failed for lack of resources: the next `accept` waits until then.
    until: Cell<Option<Instant>>,
}

impl AcceptBackoff {
    /// Runs `accept` on `listener` when it is readable, after the back-off if the last try ran
    /// out of resources; remembers a new back-off if this one does.
    pub(super) async fn accept<L, T>(
        &self,
        listener: &Source<L>,
        accept: impl FnMut(&L) -> io::Result<T>,
    ) -> io::Result<T>
    where
        L: mio::event::Source,
    {
        if let Some(until) = self.until.take() {
            sleep_until(until).await;
            listener.retry(Direction::Read);
        }
        let accepted = listener.io(Direction::Read, accept).await;
        if let Err(error) = &accepted {
            if is_resource_exhaustion(error) {
                self.until
                    .set(Some(Instant::now().deadline_after(ACCEPT_BACKOFF)));
            }
        }
        accepted
    }
}

/// Out of descriptors (process or system) or kernel memory: conditions that pass with time.
fn is_resource_exhaustion(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}
