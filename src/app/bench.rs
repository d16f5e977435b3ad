//! `--bench`: every mode, grid size and frame count in flight in one process, offscreen
//! and present-free, so the ratios between them are fair. Prints a table, writes JSON.
//!
//! Per configuration: warm-up frames, then timed frames (up to a time cap). For each timed
//! frame the renderer reports the GPU's stage times once the frame has completed:
//! the kernel (HIP events; timestamps for the Vulkan compute baseline), the transfers of
//! the copy path, and the draw (Vulkan timestamps). Frame time is the CPU interval between
//! successive frames; frames/s is frames over the wall time of the timed window.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use ash::vk;
use serde::Serialize;

use crate::app::camera::OrbitCamera;
use crate::app::clock::{AnimationClock, TimeSource};
use crate::app::heights::hip_copy::HipCopyHeights;
use crate::app::heights::vulkan_compute::ComputeHeights;
use crate::app::kernel_files::KernelImage;
use crate::app::renderer::{FrameTimings, Presentation, Renderer, RendererOptions};
use crate::app::stats::median_p99;
use crate::hip;
use crate::interop::hip_heights::{launch_sinewave, HipHeights, HipSetup};
use crate::interop::hip_slots::MemoryOwner;
use crate::interop::source::HeightSource;
use crate::interop::sync::SyncRequest;
use crate::vulkan::DeviceSelection;

/// What `--bench` compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BenchMode {
    /// HIP kernel, zero-copy, timeline semaphores.
    Timeline,
    /// HIP kernel, zero-copy, binary semaphores.
    Binary,
    /// HIP kernel, zero-copy, CPU waits on HIP events.
    Host,
    /// HIP kernel, zero-copy, one buffer, strictly alternating (the ROCm docs' scheme).
    Serial,
    /// HIP kernel into HIP memory, heights through host memory, Vulkan upload.
    Copy,
    /// As timeline, but HIP allocates the height buffers (hipMemCreate) and Vulkan imports
    /// them (`--memory-owner hip`).
    HipMemory,
    /// As timeline, and HIP also writes each frame's shading image (normals), which the
    /// fragment shader samples (`--shading image`).
    Image,
    /// HIP kernel, zero-copy, no semaphores: the CPU waits once per burst, HIP's stream
    /// waits on the GPU for a counter Vulkan writes after each draw.
    StreamWait,
    /// A Vulkan compute shader, no HIP.
    Vulkan,
}

/// Whether the benchmark draws the overlay (`--bench-overlay`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchOverlay {
    /// No overlay (the default: the numbers are the interop's).
    Off,
    /// The overlay drawn in every frame, as in the window.
    On,
}

/// How the benchmark advances animation time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BenchTime {
    /// A fixed step of 1/60 s per frame: every frame's time is known in advance.
    Fixed,
    /// The wall clock, as the window runs: times of frames ahead are predicted
    /// (src/app/clock.rs).
    Wall,
}

impl BenchMode {
    /// The name `--bench-modes` takes and the table and JSON show (`hip-memory`).
    pub fn name(self) -> String {
        use clap::ValueEnum;
        self.to_possible_value().map_or_else(|| format!("{self:?}").to_lowercase(), |v| v.get_name().to_string())
    }

    /// Run-ahead values this mode is measured with at `k` frames in flight.
    fn run_ahead(self, requested: &[u32], k: u32) -> Vec<u32> {
        match self {
            // Timeline: any burst (more frames than K add height buffers); binary hands
            // each frame over on its own, so only bursts within K are measured.
            BenchMode::Timeline | BenchMode::HipMemory | BenchMode::Image | BenchMode::StreamWait => requested.to_vec(),
            BenchMode::Binary => requested.iter().copied().filter(|&r| r <= k).collect(),
            _ => vec![1],
        }
    }

    fn needs_hip(self) -> bool {
        self != BenchMode::Vulkan
    }

    /// Frames in flight this mode is measured with (from the requested list).
    fn frames_in_flight(self, requested: &[u32]) -> Vec<u32> {
        match self {
            BenchMode::Serial => vec![1],
            BenchMode::Copy => vec![2],
            _ => requested.to_vec(),
        }
    }
}

