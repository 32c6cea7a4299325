//! Child processes on the loop — asyncio's `create_subprocess_exec`, tokio's `process`.
//!
//! [`Command`] has std's builder shape; [`Command::spawn`] returns a [`Child`] whose piped
//! standard streams are non-blocking and registered with the loop, so a task writes to the child's
//! stdin and reads its stdout while other tasks run. [`Child::wait`] waits for the child to end
//! without a thread: `exit.rs` explains how the end is noticed (a pidfd on Linux, `SIGCHLD`
//! elsewhere) and how a child whose `Child` was dropped is still reaped.
//!
//! # Deadlocks pipes can cause, and how to avoid them
//!
//! A pipe holds about 64 KiB. A child that writes more to stdout than that blocks until someone
//! reads; a parent that waits for the child to end before reading waits forever. So read while
//! waiting: [`Child::wait_with_output`] and [`Command::output`] (asyncio's `communicate()`) read
//! stdout and stderr to their end *concurrently* with the wait, and [`Child::wait`] closes the
//! child's stdin first, as std does, so a child that reads until end-of-input can finish.

#![forbid(unsafe_code)]

mod exit;

use std::ffi::OsStr;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};

use crate::io::Async;
use exit::ExitWatch;

/// The child's standard input, when piped: write to it (`futures-io`'s `AsyncWrite`, or
/// [`Async::write_with`]); dropping it closes the pipe, which the child reads as end-of-input.
pub type ChildStdin = Async<File>;
/// The child's standard output, when piped: read it (`futures-io`'s `AsyncRead`).
pub type ChildStdout = Async<File>;
/// The child's standard error, when piped: read it (`futures-io`'s `AsyncRead`).
pub type ChildStderr = Async<File>;

/// A process to start: std's `Command` builder, with `spawn`, `status` and `output` that do not
/// block the loop.
///
/// # Examples
///
/// ```
/// use evloop::process::Command;
///
/// evloop::run(async {
///     let output = Command::new("echo").arg("hello").output().await?;
///     assert!(output.status.success());
///     assert_eq!(output.stdout, b"hello\n");
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    /// Which of stdin, stdout, stderr the caller configured (`output` pipes only the others).
    configured: [bool; 3],
}

