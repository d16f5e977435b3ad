//! The operating-system handle an exported payload travels in: a POSIX file descriptor on
//! Linux, a Win32 handle on Windows. Memory and semaphores are exported by one API and
//! imported by another through a [`SharedHandle`]; everything above this module is the same
//! on both systems.
//!
//! ## Where Linux and Windows differ (the whole list)
//! - here: what the handle is, and who closes it;
//! - `vulkan::external`: the extension and the `vkGet*Fd`/`vkGet*Win32Handle` calls that
//!   make one, and the import structure that takes one;
//! - `hip::ffi`: the runtime's file name (`libamdhip64.so.N` or `amdhip64_N.dll`) and the
//!   handle type numbers for each kind.
//!
//! ## Who closes the handle
//!
//! | handle | Vulkan import (`vkAllocateMemory`) | HIP import (`hipImport*`) |
//! |---|---|---|
//! | POSIX fd (`OPAQUE_FD`) | Vulkan owns it on success; on failure the caller still does | borrowed: the caller closes it, success or not (`hip::external` has the evidence for both runtimes) |
//! | Win32 NT handle (`OPAQUE_WIN32`) | borrowed: the caller closes it (`CloseHandle`), success or not | borrowed: the caller closes it |
//! | Win32 KMT handle (`OPAQUE_WIN32_KMT`) | nobody closes it: it is a global name, valid while the exporter's object lives | the same |
//!
//! The Vulkan rules are the spec's ("Importing memory from a file descriptor transfers
//! ownership of the file descriptor from the application to the Vulkan implementation";
//! "Importing memory object payloads from Windows handles does not transfer ownership of
//! the handle to the Vulkan implementation"); CUDA's documentation says the same of its
//! Win32 imports. [`SharedHandle`] keeps the rule in one place: an importer that succeeded
//! calls [`SharedHandle::imported_by_vulkan`], and every other path just drops the handle,
//! which closes what is the caller's to close.

use std::fmt;

/// What a [`SharedHandle`] is, which decides each API's handle type on import.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HandleKind {
    /// A POSIX file descriptor (Linux): Vulkan `OPAQUE_FD`, HIP `OpaqueFd`.
    OpaqueFd,
    /// A Windows NT handle, closed with `CloseHandle`: Vulkan `OPAQUE_WIN32`, HIP
    /// `OpaqueWin32`.
    OpaqueWin32,
    /// A Windows KMT ("kernel-mode thunk") handle, a global name that nobody closes:
    /// Vulkan `OPAQUE_WIN32_KMT`, HIP `OpaqueWin32Kmt`. Drivers that cannot make NT handles
    /// offer only these.
    OpaqueWin32Kmt,
}

/// The raw value an import descriptor carries (`VkImportMemory*Info`, HIP's handle union).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawHandle {
    /// A file descriptor.
    Fd(std::ffi::c_int),
    /// A Windows `HANDLE` (NT or KMT).
    Win32(*mut std::ffi::c_void),
}

/// An exported payload (memory or semaphore), owned until given away. Dropping it closes
/// what is the holder's to close (an fd, an NT handle; never a KMT handle).
pub struct SharedHandle {
    inner: Inner,
}

#[cfg(unix)]
enum Inner {
    Fd(std::os::fd::OwnedFd),
}

#[cfg(windows)]
enum Inner {
    Nt(std::os::windows::io::OwnedHandle),
    Kmt(std::os::windows::io::RawHandle),
}

// SAFETY: an fd and a Win32 handle are process-wide values, usable from any thread; a KMT
// handle is a global name with no thread affinity.
#[cfg(windows)]
unsafe impl Send for SharedHandle {}

impl SharedHandle {
    /// Wraps a file descriptor an export returned.
    #[cfg(unix)]
    pub fn from_fd(fd: std::os::fd::OwnedFd) -> Self {
        Self { inner: Inner::Fd(fd) }
    }

