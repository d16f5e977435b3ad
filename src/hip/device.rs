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
}

impl fmt::Debug for Hip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hip").field("library", &self.api.path).finish()
    }
}

/// A PCI address, to match a HIP device with a Vulkan device
/// (`VK_EXT_pci_bus_info`) when their UUIDs differ (AMD).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PciAddress {
    /// PCI domain.
    pub domain: u32,
    /// PCI bus.
    pub bus: u32,
    /// PCI device.
    pub device: u32,
}

impl fmt::Display for PciAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04x}:{:02x}:{:02x}", self.domain, self.bus, self.device)
    }
}

/// What HIP reports about one device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// HIP device ordinal (what [`Hip::set_device`] takes).
    pub ordinal: i32,
    /// Marketing name (`hipDeviceGetName`).
    pub name: String,
    /// Device UUID (`hipDeviceGetUuid`). On NVIDIA it equals Vulkan's
    /// `deviceUUID`; on AMD it does not, match by [`DeviceInfo::pci`] there.
    pub uuid: [u8; 16],
    /// PCI domain/bus/device (`hipDeviceGetAttribute`).
    pub pci: PciAddress,
    /// HIP's compute capability (major, minor).
    pub compute_capability: (i32, i32),
    /// Architecture: `sm_XY` on NVIDIA; on AMD `amdgcn (cc X.Y)` — the exact
    /// `gfx` name is only in `hipDeviceProp_t`, whose layout changed between
    /// HIP 5 and 6, so it is not read.
    pub arch: String,
}

impl Hip {
    /// Loads the HIP runtime: `$HIP_RUNTIME_LIBRARY` if set, then
    /// `libamdhip64.so`, `libamdhip64.so.6`, `libamdhip64.so.5`.
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
        log::info!("HIP runtime loaded from {}", api.path.display());
        Ok(Hip { api: Arc::new(api) })
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
            domain: attr(ffi::HIP_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID)? as u32,
            bus: attr(ffi::HIP_DEVICE_ATTRIBUTE_PCI_BUS_ID)? as u32,
            device: attr(ffi::HIP_DEVICE_ATTRIBUTE_PCI_DEVICE_ID)? as u32,
        };
        let arch = if self.is_nvidia_shim() {
            format!("sm_{}{}", cc.0, cc.1)
        } else {
            format!("amdgcn (cc {}.{})", cc.0, cc.1)
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonexistent_library_is_a_clear_load_error() {
        let err = Hip::load_from(&[PathBuf::from("/nonexistent/dir/libamdhip64.so")])
            .expect_err("a nonexistent path cannot load");
        let text = err.to_string();
        assert!(text.contains("could not load a HIP runtime library"), "{text}");
        assert!(text.contains("/nonexistent/dir/libamdhip64.so"), "{text}");
        assert_eq!(err.tried(), vec![PathBuf::from("/nonexistent/dir/libamdhip64.so")]);
    }

    #[test]
    fn pci_address_formats_like_lspci() {
        let pci = PciAddress { domain: 0, bus: 0x1b, device: 0 };
        assert_eq!(pci.to_string(), "0000:1b:00");
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
