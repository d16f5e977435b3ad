//! Command-line interface: what the user can ask for, parsed and checked before any
//! GPU work starts, so that bad values fail fast with a message that names the flag.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use clap::{Parser, ValueEnum};

use crate::interop::hip_slots::MemoryOwner;
use crate::interop::sync::SyncRequest;

/// Largest grid side accepted on the command line. The real limit is the GPU's memory,
/// checked against the device heap before allocating; this bound only keeps the
/// arithmetic (vertex and index counts in `u32`) in range.
pub const MAX_GRID_SIDE: u32 = 16_384;
/// Largest window or render side accepted (Vulkan implementations guarantee 4096 for
/// images; most support 16384).
pub const MAX_RENDER_SIDE: u32 = 16_384;
/// Most frames in flight that make sense: beyond three, latency grows with no gain.
pub const MAX_FRAMES_IN_FLIGHT: u32 = 4;
/// Most frames HIP may write per hand-over (`--run-ahead`); each needs a height buffer.
pub const MAX_RUN_AHEAD: u32 = 16;

/// A `WIDTHxHEIGHT` pair, e.g. `1024x1024`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size2 {
    pub width: u32,
    pub height: u32,
}

impl Size2 {
    pub const fn new(width: u32, height: u32) -> Self {
        Self { width, height }
    }

    /// Number of cells (`width × height`) as `u64`, which cannot overflow.
    pub fn area(self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    fn parse_bounded(text: &str, min: u32, max: u32) -> Result<Self, String> {
        let size: Size2 = text.parse()?;
        for (name, value) in [("width", size.width), ("height", size.height)] {
            if value < min || value > max {
                return Err(format!("{name} {value} is out of range: each side must be {min}..={max}"));
            }
        }
        Ok(size)
    }
}

impl FromStr for Size2 {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (w, h) = text
            .trim()
            .split_once(['x', 'X'])
            .ok_or_else(|| format!("'{text}' is not WIDTHxHEIGHT (for example 1024x1024)"))?;
        let side = |s: &str, name: &str| -> Result<u32, String> {
            let s = s.trim();
            if s.starts_with('-') {
                return Err(format!("{name} '{s}' is negative"));
            }
            s.parse::<u32>().map_err(|e| format!("{name} '{s}' is not a whole number ({e})"))
        };
        Ok(Size2::new(side(w, "width")?, side(h, "height")?))
    }
}

impl fmt::Display for Size2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

fn parse_grid(text: &str) -> Result<Size2, String> {
    Size2::parse_bounded(text, 2, MAX_GRID_SIDE)
}

fn parse_render_size(text: &str) -> Result<Size2, String> {
    Size2::parse_bounded(text, 1, MAX_RENDER_SIDE)
}

/// One live switch (the window's keys; `--switches` headless); applied by
/// [`crate::app::live::Live::apply`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Switch {
    /// The next writer (H).
    NextWriter,
    /// The next sync strategy (S).
    NextSync,
    /// This many frames in flight (1 to 4).
    FramesInFlight(u32),
    /// The next grid size (G).
    NextGrid,
}

impl fmt::Display for Switch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Switch::NextWriter => f.write_str("heights"),
            Switch::NextSync => f.write_str("sync"),
            Switch::FramesInFlight(k) => write!(f, "frames in flight {k}"),
            Switch::NextGrid => f.write_str("grid"),
        }
    }
}

/// One live switch by its key in the window: `h`, `s`, `1`-`4`, `g`.
fn parse_switch(text: &str) -> Result<Switch, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "h" => Ok(Switch::NextWriter),
        "s" => Ok(Switch::NextSync),
        "g" => Ok(Switch::NextGrid),
        k => match k.parse::<u32>() {
            Ok(k) if (1..=MAX_FRAMES_IN_FLIGHT).contains(&k) => Ok(Switch::FramesInFlight(k)),
            _ => {
                Err(format!("'{text}' is not a switch: use h (heights), s (sync), 1-4 (frames in flight) or g (grid)"))
            }
        },
    }
}

