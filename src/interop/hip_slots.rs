//! The height slots seen from HIP: each slot's exported memory imported and mapped to a
//! device pointer the kernel writes through.

use std::os::fd::AsFd;

use anyhow::{Context, Result};

use super::HeightSlots;
use crate::hip;

/// One mapped device pointer per height slot. Each [`hip::MappedBuffer`] owns its
/// external-memory import, so dropping it frees the pointer, then destroys the import;
/// the Vulkan memory itself is freed later by [`HeightSlots`].
pub struct HipSlots {
    /// Slot `i`'s device pointer at index `i`.
    pub mapped: Vec<hip::MappedBuffer>,
}

impl HipSlots {
    /// Exports every slot from Vulkan and imports it into HIP (export → import → map).
    pub fn import(hip: &hip::Hip, slots: &HeightSlots) -> Result<Self> {
        let mut mapped = Vec::with_capacity(slots.len());
        for i in 0..slots.len() {
            let exported = slots.export(i)?;
            let bytes = exported.buffer_size;
            // SAFETY: the fd is the OPAQUE_FD export of slot i's memory, allocated with
            // `allocation_size` bytes, dedicated as recorded; the slots outlive the imports
            // (HipHeights and Renderer drop their HIP side first). The import only borrows
            // the fd: `exported` closes it at the end of this iteration (crate::hip::ExternalMemory).
            let memory = unsafe {
                hip::ExternalMemory::import_opaque_fd(
                    hip,
                    exported.fd.as_fd(),
                    exported.allocation_size,
                    exported.dedicated,
                )
            }
            .with_context(|| format!("importing height slot {i} into HIP"))?;
            let buffer = memory.map_buffer(0, bytes).with_context(|| format!("mapping height slot {i} in HIP"))?;
            mapped.push(buffer);
        }
        Ok(Self { mapped })
    }
}
