//! Layer 1: raw FFI. The function-pointer table loaded from the HIP runtime
//! library at run time, the `#[repr(C)]` descriptors HIP reads, and the
//! constants. The only file that spells out C signatures.
//!
//! Why not `hip-runtime-sys`: its build script needs ROCm's headers and asks the
//! linker for `libamdhip64`, so every build, on every machine, would need ROCm
//! (measured: on a fresh Debian 12 machine with only Rust its build script panics for want
//! of `hip/hip_runtime_api.h`; docs/ARCHITECTURE.md#driver-workarounds-and-their-evidence);
//! and linking would make the binary NEED `libamdhip64.so` at start-up, where
//! the demo must run without HIP (the Vulkan paths). So the handle types are
//! declared here, as the opaque pointers HIP declares them; with the cargo
//! feature `hip-runtime-sys` they are that crate's instead (same types), for
//! integrators whose code already passes them around. The interop descriptors
//! are ours at their modern size (see [`ExternalMemoryHandleDesc`]).
//!
//! Return codes are read as plain `i32`, not as `hip-runtime-sys`'s
//! `hipError_t` enum: a runtime newer than the bindings may return a code the
//! enum lacks, and an out-of-range enum value is undefined behaviour in Rust.

#![allow(non_snake_case)]

use std::ffi::{c_char, c_int, c_uint, c_void, OsStr, OsString};
use std::path::{Path, PathBuf};

use libloading::Library;

use crate::semaphore_kind::SemaphoreKind;
use crate::shared_handle::{HandleKind, RawHandle};

#[cfg(feature = "hip-runtime-sys")]
pub use hip_runtime_sys::{
    hipDevice_t, hipEvent_t, hipExternalMemory_t, hipExternalSemaphore_t, hipFunction_t,
    hipMemGenericAllocationHandle_t, hipModule_t, hipStream_t,
};

#[cfg(not(feature = "hip-runtime-sys"))]
pub use handles::*;

/// HIP's handle types, as `hip_runtime_api.h` declares them: pointers to
/// incomplete structs (or `void*`), and an `int` device.
#[cfg(not(feature = "hip-runtime-sys"))]
#[allow(non_camel_case_types)]
mod handles {
    use std::ffi::{c_int, c_void};

    macro_rules! opaque {
        ($($name:ident),*) => {$(
            #[doc = concat!("`struct ", stringify!($name), "`: opaque, only handled by pointer.")]
            #[repr(C)]
            pub struct $name {
                _opaque: [u8; 0],
                _not_send_sync: std::marker::PhantomData<*mut u8>,
            }
        )*};
    }
    opaque!(ihipStream_t, ihipEvent_t, ihipModule_t, ihipModuleSymbol_t, ihipMemGenericAllocationHandle);

    /// `hipDevice_t`.
    pub type hipDevice_t = c_int;
    /// `hipStream_t`.
    pub type hipStream_t = *mut ihipStream_t;
    /// `hipEvent_t`.
    pub type hipEvent_t = *mut ihipEvent_t;
    /// `hipModule_t`.
    pub type hipModule_t = *mut ihipModule_t;
    /// `hipFunction_t`.
    pub type hipFunction_t = *mut ihipModuleSymbol_t;
    /// `hipExternalMemory_t`.
    pub type hipExternalMemory_t = *mut c_void;
    /// `hipExternalSemaphore_t`.
    pub type hipExternalSemaphore_t = *mut c_void;
    /// `hipMemGenericAllocationHandle_t`: physical memory made by `hipMemCreate`.
    pub type hipMemGenericAllocationHandle_t = *mut ihipMemGenericAllocationHandle;
}

/// A HIP status code (`hipError_t`), as the runtime returned it.
pub type HipStatus = c_int;

// Status codes this crate acts on. Values are shared by HIP (AMD), HIP on
// NVIDIA and the CUDA runtime/driver API.
/// `hipSuccess`.
pub const HIP_SUCCESS: HipStatus = 0;
/// `hipErrorInvalidValue`.
pub const HIP_ERROR_INVALID_VALUE: HipStatus = 1;
/// `hipErrorNoDevice`: the runtime loaded but sees no GPU.
pub const HIP_ERROR_NO_DEVICE: HipStatus = 100;
/// `hipErrorInvalidImage`: the module loader rejected a code object.
pub const HIP_ERROR_INVALID_IMAGE: HipStatus = 200;
/// `hipErrorNoBinaryForGpu`: the code object has no code for this GPU.
pub const HIP_ERROR_NO_BINARY_FOR_GPU: HipStatus = 209;
/// `hipErrorNotFound` (e.g. no kernel of that name in the module).
pub const HIP_ERROR_NOT_FOUND: HipStatus = 500;
/// `hipErrorNotReady`: an event or stream query whose work is still running.
pub const HIP_ERROR_NOT_READY: HipStatus = 600;
/// `hipErrorNotSupported`.
pub const HIP_ERROR_NOT_SUPPORTED: HipStatus = 801;

// Device attributes (`hipDeviceAttribute_t`). Same values in HIP 5.x and 6.x
// (checked against /usr/include/hip 5.2 by tests/hip_abi.rs, and against ROCm/HIP
// include/hip/hip_runtime_api.h at tags rocm-5.0.0 to rocm-6.2.0); the NVIDIA shim
// maps them to CUDA's.
/// `hipDeviceAttributeComputeCapabilityMajor`.
pub const HIP_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: c_int = 23;
/// `hipDeviceAttributeComputeCapabilityMinor`.
pub const HIP_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: c_int = 61;
/// `hipDeviceAttributePciBusId`.
pub const HIP_DEVICE_ATTRIBUTE_PCI_BUS_ID: c_int = 67;
/// `hipDeviceAttributePciDeviceId`.
pub const HIP_DEVICE_ATTRIBUTE_PCI_DEVICE_ID: c_int = 68;
/// `hipDeviceAttributePciDomainID`.
pub const HIP_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID: c_int = 69;

/// `hipStreamNonBlocking`: the stream does not synchronise with the null stream.
pub const HIP_STREAM_NON_BLOCKING: c_uint = 1;
/// `hipEventDisableTiming`.
pub const HIP_EVENT_DISABLE_TIMING: c_uint = 2;

/// `hipMemcpyKind` values used here.
pub const HIP_MEMCPY_DEVICE_TO_HOST: c_int = 2;
/// `hipMemcpyDeviceToDevice`.
pub const HIP_MEMCPY_DEVICE_TO_DEVICE: c_int = 3;

