//! The height slots seen from HIP: one device pointer per slot, which the kernel writes
//! through. Either Vulkan owns the memory and HIP imports it ([`HipSlots::import`], the
//! default), or HIP owns it and Vulkan imports it ([`HipSlots::allocate_for_vulkan`],
//! `--memory-owner hip`).

use std::ffi::c_void;
use std::sync::Arc;

use anyhow::{Context, Result};

use super::{HeightSlots, HEIGHT_BUFFER_USAGE};
use crate::hip;
use crate::vulkan::export::{ExportedMemory, ForeignMemory, ImportedBuffer};
use crate::vulkan::Device;

/// Who allocated the height buffers' memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MemoryOwner {
    /// Vulkan allocates exportable memory; HIP imports it (`hipImportExternalMemory`).
    #[default]
    Vulkan,
    /// HIP allocates with its virtual memory API (`hipMemCreate`); Vulkan imports it
    /// (`VkImportMemoryFdInfoKHR`).
    Hip,
}

impl std::fmt::Display for MemoryOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MemoryOwner::Vulkan => "vulkan",
            MemoryOwner::Hip => "hip",
        })
    }
}

/// One slot's memory as HIP sees it.
pub enum HipSlot {
    /// Vulkan's memory imported and mapped; dropping it frees the pointer, then destroys
    /// the import (the Vulkan memory itself is freed later, by [`HeightSlots`]).
    Imported(hip::MappedBuffer),
    /// HIP's own memory, which Vulkan imported; dropping it unmaps and releases HIP's
    /// references (Vulkan's import keeps the memory until it is freed too).
    Owned(hip::ExportableDeviceMemory),
}

impl HipSlot {
    /// The device pointer the kernel writes through.
    pub fn device_ptr(&self) -> *mut c_void {
        match self {
            HipSlot::Imported(b) => b.device_ptr(),
            HipSlot::Owned(m) => m.device_ptr(),
        }
    }
}

/// One device pointer per height slot, slot `i` at index `i`.
pub struct HipSlots {
    /// Slot `i`'s memory at index `i`.
    pub slots: Vec<HipSlot>,
}

impl HipSlots {
    /// Exports every slot from Vulkan and imports it into HIP (export → import → map).
    pub fn import(hip: &hip::Hip, slots: &HeightSlots) -> Result<Self> {
        let mut mapped = Vec::with_capacity(slots.len());
        for i in 0..slots.len() {
            let exported = slots.export(i)?;
            // SAFETY: slot i's export; the slots outlive the imports (HipHeights and
            // Renderer drop their HIP side first).
            let bytes = exported.buffer_size;
            let buffer = unsafe { import_and_map(hip, exported, bytes) }.with_context(|| format!("height slot {i}"))?;
            mapped.push(HipSlot::Imported(buffer));
        }
        Ok(Self { slots: mapped })
    }

