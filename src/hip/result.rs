//! Layer 2: checked wrappers. One function per HIP call: it makes the call,
//! turns a non-zero status into a [`HipError`] naming the call, and returns
//! the out-parameter. No ownership here; the RAII types above own handles.
//!
//! Functions taking raw handles are `unsafe`: the handle must be live (created
//! by the matching create call, not yet destroyed) and belong to `api`'s runtime.

use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString};
use std::ptr;

use super::error::{HipError, Result};
use super::ffi::{self, Api, HipStatus};
use super::ffi::{
    hipDevice_t, hipEvent_t, hipExternalMemory_t, hipExternalSemaphore_t, hipFunction_t, hipModule_t, hipStream_t,
};
use crate::shared_handle::SharedHandle;

/// Turns `status` from `call` into a `Result`, asking the runtime for the
/// code's name and description.
pub fn check(api: &Api, call: &'static str, status: HipStatus) -> Result<()> {
    if status == ffi::HIP_SUCCESS {
        Ok(())
    } else {
        Err(error(api, call, status))
    }
}

/// Builds the [`HipError`] for `status`.
pub fn error(api: &Api, call: &'static str, status: HipStatus) -> HipError {
    // SAFETY: both functions accept any code and return a pointer to a static
    // NUL-terminated string (or null, handled by `static_str`).
    let (name, message) =
        unsafe { (static_str((api.hipGetErrorName)(status)), static_str((api.hipGetErrorString)(status))) };
    let name = name.unwrap_or_else(|| format!("hipError {status}"));
    // Some runtimes (ROCm 5.2) answer hipGetErrorString with the bare name (ROCm/hipamd
    // src/hip_error.cpp at rocm-5.2.3 returns ihipGetErrorName; fixed by hipamd 1fd89af8,
    // first in rocm-5.3.0): say something more useful for the codes users actually meet.
    let message = match message {
        Some(m) if !m.is_empty() && m != name => m,
        _ => fallback_description(status).unwrap_or("no description from the runtime").to_string(),
    };
    HipError { call, code: status, name, message }
}

/// Descriptions for common codes, used when the runtime gives none.
fn fallback_description(status: HipStatus) -> Option<&'static str> {
    Some(match status {
        ffi::HIP_ERROR_INVALID_VALUE => "invalid argument",
        ffi::HIP_ERROR_NO_DEVICE => "the HIP runtime loaded but sees no GPU",
        ffi::HIP_ERROR_INVALID_IMAGE => "the code object is invalid",
        ffi::HIP_ERROR_NO_BINARY_FOR_GPU => "the code object has no code for this GPU",
        ffi::HIP_ERROR_NOT_FOUND => "named symbol not found",
        ffi::HIP_ERROR_NOT_READY => "work not finished yet",
        ffi::HIP_ERROR_NOT_SUPPORTED => "operation not supported",
        _ => return None,
    })
}

