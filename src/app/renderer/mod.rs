//! The frame loop on the Vulkan side: per-frame resources, frame pacing and submission
//! with whatever semaphores the height source asks for (this file); recording of the draw
//! (`draw.rs`); reading images and heights back (`readback.rs`).
//!
//! Frame `f` uses frame-in-flight index `f mod K` (command buffer, fence, timestamps) and
//! height slot `f mod S`, with `S ≥ K` slots (more than `K` when HIP writes more frames
//! ahead than there are frames in flight). Before reusing index `i`, the CPU waits for the
//! fence of the frame that last used it; that is what keeps at most `K` frames queued, and,
//! since `S ≥ K`, the frame that last used a slot (`f − S ≤ f − K`) has completed on the
//! Vulkan side by then.

mod draw;
pub mod image;
pub mod mesh;
pub mod pipeline;
mod readback;
pub mod shading;
pub mod swapchain;
pub mod target;
pub mod timestamps;

use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use ash::vk;

use crate::app::camera::OrbitCamera;
use crate::app::clock::AnimationClock;
use crate::app::renderer::pipeline::GridPipeline;
use crate::app::renderer::swapchain::Surface;
use crate::interop::normal_images::NormalImages;
use crate::interop::source::{FrameHeights, HeightSource, SourceTimings, SubmitSync};
use crate::interop::{release_to_external, HeightSlots};
use crate::vulkan::commands::CommandPool;
use crate::vulkan::device::{self, DeviceSelection};
use crate::vulkan::sync::{Fence, Semaphore};
use crate::vulkan::{Device, Instance, InstanceOptions};
use mesh::GridMesh;
use target::{OffscreenTarget, WindowTarget};
use timestamps::TimestampPool;

/// How long the CPU waits for a frame's fence before calling the GPU hung.
const FENCE_TIMEOUT_NS: u64 = 10_000_000_000;
/// Vertical scale of the heights in world units (grid spans [-1, 1]).
pub use crate::sinewave::HEIGHT_SCALE;
const CLEAR_COLOR: [f32; 4] = [0.02, 0.02, 0.03, 1.0];

/// Share of the device-local heap the grid may take: the rest is left to the driver, the
/// swapchain and whoever else uses the GPU.
pub const HEAP_SHARE_PERCENT: u64 = 90;

/// Refuses, before anything is allocated, a grid whose buffers (mesh and `S` height slots)
/// would not fit in [`HEAP_SHARE_PERCENT`] of a device-local heap of `heap_bytes`.
pub fn check_grid_fits(options: &RendererOptions, heap_bytes: u64, device_name: &str) -> Result<()> {
    let shading_images = if options.shading_images {
        u64::from(options.grid_width)
            * u64::from(options.grid_height)
            * crate::interop::normal_images::NORMAL_TEXEL_BYTES
            * u64::from(options.height_slots())
    } else {
        0
    };
    let needed = crate::app::grid::device_bytes(options.grid_width, options.grid_height, options.height_slots())
        + shading_images;
    if needed > heap_bytes / 100 * HEAP_SHARE_PERCENT {
        bail!(
            "grid {}x{} with {} height buffers{} needs {} MiB of GPU memory; {device_name} has a {} MiB heap. \
             Use a smaller --grid, fewer --frames-in-flight or a smaller --run-ahead",
            options.grid_width,
            options.grid_height,
            options.height_slots(),
            if options.shading_images { " and shading images" } else { "" },
            needed >> 20,
            heap_bytes >> 20
        );
    }
    Ok(())
}

impl RendererOptions {
    /// Height buffers the renderer allocates (`S ≥ K`).
    pub fn height_slots(&self) -> u32 {
        self.frames_in_flight + self.extra_height_slots
    }
}

/// Something drawn on top of the grid inside the frame's rendering pass (the overlay).
pub trait FrameOverlay {
    /// Records its draw into `cmd`, inside the frame's rendering (colour attachment of the
    /// renderer's [`Renderer::color_format`], depth attachment of `image::DEPTH_FORMAT`),
    /// `extent` pixels. The renderer has
    /// waited for the frame that used this frame-in-flight index before.
    /// `completed` is the stage timing of the latest frame known to have completed (with
    /// `gpu_timing`).
    fn record(&mut self, cmd: vk::CommandBuffer, extent: vk::Extent2D, completed: Option<FrameTimings>) -> Result<()>;

