//! Ridge tracking: each hair followed along the model's centreline channel one pixel at a
//! time, holding its direction, so hairs that cross or run over one another — a single blob
//! in the hair mask, whose skeleton wanders between them — are traced one by one.
//!
//! A hair starts at the strongest centreline pixel not yet explained, in the direction along
//! which the centreline is strongest there, and is followed both ways: at each step the
//! direction turns by at most a few degrees towards the strongest centreline ahead, and the
//! point is pulled back onto the ridge. Where the centreline fades but the hair map still
//! shows hair (another shaft lying on top, a faint stretch), the hair goes on straight for a
//! few widths; under a device overlay it goes on straight until the overlay ends. Every
//! traced hair claims its ridge *at its own direction* only, so a hair crossing it later
//! passes through, while a second start on the same ridge stops at once.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::f64::consts::PI;

use super::units;
use crate::geometry::{angle_between, distance, polyline_length};
use crate::probability_image::ProbabilityImage;

/// Two hairs whose directions differ by less than this (radians, 10°) on one pixel are one
/// hair traced twice: closer crossings than that share their course for more than five widths
/// and cannot be told apart.
const SAME_HAIR_RAD: f64 = 10.0 * PI / 180.0;
/// Levels of the quantised direction stored in a claim (0 marks no claim).
const ANGLE_LEVELS: f64 = 255.0;
/// Directions tried (over 180°) for a start's orientation.
const START_DIRECTIONS: usize = 36;
/// Turn candidates per step, in units of [`TURN_STEP_RAD`], either way.
const TURNS: i32 = 2;
/// One turn step (radians per pixel of travel): 1.5°, a radius of curvature of 38 px
/// (190 µm at the model's 5 µm/px) at the strongest turn.
const TURN_STEP_RAD: f64 = 1.5 * PI / 180.0;
/// Lateral pull onto the ridge per step (px): up to about 14° of drift per pixel.
const MAX_RECENTRE_PX: f64 = 0.25;
/// A turn must gain this much mean centreline probability per turn step over going straight.
const TURN_PENALTY: f64 = 0.01;
/// A claim's direction is the chord from this many points before to this many after.
const CLAIM_CHORD_POINTS: usize = 5;
/// A piece is the shadow of a longer hair within that hair's radius plus this (px).
const SHADOW_SLACK_PX: f64 = 2.0;
/// Claimed half-width (px) around a traced centreline, at least.
const MIN_CLAIM_RADIUS_PX: f64 = 1.5;

/// What ridge tracking needs, all in pixels of the maps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RidgeLimits {
    /// Centreline probability at which a hair may start.
    pub start_probability: f32,
    /// Mean centreline probability ahead that keeps a hair going.
    pub follow_probability: f64,
    /// Length (px) of the stretch ahead whose centreline is scored.
    pub lookahead_px: f64,
    /// Hair probability that carries a hair straight on where its centreline fades.
    pub support_probability: f64,
    /// A faded stretch may last this many times the hair's width…
    pub gap_factor: f64,
    /// …or this many pixels, whichever is longer.
    pub min_gap_px: f64,
}

/// The maps a ridge tracker reads.
pub(crate) struct RidgeMaps<'a> {
    pub centreline: ProbabilityImage<'a>,
    pub hair: ProbabilityImage<'a>,
    /// Distance (px) from each hair pixel to the mask's background (the local radius).
    pub radius_px: &'a [f64],
    /// Where nothing can be seen (device overlays), if anywhere.
    pub hidden: Option<&'a [bool]>,
    pub width: usize,
    pub height: usize,
}

