//! Where along a centreline widths are sampled: stations at even arc-length steps, each
//! with the local normal (perpendicular to the chord over a window centred on it, which
//! for a circular arc is exactly the tangent's normal at the station).

use crate::geometry::{cumulative_lengths, distance};

/// A point on a centreline with its unit normal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Station {
    /// Position (px).
    pub point: [f64; 2],
    /// Unit vector perpendicular to the centreline at `point`.
    pub normal: [f64; 2],
    /// Arc length (px) from the centreline's first point.
    pub arc_px: f64,
}

/// A polyline parameterised by arc length.
pub(crate) struct ArcPolyline<'a> {
    points: &'a [[f64; 2]],
    /// Cumulative arc length at each point.
    cumulative_px: Vec<f64>,
}

impl<'a> ArcPolyline<'a> {
    /// Parameterises `points`.
    pub(crate) fn new(points: &'a [[f64; 2]]) -> Self {
        Self {
            points,
            cumulative_px: cumulative_lengths(points),
        }
    }

    /// Total length (px).
    pub(crate) fn length_px(&self) -> f64 {
        self.cumulative_px.last().copied().unwrap_or(0.0)
    }

    /// The point at arc length `s` (clamped to the polyline); `None` for an empty polyline.
    pub(crate) fn point_at(&self, s: f64) -> Option<[f64; 2]> {
        let first = *self.points.first()?;
        let s = s.clamp(0.0, self.length_px());
        let k = self.cumulative_px.partition_point(|&c| c < s);
        if k == 0 {
            return Some(first);
        }
        let (a, b) = (self.points[k - 1], self.points[k]);
        let (ca, cb) = (self.cumulative_px[k - 1], self.cumulative_px[k]);
        let t = if cb > ca { (s - ca) / (cb - ca) } else { 0.0 };
        Some([a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t])
    }

    /// Stations every `spacing_px` from the start (the last within half a step of the end),
    /// with normals from the chord between the points `half_window_px` either side (clamped
    /// at the ends). Stations where the chord has no length are left out.
    pub(crate) fn stations(&self, spacing_px: f64, half_window_px: f64) -> Vec<Station> {
        let length = self.length_px();
        if !(spacing_px > 0.0 && length.is_finite()) {
            return Vec::new();
        }
        let count = (length / spacing_px + 0.5).floor() as usize + 1;
        (0..count)
            .filter_map(|k| {
                let arc_px = k as f64 * spacing_px;
                let point = self.point_at(arc_px)?;
                let (a, b) = (
                    self.point_at(arc_px - half_window_px)?,
                    self.point_at(arc_px + half_window_px)?,
                );
                let chord = distance(a, b);
                (chord > 0.0).then(|| Station {
                    point,
                    normal: [-(b[1] - a[1]) / chord, (b[0] - a[0]) / chord],
                    arc_px,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_interpolate_along_the_arc() {
        let points = [[0.0, 0.0], [3.0, 4.0], [3.0, 10.0]];
        let line = ArcPolyline::new(&points);
        assert_eq!(line.length_px(), 11.0);
        assert_eq!(line.point_at(2.5), Some([1.5, 2.0]));
        assert_eq!(line.point_at(8.0), Some([3.0, 7.0]));
        assert_eq!(line.point_at(-1.0), Some([0.0, 0.0]));
        assert_eq!(line.point_at(99.0), Some([3.0, 10.0]));
        assert_eq!(ArcPolyline::new(&[]).point_at(1.0), None);
    }

    #[test]
    fn stations_are_evenly_spaced_with_unit_normals() {
        let points = [[0.0, 0.0], [10.0, 0.0]];
        let stations = ArcPolyline::new(&points).stations(1.0, 3.0);
        assert_eq!(stations.len(), 11);
        assert!(stations.iter().all(|s| s.normal == [0.0, 1.0]));
        assert_eq!(stations[4].point, [4.0, 0.0]);
        assert!(ArcPolyline::new(&[[1.0, 1.0]]).stations(1.0, 3.0).is_empty());
    }

    #[test]
    fn normal_on_an_arc_points_to_the_centre() {
        let radius = 20.0;
        let points: Vec<[f64; 2]> = (0..=90)
            .map(|d| {
                let a = f64::from(d).to_radians();
                [radius * a.cos(), radius * a.sin()]
            })
            .collect();
        for station in ArcPolyline::new(&points)
            .stations(1.0, 4.0)
            .iter()
            .skip(5)
            .rev()
            .skip(5)
        {
            let radial = [station.point[0] / radius, station.point[1] / radius];
            let cross = radial[0] * station.normal[1] - radial[1] * station.normal[0];
            assert!(cross.abs() < 1e-3, "{station:?}");
        }
    }
}
