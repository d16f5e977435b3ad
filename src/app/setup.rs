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

use crate::app::cli::{Cli, HeightsSource, SyncArg};
use crate::app::clock::TimeSource;
use crate::app::heights::cpu::CpuHeights;
use crate::app::heights::vulkan_compute::ComputeHeights;
use crate::app::kernel_files::{self, KernelImage};
use crate::app::renderer::{Presentation, Renderer, RendererOptions};
use crate::hip;
use crate::interop::hip_heights::{HipHeights, HipSetup};
use crate::interop::schedule::WriteSchedule;
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

/// The schedule the run will use: `--run-ahead R` (written ahead with timeline), else
/// [`WriteSchedule::automatic`] where the timeline strategy can be chosen (HIP imports
/// semaphores, `--sync auto|timeline`), else each frame as it is drawn.
fn planned_schedule(cli: &Cli, hip: Option<&HipReady>, k: u32) -> WriteSchedule {
    let timeline_possible =
        hip.is_some_and(|h| h.setup.hip.imports_semaphores()) && matches!(cli.sync, SyncArg::Auto | SyncArg::Timeline);
    match (cli.run_ahead, timeline_possible) {
        (Some(frames), true) => WriteSchedule::ahead(frames),
        (Some(frames), false) => WriteSchedule { run_ahead: frames, lead: 0 },
        (None, true) => WriteSchedule::automatic(cli.grid.width, cli.grid.height, k),
        (None, false) => WriteSchedule::EACH_FRAME,
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
struct HipReady {
    setup: HipSetup,
    kernel: hip::Function,
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
    let auto = cli.heights == HeightsSource::Auto;
    let mut passed_over = PassedOver::default();
    let hip = match cli.heights {
        HeightsSource::Hip => Some(open_hip(cli).context("--heights hip (--heights vulkan and cpu run without HIP)")?),
        HeightsSource::Auto => open_hip(cli).map_err(|e| passed_over.add("hip", &e)).ok(),
        HeightsSource::Vulkan | HeightsSource::Cpu => None,
    };
    let k = frames_in_flight(cli);
    let schedule = planned_schedule(cli, hip.as_ref(), k);
    let mut options = RendererOptions {
        grid_width: cli.grid.width,
        grid_height: cli.grid.height,
        frames_in_flight: k,
        extra_height_slots: schedule.height_slots(k) - k,
        validation: cli.validation,
        device: match (&hip, cli.device) {
            (Some(ready), index) => ready.setup.vulkan_selection(index),
            (None, Some(i)) => DeviceSelection::Index(i),
            (None, None) => DeviceSelection::Best,
        },
        present_mode: cli.present_mode.to_vulkan(),
        gpu_timing: false,
    };
    let (mut renderer, hip) = match Renderer::new(&options, presentation.clone()) {
        Ok(renderer) => (renderer, hip),
        // No Vulkan device is the HIP GPU: auto goes on without HIP, on the best device.
        Err(e) if auto && hip.is_some() && cli.device.is_none() => {
            passed_over.add("hip", &e);
            options.device = DeviceSelection::Best;
            (Renderer::new(&options, presentation)?, None)
        }
        Err(e) => return Err(e),
    };
    renderer.wireframe = cli.wireframe && renderer.device().wireframe_supported;

    let source = match (cli.heights, hip) {
        (HeightsSource::Cpu, _) => cpu_source(&renderer, cli)?,
        (HeightsSource::Vulkan, _) => Box::new(ComputeHeights::new(renderer.device(), renderer.slots())?),
        (HeightsSource::Hip | HeightsSource::Auto, Some(ready)) => match hip_source(&renderer, cli, ready, schedule) {
            Ok(source) => source,
            Err(e) if auto => {
                passed_over.add("hip", &e);
                auto_without_hip(&renderer, cli, &mut passed_over)?
            }
            Err(e) => return Err(e),
        },
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
    Ok(renderer)
}

/// `auto` when HIP cannot run: the Vulkan compute shader, else the CPU.
fn auto_without_hip(renderer: &Renderer, cli: &Cli, passed_over: &mut PassedOver) -> Result<Box<dyn HeightSource>> {
    match ComputeHeights::new(renderer.device(), renderer.slots()) {
        Ok(source) => Ok(Box::new(source)),
        Err(e) => {
            passed_over.add("vulkan", &e);
            cpu_source(renderer, cli)
        }
    }
}

fn cpu_source(renderer: &Renderer, cli: &Cli) -> Result<Box<dyn HeightSource>> {
    Ok(Box::new(CpuHeights::new(renderer.device(), cli.grid.width, cli.grid.height, renderer.slots().len())?))
}

fn hip_source(
    renderer: &Renderer,
    cli: &Cli,
    ready: HipReady,
    planned: WriteSchedule,
) -> Result<Box<dyn HeightSource>> {
    let source = HipHeights::new(&ready.setup, renderer.device(), renderer.slots(), cli.sync.into(), ready.kernel)?;
    // Timeline hands a whole burst over with one signal and one wait, and can queue it
    // ahead; binary semaphores hand each frame over on its own, so bursts save them nothing
    // (BENCHMARKS.md), and HIP's binary waits must follow their signals.
    let schedule = match (source.sync_kind(), cli.run_ahead) {
        (SyncKind::Timeline, _) => planned,
        (_, Some(frames)) => WriteSchedule { run_ahead: frames, lead: 0 },
        (_, None) => WriteSchedule::EACH_FRAME,
    };
    log::info!(
        "HIP writes up to {} frame(s) per hand-over, {} frame(s) before they are drawn, into {} height buffers ({})",
        schedule.run_ahead,
        schedule.lead,
        renderer.slots().len(),
        match cli.run_ahead {
            Some(_) => "--run-ahead",
            None =>
                "auto: with timeline sync, bursts of up to 16 queued one burst ahead, as 64 MiB of height buffers allow",
        }
    );
    Ok(Box::new(source.with_schedule(schedule)?))
}
