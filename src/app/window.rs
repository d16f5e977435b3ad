//! The windowed demo: a winit event loop around the [`Renderer`], the orbit camera and
//! the keyboard and mouse controls.
//!
//! Controls: drag to orbit, wheel to zoom, Space pauses the animation, W toggles
//! wireframe (where the device supports it), F1 shows or hides the overlay, Esc quits.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use ash::vk;
use winit::application::ApplicationHandler;
use winit::dpi::PhysicalSize;
use winit::event::{ElementState, KeyEvent, MouseButton, MouseScrollDelta, WindowEvent};
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop};
use winit::keyboard::{Key, NamedKey};
use winit::window::{Window, WindowId};

use crate::app::camera::OrbitCamera;
use crate::app::cli::Cli;
use crate::app::clock::AnimationClock;
use crate::app::renderer::{FrameOutcome, Presentation, Renderer};

/// Runs the windowed demo until the window closes, Esc, or `--frames N`.
/// Returns the validation layer's `(errors, warnings)`.
pub fn run(cli: &Cli) -> Result<(u32, u32)> {
    let event_loop = EventLoop::new()
        .context("cannot open a window: no display found (set DISPLAY or WAYLAND_DISPLAY, or use --headless)")?;
    event_loop.set_control_flow(ControlFlow::Poll);
    let mut app = App::new(cli.clone());
    event_loop.run_app(&mut app).context("the window event loop failed")?;
    if let Some(error) = app.error.take() {
        return Err(error);
    }
    Ok(app.validation_counts)
}

/// Frame-time statistics shown in the title, refreshed twice a second.
struct FrameStats {
    since: Instant,
    frames: u32,
}

impl FrameStats {
    /// Counts a frame; every half second returns `(frames/s, ms/frame)`.
    fn tick(&mut self) -> Option<(f64, f64)> {
        self.frames += 1;
        let elapsed = self.since.elapsed().as_secs_f64();
        if elapsed < 0.5 {
            return None;
        }
        let fps = f64::from(self.frames) / elapsed;
        self.since = Instant::now();
        self.frames = 0;
        Some((fps, 1000.0 / fps))
    }
}

struct App {
    cli: Cli,
    // Declared before `window`: the renderer (and its surface) must go first.
    renderer: Option<Renderer>,
    /// Shared with the renderer's surface, which keeps it alive as long as it needs it.
    window: Option<Arc<Window>>,
    camera: OrbitCamera,
    /// Animation time of each frame (paused with Space).
    clock: AnimationClock,
    dragging: bool,
    cursor: Option<(f64, f64)>,
    stats: FrameStats,
    minimised: bool,
    error: Option<anyhow::Error>,
    validation_counts: (u32, u32),
}

impl App {
    fn new(cli: Cli) -> Self {
        Self {
            clock: AnimationClock::new(crate::app::setup::time_source(&cli)),
            cli,
            renderer: None,
            window: None,
            camera: OrbitCamera::default(),
            dragging: false,
            cursor: None,
            stats: FrameStats { since: Instant::now(), frames: 0 },
            minimised: false,
            error: None,
            validation_counts: (0, 0),
        }
    }

    fn create_window(&mut self, event_loop: &ActiveEventLoop) -> Result<()> {
        let attributes = Window::default_attributes()
            .with_title("hip-vulkan-sinewave")
            .with_inner_size(PhysicalSize::new(self.cli.size.width, self.cli.size.height));
        let window = Arc::new(event_loop.create_window(attributes).context("creating the window")?);
        let size = window.inner_size();
        let presentation = Presentation::Window {
            window: window.clone(),
            size: vk::Extent2D { width: size.width, height: size.height },
        };
        let renderer = crate::app::setup::renderer(&self.cli, presentation)?;
        log::info!("present mode: {}", renderer.present_mode_name());
        self.renderer = Some(renderer);
        self.window = Some(window);
        Ok(())
    }

    fn fail(&mut self, event_loop: &ActiveEventLoop, error: anyhow::Error) {
        self.error = Some(error);
        self.shutdown(event_loop);
    }

    fn shutdown(&mut self, event_loop: &ActiveEventLoop) {
        if let Some(renderer) = self.renderer.take() {
            self.validation_counts = renderer.validation_counts();
        }
        event_loop.exit();
    }

