//! Helpers shared by the integration tests (lavapipe, Xvfb).

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

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

/// Asserts that `tool` is on the PATH (`package` provides it).
pub fn require(tool: &str, package: &str) {
    let found = Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().expect("sh runs");
    assert!(found.status.success(), "{tool} is required for this test (apt install {package})");
}

/// An Xvfb server on a free display, killed on drop. `-noreset`: by default the server
/// resets when its last client disconnects, and a client connecting during that reset
/// fails (seen once in 10 CI runs: the demo could not open the display after an xdotool
/// probe had just disconnected; commit 5dcd7a2). Others hit the same race and fixed it the
/// same way: <https://github.com/openscad/openscad/pull/3037>,
/// <https://github.com/mantidproject/mantid/pull/31570>.
pub struct Xvfb {
    child: Child,
    /// The display, e.g. `:99`.
    pub display: String,
    /// Xvfb's stdout, kept open: closing it would kill Xvfb with SIGPIPE on its next write.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Xvfb {
    /// Starts one and waits until it accepts clients.
    pub fn start() -> Self {
        let mut child = Command::new("Xvfb")
            .args(["-displayfd", "1", "-noreset", "-screen", "0", "1024x768x24", "-nolisten", "tcp"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("Xvfb prints its display");
        let mut x = Self { child, display: format!(":{}", line.trim()), _stdout: stdout };
        // Ready means a client can connect: ask it, until a deadline, and fail loudly if
        // the server died.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let probe = Command::new("xdotool")
                .arg("getdisplaygeometry")
                .env("DISPLAY", &x.display)
                .output()
                .expect("xdotool runs");
            if probe.status.success() {
                return x;
            }
            if let Ok(Some(status)) = x.child.try_wait() {
                panic!("Xvfb on {} exited ({status}) before accepting connections", x.display);
            }
            assert!(Instant::now() < deadline, "Xvfb on {} accepts no connection within 30 s", x.display);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the demo with `args` on this display (not on any desktop session's), its
    /// info log going to `log`.
    pub fn spawn_demo(&self, args: &[&str], log: &std::path::Path) -> Child {
        Command::new(env!("CARGO_BIN_EXE_hip-vulkan-sinewave"))
            .args(args)
            .env("DISPLAY", &self.display)
            .env_remove("WAYLAND_DISPLAY")
            .env("RUST_LOG", "info")
            .stderr(std::fs::File::create(log).expect("log file"))
            .spawn()
            .expect("the demo starts")
    }

    /// Runs xdotool on this display; its output, trimmed.
    pub fn xdotool(&self, args: &[&str]) -> String {
        let out = Command::new("xdotool").args(args).env("DISPLAY", &self.display).output().expect("xdotool runs");
        assert!(out.status.success(), "xdotool {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
