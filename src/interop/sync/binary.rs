//! `binary`: a pair of binary semaphores per slot, for runtimes that import binary but not
//! timeline semaphores. [`super::plan`] says who waits and signals which, per frame.
//!
//! - `ready[s]`: HIP signals after writing slot `s`; Vulkan's submission waits on it.
//! - `drawn[s]`: Vulkan signals after drawing slot `s`; HIP waits on it before the next
//!   write of `s`. The first write of each slot has nothing to wait for.

use std::sync::Arc;

use anyhow::{Context, Result};
use ash::vk;

use crate::hip;
use crate::vulkan::export::{ExportableSemaphore, SemaphoreKind};
use crate::vulkan::Device;

struct SlotSemaphores {
    // HIP imports first: they are dropped before the Vulkan semaphores they came from.
    ready_hip: hip::ExternalSemaphore,
    drawn_hip: hip::ExternalSemaphore,
    /// Signalled by HIP after the kernel, waited on by Vulkan's submission.
    ready: ExportableSemaphore,
    /// Signalled by Vulkan's submission after the draw, waited on by HIP.
    drawn: ExportableSemaphore,
}

/// `ready` and `drawn` for every slot.
pub struct BinarySemaphores {
    slots: Vec<SlotSemaphores>,
}

impl BinarySemaphores {
    /// Creates the pairs of `frames_in_flight` slots, exportable, and imports them into HIP.
    pub fn new(hip: &hip::Hip, device: &Arc<Device>, frames_in_flight: usize) -> Result<Self> {
        let import = |semaphore: &ExportableSemaphore, what: String| -> Result<hip::ExternalSemaphore> {
            // SAFETY: the handle is the export of a binary semaphore that is stored beside
            // its import and dropped after it (field order of SlotSemaphores).
            unsafe { hip::ExternalSemaphore::import(hip, semaphore.export()?, hip::SemaphoreKind::Binary) }
                .with_context(|| format!("importing {what} into HIP"))
        };
        let slots = (0..frames_in_flight)
            .map(|s| {
                let ready = ExportableSemaphore::new(device, SemaphoreKind::Binary, &format!("binary 'ready' {s}"))?;
                let drawn = ExportableSemaphore::new(device, SemaphoreKind::Binary, &format!("binary 'drawn' {s}"))?;
                let ready_hip = import(&ready, format!("binary semaphore 'ready' {s}"))?;
                let drawn_hip = import(&drawn, format!("binary semaphore 'drawn' {s}"))?;
                Ok(SlotSemaphores { ready_hip, drawn_hip, ready, drawn })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { slots })
    }

    /// `ready[slot]` or `drawn[slot]`: HIP's import and Vulkan's handle.
    pub fn get(&self, slot: usize, ready: bool) -> Option<(&hip::ExternalSemaphore, vk::Semaphore)> {
        let s = self.slots.get(slot)?;
        Some(if ready { (&s.ready_hip, s.ready.raw()) } else { (&s.drawn_hip, s.drawn.raw()) })
    }
}
