//! `timeline`: two timeline semaphores, created exportable by Vulkan and imported into HIP
//! (CUDA imports them; ROCm on Linux does not). Their values only grow, so one pair serves
//! every slot and frame; [`super::plan`] says which value each frame waits for and signals.

use std::sync::Arc;

use anyhow::{Context, Result};
use ash::vk;

use crate::hip;
use crate::vulkan::export::{ExportableSemaphore, SemaphoreKind};
use crate::vulkan::Device;

/// The pair, each as HIP's import and Vulkan's semaphore.
pub struct TimelineSemaphores {
    // HIP imports first: they are dropped before the Vulkan semaphores they came from.
    sim_hip: hip::ExternalSemaphore,
    draw_hip: hip::ExternalSemaphore,
    /// Signalled by HIP (value f+1 after frame f's kernel), waited on by Vulkan.
    sim: ExportableSemaphore,
    /// Signalled by Vulkan (value f+1 after frame f's draw), waited on by HIP.
    draw: ExportableSemaphore,
}

impl TimelineSemaphores {
    /// Creates both exportable and imports them into HIP.
    pub fn new(hip: &hip::Hip, device: &Arc<Device>) -> Result<Self> {
        let sim = ExportableSemaphore::new(device, SemaphoreKind::Timeline, "timeline semaphore 'sim'")?;
        let draw = ExportableSemaphore::new(device, SemaphoreKind::Timeline, "timeline semaphore 'draw'")?;
        // SAFETY: each handle is the export of a timeline semaphore that is stored beside
        // its import and dropped after it (field order).
        let sim_hip = unsafe { hip::ExternalSemaphore::import(hip, sim.export()?, hip::SemaphoreKind::Timeline) }
            .context("importing timeline semaphore 'sim' into HIP")?;
        // SAFETY: as above.
        let draw_hip = unsafe { hip::ExternalSemaphore::import(hip, draw.export()?, hip::SemaphoreKind::Timeline) }
            .context("importing timeline semaphore 'draw' into HIP")?;
        Ok(Self { sim_hip, draw_hip, sim, draw })
    }

    /// `sim` (HIP signals) or `draw` (Vulkan signals): HIP's import and Vulkan's handle.
    pub fn get(&self, sim: bool) -> (&hip::ExternalSemaphore, vk::Semaphore) {
        if sim {
            (&self.sim_hip, self.sim.raw())
        } else {
            (&self.draw_hip, self.draw.raw())
        }
    }
}
