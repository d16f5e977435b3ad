//! The static grid mesh on the GPU: `(u, v)` positions and strip indices in device-local
//! memory, uploaded once through a staging buffer.

use std::sync::Arc;

use anyhow::Result;
use ash::vk;

use crate::app::grid;
use crate::vulkan::commands::CommandPool;
use crate::vulkan::memory::Buffer;
use crate::vulkan::Device;

pub struct GridMesh {
    pub positions: Buffer,
    pub indices: Buffer,
    pub index_count: u32,
}

impl GridMesh {
    pub fn upload(device: &Arc<Device>, pool: &CommandPool, width: u32, height: u32) -> Result<Self> {
        let positions = grid::positions(width, height);
        let indices = grid::strip_indices(width, height);
        let index_count = u32::try_from(indices.len())
            .map_err(|_| anyhow::anyhow!("grid {width}x{height} needs more than 2^32 indices"))?;
        let positions = upload(
            device,
            pool,
            bytemuck::cast_slice(&positions),
            vk::BufferUsageFlags::VERTEX_BUFFER,
            "grid positions",
        )?;
        let indices =
            upload(device, pool, bytemuck::cast_slice(&indices), vk::BufferUsageFlags::INDEX_BUFFER, "grid indices")?;
        Ok(Self { positions, indices, index_count })
    }
}

/// Creates a device-local buffer holding `bytes`, copied through a staging buffer.
fn upload(
    device: &Arc<Device>,
    pool: &CommandPool,
    bytes: &[u8],
    usage: vk::BufferUsageFlags,
    what: &str,
) -> Result<Buffer> {
    let size = bytes.len() as u64;
    let mut staging =
        Buffer::host_visible(device, size, vk::BufferUsageFlags::TRANSFER_SRC, &format!("{what} staging"))?;
    staging.write(bytes)?;
    let buffer = Buffer::device_local(device, size, usage | vk::BufferUsageFlags::TRANSFER_DST, what)?;
    let (src, dst) = (staging.raw(), buffer.raw());
    pool.run_once(what, |cmd| {
        let region = [vk::BufferCopy { src_offset: 0, dst_offset: 0, size }];
        // SAFETY: recording; both buffers hold `size` bytes.
        unsafe { device.raw().cmd_copy_buffer(cmd, src, dst, &region) };
        // run_once waits for completion; later submissions on the same queue see the data
        // through the fence wait + queue submission order (host-side sync).
        let barrier = [vk::MemoryBarrier2::default()
            .src_stage_mask(vk::PipelineStageFlags2::COPY)
            .src_access_mask(vk::AccessFlags2::TRANSFER_WRITE)
            .dst_stage_mask(vk::PipelineStageFlags2::VERTEX_INPUT)
            .dst_access_mask(vk::AccessFlags2::VERTEX_ATTRIBUTE_READ | vk::AccessFlags2::INDEX_READ)];
        // SAFETY: recording.
        unsafe { device.raw().cmd_pipeline_barrier2(cmd, &vk::DependencyInfo::default().memory_barriers(&barrier)) };
    })?;
    Ok(buffer)
}