/// One (mode, grid, frames in flight) result. Times in milliseconds, medians over the
/// timed frames.
#[derive(Clone, Debug, Serialize)]
pub struct Record {
    pub mode: BenchMode,
    /// Fixed time step or the wall clock.
    pub time: BenchTime,
    /// Grid side (the grid is side × side).
    pub grid: u32,
    pub frames_in_flight: u32,
    /// Frames HIP writes per wake-up (timeline/binary; 1 elsewhere).
    pub run_ahead: u32,
    pub frames: usize,
    pub fps: f64,
    pub frame_ms_median: f64,
    pub frame_ms_p99: f64,
    /// Writing the heights: the HIP kernel (HIP events) or the compute shader (timestamps).
    pub kernel_ms: f64,
    /// Copy path only: device→host + CPU copy (host clock) + Vulkan upload (timestamps).
    pub transfer_ms: f64,
    /// The draw (Vulkan timestamps; includes any wait for a semaphore still unsignalled).
    pub draw_ms: f64,
    /// Kernel start → heights in the buffer the draw reads: kernel (+ transfers for copy).
    pub deliver_ms: f64,
    /// What is left of the frame: frame − kernel − transfer − draw, ≥ 0 (synchronisation,
    /// CPU; near 0 where kernel and draw overlap).
    pub other_ms: f64,
    /// Wall clock only: 99th percentile of |frame time given − wall clock when the frame
    /// was rendered| (what run-ahead's prediction costs in animation accuracy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_error_ms_p99: Option<f64>,
    /// The overlay was drawn in every frame (`--bench-overlay on`); absent when not.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub overlay: bool,
}

/// The kernel alone against a device-to-device copy of the same size, same run.
#[derive(Clone, Debug, Serialize)]
pub struct KernelRecord {
    pub mode: &'static str,
    pub grid: u32,
    pub kernel_ms: f64,
    /// Bytes written by the kernel over its time, GB/s (10^9).
    pub kernel_gbps: f64,
    pub copy_ms: f64,
    /// Bytes read + written by `hipMemcpy` device→device over its time, GB/s.
    pub copy_gbps: f64,
}

/// Everything `--bench` was asked for.
#[derive(Clone, Debug)]
pub struct BenchPlan {
    /// `--kernel FILE`, if given.
    pub kernel: Option<std::path::PathBuf>,
    /// The Khronos validation layer on (`--validation`).
    pub validation: bool,
    /// `--device N`, if given.
    pub device: Option<usize>,
    pub modes: Vec<BenchMode>,
    pub grids: Vec<u32>,
    pub frames_in_flight: Vec<u32>,
    pub run_ahead: Vec<u32>,
    pub times: Vec<BenchTime>,
    /// Overlay off and/or on (`--bench-overlay`).
    pub overlays: Vec<bool>,
    pub warmup: u64,
    pub frames: u64,
    pub max_seconds: f64,
    pub size: vk::Extent2D,
}

/// Number of open file descriptors of this process (Linux), to watch for leaks.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

fn median(mut values: Vec<f64>) -> f64 {
    median_p99(&mut values).0
}

