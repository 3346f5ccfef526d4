//! Junction resolution: which branches meeting at a junction belong to the same hair.
//!
//! A hair keeps its direction through a crossing, so the branches at a junction are paired up
//! by *direction continuity*: the set of pairs with the smallest total turning angle. Four
//! branches make two crossing hairs, six make three; three are a hair ending on another (or a
//! leftover spur). Where the number of branches is odd, at least one hair ends there, and no
//! pair may turn more than a configured limit. Where it is even and at least four, every
//! branch is paired whatever the turn: hairs pass through crossings, they do not end exactly
//! where another hair crosses, and the branch directions measured inside a shallow or
//! many-hair crossing are too distorted for a turn limit to tell a hair's end from its
//! continuation. Two branches keep the limit: a sharp V is two hairs leaving one opening.
//!
//! Where the branches leave the junction matters as well as where they point: a hair runs
//! straight through, so the chord from one branch's start to its partner's continues both.
//! Two hairs lying side by side through a merged junction leave it on their own sides; by
//! direction alone the two pairings tie, and a hair traced across to the other side's branch
//! runs along two true hairs.

use std::collections::HashMap;

use super::graph::Graph;
use crate::geometry::distance;

/// Largest junction solved exactly (2^n states); busier ones are paired greedily.
const MAX_EXACT_BRANCHES: usize = 14;
/// Shortest stretch (px) of branch used to measure its direction.
const MIN_DIRECTION_SPAN_PX: f64 = 6.0;
/// Branch starts closer than this (px) give no chord direction: a pixel's error turns it by
/// up to 30°.
const MIN_CHORD_PX: f64 = 2.0;
/// Weight of the chord's two turns against the branches' own turn. Default 0.5: the starts
/// are read where the skeleton leaves the junction's blob, a less exact place than the
/// branch direction measured over several radii beyond it.
const CHORD_WEIGHT: f64 = 0.5;

/// One end of an edge: `(edge id, 0 for the path start or 1 for its end)`.
pub(crate) type EdgeEnd = (usize, usize);

/// A branch leaving a junction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Branch {
    /// Where it leaves the junction's blob (px).
    pub start: [f64; 2],
    /// Unit direction in which it leaves.
    pub direction: [f64; 2],
}

/// How the branch `edge_end` leaves node `node`: its start just outside the junction's blob
/// and its direction measured on the stretch beyond (inside the blob the skeleton bends
/// towards the junction).
fn branch_exit(graph: &Graph, (edge, end): EdgeEnd, node: usize) -> Branch {
    let centre = graph.nodes[node].centre;
    let radius = graph.nodes[node].radius_px;
    let path = &graph.edges[edge].path;
    let oriented: Vec<[f64; 2]> = if end == 0 {
        path.clone()
    } else {
        path.iter().rev().copied().collect()
    };
    let Some(&last) = oriented.last() else {
        return Branch {
            start: centre,
            direction: [0.0, 0.0],
        };
    };
    let first_beyond = |d: f64| {
        oriented
            .iter()
            .copied()
            .find(|&p| distance(p, centre) >= d)
            .unwrap_or(last)
    };
    let near = first_beyond(radius);
    let far = first_beyond(radius + (2.0 * radius).max(MIN_DIRECTION_SPAN_PX));
    let from = if distance(near, far) >= 2.0 { near } else { centre };
    let (dx, dy) = (far[0] - from[0], far[1] - from[1]);
    let norm = dx.hypot(dy);
    let direction = if norm > 0.0 { [dx / norm, dy / norm] } else { [0.0, 0.0] };
    Branch { start: near, direction }
}

/// Turning angle (radians) when going in along `a` reversed and out along `b`: 0 when the
/// two branches continue each other in a straight line.
fn turning_angle(a: [f64; 2], b: [f64; 2]) -> f64 {
    (-(a[0] * b[0] + a[1] * b[1])).clamp(-1.0, 1.0).acos()
}

/// How far (radians) the chord from `a`'s start to `b`'s turns from the way a hair comes in
/// along `a` and from the way it leaves along `b`, summed; 0 for starts too close to tell.
fn chord_turn(a: &Branch, b: &Branch) -> f64 {
    let length = distance(a.start, b.start);
    if length < MIN_CHORD_PX {
        return 0.0;
    }
    let chord = [(b.start[0] - a.start[0]) / length, (b.start[1] - a.start[1]) / length];
    let back = [-chord[0], -chord[1]];
    turning_angle(a.direction, chord) + turning_angle(back, b.direction)
}

