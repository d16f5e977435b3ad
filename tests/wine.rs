//! The Windows build of the demo, run under Wine on lavapipe (Wine's `winevulkan` over the
//! Linux Vulkan driver), checked against the Linux golden images.
//!
//! What Wine 8 lacks, and what each test asserts about it:
//! - `VK_KHR_external_memory_win32` (and `_semaphore_win32`): the height buffers cannot be
//!   exported, so they are plain memory and HIP cannot write them. The log must say so.
//! - a HIP runtime (`amdhip64_*.dll`): `--heights hip` must fail with the names tried and
//!   what to install; `auto` must fall back to Vulkan.
//! - the validation layer (Windows' loader in Wine sees no Linux layer): `--validation`
//!   must fail, naming the layer.
//!
//! These tests need the Windows build and Wine, which `scripts/test.sh` provides (it
//! cross-builds `hip-vulkan-sinewave.exe` and runs them with `--include-ignored`); a plain
//! `cargo test` skips them as ignored.

#![cfg(target_os = "linux")]

mod common;
use common::{compare_images, scratch_dir, CHANNEL_TOLERANCE, OUTLIER_FRACTION};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hip_vulkan_sinewave::app::renderer::target::RgbaImage;

/// The Windows executable: `$HVS_WINDOWS_EXE`, else where `cargo build --target
/// x86_64-pc-windows-gnu` puts it.
fn windows_exe() -> PathBuf {
    let exe = std::env::var_os("HVS_WINDOWS_EXE").map(PathBuf::from).unwrap_or_else(|| {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
        target.join("x86_64-pc-windows-gnu/debug/hip-vulkan-sinewave.exe")
    });
    assert!(
        exe.is_file(),
        "{} is missing: build it with `cargo build --target x86_64-pc-windows-gnu --bin hip-vulkan-sinewave`",
        exe.display()
    );
    exe
}

/// One Wine run at a time: they share one Wine prefix, which the first run creates.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs the Windows demo under Wine (scripts/wine-run.sh, on a private Xvfb display).
fn run_under_wine(args: &[&str]) -> Output {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let runner = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/wine-run.sh");
    Command::new(runner)
        .arg(windows_exe())
        .args(args)
        .env("RUST_LOG", "info")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("scripts/wine-run.sh runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exactly what the log must say about the missing export extension.
fn assert_export_skipped_and_said(err: &str) {
    assert!(
        err.contains(
            "lacks VK_KHR_external_memory_win32: its memory cannot be exported, so HIP cannot write the heights"
        ),
        "the log does not say why memory is not exported:\n{err}"
    );
    assert!(err.contains("plain buffers of 96x64 f32"), "the heights are not plain buffers:\n{err}");
}

/// The Linux golden pictures, drawn by the Windows build: the CPU's heights with vertex
/// shading (`offscreen_320x200.png`) and with the shading image the CPU writes
/// (`offscreen_image_shading_320x200.png`), and the compute shader's heights with the
/// latter, each within the tolerance of the Linux tests.
#[test]
#[ignore = "needs the Windows build and Wine: scripts/test.sh builds it and runs these"]
fn the_windows_build_draws_the_linux_golden_images_under_wine() {
    let dir = scratch_dir("wine");
    let expected = |name: &str| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expected").join(name);
        RgbaImage::load_png(&path).expect("the golden image is committed")
    };
    let cases = [
        ("cpu", "vertex", "offscreen_320x200.png"),
        ("cpu", "image", "offscreen_image_shading_320x200.png"),
        ("vulkan", "image", "offscreen_image_shading_320x200.png"),
    ];
    for (heights, shading, golden) in cases {
        let path = dir.join(format!("{heights}-{shading}.png"));
        let out = run_under_wine(&[
            "--headless",
            "--heights",
            heights,
            "--shading",
            shading,
            "--grid",
            "96x64",
            "--size",
            "320x200",
            "--time",
            "1",
            "--no-overlay",
            "--verify",
            "--screenshot",
            // Wine maps the Linux root to drive Z:, so a Linux path works as it is.
            path.to_str().expect("a UTF-8 scratch path"),
        ]);
        let err = stderr(&out);
        assert!(out.status.success(), "--heights {heights} --shading {shading}: exit {:?}\n{err}", out.status);
        assert_export_skipped_and_said(&err);
        assert!(err.contains(&format!("heights written by: {heights}")), "{err}");
        let image = RgbaImage::load_png(&path).expect("the Windows build wrote its screenshot");
        let (outliers, worst) = compare_images(&image, &expected(golden));
        let allowed = (OUTLIER_FRACTION * 320.0 * 200.0) as usize;
        assert!(
            outliers <= allowed,
            "--heights {heights} --shading {shading} against {golden}: {outliers} pixels differ by more than \
             {CHANNEL_TOLERANCE} (allowed {allowed}, worst {worst}); the Windows picture is {}",
            path.display()
        );
        eprintln!(
            "{heights}/{shading}: {outliers} outlier pixels (allowed {allowed}), worst channel difference {worst}"
        );
    }
}

/// The window: Wine's X11 driver gives the Windows build a Vulkan surface on Xvfb, and
/// the demo runs its frames through a swapchain and exits cleanly.
#[test]
#[ignore = "needs the Windows build and Wine: scripts/test.sh builds it and runs these"]
fn the_windows_build_runs_its_window_under_wine() {
    let out = run_under_wine(&["--heights", "cpu", "--grid", "64x64", "--size", "320x240", "--frames", "40"]);
    let err = stderr(&out);
    assert!(out.status.success(), "exit {:?}:\n{err}", out.status);
    assert!(err.contains("swapchain: 320x240") && err.contains("rendered 40 frames"), "{err}");
}

/// What Wine lacks fails cleanly, saying what is missing: HIP (`--heights hip`: every DLL
/// name tried, and the SDK to install; `auto` falls back to Vulkan), and the validation
/// layer.
#[test]
#[ignore = "needs the Windows build and Wine: scripts/test.sh builds it and runs these"]
fn what_wine_lacks_is_refused_or_skipped_with_the_reason() {
    let common = ["--headless", "--grid", "32x32", "--size", "64x64"];
    let hip = run_under_wine(&[&common[..], &["--heights", "hip"]].concat());
    let err = stderr(&hip);
    assert!(!hip.status.success(), "--heights hip succeeded without a HIP runtime:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    for name in ["amdhip64.dll", "amdhip64_7.dll", "amdhip64_6.dll", "AMD's HIP SDK for Windows"] {
        assert!(err.contains(name), "the error does not name {name}:\n{err}");
    }

    let auto = run_under_wine(&common);
    let err = stderr(&auto);
    assert!(auto.status.success(), "auto: exit {:?}\n{err}", auto.status);
    assert!(err.contains("heights written by: vulkan"), "auto did not fall back to Vulkan:\n{err}");

    let validation = run_under_wine(&[&common[..], &["--heights", "cpu", "--validation"]].concat());
    let err = stderr(&validation);
    assert!(!validation.status.success(), "--validation succeeded without the layer:\n{err}");
    assert!(err.contains("the layer VK_LAYER_KHRONOS_validation is not installed"), "{err}");
}