/// Traces every hair along the centreline ridges; polylines in continuous pixel coordinates,
/// points about a pixel apart, and the pixels they cover (see [`Coverage`]).
pub(crate) fn track_ridges(maps: &RidgeMaps, limits: &RidgeLimits) -> (Vec<Vec<[f64; 2]>>, Coverage) {
    let centreline = maps.centreline.values();
    let mut starts: Vec<usize> = (0..centreline.len())
        .filter(|&i| centreline[i] >= limits.start_probability)
        .collect();
    starts.sort_by(|&a, &b| centreline[b].total_cmp(&centreline[a]).then(a.cmp(&b)));
    let mut claimed = vec![Claims::default(); maps.width * maps.height];
    let mut tried = vec![Claims::default(); maps.width * maps.height];
    // Hairs by id; a hair joined into a later one is `None` and `merged_into` names its heir.
    let mut hairs: Vec<Option<Vec<[f64; 2]>>> = Vec::new();
    let mut merged_into: Vec<usize> = Vec::new();
    for i in starts {
        if claimed[i].any() {
            continue;
        }
        let p = [(i % maps.width) as f64 + 0.5, (i / maps.width) as f64 + 0.5];
        let angle = start_direction(maps, p, limits.lookahead_px);
        if tried[i].holds(angle).is_some() {
            continue;
        }
        let tracker = Tracker {
            maps,
            limits,
            claimed: &claimed,
        };
        let (forward, ahead) = tracker.follow(p, angle);
        let (backward, behind) = tracker.follow(p, angle + PI);
        let mut line: Vec<[f64; 2]> = backward.into_iter().rev().collect();
        line.push(p);
        line.extend(forward);
        claim(&mut tried, &line, maps, None, 0);
        if line.len() < 2 {
            continue;
        }
        let id = hairs.len();
        hairs.push(None);
        merged_into.push(id);
        // A piece that ran into the end of a hair traced before continues it.
        for (end, owner) in [(0, behind), (1, ahead)] {
            let Some(owner) = owner.map(|o| units::root(&mut merged_into, o as usize)) else {
                continue;
            };
            let Some(other) = hairs[owner].take_if(|other| joins(other, &line, end, limits.lookahead_px)) else {
                continue;
            };
            line = join(other, line, end);
            merged_into[owner] = id;
        }
        claim(&mut claimed, &line, maps, Some(maps.radius_px), id as u32);
        hairs[id] = Some(line);
    }
    let lines = join_facing_ends(hairs.into_iter().flatten().collect(), limits.lookahead_px);
    drop_shadowed(lines, maps)
}

/// Pieces that run along a longer hair are the same hair traced twice (see [`Coverage`]);
/// the pieces kept and the pixels they cover.
fn drop_shadowed(mut lines: Vec<Vec<[f64; 2]>>, maps: &RidgeMaps) -> (Vec<Vec<[f64; 2]>>, Coverage) {
    lines.sort_by(|a, b| polyline_length(b).total_cmp(&polyline_length(a)));
    let mut coverage = Coverage::new(maps.width, maps.height);
    lines.retain(|line| {
        let shadowed = coverage.shadows(line);
        if !shadowed {
            coverage.cover(line, maps.radius_px);
        }
        !shadowed
    });
    (lines, coverage)
}

/// The pixels near traced hairs: within half the local hair radius plus
/// [`SHADOW_SLACK_PX`] of a centreline.
pub(crate) struct Coverage {
    covered: Vec<bool>,
    width: usize,
    height: usize,
}

impl Coverage {
    fn new(width: usize, height: usize) -> Self {
        Self {
            covered: vec![false; width * height],
            width,
            height,
        }
    }

    fn index(&self, p: [f64; 2]) -> Option<usize> {
        pixel_index(self.width, self.height, p)
    }

    /// Whether most points of `line` lie near hairs already covered: it runs along one.
    pub(crate) fn shadows(&self, line: &[[f64; 2]]) -> bool {
        let near = line
            .iter()
            .filter(|&&p| self.index(p).is_some_and(|i| self.covered[i]))
            .count();
        2 * near > line.len()
    }

