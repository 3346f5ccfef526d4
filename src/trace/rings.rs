//! Rings traced as hair. A measurement circle or an air bubble's rim that the field detection
//! missed (a colour it does not test, a bright rim wider than a drawn line) is segmented as
//! hair and traced in pieces, each on a circle round one centre (a bubble's along its dark
//! inner edge and along the outer edge of its bright ring). A hair bends, but separate traces
//! going round one centre, together round most of what the frame shows of their circle, are
//! a ring, not hairs: they are dropped before hairs are counted.

use crate::geometry::Circle;

use super::Trace;

/// Least radius (px) of a ring: below it, a hair's curled tip follows a circle as closely.
const MIN_RADIUS_PX: f64 = 8.0;
/// Least points of a trace for a circle fitted to it alone.
const MIN_POINTS: usize = 8;
/// Share of a trace's points within the tolerance for it to lie on a circle.
const ON_CIRCLE_SHARE: f64 = 0.8;
/// Distance (px) from a circle within which a point lies on it, as a share of the radius (a
/// bubble's rim, traced along its dark inner edge and bright ring in turn, wanders by a few
/// per cent of it) ...
const TOLERANCE_FRACTION: f64 = 0.06;
/// ... between these bounds (px).
const TOLERANCE_PX: (f64, f64) = (2.0, 6.0);
/// Least degrees of a circle one trace must run along to be part of a ring: a short piece
/// lies on any circle through it.
const MIN_PIECE_DEGREES: usize = 15;
/// Largest ratio between the radii of two traces of one ring.
const MAX_RADIUS_RATIO: f64 = 1.33;
/// Least degrees round the centre its traces must cover together: half the circle, so that a
/// faint arc and a hair's end both curving round one point near the frame's corner do not
/// make a ring (a ring the frame shows less than half of is left to the count).
const MIN_DEGREES: usize = 180;
/// Least share of the circle's degrees inside the frame that its traces go round: a whole
/// circle in the frame must be traced round 216°, more than a hair bends on one radius.
const MIN_VISIBLE_SHARE: f64 = 0.6;
/// Degrees from which a single trace round one circle is a ring too (a closed loop); below
/// them a ring needs two or more separate traces.
const SINGLE_TRACE_DEGREES: usize = 270;

/// `traces` without those that together trace a ring (see the module documentation) in a
/// `width × height` frame.
pub(super) fn drop_rings(traces: Vec<Trace>, width: usize, height: usize) -> Vec<Trace> {
    let lines: Vec<&[[f64; 2]]> = traces.iter().map(|t| t.0.as_slice()).collect();
    let mut in_ring = vec![false; lines.len()];
    for centre in lines.iter().filter_map(|l| ring_candidate(l, width, height)) {
        // the traces going round this centre, each with its circle round it
        let members: Vec<(usize, Circle)> = lines
            .iter()
            .enumerate()
            .filter_map(|(j, l)| round_centre(l, &centre).map(|c| (j, c)))
            .collect();
        let mut bins = [false; 360];
        for &(j, circle) in &members {
            mark_degrees(&mut bins, lines[j], &circle);
        }
        let covered = count(&bins);
        let visible = visible_degrees(&centre, width, height);
        let is_ring = covered >= MIN_DEGREES
            && covered as f64 >= MIN_VISIBLE_SHARE * visible as f64
            && (members.len() >= 2 || covered >= SINGLE_TRACE_DEGREES);
        if is_ring {
            for (j, _) in members {
                in_ring[j] = true;
            }
        }
    }
    traces
        .into_iter()
        .zip(in_ring)
        .filter_map(|(t, ring)| (!ring).then_some(t))
        .collect()
}

/// The circle round `centre`'s centre that `line` runs along, when it does: at its median
/// distance from the centre, within a factor [`MAX_RADIUS_RATIO`] of `centre`'s radius (a
/// bubble's rim is traced along its dark inner edge and along the outer edge of its bright
/// ring), with [`ON_CIRCLE_SHARE`] of its points on it, along at least [`MIN_PIECE_DEGREES`].
/// A short arc's own fitted centre is too loose to compare; its distance from a given centre
/// is not.
fn round_centre(line: &[[f64; 2]], centre: &Circle) -> Option<Circle> {
    let mut distances: Vec<f64> = line
        .iter()
        .map(|p| (p[0] - centre.cx).hypot(p[1] - centre.cy))
        .collect();
    if distances.is_empty() {
        return None;
    }
    let mid = distances.len() / 2;
    let r = *distances.select_nth_unstable_by(mid, f64::total_cmp).1;
    let circle = Circle {
        cx: centre.cx,
        cy: centre.cy,
        r,
    };
    let ratio = r / centre.r;
    let goes_round = (1.0 / MAX_RADIUS_RATIO..=MAX_RADIUS_RATIO).contains(&ratio)
        && lies_on(line, &circle)
        && degrees_along(line, &circle) >= MIN_PIECE_DEGREES;
    goes_round.then_some(circle)
}

/// The circle fitted to `line` when the line lies on it and it could be a ring in the frame.
fn ring_candidate(line: &[[f64; 2]], width: usize, height: usize) -> Option<Circle> {
    if line.len() < MIN_POINTS {
        return None;
    }
    let circle = Circle::fit(line)?;
    let plausible = circle.r >= MIN_RADIUS_PX && circle.r <= 0.5 * width.max(height) as f64;
    (plausible && lies_on(line, &circle)).then_some(circle)
}

