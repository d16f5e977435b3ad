//! Live switching in the window (issue 13), on lavapipe under Xvfb with the validation
//! layer on: keys sent with xdotool walk through every switch (who writes the heights, the
//! sync strategy, frames in flight 1 to 4, the grid), and a click on the overlay's
//! "heights" button does what H does. Each switch is waited for in the demo's log (what it
//! rebuilt), never on a sleep. Then the window, captured from the X server with `xwd`, is
//! compared with `tests/expected/window_live_640x480.png`: a channel may differ by 12 and at
//! most 0.5 % of pixels by more (the offscreen tests' tolerance); the frame-time graph and
//! its legend, which show live timings, are left out of the comparison (their rectangle is
//! in the log). The run ends with Esc, exit status 0 and validation 0/0.

mod common;
use common::{compare_images, hip_here, require, HipHere, Xvfb, CHANNEL_TOLERANCE, OUTLIER_FRACTION};

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use hip_vulkan_sinewave::app::renderer::target::RgbaImage;

const EXPECTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/expected/window_live_640x480.png");

/// Reads an `xwd` dump (X Window Dump, format 7, 24/32-bit TrueColor ZPixmap, as Xvfb's
/// 24-bit screen gives) as RGBA.
fn read_xwd(bytes: &[u8]) -> RgbaImage {
    let field = |i: usize| u32::from_be_bytes(bytes[i * 4..i * 4 + 4].try_into().expect("4 bytes"));
    let (header_size, version, format, width, height) = (field(0), field(1), field(2), field(4), field(5));
    assert_eq!((version, format), (7, 2), "an X11 ZPixmap dump");
    let (byte_order, bits_per_pixel, bytes_per_line) = (field(7), field(11), field(12) as usize);
    assert_eq!(bits_per_pixel, 32, "32 bits per pixel (Xvfb's 24-bit depth)");
    let masks = [field(14), field(15), field(16)];
    let colours = field(19) as usize;
    let pixels = &bytes[header_size as usize + colours * 12..];
    let mut rgba = Vec::with_capacity((width * height * 4) as usize);
    for y in 0..height as usize {
        for x in 0..width as usize {
            let at = y * bytes_per_line + x * 4;
            let raw: [u8; 4] = pixels[at..at + 4].try_into().expect("a pixel");
            let value = if byte_order == 0 { u32::from_le_bytes(raw) } else { u32::from_be_bytes(raw) };
            for mask in masks {
                rgba.push(((value & mask) >> mask.trailing_zeros()) as u8);
            }
            rgba.push(255);
        }
    }
    RgbaImage { width, height, pixels: rgba }
}

/// The running demo and its log.
struct Demo {
    child: Child,
    log: std::path::PathBuf,
}