    /// Covers the pixels near `line`, with `radius_px` the mask's local radius per pixel.
    fn cover(&mut self, line: &[[f64; 2]], radius_px: &[f64]) {
        for &p in line {
            let r = 0.5 * self.index(p).map_or(1.0, |i| radius_px[i]) + SHADOW_SLACK_PX;
            for_each_pixel_within(self.width, self.height, p, r, |i| self.covered[i] = true);
        }
    }
}

/// Most a joined hair may turn (radians) across the gap between two pieces: 30°.
const MAX_JOIN_TURN_RAD: f64 = PI / 6.0;

/// Pieces whose ends face each other across at most `reach` px, continuing one another, are
/// joined, nearest pairs first; a joined line's ends are read again before it is joined on.
/// The candidate pairs wait in a queue (stale ones are skipped by version), so a field of many
/// pieces costs one pass over the pairs and one over the pieces per join, not a pass over all
/// pairs per join (which took minutes on a photo with thousands of pieces).
fn join_facing_ends(lines: Vec<Vec<[f64; 2]>>, reach: f64) -> Vec<Vec<[f64; 2]>> {
    let read_ends = |line: &[[f64; 2]]| [0, 1].map(|end| end_direction(line, end, reach));
    let mut ends: Vec<[LineEnd; 2]> = lines.iter().map(|line| read_ends(line)).collect();
    let mut lines: Vec<Option<Vec<[f64; 2]>>> = lines.into_iter().map(Some).collect();
    let mut version = vec![0u32; lines.len()];
    let mut queue = BinaryHeap::new();
    for a in 0..lines.len() {
        for b in a + 1..lines.len() {
            queue_joins(&mut queue, &ends, &version, (a, b), reach);
        }
    }
    while let Some(Reverse((_, a, ea, b, eb, va, vb))) = queue.pop() {
        if version[a] != va || version[b] != vb {
            continue;
        }
        // a line joined away had its version raised, so both lines of a current join are there
        let mut first = lines[a].take().expect("a current join's first line");
        let mut second = lines[b].take().expect("a current join's second line");
        if ea == 0 {
            first.reverse();
        }
        if eb == 1 {
            second.reverse();
        }
        first.extend(second);
        ends[a] = read_ends(&first);
        lines[a] = Some(first);
        version[a] += 1;
        version[b] += 1;
        for c in (0..lines.len()).filter(|&c| c != a && lines[c].is_some()) {
            queue_joins(&mut queue, &ends, &version, (a.min(c), a.max(c)), reach);
        }
    }
    lines.into_iter().flatten().collect()
}

/// A line's end and its outward direction (unit vector).
type LineEnd = ([f64; 2], [f64; 2]);

/// A possible join, ordered by gap (the bits of a non-negative `f64` order as its value), then
/// by the lines and ends it joins: (gap, line a, end of a, line b, end of b, versions of a, b).
type Join = Reverse<(u64, usize, usize, usize, usize, u32, u32)>;

/// Queues every join between the ends of lines `a` < `b` that face each other across at most
/// `reach` px, the gap running along the first end's direction.
fn queue_joins(
    queue: &mut BinaryHeap<Join>,
    ends: &[[LineEnd; 2]],
    version: &[u32],
    (a, b): (usize, usize),
    reach: f64,
) {
    for ea in 0..2 {
        for eb in 0..2 {
            let ((ta, ua), (tb, ub)) = (ends[a][ea], ends[b][eb]);
            let across = [tb[0] - ta[0], tb[1] - ta[1]];
            if across[0] * across[0] + across[1] * across[1] > reach * reach {
                continue;
            }
            let gap = distance(ta, tb);
            let facing = angle_between(ua, [-ub[0], -ub[1]]) <= MAX_JOIN_TURN_RAD;
            let along = gap < 3.0 || angle_between(ua, across) <= MAX_JOIN_TURN_RAD;
            if gap <= reach && facing && along {
                queue.push(Reverse((gap.to_bits(), a, ea, b, eb, version[a], version[b])));
            }
        }
    }
}

