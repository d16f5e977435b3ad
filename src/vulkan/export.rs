//! Vulkan objects whose payload another API imports: buffers with exportable memory and
//! semaphores with exportable payloads, as this system's opaque handles (`OPAQUE_FD` on
//! Linux, `OPAQUE_WIN32` or `OPAQUE_WIN32_KMT` on Windows: [`super::external`]).
//!
//! Each export hands out a fresh [`SharedHandle`]: the caller owns it until an importer
//! takes it ([`crate::shared_handle`] has the rule on who closes it).

use std::sync::Arc;

use anyhow::{bail, Context, Result};
use ash::vk;

use super::device::Device;
use super::external::{memory_handle_type, semaphore_handle_type, MemoryImport, HANDLE_KINDS, MEMORY_EXTENSION};
use crate::shared_handle::{HandleKind, SharedHandle};

/// What the driver can do with buffers of `usage` shared as `handle_type`
/// (`vkGetPhysicalDeviceExternalBufferProperties`).
fn buffer_features(
    device: &Device,
    usage: vk::BufferUsageFlags,
    handle_type: vk::ExternalMemoryHandleTypeFlags,
) -> vk::ExternalMemoryFeatureFlags {
    let query = vk::PhysicalDeviceExternalBufferInfo::default().usage(usage).handle_type(handle_type);
    let mut props = vk::ExternalBufferProperties::default();
    // SAFETY: Vulkan 1.1 core query on a physical device of this instance.
    unsafe {
        device.instance().raw().get_physical_device_external_buffer_properties(device.physical.raw, &query, &mut props)
    };
    props.external_memory_properties.external_memory_features
}

/// The first handle kind of this system that `device` can export buffers of `usage` as,
/// with the features the driver reports for it.
fn buffer_export_kind(
    device: &Device,
    usage: vk::BufferUsageFlags,
) -> Option<(HandleKind, vk::ExternalMemoryFeatureFlags)> {
    if !device.external.exports_memory() {
        return None;
    }
    HANDLE_KINDS.iter().find_map(|&kind| {
        let features = buffer_features(device, usage, memory_handle_type(kind));
        features.contains(vk::ExternalMemoryFeatureFlags::EXPORTABLE).then_some((kind, features))
    })
}

/// Everything an importer needs to map an exported allocation.
#[derive(Debug)]
pub struct ExportedMemory {
    /// The exported memory; owned until an importer takes it.
    pub handle: SharedHandle,
    /// Size of the whole allocation (what the importer must be told, not the buffer size).
    pub allocation_size: u64,
    /// Bytes the buffer uses from offset 0.
    pub buffer_size: u64,
    /// The allocation is dedicated to one buffer; importers must say so
    /// (`hipExternalMemoryDedicated`).
    pub dedicated: bool,
    /// The memory type the export was allocated from: a Vulkan importer of an opaque handle
    /// made by Vulkan must allocate with this index and `allocation_size` (the spec's
    /// valid usage of `VkMemoryAllocateInfo` for imports), on the same physical device.
    pub memory_type_index: u32,
}

/// A device-local buffer whose memory can be exported as this system's opaque handle.
pub struct ExportableBuffer {
    device: Arc<Device>,
    raw: vk::Buffer,
    memory: vk::DeviceMemory,
    kind: HandleKind,
    size: u64,
    allocation_size: u64,
    dedicated: bool,
    memory_type_index: u32,
    /// Counts this object in the live-object registry (leak tests).
    _live: crate::vulkan::live::Tracked,
}

impl ExportableBuffer {
    /// The Vulkan buffer (valid while `self` lives).
    pub fn raw(&self) -> vk::Buffer {
        self.raw
    }

    /// Its exportable memory.
    pub fn memory(&self) -> vk::DeviceMemory {
        self.memory
    }

    /// Bytes of the buffer.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Bytes of the whole allocation (what an importer must be told).
    pub fn allocation_size(&self) -> u64 {
        self.allocation_size
    }

    /// Whether the allocation is dedicated to this buffer (importers must say so).
    pub fn dedicated(&self) -> bool {
        self.dedicated
    }

