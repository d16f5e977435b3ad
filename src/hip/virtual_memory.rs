//! Device memory that HIP allocates and another API imports: HIP's virtual memory
//! management API, the reverse of [`super::ExternalMemory`].
//!
//! Four steps make one [`ExportableDeviceMemory`]:
//! 1. `hipMemCreate`: physical memory on the device, created exportable as this system's
//!    handle (`requestedHandleTypes`: a POSIX fd, or on Windows an NT handle), its size rounded up to `hipMemGetAllocationGranularity`;
//! 2. `hipMemAddressReserve`: a range of device addresses as large;
//! 3. `hipMemMap`: the memory mapped at that range;
//! 4. `hipMemSetAccess`: read-write access for the device (a fresh mapping has none).
//!
//! [`ExportableDeviceMemory::export_handle`] then hands out a new handle for each importer
//! (`hipMemExportToShareableHandle`); the caller owns it until an importer takes it
//! ([`crate::shared_handle`]: Vulkan takes an fd on a successful `vkAllocateMemory`, and
//! never an NT handle).
//!
//! On Windows only CUDA (the NVIDIA shim) exports this way: ROCm's `hipMemCreate` refuses
//! every handle type but none and the POSIX fd (ROCm/clr `hipamd/src/hip_vm.cpp`; see
//! docs/ARCHITECTURE.md, entry 38), which [`crate::hip::Hip`] checks before allocating.
//!
//! ## Lifetimes
//!
//! Teardown runs the steps backwards: unmap, free the addresses, release the handle. The
//! physical memory lives on while anything still refers to it: a mapping, an fd not yet
//! closed, or another API's import of one (CUDA's `cuMemRelease` docs: "the memory
//! allocation will be freed when all outstanding mappings to the memory are unmapped and
//! when all outstanding references to the handle (including its shareable counterparts)
//! are also released"; on AMD the fd is a dma-buf, which keeps its buffer object alive).
//! So this object may be dropped before or after a Vulkan import of its memory; the
//! demo drops it first (the HIP side goes first, as for imported memory).

use std::ffi::c_void;

use crate::shared_handle::SharedHandle;

use super::device::Hip;
use super::error::{HipError, Result};
use super::ffi;
use super::result;

/// Physical memory from `hipMemCreate`; released on drop.
struct PhysicalMemory {
    hip: Hip,
    handle: ffi::hipMemGenericAllocationHandle_t,
}

impl Drop for PhysicalMemory {
    fn drop(&mut self) {
        // SAFETY: the handle is live and released once, here; mappings of it were removed
        // first (field order of ExportableDeviceMemory), and imports elsewhere hold their own
        // reference (module docs).
        if let Err(e) = unsafe { result::mem_release(self.hip.api(), self.handle) } {
            log::warn!("{e}");
        }
    }
}

/// A reserved range of device addresses; freed on drop.
struct AddressRange {
    hip: Hip,
    ptr: *mut c_void,
    size: usize,
}

impl Drop for AddressRange {
    fn drop(&mut self) {
        // SAFETY: a live reservation, freed once; its mapping was removed first.
        if let Err(e) = unsafe { result::mem_address_free(self.hip.api(), self.ptr, self.size) } {
            log::warn!("{e}");
        }
    }
}

/// [`PhysicalMemory`] mapped into an [`AddressRange`]; unmapped on drop.
struct Mapping {
    hip: Hip,
    ptr: *mut c_void,
    size: usize,
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // No kernel may still use the addresses when they go.
        self.hip.synchronize_before_release("hipMemUnmap");
        // SAFETY: a live mapping, unmapped once, with no queued work left (synchronised).
        if let Err(e) = unsafe { result::mem_unmap(self.hip.api(), self.ptr, self.size) } {
            log::warn!("{e}");
        }
    }
}

/// Device memory allocated by HIP, mapped for HIP's kernels and exportable as a POSIX fd.
/// Field order is drop order: unmap, free the addresses, release the memory.
pub struct ExportableDeviceMemory {
    mapping: Mapping,
    _addresses: AddressRange,
    physical: PhysicalMemory,
    requested: usize,
}

