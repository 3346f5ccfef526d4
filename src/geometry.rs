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
