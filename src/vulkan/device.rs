//! Physical device choice and the logical device with its one queue.
//!
//! The demo uses one queue (graphics + compute + transfer) for everything: the
//! interesting concurrency is between Vulkan and HIP, not between Vulkan queues.

use std::ffi::CStr;
use std::fmt;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use ash::vk;

use super::instance::{version_string, Instance, REQUIRED_API_VERSION};

use super::external::{ExternalFns, MEMORY_EXTENSION, SEMAPHORE_EXTENSION};

pub use crate::pci::PciAddress;

/// What the log and the device choice need to know about one physical device.
#[derive(Clone, Debug)]
pub struct PhysicalDeviceInfo {
    /// Index in `vkEnumeratePhysicalDevices` order (what `--device` takes).
    pub index: usize,
    /// The handle (valid while the instance lives).
    pub raw: vk::PhysicalDevice,
    /// `deviceName`.
    pub name: String,
    /// Discrete, integrated, virtual or CPU.
    pub kind: vk::PhysicalDeviceType,
    /// The Vulkan version the driver supports.
    pub api_version: u32,
    /// Driver name and version, as the driver reports them.
    pub driver: String,
    /// `deviceUUID` (equals CUDA's device UUID on NVIDIA: measured on the H100, 2026-11).
    pub uuid: [u8; 16],
    /// PCI address, with `VK_EXT_pci_bus_info`.
    pub pci: Option<PciAddress>,
    /// What the demo needs that this device lacks (empty: usable).
    pub missing_extensions: Vec<String>,
    /// This system's memory export extension is available (`VK_KHR_external_memory_fd` on
    /// Linux, `_win32` on Windows; see [`super::external`]). Without it the demo renders
    /// with plain memory, and HIP cannot write the heights.
    pub has_external_memory: bool,
    /// This system's semaphore export extension is available.
    pub has_external_semaphore: bool,
    /// `VK_EXT_pci_bus_info` is available.
    pub has_pci_bus_info: bool,
    /// `VK_EXT_memory_budget`: the process's use of each heap can be read.
    pub has_memory_budget: bool,
    /// `VK_EXT_external_memory_dma_buf`: memory can be imported from a Linux dma-buf fd
    /// (what ROCm's `hipMemExportToShareableHandle` returns).
    pub has_dma_buf_import: bool,
}

impl PhysicalDeviceInfo {
    fn query(instance: &Instance, index: usize, raw: vk::PhysicalDevice) -> Result<Self> {
        // SAFETY: `raw` was enumerated from this instance.
        let extensions = unsafe { instance.raw().enumerate_device_extension_properties(raw) }
            .context("vkEnumerateDeviceExtensionProperties failed")?;
        let has = |name: &CStr| extensions.iter().any(|e| e.extension_name_as_c_str().is_ok_and(|n| n == name));
        let has_pci_bus_info = has(ash::ext::pci_bus_info::NAME);

        let mut id = vk::PhysicalDeviceIDProperties::default();
        let mut driver = vk::PhysicalDeviceDriverProperties::default();
        let mut pci = vk::PhysicalDevicePCIBusInfoPropertiesEXT::default();
        let mut props = vk::PhysicalDeviceProperties2::default().push_next(&mut id).push_next(&mut driver);
        if has_pci_bus_info {
            props = props.push_next(&mut pci);
        }
        // SAFETY: `raw` belongs to this instance (Vulkan 1.1+ core query); the chain only
        // holds structures the device supports.
        unsafe { instance.raw().get_physical_device_properties2(raw, &mut props) };
        let p = props.properties;
        let name = p.device_name_as_c_str().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let driver_name = driver.driver_info_as_c_str().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();

        let mut missing: Vec<String> = Vec::new();
        if p.api_version < REQUIRED_API_VERSION {
            missing.push(format!("Vulkan 1.3 (device has {})", version_string(p.api_version)));
        }
        Ok(Self {
            index,
            raw,
            name,
            kind: p.device_type,
            api_version: p.api_version,
            driver: driver_name,
            uuid: id.device_uuid,
            pci: has_pci_bus_info.then_some(PciAddress {
                domain: pci.pci_domain,
                bus: pci.pci_bus,
                device: pci.pci_device,
            }),
            missing_extensions: missing,
            has_external_memory: has(MEMORY_EXTENSION),
            has_external_semaphore: has(SEMAPHORE_EXTENSION),
            has_pci_bus_info,
            has_memory_budget: has(ash::ext::memory_budget::NAME),
            // A dma-buf import is an fd import: it needs the fd extension too (Linux only).
            has_dma_buf_import: has(ash::ext::external_memory_dma_buf::NAME) && has(MEMORY_EXTENSION),
        })
    }

