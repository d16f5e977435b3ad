//! The HIP host API of the demo, loaded at run time.
//!
//! Three layers, each using only the one below it:
//!
//! | layer | file | what it holds | owns |
//! |---|---|---|---|
//! | 1. FFI | [`ffi`] | the function-pointer table ([`ffi::Api`]) loaded from `libamdhip64` with `libloading`; the `#[repr(C)]` interop descriptors at their HIP ≥ 6 / CUDA size; constants | the loaded library |
//! | 2. checked wrappers | [`result`] | one function per HIP call: status → [`HipError`] naming the call with HIP's error name and message | nothing |
//! | 3. RAII types | this module's re-exports | [`Hip`], [`Stream`], [`Event`], [`Module`]/[`Function`], [`ExternalMemory`] → [`MappedBuffer`], [`ExternalSemaphore`], [`DeviceBuffer`], [`ExportableDeviceMemory`] | one HIP object each |
//!
//! Ownership:
//! - [`Hip`] is an `Arc` around the loaded table; every object holds a clone, so
//!   the library outlives everything created from it.
//! - [`ExternalMemory::import`] and [`ExternalSemaphore::import`] take the exported
//!   handle and close it themselves: an fd right after the call, on success and on
//!   failure (ROCm never takes it; the NVIDIA shim gives CUDA, which would, a `dup`), a
//!   Windows NT handle once the import is destroyed (details in `external.rs`).
//! - [`ExternalMemory::map_buffer`] consumes the memory into the [`MappedBuffer`]:
//!   dropping it frees the mapped pointer, then destroys the external memory.
//! - [`ExportableDeviceMemory`] is the other direction: HIP allocates (`hipMemCreate`),
//!   maps it for itself and hands out fds that Vulkan imports (and then owns).
//! - [`Function`] shares its [`Module`]'s code object (an `Rc`): it cannot unload under it.
//! - Drop never panics: a failing destroy call is logged with `log::warn!`.
//!   Drops that queued work could still depend on (mapped pointers, imports, modules)
//!   first wait for the device (`hipDeviceSynchronize`). Drop HIP objects before
//!   the Vulkan memory and semaphores they were imported from (`HipHeights` and the
//!   renderer do so by field order).
//! - HIP objects are neither `Send` nor `Sync`: `hipSetDevice` is per thread, so each
//!   object stays on the thread that made it, whose current device it was made on.
//!
//! The runtime is found by [`Hip::load`] ([`ffi::library_candidates_from`]):
//! `$HIP_RUNTIME_LIBRARY` alone if set; else `libamdhip64.so` beside the executable, the
//! shim build.rs built, the sonames `.so.7`, `.so.6`, `.so.5` and `libamdhip64.so` on the
//! loader's path, then in `$ROCM_PATH/lib`, `$HIP_PATH/lib` and `/opt/rocm/lib`. On
//! NVIDIA that is the HIP-on-CUDA shim built from `src/hip/nvidia/shim.cpp` (by build.rs,
//! or by `scripts/build-nvidia.sh` beside a binary built elsewhere).
//! Nothing here is linked against HIP, so the binary starts without it.

#![deny(unsafe_op_in_unsafe_fn)]

pub mod ffi;
pub mod result;

mod device;
mod error;
mod external;
mod kernel;
mod memory;
mod module;
mod stream;
mod virtual_memory;

pub use device::{virtual_memory_export_supported, DeviceInfo, Hip, PciAddress, VIRTUAL_MEMORY_EXPORT_MIN_VERSION};
pub use error::{HipError, LoadError, Result};
pub use external::{ExternalMemory, ExternalSemaphore, MappedBuffer, MappedImage, SemaphoreKind};
pub use kernel::{
    kernel_image_kind, KernelImageKind, EMBEDDED_KERNEL, EMBEDDED_KERNEL_DESCRIPTION, KERNEL_IMAGE_MAGICS, KERNEL_NAME,
    NORMALS_KERNEL_NAME, NORMALS_SURFACE_KERNEL_NAME,
};
pub use memory::DeviceBuffer;
pub use module::{Function, Module};
pub use stream::{Event, Stream};
pub use virtual_memory::ExportableDeviceMemory;