/// `hipExternalMemoryHandleTypeOpaqueFd`.
pub const HIP_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD: c_uint = 1;
/// `hipExternalMemoryHandleTypeOpaqueWin32` (an NT handle).
pub const HIP_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_WIN32: c_uint = 2;
/// `hipExternalMemoryHandleTypeOpaqueWin32Kmt`.
pub const HIP_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_WIN32_KMT: c_uint = 3;
/// `hipExternalMemoryDedicated`: the memory is a dedicated allocation.
pub const HIP_EXTERNAL_MEMORY_DEDICATED: c_uint = 1;
/// `hipExternalSemaphoreHandleTypeOpaqueFd` (a binary Vulkan semaphore).
pub const HIP_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD: c_uint = 1;
/// `hipExternalSemaphoreHandleTypeOpaqueWin32` (a binary Vulkan semaphore, NT handle).
pub const HIP_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_WIN32: c_uint = 2;
/// `hipExternalSemaphoreHandleTypeOpaqueWin32Kmt` (a binary Vulkan semaphore, KMT handle).
pub const HIP_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_WIN32_KMT: c_uint = 3;
/// `hipExternalSemaphoreHandleTypeTimelineSemaphoreFd` (HIP ≥ 6, CUDA's
/// `CU_EXTERNAL_SEMAPHORE_HANDLE_TYPE_TIMELINE_SEMAPHORE_FD` is also 9).
pub const HIP_EXTERNAL_SEMAPHORE_HANDLE_TYPE_TIMELINE_FD: c_uint = 9;
/// `hipExternalSemaphoreHandleTypeTimelineSemaphoreWin32` (HIP ≥ 6, CUDA's
/// `CU_EXTERNAL_SEMAPHORE_HANDLE_TYPE_TIMELINE_SEMAPHORE_WIN32` is also 10). There is no
/// KMT timeline type, in HIP or CUDA.
pub const HIP_EXTERNAL_SEMAPHORE_HANDLE_TYPE_TIMELINE_WIN32: c_uint = 10;

/// HIP's external memory handle type for a handle of `kind`.
pub fn external_memory_handle_type(kind: HandleKind) -> c_uint {
    match kind {
        HandleKind::OpaqueFd => HIP_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD,
        HandleKind::OpaqueWin32 => HIP_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_WIN32,
        HandleKind::OpaqueWin32Kmt => HIP_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_WIN32_KMT,
    }
}

/// HIP's external semaphore handle type for a semaphore of `semaphore` kind carried in a
/// handle of `kind` (`None`: a timeline semaphore in a KMT handle, which no type names).
pub fn external_semaphore_handle_type(kind: HandleKind, semaphore: SemaphoreKind) -> Option<c_uint> {
    match (semaphore, kind) {
        (SemaphoreKind::Binary, HandleKind::OpaqueFd) => Some(HIP_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD),
        (SemaphoreKind::Binary, HandleKind::OpaqueWin32) => Some(HIP_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_WIN32),
        (SemaphoreKind::Binary, HandleKind::OpaqueWin32Kmt) => {
            Some(HIP_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_WIN32_KMT)
        }
        (SemaphoreKind::Timeline, HandleKind::OpaqueFd) => Some(HIP_EXTERNAL_SEMAPHORE_HANDLE_TYPE_TIMELINE_FD),
        (SemaphoreKind::Timeline, HandleKind::OpaqueWin32) => Some(HIP_EXTERNAL_SEMAPHORE_HANDLE_TYPE_TIMELINE_WIN32),
        (SemaphoreKind::Timeline, HandleKind::OpaqueWin32Kmt) => None,
    }
}

// The virtual memory management API (`hipMemCreate` and friends). Values equal CUDA's
// (`CU_MEM_*`): checked against the installed headers (tests/hip_abi.rs) and, in the NVIDIA
// shim, `static_assert`ed against CUDA's.
/// `hipMemHandleTypePosixFileDescriptor`: the allocation can be exported as an fd.
pub const HIP_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR: c_int = 1;
/// `hipMemHandleTypeWin32`: the allocation can be exported as an NT handle.
pub const HIP_MEM_HANDLE_TYPE_WIN32: c_int = 2;
/// The shareable handle type of this system: an fd on Linux, an NT handle on Windows.
#[cfg(unix)]
pub const HIP_MEM_HANDLE_TYPE_NATIVE: c_int = HIP_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
/// The shareable handle type of this system: an fd on Linux, an NT handle on Windows.
#[cfg(windows)]
pub const HIP_MEM_HANDLE_TYPE_NATIVE: c_int = HIP_MEM_HANDLE_TYPE_WIN32;
/// `hipMemAllocationTypePinned`: physical memory that stays where it was made.
pub const HIP_MEM_ALLOCATION_TYPE_PINNED: c_int = 1;
/// `hipMemLocationTypeDevice`: a location whose id is a HIP device ordinal.
pub const HIP_MEM_LOCATION_TYPE_DEVICE: c_int = 1;
/// `hipMemAccessFlagsProtReadWrite`.
pub const HIP_MEM_ACCESS_FLAGS_PROT_READ_WRITE: c_int = 3;
/// `hipMemAllocationGranularityMinimum`.
pub const HIP_MEM_ALLOCATION_GRANULARITY_MINIMUM: c_int = 0;

/// `hipMemLocation` (8 bytes, as CUDA's `CUmemLocation`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MemLocation {
    /// `hipMemLocationType` ([`HIP_MEM_LOCATION_TYPE_DEVICE`]).
    pub type_: c_int,
    /// The device ordinal.
    pub id: c_int,
}

/// `hipMemAllocationProp.allocFlags` (CUDA's size, 8 bytes with its reserved tail).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MemAllocationFlags {
    /// Must be zero (no compression).
    pub compression_type: u8,
    /// Zero.
    pub gpu_direct_rdma_capable: u8,
    /// Zero.
    pub usage: u16,
    /// Zero (CUDA's `reserved[4]`; HIP's struct ends before, inside the padding).
    pub reserved: [u8; 4],
}

