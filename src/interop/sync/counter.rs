//! `stream-wait`: the Vulkan → HIP hand-over without the CPU and without semaphores. Vulkan
//! writes `f+1` into a 4-byte counter after frame `f`'s draw (`vkCmdFillBuffer`, ordered
//! after the draw's reads); the counter is a Vulkan buffer exported to HIP, and HIP's
//! stream waits on the GPU until it reaches the value a slot's reuse needs
//! (`hipStreamWaitValue32`, greater-or-equal). The other direction stays with the CPU
//! (`host`): it waits for a burst's last kernel, then submits the burst's frames.
//!
//! This is the strategy for runtimes that cannot import Vulkan semaphores (ROCm on Linux:
//! `hipStreamWaitValue32` is there since ROCm 4.2), and it lets them run ahead: the CPU
//! waits once per burst of R frames instead of once per frame.
//!
//! The counter rests with `VK_QUEUE_FAMILY_EXTERNAL` between frames, like the height
//! buffers: each write acquires it, fills it and releases it.

use std::ffi::c_void;
use std::sync::Arc;

use anyhow::{Context, Result};
use ash::vk;

use crate::hip;
use crate::interop::hip_slots::import_and_map;
use crate::interop::{buffer_barrier, release_to_external};
use crate::vulkan::commands::CommandPool;
use crate::vulkan::export::ExportableBuffer;
use crate::vulkan::Device;

/// Bytes of the counter.
const COUNTER_BYTES: u64 = 4;

/// The counter, as HIP maps it and as Vulkan's buffer. HIP's mapping is dropped first.
pub struct DrawCounter {
    mapped: hip::MappedBuffer,
    buffer: ExportableBuffer,
}

impl DrawCounter {
    /// Creates the exportable counter, sets it to 0, maps it in HIP, and checks that HIP's
    /// stream can wait on it (a wait already met, run once).
    pub fn new(hip: &hip::Hip, device: &Arc<Device>) -> Result<Self> {
        anyhow::ensure!(
            hip.has_stream_wait_value(),
            "the HIP runtime {} does not export hipStreamWaitValue32",
            hip.library_path().display()
        );
        let buffer = ExportableBuffer::new(device, COUNTER_BYTES, vk::BufferUsageFlags::TRANSFER_DST, "draw counter")?;
        let pool = CommandPool::new(device, vk::CommandPoolCreateFlags::empty())?;
        let raw = buffer.raw();
        pool.run_once("draw counter: set to 0", |cmd| {
            // SAFETY: recording; the buffer is this device's and outlives the submission
            // (run_once waits); it has TRANSFER_DST usage.
            unsafe {
                device.raw().cmd_fill_buffer(cmd, raw, 0, COUNTER_BYTES, 0);
                release_to_external(device, cmd, raw, vk::PipelineStageFlags2::CLEAR, vk::AccessFlags2::TRANSFER_WRITE);
            }
        })?;
        let exported = buffer.export()?;
        // SAFETY: the counter's own export; `buffer` outlives `mapped` (field order).
        let mapped = unsafe { import_and_map(hip, exported, COUNTER_BYTES) }.context("the draw counter")?;
        let counter = Self { mapped, buffer };
        // Ask the runtime now, not at the first frame: a wait that is already met (≥ 0),
        // run to completion. A runtime that refuses waits on imported memory says so here.
        let probe = hip::Stream::new(hip)?;
        // SAFETY: 0 is met from the start; the counter outlives the synchronisation below.
        unsafe { counter.queue_wait(&probe, 0) }?;
        probe.synchronize().context("a stream wait on the draw counter (hipStreamWaitValue32) did not complete")?;
        Ok(counter)
    }

    /// Queues on `stream` a GPU wait until the counter is at least `value` (frame
    /// `value − 1` has been drawn).
    ///
    /// # Safety
    /// A frame that writes `value` or more has been or will be submitted (else the stream
    /// waits forever); the counter outlives the wait (the owner synchronises the stream
    /// before dropping it).
    pub unsafe fn queue_wait(&self, stream: &hip::Stream, value: u32) -> Result<()> {
        let ptr: *mut c_void = self.mapped.device_ptr();
        // SAFETY: a 4-byte device address HIP mapped, alive while `self` is; the rest is
        // the caller's contract.
        unsafe { stream.wait_value32(ptr, value) }.with_context(|| format!("HIP waiting for draw counter ≥ {value}"))
    }

    /// Records, after the frame's draw: once the draw's reads are done, set the counter to
    /// `value` (acquired from and released back to the external family).
    ///
    /// # Safety
    /// `cmd` is a command buffer of `device` in the recording state, after the draw; the
    /// counter outlives its execution.
    pub unsafe fn record_write(&self, device: &Device, cmd: vk::CommandBuffer, value: u32) {
        let raw = self.buffer.raw();
        let acquire = vk::BufferMemoryBarrier2::default()
            // The draw's reads of the slot (vertex input) and of its shading image
            // (fragment shader) finish before the write that lets HIP reuse them.
            .src_stage_mask(vk::PipelineStageFlags2::VERTEX_ATTRIBUTE_INPUT | vk::PipelineStageFlags2::FRAGMENT_SHADER)
            .src_access_mask(vk::AccessFlags2::NONE)
            .dst_stage_mask(vk::PipelineStageFlags2::CLEAR)
            .dst_access_mask(vk::AccessFlags2::TRANSFER_WRITE)
            .src_queue_family_index(vk::QUEUE_FAMILY_EXTERNAL)
            .dst_queue_family_index(device.queue_family)
            .buffer(raw)
            .size(vk::WHOLE_SIZE);
        // SAFETY: the caller's contract (recording, live buffer of this device).
        unsafe {
            buffer_barrier(device, cmd, acquire);
            device.raw().cmd_fill_buffer(cmd, raw, 0, COUNTER_BYTES, value);
            release_to_external(device, cmd, raw, vk::PipelineStageFlags2::CLEAR, vk::AccessFlags2::TRANSFER_WRITE);
        }
    }
}
