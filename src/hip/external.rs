//! Memory and semaphores imported from Vulkan through OPAQUE_FD handles.
//!
//! Ownership of the fd, on Linux, for both imports (HIP follows CUDA here):
//! "Ownership of the file descriptor is transferred to the CUDA driver when
//! the handle is imported successfully. Performing any operations on the
//! file descriptor after it is imported results in undefined behavior."
//! (CUDA driver API, `cuImportExternalMemory` / `cuImportExternalSemaphore`.)
//! So after a successful import the fd is released from its `OwnedFd` and
//! never touched again.
//!
//! After a FAILED import the docs leave the fd to the caller, but the NVIDIA
//! driver does not always honour that. Measured on an H100 (CUDA 13.0, driver
//! 580) through the shim, importing a `/dev/null` fd: the memory import failed
//! (cudaErrorUnknown) AND closed the fd — Rust's IO-safety check then aborted
//! on the second close; the semaphore imports failed and left it open.
//! Closing it blindly could close an unrelated file that reused the number; never closing
//! it leaks one fd per failed import (every run on AMD/Linux, where `auto` tries the
//! semaphore strategies first). So `release_after_failure` compares the fd's identity
//! (`fstat` device and inode) before the import and after the failure: still the same
//! open file → ours to close; closed or replaced → released untouched.
//! Revisit if the driver documents the failure case.

use std::ffi::c_void;
use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd, RawFd};

use super::device::Hip;
use super::error::{HipError, Result};
use super::ffi;
use super::result;

/// Device and inode of the open file behind `fd`, if it is open.
fn identity(fd: RawFd) -> Option<(u64, u64)> {
    // SAFETY: fstat only writes into `stat`; an fd that is not open yields EBADF.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `stat` is a valid, writable libc::stat.
    let rc = unsafe { libc::fstat(fd, &mut stat) };
    (rc == 0).then_some((stat.st_dev, stat.st_ino))
}

/// After a failed import the runtime may already have closed `fd` (see the module docs):
/// close it only if it is still the file it was before the import (`before`).
fn release_after_failure(fd: OwnedFd, before: Option<(u64, u64)>, error: HipError) -> HipError {
    let raw = fd.as_raw_fd();
    if before.is_some() && identity(raw) == before {
        drop(fd);
        log::debug!("{}: fd {raw} closed after the failed import", error.call);
    } else {
        let _ = fd.into_raw_fd();
        log::debug!("{}: fd {raw} was closed by the runtime during the failed import", error.call);
    }
    error
}

/// A Vulkan allocation imported into HIP (`hipImportExternalMemory`).
///
/// Map it with [`ExternalMemory::map_buffer`] to get a device pointer.
pub struct ExternalMemory {
    hip: Hip,
    raw: ffi::hipExternalMemory_t,
    size: u64,
}

// SAFETY: the handle is an opaque runtime object usable from any thread.
unsafe impl Send for ExternalMemory {}

