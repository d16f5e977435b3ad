//! Command pools, and one-shot command buffers for uploads and readbacks.

use std::sync::Arc;

use anyhow::{Context, Result};
use ash::vk;

use super::device::Device;
use super::sync::Fence;

/// A command pool on the device's queue family; freeing the pool frees its buffers.
pub struct CommandPool {
    device: Arc<Device>,
    raw: vk::CommandPool,
    /// Counts this object in the live-object registry (leak tests).
    _live: crate::vulkan::live::Tracked,
}

impl CommandPool {
    /// The Vulkan handle (valid while `self` lives).
    pub fn raw(&self) -> vk::CommandPool {
        self.raw
    }

    /// A pool on the device's queue family.
    pub fn new(device: &Arc<Device>, flags: vk::CommandPoolCreateFlags) -> Result<Self> {
        let _live = crate::vulkan::live::Tracked::new("CommandPool")?;
        let info = vk::CommandPoolCreateInfo::default().queue_family_index(device.queue_family).flags(flags);
        // SAFETY: valid create info on a live device.
        let raw = unsafe { device.raw().create_command_pool(&info, None) }.context("vkCreateCommandPool failed")?;
        Ok(Self { device: device.clone(), raw, _live })
    }

    /// Allocates `count` primary command buffers.
    pub fn allocate(&self, count: u32) -> Result<Vec<vk::CommandBuffer>> {
        let info = vk::CommandBufferAllocateInfo::default()
            .command_pool(self.raw)
            .level(vk::CommandBufferLevel::PRIMARY)
            .command_buffer_count(count);
        // SAFETY: the pool is alive and used from this thread only.
        unsafe { self.device.raw().allocate_command_buffers(&info) }.context("vkAllocateCommandBuffers failed")
    }

    /// Frees command buffers this pool allocated.
    ///
    /// # Safety
    /// `buffers` were allocated from this pool, are not pending on any queue (the device
    /// idled or their fences signalled) and are not used again.
    pub unsafe fn free(&self, buffers: &[vk::CommandBuffer]) {
        if buffers.is_empty() {
            return;
        }
        // SAFETY: the caller's contract; the pool is alive.
        unsafe { self.device.raw().free_command_buffers(self.raw, buffers) };
    }

    /// Records commands with `record`, submits them and waits for them to finish.
    /// For set-up work (uploads, readbacks) outside the frame loop.
    pub fn run_once(&self, what: &str, record: impl FnOnce(vk::CommandBuffer)) -> Result<()> {
        // SAFETY: no semaphores.
        unsafe { self.run_once_with(what, &[], &[], record) }
    }

    /// As [`CommandPool::run_once`], with semaphores the submission waits on (`waits`:
    /// e.g. a timeline value another API signals) and signals.
    ///
    /// # Safety
    /// Every semaphore is a live semaphore of this device, in a state the submission may
    /// use (a binary semaphore waited on has a signal pending), and a waited-for value is
    /// signalled eventually (else this call blocks until the device is lost).
    pub unsafe fn run_once_with(
        &self,
        what: &str,
        waits: &[vk::SemaphoreSubmitInfo<'_>],
        signals: &[vk::SemaphoreSubmitInfo<'_>],
        record: impl FnOnce(vk::CommandBuffer),
    ) -> Result<()> {
        let cmd = self.allocate(1)?[0];
        // SAFETY: the semaphores are the caller's contract.
        let result = unsafe { self.submit_and_wait(cmd, what, waits, signals, record) };
        // SAFETY: the submission finished (or never started), so the buffer is idle.
        unsafe { self.device.raw().free_command_buffers(self.raw(), &[cmd]) };
        result
    }

    /// # Safety
    /// As for [`CommandPool::run_once_with`].
    unsafe fn submit_and_wait(
        &self,
        cmd: vk::CommandBuffer,
        what: &str,
        waits: &[vk::SemaphoreSubmitInfo<'_>],
        signals: &[vk::SemaphoreSubmitInfo<'_>],
        record: impl FnOnce(vk::CommandBuffer),
    ) -> Result<()> {
        let d = &self.device.raw();
        let begin = vk::CommandBufferBeginInfo::default().flags(vk::CommandBufferUsageFlags::ONE_TIME_SUBMIT);
        // SAFETY: cmd is a fresh primary buffer of this pool.
        unsafe { d.begin_command_buffer(cmd, &begin) }.with_context(|| format!("vkBeginCommandBuffer ({what})"))?;
        record(cmd);
        // SAFETY: cmd is recording.
        unsafe { d.end_command_buffer(cmd) }.with_context(|| format!("vkEndCommandBuffer ({what})"))?;
        let fence = Fence::new(&self.device, false)?;
        let cmds = [vk::CommandBufferSubmitInfo::default().command_buffer(cmd)];
        let submit = vk::SubmitInfo2::default()
            .wait_semaphore_infos(waits)
            .signal_semaphore_infos(signals)
            .command_buffer_infos(&cmds);
        let queue = self.device.queue();
        // SAFETY: cmd is executable; the fence is unsignalled; the queue is locked; the
        // semaphores are the caller's contract.
        unsafe { d.queue_submit2(*queue, &[submit], fence.raw()) }
            .with_context(|| format!("vkQueueSubmit2 ({what})"))?;
        drop(queue);
        fence.wait(u64::MAX).with_context(|| format!("waiting for {what}"))
    }
}

impl Drop for CommandPool {
    fn drop(&mut self) {
        // SAFETY: owners wait for their submissions before dropping the pool.
        unsafe { self.device.raw().destroy_command_pool(self.raw(), None) };
    }
}
