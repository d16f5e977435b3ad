//! Turns the command line into a running renderer with its height source. Shared by the
//! windowed and the headless paths.
//!
//! `--heights auto` (the default) takes the best source this machine can run and says
//! why each better one was passed over:
//! 1. **hip**: a HIP runtime loads and sees a GPU, a kernel for that GPU loads, a Vulkan
//!    device is that GPU, and its height slots import into HIP;
//! 2. **vulkan**: the same wave from a Vulkan compute shader (no HIP);
//! 3. **cpu**: the CPU reference through a staging upload.
//!
//! HIP is opened before Vulkan so that Vulkan can pick the same GPU. An explicit
//! `--heights hip|vulkan|cpu` is tried alone and fails loudly.

use anyhow::{Context, Result};

use crate::app::cli::{Cli, HeightsSource, MemoryOwnerArg, ShadingArg, SyncArg, MAX_RUN_AHEAD};
use crate::app::clock::TimeSource;
use crate::app::heights::cpu::CpuHeights;
use crate::app::heights::vulkan_compute::ComputeHeights;
use crate::app::kernel_files::{self, KernelImage};
use crate::app::renderer::{Presentation, Renderer, RendererOptions};
use crate::hip;
use crate::interop::hip_heights::{HipHeights, HipSetup};
use crate::interop::source::HeightSource;
use crate::interop::sync::SyncKind;
use crate::vulkan::DeviceSelection;

/// Frames in flight the run will use: `serial` has one buffer by definition.
pub fn frames_in_flight(cli: &Cli) -> u32 {
    let hip_possible = matches!(cli.heights, HeightsSource::Hip | HeightsSource::Auto);
    if hip_possible && cli.sync == SyncArg::Serial && cli.frames_in_flight != 1 {
        log::info!("--sync serial uses one height buffer: frames in flight 1 (not {})", cli.frames_in_flight);
        return 1;
    }
    cli.frames_in_flight
}

/// GPU memory the height slots that automatic run-ahead adds may take.
pub const RUN_AHEAD_MEMORY_BYTES: u64 = 64 << 20;

/// Frames HIP writes per hand-over when `--run-ahead` is not given and the timeline
/// strategy is possible: as many as fit in [`RUN_AHEAD_MEMORY_BYTES`] of height slots, up to
/// [`MAX_RUN_AHEAD`], and never fewer than the `k` frames in flight. Each hand-over costs
/// about 0.3 ms of GPU idle on the H100 however many frames it carries (BENCHMARKS.md), so
/// the longer the burst, the smaller the cost per frame; the animation clock bounds how
/// far ahead those frames are in time (`clock::WALL_CLOCK_HORIZON_S`).
pub fn auto_run_ahead(width: u32, height: u32, k: u32) -> u32 {
    let slot_bytes = (u64::from(width) * u64::from(height) * 4).max(1);
    let affordable = u32::try_from(RUN_AHEAD_MEMORY_BYTES / slot_bytes).unwrap_or(u32::MAX);
    affordable.min(MAX_RUN_AHEAD).max(k)
}

/// Frames HIP will write per hand-over: `--run-ahead`, else [`auto_run_ahead`] where the
/// timeline strategy can be chosen (HIP imports semaphores, `--sync auto|timeline`), else 1.
pub(crate) fn planned_run_ahead(cli: &Cli, hip: Option<&HipReady>, k: u32) -> u32 {
    match cli.run_ahead {
        Some(frames) => frames,
        None if hip.is_some_and(|h| h.setup.hip.imports_semaphores())
            && matches!(cli.sync, SyncArg::Auto | SyncArg::Timeline) =>
        {
            auto_run_ahead(cli.grid.width, cli.grid.height, k)
        }
        None if hip.is_some() && cli.sync == SyncArg::StreamWait => auto_run_ahead(cli.grid.width, cli.grid.height, k),
        None => 1,
    }
}

/// Where animation times come from: fixed steps with `--time-step`; else frozen at
/// `--time` headless (repeatable images) unless `--wall-clock`, the wall clock otherwise.
pub fn time_source(cli: &Cli) -> TimeSource {
    match cli.time_step {
        Some(step) => TimeSource::Step { start: cli.time, step },
        None if cli.headless && !cli.wall_clock => TimeSource::Frozen { start: cli.time },
        None => TimeSource::Wall { start: cli.time },
    }
}

/// HIP ready to write heights: the runtime on a GPU, and the kernel loaded on it.
pub(crate) struct HipReady {
    pub setup: HipSetup,
    pub kernel: hip::Function,
}

fn open_hip(cli: &Cli) -> Result<HipReady> {
    // A bad --kernel file is refused before HIP opens, on any machine.
    let explicit = cli.kernel.as_deref().map(KernelImage::from_cli).transpose()?;
    let setup = HipSetup::open()?;
    let kernel = kernel_files::find_and_load(&setup, explicit)?;
    Ok(HipReady { setup, kernel })
}

/// What `auto` passed over on its way to the source it chose, for the log line.
#[derive(Default)]
struct PassedOver(Vec<String>);