    /// For downcasting to the concrete overlay (to update what it shows).
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any;
}

/// What the renderer is asked to build.
#[derive(Clone, Debug)]
pub struct RendererOptions {
    pub grid_width: u32,
    pub grid_height: u32,
    pub frames_in_flight: u32,
    /// Height buffers beyond `frames_in_flight`, for a source that writes more frames
    /// ahead than there are frames in flight (the renderer allocates
    /// `frames_in_flight + extra_height_slots`).
    pub extra_height_slots: u32,
    pub validation: bool,
    pub device: DeviceSelection,
    pub present_mode: vk::PresentModeKHR,
    /// Record GPU timestamps around the heights and the draw (benchmarks).
    pub gpu_timing: bool,
    /// Give every height slot a shading image (normals) for `--shading image`; the draw
    /// samples it when the height source writes it ([`HeightSource::writes_normals`]).
    pub shading_images: bool,
}

/// Stage times of one completed frame, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FrameTimings {
    pub frame: u64,
    /// Vulkan work that produced the heights (upload copy or compute), by timestamps.
    pub vulkan_heights_ms: Option<f64>,
    /// The draw, by timestamps (includes any wait for a semaphore not yet signalled).
    pub draw_ms: Option<f64>,
    /// What the height source measured (HIP kernel, host transfers).
    pub source: SourceTimings,
}

/// Where the frames go.
#[derive(Clone)]
pub enum Presentation {
    Offscreen {
        extent: vk::Extent2D,
    },
    /// A window (the surface keeps it alive) and its current size.
    Window {
        window: std::sync::Arc<winit::window::Window>,
        size: vk::Extent2D,
    },
}

enum Target {
    Offscreen(OffscreenTarget),
    Window(WindowTarget),
}

/// Resources of one frame in flight.
struct FrameResources {
    cmd: vk::CommandBuffer,
    /// Signalled by this frame's submission, waited on by the CPU before reuse.
    fence: Fence,
    /// Signalled by vkAcquireNextImageKHR, waited on by this frame's submission.
    image_available: Semaphore,
}

/// Result of [`Renderer::render`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameOutcome {
    Rendered,
    /// Nothing drawn: the window is minimised or its swapchain was being rebuilt.
    Skipped,
}

/// Where [`Renderer::render_frame`] takes the frame's time from.
enum TimeFrom<'a> {
    /// The clock, which may also fix times of frames ahead.
    Clock(&'a mut AnimationClock),
    /// This time, nothing ahead.
    Given(f64),
}

/// The renderer. Fields drop in declaration order after `Drop::drop` has waited for
/// the GPU: the height source (and any HIP imports it holds) before the height slots.
pub struct Renderer {
    source: Option<Box<dyn HeightSource>>,
    frames: Vec<FrameResources>,
    pipeline: GridPipeline,
    mesh: GridMesh,
    /// With shading images: their descriptor sets (before `slots`, whose images they name).
    shading: Option<shading::ShadingSets>,
    /// The draw samples the slot's shading image: there are images and the source writes them.
    image_shading: bool,
    /// Drawn on top of the grid, in the same pass (the app's overlay).
    overlay: Option<Box<dyn FrameOverlay>>,
    slots: HeightSlots,
    target: Target,
    pool: CommandPool,
    sync: SubmitSync,
    frame_index: u64,
    /// `frame_index` when the current height source was set: sources number their frames
    /// from 0 (their semaphore values and slots follow that numbering).
    source_start: u64,
    pub wireframe: bool,
    timestamps: Option<TimestampPool>,
    /// Animation time (seconds) each height slot was last rendered at.
    slot_times: Vec<f64>,
    /// Stage times of the frame whose fence was waited on last.
    completed: Option<FrameTimings>,
    /// What it was built with (updated by [`Renderer::reconfigure`]).
    options: RendererOptions,
    device: Arc<Device>,
}

