//! Memory and semaphores imported from Vulkan through opaque handles (a POSIX fd on Linux,
//! a Win32 handle on Windows: [`crate::shared_handle`]).
//!
//! ## Who closes the handle: the importer here, never the runtime
//!
//! The imports take the [`SharedHandle`] and close it themselves: an fd right after the
//! call, whether the import succeeded or failed; a Windows NT handle only after
//! `hipDestroyExternal*`, because ROCm's Windows path hands the handle to its driver layer,
//! whose source is not public, and nothing says the handle may be closed while the import
//! lives (CUDA's documentation allows closing it once imported; keeping it open is right
//! for both). A KMT handle is never closed.
//!
//! For fds the two runtimes differ, and the rule above is the one that is right for both:
//! - ROCm never closes or duplicates the fd it imports, on success or failure, in any
//!   version (ROCm/clr `hipamd/src/hip_memory.cpp` `hipImportExternalMemory` → `amd::ExternalBuffer`
//!   → `rocclr/device/rocm/rocmemory.cpp` `Memory::create` → `interopMapBuffer(fd)` →
//!   `hsa_amd_interop_map_buffer`, with no `close`; checked in the source of 5.2 to 6.3 and
//!   the 7.x development branch): a runtime that "took ownership"
//!   would leak one dma-buf fd per import, and keep the VRAM alive after `vkFreeMemory`.
//!   Measured: `tests/lifetimes.rs` (`a_failed_hip_import_gives_the_exported_fd_back`, ROCm
//!   5.2 without a GPU) and the H100's 200-cycle HIP leak test (fds 59 → 59, BENCHMARKS.md).
//! - CUDA takes ownership of the fd on success ("Ownership of the file descriptor is
//!   transferred to the CUDA driver when the handle is imported successfully",
//!   `cuImportExternalMemory`), and was seen closing it on a *failed* memory import too
//!   (H100, CUDA 13.0, driver 580; seen once, no log kept). So the NVIDIA shim
//!   (`src/hip/nvidia/shim.cpp`) hands CUDA a `dup` of the caller's fd and deals with the
//!   dup itself. Revisit if ROCm ever starts taking ownership of imported fds.

use std::ffi::c_void;

use crate::shared_handle::{HandleKind, SharedHandle};

use super::device::Hip;
use super::error::{HipError, Result};
use super::ffi;
use super::result;

/// A Vulkan allocation imported into HIP (`hipImportExternalMemory`).
///
/// Map it with [`ExternalMemory::map_buffer`] to get a device pointer.
pub struct ExternalMemory {
    hip: Hip,
    raw: ffi::hipExternalMemory_t,
    size: u64,
    /// A Windows NT handle, kept open until the import is destroyed (module docs); `None`
    /// for an fd, closed right after the import.
    _handle: Option<SharedHandle>,
}

/// What an import keeps of its handle: an NT handle until the import goes (module docs),
/// nothing else (an fd is closed now; a KMT handle is never closed).
fn kept_after_import(handle: SharedHandle) -> Option<SharedHandle> {
    (handle.kind() == HandleKind::OpaqueWin32).then_some(handle)
}

impl ExternalMemory {
    /// Imports a Vulkan memory object exported as an opaque handle (`OPAQUE_FD`,
    /// `OPAQUE_WIN32` or `OPAQUE_WIN32_KMT`, as the handle is).
    ///
    /// `size` is the allocation size (`VkMemoryAllocateInfo::allocationSize`);
    /// `dedicated` must be true when the Vulkan allocation was dedicated
    /// (`VkMemoryDedicatedAllocateInfo`). The handle is closed here when it should be, on
    /// success or failure (module docs).
    ///
    /// # Safety
    /// `handle` must be an export of a Vulkan memory object of at least `size` bytes
    /// (`vkGetMemoryFdKHR`, `vkGetMemoryWin32HandleKHR`), allocated dedicated exactly when
    /// `dedicated` is true, and that memory must outlive the import.
    /// [`ExternalMemory::map_buffer`] trusts `size` for its bounds check; the runtime cannot
    /// verify it.
    pub unsafe fn import(hip: &Hip, handle: SharedHandle, size: u64, dedicated: bool) -> Result<ExternalMemory> {
        let desc = ffi::ExternalMemoryHandleDesc {
            type_: ffi::external_memory_handle_type(handle.kind()),
            handle: handle.raw().into(),
            size,
            flags: if dedicated { ffi::HIP_EXTERNAL_MEMORY_DEDICATED } else { 0 },
            reserved: [0; 16],
        };
        // SAFETY: desc is fully initialised at the modern size; the handle is open for the
        // whole call (held by `handle`); what it refers to is the caller's contract.
        let raw = unsafe { result::import_external_memory(hip.api(), &desc) }?;
        Ok(ExternalMemory { hip: hip.clone(), raw, size, _handle: kept_after_import(handle) })
    }

