//! Circles: measurement rings a device draws around the area it measures, and the rims of air
//! bubbles in the immersion fluid, found by their shape (a thin line of one colour lying on one
//! exact circle) whatever their colour.
//!
//! The colour tests of [`super::graphics`] take only saturated or pure-white strokes, because
//! thin strokes of a mid colour are what shafts and the skin between them are made of. A ring
//! drawn in pale yellow, or a white one after the camera's tone curve, looks like a blond or
//! white hair to those tests and to the segmentation, and was traced as a long curved hair. No
//! hair lies on one circle to within a pixel or two over most of its circumference, so the
//! geometry tells them apart where the colour cannot.

use image::RgbImage;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::raster::colour_distance;
use crate::geometry::Circle;
use crate::probability_image::bilinear_taps;

/// Least radius as a share of the smaller image side: devices draw measurement circles around a
/// sizeable part of the field, and a ring this large is longer than any curl of one hair.
const MIN_RADIUS_FRACTION: f64 = 0.1;
/// Least share of the ring's visible circumference (in-frame, not under an earlier overlay)
/// that its colour must cover. A drawn ring covers all of it, minus JPEG breaks and the odd
/// degree; a curved shaft of the same colour lies on one circle over a small arc at most.
const MIN_COVERAGE: f64 = 0.6;
/// Least visible part of the circumference (degrees): a quarter circle; a smaller arc could be
/// a curved shaft.
const MIN_VISIBLE_DEGREES: usize = 90;
/// Largest share of ring-coloured pixels just outside the ring (an annulus 2 px wide, one px
/// beyond the ring's band on each side) relative to the ring's own: the ring is a thin line on a
/// different background, not a circle drawn through a patch of its own colour (skin, a blob).
const MAX_SURROUND_SHARE: f64 = 0.25;
/// Least share of a ring's pixels that stand out from their neighbourhood as stroke pixels do:
/// a drawn line contrasts with the skin on both sides all along, while a strip of skin colour
/// that happens to follow a circle contrasts only where a dark shaft borders it.
const MIN_CONTRASTING_SHARE: f64 = 0.5;
/// Circles tried per colour: three points on one ring are drawn about once in 30 tries when a
/// third of the colour's pieces lie on it.
const RANSAC_ITERATIONS: usize = 300;
/// At most this many of a colour's stroke pixels are scored per tried circle.
const RANSAC_SAMPLE: usize = 1000;
/// At most this many concentric rings are taken per colour.
const MAX_RINGS_PER_COLOUR: usize = 4;
/// Least colour tolerance (grey levels, largest channel) of a ring's pixels: JPEG's chroma
/// subsampling spreads a line one to three pixels wide over its neighbours, so its colour drifts
/// well beyond that of a wide stroke. The shape tests keep out what the wider tolerance lets in.
const MIN_RING_TOLERANCE: f64 = 20.0;
/// At most this many stroke colours are searched for rings.
const MAX_COLOURS: usize = 12;

/// A circle found in a photo: the circle its line follows and the line's pixels.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ring {
    /// The circle the line follows (frame coordinates, px).
    circle: Circle,
    /// Half-width of the band that holds the line (px).
    pub(crate) half_width_px: f64,
    /// The line's pixels (frame indices).
    pub(crate) pixels: Vec<usize>,
}

impl Ring {
    /// Frame indices of the pixels within `clear` px of the line (see [`Ring::paint_over`]).
    pub(crate) fn cleared(&self, clear: f64, w: usize, h: usize) -> Vec<usize> {
        annulus(&self.circle, clear, w, h).collect()
    }

