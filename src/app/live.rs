//! Live switching in the window: who writes the heights, how HIP hands them over, the
//! frames in flight and the grid, changed while the demo runs. Each switch rebuilds only
//! what depends on what changed ([`Renderer::reconfigure`] for the grid and the buffers,
//! a new height source otherwise), logs what it rebuilt, and leaves the rest (device,
//! window, pipeline, overlay) alone. A switch the machine cannot make (HIP without a HIP
//! GPU, say) is refused with the reason, and the demo goes on as it was.

use std::fmt;

use anyhow::{Context, Result};

pub use crate::app::cli::Switch;
use crate::app::cli::{Cli, HeightsSource, Size2, SyncArg, MAX_FRAMES_IN_FLIGHT};
use crate::app::heights::hip_copy::HipCopyHeights;
use crate::app::heights::vulkan_compute::ComputeHeights;
use crate::app::renderer::{Renderer, RendererOptions};
use crate::app::setup::{self, HipReady};
use crate::interop::source::HeightSource;
use crate::vulkan::DeviceSelection;

/// Who writes the heights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Writer {
    /// The HIP kernel, in place (zero-copy).
    Hip,
    /// The HIP kernel into its own memory, then through the host into Vulkan's (the copy
    /// an application without interop pays).
    HipCopy,
    /// A Vulkan compute shader.
    Vulkan,
    /// The CPU, through a staging upload.
    Cpu,
}

impl Writer {
    /// The next one in the order the H key cycles through.
    pub fn next(self) -> Self {
        match self {
            Writer::Hip => Writer::HipCopy,
            Writer::HipCopy => Writer::Vulkan,
            Writer::Vulkan => Writer::Cpu,
            Writer::Cpu => Writer::Hip,
        }
    }
}

impl fmt::Display for Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Writer::Hip => "hip (zero-copy)",
            Writer::HipCopy => "hip-copy (through the host)",
            Writer::Vulkan => "vulkan compute",
            Writer::Cpu => "cpu",
        })
    }
}

/// The strategies the S key cycles through, in order.
pub const SYNC_CYCLE: [SyncArg; 5] =
    [SyncArg::Timeline, SyncArg::Binary, SyncArg::Host, SyncArg::StreamWait, SyncArg::Serial];

/// The square grids the G key cycles through.
pub const GRID_SIDES: [u32; 5] = [128, 256, 512, 1024, 2048];

/// The overlay's buttons: what each says and the switch it asks for.
pub fn buttons() -> Vec<(String, Switch)> {
    let mut buttons = vec![("H heights".to_string(), Switch::NextWriter), ("S sync".to_string(), Switch::NextSync)];
    buttons.extend((1..=MAX_FRAMES_IN_FLIGHT).map(|k| (format!("K={k}"), Switch::FramesInFlight(k))));
    buttons.push(("G grid".to_string(), Switch::NextGrid));
    buttons
}

/// What the demo runs now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    pub writer: Writer,
    pub sync: SyncArg,
    pub frames_in_flight: u32,
    pub grid: Size2,
}

impl Settings {
    /// `self` after `switch`.
    pub fn after(self, switch: Switch) -> Self {
        let mut next = self;
        match switch {
            Switch::NextWriter => next.writer = self.writer.next(),
            Switch::NextSync => {
                let at = SYNC_CYCLE.iter().position(|&s| s == self.sync);
                next.sync = SYNC_CYCLE[at.map_or(0, |i| (i + 1) % SYNC_CYCLE.len())];
            }
            Switch::FramesInFlight(k) => next.frames_in_flight = k.clamp(1, MAX_FRAMES_IN_FLIGHT),
            Switch::NextGrid => {
                let largest = self.grid.width.max(self.grid.height);
                let side = GRID_SIDES.iter().copied().find(|&s| s > largest).unwrap_or(GRID_SIDES[0]);
                next.grid = Size2 { width: side, height: side };
            }
        }
        next
    }
}

impl fmt::Display for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "heights {}, ", self.writer)?;
        if matches!(self.writer, Writer::Hip) {
            write!(f, "sync {:?}, ", self.sync)?;
        }
        write!(f, "{} frame(s) in flight, grid {}", self.frames_in_flight, self.grid)
    }
}

/// What [`Live::apply`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The new settings run.
    Switched,
    /// They were the current ones.
    Unchanged,
    /// They cannot run here (the reason); the previous ones run again.
    Refused(String),
}

