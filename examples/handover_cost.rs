//! What one hand-over between HIP and Vulkan costs the GPU, measured with nothing else
//! running: a minimal reproduction of the "handover tax" in BENCHMARKS.md, short enough
//! to send to a driver vendor.
//!
//! Two timeline semaphores are exported from Vulkan and imported into HIP. The work on
//! each side is as small as it gets: a 64×64 sinewave kernel on a HIP stream, a 4-byte
//! `vkCmdFillBuffer` on the Vulkan queue. Each case queues `N` iterations up front, then
//! waits for both APIs; the time per iteration is printed:
//!
//! - `vulkan alone`: N fills, no semaphore;
//! - `hip alone`: N kernels, no semaphore;
//! - `ping-pong`: HIP waits `draw ≥ i`, runs the kernel, signals `sim = i+1`; Vulkan waits
//!   `sim ≥ i+1`, fills, signals `draw = i+1`: the GPU switches between the APIs twice per
//!   iteration;
//! - `ping-pong, no work`: the same semaphore operations without kernel or fill;
//! - `hip → vulkan only`: HIP runs the kernel and signals `sim = i+1` without waiting;
//!   Vulkan waits `sim ≥ i+1`, fills: a dependency one way only;
//! - `vulkan → hip only`: Vulkan fills and signals `draw = i+1`; HIP waits `draw ≥ i+1`,
//!   runs the kernel: the other way only;
//! - `waits already met`: HIP signals `sim = 1..=N` first (and is waited for); then Vulkan
//!   runs N fills, each waiting on a `sim` value already reached: semaphore waits without
//!   switching back and forth;
//! - `host hand-over`: no semaphore; the CPU waits for each kernel, then submits the fill
//!   and waits for its fence (the demo's `--sync host`).
//!
//! Run: `cargo run --release --example handover_cost` (on NVIDIA, after
//! `scripts/build-nvidia.sh target/release/examples`). Needs a HIP runtime that imports
//! semaphores (CUDA through the NVIDIA shim); without one it says so and exits with 2.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use ash::vk;
use hip_vulkan_sinewave::hip;
use hip_vulkan_sinewave::interop::hip_heights::{launch_sinewave, HipSetup};
use hip_vulkan_sinewave::interop::sync::timeline::TimelineSemaphores;
use hip_vulkan_sinewave::vulkan::commands::CommandPool;
use hip_vulkan_sinewave::vulkan::memory::Buffer;
use hip_vulkan_sinewave::vulkan::sync::Fence;
use hip_vulkan_sinewave::vulkan::{device, Device, Instance, InstanceOptions};

/// Iterations per case.
const N: u64 = 2000;
/// Side of the kernel's grid.
const SIDE: u32 = 64;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Everything the cases use.
struct Rig {
    device: Arc<Device>,
    stream: hip::Stream,
    kernel: hip::Function,
    heights: hip::DeviceBuffer,
    semaphores: TimelineSemaphores,
    /// One command buffer recording the fill, submitted many times.
    fill: vk::CommandBuffer,
    /// Values already used on each semaphore: every case starts above them.
    base: u64,
    _pool: CommandPool,
    _target: Buffer,
}

fn run() -> Result<()> {
    let setup = HipSetup::open()?;
    let hip = &setup.hip;
    if !hip.imports_semaphores() {
        bail!("{}; this measurement needs semaphores", hip_vulkan_sinewave::interop::sync::NO_SEMAPHORE_IMPORT);
    }
    let instance = Arc::new(Instance::new(&InstanceOptions::default())?);
    let physical = device::choose(&device::enumerate(&instance)?, setup.vulkan_selection(None))?;
    println!("HIP: {} via {}", setup.gpu_name(), hip.library_path().display());
    println!("Vulkan: {}", physical.name);
    let device = Device::new(instance, physical, None)?;

    let target = Buffer::device_local(&device, 256, vk::BufferUsageFlags::TRANSFER_DST, "fill target")?;
    let pool = CommandPool::new(&device, vk::CommandPoolCreateFlags::empty())?;
    let fill = pool.allocate(1)?[0];
    // SAFETY: `fill` is a fresh primary command buffer of this device; `target` outlives
    // every submission of it (the rig holds both and idles the device before dropping).
    unsafe {
        let begin = vk::CommandBufferBeginInfo::default().flags(vk::CommandBufferUsageFlags::SIMULTANEOUS_USE);
        device.raw().begin_command_buffer(fill, &begin).context("vkBeginCommandBuffer")?;
        device.raw().cmd_fill_buffer(fill, target.raw(), 0, 4, 0x3f80_0000);
        device.raw().end_command_buffer(fill).context("vkEndCommandBuffer")?;
    }
    let rig = Rig {
        stream: hip::Stream::new(hip)?,
        // The demo's kernel search: beside the binary, else the embedded one.
        kernel: hip_vulkan_sinewave::app::kernel_files::find_and_load(&setup, None)?,
        heights: hip::DeviceBuffer::new(hip, (SIDE * SIDE * 4) as usize)?,
        semaphores: TimelineSemaphores::new(hip, &device)?,
        device,
        fill,
        base: 0,
        _pool: pool,
        _target: target,
    };
    measure(rig)
}

