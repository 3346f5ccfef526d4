//! The skeleton as a graph: nodes are line ends and junctions, edges the pixel paths between
//! them. Spur pruning and junction merging work on this graph, because they are decisions
//! about whole branches (their length against the local hair radius), not about pixels.

use super::grid::{pixel_centre, BinaryImage};
use crate::geometry::polyline_length;

/// Self-loops with this many pixels or fewer are pixel clutter inside a junction.
const SHORTEST_LOOP_PIXELS: usize = 4;

/// A line end or a junction (a cluster of touching skeleton pixels with three or more
/// neighbours, or several such clusters merged into one crossing).
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// Mean position of the node's pixels, in continuous pixel coordinates.
    pub centre: [f64; 2],
    /// Largest distance (px) from a node pixel to the mask background: the radius of the
    /// blob the junction sits in.
    pub radius_px: f64,
    /// Whether the node is still part of the graph.
    pub alive: bool,
}

/// A skeleton path between two nodes.
#[derive(Debug, Clone)]
pub(crate) struct Edge {
    /// Node ids at the start and the end of `path`.
    pub ends: [usize; 2],
    /// Pixel centres from the first node to the second, both end pixels included.
    pub path: Vec<[f64; 2]>,
    /// Whether the edge is still part of the graph.
    pub alive: bool,
}

impl Edge {
    /// Length of the path in pixels.
    pub fn length_px(&self) -> f64 {
        polyline_length(&self.path)
    }
}

/// The skeleton graph.
#[derive(Debug, Clone, Default)]
pub(crate) struct Graph {
    /// All nodes ever created (dead ones have `alive == false`).
    pub nodes: Vec<Node>,
    /// All edges ever created.
    pub edges: Vec<Edge>,
}

impl Graph {
    /// Builds the graph of `skeleton`; `radius_px` gives each pixel's distance to the background.
    pub fn from_skeleton(skeleton: &BinaryImage, radius_px: &[f64]) -> Self {
        let degree: Vec<usize> = (0..skeleton.data.len())
            .map(|i| {
                if skeleton.data[i] {
                    skeleton.set_neighbours(i).count()
                } else {
                    0
                }
            })
            .collect();
        let mut graph = Graph::default();
        let mut node_of: Vec<Option<usize>> = vec![None; degree.len()];
        // Junction pixels cluster into one node per 8-connected group; every end is a node.
        for start in 0..degree.len() {
            if !skeleton.data[start] || degree[start] == 2 || node_of[start].is_some() {
                continue;
            }
            let id = graph.nodes.len();
            let mut members = vec![start];
            node_of[start] = Some(id);
            let mut next = 0;
            while degree[start] >= 3 && next < members.len() {
                let i = members[next];
                next += 1;
                for j in skeleton.set_neighbours(i) {
                    if degree[j] >= 3 && node_of[j].is_none() {
                        node_of[j] = Some(id);
                        members.push(j);
                    }
                }
            }
            graph.nodes.push(node_at(skeleton.width, &members, radius_px));
        }
        let mut visited = vec![false; degree.len()];
        let node_pixels: Vec<usize> = (0..degree.len()).filter(|&i| node_of[i].is_some()).collect();
        for &i in &node_pixels {
            graph.walk_from(skeleton, i, &node_of, &mut visited);
        }
        // Closed loops without any node: make one pixel a node and walk round.
        for i in 0..degree.len() {
            if skeleton.data[i] && !visited[i] && node_of[i].is_none() {
                node_of[i] = Some(graph.nodes.len());
                graph.nodes.push(node_at(skeleton.width, &[i], radius_px));
                graph.walk_from(skeleton, i, &node_of, &mut visited);
            }
        }
        graph
    }

    /// Follows every path leaving node pixel `i` and records it as an edge.
    fn walk_from(&mut self, skeleton: &BinaryImage, i: usize, node_of: &[Option<usize>], visited: &mut [bool]) {
        let Some(from) = node_of[i] else { return };
        let width = skeleton.width;
        let neighbours: Vec<usize> = skeleton.set_neighbours(i).collect();
        for q in neighbours {
            match node_of[q] {
                Some(to) if to == from => {}
                Some(to) => {
                    if i < q {
                        self.push_edge(from, to, vec![pixel_centre(width, i), pixel_centre(width, q)]);
                    }
                }
                None if visited[q] => {}
                None => {
                    visited[q] = true;
                    let mut path = vec![pixel_centre(width, i), pixel_centre(width, q)];
                    let (mut previous, mut current) = (i, q);
                    loop {
                        let Some(next) = skeleton
                            .set_neighbours(current)
                            .find(|&j| j != previous && j != current)
                        else {
                            break;
                        };
                        path.push(pixel_centre(width, next));
                        if let Some(to) = node_of[next] {
                            self.push_edge(from, to, path);
                            break;
                        }
                        if visited[next] {
                            break;
                        }
                        visited[next] = true;
                        (previous, current) = (current, next);
                    }
                }
            }
        }
    }