fn parse_frames_in_flight(text: &str) -> Result<u32, String> {
    let k: u32 = text.trim().parse().map_err(|e| format!("'{text}' is not a whole number ({e})"))?;
    if !(1..=MAX_FRAMES_IN_FLIGHT).contains(&k) {
        return Err(format!("{k} is out of range: frames in flight must be 1..={MAX_FRAMES_IN_FLIGHT}"));
    }
    Ok(k)
}

/// How the swapchain presents. `fifo` is vsync and always available.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PresentMode {
    /// Vsync; never tears; always supported.
    Fifo,
    /// Vsync that tears when late (falls back to fifo when unsupported).
    FifoRelaxed,
    /// Newest frame wins, no tearing (falls back to fifo when unsupported).
    Mailbox,
    /// No vsync, may tear (falls back to fifo when unsupported).
    Immediate,
}

/// `--sync`: how HIP and Vulkan hand the buffers over (see [`SyncRequest`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SyncArg {
    /// The best strategy the HIP runtime accepts (timeline, binary, host).
    Auto,
    /// Two timeline semaphores shared by both APIs (CUDA / the NVIDIA shim).
    Timeline,
    /// A pair of binary semaphores per buffer.
    Binary,
    /// The CPU waits on a HIP event per buffer (AMD on Linux).
    Host,
    /// The CPU waits for HIP once per run-ahead burst; HIP waits for Vulkan's draws on the
    /// GPU (hipStreamWaitValue32 on a counter Vulkan writes): no semaphores needed.
    StreamWait,
    /// One buffer, each API idles while the other works (the ROCm docs' scheme).
    Serial,
}

impl From<SyncArg> for SyncRequest {
    fn from(arg: SyncArg) -> Self {
        match arg {
            SyncArg::Auto => SyncRequest::Auto,
            SyncArg::Timeline => SyncRequest::Timeline,
            SyncArg::Binary => SyncRequest::Binary,
            SyncArg::Host => SyncRequest::Host,
            SyncArg::StreamWait => SyncRequest::StreamWait,
            SyncArg::Serial => SyncRequest::Serial,
        }
    }
}

impl PresentMode {
    /// The Vulkan present mode.
    pub fn to_vulkan(self) -> ash::vk::PresentModeKHR {
        use ash::vk::PresentModeKHR as P;
        match self {
            PresentMode::Fifo => P::FIFO,
            PresentMode::FifoRelaxed => P::FIFO_RELAXED,
            PresentMode::Mailbox => P::MAILBOX,
            PresentMode::Immediate => P::IMMEDIATE,
        }
    }
}

/// Who writes the heights every frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum HeightsSource {
    /// The best source this machine runs: hip, else vulkan, else cpu (the log says why).
    Auto,
    /// The CPU reference, uploaded through a staging buffer (works on any Vulkan device).
    Cpu,
    /// The HIP kernel, writing straight into the exported Vulkan buffers.
    Hip,
    /// A Vulkan compute shader (no HIP; the baseline the interop is measured against).
    Vulkan,
}

/// How the grid is lit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ShadingArg {
    /// image where the height source writes shading images, else vertex.
    Auto,
    /// Face normals from screen-space derivatives (no image).
    Vertex,
    /// Per-texel normals from a shading image the height source writes every frame.
    Image,
    /// image, with HIP writing a buffer that Vulkan copies into the image even where HIP
    /// could write the image itself (the path of runtimes that cannot map images: ROCm).
    ImageCopy,
}

/// Who allocates the height buffers' memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MemoryOwnerArg {
    /// Vulkan allocates exportable buffers; HIP imports them.
    Vulkan,
    /// HIP allocates (hipMemCreate, exported as a file descriptor); Vulkan imports it.
    Hip,
}

impl From<MemoryOwnerArg> for MemoryOwner {
    fn from(arg: MemoryOwnerArg) -> Self {
        match arg {
            MemoryOwnerArg::Vulkan => MemoryOwner::Vulkan,
            MemoryOwnerArg::Hip => MemoryOwner::Hip,
        }
    }
}

/// The animated sinewave grid, rendered by Vulkan, heights written by HIP (or the CPU).
#[derive(Clone, Debug, Parser)]
#[command(name = "hip-vulkan-sinewave", version, about, long_about = None)]
pub struct Cli {
    /// Grid of heights, WIDTHxHEIGHT vertices (each side 2..=16384).
    #[arg(long, value_name = "WxH", default_value = "1024x1024", value_parser = parse_grid, allow_hyphen_values = true)]
    pub grid: Size2,

