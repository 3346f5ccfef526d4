//! Shaft width on analytic soft shapes (exact pixel coverage by supersampling) and the
//! measure stage end to end on a traced map.
//!
//! Run with `cargo test --test measure -- --nocapture` to print every measured width.

use image::{Rgb, RgbImage};
use tricho::measure::{
    compute_metrics, measure_widths, measured_hairs, FieldMask, MeasureConfig, PhotoPixels, WidthConfig,
    WidthMeasurement,
};
use tricho::trace::{trace_hairs, TraceConfig, TracedHair};
use tricho::units::PixelSpacing;

/// Subsamples per pixel side when computing coverage.
const SUPERSAMPLE: usize = 16;
/// Required accuracy (px) on sharp soft masks.
const SHARP_TOLERANCE_PX: f64 = 0.15;

/// A soft mask: the fraction of each pixel inside the shape, by supersampling.
struct Canvas {
    width: usize,
    height: usize,
    data: Vec<f32>,
}

impl Canvas {
    fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            data: vec![0.0; width * height],
        }
    }

    /// Adds coverage of `inside` (union with what is there).
    fn paint(&mut self, inside: impl Fn(f64, f64) -> bool) {
        let n = SUPERSAMPLE;
        for j in 0..self.height {
            for i in 0..self.width {
                let mut hits = 0;
                for sy in 0..n {
                    for sx in 0..n {
                        let x = i as f64 + (sx as f64 + 0.5) / n as f64;
                        let y = j as f64 + (sy as f64 + 0.5) / n as f64;
                        hits += usize::from(inside(x, y));
                    }
                }
                let v = &mut self.data[j * self.width + i];
                *v = v.max(hits as f32 / (n * n) as f32);
            }
        }
    }

    /// Separable Gaussian blur with standard deviation `sigma_px`, edges clamped.
    fn blur(&mut self, sigma_px: f64) {
        let radius = (4.0 * sigma_px).ceil() as i64;
        let kernel: Vec<f64> = (-radius..=radius)
            .map(|d| (-(d * d) as f64 / (2.0 * sigma_px * sigma_px)).exp())
            .collect();
        let total: f64 = kernel.iter().sum();
        let (w, h) = (self.width as i64, self.height as i64);
        for (step, len, lines, line_step) in [(1, w, h, w), (w, h, w, 1)] {
            let source = self.data.clone();
            for line in 0..lines {
                for k in 0..len {
                    let value: f64 = (-radius..=radius)
                        .map(|d| {
                            let kk = (k + d).clamp(0, len - 1);
                            f64::from(source[(line * line_step + kk * step) as usize]) * kernel[(d + radius) as usize]
                        })
                        .sum();
                    self.data[(line * line_step + k * step) as usize] = (value / total) as f32;
                }
            }
        }
    }
}

/// A straight bar: centre, direction (degrees), length and width (px).
#[derive(Clone, Copy)]
struct Bar {
    centre: [f64; 2],
    angle_deg: f64,
    length_px: f64,
    width_px: f64,
}

impl Bar {
    fn axes(&self) -> ([f64; 2], [f64; 2]) {
        let a = self.angle_deg.to_radians();
        ([a.cos(), a.sin()], [-a.sin(), a.cos()])
    }

    fn inside(&self, x: f64, y: f64) -> bool {
        let (u, n) = self.axes();
        let (dx, dy) = (x - self.centre[0], y - self.centre[1]);
        (dx * u[0] + dy * u[1]).abs() <= self.length_px / 2.0 && (dx * n[0] + dy * n[1]).abs() <= self.width_px / 2.0
    }

    /// The exact centreline as a hair, one point per pixel of length.
    fn hair(&self) -> TracedHair {
        let (u, _) = self.axes();
        let steps = self.length_px.round() as usize;
        let points = (0..=steps)
            .map(|k| {
                let t = -self.length_px / 2.0 + self.length_px * k as f64 / steps as f64;
                [self.centre[0] + u[0] * t, self.centre[1] + u[1] * t]
            })
            .collect();
        hair(points)
    }
}

fn hair(centreline_px: Vec<[f64; 2]>) -> TracedHair {
    TracedHair {
        length_px: tricho::geometry::polyline_length(&centreline_px),
        centreline_px,
        width_px: 0.0,
        touches_border: false,
        unit_id: 1,
    }
}

