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
    V("hipExternalMemoryHandleTypeOpaqueWin32", hipExternalMemoryHandleTypeOpaqueWin32)
    V("hipExternalMemoryHandleTypeOpaqueWin32Kmt", hipExternalMemoryHandleTypeOpaqueWin32Kmt)
    V("hipExternalSemaphoreHandleTypeOpaqueWin32", hipExternalSemaphoreHandleTypeOpaqueWin32)
    V("hipExternalSemaphoreHandleTypeOpaqueWin32Kmt", hipExternalSemaphoreHandleTypeOpaqueWin32Kmt)
    V("hipMemHandleTypeWin32", hipMemHandleTypeWin32)
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
    V("hipStreamWaitValueGte", hipStreamWaitValueGte)
    V("hipChannelFormatKindFloat", hipChannelFormatKindFloat)
    V("hipArraySurfaceLoadStore", hipArraySurfaceLoadStore)
    V("hipResourceTypeArray", hipResourceTypeArray)
    V("sizeof hipChannelFormatDesc", sizeof(hipChannelFormatDesc))
    V("sizeof hipExtent", sizeof(hipExtent))
    V("sizeof hipResourceDesc", sizeof(hipResourceDesc))
    V("hipResourceDesc.res.array.array", offsetof(hipResourceDesc, res.array.array))
    V("hipMemHandleTypePosixFileDescriptor", hipMemHandleTypePosixFileDescriptor)
    V("hipMemAllocationTypePinned", hipMemAllocationTypePinned)
    V("hipMemLocationTypeDevice", hipMemLocationTypeDevice)
    V("hipMemAccessFlagsProtReadWrite", hipMemAccessFlagsProtReadWrite)
    V("hipMemAllocationGranularityMinimum", hipMemAllocationGranularityMinimum)
    V("sizeof hipMemLocation", sizeof(hipMemLocation))
    V("sizeof hipMemAccessDesc", sizeof(hipMemAccessDesc))
    V("hipMemAccessDesc.flags", offsetof(hipMemAccessDesc, flags))
    V("sizeof hipMemAllocationProp", sizeof(hipMemAllocationProp))
    V("hipMemAllocationProp.type", offsetof(hipMemAllocationProp, type))
    V("hipMemAllocationProp.location", offsetof(hipMemAllocationProp, location))
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
        ("hipExternalMemoryHandleTypeOpaqueWin32", ffi::HIP_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_WIN32.into()),
        ("hipExternalMemoryHandleTypeOpaqueWin32Kmt", ffi::HIP_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_WIN32_KMT.into()),
        ("hipExternalSemaphoreHandleTypeOpaqueWin32", ffi::HIP_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_WIN32.into()),
        (
            "hipExternalSemaphoreHandleTypeOpaqueWin32Kmt",
            ffi::HIP_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_WIN32_KMT.into(),
        ),
        ("hipMemHandleTypeWin32", ffi::HIP_MEM_HANDLE_TYPE_WIN32.into()),
        ("hipStreamWaitValueGte", ffi::HIP_STREAM_WAIT_VALUE_GTE.into()),
        ("hipChannelFormatKindFloat", ffi::HIP_CHANNEL_FORMAT_KIND_FLOAT.into()),
        ("hipArraySurfaceLoadStore", ffi::HIP_ARRAY_SURFACE_LOAD_STORE.into()),
        ("hipResourceTypeArray", ffi::HIP_RESOURCE_TYPE_ARRAY.into()),
        ("hipMemHandleTypePosixFileDescriptor", ffi::HIP_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR.into()),
        ("hipMemAllocationTypePinned", ffi::HIP_MEM_ALLOCATION_TYPE_PINNED.into()),
        ("hipMemLocationTypeDevice", ffi::HIP_MEM_LOCATION_TYPE_DEVICE.into()),
        ("hipMemAccessFlagsProtReadWrite", ffi::HIP_MEM_ACCESS_FLAGS_PROT_READ_WRITE.into()),
        ("hipMemAllocationGranularityMinimum", ffi::HIP_MEM_ALLOCATION_GRANULARITY_MINIMUM.into()),
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
    // The image descriptors (hipExternalMemoryMipmappedArrayDesc is not in HIP 5's header:
    // its layout is pinned by ffi.rs's unit test and the shim's static_asserts) ...
    assert_eq!(get("sizeof hipChannelFormatDesc"), size_of::<ffi::ChannelFormatDesc>());
    assert_eq!(get("sizeof hipExtent"), size_of::<ffi::Extent>());
    assert_eq!(get("sizeof hipResourceDesc"), size_of::<ffi::ResourceDesc>());
    assert_eq!(get("hipResourceDesc.res.array.array"), offset_of!(ffi::ResourceDesc, array));
    // The virtual memory descriptors: location and access the same in every HIP ...
    assert_eq!(get("sizeof hipMemLocation"), size_of::<ffi::MemLocation>());
    assert_eq!(get("sizeof hipMemAccessDesc"), size_of::<ffi::MemAccessDesc>());
    assert_eq!(get("hipMemAccessDesc.flags"), offset_of!(ffi::MemAccessDesc, flags));
    // ... and hipMemAllocationProp in CUDA's order from HIP 5.3 (ROCm/HIP d267eb7d): before,
    // `compressionType` came first and `location` sat at 4, which is why the runtime check
    // (hip::virtual_memory_export_supported) refuses HIP older than 6.2 before passing one.
    assert_eq!(get("sizeof hipMemAllocationProp"), size_of::<ffi::MemAllocationProp>());
    let version = header.get("version").copied().unwrap_or(0);
    let ours = (offset_of!(ffi::MemAllocationProp, type_), offset_of!(ffi::MemAllocationProp, location));
    let theirs = (get("hipMemAllocationProp.type"), get("hipMemAllocationProp.location"));
    if version >= 50_300_000 {
        assert_eq!(theirs, ours, "hipMemAllocationProp (type, location) offsets, HIP_VERSION {version}");
    } else {
        assert_ne!(theirs, ours, "HIP_VERSION {version} < 5.3 has the old hipMemAllocationProp order");
        assert!(
            hip_vulkan_sinewave::hip::virtual_memory_export_supported(false, Some(version as i32), true).is_err(),
            "a runtime with the old layout is refused"
        );
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
        ("hipChannelFormatKindFloat", ffi::HIP_CHANNEL_FORMAT_KIND_FLOAT.into()),
        ("hipArraySurfaceLoadStore", ffi::HIP_ARRAY_SURFACE_LOAD_STORE.into()),
        ("hipResourceTypeArray", ffi::HIP_RESOURCE_TYPE_ARRAY.into()),
        ("hipMemHandleTypePosixFileDescriptor", ffi::HIP_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR.into()),
        ("hipMemAllocationTypePinned", ffi::HIP_MEM_ALLOCATION_TYPE_PINNED.into()),
        ("hipMemLocationTypeDevice", ffi::HIP_MEM_LOCATION_TYPE_DEVICE.into()),
        ("hipMemAccessFlagsProtReadWrite", ffi::HIP_MEM_ACCESS_FLAGS_PROT_READ_WRITE.into()),
        ("hipMemAllocationGranularityMinimum", ffi::HIP_MEM_ALLOCATION_GRANULARITY_MINIMUM.into()),
        ("hipExternalSemaphoreHandleTypeOpaqueFd", ffi::HIP_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD.into()),
        (
            "hipExternalSemaphoreHandleTypeTimelineSemaphoreFd",
            ffi::HIP_EXTERNAL_SEMAPHORE_HANDLE_TYPE_TIMELINE_FD.into(),
        ),
        // The Windows handle types (the shim's `_WIN32` branches use them; 10 is not in
        // ROCm 5.2's header, so CUDA's, through the shim's static_assert, is the source).
        ("hipExternalMemoryHandleTypeOpaqueWin32", ffi::HIP_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_WIN32.into()),
        ("hipExternalMemoryHandleTypeOpaqueWin32Kmt", ffi::HIP_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_WIN32_KMT.into()),
        ("hipExternalSemaphoreHandleTypeOpaqueWin32", ffi::HIP_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_WIN32.into()),
        (
            "hipExternalSemaphoreHandleTypeOpaqueWin32Kmt",
            ffi::HIP_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_WIN32_KMT.into(),
        ),
        (
            "hipExternalSemaphoreHandleTypeTimelineSemaphoreWin32",
            ffi::HIP_EXTERNAL_SEMAPHORE_HANDLE_TYPE_TIMELINE_WIN32.into(),
        ),
        ("hipMemHandleTypeWin32", ffi::HIP_MEM_HANDLE_TYPE_WIN32.into()),
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
        "(int)hipMemHandleTypePosixFileDescriptor == (int)CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR",
        "sizeof(hipMemAllocationProp) == sizeof(CUmemAllocationProp)",
        "offsetof(hipMemAllocationProp, location) == offsetof(CUmemAllocationProp, location)",
        "offsetof(hipMemAllocationProp, allocFlags) == offsetof(CUmemAllocationProp, allocFlags)",
        "sizeof(hipMemAccessDesc) == sizeof(CUmemAccessDesc)",
        "offsetof(hipExternalMemoryMipmappedArrayDesc, extent) == offsetof(cudaExternalMemoryMipmappedArrayDesc, extent)",
        "offsetof(hipExternalMemoryMipmappedArrayDesc, numLevels) == offsetof(cudaExternalMemoryMipmappedArrayDesc, numLevels)",
        "offsetof(hipResourceDesc, res.array.array) == offsetof(cudaResourceDesc, res.array.array)",
    ] {
        assert!(text.contains(pinned), "shim.cpp no longer static_asserts {pinned}");
    }
}