/// Pairs the branches leaving one junction: returns each branch's partner, or `None` where
/// the branch ends at the junction. Minimises the total cost with every unpaired branch
/// costing `max_turn_rad`; a pair costs its turning angle plus [`CHORD_WEIGHT`] times its
/// [`chord_turn`], and no pair turns more than `max_turn_rad`.
fn pair_branches(branches: &[Branch], max_turn_rad: f64) -> Vec<Option<usize>> {
    let n = branches.len();
    // Each pair's cost once, not once per state of the search below (2^n of them).
    let costs: Vec<Vec<Option<f64>>> = branches
        .iter()
        .map(|a| {
            branches
                .iter()
                .map(|b| {
                    let turn = turning_angle(a.direction, b.direction);
                    (turn <= max_turn_rad).then(|| turn + CHORD_WEIGHT * chord_turn(a, b))
                })
                .collect()
        })
        .collect();
    let allowed = |i: usize, j: usize| costs[i][j];
    let mut partner = vec![None; n];
    if n > MAX_EXACT_BRANCHES {
        let mut pairs: Vec<(f64, usize, usize)> = (0..n)
            .flat_map(|i| (i + 1..n).filter_map(move |j| allowed(i, j).map(|t| (t, i, j))))
            .collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (_, i, j) in pairs {
            if partner[i].is_none() && partner[j].is_none() {
                (partner[i], partner[j]) = (Some(j), Some(i));
            }
        }
        return partner;
    }
    // best[mask]: least cost to settle the branches not in `mask`; choice: partner of the
    // lowest unsettled branch (itself = unpaired).
    let full = (1usize << n) - 1;
    let mut best = vec![0.0f64; full + 1];
    let mut choice = vec![0usize; full + 1];
    for mask in (0..full).rev() {
        let i = (!mask).trailing_zeros() as usize;
        let mut cost = max_turn_rad + best[mask | 1 << i];
        let mut pick = i;
        for j in (i + 1..n).filter(|&j| mask & (1 << j) == 0) {
            if let Some(turn) = allowed(i, j) {
                let total = turn + best[mask | 1 << i | 1 << j];
                if total < cost {
                    (cost, pick) = (total, j);
                }
            }
        }
        best[mask] = cost;
        choice[mask] = pick;
    }
    let mut mask = 0;
    while mask != full {
        let i = (!mask).trailing_zeros() as usize;
        let j = choice[mask];
        if j != i {
            (partner[i], partner[j]) = (Some(j), Some(i));
        }
        mask |= 1 << i | 1 << j;
    }
    partner
}

/// Largest turn (radians) allowed between paired branches at a junction of `branches`
/// branches: any turn at an even junction of four or more, `max_turn_rad` elsewhere.
fn junction_turn_limit(branches: usize, max_turn_rad: f64) -> f64 {
    if branches >= 4 && branches.is_multiple_of(2) {
        std::f64::consts::PI
    } else {
        max_turn_rad
    }
}