impl PassedOver {
    fn add(&mut self, source: &str, why: &anyhow::Error) {
        self.0.push(format!("{source}: {why:#}"));
    }
}

/// Creates the renderer the CLI describes, with its height source attached.
pub fn renderer(cli: &Cli, presentation: Presentation) -> Result<Renderer> {
    Ok(build(cli, presentation, false)?.renderer)
}

/// What [`build`] made: the renderer, and what live switching needs to make other height
/// sources later (HIP, kept open when it opened; how the Vulkan device was chosen).
pub(crate) struct Built {
    pub renderer: Renderer,
    /// HIP, when it opened and the renderer's device is its GPU.
    pub hip: Option<HipReady>,
    /// Why HIP is not there, when it is not.
    pub hip_unavailable: Option<String>,
    /// How the Vulkan device was chosen (the overlay says).
    pub selection: DeviceSelection,
    /// Who writes the heights: `Hip`, `Vulkan` or `Cpu` (what `auto` chose).
    pub heights: HeightsSource,
}

/// [`renderer`], keeping HIP open for later switches. With `for_switching` (the window),
/// HIP is opened even when `--heights vulkan|cpu` does not use it, so that a switch to HIP
/// can find it.
pub(crate) fn build(cli: &Cli, presentation: Presentation, for_switching: bool) -> Result<Built> {
    // HIP's memory can only be written by HIP: with --memory-owner hip, auto means hip.
    let auto = cli.heights == HeightsSource::Auto && cli.memory_owner == MemoryOwnerArg::Vulkan;
    let mut passed_over = PassedOver::default();
    let mut hip_unavailable = None;
    let hip = match cli.heights {
        HeightsSource::Hip => Some(open_hip(cli).context("--heights hip (--heights vulkan and cpu run without HIP)")?),
        HeightsSource::Auto if !auto => Some(open_hip(cli).context("--memory-owner hip")?),
        HeightsSource::Vulkan | HeightsSource::Cpu if !for_switching => None,
        HeightsSource::Auto | HeightsSource::Vulkan | HeightsSource::Cpu => match open_hip(cli) {
            Ok(ready) => Some(ready),
            Err(e) => {
                if cli.heights == HeightsSource::Auto {
                    passed_over.add("hip", &e);
                }
                hip_unavailable = Some(format!("{e:#}"));
                None
            }
        },
    };
    let k = frames_in_flight(cli);
    let run_ahead = planned_run_ahead(cli, hip.as_ref(), k);
    let mut options = RendererOptions {
        grid_width: cli.grid.width,
        grid_height: cli.grid.height,
        frames_in_flight: k,
        // A burst of R frames needs R height slots.
        extra_height_slots: run_ahead.saturating_sub(k),
        validation: cli.validation,
        device: match (&hip, cli.device) {
            (Some(ready), index) => ready.setup.vulkan_selection(index),
            (None, Some(i)) => DeviceSelection::Index(i),
            (None, None) => DeviceSelection::Best,
        },
        present_mode: cli.present_mode.to_vulkan(),
        // The overlay's frame-time graph shows the GPU stages.
        gpu_timing: !cli.no_overlay,
        shading_images: cli.shading != ShadingArg::Vertex,
    };
    let (mut renderer, hip) = match Renderer::new(&options, presentation.clone()) {
        Ok(renderer) => (renderer, hip),
        // No Vulkan device is the HIP GPU: auto goes on without HIP, on the best device.
        Err(e) if auto && hip.is_some() && cli.device.is_none() => {
            passed_over.add("hip", &e);
            hip_unavailable = Some(format!("no Vulkan device is HIP's GPU: {e:#}"));
            options.device = DeviceSelection::Best;
            (Renderer::new(&options, presentation)?, None)
        }
        Err(e) => return Err(e),
    };
    renderer.wireframe = cli.wireframe && renderer.device().wireframe_supported;

    let (source, heights) = match (cli.heights, &hip) {
        (HeightsSource::Cpu, _) => (cpu_source(&renderer, cli)?, HeightsSource::Cpu),
        (HeightsSource::Vulkan, _) => {
            (Box::new(ComputeHeights::new(renderer.device(), renderer.slots())?) as _, HeightsSource::Vulkan)
        }
        (HeightsSource::Hip | HeightsSource::Auto, Some(ready)) => {
            match hip_source(&mut renderer, cli, ready, run_ahead) {
                Ok(source) => (source, HeightsSource::Hip),
                Err(e) if auto => {
                    passed_over.add("hip", &e);
                    auto_without_hip(&renderer, cli, &mut passed_over)?
                }
                Err(e) => return Err(e),
            }
        }
        (HeightsSource::Auto, None) => auto_without_hip(&renderer, cli, &mut passed_over)?,
        (HeightsSource::Hip, None) => anyhow::bail!("--heights hip: HIP did not open"),
    };
    if auto {
        if passed_over.0.is_empty() {
            log::info!("heights: {} (auto: the best source, available here)", source.name());
        } else {
            log::info!("heights: {} (auto; passed over {})", source.name(), passed_over.0.join("; "));
        }
    }
    renderer.set_height_source(source)?;
    if !cli.no_overlay {
        let mut lines = overlay_lines(&renderer, &options.device);
        lines.push("F1 hides this panel".to_string());
        // Sized for the most frames in flight, so that live switching never rebuilds it.
        let mut overlay = crate::app::overlay::Overlay::new(
            renderer.device(),
            renderer.color_format(),
            crate::app::cli::MAX_FRAMES_IN_FLIGHT,
        )?;
        overlay.set_info(lines);
        renderer.set_overlay(Box::new(overlay))?;
    }
    if matches!(cli.shading, ShadingArg::Image | ShadingArg::ImageCopy) && !renderer.image_shading() {
        anyhow::bail!(
            "--shading image: {} does not write shading images; use --shading vertex or auto",
            renderer.source_name()
        );
    }
    Ok(Built { renderer, hip, hip_unavailable, selection: options.device, heights })
}

