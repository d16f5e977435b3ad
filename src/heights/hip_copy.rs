//! The copy path, for comparison: HIP computes into its own memory, the heights go through
//! host memory, and Vulkan uploads them — what an application without interop does, and
//! what zero-copy saves. Per frame: kernel → `hipMemcpy` device→host → CPU copy into a
//! Vulkan staging buffer → `vkCmdCopyBuffer` into the slot.

use std::ffi::c_void;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use ash::vk;

use super::hip::{block_shape, grid_shape, HipSetup, KernelEvents, KERNEL_NAME};
use super::{FrameHeights, HeightSource, SourceTimings, SubmitSync};
use crate::hip;
use crate::interop::{acquire_from_external, buffer_barrier, HeightSlots};
use crate::vulkan::memory::Buffer;
use crate::vulkan::Device;

pub struct HipCopyHeights {
    // HIP objects first (dropped first, after the stream is synchronised in Drop).
    heights: hip::DeviceBuffer,
    function: hip::Function,
    events: KernelEvents,
    stream: hip::Stream,
    /// One Vulkan staging buffer per slot; rewritten only after the frame that last read
    /// it has completed (the renderer waited for its fence).
    staging: Vec<Buffer>,
    host: Vec<u8>,
    device: Arc<Device>,
    width: u32,
    height: u32,
    /// Per slot: what the last frame that wrote it measured.
    measured: Vec<SourceTimings>,
}

impl HipCopyHeights {
    pub fn new(setup: &HipSetup, device: &Arc<Device>, slots: &HeightSlots, kernel: &[u8]) -> Result<Self> {
        let hip = &setup.hip;
        let module = hip::Module::load_data(hip, kernel).context("loading the sinewave kernel (copy path)")?;
        let function = module.function(KERNEL_NAME)?;
        let bytes = slots.slot_bytes();
        let staging = (0..slots.len())
            .map(|i| {
                Buffer::host_visible(
                    device,
                    bytes,
                    vk::BufferUsageFlags::TRANSFER_SRC,
                    &format!("copy-path staging {i}"),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            heights: hip::DeviceBuffer::new(hip, bytes as usize).context("hipMalloc for the copy path's heights")?,
            function,
            events: KernelEvents::new(hip)?,
            stream: hip::Stream::new(hip)?,
            staging,
            host: vec![0; bytes as usize],
            device: device.clone(),
            width: slots.width,
            height: slots.height,
            measured: vec![SourceTimings::default(); slots.len()],
        })
    }
}

impl HeightSource for HipCopyHeights {
    fn name(&self) -> &str {
        "hip-copy"
    }

    fn produce(&mut self, frame: &FrameHeights<'_>, _sync: &mut SubmitSync) -> Result<()> {
        let mut ptr = self.heights.device_ptr();
        let (mut width, mut height, mut time) = (self.width, self.height, frame.time);
        let mut args: [*mut c_void; 4] = [
            (&mut ptr as *mut *mut c_void).cast(),
            (&mut width as *mut u32).cast(),
            (&mut height as *mut u32).cast(),
            (&mut time as *mut f32).cast(),
        ];
        let block = block_shape(width);
        self.events.start.record(&self.stream)?;
        // SAFETY: arguments match the kernel's signature; `ptr` holds width×height f32
        // (hipMalloc'd for this grid); nothing else uses it while the stream runs.
        unsafe { self.function.launch(grid_shape(width, height, block), block, 0, &self.stream, &mut args) }
            .context("launching the sinewave kernel (copy path)")?;
        self.events.end.record(&self.stream)?;
        self.events.recorded = true;
        self.events.end.synchronize()?;
        let kernel_ms = self.events.elapsed_ms()?;

        // Through host memory: device → host, then host → the Vulkan staging buffer.
        let started = Instant::now();
        self.heights.copy_to_host(&self.stream, &mut self.host).context("hipMemcpy device→host (copy path)")?;
        let staging = &mut self.staging[frame.slot];
        staging.mapped_bytes()?.copy_from_slice(&self.host);
        let transfer_ms = Some(started.elapsed().as_secs_f64() * 1e3);
        self.measured[frame.slot] = SourceTimings { kernel_ms, transfer_ms };

        // Host → device: Vulkan uploads the staging buffer into the slot.
        let d = &self.device;
        let dst = frame.slots.buffers[frame.slot].raw;
        acquire_from_external(d, frame.cmd, dst, vk::PipelineStageFlags2::COPY, vk::AccessFlags2::TRANSFER_WRITE);
        let region = [vk::BufferCopy { src_offset: 0, dst_offset: 0, size: frame.slots.slot_bytes() }];
        // SAFETY: recording; both buffers hold the slot's bytes; the staging buffer was
        // written above and no pending frame reads it (fence waited by the renderer).
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

    fn timings(&mut self, slot: usize) -> Result<SourceTimings> {
        Ok(self.measured.get(slot).copied().unwrap_or_default())
    }
}

impl Drop for HipCopyHeights {
    fn drop(&mut self) {
        if let Err(e) = self.stream.synchronize() {
            log::warn!("hipStreamSynchronize at shutdown (copy path): {e:#}");
        }
    }
}