/// Copies a runtime-owned C string.
///
/// # Safety
/// `p` is null or points to a NUL-terminated string valid for this call.
unsafe fn static_str(p: *const c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-null and NUL-terminated per the contract.
    Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

// ---- runtime and devices -------------------------------------------------

/// `hipRuntimeGetVersion`.
pub fn runtime_get_version(api: &Api) -> Result<i32> {
    let mut v: c_int = 0;
    // SAFETY: writes one int to a valid pointer.
    check(api, "hipRuntimeGetVersion", unsafe { (api.hipRuntimeGetVersion)(&mut v) })?;
    Ok(v)
}

/// `hipDriverGetVersion`.
pub fn driver_get_version(api: &Api) -> Result<i32> {
    let mut v: c_int = 0;
    // SAFETY: writes one int to a valid pointer.
    check(api, "hipDriverGetVersion", unsafe { (api.hipDriverGetVersion)(&mut v) })?;
    Ok(v)
}

/// `hipGetDeviceCount`. With no GPU the runtime returns `hipErrorNoDevice`.
pub fn get_device_count(api: &Api) -> Result<i32> {
    let mut n: c_int = 0;
    // SAFETY: writes one int to a valid pointer.
    check(api, "hipGetDeviceCount", unsafe { (api.hipGetDeviceCount)(&mut n) })?;
    Ok(n)
}

/// `hipSetDevice`: makes `ordinal` current on the calling thread.
pub fn set_device(api: &Api, ordinal: i32) -> Result<()> {
    // SAFETY: takes a plain int; an out-of-range ordinal is an error status.
    check(api, "hipSetDevice", unsafe { (api.hipSetDevice)(ordinal) })
}

/// `hipDeviceGet`.
pub fn device_get(api: &Api, ordinal: i32) -> Result<hipDevice_t> {
    let mut d: hipDevice_t = 0;
    // SAFETY: writes one device handle to a valid pointer.
    check(api, "hipDeviceGet", unsafe { (api.hipDeviceGet)(&mut d, ordinal) })?;
    Ok(d)
}

/// `hipDeviceGetName`.
pub fn device_get_name(api: &Api, device: hipDevice_t) -> Result<String> {
    let mut buf = [0 as c_char; 256];
    // SAFETY: the runtime writes at most `len` bytes (NUL included) into buf.
    check(api, "hipDeviceGetName", unsafe { (api.hipDeviceGetName)(buf.as_mut_ptr(), buf.len() as c_int, device) })?;
    // Force termination in case a runtime filled the buffer exactly.
    buf[buf.len() - 1] = 0;
    // SAFETY: buf is NUL-terminated (last byte set above) and lives through the call.
    Ok(unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned())
}

/// `hipDeviceGetUuid`.
pub fn device_get_uuid(api: &Api, device: hipDevice_t) -> Result<[u8; 16]> {
    let mut uuid = ffi::HipUuid::default();
    // SAFETY: writes 16 bytes into a valid hipUUID.
    check(api, "hipDeviceGetUuid", unsafe { (api.hipDeviceGetUuid)(&mut uuid, device) })?;
    Ok(uuid.bytes.map(|b| b as u8))
}

/// `hipDeviceGetAttribute` (attribute values in [`ffi`]).
pub fn device_get_attribute(api: &Api, attribute: c_int, ordinal: i32) -> Result<i32> {
    let mut v: c_int = 0;
    // SAFETY: writes one int; unknown attributes are an error status.
    check(api, "hipDeviceGetAttribute", unsafe { (api.hipDeviceGetAttribute)(&mut v, attribute, ordinal) })?;
    Ok(v)
}

/// `hipDeviceSynchronize`.
pub fn device_synchronize(api: &Api) -> Result<()> {
    // SAFETY: no arguments.
    check(api, "hipDeviceSynchronize", unsafe { (api.hipDeviceSynchronize)() })
}

// ---- streams and events --------------------------------------------------

/// `hipStreamCreateWithFlags`.
pub fn stream_create_with_flags(api: &Api, flags: c_uint) -> Result<hipStream_t> {
    let mut s: hipStream_t = ptr::null_mut();
    // SAFETY: writes one handle to a valid pointer.
    check(api, "hipStreamCreateWithFlags", unsafe { (api.hipStreamCreateWithFlags)(&mut s, flags) })?;
    Ok(s)
}

/// `hipStreamSynchronize`.
///
/// # Safety
/// `stream` is live.
pub unsafe fn stream_synchronize(api: &Api, stream: hipStream_t) -> Result<()> {
    // SAFETY: the caller guarantees the handle is live.
    check(api, "hipStreamSynchronize", unsafe { (api.hipStreamSynchronize)(stream) })
}

/// `hipStreamDestroy`.
///
/// # Safety
/// `stream` is live and not used afterwards.
pub unsafe fn stream_destroy(api: &Api, stream: hipStream_t) -> Result<()> {
    // SAFETY: the caller guarantees the handle is live and abandoned.
    check(api, "hipStreamDestroy", unsafe { (api.hipStreamDestroy)(stream) })
}

/// `hipEventCreateWithFlags`.
pub fn event_create_with_flags(api: &Api, flags: c_uint) -> Result<hipEvent_t> {
    let mut e: hipEvent_t = ptr::null_mut();
    // SAFETY: writes one handle to a valid pointer.
    check(api, "hipEventCreateWithFlags", unsafe { (api.hipEventCreateWithFlags)(&mut e, flags) })?;
    Ok(e)
}

/// `hipEventRecord`.
///
/// # Safety
/// `event` and `stream` are live.
pub unsafe fn event_record(api: &Api, event: hipEvent_t, stream: hipStream_t) -> Result<()> {
    // SAFETY: the caller guarantees both handles are live.
    check(api, "hipEventRecord", unsafe { (api.hipEventRecord)(event, stream) })
}

/// `hipEventSynchronize`.
///
/// # Safety
/// `event` is live.
pub unsafe fn event_synchronize(api: &Api, event: hipEvent_t) -> Result<()> {
    // SAFETY: the caller guarantees the handle is live.
    check(api, "hipEventSynchronize", unsafe { (api.hipEventSynchronize)(event) })
}

/// `hipEventQuery`: `Ok(true)` when done, `Ok(false)` on `hipErrorNotReady`.
///
/// # Safety
/// `event` is live.
pub unsafe fn event_query(api: &Api, event: hipEvent_t) -> Result<bool> {
    // SAFETY: the caller guarantees the handle is live.
    let status = unsafe { (api.hipEventQuery)(event) };
    if status == ffi::HIP_ERROR_NOT_READY {
        return Ok(false);
    }
    check(api, "hipEventQuery", status)?;
    Ok(true)
}

/// `hipEventElapsedTime`, in milliseconds.
///
/// # Safety
/// Both events are live.
pub unsafe fn event_elapsed_time(api: &Api, start: hipEvent_t, end: hipEvent_t) -> Result<f32> {
    let mut ms = 0.0f32;
    // SAFETY: the caller guarantees both handles are live; writes one float.
    check(api, "hipEventElapsedTime", unsafe { (api.hipEventElapsedTime)(&mut ms, start, end) })?;
    Ok(ms)
}

/// `hipEventDestroy`.
///
/// # Safety
/// `event` is live and not used afterwards.
pub unsafe fn event_destroy(api: &Api, event: hipEvent_t) -> Result<()> {
    // SAFETY: the caller guarantees the handle is live and abandoned.
    check(api, "hipEventDestroy", unsafe { (api.hipEventDestroy)(event) })
}

// ---- modules and launches ------------------------------------------------

/// `hipModuleLoadData`.
///
/// # Safety
/// `image` points to a complete code object (PTX text NUL-terminated) that
/// stays valid for the call.
pub unsafe fn module_load_data(api: &Api, image: *const c_void) -> Result<hipModule_t> {
    let mut m: hipModule_t = ptr::null_mut();
    // SAFETY: the caller guarantees the image; writes one handle.
    check(api, "hipModuleLoadData", unsafe { (api.hipModuleLoadData)(&mut m, image) })?;
    Ok(m)
}

/// `hipModuleUnload`.
///
/// # Safety
/// `module` is live; its functions are not used afterwards.
pub unsafe fn module_unload(api: &Api, module: hipModule_t) -> Result<()> {
    // SAFETY: the caller guarantees the handle is live and abandoned.
    check(api, "hipModuleUnload", unsafe { (api.hipModuleUnload)(module) })
}

/// `hipModuleGetFunction`.
///
/// # Safety
/// `module` is live.
pub unsafe fn module_get_function(api: &Api, module: hipModule_t, name: &CStr) -> Result<hipFunction_t> {
    let mut f: hipFunction_t = ptr::null_mut();
    // SAFETY: module live per the caller; name is NUL-terminated; writes one handle.
    check(api, "hipModuleGetFunction", unsafe { (api.hipModuleGetFunction)(&mut f, module, name.as_ptr()) })?;
    Ok(f)
}

/// `hipModuleLaunchKernel` (no `extra` argument).
///
/// # Safety
/// `function` and `stream` are live; `args` holds one pointer per kernel
/// parameter, each pointing to a value of that parameter's exact type, valid
/// for the call; memory the kernel touches stays valid until it completes.
pub unsafe fn module_launch_kernel(
    api: &Api,
    function: hipFunction_t,
    grid: [u32; 3],
    block: [u32; 3],
    shared_bytes: u32,
    stream: hipStream_t,
    args: *mut *mut c_void,
) -> Result<()> {
    // SAFETY: upheld by the caller as documented above.
    check(api, "hipModuleLaunchKernel", unsafe {
        (api.hipModuleLaunchKernel)(
            function,
            grid[0],
            grid[1],
            grid[2],
            block[0],
            block[1],
            block[2],
            shared_bytes,
            stream,
            args,
            ptr::null_mut(),
        )
    })
}

// ---- memory ------------------------------------------------------------------

/// `hipMalloc`.
pub fn malloc(api: &Api, bytes: usize) -> Result<*mut c_void> {
    let mut p: *mut c_void = ptr::null_mut();
    // SAFETY: writes one pointer to a valid location.
    check(api, "hipMalloc", unsafe { (api.hipMalloc)(&mut p, bytes) })?;
    Ok(p)
}

/// `hipFree`.
///
/// # Safety
/// `ptr` came from `hipMalloc` or `hipExternalMemoryGetMappedBuffer`, is not
/// freed yet, and no queued work still uses it.
pub unsafe fn free(api: &Api, ptr: *mut c_void) -> Result<()> {
    // SAFETY: upheld by the caller.
    check(api, "hipFree", unsafe { (api.hipFree)(ptr) })
}

/// `hipMemcpyAsync`.
///
/// # Safety
/// `dst` and `src` are valid for `bytes` bytes of the kind `kind` names, and
/// stay valid until the copy completes on `stream` (live).
pub unsafe fn memcpy_async(
    api: &Api,
    dst: *mut c_void,
    src: *const c_void,
    bytes: usize,
    kind: c_int,
    stream: hipStream_t,
) -> Result<()> {
    // SAFETY: upheld by the caller.
    check(api, "hipMemcpyAsync", unsafe { (api.hipMemcpyAsync)(dst, src, bytes, kind, stream) })
}

// ---- external memory and semaphores ----------------------------------------

/// `hipImportExternalMemory`.
///
/// # Safety
/// `desc` describes a live handle. The fd is only borrowed: ROCm never takes it, and the
/// NVIDIA shim hands CUDA a dup (see `external.rs` for the evidence).
pub unsafe fn import_external_memory(api: &Api, desc: &ffi::ExternalMemoryHandleDesc) -> Result<hipExternalMemory_t> {
    let mut m: hipExternalMemory_t = ptr::null_mut();
    // SAFETY: desc is a full-size, initialised descriptor; writes one handle.
    check(api, "hipImportExternalMemory", unsafe { (api.hipImportExternalMemory)(&mut m, desc) })?;
    Ok(m)
}

/// `hipExternalMemoryGetMappedBuffer`.
///
/// # Safety
/// `memory` is live.
pub unsafe fn external_memory_get_mapped_buffer(
    api: &Api,
    memory: hipExternalMemory_t,
    desc: &ffi::ExternalMemoryBufferDesc,
) -> Result<*mut c_void> {
    let mut p: *mut c_void = ptr::null_mut();
    // SAFETY: memory live per the caller; desc full-size; writes one pointer.
    check(api, "hipExternalMemoryGetMappedBuffer", unsafe {
        (api.hipExternalMemoryGetMappedBuffer)(&mut p, memory, desc)
    })?;
    Ok(p)
}

/// `hipDestroyExternalMemory`.
///
/// # Safety
/// `memory` is live; every buffer mapped from it is already freed.
pub unsafe fn destroy_external_memory(api: &Api, memory: hipExternalMemory_t) -> Result<()> {
    // SAFETY: upheld by the caller.
    check(api, "hipDestroyExternalMemory", unsafe { (api.hipDestroyExternalMemory)(memory) })
}

/// `hipImportExternalSemaphore`.
///
/// # Safety
/// `desc` describes a live handle. The fd is only borrowed, as for
/// [`import_external_memory`].
pub unsafe fn import_external_semaphore(
    api: &Api,
    desc: &ffi::ExternalSemaphoreHandleDesc,
) -> Result<hipExternalSemaphore_t> {
    let mut s: hipExternalSemaphore_t = ptr::null_mut();
    // SAFETY: desc is a full-size, initialised descriptor; writes one handle.
    check(api, "hipImportExternalSemaphore", unsafe { (api.hipImportExternalSemaphore)(&mut s, desc) })?;
    Ok(s)
}

/// `hipSignalExternalSemaphoresAsync` for ONE semaphore.
///
/// # Safety
/// `semaphore` and `stream` are live.
pub unsafe fn signal_external_semaphore_async(
    api: &Api,
    semaphore: hipExternalSemaphore_t,
    params: &ffi::ExternalSemaphoreSignalWaitParams,
    stream: hipStream_t,
) -> Result<()> {
    // SAFETY: handles live per the caller; one handle and one full-size
    // params struct, matching count = 1.
    check(api, "hipSignalExternalSemaphoresAsync", unsafe {
        (api.hipSignalExternalSemaphoresAsync)(&semaphore, params, 1, stream)
    })
}

/// `hipWaitExternalSemaphoresAsync` for ONE semaphore.
///
/// # Safety
/// `semaphore` and `stream` are live.
pub unsafe fn wait_external_semaphore_async(
    api: &Api,
    semaphore: hipExternalSemaphore_t,
    params: &ffi::ExternalSemaphoreSignalWaitParams,
    stream: hipStream_t,
) -> Result<()> {
    // SAFETY: as for the signal above.
    check(api, "hipWaitExternalSemaphoresAsync", unsafe {
        (api.hipWaitExternalSemaphoresAsync)(&semaphore, params, 1, stream)
    })
}

/// `hipDestroyExternalSemaphore`.
///
/// # Safety
/// `semaphore` is live and no queued wait or signal still uses it.
pub unsafe fn destroy_external_semaphore(api: &Api, semaphore: hipExternalSemaphore_t) -> Result<()> {
    // SAFETY: upheld by the caller.
    check(api, "hipDestroyExternalSemaphore", unsafe { (api.hipDestroyExternalSemaphore)(semaphore) })
}

// ---- virtual memory ------------------------------------------------------------

/// The optional virtual memory entry points, or an error naming `call`.
fn virtual_memory<'a>(api: &'a Api, call: &'static str) -> Result<&'a ffi::VirtualMemoryApi> {
    api.virtual_memory.as_ref().ok_or_else(|| HipError {
        call,
        code: ffi::HIP_ERROR_NOT_SUPPORTED,
        name: "hipErrorNotSupported".into(),
        message: format!("{} does not export HIP's virtual memory API", api.path.display()),
    })
}

/// `hipMemGetAllocationGranularity` (minimum granularity) for allocations like `prop`.
pub fn mem_get_allocation_granularity(api: &Api, prop: &ffi::MemAllocationProp) -> Result<usize> {
    const CALL: &str = "hipMemGetAllocationGranularity";
    let vm = virtual_memory(api, CALL)?;
    let mut granularity = 0usize;
    // SAFETY: prop is a full, initialised descriptor; writes one size_t.
    check(api, CALL, unsafe {
        (vm.hipMemGetAllocationGranularity)(&mut granularity, prop, ffi::HIP_MEM_ALLOCATION_GRANULARITY_MINIMUM)
    })?;
    Ok(granularity)
}

/// `hipMemCreate`: `size` bytes of physical memory (a multiple of the granularity).
pub fn mem_create(
    api: &Api,
    size: usize,
    prop: &ffi::MemAllocationProp,
) -> Result<ffi::hipMemGenericAllocationHandle_t> {
    const CALL: &str = "hipMemCreate";
    let vm = virtual_memory(api, CALL)?;
    let mut handle: ffi::hipMemGenericAllocationHandle_t = ptr::null_mut();
    // SAFETY: prop is a full, initialised descriptor; writes one handle.
    check(api, CALL, unsafe { (vm.hipMemCreate)(&mut handle, size, prop, 0) })?;
    Ok(handle)
}

/// `hipMemExportToShareableHandle` as this system's handle
/// ([`ffi::HIP_MEM_HANDLE_TYPE_NATIVE`]: an fd, or an NT handle), which the caller then owns.
///
/// # Safety
/// `handle` is a live allocation made with [`ffi::HIP_MEM_HANDLE_TYPE_NATIVE`] among its
/// requested handle types.
pub unsafe fn mem_export_to_shareable_handle(
    api: &Api,
    handle: ffi::hipMemGenericAllocationHandle_t,
) -> Result<SharedHandle> {
    const CALL: &str = "hipMemExportToShareableHandle";
    let vm = virtual_memory(api, CALL)?;
    let refused = |message: String| HipError {
        call: CALL,
        code: ffi::HIP_ERROR_INVALID_VALUE,
        name: "hipErrorInvalidValue".into(),
        message,
    };
    #[cfg(unix)]
    {
        let mut fd: c_int = -1;
        // SAFETY: for the POSIX fd type the shareable handle is an int, written through the
        // pointer; the handle is the caller's contract.
        check(api, CALL, unsafe {
            (vm.hipMemExportToShareableHandle)(
                (&mut fd as *mut c_int).cast(),
                handle,
                ffi::HIP_MEM_HANDLE_TYPE_NATIVE,
                0,
            )
        })?;
        if fd < 0 {
            return Err(refused(format!("the runtime reported success but returned fd {fd}")));
        }
        // SAFETY: on success the runtime returns a new fd that the caller owns.
        Ok(unsafe { SharedHandle::from_raw_fd(fd) })
    }
    #[cfg(windows)]
    {
        let mut nt: *mut c_void = std::ptr::null_mut();
        // SAFETY: for the Win32 type the shareable handle is a HANDLE, written through the
        // pointer; the handle is the caller's contract.
        check(api, CALL, unsafe {
            (vm.hipMemExportToShareableHandle)(
                (&mut nt as *mut *mut c_void).cast(),
                handle,
                ffi::HIP_MEM_HANDLE_TYPE_NATIVE,
                0,
            )
        })?;
        if nt.is_null() {
            return Err(refused("the runtime reported success but returned a null handle".into()));
        }
        // SAFETY: on success the runtime returns a new NT handle that the caller owns.
        Ok(unsafe { SharedHandle::from_raw_nt(nt) })
    }
}

/// `hipMemRelease`.
///
/// # Safety
/// `handle` is live and released once; mappings of it may remain (they keep the memory).
pub unsafe fn mem_release(api: &Api, handle: ffi::hipMemGenericAllocationHandle_t) -> Result<()> {
    const CALL: &str = "hipMemRelease";
    let vm = virtual_memory(api, CALL)?;
    // SAFETY: upheld by the caller.
    check(api, CALL, unsafe { (vm.hipMemRelease)(handle) })
}

/// `hipMemAddressReserve`: `size` bytes of device address space, no fixed address.
pub fn mem_address_reserve(api: &Api, size: usize, alignment: usize) -> Result<*mut c_void> {
    const CALL: &str = "hipMemAddressReserve";
    let vm = virtual_memory(api, CALL)?;
    let mut p: *mut c_void = ptr::null_mut();
    // SAFETY: writes one pointer; no address is requested (null hint).
    check(api, CALL, unsafe { (vm.hipMemAddressReserve)(&mut p, size, alignment, ptr::null_mut(), 0) })?;
    Ok(p)
}

/// `hipMemAddressFree`.
///
/// # Safety
/// `ptr`/`size` is a live reservation with nothing mapped in it, freed once.
pub unsafe fn mem_address_free(api: &Api, ptr: *mut c_void, size: usize) -> Result<()> {
    const CALL: &str = "hipMemAddressFree";
    let vm = virtual_memory(api, CALL)?;
    // SAFETY: upheld by the caller.
    check(api, CALL, unsafe { (vm.hipMemAddressFree)(ptr, size) })
}

/// `hipMemMap`: maps all of `handle` (`size` bytes, from offset 0) at `ptr`.
///
/// # Safety
/// `ptr`/`size` lies in a live reservation with nothing mapped there; `handle` is live and
/// `size` bytes long.
pub unsafe fn mem_map(
    api: &Api,
    ptr: *mut c_void,
    size: usize,
    handle: ffi::hipMemGenericAllocationHandle_t,
) -> Result<()> {
    const CALL: &str = "hipMemMap";
    let vm = virtual_memory(api, CALL)?;
    // SAFETY: upheld by the caller.
    check(api, CALL, unsafe { (vm.hipMemMap)(ptr, size, 0, handle, 0) })
}

/// `hipMemUnmap`.
///
/// # Safety
/// `ptr`/`size` is a live mapping that no queued work uses any more, unmapped once.
pub unsafe fn mem_unmap(api: &Api, ptr: *mut c_void, size: usize) -> Result<()> {
    const CALL: &str = "hipMemUnmap";
    let vm = virtual_memory(api, CALL)?;
    // SAFETY: upheld by the caller.
    check(api, CALL, unsafe { (vm.hipMemUnmap)(ptr, size) })
}

/// `hipMemSetAccess`: read-write access to `ptr`/`size` for `device` (an ordinal).
///
/// # Safety
/// `ptr`/`size` is a live mapping.
pub unsafe fn mem_set_access_read_write(api: &Api, ptr: *mut c_void, size: usize, device: c_int) -> Result<()> {
    const CALL: &str = "hipMemSetAccess";
    let vm = virtual_memory(api, CALL)?;
    let desc = ffi::MemAccessDesc {
        location: ffi::MemLocation { type_: ffi::HIP_MEM_LOCATION_TYPE_DEVICE, id: device },
        flags: ffi::HIP_MEM_ACCESS_FLAGS_PROT_READ_WRITE,
    };
    // SAFETY: one initialised descriptor; the mapping is the caller's contract.
    check(api, CALL, unsafe { (vm.hipMemSetAccess)(ptr, size, &desc, 1) })
}

// ---- image interop ---------------------------------------------------------------

/// The optional image entry points, or an error naming `call`.
fn image_interop<'a>(api: &'a Api, call: &'static str) -> Result<&'a ffi::ImageInteropApi> {
    api.image_interop.as_ref().ok_or_else(|| HipError {
        call,
        code: ffi::HIP_ERROR_NOT_SUPPORTED,
        name: "hipErrorNotSupported".into(),
        message: format!(
            "{} does not export HIP's image interop (hipExternalMemoryGetMappedMipmappedArray)",
            api.path.display()
        ),
    })
}

/// `hipExternalMemoryGetMappedMipmappedArray`.
///
/// # Safety
/// `memory` is a live import of an image's memory whose format, extent and levels `desc`
/// describes.
pub unsafe fn external_memory_get_mapped_mipmapped_array(
    api: &Api,
    memory: hipExternalMemory_t,
    desc: &ffi::ExternalMemoryMipmappedArrayDesc,
) -> Result<ffi::HipMipmappedArray> {
    const CALL: &str = "hipExternalMemoryGetMappedMipmappedArray";
    let images = image_interop(api, CALL)?;
    let mut mipmap: ffi::HipMipmappedArray = ptr::null_mut();
    // SAFETY: desc is initialised; writes one handle; the memory is the caller's contract.
    check(api, CALL, unsafe { (images.hipExternalMemoryGetMappedMipmappedArray)(&mut mipmap, memory, desc) })?;
    Ok(mipmap)
}

/// `hipGetMipmappedArrayLevel`: the array of `level` (owned by the mipmapped array).
///
/// # Safety
/// `mipmap` is live and has that level.
pub unsafe fn get_mipmapped_array_level(
    api: &Api,
    mipmap: ffi::HipMipmappedArray,
    level: c_uint,
) -> Result<ffi::HipArray> {
    const CALL: &str = "hipGetMipmappedArrayLevel";
    let images = image_interop(api, CALL)?;
    let mut array: ffi::HipArray = ptr::null_mut();
    // SAFETY: writes one handle; the mipmapped array is the caller's contract.
    check(api, CALL, unsafe { (images.hipGetMipmappedArrayLevel)(&mut array, mipmap, level) })?;
    Ok(array)
}

/// `hipFreeMipmappedArray`.
///
/// # Safety
/// `mipmap` is live, freed once, with no surface object on it left and no queued work using it.
pub unsafe fn free_mipmapped_array(api: &Api, mipmap: ffi::HipMipmappedArray) -> Result<()> {
    const CALL: &str = "hipFreeMipmappedArray";
    let images = image_interop(api, CALL)?;
    // SAFETY: upheld by the caller.
    check(api, CALL, unsafe { (images.hipFreeMipmappedArray)(mipmap) })
}

/// `hipCreateSurfaceObject` on a whole array.
///
/// # Safety
/// `array` is live, made with `hipArraySurfaceLoadStore`, and outlives the surface object.
pub unsafe fn create_surface_object(api: &Api, array: ffi::HipArray) -> Result<ffi::HipSurfaceObject> {
    const CALL: &str = "hipCreateSurfaceObject";
    let images = image_interop(api, CALL)?;
    let desc = ffi::ResourceDesc { res_type: ffi::HIP_RESOURCE_TYPE_ARRAY, array, rest: [0; 6] };
    let mut surface: ffi::HipSurfaceObject = 0;
    // SAFETY: desc is a full, initialised array resource; writes one handle.
    check(api, CALL, unsafe { (images.hipCreateSurfaceObject)(&mut surface, &desc) })?;
    Ok(surface)
}

/// `hipDestroySurfaceObject`.
///
/// # Safety
/// `surface` is live, destroyed once, and no queued kernel uses it.
pub unsafe fn destroy_surface_object(api: &Api, surface: ffi::HipSurfaceObject) -> Result<()> {
    const CALL: &str = "hipDestroySurfaceObject";
    let images = image_interop(api, CALL)?;
    // SAFETY: upheld by the caller.
    check(api, CALL, unsafe { (images.hipDestroySurfaceObject)(surface) })
}

// ---- stream memory operations ------------------------------------------------------

/// `hipStreamWaitValue32(stream, ptr, value, hipStreamWaitValueGte, 0xFFFFFFFF)`: the
/// stream's later work waits until `*ptr >= value`.
///
/// # Safety
/// `stream` is live; `ptr` is a device address of 4 readable bytes (memory HIP knows: its
/// own or imported) that stays valid until the wait completes on the stream.
pub unsafe fn stream_wait_value32_gte(api: &Api, stream: hipStream_t, ptr: *mut c_void, value: u32) -> Result<()> {
    const CALL: &str = "hipStreamWaitValue32";
    let ops = api.stream_mem_ops.as_ref().ok_or_else(|| HipError {
        call: CALL,
        code: ffi::HIP_ERROR_NOT_SUPPORTED,
        name: "hipErrorNotSupported".into(),
        message: format!("{} does not export hipStreamWaitValue32", api.path.display()),
    })?;
    // SAFETY: upheld by the caller; the flags and mask are a valid combination.
    check(api, CALL, unsafe {
        (ops.hipStreamWaitValue32)(stream, ptr, value, ffi::HIP_STREAM_WAIT_VALUE_GTE, u32::MAX)
    })
}

/// A kernel name as a C string, or an error naming the problem.
pub fn kernel_name(name: &str) -> Result<CString> {
    CString::new(name).map_err(|_| HipError {
        call: "hipModuleGetFunction",
        code: ffi::HIP_ERROR_INVALID_VALUE,
        name: "hipErrorInvalidValue".into(),
        message: format!("kernel name {name:?} contains a NUL byte"),
    })
}
