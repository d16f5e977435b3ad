//! The shading images: one RGBA16F image per height slot holding the grid's surface
//! normals (`crate::sinewave::normal`), which the fragment shader samples with
//! `--shading image`. Whoever writes the heights writes the slot's normals too, in the same
//! hand-over: HIP through a surface object on the exported image, or anyone through a
//! buffer that Vulkan copies into the image (HIP where the runtime cannot map images, the
//! CPU).
//!
//! ## Layouts and ownership
//!
//! Between frames an image rests in `GENERAL`, owned by `VK_QUEUE_FAMILY_EXTERNAL` when it
//! is exportable (so HIP may write it: HIP sees raw memory, and `GENERAL` is the layout
//! every access is defined for), else by the graphics queue. Each frame:
//! - a writer through Vulkan ([`NormalImages::record_upload`]) acquires it into
//!   `TRANSFER_DST_OPTIMAL`, copies, and moves it to `SHADER_READ_ONLY_OPTIMAL`;
//! - a writer outside Vulkan (HIP) leaves it to [`NormalImages::record_acquire`], which
//!   acquires it straight into `SHADER_READ_ONLY_OPTIMAL` for the fragment shader;
//! - a compute shader acquires it in `GENERAL` ([`NormalImages::record_acquire_for_compute`]),
//!   writes it, and moves it to `SHADER_READ_ONLY_OPTIMAL` ([`NormalImages::record_compute_written`]);
//! - after the draw the renderer calls [`NormalImages::record_release`]: back to `GENERAL`
//!   and to the external family.
//!
//! [`NormalImages::new`] records the first transition (`UNDEFINED` → `GENERAL`, released),
//! so every frame starts from the same state.

use std::sync::Arc;

use anyhow::{Context, Result};
use ash::vk;

use crate::vulkan::commands::CommandPool;
use crate::vulkan::shared_image::{color_range, SharedImage};
use crate::vulkan::Device;

/// Texel format of the shading images: the normal in `xyz`, `w = 0`.
pub const NORMAL_FORMAT: vk::Format = vk::Format::R16G16B16A16_SFLOAT;
/// Bytes per texel of [`NORMAL_FORMAT`].
pub const NORMAL_TEXEL_BYTES: u64 = 8;
/// Usage of every shading image: sampled by the fragment shader, written by copies or a
/// compute shader (storage), read back by `--verify`.
pub const NORMAL_IMAGE_USAGE: vk::ImageUsageFlags = vk::ImageUsageFlags::from_raw(
    vk::ImageUsageFlags::SAMPLED.as_raw()
        | vk::ImageUsageFlags::STORAGE.as_raw()
        | vk::ImageUsageFlags::TRANSFER_DST.as_raw()
        | vk::ImageUsageFlags::TRANSFER_SRC.as_raw(),
);

/// The `S` shading images, one per height slot, `width × height` texels each.
pub struct NormalImages {
    /// Slot `i`'s image at index `i`.
    pub images: Vec<SharedImage>,
    /// The images rest with `VK_QUEUE_FAMILY_EXTERNAL` (they are exportable).
    external: bool,
    device: Arc<Device>,
    width: u32,
    height: u32,
}