fn measure(canvas: &Canvas, hairs: &[TracedHair]) -> Vec<WidthMeasurement> {
    measure_widths(
        &canvas.data,
        canvas.width,
        canvas.height,
        hairs,
        None,
        &WidthConfig::default(),
    )
    .unwrap()
}

/// A photo of `canvas`'s shapes as dark hair on light skin, each photo pixel the mean colour
/// over its area.
fn photo_of(canvas: &Canvas) -> RgbImage {
    RgbImage::from_fn(canvas.width as u32, canvas.height as u32, |x, y| {
        let cover = f64::from(canvas.data[y as usize * canvas.width + x as usize]);
        let skin = [205.0, 160.0, 140.0];
        let hair = [60.0, 45.0, 35.0];
        Rgb(std::array::from_fn(|c| {
            (skin[c] + (hair[c] - skin[c]) * cover).round() as u8
        }))
    })
}

fn width_of(m: &WidthMeasurement) -> f64 {
    m.width_px.expect("a width")
}

/// A bar of `width_px` at `angle_deg`, long enough for many stations away from its tips.
fn centred_bar(width_px: f64, angle_deg: f64) -> (Canvas, Bar) {
    let length_px = 40.0 + 4.0 * width_px;
    let side = (length_px + 2.0 * width_px + 12.0).ceil() as usize;
    let bar = Bar {
        centre: [side as f64 / 2.0 + 0.3, side as f64 / 2.0 - 0.2],
        angle_deg,
        length_px,
        width_px,
    };
    let mut canvas = Canvas::new(side, side);
    canvas.paint(|x, y| bar.inside(x, y));
    (canvas, bar)
}

#[test]
fn straight_soft_bars_at_many_widths_and_angles() {
    let mut worst: f64 = 0.0;
    for width_px in [1.5, 2.0, 3.0, 6.0, 12.0, 20.0] {
        for angle_deg in [0.0, 17.0, 45.0, 80.0] {
            let (canvas, bar) = centred_bar(width_px, angle_deg);
            let m = measure(&canvas, &[bar.hair()]);
            let error = width_of(&m[0]) - width_px;
            println!(
                "bar width {width_px:>5} px at {angle_deg:>2}°: measured {:.3} px (error {error:+.3}, {}/{} stations, IQR {:.3})",
                width_of(&m[0]),
                m[0].samples_used,
                m[0].samples_total,
                m[0].iqr_px.unwrap_or(f64::NAN)
            );
            worst = worst.max(error.abs());
        }
    }
    println!("worst error on straight bars: {worst:.3} px");
    assert!(worst <= SHARP_TOLERANCE_PX, "worst error {worst} px");
}

#[test]
fn soft_arcs_are_measured_across_not_along() {
    let (radius, centre) = (45.0, [10.0, 10.0]);
    for width_px in [1.5, 3.0, 6.0, 12.0] {
        let side = (centre[0] + radius + width_px + 10.0) as usize;
        let mut canvas = Canvas::new(side, side);
        let in_arc = |x: f64, y: f64| {
            let (dx, dy) = (x - centre[0], y - centre[1]);
            let a = dy.atan2(dx).to_degrees();
            (10.0..=80.0).contains(&a) && (dx.hypot(dy) - radius).abs() <= width_px / 2.0
        };
        canvas.paint(in_arc);
        let points = (0..=70)
            .map(|d| {
                let a = (10.0 + f64::from(d)).to_radians();
                [centre[0] + radius * a.cos(), centre[1] + radius * a.sin()]
            })
            .collect();
        let m = measure(&canvas, &[hair(points)]);
        let error = width_of(&m[0]) - width_px;
        println!(
            "arc width {width_px:>4} px (radius {radius} px): measured {:.3} px (error {error:+.3})",
            width_of(&m[0])
        );
        assert!(error.abs() <= SHARP_TOLERANCE_PX, "width {width_px}: error {error}");
    }
}

