//! The HIP ABI the crate declares by hand (`src/hip/ffi.rs`: constants, enum values and
//! descriptor layouts) checked against sources outside that file:
//!
//! - the HIP headers installed on this machine (ROCm 5.2.3 from Debian 12 in CI: the test
//!   command installs `libamdhip64-dev`), through a small C program compiled and run here;
//! - for what those headers lack (the timeline semaphore handle type 9, the dedicated flag,
//!   the `reserved[16]` tails that arrived in HIP 6.0), the NVIDIA shim
//!   (`src/hip/nvidia/shim.cpp`), whose declarations `static_assert` against CUDA's own
//!   headers when nvcc builds it; this test checks that the shim declares the same values
//!   as `ffi.rs`.

use std::collections::HashMap;
use std::mem::{offset_of, size_of};
use std::path::{Path, PathBuf};
use std::process::Command;

use hip_vulkan_sinewave::hip::ffi;

/// Where the HIP headers are: `$ROCM_PATH/include`, `/opt/rocm/include`, `/usr/include`.
fn hip_include_dir() -> PathBuf {
    let candidates: Vec<PathBuf> = std::env::var_os("ROCM_PATH")
        .map(|p| PathBuf::from(p).join("include"))
        .into_iter()
        .chain([PathBuf::from("/opt/rocm/include"), PathBuf::from("/usr/include")])
        .collect();
    candidates.iter().find(|dir| dir.join("hip/hip_runtime_api.h").is_file()).cloned().unwrap_or_else(|| {
        panic!(
            "no HIP headers in {candidates:?}: this test checks ffi.rs against them \
             (scripts/test.sh installs them: apt install libamdhip64-dev)"
        )
    })
}

const PROBE: &str = r#"
#include <hip/hip_runtime_api.h>
#include <stddef.h>
#include <stdio.h>
#define V(name, expr) printf("%s %lld\n", name, (long long)(expr));
int main(void) {
    V("version", HIP_VERSION)
    V("hipSuccess", hipSuccess)
    V("hipErrorInvalidValue", hipErrorInvalidValue)
    V("hipErrorNoDevice", hipErrorNoDevice)
    V("hipErrorInvalidImage", hipErrorInvalidImage)
    V("hipErrorNoBinaryForGpu", hipErrorNoBinaryForGpu)
    V("hipErrorNotFound", hipErrorNotFound)
    V("hipErrorNotReady", hipErrorNotReady)
    V("hipErrorNotSupported", hipErrorNotSupported)
    V("hipDeviceAttributeComputeCapabilityMajor", hipDeviceAttributeComputeCapabilityMajor)
    V("hipDeviceAttributeComputeCapabilityMinor", hipDeviceAttributeComputeCapabilityMinor)
    V("hipDeviceAttributePciBusId", hipDeviceAttributePciBusId)
    V("hipDeviceAttributePciDeviceId", hipDeviceAttributePciDeviceId)
    V("hipDeviceAttributePciDomainID", hipDeviceAttributePciDomainID)
    V("hipStreamNonBlocking", hipStreamNonBlocking)
    V("hipEventDisableTiming", hipEventDisableTiming)
    V("hipMemcpyDeviceToHost", hipMemcpyDeviceToHost)
    V("hipMemcpyDeviceToDevice", hipMemcpyDeviceToDevice)
    V("hipExternalMemoryHandleTypeOpaqueFd", hipExternalMemoryHandleTypeOpaqueFd)
    V("hipExternalSemaphoreHandleTypeOpaqueFd", hipExternalSemaphoreHandleTypeOpaqueFd)
    V("sizeof hipUUID", sizeof(hipUUID))
    V("sizeof hipExternalMemoryHandleDesc", sizeof(hipExternalMemoryHandleDesc))
    V("hipExternalMemoryHandleDesc.type", offsetof(hipExternalMemoryHandleDesc, type))
    V("hipExternalMemoryHandleDesc.handle", offsetof(hipExternalMemoryHandleDesc, handle))
    V("hipExternalMemoryHandleDesc.size", offsetof(hipExternalMemoryHandleDesc, size))
    V("hipExternalMemoryHandleDesc.flags", offsetof(hipExternalMemoryHandleDesc, flags))
    V("sizeof hipExternalMemoryBufferDesc", sizeof(hipExternalMemoryBufferDesc))
    V("hipExternalMemoryBufferDesc.offset", offsetof(hipExternalMemoryBufferDesc, offset))
    V("hipExternalMemoryBufferDesc.size", offsetof(hipExternalMemoryBufferDesc, size))
    V("hipExternalMemoryBufferDesc.flags", offsetof(hipExternalMemoryBufferDesc, flags))
    V("sizeof hipExternalSemaphoreHandleDesc", sizeof(hipExternalSemaphoreHandleDesc))
    V("hipExternalSemaphoreHandleDesc.type", offsetof(hipExternalSemaphoreHandleDesc, type))
    V("hipExternalSemaphoreHandleDesc.handle", offsetof(hipExternalSemaphoreHandleDesc, handle))
    V("hipExternalSemaphoreHandleDesc.flags", offsetof(hipExternalSemaphoreHandleDesc, flags))
    V("sizeof hipExternalSemaphoreSignalParams", sizeof(hipExternalSemaphoreSignalParams))
    V("sizeof hipExternalSemaphoreWaitParams", sizeof(hipExternalSemaphoreWaitParams))
    V("hipExternalSemaphoreSignalParams.fence.value", offsetof(hipExternalSemaphoreSignalParams, params.fence.value))
    V("hipExternalSemaphoreWaitParams.fence.value", offsetof(hipExternalSemaphoreWaitParams, params.fence.value))
    V("hipExternalSemaphoreSignalParams.flags", offsetof(hipExternalSemaphoreSignalParams, flags))
    return 0;
}
"#;