/// `hipMemAllocationProp` in the layout of HIP ≥ 5.3 and of CUDA's `CUmemAllocationProp`
/// (32 bytes): type, requested handle types, location, Win32 metadata, flags.
///
/// HIP 5.2 and older declared the same fields in another order (`compressionType` first;
/// ROCm/HIP commit d267eb7d, first tagged rocm-5.3.0, reordered them; the installed 5.2
/// header has the old order and tests/hip_abi.rs shows the difference), so this struct is
/// only passed to a runtime that [`crate::hip::Hip::check_virtual_memory_export`] accepts
/// (HIP ≥ 6.2, the first whose export works). ROCm 7 makes the handle-type field a union of
/// `requestedHandleType` and `requestedHandleTypes`, at the same offset.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MemAllocationProp {
    /// `hipMemAllocationType` ([`HIP_MEM_ALLOCATION_TYPE_PINNED`]).
    pub type_: c_int,
    /// `hipMemAllocationHandleType` bits the allocation must be exportable as.
    pub requested_handle_types: c_int,
    /// Where the memory lives.
    pub location: MemLocation,
    /// Windows only; null.
    pub win32_handle_meta_data: *mut c_void,
    /// Zero.
    pub alloc_flags: MemAllocationFlags,
}

/// `hipMemAccessDesc` (12 bytes, as CUDA's `CUmemAccessDesc`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MemAccessDesc {
    /// Who gets access.
    pub location: MemLocation,
    /// `hipMemAccessFlags` ([`HIP_MEM_ACCESS_FLAGS_PROT_READ_WRITE`]).
    pub flags: c_int,
}

// Images: a Vulkan image's memory mapped as a HIP array and written through a surface
// object. Checked against the installed headers (tests/hip_abi.rs) and CUDA's (the shim).
/// `hipChannelFormatKindFloat`.
pub const HIP_CHANNEL_FORMAT_KIND_FLOAT: c_int = 2;
/// `hipArraySurfaceLoadStore`: the array may be bound to a surface object.
pub const HIP_ARRAY_SURFACE_LOAD_STORE: c_uint = 2;
/// `hipResourceTypeArray`.
pub const HIP_RESOURCE_TYPE_ARRAY: c_int = 0;

/// `hipMipmappedArray_t`: opaque.
pub type HipMipmappedArray = *mut c_void;
/// `hipArray_t`: opaque.
pub type HipArray = *mut c_void;
/// `hipSurfaceObject_t`: a pointer on AMD, a 64-bit integer in CUDA; passed by value
/// (the same register either way on the x86-64 and AArch64 C ABIs).
pub type HipSurfaceObject = u64;

/// `hipChannelFormatDesc` (20 bytes): bits per channel and their kind.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ChannelFormatDesc {
    /// Bits of x, y, z, w.
    pub bits: [c_int; 4],
    /// `hipChannelFormatKind` ([`HIP_CHANNEL_FORMAT_KIND_FLOAT`]).
    pub kind: c_int,
}

/// `hipExtent` (three `size_t`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Extent {
    /// Width in elements (arrays).
    pub width: usize,
    /// Height in rows.
    pub height: usize,
    /// Depth: 0 for a 2-D array.
    pub depth: usize,
}

/// `hipExternalMemoryMipmappedArrayDesc` in HIP's layout (64 bytes: no reserved tail;
/// CUDA's has one, 128 bytes, which the shim fills in by copying field by field). Every
/// field sits at CUDA's offset: the shim `static_assert`s that against CUDA's header, and
/// this file's unit test pins the offsets.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ExternalMemoryMipmappedArrayDesc {
    /// Offset of the image in the memory object.
    pub offset: u64,
    /// Texel format.
    pub format: ChannelFormatDesc,
    /// Size of level 0.
    pub extent: Extent,
    /// `hipArray*` flags ([`HIP_ARRAY_SURFACE_LOAD_STORE`]).
    pub flags: c_uint,
    /// Mip levels.
    pub num_levels: c_uint,
}

/// `hipResourceDesc` for an array resource (64 bytes: the type, then the union whose
/// largest member, `pitch2D`, is 56 bytes; only `res.array.array` is set here).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ResourceDesc {
    /// `hipResourceType` ([`HIP_RESOURCE_TYPE_ARRAY`]).
    pub res_type: c_int,
    /// `res.array.array`, at offset 8.
    pub array: HipArray,
    /// The rest of the union: zero.
    pub rest: [u64; 6],
}

/// `hipStreamWaitValueGte`: wait until `(*ptr & mask) >= value` (a plain comparison in
/// ROCm; CUDA's `CU_STREAM_WAIT_VALUE_GEQ`, also 0, compares with wraparound).
pub const HIP_STREAM_WAIT_VALUE_GTE: c_uint = 0;

/// `hipUUID`: 16 raw bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HipUuid {
    /// The UUID bytes.
    pub bytes: [c_char; 16],
}

/// The `win32` member of the handle unions; only here to give them their
/// full size (two pointers) and alignment.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Win32Handle {
    /// Windows `HANDLE`.
    pub handle: *mut c_void,
    /// Windows object name.
    pub name: *const c_void,
}

/// The handle union of the external memory/semaphore descriptors.
#[repr(C)]
#[derive(Clone, Copy)]
pub union ExternalHandle {
    /// A POSIX file descriptor (OPAQUE_FD handle types).
    pub fd: c_int,
    /// Windows handle types (a handle, no name).
    pub win32: Win32Handle,
}

impl From<RawHandle> for ExternalHandle {
    fn from(raw: RawHandle) -> Self {
        // Start from all zeroes (the widest member), so an fd leaves no byte undefined.
        let mut handle = ExternalHandle { win32: Win32Handle { handle: std::ptr::null_mut(), name: std::ptr::null() } };
        match raw {
            RawHandle::Fd(fd) => handle.fd = fd,
            RawHandle::Win32(raw) => handle.win32.handle = raw,
        }
        handle
    }
}

/// `hipExternalMemoryHandleDesc` at its HIP ≥ 6 / CUDA size (104 bytes).
///
/// HIP 5.x's struct ends after `flags` (40 bytes); it reads only that prefix,
/// so a zero-filled full-size descriptor is right for both. Evidence: the `reserved[16]`
/// tails of all three descriptors arrived in ROCm/HIP commit 400af522e ("[ABI Break] Adding
/// interop fields", first in tag rocm-6.0.0); tests/hip_abi.rs checks the prefix against the
/// installed (5.2) headers, the NVIDIA shim `static_assert`s the full size against CUDA's.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ExternalMemoryHandleDesc {
    /// `hipExternalMemoryHandleType`.
    pub type_: c_uint,
    /// The handle (fd).
    pub handle: ExternalHandle,
    /// Size of the whole allocation in bytes.
    pub size: u64,
    /// [`HIP_EXTERNAL_MEMORY_DEDICATED`] or 0.
    pub flags: c_uint,
    /// Must be zero.
    pub reserved: [c_uint; 16],
}

