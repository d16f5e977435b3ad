//! The binary as a user runs it: headless PNG output, and clean failures on bad input.

mod common;
use common::*;

#[test]
fn headless_writes_a_png_of_the_requested_size() {
    let dir = scratch_dir("png");
    let path = dir.join("out.png");
    let out = run_demo(&[
        "--headless",
        "--frames",
        "3",
        "--size",
        "333x177",
        "--grid",
        "48x40",
        "--validation",
        "--screenshot",
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "stderr:\n{}", stderr(&out));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).expect("PNG written")));
    let mut reader = decoder.read_info().expect("valid PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("a PNG of a size that fits in memory")];
    let info = reader.next_frame(&mut buf).expect("valid PNG data");
    assert_eq!((info.width, info.height), (333, 177));
    assert_eq!(info.color_type, png::ColorType::Rgba);
    // The log says which device and that validation was on.
    let err = stderr(&out);
    assert!(
        err.contains("using vulkan device") && err.contains("validation: VK_LAYER_KHRONOS_validation enabled"),
        "{err}"
    );
}

#[test]
fn wall_clock_headless_runs_verify_the_time_each_frame_was_drawn_at() {
    // A moving clock: the last frame's heights are checked against the time that frame was
    // given, not the time of the check (the animation moves between the two).
    for heights in ["cpu", "vulkan"] {
        let out = run_demo(&[
            "--headless",
            "--wall-clock",
            "--heights",
            heights,
            "--frames",
            "12",
            "--grid",
            "64x48",
            "--size",
            "64x64",
            "--verify",
            "--validation",
        ]);
        let err = stderr(&out);
        assert!(out.status.success(), "{heights}: {err}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("verify: frame 11,"), "{heights}: {stdout}");
        // No source here writes ahead, so every frame gets the wall clock exactly.
        assert!(
            err.contains("frames drawn off the clock by 0.000 ms (median), 0.000 ms (p99), 0.000 ms (worst)"),
            "{heights}: {err}"
        );
    }
}

#[test]
fn bad_command_lines_fail_cleanly() {
    for (args, needle) in [
        (&["--grid", "0x0"][..], "out of range"),
        (&["--grid", "banana"], "not WIDTHxHEIGHT"),
        (&["--grid", "-4x4"], "negative"),
        (&["--size", "99999999x10"], "out of range"),
        (&["--present-mode", "sometimes"], "possible values"),
        (&["--frames-in-flight", "0"], "1..=4"),
        (&["--time", "inf", "--headless"], "finite"),
        (&["--frames", "0", "--headless"], "invalid value '0' for '--frames <N>': 0 is not in 1.."),
        (&["--device", "99", "--headless"], "no such Vulkan device"),
        (&["--wall-clock"], "--headless"),
        (&["--headless", "--wall-clock", "--time-step", "0.1"], "cannot be used with"),
        (&["--headless", "--memory-owner", "hip", "--heights", "cpu"], "use --heights hip (not cpu)"),
        (&["--headless", "--memory-owner", "hip", "--heights", "vulkan"], "use --heights hip (not vulkan)"),
        (&["--headless", "--memory-owner", "cuda"], "possible values: vulkan, hip"),
    ] {
        let out = run_demo(args);
        assert_clean_failure(&out, needle);
    }
}

#[test]
fn a_grid_larger_than_gpu_memory_is_refused_before_allocating() {
    use hip_vulkan_sinewave::app::renderer::HEAP_SHARE_PERCENT;
    use hip_vulkan_sinewave::vulkan::{device, Device, DeviceSelection, Instance, InstanceOptions};
    // What this machine's device offers, asked the way the demo asks it.
    let heap = {
        let instance = std::sync::Arc::new(Instance::new(&InstanceOptions::default()).expect("Vulkan instance"));
        let physical = device::choose(&device::enumerate(&instance).expect("devices"), DeviceSelection::Best)
            .expect("a Vulkan device");
        Device::new(instance, physical, None).expect("device").largest_device_local_heap()
    };
    let needed = hip_vulkan_sinewave::app::grid::device_bytes(16384, 16384, 4);
    if needed <= heap / 100 * HEAP_SHARE_PERCENT {
        eprintln!(
            "skipped: this device's {} MiB heap holds even the largest grid the CLI accepts ({} MiB); \
             the refusal is unit-tested in renderer::tests",
            heap >> 20,
            needed >> 20
        );
        return;
    }
    let out = run_demo(&["--headless", "--grid", "16384x16384", "--frames-in-flight", "4", "--shading", "vertex"]);
    assert_clean_failure(
        &out,
        &format!("grid 16384x16384 with 4 height buffers needs {} MiB of GPU memory", needed >> 20),
    );
    assert!(stderr(&out).contains(&format!("has a {} MiB heap", heap >> 20)), "{}", stderr(&out));
    // Refused before allocating: no height buffer and no frame was made.
    assert!(!stderr(&out).contains("heights written by"), "{}", stderr(&out));
}

/// Runs the demo in a private mount namespace in which `libvulkan.so.1` (every copy the
/// dynamic loader knows of) is replaced by an empty file: the machine as it would be without
/// the Vulkan loader. Needs root or unprivileged user namespaces.
fn run_without_vulkan_loader() -> Option<std::process::Output> {
    let script = r#"
        set -e
        found=0
        for lib in $(ldconfig -p | awk '/libvulkan\.so\.1 /{print $NF}'); do
            mount --bind /dev/null "$(readlink -f "$lib")"; found=1
        done
        [ "$found" = 1 ] || { echo "no libvulkan.so.1 known to ldconfig" >&2; exit 99; }
        exec "$0" --headless
    "#;
    let bin = env!("CARGO_BIN_EXE_hip-vulkan-sinewave");
    let as_root = is_root();
    let mut cmd = std::process::Command::new("unshare");
    if as_root {
        cmd.arg("--mount");
    } else {
        cmd.args(["--map-root-user", "--mount"]);
    }
    let probe = std::process::Command::new("unshare").args(cmd.get_args()).arg("true").output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: cannot make a private mount namespace here (unshare {:?} failed)", cmd.get_args());
        return None;
    }
    Some(cmd.args(["sh", "-c", script, bin]).env("RUST_LOG", "info").output().expect("unshare runs"))
}

