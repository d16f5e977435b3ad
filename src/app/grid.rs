//! The static part of the grid mesh: one `(u, v)` position per height and the index list
//! that stitches them into triangles. Uploaded once; only the heights change per frame.
//!
//! Rows are drawn as triangle strips separated by the primitive-restart index, which
//! needs about a third of the indices of a triangle list (≈2 per vertex instead of 6).

/// Index that ends one strip and starts the next (`VK_INDEX_TYPE_UINT32` restart value).
pub const RESTART: u32 = u32::MAX;

/// Vertex positions `(u, v)` in `[-1, 1]²`, row-major like the heights.
pub fn positions(width: u32, height: u32) -> Vec<[f32; 2]> {
    let mut out = Vec::with_capacity(width as usize * height as usize);
    for y in 0..height {
        let v = crate::sinewave::grid_coord(y, height);
        for x in 0..width {
            out.push([crate::sinewave::grid_coord(x, width), v]);
        }
    }
    out
}

/// Number of indices [`strip_indices`] returns: per row pair, two per column plus a restart.
pub fn strip_index_count(width: u32, height: u32) -> u64 {
    (u64::from(width) * 2 + 1) * u64::from(height.saturating_sub(1))
}

/// Triangle-strip indices, one strip per pair of rows, each followed by [`RESTART`].
/// Every triangle has the same orientation once the strip's alternation is accounted for.
pub fn strip_indices(width: u32, height: u32) -> Vec<u32> {
    let mut out = Vec::with_capacity(strip_index_count(width, height) as usize);
    for y in 0..height.saturating_sub(1) {
        for x in 0..width {
            out.push(y * width + x);
            out.push((y + 1) * width + x);
        }
        out.push(RESTART);
    }
    out
}

/// Bytes of device memory the grid needs: positions, indices and `slots` height buffers.
pub fn device_bytes(width: u32, height: u32, slots: u32) -> u64 {
    let vertices = u64::from(width) * u64::from(height);
    vertices * 8 + strip_index_count(width, height) * 4 + vertices * 4 * u64::from(slots)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expands strips into triangles the way Vulkan does: in a strip, triangle `i` is
    /// `(i, i+1, i+2)` for even `i` and `(i+1, i, i+2)` for odd `i`.
    fn triangles(indices: &[u32]) -> Vec<[u32; 3]> {
        let mut out = Vec::new();
        for strip in indices.split(|&i| i == RESTART) {
            for (i, w) in strip.windows(3).enumerate() {
                out.push(if i % 2 == 0 { [w[0], w[1], w[2]] } else { [w[1], w[0], w[2]] });
            }
        }
        out
    }

    fn signed_area(p: &[[f32; 2]], t: [u32; 3]) -> f32 {
        let [a, b, c] = t.map(|i| p[i as usize]);
        (b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1])
    }

    #[test]
    fn counts() {
        let (w, h) = (7, 5);
        assert_eq!(positions(w, h).len(), 35);
        assert_eq!(strip_indices(w, h).len() as u64, strip_index_count(w, h));
        assert_eq!(strip_index_count(w, h), (7 * 2 + 1) * 4);
        // two triangles per cell
        assert_eq!(triangles(&strip_indices(w, h)).len(), 2 * 6 * 4);
    }

    #[test]
    fn no_index_out_of_range() {
        for (w, h) in [(2, 2), (3, 9), (64, 1), (17, 33)] {
            let n = w * h;
            assert!(strip_indices(w, h).iter().all(|&i| i == RESTART || i < n), "{w}x{h}");
        }
    }

    #[test]
    fn winding_is_consistent_and_no_triangle_is_degenerate() {
        let (w, h) = (9, 6);
        let p = positions(w, h);
        let tris = triangles(&strip_indices(w, h));
        let first = signed_area(&p, tris[0]).signum();
        for t in tris {
            let area = signed_area(&p, t);
            assert!(area.abs() > 1e-6, "degenerate {t:?}");
            assert_eq!(area.signum(), first, "triangle {t:?} is wound the other way");
        }
    }

    #[test]
    fn triangles_cover_each_cell_once() {
        let (w, h) = (5, 4);
        let p = positions(w, h);
        let total: f32 = triangles(&strip_indices(w, h)).iter().map(|&t| signed_area(&p, t).abs() / 2.0).sum();
        assert!((total - 4.0).abs() < 1e-4, "grid spans [-1,1]², area {total}");
    }

    #[test]
    fn positions_span_the_unit_square() {
        let p = positions(4, 3);
        assert_eq!(p[0], [-1.0, -1.0]);
        assert_eq!(p[11], [1.0, 1.0]);
        assert_eq!(p[4], [-1.0, 0.0]);
    }

    #[test]
    fn device_bytes_adds_up() {
        assert_eq!(device_bytes(2, 2, 2), 4 * 8 + 5 * 4 + 4 * 4 * 2);
    }
}