/// Every entry point `ffi.rs` loads (its `hip_api!` and `hip_optional_api!` tables) is
/// defined by the NVIDIA shim: a missing one would make the shim fail to load (or lose the
/// optional group) only on the GPU machine.
#[test]
fn the_nvidia_shim_defines_every_entry_point_ffi_rs_loads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ffi_text = std::fs::read_to_string(root.join("src/hip/ffi.rs")).expect("ffi.rs");
    let shim = std::fs::read_to_string(root.join("src/hip/nvidia/shim.cpp")).expect("shim.cpp");
    let tables: Vec<&str> = ["hip_api! {", "hip_optional_api! {"]
        .iter()
        .flat_map(|start| ffi_text.match_indices(start).map(|(from, _)| from))
        .map(|from| {
            let rest = &ffi_text[from..];
            &rest[..rest.find("\n}\n").expect("table end")]
        })
        .collect();
    assert_eq!(tables.len(), 4, "the required table and the three optional groups");
    let names: Vec<&str> = tables
        .iter()
        .flat_map(|table| table.lines())
        .filter_map(|line| line.trim().strip_prefix("fn ")?.split('(').next())
        .collect();
    assert!(names.len() > 45, "found only {} entry points: {names:?}", names.len());
    let defined = |name: &str| {
        shim.split("HIP_SHIM_EXPORT").any(|def| def.split('(').next().is_some_and(|head| head.trim().ends_with(name)))
    };
    let missing: Vec<&&str> = names.iter().filter(|name| !defined(name)).collect();
    assert!(missing.is_empty(), "shim.cpp defines no {missing:?}");
}