/// Runs the whole plan; returns per-configuration records and the kernel record.
pub fn run(plan: &BenchPlan) -> Result<(Vec<Record>, Option<KernelRecord>)> {
    let hip = if plan.modes.iter().any(|m| m.needs_hip()) {
        let explicit = plan.kernel.as_deref().map(KernelImage::from_cli).transpose()?;
        let setup = HipSetup::open()?;
        let kernel = crate::app::kernel_files::find_and_load(&setup, explicit)?;
        Some((setup, kernel))
    } else {
        None
    };
    let mut configs = Vec::new();
    for &time in &plan.times {
        for &grid in &plan.grids {
            for &mode in &plan.modes {
                for k in mode.frames_in_flight(&plan.frames_in_flight) {
                    for run_ahead in mode.run_ahead(&plan.run_ahead, k) {
                        for &overlay in &plan.overlays {
                            configs.push(Config { mode, time, grid, k, run_ahead, overlay });
                        }
                    }
                }
            }
        }
    }
    let mut records = Vec::new();
    // One Vulkan device for every configuration (see Renderer::offscreen_on).
    let mut shared = None;
    for (i, &config) in configs.iter().enumerate() {
        let Config { mode, time, grid, k, run_ahead, overlay } = config;
        let label = format!(
            "[{}/{}] {mode:?}{} {time:?} time {grid}² K={k} run-ahead {run_ahead}",
            i + 1,
            configs.len(),
            if overlay { " + overlay" } else { "" }
        );
        let record =
            run_one(plan, hip.as_ref(), config, &label, &mut shared).with_context(|| format!("benchmark {label}"))?;
        let Some(record) = record else {
            eprintln!();
            log::warn!("interrupted during {label}: it is left out; {} configurations finished", records.len());
            return Ok((records, None));
        };
        eprintln!(
            "\r{label}: {:.0} frames/s, frame {:.3} ms (p99 {:.3}), kernel {:.3}, draw {:.3}, deliver {:.3} ms          ",
            record.fps, record.frame_ms_median, record.frame_ms_p99, record.kernel_ms, record.draw_ms, record.deliver_ms
        );
        records.push(record);
        log::info!("open file descriptors after {label}: {}", open_fds());
    }
    let kernel = match &hip {
        Some((setup, kernel)) => {
            let side = plan.grids.iter().copied().max().unwrap_or(4096).min(4096);
            Some(kernel_bandwidth(setup, kernel, side)?)
        }
        None => None,
    };
    Ok((records, kernel))
}

/// One configuration of the plan.
#[derive(Clone, Copy, Debug)]
struct Config {
    mode: BenchMode,
    time: BenchTime,
    grid: u32,
    k: u32,
    run_ahead: u32,
    overlay: bool,
}

