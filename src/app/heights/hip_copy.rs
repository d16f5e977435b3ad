//! The copy path, for comparison: HIP computes into its own memory, the heights go through
//! host memory, and Vulkan uploads them — what an application without interop does, and
//! what zero-copy saves. Per frame: kernel → `hipMemcpy` device→host → CPU copy into a
//! Vulkan staging buffer → `vkCmdCopyBuffer` into the slot.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use ash::vk;

use crate::hip;
use crate::interop::hip_heights::{launch_sinewave, HipSetup, KernelEvents};
use crate::interop::source::{FrameHeights, HeightSource, SourceTimings, SubmitSync};
use crate::interop::{record_staging_upload, HeightSlots};
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
    pub fn new(setup: &HipSetup, device: &Arc<Device>, slots: &HeightSlots, function: hip::Function) -> Result<Self> {
        let hip = &setup.hip;
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
        self.events.start.record(&self.stream)?;
        // SAFETY: `heights` was hipMalloc'd for width×height f32 and only this stream uses it.
        unsafe {
            launch_sinewave(
                &self.function,
                &self.stream,
                self.heights.device_ptr(),
                self.width,
                self.height,
                frame.time,
            )
        }
        .context("copy path")?;
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
        // The renderer waited for the fence of the frame that last read this staging buffer.
        // SAFETY: the frame's command buffer is recording; the staging buffer of this slot holds the heights and is rewritten only after the frame that read it completed; the buffers live until the renderer idles.
        unsafe { record_staging_upload(&self.device, frame.cmd, staging.raw(), frame.slots, frame.slot) };
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