/// `hipExternalMemoryBufferDesc` at its HIP ≥ 6 / CUDA size (88 bytes).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct ExternalMemoryBufferDesc {
    /// Offset of the buffer in the memory object.
    pub offset: u64,
    /// Size of the buffer.
    pub size: u64,
    /// Must be zero.
    pub flags: c_uint,
    /// Must be zero.
    pub reserved: [c_uint; 16],
}

/// `hipExternalSemaphoreHandleDesc` at its HIP ≥ 6 / CUDA size (96 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ExternalSemaphoreHandleDesc {
    /// `hipExternalSemaphoreHandleType`.
    pub type_: c_uint,
    /// The handle (fd).
    pub handle: ExternalHandle,
    /// Must be zero.
    pub flags: c_uint,
    /// Must be zero.
    pub reserved: [c_uint; 16],
}

/// `params` of the semaphore signal/wait descriptors, in the layout of CUDA
/// and of current HIP (with the `nvSciSync` member, 72 bytes).
///
/// HIP before 6.0 (ROCm 5.x) has no `nvSciSync` member (params 64 bytes, struct
/// 136): `keyedMutex` and `flags` then sit at other offsets. Only
/// `fence.value` (offset 0 in every version) is ever non-zero here, and each
/// call passes ONE descriptor (see `wait_external_semaphores`), so the same
/// zero-filled 144-byte value is read correctly by either layout. Evidence: ROCm/HIP commit
/// 400af522e added `nvSciSync` to both param structs (first in rocm-6.0.0; rocm-5.7.0's
/// header lacks it); tests/hip_abi.rs checks that HIP 5's `flags` lands in our zero tail.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct ExternalSemaphoreParams {
    /// `fence.value`: the timeline value to signal or wait for.
    pub fence_value: u64,
    /// `nvSciSync` (unused, zero).
    pub nv_sci_sync: u64,
    /// `keyedMutex.key` (unused, zero).
    pub keyed_mutex_key: u64,
    /// `keyedMutex.timeoutMs` on wait, reserved on signal (zero).
    pub keyed_mutex_timeout_ms: c_uint,
    /// Must be zero.
    pub reserved: [c_uint; 11],
}

/// `hipExternalSemaphoreSignalParams` / `hipExternalSemaphoreWaitParams`
/// (identical shapes; 144 bytes, as CUDA's).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct ExternalSemaphoreSignalWaitParams {
    /// Fence and keyed-mutex parameters.
    pub params: ExternalSemaphoreParams,
    /// Must be zero.
    pub flags: c_uint,
    /// Must be zero.
    pub reserved: [c_uint; 16],
}

