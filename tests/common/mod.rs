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

/// What HIP can do on this machine, asked in-process the way the demo asks: the outcome
/// the HIP tests must then see from the binary.
#[derive(Debug)]
pub enum HipHere {
    /// No HIP runtime library loads (the message lists what was tried).
    NoRuntime(String),
    /// The runtime loads but sees no GPU (CI: Debian's ROCm 5.2, no AMD GPU).
    NoDevice,
    /// The runtime sees this many GPUs.
    Devices(i32),
}

pub fn hip_here() -> HipHere {
    use hip_vulkan_sinewave::hip::Hip;
    match Hip::load() {
        Err(e) => HipHere::NoRuntime(e.to_string()),
        Ok(hip) => match hip.device_count() {
            Ok(n) if n > 0 => HipHere::Devices(n),
            Ok(_) => HipHere::NoDevice,
            Err(e) if e.is_no_device() => HipHere::NoDevice,
            Err(e) => panic!("HIP loaded but hipGetDeviceCount failed unexpectedly: {e}"),
        },
    }
}

/// Golden-image tolerance: a channel may differ by this much (rasterisation and sRGB
/// rounding between drivers) ...
pub const CHANNEL_TOLERANCE: u8 = 12;
/// ... and at most this fraction of pixels may differ by more (edge pixels of triangles).
pub const OUTLIER_FRACTION: f64 = 0.005;

/// Compares two RGBA images of the same size: the pixels with a channel off by more than
/// [`CHANNEL_TOLERANCE`], and the largest channel difference.
pub fn compare_images(
    actual: &hip_vulkan_sinewave::app::renderer::target::RgbaImage,
    expected: &hip_vulkan_sinewave::app::renderer::target::RgbaImage,
) -> (usize, u8) {
    assert_eq!((actual.width, actual.height), (expected.width, expected.height), "image size");
    let mut outliers = 0;
    let mut worst = 0;
    for (a, e) in actual.pixels.chunks_exact(4).zip(expected.pixels.chunks_exact(4)) {
        let diff = a.iter().zip(e).map(|(x, y)| x.abs_diff(*y)).max().unwrap_or(0);
        worst = worst.max(diff);
        if diff > CHANNEL_TOLERANCE {
            outliers += 1;
        }
    }
    (outliers, worst)
}