/// End `end` (0 first, 1 last) of `line` and its outward direction (unit vector) over up to
/// `reach` px.
fn end_direction(line: &[[f64; 2]], end: usize, reach: f64) -> LineEnd {
    let n = line.len();
    let back = (reach.ceil() as usize).min(n - 1);
    let (tip, inner) = (
        end_point(line, end),
        if end == 0 { line[back] } else { line[n - 1 - back] },
    );
    let d = distance(tip, inner).max(1e-9);
    (tip, [(tip[0] - inner[0]) / d, (tip[1] - inner[1]) / d])
}

/// End `end` (0 first, 1 last) of a non-empty `line`.
fn end_point(line: &[[f64; 2]], end: usize) -> [f64; 2] {
    if end == 0 {
        line[0]
    } else {
        line[line.len() - 1]
    }
}

/// Whether an end of `other` lies within `reach` of end `end` (0 first, 1 last) of `line`.
fn joins(other: &[[f64; 2]], line: &[[f64; 2]], end: usize, reach: f64) -> bool {
    let tip = end_point(line, end);
    [other[0], other[other.len() - 1]]
        .iter()
        .any(|&e| distance(e, tip) <= reach)
}

/// `line` continued, at its end `end`, by `other` (whose nearer end meets it).
fn join(mut other: Vec<[f64; 2]>, mut line: Vec<[f64; 2]>, end: usize) -> Vec<[f64; 2]> {
    let tip = end_point(&line, end);
    let first_is_nearer = distance(other[0], tip) <= distance(other[other.len() - 1], tip);
    if end == 0 {
        // other … → line
        if first_is_nearer {
            other.reverse();
        }
        other.extend(line);
        other
    } else {
        // line → … other
        if !first_is_nearer {
            other.reverse();
        }
        line.extend(other);
        line
    }
}

/// The directions (modulo 180°) and hair ids of up to two hairs traced through one pixel; a
/// third crossing hair is not recorded.
#[derive(Debug, Clone, Copy, Default)]
struct Claims {
    levels: [u8; 2],
    owners: [u32; 2],
}

impl Claims {
    fn any(self) -> bool {
        self.levels[0] != 0
    }

    fn add(&mut self, angle: f64, owner: u32) {
        if self.holds(angle).is_some() {
            return;
        }
        let level = 1 + (angle.rem_euclid(PI) / PI * (ANGLE_LEVELS - 1.0)).round() as u8;
        if let Some(slot) = self.levels.iter().position(|&l| l == 0) {
            self.levels[slot] = level;
            self.owners[slot] = owner;
        }
    }

    /// The hair of (about) this direction traced through the pixel, if any.
    fn holds(self, angle: f64) -> Option<u32> {
        (0..2).find_map(|slot| {
            let level = self.levels[slot];
            if level == 0 {
                return None;
            }
            let claimed = f64::from(level - 1) / (ANGLE_LEVELS - 1.0) * PI;
            let d = (angle - claimed).rem_euclid(PI);
            (d.min(PI - d) < SAME_HAIR_RAD).then_some(self.owners[slot])
        })
    }
}

