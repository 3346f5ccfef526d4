//! Drawing primitives on a floating-point RGB canvas: soft discs and polyline strokes that
//! report, for each nearby pixel, its signed distance to the line and its arc position.

/// A linear RGB canvas with values nominally in [0, 1], row-major.
#[derive(Clone)]
pub struct Canvas {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height` pixels.
    pub rgb: Vec<[f32; 3]>,
}

impl Canvas {
    /// A canvas filled with one colour.
    pub fn filled(width: usize, height: usize, colour: [f32; 3]) -> Self {
        Self {
            width,
            height,
            rgb: vec![colour; width * height],
        }
    }

    /// Blends `colour` over pixel `index` with opacity `alpha` in [0, 1].
    pub fn blend(&mut self, index: usize, colour: [f32; 3], alpha: f32) {
        let p = &mut self.rgb[index];
        for c in 0..3 {
            p[c] += (colour[c] - p[c]) * alpha;
        }
    }

    /// Blends a soft-edged disc (edge softness `soft` px) centred at `centre` (px).
    pub fn disc(&mut self, centre: [f64; 2], radius: f64, soft: f64, colour: [f32; 3], alpha: f32) {
        let reach = radius + 3.0 * soft + 1.0;
        for (x, y) in pixels_in_box(self.width, self.height, centre, reach) {
            let d = ((x as f64 + 0.5 - centre[0]).powi(2) + (y as f64 + 0.5 - centre[1]).powi(2)).sqrt();
            let coverage = edge_coverage(radius - d, soft.max(0.35));
            if coverage > 1e-3 {
                self.blend(y * self.width + x, colour, alpha * coverage as f32);
            }
        }
    }
}

/// Pixel coordinates inside the canvas within `reach` px of `centre` (a bounding box).
pub fn pixels_in_box(
    width: usize,
    height: usize,
    centre: [f64; 2],
    reach: f64,
) -> impl Iterator<Item = (usize, usize)> {
    let x0 = (centre[0] - reach).floor().max(0.0) as usize;
    let y0 = (centre[1] - reach).floor().max(0.0) as usize;
    let x1 = ((centre[0] + reach).ceil().max(0.0) as usize).min(width);
    let y1 = ((centre[1] + reach).ceil().max(0.0) as usize).min(height);
    (y0..y1).flat_map(move |y| (x0..x1).map(move |x| (x, y)))
}

/// Error function (Abramowitz & Stegun 7.1.26, absolute error below 1.5e-7).
pub fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly =
        t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let y = 1.0 - poly * (-x * x).exp();
    if x >= 0.0 {
        y
    } else {
        -y
    }
}

/// Fraction of a Gaussian-blurred (σ px) step covered at signed distance `inside` px from the edge.
pub fn edge_coverage(inside: f64, sigma: f64) -> f64 {
    0.5 * (1.0 + erf(inside / (std::f64::consts::SQRT_2 * sigma)))
}

/// Coverage of a bar of half-width `half_width` blurred by σ, at distance `d` from its axis.
pub fn bar_coverage(d: f64, half_width: f64, sigma: f64) -> f64 {
    let k = std::f64::consts::SQRT_2 * sigma;
    0.5 * (erf((half_width - d) / k) + erf((half_width + d) / k))
}

/// Where a pixel lies relative to a polyline stroke.
#[derive(Debug, Clone, Copy)]
pub struct StrokePixel {
    /// Row-major pixel index.
    pub index: usize,
    /// Distance to the line, positive on the left of the direction of travel (px).
    pub signed_distance: f64,
    /// Position along the line (px from its first point); below 0 or above the length past its ends.
    pub arc: f64,
}

/// Reusable per-canvas buffers for finding, per pixel, the nearest point of one polyline.
pub struct StrokeScratch {
    best: Vec<f64>,
    hits: Vec<StrokePixel>,
    touched: Vec<usize>,
}

impl StrokeScratch {
    /// Buffers for a `width × height` canvas.
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            best: vec![f64::INFINITY; width * height],
            hits: Vec::new(),
            touched: Vec::new(),
        }
    }

    /// Every pixel within `reach` px of the polyline `points` (px), with its nearest position.
    /// Past the two ends, distances are measured to the line's extension so callers can draw caps.
    pub fn pixels_near(&mut self, width: usize, height: usize, points: &[[f64; 2]], reach: f64) -> &[StrokePixel] {
        self.hits.clear();
        let mut arc_start = 0.0;
        let last = points.len().saturating_sub(2);
        for (i, seg) in points.windows(2).enumerate() {
            let (a, b) = (seg[0], seg[1]);
            let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
            let len = (dx * dx + dy * dy).sqrt();
            if len < 1e-9 {
                continue;
            }
            let (ux, uy) = (dx / len, dy / len);
            let mid = [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
            for (x, y) in pixels_in_box(width, height, mid, len / 2.0 + reach) {
                let (px, py) = (x as f64 + 0.5 - a[0], y as f64 + 0.5 - a[1]);
                let along = px * ux + py * uy;
                let across = ux * py - uy * px;
                let open_before = i == 0 && along < 0.0;
                let open_after = i == last && along > len;
                let clamped = along.clamp(0.0, len);
                let dist = if open_before || open_after {
                    across.abs()
                } else {
                    ((px - clamped * ux).powi(2) + (py - clamped * uy).powi(2)).sqrt()
                };
                if dist > reach {
                    continue;
                }
                let index = y * width + x;
                if dist < self.best[index] {
                    if self.best[index].is_infinite() {
                        self.touched.push(index);
                    }
                    self.best[index] = dist;
                    let arc = arc_start + if open_before || open_after { along } else { clamped };
                    let signed_distance = if across >= 0.0 { dist } else { -dist };
                    self.hits.push(StrokePixel {
                        index,
                        signed_distance,
                        arc,
                    });
                }
            }
            arc_start += len;
        }
        // Keep only each pixel's nearest hit (the last one pushed with the best distance).
        let best = &self.best;
        self.hits
            .retain(|h| (h.signed_distance.abs() - best[h.index]).abs() < 1e-12);
        self.hits.sort_by_key(|h| h.index);
        self.hits.dedup_by_key(|h| h.index);
        for &i in &self.touched {
            self.best[i] = f64::INFINITY;
        }
        self.touched.clear();
        &self.hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_known_values() {
        assert!(erf(0.0).abs() < 1e-7);
        assert!((erf(1.0) - 0.842_700_79).abs() < 2e-7);
        assert!((erf(-2.0) + 0.995_322_27).abs() < 2e-7);
    }

    #[test]
    fn stroke_reports_nearest_distance_once_per_pixel() {
        let mut scratch = StrokeScratch::new(40, 40);
        let line = [[5.0, 20.0], [20.0, 20.0], [35.0, 20.0]];
        let hits = scratch.pixels_near(40, 40, &line, 3.0).to_vec();
        let mut indices: Vec<usize> = hits.iter().map(|h| h.index).collect();
        indices.dedup();
        assert_eq!(indices.len(), hits.len());
        for h in &hits {
            let (x, y) = ((h.index % 40) as f64 + 0.5, (h.index / 40) as f64 + 0.5);
            assert!((h.signed_distance.abs() - (y - 20.0).abs()).abs() < 1e-9, "{h:?}");
            assert!((h.arc - (x - 5.0)).abs() < 1e-9);
        }
        // The buffers are reset: a second call gives the same result.
        assert_eq!(scratch.pixels_near(40, 40, &line, 3.0).len(), hits.len());
    }
}
