//! Plane geometry on points in continuous pixel or micrometre coordinates, shared by the
//! renderer and the tracer so both measure lengths the same way.

/// Euclidean distance between two points.
pub fn distance(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

/// Total length of a polyline.
pub fn polyline_length(points: &[[f64; 2]]) -> f64 {
    points.windows(2).map(|s| distance(s[0], s[1])).sum()
}

/// Distance from `p` to the segment `a`–`b` (to `a` if the segment is a point).
pub fn distance_to_segment(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    distance(p, [a[0] + t * dx, a[1] + t * dy])
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
