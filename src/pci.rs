//! A PCI address: how a HIP device and a Vulkan device are matched when their UUIDs differ
//! (AMD: HIP's UUID is the ASCII hex of ROCr's `GPU-…` unique id, derived from the GPU's
//! serial number on some GPUs, while RADV and AMDVLK derive theirs from the PCI address:
//! <https://github.com/ROCm/hipamd/issues/50>; ROCm/clr `rocclr/device/rocm/rocdevice.cpp`
//! copies the 16 characters after `GPU-`). Both layers
//! report it (`hipDeviceGetAttribute`'s PCI attributes, `VK_EXT_pci_bus_info`), so it lives
//! beneath both.

use std::fmt;

/// PCI domain, bus and device of a GPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PciAddress {
    /// PCI domain (0 on machines with one; ROCm < 6.0 does not report it).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_lspci() {
        assert_eq!(PciAddress { domain: 0, bus: 0x1b, device: 0 }.to_string(), "0000:1b:00");
    }
}
