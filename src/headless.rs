//! Offscreen runs: no window, no display. Renders N frames, optionally writes the last
//! one as a PNG.

use std::time::Instant;

use anyhow::{Context, Result};
use ash::vk;

use crate::camera::OrbitCamera;
use crate::cli::Cli;
use crate::heights::cpu::CpuHeights;
use crate::renderer::{Presentation, Renderer, RendererOptions};

/// Builds the renderer options the CLI asks for.
pub fn renderer_options(cli: &Cli) -> RendererOptions {
    RendererOptions {
        grid_width: cli.grid.width,
        grid_height: cli.grid.height,
        frames_in_flight: cli.frames_in_flight,
        validation: cli.validation,
        device: cli.device.map_or(crate::vulkan::DeviceSelection::Best, crate::vulkan::DeviceSelection::Index),
        present_mode: crate::vulkan::swapchain::present_mode_from_cli(cli.present_mode),
    }
}

/// Sets the height source the CLI asks for.
pub fn attach_height_source(renderer: &mut Renderer, cli: &Cli) -> Result<()> {
    match cli.heights {
        crate::cli::HeightsSource::Cpu => {
            let source = CpuHeights::new(renderer.device(), cli.grid.width, cli.grid.height, renderer.slots().len())?;
            renderer.set_height_source(Box::new(source))
        }
        crate::cli::HeightsSource::Hip => {
            anyhow::bail!("--heights hip: the HIP height source is not built into this version yet; use --heights cpu")
        }
    }
}

/// Animation time of frame `n`: fixed steps when `--time-step` is given, else the clock.
pub fn frame_time(cli: &Cli, frame: u64, started: Instant) -> f64 {
    match cli.time_step {
        Some(step) => cli.time + step * frame as f64,
        None if cli.headless => cli.time,
        None => cli.time + started.elapsed().as_secs_f64(),
    }
}

/// Runs offscreen as the CLI says; returns the validation counts.
pub fn run(cli: &Cli) -> Result<(u32, u32)> {
    let extent = vk::Extent2D { width: cli.size.width, height: cli.size.height };
    let mut renderer = Renderer::new(&renderer_options(cli), Presentation::Offscreen { extent })?;
    renderer.wireframe = cli.wireframe;
    attach_height_source(&mut renderer, cli)?;
    let frames = cli.frame_limit().unwrap_or(1);
    let camera = OrbitCamera::default();
    let started = Instant::now();
    let mut last_report = Instant::now();
    for frame in 0..frames {
        renderer.render(frame_time(cli, frame, started), &camera)?;
        if last_report.elapsed().as_secs_f64() >= 1.0 {
            log::info!("frame {}/{frames}", frame + 1);
            last_report = Instant::now();
        }
    }
    renderer.device().wait_idle()?;
    let seconds = started.elapsed().as_secs_f64();
    log::info!("rendered {frames} frames offscreen in {seconds:.3} s ({:.1} frames/s)", frames as f64 / seconds);
    if let Some(path) = &cli.screenshot {
        let image = renderer.read_back_image()?;
        image.save_png(path).with_context(|| format!("saving the screenshot to {}", path.display()))?;
        log::info!("wrote {}x{} screenshot to {}", image.width, image.height, path.display());
    }
    Ok(renderer.validation_counts())
}
