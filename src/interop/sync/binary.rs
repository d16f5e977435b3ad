//! `binary`: a pair of binary semaphores per slot, for runtimes that import binary but not
//! timeline semaphores.
//!
//! - `ready[s]`: HIP signals after writing slot `s`; Vulkan's submission waits on it.
//! - `drawn[s]`: Vulkan signals after drawing slot `s`; HIP waits on it before the next
//!   write of `s`. The first write of each slot has nothing to wait for.

use std::os::fd::AsFd;
use std::sync::Arc;

use anyhow::{Context, Result};
use ash::vk;

use super::{SyncKind, SyncStrategy};
use crate::hip;
use crate::interop::source::SubmitSync;
use crate::vulkan::export::{ExportableSemaphore, SemaphoreKind};
use crate::vulkan::Device;

struct SlotSemaphores {
    ready_hip: hip::ExternalSemaphore,
    drawn_hip: hip::ExternalSemaphore,
    /// Signalled by HIP after the kernel, waited on by Vulkan's submission.
    ready: ExportableSemaphore,
    /// Signalled by Vulkan's submission after the draw, waited on by HIP.
    drawn: ExportableSemaphore,
    /// `drawn` has a signal pending that HIP has not consumed.
    drawn_pending: bool,
}

pub struct BinarySync {
    slots: Vec<SlotSemaphores>,
}

impl BinarySync {
    pub fn new(hip: &hip::Hip, device: &Arc<Device>, frames_in_flight: usize) -> Result<Self> {
        let slots = (0..frames_in_flight)
            .map(|s| {
                let ready = ExportableSemaphore::new(device, SemaphoreKind::Binary, &format!("binary 'ready' {s}"))?;
                let drawn = ExportableSemaphore::new(device, SemaphoreKind::Binary, &format!("binary 'drawn' {s}"))?;
                // SAFETY: each fd is an OPAQUE_FD export of a binary semaphore that is stored
                // beside its import and dropped after it (field order of SlotSemaphores).
                let ready_hip = unsafe {
                    hip::ExternalSemaphore::import_opaque_fd(hip, ready.export()?.as_fd(), hip::SemaphoreKind::Binary)
                }
                .with_context(|| format!("importing binary semaphore 'ready' {s} into HIP"))?;
                // SAFETY: as above.
                let drawn_hip = unsafe {
                    hip::ExternalSemaphore::import_opaque_fd(hip, drawn.export()?.as_fd(), hip::SemaphoreKind::Binary)
                }
                .with_context(|| format!("importing binary semaphore 'drawn' {s} into HIP"))?;
                Ok(SlotSemaphores { ready_hip, drawn_hip, ready, drawn, drawn_pending: false })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { slots })
    }
}

impl SyncStrategy for BinarySync {
    fn kind(&self) -> SyncKind {
        SyncKind::Binary
    }

    fn before_write(&mut self, stream: &hip::Stream, _frame: u64, slot: usize) -> Result<()> {
        let s = &mut self.slots[slot];
        if s.drawn_pending {
            stream.wait_external_semaphores(&[(&s.drawn_hip, 0)]).context("HIP waiting for Vulkan's draw")?;
            s.drawn_pending = false;
        }
        Ok(())
    }

    fn after_write(&mut self, stream: &hip::Stream, _frame: u64, slot: usize, sync: &mut SubmitSync) -> Result<()> {
        let s = &mut self.slots[slot];
        stream.signal_external_semaphores(&[(&s.ready_hip, 0)]).context("HIP signalling 'heights ready'")?;
        sync.waits.push(
            vk::SemaphoreSubmitInfo::default()
                .semaphore(s.ready.raw)
                .stage_mask(vk::PipelineStageFlags2::VERTEX_ATTRIBUTE_INPUT),
        );
        sync.signals.push(
            vk::SemaphoreSubmitInfo::default().semaphore(s.drawn.raw).stage_mask(vk::PipelineStageFlags2::ALL_COMMANDS),
        );
        s.drawn_pending = true;
        Ok(())
    }
}