/// What the overlay's panel says: the GPU and how Vulkan chose it, who writes the heights
/// and how they are handed over, the buffers and the shading.
pub(crate) fn overlay_lines(renderer: &Renderer, selection: &DeviceSelection) -> Vec<String> {
    let device = renderer.device();
    vec![
        format!("GPU: {} ({})", device.physical.name, device.physical.driver),
        format!("Vulkan device chosen as {selection}"),
        format!("heights: {}", renderer.source_name()),
        format!(
            "{} frames in flight, {} height buffers, {} frame(s) per hand-over",
            renderer.frames_in_flight(),
            renderer.slots().len(),
            renderer.source_run_ahead()
        ),
        format!("shading: {}", if renderer.image_shading() { "image (normals written each frame)" } else { "vertex" }),
    ]
}

/// `auto` when HIP cannot run: the Vulkan compute shader, else the CPU; and which.
fn auto_without_hip(
    renderer: &Renderer,
    cli: &Cli,
    passed_over: &mut PassedOver,
) -> Result<(Box<dyn HeightSource>, HeightsSource)> {
    match ComputeHeights::new(renderer.device(), renderer.slots()) {
        Ok(source) => Ok((Box::new(source), HeightsSource::Vulkan)),
        Err(e) => {
            passed_over.add("vulkan", &e);
            Ok((cpu_source(renderer, cli)?, HeightsSource::Cpu))
        }
    }
}

pub(crate) fn cpu_source(renderer: &Renderer, cli: &Cli) -> Result<Box<dyn HeightSource>> {
    Ok(Box::new(CpuHeights::new(renderer.device(), cli.grid.width, cli.grid.height, renderer.slots().len())?))
}

pub(crate) fn hip_source(
    renderer: &mut Renderer,
    cli: &Cli,
    ready: &HipReady,
    planned: u32,
) -> Result<Box<dyn HeightSource>> {
    let hip_slots = crate::app::heights::hip_slots_for(renderer, &ready.setup, cli.memory_owner.into())?;
    let mut source = HipHeights::with_slots(
        &ready.setup,
        renderer.device(),
        renderer.slots(),
        hip_slots,
        cli.sync.into(),
        ready.kernel.clone(),
    )?;
    if let Some(images) = &renderer.slots().normals {
        match source.add_normals(images, cli.shading == ShadingArg::ImageCopy) {
            Ok(()) => {}
            Err(e) if cli.shading == ShadingArg::Auto => {
                log::info!("shading: vertex (HIP cannot write the images: {e:#})")
            }
            Err(e) => return Err(e.context("--shading image")),
        }
    }
    let run_ahead = match cli.run_ahead {
        Some(frames) => frames,
        // Timeline hands a whole burst over with one signal and one wait; binary
        // semaphores hand each frame over on its own, so a burst saves them nothing
        // (BENCHMARKS.md).
        None if matches!(source.sync_kind(), SyncKind::Timeline | SyncKind::StreamWait) => planned,
        None => 1,
    };
    log::info!(
        "run-ahead: HIP writes up to {run_ahead} frame(s) per hand-over, into {} height buffers ({})",
        renderer.slots().len(),
        if cli.run_ahead.is_some() {
            "--run-ahead"
        } else {
            "auto: with timeline or stream-wait sync, as many as 64 MiB of height buffers hold, 4 to 16; else 1"
        }
    );
    Ok(Box::new(source.with_run_ahead(run_ahead as usize)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_run_ahead_fills_the_memory_budget_within_its_bounds() {
        // 256 KiB and 4 MiB slots: 16 fit in 64 MiB (the most); 16 MiB slots: 4.
        assert_eq!(auto_run_ahead(256, 256, 2), 16);
        assert_eq!(auto_run_ahead(1024, 1024, 2), 16);
        assert_eq!(auto_run_ahead(2048, 2048, 2), 4);
        // 64 MiB slots: only one fits, but never fewer than the frames in flight.
        assert_eq!(auto_run_ahead(4096, 4096, 2), 2);
        assert_eq!(auto_run_ahead(8192, 8192, 3), 3);
        assert_eq!(auto_run_ahead(1, 1, 4), MAX_RUN_AHEAD);
    }
}
