//! The CPU reference as a height source: computes the sinewave on the CPU into a
//! host-visible staging buffer per slot and records a copy into the slot.
//! Works on any Vulkan device; it is the baseline that the renderer tests use.

use std::sync::Arc;

use anyhow::Result;
use ash::vk;

use super::{FrameHeights, HeightSource, SubmitSync};
use crate::interop::{acquire_from_external, buffer_barrier};
use crate::vulkan::memory::Buffer;
use crate::vulkan::Device;

pub struct CpuHeights {
    device: Arc<Device>,
    /// One staging buffer per slot: staging `i` is only rewritten once the frame that
    /// last copied from it has finished (the renderer waits for that frame's fence).
    staging: Vec<Buffer>,
    scratch: Vec<f32>,
}

impl CpuHeights {
    pub fn new(device: &Arc<Device>, width: u32, height: u32, slots: usize) -> Result<Self> {
        let bytes = u64::from(width) * u64::from(height) * 4;
        let staging = (0..slots)
            .map(|i| {
                Buffer::host_visible(device, bytes, vk::BufferUsageFlags::TRANSFER_SRC, &format!("height staging {i}"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            device: device.clone(),
            staging,
            scratch: vec![0.0; (u64::from(width) * u64::from(height)) as usize],
        })
    }
}

impl HeightSource for CpuHeights {
    fn name(&self) -> &str {
        "cpu"
    }

    fn produce(&mut self, frame: &FrameHeights<'_>, _sync: &mut SubmitSync) -> Result<()> {
        let slots = frame.slots;
        crate::sinewave::fill(&mut self.scratch, slots.width, slots.height, frame.time);
        let staging = &mut self.staging[frame.slot];
        staging.write(&self.scratch)?;

        let dst = slots.buffers[frame.slot].raw;
        let d = &self.device;
        acquire_from_external(d, frame.cmd, dst, vk::PipelineStageFlags2::COPY, vk::AccessFlags2::TRANSFER_WRITE);
        let region = [vk::BufferCopy { src_offset: 0, dst_offset: 0, size: slots.slot_bytes() }];
        // SAFETY: cmd is recording; both buffers are alive and large enough; staging was
        // written above and the GPU no longer reads it (fence waited by the renderer).
        unsafe { d.raw.cmd_copy_buffer(frame.cmd, staging.raw, dst, &region) };
        buffer_barrier(
            d,
            frame.cmd,
            vk::BufferMemoryBarrier2::default()
                .src_stage_mask(vk::PipelineStageFlags2::COPY)
                .src_access_mask(vk::AccessFlags2::TRANSFER_WRITE)
                .dst_stage_mask(vk::PipelineStageFlags2::VERTEX_ATTRIBUTE_INPUT)
                .dst_access_mask(vk::AccessFlags2::VERTEX_ATTRIBUTE_READ)
                .src_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
                .dst_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
                .buffer(dst)
                .size(vk::WHOLE_SIZE),
        );
        Ok(())
    }
}
