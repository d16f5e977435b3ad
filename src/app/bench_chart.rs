//! `--bench-chart`: the `--bench` results as a PNG, "frame time by stage": one panel per
//! grid size, one bar per mode (its best configuration at that grid, highest frames/s),
//! each bar stacked kernel, transfer, draw, and what is left of the frame (sync + CPU).
//!
//! The input is the JSON `--bench-json` writes (see [`crate::app::bench::write_json`]), so a
//! chart can be drawn again from a saved run (`--chart-from`). The data selection is pure
//! ([`parse_records`], [`panels`], [`Stages::of`]); only [`render_chart`] draws.
//!
//! Text is drawn with a TrueType font read at run time from `$HVS_CHART_FONT`
//! (default [`DEFAULT_FONT`]); no font is built in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use anyhow::{anyhow, bail, Context, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::Deserialize;

use crate::app::bench::Record;

/// Environment variable naming the TrueType font the chart's text is drawn with.
pub const FONT_ENV: &str = "HVS_CHART_FONT";
/// Font used when [`FONT_ENV`] is unset (DejaVu Sans, as Debian and Ubuntu install it).
pub const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
/// Render size assumed by [`render_chart`] (the default `--bench-size`).
pub const DEFAULT_RENDER_SIZE: (u32, u32) = (1920, 1080);
/// Size of the PNG, pixels.
pub const CHART_SIZE: (u32, u32) = (1600, 900);

/// Modes in the order the bars are drawn (the order of `--bench-modes`); modes not listed
/// here (from a newer JSON) follow, alphabetically.
pub const MODE_ORDER: [&str; 9] =
    ["timeline", "hip-memory", "image", "binary", "host", "stream-wait", "serial", "copy", "vulkan"];

/// One per-configuration record of the bench JSON: the fields the chart needs.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct FrameRecord {
    pub mode: String,
    /// `fixed` (a fixed time step) or `wall` (the wall clock); records written before the
    /// field existed are fixed-step.
    #[serde(default = "fixed_time")]
    pub time: String,
    pub grid: u32,
    pub frames_in_flight: u32,
    pub run_ahead: u32,
    pub fps: f64,
    pub kernel_ms: f64,
    #[serde(default)]
    pub transfer_ms: f64,
    pub draw_ms: f64,
    /// Drawn with the overlay (`--bench-overlay on`): left out of the chart.
    #[serde(default)]
    pub overlay: bool,
}

fn fixed_time() -> String {
    "fixed".to_string()
}

/// One frame split into stages, milliseconds; every part is ≥ 0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stages {
    pub kernel: f64,
    pub transfer: f64,
    pub draw: f64,
    /// What the stages leave of the frame time: max(0, frame − kernel − transfer − draw).
    pub sync_cpu: f64,
    /// The throughput frame time, 1000 / fps.
    pub frame: f64,
}

impl Stages {
    /// The split of `record`'s frame. Negative or non-finite stage times count as 0.
    pub fn of(record: &FrameRecord) -> Self {
        let clean = |v: f64| if v.is_finite() { v.max(0.0) } else { 0.0 };
        let (kernel, transfer, draw) = (clean(record.kernel_ms), clean(record.transfer_ms), clean(record.draw_ms));
        let frame = clean(1000.0 / record.fps);
        Stages { kernel, transfer, draw, sync_cpu: (frame - kernel - transfer - draw).max(0.0), frame }
    }

    /// Height of the stacked bar: the frame time, or more where the stages overlap.
    pub fn top(&self) -> f64 {
        self.kernel + self.transfer + self.draw + self.sync_cpu
    }

    /// The parts in drawing order, bottom up, with the legend's names.
    pub fn parts(&self) -> [(Stage, f64); 4] {
        [
            (Stage::Kernel, self.kernel),
            (Stage::Transfer, self.transfer),
            (Stage::Draw, self.draw),
            (Stage::SyncCpu, self.sync_cpu),
        ]
    }
}

/// A stage of the frame: a colour and a legend entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Kernel,
    Transfer,
    Draw,
    SyncCpu,
}

impl Stage {
    pub const ALL: [Stage; 4] = [Stage::Kernel, Stage::Transfer, Stage::Draw, Stage::SyncCpu];

