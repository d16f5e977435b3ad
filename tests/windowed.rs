//! The windowed demo under Xvfb on lavapipe: N frames through a real swapchain, then a
//! clean exit with the validation layer silent.

mod common;
use common::*;
use std::process::Command;

#[test]
fn windowed_run_under_xvfb_exits_cleanly() {
    let which = Command::new("sh").args(["-c", "command -v xvfb-run"]).output().expect("sh runs");
    assert!(which.status.success(), "xvfb-run is required for this test (apt install xvfb xauth)");
    let out = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1024x768x24", env!("CARGO_BIN_EXE_hip-vulkan-sinewave")])
        .args(["--grid", "64x64", "--size", "320x240", "--frames", "40", "--validation", "--present-mode", "immediate"])
        .env("RUST_LOG", "info")
        // Do not inherit a desktop session: the test must use the Xvfb display.
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("xvfb-run runs");
    let err = stderr(&out);
    assert!(out.status.success(), "exit {:?}:\n{err}", out.status);
    assert!(err.contains("swapchain:") && err.contains("rendered 40 frames"), "{err}");
}

#[test]
fn no_display_is_explained() {
    let out = Command::new(env!("CARGO_BIN_EXE_hip-vulkan-sinewave"))
        .args(["--frames", "1"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("runs");
    assert_clean_failure(&out, "--headless");
}
