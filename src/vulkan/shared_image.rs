//! A 2-D image another API may write: optimal tiling, one mip level, a dedicated
//! allocation, and, where the driver can, memory exportable as this system's opaque handle
//! (`OPAQUE_FD`, `OPAQUE_WIN32`; HIP maps it with `hipExternalMemoryGetMappedMipmappedArray`).
//!
//! Exportability is asked, never assumed (`vkGetPhysicalDeviceImageFormatProperties2` with
//! `VkPhysicalDeviceExternalImageFormatInfo`); an image the driver cannot export is made
//! plain, and [`SharedImage::exportable`] says so.

use std::sync::Arc;

use anyhow::{bail, Context, Result};
use ash::vk;

use super::device::Device;
use super::export::ExportedMemory;
use super::external::{memory_handle_type, HANDLE_KINDS};
use crate::shared_handle::HandleKind;

/// An image with its own dedicated memory and a view of it.
pub struct SharedImage {
    device: Arc<Device>,
    raw: vk::Image,
    memory: vk::DeviceMemory,
    view: vk::ImageView,
    format: vk::Format,
    extent: vk::Extent2D,
    allocation_size: u64,
    memory_type_index: u32,
    /// The handle kind its memory exports as, if it is exportable.
    export_kind: Option<HandleKind>,
    /// Counts this object in the live-object registry (leak tests).
    _live: crate::vulkan::live::Tracked,
}

impl SharedImage {
    /// The first handle kind of this system (see [`HANDLE_KINDS`]) that the device can
    /// export images of `format` and `usage` (optimal tiling, 2-D) as, if any.
    pub fn export_support(device: &Device, format: vk::Format, usage: vk::ImageUsageFlags) -> Option<HandleKind> {
        if !device.external.exports_memory() {
            return None;
        }
        HANDLE_KINDS.iter().copied().find(|&kind| Self::exports_as(device, format, usage, kind))
    }

    fn exports_as(device: &Device, format: vk::Format, usage: vk::ImageUsageFlags, kind: HandleKind) -> bool {
        let mut external_info =
            vk::PhysicalDeviceExternalImageFormatInfo::default().handle_type(memory_handle_type(kind));
        let info = vk::PhysicalDeviceImageFormatInfo2::default()
            .format(format)
            .ty(vk::ImageType::TYPE_2D)
            .tiling(vk::ImageTiling::OPTIMAL)
            .usage(usage)
            .push_next(&mut external_info);
        let mut external_props = vk::ExternalImageFormatProperties::default();
        let mut props = vk::ImageFormatProperties2::default().push_next(&mut external_props);
        // SAFETY: Vulkan 1.1 core query on a physical device of this instance.
        let supported = unsafe {
            device.instance().raw().get_physical_device_image_format_properties2(device.physical.raw, &info, &mut props)
        };
        let features = external_props.external_memory_properties.external_memory_features;
        supported.is_ok() && features.contains(vk::ExternalMemoryFeatureFlags::EXPORTABLE)
    }

    /// Creates a `width × height` image of `format` (exportable when `export` is true and
    /// [`SharedImage::export_support`] allows it), with dedicated device-local memory and
    /// a colour view.
    pub fn new(
        device: &Arc<Device>,
        extent: vk::Extent2D,
        format: vk::Format,
        usage: vk::ImageUsageFlags,
        export: bool,
        what: &str,
    ) -> Result<Self> {
        let _live = crate::vulkan::live::Tracked::new("SharedImage")?;
        if extent.width == 0 || extent.height == 0 {
            bail!("{what}: an image of {}x{} cannot be created", extent.width, extent.height);
        }
        let export_kind = if export { Self::export_support(device, format, usage) } else { None };
        let handle_types = export_kind.map_or(vk::ExternalMemoryHandleTypeFlags::empty(), memory_handle_type);
        let mut external = vk::ExternalMemoryImageCreateInfo::default().handle_types(handle_types);
        let mut info = image_2d_info(extent, format, usage);
        if export_kind.is_some() {
            info = info.push_next(&mut external);
        }
        // SAFETY: valid create info; the external handle type was checked for this format.
        let raw = unsafe { device.raw().create_image(&info, None) }.with_context(|| {
            format!("vkCreateImage failed for {what} ({}x{} {format:?})", extent.width, extent.height)
        })?;
        let mut image = Self {
            device: device.clone(),
            raw,
            memory: vk::DeviceMemory::null(),
            view: vk::ImageView::null(),
            format,
            extent,
            allocation_size: 0,
            memory_type_index: 0,
            export_kind,
            _live,
        };
        // SAFETY: raw is an image of this device.
        let req = unsafe { device.raw().get_image_memory_requirements(raw) };
        let type_index = device
            .memory_type(req.memory_type_bits, vk::MemoryPropertyFlags::DEVICE_LOCAL)
            .with_context(|| format!("allocating {what}"))?;
        // Dedicated always: images exported to CUDA/HIP are imported as dedicated
        // allocations (`hipExternalMemoryDedicated`), and drivers prefer it for images.
        let mut dedicated = vk::MemoryDedicatedAllocateInfo::default().image(raw);
        let mut export_info = vk::ExportMemoryAllocateInfo::default().handle_types(handle_types);
        let mut alloc = vk::MemoryAllocateInfo::default()
            .allocation_size(req.size)
            .memory_type_index(type_index)
            .push_next(&mut dedicated);
        if export_kind.is_some() {
            alloc = alloc.push_next(&mut export_info);
        }
        // SAFETY: alloc names a memory type the image allows, dedicated to it.
        image.memory = unsafe { device.raw().allocate_memory(&alloc, None) }
            .with_context(|| format!("vkAllocateMemory failed for {what} ({} bytes): out of GPU memory?", req.size))?;
        image.allocation_size = req.size;
        image.memory_type_index = type_index;
        // SAFETY: fresh memory of an allowed type, large enough, dedicated to this image.
        unsafe { device.raw().bind_image_memory(raw, image.memory, 0) }
            .with_context(|| format!("vkBindImageMemory failed for {what}"))?;
        let view_info = vk::ImageViewCreateInfo::default()
            .image(raw)
            .view_type(vk::ImageViewType::TYPE_2D)
            .format(format)
            .subresource_range(color_range());
        // SAFETY: the image is bound to memory and has this format.
        image.view = unsafe { device.raw().create_image_view(&view_info, None) }
            .with_context(|| format!("vkCreateImageView failed for {what}"))?;
        Ok(image)
    }