    pub fn label(self) -> &'static str {
        match self {
            Stage::Kernel => "kernel (heights)",
            Stage::Transfer => "transfer (copy path)",
            Stage::Draw => "draw",
            Stage::SyncCpu => "sync + CPU",
        }
    }

    fn color(self) -> RGBColor {
        match self {
            Stage::Kernel => RGBColor(230, 120, 20),
            Stage::Transfer => RGBColor(150, 95, 190),
            Stage::Draw => RGBColor(45, 115, 180),
            Stage::SyncCpu => RGBColor(170, 170, 170),
        }
    }
}

/// One bar: a mode's best configuration at one grid size.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub mode: String,
    pub frames_in_flight: u32,
    pub run_ahead: u32,
    pub fps: f64,
    pub stages: Stages,
}

/// One panel: a grid size and time mode, and its bars, in [`MODE_ORDER`].
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    pub grid: u32,
    /// `fixed` or `wall` (see [`FrameRecord::time`]).
    pub time: String,
    pub bars: Vec<Bar>,
}

/// Parses the bench JSON (an array of records); skips the `"mode": "kernel"` record.
pub fn parse_records(json: &str) -> Result<Vec<FrameRecord>> {
    let values: Vec<serde_json::Value> =
        serde_json::from_str(json).context("not a bench JSON file (expected an array of records)")?;
    let mut records = Vec::with_capacity(values.len());
    for (i, value) in values.into_iter().enumerate() {
        if value.get("mode").and_then(|m| m.as_str()) == Some("kernel") {
            continue;
        }
        let record = serde_json::from_value(value).with_context(|| format!("bench record {i}"))?;
        records.push(record);
    }
    Ok(records)
}

/// Serialises `--bench` records the way [`crate::app::bench::write_json`] does (without the
/// kernel record, which the chart does not use).
pub fn records_json(records: &[Record]) -> Result<String> {
    let values: Vec<serde_json::Value> = records.iter().map(serde_json::to_value).collect::<Result<_, _>>()?;
    Ok(serde_json::to_string(&values)?)
}

/// Sort key of a mode: its place in [`MODE_ORDER`], then its name.
fn mode_rank(mode: &str) -> (usize, &str) {
    (MODE_ORDER.iter().position(|&m| m == mode).unwrap_or(MODE_ORDER.len()), mode)
}

/// The chart's panels: one per grid size (ascending) and time mode (fixed step first),
/// one bar per mode, each the mode's configuration with the highest frames/s there (the
/// first one on ties). Records with no usable frames/s (≤ 0, not finite) are left out.
pub fn panels(records: &[FrameRecord]) -> Vec<Panel> {
    let mut best: BTreeMap<(u32, bool, &str), Vec<&FrameRecord>> = BTreeMap::new();
    for r in records.iter().filter(|r| r.fps.is_finite() && r.fps > 0.0 && !r.overlay) {
        let bars = best.entry((r.grid, r.time != "fixed", r.time.as_str())).or_default();
        match bars.iter_mut().find(|b| b.mode == r.mode) {
            Some(b) if r.fps > b.fps => *b = r,
            Some(_) => {}
            None => bars.push(r),
        }
    }
    best.into_iter()
        .map(|((grid, _, time), mut bars)| {
            bars.sort_by(|a, b| mode_rank(&a.mode).cmp(&mode_rank(&b.mode)));
            let bars = bars
                .into_iter()
                .map(|r| Bar {
                    mode: r.mode.clone(),
                    frames_in_flight: r.frames_in_flight,
                    run_ahead: r.run_ahead,
                    fps: r.fps,
                    stages: Stages::of(r),
                })
                .collect();
            Panel { grid, time: time.to_string(), bars }
        })
        .collect()
}

/// The chart's title.
pub fn title(gpu: &str, (width, height): (u32, u32)) -> String {
    format!("Frame time by stage (best configuration per mode), {gpu}, {width}×{height}")
}

/// Rows and columns of the panel grid for `n` panels.
fn layout(n: usize) -> (usize, usize) {
    let cols = match n {
        0..=2 => n.max(1),
        3 | 4 => 2,
        _ => 3,
    };
    (n.div_ceil(cols), cols)
}

/// A frame time, with as many decimals as make sense for its size.
fn format_ms(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.2}")
    } else if ms < 100.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

/// The font file to use: `$HVS_CHART_FONT`, else [`DEFAULT_FONT`].
pub fn font_path() -> PathBuf {
    std::env::var_os(FONT_ENV).filter(|v| !v.is_empty()).map_or_else(|| PathBuf::from(DEFAULT_FONT), PathBuf::from)
}

