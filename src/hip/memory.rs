//! [`DeviceBuffer`]: plain HIP device memory (`hipMalloc`), for the copy
//! path and bandwidth measurements.

use std::ffi::c_void;

use super::device::Hip;
use super::error::Result;
use super::result;
use super::stream::Stream;

/// `bytes` of device memory on the current device; freed on drop.
///
/// Make sure no queued HIP work still uses it before dropping.
pub struct DeviceBuffer {
    hip: Hip,
    ptr: *mut c_void,
    bytes: usize,
}

impl DeviceBuffer {
    /// Allocates `bytes` of device memory (uninitialised).
    pub fn new(hip: &Hip, bytes: usize) -> Result<DeviceBuffer> {
        let ptr = result::malloc(hip.api(), bytes)?;
        Ok(DeviceBuffer { hip: hip.clone(), ptr, bytes })
    }

    /// The device pointer.
    pub fn device_ptr(&self) -> *mut c_void {
        self.ptr
    }

    /// Size in bytes.
    pub fn size(&self) -> usize {
        self.bytes
    }

    /// Copies the first `dst.len()` bytes to host memory and waits for it.
    ///
    /// Panics-free: a `dst` longer than the buffer is an error.
    pub fn copy_to_host(&self, stream: &Stream, dst: &mut [u8]) -> Result<()> {
        if dst.len() > self.bytes {
            return Err(super::HipError {
                call: "hipMemcpyAsync",
                code: super::ffi::HIP_ERROR_INVALID_VALUE,
                name: "hipErrorInvalidValue".into(),
                message: format!("{} bytes requested from a {}-byte buffer", dst.len(), self.bytes),
            });
        }
        // SAFETY: self.ptr is valid for self.bytes >= dst.len() bytes.
        unsafe { stream.copy_device_to_host(self.ptr, dst) }
    }

    /// Queues a copy of `bytes` bytes from `src` (device memory) into this
    /// buffer on `stream`, e.g. to measure device copy bandwidth.
    ///
    /// # Safety
    /// `src` is valid for `bytes` bytes until the copy completes on `stream`;
    /// `self` must not be dropped before then either.
    pub unsafe fn copy_from_device_async(&mut self, stream: &Stream, src: *const c_void, bytes: usize) -> Result<()> {
        if bytes > self.bytes {
            return Err(super::HipError {
                call: "hipMemcpyAsync",
                code: super::ffi::HIP_ERROR_INVALID_VALUE,
                name: "hipErrorInvalidValue".into(),
                message: format!("{bytes} bytes into a {}-byte buffer", self.bytes),
            });
        }
        // SAFETY: dst is valid for bytes (checked); src per the caller.
        unsafe { stream.copy_device_to_device_async(self.ptr, src, bytes) }
    }
}

impl Drop for DeviceBuffer {
    fn drop(&mut self) {
        // SAFETY: ptr came from hipMalloc and is freed once, here.
        if let Err(e) = unsafe { result::free(self.hip.api(), self.ptr) } {
            log::warn!("{e}");
        }
    }
}