impl ExportableDeviceMemory {
    /// The allocation granularity of exportable memory on `device` (an ordinal): every
    /// allocation is a multiple of it.
    pub fn granularity(hip: &Hip, device: i32) -> Result<usize> {
        result::mem_get_allocation_granularity(hip.api(), &allocation_properties(device))
    }

    /// At least `bytes` of device memory on `device` (an ordinal; HIP's current device),
    /// rounded up to the granularity, mapped read-write for it.
    ///
    /// Fails with `hipErrorNotSupported` on a runtime without the API; callers should ask
    /// [`Hip::check_virtual_memory_export`] first for a message that says why.
    pub fn new(hip: &Hip, device: i32, bytes: usize) -> Result<Self> {
        let invalid = |message: String| HipError {
            call: "hipMemCreate",
            code: ffi::HIP_ERROR_INVALID_VALUE,
            name: "hipErrorInvalidValue".into(),
            message,
        };
        if bytes == 0 {
            return Err(invalid("an allocation of 0 bytes".into()));
        }
        let granularity = Self::granularity(hip, device)?;
        if granularity == 0 {
            return Err(invalid("the runtime reports an allocation granularity of 0".into()));
        }
        let size = bytes
            .checked_next_multiple_of(granularity)
            .ok_or_else(|| invalid(format!("{bytes} bytes rounded up to {granularity} overflows")))?;
        let props = allocation_properties(device);
        let physical = PhysicalMemory { hip: hip.clone(), handle: result::mem_create(hip.api(), size, &props)? };
        let addresses =
            AddressRange { hip: hip.clone(), ptr: result::mem_address_reserve(hip.api(), size, granularity)?, size };
        // SAFETY: the range is a fresh reservation of `size` bytes with nothing mapped; the
        // handle is live and `size` bytes long.
        unsafe { result::mem_map(hip.api(), addresses.ptr, size, physical.handle) }?;
        let mapping = Mapping { hip: hip.clone(), ptr: addresses.ptr, size };
        // SAFETY: the range was just mapped (and is unmapped by `mapping` on failure).
        unsafe { result::mem_set_access_read_write(hip.api(), mapping.ptr, size, device) }?;
        Ok(Self { mapping, _addresses: addresses, physical, requested: bytes })
    }

    /// The device pointer HIP's kernels write through (valid while `self` lives).
    pub fn device_ptr(&self) -> *mut c_void {
        self.mapping.ptr
    }

    /// Bytes of the allocation: the request rounded up to the granularity. An importer
    /// must be told this size (Vulkan's `allocationSize`).
    pub fn size(&self) -> usize {
        self.mapping.size
    }

    /// Bytes asked for in [`ExportableDeviceMemory::new`].
    pub fn requested_size(&self) -> usize {
        self.requested
    }

    /// Exports the memory as a new handle of this system (`hipMemExportToShareableHandle`:
    /// a POSIX fd, or an NT handle), owned by the caller until an importer takes it.
    pub fn export_handle(&self) -> Result<SharedHandle> {
        // SAFETY: the handle is live and was created exportable as this system's handle type.
        unsafe { result::mem_export_to_shareable_handle(self.physical.hip.api(), self.physical.handle) }
    }
}

/// Pinned device memory on `device`, exportable as this system's handle type. On Windows
/// `win32HandleMetaData` stays null: CUDA then applies its default security attributes
/// (unverified: no Windows GPU has run this).
fn allocation_properties(device: i32) -> ffi::MemAllocationProp {
    ffi::MemAllocationProp {
        type_: ffi::HIP_MEM_ALLOCATION_TYPE_PINNED,
        requested_handle_types: ffi::HIP_MEM_HANDLE_TYPE_NATIVE,
        location: ffi::MemLocation { type_: ffi::HIP_MEM_LOCATION_TYPE_DEVICE, id: device },
        win32_handle_meta_data: std::ptr::null_mut(),
        alloc_flags: ffi::MemAllocationFlags::default(),
    }
}