    /// The reverse direction: HIP allocates `count` slots of `width × height` `f32` on
    /// `hip_device` (an ordinal, the current device) with its virtual memory API, exports
    /// each as this system's handle (a POSIX fd; an NT handle on Windows), and `device` imports them as vertex/storage/transfer buffers.
    /// Returns HIP's side and Vulkan's; drop HIP's first (as [`HipSlots::import`]'s).
    ///
    /// `device` must be the same GPU as `hip_device` (same UUID, else same PCI address):
    /// checked first, since an fd is only meaningful to the GPU and driver that made it.
    pub fn allocate_for_vulkan(
        hip: &hip::Hip,
        hip_device: i32,
        device: &Arc<Device>,
        width: u32,
        height: u32,
        count: usize,
    ) -> Result<(Self, HeightSlots)> {
        hip.check_virtual_memory_export().map_err(|why| anyhow::anyhow!("--memory-owner hip: {why}"))?;
        // A handle means something only to the GPU that made it: refuse another one (importing
        // it would be undefined behaviour, not an error).
        let info = hip.device_info(hip_device).context("asking HIP which GPU it allocates on")?;
        let physical = &device.physical;
        anyhow::ensure!(
            physical.uuid == info.uuid || physical.pci == Some(info.pci),
            "--memory-owner hip: the Vulkan device ({}, pci {}) is not HIP's device {} ({}, pci {}); HIP's memory can \
             only be imported on the GPU that allocated it",
            physical.name,
            physical.pci.map_or("unknown".into(), |p| p.to_string()),
            hip_device,
            info.name,
            info.pci
        );
        let bytes = u64::from(width) * u64::from(height) * 4;
        let request = usize::try_from(bytes).context("height slot size")?;
        let granularity = hip::ExportableDeviceMemory::granularity(hip, hip_device)
            .context("asking HIP for its allocation granularity")?;
        // What the export is: CUDA's is an opaque handle of the driver Vulkan shares; ROCm's
        // is a dma-buf (clr hipamd/src/hip_vm.cpp → AMDKFD_IOC_EXPORT_DMABUF).
        let kind = if hip.is_nvidia_shim() { ForeignMemory::Opaque } else { ForeignMemory::DmaBuf };
        let mut owned = Vec::with_capacity(count);
        let mut imported = Vec::with_capacity(count);
        let mut imported_as = None;
        for i in 0..count {
            let memory = hip::ExportableDeviceMemory::new(hip, hip_device, request)
                .with_context(|| format!("allocating height slot {i} with hipMemCreate ({bytes} bytes)"))?;
            let handle = memory.export_handle().with_context(|| format!("exporting height slot {i} from HIP"))?;
            imported_as = Some(kind.handle_type(handle.kind()));
            // SAFETY: the handle is the export of HIP's allocation of `memory.size()`
            // bytes on the GPU `device` is (the caller's contract), of the kind chosen above;
            // the import holds its own reference to the memory, so it stays valid whatever is
            // dropped first.
            let buffer = unsafe {
                ImportedBuffer::import_foreign(
                    device,
                    handle,
                    kind,
                    memory.size() as u64,
                    bytes,
                    HEIGHT_BUFFER_USAGE,
                    &format!("height slot {i} (HIP's memory)"),
                )
            }
            .with_context(|| format!("importing HIP's height slot {i} into Vulkan"))?;
            owned.push(HipSlot::Owned(memory));
            imported.push(buffer);
        }
        log::info!(
            "heights: {count} buffers of {width}x{height} f32 allocated by HIP (hipMemCreate, {bytes} bytes each in \
             {} of granularity {granularity}), imported into Vulkan as {:?}",
            bytes.next_multiple_of(granularity as u64),
            imported_as.unwrap_or_default()
        );
        Ok((Self { slots: owned }, HeightSlots::from_imported(imported, width, height)))
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Who allocated the memory.
    pub fn owner(&self) -> MemoryOwner {
        match self.slots.first() {
            Some(HipSlot::Owned(_)) => MemoryOwner::Hip,
            _ => MemoryOwner::Vulkan,
        }
    }
}

/// Imports a Vulkan buffer's export into HIP and maps its first `bytes` as a device
/// pointer. The handle is closed when it should be (`crate::hip::ExternalMemory`).
///
/// # Safety
/// `exported` is what [`crate::vulkan::export::ExportableBuffer::export`] returned for a
/// live allocation of `allocation_size` bytes, dedicated as recorded, which outlives the
/// mapping.
pub unsafe fn import_and_map(hip: &hip::Hip, exported: ExportedMemory, bytes: u64) -> Result<hip::MappedBuffer> {
    // SAFETY: the caller's contract.
    let memory =
        unsafe { hip::ExternalMemory::import(hip, exported.handle, exported.allocation_size, exported.dedicated) }
            .context("importing it into HIP (hipImportExternalMemory)")?;
    memory.map_buffer(0, bytes).context("mapping it in HIP (hipExternalMemoryGetMappedBuffer)")
}
