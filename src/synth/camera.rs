//! Where a view looks at the scalp: a similarity transform between world micrometres and pixels.

use serde::Serialize;

/// One photograph's viewpoint over the scalp.
#[derive(Debug, Clone, Copy)]
pub struct Camera {
    /// Micrometres per pixel of this view.
    pub um_per_px: f64,
    /// World position (µm) of the pixel grid's origin (top-left corner of pixel 0,0).
    pub origin_um: [f64; 2],
    /// Rotation of the pixel axes relative to the world axes (radians).
    pub rotation_rad: f64,
    /// Image width in pixels.
    pub width: usize,
    /// Image height in pixels.
    pub height: usize,
}

impl Camera {
    /// World position (µm) of a point given in pixels.
    pub fn px_to_world(&self, p: [f64; 2]) -> [f64; 2] {
        let (s, c) = self.rotation_rad.sin_cos();
        let (x, y) = (p[0] * self.um_per_px, p[1] * self.um_per_px);
        [self.origin_um[0] + c * x - s * y, self.origin_um[1] + s * x + c * y]
    }

    /// Pixel position of a world point (µm).
    pub fn world_to_px(&self, w: [f64; 2]) -> [f64; 2] {
        let (s, c) = self.rotation_rad.sin_cos();
        let (x, y) = (w[0] - self.origin_um[0], w[1] - self.origin_um[1]);
        [(c * x + s * y) / self.um_per_px, (-s * x + c * y) / self.um_per_px]
    }

    /// World position of the image centre.
    pub fn centre_world(&self) -> [f64; 2] {
        self.px_to_world([self.width as f64 / 2.0, self.height as f64 / 2.0])
    }

    /// The pixel→pixel similarity taking this view's pixels to `target`'s pixels.
    pub fn similarity_to(&self, target: &Camera) -> Similarity {
        let o = target.world_to_px(self.px_to_world([0.0, 0.0]));
        let ex = target.world_to_px(self.px_to_world([1.0, 0.0]));
        let (a, b) = (ex[0] - o[0], ex[1] - o[1]);
        Similarity {
            scale: (a * a + b * b).sqrt(),
            rotation_deg: b.atan2(a).to_degrees(),
            matrix: [[a, -b, o[0]], [b, a, o[1]]],
        }
    }
}

/// A 2-D similarity transform between two images' pixel grids.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Similarity {
    /// Isotropic scale factor.
    pub scale: f64,
    /// Rotation in degrees (counter-clockwise in image axes with y down).
    pub rotation_deg: f64,
    /// `[[a, -b, tx], [b, a, ty]]`: target = matrix · (x, y, 1).
    pub matrix: [[f64; 3]; 2],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn world_and_pixel_round_trip_and_similarity_maps_points() {
        let base = Camera {
            um_per_px: 5.0,
            origin_um: [100.0, 50.0],
            rotation_rad: 0.0,
            width: 64,
            height: 48,
        };
        let follow = Camera {
            um_per_px: 5.1,
            origin_um: [130.0, 20.0],
            rotation_rad: 0.12,
            width: 64,
            height: 48,
        };
        let p = [12.5, 33.0];
        let back = follow.world_to_px(follow.px_to_world(p));
        assert!((back[0] - p[0]).abs() < 1e-9 && (back[1] - p[1]).abs() < 1e-9);
        let t = follow.similarity_to(&base);
        let m = t.matrix;
        let mapped = [
            m[0][0] * p[0] + m[0][1] * p[1] + m[0][2],
            m[1][0] * p[0] + m[1][1] * p[1] + m[1][2],
        ];
        let expected = base.world_to_px(follow.px_to_world(p));
        assert!((mapped[0] - expected[0]).abs() < 1e-9 && (mapped[1] - expected[1]).abs() < 1e-9);
        assert!((t.scale - 5.1 / 5.0).abs() < 1e-9);
        assert!((t.rotation_deg - 0.12f64.to_degrees()).abs() < 1e-9);
    }
}