    /// Paints over the line in `rgb`: every pixel within `clear` px of it takes the colour
    /// interpolated, along the radius through it, between the photo one pixel beyond `clear`
    /// on either side (bilinear samples; the side that leaves the frame gives way to the other).
    /// A shaft that crossed under the line is continued through it, so the segmentation sees
    /// one hair where the device's drawing had cut it in two.
    pub(crate) fn paint_over(&self, rgb: &mut RgbImage, clear: f64) {
        let (w, h) = (rgb.width() as usize, rgb.height() as usize);
        let source = rgb.clone();
        let circle = self.circle;
        let reach = clear + 1.0;
        for i in annulus(&circle, clear, w, h) {
            let p = point(i, w);
            let (dx, dy) = (p[0] - circle.cx, p[1] - circle.cy);
            let d = dx.hypot(dy).max(1e-9);
            let u = [dx / d, dy / d];
            let at = |radius: f64| {
                let q = [circle.cx + radius * u[0], circle.cy + radius * u[1]];
                // between the outermost pixel centres: no extension beyond them
                let inside = (0.5..=w as f64 - 0.5).contains(&q[0]) && (0.5..=h as f64 - 0.5).contains(&q[1]);
                let taps = bilinear_taps(q[0], q[1], w, h).filter(|_| inside)?;
                let raw = source.as_raw();
                Some([0, 1, 2].map(|c| taps.iter().map(|&(j, wt)| wt * f64::from(raw[j * 3 + c])).sum::<f64>()))
            };
            let (inner, outer) = (at(circle.r - reach), at(circle.r + reach));
            let t = ((d - circle.r + reach) / (2.0 * reach)).clamp(0.0, 1.0);
            let colour = match (inner, outer) {
                (Some(a), Some(b)) => [0, 1, 2].map(|c| a[c] * (1.0 - t) + b[c] * t),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => continue,
            };
            let (x, y) = ((i % w) as u32, (i / w) as u32);
            rgb.put_pixel(x, y, image::Rgb(colour.map(|v| v.round().clamp(0.0, 255.0) as u8)));
        }
    }
}

/// Centre of frame pixel `i` (frame width `w`).
fn point(i: usize, w: usize) -> [f64; 2] {
    [(i % w) as f64 + 0.5, (i / w) as f64 + 0.5]
}

/// Degrees of `circle` that `points` trace as a line: bins holding a point within `band` px of
/// the circle and none just outside it (from `band` + 1 to `band` + 3 px). A shaft crossing the
/// circle puts points on both sides and scores nothing; a ring drawn along it scores its whole
/// length.
fn traced_degrees(circle: &Circle, points: &[[f64; 2]], band: f64) -> usize {
    let (mut on, mut beside) = ([false; 360], [false; 360]);
    // Squared radii of the band's and the outer annuli's edges: most points lie far from the
    // circle and are dismissed without a square root.
    let sq = |d: f64| (circle.r + d).max(0.0).powi(2);
    let (near_lo, near_hi) = (sq(-(band + 3.0)), sq(band + 3.0));
    for &p in points {
        let d2 = (p[0] - circle.cx).powi(2) + (p[1] - circle.cy).powi(2);
        if d2 < near_lo || d2 > near_hi {
            continue;
        }
        let off = circle.offset(p);
        if off <= band {
            on[circle.degree(p)] = true;
        } else if off > band + 1.0 {
            beside[circle.degree(p)] = true;
        }
    }
    on.iter().zip(&beside).filter(|(o, b)| **o && !**b).count()
}

