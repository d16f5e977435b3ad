//! [`Hip`]: the loaded runtime, and the devices it sees.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::{LoadError, Result};
use super::ffi::{self, Api};
use super::result;

/// The loaded HIP runtime. Cheap to clone (an `Arc` around the function table);
/// every HIP object keeps a clone so the library stays loaded while it lives.
#[derive(Clone)]
pub struct Hip {
    api: Arc<Api>,
    /// `hipRuntimeGetVersion` at load time (None if it failed): the version rules below.
    version: Option<i32>,
}

impl fmt::Debug for Hip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hip").field("library", &self.api.path).finish()
    }
}

pub use crate::pci::PciAddress;

/// What HIP reports about one device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// HIP device ordinal (what [`Hip::set_device`] takes).
    pub ordinal: i32,
    /// Marketing name (`hipDeviceGetName`).
    pub name: String,
    /// Device UUID (`hipDeviceGetUuid`). On NVIDIA it equals Vulkan's
    /// `deviceUUID` (measured on the H100, 2026-11); on AMD it does not
    /// (<https://github.com/ROCm/hipamd/issues/50>), match by [`DeviceInfo::pci`] there.
    pub uuid: [u8; 16],
    /// PCI domain/bus/device (`hipDeviceGetAttribute`).
    pub pci: PciAddress,
    /// HIP's compute capability (major, minor).
    pub compute_capability: (i32, i32),
    /// Architecture: `sm_XY` on NVIDIA; on AMD the `gfx` name from the KFD topology, else
    /// `amdgcn (cc X.Y)` — HIP has the `gfx` name only in `hipDeviceProp_t`, whose layout
    /// changed between HIP 5 and 6 (<https://github.com/ROCm/ROCm/issues/2728>), so it is not
    /// read.
    pub arch: String,
}

impl Hip {
    /// Loads the HIP runtime from the first of [`ffi::library_candidates`] that loads
    /// (`$HIP_RUNTIME_LIBRARY` alone if set; see [`ffi::library_candidates_from`]).
    ///
    /// The error lists every candidate with the loader's message and says how
    /// to install ROCm or use the NVIDIA shim.
    pub fn load() -> std::result::Result<Hip, LoadError> {
        Self::load_from(&ffi::library_candidates())
    }

    /// Loads the first of `candidates` (paths or sonames) that opens and
    /// exports every entry point [`ffi::Api`] needs.
    pub fn load_from(candidates: &[PathBuf]) -> std::result::Result<Hip, LoadError> {
        let api = ffi::load_first(candidates).map_err(|attempts| LoadError { attempts })?;
        let version = result::runtime_get_version(&api).ok();
        log::info!(
            "HIP runtime loaded from {} (version {})",
            api.path.display(),
            version.map_or("unknown".into(), |v| v.to_string())
        );
        Ok(Hip { api: Arc::new(api), version })
    }

    /// Whether this runtime can import Vulkan semaphores. The NVIDIA shim can (CUDA imports
    /// binary and timeline semaphores; measured on the H100). ROCm on Linux cannot: its
    /// binary import reaches `ShouldNotReachHere()` (an abort in runtimes built with
    /// assertions, `hipErrorNotSupported`/`InvalidValue` otherwise:
    /// <https://github.com/ROCm/clr/issues/72>, <https://github.com/ROCm/hipamd/issues/48>;
    /// ROCm/clr `rocclr/device/rocm/rocdevice.hpp`, `NullDevice::importExtSemaphore`) and the
    /// timeline type gives `hipErrorInvalidValue` (`hipamd/src/hip_memory.cpp` accepts types
    /// up to D3D12Fence only). ROCm's 2026 import and GPU-side signal/wait work is
    /// Windows-only, with Linux stubs (<https://github.com/ROCm/rocm-systems/pull/6021>,
    /// <https://github.com/ROCm/rocm-systems/pull/6632>). So on AMD/Linux nothing tries;
    /// revisit when a ROCm release implements the Linux path.
    ///
    /// AMD on Windows imports binary semaphores (`OpaqueWin32`, `OpaqueWin32Kmt`) but not
    /// timeline ones: `hipImportExternalSemaphore` accepts handle types 1–4 only, so the
    /// timeline types (9, 10) give `hipErrorInvalidValue` (ROCm/clr
    /// `hipamd/src/hip_memory.cpp`, since rocm-5.6.0). There `auto` passes over timeline
    /// when its import fails and takes binary (docs/ARCHITECTURE.md, entry 38; argued from
    /// the source, not run: no AMD GPU or Windows machine was available).
    pub fn imports_semaphores(&self) -> bool {
        semaphores_importable(self.is_nvidia_shim(), cfg!(target_os = "linux"))
    }

