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
    assert_clean_failure(&out, "HIP needs its runtime library");
    assert!(stderr(&out).contains("/nonexistent/libamdhip64.so"), "names what it tried:\n{}", stderr(&out));
}

#[test]
fn hip_heights_give_the_outcome_this_machine_must_give() {
    let out = run_demo(&["--headless", "--heights", "hip", "--grid", "64x64", "--frames", "2", "--verify"]);
    match hip_here() {
        HipHere::NoRuntime(why) => {
            assert_clean_failure(&out, "HIP needs its runtime library");
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
fn the_built_kernel_covers_every_target_this_hipcc_builds() {
    use hip_vulkan_sinewave::app::code_object::validate;
    use hip_vulkan_sinewave::hip::{EMBEDDED_KERNEL, EMBEDDED_KERNEL_DESCRIPTION, KERNEL_NAME};
    assert!(
        !EMBEDDED_KERNEL.is_empty(),
        "build.rs found no HIP toolchain ({EMBEDDED_KERNEL_DESCRIPTION}); the tests need hipcc (scripts/test.sh installs it)"
    );
    let Some(listed) = EMBEDDED_KERNEL_DESCRIPTION.strip_prefix("amdgcn code object for ") else {
        eprintln!("skipped: the embedded kernel is not an AMD build ({EMBEDDED_KERNEL_DESCRIPTION})");
        return;
    };
    let listed: Vec<&str> = listed.split(' ').next().unwrap_or("").split(',').collect();
    let info = validate(EMBEDDED_KERNEL, KERNEL_NAME).expect("the embedded bundle validates");
    let mut in_bundle = info.amd_targets();
    in_bundle.sort();
    let mut expected = listed.clone();
    expected.sort();
    assert_eq!(in_bundle, expected, "the bundle holds exactly the targets build.rs says it built ({info})");
    // Debian 12's hipcc (ROCm 5.2, what CI installs) builds at least MI200 and RDNA2; it
    // knows no gfx942+ and lacks the device libraries for gfx11.
    for arch in ["gfx908", "gfx90a", "gfx1030"] {
        assert!(listed.contains(&arch), "{arch} missing: {EMBEDDED_KERNEL_DESCRIPTION}");
    }
    assert!(!listed.contains(&"gfx940"), "gfx940 (dropped by LLVM and ROCm 7) is not a default target");
    eprintln!("embedded: {EMBEDDED_KERNEL_DESCRIPTION}");
}

#[test]
fn hip_owned_memory_gives_the_outcome_this_machine_must_give() {
    let out = run_demo(&["--headless", "--memory-owner", "hip", "--grid", "64x64", "--frames", "2", "--verify"]);
    match hip_here() {
        HipHere::NoRuntime(why) => {
            assert_clean_failure(&out, "HIP needs its runtime library");
            assert!(stderr(&out).contains("--memory-owner hip"), "says which option needed HIP:\n{}", stderr(&out));
            eprintln!("no HIP runtime here ({why}): checked the message for that case");
        }
        HipHere::NoDevice => {
            // --memory-owner hip makes auto mean hip: no quiet fallback to the Vulkan shader.
            assert_clean_failure(&out, "HIP found no usable GPU");
            assert!(stderr(&out).contains("--memory-owner hip"), "says which option needed HIP:\n{}", stderr(&out));
        }
        HipHere::Devices(n) => {
            assert!(out.status.success(), "{n} HIP GPU(s) here, yet --memory-owner hip failed:\n{}", stderr(&out));
            assert!(stderr(&out).contains("allocated by HIP"), "{}", stderr(&out));
        }
    }
}

/// The version rule for HIP-owned memory, asked of the runtime actually installed: Debian
/// 12's ROCm 5.2 (CI) must be refused with a message that names its version and the one
/// that works; a runtime of 6.2 or newer (or the NVIDIA shim) must be accepted.
#[test]
fn the_installed_runtime_is_judged_by_its_version_for_hip_owned_memory() {
    let Ok(runtime) = hip_vulkan_sinewave::hip::Hip::load() else {
        eprintln!("skipped: no HIP runtime library here");
        return;
    };
    let version = runtime.runtime_version().expect("hipRuntimeGetVersion works without a GPU");
    let verdict = runtime.check_virtual_memory_export();
    if runtime.is_nvidia_shim() || version >= hip_vulkan_sinewave::hip::VIRTUAL_MEMORY_EXPORT_MIN_VERSION {
        assert!(verdict.is_ok(), "HIP {version} should be accepted: {verdict:?}");
    } else {
        let why = verdict.expect_err("an old runtime must be refused");
        let shown = format!("HIP {}.{} cannot", version / 10_000_000, version / 100_000 % 100);
        assert!(why.contains(&shown) && why.contains("6.2"), "{why}");
    }
}
