//! Turns the command line into a running renderer with its height source: opens HIP first
//! when it writes the heights (so Vulkan can pick the same GPU), then Vulkan, then the
//! source. Shared by the windowed and the headless paths.

use anyhow::Result;

use crate::cli::{Cli, HeightsSource, SyncRequest};
use crate::heights::cpu::CpuHeights;
use crate::heights::hip::{kernel_image, HipHeights, HipSetup};
use crate::heights::vulkan_compute::ComputeHeights;
use crate::renderer::{Presentation, Renderer, RendererOptions};
use crate::vulkan::DeviceSelection;

/// Frames in flight the run will use: `serial` has one buffer by definition.
pub fn frames_in_flight(cli: &Cli) -> u32 {
    if cli.heights == HeightsSource::Hip && cli.sync == SyncRequest::Serial && cli.frames_in_flight != 1 {
        log::info!("--sync serial uses one height buffer: frames in flight 1 (not {})", cli.frames_in_flight);
        return 1;
    }
    cli.frames_in_flight
}

/// Creates the renderer the CLI describes, with its height source attached.
pub fn renderer(cli: &Cli, presentation: Presentation) -> Result<Renderer> {
    let hip = match cli.heights {
        HeightsSource::Hip => {
            // Fail before any Vulkan work when there is no kernel to run.
            let kernel = kernel_image(cli.kernel.as_deref())?;
            Some((HipSetup::open()?, kernel))
        }
        HeightsSource::Cpu | HeightsSource::Vulkan => None,
    };
    let options = RendererOptions {
        grid_width: cli.grid.width,
        grid_height: cli.grid.height,
        frames_in_flight: frames_in_flight(cli),
        validation: cli.validation,
        device: match (&hip, cli.device) {
            (Some((setup, _)), index) => setup.vulkan_selection(index),
            (None, Some(i)) => DeviceSelection::Index(i),
            (None, None) => DeviceSelection::Best,
        },
        present_mode: crate::vulkan::swapchain::present_mode_from_cli(cli.present_mode),
        gpu_timing: false,
    };
    let mut renderer = Renderer::new(&options, presentation)?;
    renderer.wireframe = cli.wireframe && renderer.device().wireframe_supported;
    match hip {
        None if cli.heights == HeightsSource::Vulkan => {
            let source = ComputeHeights::new(renderer.device(), renderer.slots())?;
            renderer.set_height_source(Box::new(source))?;
        }
        None => {
            let source = CpuHeights::new(renderer.device(), cli.grid.width, cli.grid.height, renderer.slots().len())?;
            renderer.set_height_source(Box::new(source))?;
        }
        Some((setup, kernel)) => {
            let mut source = HipHeights::new(&setup, renderer.device(), renderer.slots(), cli.sync, &kernel)?;
            if cli.run_ahead > 1 {
                anyhow::ensure!(
                    cli.time_step.is_some(),
                    "--run-ahead needs --time-step (frames ahead need known times)"
                );
                source = source.with_run_ahead(cli.run_ahead as usize)?;
            }
            renderer.set_height_source(Box::new(source))?;
        }
    }
    renderer.set_time_step(cli.time_step);
    Ok(renderer)
}