    /// Whether a mapped pointer retains its external-memory import, so that it is freed
    /// with `hipFree` before the import is destroyed. False on ROCm 5.0–5.4 (see
    /// `mapping_retains_import` in this file).
    pub fn mapped_buffers_hold_their_import(&self) -> bool {
        self.is_nvidia_shim() || self.version.is_none_or(mapping_retains_import)
    }

    /// Whether this runtime can allocate device memory that Vulkan imports
    /// ([`super::ExportableDeviceMemory`]); `Err` says why not.
    pub fn check_virtual_memory_export(&self) -> std::result::Result<(), String> {
        virtual_memory_export_supported(self.is_nvidia_shim(), self.version, self.api.virtual_memory.is_some())
    }

    /// Whether this runtime maps imported Vulkan images as arrays that kernels write
    /// through surface objects (the NVIDIA shim, over CUDA). ROCm's runtime does not export
    /// `hipExternalMemoryGetMappedMipmappedArray` on Linux (see `ffi::ImageInteropApi`);
    /// there HIP writes a buffer that Vulkan copies into the image.
    pub fn maps_images(&self) -> bool {
        self.api.image_interop.is_some()
    }

    /// Whether this runtime exports `hipStreamWaitValue32` (ROCm 4.2+, the NVIDIA shim).
    pub fn has_stream_wait_value(&self) -> bool {
        self.api.stream_mem_ops.is_some()
    }

    /// The function table, for the RAII types of this module.
    pub(crate) fn api(&self) -> &Api {
        &self.api
    }

    /// The path or soname the runtime was loaded from.
    pub fn library_path(&self) -> &Path {
        &self.api.path
    }

    /// Whether the loaded runtime is this project's HIP-on-CUDA shim.
    pub fn is_nvidia_shim(&self) -> bool {
        self.api.is_nvidia_shim
    }

    /// `hipRuntimeGetVersion`: HIP's version number on AMD, the CUDA
    /// runtime's (e.g. 13000) under the NVIDIA shim.
    pub fn runtime_version(&self) -> Result<i32> {
        result::runtime_get_version(self.api())
    }

    /// `hipDriverGetVersion`.
    pub fn driver_version(&self) -> Result<i32> {
        result::driver_get_version(self.api())
    }

    /// Number of HIP devices. With no GPU, HIP returns `hipErrorNoDevice`:
    /// the error is passed on ([`super::HipError::is_no_device`] tells it apart).
    pub fn device_count(&self) -> Result<i32> {
        result::get_device_count(self.api())
    }

    /// Every device HIP sees, in ordinal order.
    pub fn devices(&self) -> Result<Vec<DeviceInfo>> {
        (0..self.device_count()?).map(|i| self.device_info(i)).collect()
    }

    /// What HIP reports about device `ordinal`.
    pub fn device_info(&self, ordinal: i32) -> Result<DeviceInfo> {
        let api = self.api();
        let device = result::device_get(api, ordinal)?;
        let attr = |a| result::device_get_attribute(api, a, ordinal);
        let cc = (
            attr(ffi::HIP_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)?,
            attr(ffi::HIP_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)?,
        );
        let pci = PciAddress {
            domain: pci_domain_or_zero(attr(ffi::HIP_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID), ordinal)?,
            bus: attr(ffi::HIP_DEVICE_ATTRIBUTE_PCI_BUS_ID)? as u32,
            device: attr(ffi::HIP_DEVICE_ATTRIBUTE_PCI_DEVICE_ID)? as u32,
        };
        let arch = if self.is_nvidia_shim() {
            format!("sm_{}{}", cc.0, cc.1)
        } else {
            amd_gfx_name(pci).unwrap_or_else(|| format!("amdgcn (cc {}.{})", cc.0, cc.1))
        };
        Ok(DeviceInfo {
            ordinal,
            name: result::device_get_name(api, device)?,
            uuid: result::device_get_uuid(api, device)?,
            pci,
            compute_capability: cc,
            arch,
        })
    }

