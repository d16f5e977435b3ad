//! Window surface and swapchain: format and present-mode choice, one "render finished"
//! semaphore per swapchain image, recreation on resize or when out of date.

use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use ash::vk;

use super::image::{create_view, Image, DEPTH_FORMAT};
use crate::vulkan::device::Device;
use crate::vulkan::instance::Instance;
use crate::vulkan::sync::Semaphore;

/// A `VkSurfaceKHR`. It must be dropped before the window it was made from.
pub struct Surface {
    instance: Arc<Instance>,
    raw: vk::SurfaceKHR,
    /// Counts this object in the live-object registry (leak tests).
    _live: crate::vulkan::live::Tracked,
    /// The window the surface presents to: it outlives the surface (dropped after Drop).
    _window: Arc<winit::window::Window>,
}

impl Surface {
    /// The Vulkan surface (valid while `self` lives).
    pub fn raw(&self) -> vk::SurfaceKHR {
        self.raw
    }

    /// A surface for `window`, which it keeps alive until the surface is destroyed. The
    /// instance must have been created with the extensions
    /// `ash_window::enumerate_required_extensions` names for the window's display
    /// (checked).
    pub fn new(instance: &Arc<Instance>, window: Arc<winit::window::Window>) -> Result<Self> {
        use raw_window_handle::{HasDisplayHandle, HasWindowHandle};
        let _live = crate::vulkan::live::Tracked::new("Surface")?;
        let display = window.display_handle().context("the window's display handle")?.as_raw();
        let handle = window.window_handle().context("the window's handle")?.as_raw();
        let required = ash_window::enumerate_required_extensions(display)
            .context("this window system has no Vulkan surface support")?;
        // SAFETY: ash_window returns pointers to static NUL-terminated names.
        let required: Vec<&std::ffi::CStr> = required.iter().map(|&p| unsafe { std::ffi::CStr::from_ptr(p) }).collect();
        anyhow::ensure!(
            instance.has_surface_extensions(&required),
            "the Vulkan instance was created without the window's surface extensions {required:?}"
        );
        // SAFETY: the handles come from a live window, which the surface holds (field
        // `window`, dropped after Drop has destroyed the surface); the instance has the
        // surface extensions for this display (checked above).
        let raw = unsafe { ash_window::create_surface(instance.entry(), instance.raw(), display, handle, None) }
            .context("vkCreate*SurfaceKHR failed for the window")?;
        Ok(Self { instance: instance.clone(), raw, _live, _window: window })
    }
}

impl Drop for Surface {
    fn drop(&mut self) {
        if let Some(ext) = &self.instance.surface_ext {
            // SAFETY: the swapchain made from this surface is dropped first (owner order).
            unsafe { ext.destroy_surface(self.raw, None) };
        }
    }
}

/// The swapchain, its image views, a depth buffer and one semaphore per image that the
/// frame's submission signals and the present waits on.
pub struct Swapchain {
    device: Arc<Device>,
    raw: vk::SwapchainKHR,
    pub images: Vec<vk::Image>,
    pub views: Vec<vk::ImageView>,
    /// Signalled by the frame's submit, waited on by vkQueuePresentKHR; one per image,
    /// because presentation of image i may still hold it when another frame is recorded.
    /// The spec requires it (VUID-vkQueueSubmit-pSignalSemaphores-00067); validation layers
    /// from 1.4.313 report the per-frame-in-flight pattern
    /// (<https://github.com/KhronosGroup/Vulkan-Guide/pull/308>), the 1.3.239 layers used here
    /// do not, so no test of ours would catch a regression.
    pub render_finished: Vec<Semaphore>,
    pub depth: Image,
    pub format: vk::Format,
    pub extent: vk::Extent2D,
    pub present_mode: vk::PresentModeKHR,
    /// Counts this object in the live-object registry (leak tests).
    _live: crate::vulkan::live::Tracked,
}

impl Swapchain {
    /// The Vulkan swapchain (valid while `self` lives).
    pub fn raw(&self) -> vk::SwapchainKHR {
        self.raw
    }