    fn redraw(&mut self, event_loop: &ActiveEventLoop) -> Result<()> {
        let Some(renderer) = self.renderer.as_mut() else { return Ok(()) };
        if renderer.render(&mut self.clock, &self.camera)? == FrameOutcome::Rendered {
            if let (Some((fps, ms)), Some(window)) = (self.stats.tick(), &self.window) {
                window.set_title(&format!(
                    "hip-vulkan-sinewave — {} heights: {} — {fps:.0} fps, {ms:.2} ms/frame{}",
                    self.cli.grid,
                    renderer.source_name(),
                    if self.clock.paused() { " (paused)" } else { "" }
                ));
            }
            if self.cli.frame_limit().is_some_and(|n| renderer.frames_rendered() >= n) {
                log::info!("rendered {} frames; exiting", renderer.frames_rendered());
                self.shutdown(event_loop);
            }
        }
        Ok(())
    }

    fn key(&mut self, event_loop: &ActiveEventLoop, event: &KeyEvent) {
        if event.state != ElementState::Pressed || event.repeat {
            return;
        }
        match &event.logical_key {
            Key::Named(NamedKey::Escape) => self.shutdown(event_loop),
            Key::Named(NamedKey::Space) => {
                self.clock.set_paused(!self.clock.paused(), Instant::now());
                log::info!("animation {}", if self.clock.paused() { "paused" } else { "resumed" });
            }
            Key::Named(NamedKey::F1) => {
                if let Some(overlay) = self.renderer.as_mut().and_then(crate::app::overlay::of) {
                    overlay.visible = !overlay.visible;
                }
            }
            Key::Character(c) if c.eq_ignore_ascii_case("w") => {
                if let Some(r) = self.renderer.as_mut() {
                    if r.device().wireframe_supported {
                        r.wireframe = !r.wireframe;
                    } else {
                        log::warn!("this device cannot draw wireframe (no fillModeNonSolid)");
                    }
                }
            }
            _ => {}
        }
    }
}

impl ApplicationHandler for App {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if self.window.is_none() && self.error.is_none() {
            if let Err(e) = self.create_window(event_loop) {
                self.fail(event_loop, e);
            }
        }
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, _id: WindowId, event: WindowEvent) {
        match event {
            WindowEvent::CloseRequested => self.shutdown(event_loop),
            WindowEvent::Resized(size) => {
                self.minimised = size.width == 0 || size.height == 0;
                if let Some(r) = self.renderer.as_mut() {
                    r.resize(size.width, size.height);
                }
            }
            WindowEvent::KeyboardInput { event, .. } => self.key(event_loop, &event),
            WindowEvent::MouseInput { state, button: MouseButton::Left, .. } => {
                self.dragging = state == ElementState::Pressed
            }
            WindowEvent::CursorMoved { position, .. } => {
                if let (true, Some((x, y))) = (self.dragging, self.cursor) {
                    self.camera.drag((position.x - x) as f32, (position.y - y) as f32);
                }
                self.cursor = Some((position.x, position.y));
            }
            WindowEvent::MouseWheel { delta, .. } => {
                let lines = match delta {
                    MouseScrollDelta::LineDelta(_, y) => y,
                    MouseScrollDelta::PixelDelta(p) => (p.y / 40.0) as f32,
                };
                self.camera.zoom(lines);
            }
            WindowEvent::RedrawRequested => {
                if let Err(e) = self.redraw(event_loop) {
                    self.fail(event_loop, e);
                }
            }
            _ => {}
        }
    }

    fn about_to_wait(&mut self, event_loop: &ActiveEventLoop) {
        if let Some(signal) = crate::app::interrupt::pending() {
            log::warn!("{} received: closing the window", crate::app::interrupt::name(signal));
            self.shutdown(event_loop);
            return;
        }
        // A minimised window draws nothing: wait for events instead of spinning (waking
        // now and then to notice Ctrl+C).
        if self.minimised {
            event_loop.set_control_flow(ControlFlow::wait_duration(std::time::Duration::from_millis(200)));
        } else if let Some(window) = &self.window {
            event_loop.set_control_flow(ControlFlow::Poll);
            window.request_redraw();
        }
    }

    fn exiting(&mut self, _event_loop: &ActiveEventLoop) {
        if let Some(renderer) = self.renderer.take() {
            self.validation_counts = renderer.validation_counts();
        }
    }
}
