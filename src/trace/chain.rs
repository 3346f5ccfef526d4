//! Chaining: paired branches joined into one polyline per hair, straightened across
//! junctions, smoothed, and extended at free ends to where the hair mask stops (thinning
//! stops about one radius short of a hair's end).

use std::collections::HashMap;

use super::graph::Graph;
use super::grid::BinaryImage;
use super::pairing::EdgeEnd;
use crate::geometry::distance;

/// Step (px) used when extending a free end along its direction.
const EXTENSION_STEP_PX: f64 = 0.5;
/// Extra reach (px) beyond the end's radius when extending a free end.
const EXTENSION_SLACK_PX: f64 = 1.5;
/// Points back from a free end used to measure its direction.
const END_DIRECTION_POINTS: usize = 5;

/// One hair's polyline with what is known about its two ends.
#[derive(Debug, Clone)]
pub(crate) struct Chain {
    /// Centreline points, continuous pixel coordinates.
    pub points: Vec<[f64; 2]>,
    /// Graph node at the start and at the end of `points`.
    pub end_nodes: [usize; 2],
    /// Whether each end is a free line end (not a junction the hair stops at).
    pub free: [bool; 2],
}

/// Follows the pairing from every edge and returns one chain per hair.
pub(crate) fn chain_edges(
    graph: &Graph,
    pairs: &HashMap<EdgeEnd, EdgeEnd>,
    smoothing_half_window: usize,
) -> Vec<Chain> {
    let mut visited = vec![false; graph.edges.len()];
    let mut chains = Vec::new();
    let live = graph.live_edges().count();
    let degrees = graph.degrees();
    for (first, _) in graph.live_edges() {
        if visited[first] {
            continue;
        }
        // Walk back to where this hair starts (or round a loop back to `first`).
        let mut start: EdgeEnd = (first, 0);
        for _ in 0..live {
            match pairs.get(&start) {
                Some(&(edge, end)) if edge != first && !visited[edge] => start = (edge, 1 - end),
                _ => break,
            }
        }
        let mut segments: Vec<EdgeEnd> = Vec::new();
        let mut current = start;
        while !visited[current.0] {
            visited[current.0] = true;
            segments.push(current);
            match pairs.get(&(current.0, 1 - current.1)) {
                Some(&next) => current = next,
                None => break,
            }
        }
        chains.push(build_chain(graph, &degrees, &segments, smoothing_half_window));
    }
    chains
}

fn build_chain(graph: &Graph, degrees: &[usize], segments: &[EdgeEnd], smoothing_half_window: usize) -> Chain {
    let oriented = |&(edge, end): &EdgeEnd| -> Vec<[f64; 2]> {
        let path = &graph.edges[edge].path;
        if end == 0 {
            path.clone()
        } else {
            path.iter().rev().copied().collect()
        }
    };
    let mut points = Vec::new();
    for (k, segment) in segments.iter().enumerate() {
        let edge = &graph.edges[segment.0];
        let (from, to) = (
            &graph.nodes[edge.ends[segment.1]],
            &graph.nodes[edge.ends[1 - segment.1]],
        );
        let inside = |p: [f64; 2]| {
            (k > 0 && distance(p, from.centre) < from.radius_px)
                || (k + 1 < segments.len() && distance(p, to.centre) < to.radius_px)
        };
        points.extend(oriented(segment).into_iter().filter(|&p| !inside(p)));
    }
    if points.len() < 2 {
        points = segments.iter().flat_map(oriented).collect();
    }
    let end_nodes = match (segments.first(), segments.last()) {
        (Some(&(e0, d0)), Some(&(e1, d1))) => [graph.edges[e0].ends[d0], graph.edges[e1].ends[1 - d1]],
        _ => [0, 0],
    };
    let free = end_nodes.map(|n| degrees[n] == 1);
    Chain {
        points: smooth(&points, smoothing_half_window),
        end_nodes,
        free,
    }
}

/// Moving average over `2 × half_window + 1` points (shrinking at the ends, which stay fixed).
pub(crate) fn smooth(points: &[[f64; 2]], half_window: usize) -> Vec<[f64; 2]> {
    let n = points.len();
    (0..n)
        .map(|i| {
            let h = half_window.min(i).min(n - 1 - i);
            let window = &points[i - h..=i + h];
            let k = window.len() as f64;
            let sum = window.iter().fold([0.0, 0.0], |s, p| [s[0] + p[0], s[1] + p[1]]);
            [sum[0] / k, sum[1] / k]
        })
        .collect()
}

/// Extends the free ends of `chain` along their direction while the hair mask continues,
/// by at most the end's radius plus a little slack.
pub(crate) fn extend_free_ends(chain: &mut Chain, graph: &Graph, mask: &BinaryImage) {
    for end in 0..2 {
        if !chain.free[end] || chain.points.len() < 2 {
            continue;
        }
        if end == 0 {
            chain.points.reverse();
        }
        let n = chain.points.len();
        let tip = chain.points[n - 1];
        let back = chain.points[n - 1 - END_DIRECTION_POINTS.min(n - 1)];
        let length = distance(tip, back);
        let reach = graph.nodes[chain.end_nodes[end]].radius_px + EXTENSION_SLACK_PX;
        if length > 0.0 {
            let direction = [(tip[0] - back[0]) / length, (tip[1] - back[1]) / length];
            let mut last = tip;
            let mut travelled = EXTENSION_STEP_PX;
            while travelled <= reach {
                let p = [tip[0] + direction[0] * travelled, tip[1] + direction[1] * travelled];
                if !mask.get(p[0].floor() as i64, p[1].floor() as i64) {
                    break;
                }
                last = p;
                travelled += EXTENSION_STEP_PX;
            }
            if last != tip {
                chain.points.push(last);
            }
        }
        if end == 0 {
            chain.points.reverse();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::pairing::pair_junctions;

    #[test]
    fn smoothing_keeps_ends_and_straightens_zigzag() {
        let zigzag: Vec<[f64; 2]> = (0..10)
            .map(|i| [i as f64, if i % 2 == 0 { 0.0 } else { 1.0 }])
            .collect();
        let smoothed = smooth(&zigzag, 2);
        assert_eq!(smoothed[0], zigzag[0]);
        assert_eq!(smoothed[9], zigzag[9]);
        assert!(smoothed[2..8].iter().all(|p| (p[1] - 0.5).abs() <= 0.1 + 1e-9));
    }

    #[test]
    fn crossing_chains_into_two_straight_hairs() {
        let mut skeleton = BinaryImage::new(21, 21);
        for k in 0..21 {
            skeleton.data[10 * 21 + k] = true;
            skeleton.data[k * 21 + 10] = true;
        }
        let graph = Graph::from_skeleton(&skeleton, &vec![1.0; 441]);
        let pairs = pair_junctions(&graph, 0.9);
        let chains = chain_edges(&graph, &pairs, 0);
        assert_eq!(chains.len(), 2);
        for chain in &chains {
            assert!(chain.free == [true, true]);
            assert!(
                (crate::geometry::polyline_length(&chain.points) - 20.0).abs() < 1e-9,
                "{:?}",
                chain.points
            );
        }
    }
}