    /// `hipSetDevice`: makes `ordinal` the current device of the calling
    /// thread. Objects are created on the current device, so call this first
    /// on every thread that uses HIP.
    pub fn set_device(&self, ordinal: i32) -> Result<()> {
        result::set_device(self.api(), ordinal)
    }

    /// `hipDeviceSynchronize`: waits for all work on the current device.
    pub fn device_synchronize(&self) -> Result<()> {
        result::device_synchronize(self.api())
    }

    /// For `Drop` impls of objects queued work may still use: waits for the device, and
    /// logs (never panics) if that fails. HIP objects are not `Send`, so the current device
    /// of this thread is the one they were made on. This follows the API contract (CUDA's
    /// docs: outstanding signals and waits must complete before a semaphore is destroyed), not
    /// a driver bug; NVIDIA's compute-sanitizer found 0 hazards with it on the H100.
    pub(crate) fn synchronize_before_release(&self, what: &str) {
        if let Err(e) = self.device_synchronize() {
            log::warn!("before {what}: {e}");
        }
    }
}

/// The PCI domain from `hipDeviceGetAttribute(hipDeviceAttributePciDomainID)`. ROCm
/// implements that attribute from 6.0 (ROCm/clr 4d0aa65, `hipamd/src/hip_device_runtime.cpp`,
/// first tagged rocm-6.0.0); 5.x answers `hipErrorInvalidValue` from the switch's default
/// (source of Debian 12's 5.2.3 and of 5.7.0). Then the domain is taken
/// as 0, which is right on every machine with one PCI domain, and the log says so.
fn pci_domain_or_zero(answer: Result<i32>, ordinal: i32) -> Result<u32> {
    match answer {
        Ok(domain) => Ok(domain as u32),
        Err(e) if e.code == ffi::HIP_ERROR_INVALID_VALUE => {
            log::info!(
                "hip device {ordinal}: this runtime does not report the PCI domain (HIP < 6.0: {e}); assuming domain 0"
            );
            Ok(0)
        }
        Err(e) => Err(e),
    }
}

/// The `gfx…` name of the AMD GPU at `pci`, from the amdgpu driver's KFD topology
/// (`/sys/class/kfd/kfd/topology/nodes/*/properties`). HIP has it only in
/// `hipDeviceProp_t::gcnArchName`, whose offset changed between HIP 5 and 6 (396 before,
/// 1160 from 6.0: <https://github.com/llvm/llvm-project/pull/167695> reads both layouts).
fn amd_gfx_name(pci: PciAddress) -> Option<String> {
    let nodes = std::fs::read_dir("/sys/class/kfd/kfd/topology/nodes").ok()?;
    nodes
        .filter_map(|node| std::fs::read_to_string(node.ok()?.path().join("properties")).ok())
        .find_map(|properties| gfx_name_of_node(&properties, pci))
}

/// Reads one KFD node's `properties`: its `gfx_target_version` (major·10000 + minor·100 +
/// stepping, e.g. 90010) as a gfx name (`gfx90a`), if its `domain` and `location_id`
/// (bus << 8 | device << 3 | function) are `pci`'s.
fn gfx_name_of_node(properties: &str, pci: PciAddress) -> Option<String> {
    let field = |key: &str| {
        properties.lines().find_map(|line| {
            let (name, value) = line.split_once(' ')?;
            (name == key).then(|| value.trim().parse::<u64>().ok()).flatten()
        })
    };
    let (location, domain, version) =
        (field("location_id")?, field("domain").unwrap_or(0), field("gfx_target_version")?);
    if version == 0
        || domain != u64::from(pci.domain)
        || location >> 8 != u64::from(pci.bus)
        || (location >> 3) & 0x1f != u64::from(pci.device)
    {
        return None;
    }
    let (major, minor, stepping) = (version / 10000, version / 100 % 100, version % 100);
    Some(format!("gfx{major}{minor:x}{stepping:x}"))
}

/// Whether a runtime can import Vulkan semaphores: the NVIDIA shim (CUDA) everywhere,
/// AMD's runtime only off Linux (see [`Hip::imports_semaphores`]).
pub fn semaphores_importable(is_nvidia_shim: bool, on_linux: bool) -> bool {
    is_nvidia_shim || !on_linux
}

