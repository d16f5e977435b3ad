//! The on-screen overlay: what runs the demo and how the buffers change hands, and a
//! rolling frame-time graph stacked by stage (the stages of `--bench`), drawn with egui
//! into the frame's own colour attachment after the grid, in the same rendering pass.
//!
//! egui lays the panel out on the CPU; `egui-ash-renderer` uploads its font atlas (its own
//! one-time command buffer on the renderer's queue, under the queue lock) and records the
//! draw. Textures egui frees are destroyed only once the frames that drew with them have
//! completed.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use ash::vk;

use crate::app::renderer::{FrameOverlay, FrameTimings};
use crate::vulkan::commands::CommandPool;
use crate::vulkan::Device;

/// Frames the graph shows.
pub const GRAPH_FRAMES: usize = 240;

/// One frame of the graph, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GraphFrame {
    /// Writing the heights (HIP kernel, compute shader or upload).
    pub kernel_ms: f64,
    /// The draw.
    pub draw_ms: f64,
    /// The rest of the frame (hand-over, CPU).
    pub other_ms: f64,
}

impl GraphFrame {
    /// The stages of a frame that took `frame_ms`, from what the renderer measured.
    pub fn from_timings(frame_ms: f64, timings: Option<FrameTimings>) -> Self {
        let kernel = timings.and_then(|t| t.source.kernel_ms.or(t.vulkan_heights_ms)).unwrap_or(0.0);
        let draw = timings.and_then(|t| t.draw_ms).unwrap_or(0.0);
        Self { kernel_ms: kernel, draw_ms: draw, other_ms: (frame_ms - kernel - draw).max(0.0) }
    }

    fn total(&self) -> f64 {
        self.kernel_ms + self.draw_ms + self.other_ms
    }
}

/// The overlay: its egui context, renderer and what it shows.
pub struct Overlay {
    ctx: egui::Context,
    /// Field order: the egui renderer (its Vulkan objects) goes before the pool.
    renderer: egui_ash_renderer::Renderer,
    pool: CommandPool,
    device: Arc<Device>,
    info: Vec<String>,
    graph: VecDeque<GraphFrame>,
    /// Textures egui freed, with the frame count at which they may be destroyed.
    to_free: VecDeque<(u64, Vec<egui::TextureId>)>,
    frames_recorded: u64,
    frames_in_flight: u64,
    /// When the previous frame was recorded (the graph's frame time is the interval).
    last_frame: Option<Instant>,
    /// egui has laid the panel out at least once.
    laid_out: bool,
    /// The panel's buttons' labels; clicks are reported by index.
    buttons: Vec<String>,
    /// Where each button was laid out last (window pixels).
    button_rects: Vec<egui::Rect>,
    /// Where the graph and its legend were laid out last (window pixels).
    graph_rect: Option<egui::Rect>,
    /// Pointer events from the window, for the next layout.
    events: Vec<egui::Event>,
    /// The pointer's last position.
    pointer: Option<egui::Pos2>,
    /// Buttons clicked since [`Overlay::take_clicks`], by index.
    clicked: Vec<usize>,
    /// The graph follows the frames drawn (off: it shows only what was pushed).
    pub live_graph: bool,
    /// Shown or hidden (a key toggles it in the window).
    pub visible: bool,
}

impl Overlay {
    /// An overlay drawing into attachments of `color_format` (sRGB), for a renderer with
    /// `frames_in_flight` frames.
    pub fn new(device: &Arc<Device>, color_format: vk::Format, frames_in_flight: u32) -> Result<Self> {
        let pool = CommandPool::new(device, vk::CommandPoolCreateFlags::empty())?;
        let renderer = egui_ash_renderer::Renderer::with_default_allocator(
            device.instance().raw(),
            device.physical.raw,
            device.raw().clone(),
            // The frame's pass has the renderer's depth attachment; the overlay ignores it
            // (depth test off) but its pipeline must name its format.
            egui_ash_renderer::DynamicRendering {
                color_attachment_format: color_format,
                depth_attachment_format: Some(crate::app::renderer::image::DEPTH_FORMAT),
            },
            egui_ash_renderer::Options {
                in_flight_frames: frames_in_flight.max(1) as usize,
                enable_depth_test: false,
                enable_depth_write: false,
                srgb_framebuffer: true,
            },
        )
        .context("creating the overlay's egui renderer")?;
        Ok(Self {
            ctx: egui::Context::default(),
            renderer,
            pool,
            device: device.clone(),
            info: Vec::new(),
            graph: VecDeque::with_capacity(GRAPH_FRAMES),
            to_free: VecDeque::new(),
            frames_recorded: 0,
            frames_in_flight: u64::from(frames_in_flight.max(1)),
            last_frame: None,
            laid_out: false,
            live_graph: true,
            visible: true,
            buttons: Vec::new(),
            button_rects: Vec::new(),
            graph_rect: None,
            events: Vec::new(),
            pointer: None,
            clicked: Vec::new(),
        })
    }

