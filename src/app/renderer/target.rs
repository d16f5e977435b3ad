//! Where frames go: an offscreen colour image (headless, tests, screenshots) or a window's
//! swapchain.

use std::sync::Arc;

use anyhow::{Context, Result};
use ash::vk;

use crate::app::renderer::image::{full_range, Image, DEPTH_FORMAT};
use crate::app::renderer::swapchain::{Surface, Swapchain};
use crate::vulkan::commands::CommandPool;
use crate::vulkan::memory::Buffer;
use crate::vulkan::Device;

/// Colour format of offscreen images: sRGB, so the bytes read back are what a PNG holds.
pub const OFFSCREEN_FORMAT: vk::Format = vk::Format::R8G8B8A8_SRGB;

/// An image read back from the GPU: tightly packed RGBA8, sRGB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RgbaImage {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl RgbaImage {
    /// Writes the image as a PNG file.
    pub fn save_png(&self, path: &std::path::Path) -> Result<()> {
        let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), self.width, self.height);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_source_srgb(png::SrgbRenderingIntent::Perceptual);
        let mut writer = encoder.write_header().with_context(|| format!("writing PNG header to {}", path.display()))?;
        writer.write_image_data(&self.pixels).with_context(|| format!("writing PNG data to {}", path.display()))?;
        writer.finish().with_context(|| format!("finishing {}", path.display()))
    }

    /// Reads an RGBA8 PNG.
    pub fn load_png(path: &std::path::Path) -> Result<Self> {
        let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut reader = png::Decoder::new(std::io::BufReader::new(file))
            .read_info()
            .with_context(|| format!("{} is not a PNG", path.display()))?;
        let size =
            reader.output_buffer_size().with_context(|| format!("{}: the image is too large", path.display()))?;
        let mut pixels = vec![0; size];
        let info = reader.next_frame(&mut pixels).with_context(|| format!("decoding {}", path.display()))?;
        anyhow::ensure!(
            info.color_type == png::ColorType::Rgba && info.bit_depth == png::BitDepth::Eight,
            "{}: expected 8-bit RGBA, found {:?} {:?}",
            path.display(),
            info.color_type,
            info.bit_depth
        );
        pixels.truncate(info.buffer_size());
        Ok(Self { width: info.width, height: info.height, pixels })
    }
}

/// Offscreen colour and depth images of a fixed size.
pub struct OffscreenTarget {
    pub color: Image,
    pub depth: Image,
}

impl OffscreenTarget {
    pub fn new(device: &Arc<Device>, extent: vk::Extent2D) -> Result<Self> {
        let limit = device.limits.max_image_dimension2_d;
        anyhow::ensure!(
            extent.width <= limit && extent.height <= limit,
            "render size {}x{} exceeds this device's image limit of {limit}",
            extent.width,
            extent.height
        );
        let color = Image::new(
            device,
            extent,
            OFFSCREEN_FORMAT,
            vk::ImageUsageFlags::COLOR_ATTACHMENT | vk::ImageUsageFlags::TRANSFER_SRC,
            "offscreen colour image",
        )?;
        let depth = Image::new(
            device,
            extent,
            DEPTH_FORMAT,
            vk::ImageUsageFlags::DEPTH_STENCIL_ATTACHMENT,
            "offscreen depth image",
        )?;
        Ok(Self { color, depth })
    }

