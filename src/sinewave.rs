//! The sinewave the demo animates, as a CPU reference: the exact formula the HIP kernel
//! (`kernels/sinewave.hip`) and the Vulkan compute shader implement.
//!
//! `height(u, v, t) = sin(u·FREQ + t) · cos(v·FREQ + t)`, with `u, v ∈ [-1, 1]` spanning
//! the grid and `FREQ = 10`.

use std::f64::consts::TAU;

/// Spatial frequency of the wave.
pub const FREQ: f32 = 10.0;

/// Animation time as handed to the GPU: the wave has period 2π in `t`, so time is
/// wrapped into `[0, 2π)` in double precision before it becomes an `f32`. A raw `f32`
/// time of hours would lose the digits that `sin` needs.
pub fn wrap_time(seconds: f64) -> f32 {
    seconds.rem_euclid(TAU) as f32
}

/// Grid coordinate in `[-1, 1]` of index `i` of `n` (n ≥ 2), as the kernel computes it.
pub fn grid_coord(i: u32, n: u32) -> f32 {
    i as f32 / (n - 1) as f32 * 2.0 - 1.0
}

/// Height at one grid point, in `f32` like the GPU code.
pub fn height(u: f32, v: f32, time: f32) -> f32 {
    (u * FREQ + time).sin() * (v * FREQ + time).cos()
}

/// Height at one grid point computed in `f64`: the reference the GPU is checked against.
pub fn height_f64(u: f32, v: f32, time: f32) -> f64 {
    let (u, v, t) = (f64::from(u), f64::from(v), f64::from(time));
    (u * f64::from(FREQ) + t).sin() * (v * f64::from(FREQ) + t).cos()
}

/// World units per unit of height, as the renderer draws the grid (`x = u`, `y = h ·
/// HEIGHT_SCALE`, `z = v`): the shading normals are those of that surface.
pub const HEIGHT_SCALE: f32 = 0.2;

/// The unit surface normal at `(u, v, time)` of the drawn grid (see [`HEIGHT_SCALE`]),
/// `(−S·∂h/∂u, 1, −S·∂h/∂v)` normalised, in `f32` like the GPU code. The shading image
/// holds it as RGBA16F with `w = 0`.
pub fn normal(u: f32, v: f32, time: f32) -> [f32; 3] {
    let (a, b) = (u * FREQ + time, v * FREQ + time);
    let dh_du = FREQ * a.cos() * b.cos();
    let dh_dv = -FREQ * a.sin() * b.sin();
    let n = [-HEIGHT_SCALE * dh_du, 1.0, -HEIGHT_SCALE * dh_dv];
    let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
    [n[0] / len, n[1] / len, n[2] / len]
}

/// [`normal`] in `f64`: the reference the shading image is checked against.
pub fn normal_f64(u: f32, v: f32, time: f32) -> [f64; 3] {
    let (freq, scale) = (f64::from(FREQ), f64::from(HEIGHT_SCALE));
    let (a, b) = (f64::from(u) * freq + f64::from(time), f64::from(v) * freq + f64::from(time));
    let n = [-scale * freq * a.cos() * b.cos(), 1.0, scale * freq * a.sin() * b.sin()];
    let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
    [n[0] / len, n[1] / len, n[2] / len]
}

/// Fills `out` (row-major, `width × height` texels of 4 halves) with the normals at `time`
/// as the shading image holds them: RGBA16F, `w = 0`.
pub fn fill_normals(out: &mut [[half::f16; 4]], width: u32, height_rows: u32, time: f32) {
    assert_eq!(out.len() as u64, u64::from(width) * u64::from(height_rows));
    for (y, row) in out.chunks_exact_mut(width as usize).enumerate() {
        let v = grid_coord(y as u32, height_rows);
        for (x, texel) in row.iter_mut().enumerate() {
            let n = normal(grid_coord(x as u32, width), v, time);
            *texel = [half::f16::from_f32(n[0]), half::f16::from_f32(n[1]), half::f16::from_f32(n[2]), half::f16::ZERO];
        }
    }
}

/// Largest absolute difference, over every component, between the shading image's texels
/// (RGBA16F, as read back) and the `f64` reference normals at `time` (`w` must be 0).
pub fn max_normal_error(texels: &[[half::f16; 4]], width: u32, height_rows: u32, time: f32) -> f64 {
    let mut worst = 0.0f64;
    for (y, row) in texels.chunks_exact(width as usize).enumerate() {
        let v = grid_coord(y as u32, height_rows);
        for (x, texel) in row.iter().enumerate() {
            let reference = normal_f64(grid_coord(x as u32, width), v, time);
            for (c, expected) in reference.iter().chain(&[0.0]).enumerate() {
                let err = (texel[c].to_f64() - expected).abs();
                worst = if err.is_nan() { f64::INFINITY } else { worst.max(err) };
            }
        }
    }
    worst
}

/// Fills `out` (row-major, `width × height`) with the heights at `time` (already wrapped).
pub fn fill(out: &mut [f32], width: u32, height_rows: u32, time: f32) {
    assert_eq!(out.len() as u64, u64::from(width) * u64::from(height_rows));
    for (y, row) in out.chunks_exact_mut(width as usize).enumerate() {
        let v = grid_coord(y as u32, height_rows);
        for (x, h) in row.iter_mut().enumerate() {
            *h = height(grid_coord(x as u32, width), v, time);
        }
    }
}

