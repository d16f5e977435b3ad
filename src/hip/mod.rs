//! The HIP host API of the demo, loaded at run time.
//!
//! Three layers, each using only the one below it:
//!
//! | layer | file | what it holds | owns |
//! |---|---|---|---|
//! | 1. FFI | [`ffi`] | the function-pointer table ([`ffi::Api`]) loaded from `libamdhip64` with `libloading`; the `#[repr(C)]` interop descriptors at their HIP ≥ 6 / CUDA size; constants | the loaded library |
//! | 2. checked wrappers | [`result`] | one function per HIP call: status → [`HipError`] naming the call with HIP's error name and message | nothing |
//! | 3. RAII types | this module's re-exports | [`Hip`], [`Stream`], [`Event`], [`Module`]/[`Function`], [`ExternalMemory`] → [`MappedBuffer`], [`ExternalSemaphore`], [`DeviceBuffer`] | one HIP object each |
//!
//! Ownership:
//! - [`Hip`] is an `Arc` around the loaded table; every object holds a clone, so
//!   the library outlives everything created from it.
//! - [`ExternalMemory::import_opaque_fd`] and [`ExternalSemaphore::import_opaque_fd`]
//!   take an `OwnedFd`: the runtime owns it after a successful import; after a
//!   failed one it is closed only if it is still the same open file, since the
//!   NVIDIA driver was seen to close it even then (details in `external.rs`).
//! - [`ExternalMemory::map_buffer`] consumes the memory into the [`MappedBuffer`]:
//!   dropping it frees the mapped pointer, then destroys the external memory.
//! - [`Function`] shares its [`Module`]'s code object (an `Arc`): it cannot unload under it.
//! - Drop never panics: a failing destroy call is logged with `log::warn!`.
//!   The caller must make sure no queued GPU work still uses an object
//!   (synchronise the stream) before dropping it, and must drop HIP objects
//!   before the Vulkan memory and semaphores they were imported from.
//!
//! The runtime is found by [`Hip::load`]: `$HIP_RUNTIME_LIBRARY` if set, then
//! `libamdhip64.so`, `.so.6`, `.so.5`. On NVIDIA that is the HIP-on-CUDA shim
//! built from `src/hip/nvidia/shim.cpp` (see `scripts/build-nvidia.sh`).
//! Nothing here is linked against HIP, so the binary starts without it.

#![deny(unsafe_op_in_unsafe_fn)]

pub mod code_object;
pub mod ffi;
pub mod result;

mod device;
mod error;
mod external;
mod kernel;
mod memory;
mod module;
mod stream;

pub use device::{DeviceInfo, Hip, PciAddress};
pub use error::{HipError, LoadError, Result};
pub use external::{ExternalMemory, ExternalSemaphore, MappedBuffer, SemaphoreKind};
pub use kernel::{kernel_image_kind, KernelImageKind, EMBEDDED_KERNEL, EMBEDDED_KERNEL_DESCRIPTION, KERNEL_NAME};
pub use memory::DeviceBuffer;
pub use module::{Function, Module};
pub use stream::{Event, Stream};