impl Command {
    /// A command that runs `program` (looked up in `PATH` if it has no slash), with no
    /// arguments, the parent's environment and working directory, and standard streams
    /// inherited (piped by [`output`](Command::output)).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let output = Command::new("true").output().await?;
    ///     assert!(output.status.success());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            std: std::process::Command::new(program),
            kill_on_drop: false,
            configured: [false; 3],
        }
    }

    /// Adds an argument.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let output = Command::new("echo").arg("one").arg("two").output().await?;
    ///     assert_eq!(output.stdout, b"one two\n");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let output = Command::new("printf").args(["%s-%s", "a", "b"]).output().await?;
    ///     assert_eq!(output.stdout, b"a-b");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let mut greet = Command::new("sh");
    ///     greet.args(["-c", "echo $GREETING"]).env("GREETING", "hi");
    ///     let output = greet.output().await?;
    ///     assert_eq!(output.stdout, b"hi\n");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, value);
        self
    }

    /// Removes an environment variable from the child's environment.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let output = Command::new("sh")
    ///         .args(["-c", "echo ${HOME:-unset}"])
    ///         .env_remove("HOME")
    ///         .output()
    ///         .await?;
    ///     assert_eq!(output.stdout, b"unset\n");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (then add variables with `env`).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let output = Command::new("/bin/sh")
    ///         .args(["-c", "echo ${PATH:-empty}"])
    ///         .env_clear()
    ///         .output()
    ///         .await?;
    ///     assert_ne!(output.stdout, std::env::var("PATH").unwrap().as_bytes());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let output = Command::new("pwd").current_dir("/").output().await?;
    ///     assert_eq!(output.stdout, b"/\n");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// Configures the child's standard input (`Stdio::piped()` to write to it).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     use futures_util::io::AsyncWriteExt;
    ///     let mut cat = Command::new("cat")
    ///         .stdin(std::process::Stdio::piped())
    ///         .stdout(std::process::Stdio::null())
    ///         .spawn()?;
    ///     cat.stdin.as_mut().unwrap().write_all(b"fed to cat").await?;
    ///     assert!(cat.wait().await?.success()); // `wait` closes stdin, so cat ends
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn stdin(&mut self, stdio: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(stdio);
        self.configured[0] = true;
        self
    }

    /// Configures the child's standard output (`Stdio::piped()` to read it).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let status = Command::new("echo")
    ///         .arg("not shown")
    ///         .stdout(std::process::Stdio::null())
    ///         .status()
    ///         .await?;
    ///     assert!(status.success());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn stdout(&mut self, stdio: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(stdio);
        self.configured[1] = true;
        self
    }

    /// Configures the child's standard error (`Stdio::piped()` to read it).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let output = Command::new("sh")
    ///         .args(["-c", "echo oops >&2"])
    ///         .stderr(std::process::Stdio::piped())
    ///         .output()
    ///         .await?;
    ///     assert_eq!(output.stderr, b"oops\n");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn stderr(&mut self, stdio: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(stdio);
        self.configured[2] = true;
        self
    }

    /// Whether dropping the [`Child`] before its process ended kills the process (`SIGKILL`).
    /// Off by default, as in std: a dropped `Child` leaves the process running (it is still
    /// reaped when it ends).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let child = Command::new("sleep").arg("60").kill_on_drop(true).spawn()?;
    ///     drop(child); // the sleep is killed, and reaped by the loop
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn kill_on_drop(&mut self, kill: bool) -> &mut Command {
        self.kill_on_drop = kill;
        self
    }

    /// Starts the child.
    ///
    /// # Errors
    ///
    /// If the program cannot be started (not found, not executable...): the OS's error, naming
    /// the program.
    ///
    /// # Panics
    ///
    /// Outside a runtime: the child's pipes and its end are watched by the loop.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::process::Stdio;
    /// use evloop::process::Command;
    /// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// evloop::run(async {
    ///     // A pipeline stage: write to the child's stdin, read its stdout.
    ///     let mut sort = Command::new("sort")
    ///         .stdin(Stdio::piped())
    ///         .stdout(Stdio::piped())
    ///         .spawn()?;
    ///     let mut stdin = sort.stdin.take().unwrap();
    ///     stdin.write_all(b"pear\napple\nfig\n").await?;
    ///     drop(stdin); // end of input: sort can answer
    ///     let mut sorted = String::new();
    ///     sort.stdout.take().unwrap().read_to_string(&mut sorted).await?;
    ///     assert_eq!(sorted, "apple\nfig\npear\n");
    ///     assert!(sort.wait().await?.success());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    #[track_caller]
    pub fn spawn(&mut self) -> io::Result<Child> {
        exit::sweep_orphans();
        let mut std_child = self.std.spawn().map_err(|error| {
            io::Error::new(
                error.kind(),
                format!("spawning {:?}: {error}", self.std.get_program()),
            )
        })?;
        let exit = match ExitWatch::new(&std_child) {
            Ok(exit) => exit,
            Err(error) => {
                // Not watched, so not ours to keep: end it rather than leave it unreaped.
                let _ = std_child.kill();
                let _ = std_child.wait();
                return Err(error);
            }
        };
        let stdin = std_child.stdin.take().map(pipe).transpose()?;
        let stdout = std_child.stdout.take().map(pipe).transpose()?;
        let stderr = std_child.stderr.take().map(pipe).transpose()?;
        Ok(Child {
            stdin,
            stdout,
            stderr,
            process: Some(Process {
                std: std_child,
                exit,
            }),
            status: None,
            kill_on_drop: self.kill_on_drop,
        })
    }

    /// Runs the child to its end and returns its status; standard streams are inherited unless
    /// configured.
    ///
    /// # Errors
    ///
    /// As for [`spawn`](Command::spawn), or if waiting fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let status = Command::new("sh").args(["-c", "exit 3"]).status().await?;
    ///     assert_eq!(status.code(), Some(3));
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait().await
    }

    /// Runs the child to its end, collecting its stdout and stderr (asyncio's `communicate()`).
    /// Unless configured, stdin is empty (`Stdio::null()`) and stdout and stderr are piped, for
    /// this call only.
    ///
    /// # Errors
    ///
    /// As for [`spawn`](Command::spawn), or if reading or waiting fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let output = Command::new("sh").args(["-c", "echo out; echo err >&2"]).output().await?;
    ///     assert_eq!((&output.stdout[..], &output.stderr[..]), (&b"out\n"[..], &b"err\n"[..]));
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn output(&mut self) -> io::Result<Output> {
        let [stdin, stdout, stderr] = self.configured;
        if !stdin {
            self.std.stdin(Stdio::null());
        }
        if !stdout {
            self.std.stdout(Stdio::piped());
        }
        if !stderr {
            self.std.stderr(Stdio::piped());
        }
        let spawned = self.spawn();
        // Those choices were for this call only, as in std: back to the defaults of `spawn`.
        if !stdin {
            self.std.stdin(Stdio::inherit());
        }
        if !stdout {
            self.std.stdout(Stdio::inherit());
        }
        if !stderr {
            self.std.stderr(Stdio::inherit());
        }
        spawned?.wait_with_output().await
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)
    }
}