    /// Size of the imported allocation in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Maps `size` bytes at `offset` as a device pointer, consuming the
    /// memory: the returned buffer owns it, so the pointer is always freed
    /// before the memory is destroyed. On failure the memory is destroyed.
    pub fn map_buffer(self, offset: u64, size: u64) -> Result<MappedBuffer> {
        let end = offset.checked_add(size);
        if size == 0 || end.is_none_or(|end| end > self.size) {
            return Err(HipError {
                call: "hipExternalMemoryGetMappedBuffer",
                code: ffi::HIP_ERROR_INVALID_VALUE,
                name: "hipErrorInvalidValue".into(),
                message: format!("range {offset}+{size} is empty or outside the {}-byte allocation", self.size),
            });
        }
        let desc = ffi::ExternalMemoryBufferDesc { offset, size, ..Default::default() };
        // SAFETY: self.raw is live (owned); desc is full-size and zeroed.
        let ptr = unsafe { result::external_memory_get_mapped_buffer(self.hip.api(), self.raw, &desc) }?;
        Ok(MappedBuffer { ptr, size, memory: self })
    }
}

impl ExternalMemory {
    /// Maps an imported RGBA16F image of `width × height` texels (one level) as a HIP array
    /// and creates a surface object on it, consuming the memory (the returned image owns
    /// it, so the surface and array go before the import). On failure the memory is
    /// destroyed.
    ///
    /// The import must be of a Vulkan image of exactly that format and size, optimal
    /// tiling, dedicated (CUDA maps such images; ROCm's runtime cannot:
    /// [`super::Hip::maps_images`]).
    pub fn map_rgba16f_image(self, width: u32, height: u32) -> Result<MappedImage> {
        let desc = ffi::ExternalMemoryMipmappedArrayDesc {
            offset: 0,
            format: ffi::ChannelFormatDesc { bits: [16; 4], kind: ffi::HIP_CHANNEL_FORMAT_KIND_FLOAT },
            extent: ffi::Extent { width: width as usize, height: height as usize, depth: 0 },
            flags: ffi::HIP_ARRAY_SURFACE_LOAD_STORE,
            num_levels: 1,
        };
        // SAFETY: self.raw is live (owned); the descriptor matches the image (caller's contract).
        let mipmap = unsafe { result::external_memory_get_mapped_mipmapped_array(self.hip.api(), self.raw, &desc) }?;
        let mut image = MappedImage { surface: 0, mipmap, width, height, memory: self };
        // SAFETY: the mipmapped array is live and has level 0.
        let level0 = unsafe { result::get_mipmapped_array_level(image.memory.hip.api(), mipmap, 0) }?;
        // SAFETY: level 0 lives as long as the mipmapped array, which `image` frees after
        // destroying the surface; it was mapped with hipArraySurfaceLoadStore.
        image.surface = unsafe { result::create_surface_object(image.memory.hip.api(), level0) }?;
        Ok(image)
    }
}

/// A Vulkan image's memory mapped in HIP: the mipmapped array, and a surface object on its
/// level 0 that kernels write through. Owns the [`ExternalMemory`]; on drop waits for the
/// device, destroys the surface, frees the array, then the import.
pub struct MappedImage {
    surface: ffi::HipSurfaceObject,
    mipmap: ffi::HipMipmappedArray,
    width: u32,
    height: u32,
    // Declared last so it drops after `Drop::drop` has released the array.
    memory: ExternalMemory,
}

impl MappedImage {
    /// The surface object (valid while `self` lives), a kernel argument.
    pub fn surface(&self) -> ffi::HipSurfaceObject {
        self.surface
    }

    /// Texels per row and rows.
    pub fn extent(&self) -> (u32, u32) {
        (self.width, self.height)
    }
}

impl Drop for MappedImage {
    fn drop(&mut self) {
        let hip = &self.memory.hip;
        hip.synchronize_before_release("destroying a mapped image");
        if self.surface != 0 {
            // SAFETY: created once above, destroyed once here, no kernel queued (synchronised).
            if let Err(e) = unsafe { result::destroy_surface_object(hip.api(), self.surface) } {
                log::warn!("{e}");
            }
        }
        // SAFETY: the array came from the mapping above, its surface is gone, freed once.
        if let Err(e) = unsafe { result::free_mipmapped_array(hip.api(), self.mipmap) } {
            log::warn!("{e}");
        }
    }
}

impl Drop for ExternalMemory {
    fn drop(&mut self) {
        self.hip.synchronize_before_release("hipDestroyExternalMemory");
        // SAFETY: self.raw is live, no mapped pointer remains (a MappedBuffer
        // frees its pointer before dropping the memory it owns), and no queued work
        // uses the memory (the device was synchronised above).
        if let Err(e) = unsafe { result::destroy_external_memory(self.hip.api(), self.raw) } {
            log::warn!("{e}");
        }
    }
}