    /// The handle kind its exports are.
    pub fn handle_kind(&self) -> HandleKind {
        self.kind
    }

    /// Whether `device` can export buffers of `usage` (as some handle kind of this system).
    pub fn is_exportable(device: &Device, usage: vk::BufferUsageFlags) -> bool {
        buffer_export_kind(device, usage).is_some()
    }

    /// Creates the buffer after checking that the driver can export this usage as one of
    /// this system's handle kinds (the first it can, [`HANDLE_KINDS`]); allocates dedicated
    /// memory when the driver requires or prefers it.
    pub fn new(device: &Arc<Device>, size: u64, usage: vk::BufferUsageFlags, what: &str) -> Result<Self> {
        let _live = crate::vulkan::live::Tracked::new("ExportableBuffer")?;
        if size == 0 {
            bail!("{what}: a buffer of 0 bytes cannot be created");
        }
        if !device.external.exports_memory() {
            bail!(
                "{}: {what} cannot be exported: the device lacks {}, and interop needs a driver that has it",
                device.physical.name,
                MEMORY_EXTENSION.to_string_lossy()
            );
        }
        let Some((kind, features)) = buffer_export_kind(device, usage) else {
            bail!(
                "{}: buffers with usage {usage:?} cannot be exported as any of {HANDLE_KINDS:?}; \
                 interop needs a driver that can",
                device.physical.name
            );
        };
        let handle_type = memory_handle_type(kind);
        let dedicated_only = features.contains(vk::ExternalMemoryFeatureFlags::DEDICATED_ONLY);

        let mut external = vk::ExternalMemoryBufferCreateInfo::default().handle_types(handle_type);
        let info = vk::BufferCreateInfo::default()
            .size(size)
            .usage(usage)
            .sharing_mode(vk::SharingMode::EXCLUSIVE)
            .push_next(&mut external);
        // SAFETY: info is valid; the handle type was checked above.
        let raw = unsafe { device.raw().create_buffer(&info, None) }
            .with_context(|| format!("vkCreateBuffer failed for exportable {what} ({size} bytes)"))?;
        let mut buffer = Self {
            _live,
            device: device.clone(),
            raw,
            memory: vk::DeviceMemory::null(),
            kind,
            size,
            allocation_size: 0,
            dedicated: false,
            memory_type_index: 0,
        };

        let mut dedicated_req = vk::MemoryDedicatedRequirements::default();
        let mut req2 = vk::MemoryRequirements2::default().push_next(&mut dedicated_req);
        let req_info = vk::BufferMemoryRequirementsInfo2::default().buffer(raw);
        // SAFETY: raw is a buffer of this device.
        unsafe { device.raw().get_buffer_memory_requirements2(&req_info, &mut req2) };
        let req = req2.memory_requirements;
        buffer.dedicated = dedicated_only
            || dedicated_req.requires_dedicated_allocation == vk::TRUE
            || dedicated_req.prefers_dedicated_allocation == vk::TRUE;
        buffer.allocation_size = req.size;

        let type_index = device
            .memory_type(req.memory_type_bits, vk::MemoryPropertyFlags::DEVICE_LOCAL)
            .with_context(|| format!("allocating exportable {what}"))?;
        buffer.memory_type_index = type_index;
        let mut export = vk::ExportMemoryAllocateInfo::default().handle_types(handle_type);
        let mut dedicated = vk::MemoryDedicatedAllocateInfo::default().buffer(raw);
        let mut alloc = vk::MemoryAllocateInfo::default()
            .allocation_size(req.size)
            .memory_type_index(type_index)
            .push_next(&mut export);
        if buffer.dedicated {
            alloc = alloc.push_next(&mut dedicated);
        }
        // SAFETY: alloc names a memory type of this device; the chained structures are
        // valid for an exportable (dedicated) allocation.
        buffer.memory = unsafe { device.raw().allocate_memory(&alloc, None) }.with_context(|| {
            format!("vkAllocateMemory failed for exportable {what} ({} bytes): out of GPU memory?", req.size)
        })?;
        // SAFETY: fresh memory of a type the buffer allows, large enough.
        unsafe { device.raw().bind_buffer_memory(raw, buffer.memory, 0) }
            .with_context(|| format!("vkBindBufferMemory failed for exportable {what}"))?;
        Ok(buffer)
    }