fn measure(mut rig: Rig) -> Result<()> {
    // Warm-up: one of each, so first-use costs stay out of the numbers.
    for case in CASES {
        (case.run)(&mut rig, 20)?;
    }
    println!("{N} iterations per case, time per iteration:");
    let mut results = Vec::new();
    for case in CASES {
        let us = (case.run)(&mut rig, N)? * 1e6 / N as f64;
        println!("  {:<20} {us:8.1} µs", case.name);
        results.push(us);
    }
    let alone = results[0] + results[1];
    println!(
        "ping-pong − (vulkan alone + hip alone) = {:.1} µs per iteration, i.e. {:.1} µs per switch between the APIs",
        results[2] - alone,
        (results[2] - alone) / 2.0
    );
    rig.device.wait_idle()?;
    rig.stream.synchronize()?;
    Ok(())
}

/// A case queues `n` iterations, waits for them, and returns the seconds they took.
struct Case {
    name: &'static str,
    run: fn(&mut Rig, u64) -> Result<f64>,
}

const CASES: [Case; 8] = [
    Case { name: "vulkan alone", run: vulkan_alone },
    Case { name: "hip alone", run: hip_alone },
    Case { name: "ping-pong", run: |rig, n| ping_pong(rig, n, true) },
    Case { name: "ping-pong, no work", run: |rig, n| ping_pong(rig, n, false) },
    Case { name: "hip → vulkan only", run: hip_to_vulkan },
    Case { name: "vulkan → hip only", run: vulkan_to_hip },
    Case { name: "waits already met", run: waits_already_met },
    Case { name: "host hand-over", run: host_handover },
];

impl Rig {
    /// Submits the fill (or nothing), waiting on `sim ≥ wait` and signalling `draw = signal`
    /// where given.
    fn submit(&self, work: bool, wait: Option<u64>, signal: Option<u64>, fence: vk::Fence) -> Result<()> {
        let ((_, sim), (_, draw)) = (self.semaphores.get(true), self.semaphores.get(false));
        let info = |semaphore: vk::Semaphore, value: Option<u64>| -> Vec<vk::SemaphoreSubmitInfo<'static>> {
            let stage = vk::PipelineStageFlags2::ALL_COMMANDS;
            value
                .map(|v| vk::SemaphoreSubmitInfo::default().semaphore(semaphore).value(v).stage_mask(stage))
                .into_iter()
                .collect()
        };
        let (waits, signals) = (info(sim, wait), info(draw, signal));
        let cmds = [vk::CommandBufferSubmitInfo::default().command_buffer(self.fill)];
        let mut submit = vk::SubmitInfo2::default().wait_semaphore_infos(&waits).signal_semaphore_infos(&signals);
        if work {
            submit = submit.command_buffer_infos(&cmds);
        }
        let queue = self.device.queue();
        // SAFETY: the fill buffer is executable and may be pending several times
        // (SIMULTANEOUS_USE); the semaphores are live timeline semaphores of this device
        // whose values only grow; the queue is locked.
        unsafe { self.device.raw().queue_submit2(*queue, &[submit], fence) }.context("vkQueueSubmit2")
    }

    fn kernel(&self) -> Result<()> {
        // SAFETY: `heights` holds SIDE×SIDE f32 and outlives the stream's work (the rig
        // synchronises the stream before it drops).
        unsafe { launch_sinewave(&self.kernel, &self.stream, self.heights.device_ptr(), SIDE, SIDE, 0.5) }
    }

    /// Waits for both APIs to finish what was queued.
    fn finish(&self) -> Result<()> {
        self.stream.synchronize()?;
        self.device.wait_idle()
    }
}

