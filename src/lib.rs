//! # hip-vulkan-sinewave
//!
//! HIP–Vulkan interop as a library, and the demo built on it. Vulkan creates the height
//! buffers of a grid with exportable memory, HIP imports them and a HIP kernel writes the
//! heights every frame, and Vulkan draws them with no copy, semaphores (or the CPU, where
//! HIP cannot import semaphores) handing each buffer between the two APIs.
//!
//! ## Layers
//!
//! | layer | module | what it is | uses |
//! |---|---|---|---|
//! | shared types | [`pci`], [`semaphore_kind`], [`shared_handle`] | the PCI address that matches a HIP device with a Vulkan device; binary or timeline; the fd or Win32 handle an export travels in, and who closes it | — |
//! | HIP | [`hip`] | the HIP runtime, loaded at run time: raw table ([`hip::ffi`]) → checked calls ([`hip::result`]) → RAII types | the shared types |
//! | Vulkan | [`vulkan`] | thin RAII types over ash: instance, device, buffers, commands, fences, export and import of memory and semaphores | the shared types |
//! | reference | [`sinewave`] | the height formula on the CPU, in `f64`, to check what the GPU wrote | — |
//! | interop | [`interop`] | the seam: exportable height slots, ownership barriers, the sync strategies and their per-frame plans, the HIP height source | [`hip`], [`vulkan`], [`sinewave`] |
//! | app (feature `app`) | `app` | the command line, window, renderer, offscreen runs, benchmark and chart | all of the above |
//!
//! Each layer uses only the layers above it in the table. `cargo build
//! --no-default-features --lib` builds the first four alone, without the app's
//! dependencies (winit, clap, plotters, ...). An integrator who copies the interop code
//! needs [`hip`], [`vulkan`] and [`interop`]; `examples/` shows the flow in one file with
//! the library, and in one file with ash and the raw HIP functions only.

#![warn(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

#[cfg(feature = "app")]
#[allow(missing_docs)] // the demo application: documented per module, not per item
pub mod app;
pub mod hip;
pub mod interop;
pub mod pci;
pub mod semaphore_kind;
pub mod shared_handle;
pub mod sinewave;
pub mod vulkan;