/// The window's switcher: the current settings, and HIP when it opened.
pub struct Live {
    settings: Settings,
    hip: Option<HipReady>,
    hip_unavailable: Option<String>,
    selection: DeviceSelection,
    base: Cli,
}

impl Live {
    /// The switcher for what [`setup::build`] made.
    pub(crate) fn new(cli: &Cli, built: &mut setup::Built) -> Self {
        let writer = match built.heights {
            HeightsSource::Hip | HeightsSource::Auto => Writer::Hip,
            HeightsSource::Cpu => Writer::Cpu,
            HeightsSource::Vulkan => Writer::Vulkan,
        };
        let renderer = &built.renderer;
        let sync = match cli.sync {
            SyncArg::Auto => SyncArg::Timeline,
            other => other,
        };
        let (width, height) = renderer.grid();
        Self {
            settings: Settings {
                writer,
                sync,
                frames_in_flight: renderer.frames_in_flight(),
                grid: Size2 { width, height },
            },
            hip: built.hip.take(),
            hip_unavailable: built.hip_unavailable.take(),
            selection: built.selection,
            base: cli.clone(),
        }
    }

    /// What runs now.
    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// Applies `switch`. When the new settings cannot run here, the switch is refused
    /// ([`Outcome::Refused`], with the reason) and the previous settings are restored; an
    /// error is returned only when that restore fails too (the demo cannot go on).
    pub fn apply(&mut self, renderer: &mut Renderer, switch: Switch) -> Result<Outcome> {
        let mut wanted = self.settings.after(switch);
        // Writers that need HIP are skipped where HIP is not there (else H could never get
        // past them).
        while matches!(wanted.writer, Writer::Hip | Writer::HipCopy) && self.hip.is_none() {
            log::info!(
                "switch {switch}: skipping {} (HIP is not available here: {})",
                wanted.writer,
                self.hip_unavailable.as_deref().unwrap_or("it did not open at start")
            );
            wanted = wanted.after(Switch::NextWriter);
        }
        if wanted == self.settings {
            log::info!("switch {switch}: nothing changes ({})", self.settings);
            return Ok(Outcome::Unchanged);
        }
        // The sync strategy is HIP's: for another writer it is only remembered.
        let only_sync = Settings { sync: self.settings.sync, ..wanted } == self.settings;
        if wanted.writer != Writer::Hip && only_sync {
            log::info!(
                "switch {switch}: sync {:?} noted, for when HIP writes the heights; nothing rebuilt",
                wanted.sync
            );
            self.settings = wanted;
            self.refresh_overlay(renderer);
            return Ok(Outcome::Switched);
        }
        match self.run(renderer, wanted) {
            Ok(rebuilt) => {
                let wanted = Settings { frames_in_flight: renderer.frames_in_flight(), ..wanted };
                log::info!(
                    "switch {switch}: now {wanted}; rebuilt {}; heights: {}",
                    if rebuilt.is_empty() { "only the height source".to_string() } else { rebuilt.join(", ") },
                    renderer.source_name()
                );
                self.settings = wanted;
                self.refresh_overlay(renderer);
                Ok(Outcome::Switched)
            }
            Err(why) => {
                log::warn!("switch {switch} refused: {why:#}; staying with {}", self.settings);
                let previous = self.settings;
                self.run(renderer, previous)
                    .with_context(|| format!("restoring {previous} after a refused switch ({why:#})"))?;
                self.refresh_overlay(renderer);
                Ok(Outcome::Refused(format!("{why:#}")))
            }
        }
    }