    /// Exports the memory as a new handle (each call returns a new one).
    pub fn export(&self) -> Result<ExportedMemory> {
        // SAFETY: the memory is live and was allocated with ExportMemoryAllocateInfo naming
        // this kind's handle type.
        let handle = unsafe { self.device.external.export_memory(self.memory, self.kind) }
            .context("exporting a buffer's memory")?;
        Ok(ExportedMemory {
            handle,
            allocation_size: self.allocation_size,
            buffer_size: self.size,
            dedicated: self.dedicated,
            memory_type_index: self.memory_type_index,
        })
    }
}

impl Drop for ExportableBuffer {
    fn drop(&mut self) {
        self.device.wait_idle_before_release("an exportable buffer");
        // SAFETY: the device is idle (above), so no Vulkan work uses the buffer; importers
        // are dropped first (HipHeights and the renderer, by field order).
        unsafe {
            self.device.raw().destroy_buffer(self.raw(), None);
            self.device.raw().free_memory(self.memory, None);
        }
    }
}

/// A buffer bound to imported memory: the other side of [`ExportableBuffer`] (used to prove
/// the export path with a second Vulkan device), or memory another API allocated.
pub struct ImportedBuffer {
    device: Arc<Device>,
    raw: vk::Buffer,
    memory: vk::DeviceMemory,
    /// Counts this object in the live-object registry (leak tests).
    _live: crate::vulkan::live::Tracked,
}

impl ImportedBuffer {
    /// The Vulkan buffer (valid while `self` lives).
    pub fn raw(&self) -> vk::Buffer {
        self.raw
    }

    /// The imported memory it is bound to.
    pub fn memory(&self) -> vk::DeviceMemory {
        self.memory
    }

    /// Imports `exported` (made by Vulkan, see [`ExportableBuffer::export`]) into `device`.
    /// The handle goes as [`crate::shared_handle`] says: an fd becomes Vulkan's when
    /// vkAllocateMemory succeeds, anything else is closed here (if it is ours to close).
    pub fn import(device: &Arc<Device>, exported: ExportedMemory, usage: vk::BufferUsageFlags) -> Result<Self> {
        let handle_type = memory_handle_type(exported.handle.kind());
        let (buffer, requirements) =
            Self::unbound(device, exported.buffer_size, usage, handle_type, "imported buffer")?;
        // An opaque handle that Vulkan exported is imported with the export's memory type
        // and allocation size (VkMemoryAllocateInfo's valid usage for imports of handles the
        // Vulkan API created; the handle-properties queries are not allowed for opaque types).
        let type_index = exported.memory_type_index;
        if requirements.memory_type_bits & (1 << type_index) == 0 {
            bail!(
                "{}: the importing buffer cannot use memory type {type_index} of the export (it allows {:#b}); \
                 import on the physical device that exported the memory, with the same buffer usage",
                device.physical.name,
                requirements.memory_type_bits
            );
        }
        buffer.bind_imported(exported.handle, handle_type, exported.allocation_size, type_index, exported.dedicated)
    }