    /// The buttons the panel shows under its lines, by label; clicks come back as their
    /// indices ([`Overlay::take_clicks`]).
    pub fn set_buttons(&mut self, labels: Vec<String>) {
        self.buttons = labels;
    }

    /// The pointer moved to `(x, y)` window pixels. (Events are kept only while the panel
    /// is shown: a hidden panel lays nothing out, so nothing would take them.)
    pub fn pointer_moved(&mut self, x: f32, y: f32) {
        let pos = egui::pos2(x, y);
        self.pointer = Some(pos);
        if self.visible {
            self.events.push(egui::Event::PointerMoved(pos));
        }
    }

    /// The primary button went down or up. Returns whether the pointer is on the panel (a
    /// press there is the panel's, not the camera's).
    pub fn pointer_button(&mut self, pressed: bool) -> bool {
        let Some(pos) = self.pointer.filter(|_| self.visible) else { return false };
        self.events.push(egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::default(),
        });
        self.ctx.layer_id_at(pos).is_some()
    }

    /// The buttons clicked since the last call, by index.
    pub fn take_clicks(&mut self) -> Vec<usize> {
        std::mem::take(&mut self.clicked)
    }

    /// Where each button was laid out last (window pixels): its centre, by index.
    pub fn button_centres(&self) -> Vec<(f32, f32)> {
        self.button_rects.iter().map(|r| (r.center().x, r.center().y)).collect()
    }

    /// Where the frame-time graph and its legend were laid out last (window pixels):
    /// left, top, right, bottom. What they show changes every frame.
    pub fn graph_bounds(&self) -> Option<[f32; 4]> {
        self.graph_rect.map(|r| [r.left(), r.top(), r.right(), r.bottom()])
    }

    /// The lines of the panel (GPU, who writes the heights and how, frames in flight).
    pub fn set_info(&mut self, lines: Vec<String>) {
        self.info = lines;
    }

    /// Adds a frame to the graph (the oldest goes beyond [`GRAPH_FRAMES`]).
    pub fn push_frame(&mut self, frame: GraphFrame) {
        if self.graph.len() == GRAPH_FRAMES {
            self.graph.pop_front();
        }
        self.graph.push_back(frame);
    }

    fn layout(&mut self, extent: vk::Extent2D) -> egui::FullOutput {
        let raw = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(extent.width as f32, extent.height as f32),
            )),
            events: std::mem::take(&mut self.events),
            ..Default::default()
        };
        let (info, graph, buttons) = (&self.info, &self.graph, &self.buttons);
        let mut clicked = Vec::new();
        let mut rects = Vec::new();
        let mut graph_rect = None;
        let output = self.ctx.run(raw, |ctx| {
            egui::Area::new(egui::Id::new("overlay")).fixed_pos(egui::pos2(8.0, 8.0)).fade_in(false).show(ctx, |ui| {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    for line in info {
                        ui.label(egui::RichText::new(line).monospace().size(11.0));
                    }
                    if !buttons.is_empty() {
                        ui.horizontal(|ui| {
                            for (i, label) in buttons.iter().enumerate() {
                                let button = ui.button(egui::RichText::new(label).monospace().size(11.0));
                                rects.push(button.rect);
                                if button.clicked() {
                                    clicked.push(i);
                                }
                            }
                        });
                    }
                    graph_rect = Some(draw_graph(ui, graph));
                });
            });
        });
        self.clicked.extend(clicked);
        self.button_rects = rects;
        self.graph_rect = graph_rect;
        output
    }
}

