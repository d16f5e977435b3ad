//! Helpers shared by the integration tests (lavapipe, Xvfb).

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs the demo binary with `args` and returns its output.
pub fn run_demo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hip-vulkan-sinewave"))
        .args(args)
        .env("RUST_LOG", "info")
        .output()
        .expect("the demo binary runs")
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A fresh scratch directory for one test.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hvs-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Asserts that a run failed cleanly: non-zero exit, a message containing `needle`,
/// and no panic.
pub fn assert_clean_failure(output: &Output, needle: &str) {
    let err = stderr(output);
    assert!(!output.status.success(), "expected failure, got success; stderr:\n{err}");
    assert!(!err.contains("panicked"), "the demo panicked:\n{err}");
    assert!(err.contains(needle), "expected '{needle}' in stderr:\n{err}");
}