/// Registers the font at `path` as plotters' "sans-serif" (once per path per process).
pub fn load_font(path: &Path) -> Result<()> {
    static REGISTERED: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut registered = REGISTERED.lock().unwrap_or_else(PoisonError::into_inner);
    if registered.as_deref() == Some(path) {
        return Ok(());
    }
    let bytes = std::fs::read(path).with_context(|| {
        format!("cannot read the chart font {} (set {FONT_ENV} to a TrueType font file)", path.display())
    })?;
    // plotters keeps fonts for the life of the process and wants `'static` bytes: leak
    // them, once per font file.
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).map_err(|_| {
        anyhow!("the chart font {} is not a TrueType/OpenType font (set {FONT_ENV} to one)", path.display())
    })?;
    *registered = Some(path.to_path_buf());
    Ok(())
}

/// Draws the chart of `records_json` (the `--bench-json` format) into the PNG `out`,
/// titled with `gpu` and the default render size ([`DEFAULT_RENDER_SIZE`]).
pub fn render_chart(records_json: &str, gpu: &str, out: &Path) -> Result<()> {
    render_chart_at(records_json, gpu, DEFAULT_RENDER_SIZE, out)
}

/// [`render_chart`] for a benchmark rendered at `render_size`.
pub fn render_chart_at(records_json: &str, gpu: &str, render_size: (u32, u32), out: &Path) -> Result<()> {
    let panels = panels(&parse_records(records_json)?);
    if panels.is_empty() {
        bail!("the bench JSON has no per-configuration records with a positive frames/s");
    }
    load_font(&font_path())?;
    draw(&panels, &title(gpu, render_size), out).with_context(|| format!("drawing the chart {}", out.display()))
}

/// plotters' errors are generic over the backend; keep their message.
fn plot_err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("{e}")
}

/// The registered "sans-serif" font at `size` pixels, anchored at (`h`, `v`).
fn text_style(size: f64, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle::from(("sans-serif", size).into_font()).pos(Pos::new(h, v))
}

const TITLE_H: u32 = 56;
const LEGEND_H: u32 = 44;
const FOOTER_H: u32 = 30;
const FOOTNOTE: &str = "Bar label: frame time, 1000 / fps.  K = frames in flight, r = run-ahead.  \
Where a stack rises above the frame-time mark, its stages overlap across frames in flight.";
const MODE_FONT: f64 = 16.0;
const CONFIG_FONT: f64 = 14.0;

fn draw(panels: &[Panel], title: &str, out: &Path) -> Result<()> {
    let root = BitMapBackend::new(out, CHART_SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err)?;
    let (title_area, rest) = root.split_vertically(TITLE_H);
    let (legend_area, rest) = rest.split_vertically(LEGEND_H);
    let (panel_area, footer_area) = rest.split_vertically(CHART_SIZE.1 - TITLE_H - LEGEND_H - FOOTER_H);

    let (w, _) = title_area.dim_in_pixel();
    title_area
        .draw(&Text::new(
            title.to_string(),
            (w as i32 / 2, TITLE_H as i32 / 2 + 4),
            text_style(26.0, HPos::Center, VPos::Center),
        ))
        .map_err(plot_err)?;
    draw_legend(&legend_area)?;
    footer_area
        .draw(&Text::new(
            FOOTNOTE,
            (w as i32 / 2, FOOTER_H as i32 / 2),
            text_style(15.0, HPos::Center, VPos::Center).color(&RGBColor(70, 70, 70)),
        ))
        .map_err(plot_err)?;

    let (rows, cols) = layout(panels.len());
    let areas = panel_area.margin(0, 0, 8, 16).split_evenly((rows, cols));
    for (panel, area) in panels.iter().zip(&areas) {
        draw_panel(&root, area, panel)?;
    }
    root.present().map_err(plot_err)?;
    Ok(())
}

