//! Buffers and the device memory behind them.
//!
//! [`Buffer`] owns one `VkBuffer` and its own `VkDeviceMemory` (one allocation per
//! buffer: the demo has a handful of large buffers, so a sub-allocator would buy nothing).
//! Exportable buffers, whose memory HIP imports, live in [`super::export`].

use std::sync::Arc;

use anyhow::{bail, Context, Result};
use ash::vk;

use super::device::Device;

/// A buffer and its memory. Dropping it frees both; it must no longer be in use by the
/// GPU (the owner waits for its frame's fence, or for the device to idle).
pub struct Buffer {
    device: Arc<Device>,
    raw: vk::Buffer,
    memory: vk::DeviceMemory,
    size: u64,
    /// Host pointer when the memory is host-visible (mapped for the buffer's lifetime).
    mapped: Option<std::ptr::NonNull<u8>>,
    /// Counts this object in the live-object registry (leak tests).
    _live: crate::vulkan::live::Tracked,
}

impl Buffer {
    /// The Vulkan buffer (valid while `self` lives).
    pub fn raw(&self) -> vk::Buffer {
        self.raw
    }

    /// Its memory.
    pub fn memory(&self) -> vk::DeviceMemory {
        self.memory
    }

    /// Bytes of the buffer.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Device-local buffer (not host-visible).
    pub fn device_local(device: &Arc<Device>, size: u64, usage: vk::BufferUsageFlags, what: &str) -> Result<Self> {
        Self::new(device, size, usage, vk::MemoryPropertyFlags::DEVICE_LOCAL, what)
    }

    /// Host-visible, coherent buffer, mapped for its lifetime (staging and readback).
    pub fn host_visible(device: &Arc<Device>, size: u64, usage: vk::BufferUsageFlags, what: &str) -> Result<Self> {
        Self::new(
            device,
            size,
            usage,
            vk::MemoryPropertyFlags::HOST_VISIBLE | vk::MemoryPropertyFlags::HOST_COHERENT,
            what,
        )
    }

    fn new(
        device: &Arc<Device>,
        size: u64,
        usage: vk::BufferUsageFlags,
        flags: vk::MemoryPropertyFlags,
        what: &str,
    ) -> Result<Self> {
        let _live = crate::vulkan::live::Tracked::new("Buffer")?;
        if size == 0 {
            bail!("{what}: a buffer of 0 bytes cannot be created");
        }
        let info = vk::BufferCreateInfo::default().size(size).usage(usage).sharing_mode(vk::SharingMode::EXCLUSIVE);
        // SAFETY: info is valid; the device is alive.
        let raw = unsafe { device.raw().create_buffer(&info, None) }
            .with_context(|| format!("vkCreateBuffer failed for {what} ({size} bytes)"))?;
        // From here on, Drop frees whatever was made if a later step fails (null handles
        // are ignored by vkDestroyBuffer/vkFreeMemory).
        let mut buffer =
            Buffer { device: device.clone(), raw, memory: vk::DeviceMemory::null(), size, mapped: None, _live };
        // SAFETY: raw was just created on this device.
        let req = unsafe { device.raw().get_buffer_memory_requirements(raw) };
        let type_index =
            device.memory_type(req.memory_type_bits, flags).with_context(|| format!("allocating {what}"))?;
        let alloc = vk::MemoryAllocateInfo::default().allocation_size(req.size).memory_type_index(type_index);
        // SAFETY: alloc names a memory type of this device.
        buffer.memory = unsafe { device.raw().allocate_memory(&alloc, None) }
            .with_context(|| format!("vkAllocateMemory failed for {what} ({} bytes): out of GPU memory?", req.size))?;
        // SAFETY: memory is fresh, large enough and of a type the buffer allows.
        unsafe { device.raw().bind_buffer_memory(raw, buffer.memory, 0) }
            .with_context(|| format!("vkBindBufferMemory failed for {what}"))?;
        if flags.contains(vk::MemoryPropertyFlags::HOST_VISIBLE) {
            // SAFETY: host-visible memory, not mapped yet, whole range.
            let ptr = unsafe { device.raw().map_memory(buffer.memory, 0, vk::WHOLE_SIZE, vk::MemoryMapFlags::empty()) }
                .with_context(|| format!("vkMapMemory failed for {what}"))?;
            buffer.mapped = std::ptr::NonNull::new(ptr.cast());
        }
        Ok(buffer)
    }

    /// The mapped bytes of a host-visible buffer.
    pub fn mapped_bytes(&mut self) -> Result<&mut [u8]> {
        let ptr = self.mapped.context("buffer is not host-visible")?;
        // SAFETY: the mapping covers `size` bytes for the buffer's lifetime, memory is
        // coherent, and `&mut self` makes this the only view. The caller makes sure the
        // GPU is not using the range (fences) — as for any staging buffer.
        Ok(unsafe { std::slice::from_raw_parts_mut(ptr.as_ptr(), self.size as usize) })
    }

    /// Copies `data` into a host-visible buffer from its start.
    pub fn write<T: bytemuck::Pod>(&mut self, data: &[T]) -> Result<()> {
        let bytes: &[u8] = bytemuck::cast_slice(data);
        let dst = self.mapped_bytes()?;
        if bytes.len() > dst.len() {
            bail!("writing {} bytes into a buffer of {}", bytes.len(), dst.len());
        }
        dst[..bytes.len()].copy_from_slice(bytes);
        Ok(())
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        self.device.wait_idle_before_release("a buffer");
        // SAFETY: the device is idle (above), so the GPU is done with the buffer; the
        // memory was allocated for this buffer alone. Null handles are ignored.
        unsafe {
            self.device.raw().destroy_buffer(self.raw(), None);
            self.device.raw().free_memory(self.memory, None);
        }
    }
}
