//! # hip-vulkan-sinewave
//!
//! The reference demo of HIP–Vulkan interop: Vulkan creates the height buffers of a grid
//! with exportable memory, HIP imports them and a HIP kernel writes the heights every
//! frame, and Vulkan draws them with no copy, semaphores handing each buffer between the
//! two APIs.
//!
//! ## Layers
//!
//! | layer | module | what it is |
//! |---|---|---|
//! | HIP | [`hip`] | the HIP runtime, loaded at run time: raw table → checked calls → RAII types |
//! | Vulkan | [`vulkan`] | thin RAII types over ash: instance, device, buffers, export, swapchain, pipeline |
//! | interop | [`interop`] | the seam: exportable height slots, ownership barriers, sync strategies |
//! | heights | [`heights`] | who writes the heights: CPU reference, HIP kernel |
//! | app | [`renderer`], [`app`], [`headless`] | the frame loop, the window, offscreen runs |
//!
//! Each layer uses only the ones above it in the table. An integrator copying the interop
//! code needs [`hip`], [`vulkan::export`] and [`interop`].

#![warn(unsafe_op_in_unsafe_fn)]

pub mod app;
pub mod bench;
pub mod bench_chart;
pub mod camera;
pub mod cli;
pub mod grid;
pub mod headless;
pub mod heights;
pub mod hip;
pub mod interop;
pub mod interrupt;
pub mod renderer;
pub mod setup;
pub mod sinewave;
pub mod vulkan;