/// The circle of radius within `radii` that `points` (one colour's thin strokes, frame
/// coordinates) trace over the most degrees ([`traced_degrees`]): circles through three random
/// points, seeded so the result is reproducible, then a least-squares refit on the best one's
/// points within `band`. `None` when no circle traces [`MIN_VISIBLE_DEGREES`].
fn best_circle(points: &[[f64; 2]], band: f64, radii: &std::ops::RangeInclusive<f64>) -> Option<Circle> {
    if points.len() < 3 {
        return None;
    }
    let step = points.len().div_ceil(RANSAC_SAMPLE).max(1);
    let sample: Vec<[f64; 2]> = points.iter().step_by(step).copied().collect();
    let mut rng = ChaCha8Rng::seed_from_u64(points.len() as u64);
    let mut best: Option<(usize, Circle)> = None;
    for _ in 0..RANSAC_ITERATIONS {
        let pick = |rng: &mut ChaCha8Rng| sample[rng.random_range(0..sample.len())];
        let Some(circle) = Circle::through(pick(&mut rng), pick(&mut rng), pick(&mut rng)) else {
            continue;
        };
        if !radii.contains(&circle.r) {
            continue;
        }
        let score = traced_degrees(&circle, &sample, band);
        if best.is_none_or(|(n, _)| score > n) {
            best = Some((score, circle));
        }
    }
    let (score, circle) = best?;
    if score < MIN_VISIBLE_DEGREES {
        return None;
    }
    let near: Vec<[f64; 2]> = points.iter().copied().filter(|&p| circle.offset(p) <= band).collect();
    Circle::fit(&near).filter(|c| radii.contains(&c.r))
}

/// Frame indices of the pixels whose centres lie within `reach` px of `circle`'s line, row by
/// row over the (at most two) spans where the annulus crosses each row.
fn annulus(circle: &Circle, reach: f64, w: usize, h: usize) -> impl Iterator<Item = usize> + '_ {
    let (outer, inner) = (circle.r + reach, (circle.r - reach).max(0.0));
    let rows =
        (circle.cy - outer - 0.5).floor().max(0.0) as usize..((circle.cy + outer).ceil().max(0.0) as usize).min(h);
    rows.flat_map(move |y| {
        let dy = y as f64 + 0.5 - circle.cy;
        let half = |rad: f64| (rad * rad - dy * dy).max(0.0).sqrt();
        let (o, n) = (half(outer), if dy.abs() < inner { half(inner) } else { 0.0 });
        let span = move |a: f64, b: f64| {
            let x0 = (a - 0.5).ceil().max(0.0) as usize;
            let x1 = ((b - 0.5).floor() + 1.0).clamp(0.0, w as f64) as usize;
            (x0..x1.max(x0)).map(move |x| y * w + x)
        };
        if n > 0.0 {
            span(circle.cx - o, circle.cx - n).chain(span(circle.cx + n, circle.cx + o))
        } else {
            span(circle.cx - o, circle.cx + o).chain(span(0.0, 0.0))
        }
    })
}

/// The pixels of a drawn ring on `circle`: those of colour mask `same` within `band` px of it,
/// when they cover [`MIN_COVERAGE`] of the visible circumference (frame pixels not in `masked`)
/// and the annulus just outside the band holds few of that colour; otherwise `None`.
fn ring_pixels(
    circle: &Circle,
    same: impl Fn(usize) -> bool,
    stroke: &[bool],
    masked: &[bool],
    w: usize,
    h: usize,
    band: f64,
) -> Option<Vec<usize>> {
    let reach = band + 3.0;
    let (mut ring, mut surround, mut contrasting) = (Vec::new(), 0usize, 0usize);
    let mut covered = [false; 360];
    for i in annulus(circle, reach, w, h) {
        if !same(i) {
            continue;
        }
        let p = point(i, w);
        let off = circle.offset(p);
        if off <= band {
            ring.push(i);
            if stroke[i] {
                contrasting += 1;
                covered[circle.degree(p)] = true;
            }
        } else if off > band + 1.0 {
            surround += 1;
        }
    }
    let visible: Vec<usize> = (0..360)
        .filter(|&d| {
            let [x, y] = circle.point_in_degree(d);
            x >= 0.0 && y >= 0.0 && (x as usize) < w && (y as usize) < h && !masked[y as usize * w + x as usize]
        })
        .collect();
    let hit = visible.iter().filter(|&&d| covered[d]).count();
    let enough = visible.len() >= MIN_VISIBLE_DEGREES && hit as f64 >= MIN_COVERAGE * visible.len() as f64;
    let thin = (surround as f64) <= MAX_SURROUND_SHARE * ring.len() as f64;
    let stands_out = contrasting as f64 >= MIN_CONTRASTING_SHARE * ring.len() as f64;
    (enough && thin && stands_out).then_some(ring)
}