/// A device pointer into imported memory. Owns the [`ExternalMemory`]: on
/// drop, waits for the device (`hipDeviceSynchronize`, so no queued kernel still uses the
/// pointer), frees the pointer (`hipFree`), then destroys the memory.
pub struct MappedBuffer {
    ptr: *mut c_void,
    size: u64,
    // Declared last so it drops after `Drop::drop` has freed `ptr`.
    memory: ExternalMemory,
}

impl MappedBuffer {
    /// The device pointer (valid while `self` lives).
    pub fn device_ptr(&self) -> *mut c_void {
        self.ptr
    }

    /// Size of the mapped range in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The imported memory this range belongs to.
    pub fn memory(&self) -> &ExternalMemory {
        &self.memory
    }
}

impl Drop for MappedBuffer {
    fn drop(&mut self) {
        // No kernel may still write through the pointer when it goes.
        self.memory.hip.synchronize_before_release("hipFree of a mapped buffer");
        if !self.memory.hip.mapped_buffers_hold_their_import() {
            // ROCm 5.0–5.4: the mapping does not retain the import, and hipFree on it
            // releases the import itself; the hipDestroyExternalMemory that follows (field
            // drop) would then release it a second time. Leave the release to that call.
            // (ROCm 5.5 added the retain: ROCm/hipamd 84da7a9e src/hip_memory.cpp and
            // ROCm/ROCclr 0f3bbd68 platform/memory.cpp, both first tagged rocm-5.5.0. From the
            // source only: no AMD GPU has run this path. Drop it with ROCm < 5.5 support.)
            return;
        }
        // SAFETY: ptr came from hipExternalMemoryGetMappedBuffer and is freed
        // once, here, before `memory` is destroyed (field drop runs after).
        if let Err(e) = unsafe { result::free(self.memory.hip.api(), self.ptr) } {
            log::warn!("{e}");
        }
    }
}

pub use crate::semaphore_kind::SemaphoreKind;

/// A Vulkan semaphore imported into HIP (`hipImportExternalSemaphore`).
/// Signal and wait it with [`super::Stream`].
pub struct ExternalSemaphore {
    hip: Hip,
    raw: ffi::hipExternalSemaphore_t,
    kind: SemaphoreKind,
    /// As for [`ExternalMemory`]: an NT handle stays open while the import lives.
    _handle: Option<SharedHandle>,
}

impl ExternalSemaphore {
    /// Imports a Vulkan semaphore exported as an opaque handle. The handle is closed here
    /// when it should be, as for [`ExternalMemory::import`]. Which runtimes can import
    /// which kinds is [`Hip::imports_semaphores`]'s to say, with its evidence.
    ///
    /// # Safety
    /// `handle` must be an export (`vkGetSemaphoreFdKHR`, `vkGetSemaphoreWin32HandleKHR`) of
    /// a Vulkan semaphore of type `kind`, which must outlive the import.
    pub unsafe fn import(hip: &Hip, handle: SharedHandle, kind: SemaphoreKind) -> Result<ExternalSemaphore> {
        let Some(type_) = ffi::external_semaphore_handle_type(handle.kind(), kind) else {
            return Err(HipError {
                call: "hipImportExternalSemaphore",
                code: ffi::HIP_ERROR_INVALID_VALUE,
                name: "hipErrorInvalidValue".into(),
                message: format!("no HIP handle type imports a {kind:?} semaphore from a {:?} handle", handle.kind()),
            });
        };
        let desc = ffi::ExternalSemaphoreHandleDesc { type_, handle: handle.raw().into(), flags: 0, reserved: [0; 16] };
        // SAFETY: desc is fully initialised at the modern size; the handle is open for the
        // whole call (held by `handle`); what it refers to is the caller's contract.
        let raw = unsafe { result::import_external_semaphore(hip.api(), &desc) }?;
        Ok(ExternalSemaphore { hip: hip.clone(), raw, kind, _handle: kept_after_import(handle) })
    }

    /// Binary or timeline.
    pub fn kind(&self) -> SemaphoreKind {
        self.kind
    }

    /// The raw handle.
    pub fn as_raw(&self) -> ffi::hipExternalSemaphore_t {
        self.raw
    }
}

impl Drop for ExternalSemaphore {
    fn drop(&mut self) {
        self.hip.synchronize_before_release("hipDestroyExternalSemaphore");
        // SAFETY: self.raw is live and this is its last use; no queued wait or
        // signal uses it (the device was synchronised above).
        if let Err(e) = unsafe { result::destroy_external_semaphore(self.hip.api(), self.raw) } {
            log::warn!("{e}");
        }
    }
}