    /// Imports memory another API allocated and exported (HIP's
    /// `hipMemExportToShareableHandle`), as a buffer of `buffer_size` bytes at offset 0 of
    /// an allocation of `allocation_size` bytes (the exporter's size, rounded to its
    /// granularity). `kind` says what the payload is (see [`ForeignMemory`]); the memory
    /// type is a device-local one the buffer allows (and, for a dma-buf, that
    /// `vkGetMemoryFdPropertiesKHR` allows). The allocation is not dedicated: the
    /// exporter made no Vulkan buffer. The handle goes as [`crate::shared_handle`] says (an
    /// fd becomes Vulkan's on success; everything else is closed here when it is ours).
    ///
    /// Checked first, each with its own message: the driver can import this usage with
    /// that handle type without a dedicated allocation, the buffer fits the allocation, and
    /// a memory type qualifies.
    ///
    /// # Safety
    /// `handle` is a payload of `allocation_size` bytes of the kind `kind` names, made on
    /// this physical device (the same GPU, matched by UUID/PCI), which stays valid while the
    /// import lives (the import holds its own reference to the memory).
    pub unsafe fn import_foreign(
        device: &Arc<Device>,
        handle: SharedHandle,
        kind: ForeignMemory,
        allocation_size: u64,
        buffer_size: u64,
        usage: vk::BufferUsageFlags,
        what: &str,
    ) -> Result<Self> {
        let handle_type = kind.handle_type(handle.kind());
        if !device.external.exports_memory() {
            bail!(
                "{}: importing {what} needs {}, which it lacks",
                device.physical.name,
                MEMORY_EXTENSION.to_string_lossy()
            );
        }
        if kind == ForeignMemory::DmaBuf && !device.physical.has_dma_buf_import {
            bail!("{}: importing a dma-buf needs VK_EXT_external_memory_dma_buf, which it lacks", device.physical.name);
        }
        let features = buffer_features(device, usage, handle_type);
        if !features.contains(vk::ExternalMemoryFeatureFlags::IMPORTABLE) {
            bail!(
                "{}: buffers with usage {usage:?} cannot be imported as {handle_type:?} (features {features:?})",
                device.physical.name
            );
        }
        if features.contains(vk::ExternalMemoryFeatureFlags::DEDICATED_ONLY) {
            bail!(
                "{}: this driver imports {handle_type:?} buffers only as dedicated allocations, and memory another \
                 API allocated is not dedicated to a Vulkan buffer",
                device.physical.name
            );
        }
        let (buffer, req) = Self::unbound(device, buffer_size, usage, handle_type, what)?;
        if req.size > allocation_size {
            bail!("{what}: the buffer needs {} bytes but the imported allocation has {allocation_size}", req.size);
        }
        let allowed = match kind {
            // For opaque types the spec leaves the type to the importer when the handle was
            // not made by Vulkan, and the handle-properties queries are not allowed for them.
            ForeignMemory::Opaque => req.memory_type_bits,
            #[cfg(unix)]
            // SAFETY: a dma-buf per the caller's contract, open (owned here).
            ForeignMemory::DmaBuf => {
                req.memory_type_bits
                    & unsafe { device.external.dma_buf_memory_types(&handle) }
                        .with_context(|| format!("importing the dma-buf of {what}"))?
            }
            #[cfg(not(unix))]
            ForeignMemory::DmaBuf => bail!("{what}: dma-bufs exist only on Linux"),
        };
        let type_index = device
            .memory_type(allowed, vk::MemoryPropertyFlags::DEVICE_LOCAL)
            .with_context(|| format!("importing {what} (memory types allowed: {allowed:#b})"))?;
        buffer.bind_imported(handle, handle_type, allocation_size, type_index, false)
    }
}

/// What a payload another API exported is, to Vulkan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForeignMemory {
    /// An opaque handle (`OPAQUE_FD`, `OPAQUE_WIN32`, `OPAQUE_WIN32_KMT`, as the handle
    /// is): a payload of an API that shares the Vulkan driver and documents its handles as
    /// importable that way: CUDA's `cuMemExportToShareableHandle` POSIX fd or Win32 handle
    /// on NVIDIA (its `simpleVulkanMMAP` sample imports them so). The spec's compatibility
    /// rule for opaque handles is the same driver and device UUID.
    Opaque,
    /// `DMA_BUF_EXT`: a Linux dma-buf, what ROCm's `hipMemExportToShareableHandle` returns
    /// (a KFD buffer object exported with `AMDKFD_IOC_EXPORT_DMABUF`). The spec-legal type
    /// for memory Vulkan did not make (Vulkan-Docs issue 1783); RADV would take it as
    /// `OPAQUE_FD` too (it imports both as dma-bufs), but that is outside the spec.
    DmaBuf,
}

