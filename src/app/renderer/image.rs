//! Images with their own memory and a view: render targets and depth buffers.

use std::sync::Arc;

use anyhow::{Context, Result};
use ash::vk;

use crate::vulkan::device::Device;

/// A 2-D image, its memory and a view of the whole image.
pub struct Image {
    device: Arc<Device>,
    raw: vk::Image,
    pub memory: vk::DeviceMemory,
    pub view: vk::ImageView,
    pub format: vk::Format,
    pub extent: vk::Extent2D,
    /// Counts this object in the live-object registry (leak tests).
    _live: crate::vulkan::live::Tracked,
}

impl Image {
    /// The Vulkan image (valid while `self` lives).
    pub fn raw(&self) -> vk::Image {
        self.raw
    }

    pub fn new(
        device: &Arc<Device>,
        extent: vk::Extent2D,
        format: vk::Format,
        usage: vk::ImageUsageFlags,
        what: &str,
    ) -> Result<Self> {
        let _live = crate::vulkan::live::Tracked::new("Image")?;
        let info = crate::vulkan::shared_image::image_2d_info(extent, format, usage);
        // SAFETY: valid create info on a live device.
        let raw = unsafe { device.raw().create_image(&info, None) }.with_context(|| {
            format!("vkCreateImage failed for {what} ({}x{} {format:?})", extent.width, extent.height)
        })?;
        let mut image = Self {
            _live,
            device: device.clone(),
            raw,
            memory: vk::DeviceMemory::null(),
            view: vk::ImageView::null(),
            format,
            extent,
        };
        // SAFETY: raw is an image of this device.
        let req = unsafe { device.raw().get_image_memory_requirements(raw) };
        let type_index = device.memory_type(req.memory_type_bits, vk::MemoryPropertyFlags::DEVICE_LOCAL)?;
        let alloc = vk::MemoryAllocateInfo::default().allocation_size(req.size).memory_type_index(type_index);
        // SAFETY: a memory type allowed for the image.
        image.memory = unsafe { device.raw().allocate_memory(&alloc, None) }
            .with_context(|| format!("vkAllocateMemory failed for {what} ({} bytes)", req.size))?;
        // SAFETY: fresh memory, large enough.
        unsafe { device.raw().bind_image_memory(raw, image.memory, 0) }
            .with_context(|| format!("vkBindImageMemory failed for {what}"))?;
        image.view = create_view(device, raw, format, aspect_of(format)).with_context(|| format!("view of {what}"))?;
        Ok(image)
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        // SAFETY: the owner waited for the GPU to stop using the image.
        unsafe {
            self.device.raw().destroy_image_view(self.view, None);
            self.device.raw().destroy_image(self.raw(), None);
            self.device.raw().free_memory(self.memory, None);
        }
    }
}

/// The aspect a whole-image view or barrier of `format` uses.
pub fn aspect_of(format: vk::Format) -> vk::ImageAspectFlags {
    match format {
        vk::Format::D32_SFLOAT | vk::Format::D16_UNORM | vk::Format::X8_D24_UNORM_PACK32 => vk::ImageAspectFlags::DEPTH,
        _ => vk::ImageAspectFlags::COLOR,
    }
}

/// A 2-D view of the whole of `image`.
pub fn create_view(
    device: &Device,
    image: vk::Image,
    format: vk::Format,
    aspect: vk::ImageAspectFlags,
) -> Result<vk::ImageView> {
    let info = vk::ImageViewCreateInfo::default()
        .image(image)
        .view_type(vk::ImageViewType::TYPE_2D)
        .format(format)
        .subresource_range(full_range(aspect));
    // SAFETY: image belongs to this device and has this format.
    unsafe { device.raw().create_image_view(&info, None) }.context("vkCreateImageView failed")
}

/// The one mip level and layer the demo's images have.
pub fn full_range(aspect: vk::ImageAspectFlags) -> vk::ImageSubresourceRange {
    vk::ImageSubresourceRange {
        aspect_mask: aspect,
        base_mip_level: 0,
        level_count: 1,
        base_array_layer: 0,
        layer_count: 1,
    }
}

/// Depth format of every depth buffer.
pub const DEPTH_FORMAT: vk::Format = vk::Format::D32_SFLOAT;