    /// Creates a swapchain for `surface` of about `window_size`, replacing `old` if given.
    pub fn new(
        device: &Arc<Device>,
        surface: &Surface,
        window_size: vk::Extent2D,
        wanted: vk::PresentModeKHR,
        old: Option<&Swapchain>,
    ) -> Result<Self> {
        let _live = crate::vulkan::live::Tracked::new("Swapchain")?;
        let ext = device.instance().surface_ext.as_ref().context("instance has no surface extension")?;
        let swapchain_ext = device.swapchain_ext.as_ref().context("device has no swapchain extension")?;
        let pd = device.physical.raw;
        // SAFETY (three queries): surface and pd belong to this instance.
        let caps = unsafe { ext.get_physical_device_surface_capabilities(pd, surface.raw) }
            .context("vkGetPhysicalDeviceSurfaceCapabilitiesKHR failed")?;
        // SAFETY: as above.
        let formats = unsafe { ext.get_physical_device_surface_formats(pd, surface.raw) }
            .context("vkGetPhysicalDeviceSurfaceFormatsKHR failed")?;
        // SAFETY: as above.
        let modes = unsafe { ext.get_physical_device_surface_present_modes(pd, surface.raw) }
            .context("vkGetPhysicalDeviceSurfacePresentModesKHR failed")?;

        let format = choose_format(&formats).ok_or_else(|| anyhow!("the window surface offers no formats"))?;
        let present_mode = if modes.contains(&wanted) {
            wanted
        } else {
            log::warn!("present mode {wanted:?} is not supported by this surface ({modes:?}); using FIFO");
            vk::PresentModeKHR::FIFO
        };
        let extent = choose_extent(&caps, window_size);
        let mut image_count = caps.min_image_count + 1;
        if caps.max_image_count > 0 {
            image_count = image_count.min(caps.max_image_count);
        }
        let info = vk::SwapchainCreateInfoKHR::default()
            .surface(surface.raw)
            .min_image_count(image_count)
            .image_format(format.format)
            .image_color_space(format.color_space)
            .image_extent(extent)
            .image_array_layers(1)
            .image_usage(vk::ImageUsageFlags::COLOR_ATTACHMENT)
            .image_sharing_mode(vk::SharingMode::EXCLUSIVE)
            .pre_transform(if caps.supported_transforms.contains(vk::SurfaceTransformFlagsKHR::IDENTITY) {
                vk::SurfaceTransformFlagsKHR::IDENTITY
            } else {
                caps.current_transform
            })
            .composite_alpha(vk::CompositeAlphaFlagsKHR::OPAQUE)
            .present_mode(present_mode)
            .clipped(true)
            .old_swapchain(old.map_or(vk::SwapchainKHR::null(), |o| o.raw));
        // SAFETY: info is valid for this surface (capabilities queried above); the old
        // swapchain, if any, is retired by this call and destroyed by its owner later.
        let raw = unsafe { swapchain_ext.create_swapchain(&info, None) }.context("vkCreateSwapchainKHR failed")?;
        let depth = match Image::new(
            device,
            extent,
            DEPTH_FORMAT,
            vk::ImageUsageFlags::DEPTH_STENCIL_ATTACHMENT,
            "swapchain depth buffer",
        ) {
            Ok(d) => d,
            Err(e) => {
                // SAFETY: just created, never used.
                unsafe { swapchain_ext.destroy_swapchain(raw, None) };
                return Err(e);
            }
        };
        let mut swapchain = Self {
            _live,
            device: device.clone(),
            raw,
            images: Vec::new(),
            views: Vec::new(),
            render_finished: Vec::new(),
            depth,
            format: format.format,
            extent,
            present_mode,
        };
        // SAFETY: raw is a live swapchain of this device.
        swapchain.images =
            unsafe { swapchain_ext.get_swapchain_images(raw) }.context("vkGetSwapchainImagesKHR failed")?;
        for &image in &swapchain.images {
            swapchain.views.push(create_view(device, image, format.format, vk::ImageAspectFlags::COLOR)?);
            swapchain.render_finished.push(Semaphore::new(device)?);
        }
        log::info!(
            "swapchain: {}x{} {:?}, {} images, present mode {:?}",
            extent.width,
            extent.height,
            format.format,
            swapchain.images.len(),
            present_mode
        );
        Ok(swapchain)
    }
}

impl Drop for Swapchain {
    fn drop(&mut self) {
        // SAFETY: the owner waited for the device; views belong to this swapchain's images.
        unsafe {
            for &view in &self.views {
                self.device.raw().destroy_image_view(view, None);
            }
            if let Some(ext) = &self.device.swapchain_ext {
                ext.destroy_swapchain(self.raw, None);
            }
        }
    }
}

/// Prefers 8-bit sRGB BGRA/RGBA (the shader writes linear colour); else the first.
fn choose_format(formats: &[vk::SurfaceFormatKHR]) -> Option<vk::SurfaceFormatKHR> {
    formats
        .iter()
        .find(|f| {
            matches!(f.format, vk::Format::B8G8R8A8_SRGB | vk::Format::R8G8B8A8_SRGB)
                && f.color_space == vk::ColorSpaceKHR::SRGB_NONLINEAR
        })
        .or(formats.first())
        .copied()
}

/// The surface's fixed extent if it has one, else the window size clamped to the limits.
fn choose_extent(caps: &vk::SurfaceCapabilitiesKHR, window: vk::Extent2D) -> vk::Extent2D {
    if caps.current_extent.width != u32::MAX {
        return caps.current_extent;
    }
    vk::Extent2D {
        width: window.width.clamp(caps.min_image_extent.width, caps.max_image_extent.width),
        height: window.height.clamp(caps.min_image_extent.height, caps.max_image_extent.height),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extent_follows_surface_or_clamps_window() {
        let mut caps = vk::SurfaceCapabilitiesKHR {
            current_extent: vk::Extent2D { width: 640, height: 480 },
            min_image_extent: vk::Extent2D { width: 1, height: 1 },
            max_image_extent: vk::Extent2D { width: 1000, height: 1000 },
            ..Default::default()
        };
        let win = vk::Extent2D { width: 2000, height: 300 };
        assert_eq!(choose_extent(&caps, win), vk::Extent2D { width: 640, height: 480 });
        caps.current_extent.width = u32::MAX;
        assert_eq!(choose_extent(&caps, win), vk::Extent2D { width: 1000, height: 300 });
    }

    #[test]
    fn srgb_format_preferred() {
        let f = |format| vk::SurfaceFormatKHR { format, color_space: vk::ColorSpaceKHR::SRGB_NONLINEAR };
        let list = [f(vk::Format::B8G8R8A8_UNORM), f(vk::Format::B8G8R8A8_SRGB)];
        assert_eq!(choose_format(&list).unwrap().format, vk::Format::B8G8R8A8_SRGB);
        assert_eq!(choose_format(&list[..1]).unwrap().format, vk::Format::B8G8R8A8_UNORM);
        assert!(choose_format(&[]).is_none());
    }
}
