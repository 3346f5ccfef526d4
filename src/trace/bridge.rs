//! Gap bridging: pieces of one hair that the segmentation or the skeleton broke apart are
//! joined again.
//!
//! A probability map drops out where a hair fades (thin or blond shafts, defocus), and a
//! skeleton loses a hair's course where another hair lies across it at a shallow angle, so
//! one hair is traced as several chains whose ends face each other. Two chain ends are joined
//! when both point at each other and their directions continue each other, and either the gap
//! is short against the hair's own radius, or it is longer (up to the overlap of two hairs
//! crossing at a shallow angle) but straighter and the probability map still shows hair along
//! it. Each end joins at most one other, the best-continuing pairs first.

use super::chain::Chain;
use super::graph::Graph;
use super::units::root;
use crate::geometry::{angle_between, distance};
use crate::probability_image::ProbabilityImage;

/// Shortest stretch (px) of chain used to measure an end's direction.
const MIN_END_SPAN_PX: f64 = 6.0;
/// Length of a chain's last stretch, in radii of its end, left out of the end's direction.
const HOOK_RADII: f64 = 2.0;

/// Limits on which chain ends may be joined.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BridgeLimits {
    /// Longest gap as a multiple of the sum of the two ends' radii.
    pub gap_factor: f64,
    /// Longest gap (px) whatever the radii.
    pub min_gap_px: f64,
    /// Largest turn (radians) between the two end directions, and twice the largest angle
    /// between an end's direction and the gap.
    pub max_turn_rad: f64,
    /// Longest gap with evidence, as a multiple of the sum of the two ends' radii.
    pub supported_gap_factor: f64,
    /// Longest gap (px) with evidence whatever the radii.
    pub supported_min_gap_px: f64,
    /// Mean probability along a long gap needed as evidence of hair.
    pub support_probability: f32,
}

/// One end of a chain: `(chain index, 0 for the start or 1 for the end)`.
type ChainEnd = (usize, usize);

/// Tip position, outward unit direction and radius (px) of a chain end.
type EndGeometry = ([f64; 2], [f64; 2], f64);

/// The [`EndGeometry`] of end `end` of `chain`, or `None` for a chain without length.
///
/// The direction is that of the stretch from `hook` to `hook + span` px behind the tip, and the
/// tip is projected onto that line: the last pixels of a skeleton often hook sideways (into a
/// blob, a crossing, the residue of an overlay line), and a hooked tip would put the two ends of
/// one hair off each other's line.
fn end_geometry(chain: &Chain, end: usize, graph: &Graph) -> Option<EndGeometry> {
    let radius = graph.nodes.get(chain.end_nodes[end])?.radius_px;
    let points: Vec<[f64; 2]> = if end == 1 {
        chain.points.iter().rev().copied().collect()
    } else {
        chain.points.clone()
    };
    let tip = *points.first()?;
    let span = (2.0 * radius).max(MIN_END_SPAN_PX);
    let hook = HOOK_RADII * radius;
    let along = |from: f64| points.iter().copied().find(|&p| distance(p, tip) >= from);
    let (near, back) = match (along(hook), along(hook + span)) {
        (Some(near), Some(back)) => (near, back),
        _ => (tip, along(span).or_else(|| points.last().copied())?),
    };
    let length = distance(near, back);
    if length <= 0.0 {
        return None;
    }
    let direction = [(near[0] - back[0]) / length, (near[1] - back[1]) / length];
    let ahead = (tip[0] - back[0]) * direction[0] + (tip[1] - back[1]) * direction[1];
    let projected = [back[0] + ahead * direction[0], back[1] + ahead * direction[1]];
    Some((projected, direction, radius))
}

/// What the tracer knows about the gap between two chain ends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GapEvidence<'a> {
    /// The hair probability map, if any: a long gap is joined only where it still shows hair.
    pub hair: Option<ProbabilityImage<'a>>,
    /// Pixels where nothing can be seen (device overlays drawn over the scalp), row-major like
    /// `hair`: a hair passing under them is hidden, not interrupted.
    pub hidden: Option<&'a [bool]>,
}

