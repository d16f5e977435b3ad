//! Ctrl+C and SIGTERM end a headless run and a benchmark cleanly: exit status 128 + the
//! signal, the summary printed, validation silent (everything freed in order). The tests
//! send the signal only once the child has logged that it is rendering, and wait for its
//! exit with a deadline: no sleep stands in for synchronisation.

// Unix signals: nothing to test on Windows (Ctrl-C there is a console event, not a signal).
#![cfg(unix)]

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

mod common;

/// Starts the demo with `args`; stderr and stdout go to files (a pipe could fill up).
struct Run {
    child: Child,
    stderr: std::path::PathBuf,
    stdout: std::path::PathBuf,
}

impl Run {
    fn start(name: &str, args: &[&str]) -> Self {
        let dir = common::scratch_dir(name);
        let (stderr, stdout) = (dir.join("stderr"), dir.join("stdout"));
        let child = Command::new(env!("CARGO_BIN_EXE_hip-vulkan-sinewave"))
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).expect("stdout file"))
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("the demo starts");
        Self { child, stderr, stdout }
    }

    fn read(path: &std::path::Path) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(path) {
            let _ = file.read_to_string(&mut text);
        }
        text
    }

    fn stderr(&self) -> String {
        Self::read(&self.stderr)
    }

    fn stdout(&self) -> String {
        Self::read(&self.stdout)
    }

    /// Waits until stderr contains `needle` (the child got that far), or fails.
    fn wait_for(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.stderr().contains(needle) {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the demo exited ({status}) before logging '{needle}':\n{}", self.stderr());
            }
            assert!(Instant::now() < deadline, "no '{needle}' within 60 s:\n{}", self.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, signal: i32) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid fits");
        // SAFETY: kill has no memory-safety preconditions; the pid is our own child, not yet
        // reaped (we have not waited for it), so it cannot name another process.
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(rc, 0, "kill({pid}, {signal}): {}", std::io::Error::last_os_error());
    }

    /// Waits for the exit (it must come within 60 s: no hang).
    fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the demo did not exit within 60 s of the signal:\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn headless_run_ends_cleanly_on(signal: i32, name: &str, code: i32) {
    let mut run = Run::start(
        &format!("signal-{name}"),
        &[
            "--headless",
            "--heights",
            "vulkan",
            "--grid",
            "64x64",
            "--size",
            "64x64",
            "--frames",
            "100000000",
            "--validation",
        ],
    );
    run.wait_for("heights written by");
    run.signal(signal);
    let status = run.wait();
    let err = run.stderr();
    assert_eq!(status.code(), Some(code), "exit status after {name}:\n{err}");
    assert!(err.contains(&format!("{name} received: stopping after")), "{err}");
    assert!(err.contains("rendered ") && err.contains("frames offscreen"), "the summary is printed:\n{err}");
    assert!(err.contains("validation: 0 errors, 0 warnings"), "everything freed cleanly:\n{err}");
    assert!(err.contains(&format!("interrupted by {name}: the run ended cleanly")), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn ctrl_c_ends_a_headless_run_cleanly_with_status_130() {
    headless_run_ends_cleanly_on(libc::SIGINT, "SIGINT", 130);
}

#[test]
fn sigterm_ends_a_headless_run_cleanly_with_status_143() {
    headless_run_ends_cleanly_on(libc::SIGTERM, "SIGTERM", 143);
}

#[test]
fn ctrl_c_during_a_benchmark_prints_the_finished_configurations() {
    let mut run = Run::start(
        "signal-bench",
        &[
            "--bench",
            "--bench-modes",
            "vulkan",
            "--bench-grids",
            "16,2048",
            "--bench-time",
            "fixed",
            "--bench-frames-in-flight",
            "2",
            "--bench-warmup",
            "2",
            "--bench-frames",
            "40",
            "--bench-size",
            "64x64",
            "--bench-seconds",
            "1000",
        ],
    );
    // Signalled once the first configuration (16², 40 frames) has printed its result,
    // while the second (2048²: seconds of mesh upload and frames on any device) runs.
    run.wait_for("[1/2] Vulkan Fixed time 16² K=2 run-ahead 1: ");
    run.signal(libc::SIGINT);
    let status = run.wait();
    let (err, out) = (run.stderr(), run.stdout());
    assert_eq!(status.code(), Some(130), "exit status:\n{err}");
    assert!(out.contains("| vulkan | fixed | 16² | 2 | 1 |"), "the finished configuration is in the table:\n{out}");
    assert!(out.contains("(interrupted by SIGINT: "), "the table says it is partial:\n{out}");
    assert!(!err.contains("panicked"), "{err}");
}
