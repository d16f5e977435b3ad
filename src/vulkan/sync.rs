//! Fences and semaphores owned by RAII types.

use std::sync::Arc;

use anyhow::{Context, Result};
use ash::vk;

use super::device::Device;

/// A fence: the GPU signals it, the CPU waits on it.
pub struct Fence {
    device: Arc<Device>,
    raw: vk::Fence,
    /// Counts this object in the live-object registry (leak tests).
    _live: crate::vulkan::live::Tracked,
}

impl Fence {
    /// The Vulkan handle (valid while `self` lives).
    pub fn raw(&self) -> vk::Fence {
        self.raw
    }

    /// A fence, created signalled when `signalled`.
    pub fn new(device: &Arc<Device>, signalled: bool) -> Result<Self> {
        let _live = crate::vulkan::live::Tracked::new("Fence")?;
        let flags = if signalled { vk::FenceCreateFlags::SIGNALED } else { vk::FenceCreateFlags::empty() };
        // SAFETY: valid create info on a live device.
        let raw = unsafe { device.raw().create_fence(&vk::FenceCreateInfo::default().flags(flags), None) }
            .context("vkCreateFence failed")?;
        Ok(Self { device: device.clone(), raw, _live })
    }

    /// Waits up to `timeout_ns`; a timeout is an error (a hung GPU must not hang the app).
    pub fn wait(&self, timeout_ns: u64) -> Result<()> {
        // SAFETY: the fence belongs to this device.
        unsafe { self.device.raw().wait_for_fences(&[self.raw()], true, timeout_ns) }
            .context("vkWaitForFences failed (timeout or device lost)")
    }

    /// `vkResetFences`.
    pub fn reset(&self) -> Result<()> {
        // SAFETY: callers reset only fences no pending submission uses (they waited).
        unsafe { self.device.raw().reset_fences(&[self.raw()]) }.context("vkResetFences failed")
    }
}

impl Drop for Fence {
    fn drop(&mut self) {
        // SAFETY: owners wait for the fence's submission before dropping it.
        unsafe { self.device.raw().destroy_fence(self.raw(), None) };
    }
}

/// A binary semaphore used only inside Vulkan (swapchain acquire / present).
pub struct Semaphore {
    device: Arc<Device>,
    raw: vk::Semaphore,
    /// Counts this object in the live-object registry (leak tests).
    _live: crate::vulkan::live::Tracked,
}

impl Semaphore {
    /// The Vulkan handle (valid while `self` lives).
    pub fn raw(&self) -> vk::Semaphore {
        self.raw
    }

    /// A binary semaphore.
    pub fn new(device: &Arc<Device>) -> Result<Self> {
        let _live = crate::vulkan::live::Tracked::new("Semaphore")?;
        // SAFETY: valid create info on a live device.
        let raw = unsafe { device.raw().create_semaphore(&vk::SemaphoreCreateInfo::default(), None) }
            .context("vkCreateSemaphore failed")?;
        Ok(Self { device: device.clone(), raw, _live })
    }
}

impl Drop for Semaphore {
    fn drop(&mut self) {
        // SAFETY: owners wait for the device (or the semaphore's users) before dropping.
        unsafe { self.device.raw().destroy_semaphore(self.raw(), None) };
    }
}
