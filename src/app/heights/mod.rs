//! The height sources besides the HIP kernel ([`crate::interop::hip_heights`]): the CPU
//! reference, the Vulkan compute shader (the baseline without HIP), and HIP through host
//! memory (the copy path the benchmark compares zero-copy with).

pub mod cpu;
pub mod hip_copy;
pub mod vulkan_compute;

use anyhow::Result;

use crate::app::renderer::Renderer;
use crate::interop::hip_heights::HipSetup;
use crate::interop::hip_slots::{HipSlots, MemoryOwner};

/// HIP's side of `renderer`'s height slots. With [`MemoryOwner::Vulkan`] HIP imports the
/// renderer's exported buffers; with [`MemoryOwner::Hip`] HIP allocates new ones, Vulkan
/// imports them, and they replace the renderer's (whose height source is dropped: set
/// the new one next).
pub fn hip_slots_for(renderer: &mut Renderer, setup: &HipSetup, owner: MemoryOwner) -> Result<HipSlots> {
    match owner {
        MemoryOwner::Vulkan => HipSlots::import(&setup.hip, renderer.slots()),
        MemoryOwner::Hip => {
            let current = renderer.slots();
            let (width, height, count) = (current.width, current.height, current.len());
            let (hip_slots, slots) = HipSlots::allocate_for_vulkan(
                &setup.hip,
                setup.device.ordinal,
                renderer.device(),
                width,
                height,
                count,
            )?;
            renderer.replace_height_slots(slots)?;
            Ok(hip_slots)
        }
    }
}
