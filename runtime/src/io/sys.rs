//! The one system call std does not offer: switching an arbitrary descriptor to non-blocking
//! mode (std has `set_nonblocking` only on its own socket types). Kept apart because it is the
//! networking code's only `unsafe`.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

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