impl Renderer {
    /// Creates instance, device and everything the frame loop needs.
    pub fn new(options: &RendererOptions, presentation: Presentation) -> Result<Self> {
        let surface_extensions = match &presentation {
            Presentation::Offscreen { .. } => Vec::new(),
            Presentation::Window { window, .. } => {
                use raw_window_handle::HasDisplayHandle;
                let display = window.display_handle().context("the window's display handle")?.as_raw();
                let names = ash_window::enumerate_required_extensions(display)
                    .context("this window system has no Vulkan surface support")?;
                // SAFETY: ash_window returns pointers to static NUL-terminated names.
                names.iter().map(|&p| unsafe { std::ffi::CStr::from_ptr(p) }).collect()
            }
        };
        let instance =
            Arc::new(Instance::new(&InstanceOptions { validation: options.validation, surface_extensions })?);
        let surface = match &presentation {
            Presentation::Offscreen { .. } => None,
            Presentation::Window { window, .. } => Some(Surface::new(&instance, window.clone())?),
        };
        let candidates = device::enumerate(&instance)?;
        for d in &candidates {
            log::info!("vulkan device {d}");
        }
        let physical = device::choose(&candidates, options.device)?;
        log::info!("using vulkan device {physical}, chosen as {}", options.device);
        let device = Device::new(instance, physical, surface.as_ref().map(|s| s.raw()))?;
        Self::on_device(device, options, presentation, surface)
    }

    /// An offscreen renderer on an existing device (benchmarks share one device across
    /// configurations: NVIDIA's driver 580 refused the 31st vkCreateInstance of a process).
    pub fn offscreen_on(device: &Arc<Device>, options: &RendererOptions, extent: vk::Extent2D) -> Result<Self> {
        Self::on_device(device.clone(), options, Presentation::Offscreen { extent }, None)
    }

    fn on_device(
        device: Arc<Device>,
        options: &RendererOptions,
        presentation: Presentation,
        surface: Option<Surface>,
    ) -> Result<Self> {
        check_grid_fits(options, device.largest_device_local_heap(), &device.physical.name)?;

        let pool = CommandPool::new(&device, vk::CommandPoolCreateFlags::RESET_COMMAND_BUFFER)?;
        let (target, color_format) = match presentation {
            Presentation::Offscreen { extent } => {
                (Target::Offscreen(OffscreenTarget::new(&device, extent)?), target::OFFSCREEN_FORMAT)
            }
            Presentation::Window { size, .. } => {
                let mut window = WindowTarget {
                    swapchain: None,
                    surface: surface.context("window surface")?,
                    present_mode: options.present_mode,
                    window_size: size,
                    needs_rebuild: true,
                };
                window.ensure_swapchain(&device)?;
                let format = window.swapchain.as_ref().map_or(vk::Format::B8G8R8A8_SRGB, |s| s.format);
                (Target::Window(window), format)
            }
        };
        let pipeline = GridPipeline::new(&device, color_format)?;
        let mesh = GridMesh::upload(&device, &pool, options.grid_width, options.grid_height)?;
        let mut slots = HeightSlots::new(&device, options.grid_width, options.grid_height, options.height_slots())?;
        let mut shading = None;
        if options.shading_images {
            let images = NormalImages::new(
                &device,
                &pool,
                options.grid_width,
                options.grid_height,
                options.height_slots() as usize,
                true,
            )?;
            shading = Some(shading::ShadingSets::new(&device, pipeline.set_layout, &images)?);
            slots = slots.with_normals(images)?;
        }
        let timestamps = if options.gpu_timing { TimestampPool::new(&device, options.frames_in_flight)? } else { None };
        let cmds = pool.allocate(options.frames_in_flight)?;
        let frames = cmds
            .into_iter()
            .map(|cmd| {
                Ok(FrameResources { cmd, fence: Fence::new(&device, true)?, image_available: Semaphore::new(&device)? })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            source: None,
            frames,
            pipeline,
            mesh,
            shading,
            image_shading: false,
            overlay: None,
            slots,
            target,
            pool,
            sync: SubmitSync::default(),
            frame_index: 0,
            source_start: 0,
            wireframe: false,
            timestamps,
            slot_times: vec![0.0; options.height_slots() as usize],
            completed: None,
            options: options.clone(),
            device,
        })
    }