fn run_one(
    plan: &BenchPlan,
    hip: Option<&(HipSetup, hip::Function)>,
    Config { mode, time, grid, k, run_ahead, overlay }: Config,
    label: &str,
    shared: &mut Option<std::sync::Arc<crate::vulkan::Device>>,
) -> Result<Option<Record>> {
    let options = RendererOptions {
        grid_width: grid,
        grid_height: grid,
        frames_in_flight: k,
        extra_height_slots: run_ahead.saturating_sub(k),
        validation: plan.validation,
        device: match (hip, plan.device) {
            (_, Some(i)) => DeviceSelection::Index(i),
            (Some((setup, _)), None) => setup.vulkan_selection(None),
            (None, None) => DeviceSelection::Best,
        },
        present_mode: vk::PresentModeKHR::IMMEDIATE,
        gpu_timing: true,
        shading_images: mode == BenchMode::Image,
    };
    let mut renderer = match shared.as_ref() {
        Some(device) => Renderer::offscreen_on(device, &options, plan.size)?,
        None => Renderer::new(&options, Presentation::Offscreen { extent: plan.size })?,
    };
    if shared.is_none() {
        *shared = Some(renderer.device().clone());
    }
    let source: Box<dyn HeightSource> = match (mode, hip) {
        (BenchMode::Vulkan, _) => Box::new(ComputeHeights::new(renderer.device(), renderer.slots())?),
        (BenchMode::Copy, Some((setup, kernel))) => {
            Box::new(HipCopyHeights::new(setup, renderer.device(), renderer.slots(), kernel.clone())?)
        }
        (m, Some((setup, kernel))) => {
            let owner = if m == BenchMode::HipMemory { MemoryOwner::Hip } else { MemoryOwner::Vulkan };
            let hip_slots = crate::app::heights::hip_slots_for(&mut renderer, setup, owner)?;
            let request = match m {
                BenchMode::Timeline | BenchMode::HipMemory | BenchMode::Image => SyncRequest::Timeline,
                BenchMode::Binary => SyncRequest::Binary,
                BenchMode::Host => SyncRequest::Host,
                BenchMode::StreamWait => SyncRequest::StreamWait,
                _ => SyncRequest::Serial,
            };
            let mut source =
                HipHeights::with_slots(setup, renderer.device(), renderer.slots(), hip_slots, request, kernel.clone())?;
            if let Some(images) = &renderer.slots().normals {
                source.add_normals(images, false)?;
            }
            Box::new(source.with_timing()?.with_run_ahead(run_ahead as usize)?)
        }
        (m, None) => bail!("{m:?} needs HIP"),
    };
    renderer.set_height_source(source)?;
    if overlay {
        let mut panel =
            crate::app::overlay::Overlay::new(renderer.device(), renderer.color_format(), renderer.frames_in_flight())?;
        panel.set_info(vec![format!("benchmark: {}", mode.name()), format!("heights: {}", renderer.source_name())]);
        renderer.set_overlay(Box::new(panel))?;
    }

    let camera = OrbitCamera::default();
    let mut clock = AnimationClock::new(match time {
        BenchTime::Fixed => TimeSource::Step { start: 0.0, step: 1.0 / 60.0 },
        BenchTime::Wall => TimeSource::Wall { start: 0.0 },
    });
    let warmup_started = Instant::now();
    for f in 0..plan.warmup {
        if crate::app::interrupt::pending().is_some() {
            return Ok(None);
        }
        renderer.render(&mut clock, &camera)?;
        // Large grids: a second of warm-up is plenty.
        if f >= 10 && warmup_started.elapsed() > Duration::from_secs(1) {
            break;
        }
    }
    renderer.device().wait_idle()?;

    let first_timed = renderer.frames_rendered();
    let mut intervals = Vec::new();
    let mut stages: Vec<FrameTimings> = Vec::new();
    let started = Instant::now();
    let mut last = started;
    let mut last_progress = started;
    let cap = Duration::from_secs_f64(plan.max_seconds);
    let mut timed = 0u64;
    while timed < plan.frames && (timed < 30 || started.elapsed() < cap) {
        if crate::app::interrupt::pending().is_some() {
            return Ok(None);
        }
        renderer.render(&mut clock, &camera)?;
        let now = Instant::now();
        intervals.push(now.duration_since(last).as_secs_f64() * 1e3);
        last = now;
        timed += 1;
        if let Some(t) = renderer.completed_timings() {
            if t.frame >= first_timed && stages.last().is_none_or(|s| s.frame != t.frame) {
                stages.push(t);
            }
        }
        if now.duration_since(last_progress) > Duration::from_millis(500) {
            eprint!("\r{label}: frame {timed}/{}   ", plan.frames);
            last_progress = now;
        }
    }
    renderer.device().wait_idle()?;
    let elapsed = started.elapsed().as_secs_f64();
    let (frame_ms_median, frame_ms_p99) = median_p99(&mut intervals);
    let clock_error_ms_p99 = match time {
        BenchTime::Fixed => None,
        BenchTime::Wall => {
            let errors = clock.prediction_errors();
            let mut timed_errors: Vec<f64> =
                errors[errors.len().saturating_sub(intervals.len())..].iter().map(|e| e.abs() * 1e3).collect();
            Some(median_p99(&mut timed_errors).1)
        }
    };

    let pick = |f: fn(&FrameTimings) -> Option<f64>| median(stages.iter().filter_map(f).collect());
    let draw_ms = pick(|t| t.draw_ms);
    let vk_heights = pick(|t| t.vulkan_heights_ms);
    let (kernel_ms, transfer_ms) = match mode {
        BenchMode::Vulkan => (vk_heights, 0.0),
        BenchMode::Copy => (pick(|t| t.source.kernel_ms), pick(|t| t.source.transfer_ms) + vk_heights),
        _ => (pick(|t| t.source.kernel_ms), 0.0),
    };
    let deliver_ms = kernel_ms + transfer_ms;
    let other_ms = (frame_ms_median - kernel_ms - transfer_ms - draw_ms).max(0.0);
    let (errors, warnings) = renderer.validation_counts();
    drop(renderer);
    if errors + warnings > 0 {
        bail!("the validation layer reported {errors} errors and {warnings} warnings");
    }
    Ok(Some(Record {
        overlay,
        mode,
        time,
        grid,
        frames_in_flight: k,
        run_ahead,
        frames: intervals.len(),
        fps: timed as f64 / elapsed,
        frame_ms_median,
        frame_ms_p99,
        kernel_ms,
        transfer_ms,
        draw_ms,
        deliver_ms,
        other_ms,
        clock_error_ms_p99,
    }))
}