impl NormalImages {
    /// Creates `count` images of `width × height` texels, exportable when `export` is
    /// true and the driver can export them (else plain, and logged), and records their
    /// first transition on `pool`.
    pub fn new(
        device: &Arc<Device>,
        pool: &CommandPool,
        width: u32,
        height: u32,
        count: usize,
        export: bool,
    ) -> Result<Self> {
        let extent = vk::Extent2D { width, height };
        let images = (0..count)
            .map(|i| {
                SharedImage::new(
                    device,
                    extent,
                    NORMAL_FORMAT,
                    NORMAL_IMAGE_USAGE,
                    export,
                    &format!("shading image {i}"),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let external = images.first().is_some_and(SharedImage::exportable);
        if export && !external {
            log::info!(
                "shading: {} cannot export {NORMAL_FORMAT:?} images as any of {:?}; HIP writes the normals through \
                 a buffer that Vulkan copies into the image",
                device.physical.name,
                crate::vulkan::external::HANDLE_KINDS
            );
        }
        let this = Self { images, external, device: device.clone(), width, height };
        pool.run_once("shading images: first transition", |cmd| {
            for slot in 0..this.images.len() {
                // SAFETY: the one-time command buffer is recording; the images are this
                // device's and outlive it (run_once waits).
                unsafe {
                    this.barrier(
                        cmd,
                        slot,
                        (vk::PipelineStageFlags2::NONE, vk::AccessFlags2::NONE, vk::ImageLayout::UNDEFINED),
                        (vk::PipelineStageFlags2::NONE, vk::AccessFlags2::NONE, vk::ImageLayout::GENERAL),
                        Transfer::Release,
                    )
                };
            }
        })?;
        log::info!(
            "shading: {count} {NORMAL_FORMAT:?} images of {width}x{height} ({})",
            if external { "exportable, dedicated" } else { "not exported" }
        );
        Ok(this)
    }

    /// Whether the images can be exported (HIP may then write them directly).
    pub fn exportable(&self) -> bool {
        self.external
    }

    /// Texels per row.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Rows.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Bytes of one image's texels, tightly packed (what an upload buffer must hold).
    pub fn bytes(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height) * NORMAL_TEXEL_BYTES
    }

    /// Records: acquire `slot`'s image into `TRANSFER_DST_OPTIMAL`, copy `src` (tightly
    /// packed RGBA16F, [`NormalImages::bytes`] bytes) into it, make it readable by the
    /// fragment shader. `after`: the stage the frame's semaphore waits are made at (the
    /// acquire chains after them), or `NONE` when nothing is waited for on the GPU.
    ///
    /// # Safety
    /// `cmd` is a command buffer of this device in the recording state; `src` a buffer of
    /// this device with `TRANSFER_SRC` usage holding the texels, made available to transfer
    /// reads (e.g. acquired from the external family by the caller); both outlive the
    /// command buffer's execution; `slot < images.len()`.
    pub unsafe fn record_upload(
        &self,
        cmd: vk::CommandBuffer,
        slot: usize,
        src: vk::Buffer,
        after: vk::PipelineStageFlags2,
    ) {
        let (copy, write) = (vk::PipelineStageFlags2::COPY, vk::AccessFlags2::TRANSFER_WRITE);
        // SAFETY: the caller's contract.
        unsafe {
            self.barrier(
                cmd,
                slot,
                (after, vk::AccessFlags2::NONE, vk::ImageLayout::GENERAL),
                (copy, write, vk::ImageLayout::TRANSFER_DST_OPTIMAL),
                Transfer::Acquire,
            );
            let region = [self.whole_image()];
            self.device.raw().cmd_copy_buffer_to_image(
                cmd,
                src,
                self.images[slot].raw(),
                vk::ImageLayout::TRANSFER_DST_OPTIMAL,
                &region,
            );
            self.barrier(
                cmd,
                slot,
                (copy, write, vk::ImageLayout::TRANSFER_DST_OPTIMAL),
                (
                    vk::PipelineStageFlags2::FRAGMENT_SHADER,
                    vk::AccessFlags2::SHADER_SAMPLED_READ,
                    vk::ImageLayout::SHADER_READ_ONLY_OPTIMAL,
                ),
                Transfer::None,
            );
        }
    }

    /// Records the acquire of `slot`'s image, written outside Vulkan (HIP), into
    /// `SHADER_READ_ONLY_OPTIMAL` for the fragment shader; `after` as for
    /// [`NormalImages::record_upload`] (the layout transition must follow HIP's write).
    ///
    /// # Safety
    /// As [`NormalImages::record_upload`], without the buffer; the image must be
    /// exportable (HIP wrote it through its import), and the submission must wait for
    /// HIP's write (the frame's semaphores at `after`, or a CPU wait).
    pub unsafe fn record_acquire(&self, cmd: vk::CommandBuffer, slot: usize, after: vk::PipelineStageFlags2) {
        // SAFETY: the caller's contract.
        unsafe {
            self.barrier(
                cmd,
                slot,
                (after, vk::AccessFlags2::NONE, vk::ImageLayout::GENERAL),
                (
                    vk::PipelineStageFlags2::FRAGMENT_SHADER,
                    vk::AccessFlags2::SHADER_SAMPLED_READ,
                    vk::ImageLayout::SHADER_READ_ONLY_OPTIMAL,
                ),
                Transfer::Acquire,
            )
        };
    }

    /// Records the acquire of `slot`'s image for a compute shader's storage writes, into
    /// `GENERAL`. The old contents are discarded (`UNDEFINED`): the shader writes every
    /// texel. (From `GENERAL` to `GENERAL` there would be no transition, and the validation
    /// layer, which applies an external transfer's layout change at the acquire, would then
    /// find the image still in the layout of the frame's draw.)
    ///
    /// # Safety
    /// `cmd` is recording; `slot < images.len()`; the image outlives the command buffer;
    /// the dispatch that follows writes every texel.
    pub unsafe fn record_acquire_for_compute(&self, cmd: vk::CommandBuffer, slot: usize) {
        // SAFETY: the caller's contract.
        unsafe {
            self.barrier(
                cmd,
                slot,
                (vk::PipelineStageFlags2::NONE, vk::AccessFlags2::NONE, vk::ImageLayout::UNDEFINED),
                (
                    vk::PipelineStageFlags2::COMPUTE_SHADER,
                    vk::AccessFlags2::SHADER_STORAGE_WRITE,
                    vk::ImageLayout::GENERAL,
                ),
                Transfer::Acquire,
            )
        };
    }

    /// Records what makes a compute shader's writes of `slot`'s image readable by the
    /// fragment shader (`GENERAL` → `SHADER_READ_ONLY_OPTIMAL`), after
    /// [`NormalImages::record_acquire_for_compute`] and the dispatch.
    ///
    /// # Safety
    /// As [`NormalImages::record_acquire_for_compute`].
    pub unsafe fn record_compute_written(&self, cmd: vk::CommandBuffer, slot: usize) {
        // SAFETY: the caller's contract.
        unsafe {
            self.barrier(
                cmd,
                slot,
                (
                    vk::PipelineStageFlags2::COMPUTE_SHADER,
                    vk::AccessFlags2::SHADER_STORAGE_WRITE,
                    vk::ImageLayout::GENERAL,
                ),
                (
                    vk::PipelineStageFlags2::FRAGMENT_SHADER,
                    vk::AccessFlags2::SHADER_SAMPLED_READ,
                    vk::ImageLayout::SHADER_READ_ONLY_OPTIMAL,
                ),
                Transfer::None,
            )
        };
    }

    /// Records the release of `slot`'s image after the draw: back to `GENERAL` and the
    /// external family, for the next writer.
    ///
    /// # Safety
    /// `cmd` is recording, after a [`NormalImages::record_upload`] or
    /// [`NormalImages::record_acquire`] of the same slot in this frame; `slot <
    /// images.len()`; the image outlives the command buffer's execution.
    pub unsafe fn record_release(&self, cmd: vk::CommandBuffer, slot: usize) {
        // SAFETY: the caller's contract.
        unsafe {
            self.barrier(
                cmd,
                slot,
                (
                    vk::PipelineStageFlags2::FRAGMENT_SHADER,
                    vk::AccessFlags2::SHADER_SAMPLED_READ,
                    vk::ImageLayout::SHADER_READ_ONLY_OPTIMAL,
                ),
                (vk::PipelineStageFlags2::NONE, vk::AccessFlags2::NONE, vk::ImageLayout::GENERAL),
                Transfer::Release,
            )
        };
    }

    /// Records a copy of `slot`'s image (at rest, between frames) into `dst`, tightly
    /// packed, made visible to the host; the image goes back to rest.
    ///
    /// # Safety
    /// `cmd` is recording; `dst` a buffer of this device with `TRANSFER_DST` usage and at
    /// least [`NormalImages::bytes`] bytes; no frame that writes or reads the image is
    /// pending; both outlive the command buffer's execution; `slot < images.len()`.
    pub unsafe fn record_readback(&self, cmd: vk::CommandBuffer, slot: usize, dst: vk::Buffer) {
        let (copy, read) = (vk::PipelineStageFlags2::COPY, vk::AccessFlags2::TRANSFER_READ);
        let region = [self.whole_image()];
        let to_host = [vk::MemoryBarrier2::default()
            .src_stage_mask(copy)
            .src_access_mask(vk::AccessFlags2::TRANSFER_WRITE)
            .dst_stage_mask(vk::PipelineStageFlags2::HOST)
            .dst_access_mask(vk::AccessFlags2::HOST_READ)];
        // SAFETY: the caller's contract.
        unsafe {
            self.barrier(
                cmd,
                slot,
                (vk::PipelineStageFlags2::NONE, vk::AccessFlags2::NONE, vk::ImageLayout::GENERAL),
                (copy, read, vk::ImageLayout::TRANSFER_SRC_OPTIMAL),
                Transfer::Acquire,
            );
            self.device.raw().cmd_copy_image_to_buffer(
                cmd,
                self.images[slot].raw(),
                vk::ImageLayout::TRANSFER_SRC_OPTIMAL,
                dst,
                &region,
            );
            self.barrier(
                cmd,
                slot,
                (copy, read, vk::ImageLayout::TRANSFER_SRC_OPTIMAL),
                (vk::PipelineStageFlags2::NONE, vk::AccessFlags2::NONE, vk::ImageLayout::GENERAL),
                Transfer::Release,
            );
            self.device.raw().cmd_pipeline_barrier2(cmd, &vk::DependencyInfo::default().memory_barriers(&to_host));
        }
    }

    /// A copy region covering the whole image, tightly packed in the buffer.
    fn whole_image(&self) -> vk::BufferImageCopy {
        vk::BufferImageCopy::default()
            .image_subresource(vk::ImageSubresourceLayers {
                aspect_mask: vk::ImageAspectFlags::COLOR,
                mip_level: 0,
                base_array_layer: 0,
                layer_count: 1,
            })
            .image_extent(vk::Extent3D { width: self.width, height: self.height, depth: 1 })
    }

    /// Records one image barrier on `slot`: `from` and `to` are (stage, access, layout);
    /// `transfer` moves ownership between the graphics queue and the external family
    /// (only when the images are exportable; otherwise the family stays the queue's).
    ///
    /// # Safety
    /// `cmd` is recording; `slot < images.len()`; the image outlives the command buffer.
    unsafe fn barrier(
        &self,
        cmd: vk::CommandBuffer,
        slot: usize,
        from: (vk::PipelineStageFlags2, vk::AccessFlags2, vk::ImageLayout),
        to: (vk::PipelineStageFlags2, vk::AccessFlags2, vk::ImageLayout),
        transfer: Transfer,
    ) {
        let queue = self.device.queue_family;
        let (src_family, dst_family) = match (self.external, transfer) {
            (true, Transfer::Acquire) => (vk::QUEUE_FAMILY_EXTERNAL, queue),
            (true, Transfer::Release) => (queue, vk::QUEUE_FAMILY_EXTERNAL),
            _ => (vk::QUEUE_FAMILY_IGNORED, vk::QUEUE_FAMILY_IGNORED),
        };
        let barrier = [vk::ImageMemoryBarrier2::default()
            .src_stage_mask(from.0)
            .src_access_mask(from.1)
            .old_layout(from.2)
            .dst_stage_mask(to.0)
            .dst_access_mask(to.1)
            .new_layout(to.2)
            .src_queue_family_index(src_family)
            .dst_queue_family_index(dst_family)
            .image(self.images[slot].raw())
            .subresource_range(color_range())];
        // SAFETY: the caller's contract (recording command buffer, live image of this device).
        unsafe {
            self.device.raw().cmd_pipeline_barrier2(cmd, &vk::DependencyInfo::default().image_memory_barriers(&barrier))
        };
    }
}

/// Which half of a queue-family ownership transfer a barrier is.
#[derive(Clone, Copy)]
enum Transfer {
    None,
    Acquire,
    Release,
}

/// Reads slot images back: a convenience for `--verify` and the tests.
impl NormalImages {
    /// Copies `slot`'s texels to the host (waits for the GPU first).
    pub fn read_back(&self, pool: &CommandPool, slot: usize) -> Result<Vec<[half::f16; 4]>> {
        anyhow::ensure!(slot < self.images.len(), "no shading image {slot}");
        self.device.wait_idle()?;
        let mut readback = crate::vulkan::memory::Buffer::host_visible(
            &self.device,
            self.bytes(),
            vk::BufferUsageFlags::TRANSFER_DST,
            "shading image readback",
        )?;
        let dst = readback.raw();
        pool.run_once("shading image readback", |cmd| {
            // SAFETY: recording; the readback buffer holds bytes(); the GPU is idle, so no
            // frame uses the image; run_once waits for the copy.
            unsafe { self.record_readback(cmd, slot, dst) }
        })?;
        let bytes = readback.mapped_bytes().context("mapping the shading image readback")?;
        Ok(bytes
            .chunks_exact(NORMAL_TEXEL_BYTES as usize)
            .map(|t| std::array::from_fn(|c| half::f16::from_le_bytes([t[2 * c], t[2 * c + 1]])))
            .collect())
    }
}
