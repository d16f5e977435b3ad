//! The seam between the two APIs: the height buffers both of them use, and how they
//! hand them to each other.
//!
//! ## The interop steps, and where each one is
//!
//! These follow the steps of the ROCm "HIP–Vulkan interop" documentation:
//!
//! 1. **Export memory from Vulkan.** Create the buffer with
//!    `VkExternalMemoryBufferCreateInfo(OPAQUE_FD)`, allocate with
//!    `VkExportMemoryAllocateInfo` (dedicated when the driver asks), get the fd with
//!    `vkGetMemoryFdKHR`: [`crate::vulkan::export::ExportableBuffer`], [`HeightSlots::export`].
//! 2. **Import the memory into HIP.** `hipImportExternalMemory` with a full-size,
//!    zero-filled descriptor, the allocation size and the dedicated flag. The import
//!    borrows the fd and the caller closes it afterwards, success or not (ROCm never
//!    takes it; the NVIDIA shim hands CUDA, which would, a dup):
//!    [`hip_slots::HipSlots::import`] → [`crate::hip::ExternalMemory::import`].
//! 3. **Map it to a device pointer.** `hipExternalMemoryGetMappedBuffer`:
//!    [`crate::hip::ExternalMemory::map_buffer`], which consumes the import so the pointer is
//!    freed before the memory is destroyed.
//! 4. **Export and import semaphores.** Timeline or binary semaphores created with
//!    `VkExportSemaphoreCreateInfo(OPAQUE_FD)`, `vkGetSemaphoreFdKHR`,
//!    `hipImportExternalSemaphore`: [`crate::vulkan::export::ExportableSemaphore`],
//!    [`sync::timeline::TimelineSemaphores::new`], [`sync::binary::BinarySemaphores::new`].
//!    Which semaphore each frame waits on and signals, with which value, is the frame's
//!    plan: [`sync::plan::plan`], plain data.
//! 5. **HIP waits until Vulkan is done with the buffer.** `hipWaitExternalSemaphoresAsync`
//!    for the plan's `hip_waits`: [`hip_heights::HipHeights`] (`produce`).
//! 6. **Launch the kernel.** `hipModuleLaunchKernel` on the mapped pointer:
//!    [`hip_heights::launch_sinewave`].
//! 7. **HIP signals that the heights are ready; Vulkan waits for it.**
//!    `hipSignalExternalSemaphoresAsync` for the plan's `hip_signals`, and its
//!    `vulkan_waits` in the frame's `vkQueueSubmit2` ([`sync::plan::FramePlan::vulkan_submit_infos`]);
//!    the buffer is acquired from `VK_QUEUE_FAMILY_EXTERNAL` ([`acquire_from_external`])
//!    before vertex input reads it and released after the draw ([`release_to_external`]).
//! 8. **Destroy, in order.** Both APIs idle, then the HIP semaphore imports, the mapped
//!    pointers and memory imports, then the Vulkan semaphores and memory: the field order of
//!    `HipHeights` and `Renderer` (see `docs/ARCHITECTURE.md`).
//!
//! Where the runtime cannot import semaphores (HIP on AMD/Linux), steps 4, 5 and 7 become
//! the `host` strategy: the CPU waits for the HIP stream before submitting, and the frame
//! fence before HIP reuses a slot. Or `stream-wait`: Vulkan writes a frame counter after
//! each draw into a buffer exported to HIP, HIP's stream waits for it on the GPU
//! (`hipStreamWaitValue32`), and the CPU waits for HIP once per run-ahead burst
//! ([`sync::counter`]).
//!
//! `examples/headless_interop.rs` walks these steps in one file.
//!
//! ## An image HIP writes (`--shading image`)
//!
//! Each slot also has an RGBA16F shading image ([`normal_images::NormalImages`]), which HIP
//! fills with the frame's surface normals in the same hand-over as the heights:
//!
//! 1. **Export the image from Vulkan.** Optimal tiling, one level, created with
//!    `VkExternalMemoryImageCreateInfo(OPAQUE_FD)` where `vkGetPhysicalDeviceImageFormatProperties2`
//!    says it can be, dedicated memory, `vkGetMemoryFdKHR`:
//!    [`crate::vulkan::shared_image::SharedImage`]. Between frames it rests in `GENERAL`,
//!    released to `VK_QUEUE_FAMILY_EXTERNAL`.
//! 2. **Import and map it in HIP.** `hipImportExternalMemory` (dedicated), then
//!    `hipExternalMemoryGetMappedMipmappedArray` (RGBA16F, the image's extent,
//!    `hipArraySurfaceLoadStore`), `hipGetMipmappedArrayLevel` for level 0,
//!    `hipCreateSurfaceObject`: [`crate::hip::ExternalMemory::map_rgba16f_image`].
//! 3. **Write it.** `sinewave_normals_surface` through the surface object, on the heights'
//!    stream before their signal: [`hip_normals::HipNormals::launch`].
//! 4. **Acquire it in Vulkan.** `GENERAL` → `SHADER_READ_ONLY_OPTIMAL` from the external
//!    family, in a barrier whose first scope is the stage the frame waits for HIP at, so
//!    the transition follows HIP's write; the fragment shader samples it; after the draw
//!    it goes back to `GENERAL` and the external family:
//!    [`normal_images::NormalImages::record_acquire`] / `record_release`.
//!
//! Where the runtime cannot map images (ROCm on Linux), step 2 becomes an exported buffer
//! imported as in steps 1–3 above, step 3 the `sinewave_normals` kernel writing it, and
//! step 4 a copy of that buffer into the image ([`normal_images::NormalImages::record_upload`]).
//! `examples/hip_image.rs` is this in one file.
//!
//! ## The reverse direction: memory HIP owns (`--memory-owner hip`)
//!
//! 1. **Allocate in HIP.** `hipMemCreate` (pinned device memory, exportable as a POSIX fd,
//!    size rounded up to `hipMemGetAllocationGranularity`), `hipMemAddressReserve`,
//!    `hipMemMap`, `hipMemSetAccess`: [`crate::hip::ExportableDeviceMemory::new`].
//! 2. **Export it.** `hipMemExportToShareableHandle` hands out a new fd:
//!    [`crate::hip::ExportableDeviceMemory::export_handle`].
//! 3. **Import it into Vulkan.** A buffer created with `VkExternalMemoryBufferCreateInfo`,
//!    memory allocated with `VkImportMemoryFdInfoKHR` (not dedicated; `OPAQUE_FD` on NVIDIA,
//!    a dma-buf on AMD), which takes the fd on success:
//!    [`crate::vulkan::export::ImportedBuffer::import_foreign`], driven by
//!    [`hip_slots::HipSlots::allocate_for_vulkan`].
//! 4. From there on nothing changes: steps 4–8 above run on these buffers, HIP's kernel
//!    writing through HIP's own mapping. `examples/hip_owned_memory.rs` is this in one file.
//!
//! ## Slots
//!
//! Vulkan creates `K` device-local height buffers ("slots", one per frame in flight)
//! with exportable memory. Whoever writes the heights (a HIP kernel, the CPU through a
//! staging copy, a Vulkan compute shader) writes slot `f mod K` for frame `f`; the draw
//! of frame `f` reads it. Between frames a slot belongs to the *external* queue family:
//! each frame's command buffer acquires it from `VK_QUEUE_FAMILY_EXTERNAL` before the
//! vertex stage reads it and releases it back after the draw, as the Vulkan spec asks for
//! memory that another API writes.

