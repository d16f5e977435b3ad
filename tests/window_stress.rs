//! The window under stress, on lavapipe under Xvfb with validation on: 50 resizes while
//! rendering (each waited for until the app has built the swapchain of that size), an
//! unmap and map (minimise and restore without a window manager), then Esc.
//! The run must stay validation-clean, never hang, and exit 0.

mod common;
use common::{require, Xvfb};

use std::process::{Child, Command};
use std::time::{Duration, Instant};

#[test]
fn fifty_resizes_and_a_minimise_stay_clean_and_exit_zero() {
    require("Xvfb", "xvfb");
    require("xdotool", "xdotool");
    let x = Xvfb::start();
    let log = std::env::temp_dir().join(format!("hvs-window-stress-{}.log", std::process::id()));
    let mut app =
        x.spawn_demo(&["--grid", "64x64", "--size", "320x240", "--validation", "--present-mode", "immediate"], &log);

    let window = {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = Command::new("xdotool")
                .args(["search", "--name", "hip-vulkan-sinewave"])
                .env("DISPLAY", &x.display)
                .output()
                .expect("xdotool runs");
            let id = String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or("").trim().to_string();
            if !id.is_empty() {
                break id;
            }
            if let Ok(Some(status)) = app.try_wait() {
                panic!("the demo exited early ({status}):\n{}", std::fs::read_to_string(&log).unwrap_or_default());
            }
            assert!(Instant::now() < deadline, "no window appeared within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    };

    // Each resize is followed by a wait for the swapchain the app builds for that size
    // (its log line): the test advances on what the app did, not on sleeps.
    let log_text = || std::fs::read_to_string(&log).unwrap_or_default();
    let wait_for_swapchain = |app: &mut Child, (w, h): (u32, u32), seen_before: usize| {
        let needle = format!("swapchain: {w}x{h} ");
        let deadline = Instant::now() + Duration::from_secs(30);
        while log_text().matches(&needle).count() <= seen_before {
            if let Ok(Some(status)) = app.try_wait() {
                panic!("the demo exited ({status}) while resized to {w}x{h}:\n{}", log_text());
            }
            assert!(Instant::now() < deadline, "no swapchain for {w}x{h} within 30 s:\n{}", log_text());
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let resize = |app: &mut Child, (w, h): (u32, u32)| {
        let seen_before = log_text().matches(&format!("swapchain: {w}x{h} ")).count();
        x.xdotool(&["windowsize", &window, &w.to_string(), &h.to_string()]);
        wait_for_swapchain(app, (w, h), seen_before);
    };
    let sizes: Vec<(u32, u32)> = (0..50u32).map(|i| (200 + (i * 37) % 500, 150 + (i * 53) % 400)).collect();
    for &size in &sizes {
        resize(&mut app, size);
    }
    // Minimise and restore: without a window manager, unmap and map; then one more resize
    // shows that the app still renders after it.
    x.xdotool(&["windowunmap", "--sync", &window]);
    x.xdotool(&["windowmap", "--sync", &window]);
    resize(&mut app, (333, 222));
    x.xdotool(&["windowfocus", "--sync", &window]);
    x.xdotool(&["key", "Escape"]);

    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = app.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = app.kill();
            panic!("the demo did not exit after Esc (hang?):\n{}", std::fs::read_to_string(&log).unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    assert!(status.success(), "exit {status}:\n{text}");
    assert!(!text.contains("panicked"), "{text}");
    assert!(text.contains("validation: 0 errors, 0 warnings"), "validation summary missing:\n{text}");
    let rebuilds = text.matches("swapchain: ").count();
    assert!(rebuilds > sizes.len(), "the first swapchain and one per resize; saw {rebuilds} builds:\n{text}");
}