/// How far (px) from `circle` a point may lie and be on it.
fn tolerance(circle: &Circle) -> f64 {
    (TOLERANCE_FRACTION * circle.r).clamp(TOLERANCE_PX.0, TOLERANCE_PX.1)
}

/// Whether at least [`ON_CIRCLE_SHARE`] of `line`'s points lie within its [`tolerance`] of
/// `circle`.
fn lies_on(line: &[[f64; 2]], circle: &Circle) -> bool {
    let tol = tolerance(circle);
    let on = line.iter().filter(|p| circle.offset(**p) <= tol).count();
    !line.is_empty() && on as f64 >= ON_CIRCLE_SHARE * line.len() as f64
}

/// Marks in `bins` the degrees of `circle` that `line` runs along: between consecutive points
/// both within its tolerance (the shorter way round).
fn mark_degrees(bins: &mut [bool; 360], line: &[[f64; 2]], circle: &Circle) {
    let tol = tolerance(circle);
    for pair in line.windows(2) {
        if circle.offset(pair[0]) > tol || circle.offset(pair[1]) > tol {
            continue;
        }
        let (a, b) = (circle.degree(pair[0]) as i64, circle.degree(pair[1]) as i64);
        let step = (b - a).rem_euclid(360);
        let (from, span) = if step <= 180 { (a, step) } else { (b, 360 - step) };
        for d in 0..=span {
            bins[(from + d).rem_euclid(360) as usize] = true;
        }
    }
}

/// Degrees of `circle` that `line` runs along (see [`mark_degrees`]).
fn degrees_along(line: &[[f64; 2]], circle: &Circle) -> usize {
    let mut bins = [false; 360];
    mark_degrees(&mut bins, line, circle);
    count(&bins)
}

fn count(bins: &[bool; 360]) -> usize {
    bins.iter().filter(|b| **b).count()
}

/// Degrees of `circle` whose point lies inside the `width × height` frame.
fn visible_degrees(circle: &Circle, width: usize, height: usize) -> usize {
    (0..360)
        .filter(|&d| {
            let [x, y] = circle.point_in_degree(d);
            (0.0..width as f64).contains(&x) && (0.0..height as f64).contains(&y)
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::units::HairEnd;

    fn trace(points: Vec<[f64; 2]>) -> Trace {
        let end = HairEnd {
            radius_px: 2.0,
            junction: None,
        };
        (points, [end, end])
    }

    /// Points every degree from `from` to `to` (degrees) on the circle (cx, cy, r).
    fn arc(cx: f64, cy: f64, r: f64, from: i32, to: i32) -> Vec<[f64; 2]> {
        (from..=to)
            .map(|d| {
                let a = f64::from(d).to_radians();
                [cx + r * a.cos(), cy + r * a.sin()]
            })
            .collect()
    }

    #[test]
    fn pieces_of_one_circle_are_dropped_but_hairs_crossing_it_are_kept() {
        let straight: Vec<[f64; 2]> = (0..100)
            .map(|i| [50.0 + f64::from(i), 100.0 + 0.3 * f64::from(i)])
            .collect();
        let traces = vec![
            trace(arc(100.0, 100.0, 40.0, 0, 80)),
            trace(arc(100.0, 100.0, 40.0, 100, 170)),
            trace(arc(100.0, 100.0, 40.0, 200, 330)),
            trace(straight.clone()),
        ];
        let kept = drop_rings(traces, 300, 200);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].0, straight);
    }

    #[test]
    fn a_curved_hair_and_two_pieces_of_a_gentle_arc_are_kept() {
        // one hair bending through 120°, and a hair split in two pieces along 150° of arc
        let traces = vec![
            trace(arc(100.0, 100.0, 40.0, 0, 120)),
            trace(arc(300.0, 100.0, 60.0, 0, 70)),
            trace(arc(300.0, 100.0, 60.0, 80, 150)),
        ];
        assert_eq!(drop_rings(traces, 400, 300).len(), 3);
    }

    #[test]
    fn one_trace_closing_most_of_a_circle_is_a_ring_but_a_hair_bending_through_200_degrees_is_not() {
        assert!(drop_rings(vec![trace(arc(100.0, 100.0, 40.0, 0, 290))], 300, 200).is_empty());
        assert_eq!(
            drop_rings(vec![trace(arc(100.0, 100.0, 40.0, 0, 200))], 300, 200).len(),
            1
        );
    }

    #[test]
    fn a_bubble_traced_along_its_inner_edge_and_its_outer_ring_is_one_ring() {
        let traces = vec![
            trace(arc(150.0, 100.0, 40.0, 0, 110)),
            trace(arc(150.0, 100.0, 47.0, 140, 280)),
        ];
        assert!(drop_rings(traces, 300, 200).is_empty());
        // two hairs curving the same way side by side go round no more than one of them
        let side_by_side = vec![
            trace(arc(150.0, 100.0, 40.0, 0, 110)),
            trace(arc(150.0, 100.0, 47.0, 0, 110)),
        ];
        assert_eq!(drop_rings(side_by_side, 300, 200).len(), 2);
    }

    #[test]
    fn a_ring_cut_by_the_frame_counts_what_the_frame_shows() {
        // centre 20 px below the top edge: the frame shows about 227° of it, traced in two
        // pieces round 210°
        let traces = vec![
            trace(arc(100.0, 20.0, 50.0, -20, 85)),
            trace(arc(100.0, 20.0, 50.0, 95, 200)),
        ];
        assert!(drop_rings(traces, 300, 200).is_empty());
    }
}