    /// Takes ownership of a raw fd an export returned (`vkGetMemoryFdKHR`,
    /// `hipMemExportToShareableHandle`, ...).
    ///
    /// # Safety
    /// `fd` is open and owned by nobody else (closing it here is right).
    #[cfg(unix)]
    pub unsafe fn from_raw_fd(fd: std::ffi::c_int) -> Self {
        use std::os::fd::FromRawFd;
        // SAFETY: the caller's contract.
        Self::from_fd(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
    }

    /// Takes ownership of an NT handle an export returned (`vkGetMemoryWin32HandleKHR`
    /// with an `OPAQUE_WIN32` type, `hipMemExportToShareableHandle`).
    ///
    /// # Safety
    /// `handle` is a valid NT handle owned by nobody else (closing it here is right).
    #[cfg(windows)]
    pub unsafe fn from_raw_nt(handle: std::os::windows::io::RawHandle) -> Self {
        use std::os::windows::io::FromRawHandle;
        // SAFETY: the caller's contract.
        Self { inner: Inner::Nt(unsafe { std::os::windows::io::OwnedHandle::from_raw_handle(handle) }) }
    }

    /// Wraps a KMT handle an export returned (`OPAQUE_WIN32_KMT`). It is never closed.
    ///
    /// # Safety
    /// `handle` names a payload whose exporting object outlives every use of the handle.
    #[cfg(windows)]
    pub unsafe fn from_raw_kmt(handle: std::os::windows::io::RawHandle) -> Self {
        Self { inner: Inner::Kmt(handle) }
    }

    /// What the handle is.
    pub fn kind(&self) -> HandleKind {
        match self.inner {
            #[cfg(unix)]
            Inner::Fd(_) => HandleKind::OpaqueFd,
            #[cfg(windows)]
            Inner::Nt(_) => HandleKind::OpaqueWin32,
            #[cfg(windows)]
            Inner::Kmt(_) => HandleKind::OpaqueWin32Kmt,
        }
    }

    /// The raw value for an import descriptor. It stays valid while `self` lives.
    pub fn raw(&self) -> RawHandle {
        match &self.inner {
            #[cfg(unix)]
            Inner::Fd(fd) => RawHandle::Fd(std::os::fd::AsRawFd::as_raw_fd(fd)),
            #[cfg(windows)]
            Inner::Nt(handle) => RawHandle::Win32(std::os::windows::io::AsRawHandle::as_raw_handle(handle)),
            #[cfg(windows)]
            Inner::Kmt(handle) => RawHandle::Win32(*handle),
        }
    }

    /// A Vulkan import of this handle succeeded: an fd now belongs to the Vulkan
    /// implementation (forgotten here, not closed); an NT handle is still ours (closed
    /// here); a KMT handle is nobody's. See the module's table.
    pub fn imported_by_vulkan(self) {
        match self.inner {
            #[cfg(unix)]
            Inner::Fd(fd) => {
                // Vulkan owns the fd now and closes it when the memory is freed.
                let _ = std::os::fd::IntoRawFd::into_raw_fd(fd);
            }
            #[cfg(windows)]
            Inner::Nt(handle) => drop(handle),
            #[cfg(windows)]
            Inner::Kmt(_) => {}
        }
    }
}

impl fmt::Debug for SharedHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SharedHandle({:?}, {:?})", self.kind(), self.raw())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// What fd `raw` names now (another thread may reuse a closed number, but not for this
    /// file, which only this test opens).
    fn target(raw: std::ffi::c_int) -> Option<std::path::PathBuf> {
        std::fs::read_link(format!("/proc/self/fd/{raw}")).ok()
    }

    #[test]
    fn dropping_an_fd_handle_closes_it_and_a_vulkan_import_leaves_it_open() {
        let path = std::env::temp_dir().join(format!("shared-handle-test-{}", std::process::id()));
        std::fs::write(&path, b"x").expect("temporary file");
        let open = || SharedHandle::from_fd(std::fs::File::open(&path).expect("temporary file").into());

        let handle = open();
        assert_eq!(handle.kind(), HandleKind::OpaqueFd);
        let RawHandle::Fd(raw) = handle.raw() else { panic!("an fd handle gave {:?}", handle.raw()) };
        assert_eq!(target(raw).as_deref(), Some(path.as_path()));
        drop(handle);
        assert_ne!(target(raw).as_deref(), Some(path.as_path()), "dropping the handle closes the fd");

        let handle = open();
        let RawHandle::Fd(raw) = handle.raw() else { unreachable!() };
        handle.imported_by_vulkan();
        assert_eq!(target(raw).as_deref(), Some(path.as_path()), "after a Vulkan import the fd is Vulkan's, left open");
        // SAFETY: the fd was left open above and nothing else owns it in this test.
        drop(unsafe { SharedHandle::from_raw_fd(raw) });
        assert_ne!(target(raw).as_deref(), Some(path.as_path()));
        std::fs::remove_file(&path).expect("remove the temporary file");
    }
}