    pub fn device(&self) -> &Arc<Device> {
        &self.device
    }

    pub fn slots(&self) -> &HeightSlots {
        &self.slots
    }

    /// Frames rendered so far.
    pub fn frames_rendered(&self) -> u64 {
        self.frame_index
    }

    /// Who writes the heights, as the source names itself (`hip (timeline sync)`,
    /// `vulkan compute`, `cpu`), or `none` before a source is set.
    pub fn source_name(&self) -> &str {
        self.source.as_ref().map_or("none", |s| s.name())
    }

    /// Sets who writes the heights; the previous source is dropped after the GPU idles.
    pub fn set_height_source(&mut self, source: Box<dyn HeightSource>) -> Result<()> {
        self.device.wait_idle()?;
        self.image_shading = self.slots.normals.is_some() && source.writes_normals();
        log::info!(
            "heights written by: {}; shading: {}",
            source.name(),
            match (self.slots.normals.is_some(), self.image_shading) {
                (true, true) => "image (the source writes the normals)",
                (true, false) => "vertex (this source does not write shading images)",
                _ => "vertex",
            }
        );
        self.source = Some(source);
        // Its frame 0 is the next frame (the GPU idled above: nothing of the old numbering
        // is pending).
        self.source_start = self.frame_index;
        self.completed = None;
        Ok(())
    }

    /// The height slot the last frame drew, if a frame has been drawn since the height
    /// source was set.
    pub fn last_slot(&self) -> Option<usize> {
        let drawn = self.frame_index.checked_sub(self.source_start)?.checked_sub(1)?;
        Some((drawn % self.slots.len() as u64) as usize)
    }

    /// Draws `overlay` on top of every frame from now on (after the GPU idles).
    pub fn set_overlay(&mut self, overlay: Box<dyn FrameOverlay>) -> Result<()> {
        self.device.wait_idle()?;
        self.overlay = Some(overlay);
        Ok(())
    }

    /// The overlay, to update what it shows.
    pub fn overlay_mut(&mut self) -> Option<&mut (dyn FrameOverlay + 'static)> {
        self.overlay.as_deref_mut()
    }

    /// The colour format frames are rendered in (what an overlay must draw into).
    pub fn color_format(&self) -> vk::Format {
        self.pipeline.color_format
    }

    /// Frames the height source writes per hand-over (1 + what it writes ahead).
    pub fn source_run_ahead(&self) -> usize {
        self.source.as_ref().map_or(1, |s| s.frames_ahead() + 1)
    }

    /// Frames in flight (command buffers and fences).
    pub fn frames_in_flight(&self) -> u32 {
        self.frames.len() as u32
    }

    /// Whether the draw samples the shading image the source writes (`--shading image`).
    pub fn image_shading(&self) -> bool {
        self.image_shading
    }

    /// Replaces the height buffers with `slots` (e.g. HIP's memory imported into Vulkan,
    /// `--memory-owner hip`): same grid and count. The height source, which refers to the
    /// old buffers, is dropped first (after the GPU idles); set a new one before rendering.
    pub fn replace_height_slots(&mut self, slots: HeightSlots) -> Result<()> {
        anyhow::ensure!(
            (slots.width, slots.height, slots.len()) == (self.slots.width, self.slots.height, self.slots.len()),
            "new height slots ({} of {}x{}) must match the renderer's ({} of {}x{})",
            slots.len(),
            slots.width,
            slots.height,
            self.slots.len(),
            self.slots.width,
            self.slots.height
        );
        self.drop_height_source()?;
        let mut slots = slots;
        if slots.normals.is_none() {
            if let Some(images) = self.slots.normals.take() {
                slots = slots.with_normals(images)?;
            }
        }
        self.slots = slots;
        Ok(())
    }

    /// What the renderer was built (or last reconfigured) with.
    pub fn options(&self) -> RendererOptions {
        self.options.clone()
    }

    /// Drops the height source (after the GPU idles): nothing writes the heights until
    /// [`Renderer::set_height_source`].
    pub fn drop_height_source(&mut self) -> Result<()> {
        self.device.wait_idle()?;
        self.source = None;
        self.image_shading = false;
        Ok(())
    }