impl Demo {
    fn text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log, past byte `from`, holds every one of `expected`; false if
    /// `patience` passes first.
    fn logged(&mut self, from: usize, expected: &[&str], what: &str, patience: Duration) -> bool {
        let deadline = Instant::now() + patience;
        loop {
            let text = self.text();
            let new = text.get(from..).unwrap_or("");
            if expected.iter().all(|e| new.contains(e)) {
                return true;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the demo exited ({status}) during '{what}':\n{text}");
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// [`Demo::logged`] within 60 s, or a failure that shows the log.
    fn wait_for(&mut self, from: usize, expected: &[&str], what: &str) {
        if !self.logged(from, expected, what, Duration::from_secs(60)) {
            panic!("'{what}': {expected:?} not logged within 60 s:\n{}", self.text().get(from..).unwrap_or(""));
        }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn every_live_switch_from_keys_and_the_overlay_stays_clean_and_draws_the_expected_window() {
    require("Xvfb", "xvfb");
    require("xdotool", "xdotool");
    require("xwd", "x11-apps");
    let hip_usable = matches!(hip_here(), HipHere::Devices(_));
    let x = Xvfb::start();
    let log = std::env::temp_dir().join(format!("hvs-live-{}.log", std::process::id()));
    let child = x.spawn_demo(
        &[
            "--heights",
            "vulkan",
            "--grid",
            "64x64",
            "--size",
            "640x480",
            "--validation",
            // A frozen animation: the picture depends on the switches only.
            "--time",
            "1",
            "--time-step",
            "0",
            "--present-mode",
            "immediate",
        ],
        &log,
    );
    let mut demo = Demo { child, log };
    demo.wait_for(0, &["overlay buttons: heights at "], "the first frame with the overlay");
    let window = x.xdotool(&["search", "--name", "hip-vulkan-sinewave"]).lines().next().unwrap_or("").to_string();
    assert!(!window.is_empty(), "no window found");
    x.xdotool(&["windowfocus", "--sync", &window]);

    // Keys are paced 300 ms apart, as a person types: a second press of the same key sent
    // as soon as the first one's switch was logged (tens of ms later) was not delivered to
    // the event loop in 3 of 5 runs under Xvfb (the demo, logging every key event, saw none);
    // with the pacing, none in 5. A key whose switch is still not logged within 10 s is sent
    // once more, and the resend is reported; a switch the demo failed to make still fails.
    let press = |demo: &mut Demo, key: &str, expected: &[&str]| {
        let from = demo.text().len();
        let what = format!("key {key}");
        std::thread::sleep(Duration::from_millis(300));
        x.xdotool(&["key", key]);
        if !demo.logged(from, expected, &what, Duration::from_secs(10)) {
            eprintln!("key {key}: no switch logged within 10 s; sending it again");
            x.xdotool(&["key", key]);
            demo.wait_for(from, expected, &what);
        }
    };
    // Who writes the heights: vulkan → cpu → (hip, hip-copy where HIP runs) → vulkan.
    press(&mut demo, "h", &["switch heights: now heights cpu", "rebuilt only the height source; heights: cpu"]);
    if hip_usable {
        press(&mut demo, "h", &["switch heights: now heights hip (zero-copy)"]);
        press(&mut demo, "h", &["switch heights: now heights hip-copy (through the host)"]);
        press(&mut demo, "h", &["switch heights: now heights vulkan compute"]);
    } else {
        press(
            &mut demo,
            "h",
            &[
                "switch heights: skipping hip (zero-copy) (HIP is not available here",
                "switch heights: skipping hip-copy (through the host)",
                "switch heights: now heights vulkan compute",
            ],
        );
    }
    // The sync strategy is HIP's: with the compute shader writing, it is noted, nothing rebuilt.
    for sync in ["Binary", "Host", "StreamWait", "Serial", "Timeline"] {
        press(
            &mut demo,
            "s",
            &[&format!("switch sync: sync {sync} noted, for when HIP writes the heights; nothing rebuilt")],
        );
    }
    // Frames in flight: the buffers and the per-frame resources, not the grid mesh.
    for k in ["1", "3", "4", "2"] {
        press(
            &mut demo,
            k,
            &[&format!(
                "switch frames in flight {k}: now heights vulkan compute, {k} frame(s) in flight, grid 64x64; rebuilt \
                 height buffers and shading images, frames in flight (command buffers, fences, timestamps)"
            )],
        );
    }
    // The grid: mesh and buffers, not the per-frame resources.
    for side in ["128", "256"] {
        press(
            &mut demo,
            "g",
            &[&format!(
                "switch grid: now heights vulkan compute, 2 frame(s) in flight, grid {side}x{side}; rebuilt grid mesh, \
                 height buffers and shading images; heights: vulkan-compute"
            )],
        );
    }
    // The overlay's "heights" button: the same switch as H.
    let buttons = demo.text();
    let at = buttons.split("overlay buttons: heights at ").nth(1).and_then(|rest| rest.split(';').next()).unwrap_or("");
    let (bx, by) = at.split_once(',').expect("the heights button's position is logged");
    let from = demo.text().len();
    x.xdotool(&["mousemove", "--window", &window, bx, by]);
    x.xdotool(&["click", "1"]);
    demo.wait_for(from, &["overlay: heights clicked", "switch heights: now heights cpu"], "the heights button");
    press(&mut demo, "h", &["switch heights: now heights"]);
    if hip_usable {
        // Back to the compute shader, through both HIP writers.
        press(&mut demo, "h", &["switch heights: now heights"]);
        press(&mut demo, "h", &["switch heights: now heights vulkan compute"]);
    }
    // Move the pointer off the panel, let a few frames draw, and capture the window.
    x.xdotool(&["mousemove", "--window", &window, "630", "470"]);
    std::thread::sleep(Duration::from_millis(1500));
    let dump =
        Command::new("xwd").args(["-silent", "-id", &window]).env("DISPLAY", &x.display).output().expect("xwd runs");
    assert!(dump.status.success(), "xwd: {}", String::from_utf8_lossy(&dump.stderr));
    let image = read_xwd(&dump.stdout);
    assert_eq!((image.width, image.height), (640, 480), "the window's size");

    let text = demo.text();
    let graph = text
        .split("graph at ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .expect("the graph's rectangle is logged")
        .to_string();
    let bounds: Vec<u32> =
        graph.replace(" to ", ",").split(',').map(|v| v.trim().parse::<f32>().expect("a coordinate") as u32).collect();
    // The graph and legend show live timings: the same background colour there in both
    // images, with a margin of 2 pixels.
    let masked = |mut image: RgbaImage| {
        let (l, t, r, b) = (bounds[0].saturating_sub(2), bounds[1].saturating_sub(2), bounds[2] + 2, bounds[3] + 2);
        for y in t..b.min(image.height) {
            for x in l..r.min(image.width) {
                let at = ((y * image.width + x) * 4) as usize;
                image.pixels[at..at + 4].copy_from_slice(&[0, 0, 0, 255]);
            }
        }
        image
    };
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        // The README's picture of the window: the capture as it is, graph included.
        let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/window_overlay.png");
        image.save_png(&readme).expect("write the README's window picture");
    }
    let image = masked(image);
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        image.save_png(Path::new(EXPECTED)).expect("write the expected window");
    }
    let expected = masked(RgbaImage::load_png(Path::new(EXPECTED)).expect("the expected window is committed"));
    let (outliers, worst) = compare_images(&image, &expected);
    let allowed = (OUTLIER_FRACTION * 640.0 * 480.0) as usize;
    if outliers > allowed {
        let path = std::env::temp_dir().join("window_live_actual.png");
        let _ = image.save_png(&path);
        panic!(
            "{outliers} pixels differ by more than {CHANNEL_TOLERANCE} (allowed {allowed}, worst {worst}); the window: {}",
            path.display()
        );
    }

    x.xdotool(&["key", "Escape"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = demo.child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the demo did not exit after Esc:\n{}", demo.text());
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = demo.text();
    let _ = std::fs::remove_file(&demo.log);
    assert!(status.success(), "exit {status}:\n{text}");
    assert!(!text.contains("panicked"), "{text}");
    assert!(!text.contains("refused"), "a switch was refused:\n{text}");
    assert!(text.contains("validation: 0 errors, 0 warnings"), "validation summary missing:\n{text}");
}