/// Largest absolute difference between `heights` and the `f64` reference at `time`.
pub fn max_abs_error(heights: &[f32], width: u32, height_rows: u32, time: f32) -> f64 {
    let mut worst = 0.0f64;
    for (y, row) in heights.chunks_exact(width as usize).enumerate() {
        let v = grid_coord(y as u32, height_rows);
        for (x, &h) in row.iter().enumerate() {
            let reference = height_f64(grid_coord(x as u32, width), v, time);
            let err = (f64::from(h) - reference).abs();
            // NaN never passes: treat it as infinitely wrong.
            worst = if err.is_nan() { f64::INFINITY } else { worst.max(err) };
        }
    }
    worst
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f32::consts::{FRAC_PI_2, PI};

    #[test]
    fn known_values() {
        // sin(0)·cos(0) = 0
        assert_eq!(height(0.0, 0.0, 0.0), 0.0);
        // sin(π/2)·cos(0) = 1 at u = π/20, v = 0
        assert!((height(FRAC_PI_2 / FREQ, 0.0, 0.0) - 1.0).abs() < 1e-6);
        // time shifts both: sin(π/2)·cos(π/2) = 0
        assert!(height(0.0, 0.0, FRAC_PI_2).abs() < 1e-6);
        // at the corner u = v = -1, t = 0: sin(-10)·cos(-10)
        let expected = (-10.0f64).sin() * (-10.0f64).cos();
        assert!((f64::from(height(-1.0, -1.0, 0.0)) - expected).abs() < 1e-6);
    }

    #[test]
    fn normals_are_unit_length_point_up_and_match_the_slope() {
        for &(u, v, t) in &[(0.0, 0.0, 0.0), (0.3, -0.7, 1.5), (-1.0, 1.0, 6.0), (0.05, 0.9, 3.3)] {
            let n = normal(u, v, t);
            let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
            assert!((len - 1.0).abs() < 1e-6 && n[1] > 0.0, "{n:?}");
            // Finite differences of the drawn surface agree with the analytic slope.
            let e = 1e-3f64;
            let h = |u: f64, v: f64| f64::from(HEIGHT_SCALE) * height_f64(u as f32, v as f32, t);
            let (uf, vf) = (f64::from(u), f64::from(v));
            let du = (h(uf + e, vf) - h(uf - e, vf)) / (2.0 * e);
            let dv = (h(uf, vf + e) - h(uf, vf - e)) / (2.0 * e);
            let reference = normal_f64(u, v, t);
            assert!((reference[0] / reference[1] + du).abs() < 1e-3, "x slope at {u},{v},{t}");
            assert!((reference[2] / reference[1] + dv).abs() < 1e-3, "z slope at {u},{v},{t}");
            for c in 0..3 {
                assert!((f64::from(n[c]) - reference[c]).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn half_precision_normals_are_within_the_image_tolerance() {
        let (w, h, t) = (37, 23, 2.25);
        let mut texels = vec![[half::f16::ZERO; 4]; (w * h) as usize];
        fill_normals(&mut texels, w, h, t);
        let err = max_normal_error(&texels, w, h, t);
        assert!(err > 0.0 && err < 1e-3, "RGBA16F rounding: {err}");
        // A texel off by one row is caught.
        let mut shifted = texels.clone();
        shifted.rotate_left(w as usize);
        assert!(max_normal_error(&shifted, w, h, t) > 0.05);
        // A non-zero w is caught.
        texels[5][3] = half::f16::ONE;
        assert!(max_normal_error(&texels, w, h, t) >= 1.0);
    }

    #[test]
    fn grid_coordinates_span_minus_one_to_one() {
        assert_eq!(grid_coord(0, 5), -1.0);
        assert_eq!(grid_coord(2, 5), 0.0);
        assert_eq!(grid_coord(4, 5), 1.0);
    }

    #[test]
    fn wrapped_time_keeps_the_wave() {
        let t = 3600.0 * 5.0 + 0.25;
        let wrapped = wrap_time(t);
        assert!((0.0..std::f32::consts::TAU).contains(&wrapped));
        let direct = (0.3f64 * 10.0 + t).sin() * (-0.7f64 * 10.0 + t).cos();
        assert!((height_f64(0.3, -0.7, wrapped) - direct).abs() < 1e-5);
        assert!(wrap_time(-PI as f64) > 0.0);
    }

    #[test]
    fn fill_matches_reference_and_error_detects_changes() {
        let (w, h) = (33, 17);
        let mut out = vec![0.0; (w * h) as usize];
        fill(&mut out, w, h, 1.25);
        assert!(max_abs_error(&out, w, h, 1.25) < 1e-6);
        out[100] += 0.01;
        assert!((max_abs_error(&out, w, h, 1.25) - 0.01).abs() < 1e-4);
        out[5] = f32::NAN;
        assert_eq!(max_abs_error(&out, w, h, 1.25), f64::INFINITY);
    }
}