/// Cost of joining two ends (their total turn, radians, plus one for a long gap), or `None`
/// if they may not join. Only the visible part of a gap counts against the length limits; a
/// gap that is not plainly short must continue the hair more strictly and show hair where it
/// can be seen.
fn join_cost(a: EndGeometry, b: EndGeometry, limits: &BridgeLimits, evidence: &GapEvidence) -> Option<f64> {
    let ((pa, da, ra), (pb, db, rb)) = (a, b);
    let gap = distance(pa, pb);
    let short = gap <= (limits.gap_factor * (ra + rb)).max(limits.min_gap_px);
    let long_limit = (limits.supported_gap_factor * (ra + rb)).max(limits.supported_min_gap_px);
    if !short && gap > long_limit && evidence.hidden.is_none() {
        return None;
    }
    // A long gap must continue the hair more strictly than a short one.
    let max_turn = if short {
        limits.max_turn_rad
    } else {
        limits.max_turn_rad / 2.0
    };
    let opposed = angle_between(da, [-db[0], -db[1]]);
    if opposed > max_turn {
        return None;
    }
    // Across a gap shorter than the hair is wide, where the gap points says nothing.
    if gap <= ra.max(rb) {
        return Some(opposed);
    }
    let across = [(pb[0] - pa[0]) / gap, (pb[1] - pa[1]) / gap];
    let (turn_a, turn_b) = (angle_between(da, across), angle_between(db, [-across[0], -across[1]]));
    if turn_a.max(turn_b) > max_turn / 2.0 {
        return None;
    }
    let cost = opposed.max(turn_a + turn_b);
    if short {
        return Some(cost);
    }
    // Walked only for the few ends that face each other: the walk is the costly part.
    let walk = evidence.hair.map(|map| map.along(pa, pb, evidence.hidden))?;
    let visible_gap = gap * (1.0 - walk.hidden_fraction);
    let support = walk.mean.unwrap_or(limits.support_probability);
    (visible_gap <= long_limit && support >= limits.support_probability).then_some(1.0 + cost)
}

/// Joins chains whose ends face each other across a short gap, or across a longer, straighter
/// one along which `evidence` still shows hair or which an overlay hides. `joinable[k]` says
/// which ends of chain `k` may be joined (not those leaving the image).
pub(crate) fn bridge_gaps(
    chains: Vec<Chain>,
    joinable: &[[bool; 2]],
    graph: &Graph,
    limits: &BridgeLimits,
    evidence: &GapEvidence,
) -> Vec<Chain> {
    let ends: Vec<(ChainEnd, EndGeometry)> = chains
        .iter()
        .enumerate()
        .flat_map(|(k, c)| (0..2).map(move |e| (k, e, c)))
        .filter(|&(k, e, _)| joinable.get(k).is_some_and(|j| j[e]))
        .filter_map(|(k, e, c)| end_geometry(c, e, graph).map(|g| ((k, e), g)))
        .collect();
    let mut candidates: Vec<(f64, ChainEnd, ChainEnd)> = Vec::new();
    for (i, &(a, ga)) in ends.iter().enumerate() {
        for &(b, gb) in &ends[i + 1..] {
            if a.0 != b.0 {
                if let Some(cost) = join_cost(ga, gb, limits, evidence) {
                    candidates.push((cost, a, b));
                }
            }
        }
    }
    candidates.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut partner: Vec<[Option<ChainEnd>; 2]> = vec![[None, None]; chains.len()];
    let mut group: Vec<usize> = (0..chains.len()).collect();
    for (_, a, b) in candidates {
        let (ga, gb) = (root(&mut group, a.0), root(&mut group, b.0));
        if partner[a.0][a.1].is_none() && partner[b.0][b.1].is_none() && ga != gb {
            partner[a.0][a.1] = Some(b);
            partner[b.0][b.1] = Some(a);
            group[ga.max(gb)] = ga.min(gb);
        }
    }
    join_linked(chains, &partner)
}

