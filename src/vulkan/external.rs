//! Vulkan's half of the platform difference (see [`crate::shared_handle`]): the extension
//! that exports memory and semaphores on this system, the calls that turn an exportable
//! object into a [`SharedHandle`], and the `vkAllocateMemory` structure that imports one.
//!
//! | | Linux | Windows |
//! |---|---|---|
//! | memory | `VK_KHR_external_memory_fd`, `OPAQUE_FD` | `VK_KHR_external_memory_win32`, `OPAQUE_WIN32`, else `OPAQUE_WIN32_KMT` |
//! | semaphores | `VK_KHR_external_semaphore_fd`, `OPAQUE_FD` | `VK_KHR_external_semaphore_win32`, `OPAQUE_WIN32`, else `OPAQUE_WIN32_KMT` |
//!
//! Both extensions are optional: a device without them renders with plain memory, and
//! only HIP interop is refused (with the missing extension named).

use std::ffi::CStr;

use anyhow::{bail, Context, Result};
use ash::vk;

use crate::shared_handle::{HandleKind, RawHandle, SharedHandle};

#[cfg(unix)]
type MemoryFns = ash::khr::external_memory_fd::Device;
#[cfg(windows)]
type MemoryFns = ash::khr::external_memory_win32::Device;
#[cfg(unix)]
type SemaphoreFns = ash::khr::external_semaphore_fd::Device;
#[cfg(windows)]
type SemaphoreFns = ash::khr::external_semaphore_win32::Device;

/// The device extension that exports memory on this system.
#[cfg(unix)]
pub const MEMORY_EXTENSION: &CStr = ash::khr::external_memory_fd::NAME;
/// The device extension that exports memory on this system.
#[cfg(windows)]
pub const MEMORY_EXTENSION: &CStr = ash::khr::external_memory_win32::NAME;
/// The device extension that exports semaphores on this system.
#[cfg(unix)]
pub const SEMAPHORE_EXTENSION: &CStr = ash::khr::external_semaphore_fd::NAME;
/// The device extension that exports semaphores on this system.
#[cfg(windows)]
pub const SEMAPHORE_EXTENSION: &CStr = ash::khr::external_semaphore_win32::NAME;

/// The handle kinds exports use on this system, preferred first: an NT handle on Windows
/// where the driver makes one (it can be closed, so nothing outlives its users), a KMT
/// handle where the driver offers only that.
#[cfg(unix)]
pub const HANDLE_KINDS: &[HandleKind] = &[HandleKind::OpaqueFd];
/// The handle kinds exports use on this system, preferred first: an NT handle on Windows
/// where the driver makes one (it can be closed, so nothing outlives its users), a KMT
/// handle where the driver offers only that.
#[cfg(windows)]
pub const HANDLE_KINDS: &[HandleKind] = &[HandleKind::OpaqueWin32, HandleKind::OpaqueWin32Kmt];

/// Vulkan's memory handle type for a handle kind.
pub fn memory_handle_type(kind: HandleKind) -> vk::ExternalMemoryHandleTypeFlags {
    match kind {
        HandleKind::OpaqueFd => vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD,
        HandleKind::OpaqueWin32 => vk::ExternalMemoryHandleTypeFlags::OPAQUE_WIN32,
        HandleKind::OpaqueWin32Kmt => vk::ExternalMemoryHandleTypeFlags::OPAQUE_WIN32_KMT,
    }
}

/// Vulkan's semaphore handle type for a handle kind.
pub fn semaphore_handle_type(kind: HandleKind) -> vk::ExternalSemaphoreHandleTypeFlags {
    match kind {
        HandleKind::OpaqueFd => vk::ExternalSemaphoreHandleTypeFlags::OPAQUE_FD,
        HandleKind::OpaqueWin32 => vk::ExternalSemaphoreHandleTypeFlags::OPAQUE_WIN32,
        HandleKind::OpaqueWin32Kmt => vk::ExternalSemaphoreHandleTypeFlags::OPAQUE_WIN32_KMT,
    }
}