    /// The Vulkan image (valid while `self` lives).
    pub fn raw(&self) -> vk::Image {
        self.raw
    }

    /// A view of the whole image.
    pub fn view(&self) -> vk::ImageView {
        self.view
    }

    /// Its format.
    pub fn format(&self) -> vk::Format {
        self.format
    }

    /// Its size in texels.
    pub fn extent(&self) -> vk::Extent2D {
        self.extent
    }

    /// Whether its memory can be exported ([`SharedImage::export`]).
    pub fn exportable(&self) -> bool {
        self.export_kind.is_some()
    }

    /// Exports the memory as a new handle (dedicated; `buffer_size` is the allocation size).
    pub fn export(&self) -> Result<ExportedMemory> {
        let Some(kind) = self.export_kind else {
            bail!("{}: this image's memory was not made exportable", self.device.physical.name);
        };
        // SAFETY: the memory is live and was allocated with ExportMemoryAllocateInfo naming
        // this kind's handle type.
        let handle = unsafe { self.device.external.export_memory(self.memory, kind) }
            .context("exporting a shared image's memory")?;
        Ok(ExportedMemory {
            handle,
            allocation_size: self.allocation_size,
            buffer_size: self.allocation_size,
            dedicated: true,
            memory_type_index: self.memory_type_index,
        })
    }
}

impl Drop for SharedImage {
    fn drop(&mut self) {
        self.device.wait_idle_before_release("a shared image");
        // SAFETY: the device is idle, so no Vulkan work uses the image; HIP's imports of it
        // are dropped first by their owners; null handles (a failed creation) are ignored.
        unsafe {
            self.device.raw().destroy_image_view(self.view, None);
            self.device.raw().destroy_image(self.raw, None);
            self.device.raw().free_memory(self.memory, None);
        }
    }
}

/// A 2-D image of `extent` and `format`: one level, one layer, one sample, optimal tiling,
/// exclusive, starting `UNDEFINED` (every image of the demo is one).
pub fn image_2d_info(
    extent: vk::Extent2D,
    format: vk::Format,
    usage: vk::ImageUsageFlags,
) -> vk::ImageCreateInfo<'static> {
    vk::ImageCreateInfo::default()
        .image_type(vk::ImageType::TYPE_2D)
        .format(format)
        .extent(vk::Extent3D { width: extent.width, height: extent.height, depth: 1 })
        .mip_levels(1)
        .array_layers(1)
        .samples(vk::SampleCountFlags::TYPE_1)
        .tiling(vk::ImageTiling::OPTIMAL)
        .usage(usage)
        .sharing_mode(vk::SharingMode::EXCLUSIVE)
        .initial_layout(vk::ImageLayout::UNDEFINED)
}

/// The one colour mip level and layer.
pub fn color_range() -> vk::ImageSubresourceRange {
    vk::ImageSubresourceRange {
        aspect_mask: vk::ImageAspectFlags::COLOR,
        base_mip_level: 0,
        level_count: 1,
        base_array_layer: 0,
        layer_count: 1,
    }
}