/// Concatenates every run of linked chains, starting from a chain end without a partner
/// (links never form a cycle).
fn join_linked(chains: Vec<Chain>, partner: &[[Option<ChainEnd>; 2]]) -> Vec<Chain> {
    let mut used = vec![false; chains.len()];
    let mut joined = Vec::new();
    for start in 0..chains.len() {
        if used[start] || (partner[start][0].is_some() && partner[start][1].is_some()) {
            continue;
        }
        // Enter `start` through its end without a partner.
        let mut entry: ChainEnd = if partner[start][0].is_none() {
            (start, 0)
        } else {
            (start, 1)
        };
        let mut run = chains[start].clone();
        run.points.clear();
        run.end_nodes[0] = chains[start].end_nodes[entry.1];
        run.free[0] = chains[start].free[entry.1];
        loop {
            let (k, e) = entry;
            used[k] = true;
            let chain = &chains[k];
            if e == 0 {
                run.points.extend_from_slice(&chain.points);
            } else {
                run.points.extend(chain.points.iter().rev());
            }
            run.end_nodes[1] = chain.end_nodes[1 - e];
            run.free[1] = chain.free[1 - e];
            match partner[k][1 - e] {
                Some(next) if !used[next.0] => entry = next,
                _ => break,
            }
        }
        joined.push(run);
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::graph::Node;

    fn graph_with_radius(radius_px: f64) -> Graph {
        let node = Node {
            centre: [0.0, 0.0],
            radius_px,
            alive: true,
        };
        Graph {
            nodes: vec![node],
            edges: Vec::new(),
        }
    }

    fn segment(from: [f64; 2], to: [f64; 2]) -> Chain {
        let n = 20;
        let points = (0..=n)
            .map(|k| {
                let t = f64::from(k) / f64::from(n);
                [from[0] + t * (to[0] - from[0]), from[1] + t * (to[1] - from[1])]
            })
            .collect();
        Chain {
            points,
            end_nodes: [0, 0],
            free: [true, true],
        }
    }

    const LIMITS: BridgeLimits = BridgeLimits {
        gap_factor: 3.0,
        min_gap_px: 4.0,
        max_turn_rad: 0.9,
        supported_gap_factor: 3.0,
        supported_min_gap_px: 4.0,
        support_probability: 0.25,
    };

    /// No map: long gaps have no evidence.
    const NO_EVIDENCE: &GapEvidence = &GapEvidence {
        hair: None,
        hidden: None,
    };

    fn map_evidence(map: &[f32], width: usize, height: usize) -> GapEvidence<'_> {
        GapEvidence {
            hair: ProbabilityImage::new(map, width, height),
            hidden: None,
        }
    }

    #[test]
    fn collinear_pieces_across_a_short_gap_join() {
        let chains = vec![segment([40.0, 10.0], [60.0, 10.0]), segment([0.0, 10.0], [32.0, 10.5])];
        let joined = bridge_gaps(chains, &[[true; 2]; 2], &graph_with_radius(2.0), &LIMITS, NO_EVIDENCE);
        assert_eq!(joined.len(), 1);
        let line = &joined[0].points;
        let xs = [line[0][0], line[line.len() - 1][0]];
        assert!(xs.contains(&0.0) && xs.contains(&60.0), "{xs:?}");
    }

    #[test]
    fn pieces_whose_tips_hook_sideways_still_join() {
        // Each skeleton piece turns off by 3 px in its last pixels, as it does into a blob.
        let hooked = |from: [f64; 2], to: [f64; 2], hook_to: [f64; 2]| {
            let mut chain = segment(from, to);
            chain.points.push(hook_to);
            chain
        };
        let chains = vec![
            hooked([0.0, 10.0], [30.0, 10.0], [31.0, 13.0]),
            hooked([70.0, 10.0], [40.0, 10.0], [39.0, 7.0]),
        ];
        let joined = bridge_gaps(chains, &[[true; 2]; 2], &graph_with_radius(2.0), &LIMITS, NO_EVIDENCE);
        assert_eq!(joined.len(), 1);
    }

    #[test]
    fn long_gap_side_by_side_or_turned_pieces_stay_apart() {
        let graph = graph_with_radius(2.0);
        let apart = [segment([0.0, 10.0], [20.0, 10.0]), segment([40.0, 10.0], [60.0, 10.0])];
        let beside = [segment([0.0, 10.0], [20.0, 10.0]), segment([22.0, 20.0], [42.0, 20.0])];
        let turned = [segment([0.0, 10.0], [20.0, 10.0]), segment([22.0, 10.0], [22.0, 30.0])];
        for pair in [apart, beside, turned] {
            assert_eq!(
                bridge_gaps(pair.to_vec(), &[[true; 2]; 2], &graph, &LIMITS, NO_EVIDENCE).len(),
                2
            );
        }
    }

    #[test]
    fn a_long_gap_joins_only_where_the_map_still_shows_hair_along_it() {
        let limits = BridgeLimits {
            supported_gap_factor: 6.0,
            ..LIMITS
        };
        let graph = graph_with_radius(2.0);
        let pieces = vec![segment([0.0, 10.0], [20.0, 10.0]), segment([40.0, 10.0], [60.0, 10.0])];
        let (width, height) = (64, 20);
        let mut faint = vec![0.0; width * height];
        faint[10 * width..11 * width].fill(0.3);
        let joinable = [[true; 2]; 2];
        assert_eq!(
            bridge_gaps(
                pieces.clone(),
                &joinable,
                &graph,
                &limits,
                &map_evidence(&faint, width, height)
            )
            .len(),
            1
        );
        assert_eq!(
            bridge_gaps(pieces.clone(), &joinable, &graph, &limits, NO_EVIDENCE).len(),
            2
        );
        // hair everywhere, but the second piece turns by 30°: more than half the turn limit
        let everywhere = vec![0.3; width * height];
        let bent = vec![segment([0.0, 10.0], [20.0, 10.0]), segment([40.0, 10.0], [57.3, 20.0])];
        assert_eq!(
            bridge_gaps(
                bent,
                &joinable,
                &graph,
                &limits,
                &map_evidence(&everywhere, width, height)
            )
            .len(),
            2
        );
    }

    #[test]
    fn a_gap_hidden_by_an_overlay_counts_only_its_visible_part() {
        // Pieces 20 px apart (the skeleton stops short of where the hair vanishes under a
        // 14 px overlay stroke): too long to join with the map 0 in the gap (limit 12 px), but
        // joined once the stroke is known to hide the hair.
        let limits = BridgeLimits {
            supported_gap_factor: 3.0,
            supported_min_gap_px: 12.0,
            ..LIMITS
        };
        let graph = graph_with_radius(2.0);
        let pieces = vec![segment([0.0, 10.0], [20.0, 10.0]), segment([40.0, 10.0], [60.0, 10.0])];
        let (width, height) = (64, 20);
        let mut map = vec![0.0; width * height];
        for x in (0..23).chain(37..60) {
            map[10 * width + x] = 1.0;
        }
        let mut hidden = vec![false; width * height];
        for y in 0..height {
            hidden[y * width + 23..y * width + 37].fill(true);
        }
        let joinable = [[true; 2]; 2];
        let seen = map_evidence(&map, width, height);
        assert_eq!(bridge_gaps(pieces.clone(), &joinable, &graph, &limits, &seen).len(), 2);
        let occluded = GapEvidence {
            hidden: Some(&hidden),
            ..seen
        };
        assert_eq!(
            bridge_gaps(pieces.clone(), &joinable, &graph, &limits, &occluded).len(),
            1
        );
        // a hair turned away across the stroke is still not joined
        let bent = vec![segment([0.0, 10.0], [20.0, 10.0]), segment([40.0, 10.0], [55.0, 22.0])];
        assert_eq!(bridge_gaps(bent, &joinable, &graph, &limits, &occluded).len(), 2);
    }

    #[test]
    fn ends_at_the_border_are_not_joined() {
        let chains = vec![segment([0.0, 10.0], [20.0, 10.0]), segment([24.0, 10.0], [50.0, 10.0])];
        let joinable = [[true, false], [true, true]];
        assert_eq!(
            bridge_gaps(chains, &joinable, &graph_with_radius(2.0), &LIMITS, NO_EVIDENCE).len(),
            2
        );
    }
}
