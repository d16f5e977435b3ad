//! The reverse direction in one file: HIP allocates the memory, Vulkan imports it.
//!
//! 1. open HIP and Vulkan on the same GPU;
//! 2. HIP allocates a height buffer with its virtual memory API (`hipMemCreate` with a
//!    POSIX-fd handle type, `hipMemAddressReserve`, `hipMemMap`, `hipMemSetAccess`) and
//!    exports it (`hipMemExportToShareableHandle`);
//! 3. Vulkan imports the fd into a buffer (`VkImportMemoryFdInfoKHR`), and from then on
//!    owns that fd;
//! 4. the HIP kernel writes the heights through HIP's own pointer; the CPU waits for it
//!    (the `host` hand-over, which AMD on Linux can do too);
//! 5. Vulkan takes the buffer from the external queue family and copies it to the host;
//! 6. the heights are compared with the CPU formula in `f64`.
//!
//! Run: `cargo run --release --example hip_owned_memory` (on NVIDIA, after
//! `scripts/build-nvidia.sh target/release/examples`). Needs CUDA (through the shim) or
//! ROCm 6.2 or newer; otherwise it says why and exits with status 2.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use ash::vk;
use hip_vulkan_sinewave::app::kernel_files;
use hip_vulkan_sinewave::hip;
use hip_vulkan_sinewave::interop::hip_heights::{launch_sinewave, HipSetup};
use hip_vulkan_sinewave::interop::hip_slots::HipSlots;
use hip_vulkan_sinewave::sinewave;
use hip_vulkan_sinewave::vulkan::commands::CommandPool;
use hip_vulkan_sinewave::vulkan::memory::Buffer;
use hip_vulkan_sinewave::vulkan::{device, Device, Instance, InstanceOptions};

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 700;
const TIME: f32 = 2.5;

#[path = "common/mod.rs"]
mod common;

fn main() -> ExitCode {
    common::exit_code(run(), 1e-5)
}

fn run() -> Result<f64> {
    // 1. HIP first, then Vulkan on the device that is the same GPU.
    let hip_gpu = HipSetup::open()?;
    let hip = &hip_gpu.hip;
    println!("HIP: {} via {}", hip_gpu.gpu_name(), hip.library_path().display());
    let kernel = kernel_files::find_and_load(&hip_gpu, None)?;
    let instance = Arc::new(Instance::new(&InstanceOptions::default())?);
    let physical = device::choose(&device::enumerate(&instance)?, hip_gpu.vulkan_selection(None))?;
    let device = Device::new(instance, physical, None)?;

    // 2.–3. HIP's allocation, exported and imported into a Vulkan buffer.
    let (hip_slots, slots) = HipSlots::allocate_for_vulkan(hip, hip_gpu.device.ordinal, &device, WIDTH, HEIGHT, 1)?;

    // 4. The kernel writes through HIP's mapping; the CPU waits for it.
    let stream = hip::Stream::new(hip)?;
    // SAFETY: the pointer maps at least WIDTH×HEIGHT f32 and lives until the stream is
    // synchronised just below; Vulkan has not been given the buffer yet.
    unsafe { launch_sinewave(&kernel, &stream, hip_slots.slots[0].device_ptr(), WIDTH, HEIGHT, TIME) }?;
    stream.synchronize()?;

    // 5. Vulkan copies its view of the same memory to the host.
    let bytes = slots.slot_bytes();
    let mut readback = Buffer::host_visible(&device, bytes, vk::BufferUsageFlags::TRANSFER_DST, "readback")?;
    let (heights, readback_raw) = (slots.buffers[0].raw(), readback.raw());
    let pool = CommandPool::new(&device, vk::CommandPoolCreateFlags::empty())?;
    pool.run_once("reading HIP's memory through Vulkan", |cmd| {
        // SAFETY: `cmd` is recording; both buffers are of this device and outlive the
        // submission (run_once waits for it).
        unsafe { common::record_readback(&device, cmd, heights, readback_raw, bytes) }
    })?;

    // 6. Compare with the CPU formula.
    let heights = common::heights_in(&mut readback)?;
    let error = sinewave::max_abs_error(&heights, WIDTH, HEIGHT, TIME);
    println!("{WIDTH}x{HEIGHT} heights at t = {TIME} in HIP's memory, read by Vulkan: max abs error {error:.3e}");
    Ok(error)
    // Drop order (reverse of declaration): the pool and readback, the stream, then Vulkan's
    // import (`slots`) and HIP's allocation (`hip_slots`): either may go first, since each
    // holds its own reference to the memory (src/hip/virtual_memory.rs).
}