    /// Copies the colour image (left in COLOR_ATTACHMENT_OPTIMAL by the last frame) to
    /// host memory. The caller has waited for the device to idle.
    pub fn read_back(&self, device: &Arc<Device>, pool: &CommandPool) -> Result<RgbaImage> {
        let extent = self.color.extent;
        let bytes = u64::from(extent.width) * u64::from(extent.height) * 4;
        let mut readback =
            Buffer::host_visible(device, bytes, vk::BufferUsageFlags::TRANSFER_DST, "screenshot readback")?;
        let image = self.color.raw();
        pool.run_once("screenshot readback", |cmd| {
            let to_src = [vk::ImageMemoryBarrier2::default()
                .src_stage_mask(vk::PipelineStageFlags2::COLOR_ATTACHMENT_OUTPUT)
                .src_access_mask(vk::AccessFlags2::COLOR_ATTACHMENT_WRITE)
                .dst_stage_mask(vk::PipelineStageFlags2::COPY)
                .dst_access_mask(vk::AccessFlags2::TRANSFER_READ)
                .old_layout(vk::ImageLayout::COLOR_ATTACHMENT_OPTIMAL)
                .new_layout(vk::ImageLayout::TRANSFER_SRC_OPTIMAL)
                .image(image)
                .subresource_range(full_range(vk::ImageAspectFlags::COLOR))];
            let region = [vk::BufferImageCopy::default()
                .image_subresource(vk::ImageSubresourceLayers {
                    aspect_mask: vk::ImageAspectFlags::COLOR,
                    mip_level: 0,
                    base_array_layer: 0,
                    layer_count: 1,
                })
                .image_extent(vk::Extent3D { width: extent.width, height: extent.height, depth: 1 })];
            let back = [vk::ImageMemoryBarrier2::default()
                .src_stage_mask(vk::PipelineStageFlags2::COPY)
                .src_access_mask(vk::AccessFlags2::TRANSFER_READ)
                .dst_stage_mask(vk::PipelineStageFlags2::COLOR_ATTACHMENT_OUTPUT)
                .dst_access_mask(vk::AccessFlags2::COLOR_ATTACHMENT_WRITE)
                .old_layout(vk::ImageLayout::TRANSFER_SRC_OPTIMAL)
                .new_layout(vk::ImageLayout::COLOR_ATTACHMENT_OPTIMAL)
                .image(image)
                .subresource_range(full_range(vk::ImageAspectFlags::COLOR))];
            let host = [vk::MemoryBarrier2::default()
                .src_stage_mask(vk::PipelineStageFlags2::COPY)
                .src_access_mask(vk::AccessFlags2::TRANSFER_WRITE)
                .dst_stage_mask(vk::PipelineStageFlags2::HOST)
                .dst_access_mask(vk::AccessFlags2::HOST_READ)];
            // SAFETY: recording; image and buffer are alive, sizes match.
            unsafe {
                device.raw().cmd_pipeline_barrier2(cmd, &vk::DependencyInfo::default().image_memory_barriers(&to_src));
                device.raw().cmd_copy_image_to_buffer(
                    cmd,
                    image,
                    vk::ImageLayout::TRANSFER_SRC_OPTIMAL,
                    readback.raw(),
                    &region,
                );
                device.raw().cmd_pipeline_barrier2(
                    cmd,
                    &vk::DependencyInfo::default().image_memory_barriers(&back).memory_barriers(&host),
                );
            }
        })?;
        Ok(RgbaImage { width: extent.width, height: extent.height, pixels: readback.mapped_bytes()?.to_vec() })
    }
}

/// A window's surface and swapchain. Field order matters: the swapchain goes before the
/// surface it was made from.
pub struct WindowTarget {
    pub swapchain: Option<Swapchain>,
    pub surface: Surface,
    pub present_mode: vk::PresentModeKHR,
    /// Size the window last reported; 0×0 while minimised.
    pub window_size: vk::Extent2D,
    /// Set by a resize or an OUT_OF_DATE/SUBOPTIMAL result: rebuild before the next frame.
    pub needs_rebuild: bool,
}

impl WindowTarget {
    /// (Re)builds the swapchain if needed. Returns `false` while the window is minimised.
    pub fn ensure_swapchain(&mut self, device: &Arc<Device>) -> Result<bool> {
        if self.window_size.width == 0 || self.window_size.height == 0 {
            return Ok(false);
        }
        if self.swapchain.is_none() || self.needs_rebuild {
            device.wait_idle()?;
            let new =
                Swapchain::new(device, &self.surface, self.window_size, self.present_mode, self.swapchain.as_ref())?;
            self.swapchain = Some(new);
            self.needs_rebuild = false;
        }
        Ok(true)
    }
}