/// Reads a pipe to its end (nothing, if there is no pipe).
async fn read_to_end(pipe: Option<Async<File>>) -> io::Result<Vec<u8>> {
    let mut all = Vec::new();
    let Some(pipe) = pipe else {
        return Ok(all);
    };
    let mut chunk = [0; 16 * 1024];
    loop {
        let n = pipe.read_with(|mut file| file.read(&mut chunk)).await?;
        if n == 0 {
            return Ok(all);
        }
        all.extend_from_slice(&chunk[..n]);
    }
}

/// A pipe end of the child's, registered with the loop.
#[track_caller]
fn pipe(end: impl Into<OwnedFd>) -> io::Result<Async<File>> {
    Async::new(File::from(end.into()))
}

/// A running (or ended) child process. Its piped standard streams are public fields, as in std:
/// `take()` them to move them into other tasks.
///
/// Dropping a `Child` leaves the process running, unless [`Command::kill_on_drop`] was set; either
/// way it is reaped when it ends, so it never stays a zombie.
///
/// # Examples
///
/// ```
/// use std::process::Stdio;
/// use evloop::process::Command;
/// use futures_util::io::AsyncReadExt;
///
/// evloop::run(async {
///     let mut child = Command::new("echo").arg("streamed").stdout(Stdio::piped()).spawn()?;
///     let mut stdout = child.stdout.take().unwrap(); // into another task, if you like
///     let mut text = String::new();
///     stdout.read_to_string(&mut text).await?;
///     assert_eq!(text, "streamed\n");
///     assert!(child.wait().await?.success());
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct Child {
    /// The child's stdin, if piped.
    pub stdin: Option<ChildStdin>,
    /// The child's stdout, if piped.
    pub stdout: Option<ChildStdout>,
    /// The child's stderr, if piped.
    pub stderr: Option<ChildStderr>,
    /// The process and what watches its end, until it is reaped.
    process: Option<Process>,
    /// The status, once reaped.
    status: Option<ExitStatus>,
    kill_on_drop: bool,
}

struct Process {
    std: std::process::Child,
    exit: ExitWatch,
}