#[cfg(unix)]
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[cfg(not(unix))]
fn is_root() -> bool {
    false
}

#[test]
fn no_vulkan_loader_is_explained() {
    let Some(out) = run_without_vulkan_loader() else { return };
    assert_ne!(out.status.code(), Some(99), "{}", stderr(&out));
    assert_clean_failure(&out, "could not load the Vulkan loader (libvulkan.so.1)");
    assert!(stderr(&out).contains("apt install libvulkan1"), "names the package:\n{}", stderr(&out));
}

#[test]
fn no_vulkan_driver_is_explained() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hip-vulkan-sinewave"))
        .args(["--headless"])
        // An ICD list naming no file: the loader loads, but finds no driver.
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .env("VK_DRIVER_FILES", "/nonexistent/icd.json")
        .output()
        .expect("runs");
    assert_clean_failure(&out, "vkCreateInstance: no Vulkan 1.3 driver found (ERROR_INCOMPATIBLE_DRIVER)");
    assert!(stderr(&out).contains("mesa-vulkan-drivers"), "names the package:\n{}", stderr(&out));
}

/// A headless screenshot carries the overlay's panel unless `--no-overlay`; without it the
/// picture is the grid alone (the committed image-shading picture of the same scene).
#[test]
fn the_overlay_is_in_the_screenshot_unless_no_overlay() {
    use hip_vulkan_sinewave::app::renderer::target::RgbaImage;
    let dir = scratch_dir("overlay");
    let shot = |name: &str, extra: &[&str]| {
        let path = dir.join(name);
        let mut args = vec!["--headless", "--heights", "cpu", "--grid", "96x64", "--size", "320x200", "--time", "1"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--validation", "--screenshot", path.to_str().unwrap()]);
        let out = run_demo(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        RgbaImage::load_png(&path).expect("the screenshot")
    };
    let with = shot("with.png", &[]);
    let without = shot("without.png", &["--no-overlay"]);
    let differing = with.pixels.chunks_exact(4).zip(without.pixels.chunks_exact(4)).filter(|(a, b)| a != b).count();
    assert!(differing > 2000, "the overlay changed only {differing} pixels");
    let expected = RgbaImage::load_png(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/expected/offscreen_image_shading_320x200.png"
    )))
    .expect("committed picture");
    let off = without
        .pixels
        .chunks_exact(4)
        .zip(expected.pixels.chunks_exact(4))
        .filter(|(a, b)| a.iter().zip(b.iter()).any(|(x, y)| x.abs_diff(*y) > 12))
        .count();
    assert!(off <= 320, "--no-overlay: {off} pixels differ from the grid alone by more than 12");
}

/// `--switches`: the window's live switches, headless, each stage verified against the
/// CPU reference with the validation layer on. Without a HIP GPU the HIP writers are
/// skipped with the reason; every stage the switches reach is drawn and verified.
#[test]
fn headless_switches_verify_every_stage() {
    if let HipHere::Devices(n) = hip_here() {
        // The stages below are those of a machine where HIP cannot write; on a HIP GPU
        // `scripts/gpu-run.sh live` runs the HIP stages.
        eprintln!("skipped: HIP sees {n} GPU(s) here");
        return;
    }
    let out = run_demo(&[
        "--headless",
        "--heights",
        "vulkan",
        "--grid",
        "96x64",
        "--size",
        "320x200",
        "--frames",
        "3",
        "--time",
        "1",
        "--time-step",
        "0.01",
        "--verify",
        "--validation",
        "--switches",
        "h,h,s,1,4,2,g,h",
    ]);
    let err = stderr(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{err}");
    // Stage 0 and one stage per switch: nine stages, each verified (heights and normals).
    assert_eq!(stdout.matches(" heights, max abs error").count(), 9, "{stdout}");
    assert_eq!(stdout.matches("shading image (RGBA16F normals), max abs error").count(), 9, "{stdout}");
    for (stage, expected) in [
        (1, "stage 1: heights cpu, 2 frame(s) in flight, grid 96x64"),
        (2, "stage 2: heights vulkan compute, 2 frame(s) in flight, grid 96x64"),
        (4, "stage 4: heights vulkan compute, 1 frame(s) in flight, grid 96x64"),
        (5, "stage 5: heights vulkan compute, 4 frame(s) in flight, grid 96x64"),
        (7, "stage 7: heights vulkan compute, 2 frame(s) in flight, grid 128x128"),
        (8, "stage 8: heights cpu, 2 frame(s) in flight, grid 128x128"),
    ] {
        assert!(err.contains(expected), "stage {stage}: '{expected}' not logged:\n{err}");
    }
    assert!(err.contains("sync Binary noted, for when HIP writes the heights; nothing rebuilt"), "{err}");
    assert!(err.contains("validation: 0 errors, 0 warnings"), "{err}");
}

#[test]
fn a_switch_that_is_not_one_is_refused_by_name() {
    let out = run_demo(&["--headless", "--switches", "h,x"]);
    assert_clean_failure(&out, "'x' is not a switch: use h (heights), s (sync), 1-4 (frames in flight) or g (grid)");
}
