//! HIP writing a Vulkan image, in one file:
//!
//! 1. open HIP and Vulkan on the same GPU;
//! 2. create an RGBA16F image in Vulkan whose dedicated memory can be exported as an
//!    `OPAQUE_FD` (`NormalImages`; it rests in `GENERAL`, owned by the external family);
//! 3. hand it to HIP: imported with `hipImportExternalMemory`, mapped with
//!    `hipExternalMemoryGetMappedMipmappedArray`, level 0 from `hipGetMipmappedArrayLevel`,
//!    written by a kernel through a surface object (`HipNormals`). Where the runtime cannot
//!    map images (ROCm on Linux), HIP writes a buffer that Vulkan copies into the image;
//!    the example says which it did;
//! 4. the CPU waits for HIP, then Vulkan acquires the image (or copies into it) and copies
//!    it to host memory;
//! 5. the texels are compared with the CPU's normals in `f64` (RGBA16F: within 1e-3).
//!
//! Run: `cargo run --release --example hip_image` (on NVIDIA, after
//! `scripts/build-nvidia.sh target/release/examples`).

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use ash::vk;
use hip_vulkan_sinewave::app::kernel_files;
use hip_vulkan_sinewave::hip;
use hip_vulkan_sinewave::interop::hip_heights::HipSetup;
use hip_vulkan_sinewave::interop::hip_normals::HipNormals;
use hip_vulkan_sinewave::interop::normal_images::NormalImages;
use hip_vulkan_sinewave::sinewave;
use hip_vulkan_sinewave::vulkan::commands::CommandPool;
use hip_vulkan_sinewave::vulkan::{device, Device, Instance, InstanceOptions};

const WIDTH: u32 = 800;
const HEIGHT: u32 = 600;
const TIME: f32 = 0.75;

#[path = "common/mod.rs"]
mod common;

fn main() -> ExitCode {
    common::exit_code(run(), 1e-3)
}

fn run() -> Result<f64> {
    // 1. HIP, then Vulkan on the same GPU.
    let hip_gpu = HipSetup::open()?;
    let kernel = kernel_files::find_and_load(&hip_gpu, None)?;
    let instance = Arc::new(Instance::new(&InstanceOptions::default())?);
    let physical = device::choose(&device::enumerate(&instance)?, hip_gpu.vulkan_selection(None))?;
    let device = Device::new(instance, physical, None)?;
    let pool = CommandPool::new(&device, vk::CommandPoolCreateFlags::empty())?;

    // 2. One exportable image.
    let images = NormalImages::new(&device, &pool, WIDTH, HEIGHT, 1, true)?;

    // 3. HIP's side of it, and the kernel writing it.
    let normals = HipNormals::new(&hip_gpu.hip, &device, &images, &kernel, false)?;
    println!("HIP writes the image: {} ({})", normals.mode(), hip_gpu.gpu_name());
    let stream = hip::Stream::new(&hip_gpu.hip)?;
    // SAFETY: Vulkan does not touch the image (or the copy buffer) until the stream is
    // synchronised just below.
    unsafe { normals.launch(&stream, 0, WIDTH, HEIGHT, TIME) }?;
    stream.synchronize()?;

    // 4. Vulkan makes the image readable (acquire, or copy), gives it back, reads it out.
    pool.run_once("taking the image from HIP", |cmd| {
        // SAFETY: recording; HIP's write is complete (the CPU waited); everything outlives
        // the submission (run_once waits).
        unsafe {
            normals.record_vulkan(&device, cmd, &images, 0);
            images.record_release(cmd, 0);
        }
    })?;
    let texels = images.read_back(&pool, 0)?;

    // 5. Compare with the CPU formula.
    let error = sinewave::max_normal_error(&texels, WIDTH, HEIGHT, TIME);
    println!(
        "{WIDTH}x{HEIGHT} RGBA16F normals at t = {TIME}, written by HIP, read by Vulkan: max abs error {error:.3e}"
    );
    Ok(error)
    // Drop order (reverse of declaration): the stream, HIP's side (surface, array and
    // import, or its buffers), the images, the pool, the device.
}
