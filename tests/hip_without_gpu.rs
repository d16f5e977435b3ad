//! The HIP path on a machine without a HIP GPU (CI): clear messages and non-zero exits,
//! never a panic; and the kernel that build.rs compiled.

mod common;
use common::*;

#[test]
fn missing_hip_runtime_is_explained() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hip-vulkan-sinewave"))
        .args(["--headless", "--heights", "hip"])
        .env("HIP_RUNTIME_LIBRARY", "/nonexistent/libamdhip64.so")
        .output()
        .expect("runs");
    assert_clean_failure(&out, "needs the HIP runtime");
    assert!(stderr(&out).contains("/nonexistent/libamdhip64.so"), "names what it tried:\n{}", stderr(&out));
}

#[test]
fn hip_heights_give_the_outcome_this_machine_must_give() {
    let out = run_demo(&["--headless", "--heights", "hip", "--grid", "64x64", "--frames", "2", "--verify"]);
    match hip_here() {
        HipHere::NoRuntime(why) => {
            assert_clean_failure(&out, "needs the HIP runtime");
            eprintln!("no HIP runtime here ({why}): checked the message for that case");
        }
        HipHere::NoDevice => {
            assert_clean_failure(&out, "HIP found no usable GPU");
            assert!(stderr(&out).contains("--heights vulkan"), "points to what does work:\n{}", stderr(&out));
        }
        HipHere::Devices(n) => {
            assert!(out.status.success(), "{n} HIP GPU(s) here, yet --heights hip failed:\n{}", stderr(&out));
            assert!(String::from_utf8_lossy(&out.stdout).contains("max abs error"), "{}", stderr(&out));
        }
    }
}

#[test]
fn kernel_files_that_are_not_code_objects_are_refused_before_hip_sees_them() {
    let dir = scratch_dir("kernels");
    let empty = dir.join("empty.co");
    let garbage = dir.join("garbage.co");
    std::fs::write(&empty, b"").unwrap();
    std::fs::write(&garbage, b"this is not a code object at all").unwrap();
    for (file, needle) in [(&empty, "empty"), (&garbage, "not a code object"), (&dir.join("missing.co"), "cannot read")]
    {
        let out = run_demo(&["--headless", "--heights", "hip", "--kernel", file.to_str().unwrap()]);
        assert_clean_failure(&out, needle);
    }
}

#[test]
fn the_built_kernel_covers_the_amd_targets() {
    let description = hip_vulkan_sinewave::hip::EMBEDDED_KERNEL_DESCRIPTION;
    let image = hip_vulkan_sinewave::hip::EMBEDDED_KERNEL;
    assert!(
        !image.is_empty(),
        "build.rs found no HIP toolchain ({description}); the tests need hipcc (apt install hipcc libamdhip64-dev)"
    );
    if description.starts_with("amdgcn") {
        let text = String::from_utf8_lossy(image);
        for arch in ["gfx90a", "gfx940", "gfx1030"] {
            assert!(text.contains(arch), "the AMD code object lacks {arch} ({description})");
        }
        assert!(text.contains("sinewave"), "the code object has no 'sinewave' symbol");
    }
}
