//! Offscreen runs: no window, no display. Renders N frames, optionally writes the last
//! one as a PNG. With `--switches`, the window's live switches are applied in turn, N
//! frames (and `--verify`) each.

use std::time::Instant;

use anyhow::{Context, Result};
use ash::vk;

use crate::app::camera::OrbitCamera;
use crate::app::cli::Cli;
use crate::app::clock::AnimationClock;
use crate::app::live::{Live, Outcome};
use crate::app::renderer::{Presentation, Renderer};

/// Runs offscreen as the CLI says; returns the validation counts.
pub fn run(cli: &Cli) -> Result<(u32, u32)> {
    let extent = vk::Extent2D { width: cli.size.width, height: cli.size.height };
    if cli.switches.is_empty() {
        let mut renderer = crate::app::setup::renderer(cli, Presentation::Offscreen { extent })?;
        run_stage(cli, &mut renderer, true)?;
        return Ok(renderer.validation_counts());
    }
    let mut built = crate::app::setup::build(cli, Presentation::Offscreen { extent }, true)?;
    let mut live = Live::new(cli, &mut built);
    let mut renderer = built.renderer;
    live.refresh_overlay(&mut renderer);
    log::info!("stage 0: {}", live.settings());
    run_stage(cli, &mut renderer, false)?;
    for (i, &switch) in cli.switches.iter().enumerate() {
        if let Outcome::Refused(why) = live.apply(&mut renderer, switch)? {
            anyhow::bail!("--switches: switch {} ({switch}) was refused: {why}", i + 1);
        }
        log::info!("stage {}: {}", i + 1, live.settings());
        run_stage(cli, &mut renderer, i + 1 == cli.switches.len())?;
    }
    Ok(renderer.validation_counts())
}

/// Renders `--frames` frames, verifies the last with `--verify`, and with `last` writes
/// the screenshot.
fn run_stage(cli: &Cli, renderer: &mut Renderer, last: bool) -> Result<()> {
    let planned = cli.frame_limit().unwrap_or(1);
    let camera = OrbitCamera::default();
    let mut clock = AnimationClock::new(crate::app::setup::time_source(cli));
    let started = Instant::now();
    let mut last_report = Instant::now();
    let mut frames = 0;
    for frame in 0..planned {
        if let Some(signal) = crate::app::interrupt::pending() {
            log::warn!("{} received: stopping after {frame} of {planned} frames", crate::app::interrupt::name(signal));
            break;
        }
        renderer.render(&mut clock, &camera)?;
        frames = frame + 1;
        if cli.report_every.is_some_and(|n| (frame + 1) % n == 0) {
            report_resources(renderer, frame + 1);
        }
        if last_report.elapsed().as_secs_f64() >= 1.0 {
            log::info!("frame {}/{planned}", frame + 1);
            last_report = Instant::now();
        }
    }
    renderer.device().wait_idle()?;
    let seconds = started.elapsed().as_secs_f64();
    if !clock.prediction_errors().is_empty() {
        let mut errors: Vec<f64> = clock.prediction_errors().iter().map(|e| e.abs() * 1e3).collect();
        let (median, p99) = crate::app::stats::median_p99(&mut errors);
        let worst = errors.last().copied().unwrap_or(0.0);
        log::info!(
            "wall clock: frame period {:.3} ms; frames drawn off the clock by {median:.3} ms (median), {p99:.3} ms \
             (p99), {worst:.3} ms (worst) (times fixed ahead are predicted)",
            clock.period().unwrap_or(0.0) * 1e3,
        );
    }
    log::info!("rendered {frames} frames offscreen in {seconds:.3} s ({:.1} frames/s)", frames as f64 / seconds);
    if cli.verify && frames > 0 {
        verify(renderer)?;
    }
    if let Some(path) = cli.screenshot.as_ref().filter(|_| frames > 0 && last) {
        let image = renderer.read_back_image()?;
        image.save_png(path).with_context(|| format!("saving the screenshot to {}", path.display()))?;
        log::info!("wrote {}x{} screenshot to {}", image.width, image.height, path.display());
    }
    Ok(())
}

/// Largest error `--verify` accepts between the GPU's heights and the f64 reference.
pub const VERIFY_TOLERANCE: f64 = 1e-5;

/// Reads back the heights of the last frame through Vulkan and compares them with the CPU
/// reference at the time that frame was rendered at.
pub fn verify(renderer: &Renderer) -> Result<()> {
    let slot = renderer.last_slot().context("no frame drawn to verify")?;
    let last = renderer.frames_rendered() - 1;
    let heights = renderer.read_back_heights(slot)?;
    let time = crate::sinewave::wrap_time(renderer.slot_time(slot).context("the frame's time")?);
    let slots = renderer.slots();
    let err = crate::sinewave::max_abs_error(&heights, slots.width, slots.height, time);
    println!(
        "verify: frame {last}, slot {slot}, {}x{} heights, max abs error {err:.3e} (tolerance {VERIFY_TOLERANCE:e})",
        slots.width, slots.height
    );
    anyhow::ensure!(err <= VERIFY_TOLERANCE, "verify failed: max abs error {err:e} exceeds {VERIFY_TOLERANCE:e}");
    if renderer.image_shading() {
        let texels = renderer.read_back_normals(slot)?;
        let err = crate::sinewave::max_normal_error(&texels, slots.width, slots.height, time);
        println!(
            "verify: frame {last}, slot {slot}, {}x{} shading image (RGBA16F normals), max abs error {err:.3e} \
             (tolerance {NORMAL_TOLERANCE:e})",
            slots.width, slots.height
        );
        anyhow::ensure!(
            err <= NORMAL_TOLERANCE,
            "verify failed: shading image max abs error {err:e} exceeds {NORMAL_TOLERANCE:e}"
        );
    }
    Ok(())
}

/// Largest error `--verify` accepts in the shading image: RGBA16F rounds values in
/// [-1, 1] by up to 4.9e-4.
pub const NORMAL_TOLERANCE: f64 = 1e-3;

/// Logs what a long run must keep flat: resident memory, GPU memory, open fds.
fn report_resources(renderer: &Renderer, frames: u64) {
    let resident_mib = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .map_or("?".to_string(), |pages| format!("{:.1}", pages as f64 * 4096.0 / 1048576.0));
    let gpu_mib =
        renderer.device().device_local_usage().map_or("?".to_string(), |b| format!("{:.1}", b as f64 / 1048576.0));
    let fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count());
    log::info!("resources after {frames} frames: resident {resident_mib} MiB, GPU (Vulkan heaps) {gpu_mib} MiB, open fds {fds}");
}