/// The export functions of one device, for the extensions it enabled.
pub struct ExternalFns {
    memory: Option<MemoryFns>,
    semaphore: Option<SemaphoreFns>,
}

impl ExternalFns {
    /// Loads the functions of the extensions `device` was created with.
    pub(super) fn load(instance: &ash::Instance, device: &ash::Device, memory: bool, semaphore: bool) -> Self {
        Self {
            memory: memory.then(|| MemoryFns::new(instance, device)),
            semaphore: semaphore.then(|| SemaphoreFns::new(instance, device)),
        }
    }

    /// Whether memory can be exported ([`MEMORY_EXTENSION`] is enabled).
    pub fn exports_memory(&self) -> bool {
        self.memory.is_some()
    }

    /// Whether semaphores can be exported ([`SEMAPHORE_EXTENSION`] is enabled).
    pub fn exports_semaphores(&self) -> bool {
        self.semaphore.is_some()
    }

    fn memory_fns(&self) -> Result<&MemoryFns> {
        self.memory
            .as_ref()
            .with_context(|| format!("{} is not enabled on this device", MEMORY_EXTENSION.to_string_lossy()))
    }

    /// Exports `memory` as a new handle of `kind`.
    ///
    /// # Safety
    /// `memory` is a live allocation of this device made with `VkExportMemoryAllocateInfo`
    /// naming `kind`'s handle type.
    pub unsafe fn export_memory(&self, memory: vk::DeviceMemory, kind: HandleKind) -> Result<SharedHandle> {
        let fns = self.memory_fns()?;
        let handle_type = memory_handle_type(kind);
        #[cfg(unix)]
        {
            let info = vk::MemoryGetFdInfoKHR::default().memory(memory).handle_type(handle_type);
            // SAFETY: the caller's contract.
            let fd = unsafe { fns.get_memory_fd(&info) }.context("vkGetMemoryFdKHR failed")?;
            // SAFETY: on success vkGetMemoryFdKHR returns a new fd that the caller owns.
            Ok(unsafe { SharedHandle::from_raw_fd(fd) })
        }
        #[cfg(windows)]
        {
            let info = vk::MemoryGetWin32HandleInfoKHR::default().memory(memory).handle_type(handle_type);
            // SAFETY: the caller's contract.
            let handle = unsafe { fns.get_memory_win32_handle(&info) }.context("vkGetMemoryWin32HandleKHR failed")?;
            // SAFETY: a handle vkGetMemoryWin32HandleKHR returned for this kind: a new NT
            // handle the caller owns, or a KMT name valid while the memory lives.
            unsafe { win32_handle(handle, kind, "vkGetMemoryWin32HandleKHR") }
        }
    }

    /// Exports `semaphore`'s payload as a new handle of `kind`.
    ///
    /// # Safety
    /// `semaphore` is a live semaphore of this device created with
    /// `VkExportSemaphoreCreateInfo` naming `kind`'s handle type.
    pub unsafe fn export_semaphore(&self, semaphore: vk::Semaphore, kind: HandleKind) -> Result<SharedHandle> {
        let fns = self
            .semaphore
            .as_ref()
            .with_context(|| format!("{} is not enabled on this device", SEMAPHORE_EXTENSION.to_string_lossy()))?;
        let handle_type = semaphore_handle_type(kind);
        #[cfg(unix)]
        {
            let info = vk::SemaphoreGetFdInfoKHR::default().semaphore(semaphore).handle_type(handle_type);
            // SAFETY: the caller's contract.
            let fd = unsafe { fns.get_semaphore_fd(&info) }.context("vkGetSemaphoreFdKHR failed")?;
            // SAFETY: on success a new fd owned by the caller is returned.
            Ok(unsafe { SharedHandle::from_raw_fd(fd) })
        }
        #[cfg(windows)]
        {
            let info = vk::SemaphoreGetWin32HandleInfoKHR::default().semaphore(semaphore).handle_type(handle_type);
            // SAFETY: the caller's contract.
            let handle =
                unsafe { fns.get_semaphore_win32_handle(&info) }.context("vkGetSemaphoreWin32HandleKHR failed")?;
            // SAFETY: as for memory: a new NT handle, or a KMT name valid while the semaphore lives.
            unsafe { win32_handle(handle, kind, "vkGetSemaphoreWin32HandleKHR") }
        }
    }