    /// Window size, or the image size with --headless.
    #[arg(long, value_name = "WxH", default_value = "1280x800", value_parser = parse_render_size, allow_hyphen_values = true)]
    pub size: Size2,

    /// Frames the CPU may queue ahead of the GPU; also the number of height buffers (1..=4).
    #[arg(long, value_name = "K", default_value = "2", value_parser = parse_frames_in_flight)]
    pub frames_in_flight: u32,

    /// Swapchain present mode (falls back to fifo when the surface lacks it).
    #[arg(long, value_enum, default_value = "fifo")]
    pub present_mode: PresentMode,

    /// Enable the Khronos validation layer; the run fails if it reports anything.
    #[arg(long)]
    pub validation: bool,

    /// Who writes the heights.
    #[arg(long, value_enum, default_value = "auto")]
    pub heights: HeightsSource,

    /// Use this Vulkan physical device (index as listed in the log) instead of choosing.
    #[arg(long, value_name = "N")]
    pub device: Option<usize>,

    /// Render offscreen, with no window and no display.
    #[arg(long)]
    pub headless: bool,

    /// Stop after this many frames (headless default: 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub frames: Option<u64>,

    /// Animation time of the first frame, in seconds (a fixed time makes images repeatable).
    #[arg(long, value_name = "SECONDS", default_value = "0", allow_negative_numbers = true)]
    pub time: f64,

    /// Animation time step per frame in seconds; default: the wall clock.
    #[arg(long, value_name = "SECONDS")]
    pub time_step: Option<f64>,

    /// Headless: advance animation time by the wall clock, as the window does (run-ahead
    /// then writes frames at predicted times). Without it a headless run stays at --time,
    /// so its images repeat.
    #[arg(long, requires = "headless", conflicts_with = "time_step")]
    pub wall_clock: bool,

    /// Write the last rendered frame as a PNG (headless only).
    #[arg(long, value_name = "FILE", requires = "headless")]
    pub screenshot: Option<PathBuf>,

    /// Do not draw the overlay (the panel with the GPU, who writes the heights and how, and
    /// the frame-time graph; F1 toggles it in the window).
    #[arg(long)]
    pub no_overlay: bool,

    /// Draw the grid as lines (if the device supports non-solid fill).
    #[arg(long)]
    pub wireframe: bool,

    /// How HIP and Vulkan hand each height buffer to each other (with --heights hip).
    #[arg(long, value_enum, default_value = "auto")]
    pub sync: SyncArg,

    /// With --sync timeline|binary|stream-wait: HIP writes up to this many frames per hand-over
    /// (1..=16; more than the frames in flight adds height buffers), at the times the
    /// animation clock fixes for them, amortising the cost of switching the GPU between
    /// HIP and Vulkan work. Default with timeline sync: as many as 64 MiB of height
    /// buffers hold (16 up to 1024x1024), at least the frames in flight; else 1.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_RUN_AHEAD)))]
    pub run_ahead: Option<u32>,

    /// How the grid is lit: image samples a per-texel normal image the height source writes
    /// each frame (HIP, the compute shader or the CPU); vertex derives face normals in the
    /// fragment shader;
    /// auto takes image where the source writes it; image-copy is image through HIP's
    /// buffer-and-copy path.
    #[arg(long, value_enum, default_value = "auto")]
    pub shading: ShadingArg,

    /// Who allocates the height buffers (with --heights hip): vulkan exports its memory
    /// to HIP; hip allocates with its virtual memory API (hipMemCreate) and Vulkan imports it.
    #[arg(long, value_enum, default_value = "vulkan")]
    pub memory_owner: MemoryOwnerArg,

    /// Load the HIP kernel from this code object instead of the one built in.
    #[arg(long, value_name = "FILE")]
    pub kernel: Option<PathBuf>,

    /// After the last frame, read its heights back through Vulkan and compare them with
    /// the CPU reference; fail if the largest error exceeds 1e-5.
    #[arg(long)]
    pub verify: bool,