pub mod hip_heights;
pub mod hip_normals;
pub mod hip_slots;
pub mod normal_images;
pub mod source;
pub mod sync;

use std::sync::Arc;

use anyhow::{Context, Result};
use ash::vk;

use crate::vulkan::export::{ExportableBuffer, ExportedMemory, ImportedBuffer};
use crate::vulkan::external::MEMORY_EXTENSION;
use crate::vulkan::memory::Buffer;
use crate::vulkan::Device;

/// Usage of every height buffer: vertex input for the draw, transfer for CPU uploads and
/// readback, storage for the Vulkan compute baseline.
pub const HEIGHT_BUFFER_USAGE: vk::BufferUsageFlags = vk::BufferUsageFlags::from_raw(
    vk::BufferUsageFlags::VERTEX_BUFFER.as_raw()
        | vk::BufferUsageFlags::TRANSFER_DST.as_raw()
        | vk::BufferUsageFlags::TRANSFER_SRC.as_raw()
        | vk::BufferUsageFlags::STORAGE_BUFFER.as_raw(),
);

/// Whose memory a height buffer is.
pub enum SlotBuffer {
    /// Vulkan's own memory, exportable (HIP imports it): the default.
    Exported(ExportableBuffer),
    /// Memory another API allocated (HIP's `hipMemCreate`), imported into Vulkan.
    Imported(ImportedBuffer),
    /// Vulkan's own memory, not exportable: what a device that cannot export memory gets
    /// (Wine's Vulkan has no `VK_KHR_external_memory_win32`). Only Vulkan writes it: the
    /// CPU's uploads and the compute shader.
    Plain(Buffer),
}

