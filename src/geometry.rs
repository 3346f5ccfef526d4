//! Plane geometry on points in continuous pixel or micrometre coordinates, shared by the
//! renderer and the tracer so both measure lengths the same way.

/// Euclidean distance between two points.
pub fn distance(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

/// Angle (radians, 0 to π) between the vectors `u` and `v`, of any non-zero lengths.
pub fn angle_between(u: [f64; 2], v: [f64; 2]) -> f64 {
    let cross = u[0] * v[1] - u[1] * v[0];
    let dot = u[0] * v[0] + u[1] * v[1];
    cross.abs().atan2(dot)
}

/// Arc length from the first point to each point of `points` (0 for the first).
pub fn cumulative_lengths(points: &[[f64; 2]]) -> Vec<f64> {
    let mut lengths = Vec::with_capacity(points.len());
    let mut total = 0.0;
    for (k, &p) in points.iter().enumerate() {
        if k > 0 {
            total += distance(points[k - 1], p);
        }
        lengths.push(total);
    }
    lengths
}

/// Total length of a polyline.
pub fn polyline_length(points: &[[f64; 2]]) -> f64 {
    points.windows(2).map(|s| distance(s[0], s[1])).sum()
}

/// Distance from `p` to the segment `a`–`b` (to `a` if the segment is a point).
pub fn distance_to_segment(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    distance(p, closest_point_on_segment(p, a, b))
}

/// Squared distance from `p` to the segment `a`–`b`: for comparisons in hot loops, where the
/// square root (and `hypot`'s overflow care) would be wasted.
pub fn squared_distance_to_segment(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let c = closest_point_on_segment(p, a, b);
    (p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2)
}

/// The point of the segment `a`–`b` nearest to `p` (`a` if the segment is a point).
fn closest_point_on_segment(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> [f64; 2] {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    [a[0] + t * dx, a[1] + t * dy]
}

/// Distance from `p` to the polyline `line` (infinite for an empty one).
pub fn distance_to_polyline(p: [f64; 2], line: &[[f64; 2]]) -> f64 {
    match line {
        [] => f64::INFINITY,
        [only] => distance(p, *only),
        _ => line
            .windows(2)
            .map(|s| distance_to_segment(p, s[0], s[1]))
            .fold(f64::INFINITY, f64::min),
    }
}

/// A circle in continuous pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Circle {
    /// Centre, x (px).
    pub cx: f64,
    /// Centre, y (px).
    pub cy: f64,
    /// Radius (px).
    pub r: f64,
}

impl Circle {
    /// The circle through three points, or `None` when they are (nearly) collinear.
    pub fn through(a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> Option<Self> {
        let d = 2.0 * (a[0] * (b[1] - c[1]) + b[0] * (c[1] - a[1]) + c[0] * (a[1] - b[1]));
        if d.abs() < 1e-6 {
            return None;
        }
        let sq = |p: [f64; 2]| p[0] * p[0] + p[1] * p[1];
        let cx = (sq(a) * (b[1] - c[1]) + sq(b) * (c[1] - a[1]) + sq(c) * (a[1] - b[1])) / d;
        let cy = (sq(a) * (c[0] - b[0]) + sq(b) * (a[0] - c[0]) + sq(c) * (b[0] - a[0])) / d;
        Some(Self {
            cx,
            cy,
            r: (a[0] - cx).hypot(a[1] - cy),
        })
    }

    /// Least-squares (Kåsa) circle through `points`; `None` for fewer than three or a
    /// degenerate set.
    pub fn fit(points: &[[f64; 2]]) -> Option<Self> {
        if points.len() < 3 {
            return None;
        }
        let n = points.len() as f64;
        let (mx, my) = points
            .iter()
            .fold((0.0, 0.0), |(sx, sy), p| (sx + p[0] / n, sy + p[1] / n));
        let (mut suu, mut svv, mut suv, mut suuu, mut svvv, mut suvv, mut svuu) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for p in points {
            let (u, v) = (p[0] - mx, p[1] - my);
            suu += u * u;
            svv += v * v;
            suv += u * v;
            suuu += u * u * u;
            svvv += v * v * v;
            suvv += u * v * v;
            svuu += v * u * u;
        }
        let det = suu * svv - suv * suv;
        if det.abs() < 1e-9 {
            return None;
        }
        let (bu, bv) = (0.5 * (suuu + suvv), 0.5 * (svvv + svuu));
        let uc = (bu * svv - bv * suv) / det;
        let vc = (bv * suu - bu * suv) / det;
        Some(Self {
            cx: mx + uc,
            cy: my + vc,
            r: (uc * uc + vc * vc + (suu + svv) / n).sqrt(),
        })
    }

    /// Distance of `p` from the circle line.
    pub fn offset(&self, p: [f64; 2]) -> f64 {
        (((p[0] - self.cx).powi(2) + (p[1] - self.cy).powi(2)).sqrt() - self.r).abs()
    }

    /// Whether `other` is the same circle to within `band` px (centre and radius).
    pub fn is_near(&self, other: &Self, band: f64) -> bool {
        (self.cx - other.cx).hypot(self.cy - other.cy) <= band && (self.r - other.r).abs() <= band
    }

    /// Angle bin (whole degrees, 0–359) of `p` seen from the centre.
    pub fn degree(&self, p: [f64; 2]) -> usize {
        let a = (p[1] - self.cy).atan2(p[0] - self.cx).to_degrees();
        (a.rem_euclid(360.0) as usize).min(359)
    }

    /// The point of the circle in the middle of angle bin `degree` (see [`Circle::degree`]).
    pub fn point_in_degree(&self, degree: usize) -> [f64; 2] {
        let a = (degree as f64 + 0.5).to_radians();
        [self.cx + self.r * a.cos(), self.cy + self.r * a.sin()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_to_segments_and_polylines() {
        assert_eq!(distance_to_segment([0.0, 3.0], [1.0, 0.0], [1.0, 0.0]), 10f64.sqrt());
        assert_eq!(distance_to_segment([2.0, 3.0], [0.0, 0.0], [4.0, 0.0]), 3.0);
        assert_eq!(squared_distance_to_segment([6.0, 4.0], [0.0, 0.0], [3.0, 0.0]), 25.0);
        assert_eq!(squared_distance_to_segment([3.0, 4.0], [0.0, 0.0], [0.0, 0.0]), 25.0);
        assert_eq!(
            distance_to_polyline([5.0, 1.0], &[[0.0, 0.0], [4.0, 0.0], [4.0, 4.0]]),
            1.0
        );
        assert!(distance_to_polyline([0.0, 0.0], &[]).is_infinite());
    }

    #[test]
    fn lengths_add_up_along_a_polyline() {
        assert_eq!(distance([0.0, 0.0], [3.0, 4.0]), 5.0);
        assert_eq!(polyline_length(&[[0.0, 0.0], [3.0, 4.0], [3.0, 10.0]]), 11.0);
        assert_eq!(polyline_length(&[[1.0, 1.0]]), 0.0);
    }
}