    /// Headless: the window's live switches, applied in turn, each after --frames N frames
    /// (and --verify, --screenshot after the last): h who writes the heights, s the sync
    /// strategy, 1-4 frames in flight, g the grid. E.g. `h,h,s,1,g`.
    #[arg(long, value_name = "KEYS", value_delimiter = ',', value_parser = parse_switch, requires = "headless")]
    pub switches: Vec<Switch>,

    /// Headless: every N frames, log resident memory, GPU memory in use and open file
    /// descriptors (long soak runs).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub report_every: Option<u64>,

    /// Benchmark (offscreen, no window): every mode × grid × frames in flight in one run.
    #[arg(long, conflicts_with_all = ["headless", "screenshot", "verify"])]
    pub bench: bool,

    /// Modes to benchmark (hip-memory, timeline on HIP-owned memory, is not in the default
    /// set: it repeats timeline's configurations; name it beside timeline to compare them).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "timeline,binary,host,serial,copy,vulkan")]
    pub bench_modes: Vec<crate::app::bench::BenchMode>,

    /// Grid sides to benchmark (each grid is side × side).
    #[arg(long, value_delimiter = ',', default_value = "256,1024,4096,8192",
          value_parser = clap::value_parser!(u32).range(2..=i64::from(MAX_GRID_SIDE)))]
    pub bench_grids: Vec<u32>,

    /// Frames in flight to benchmark the pipelined modes with.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,4",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_FRAMES_IN_FLIGHT)))]
    pub bench_frames_in_flight: Vec<u32>,

    /// Run-ahead values to benchmark the timeline mode with (binary: only those ≤ K).
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,16",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_RUN_AHEAD)))]
    pub bench_run_ahead: Vec<u32>,

    /// How animation time advances in the benchmark: a fixed step per frame (times known
    /// in advance) and/or the wall clock (as the window runs; times ahead predicted).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "fixed,wall")]
    pub bench_time: Vec<crate::app::bench::BenchTime>,

    /// Draw the overlay in the benchmark's frames: off (the default), on, or both (its
    /// cost, as a ratio in one run).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "off")]
    pub bench_overlay: Vec<crate::app::bench::BenchOverlay>,

    /// Warm-up frames per configuration (not timed).
    #[arg(long, value_name = "N", default_value = "100")]
    pub bench_warmup: u64,

    /// Timed frames per configuration (fewer if --bench-seconds runs out first).
    #[arg(long, value_name = "N", default_value = "1000", value_parser = clap::value_parser!(u64).range(1..))]
    pub bench_frames: u64,

    /// Time cap for the timed frames of one configuration (at least 30 frames are timed).
    #[arg(long, value_name = "SECONDS", default_value = "2")]
    pub bench_seconds: f64,

    /// Render size of the benchmark.
    #[arg(long, value_name = "WxH", default_value = "1920x1080", value_parser = parse_render_size)]
    pub bench_size: Size2,

    /// Also write the results as JSON here.
    #[arg(long, value_name = "FILE", requires = "bench")]
    pub bench_json: Option<PathBuf>,

    /// Also draw the results as a PNG chart here (frame time by stage, per mode and grid);
    /// with --chart-from, the chart to write.
    #[arg(long, value_name = "FILE")]
    pub bench_chart: Option<PathBuf>,

    /// Draw the --bench-chart from these saved --bench-json files (comma-separated; their
    /// records are put together) and exit, running nothing.
    #[arg(long, value_name = "FILE.json", value_delimiter = ',', requires = "bench_chart", conflicts_with = "bench")]
    pub chart_from: Vec<PathBuf>,

    /// GPU name for the chart's title.
    #[arg(long, value_name = "NAME", default_value = "NVIDIA H100 80GB HBM3")]
    pub chart_gpu: String,
}