/// Pairs the branches at every junction of `graph`: maps each paired edge end to its partner.
/// `max_turn_rad` limits the turns at junctions of two or an odd number of branches; at even
/// ones of four or more every branch is paired (see the module documentation).
pub(crate) fn pair_junctions(graph: &Graph, max_turn_rad: f64) -> HashMap<EdgeEnd, EdgeEnd> {
    let mut ends_at: Vec<Vec<EdgeEnd>> = vec![Vec::new(); graph.nodes.len()];
    for (id, edge) in graph.live_edges() {
        for (end, &node) in edge.ends.iter().enumerate() {
            ends_at[node].push((id, end));
        }
    }
    let mut pairs = HashMap::new();
    for (node, ends) in ends_at.iter().enumerate().filter(|(_, e)| e.len() >= 2) {
        let branches: Vec<Branch> = ends.iter().map(|&e| branch_exit(graph, e, node)).collect();
        let limit = junction_turn_limit(ends.len(), max_turn_rad);
        for (i, partner) in pair_branches(&branches, limit).into_iter().enumerate() {
            if let Some(j) = partner {
                pairs.insert(ends[i], ends[j]);
            }
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(degrees: f64) -> [f64; 2] {
        let r = degrees.to_radians();
        [r.cos(), r.sin()]
    }

    /// Branches leaving one point in these directions (no chord to read).
    fn from_centre(degrees: &[f64]) -> Vec<Branch> {
        degrees
            .iter()
            .map(|&d| Branch {
                start: [0.0, 0.0],
                direction: unit(d),
            })
            .collect()
    }

    const LIMIT: f64 = 0.9; // ≈ 52°

    #[test]
    fn four_branches_make_two_straight_pairs() {
        let partner = pair_branches(&from_centre(&[0.0, 70.0, 182.0, 248.0]), LIMIT);
        assert_eq!(partner, vec![Some(2), Some(3), Some(0), Some(1)]);
    }

    #[test]
    fn six_branches_make_three_pairs() {
        let angles = [10.0, 40.0, 100.0, 190.0, 222.0, 278.0];
        let partner = pair_branches(&from_centre(&angles), LIMIT);
        assert_eq!(partner, vec![Some(3), Some(4), Some(5), Some(0), Some(1), Some(2)]);
    }

    #[test]
    fn t_junction_leaves_the_stem_unpaired() {
        let partner = pair_branches(&from_centre(&[0.0, 90.0, 181.0]), LIMIT);
        assert_eq!(partner, vec![Some(2), None, Some(0)]);
    }

    #[test]
    fn sharp_v_is_two_hair_ends() {
        assert_eq!(pair_branches(&from_centre(&[0.0, 30.0]), LIMIT), vec![None, None]);
        assert_eq!(
            pair_branches(&from_centre(&[0.0, 170.0]), LIMIT),
            vec![Some(1), Some(0)]
        );
    }

    #[test]
    fn even_crossings_pair_every_branch_whatever_the_turn() {
        // Two hairs crossing at a shallow angle: measured inside the crossing, one pair turns
        // 70°, more than the limit, yet no hair ends there.
        let directions = from_centre(&[0.0, 110.0, 175.0, 220.0]);
        assert_eq!(
            pair_branches(&directions, LIMIT),
            vec![Some(2), None, Some(0), None],
            "the plain limit leaves the bent pair unpaired"
        );
        let limit = junction_turn_limit(directions.len(), LIMIT);
        assert_eq!(
            pair_branches(&directions, limit),
            vec![Some(2), Some(3), Some(0), Some(1)]
        );
        assert_eq!(junction_turn_limit(2, LIMIT), LIMIT, "a sharp V stays two hair ends");
        assert_eq!(junction_turn_limit(3, LIMIT), LIMIT);
        assert_eq!(junction_turn_limit(5, LIMIT), LIMIT);
    }

    #[test]
    fn hairs_side_by_side_through_a_merged_junction_keep_their_own_sides() {
        // Hair A along y = 0, hair B along y = 6, touching in between; the branches leave the
        // merged junction at x = ±15. Measured inside the blob, A's right branch and B's left
        // branch both tilt by 2°, so by direction alone crossing over (A's left to B's right,
        // B's left to A's right) turns by 0° in all and keeping to each side by 4°.
        let at = |x: f64, y: f64, degrees: f64| Branch {
            start: [x, y],
            direction: unit(degrees),
        };
        let branches = [
            at(-15.0, 0.0, 180.0),
            at(15.0, 0.0, 2.0),
            at(-15.0, 6.0, 182.0),
            at(15.0, 6.0, 0.0),
        ];
        let limit = junction_turn_limit(branches.len(), LIMIT);
        assert_eq!(
            pair_branches(&branches, limit),
            vec![Some(1), Some(0), Some(3), Some(2)]
        );
        let no_positions: Vec<Branch> = branches
            .iter()
            .map(|b| Branch {
                start: [0.0, 0.0],
                ..*b
            })
            .collect();
        assert_eq!(
            pair_branches(&no_positions, limit),
            vec![Some(3), Some(2), Some(1), Some(0)],
            "by direction alone the pairs cross over"
        );
    }

    #[test]
    fn greedy_fallback_pairs_opposites() {
        let angles: Vec<f64> = (0..16)
            .map(|k| k as f64 * 22.5 + if k >= 8 { 1.0 } else { 0.0 })
            .collect();
        let angles = from_centre(&angles);
        let partner = pair_branches(&angles, 0.2);
        for (i, p) in partner.iter().enumerate() {
            assert_eq!(*p, Some((i + 8) % 16));
        }
    }
}