/// Compiles and runs [`PROBE`] against the installed headers (once per test binary):
/// name → value.
fn header_values() -> &'static HashMap<String, i64> {
    static VALUES: std::sync::OnceLock<HashMap<String, i64>> = std::sync::OnceLock::new();
    VALUES.get_or_init(compile_and_run_probe)
}

fn compile_and_run_probe() -> HashMap<String, i64> {
    let include = hip_include_dir();
    let dir = std::env::temp_dir().join(format!("hvs-hip-abi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let (source, binary) = (dir.join("probe.c"), dir.join("probe"));
    std::fs::write(&source, PROBE).expect("write probe.c");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = Command::new(&cc)
        .arg("-D__HIP_PLATFORM_AMD__")
        .arg("-I")
        .arg(&include)
        .arg(&source)
        .arg("-o")
        .arg(&binary)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {cc}: {e} (apt install gcc)"));
    assert!(out.status.success(), "compiling the header probe failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(&binary).output().expect("the header probe runs");
    assert!(out.status.success());
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let (name, value) = line.rsplit_once(' ').expect("NAME VALUE");
            (name.to_string(), value.parse().expect("a number"))
        })
        .collect()
}

#[test]
fn constants_match_the_installed_hip_headers() {
    let header = header_values();
    let get = |name: &str| *header.get(name).unwrap_or_else(|| panic!("probe printed no {name}"));
    eprintln!("HIP headers in {}: HIP_VERSION {}", hip_include_dir().display(), get("version"));
    let ours: &[(&str, i64)] = &[
        ("hipSuccess", ffi::HIP_SUCCESS.into()),
        ("hipErrorInvalidValue", ffi::HIP_ERROR_INVALID_VALUE.into()),
        ("hipErrorNoDevice", ffi::HIP_ERROR_NO_DEVICE.into()),
        ("hipErrorInvalidImage", ffi::HIP_ERROR_INVALID_IMAGE.into()),
        ("hipErrorNoBinaryForGpu", ffi::HIP_ERROR_NO_BINARY_FOR_GPU.into()),
        ("hipErrorNotFound", ffi::HIP_ERROR_NOT_FOUND.into()),
        ("hipErrorNotReady", ffi::HIP_ERROR_NOT_READY.into()),
        ("hipErrorNotSupported", ffi::HIP_ERROR_NOT_SUPPORTED.into()),
        ("hipDeviceAttributeComputeCapabilityMajor", ffi::HIP_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR.into()),
        ("hipDeviceAttributeComputeCapabilityMinor", ffi::HIP_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR.into()),
        ("hipDeviceAttributePciBusId", ffi::HIP_DEVICE_ATTRIBUTE_PCI_BUS_ID.into()),
        ("hipDeviceAttributePciDeviceId", ffi::HIP_DEVICE_ATTRIBUTE_PCI_DEVICE_ID.into()),
        ("hipDeviceAttributePciDomainID", ffi::HIP_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID.into()),
        ("hipStreamNonBlocking", ffi::HIP_STREAM_NON_BLOCKING.into()),
        ("hipEventDisableTiming", ffi::HIP_EVENT_DISABLE_TIMING.into()),
        ("hipMemcpyDeviceToHost", ffi::HIP_MEMCPY_DEVICE_TO_HOST.into()),
        ("hipMemcpyDeviceToDevice", ffi::HIP_MEMCPY_DEVICE_TO_DEVICE.into()),
        ("hipExternalMemoryHandleTypeOpaqueFd", ffi::HIP_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD.into()),
        ("hipExternalSemaphoreHandleTypeOpaqueFd", ffi::HIP_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD.into()),
    ];
    for (name, value) in ours {
        assert_eq!(get(name), *value, "{name}: the HIP header says {}, ffi.rs says {value}", get(name));
    }
}

#[test]
fn descriptor_layouts_agree_with_the_installed_hip_headers() {
    let header = header_values();
    let get = |name: &str| *header.get(name).unwrap_or_else(|| panic!("probe printed no {name}")) as usize;
    assert_eq!(get("sizeof hipUUID"), size_of::<ffi::HipUuid>());
    // Every field the header has sits at the same offset in ours ...
    use ffi::{ExternalMemoryBufferDesc as B, ExternalMemoryHandleDesc as M, ExternalSemaphoreHandleDesc as S};
    for (field, ours) in [
        ("hipExternalMemoryHandleDesc.type", offset_of!(M, type_)),
        ("hipExternalMemoryHandleDesc.handle", offset_of!(M, handle)),
        ("hipExternalMemoryHandleDesc.size", offset_of!(M, size)),
        ("hipExternalMemoryHandleDesc.flags", offset_of!(M, flags)),
        ("hipExternalMemoryBufferDesc.offset", offset_of!(B, offset)),
        ("hipExternalMemoryBufferDesc.size", offset_of!(B, size)),
        ("hipExternalMemoryBufferDesc.flags", offset_of!(B, flags)),
        ("hipExternalSemaphoreHandleDesc.type", offset_of!(S, type_)),
        ("hipExternalSemaphoreHandleDesc.handle", offset_of!(S, handle)),
        ("hipExternalSemaphoreHandleDesc.flags", offset_of!(S, flags)),
        ("hipExternalSemaphoreSignalParams.fence.value", offset_of!(ffi::ExternalSemaphoreSignalWaitParams, params)),
        ("hipExternalSemaphoreWaitParams.fence.value", offset_of!(ffi::ExternalSemaphoreSignalWaitParams, params)),
    ] {
        assert_eq!(get(field), ours, "{field}: the HIP header puts it at {}, ffi.rs at {ours}", get(field));
    }
    // ... and ours is at least as large (HIP < 6 stops before the reserved tails; a runtime
    // reads only the size its own header declares, and the tail is zero).
    for (name, ours) in [
        ("sizeof hipExternalMemoryHandleDesc", size_of::<M>()),
        ("sizeof hipExternalMemoryBufferDesc", size_of::<B>()),
        ("sizeof hipExternalSemaphoreHandleDesc", size_of::<S>()),
        ("sizeof hipExternalSemaphoreSignalParams", size_of::<ffi::ExternalSemaphoreSignalWaitParams>()),
        ("sizeof hipExternalSemaphoreWaitParams", size_of::<ffi::ExternalSemaphoreSignalWaitParams>()),
    ] {
        assert!(get(name) <= ours, "{name}: the header's is {} bytes, ffi.rs's only {ours}", get(name));
    }
    // HIP < 6 puts the signal/wait `flags` inside what ffi.rs calls params' reserved tail:
    // the one-descriptor calls leave it zero there, as the header's layout expects.
    let flags = get("hipExternalSemaphoreSignalParams.flags");
    let reserved =
        offset_of!(ffi::ExternalSemaphoreSignalWaitParams, params) + offset_of!(ffi::ExternalSemaphoreParams, reserved);
    assert!(
        flags == offset_of!(ffi::ExternalSemaphoreSignalWaitParams, flags)
            || (reserved..reserved + 11 * 4).contains(&flags),
        "the header's signal flags at {flags} land on a field ffi.rs may set"
    );
}

/// `name = value` lines of the shim's enums, e.g. `hipErrorNoDevice = 100,`.
fn shim_values() -> HashMap<String, i64> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/hip/nvidia/shim.cpp");
    let text = std::fs::read_to_string(&path).expect("shim.cpp");
    text.lines()
        .filter_map(|line| {
            let (name, value) = line.trim().trim_end_matches(',').split_once(" = ")?;
            let name = name.trim();
            if !name.starts_with("hip") {
                return None;
            }
            Some((name.to_string(), value.trim().parse().ok()?))
        })
        .collect()
}