impl Cli {
    /// Checks the combinations clap cannot express. Call after parsing.
    pub fn validate(&self) -> Result<(), String> {
        if self.bench_chart.is_some() && !self.bench && self.chart_from.is_empty() {
            return Err("--bench-chart needs --bench or --chart-from".into());
        }
        if !(self.bench_seconds.is_finite() && self.bench_seconds > 0.0) {
            return Err(format!("--bench-seconds must be a positive number, got {}", self.bench_seconds));
        }
        if self.memory_owner == MemoryOwnerArg::Hip
            && matches!(self.heights, HeightsSource::Cpu | HeightsSource::Vulkan)
        {
            let given = if self.heights == HeightsSource::Cpu { "cpu" } else { "vulkan" };
            return Err(format!(
                "--memory-owner hip: only the HIP kernel writes HIP's memory; use --heights hip (not {given})"
            ));
        }
        for (name, value) in [("--time", Some(self.time)), ("--time-step", self.time_step)] {
            if let Some(v) = value {
                if !v.is_finite() {
                    return Err(format!("{name} must be a finite number of seconds, got {v}"));
                }
            }
        }
        Ok(())
    }

    /// Frames to render before exiting, if bounded.
    pub fn frame_limit(&self) -> Option<u64> {
        match (self.frames, self.headless) {
            (Some(n), _) => Some(n),
            (None, true) => Some(1),
            (None, false) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("hip-vulkan-sinewave").chain(args.iter().copied()))
    }

    fn error_text(args: &[&str]) -> String {
        parse(args).expect_err("should be rejected").to_string()
    }

    #[test]
    fn defaults() {
        let cli = parse(&[]).unwrap();
        assert_eq!(cli.grid, Size2::new(1024, 1024));
        assert_eq!(cli.frames_in_flight, 2);
        assert_eq!(cli.present_mode, PresentMode::Fifo);
        assert_eq!(cli.heights, HeightsSource::Auto);
        assert!(!cli.headless && !cli.validation);
        assert_eq!(cli.frame_limit(), None);
    }

    #[test]
    fn headless_options() {
        let cli = parse(&["--headless", "--frames", "5", "--size", "1920x1080", "--screenshot", "o.png"]).unwrap();
        assert_eq!(cli.size, Size2::new(1920, 1080));
        assert_eq!(cli.frame_limit(), Some(5));
        assert_eq!(cli.screenshot.as_deref(), Some(std::path::Path::new("o.png")));
        assert_eq!(parse(&["--headless"]).unwrap().frame_limit(), Some(1));
    }

    #[test]
    fn grid_parses_both_separators() {
        assert_eq!(parse(&["--grid", "64X32"]).unwrap().grid, Size2::new(64, 32));
        assert_eq!(parse(&["--grid", "2x2"]).unwrap().grid, Size2::new(2, 2));
    }

    #[test]
    fn bad_grids_are_explained() {
        assert!(error_text(&["--grid", "0x0"]).contains("width 0 is out of range"));
        assert!(error_text(&["--grid", "1x64"]).contains("must be 2..=16384"));
        assert!(error_text(&["--grid", "-5x5"]).contains("negative"));
        assert!(error_text(&["--grid", "abc"]).contains("not WIDTHxHEIGHT"));
        assert!(error_text(&["--grid", "12xq"]).contains("height 'q' is not a whole number"));
        assert!(error_text(&["--grid", "99999999999x2"]).contains("not a whole number"));
        assert!(error_text(&["--grid", "16385x16"]).contains("out of range"));
    }

    #[test]
    fn bad_sizes_and_counts_are_explained() {
        assert!(error_text(&["--size", "0x100"]).contains("out of range"));
        assert!(error_text(&["--frames-in-flight", "0"]).contains("1..=4"));
        assert!(error_text(&["--frames-in-flight", "9"]).contains("1..=4"));
        assert!(error_text(&["--frames", "0"]).contains("invalid value '0' for '--frames <N>': 0 is not in 1.."));
        assert!(error_text(&["--present-mode", "vsync"]).contains("possible values"));
        assert!(error_text(&["--heights", "gpu"]).contains("possible values"));
        assert!(error_text(&["--screenshot", "x.png"]).contains("--headless"));
    }

    #[test]
    fn non_finite_time_is_rejected() {
        let cli = parse(&["--time", "NaN"]).unwrap();
        assert!(cli.validate().unwrap_err().contains("finite"));
        assert!(parse(&["--time", "-3.5"]).unwrap().validate().is_ok());
    }
}