#[test]
fn crossing_bars_of_different_widths_are_each_measured_right() {
    // At a shallow crossing most of both bars lies close to the other one.
    for crossing_deg in [60.0, 8.0] {
        let side = 260;
        let thin = Bar {
            centre: [130.2, 129.7],
            angle_deg: 8.0,
            length_px: 240.0,
            width_px: 3.0,
        };
        let thick = Bar {
            angle_deg: 8.0 + crossing_deg,
            width_px: 10.0,
            centre: [129.6, 130.4],
            ..thin
        };
        let mut canvas = Canvas::new(side, side);
        canvas.paint(|x, y| thin.inside(x, y) || thick.inside(x, y));
        let m = measure(&canvas, &[thin.hair(), thick.hair()]);
        for (bar, m) in [thin, thick].iter().zip(&m) {
            let error = width_of(m) - bar.width_px;
            println!(
                "crossing at {crossing_deg}°: width {} px measured {:.3} px (error {error:+.3}, {}/{} stations)",
                bar.width_px,
                width_of(m),
                m.samples_used,
                m.samples_total
            );
            assert!(error.abs() <= SHARP_TOLERANCE_PX, "{}: error {error}", bar.width_px);
            assert!(m.samples_used < m.samples_total);
        }
    }
}

#[test]
fn blurred_bars_keep_their_width() {
    for (width_px, angle_deg) in [(3.0, 17.0), (6.0, 0.0), (6.0, 45.0), (12.0, 80.0)] {
        let (mut canvas, bar) = centred_bar(width_px, angle_deg);
        canvas.blur(1.5);
        let m = measure(&canvas, &[bar.hair()]);
        let error = width_of(&m[0]) - width_px;
        println!(
            "blurred (σ 1.5 px) width {width_px} px at {angle_deg}°: measured {:.3} px (error {error:+.3})",
            width_of(&m[0])
        );
        assert!(error.abs() <= 0.3, "width {width_px}: error {error}");
    }
}

#[test]
fn photo_edges_pull_a_wrong_coverage_towards_the_shaft_seen_in_the_photo() {
    for (width_px, angle_deg) in [(2.5, 17.0), (5.0, 0.0), (8.0, 45.0)] {
        // The photo at twice the map's resolution, as for a 2.5 µm/px photo and a 5 µm/px model.
        let (mut fine, _) = centred_bar(2.0 * width_px, angle_deg);
        fine.blur(1.0);
        let rgb = photo_of(&fine);
        let photo = PhotoPixels::new(&rgb, 2.0);
        // A coverage map that paints the shaft 40 % too wide, on the map's grid.
        let side = fine.width / 2;
        let centre = [side as f64 / 2.0 + 0.15, side as f64 / 2.0 - 0.1];
        let (too_wide, truth) = (
            Bar {
                centre,
                angle_deg,
                length_px: 20.0 + 2.0 * width_px,
                width_px: 1.4 * width_px,
            },
            Bar {
                centre,
                angle_deg,
                length_px: 20.0 + 2.0 * width_px,
                width_px,
            },
        );
        let mut coverage = Canvas::new(side, side);
        coverage.paint(|x, y| too_wide.inside(x, y));
        let measure_with = |photo: Option<&PhotoPixels>| {
            let m = measure_widths(
                &coverage.data,
                side,
                side,
                &[truth.hair()],
                photo,
                &WidthConfig::default(),
            )
            .unwrap();
            width_of(&m[0])
        };
        let (alone, with_photo) = (measure_with(None), measure_with(Some(&photo)));
        println!(
            "width {width_px} px at {angle_deg}°: coverage alone {alone:.3}, with the photo's edges {with_photo:.3}"
        );
        assert!((alone - 1.4 * width_px).abs() <= 0.3, "coverage alone {alone}");
        // The mean of the coverage (1.4 w) and the photo's edges (w): 1.2 w.
        assert!(
            (with_photo - 1.2 * width_px).abs() <= 0.3,
            "with the photo {with_photo}"
        );
    }
}