impl SlotBuffer {
    /// The Vulkan buffer (valid while `self` lives).
    pub fn raw(&self) -> vk::Buffer {
        match self {
            SlotBuffer::Exported(b) => b.raw(),
            SlotBuffer::Imported(b) => b.raw(),
            SlotBuffer::Plain(b) => b.raw(),
        }
    }

    /// The memory bound to it.
    pub fn memory(&self) -> vk::DeviceMemory {
        match self {
            SlotBuffer::Exported(b) => b.memory(),
            SlotBuffer::Imported(b) => b.memory(),
            SlotBuffer::Plain(b) => b.memory(),
        }
    }
}

/// The `K` height buffers, `width × height` `f32` each: Vulkan's memory exported to
/// HIP ([`HeightSlots::new`]), HIP's memory imported into Vulkan
/// ([`HeightSlots::from_imported`]), or, on a device that cannot export memory, Vulkan's
/// plain memory ([`HeightSlots::plain`]).
pub struct HeightSlots {
    /// The `K` buffers, slot `i` at index `i`.
    pub buffers: Vec<SlotBuffer>,
    /// With `--shading image`: slot `i`'s shading image (normals) at index `i`.
    pub normals: Option<normal_images::NormalImages>,
    /// Grid width (heights per row).
    pub width: u32,
    /// Grid height (rows).
    pub height: u32,
}

impl HeightSlots {
    /// Creates `count` buffers of `width × height` `f32` on `device`: exportable where the
    /// device can export them, else plain (logged: HIP then cannot write them, and
    /// [`HeightSlots::export`] says why).
    pub fn new(device: &Arc<Device>, width: u32, height: u32, count: u32) -> Result<Self> {
        if !ExportableBuffer::is_exportable(device, HEIGHT_BUFFER_USAGE) {
            // A device without the extension said so when it was made; this is the other case.
            if device.external.exports_memory() {
                log::warn!(
                    "heights: {} exports no buffer of this usage, so the height buffers are plain device memory: \
                     the CPU and Vulkan height sources run, HIP cannot",
                    device.physical.name
                );
            }
            return Self::plain(device, width, height, count);
        }
        let bytes = u64::from(width) * u64::from(height) * 4;
        let buffers = (0..count)
            .map(|i| ExportableBuffer::new(device, bytes, HEIGHT_BUFFER_USAGE, &format!("height slot {i}")))
            .collect::<Result<Vec<_>>>()?;
        if let Some(b) = buffers.first() {
            log::info!(
                "heights: {count} exportable {:?} buffers of {width}x{height} f32 ({} bytes each, {} allocation)",
                b.handle_kind(),
                bytes,
                if b.dedicated() { "dedicated" } else { "shared" }
            );
        }
        Ok(Self { buffers: buffers.into_iter().map(SlotBuffer::Exported).collect(), normals: None, width, height })
    }

    /// Creates `count` plain (not exportable) device-local buffers of `width × height` `f32`:
    /// for a device that cannot export memory, and for tests of that path on one that can.
    pub fn plain(device: &Arc<Device>, width: u32, height: u32, count: u32) -> Result<Self> {
        let bytes = u64::from(width) * u64::from(height) * 4;
        let buffers = (0..count)
            .map(|i| Buffer::device_local(device, bytes, HEIGHT_BUFFER_USAGE, &format!("height slot {i}")))
            .collect::<Result<Vec<_>>>()?;
        log::info!("heights: {count} plain buffers of {width}x{height} f32 ({bytes} bytes each, not exportable)");
        Ok(Self { buffers: buffers.into_iter().map(SlotBuffer::Plain).collect(), normals: None, width, height })
    }

