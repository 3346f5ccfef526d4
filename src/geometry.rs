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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_add_up_along_a_polyline() {
        assert_eq!(distance([0.0, 0.0], [3.0, 4.0]), 5.0);
        assert_eq!(polyline_length(&[[0.0, 0.0], [3.0, 4.0], [3.0, 10.0]]), 11.0);
        assert_eq!(polyline_length(&[[1.0, 1.0]]), 0.0);
    }
}
