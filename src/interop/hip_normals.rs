//! HIP writing the shading images (`--shading image`), one per height slot, in the same
//! hand-over as the heights (same stream, before the same signals).
//!
//! Two ways, chosen once:
//! - **direct**: the slot's Vulkan image is exported (`OPAQUE_FD`, dedicated), imported
//!   with `hipImportExternalMemory`, mapped with `hipExternalMemoryGetMappedMipmappedArray`,
//!   level 0 taken with `hipGetMipmappedArrayLevel`, and the kernel writes it through a
//!   surface object. Vulkan only acquires the image from the external family. Needs a
//!   runtime that maps images (CUDA through the shim) and an exportable image.
//! - **copied**: the kernel writes a linear RGBA16F buffer Vulkan exported to HIP, and the
//!   frame's command buffer copies it into the image. ROCm's runtime cannot map images on
//!   Linux, so this is the AMD path; it is also the fallback when the direct setup fails
//!   (logged with the reason).

use std::ffi::c_void;
use std::sync::Arc;

use anyhow::{Context, Result};
use ash::vk;

use crate::hip;
use crate::interop::hip_slots::import_and_map;
use crate::interop::normal_images::{NormalImages, NORMAL_TEXEL_BYTES};
use crate::interop::sync::plan::VULKAN_WAIT_STAGE;
use crate::interop::{buffer_barrier, release_to_external};
use crate::vulkan::export::ExportableBuffer;
use crate::vulkan::Device;

/// Threads per block of the normals kernels (16 × 16).
const BLOCK: [u32; 3] = [16, 16, 1];

/// HIP's side of the shading images.
pub enum HipNormals {
    /// The kernel writes each image through a surface object.
    Direct {
        /// Slot `i`'s mapped image at index `i`.
        images: Vec<hip::MappedImage>,
        /// `sinewave_normals_surface`.
        kernel: hip::Function,
    },
    /// The kernel writes buffers that Vulkan copies into the images. Field order is drop
    /// order: HIP's mappings before the Vulkan buffers they map.
    Copied {
        /// Slot `i`'s buffer as HIP maps it.
        mapped: Vec<hip::MappedBuffer>,
        /// Slot `i`'s buffer (Vulkan's, exported to HIP).
        buffers: Vec<ExportableBuffer>,
        /// `sinewave_normals`.
        kernel: hip::Function,
    },
}

impl HipNormals {
    /// Sets up the writes of `images` on `hip`: direct where possible (unless
    /// `force_copy`), else copied; the log says which and why. `heights_kernel` is the
    /// sinewave kernel; the normals kernels are taken from its code object.
    pub fn new(
        hip: &hip::Hip,
        device: &Arc<Device>,
        images: &NormalImages,
        heights_kernel: &hip::Function,
        force_copy: bool,
    ) -> Result<Self> {
        let why_not_direct = if force_copy {
            "asked for (--shading image-copy)".to_string()
        } else if !hip.maps_images() {
            "this HIP runtime cannot map Vulkan images (ROCm on Linux)".to_string()
        } else if !images.exportable() {
            format!("{} cannot export the shading images", device.physical.name)
        } else {
            match Self::direct(hip, images, heights_kernel) {
                Ok(direct) => {
                    log::info!("shading: HIP writes the shading images directly (mapped image, surface object)");
                    return Ok(direct);
                }
                Err(e) => format!("mapping the images failed: {e:#}"),
            }
        };
        log::info!(
            "shading: HIP writes the normals into buffers that Vulkan copies into the images ({why_not_direct})"
        );
        Self::copied(hip, device, images, heights_kernel)
    }

    fn direct(hip: &hip::Hip, images: &NormalImages, heights_kernel: &hip::Function) -> Result<Self> {
        let kernel = heights_kernel
            .sibling(hip::NORMALS_SURFACE_KERNEL_NAME)
            .context("the kernel image has no surface-writing normals kernel")?;
        let mut mapped = Vec::with_capacity(images.images.len());
        for (i, image) in images.images.iter().enumerate() {
            let exported = image.export()?;
            // SAFETY: the export of shading image i's dedicated memory of `allocation_size`
            // bytes; the images outlive this source (the renderer drops its height source
            // first).
            let memory = unsafe { hip::ExternalMemory::import(hip, exported.handle, exported.allocation_size, true) }
                .with_context(|| format!("importing shading image {i} into HIP"))?;
            // The image is RGBA16F of the grid's size, one level (NormalImages).
            let image = memory
                .map_rgba16f_image(images.width(), images.height())
                .with_context(|| format!("mapping shading image {i} in HIP"))?;
            mapped.push(image);
        }
        Ok(HipNormals::Direct { images: mapped, kernel })
    }

    fn copied(
        hip: &hip::Hip,
        device: &Arc<Device>,
        images: &NormalImages,
        heights_kernel: &hip::Function,
    ) -> Result<Self> {
        let kernel = heights_kernel
            .sibling(hip::NORMALS_KERNEL_NAME)
            .context("the kernel image has no normals kernel (rebuild it from kernels/sinewave.hip)")?;
        let mut buffers = Vec::with_capacity(images.images.len());
        let mut mapped = Vec::with_capacity(images.images.len());
        for i in 0..images.images.len() {
            let buffer = ExportableBuffer::new(
                device,
                images.bytes(),
                vk::BufferUsageFlags::TRANSFER_SRC,
                &format!("normals buffer {i}"),
            )?;
            let exported = buffer.export()?;
            // SAFETY: this buffer's export; `buffers` outlives `mapped` (field order).
            let memory = unsafe { import_and_map(hip, exported, images.bytes()) }
                .with_context(|| format!("normals buffer {i}"))?;
            mapped.push(memory);
            buffers.push(buffer);
        }
        Ok(HipNormals::Copied { mapped, buffers, kernel })
    }