    fn push_edge(&mut self, from: usize, to: usize, path: Vec<[f64; 2]>) {
        if from == to && path.len() <= SHORTEST_LOOP_PIXELS {
            return; // a corner cut inside one junction cluster, not a branch
        }
        self.edges.push(Edge {
            ends: [from, to],
            path,
            alive: true,
        });
    }

    /// Degree of every node at once (one pass over the edges; a loop counts twice).
    pub fn degrees(&self) -> Vec<usize> {
        let mut degrees = vec![0; self.nodes.len()];
        for (_, edge) in self.live_edges() {
            for &n in &edge.ends {
                degrees[n] += 1;
            }
        }
        degrees
    }

    /// Live edges with their ids.
    pub fn live_edges(&self) -> impl Iterator<Item = (usize, &Edge)> {
        self.edges.iter().enumerate().filter(|(_, e)| e.alive)
    }

    /// Removes spurs: edges from a line end to a junction no longer than `factor` × the
    /// junction's radius (or `min_px`). They are what thinning leaves at corners and flat ends
    /// of a blob. A junction keeps at least its longest edge. Returns the number removed.
    pub fn prune_spurs(&mut self, factor: f64, min_px: f64) -> usize {
        let mut removed = 0;
        for _round in 0..3 {
            let degrees = self.degrees();
            let mut candidates: Vec<(usize, usize, f64)> = Vec::new();
            for (id, edge) in self.live_edges() {
                let [a, b] = edge.ends;
                let (junction, end) = if degrees[a] >= 3 && degrees[b] == 1 {
                    (a, b)
                } else {
                    (b, a)
                };
                if degrees[junction] >= 3 && degrees[end] == 1 {
                    let length = edge.length_px();
                    if length <= (factor * self.nodes[junction].radius_px).max(min_px) {
                        candidates.push((id, junction, length));
                    }
                }
            }
            candidates.sort_by(|x, y| x.2.total_cmp(&y.2));
            let mut remaining = degrees;
            let round_removed = candidates
                .into_iter()
                .filter(|&(id, junction, _)| {
                    let keep = remaining[junction] <= 1;
                    if !keep {
                        remaining[junction] -= 1;
                        self.edges[id].alive = false;
                    }
                    !keep
                })
                .count();
            removed += round_removed;
            if round_removed == 0 {
                break;
            }
        }
        let degrees = self.degrees();
        for (node, degree) in self.nodes.iter_mut().zip(degrees) {
            if degree == 0 {
                node.alive = false;
            }
        }
        removed
    }

    /// Merges junctions joined by an edge no longer than `limits.any` × the larger of their
    /// radii, or `limits.two_hairs` × when the merged node has at most four branches (a
    /// crossing of two hairs): one crossing that thinning split into several nearby junctions.
    /// Returns the number of edges contracted.
    pub fn merge_junctions(&mut self, limits: MergeLimits) -> usize {
        let mut merged = 0;
        let mut degrees = self.degrees();
        loop {
            let found = self.live_edges().find_map(|(id, e)| {
                let [a, b] = e.ends;
                let radius = self.nodes[a].radius_px.max(self.nodes[b].radius_px);
                let two_hairs = degrees[a] + degrees[b] <= 6;
                let factor = if two_hairs {
                    limits.two_hairs.max(limits.any)
                } else {
                    limits.any
                };
                let close = e.length_px() <= factor * radius;
                (a != b && degrees[a] >= 3 && degrees[b] >= 3 && close).then_some((id, a, b))
            });
            let Some((id, keep, gone)) = found else { return merged };
            self.edges[id].alive = false;
            let (wa, wb) = (degrees[keep] as f64, degrees[gone] as f64);
            let (ca, cb) = (self.nodes[keep].centre, self.nodes[gone].centre);
            let gone_radius = self.nodes[gone].radius_px;
            let node = &mut self.nodes[keep];
            node.centre = [
                (ca[0] * wa + cb[0] * wb) / (wa + wb),
                (ca[1] * wa + cb[1] * wb) / (wa + wb),
            ];
            node.radius_px = node.radius_px.max(gone_radius);
            self.nodes[gone].alive = false;
            degrees[keep] += degrees[gone] - 2;
            degrees[gone] = 0;
            for edge in self.edges.iter_mut().filter(|e| e.alive) {
                for end in edge.ends.iter_mut().filter(|n| **n == gone) {
                    *end = keep;
                }
            }
            merged += 1;
        }
    }
}

/// How far apart (in junction radii) junctions may be and still be merged into one crossing.
#[derive(Debug, Clone, Copy)]
pub struct MergeLimits {
    /// Any junctions this close.
    pub any: f64,
    /// Junctions this close whose merged node has at most four branches.
    pub two_hairs: f64,
}

