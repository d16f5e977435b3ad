//! `timeline`: two timeline semaphores, created exportable by Vulkan and imported into HIP.
//!
//! - `sim`: HIP signals `f+1` once the kernel of frame `f` has written its slot;
//!   Vulkan's submission of frame `f` waits for `sim ≥ f+1` before vertex input.
//! - `draw`: Vulkan signals `f+1` once frame `f`'s draw is done; HIP waits for
//!   `draw ≥ f−K+1` (frame `f−K`, the slot's previous user) before writing.
//!
//! Values only grow, so one pair of semaphores serves every slot and frame.
//!
//! With run-ahead (HIP writes frames `b .. b+r` in one burst) the burst is handed over
//! once: HIP signals `sim = b+r` after the last kernel, Vulkan's frame `b` waits for it,
//! and only frame `b+r−1` signals `draw`. On the H100 each cross-API semaphore operation
//! in a Vulkan submission cost ~0.3 ms of GPU idle time (BENCHMARKS.md), so this is where
//! run-ahead pays. Frames `b+1 .. b+r` have no wait of their own: the height source
//! records an execution dependency on all earlier work, which chains them after frame
//! `b`'s wait in submission order.

use std::os::fd::AsFd;
use std::sync::Arc;

use anyhow::{Context, Result};
use ash::vk;

use super::{SyncKind, SyncStrategy};
use crate::hip;
use crate::interop::source::SubmitSync;
use crate::vulkan::export::{ExportableSemaphore, SemaphoreKind};
use crate::vulkan::Device;

pub struct TimelineSync {
    // HIP imports first: they are dropped before the Vulkan semaphores they came from.
    sim_hip: hip::ExternalSemaphore,
    draw_hip: hip::ExternalSemaphore,
    /// Signalled by HIP (value f+1 after frame f's kernel), waited on by Vulkan.
    sim: ExportableSemaphore,
    /// Signalled by Vulkan (value f+1 after frame f's draw), waited on by HIP.
    draw: ExportableSemaphore,
    frames_in_flight: u64,
    /// The burst being written: frames `burst.0 .. burst.0 + burst.1`.
    burst: (u64, u64),
}

impl TimelineSync {
    pub fn new(hip: &hip::Hip, device: &Arc<Device>, frames_in_flight: usize) -> Result<Self> {
        let sim = ExportableSemaphore::new(device, SemaphoreKind::Timeline, "timeline semaphore 'sim'")?;
        let draw = ExportableSemaphore::new(device, SemaphoreKind::Timeline, "timeline semaphore 'draw'")?;
        // SAFETY: each fd is an OPAQUE_FD export of a timeline semaphore that is stored
        // beside its import and dropped after it (field order of TimelineSync).
        let sim_hip = unsafe {
            hip::ExternalSemaphore::import_opaque_fd(hip, sim.export()?.as_fd(), hip::SemaphoreKind::Timeline)
        }
        .context("importing timeline semaphore 'sim' into HIP")?;
        // SAFETY: as above.
        let draw_hip = unsafe {
            hip::ExternalSemaphore::import_opaque_fd(hip, draw.export()?.as_fd(), hip::SemaphoreKind::Timeline)
        }
        .context("importing timeline semaphore 'draw' into HIP")?;
        Ok(Self { sim_hip, draw_hip, sim, draw, frames_in_flight: frames_in_flight as u64, burst: (0, 1) })
    }
}

impl SyncStrategy for TimelineSync {
    fn kind(&self) -> SyncKind {
        SyncKind::Timeline
    }

    fn before_write(&mut self, stream: &hip::Stream, frame: u64, _slot: usize) -> Result<()> {
        // Frame f−K drew from this slot; its draw signalled draw = f−K+1.
        if frame >= self.frames_in_flight {
            let value = frame - self.frames_in_flight + 1;
            stream.wait_external_semaphores(&[(&self.draw_hip, value)]).context("HIP waiting for Vulkan's draw")?;
        }
        Ok(())
    }

    fn begin_burst(&mut self, first: u64, len: u64) {
        self.burst = (first, len.max(1));
    }

    fn after_write(&mut self, stream: &hip::Stream, frame: u64, _slot: usize, sync: &mut SubmitSync) -> Result<()> {
        let (first, len) = self.burst;
        let last = first + len - 1;
        if frame == last {
            // Every frame of the burst is written: one signal for all of them.
            stream
                .signal_external_semaphores(&[(&self.sim_hip, last + 1)])
                .context("HIP signalling 'heights ready'")?;
            sync.signals.push(
                vk::SemaphoreSubmitInfo::default()
                    .semaphore(self.draw.raw)
                    .value(frame + 1)
                    .stage_mask(vk::PipelineStageFlags2::ALL_COMMANDS),
            );
        }
        if frame == first {
            sync.waits.push(
                vk::SemaphoreSubmitInfo::default()
                    .semaphore(self.sim.raw)
                    .value(last + 1)
                    .stage_mask(vk::PipelineStageFlags2::VERTEX_ATTRIBUTE_INPUT),
            );
        }
        Ok(())
    }
}
