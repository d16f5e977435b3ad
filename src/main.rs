//! `hip-vulkan-sinewave`: parse the command line, run windowed or headless, report.

use std::process::ExitCode;

use clap::Parser;
use hip_vulkan_sinewave::app::cli::Cli;
use hip_vulkan_sinewave::app::interrupt;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    if let Err(message) = cli.validate() {
        eprintln!("error: {message}");
        return ExitCode::from(2);
    }
    if let Err(e) = interrupt::install() {
        eprintln!("error: {e:#}");
        return ExitCode::FAILURE;
    }
    if !cli.chart_from.is_empty() {
        return match chart_from(&cli, &cli.chart_from) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let result = if cli.bench {
        run_bench(&cli)
    } else if cli.headless {
        hip_vulkan_sinewave::app::headless::run(&cli)
    } else {
        hip_vulkan_sinewave::app::window::run(&cli)
    };
    if let (true, Ok((errors, warnings))) = (cli.validation, &result) {
        log::info!("validation: {errors} errors, {warnings} warnings");
    }
    if let Some(signal) = interrupt::pending() {
        if let Err(e) = &result {
            eprintln!("error: {e:#}");
        }
        eprintln!("interrupted by {}: the run ended cleanly", interrupt::name(signal));
        return ExitCode::from(interrupt::exit_status(signal));
    }
    match result {
        Ok((0, 0)) => ExitCode::SUCCESS,
        Ok((errors, warnings)) => {
            eprintln!(
                "error: the validation layer reported {errors} errors and {warnings} warnings (see the log above)"
            );
            ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `--bench`: runs the plan, prints the table, writes the JSON.
fn run_bench(cli: &Cli) -> anyhow::Result<(u32, u32)> {
    use hip_vulkan_sinewave::app::bench;
    let plan = bench::BenchPlan {
        kernel: cli.kernel.clone(),
        validation: cli.validation,
        device: cli.device,
        modes: cli.bench_modes.clone(),
        grids: cli.bench_grids.clone(),
        frames_in_flight: cli.bench_frames_in_flight.clone(),
        run_ahead: cli.bench_run_ahead.clone(),
        times: cli.bench_time.clone(),
        overlays: cli.bench_overlay.iter().map(|o| *o == bench::BenchOverlay::On).collect(),
        warmup: cli.bench_warmup,
        frames: cli.bench_frames,
        max_seconds: cli.bench_seconds,
        size: ash::vk::Extent2D { width: cli.bench_size.width, height: cli.bench_size.height },
    };
    let (records, kernel) = bench::run(&plan)?;
    println!("{}", bench::table(&records, kernel.as_ref()));
    if let Some(signal) = hip_vulkan_sinewave::app::interrupt::pending() {
        println!(
            "(interrupted by {}: {} configurations finished)",
            hip_vulkan_sinewave::app::interrupt::name(signal),
            records.len()
        );
    }
    if let Some(path) = &cli.bench_json {
        bench::write_json(path, &records, kernel.as_ref())?;
        log::info!("wrote {}", path.display());
    }
    if let Some(path) = &cli.bench_chart {
        use hip_vulkan_sinewave::app::bench_chart;
        let size = (cli.bench_size.width, cli.bench_size.height);
        bench_chart::render_chart_at(&bench_chart::records_json(&records)?, &cli.chart_gpu, size, path)?;
        log::info!("wrote {}", path.display());
    }
    Ok((0, 0))
}

/// `--chart-from`: draws the chart of saved `--bench-json` files; no GPU work.
fn chart_from(cli: &Cli, files: &[std::path::PathBuf]) -> anyhow::Result<()> {
    use anyhow::Context;
    use hip_vulkan_sinewave::app::bench_chart;
    let Some(out) = &cli.bench_chart else { anyhow::bail!("--chart-from needs --bench-chart FILE") };
    let mut records = Vec::new();
    for json in files {
        let text = std::fs::read_to_string(json).with_context(|| format!("reading {}", json.display()))?;
        let array: Vec<serde_json::Value> = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a bench JSON file (expected an array of records)", json.display()))?;
        records.extend(array);
    }
    let text = serde_json::to_string(&records)?;
    let size = (cli.bench_size.width, cli.bench_size.height);
    bench_chart::render_chart_at(&text, &cli.chart_gpu, size, out).with_context(|| {
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        format!("charting {}", names.join(", "))
    })?;
    log::info!("wrote {}", out.display());
    Ok(())
}