/// The legend, in its own strip under the title, so it never covers a bar.
fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, plotters::coord::Shift>) -> Result<()> {
    let font = text_style(17.0, HPos::Left, VPos::Center);
    let swatch = 18;
    let (gap, item_gap) = (8, 34);
    let marker = "frame time, 1000 / fps";
    let mut items: Vec<(Option<Stage>, &str)> = Stage::ALL.iter().map(|&s| (Some(s), s.label())).collect();
    items.push((None, marker));
    let widths: Vec<i32> = items
        .iter()
        .map(|(_, text)| area.estimate_text_size(text, &font).map(|(w, _)| w as i32).map_err(plot_err))
        .collect::<Result<_>>()?;
    let total: i32 = widths.iter().map(|w| swatch + gap + w).sum::<i32>() + item_gap * (items.len() as i32 - 1);
    let (w, h) = area.dim_in_pixel();
    let mid = h as i32 / 2;
    let mut x = (w as i32 - total) / 2;
    for ((stage, text), width) in items.iter().zip(widths) {
        match stage {
            Some(s) => area
                .draw(&Rectangle::new([(x, mid - swatch / 2), (x + swatch, mid + swatch / 2)], s.color().filled()))
                .map_err(plot_err)?,
            None => area
                .draw(&PathElement::new(vec![(x - 4, mid), (x + swatch + 4, mid)], BLACK.stroke_width(3)))
                .map_err(plot_err)?,
        }
        area.draw(&Text::new(text.to_string(), (x + swatch + gap, mid), font.clone())).map_err(plot_err)?;
        x += swatch + gap + width + item_gap;
    }
    Ok(())
}