impl ExternalMemory {
    /// Imports a Vulkan memory object exported as OPAQUE_FD.
    ///
    /// `size` is the allocation size (`VkMemoryAllocateInfo::allocationSize`);
    /// `dedicated` must be true when the Vulkan allocation was dedicated
    /// (`VkMemoryDedicatedAllocateInfo`). The fd is consumed either way: the
    /// runtime owns it after success; after a failure it is closed here unless
    /// the driver already closed it (module docs).
    pub fn import_opaque_fd(hip: &Hip, fd: OwnedFd, size: u64, dedicated: bool) -> Result<ExternalMemory> {
        let before = identity(fd.as_raw_fd());
        let desc = ffi::ExternalMemoryHandleDesc {
            type_: ffi::HIP_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD,
            handle: ffi::ExternalHandle { fd: fd.as_raw_fd() },
            size,
            flags: if dedicated { ffi::HIP_EXTERNAL_MEMORY_DEDICATED } else { 0 },
            reserved: [0; 16],
        };
        // SAFETY: desc is fully initialised at the modern size; the fd is open
        // (owned by `fd`, which outlives the call).
        let raw = match unsafe { result::import_external_memory(hip.api(), &desc) } {
            Ok(raw) => raw,
            Err(e) => return Err(release_after_failure(fd, before, e)),
        };
        // Success: the runtime now owns the fd (see the module docs). Release
        // it without closing.
        let _ = fd.into_raw_fd();
        Ok(ExternalMemory { hip: hip.clone(), raw, size })
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

impl Drop for ExternalMemory {
    fn drop(&mut self) {
        // SAFETY: self.raw is live, no mapped pointer remains (a MappedBuffer
        // frees its pointer before dropping the memory it owns).
        if let Err(e) = unsafe { result::destroy_external_memory(self.hip.api(), self.raw) } {
            log::warn!("{e}");
        }
    }
}

/// A device pointer into imported memory. Owns the [`ExternalMemory`]: on
/// drop, frees the pointer (`hipFree`), then destroys the memory.
///
/// Make sure no queued HIP work still uses the pointer before dropping.
pub struct MappedBuffer {
    ptr: *mut c_void,
    size: u64,
    // Declared last so it drops after `Drop::drop` has freed `ptr`.
    memory: ExternalMemory,
}

// SAFETY: a device pointer and an opaque handle; usable from any thread.
unsafe impl Send for MappedBuffer {}

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
        // SAFETY: ptr came from hipExternalMemoryGetMappedBuffer and is freed
        // once, here, before `memory` is destroyed (field drop runs after).
        if let Err(e) = unsafe { result::free(self.memory.hip.api(), self.ptr) } {
            log::warn!("{e}");
        }
    }
}

/// Binary or timeline semaphore (as created on the Vulkan side).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SemaphoreKind {
    /// `VK_SEMAPHORE_TYPE_BINARY`: signal/wait values are ignored.
    Binary,
    /// `VK_SEMAPHORE_TYPE_TIMELINE`: signal sets the value, wait waits for ≥ value.
    Timeline,
}

/// A Vulkan semaphore imported into HIP (`hipImportExternalSemaphore`).
/// Signal and wait it with [`super::Stream`].
pub struct ExternalSemaphore {
    hip: Hip,
    raw: ffi::hipExternalSemaphore_t,
    kind: SemaphoreKind,
}

// SAFETY: the handle is an opaque runtime object usable from any thread.
unsafe impl Send for ExternalSemaphore {}
// SAFETY: only read through &self; HIP calls on it are thread-safe.
unsafe impl Sync for ExternalSemaphore {}

impl ExternalSemaphore {
    /// Imports a Vulkan semaphore exported as OPAQUE_FD. The fd is consumed
    /// as for [`ExternalMemory::import_opaque_fd`]. ROCm on Linux
    /// may answer `hipErrorInvalidValue`/`NotSupported` (see
    /// [`HipError::is_unsupported`]); timeline semaphores need HIP ≥ 6 or the
    /// NVIDIA shim.
    pub fn import_opaque_fd(hip: &Hip, fd: OwnedFd, kind: SemaphoreKind) -> Result<ExternalSemaphore> {
        let before = identity(fd.as_raw_fd());
        let desc = ffi::ExternalSemaphoreHandleDesc {
            type_: match kind {
                SemaphoreKind::Binary => ffi::HIP_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD,
                SemaphoreKind::Timeline => ffi::HIP_EXTERNAL_SEMAPHORE_HANDLE_TYPE_TIMELINE_FD,
            },
            handle: ffi::ExternalHandle { fd: fd.as_raw_fd() },
            flags: 0,
            reserved: [0; 16],
        };
        // SAFETY: desc is fully initialised at the modern size; the fd is open.
        let raw = match unsafe { result::import_external_semaphore(hip.api(), &desc) } {
            Ok(raw) => raw,
            Err(e) => return Err(release_after_failure(fd, before, e)),
        };
        // Success: the runtime owns the fd now (module docs). Release it.
        let _ = fd.into_raw_fd();
        Ok(ExternalSemaphore { hip: hip.clone(), raw, kind })
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
        // SAFETY: self.raw is live and this is its last use; the caller has
        // synchronised the streams that signal or wait on it.
        if let Err(e) = unsafe { result::destroy_external_semaphore(self.hip.api(), self.raw) } {
            log::warn!("{e}");
        }
    }
}
