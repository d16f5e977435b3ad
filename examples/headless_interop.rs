//! HIP–Vulkan interop in one file, on this crate's library (no window, no app):
//!
//! 1. open HIP: the runtime and its GPU;
//! 2. open Vulkan on the device that *is* that GPU (UUID, else PCI address);
//! 3. create an exportable height buffer in Vulkan and import it into HIP;
//! 4. create two exportable timeline semaphores and import them into HIP;
//! 5. HIP waits until Vulkan says the buffer is free, runs the kernel, signals;
//! 6. Vulkan waits for that signal, takes the buffer from the external queue family,
//!    copies it to host memory;
//! 7. the heights are compared with the CPU formula in `f64`.
//!
//! Run: `cargo run --release --example headless_interop` (on NVIDIA, after
//! `scripts/build-nvidia.sh target/release/examples`, which puts the HIP-on-CUDA runtime
//! and the kernel beside the example). Without a HIP GPU it says what is missing and exits
//! with status 2. The same flow with ash and the raw HIP functions only, for engines that
//! will not take this crate: `examples/raw_interop.rs`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use ash::vk;
use hip_vulkan_sinewave::hip;
use hip_vulkan_sinewave::interop::hip_heights::{launch_sinewave, HipSetup};
use hip_vulkan_sinewave::interop::hip_slots::HipSlots;
use hip_vulkan_sinewave::interop::sync::timeline::TimelineSemaphores;
use hip_vulkan_sinewave::interop::HeightSlots;
use hip_vulkan_sinewave::sinewave;
use hip_vulkan_sinewave::vulkan::commands::CommandPool;
use hip_vulkan_sinewave::vulkan::memory::Buffer;
use hip_vulkan_sinewave::vulkan::{device, Device, Instance, InstanceOptions};

const WIDTH: u32 = 1024;
const HEIGHT: u32 = 768;
const TIME: f32 = 1.25;

#[path = "common/mod.rs"]
mod common;

fn main() -> ExitCode {
    common::exit_code(run(), 1e-5)
}

fn run() -> Result<f64> {
    // 1. HIP first, so that Vulkan can pick the same GPU.
    let hip_gpu = HipSetup::open()?;
    let hip = &hip_gpu.hip;
    println!("HIP: {} via {}", hip_gpu.gpu_name(), hip.library_path().display());
    if !hip.imports_semaphores() {
        bail!(
            "{}; this example shows the semaphore hand-over (CUDA, through the NVIDIA shim). \
             The demo's `--sync host` is the path for AMD on Linux",
            hip_vulkan_sinewave::interop::sync::NO_SEMAPHORE_IMPORT
        );
    }
    let kernel = load_kernel(hip)?;

    // 2. Vulkan on the HIP device.
    let instance = Arc::new(Instance::new(&InstanceOptions::default())?);
    let physical = device::choose(&device::enumerate(&instance)?, hip_gpu.vulkan_selection(None))?;
    println!("Vulkan: {} (uuid {})", physical.name, device::uuid_string(&physical.uuid));
    let device = Device::new(instance, physical, None)?;

    // 3. One exportable height buffer, imported and mapped in HIP.
    let slots = HeightSlots::new(&device, WIDTH, HEIGHT, 1)?;
    let hip_slots = HipSlots::import(hip, &slots)?;

    // 4. Timeline semaphores: `sim` (HIP signals, Vulkan waits), `draw` (the reverse).
    let semaphores = TimelineSemaphores::new(hip, &device)?;
    let ((sim_hip, sim_vk), (draw_hip, draw_vk)) = (semaphores.get(true), semaphores.get(false));

    // 5. Vulkan says "the buffer is free" (draw = 1); HIP waits for it, writes, signals sim = 1.
    let pool = CommandPool::new(&device, vk::CommandPoolCreateFlags::empty())?;
    let signal_free = [vk::SemaphoreSubmitInfo::default().semaphore(draw_vk).value(1)];
    // SAFETY: `draw` is a live timeline semaphore of this device; signalling needs no wait.
    unsafe { pool.run_once_with("signalling 'buffer free'", &[], &signal_free, |_| {}) }?;
    let stream = hip::Stream::new(hip)?;
    stream.wait_external_semaphores(&[(draw_hip, 1)])?;
    // SAFETY: the mapped pointer holds WIDTH×HEIGHT f32 and lives until the stream is
    // synchronised below; Vulkan does not touch the buffer until `sim` reaches 1.
    unsafe { launch_sinewave(&kernel, &stream, hip_slots.slots[0].device_ptr(), WIDTH, HEIGHT, TIME) }?;
    stream.signal_external_semaphores(&[(sim_hip, 1)])?;

    // 6. Vulkan waits for sim ≥ 1 on the GPU, acquires the buffer, copies it to the host.
    let bytes = slots.slot_bytes();
    let mut readback = Buffer::host_visible(&device, bytes, vk::BufferUsageFlags::TRANSFER_DST, "readback")?;
    let wait_written =
        [vk::SemaphoreSubmitInfo::default().semaphore(sim_vk).value(1).stage_mask(vk::PipelineStageFlags2::COPY)];
    let (heights, readback_raw) = (slots.buffers[0].raw(), readback.raw());
    // SAFETY: `cmd` is recording; both buffers are of this device and outlive the
    // submission (run_once_with waits for it).
    let record = |cmd| unsafe { common::record_readback(&device, cmd, heights, readback_raw, bytes) };
    // SAFETY: `sim` is a live timeline semaphore of this device; HIP signals 1 once the
    // kernel is done (queued above).
    unsafe { pool.run_once_with("reading the heights back", &wait_written, &[], record) }?;
    stream.synchronize()?;

    // 7. Compare with the CPU formula.
    let heights = common::heights_in(&mut readback)?;
    let error = sinewave::max_abs_error(&heights, WIDTH, HEIGHT, TIME);
    println!("{WIDTH}x{HEIGHT} heights at t = {TIME}: max abs error {error:.3e} against the f64 reference");
    Ok(error)
    // Drop order (reverse of declaration): HIP's stream, the semaphores (HIP imports, then
    // Vulkan's), the HIP mapping and import, then the Vulkan buffer, pool and device.
    // Each drop that needs the GPU idle waits for it.
}

/// The kernel for this runtime's platform: `sinewave.fatbin` (NVIDIA) or `sinewave.co`
/// (AMD) beside the example, else the one build.rs embedded.
fn load_kernel(hip: &hip::Hip) -> Result<hip::Function> {
    let file = if hip.is_nvidia_shim() { "sinewave.fatbin" } else { "sinewave.co" };
    let beside = std::env::current_exe()?.with_file_name(file);
    let image = match std::fs::read(&beside) {
        Ok(bytes) => bytes,
        Err(_) if !hip::EMBEDDED_KERNEL.is_empty() => hip::EMBEDDED_KERNEL.to_vec(),
        Err(_) => bail!("no kernel: no {} and none embedded ({})", beside.display(), hip::EMBEDDED_KERNEL_DESCRIPTION),
    };
    let module = hip::Module::load_data(hip, &image).with_context(|| {
        format!("loading the kernel (is it for this GPU? on NVIDIA: scripts/build-nvidia.sh {})", dir_of(&beside))
    })?;
    Ok(module.function(hip::KERNEL_NAME)?)
}

fn dir_of(path: &std::path::Path) -> String {
    path.parent().map_or_else(|| ".".into(), |d| d.display().to_string())
}
