//! [`Stream`] (a HIP work queue) and [`Event`] (a marker in one).

use std::ffi::c_void;

use super::device::Hip;
use super::error::Result;
use super::external::{ExternalSemaphore, SemaphoreKind};
use super::ffi;
use super::result;

/// A non-blocking HIP stream (`hipStreamCreateWithFlags(hipStreamNonBlocking)`).
///
/// Dropping it destroys the stream; HIP lets queued work finish first.
pub struct Stream {
    hip: Hip,
    raw: ffi::hipStream_t,
}

impl Stream {
    /// Creates a stream on the current device.
    pub fn new(hip: &Hip) -> Result<Stream> {
        let raw = result::stream_create_with_flags(hip.api(), ffi::HIP_STREAM_NON_BLOCKING)?;
        Ok(Stream { hip: hip.clone(), raw })
    }

    /// The raw handle, for calls this module does not wrap.
    pub fn as_raw(&self) -> ffi::hipStream_t {
        self.raw
    }

    /// Blocks until all work queued on the stream has completed.
    pub fn synchronize(&self) -> Result<()> {
        // SAFETY: self.raw is live until Drop.
        unsafe { result::stream_synchronize(self.hip.api(), self.raw) }
    }

    /// Queues waits on external semaphores: later work on the stream starts
    /// only once each semaphore is signalled (a timeline semaphore: reaches
    /// at least the value; a binary semaphore ignores the value).
    ///
    /// One HIP call per semaphore: HIP versions disagree on the size of the
    /// wait descriptor (136 bytes before ROCm 6.0, 144 from 6.0 and in CUDA; see
    /// [`ffi::ExternalSemaphoreParams`] for the evidence), so an array of
    /// more than one would be misread by some of them.
    pub fn wait_external_semaphores(&self, waits: &[(&ExternalSemaphore, u64)]) -> Result<()> {
        for (semaphore, value) in waits {
            let params = semaphore_params(semaphore.kind(), *value);
            // SAFETY: the stream is live until Drop, the semaphore until its
            // Drop (it is borrowed here); params is a full-size descriptor.
            unsafe { result::wait_external_semaphore_async(self.hip.api(), semaphore.as_raw(), &params, self.raw)? };
        }
        Ok(())
    }

    /// Makes the work queued after this wait, on the GPU, until the 32-bit value at `ptr`
    /// is at least `value` (`hipStreamWaitValue32`, greater-or-equal, full mask). The CPU
    /// does not block.
    ///
    /// # Safety
    /// `ptr` is a device address HIP knows (its own memory or an import) of 4 bytes, valid
    /// until the wait completes; something will eventually write a value ≥ `value` there,
    /// or the stream waits forever.
    pub unsafe fn wait_value32(&self, ptr: *mut std::ffi::c_void, value: u32) -> Result<()> {
        // SAFETY: the stream is live until Drop; the pointer is the caller's contract.
        unsafe { result::stream_wait_value32_gte(self.hip.api(), self.raw, ptr, value) }
    }

    /// Queues signals of external semaphores once the work queued before
    /// completes (a timeline semaphore is set to the value; a binary
    /// semaphore ignores it). One HIP call per semaphore, as for waits.
    pub fn signal_external_semaphores(&self, signals: &[(&ExternalSemaphore, u64)]) -> Result<()> {
        for (semaphore, value) in signals {
            let params = semaphore_params(semaphore.kind(), *value);
            // SAFETY: as in wait_external_semaphores.
            unsafe { result::signal_external_semaphore_async(self.hip.api(), semaphore.as_raw(), &params, self.raw)? };
        }
        Ok(())
    }