    /// Preference among usable devices: discrete GPUs first, the CPU last.
    fn rank(&self) -> u32 {
        match self.kind {
            vk::PhysicalDeviceType::DISCRETE_GPU => 4,
            vk::PhysicalDeviceType::INTEGRATED_GPU => 3,
            vk::PhysicalDeviceType::VIRTUAL_GPU => 2,
            vk::PhysicalDeviceType::CPU => 1,
            _ => 0,
        }
    }
}

impl fmt::Display for PhysicalDeviceInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} {} ({:?}, Vulkan {}, {}",
            self.index,
            self.name,
            self.kind,
            version_string(self.api_version),
            self.driver
        )?;
        write!(f, ", uuid {}", uuid_string(&self.uuid))?;
        if let Some(pci) = self.pci {
            write!(f, ", pci {pci}")?;
        }
        write!(f, ")")
    }
}

/// Formats a 16-byte UUID the usual way (8-4-4-4-12 hex digits).
pub fn uuid_string(u: &[u8; 16]) -> String {
    let hex: String = u.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// How to pick the physical device.
#[derive(Clone, Copy, Debug, Default)]
pub enum DeviceSelection {
    /// The best usable device (discrete before integrated before CPU).
    #[default]
    Best,
    /// This index of the enumeration (`--device N`).
    Index(usize),
    /// The device with this identity (the HIP device): UUID first, PCI address second.
    Identity {
        /// Vulkan `deviceUUID` to match (HIP's device UUID).
        uuid: [u8; 16],
        /// PCI address to match when no UUID does (AMD: <https://github.com/ROCm/hipamd/issues/50>).
        pci: Option<PciAddress>,
    },
}

impl fmt::Display for DeviceSelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSelection::Best => write!(f, "the best device with what the demo needs"),
            DeviceSelection::Index(i) => write!(f, "--device {i}"),
            DeviceSelection::Identity { uuid, pci } => {
                write!(f, "the HIP device: uuid {}", uuid_string(uuid))?;
                match pci {
                    Some(p) => write!(f, ", else pci {p}"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// Lists the physical devices with what the demo needs to know of each.
pub fn enumerate(instance: &Instance) -> Result<Vec<PhysicalDeviceInfo>> {
    // SAFETY: the instance is alive.
    let devices =
        unsafe { instance.raw().enumerate_physical_devices() }.context("vkEnumeratePhysicalDevices failed")?;
    devices.into_iter().enumerate().map(|(i, d)| PhysicalDeviceInfo::query(instance, i, d)).collect()
}

/// Picks a device from `candidates` (already filtered for a surface when windowed).
pub fn choose(candidates: &[PhysicalDeviceInfo], selection: DeviceSelection) -> Result<PhysicalDeviceInfo> {
    let list = || candidates.iter().map(|d| format!("  {d}")).collect::<Vec<_>>().join("\n");
    if candidates.is_empty() {
        bail!("no Vulkan device found: install a Vulkan driver (for a CPU device: mesa-vulkan-drivers)");
    }
    let usable = |d: &PhysicalDeviceInfo| -> Result<()> {
        if d.missing_extensions.is_empty() {
            Ok(())
        } else {
            Err(anyhow!("Vulkan device {} lacks {}", d, d.missing_extensions.join(", ")))
        }
    };
    let chosen = match selection {
        DeviceSelection::Index(i) => {
            let d = candidates
                .iter()
                .find(|d| d.index == i)
                .ok_or_else(|| anyhow!("--device {i}: there is no such Vulkan device; the devices are:\n{}", list()))?;
            usable(d)?;
            d
        }
        DeviceSelection::Identity { uuid, pci } => {
            let by_uuid = candidates.iter().find(|d| d.uuid == uuid);
            let by_pci = || candidates.iter().find(|d| pci.is_some() && d.pci == pci);
            let d = by_uuid.or_else(by_pci).ok_or_else(|| {
                anyhow!(
                    "no Vulkan device is the HIP device (uuid {}, pci {}); the Vulkan devices are:\n{}\n\
                     pick one with --device N if you know they are the same GPU",
                    uuid_string(&uuid),
                    pci.map_or("unknown".into(), |p| p.to_string()),
                    list()
                )
            })?;
            usable(d)?;
            d
        }
        DeviceSelection::Best => candidates
            .iter()
            .filter(|d| usable(d).is_ok())
            .max_by_key(|d| (d.rank(), d.has_external_memory, std::cmp::Reverse(d.index)))
            .ok_or_else(|| {
                anyhow!("no Vulkan device has what the demo needs:\n{}", {
                    candidates
                        .iter()
                        .map(|d| format!("  {d}: lacks {}", d.missing_extensions.join(", ")))
                        .collect::<Vec<_>>()
                        .join("\n")
                })
            })?,
    };
    Ok(chosen.clone())
}

/// The logical device, its queue and the extension function tables the demo uses.
/// Every Vulkan object the demo creates keeps an `Arc<Device>`, so the device (and the
/// instance it holds) outlives them all.
pub struct Device {
    instance: Arc<Instance>,
    /// What the physical device is.
    pub physical: PhysicalDeviceInfo,
    raw: ash::Device,
    /// The family of the one queue (graphics and compute, and present when asked).
    pub queue_family: u32,
    /// The one queue, behind a lock: Vulkan requires submissions, presents and
    /// `vkDeviceWaitIdle` to be externally synchronised ([`Device::queue`]).
    queue: std::sync::Mutex<vk::Queue>,
    /// Memory types and heaps.
    pub memory_properties: vk::PhysicalDeviceMemoryProperties,
    /// Device limits.
    pub limits: vk::PhysicalDeviceLimits,
    /// Memory and semaphore export, for the extensions this device has.
    pub external: ExternalFns,
    /// `VK_KHR_swapchain` functions, when the device was made for a surface.
    pub swapchain_ext: Option<ash::khr::swapchain::Device>,
    /// `fillModeNonSolid` is enabled: wireframe drawing is possible.
    pub wireframe_supported: bool,
    /// Counts this object in the live-object registry (leak tests).
    _live: crate::vulkan::live::Tracked,
}

impl Device {
    /// The device-level function table (valid while `self` lives).
    pub fn raw(&self) -> &ash::Device {
        &self.raw
    }

    /// The instance this device belongs to (kept alive by it).
    pub fn instance(&self) -> &Arc<Instance> {
        &self.instance
    }

    /// The queue, locked: hold the guard across `vkQueueSubmit2` / `vkQueuePresentKHR`
    /// (external synchronisation, which [`Device::wait_idle`] also takes).
    pub fn queue(&self) -> std::sync::MutexGuard<'_, vk::Queue> {
        // A panic while holding the lock leaves the queue handle itself intact.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates the logical device on `physical`, with a queue family that can do
    /// graphics and compute (and present to `surface` when given).
    pub fn new(
        instance: Arc<Instance>,
        physical: PhysicalDeviceInfo,
        surface: Option<vk::SurfaceKHR>,
    ) -> Result<Arc<Self>> {
        let _live = crate::vulkan::live::Tracked::new("Device")?;
        let pd = physical.raw;
        // SAFETY: pd belongs to this instance.
        let families = unsafe { instance.raw().get_physical_device_queue_family_properties(pd) };
        let needed = vk::QueueFlags::GRAPHICS | vk::QueueFlags::COMPUTE;
        let mut queue_family = None;
        for (i, f) in families.iter().enumerate() {
            let i = i as u32;
            if !f.queue_flags.contains(needed) {
                continue;
            }
            if let (Some(surface), Some(ext)) = (surface, instance.surface_ext.as_ref()) {
                // SAFETY: surface and pd come from this instance.
                let ok = unsafe { ext.get_physical_device_surface_support(pd, i, surface) }
                    .context("vkGetPhysicalDeviceSurfaceSupportKHR failed")?;
                if !ok {
                    continue;
                }
            }
            queue_family = Some(i);
            break;
        }
        let queue_family = queue_family.ok_or_else(|| {
            anyhow!(
                "Vulkan device {} has no queue family for graphics + compute{}",
                physical.name,
                if surface.is_some() { " that can present to the window" } else { "" }
            )
        })?;

        // SAFETY: pd belongs to this instance.
        let features = unsafe { instance.raw().get_physical_device_features(pd) };
        let mut f12 = vk::PhysicalDeviceVulkan12Features::default();
        let mut f13 = vk::PhysicalDeviceVulkan13Features::default();
        let mut query = vk::PhysicalDeviceFeatures2::default().push_next(&mut f12).push_next(&mut f13);
        // SAFETY: Vulkan 1.3 device (checked in choose); the chain holds core structures.
        unsafe { instance.raw().get_physical_device_features2(pd, &mut query) };
        for (ok, what) in [
            (f12.timeline_semaphore, "timelineSemaphore"),
            (f13.synchronization2, "synchronization2"),
            (f13.dynamic_rendering, "dynamicRendering"),
            (f13.maintenance4, "maintenance4"),
        ] {
            if ok == vk::FALSE {
                bail!("Vulkan device {} lacks the {what} feature", physical.name);
            }
        }
        let wireframe_supported = features.fill_mode_non_solid == vk::TRUE;

        let mut extensions: Vec<*const std::ffi::c_char> = Vec::new();
        if physical.has_external_memory {
            extensions.push(MEMORY_EXTENSION.as_ptr());
        } else {
            log::warn!(
                "{} lacks {}: its memory cannot be exported, so HIP cannot write the heights; \
                 the CPU and Vulkan height sources still run, with plain height buffers",
                physical.name,
                MEMORY_EXTENSION.to_string_lossy()
            );
        }
        if physical.has_memory_budget {
            extensions.push(ash::ext::memory_budget::NAME.as_ptr());
        }
        if physical.has_external_semaphore {
            extensions.push(SEMAPHORE_EXTENSION.as_ptr());
        }
        if physical.has_dma_buf_import {
            extensions.push(ash::ext::external_memory_dma_buf::NAME.as_ptr());
        }
        if surface.is_some() {
            extensions.push(ash::khr::swapchain::NAME.as_ptr());
        }
        let priorities = [1.0];
        let queue_info =
            [vk::DeviceQueueCreateInfo::default().queue_family_index(queue_family).queue_priorities(&priorities)];
        let enabled = vk::PhysicalDeviceFeatures::default().fill_mode_non_solid(wireframe_supported);
        let mut e12 = vk::PhysicalDeviceVulkan12Features::default().timeline_semaphore(true);
        // maintenance4 (required of every Vulkan 1.3 device) relaxes interface matching: grid.vert
        // writes the grid coordinate that only grid_image.frag reads.
        let mut e13 = vk::PhysicalDeviceVulkan13Features::default()
            .synchronization2(true)
            .dynamic_rendering(true)
            .maintenance4(true);
        let info = vk::DeviceCreateInfo::default()
            .queue_create_infos(&queue_info)
            .enabled_extension_names(&extensions)
            .enabled_features(&enabled)
            .push_next(&mut e12)
            .push_next(&mut e13);
        // SAFETY: info and what it points to live until the call returns; the features
        // and extensions were checked above.
        let raw = unsafe { instance.raw().create_device(pd, &info, None) }
            .with_context(|| format!("vkCreateDevice failed on {}", physical.name))?;
        // SAFETY: queue 0 of queue_family was requested above.
        let queue = unsafe { raw.get_device_queue(queue_family, 0) };
        // SAFETY: pd belongs to this instance.
        let memory_properties = unsafe { instance.raw().get_physical_device_memory_properties(pd) };
        // SAFETY: pd belongs to this instance.
        let limits = unsafe { instance.raw().get_physical_device_properties(pd) }.limits;

        let external =
            ExternalFns::load(instance.raw(), &raw, physical.has_external_memory, physical.has_external_semaphore);
        let swapchain_ext = surface.is_some().then(|| ash::khr::swapchain::Device::new(instance.raw(), &raw));
        Ok(Arc::new(Self {
            _live,
            instance,
            physical,
            raw,
            queue_family,
            queue: std::sync::Mutex::new(queue),
            memory_properties,
            limits,
            external,
            swapchain_ext,
            wireframe_supported,
        }))
    }

    /// Index of a memory type allowed by `type_bits` with all of `flags`.
    pub fn memory_type(&self, type_bits: u32, flags: vk::MemoryPropertyFlags) -> Result<u32> {
        let props = &self.memory_properties;
        (0..props.memory_type_count)
            .find(|&i| type_bits & (1 << i) != 0 && props.memory_types[i as usize].property_flags.contains(flags))
            .ok_or_else(|| {
                anyhow!("{} has no memory type with {flags:?} (allowed types {type_bits:#b})", self.physical.name)
            })
    }

    /// Bytes this process uses of device-local heaps (`VK_EXT_memory_budget`), if known.
    pub fn device_local_usage(&self) -> Option<u64> {
        if !self.physical.has_memory_budget {
            return None;
        }
        let mut budget = vk::PhysicalDeviceMemoryBudgetPropertiesEXT::default();
        let mut props = vk::PhysicalDeviceMemoryProperties2::default().push_next(&mut budget);
        // SAFETY: the extension is enabled; the chain holds its structure.
        unsafe { self.instance.raw().get_physical_device_memory_properties2(self.physical.raw, &mut props) };
        let heaps = &props.memory_properties.memory_heaps[..props.memory_properties.memory_heap_count as usize];
        Some(
            heaps
                .iter()
                .zip(budget.heap_usage.iter())
                .filter(|(h, _)| h.flags.contains(vk::MemoryHeapFlags::DEVICE_LOCAL))
                .map(|(_, used)| *used)
                .sum(),
        )
    }

    /// Size of the largest device-local heap, to refuse grids that cannot fit.
    pub fn largest_device_local_heap(&self) -> u64 {
        let p = &self.memory_properties;
        p.memory_heaps[..p.memory_heap_count as usize]
            .iter()
            .filter(|h| h.flags.contains(vk::MemoryHeapFlags::DEVICE_LOCAL))
            .map(|h| h.size)
            .max()
            .unwrap_or(0)
    }

    /// Waits until the queue has finished everything submitted so far.
    /// For `Drop` impls of objects the GPU may still use: waits for the device, and logs
    /// (never panics) if that fails.
    pub(crate) fn wait_idle_before_release(&self, what: &str) {
        if let Err(e) = self.wait_idle() {
            log::warn!("before destroying {what}: {e:#}");
        }
    }

    /// `vkDeviceWaitIdle`: returns once the GPU has finished every submitted command.
    pub fn wait_idle(&self) -> Result<()> {
        let _queue = self.queue();
        // SAFETY: the device is alive; the queue lock keeps other threads from submitting
        // meanwhile (the external synchronisation vkDeviceWaitIdle requires).
        unsafe { self.raw.device_wait_idle() }.context("vkDeviceWaitIdle failed (device lost?)")
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        // SAFETY: every object made from this device holds an Arc<Device>, so all are
        // gone; waiting first makes sure the queue no longer uses anything.
        unsafe {
            let _ = self.raw.device_wait_idle();
            self.raw.destroy_device(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(
        index: usize,
        kind: vk::PhysicalDeviceType,
        uuid: u8,
        pci: Option<u32>,
        usable: bool,
    ) -> PhysicalDeviceInfo {
        PhysicalDeviceInfo {
            index,
            raw: vk::PhysicalDevice::null(),
            name: format!("dev{index}"),
            kind,
            api_version: vk::API_VERSION_1_3,
            driver: String::new(),
            uuid: [uuid; 16],
            pci: pci.map(|bus| PciAddress { domain: 0, bus, device: 0 }),
            missing_extensions: if usable { vec![] } else { vec!["Vulkan 1.3 (device has 1.2.0)".into()] },
            has_external_memory: true,
            has_external_semaphore: true,
            has_pci_bus_info: pci.is_some(),
            has_memory_budget: false,
            has_dma_buf_import: false,
        }
    }

    #[test]
    fn best_prefers_discrete_and_skips_unusable() {
        let devs = [
            info(0, vk::PhysicalDeviceType::INTEGRATED_GPU, 1, None, true),
            info(1, vk::PhysicalDeviceType::DISCRETE_GPU, 2, None, false),
            info(2, vk::PhysicalDeviceType::DISCRETE_GPU, 3, None, true),
            info(3, vk::PhysicalDeviceType::CPU, 4, None, true),
        ];
        assert_eq!(choose(&devs, DeviceSelection::Best).unwrap().index, 2);
        assert_eq!(choose(&devs, DeviceSelection::Index(3)).unwrap().index, 3);
        let e = choose(&devs, DeviceSelection::Index(1)).unwrap_err().to_string();
        assert!(e.contains("lacks Vulkan 1.3"), "{e}");
        let e = choose(&devs, DeviceSelection::Index(7)).unwrap_err().to_string();
        assert!(e.contains("no such Vulkan device") && e.contains("dev3"), "{e}");
        assert!(choose(&[], DeviceSelection::Best).is_err());
    }

    #[test]
    fn identity_matches_uuid_then_pci() {
        let devs = [
            info(0, vk::PhysicalDeviceType::INTEGRATED_GPU, 1, Some(0), true),
            info(1, vk::PhysicalDeviceType::DISCRETE_GPU, 2, Some(3), true),
        ];
        let by_uuid = DeviceSelection::Identity { uuid: [2; 16], pci: None };
        assert_eq!(choose(&devs, by_uuid).unwrap().index, 1);
        // AMD: HIP's UUID differs from Vulkan's, the PCI address matches.
        let by_pci =
            DeviceSelection::Identity { uuid: [9; 16], pci: Some(PciAddress { domain: 0, bus: 3, device: 0 }) };
        assert_eq!(choose(&devs, by_pci).unwrap().index, 1);
        let none = DeviceSelection::Identity { uuid: [9; 16], pci: Some(PciAddress { domain: 0, bus: 7, device: 0 }) };
        let e = choose(&devs, none).unwrap_err().to_string();
        assert!(e.contains("no Vulkan device is the HIP device") && e.contains("0000:07:00"), "{e}");
    }

    /// The values each side reports on an AMD machine with an iGPU and a dGPU: ROCm's
    /// `hipDeviceGetUuid` gives the ASCII of its `GPU-<16 hex>` id (first 16 bytes), RADV
    /// a binary deviceUUID made of vendor/device/PCI ids, so only the PCI address (HIP's
    /// bus/device attributes, and domain 0 on ROCm < 6) can match.
    #[test]
    fn amd_devices_match_by_pci_address_as_each_side_reports_it() {
        let radv = |index, kind, uuid: [u8; 16], bus| {
            let mut d = info(index, kind, 0, Some(bus), true);
            d.uuid = uuid;
            d
        };
        let devs = [
            // Radeon 780M iGPU at 0000:c6:00, RX 7900 XTX at 0000:03:00 (RADV's UUIDs).
            radv(
                0,
                vk::PhysicalDeviceType::INTEGRATED_GPU,
                *b"\x02\x10\x00\x00\xbf\x15\x00\x00\x00\x00\xc6\x00\x00\x00\x00\x00",
                0xc6,
            ),
            radv(
                1,
                vk::PhysicalDeviceType::DISCRETE_GPU,
                *b"\x02\x10\x00\x00\x4c\x74\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00",
                0x03,
            ),
        ];
        // HIP device 0 is the 7900 XTX: uuid "GPU-d4a0b8c1e3f27a96" → its first 16 bytes.
        let hip_uuid: [u8; 16] = *b"GPU-d4a0b8c1e3f2";
        let hip =
            DeviceSelection::Identity { uuid: hip_uuid, pci: Some(PciAddress { domain: 0, bus: 0x03, device: 0 }) };
        assert_eq!(choose(&devs, hip).unwrap().index, 1, "the dGPU, by PCI address, not the iGPU listed first");
        // The iGPU as HIP device (HIP_VISIBLE_DEVICES): the other one.
        let igpu = DeviceSelection::Identity {
            uuid: *b"GPU-1a2b3c4d5e6f",
            pci: Some(PciAddress { domain: 0, bus: 0xc6, device: 0 }),
        };
        assert_eq!(choose(&devs, igpu).unwrap().index, 0);
    }

    #[test]
    fn uuid_format() {
        let mut u = [0u8; 16];
        u[0] = 0xab;
        u[15] = 0x01;
        assert_eq!(uuid_string(&u), "ab000000-0000-0000-0000-000000000001");
    }
}
