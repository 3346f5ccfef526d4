//! The similarity transform between two visits' pixel grids (`x' = a·x − b·y + tx`,
//! `y' = b·x + a·y + ty`), with the helpers every comparison stage needs: apply, invert,
//! read off scale, rotation and shift.

use serde::{Deserialize, Serialize};

/// A 2-D similarity transform, `[[a, −b, tx], [b, a, ty]]`: target = matrix · (x, y, 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Similarity {
    /// The 2 × 3 matrix.
    pub matrix: [[f64; 3]; 2],
}

impl Similarity {
    /// The identity.
    pub const IDENTITY: Self = Self {
        matrix: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
    };

    /// From the parameters `a = s·cos θ`, `b = s·sin θ` and the translation.
    pub fn from_params(a: f64, b: f64, tx: f64, ty: f64) -> Self {
        Self {
            matrix: [[a, -b, tx], [b, a, ty]],
        }
    }

    /// Scale `scale` and rotation `rotation_rad` about `from_centre`, which lands on `to_centre`.
    pub fn about(scale: f64, rotation_rad: f64, from_centre: [f64; 2], to_centre: [f64; 2]) -> Self {
        let (a, b) = (scale * rotation_rad.cos(), scale * rotation_rad.sin());
        let tx = to_centre[0] - (a * from_centre[0] - b * from_centre[1]);
        let ty = to_centre[1] - (b * from_centre[0] + a * from_centre[1]);
        Self::from_params(a, b, tx, ty)
    }

    /// The image of point `p`.
    pub fn apply(&self, p: [f64; 2]) -> [f64; 2] {
        let m = &self.matrix;
        [
            m[0][0] * p[0] + m[0][1] * p[1] + m[0][2],
            m[1][0] * p[0] + m[1][1] * p[1] + m[1][2],
        ]
    }

    /// The inverse transform (a similarity with scale > 0 always has one).
    pub fn inverse(&self) -> Self {
        let (a, b) = (self.matrix[0][0], self.matrix[1][0]);
        let det = a * a + b * b;
        let (ia, ib) = (a / det, -b / det);
        let (tx, ty) = (self.matrix[0][2], self.matrix[1][2]);
        Self::from_params(ia, ib, -(ia * tx - ib * ty), -(ib * tx + ia * ty))
    }

    /// `self` after `first`: the transform that applies `first`, then `self`.
    pub fn compose(&self, first: &Self) -> Self {
        let (a1, b1) = (self.matrix[0][0], self.matrix[1][0]);
        let (a2, b2) = (first.matrix[0][0], first.matrix[1][0]);
        let shift = self.apply(first.shift_px());
        Self::from_params(a1 * a2 - b1 * b2, a1 * b2 + b1 * a2, shift[0], shift[1])
    }

    /// Isotropic scale factor.
    pub fn scale(&self) -> f64 {
        self.matrix[0][0].hypot(self.matrix[1][0])
    }

    /// Rotation in degrees (counter-clockwise in image axes with y down).
    pub fn rotation_deg(&self) -> f64 {
        self.matrix[1][0].atan2(self.matrix[0][0]).to_degrees()
    }

    /// The translation part `(tx, ty)` in pixels.
    pub fn shift_px(&self) -> [f64; 2] {
        [self.matrix[0][2], self.matrix[1][2]]
    }

    /// Mean distance (px) between where `self` and `other` put the four corners of a
    /// `width` × `height` frame: the registration error measure of `tricho eval-pairs`.
    pub fn mean_corner_distance_px(&self, other: &Self, width: f64, height: f64) -> f64 {
        let corners = [[0.0, 0.0], [width, 0.0], [0.0, height], [width, height]];
        corners
            .iter()
            .map(|&c| {
                let (p, q) = (self.apply(c), other.apply(c));
                (p[0] - q[0]).hypot(p[1] - q[1])
            })
            .sum::<f64>()
            / 4.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn about_inverse_and_parameters_agree() {
        let t = Similarity::about(1.03, 7f64.to_radians(), [320.0, 240.0], [330.0, 225.0]);
        let c = t.apply([320.0, 240.0]);
        assert!((c[0] - 330.0).abs() < 1e-9 && (c[1] - 225.0).abs() < 1e-9);
        assert!((t.scale() - 1.03).abs() < 1e-12 && (t.rotation_deg() - 7.0).abs() < 1e-9);
        let p = [17.0, 401.0];
        let back = t.inverse().apply(t.apply(p));
        assert!((back[0] - p[0]).abs() < 1e-9 && (back[1] - p[1]).abs() < 1e-9);
        assert!(t.mean_corner_distance_px(&t, 640.0, 480.0) < 1e-12);
        let u = Similarity::about(0.97, -4f64.to_radians(), [10.0, 20.0], [-5.0, 33.0]);
        let (direct, composed) = (u.apply(t.apply(p)), u.compose(&t).apply(p));
        assert!((direct[0] - composed[0]).abs() < 1e-9 && (direct[1] - composed[1]).abs() < 1e-9);
        assert!(
            t.inverse()
                .compose(&t)
                .mean_corner_distance_px(&Similarity::IDENTITY, 640.0, 480.0)
                < 1e-9
        );
    }
}
