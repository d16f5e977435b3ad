//! The windowed demo: a winit event loop around the [`Renderer`], the orbit camera and
//! the keyboard and mouse controls.
//!
//! Controls: drag to orbit, wheel to zoom, Space pauses the animation, W toggles
//! wireframe (where the device supports it), F1 shows or hides the overlay, Esc quits;
//! and the live switches ([`crate::app::live`]): H who writes the heights, S the sync
//! strategy, 1–4 the frames in flight, G the grid.

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
use crate::app::live::{Live, Switch};
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
    /// The live switcher (it keeps HIP open, when it opened, for switches to HIP).
    live: Option<Live>,
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
    /// The overlay's button positions were logged (once, after the first frame).
    buttons_logged: bool,
    error: Option<anyhow::Error>,
    validation_counts: (u32, u32),
}

impl App {
    fn new(cli: Cli) -> Self {
        Self {
            clock: AnimationClock::new(crate::app::setup::time_source(&cli)),
            cli,
            live: None,
            renderer: None,
            window: None,
            camera: OrbitCamera::default(),
            dragging: false,
            cursor: None,
            stats: FrameStats { since: Instant::now(), frames: 0 },
            minimised: false,
            buttons_logged: false,
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
        let mut built = crate::app::setup::build(&self.cli, presentation, true)?;
        let live = Live::new(&self.cli, &mut built);
        let mut renderer = built.renderer;
        log::info!("present mode: {}", renderer.present_mode_name());
        live.refresh_overlay(&mut renderer);
        self.live = Some(live);
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
        self.live = None;
        event_loop.exit();
    }

    /// A live switch from a key; a refused one is logged and changes nothing.
    fn switch(&mut self, event_loop: &ActiveEventLoop, switch: Switch) {
        let (Some(live), Some(renderer)) = (self.live.as_mut(), self.renderer.as_mut()) else { return };
        if let Err(e) = live.apply(renderer, switch) {
            self.fail(event_loop, e);
        }
    }

    fn redraw(&mut self, event_loop: &ActiveEventLoop) -> Result<()> {
        let Some(renderer) = self.renderer.as_mut() else { return Ok(()) };
        let mut clicks = Vec::new();
        if renderer.render(&mut self.clock, &self.camera)? == FrameOutcome::Rendered {
            if let Some(overlay) = crate::app::overlay::of(renderer) {
                let clicked = overlay.take_clicks();
                let log_buttons = !self.buttons_logged && !overlay.button_centres().is_empty();
                // The buttons are live::buttons(), in order (looked up only when needed).
                let switches = || crate::app::live::buttons().into_iter().map(|(_, s)| s).collect::<Vec<Switch>>();
                if !clicked.is_empty() {
                    let switches = switches();
                    clicks = clicked.into_iter().filter_map(|i| switches.get(i).copied()).collect();
                }
                if log_buttons {
                    self.buttons_logged = true;
                    let at: Vec<String> = overlay
                        .button_centres()
                        .iter()
                        .zip(switches())
                        .map(|((x, y), switch)| format!("{switch} at {x:.0},{y:.0}"))
                        .collect();
                    let graph = overlay
                        .graph_bounds()
                        .map_or("none".to_string(), |[l, t, r, b]| format!("{l:.0},{t:.0} to {r:.0},{b:.0}"));
                    log::info!("overlay buttons: {}; graph at {graph}", at.join("; "));
                }
            }
            if let (Some((fps, ms)), Some(window)) = (self.stats.tick(), &self.window) {
                let (width, height) = renderer.grid();
                window.set_title(&format!(
                    "hip-vulkan-sinewave — {width}x{height} heights: {} — {fps:.0} fps, {ms:.2} ms/frame{}",
                    renderer.source_name(),
                    if self.clock.paused() { " (paused)" } else { "" }
                ));
            }
            if self.cli.frame_limit().is_some_and(|n| renderer.frames_rendered() >= n) {
                log::info!("rendered {} frames; exiting", renderer.frames_rendered());
                self.shutdown(event_loop);
                return Ok(());
            }
        }
        for switch in clicks {
            log::info!("overlay: {switch} clicked");
            self.switch(event_loop, switch);
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
            Key::Character(c) if c.eq_ignore_ascii_case("h") => self.switch(event_loop, Switch::NextWriter),
            Key::Character(c) if c.eq_ignore_ascii_case("s") => self.switch(event_loop, Switch::NextSync),
            Key::Character(c) if c.eq_ignore_ascii_case("g") => self.switch(event_loop, Switch::NextGrid),
            Key::Character(c) if matches!(c.as_str(), "1" | "2" | "3" | "4") => {
                let k = c.parse().unwrap_or(2);
                self.switch(event_loop, Switch::FramesInFlight(k));
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
                let pressed = state == ElementState::Pressed;
                // A press on the overlay's panel is the panel's (its buttons), not a drag.
                let on_panel = self
                    .renderer
                    .as_mut()
                    .and_then(crate::app::overlay::of)
                    .is_some_and(|overlay| overlay.pointer_button(pressed));
                self.dragging = pressed && !on_panel;
            }
            WindowEvent::CursorMoved { position, .. } => {
                if let Some(overlay) = self.renderer.as_mut().and_then(crate::app::overlay::of) {
                    overlay.pointer_moved(position.x as f32, position.y as f32);
                }
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
        self.live = None;
    }
}