/// The kernel alone at `side`², back to back, against `hipMemcpy` device→device of the
/// same bytes: achieved bandwidth of each, from HIP events.
pub fn kernel_bandwidth(setup: &HipSetup, function: &hip::Function, side: u32) -> Result<KernelRecord> {
    const REPEATS: u32 = 50;
    let hip = &setup.hip;
    let bytes = u64::from(side) * u64::from(side) * 4;
    let stream = hip::Stream::new(hip)?;
    let target = hip::DeviceBuffer::new(hip, bytes as usize)?;
    let mut copy_dst = hip::DeviceBuffer::new(hip, bytes as usize)?;
    let (start, end) = (hip::Event::new(hip, true)?, hip::Event::new(hip, true)?);

    let launch = |time: f32| -> Result<()> {
        // SAFETY: `target` holds side² f32 and outlives the stream's work (synchronised
        // below before it drops); only this stream uses it.
        unsafe { launch_sinewave(function, &stream, target.device_ptr(), side, side, time) }
    };
    let time_it = |what: &mut dyn FnMut(u32) -> Result<()>| -> Result<f64> {
        what(0)?; // warm-up
        stream.synchronize()?;
        start.record(&stream)?;
        for i in 0..REPEATS {
            what(i)?;
        }
        end.record(&stream)?;
        end.synchronize()?;
        Ok(f64::from(hip::Event::elapsed_ms(&start, &end)?) / f64::from(REPEATS))
    };
    let kernel_ms = time_it(&mut |i| launch(i as f32 * 0.01))?;
    let src = target.device_ptr();
    // SAFETY: both buffers hold `bytes` bytes and outlive the synchronised copies.
    let copy_ms = time_it(&mut |_| Ok(unsafe { copy_dst.copy_from_device_async(&stream, src, bytes as usize) }?))?;
    stream.synchronize()?;
    let gbps = |b: f64, ms: f64| b / (ms * 1e-3) / 1e9;
    Ok(KernelRecord {
        mode: "kernel",
        grid: side,
        kernel_ms,
        kernel_gbps: gbps(bytes as f64, kernel_ms),
        copy_ms,
        copy_gbps: gbps(2.0 * bytes as f64, copy_ms),
    })
}

/// The results as a Markdown table.
pub fn table(records: &[Record], kernel: Option<&KernelRecord>) -> String {
    let mut out = String::from(
        "| mode | time | grid | K | run-ahead | frames/s | frame ms (median) | frame ms (p99) | kernel ms | transfer ms | draw ms | deliver ms | other ms | clock error ms (p99) |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in records {
        out += &format!(
            "| {} | {} | {}² | {} | {} | {:.0} | {:.3} | {:.3} | {:.4} | {:.3} | {:.3} | {:.4} | {:.3} | {} |\n",
            r.mode.name() + if r.overlay { " + overlay" } else { "" },
            format!("{:?}", r.time).to_lowercase(),
            r.grid,
            r.frames_in_flight,
            r.run_ahead,
            r.fps,
            r.frame_ms_median,
            r.frame_ms_p99,
            r.kernel_ms,
            r.transfer_ms,
            r.draw_ms,
            r.deliver_ms,
            r.other_ms,
            r.clock_error_ms_p99.map_or("—".to_string(), |e| format!("{e:.3}")),
        );
    }
    if let Some(k) = kernel {
        out += &format!(
            "\nkernel alone at {}²: {:.4} ms, {:.0} GB/s written; hipMemcpy device→device: {:.4} ms, {:.0} GB/s read+written; ratio {:.2}\n",
            k.grid,
            k.kernel_ms,
            k.kernel_gbps,
            k.copy_ms,
            k.copy_gbps,
            k.kernel_gbps / k.copy_gbps
        );
    }
    out
}

/// Writes the records (and the kernel record) as one JSON array.
pub fn write_json(path: &Path, records: &[Record], kernel: Option<&KernelRecord>) -> Result<()> {
    let mut values: Vec<serde_json::Value> = records.iter().map(serde_json::to_value).collect::<Result<_, _>>()?;
    if let Some(k) = kernel {
        values.push(serde_json::to_value(k)?);
    }
    let text = serde_json::to_string_pretty(&values)?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_and_copy_have_fixed_frames_in_flight() {
        assert_eq!(BenchMode::Serial.frames_in_flight(&[1, 2, 3]), vec![1]);
        assert_eq!(BenchMode::Copy.frames_in_flight(&[1, 2, 3]), vec![2]);
        assert_eq!(BenchMode::Timeline.frames_in_flight(&[1, 3]), vec![1, 3]);
    }
}