/// Finds circles (measurement rings, bubble rims) among the high-contrast `stroke` pixels
/// (none already set in `mask`) of the candidate `colours` (within `tolerance` grey levels of
/// a colour), marks them in `mask` and returns the rings. JPEG breaks a thin ring into many
/// pieces, so the circle is sought through all of a colour's stroke pixels at once, up to
/// [`MAX_RINGS_PER_COLOUR`] concentric rings per colour.
pub(crate) fn detect_circles(
    rgb: &RgbImage,
    colours: &[[u8; 3]],
    tolerance: f64,
    stroke: &[bool],
    mask: &mut [bool],
) -> Vec<Ring> {
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let side = w.min(h) as f64;
    let radii = MIN_RADIUS_FRACTION * side..=(w.max(h) as f64);
    // A device line is a few pixels wide and scales with the display: the band holds it and
    // the sub-pixel error of the fit.
    let band = (side / 400.0).max(1.5) + 1.0;
    let before = mask.to_vec();
    let tolerance = tolerance.max(MIN_RING_TOLERANCE);
    let colour_at = |i: usize| -> [u8; 3] { rgb.as_raw()[i * 3..i * 3 + 3].try_into().unwrap_or([0; 3]) };
    let strokes: Vec<usize> = (0..stroke.len()).filter(|&i| stroke[i]).collect();
    let mut found: Vec<(Circle, Vec<usize>)> = Vec::new();
    for &colour in colours.iter().take(MAX_COLOURS) {
        let matches = |i: usize| colour_distance(colour_at(i), colour) as f64 <= tolerance;
        let mut points: Vec<[f64; 2]> = strokes
            .iter()
            .filter(|&&i| !mask[i] && matches(i))
            .map(|&i| point(i, w))
            .collect();
        for _ in 0..MAX_RINGS_PER_COLOUR {
            let Some(circle) = best_circle(&points, band, &radii) else {
                break;
            };
            let same = |i: usize| !mask[i] && matches(i);
            let Some(ring) = ring_pixels(&circle, same, stroke, &before, w, h, band) else {
                break;
            };
            for &i in &ring {
                mask[i] = true;
            }
            points.retain(|&p| circle.offset(p) > band);
            // JPEG and shading leave parts of one ring in a neighbouring colour bin.
            match found.iter_mut().find(|(c, _)| c.is_near(&circle, band)) {
                Some((_, pixels)) => pixels.extend(ring),
                None => found.push((circle, ring)),
            }
        }
    }
    found
        .into_iter()
        .map(|(circle, pixels)| Ring {
            circle,
            half_width_px: band,
            pixels,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_points_and_a_least_squares_fit_give_the_circle_back() {
        let truth = Circle {
            cx: 40.5,
            cy: -12.0,
            r: 33.0,
        };
        let on = |deg: f64| {
            let a = deg.to_radians();
            [truth.cx + truth.r * a.cos(), truth.cy + truth.r * a.sin()]
        };
        let c = Circle::through(on(10.0), on(100.0), on(250.0)).expect("not collinear");
        assert!((c.cx - truth.cx).abs() < 1e-9 && (c.cy - truth.cy).abs() < 1e-9 && (c.r - truth.r).abs() < 1e-9);
        let points: Vec<[f64; 2]> = (0..40).map(|k| on(f64::from(k) * 4.0)).collect();
        let c = Circle::fit(&points).expect("fit");
        assert!((c.cx - truth.cx).abs() < 1e-6 && (c.cy - truth.cy).abs() < 1e-6 && (c.r - truth.r).abs() < 1e-6);
        assert!(Circle::through([0.0, 0.0], [1.0, 1.0], [2.0, 2.0]).is_none());
        assert_eq!(c.degree([c.cx + 1.0, c.cy]), 0);
        assert_eq!(c.degree([c.cx, c.cy + 1.0]), 90);
    }
}
