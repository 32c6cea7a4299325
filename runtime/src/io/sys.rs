//! The system calls std does not offer: switching an arbitrary descriptor to non-blocking mode
//! (std has `set_nonblocking` only on its own socket types); sending a child any signal (std
//! sends only `SIGKILL`); and, on Linux, a descriptor that becomes readable when a child process
//! ends (`pidfd_open`; std's is unstable) and pinning a loop's thread to a CPU
//! (`sched_setaffinity`). Kept apart because they are the I/O, process and loop-set code's only
//! `unsafe`.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
#[cfg(target_os = "linux")]
use std::os::fd::{FromRawFd, OwnedFd};

/// Sets `O_NONBLOCK` on `fd`, keeping its other status flags.
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: F_GETFL takes no pointer and only reads the status flags of `raw`, which is a live
    // descriptor for the duration of the borrow; failure is reported as -1.
    let flags = unsafe { libc::fcntl(raw, libc::F_GETFL) };
    if flags == -1 {
        return Err(io::Error::last_os_error());
    }
    if flags & libc::O_NONBLOCK != 0 {
        return Ok(());
    }
    // SAFETY: as above; F_SETFL takes an integer argument and changes only the flags.
    if unsafe { libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A descriptor that becomes readable when process `pid` (a child of ours) ends: Linux's
/// `pidfd_open(2)`, 5.3 and later. An older kernel answers `ENOSYS`, which the caller takes as
/// "watch `SIGCHLD` instead".
#[cfg(target_os = "linux")]
pub(crate) fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    let pid =
        libc::pid_t::try_from(pid).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: the system call takes two integers and no pointer; it returns a new descriptor
    // (close-on-exec, as the kernel always makes a pidfd) or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = libc::c_int::try_from(fd).expect("a descriptor fits in an int");
    // SAFETY: `fd` was just returned by the kernel, is open, and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sends `signal` to process `pid`.
pub(crate) fn kill(pid: u32, signal: i32) -> io::Result<()> {
    let pid =
        libc::pid_t::try_from(pid).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `kill` takes two integers and no pointer; failure is reported as -1.
    if unsafe { libc::kill(pid, signal) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Pins the calling thread to the `index`-th CPU it may run on (counting around if `index` is
/// larger than their number). Linux only: elsewhere `Ok(false)`, and the thread is not pinned.
#[cfg(target_os = "linux")]
pub(crate) fn pin_current_thread(index: usize) -> io::Result<bool> {
    // SAFETY: `cpu_set_t` is a plain bit array; all zeroes is an empty set.
    let mut allowed: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: `allowed` is a valid, writable `cpu_set_t` of `size` bytes; pid 0 is this thread.
    if unsafe { libc::sched_getaffinity(0, size, &mut allowed) } == -1 {
        return Err(io::Error::last_os_error());
    }
    let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `cpu` is below `CPU_SETSIZE`, the set's capacity.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &allowed) })
        .collect();
    let Some(&cpu) = cpus.get(index % cpus.len().max(1)) else {
        return Ok(false); // no CPU listed: leave the thread as it is
    };
    // SAFETY: as above, for a set we own.
    let mut one: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `cpu` came from the set above, so it is below `CPU_SETSIZE`.
    unsafe { libc::CPU_SET(cpu, &mut one) };
    // SAFETY: `one` is a valid `cpu_set_t` of `size` bytes; pid 0 is this thread.
    if unsafe { libc::sched_setaffinity(0, size, &one) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(true)
}

/// Not Linux: pinning is a documented no-op.
#[cfg(not(target_os = "linux"))]
pub(crate) fn pin_current_thread(_index: usize) -> io::Result<bool> {
    Ok(false)
}