/// The direction (radians, 0 to π) along which the centreline through `p` is strongest.
fn start_direction(maps: &RidgeMaps, p: [f64; 2], lookahead_px: f64) -> f64 {
    let half = (lookahead_px / 2.0).ceil() as i32;
    (0..START_DIRECTIONS)
        .map(|k| k as f64 * PI / START_DIRECTIONS as f64)
        .map(|a| {
            let (dx, dy) = (a.cos(), a.sin());
            let score: f64 = (-half..=half)
                .map(|t| sample(&maps.centreline, [p[0] + f64::from(t) * dx, p[1] + f64::from(t) * dy]))
                .sum();
            (a, score)
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(0.0, |(a, _)| a)
}

/// Records the line's local direction on the pixels within a claim radius of `line`. With
/// `radius_px`, the claim reaches half the local hair radius where that is wider than
/// [`MIN_CLAIM_RADIUS_PX`].
fn claim(claims: &mut [Claims], line: &[[f64; 2]], maps: &RidgeMaps, radius_px: Option<&[f64]>, owner: u32) {
    for k in 0..line.len() {
        let a = line[k.saturating_sub(CLAIM_CHORD_POINTS)];
        let b = line[(k + CLAIM_CHORD_POINTS).min(line.len() - 1)];
        let angle = (b[1] - a[1]).atan2(b[0] - a[0]);
        let r = radius_px
            .zip(index(maps, line[k]))
            .map_or(MIN_CLAIM_RADIUS_PX, |(radius, i)| {
                (0.5 * radius[i]).max(MIN_CLAIM_RADIUS_PX)
            });
        for_each_pixel_within(maps.width, maps.height, line[k], r, |i| claims[i].add(angle, owner));
    }
}

/// Calls `visit` with the row-major index of every pixel of a `width × height` grid whose
/// centre lies within `r` of `p`.
fn for_each_pixel_within(width: usize, height: usize, p: [f64; 2], r: f64, mut visit: impl FnMut(usize)) {
    let (w, h) = (width as i64, height as i64);
    let reach = r.ceil() as i64;
    let (cx, cy) = (p[0].floor() as i64, p[1].floor() as i64);
    for j in (cy - reach).max(0)..=(cy + reach).min(h - 1) {
        for i in (cx - reach).max(0)..=(cx + reach).min(w - 1) {
            let (dx, dy) = (i as f64 + 0.5 - p[0], j as f64 + 0.5 - p[1]);
            if dx * dx + dy * dy <= r * r {
                visit((j * w + i) as usize);
            }
        }
    }
}

fn index(maps: &RidgeMaps, p: [f64; 2]) -> Option<usize> {
    pixel_index(maps.width, maps.height, p)
}

/// Row-major index of the pixel of a `width × height` grid containing `p`.
fn pixel_index(width: usize, height: usize, p: [f64; 2]) -> Option<usize> {
    let (x, y) = (p[0].floor(), p[1].floor());
    (x >= 0.0 && y >= 0.0 && (x as usize) < width && (y as usize) < height).then(|| y as usize * width + x as usize)
}

fn sample(map: &ProbabilityImage, p: [f64; 2]) -> f64 {
    map.sample(p[0], p[1]).unwrap_or(0.0)
}

/// Follows one hair from a start.
struct Tracker<'a> {
    maps: &'a RidgeMaps<'a>,
    limits: &'a RidgeLimits,
    claimed: &'a [Claims],
}

impl Tracker<'_> {
    /// The points from `start` (excluded) along `angle` until the hair ends, leaves the image
    /// or runs onto a ridge already traced in its direction, and that ridge's hair.
    fn follow(&self, start: [f64; 2], mut angle: f64) -> (Vec<[f64; 2]>, Option<u32>) {
        let mut points = Vec::new();
        let mut p = start;
        // Points kept so far (the faded stretch after them is dropped if the ridge never returns).
        let mut kept = 0;
        let mut faded_px = 0.0;
        let diagonal = self.maps.centreline.diagonal_px();
        while (points.len() as f64) < 4.0 * diagonal {
            let straight = [p[0] + angle.cos(), p[1] + angle.sin()];
            let Some(i) = index(self.maps, straight) else {
                // Out of the frame: a faded stretch that got here is hair leaving the image.
                kept = points.len();
                break;
            };
            if let Some(owner) = self.claimed[i].holds(angle) {
                return (points, Some(owner));
            }
            if self.claimed[i].any() {
                // Crossing a hair traced before: its ridge would pull this one off course.
                p = straight;
                points.push(p);
                kept = points.len();
                faded_px = 0.0;
                continue;
            }
            let (turned, score) = self.best_turn(p, angle);
            if score >= self.limits.follow_probability {
                angle = turned;
                let next = self.recentre([p[0] + angle.cos(), p[1] + angle.sin()], angle);
                let Some(j) = index(self.maps, next) else { break };
                if let Some(owner) = self.claimed[j].holds(angle) {
                    return (points, Some(owner));
                }
                p = next;
                points.push(p);
                kept = points.len();
                faded_px = 0.0;
                continue;
            }
            // Faded: straight on while the hair map (or an overlay) still covers the shaft.
            let hidden = self.maps.hidden.is_some_and(|h| h[i]);
            let radius = self.radius_at(points.get(kept.wrapping_sub(1)).copied().unwrap_or(start));
            let max_gap = (self.limits.gap_factor * 2.0 * radius).max(self.limits.min_gap_px);
            let next = [p[0] + angle.cos(), p[1] + angle.sin()];
            if !hidden && (faded_px >= max_gap || sample(&self.maps.hair, next) < self.limits.support_probability) {
                break;
            }
            if !hidden {
                faded_px += 1.0;
            }
            p = next;
            points.push(p);
        }
        points.truncate(kept);
        (points, None)
    }

    /// The direction within a few turn steps of `angle` whose stretch ahead has the highest
    /// mean centreline probability (less a small cost per turn step), and that mean.
    fn best_turn(&self, p: [f64; 2], angle: f64) -> (f64, f64) {
        (-TURNS..=TURNS)
            .map(|t| {
                let a = angle + f64::from(t) * TURN_STEP_RAD;
                let ahead = self.mean_ahead(p, a);
                (a, ahead - TURN_PENALTY * f64::from(t.abs()), ahead)
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map_or((angle, 0.0), |(a, _, ahead)| (a, ahead))
    }

    fn mean_ahead(&self, p: [f64; 2], angle: f64) -> f64 {
        let n = self.limits.lookahead_px.ceil().max(1.0) as usize;
        let (dx, dy) = (angle.cos(), angle.sin());
        let sum: f64 = (1..=n)
            .map(|t| sample(&self.maps.centreline, [p[0] + t as f64 * dx, p[1] + t as f64 * dy]))
            .sum();
        sum / n as f64
    }

    /// `p` moved across the direction `angle` towards the centreline's crest (parabola
    /// through the samples half a pixel either side), by at most [`MAX_RECENTRE_PX`].
    fn recentre(&self, p: [f64; 2], angle: f64) -> [f64; 2] {
        let normal = [-angle.sin(), angle.cos()];
        let at = |t: f64| sample(&self.maps.centreline, [p[0] + t * normal[0], p[1] + t * normal[1]]);
        let (left, centre, right) = (at(-0.5), at(0.0), at(0.5));
        let curvature = left - 2.0 * centre + right;
        let offset = if curvature < 0.0 {
            (0.25 * (left - right) / curvature).clamp(-MAX_RECENTRE_PX, MAX_RECENTRE_PX)
        } else if right > left {
            MAX_RECENTRE_PX
        } else if left > right {
            -MAX_RECENTRE_PX
        } else {
            0.0
        };
        [p[0] + offset * normal[0], p[1] + offset * normal[1]]
    }

    fn radius_at(&self, p: [f64; 2]) -> f64 {
        index(self.maps, p).map_or(1.0, |i| self.maps.radius_px[i].max(1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::test_maps::lines_map;

    /// End points and lengths of the traces.
    fn ends(hairs: &[Vec<[f64; 2]>]) -> Vec<([f64; 2], [f64; 2], f64)> {
        hairs
            .iter()
            .map(|l| (l[0], l[l.len() - 1], crate::geometry::polyline_length(l)))
            .collect()
    }

    /// Traces at least 20 px long (the pipeline drops shorter ones).
    fn track(hair: &[f32], centreline: &[f32], width: usize, height: usize) -> Vec<Vec<[f64; 2]>> {
        let radius = vec![3.0; width * height];
        let maps = RidgeMaps {
            centreline: ProbabilityImage::new(centreline, width, height).unwrap(),
            hair: ProbabilityImage::new(hair, width, height).unwrap(),
            radius_px: &radius,
            hidden: None,
            width,
            height,
        };
        let limits = RidgeLimits {
            start_probability: 0.5,
            follow_probability: 0.25,
            lookahead_px: 8.0,
            support_probability: 0.25,
            gap_factor: 4.0,
            min_gap_px: 12.0,
        };
        let (mut hairs, _) = track_ridges(&maps, &limits);
        hairs.retain(|l| crate::geometry::polyline_length(l) >= 20.0);
        hairs
    }

    #[test]
    fn pieces_in_line_are_joined_into_one_and_side_by_side_pieces_stay_apart() {
        // 300 pieces of 4 px along y = 10 with 2-px gaps, handed over in a scrambled order and
        // alternate directions: each join must read the joined line's ends again to go on.
        let piece = |k: usize| -> Vec<[f64; 2]> {
            let x0 = 6.0 * k as f64;
            let points: Vec<[f64; 2]> = (0..=4).map(|i| [x0 + f64::from(i), 10.0]).collect();
            if k.is_multiple_of(2) {
                points
            } else {
                points.into_iter().rev().collect()
            }
        };
        let mut lines: Vec<Vec<[f64; 2]>> = (0..300).map(|k| piece((k * 7) % 300)).collect();
        // a piece beside the row, parallel to it 8 px away: no end faces it along the row
        lines.push(vec![[100.0, 18.0], [104.0, 18.0]]);
        let joined = join_facing_ends(lines, 3.0);
        assert_eq!(joined.len(), 2);
        let row = joined.iter().find(|l| l.len() > 2).expect("the row");
        assert_eq!(row.len(), 300 * 5);
        let xs: Vec<f64> = row.iter().map(|p| p[0]).collect();
        let ascending = xs.windows(2).all(|w| w[1] > w[0]);
        let descending = xs.windows(2).all(|w| w[1] < w[0]);
        assert!(ascending || descending, "points out of order");
    }

    #[test]
    fn two_hairs_crossing_at_a_small_angle_are_two_traces() {
        // 20° apart, crossing in the middle of the frame: one X-shaped blob.
        let (w, h) = (160, 80);
        let a = ([0.0, 26.0], [160.0, 54.0]);
        let b = ([0.0, 54.0], [160.0, 26.0]);
        let hair = lines_map(w, h, &[a, b], 3.0);
        let centreline = lines_map(w, h, &[a, b], 1.0);
        let hairs = track(&hair, &centreline, w, h);
        assert_eq!(hairs.len(), 2, "{:?}", ends(&hairs));
        for line in &hairs {
            let length = crate::geometry::polyline_length(line);
            assert!(length > 150.0, "length {length}");
        }
    }

    #[test]
    fn a_centreline_gap_under_another_shaft_is_crossed() {
        // A vertical shaft on top of a horizontal one hides the horizontal centreline.
        let (w, h) = (120, 60);
        let under = ([0.0, 30.0], [120.0, 30.0]);
        let over = ([60.0, 0.0], [60.0, 60.0]);
        let hair = lines_map(w, h, &[under, over], 4.0);
        let mut centreline = lines_map(w, h, &[under, over], 1.0);
        for y in 0..h {
            for x in 55..65 {
                if (y as f64 - 30.0).abs() < 3.0 {
                    centreline[y * w + x] = 0.0;
                }
            }
        }
        let over_centre = lines_map(w, h, &[over], 1.0);
        centreline
            .iter_mut()
            .zip(&over_centre)
            .for_each(|(c, o)| *c = c.max(*o));
        let hairs = track(&hair, &centreline, w, h);
        assert_eq!(hairs.len(), 2, "{:?}", ends(&hairs));
    }
}