    /// The memory types a Linux dma-buf may be imported as (`vkGetMemoryFdPropertiesKHR`).
    ///
    /// # Safety
    /// `dma_buf` is a dma-buf fd.
    #[cfg(unix)]
    pub unsafe fn dma_buf_memory_types(&self, dma_buf: &SharedHandle) -> Result<u32> {
        let RawHandle::Fd(fd) = dma_buf.raw() else { bail!("a dma-buf is an fd, not {:?}", dma_buf.kind()) };
        let mut props = vk::MemoryFdPropertiesKHR::default();
        // SAFETY: the fd is open (owned by `dma_buf`) and a dma-buf per the caller.
        unsafe {
            self.memory_fns()?.get_memory_fd_properties(vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT, fd, &mut props)
        }
        .context("vkGetMemoryFdPropertiesKHR refused the dma-buf")?;
        Ok(props.memory_type_bits)
    }
}

/// Wraps a handle a `vkGet*Win32HandleKHR` call returned.
///
/// # Safety
/// `handle` was just returned for `kind` (a new NT handle, or a KMT name).
#[cfg(windows)]
unsafe fn win32_handle(handle: vk::HANDLE, kind: HandleKind, call: &str) -> Result<SharedHandle> {
    if handle == 0 {
        bail!("{call} returned a null handle");
    }
    let raw = handle as std::os::windows::io::RawHandle;
    match kind {
        // SAFETY: the caller's contract: a new NT handle nobody else owns.
        HandleKind::OpaqueWin32 => Ok(unsafe { SharedHandle::from_raw_nt(raw) }),
        // SAFETY: the caller's contract: a KMT name valid while the exported object lives.
        HandleKind::OpaqueWin32Kmt => Ok(unsafe { SharedHandle::from_raw_kmt(raw) }),
        HandleKind::OpaqueFd => bail!("{call} cannot make a POSIX fd"),
    }
}

/// The `vkAllocateMemory` structure that imports a [`SharedHandle`] (it borrows the
/// handle, which must stay open until the allocation call returns).
pub struct MemoryImport<'a> {
    #[cfg(unix)]
    info: vk::ImportMemoryFdInfoKHR<'a>,
    #[cfg(windows)]
    info: vk::ImportMemoryWin32HandleInfoKHR<'a>,
}

impl<'a> MemoryImport<'a> {
    /// The import of `handle` as `handle_type` (which must fit the handle's kind: an fd
    /// type for an fd, a Win32 type for a Win32 handle).
    pub fn new(handle: &'a SharedHandle, handle_type: vk::ExternalMemoryHandleTypeFlags) -> Result<Self> {
        match handle.raw() {
            #[cfg(unix)]
            RawHandle::Fd(fd) => {
                Ok(Self { info: vk::ImportMemoryFdInfoKHR::default().handle_type(handle_type).fd(fd) })
            }
            #[cfg(windows)]
            RawHandle::Win32(raw) => Ok(Self {
                info: vk::ImportMemoryWin32HandleInfoKHR::default().handle_type(handle_type).handle(raw as vk::HANDLE),
            }),
            other => bail!("a {other:?} cannot be imported on this system"),
        }
    }

    /// `alloc` with this import chained in.
    pub fn chain<'b>(&'b mut self, alloc: vk::MemoryAllocateInfo<'b>) -> vk::MemoryAllocateInfo<'b> {
        alloc.push_next(&mut self.info)
    }
}
