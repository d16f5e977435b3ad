//! The height sources besides the HIP kernel ([`crate::interop::hip_heights`]): the CPU
//! reference, the Vulkan compute shader (the baseline without HIP), and HIP through host
//! memory (the copy path the benchmark compares zero-copy with).

pub mod cpu;
pub mod hip_copy;
pub mod vulkan_compute;
