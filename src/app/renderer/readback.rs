//! Reading back what the GPU made: the offscreen image (screenshots) and a slot's heights
//! (`--verify`, tests), after the GPU has idled.

use anyhow::{bail, Context, Result};
use ash::vk;

use super::target::RgbaImage;
use super::{Renderer, Target};
use crate::interop::release_to_external;

impl Renderer {
    /// Waits for the GPU, then reads back the offscreen image.
    pub fn read_back_image(&self) -> Result<RgbaImage> {
        self.device.wait_idle()?;
        match &self.target {
            Target::Offscreen(t) => t.read_back(&self.device, &self.pool),
            Target::Window(_) => bail!("screenshots are taken from offscreen renders (--headless)"),
        }
    }

    /// Waits for the GPU, then reads back the heights of `slot` through Vulkan.
    pub fn read_back_heights(&self, slot: usize) -> Result<Vec<f32>> {
        self.device.wait_idle()?;
        let buffer = self.slots.buffers.get(slot).with_context(|| format!("no height slot {slot}"))?;
        let bytes = self.slots.slot_bytes();
        let mut readback = crate::vulkan::memory::Buffer::host_visible(
            &self.device,
            bytes,
            vk::BufferUsageFlags::TRANSFER_DST,
            "heights readback",
        )?;
        let (src, dst) = (buffer.raw(), readback.raw());
        let device = &self.device;
        self.pool.run_once("heights readback", |cmd| {
            // SAFETY: the one-time command buffer is recording; the slot buffer outlives its completion (run_once waits).
            unsafe {
                crate::interop::acquire_from_external(
                    device,
                    cmd,
                    src,
                    vk::PipelineStageFlags2::COPY,
                    vk::AccessFlags2::TRANSFER_READ,
                )
            };
            // SAFETY: recording; both buffers hold `bytes` bytes.
            unsafe {
                device.raw().cmd_copy_buffer(
                    cmd,
                    src,
                    dst,
                    &[vk::BufferCopy { src_offset: 0, dst_offset: 0, size: bytes }],
                )
            };
            // SAFETY: as above.
            unsafe {
                release_to_external(device, cmd, src, vk::PipelineStageFlags2::COPY, vk::AccessFlags2::TRANSFER_READ)
            };
            let host = [vk::MemoryBarrier2::default()
                .src_stage_mask(vk::PipelineStageFlags2::COPY)
                .src_access_mask(vk::AccessFlags2::TRANSFER_WRITE)
                .dst_stage_mask(vk::PipelineStageFlags2::HOST)
                .dst_access_mask(vk::AccessFlags2::HOST_READ)];
            // SAFETY: recording.
            unsafe { device.raw().cmd_pipeline_barrier2(cmd, &vk::DependencyInfo::default().memory_barriers(&host)) };
        })?;
        let bytes = readback.mapped_bytes()?;
        Ok(bytes.chunks_exact(4).map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]])).collect())
    }

    /// Waits for the GPU, then reads back `slot`'s shading image (RGBA16F normals) through
    /// Vulkan. Fails when the renderer has no shading images.
    pub fn read_back_normals(&self, slot: usize) -> Result<Vec<[half::f16; 4]>> {
        let images = self.slots.normals.as_ref().context("this renderer has no shading images")?;
        images.read_back(&self.pool, slot)
    }
}
