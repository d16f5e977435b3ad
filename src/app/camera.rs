//! Orbit camera: the grid stays at the origin; dragging turns the camera around it,
//! the wheel moves it closer or further.

use glam::{Mat4, Vec3};

/// Spherical position around the origin plus the lens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrbitCamera {
    /// Angle around the vertical axis, radians.
    pub yaw: f32,
    /// Angle above the horizon, radians, kept inside `PITCH_LIMIT`.
    pub pitch: f32,
    /// Distance from the origin, kept inside `DISTANCE_LIMIT`.
    pub distance: f32,
    /// Vertical field of view, radians.
    pub fov_y: f32,
}

impl OrbitCamera {
    pub const PITCH_LIMIT: (f32, f32) = (-1.5, 1.5);
    pub const DISTANCE_LIMIT: (f32, f32) = (0.5, 20.0);
    /// Radians turned per pixel dragged.
    pub const DRAG_SPEED: f32 = 0.005;
    /// Fraction of the distance moved per wheel line.
    pub const ZOOM_STEP: f32 = 0.1;

    /// Where the camera is.
    pub fn eye(&self) -> Vec3 {
        let (sy, cy) = self.yaw.sin_cos();
        let (sp, cp) = self.pitch.sin_cos();
        Vec3::new(cp * sy, sp, cp * cy) * self.distance
    }

    /// Turns the camera by a mouse drag of `(dx, dy)` pixels.
    pub fn drag(&mut self, dx: f32, dy: f32) {
        self.yaw -= dx * Self::DRAG_SPEED;
        self.pitch = (self.pitch + dy * Self::DRAG_SPEED).clamp(Self::PITCH_LIMIT.0, Self::PITCH_LIMIT.1);
    }

    /// Zooms by `lines` wheel lines (positive: closer).
    pub fn zoom(&mut self, lines: f32) {
        let factor = (1.0 - Self::ZOOM_STEP).powf(lines);
        self.distance = (self.distance * factor).clamp(Self::DISTANCE_LIMIT.0, Self::DISTANCE_LIMIT.1);
    }

    /// Clip-space transform for Vulkan (y down, depth 0..1) at the given aspect ratio.
    pub fn view_proj(&self, aspect: f32) -> Mat4 {
        let view = glam::camera::rh::view::look_at_mat4(self.eye(), Vec3::ZERO, Vec3::Y);
        // Vulkan's convention: depth 0..1 and y pointing down.
        let proj = glam::camera::rh::proj::vulkan::perspective(self.fov_y, aspect.max(1e-3), 0.05, 100.0);
        proj * view
    }
}

impl Default for OrbitCamera {
    fn default() -> Self {
        Self { yaw: 0.6, pitch: 0.55, distance: 3.0, fov_y: 45f32.to_radians() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::Vec4;

    fn project(camera: &OrbitCamera, p: Vec3) -> Vec3 {
        let clip = camera.view_proj(16.0 / 9.0) * Vec4::new(p.x, p.y, p.z, 1.0);
        clip.truncate() / clip.w
    }

    #[test]
    fn origin_is_at_the_centre_of_the_screen() {
        let ndc = project(&OrbitCamera::default(), Vec3::ZERO);
        assert!(ndc.x.abs() < 1e-5 && ndc.y.abs() < 1e-5);
        assert!((0.0..1.0).contains(&ndc.z));
    }

    #[test]
    fn up_is_up_on_screen() {
        // Vulkan's y axis points down: a point above the origin has a negative y.
        let ndc = project(&OrbitCamera::default(), Vec3::new(0.0, 0.3, 0.0));
        assert!(ndc.y < 0.0, "{ndc}");
    }

    #[test]
    fn eye_is_at_the_distance() {
        let c = OrbitCamera { yaw: 1.0, pitch: -0.3, distance: 4.0, ..Default::default() };
        assert!((c.eye().length() - 4.0).abs() < 1e-5);
    }

    #[test]
    fn drag_and_zoom_stay_in_limits() {
        let mut c = OrbitCamera::default();
        c.drag(0.0, 1e6);
        assert_eq!(c.pitch, OrbitCamera::PITCH_LIMIT.1);
        c.drag(0.0, -1e6);
        assert_eq!(c.pitch, OrbitCamera::PITCH_LIMIT.0);
        c.zoom(1000.0);
        assert_eq!(c.distance, OrbitCamera::DISTANCE_LIMIT.0);
        c.zoom(-1000.0);
        assert_eq!(c.distance, OrbitCamera::DISTANCE_LIMIT.1);
        let before = c.yaw;
        c.drag(100.0, 0.0);
        assert!((before - c.yaw - 0.5).abs() < 1e-6);
    }
}