impl ForeignMemory {
    /// The Vulkan handle type for such a payload carried in a handle of `handle` kind.
    pub fn handle_type(self, handle: HandleKind) -> vk::ExternalMemoryHandleTypeFlags {
        match self {
            ForeignMemory::Opaque => memory_handle_type(handle),
            ForeignMemory::DmaBuf => vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT,
        }
    }
}

impl ImportedBuffer {
    /// Creates the buffer, not yet bound (memory null: dropping it then destroys only the
    /// buffer), and its memory requirements.
    fn unbound(
        device: &Arc<Device>,
        size: u64,
        usage: vk::BufferUsageFlags,
        handle_type: vk::ExternalMemoryHandleTypeFlags,
        what: &str,
    ) -> Result<(Self, vk::MemoryRequirements)> {
        let _live = crate::vulkan::live::Tracked::new("ImportedBuffer")?;
        if size == 0 {
            bail!("{what}: a buffer of 0 bytes cannot be created");
        }
        let mut external = vk::ExternalMemoryBufferCreateInfo::default().handle_types(handle_type);
        let info = vk::BufferCreateInfo::default().size(size).usage(usage).push_next(&mut external);
        // SAFETY: valid create info.
        let raw = unsafe { device.raw().create_buffer(&info, None) }
            .with_context(|| format!("vkCreateBuffer failed for {what} ({size} bytes)"))?;
        // SAFETY: raw is a buffer of this device.
        let requirements = unsafe { device.raw().get_buffer_memory_requirements(raw) };
        Ok((Self { device: device.clone(), raw, memory: vk::DeviceMemory::null(), _live }, requirements))
    }

    /// Allocates memory importing `handle` and binds it at offset 0. The handle goes as
    /// [`crate::shared_handle`] says: on success an fd becomes Vulkan's; everything else,
    /// and everything on failure, is dropped here (closed when it is ours to close).
    fn bind_imported(
        mut self,
        handle: SharedHandle,
        handle_type: vk::ExternalMemoryHandleTypeFlags,
        allocation_size: u64,
        type_index: u32,
        dedicated: bool,
    ) -> Result<Self> {
        let mut import = MemoryImport::new(&handle, handle_type)?;
        let mut dedicated_info = vk::MemoryDedicatedAllocateInfo::default().buffer(self.raw);
        let mut alloc = import
            .chain(vk::MemoryAllocateInfo::default())
            .allocation_size(allocation_size)
            .memory_type_index(type_index);
        if dedicated {
            alloc = alloc.push_next(&mut dedicated_info);
        }
        // SAFETY: the import names a handle held open by `handle`; size, type and
        // dedication are the callers' (checked against the buffer's requirements).
        self.memory = unsafe { self.device.raw().allocate_memory(&alloc, None) }.with_context(|| {
            format!("vkAllocateMemory failed importing a {handle_type:?} handle of {allocation_size} bytes")
        })?;
        handle.imported_by_vulkan();
        // SAFETY: imported memory at least as large as the buffer needs, of an allowed type.
        unsafe { self.device.raw().bind_buffer_memory(self.raw, self.memory, 0) }
            .context("vkBindBufferMemory failed for an imported buffer")?;
        Ok(self)
    }
}

impl Drop for ImportedBuffer {
    fn drop(&mut self) {
        self.device.wait_idle_before_release("an imported buffer");
        // SAFETY: the device is idle (above): no Vulkan work uses the buffer. The memory is
        // null when the import failed, and vkFreeMemory ignores a null handle.
        unsafe {
            self.device.raw().destroy_buffer(self.raw(), None);
            self.device.raw().free_memory(self.memory, None);
        }
    }
}

pub use crate::semaphore_kind::SemaphoreKind;

/// A semaphore whose payload can be exported as this system's opaque handle (for HIP to
/// wait on or signal). Each user documents who signals and who waits.
pub struct ExportableSemaphore {
    device: Arc<Device>,
    raw: vk::Semaphore,
    kind: SemaphoreKind,
    handle_kind: HandleKind,
    /// Counts this object in the live-object registry (leak tests).
    _live: crate::vulkan::live::Tracked,
}