    /// Slots whose memory another API allocated: `buffers[i]` (of at least `width ×
    /// height` `f32`, [`HEIGHT_BUFFER_USAGE`]) is slot `i`.
    pub fn from_imported(buffers: Vec<ImportedBuffer>, width: u32, height: u32) -> Self {
        Self { buffers: buffers.into_iter().map(SlotBuffer::Imported).collect(), normals: None, width, height }
    }

    /// Adds one shading image per slot (`images` must have as many, of the grid's size).
    pub fn with_normals(mut self, images: normal_images::NormalImages) -> Result<Self> {
        anyhow::ensure!(
            (images.images.len(), images.width(), images.height()) == (self.len(), self.width, self.height),
            "{} shading images of {}x{} for {} height slots of {}x{}",
            images.images.len(),
            images.width(),
            images.height(),
            self.len(),
            self.width,
            self.height
        );
        self.normals = Some(images);
        Ok(self)
    }

    /// Number of slots (`K`).
    pub fn len(&self) -> usize {
        self.buffers.len()
    }

    /// Whether there are no slots.
    pub fn is_empty(&self) -> bool {
        self.buffers.is_empty()
    }

    /// Bytes of one slot.
    pub fn slot_bytes(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height) * 4
    }

    /// Exports slot `i`'s memory as a new handle for another API to import. Slots
    /// imported from another API are that API's to share, not Vulkan's, and plain slots
    /// cannot be exported: both are errors.
    pub fn export(&self, i: usize) -> Result<ExportedMemory> {
        match self.buffers.get(i).with_context(|| format!("no height slot {i}"))? {
            SlotBuffer::Exported(b) => b.export(),
            SlotBuffer::Imported(_) => {
                anyhow::bail!("height slot {i} was imported from another API's memory; Vulkan does not export it")
            }
            SlotBuffer::Plain(_) => anyhow::bail!(
                "height slot {i} is plain device memory: this Vulkan device cannot export memory (it lacks {} or \
                 exports no buffer of this usage), so HIP cannot write the heights; use --heights vulkan or cpu",
                MEMORY_EXTENSION.to_string_lossy()
            ),
        }
    }
}

/// Records the acquire of `buffer` from `VK_QUEUE_FAMILY_EXTERNAL`, making what another
/// API (or an earlier frame) wrote visible to `dst_stage`/`dst_access`.
///
/// # Safety
/// `cmd` is a command buffer of `device` in the recording state, and `buffer` a buffer of
/// `device` that stays alive until the command buffer has completed or is reset.
pub unsafe fn acquire_from_external(
    device: &Device,
    cmd: vk::CommandBuffer,
    buffer: vk::Buffer,
    dst_stage: vk::PipelineStageFlags2,
    dst_access: vk::AccessFlags2,
) {
    let barrier = vk::BufferMemoryBarrier2::default()
        .src_stage_mask(vk::PipelineStageFlags2::NONE)
        .src_access_mask(vk::AccessFlags2::NONE)
        .dst_stage_mask(dst_stage)
        .dst_access_mask(dst_access)
        .src_queue_family_index(vk::QUEUE_FAMILY_EXTERNAL)
        .dst_queue_family_index(device.queue_family)
        .buffer(buffer)
        .offset(0)
        .size(vk::WHOLE_SIZE);
    // SAFETY: the caller's contract, passed on.
    unsafe { buffer_barrier(device, cmd, barrier) };
}