/// Generates [`Api`]: one function pointer per HIP entry point, loaded by
/// name from the library, plus the `Library` that keeps them valid.
macro_rules! hip_api {
    ($( $(#[$doc:meta])* fn $name:ident ( $($arg:ident : $ty:ty),* $(,)? ) -> $ret:ty; )*) => {
        /// The HIP entry points this crate calls, loaded from one library.
        ///
        /// The pointers stay valid as long as `_library` is loaded, which is
        /// as long as this struct lives (it owns the library).
        pub struct Api {
            $(
                $(#[$doc])*
                #[doc = concat!("`", stringify!($name), "`.")]
                pub $name: unsafe extern "C" fn($($arg: $ty),*) -> $ret,
            )*
            /// Where the library was loaded from (for messages).
            pub path: PathBuf,
            /// Whether the library is this project's HIP-on-CUDA shim (it
            /// exports [`NVIDIA_SHIM_MARKER`]).
            pub is_nvidia_shim: bool,
            /// The virtual memory API, when the library exports all of it (HIP ≥ 5.1 and
            /// the shim do); `None` leaves the rest usable.
            pub virtual_memory: Option<VirtualMemoryApi>,
            /// Image interop, when the library exports all of it (the shim does).
            pub image_interop: Option<ImageInteropApi>,
            /// Stream memory operations, when the library exports them.
            pub stream_mem_ops: Option<StreamMemOpsApi>,
            _library: Library,
        }

        impl Api {
            /// Looks up every entry point in `library`.
            ///
            /// # Safety
            /// `library` must be a HIP runtime whose exported functions have
            /// the signatures declared here (true of libamdhip64 5.x/6.x and
            /// of the NVIDIA shim in src/hip/nvidia/).
            pub unsafe fn from_library(library: Library, path: PathBuf) -> Result<Api, (&'static str, libloading::Error)> {
                $(
                    // SAFETY: the caller guarantees the symbol has this signature;
                    // the pointer is copied out and kept valid by storing the
                    // library beside it.
                    let $name = unsafe {
                        *library
                            .get::<unsafe extern "C" fn($($ty),*) -> $ret>(concat!(stringify!($name), "\0").as_bytes())
                            .map_err(|e| (stringify!($name), e))?
                    };
                )*
                // SAFETY: only the symbol's presence is checked; it is never called.
                let is_nvidia_shim = unsafe {
                    library.get::<unsafe extern "C" fn() -> c_int>(NVIDIA_SHIM_MARKER).is_ok()
                };
                // SAFETY: the caller's contract covers these entry points too.
                let virtual_memory = unsafe { VirtualMemoryApi::from_library(&library) }
                    .map_err(|(symbol, e)| log::debug!("{}: no virtual memory API ({symbol}: {e})", path.display()))
                    .ok();
                // SAFETY: as above.
                let image_interop = unsafe { ImageInteropApi::from_library(&library) }
                    .map_err(|(symbol, e)| log::debug!("{}: no image interop ({symbol}: {e})", path.display()))
                    .ok();
                // SAFETY: as above.
                let stream_mem_ops = unsafe { StreamMemOpsApi::from_library(&library) }
                    .map_err(|(symbol, e)| log::debug!("{}: no stream memory operations ({symbol}: {e})", path.display()))
                    .ok();
                Ok(Api { $($name,)* path, is_nvidia_shim, virtual_memory, image_interop, stream_mem_ops, _library: library })
            }
        }
    };
}

hip_api! {
    fn hipGetErrorName(error: HipStatus) -> *const c_char;
    fn hipGetErrorString(error: HipStatus) -> *const c_char;
    fn hipRuntimeGetVersion(version: *mut c_int) -> HipStatus;
    fn hipDriverGetVersion(version: *mut c_int) -> HipStatus;
    fn hipGetDeviceCount(count: *mut c_int) -> HipStatus;
    fn hipSetDevice(ordinal: c_int) -> HipStatus;
    fn hipDeviceGet(device: *mut hipDevice_t, ordinal: c_int) -> HipStatus;
    fn hipDeviceGetName(name: *mut c_char, len: c_int, device: hipDevice_t) -> HipStatus;
    fn hipDeviceGetUuid(uuid: *mut HipUuid, device: hipDevice_t) -> HipStatus;
    fn hipDeviceGetAttribute(value: *mut c_int, attribute: c_int, ordinal: c_int) -> HipStatus;
    fn hipDeviceSynchronize() -> HipStatus;
    fn hipStreamCreateWithFlags(stream: *mut hipStream_t, flags: c_uint) -> HipStatus;
    fn hipStreamSynchronize(stream: hipStream_t) -> HipStatus;
    fn hipStreamDestroy(stream: hipStream_t) -> HipStatus;
    fn hipEventCreateWithFlags(event: *mut hipEvent_t, flags: c_uint) -> HipStatus;
    fn hipEventRecord(event: hipEvent_t, stream: hipStream_t) -> HipStatus;
    fn hipEventSynchronize(event: hipEvent_t) -> HipStatus;
    fn hipEventQuery(event: hipEvent_t) -> HipStatus;
    fn hipEventElapsedTime(ms: *mut f32, start: hipEvent_t, stop: hipEvent_t) -> HipStatus;
    fn hipEventDestroy(event: hipEvent_t) -> HipStatus;
    fn hipModuleLoadData(module: *mut hipModule_t, image: *const c_void) -> HipStatus;
    fn hipModuleUnload(module: hipModule_t) -> HipStatus;
    fn hipModuleGetFunction(function: *mut hipFunction_t, module: hipModule_t, name: *const c_char) -> HipStatus;
    fn hipModuleLaunchKernel(
        function: hipFunction_t,
        grid_x: c_uint, grid_y: c_uint, grid_z: c_uint,
        block_x: c_uint, block_y: c_uint, block_z: c_uint,
        shared_bytes: c_uint,
        stream: hipStream_t,
        kernel_params: *mut *mut c_void,
        extra: *mut *mut c_void,
    ) -> HipStatus;
    fn hipMalloc(ptr: *mut *mut c_void, bytes: usize) -> HipStatus;
    fn hipFree(ptr: *mut c_void) -> HipStatus;
    fn hipMemcpyAsync(dst: *mut c_void, src: *const c_void, bytes: usize, kind: c_int, stream: hipStream_t) -> HipStatus;
    fn hipImportExternalMemory(memory: *mut hipExternalMemory_t, desc: *const ExternalMemoryHandleDesc) -> HipStatus;
    fn hipExternalMemoryGetMappedBuffer(ptr: *mut *mut c_void, memory: hipExternalMemory_t, desc: *const ExternalMemoryBufferDesc) -> HipStatus;
    fn hipDestroyExternalMemory(memory: hipExternalMemory_t) -> HipStatus;
    fn hipImportExternalSemaphore(semaphore: *mut hipExternalSemaphore_t, desc: *const ExternalSemaphoreHandleDesc) -> HipStatus;
    fn hipSignalExternalSemaphoresAsync(
        semaphores: *const hipExternalSemaphore_t,
        params: *const ExternalSemaphoreSignalWaitParams,
        count: c_uint,
        stream: hipStream_t,
    ) -> HipStatus;
    fn hipWaitExternalSemaphoresAsync(
        semaphores: *const hipExternalSemaphore_t,
        params: *const ExternalSemaphoreSignalWaitParams,
        count: c_uint,
        stream: hipStream_t,
    ) -> HipStatus;
    fn hipDestroyExternalSemaphore(semaphore: hipExternalSemaphore_t) -> HipStatus;
}

/// Generates an optional group of entry points: a struct of function pointers, loaded all
/// or nothing, that lives inside [`Api`] (whose library keeps the pointers valid).
macro_rules! hip_optional_api {
    ($(#[$sdoc:meta])* struct $group:ident { $( fn $name:ident ( $($arg:ident : $ty:ty),* $(,)? ) -> $ret:ty; )* }) => {
        $(#[$sdoc])*
        pub struct $group {
            $(
                #[doc = concat!("`", stringify!($name), "`.")]
                pub $name: unsafe extern "C" fn($($arg: $ty),*) -> $ret,
            )*
        }

        impl $group {
            /// Looks up every entry point of the group in `library`.
            ///
            /// # Safety
            /// As [`Api::from_library`]; the pointers are valid only while `library` is
            /// loaded, so the result must not outlive it.
            unsafe fn from_library(library: &Library) -> Result<$group, (&'static str, libloading::Error)> {
                $(
                    // SAFETY: the caller guarantees the symbol has this signature and
                    // keeps the library loaded as long as the pointer is used.
                    let $name = unsafe {
                        *library
                            .get::<unsafe extern "C" fn($($ty),*) -> $ret>(concat!(stringify!($name), "\0").as_bytes())
                            .map_err(|e| (stringify!($name), e))?
                    };
                )*
                Ok($group { $($name,)* })
            }
        }
    };
}

hip_optional_api! {
    /// HIP's virtual memory management: physical allocations (`hipMemCreate`) exported as
    /// file descriptors and mapped at reserved addresses. Only used with a runtime that
    /// passes [`crate::hip::Hip::check_virtual_memory_export`].
    struct VirtualMemoryApi {
        fn hipMemGetAllocationGranularity(granularity: *mut usize, prop: *const MemAllocationProp, option: c_int) -> HipStatus;
        fn hipMemCreate(handle: *mut hipMemGenericAllocationHandle_t, size: usize, prop: *const MemAllocationProp, flags: u64) -> HipStatus;
        fn hipMemExportToShareableHandle(
            shareable: *mut c_void,
            handle: hipMemGenericAllocationHandle_t,
            handle_type: c_int,
            flags: u64,
        ) -> HipStatus;
        fn hipMemRelease(handle: hipMemGenericAllocationHandle_t) -> HipStatus;
        fn hipMemAddressReserve(ptr: *mut *mut c_void, size: usize, alignment: usize, addr: *mut c_void, flags: u64) -> HipStatus;
        fn hipMemAddressFree(ptr: *mut c_void, size: usize) -> HipStatus;
        fn hipMemMap(ptr: *mut c_void, size: usize, offset: usize, handle: hipMemGenericAllocationHandle_t, flags: u64) -> HipStatus;
        fn hipMemUnmap(ptr: *mut c_void, size: usize) -> HipStatus;
        fn hipMemSetAccess(ptr: *mut c_void, size: usize, desc: *const MemAccessDesc, count: usize) -> HipStatus;
    }
}

hip_optional_api! {
    /// Mapping a Vulkan image into HIP and writing it through a surface object. The NVIDIA
    /// shim has it (CUDA maps images); ROCm's runtime does not export
    /// `hipExternalMemoryGetMappedMipmappedArray` on Linux (5.2: absent from
    /// `libamdhip64.so.5`'s symbols, and its `hipCreateSurfaceObject` is C++-mangled), so
    /// there the shading image is copied from a buffer instead.
    struct ImageInteropApi {
        fn hipExternalMemoryGetMappedMipmappedArray(
            mipmap: *mut HipMipmappedArray,
            memory: hipExternalMemory_t,
            desc: *const ExternalMemoryMipmappedArrayDesc,
        ) -> HipStatus;
        fn hipGetMipmappedArrayLevel(level_array: *mut HipArray, mipmap: HipMipmappedArray, level: c_uint) -> HipStatus;
        fn hipFreeMipmappedArray(mipmap: HipMipmappedArray) -> HipStatus;
        fn hipCreateSurfaceObject(surface: *mut HipSurfaceObject, desc: *const ResourceDesc) -> HipStatus;
        fn hipDestroySurfaceObject(surface: HipSurfaceObject) -> HipStatus;
    }
}

hip_optional_api! {
    /// Stream memory operations: a stream waits on the GPU until a 32-bit value in device
    /// memory passes a test (ROCm since 4.2, marked beta; the shim maps it to
    /// `cuStreamWaitValue32`).
    struct StreamMemOpsApi {
        fn hipStreamWaitValue32(stream: hipStream_t, ptr: *mut c_void, value: u32, flags: c_uint, mask: u32) -> HipStatus;
    }
}

/// Symbol exported only by the NVIDIA shim (`src/hip/nvidia/shim.cpp`):
/// `int hip_vulkan_sinewave_nvidia_shim(void)`, returning the CUDA driver version.
pub const NVIDIA_SHIM_MARKER: &[u8] = b"hip_vulkan_sinewave_nvidia_shim\0";

/// Environment variable naming the HIP runtime library to load (a path).
pub const LIBRARY_ENV: &str = "HIP_RUNTIME_LIBRARY";

/// File name of the HIP runtime (and of the NVIDIA shim, which stands in for it).
#[cfg(not(windows))]
pub const LIBRARY_FILE: &str = "libamdhip64.so";
/// File name of the HIP runtime (and of the NVIDIA shim, which stands in for it).
#[cfg(windows)]
pub const LIBRARY_FILE: &str = "amdhip64.dll";

/// Sonames of the AMD runtime, newest first (ROCm 7, 6, 5), then the unversioned name
/// (which only ROCm's `-dev` packages install on some distributions).
#[cfg(not(windows))]
pub const LIBRARY_NAMES: &[&str] = &["libamdhip64.so.7", "libamdhip64.so.6", "libamdhip64.so.5", LIBRARY_FILE];
/// DLL names of the HIP SDK's runtime, newest first: `amdhip64_7.dll` (HIP SDK 7),
/// `amdhip64_6.dll` (6.x; the major-version suffix arrived in ROCm/clr b53fcb4d0,
/// `RUNTIME_OUTPUT_NAME "amdhip64_${HIP_VERSION_MAJOR}"`), then `amdhip64.dll` (5.x).
/// The SDK installs them in `%HIP_PATH%\bin`; AMD's driver also puts one in System32.
#[cfg(windows)]
pub const LIBRARY_NAMES: &[&str] = &["amdhip64_7.dll", "amdhip64_6.dll", LIBRARY_FILE];

/// The directory of a ROCm or HIP SDK install that holds the runtime: `lib` on Linux,
/// `bin` on Windows (where DLLs live beside the tools).
#[cfg(not(windows))]
const RUNTIME_DIR: &str = "lib";
#[cfg(windows)]
const RUNTIME_DIR: &str = "bin";
/// Where ROCm installs when no variable says (Linux only: the HIP SDK on Windows sets
/// `HIP_PATH`).
#[cfg(not(windows))]
const DEFAULT_ROCM_ROOTS: &[&str] = &["/opt/rocm"];
#[cfg(windows)]
const DEFAULT_ROCM_ROOTS: &[&str] = &[];

/// The HIP-on-CUDA shim that build.rs built with nvcc, if it did (its absolute path).
const BUILT_NVIDIA_SHIM: Option<&str> = option_env!("HVS_BUILT_NVIDIA_SHIM");

/// Where the runtime is looked for, from the process environment: see
/// [`library_candidates_from`].
pub fn library_candidates() -> Vec<PathBuf> {
    let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let exe_dir = std::env::current_exe().ok().and_then(|exe| exe.parent().map(Path::to_path_buf));
    let rocm_dirs: Vec<PathBuf> = ["ROCM_PATH", "HIP_PATH"]
        .iter()
        .filter_map(|v| env(v))
        .map(PathBuf::from)
        .chain(DEFAULT_ROCM_ROOTS.iter().map(PathBuf::from))
        .map(|root| root.join(RUNTIME_DIR))
        .collect();
    library_candidates_from(
        env(LIBRARY_ENV),
        exe_dir.as_deref(),
        BUILT_NVIDIA_SHIM.map(Path::new).filter(|p| p.is_file()),
        &rocm_dirs,
    )
}

/// The candidates, in order:
/// 1. `explicit` (`$HIP_RUNTIME_LIBRARY`), and then nothing else: falling back to another
///    runtime (say, a stray libamdhip64 on an NVIDIA machine) would hide the user's mistake;
/// 2. `libamdhip64.so` beside the executable (where `scripts/build-nvidia.sh` puts the shim),
///    before any system path: the H100 image carries a stray
///    `/lib/x86_64-linux-gnu/libamdhip64.so.5` (measured, 2026-11; see
///    docs/ARCHITECTURE.md#driver-workarounds-and-their-evidence);
/// 3. the shim build.rs built, when there is one;
/// 4. [`LIBRARY_NAMES`] through the dynamic loader's search path;
/// 5. [`LIBRARY_NAMES`] in each of `rocm_lib_dirs` (`$ROCM_PATH/lib`, `$HIP_PATH/lib`,
///    `/opt/rocm/lib`; on Windows `%ROCM_PATH%\bin`, `%HIP_PATH%\bin`), for installs that
///    are not on the loader's path.
pub fn library_candidates_from(
    explicit: Option<OsString>,
    exe_dir: Option<&Path>,
    built_shim: Option<&Path>,
    rocm_lib_dirs: &[PathBuf],
) -> Vec<PathBuf> {
    if let Some(path) = explicit {
        return vec![PathBuf::from(path)];
    }
    let mut candidates: Vec<PathBuf> = Vec::new();
    let mut push = |path: PathBuf| {
        if !candidates.contains(&path) {
            candidates.push(path);
        }
    };
    if let Some(dir) = exe_dir {
        push(dir.join(LIBRARY_FILE));
    }
    if let Some(shim) = built_shim {
        push(shim.to_path_buf());
    }
    for name in LIBRARY_NAMES {
        push(PathBuf::from(OsStr::new(name)));
    }
    for dir in rocm_lib_dirs {
        for name in LIBRARY_NAMES {
            push(dir.join(name));
        }
    }
    candidates
}

/// Why one candidate library did not load.
#[derive(Debug, Clone)]
pub struct LoadAttempt {
    /// The path or name given to the dynamic loader.
    pub candidate: PathBuf,
    /// The loader's (or symbol lookup's) message.
    pub error: String,
}

/// Loads the first candidate that opens and exports every entry point.
pub fn load_first(candidates: &[PathBuf]) -> Result<Api, Vec<LoadAttempt>> {
    let mut attempts = Vec::new();
    for candidate in candidates {
        // SAFETY: loading a library runs its initialisers; the candidates are
        // HIP runtimes (or the user's explicit choice via HIP_RUNTIME_LIBRARY),
        // whose initialisers are safe to run.
        let library = match unsafe { Library::new(candidate) } {
            Ok(library) => library,
            Err(e) => {
                // On Windows the message is only "LoadLibraryExW failed"; the reason (the OS
                // error) is its source.
                let error = match std::error::Error::source(&e) {
                    Some(reason) => format!("{e}: {reason}"),
                    None => e.to_string(),
                };
                attempts.push(LoadAttempt { candidate: candidate.clone(), error });
                continue;
            }
        };
        // SAFETY: a library named libamdhip64 (or chosen as the HIP runtime)
        // exports the HIP API with HIP's C signatures, as declared above.
        match unsafe { Api::from_library(library, candidate.clone()) } {
            Ok(api) => return Ok(api),
            Err((symbol, e)) => attempts.push(LoadAttempt {
                candidate: candidate.clone(),
                error: format!("loaded, but it lacks {symbol}: {e}"),
            }),
        }
    }
    Err(attempts)
}

/// The layouts as designed (the HIP ≥ 6 / CUDA sizes). The values and layouts are checked
/// against outside sources in `tests/hip_abi.rs` (the installed HIP headers) and by the
/// NVIDIA shim's `static_assert`s against CUDA's headers.
#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{align_of, offset_of, size_of};

    #[test]
    fn memory_handle_desc_matches_hip6_and_cuda() {
        assert_eq!(size_of::<ExternalMemoryHandleDesc>(), 104);
        assert_eq!(align_of::<ExternalMemoryHandleDesc>(), 8);
        assert_eq!(offset_of!(ExternalMemoryHandleDesc, type_), 0);
        assert_eq!(offset_of!(ExternalMemoryHandleDesc, handle), 8);
        assert_eq!(size_of::<ExternalHandle>(), 16);
        assert_eq!(offset_of!(ExternalMemoryHandleDesc, size), 24);
        assert_eq!(offset_of!(ExternalMemoryHandleDesc, flags), 32);
        assert_eq!(offset_of!(ExternalMemoryHandleDesc, reserved), 36);
    }

    #[test]
    fn memory_buffer_desc_matches_hip6_and_cuda() {
        assert_eq!(size_of::<ExternalMemoryBufferDesc>(), 88);
        assert_eq!(offset_of!(ExternalMemoryBufferDesc, offset), 0);
        assert_eq!(offset_of!(ExternalMemoryBufferDesc, size), 8);
        assert_eq!(offset_of!(ExternalMemoryBufferDesc, flags), 16);
        assert_eq!(offset_of!(ExternalMemoryBufferDesc, reserved), 20);
    }

    #[test]
    fn semaphore_handle_desc_matches_hip6_and_cuda() {
        assert_eq!(size_of::<ExternalSemaphoreHandleDesc>(), 96);
        assert_eq!(offset_of!(ExternalSemaphoreHandleDesc, type_), 0);
        assert_eq!(offset_of!(ExternalSemaphoreHandleDesc, handle), 8);
        assert_eq!(offset_of!(ExternalSemaphoreHandleDesc, flags), 24);
        assert_eq!(offset_of!(ExternalSemaphoreHandleDesc, reserved), 28);
    }

    #[test]
    fn semaphore_params_match_cuda() {
        assert_eq!(size_of::<ExternalSemaphoreParams>(), 72);
        assert_eq!(offset_of!(ExternalSemaphoreParams, fence_value), 0);
        assert_eq!(offset_of!(ExternalSemaphoreParams, nv_sci_sync), 8);
        assert_eq!(offset_of!(ExternalSemaphoreParams, keyed_mutex_key), 16);
        assert_eq!(offset_of!(ExternalSemaphoreParams, keyed_mutex_timeout_ms), 24);
        assert_eq!(size_of::<ExternalSemaphoreSignalWaitParams>(), 144);
        assert_eq!(offset_of!(ExternalSemaphoreSignalWaitParams, params), 0);
        assert_eq!(offset_of!(ExternalSemaphoreSignalWaitParams, flags), 72);
        assert_eq!(offset_of!(ExternalSemaphoreSignalWaitParams, reserved), 76);
        // Big enough for the older HIP layout (136 bytes) too.
        assert!(size_of::<ExternalSemaphoreSignalWaitParams>() >= 136);
    }

    #[test]
    fn virtual_memory_descriptors_match_hip6_and_cuda() {
        // CUmemAllocationProp / hipMemAllocationProp (HIP >= 5.3): type, handle types,
        // location, win32HandleMetaData, allocFlags; 32 bytes.
        assert_eq!(size_of::<MemAllocationProp>(), 32);
        assert_eq!(align_of::<MemAllocationProp>(), 8);
        assert_eq!(offset_of!(MemAllocationProp, type_), 0);
        assert_eq!(offset_of!(MemAllocationProp, requested_handle_types), 4);
        assert_eq!(offset_of!(MemAllocationProp, location), 8);
        assert_eq!(offset_of!(MemAllocationProp, win32_handle_meta_data), 16);
        assert_eq!(offset_of!(MemAllocationProp, alloc_flags), 24);
        assert_eq!(size_of::<MemLocation>(), 8);
        assert_eq!(size_of::<MemAccessDesc>(), 12);
        assert_eq!(offset_of!(MemAccessDesc, flags), 8);
    }

    #[test]
    fn image_descriptors_match_hip() {
        assert_eq!(size_of::<ChannelFormatDesc>(), 20);
        assert_eq!(size_of::<Extent>(), 24);
        assert_eq!(size_of::<ExternalMemoryMipmappedArrayDesc>(), 64);
        assert_eq!(offset_of!(ExternalMemoryMipmappedArrayDesc, format), 8);
        assert_eq!(offset_of!(ExternalMemoryMipmappedArrayDesc, extent), 32);
        assert_eq!(offset_of!(ExternalMemoryMipmappedArrayDesc, flags), 56);
        assert_eq!(offset_of!(ExternalMemoryMipmappedArrayDesc, num_levels), 60);
        assert_eq!(size_of::<ResourceDesc>(), 64);
        assert_eq!(offset_of!(ResourceDesc, array), 8);
    }

    #[test]
    fn uuid_is_16_bytes() {
        assert_eq!(size_of::<HipUuid>(), 16);
    }

    #[test]
    #[cfg(not(windows))]
    fn candidates_put_the_explicit_library_alone_then_the_shim_then_rocm() {
        let only = library_candidates_from(Some("/x/libamdhip64.so".into()), Some(Path::new("/bin")), None, &[]);
        assert_eq!(only, vec![PathBuf::from("/x/libamdhip64.so")]);

        let rocm = [PathBuf::from("/opt/rocm-7.0/lib"), PathBuf::from("/opt/rocm/lib")];
        let all =
            library_candidates_from(None, Some(Path::new("/app")), Some(Path::new("/build/out/libamdhip64.so")), &rocm);
        let shown: Vec<String> = all.iter().map(|p| p.display().to_string()).collect();
        assert_eq!(
            shown,
            [
                "/app/libamdhip64.so",
                "/build/out/libamdhip64.so",
                "libamdhip64.so.7",
                "libamdhip64.so.6",
                "libamdhip64.so.5",
                "libamdhip64.so",
                "/opt/rocm-7.0/lib/libamdhip64.so.7",
                "/opt/rocm-7.0/lib/libamdhip64.so.6",
                "/opt/rocm-7.0/lib/libamdhip64.so.5",
                "/opt/rocm-7.0/lib/libamdhip64.so",
                "/opt/rocm/lib/libamdhip64.so.7",
                "/opt/rocm/lib/libamdhip64.so.6",
                "/opt/rocm/lib/libamdhip64.so.5",
                "/opt/rocm/lib/libamdhip64.so",
            ]
        );
        // The same directory twice (ROCM_PATH=/opt/rocm) is tried once.
        let twice = library_candidates_from(None, None, None, &[rocm[1].clone(), rocm[1].clone()]);
        assert_eq!(twice.len(), 2 * LIBRARY_NAMES.len());
    }

    /// Windows: the shim beside the executable, then the HIP SDK's DLLs newest first, by
    /// name (the DLL search path) and in `%HIP_PATH%\bin`.
    #[test]
    #[cfg(windows)]
    fn windows_candidates_are_the_hip_sdk_dlls_newest_first() {
        let sdk = [PathBuf::from(r"C:\Program Files\AMD\ROCm\6.2\bin")];
        let all = library_candidates_from(None, Some(Path::new(r"C:\app")), None, &sdk);
        let shown: Vec<String> = all.iter().map(|p| p.display().to_string()).collect();
        assert_eq!(
            shown,
            [
                r"C:\app\amdhip64.dll",
                "amdhip64_7.dll",
                "amdhip64_6.dll",
                "amdhip64.dll",
                r"C:\Program Files\AMD\ROCm\6.2\bin\amdhip64_7.dll",
                r"C:\Program Files\AMD\ROCm\6.2\bin\amdhip64_6.dll",
                r"C:\Program Files\AMD\ROCm\6.2\bin\amdhip64.dll",
            ]
        );
    }

    /// Debian 12's ROCm 5.2 (what CI installs) is found by its soname, with no
    /// unversioned `libamdhip64.so` needed and nothing set in the environment.
    #[test]
    #[cfg(target_os = "linux")]
    fn debian_rocm_5_loads_from_the_search_list_by_its_soname() {
        if !Path::new("/usr/lib/x86_64-linux-gnu/libamdhip64.so.5").exists() {
            eprintln!("skipped: Debian's libamdhip64-5 is not installed here");
            return;
        }
        let candidates = library_candidates_from(None, None, None, &[]);
        let api = load_first(&candidates).unwrap_or_else(|attempts| panic!("nothing loaded: {attempts:?}"));
        assert_eq!(api.path, PathBuf::from("libamdhip64.so.5"), "the newest soname present is taken");
        assert!(!api.is_nvidia_shim);
    }

    #[test]
    fn missing_library_lists_every_attempt() {
        let candidates = vec![PathBuf::from("/nonexistent/libamdhip64.so"), PathBuf::from("libdoesnotexist-hip.so")];
        let Err(attempts) = load_first(&candidates) else {
            panic!("loading a nonexistent library succeeded");
        };
        assert_eq!(attempts.len(), 2);
        assert_eq!(attempts[0].candidate, candidates[0]);
        // The loader's reason: dlopen names the file; Windows gives "module not found".
        #[cfg(not(windows))]
        assert!(attempts[0].error.contains("nonexistent"), "{}", attempts[0].error);
        #[cfg(windows)]
        assert!(attempts[0].error.contains("os error 126"), "{}", attempts[0].error);
    }
}
