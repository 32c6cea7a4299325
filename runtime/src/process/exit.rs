//! Knowing when a child ends, and reaping it, without a thread per child and without stealing
//! other code's children.
//!
//! A child that has ended stays a zombie until its parent collects its status with `waitpid`.
//! evloop collects it only for its own children, by pid (`std::process::Child::try_wait`, which is
//! `waitpid(pid, WNOHANG)`), never with `waitpid(-1)`, which would take the status of children
//! other libraries are waiting for. What differs is how the loop learns that it is time to look:
//!
//! - **pidfd** (Linux 5.3 and later): `pidfd_open` gives a descriptor that becomes readable when
//!   the child ends. The loop watches it like a socket, so each child costs one descriptor and no
//!   signal handler.
//! - **`SIGCHLD`** (older kernels, other Unixes): the loop listens for `SIGCHLD` through
//!   `evloop::signal` and tries `waitpid` on its child after each arrival. An arrival that comes
//!   between the try and the wait is remembered by the signal's pipe, so none is missed.
//!
//! Either way the wait is a readiness loop: try `waitpid`; if the child still runs, wait for the
//! next readiness (pidfd readable, or a `SIGCHLD`), and try again.
//!
//! # Children nobody waits for
//!
//! A [`Child`](super::Child) dropped before its process ended hands the process to [`reap_later`]:
//! on a loop, a detached task waits for it as above; if that task is cancelled (its runtime shut
//! down first), or there is no loop, the process goes to a process-wide list of orphans, which
//! every later spawn sweeps with `try_wait`. So no child of evloop stays a zombie for longer than
//! it takes the program to spawn again (tokio keeps the same kind of list).

#![forbid(unsafe_code)]

use std::io;
use std::process::ExitStatus;
use std::sync::Mutex;

use crate::io::Async;
use crate::signal::{Signals, SIGCHLD};

/// How a child's end is noticed (see the module documentation).
pub(super) enum ExitWatch {
    Pidfd(Async<std::os::fd::OwnedFd>),
    Sigchld(Signals),
}

impl ExitWatch {
    /// Starts watching `child`: a pidfd where the kernel has them, `SIGCHLD` otherwise.
    pub(super) fn new(child: &std::process::Child) -> io::Result<ExitWatch> {
        #[cfg(target_os = "linux")]
        match crate::io::sys::pidfd_open(child.id()) {
            Ok(pidfd) => return Ok(ExitWatch::Pidfd(Async::new(pidfd)?)),
            Err(error) if error.raw_os_error() == Some(libc::ENOSYS) => {}
            Err(error) => return Err(error),
        }
        #[cfg(not(target_os = "linux"))]
        let _ = child;
        ExitWatch::sigchld()
    }

    /// The portable way: listen for `SIGCHLD`.
    pub(super) fn sigchld() -> io::Result<ExitWatch> {
        Ok(ExitWatch::Sigchld(Signals::new([SIGCHLD])?))
    }

    /// Waits until `child` has ended and returns its status, reaping it.
    pub(super) async fn wait(&mut self, child: &mut std::process::Child) -> io::Result<ExitStatus> {
        match self {
            // Readable means ended; `try_wait` says whether it has, and `WouldBlock` makes the
            // reactor wait for the readiness edge.
            ExitWatch::Pidfd(pidfd) => {
                pidfd
                    .read_with(|_| match child.try_wait() {
                        Ok(Some(status)) => Ok(status),
                        Ok(None) => Err(io::ErrorKind::WouldBlock.into()),
                        Err(error) => Err(error),
                    })
                    .await
            }
            ExitWatch::Sigchld(arrivals) => loop {
                if let Some(status) = child.try_wait()? {
                    return Ok(status);
                }
                arrivals.recv().await;
            },
        }
    }
}

/// How a task dump names the task waiting for a dropped `Child`'s process to end, followed by the
/// process id.
pub(super) const REAPER_NAME: &str = "evloop: reaping child";

/// Children whose `Child` was dropped while they ran and whom no loop is waiting for.
static ORPHANS: Mutex<Vec<std::process::Child>> = Mutex::new(Vec::new());

/// Makes sure `child`, whose handle is being dropped, is reaped once it ends (see the module
/// documentation).
pub(super) fn reap_later(mut child: std::process::Child, mut watch: ExitWatch) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    /// Hands the child to the orphan list unless the task reaped it.
    struct Reaper(Option<std::process::Child>);
    impl Drop for Reaper {
        fn drop(&mut self) {
            if let Some(child) = self.0.take() {
                orphan(child);
            }
        }
    }
    if crate::runtime::is_a_loop_thread() {
        // Named, so that a task dump says what it is waiting for.
        let name = format!("{REAPER_NAME} {}", child.id());
        let mut reaper = Reaper(Some(child));
        crate::spawn_named(name, async move {
            let child = reaper.0.as_mut().expect("taken only here");
            if watch.wait(child).await.is_ok() {
                reaper.0.take(); // reaped: nothing left for the orphan list
            }
        });
    } else {
        orphan(child);
    }
}

fn orphan(child: std::process::Child) {
    lock_orphans().push(child);
}

/// Reaps the orphans that have ended since the last sweep (called on every spawn).
pub(super) fn sweep_orphans() {
    lock_orphans().retain_mut(|child| matches!(child.try_wait(), Ok(None)));
}

/// The orphan list; a panic elsewhere while it was held leaves it usable (it is only a list).
fn lock_orphans() -> std::sync::MutexGuard<'static, Vec<std::process::Child>> {
    ORPHANS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// The portable path, which Linux with pidfds never takes on its own.
    #[test]
    #[cfg_attr(miri, ignore)] // Miri cannot start processes
    fn the_sigchld_watch_reaps_a_child() {
        crate::run(async {
            let mut watch = ExitWatch::sigchld().unwrap();
            let mut child = std::process::Command::new("sh")
                .args(["-c", "exit 5"])
                .spawn()
                .unwrap();
            assert_eq!(watch.wait(&mut child).await.unwrap().code(), Some(5));
            let mut sleeper = std::process::Command::new("sleep")
                .arg("0.05")
                .spawn()
                .unwrap();
            assert!(watch.wait(&mut sleeper).await.unwrap().success());
        });
    }

    /// Outside a loop, a dropped child goes to the orphan list, and the next spawn's sweep
    /// reaps it once it has ended.
    #[test]
    #[cfg_attr(miri, ignore)] // Miri cannot start processes
    fn an_orphan_is_reaped_by_a_later_sweep() {
        let child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let watch = crate::run(async { ExitWatch::sigchld().unwrap() });
        reap_later(child, watch); // not on a loop thread: straight to the list (or reaped now)
        let path = format!("/proc/{pid}");
        // `true` ends at once; sweep until it is gone (a zombie keeps its /proc entry).
        while std::path::Path::new(&path).exists() {
            sweep_orphans();
            std::thread::yield_now();
        }
    }
}
