//! Child processes: pipes, exit statuses, kill, many children at once, and no zombie left behind.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;

use evloop::process::Command;
use futures_util::io::{AsyncReadExt, AsyncWriteExt};

use common::within;

/// Whether process `pid` is a zombie child of this process (ended, not reaped).
fn is_our_zombie(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false; // gone: reaped (or never ours)
    };
    // "pid (comm) state ppid ...": the command may hold spaces, so split after its ')'.
    let after_name = &stat[stat.rfind(')').expect("stat has a command") + 2..];
    let mut fields = after_name.split_whitespace();
    let state = fields.next();
    let parent: Option<u32> = fields.next().and_then(|ppid| ppid.parse().ok());
    state == Some("Z") && parent == Some(std::process::id())
}

#[test]
fn a_pipeline_writes_stdin_and_reads_stdout() {
    within(Duration::from_secs(20), || {
        evloop::run(async {
            let mut sort = Command::new("sort")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = sort.stdin.take().unwrap();
            let writer = evloop::spawn(async move {
                for word in ["pear", "apple", "fig"] {
                    stdin.write_all(word.as_bytes()).await.unwrap();
                    stdin.write_all(b"\n").await.unwrap();
                }
                // Dropping stdin closes it: sort sees the end of its input.
            });
            let mut sorted = String::new();
            let mut stdout = sort.stdout.take().unwrap();
            stdout.read_to_string(&mut sorted).await.unwrap();
            writer.await.unwrap();
            assert_eq!(sorted, "apple\nfig\npear\n");
            assert!(sort.wait().await.unwrap().success());
        });
    });
}

#[test]
fn output_far_larger_than_a_pipe_is_read_while_the_child_runs() {
    within(Duration::from_secs(20), || {
        evloop::run(async {
            // 4 MB on stdout and some on stderr: both pipes fill many times over.
            let output = Command::new("sh")
                .args(["-c", "head -c 4000000 /dev/zero; echo done >&2"])
                .output()
                .await
                .unwrap();
            assert!(output.status.success());
            assert_eq!(output.stdout.len(), 4_000_000);
            assert_eq!(output.stderr, b"done\n");
        });
    });
}

#[test]
fn exit_codes_and_signals_are_in_the_status() {
    within(Duration::from_secs(20), || {
        evloop::run(async {
            let status = Command::new("sh")
                .args(["-c", "exit 7"])
                .status()
                .await
                .unwrap();
            assert_eq!(status.code(), Some(7));
            let status = Command::new("sh")
                .args(["-c", "kill -TERM $$"])
                .status()
                .await
                .unwrap();
            assert_eq!(status.code(), None);
            assert_eq!(status.signal(), Some(libc::SIGTERM));
        });
    });
}

#[test]
fn kill_ends_a_running_child_and_wait_reaps_it() {
    within(Duration::from_secs(20), || {
        evloop::run(async {
            let mut child = Command::new("sleep").arg("600").spawn().unwrap();
            let pid = child.id().unwrap();
            assert_eq!(child.try_wait().unwrap(), None);
            child.kill().unwrap();
            let status = child.wait().await.unwrap();
            assert_eq!(status.signal(), Some(libc::SIGKILL));
            assert_eq!(child.id(), None, "reaped");
            assert_eq!(
                child.wait().await.unwrap(),
                status,
                "a second wait is the same"
            );
            assert!(!is_our_zombie(pid));
        });
    });
}

#[test]
fn a_cancelled_wait_leaves_the_child_waitable() {
    within(Duration::from_secs(20), || {
        evloop::run(async {
            let mut child = Command::new("sleep").arg("600").spawn().unwrap();
            let gave_up = evloop::time::timeout(Duration::from_millis(20), child.wait()).await;
            assert!(gave_up.is_err());
            child.kill().unwrap();
            assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGKILL));
        });
    });
}

#[test]
fn two_hundred_children_at_once_leave_no_zombie() {
    within(Duration::from_secs(60), || {
        let pids = evloop::run(async {
            let children: Vec<_> = (0..200)
                .map(|n| {
                    evloop::spawn(async move {
                        let mut child = Command::new("sh")
                            .args(["-c", &format!("exit {}", n % 3)])
                            .spawn()
                            .unwrap();
                        let pid = child.id().unwrap();
                        let status = child.wait().await.unwrap();
                        assert_eq!(status.code(), Some(n % 3));
                        pid
                    })
                })
                .collect();
            let mut pids = Vec::new();
            for child in children {
                pids.push(child.await.unwrap());
            }
            pids
        });
        let zombies: Vec<_> = pids.into_iter().filter(|&pid| is_our_zombie(pid)).collect();
        assert!(zombies.is_empty(), "zombies left: {zombies:?}");
    });
}

#[test]
fn a_child_that_outlives_its_handle_is_still_reaped() {
    within(Duration::from_secs(20), || {
        evloop::run(async {
            let mut child = Command::new("sh")
                .args(["-c", "read line"]) // runs until its stdin closes
                .stdin(Stdio::piped())
                .spawn()
                .unwrap();
            let pid = child.id().unwrap();
            let stdin = child.stdin.take().unwrap();
            drop(child); // nobody will wait for it
            drop(stdin); // now it ends
                         // The loop reaps it: wait until it is gone (the loop must keep running for that).
            while std::path::Path::new(&format!("/proc/{pid}")).exists() {
                evloop::time::sleep(Duration::from_millis(1)).await;
            }
        });
    });
}

#[test]
fn kill_on_drop_kills_and_reaps() {
    within(Duration::from_secs(20), || {
        evloop::run(async {
            let child = Command::new("sleep")
                .arg("600")
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let pid = child.id().unwrap();
            drop(child);
            while std::path::Path::new(&format!("/proc/{pid}")).exists() {
                evloop::time::sleep(Duration::from_millis(1)).await;
            }
        });
    });
}

#[test]
fn a_missing_program_is_a_clear_error() {
    evloop::run(async {
        let error = Command::new("evloop-no-such-program").spawn().unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
        assert!(
            error.to_string().contains("evloop-no-such-program"),
            "names the program: {error}"
        );
    });
}

#[test]
fn output_pipes_the_streams_for_that_call_only() {
    evloop::run(async {
        let mut command = Command::new("true");
        assert!(command.output().await.unwrap().status.success());
        // `spawn` after `output` has std's defaults again: nothing piped.
        let mut child = command.spawn().unwrap();
        assert!(child.stdin.is_none() && child.stdout.is_none() && child.stderr.is_none());
        assert!(child.wait().await.unwrap().success());
    });
}