#[test]
fn tapered_tip_does_not_drag_the_median() {
    // An 8 px shaft for 60 px, then tapering linearly to a point over 30 px.
    let (full_px, straight_px, taper_px) = (8.0, 60.0, 30.0);
    let mut canvas = Canvas::new(120, 40);
    let x0 = 12.0;
    canvas.paint(|x, y| {
        let along = x - x0;
        let half = if along <= straight_px {
            full_px / 2.0
        } else {
            full_px / 2.0 * (1.0 - (along - straight_px) / taper_px)
        };
        (0.0..=straight_px + taper_px).contains(&along) && (y - 20.3).abs() <= half
    });
    let points = (0..=90).map(|k| [x0 + f64::from(k), 20.3]).collect();
    let m = measure(&canvas, &[hair(points)]);
    let error = width_of(&m[0]) - full_px;
    println!(
        "tapered: measured {:.3} px for {full_px} px (error {error:+.3})",
        width_of(&m[0])
    );
    assert!(error.abs() <= SHARP_TOLERANCE_PX, "error {error}");
}

#[test]
fn glossy_highlight_on_the_axis_of_a_broad_shaft_does_not_halve_it() {
    // A 16 px shaft whose coverage falls to 0.4 along a 3 px highlight on its axis (y = 28),
    // with the centreline 1.6 px off the axis, as a broad shaft's skeleton wanders.
    let (top, bottom, stripe_half, dip) = (20.0, 36.0, 1.5, 0.6);
    let mut shaft = Canvas::new(100, 56);
    shaft.paint(|x, y| (10.0..90.0).contains(&x) && (top..bottom).contains(&y));
    let mut stripe = Canvas::new(100, 56);
    stripe.paint(|x, y| (10.0..90.0).contains(&x) && (y - 28.0).abs() < stripe_half);
    for (v, s) in shaft.data.iter_mut().zip(&stripe.data) {
        *v -= dip * s;
    }
    let points = (15..=85).map(|x| [f64::from(x), 29.6]).collect();
    let m = measure(&shaft, &[hair(points)]);
    let expected = (bottom - top) - f64::from(dip) * 2.0 * stripe_half;
    let error = width_of(&m[0]) - expected;
    println!(
        "highlighted shaft: measured {:.3} px for {expected} px",
        width_of(&m[0])
    );
    assert!(error.abs() <= SHARP_TOLERANCE_PX, "error {error}");
}

#[test]
fn traced_bars_measured_and_summarised() {
    // Two soft bars 3 and 14 px wide at 5 µm/px (15 and 70 µm), traced from the map itself.
    let mut canvas = Canvas::new(160, 120);
    let bars = [
        Bar {
            centre: [80.0, 35.0],
            angle_deg: 17.0,
            length_px: 110.0,
            width_px: 3.0,
        },
        Bar {
            centre: [80.0, 85.0],
            angle_deg: -8.0,
            length_px: 110.0,
            width_px: 14.0,
        },
    ];
    canvas.paint(|x, y| bars.iter().any(|b| b.inside(x, y)));
    let spacing = PixelSpacing::new(5.0).unwrap();
    let trace_config = TraceConfig {
        spacing,
        ..TraceConfig::default()
    };
    let mut traced = trace_hairs(&canvas.data, None, None, canvas.width, canvas.height, &trace_config).unwrap();
    assert_eq!(traced.len(), 2);
    traced.sort_by(|a, b| a.centreline_px[0][1].total_cmp(&b.centreline_px[0][1]));
    let widths = measure(&canvas, &traced);
    for (bar, m) in bars.iter().zip(&widths) {
        let error = width_of(m) - bar.width_px;
        println!(
            "traced bar width {} px: measured {:.3} px (error {error:+.3})",
            bar.width_px,
            width_of(m)
        );
        assert!(error.abs() <= SHARP_TOLERANCE_PX, "{}: error {error}", bar.width_px);
    }
    let mask = vec![true; canvas.width * canvas.height];
    let field = FieldMask::new(&mask, canvas.width, canvas.height).unwrap();
    let config = MeasureConfig::default();
    let hairs = measured_hairs(
        &traced,
        &widths,
        1.0,
        |x, y| field.contains(x, y),
        Some(spacing),
        &config,
    )
    .unwrap();
    let metrics = compute_metrics(&hairs, field.area_px(), Some(spacing), &config);
    assert_eq!(metrics.count, 2);
    assert_eq!((metrics.vellus_count, metrics.terminal_count), (Some(1), Some(1)));
    // 160 × 120 px at 5 µm/px is 0.0048 cm².
    let density = metrics.density_per_cm2.unwrap();
    assert!((density - 2.0 / 0.0048).abs() < 1e-6, "{density}");
}
