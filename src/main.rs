//! `hip-vulkan-sinewave`: parse the command line, run windowed or headless, report.

use std::process::ExitCode;

use clap::Parser;
use hip_vulkan_sinewave::cli::Cli;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    if let Err(message) = cli.validate() {
        eprintln!("error: {message}");
        return ExitCode::from(2);
    }
    let result =
        if cli.headless { hip_vulkan_sinewave::headless::run(&cli) } else { hip_vulkan_sinewave::app::run(&cli) };
    if let (true, Ok((errors, warnings))) = (cli.validation, &result) {
        log::info!("validation: {errors} errors, {warnings} warnings");
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