fn draw_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    area: &DrawingArea<DB, plotters::coord::Shift>,
    panel: &Panel,
) -> Result<()> {
    let n = panel.bars.len();
    let y_max = panel.bars.iter().map(|b| b.stages.top().max(b.stages.frame)).fold(0.0, f64::max);
    // Room above the tallest bar for its value.
    let y_max = if y_max > 0.0 { y_max * 1.18 } else { 1.0 };
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!(
                "grid {0} × {0}, {1}",
                panel.grid,
                match panel.time.as_str() {
                    "fixed" => "fixed time step",
                    "wall" => "real time (wall clock)",
                    other => other,
                }
            ),
            ("sans-serif", 20),
        )
        .margin_top(4)
        .margin_right(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), 0.0..y_max)
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(6)
        .y_desc("ms per frame")
        .y_label_formatter(&|v| format!("{v}"))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()
        .map_err(plot_err)?;

    let half = 0.32;
    for (i, bar) in panel.bars.iter().enumerate() {
        let x = i as f64;
        let mut y0 = 0.0;
        for (stage, ms) in bar.stages.parts() {
            if ms > 0.0 {
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x - half, y0), (x + half, y0 + ms)],
                        stage.color().filled(),
                    )))
                    .map_err(plot_err)?;
            }
            y0 += ms;
        }
        let frame = bar.stages.frame;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x - half - 0.06, frame), (x + half + 0.06, frame)],
                BLACK.stroke_width(3),
            )))
            .map_err(plot_err)?;
        // Frame time above the bar, mode and configuration under the axis.
        let (px, top) = chart.backend_coord(&(x, bar.stages.top().max(frame)));
        let value_style = text_style(14.0, HPos::Center, VPos::Bottom);
        root.draw(&Text::new(format!("{} ms", format_ms(frame)), (px, top - 5), value_style)).map_err(plot_err)?;
        let (_, axis) = chart.backend_coord(&(x, 0.0));
        let mode_style = text_style(MODE_FONT, HPos::Center, VPos::Top);
        root.draw(&Text::new(bar.mode.clone(), (px, axis + 6), mode_style)).map_err(plot_err)?;
        let config_style = text_style(CONFIG_FONT, HPos::Center, VPos::Top).color(&RGBColor(90, 90, 90));
        let config = format!("K={} r={}", bar.frames_in_flight, bar.run_ahead);
        root.draw(&Text::new(config, (px, axis + 6 + MODE_FONT as i32 + 4), config_style)).map_err(plot_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(mode: &str, grid: u32, k: u32, r: u32, fps: f64) -> FrameRecord {
        FrameRecord {
            mode: mode.into(),
            time: "fixed".into(),
            grid,
            frames_in_flight: k,
            run_ahead: r,
            fps,
            kernel_ms: 0.1,
            transfer_ms: 0.0,
            draw_ms: 0.5,
            overlay: false,
        }
    }

    #[test]
    fn records_drawn_with_the_overlay_stay_out_of_the_chart() {
        let mut with = rec("timeline", 256, 2, 1, 2000.0);
        with.overlay = true;
        let records = vec![rec("timeline", 256, 2, 1, 1000.0), with];
        let p = panels(&records);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].bars.len(), 1);
        assert!((p[0].bars[0].fps - 1000.0).abs() < 1e-9, "the faster overlay record was not taken");
        let parsed = parse_records(r#"[{"mode":"timeline","grid":256,"frames_in_flight":2,"run_ahead":1,"fps":1.0,"kernel_ms":0.1,"draw_ms":0.5,"overlay":true}]"#).unwrap();
        assert!(parsed[0].overlay);
    }

    #[test]
    fn best_configuration_is_the_highest_fps() {
        let records = [
            rec("timeline", 256, 1, 1, 900.0),
            rec("timeline", 256, 4, 4, 1250.0),
            rec("timeline", 256, 2, 1, 1100.0),
            rec("timeline", 1024, 1, 1, 400.0),
        ];
        let p = panels(&records);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].bars.len(), 1);
        let best = &p[0].bars[0];
        assert_eq!((best.frames_in_flight, best.run_ahead, best.fps), (4, 4, 1250.0));
        assert_eq!(p[1].bars[0].fps, 400.0);
    }

    #[test]
    fn ties_keep_the_first_and_unusable_fps_is_skipped() {
        let records = [
            rec("host", 256, 1, 1, 500.0),
            rec("host", 256, 2, 1, 500.0),
            rec("host", 256, 3, 1, f64::INFINITY),
            rec("host", 256, 4, 1, f64::NAN),
            rec("serial", 256, 1, 1, 0.0),
        ];
        let p = panels(&records);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].bars.len(), 1, "serial has no usable record");
        assert_eq!(p[0].bars[0].frames_in_flight, 1);
        assert!(panels(&[rec("copy", 8, 2, 1, -3.0)]).is_empty());
    }

    #[test]
    fn panels_are_ordered_by_grid_and_bars_by_mode() {
        let records = [
            rec("vulkan", 8192, 1, 1, 9.0),
            rec("zeta", 256, 1, 1, 9.0),
            rec("copy", 256, 2, 1, 9.0),
            rec("timeline", 4096, 1, 1, 9.0),
            rec("vulkan", 256, 1, 1, 9.0),
            rec("binary", 256, 1, 1, 9.0),
            rec("timeline", 256, 1, 1, 9.0),
            rec("alpha", 256, 1, 1, 9.0),
            rec("serial", 1024, 1, 1, 9.0),
        ];
        let p = panels(&records);
        assert_eq!(p.iter().map(|p| p.grid).collect::<Vec<_>>(), [256, 1024, 4096, 8192]);
        let modes: Vec<&str> = p[0].bars.iter().map(|b| b.mode.as_str()).collect();
        assert_eq!(modes, ["timeline", "binary", "copy", "vulkan", "alpha", "zeta"]);
    }

    #[test]
    fn fixed_step_and_wall_clock_get_their_own_panels() {
        let wall = |mode: &str, fps: f64| FrameRecord { time: "wall".into(), ..rec(mode, 256, 2, 2, fps) };
        let records = [wall("timeline", 900.0), rec("timeline", 256, 2, 2, 1000.0), wall("vulkan", 1100.0)];
        let p = panels(&records);
        let keys: Vec<(u32, &str, usize)> = p.iter().map(|p| (p.grid, p.time.as_str(), p.bars.len())).collect();
        assert_eq!(keys, [(256, "fixed", 1), (256, "wall", 2)]);
        assert_eq!(p[1].bars[0].fps, 900.0, "a wall-clock bar is not the fixed-step record");
        // JSON written before the field existed is fixed-step.
        let old = r#"[{"mode": "timeline", "grid": 256, "frames_in_flight": 2, "run_ahead": 1, "fps": 1.0,
                       "kernel_ms": 0.1, "draw_ms": 0.5}]"#;
        assert_eq!(parse_records(old).unwrap()[0].time, "fixed");
    }

    #[test]
    fn stage_split_is_never_negative() {
        // Stages that overlap (sum above the frame time): sync + CPU is 0, not negative.
        let mut r = rec("copy", 256, 2, 1, 1000.0);
        (r.kernel_ms, r.transfer_ms, r.draw_ms) = (1.0, 0.1, 0.7);
        let s = Stages::of(&r);
        assert_eq!(s.frame, 1.0);
        assert_eq!(s.sync_cpu, 0.0);
        assert!((s.top() - 1.8).abs() < 1e-12);
        // The rest of the frame goes to sync + CPU.
        let mut r = rec("host", 256, 2, 1, 500.0);
        (r.kernel_ms, r.transfer_ms, r.draw_ms) = (0.25, 0.0, 1.0);
        let s = Stages::of(&r);
        assert!((s.sync_cpu - 0.75).abs() < 1e-12);
        assert!((s.top() - s.frame).abs() < 1e-12);
        // Garbage stage times count as 0.
        let mut r = rec("host", 256, 2, 1, 100.0);
        (r.kernel_ms, r.transfer_ms, r.draw_ms) = (-1.0, f64::NAN, f64::INFINITY);
        let s = Stages::of(&r);
        for (_, ms) in s.parts() {
            assert!(ms >= 0.0 && ms.is_finite(), "{s:?}");
        }
        assert_eq!(s.sync_cpu, 10.0);
    }

    #[test]
    fn parse_skips_the_kernel_record_and_explains_bad_input() {
        let json = r#"[
            {"mode": "timeline", "grid": 256, "frames_in_flight": 2, "run_ahead": 1, "frames": 10,
             "fps": 1000.0, "frame_ms_median": 1.0, "frame_ms_p99": 1.2, "kernel_ms": 0.01,
             "transfer_ms": 0.0, "draw_ms": 0.7, "deliver_ms": 0.01, "other_ms": 0.29},
            {"mode": "kernel", "grid": 4096, "kernel_ms": 0.02, "kernel_gbps": 3000.0,
             "copy_ms": 0.03, "copy_gbps": 2000.0}
        ]"#;
        let records = parse_records(json).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].mode, "timeline");
        assert!(format!("{:#}", parse_records("{not json").unwrap_err()).contains("not a bench JSON"));
        assert!(format!("{:#}", parse_records(r#"{"mode": "x"}"#).unwrap_err()).contains("array"));
        let missing = format!("{:#}", parse_records(r#"[{"mode": "host", "grid": 1}]"#).unwrap_err());
        assert!(missing.contains("bench record 0") && missing.contains("missing field"), "{missing}");
    }

    #[test]
    fn committed_h100_results_give_eight_full_panels() {
        let mut records = parse_records(include_str!("../../benchmarks/h100.json")).unwrap();
        records.extend(parse_records(include_str!("../../benchmarks/h100-wall.json")).unwrap());
        let p = panels(&records);
        let keys: Vec<(u32, &str)> = p.iter().map(|p| (p.grid, p.time.as_str())).collect();
        let expected: Vec<(u32, &str)> =
            [256, 1024, 4096, 8192].iter().flat_map(|&g| [(g, "fixed"), (g, "wall")]).collect();
        assert_eq!(keys, expected);
        // Those runs predate the hip-memory, image and stream-wait modes.
        let newer = ["hip-memory", "image", "stream-wait"];
        let without: Vec<&str> = MODE_ORDER.iter().copied().filter(|m| !newer.contains(m)).collect();
        for panel in &p {
            let modes: Vec<&str> = panel.bars.iter().map(|b| b.mode.as_str()).collect();
            assert_eq!(modes, without, "grid {} {}", panel.grid, panel.time);
        }
        // With the hip-memory run added, its bar comes second where it was measured.
        records.extend(parse_records(include_str!("../../benchmarks/h100-hip-memory.json")).unwrap());
        for panel in panels(&records) {
            let modes: Vec<&str> = panel.bars.iter().map(|b| b.mode.as_str()).collect();
            let expected: Vec<&str> = if panel.grid == 8192 {
                without.clone()
            } else {
                MODE_ORDER.iter().copied().filter(|&m| m != "image" && m != "stream-wait").collect()
            };
            assert_eq!(modes, expected, "grid {} {}", panel.grid, panel.time);
        }
    }

    #[test]
    fn missing_font_names_the_path_and_the_variable() {
        let path = Path::new("/nonexistent/hvs/NoSuchFont.ttf");
        let e = format!("{:#}", load_font(path).unwrap_err());
        assert!(e.contains("/nonexistent/hvs/NoSuchFont.ttf") && e.contains(FONT_ENV), "{e}");
    }

    #[test]
    fn layout_and_formatting() {
        assert_eq!(layout(1), (1, 1));
        assert_eq!(layout(2), (1, 2));
        assert_eq!(layout(3), (2, 2));
        assert_eq!(layout(4), (2, 2));
        assert_eq!(layout(5), (2, 3));
        assert_eq!(format_ms(0.8713), "0.87");
        assert_eq!(format_ms(24.37), "24.4");
        assert_eq!(format_ms(104.6), "105");
        assert_eq!(title("GPU X", (1920, 1080)), "Frame time by stage (best configuration per mode), GPU X, 1920×1080");
    }
}