/// Whether a ROCm runtime of `version` (`HIP_VERSION`: major·10⁷ + minor·10⁵ + patch)
/// makes a mapped pointer retain its external-memory import. ROCm 5.0–5.4 do not, and
/// their `hipFree` of the pointer releases the import itself, so only
/// `hipDestroyExternalMemory` may be called there; 5.5 added the retain
/// (hipamd 84da7a9e, ROCclr 0f3bbd68).
pub fn mapping_retains_import(version: i32) -> bool {
    !(50_000_000..50_500_000).contains(&version)
}

/// ROCm's first version (`HIP_VERSION`) whose `hipMemExportToShareableHandle` hands out a
/// POSIX fd that another API can import (see docs/ARCHITECTURE.md, "Driver workarounds and
/// their evidence"): 6.2. Its `hipMemAllocationProp` has had CUDA's field order since 5.3.
pub const VIRTUAL_MEMORY_EXPORT_MIN_VERSION: i32 = 60_200_000;

/// Whether a runtime can allocate exportable device memory: the NVIDIA shim (CUDA's
/// `cuMemCreate`) and ROCm ≥ [`VIRTUAL_MEMORY_EXPORT_MIN_VERSION`], each only when the
/// library exports the whole virtual memory API. `Err` says why not, for the user.
pub fn virtual_memory_export_supported(
    is_nvidia_shim: bool,
    version: Option<i32>,
    has_api: bool,
) -> std::result::Result<(), String> {
    if !has_api {
        return Err("the HIP runtime does not export the virtual memory API (hipMemCreate, hipMemMap, ...)".into());
    }
    if is_nvidia_shim {
        return Ok(());
    }
    if cfg!(windows) {
        // ROCm/clr hipamd/src/hip_vm.cpp: hipMemCreate refuses every requested handle type
        // but none and the POSIX fd (docs/ARCHITECTURE.md, entry 38).
        return Err("ROCm on Windows cannot export its allocations: its hipMemCreate accepts no Win32 handle \
                    type; use --memory-owner vulkan"
            .into());
    }
    match version {
        Some(v) if v >= VIRTUAL_MEMORY_EXPORT_MIN_VERSION => Ok(()),
        Some(v) => Err(format!(
            "HIP {}.{} cannot export its allocations as file descriptors for Vulkan (HIP 6.2 or newer can; \
             HIP 5.2 and older also lay out hipMemAllocationProp differently)",
            v / 10_000_000,
            v / 100_000 % 100
        )),
        None => Err("the HIP runtime did not report its version (hipRuntimeGetVersion failed)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(not(windows))]
    fn virtual_memory_export_needs_the_api_and_hip_6_2_or_the_shim() {
        assert!(virtual_memory_export_supported(true, Some(13000), true).is_ok(), "CUDA 13 through the shim");
        assert!(virtual_memory_export_supported(false, Some(60_200_000), true).is_ok());
        assert!(virtual_memory_export_supported(false, Some(70_100_000), true).is_ok());
        let old = virtual_memory_export_supported(false, Some(50_223_153), true).unwrap_err();
        assert!(old.contains("HIP 5.2 cannot"), "{old}");
        assert!(virtual_memory_export_supported(false, Some(60_140_000), true).is_err(), "6.1");
        assert!(virtual_memory_export_supported(true, Some(13000), false).unwrap_err().contains("hipMemCreate"));
        assert!(virtual_memory_export_supported(false, None, true).is_err());
    }

    #[test]
    #[cfg(windows)]
    fn on_windows_only_the_shim_exports_hip_allocations() {
        assert!(virtual_memory_export_supported(true, Some(13000), true).is_ok(), "CUDA through the shim");
        let rocm = virtual_memory_export_supported(false, Some(70_100_000), true).unwrap_err();
        assert!(rocm.contains("ROCm on Windows") && rocm.contains("--memory-owner vulkan"), "{rocm}");
    }

    fn hip_error(code: i32) -> super::super::HipError {
        super::super::HipError {
            call: "hipDeviceGetAttribute",
            code,
            name: format!("code {code}"),
            message: String::new(),
        }
    }

    #[test]
    fn kfd_topology_names_the_gfx_target_of_the_gpu_at_a_pci_address() {
        // As the amdgpu driver writes it for an MI210 at 0000:c1:00.0 (excerpt).
        let mi210 = "cpu_cores_count 0\nsimd_count 416\ngfx_target_version 90010\nlocation_id 49408\ndomain 0\n";
        let at = |domain, bus, device| PciAddress { domain, bus, device };
        assert_eq!(gfx_name_of_node(mi210, at(0, 0xc1, 0)).as_deref(), Some("gfx90a"));
        assert_eq!(gfx_name_of_node(mi210, at(0, 0xc2, 0)), None, "another bus");
        assert_eq!(gfx_name_of_node(mi210, at(1, 0xc1, 0)), None, "another domain");
        let navi31 = "gfx_target_version 110000\nlocation_id 768\ndomain 0\n";
        assert_eq!(gfx_name_of_node(navi31, at(0, 3, 0)).as_deref(), Some("gfx1100"));
        let rx6800 = "gfx_target_version 100300\nlocation_id 2816\n";
        assert_eq!(gfx_name_of_node(rx6800, at(0, 0x0b, 0)).as_deref(), Some("gfx1030"));
        let cpu = "cpu_cores_count 16\ngfx_target_version 0\nlocation_id 0\ndomain 0\n";
        assert_eq!(gfx_name_of_node(cpu, at(0, 0, 0)), None, "the CPU node has no GPU target");
    }

    #[test]
    fn pci_domain_falls_back_to_zero_only_when_the_attribute_is_unsupported() {
        assert_eq!(pci_domain_or_zero(Ok(3), 0).unwrap(), 3);
        assert_eq!(pci_domain_or_zero(Err(hip_error(ffi::HIP_ERROR_INVALID_VALUE)), 0).unwrap(), 0);
        let other = pci_domain_or_zero(Err(hip_error(ffi::HIP_ERROR_NO_DEVICE)), 0).unwrap_err();
        assert_eq!(other.code, ffi::HIP_ERROR_NO_DEVICE, "any other failure is passed on");
    }

    #[test]
    fn semaphores_are_imported_through_cuda_and_never_by_rocm_on_linux() {
        assert!(semaphores_importable(true, true));
        assert!(!semaphores_importable(false, true), "AMD/Linux: host strategy, no import attempted");
        assert!(semaphores_importable(false, false), "AMD on Windows may import");
    }

    #[test]
    fn rocm_5_0_to_5_4_mappings_do_not_hold_their_import() {
        assert!(!mapping_retains_import(50_221_153), "Debian 12's 5.2.3");
        assert!(!mapping_retains_import(50_000_000));
        assert!(!mapping_retains_import(50_499_999));
        assert!(mapping_retains_import(50_500_000), "5.5");
        assert!(mapping_retains_import(50_731_921), "Ubuntu 24.04's 5.7.1");
        assert!(mapping_retains_import(60_443_483), "6.4");
        assert!(mapping_retains_import(70_000_000), "7.0");
    }

    #[test]
    fn nonexistent_library_is_a_clear_load_error() {
        let err = Hip::load_from(&[PathBuf::from("/nonexistent/dir/libamdhip64.so")])
            .expect_err("a nonexistent path cannot load");
        let text = err.to_string();
        assert!(text.contains("could not load a HIP runtime library"), "{text}");
        assert!(text.contains("/nonexistent/dir/libamdhip64.so"), "{text}");
        assert_eq!(err.tried(), vec![PathBuf::from("/nonexistent/dir/libamdhip64.so")]);
    }

    /// On this project's CI machine (Debian 12, libamdhip64 5.2, no GPU) the
    /// runtime loads and reports no device. Elsewhere: with a GPU it lists
    /// devices; with no HIP runtime at all the load error must be the clear one.
    #[test]
    fn load_here_reports_devices_or_no_device_clearly() {
        let hip = match Hip::load() {
            Ok(hip) => hip,
            Err(e) => {
                let text = e.to_string();
                assert!(text.contains("could not load a HIP runtime library"), "{text}");
                return;
            }
        };
        match hip.devices() {
            Ok(devices) => {
                for d in &devices {
                    assert!(!d.name.is_empty());
                }
            }
            Err(e) => {
                assert!(e.is_no_device(), "unexpected error: {e}");
                let text = e.to_string();
                assert!(text.starts_with("hipGetDeviceCount failed: hipErrorNoDevice"), "{text}");
            }
        }
    }
}