fn vulkan_alone(rig: &mut Rig, n: u64) -> Result<f64> {
    let started = Instant::now();
    for _ in 0..n {
        rig.submit(true, None, None, vk::Fence::null())?;
    }
    rig.finish()?;
    Ok(started.elapsed().as_secs_f64())
}

fn hip_alone(rig: &mut Rig, n: u64) -> Result<f64> {
    let started = Instant::now();
    for _ in 0..n {
        rig.kernel()?;
    }
    rig.finish()?;
    Ok(started.elapsed().as_secs_f64())
}

fn ping_pong(rig: &mut Rig, n: u64, work: bool) -> Result<f64> {
    let started = Instant::now();
    let base = rig.base;
    let ((sim, _), (draw, _)) = (rig.semaphores.get(true), rig.semaphores.get(false));
    for i in 0..n {
        let v = base + i;
        rig.stream.wait_external_semaphores(&[(draw, v)])?;
        if work {
            rig.kernel()?;
        }
        rig.stream.signal_external_semaphores(&[(sim, v + 1)])?;
        // Timeline semaphores allow a wait submitted before its signal.
        rig.submit(work, Some(v + 1), Some(v + 1), vk::Fence::null())?;
    }
    rig.base = base + n;
    rig.finish()?;
    Ok(started.elapsed().as_secs_f64())
}

fn hip_to_vulkan(rig: &mut Rig, n: u64) -> Result<f64> {
    let started = Instant::now();
    let base = rig.base;
    let (sim, _) = rig.semaphores.get(true);
    for i in 0..n {
        rig.kernel()?;
        rig.stream.signal_external_semaphores(&[(sim, base + i + 1)])?;
        // Signal `draw` too, so both semaphores stay level for the next case.
        rig.submit(true, Some(base + i + 1), Some(base + i + 1), vk::Fence::null())?;
    }
    rig.base = base + n;
    rig.finish()?;
    Ok(started.elapsed().as_secs_f64())
}

fn vulkan_to_hip(rig: &mut Rig, n: u64) -> Result<f64> {
    let started = Instant::now();
    let base = rig.base;
    let ((sim, _), (draw, _)) = (rig.semaphores.get(true), rig.semaphores.get(false));
    for i in 0..n {
        rig.submit(true, None, Some(base + i + 1), vk::Fence::null())?;
        rig.stream.wait_external_semaphores(&[(draw, base + i + 1)])?;
        rig.kernel()?;
        rig.stream.signal_external_semaphores(&[(sim, base + i + 1)])?;
    }
    rig.base = base + n;
    rig.finish()?;
    Ok(started.elapsed().as_secs_f64())
}

fn waits_already_met(rig: &mut Rig, n: u64) -> Result<f64> {
    let base = rig.base;
    let (sim, _) = rig.semaphores.get(true);
    for i in 0..n {
        rig.stream.signal_external_semaphores(&[(sim, base + i + 1)])?;
    }
    rig.stream.synchronize()?;
    // Timed: only Vulkan's fills, each waiting on a value HIP reached before.
    let started = Instant::now();
    for i in 0..n {
        rig.submit(true, Some(base + i + 1), None, vk::Fence::null())?;
    }
    rig.device.wait_idle()?;
    let seconds = started.elapsed().as_secs_f64();
    // Keep `draw` level with `sim` for the next case.
    rig.submit(false, None, Some(base + n), vk::Fence::null())?;
    rig.base = base + n;
    rig.finish()?;
    Ok(seconds)
}

fn host_handover(rig: &mut Rig, n: u64) -> Result<f64> {
    let fence = Fence::new(&rig.device, false)?;
    let started = Instant::now();
    for _ in 0..n {
        rig.kernel()?;
        rig.stream.synchronize()?;
        rig.submit(true, None, None, fence.raw())?;
        fence.wait(u64::MAX)?;
        fence.reset()?;
    }
    rig.finish()?;
    Ok(started.elapsed().as_secs_f64())
}