    /// Copies `dst.len()` bytes from device memory at `src` into `dst` and
    /// waits for the copy (and all earlier work on the stream).
    ///
    /// # Safety
    /// `src` is a device pointer valid for `dst.len()` bytes on this device.
    pub unsafe fn copy_device_to_host(&self, src: *const c_void, dst: &mut [u8]) -> Result<()> {
        // SAFETY: src per the caller; dst is a live host slice of the right
        // size that stays borrowed until the synchronize below returns.
        unsafe {
            result::memcpy_async(
                self.hip.api(),
                dst.as_mut_ptr().cast(),
                src,
                dst.len(),
                ffi::HIP_MEMCPY_DEVICE_TO_HOST,
                self.raw,
            )?
        };
        self.synchronize()
    }

    /// Queues a device-to-device copy of `bytes` bytes (returns at once).
    ///
    /// # Safety
    /// `dst` and `src` are device pointers valid for `bytes` bytes, and stay
    /// valid until the copy completes on this stream.
    pub unsafe fn copy_device_to_device_async(&self, dst: *mut c_void, src: *const c_void, bytes: usize) -> Result<()> {
        // SAFETY: upheld by the caller; the stream is live until Drop.
        unsafe { result::memcpy_async(self.hip.api(), dst, src, bytes, ffi::HIP_MEMCPY_DEVICE_TO_DEVICE, self.raw) }
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // SAFETY: self.raw is live and this is its last use.
        if let Err(e) = unsafe { result::stream_destroy(self.hip.api(), self.raw) } {
            log::warn!("{e}");
        }
    }
}

/// A zero-filled signal/wait descriptor carrying `value` for a timeline semaphore.
fn semaphore_params(kind: SemaphoreKind, value: u64) -> ffi::ExternalSemaphoreSignalWaitParams {
    let mut params = ffi::ExternalSemaphoreSignalWaitParams::default();
    if kind == SemaphoreKind::Timeline {
        params.params.fence_value = value;
    }
    params
}

/// A HIP event: a marker recorded in a stream, for timing and for the host
/// to wait on one slot's work.
pub struct Event {
    hip: Hip,
    raw: ffi::hipEvent_t,
}

impl Event {
    /// Creates an event; `timing: false` makes it cheaper, but
    /// [`Event::elapsed_ms`] then fails.
    pub fn new(hip: &Hip, timing: bool) -> Result<Event> {
        let flags = if timing { 0 } else { ffi::HIP_EVENT_DISABLE_TIMING };
        let raw = result::event_create_with_flags(hip.api(), flags)?;
        Ok(Event { hip: hip.clone(), raw })
    }

    /// Records the event at the current end of `stream`.
    pub fn record(&self, stream: &Stream) -> Result<()> {
        // SAFETY: both handles are live (self until Drop, stream borrowed).
        unsafe { result::event_record(self.hip.api(), self.raw, stream.as_raw()) }
    }

    /// Blocks until the work before the recorded point has completed.
    pub fn synchronize(&self) -> Result<()> {
        // SAFETY: self.raw is live until Drop.
        unsafe { result::event_synchronize(self.hip.api(), self.raw) }
    }

    /// `true` when the recorded work has completed, `false` while it runs
    /// (`hipErrorNotReady` is not an error here).
    pub fn query(&self) -> Result<bool> {
        // SAFETY: self.raw is live until Drop.
        unsafe { result::event_query(self.hip.api(), self.raw) }
    }

    /// Milliseconds between two recorded, completed timing events.
    pub fn elapsed_ms(start: &Event, end: &Event) -> Result<f32> {
        // SAFETY: both handles are live (borrowed).
        unsafe { result::event_elapsed_time(start.hip.api(), start.raw, end.raw) }
    }
}

impl Drop for Event {
    fn drop(&mut self) {
        // SAFETY: self.raw is live and this is its last use.
        if let Err(e) = unsafe { result::event_destroy(self.hip.api(), self.raw) } {
            log::warn!("{e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_params_carry_the_value_binary_params_are_zero() {
        let t = semaphore_params(SemaphoreKind::Timeline, 42);
        assert_eq!(t.params.fence_value, 42);
        assert_eq!(t.flags, 0);
        let b = semaphore_params(SemaphoreKind::Binary, 42);
        assert_eq!(b.params.fence_value, 0);
    }
}