    /// The grid (heights per row, rows).
    pub fn grid(&self) -> (u32, u32) {
        (self.slots.width, self.slots.height)
    }

    /// Changes the grid, the frames in flight and the number of height buffers to
    /// `options`' (the device, target, pipeline and overlay stay), rebuilding only what
    /// depends on what changed: the grid mesh when the grid does; the height buffers (and
    /// their shading images) when the grid or their count does; command buffers, fences
    /// and timestamps when the frames in flight do. The height source, which refers to the
    /// old buffers, is dropped first (after the GPU idles); set a new one before rendering.
    /// Returns what was rebuilt, for the log.
    pub fn reconfigure(&mut self, options: &RendererOptions) -> Result<Vec<&'static str>> {
        check_grid_fits(options, self.device.largest_device_local_heap(), &self.device.physical.name)?;
        self.drop_height_source()?;
        let grid = (options.grid_width, options.grid_height);
        let mut rebuilt = Vec::new();
        if grid != self.grid() {
            self.mesh = GridMesh::upload(&self.device, &self.pool, grid.0, grid.1)?;
            rebuilt.push("grid mesh");
        }
        if grid != self.grid() || options.height_slots() as usize != self.slots.len() {
            // The descriptor sets name the old images: they go first.
            self.shading = None;
            let mut slots = HeightSlots::new(&self.device, grid.0, grid.1, options.height_slots())?;
            if options.shading_images {
                let images =
                    NormalImages::new(&self.device, &self.pool, grid.0, grid.1, options.height_slots() as usize, true)?;
                self.shading = Some(shading::ShadingSets::new(&self.device, self.pipeline.set_layout, &images)?);
                slots = slots.with_normals(images)?;
                rebuilt.push("height buffers and shading images");
            } else {
                rebuilt.push("height buffers");
            }
            self.slots = slots;
            self.slot_times = vec![0.0; self.slots.len()];
        }
        if options.frames_in_flight != self.frames_in_flight() {
            let cmds = self.pool.allocate(options.frames_in_flight)?;
            let frames = cmds
                .into_iter()
                .map(|cmd| {
                    Ok(FrameResources {
                        cmd,
                        fence: Fence::new(&self.device, true)?,
                        image_available: Semaphore::new(&self.device)?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let old = std::mem::replace(&mut self.frames, frames);
            let old_cmds: Vec<vk::CommandBuffer> = old.iter().map(|f| f.cmd).collect();
            // SAFETY: the device is idle (above): none of them is pending, and they are
            // dropped from the renderer with their frames here.
            unsafe { self.pool.free(&old_cmds) };
            if self.timestamps.is_some() {
                self.timestamps = TimestampPool::new(&self.device, options.frames_in_flight)?;
            }
            self.completed = None;
            rebuilt.push("frames in flight (command buffers, fences, timestamps)");
        }
        self.options = options.clone();
        Ok(rebuilt)
    }

    /// The animation time (seconds) `slot` was last rendered at.
    pub fn slot_time(&self, slot: usize) -> Option<f64> {
        self.slot_times.get(slot).copied()
    }

    /// The window changed size (0×0 when minimised).
    pub fn resize(&mut self, width: u32, height: u32) {
        if let Target::Window(w) = &mut self.target {
            w.window_size = vk::Extent2D { width, height };
            w.needs_rebuild = true;
        }
    }

    /// Renders the next frame seen by `camera`, at the time `clock` gives it; fixes the
    /// times of as many later frames as the height source wants to write ahead.
    pub fn render(&mut self, clock: &mut AnimationClock, camera: &OrbitCamera) -> Result<FrameOutcome> {
        self.render_frame(TimeFrom::Clock(clock), camera)
    }

    /// Renders the next frame at `time` seconds, fixing no frames ahead (tests, stills). A
    /// source that already wrote this frame ahead at another time fails the frame.
    pub fn render_at(&mut self, time: f64, camera: &OrbitCamera) -> Result<FrameOutcome> {
        self.render_frame(TimeFrom::Given(time), camera)
    }

    fn render_frame(&mut self, time_from: TimeFrom<'_>, camera: &OrbitCamera) -> Result<FrameOutcome> {
        let fi = (self.frame_index % self.frames.len() as u64) as usize;
        self.frames[fi]
            .fence
            .wait(FENCE_TIMEOUT_NS)
            .with_context(|| format!("frame {} did not finish", self.frame_index))?;
        let k = self.frames.len() as u64;
        // Timings only of frames the current source (and these frame resources) drew.
        if self.frame_index >= self.source_start + k && self.completed.is_none_or(|c| c.frame != self.frame_index - k) {
            self.completed = Some(self.collect_timings(self.frame_index - k, fi)?);
        }
        // The source's own frame number, and the slot it fills.
        let source_frame = self.frame_index - self.source_start;
        let slot = (source_frame % self.slots.len() as u64) as usize;

        // Window: get an image first; a minimised or out-of-date window skips the frame.
        let mut image_index = None;
        if let Target::Window(w) = &mut self.target {
            if !w.ensure_swapchain(&self.device)? {
                return Ok(FrameOutcome::Skipped);
            }
            let sc = w.swapchain.as_ref().context("swapchain")?;
            let ext = self.device.swapchain_ext.as_ref().context("swapchain extension")?;
            // SAFETY: the semaphore is unsignalled: the submission that waited on it last
            // has completed (fence waited above), or the acquire that used it failed.
            let acquired = unsafe {
                ext.acquire_next_image(
                    sc.raw(),
                    FENCE_TIMEOUT_NS,
                    self.frames[fi].image_available.raw(),
                    vk::Fence::null(),
                )
            };
            match acquired {
                Ok((index, suboptimal)) => {
                    w.needs_rebuild |= suboptimal;
                    image_index = Some(index);
                }
                Err(vk::Result::ERROR_OUT_OF_DATE_KHR) => {
                    w.needs_rebuild = true;
                    return Ok(FrameOutcome::Skipped);
                }
                Err(e) => return Err(e).context("vkAcquireNextImageKHR failed"),
            }
        }

        let frame = &self.frames[fi];
        frame.fence.reset()?;
        let d = &self.device.raw();
        let cmd = frame.cmd;
        // SAFETY: the fence wait above means the buffer's last submission completed.
        unsafe {
            d.reset_command_buffer(cmd, vk::CommandBufferResetFlags::empty()).context("vkResetCommandBuffer")?;
            d.begin_command_buffer(
                cmd,
                &vk::CommandBufferBeginInfo::default().flags(vk::CommandBufferUsageFlags::ONE_TIME_SUBMIT),
            )
            .context("vkBeginCommandBuffer")?;
        }

        self.sync.clear();
        let source = self.source.as_mut().context("no height source set")?;
        let given;
        let times: &[f64] = match time_from {
            TimeFrom::Clock(clock) => clock.times(self.frame_index, source.frames_ahead(), Instant::now()),
            TimeFrom::Given(time) => {
                given = [time];
                &given
            }
        };
        let time = times[0];
        self.slot_times[slot] = time;
        let heights = FrameHeights {
            frame: source_frame,
            slot,
            time: crate::sinewave::wrap_time(time),
            seconds: time,
            ahead: &times[1..],
            cmd,
            slots: &self.slots,
        };
        if let Some(ts) = &self.timestamps {
            ts.reset(cmd, fi);
            ts.write(cmd, fi, timestamps::FRAME_START, vk::PipelineStageFlags2::TOP_OF_PIPE);
        }
        source.produce(&heights, &mut self.sync)?;
        if let Some(ts) = &self.timestamps {
            ts.write(cmd, fi, timestamps::BEFORE_DRAW, vk::PipelineStageFlags2::ALL_COMMANDS);
        }

        let (color_image, color_view, depth_image, depth_view, extent, final_layout) = match &self.target {
            Target::Offscreen(t) => (
                t.color.raw(),
                t.color.view,
                t.depth.raw(),
                t.depth.view,
                t.color.extent,
                vk::ImageLayout::COLOR_ATTACHMENT_OPTIMAL,
            ),
            Target::Window(w) => {
                let sc = w.swapchain.as_ref().context("swapchain")?;
                let i = image_index.context("image index")? as usize;
                (sc.images[i], sc.views[i], sc.depth.raw(), sc.depth.view, sc.extent, vk::ImageLayout::PRESENT_SRC_KHR)
            }
        };
        let mut overlay = self.overlay.take();
        let drawn = self.record_draw(
            cmd,
            camera,
            slot,
            (color_image, color_view),
            (depth_image, depth_view),
            extent,
            final_layout,
            overlay.as_deref_mut(),
        );
        self.overlay = overlay;
        drawn?;
        if let Some(ts) = &self.timestamps {
            ts.write(cmd, fi, timestamps::AFTER_DRAW, vk::PipelineStageFlags2::ALL_COMMANDS);
        }
        let slot_buffer = self.slots.buffers[slot].raw();
        // SAFETY: the frame's command buffer is recording; the slot buffer lives until the renderer idles.
        unsafe {
            release_to_external(
                &self.device,
                cmd,
                slot_buffer,
                vk::PipelineStageFlags2::VERTEX_ATTRIBUTE_INPUT,
                vk::AccessFlags2::VERTEX_ATTRIBUTE_READ,
            )
        };
        if let (true, Some(images)) = (self.image_shading, &self.slots.normals) {
            // SAFETY: recording; the source made the image readable this frame (the
            // writes_normals contract); it lives until the renderer idles.
            unsafe { images.record_release(cmd, slot) };
        }
        if let Some(source) = self.source.as_mut() {
            source.after_draw(source_frame, cmd)?;
        }
        // SAFETY: recording.
        unsafe { d.end_command_buffer(cmd) }.context("vkEndCommandBuffer")?;

        let mut waits = self.sync.waits.clone();
        let mut signals = self.sync.signals.clone();
        let mut present_wait = None;
        if let (Target::Window(w), Some(index)) = (&self.target, image_index) {
            let sc = w.swapchain.as_ref().context("swapchain")?;
            waits.push(
                vk::SemaphoreSubmitInfo::default()
                    .semaphore(frame.image_available.raw())
                    .stage_mask(vk::PipelineStageFlags2::COLOR_ATTACHMENT_OUTPUT),
            );
            let done = sc.render_finished[index as usize].raw();
            signals.push(
                vk::SemaphoreSubmitInfo::default().semaphore(done).stage_mask(vk::PipelineStageFlags2::ALL_COMMANDS),
            );
            present_wait = Some(done);
        }
        let cmds = [vk::CommandBufferSubmitInfo::default().command_buffer(cmd)];
        let submit = vk::SubmitInfo2::default()
            .wait_semaphore_infos(&waits)
            .signal_semaphore_infos(&signals)
            .command_buffer_infos(&cmds);
        let queue = self.device.queue();
        // SAFETY: the command buffer is executable; semaphores and fence are in the states
        // the submission needs (fence reset above; binary semaphores pending a signal); the
        // queue is locked.
        unsafe { d.queue_submit2(*queue, &[submit], frame.fence.raw()) }
            .context("vkQueueSubmit2 failed for a frame")?;
        drop(queue);
        if let Some(source) = self.source.as_mut() {
            source.submitted(source_frame, slot)?;
        }
        self.frame_index += 1;

        if let (Target::Window(w), Some(index), Some(wait)) = (&mut self.target, image_index, present_wait) {
            let sc = w.swapchain.as_ref().context("swapchain")?;
            let ext = self.device.swapchain_ext.as_ref().context("swapchain extension")?;
            let (swapchains, indices, waits) = ([sc.raw()], [index], [wait]);
            let present =
                vk::PresentInfoKHR::default().wait_semaphores(&waits).swapchains(&swapchains).image_indices(&indices);
            let queue = self.device.queue();
            // SAFETY: the image was acquired and the submission above signals `wait`; the
            // queue is locked.
            match unsafe { ext.queue_present(*queue, &present) } {
                Ok(suboptimal) => w.needs_rebuild |= suboptimal,
                Err(vk::Result::ERROR_OUT_OF_DATE_KHR) => w.needs_rebuild = true,
                Err(e) => return Err(e).context("vkQueuePresentKHR failed"),
            }
        }
        Ok(FrameOutcome::Rendered)
    }

    /// Stage times of `frame`, which used frame-in-flight index `fi` and has completed.
    fn collect_timings(&mut self, frame: u64, fi: usize) -> Result<FrameTimings> {
        let (mut vulkan_heights_ms, mut draw_ms) = (None, None);
        if let Some(ts) = &self.timestamps {
            vulkan_heights_ms = ts.elapsed_ms(fi, timestamps::FRAME_START, timestamps::BEFORE_DRAW)?;
            draw_ms = ts.elapsed_ms(fi, timestamps::BEFORE_DRAW, timestamps::AFTER_DRAW)?;
        }
        let slot = ((frame - self.source_start) % self.slots.len() as u64) as usize;
        let source = match self.source.as_mut() {
            Some(s) => s.timings(slot)?,
            None => SourceTimings::default(),
        };
        Ok(FrameTimings { frame, vulkan_heights_ms, draw_ms, source })
    }

    /// Stage times of the most recent frame known to have completed.
    pub fn completed_timings(&self) -> Option<FrameTimings> {
        self.completed
    }

    /// `(errors, warnings)` reported by the validation layer so far.
    pub fn validation_counts(&self) -> (u32, u32) {
        self.device.instance().validation_counts()
    }

    pub fn validation_enabled(&self) -> bool {
        self.device.instance().validation_enabled()
    }

    /// Name of the swapchain's present mode, or "offscreen".
    pub fn present_mode_name(&self) -> String {
        match &self.target {
            Target::Offscreen(_) => "offscreen".into(),
            Target::Window(w) => w.swapchain.as_ref().map_or("none".into(), |s| format!("{:?}", s.present_mode)),
        }
    }
}

impl Drop for Renderer {
    fn drop(&mut self) {
        // Teardown order: both APIs idle, then the height source (HIP imports) goes
        // before the Vulkan memory it imported; the remaining fields follow in order.
        if let Err(e) = self.device.wait_idle() {
            log::warn!("while shutting down: {e:#}");
        }
        self.source = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(width: u32, height: u32, frames_in_flight: u32) -> RendererOptions {
        RendererOptions {
            grid_width: width,
            grid_height: height,
            frames_in_flight,
            extra_height_slots: 0,
            validation: false,
            device: DeviceSelection::Best,
            present_mode: vk::PresentModeKHR::FIFO,
            gpu_timing: false,
            shading_images: false,
        }
    }

    #[test]
    fn a_grid_that_fits_the_heap_is_accepted_and_one_that_does_not_is_refused() {
        const MIB: u64 = 1 << 20;
        // 1024² with K=2: positions 8 MiB + indices (2049 × 1023 × 4 B, just under 8 MiB)
        // + heights 2 × 4 MiB: 23.996 MiB, reported as 23 MiB.
        let small = options(1024, 1024, 2);
        let needed = crate::app::grid::device_bytes(1024, 1024, 2);
        assert_eq!(needed, 1024 * 1024 * 8 + 2049 * 1023 * 4 + 2 * 1024 * 1024 * 4);
        assert!(check_grid_fits(&small, 80 * 1024 * MIB, "big GPU").is_ok());
        // The share is exclusive of the last 10%: needs ≤ 90% of the heap.
        let exact_heap = needed.div_ceil(HEAP_SHARE_PERCENT) * 100;
        assert!(check_grid_fits(&small, exact_heap + 100, "just enough").is_ok());
        let err = check_grid_fits(&small, 26 * MIB, "Tiny GPU").unwrap_err().to_string();
        assert!(
            err.contains("grid 1024x1024 with 2 height buffers needs 23 MiB of GPU memory")
                && err.contains("Tiny GPU has a 26 MiB heap")
                && err.contains("smaller --grid, fewer --frames-in-flight or a smaller --run-ahead"),
            "{err}"
        );
        // The largest grid the CLI accepts, against lavapipe's 2 GiB heap.
        let err = check_grid_fits(&options(16384, 16384, 4), 2048 * MIB, "llvmpipe").unwrap_err().to_string();
        assert!(err.contains("needs 8191 MiB") && err.contains("2048 MiB heap"), "{err}");
    }
}
