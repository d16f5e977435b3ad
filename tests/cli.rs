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
    let decoder = png::Decoder::new(std::fs::File::open(&path).expect("PNG written"));
    let mut reader = decoder.read_info().expect("valid PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
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
fn bad_command_lines_fail_cleanly() {
    for (args, needle) in [
        (&["--grid", "0x0"][..], "out of range"),
        (&["--grid", "banana"], "not WIDTHxHEIGHT"),
        (&["--grid", "-4x4"], "negative"),
        (&["--size", "99999999x10"], "out of range"),
        (&["--present-mode", "sometimes"], "possible values"),
        (&["--frames-in-flight", "0"], "1..=4"),
        (&["--time", "inf", "--headless"], "finite"),
        (&["--device", "99", "--headless"], "no such Vulkan device"),
    ] {
        let out = run_demo(args);
        assert_clean_failure(&out, needle);
    }
}

#[test]
fn a_grid_larger_than_gpu_memory_is_refused_before_allocating() {
    let out = run_demo(&["--headless", "--grid", "16384x16384", "--frames-in-flight", "4"]);
    // lavapipe's heap is the machine's RAM; 16384² × (8 + 8 + 16) bytes ≈ 8.6 GiB may fit
    // on a big machine, so accept either a clean refusal or a clean success.
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    if !out.status.success() {
        assert!(
            err.contains("needs") && err.contains("MiB of GPU memory") || err.contains("out of GPU memory"),
            "{err}"
        );
    }
}

#[test]
fn no_vulkan_loader_is_explained() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hip-vulkan-sinewave"))
        .args(["--headless"])
        // An ICD list naming no file: the loader finds no driver.
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .env("VK_DRIVER_FILES", "/nonexistent/icd.json")
        .output()
        .expect("runs");
    let err = stderr(&out);
    assert!(!out.status.success() && !err.contains("panicked"), "{err}");
    assert!(err.contains("Vulkan") || err.contains("vulkan"), "{err}");
}