#[test]
fn the_nvidia_shim_declares_the_same_values_as_ffi_rs() {
    // The shim static_asserts these against CUDA's headers when nvcc builds it (the values
    // ROCm 5.2's headers do not have: timeline type 9 and the dedicated flag arrived with
    // HIP 6.0 / ROCm 5.5, equal to CUDA's).
    let shim = shim_values();
    let get = |name: &str| *shim.get(name).unwrap_or_else(|| panic!("shim.cpp declares no {name}"));
    for (name, ours) in [
        ("hipErrorNoDevice", i64::from(ffi::HIP_ERROR_NO_DEVICE)),
        ("hipErrorInvalidImage", ffi::HIP_ERROR_INVALID_IMAGE.into()),
        ("hipErrorNotReady", ffi::HIP_ERROR_NOT_READY.into()),
        ("hipErrorNotSupported", ffi::HIP_ERROR_NOT_SUPPORTED.into()),
        ("hipDeviceAttributePciDomainID", ffi::HIP_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID.into()),
        ("hipExternalMemoryHandleTypeOpaqueFd", ffi::HIP_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD.into()),
        ("hipExternalMemoryDedicated", ffi::HIP_EXTERNAL_MEMORY_DEDICATED.into()),
        ("hipExternalSemaphoreHandleTypeOpaqueFd", ffi::HIP_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD.into()),
        (
            "hipExternalSemaphoreHandleTypeTimelineSemaphoreFd",
            ffi::HIP_EXTERNAL_SEMAPHORE_HANDLE_TYPE_TIMELINE_FD.into(),
        ),
    ] {
        assert_eq!(get(name), ours, "{name}: shim.cpp says {}, ffi.rs says {ours}", get(name));
    }
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/hip/nvidia/shim.cpp"))
        .expect("shim.cpp");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for pinned in [
        "(int)hipExternalSemaphoreHandleTypeTimelineSemaphoreFd == (int)cudaExternalSemaphoreHandleTypeTimelineSemaphoreFd",
        "(int)hipExternalMemoryDedicated == (int)cudaExternalMemoryDedicated",
        "sizeof(hipExternalMemoryHandleDesc) == sizeof(cudaExternalMemoryHandleDesc)",
        "sizeof(hipExternalSemaphoreSignalWaitParams) == sizeof(cudaExternalSemaphoreSignalParams)",
    ] {
        assert!(text.contains(pinned), "shim.cpp no longer static_asserts {pinned}");
    }
}