/// Records the release of `buffer` to `VK_QUEUE_FAMILY_EXTERNAL` after `src_stage`'s
/// accesses, so the next writer (HIP, or the next upload) may use it.
///
/// # Safety
/// `cmd` is a command buffer of `device` in the recording state, and `buffer` a buffer of
/// `device` that stays alive until the command buffer has completed or is reset.
pub unsafe fn release_to_external(
    device: &Device,
    cmd: vk::CommandBuffer,
    buffer: vk::Buffer,
    src_stage: vk::PipelineStageFlags2,
    src_access: vk::AccessFlags2,
) {
    let barrier = vk::BufferMemoryBarrier2::default()
        .src_stage_mask(src_stage)
        .src_access_mask(src_access)
        .dst_stage_mask(vk::PipelineStageFlags2::NONE)
        .dst_access_mask(vk::AccessFlags2::NONE)
        .src_queue_family_index(device.queue_family)
        .dst_queue_family_index(vk::QUEUE_FAMILY_EXTERNAL)
        .buffer(buffer)
        .offset(0)
        .size(vk::WHOLE_SIZE);
    // SAFETY: the caller's contract, passed on.
    unsafe { buffer_barrier(device, cmd, barrier) };
}

/// Records the dependency that makes `buffer`, just written by `src_stage`/`src_access`
/// (an upload copy, a compute shader), readable as vertex input.
///
/// # Safety
/// `cmd` is a command buffer of `device` in the recording state, and `buffer` a buffer of
/// `device` that stays alive until the command buffer has completed or is reset.
pub unsafe fn make_visible_to_vertex_input(
    device: &Device,
    cmd: vk::CommandBuffer,
    buffer: vk::Buffer,
    src_stage: vk::PipelineStageFlags2,
    src_access: vk::AccessFlags2,
) {
    let barrier = vk::BufferMemoryBarrier2::default()
        .src_stage_mask(src_stage)
        .src_access_mask(src_access)
        .dst_stage_mask(vk::PipelineStageFlags2::VERTEX_ATTRIBUTE_INPUT)
        .dst_access_mask(vk::AccessFlags2::VERTEX_ATTRIBUTE_READ)
        .src_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
        .dst_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
        .buffer(buffer)
        .size(vk::WHOLE_SIZE);
    // SAFETY: the caller's contract, passed on.
    unsafe { buffer_barrier(device, cmd, barrier) };
}

/// Records the upload of a slot from a host-visible staging buffer: acquire the slot from
/// the external family, copy, make the heights visible to vertex input. The staging
/// buffer must already hold the heights and no pending frame may read it.
///
/// # Safety
/// `cmd` is a command buffer of `device` in the recording state; `staging` a buffer of
/// `device` with `TRANSFER_SRC` usage and at least [`HeightSlots::slot_bytes`] bytes that
/// already holds the heights; `slot < slots.len()`; both stay alive, and no other pending
/// work writes `staging`, until the command buffer has completed.
pub unsafe fn record_staging_upload(
    device: &Device,
    cmd: vk::CommandBuffer,
    staging: vk::Buffer,
    slots: &HeightSlots,
    slot: usize,
) {
    let dst = slots.buffers[slot].raw();
    // SAFETY: the caller's contract; `dst` is a live slot of this device.
    unsafe { acquire_from_external(device, cmd, dst, vk::PipelineStageFlags2::COPY, vk::AccessFlags2::TRANSFER_WRITE) };
    let region = [vk::BufferCopy { src_offset: 0, dst_offset: 0, size: slots.slot_bytes() }];
    // SAFETY: cmd is recording; both buffers are alive and hold the slot's bytes; the
    // caller guarantees the staging contents and that no pending frame reads them.
    unsafe { device.raw().cmd_copy_buffer(cmd, staging, dst, &region) };
    // SAFETY: as above.
    unsafe {
        make_visible_to_vertex_input(device, cmd, dst, vk::PipelineStageFlags2::COPY, vk::AccessFlags2::TRANSFER_WRITE)
    };
}

/// Records an execution and memory dependency on `barrier`'s buffer within the queue.
///
/// # Safety
/// `cmd` is a command buffer of `device` in the recording state, and the barrier's buffer
/// a buffer of `device` that stays alive until the command buffer has completed.
pub unsafe fn buffer_barrier(device: &Device, cmd: vk::CommandBuffer, barrier: vk::BufferMemoryBarrier2) {
    let barriers = [barrier];
    let dependency = vk::DependencyInfo::default().buffer_memory_barriers(&barriers);
    // SAFETY: the caller's contract (recording cmd, live buffer of this device).
    unsafe { device.raw().cmd_pipeline_barrier2(cmd, &dependency) };
}