impl Child {
    /// The process id, or `None` once the child has been reaped (the id may then belong to
    /// another process).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let mut child = Command::new("true").spawn()?;
    ///     assert!(child.id().is_some());
    ///     child.wait().await?;
    ///     assert_eq!(child.id(), None);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn id(&self) -> Option<u32> {
        self.process.as_ref().map(|process| process.std.id())
    }

    /// Waits for the child to end and returns its status; it is reaped. Closes the child's stdin
    /// first (if piped and not taken), so that a child reading to end-of-input can finish.
    /// Calling it again returns the same status.
    ///
    /// Cancel-safe: dropping the future leaves the child running and this `Child` able to wait
    /// again.
    ///
    /// # Errors
    ///
    /// If waiting fails (which it does not, for a child of this process).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let mut child = Command::new("sleep").arg("60").spawn()?;
    ///     child.kill()?;
    ///     let status = child.wait().await?;
    ///     assert_eq!(status.signal(), Some(libc::SIGKILL)); // ended by the signal
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        if let Some(status) = self.status {
            return Ok(status);
        }
        let process = self
            .process
            .as_mut()
            .expect("a child not reaped has its process");
        let status = process.exit.wait(&mut process.std).await?;
        self.reaped(status);
        Ok(status)
    }

    /// The status if the child has ended (reaping it), `None` if it still runs; never waits.
    ///
    /// # Errors
    ///
    /// If asking fails (which it does not, for a child of this process).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let mut child = Command::new("sleep").arg("60").kill_on_drop(true).spawn()?;
    ///     assert_eq!(child.try_wait()?, None); // still running
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let process = self
            .process
            .as_mut()
            .expect("a child not reaped has its process");
        let status = process.std.try_wait()?;
        if let Some(status) = status {
            self.reaped(status);
        }
        Ok(status)
    }

    /// Sends `SIGKILL` to the child (asyncio's `kill()`); [`wait`](Child::wait) then reaps it.
    /// Does nothing if the child was already reaped.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let mut child = Command::new("sleep").arg("60").spawn()?;
    ///     child.kill()?;
    ///     assert!(!child.wait().await?.success());
    ///     child.kill()?; // reaped already: nothing to do
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// The OS's error, if the signal cannot be sent.
    pub fn kill(&mut self) -> io::Result<()> {
        match &mut self.process {
            Some(process) => process.std.kill(),
            None => Ok(()),
        }
    }

    /// Sends `signal` to the child (asyncio's `send_signal`), as `kill(1)` would; a child already
    /// reaped is left alone (its process id may belong to another process by now).
    ///
    /// # Errors
    ///
    /// The OS's error: `InvalidInput` for a number that is no signal.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    /// use evloop::process::Command;
    /// use evloop::signal::SIGUSR1;
    ///
    /// evloop::run(async {
    ///     let mut child = Command::new("sleep").arg("60").spawn()?;
    ///     child.send_signal(SIGUSR1)?; // sleep does not catch it: it ends
    ///     assert_eq!(child.wait().await?.signal(), Some(SIGUSR1));
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn send_signal(&mut self, signal: i32) -> io::Result<()> {
        match &self.process {
            Some(process) => crate::io::sys::kill(process.std.id(), signal),
            None => Ok(()),
        }
    }

    /// Asks the child to end: `SIGTERM` (asyncio's `terminate()`); it may catch it and clean up.
    ///
    /// # Errors
    ///
    /// As for [`send_signal`](Child::send_signal).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     let mut child = Command::new("sleep").arg("60").spawn()?;
    ///     child.terminate()?;
    ///     assert_eq!(child.wait().await?.signal(), Some(evloop::signal::SIGTERM));
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn terminate(&mut self) -> io::Result<()> {
        self.send_signal(crate::signal::SIGTERM)
    }

    /// Waits for the child to end while reading its stdout and stderr to their end, concurrently
    /// (so a child that writes more than a pipe holds cannot block on a parent that waits);
    /// closes its stdin first. Streams that were not piped, or were taken, come back empty.
    ///
    /// # Errors
    ///
    /// If reading or waiting fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::process::Stdio;
    /// use evloop::process::Command;
    ///
    /// evloop::run(async {
    ///     // 1 MB of output: far more than a pipe holds.
    ///     let child = Command::new("head")
    ///         .args(["-c", "1000000", "/dev/zero"])
    ///         .stdout(Stdio::piped())
    ///         .spawn()?;
    ///     let output = child.wait_with_output().await?;
    ///     assert_eq!(output.stdout.len(), 1_000_000);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let (stdout, stderr) = (self.stdout.take(), self.stderr.take());
        let (status, stdout, stderr) =
            crate::gather!(self.wait(), read_to_end(stdout), read_to_end(stderr)).await;
        Ok(Output {
            status: status?,
            stdout: stdout?,
            stderr: stderr?,
        })
    }

    fn reaped(&mut self, status: ExitStatus) {
        self.status = Some(status);
        self.process = None;
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let Some(mut process) = self.process.take() else {
            return;
        };
        if self.kill_on_drop {
            let _ = process.std.kill();
        }
        exit::reap_later(process.std, process.exit);
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("id", &self.id())
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}