fn node_at(width: usize, members: &[usize], radius_px: &[f64]) -> Node {
    let n = members.len() as f64;
    let sum = members.iter().fold([0.0, 0.0], |s, &i| {
        let c = pixel_centre(width, i);
        [s[0] + c[0], s[1] + c[1]]
    });
    let radius = members
        .iter()
        .map(|&i| radius_px.get(i).copied().unwrap_or(0.0))
        .fold(0.0, f64::max);
    Node {
        centre: [sum[0] / n, sum[1] / n],
        radius_px: radius,
        alive: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes_of_degree(graph: &Graph, degree: usize) -> Vec<usize> {
        let degrees = graph.degrees();
        (0..degrees.len()).filter(|&n| degrees[n] == degree).collect()
    }

    fn image_from(rows: &[&str]) -> BinaryImage {
        let (width, height) = (rows[0].len(), rows.len());
        let data = rows.iter().flat_map(|r| r.chars().map(|c| c == '#')).collect();
        BinaryImage { width, height, data }
    }

    #[test]
    fn cross_gives_one_junction_and_four_ends() {
        let skeleton = image_from(&[
            "....#....",
            "....#....",
            "....#....",
            "....#....",
            "#########",
            "....#....",
            "....#....",
        ]);
        let graph = Graph::from_skeleton(&skeleton, &vec![1.0; 63]);
        assert_eq!(graph.edges.len(), 4);
        let junctions = nodes_of_degree(&graph, 4);
        assert_eq!(junctions.len(), 1);
        assert_eq!(graph.nodes[junctions[0]].centre, [4.5, 4.5]);
        let lengths: Vec<f64> = graph.edges.iter().map(Edge::length_px).collect();
        assert_eq!(
            lengths,
            vec![3.0, 3.0, 3.0, 1.0],
            "the bottom arm is mostly inside the junction cluster"
        );
    }

    #[test]
    fn closed_loop_becomes_one_self_loop() {
        let skeleton = image_from(&[".###.", "#...#", "#...#", ".###."]);
        let graph = Graph::from_skeleton(&skeleton, &[1.0; 20]);
        assert_eq!(graph.edges.len(), 1);
        assert_eq!(graph.edges[0].ends[0], graph.edges[0].ends[1]);
    }

    #[test]
    fn short_spur_is_pruned_long_branch_kept() {
        let skeleton = image_from(&[
            "...#..........",
            "...#..........",
            "...#..........",
            "..............",
            "##############",
            "...#..........",
            "...#..........",
        ]);
        // The column above the line is a separate segment; the 2 px column below is a spur.
        let mut radius = vec![1.0; skeleton.data.len()];
        radius[4 * 14 + 3] = 1.5;
        let mut graph = Graph::from_skeleton(&skeleton, &radius);
        assert_eq!(graph.prune_spurs(1.0, 0.0), 1);
        assert_eq!(
            graph.live_edges().count(),
            3,
            "the long arms and the separate column stay"
        );
        let junction = (0..graph.nodes.len())
            .find(|&n| graph.nodes[n].radius_px == 1.5)
            .unwrap();
        assert_eq!(graph.degrees()[junction], 2);
    }

    #[test]
    fn nearby_junctions_merge_into_one_crossing() {
        let skeleton = image_from(&[
            "..#......",
            "..#......",
            "..#......",
            "#########",
            "......#..",
            "......#..",
            "......#..",
        ]);
        let mut graph = Graph::from_skeleton(&skeleton, &vec![3.0; 63]);
        assert_eq!(graph.degrees().iter().filter(|&&d| d == 3).count(), 2);
        assert_eq!(
            graph.merge_junctions(MergeLimits {
                any: 2.0,
                two_hairs: 2.0
            }),
            1
        );
        let merged = nodes_of_degree(&graph, 4);
        assert_eq!(merged.len(), 1);
        assert_eq!(graph.nodes[merged[0]].centre, [4.5, 3.5]);
    }

    #[test]
    fn the_wider_two_hair_limit_merges_only_crossings_of_two_hairs() {
        let two_hairs = [
            "..#.....#..",
            "..#.....#..",
            "###########",
            "...........",
            "...........",
        ];
        let mut three_hairs = two_hairs;
        three_hairs[3] = "..#........";
        three_hairs[4] = "..#........";
        let merges = |rows: &[&str], any: f64, two_hairs: f64| {
            let mut graph = Graph::from_skeleton(&image_from(rows), &vec![1.0; 55]);
            graph.merge_junctions(MergeLimits { any, two_hairs })
        };
        // junctions 6 px apart, radius 1 px
        assert_eq!(merges(&two_hairs, 1.5, 7.0), 1);
        assert_eq!(merges(&two_hairs, 1.5, 1.5), 0);
        assert_eq!(
            merges(&three_hairs, 1.5, 7.0),
            0,
            "a four-way and a three-way junction: five branches"
        );
        assert_eq!(merges(&three_hairs, 7.0, 7.0), 1);
    }
}
