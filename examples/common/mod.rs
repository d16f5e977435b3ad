//! What the interop examples share: the exit status, and reading a height buffer that
//! another API wrote back to the host through Vulkan. (Cargo builds each example alone;
//! each includes this file with `#[path]`, and not every example uses every function.)
#![allow(dead_code)]

use std::process::ExitCode;

use anyhow::Result;
use ash::vk;
use hip_vulkan_sinewave::interop::{acquire_from_external, release_to_external};
use hip_vulkan_sinewave::vulkan::memory::Buffer;
use hip_vulkan_sinewave::vulkan::Device;

/// Exit status of an example whose run returns its largest error against the reference:
/// 0 within `tolerance`, 1 beyond it, 2 when the run could not happen (the message says why).
pub fn exit_code(result: Result<f64>, tolerance: f64) -> ExitCode {
    match result {
        Ok(error) if error <= tolerance => ExitCode::SUCCESS,
        Ok(error) => {
            eprintln!("error: the result differs from the reference by {error:e} (tolerance {tolerance:e})");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Records: take `heights` from the external queue family, copy `bytes` of it into
/// `readback`, give it back, and make the copy visible to the host.
///
/// # Safety
/// `cmd` is a command buffer of `device` in the recording state; both buffers are of
/// `device`, hold `bytes` bytes and outlive the command buffer's execution.
pub unsafe fn record_readback(
    device: &Device,
    cmd: vk::CommandBuffer,
    heights: vk::Buffer,
    readback: vk::Buffer,
    bytes: u64,
) {
    let region = [vk::BufferCopy { src_offset: 0, dst_offset: 0, size: bytes }];
    let to_host = [vk::MemoryBarrier2::default()
        .src_stage_mask(vk::PipelineStageFlags2::COPY)
        .src_access_mask(vk::AccessFlags2::TRANSFER_WRITE)
        .dst_stage_mask(vk::PipelineStageFlags2::HOST)
        .dst_access_mask(vk::AccessFlags2::HOST_READ)];
    let (copy, read) = (vk::PipelineStageFlags2::COPY, vk::AccessFlags2::TRANSFER_READ);
    // SAFETY: the caller's contract (recording command buffer, live buffers of `device`).
    unsafe {
        acquire_from_external(device, cmd, heights, copy, read);
        device.raw().cmd_copy_buffer(cmd, heights, readback, &region);
        release_to_external(device, cmd, heights, copy, read);
        device.raw().cmd_pipeline_barrier2(cmd, &vk::DependencyInfo::default().memory_barriers(&to_host));
    }
}

/// The `f32` heights in a host-visible readback buffer.
pub fn heights_in(readback: &mut Buffer) -> Result<Vec<f32>> {
    Ok(readback.mapped_bytes()?.chunks_exact(4).map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]])).collect())
}