/// Stage colours: kernel, draw, other (as the benchmark chart).
const STAGE_COLOURS: [egui::Color32; 3] = [
    egui::Color32::from_rgb(230, 120, 20),
    egui::Color32::from_rgb(80, 160, 235),
    egui::Color32::from_rgb(170, 170, 170),
];

/// The stacked frame-time graph: one column per frame, oldest left, scaled to the largest
/// frame shown; the legend gives the latest frame's stages. Returns where both went.
fn draw_graph(ui: &mut egui::Ui, graph: &VecDeque<GraphFrame>) -> egui::Rect {
    let size = egui::vec2(GRAPH_FRAMES as f32, 60.0);
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, egui::Color32::from_black_alpha(120));
    let top = graph.iter().map(GraphFrame::total).fold(0.0, f64::max).max(1e-3);
    for (i, f) in graph.iter().enumerate() {
        let x = rect.left() + i as f32;
        let mut y = rect.bottom();
        for (ms, colour) in [f.kernel_ms, f.draw_ms, f.other_ms].into_iter().zip(STAGE_COLOURS) {
            let h = (ms / top) as f32 * rect.height();
            painter.line_segment([egui::pos2(x, y), egui::pos2(x, y - h)], egui::Stroke::new(1.0, colour));
            y -= h;
        }
    }
    // The legend is there from the first frame (zeros until one is measured), so the
    // panel keeps its size.
    let last = graph.back().copied().unwrap_or_default();
    let mut bounds = rect;
    ui.horizontal(|ui| {
        for (name, ms, colour) in [
            ("kernel", last.kernel_ms, STAGE_COLOURS[0]),
            ("draw", last.draw_ms, STAGE_COLOURS[1]),
            ("other", last.other_ms, STAGE_COLOURS[2]),
        ] {
            let label =
                ui.label(egui::RichText::new(format!("{name} {ms:.3} ms")).monospace().size(11.0).color(colour));
            bounds = bounds.union(label.rect);
        }
    });
    bounds
}

impl FrameOverlay for Overlay {
    fn record(&mut self, cmd: vk::CommandBuffer, extent: vk::Extent2D, completed: Option<FrameTimings>) -> Result<()> {
        self.frames_recorded += 1;
        let now = Instant::now();
        if let (true, Some(previous)) = (self.live_graph, self.last_frame) {
            self.push_frame(GraphFrame::from_timings((now - previous).as_secs_f64() * 1e3, completed));
        }
        self.last_frame = Some(now);
        // The renderer waited for the frame K frames back: textures freed then are unused.
        while self.to_free.front().is_some_and(|(at, _)| *at <= self.frames_recorded) {
            if let Some((_, ids)) = self.to_free.pop_front() {
                self.renderer.free_textures(&ids).context("freeing overlay textures")?;
            }
        }
        if !self.visible {
            self.events.clear();
            return Ok(());
        }
        let mut output = self.layout(extent);
        if !self.laid_out {
            self.laid_out = true;
            // egui lays a new area out unseen on its first pass (sizing): lay it out again
            // so that the very first frame (a one-frame screenshot) shows the panel.
            let mut second = self.layout(extent);
            output.textures_delta.set.append(&mut second.textures_delta.set);
            output.textures_delta.free.append(&mut second.textures_delta.free);
            output.shapes = second.shapes;
            output.pixels_per_point = second.pixels_per_point;
        }
        if !output.textures_delta.set.is_empty() {
            let queue = self.device.queue();
            self.renderer
                .set_textures(*queue, self.pool.raw(), &output.textures_delta.set)
                .context("uploading the overlay's textures")?;
        }
        if !output.textures_delta.free.is_empty() {
            self.to_free.push_back((self.frames_recorded + self.frames_in_flight, output.textures_delta.free));
        }
        let primitives = self.ctx.tessellate(output.shapes, output.pixels_per_point);
        self.renderer.cmd_draw(cmd, extent, output.pixels_per_point, &primitives).context("recording the overlay")?;
        Ok(())
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

/// The renderer's overlay, if it is this one.
pub fn of(renderer: &mut crate::app::renderer::Renderer) -> Option<&mut Overlay> {
    renderer.overlay_mut()?.as_any_mut().downcast_mut::<Overlay>()
}
