//! The demo application on top of the library (cargo feature `app`, on by default): the
//! command line, the window, offscreen runs, the benchmark and its chart, and the Vulkan
//! renderer that draws the grid. Nothing in [`crate::hip`], [`crate::vulkan`] or
//! [`crate::interop`] uses this module.

pub mod bench;
pub mod bench_chart;
pub mod camera;
pub mod cli;
pub mod clock;
pub mod code_object;
pub mod grid;
pub mod headless;
pub mod heights;
pub mod interrupt;
pub mod kernel_files;
pub mod live;
pub mod overlay;
pub mod renderer;
pub mod setup;
pub mod stats;
pub mod window;