impl ExportableSemaphore {
    /// The Vulkan handle (valid while `self` lives), for submissions.
    pub fn raw(&self) -> vk::Semaphore {
        self.raw
    }

    /// Binary or timeline.
    pub fn kind(&self) -> SemaphoreKind {
        self.kind
    }

    /// Whether this device can export semaphores of `kind` (as some handle kind of this
    /// system). Asked, never assumed: Mesa's lavapipe (22.3.6, the CI device) exports none,
    /// while it does export `OPAQUE_FD` buffers (measured, 2026-11).
    pub fn is_exportable(device: &Device, kind: SemaphoreKind) -> bool {
        Self::export_kind(device, kind).is_some()
    }

    /// The first handle kind of this system that semaphores of `kind` export as here.
    fn export_kind(device: &Device, kind: SemaphoreKind) -> Option<HandleKind> {
        if !device.external.exports_semaphores() {
            return None;
        }
        HANDLE_KINDS.iter().copied().find(|&handle| {
            let mut type_info = vk::SemaphoreTypeCreateInfo::default().semaphore_type(match kind {
                SemaphoreKind::Binary => vk::SemaphoreType::BINARY,
                SemaphoreKind::Timeline => vk::SemaphoreType::TIMELINE,
            });
            let query = vk::PhysicalDeviceExternalSemaphoreInfo::default()
                .handle_type(semaphore_handle_type(handle))
                .push_next(&mut type_info);
            let mut props = vk::ExternalSemaphoreProperties::default();
            // SAFETY: Vulkan 1.1 core query on a physical device of this instance.
            unsafe {
                device.instance().raw().get_physical_device_external_semaphore_properties(
                    device.physical.raw,
                    &query,
                    &mut props,
                )
            };
            props.external_semaphore_features.contains(vk::ExternalSemaphoreFeatureFlags::EXPORTABLE)
        })
    }

    /// Creates a semaphore of `kind` whose payload can be exported as this system's opaque
    /// handle (`what` names it in errors).
    pub fn new(device: &Arc<Device>, kind: SemaphoreKind, what: &str) -> Result<Self> {
        let _live = crate::vulkan::live::Tracked::new("ExportableSemaphore")?;
        let Some(handle_kind) = Self::export_kind(device, kind) else {
            bail!(
                "{}: {kind:?} semaphores cannot be exported as any of {HANDLE_KINDS:?} ({what})",
                device.physical.name
            );
        };
        let mut export = vk::ExportSemaphoreCreateInfo::default().handle_types(semaphore_handle_type(handle_kind));
        let mut type_info = vk::SemaphoreTypeCreateInfo::default()
            .semaphore_type(match kind {
                SemaphoreKind::Binary => vk::SemaphoreType::BINARY,
                SemaphoreKind::Timeline => vk::SemaphoreType::TIMELINE,
            })
            .initial_value(0);
        let info = vk::SemaphoreCreateInfo::default().push_next(&mut export).push_next(&mut type_info);
        // SAFETY: exportability was checked; info is valid.
        let raw = unsafe { device.raw().create_semaphore(&info, None) }
            .with_context(|| format!("vkCreateSemaphore failed for exportable {what}"))?;
        Ok(Self { device: device.clone(), raw, kind, handle_kind, _live })
    }

    /// Exports the payload as a new handle, owned by the caller until an importer takes it.
    pub fn export(&self) -> Result<SharedHandle> {
        // SAFETY: the semaphore is live and was created exportable as `handle_kind`.
        unsafe { self.device.external.export_semaphore(self.raw, self.handle_kind) }
            .context("exporting a semaphore's payload")
    }
}

impl Drop for ExportableSemaphore {
    fn drop(&mut self) {
        self.device.wait_idle_before_release("an exportable semaphore");
        // SAFETY: the device is idle (above), so no pending submission waits on or signals
        // the semaphore; HIP's import of it is dropped first (by field order) and
        // HipHeights' Drop waited for its stream.
        unsafe { self.device.raw().destroy_semaphore(self.raw(), None) };
    }
}