    /// Makes the renderer run `settings`: reconfigures it where the grid, frames in flight
    /// or buffer count differ, then gives it a new height source. Returns what was rebuilt
    /// beyond the source.
    fn run(&self, renderer: &mut Renderer, settings: Settings) -> Result<Vec<&'static str>> {
        if matches!(settings.writer, Writer::Hip | Writer::HipCopy) && self.hip.is_none() {
            anyhow::bail!(
                "HIP is not available here: {}",
                self.hip_unavailable.as_deref().unwrap_or("it did not open at start")
            );
        }
        let mut cli = self.base.clone();
        cli.heights = match settings.writer {
            Writer::Hip | Writer::HipCopy => HeightsSource::Hip,
            Writer::Vulkan => HeightsSource::Vulkan,
            Writer::Cpu => HeightsSource::Cpu,
        };
        cli.sync = settings.sync;
        cli.frames_in_flight = settings.frames_in_flight;
        cli.grid = settings.grid;
        cli.run_ahead = None;
        // serial has one buffer by definition: one frame in flight (logged), as on the
        // command line.
        let k = if settings.writer == Writer::Hip { setup::frames_in_flight(&cli) } else { cli.frames_in_flight };
        let run_ahead =
            if settings.writer == Writer::Hip { setup::planned_run_ahead(&cli, self.hip.as_ref(), k) } else { k };
        let options = RendererOptions {
            grid_width: settings.grid.width,
            grid_height: settings.grid.height,
            frames_in_flight: k,
            extra_height_slots: run_ahead.saturating_sub(k),
            ..renderer.options()
        };
        renderer.drop_height_source()?;
        let rebuilt = renderer.reconfigure(&options)?;
        let source: Box<dyn HeightSource> = match (settings.writer, &self.hip) {
            (Writer::Hip, Some(ready)) => setup::hip_source(renderer, &cli, ready, run_ahead)?,
            (Writer::HipCopy, Some(ready)) => {
                Box::new(HipCopyHeights::new(&ready.setup, renderer.device(), renderer.slots(), ready.kernel.clone())?)
            }
            (Writer::Vulkan, _) => Box::new(ComputeHeights::new(renderer.device(), renderer.slots())?),
            (Writer::Cpu, _) => setup::cpu_source(renderer, &cli)?,
            (Writer::Hip | Writer::HipCopy, None) => unreachable!("checked above"),
        };
        renderer.set_height_source(source)?;
        Ok(rebuilt)
    }

    /// Puts the current settings and the controls in the overlay's panel.
    pub fn refresh_overlay(&self, renderer: &mut Renderer) {
        let mut lines = setup::overlay_lines(renderer, &self.selection);
        lines.extend(CONTROLS.iter().map(|c| c.to_string()));
        if let Some(overlay) = crate::app::overlay::of(renderer) {
            overlay.set_info(lines);
            overlay.set_buttons(buttons().into_iter().map(|(label, _)| label).collect());
        }
    }
}

/// The keys, as the overlay lists them.
pub const CONTROLS: [&str; 5] = [
    "H: heights hip / hip-copy / vulkan / cpu",
    "S: sync timeline / binary / host / stream-wait / serial",
    "1-4: frames in flight    G: grid 128..2048",
    "drag: orbit   wheel: zoom   Space: pause",
    "W: wireframe   F1: this panel   Esc: quit",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> Settings {
        Settings {
            writer: Writer::Hip,
            sync: SyncArg::Timeline,
            frames_in_flight: 2,
            grid: Size2 { width: 1024, height: 1024 },
        }
    }

    #[test]
    fn each_switch_changes_one_thing_and_cycles_back() {
        let mut s = start();
        for expected in [Writer::HipCopy, Writer::Vulkan, Writer::Cpu, Writer::Hip] {
            s = s.after(Switch::NextWriter);
            assert_eq!(s.writer, expected);
            assert_eq!((s.sync, s.frames_in_flight, s.grid), (start().sync, 2, start().grid));
        }
        let mut s = start();
        for expected in [SyncArg::Binary, SyncArg::Host, SyncArg::StreamWait, SyncArg::Serial, SyncArg::Timeline] {
            s = s.after(Switch::NextSync);
            assert_eq!(s.sync, expected);
        }
        assert_eq!(start().after(Switch::FramesInFlight(3)).frames_in_flight, 3);
        assert_eq!(start().after(Switch::FramesInFlight(9)).frames_in_flight, MAX_FRAMES_IN_FLIGHT);
        let grids: Vec<u32> = std::iter::successors(Some(start()), |s| Some(s.after(Switch::NextGrid)))
            .skip(1)
            .take(6)
            .map(|s| s.grid.width)
            .collect();
        assert_eq!(grids, [2048, 128, 256, 512, 1024, 2048]);
        // A grid that is not square goes to the next side above its larger one.
        let odd = Settings { grid: Size2 { width: 300, height: 96 }, ..start() };
        assert_eq!(odd.after(Switch::NextGrid).grid, Size2 { width: 512, height: 512 });
    }
}