    /// `direct` or `copied`, for logs.
    pub fn mode(&self) -> &'static str {
        match self {
            HipNormals::Direct { .. } => "direct",
            HipNormals::Copied { .. } => "copied",
        }
    }

    /// Queues the normals of `slot` at `time` on `stream` (refused when `width × height`
    /// is not the size the image or buffer was made for).
    ///
    /// # Safety
    /// Nothing else reads or writes `slot`'s image (direct) or buffer (copied) until the
    /// kernel completes on `stream`: the same hand-over as the slot's heights, which the
    /// caller has arranged (the plan's HIP waits, or the renderer's fence).
    pub unsafe fn launch(&self, stream: &hip::Stream, slot: usize, width: u32, height: u32, time: f32) -> Result<()> {
        let grid = [width.div_ceil(BLOCK[0]), height.div_ceil(BLOCK[1]), 1];
        let (mut width_arg, mut height_arg, mut time_arg) = (width, height, time);
        match self {
            HipNormals::Direct { images, kernel } => {
                let image = images.get(slot).context("no shading image for this slot")?;
                anyhow::ensure!(
                    image.extent() == (width, height),
                    "shading image {slot} is {:?}, not {width}x{height}",
                    image.extent()
                );
                let mut surface = image.surface();
                let mut args: [*mut c_void; 4] = [
                    (&mut surface as *mut u64).cast(),
                    (&mut width_arg as *mut u32).cast(),
                    (&mut height_arg as *mut u32).cast(),
                    (&mut time_arg as *mut f32).cast(),
                ];
                // SAFETY: the arguments match `sinewave_normals_surface(cudaSurfaceObject_t,
                // unsigned, unsigned, float)` (a 64-bit surface handle); the surface covers
                // width × height texels (mapped with those extents) and the kernel checks
                // bounds; exclusive access is the caller's contract.
                unsafe { kernel.launch(grid, BLOCK, 0, stream, &mut args) }
            }
            HipNormals::Copied { mapped, kernel, .. } => {
                let buffer = mapped.get(slot).context("no normals buffer for this slot")?;
                let needed = u64::from(width) * u64::from(height) * NORMAL_TEXEL_BYTES;
                anyhow::ensure!(
                    buffer.size() >= needed,
                    "normals buffer {slot} holds {} bytes, not {needed}",
                    buffer.size()
                );
                let mut ptr = buffer.device_ptr();
                let mut args: [*mut c_void; 4] = [
                    (&mut ptr as *mut *mut c_void).cast(),
                    (&mut width_arg as *mut u32).cast(),
                    (&mut height_arg as *mut u32).cast(),
                    (&mut time_arg as *mut f32).cast(),
                ];
                // SAFETY: the arguments match `sinewave_normals(ushort4*, unsigned, unsigned,
                // float)`; the buffer holds width × height texels of 8 bytes (NormalImages::
                // bytes) and the kernel checks bounds; exclusive access is the caller's contract.
                unsafe { kernel.launch(grid, BLOCK, 0, stream, &mut args) }
            }
        }
        .context("launching the normals kernel")
    }

    /// Records what makes `slot`'s image readable by the fragment shader once HIP's write
    /// is visible to the frame (its semaphore waits or a CPU wait): the acquire (direct),
    /// or the acquire of the buffer, the copy into the image, and the buffer's release
    /// (copied).
    ///
    /// # Safety
    /// `cmd` is a command buffer of `device` in the recording state, before the draw;
    /// `images` are the ones this was made for; all outlive the command buffer's execution.
    pub unsafe fn record_vulkan(&self, device: &Device, cmd: vk::CommandBuffer, images: &NormalImages, slot: usize) {
        // Every barrier starts at the stage the frame waits for HIP at, so the copy and the
        // layout transition chain after the wait (or after the burst's chained wait).
        let after = VULKAN_WAIT_STAGE;
        match self {
            // SAFETY: the caller's contract; the images are exportable (direct needs it).
            HipNormals::Direct { .. } => unsafe { images.record_acquire(cmd, slot, after) },
            HipNormals::Copied { buffers, .. } => {
                let buffer = buffers[slot].raw();
                let (copy, read) = (vk::PipelineStageFlags2::COPY, vk::AccessFlags2::TRANSFER_READ);
                let acquire = vk::BufferMemoryBarrier2::default()
                    .src_stage_mask(after)
                    .src_access_mask(vk::AccessFlags2::NONE)
                    .dst_stage_mask(copy)
                    .dst_access_mask(read)
                    .src_queue_family_index(vk::QUEUE_FAMILY_EXTERNAL)
                    .dst_queue_family_index(device.queue_family)
                    .buffer(buffer)
                    .size(vk::WHOLE_SIZE);
                // SAFETY: the caller's contract; the buffer is this device's and lives as
                // long as `self`.
                unsafe {
                    buffer_barrier(device, cmd, acquire);
                    images.record_upload(cmd, slot, buffer, copy);
                    release_to_external(device, cmd, buffer, copy, read);
                }
            }
        }
    }
}
