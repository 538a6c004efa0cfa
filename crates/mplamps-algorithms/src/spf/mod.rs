//! Shortest-path trees for large graphs: full and incremental SPF with ECMP.
//!
//! The graph is a compressed adjacency array ([`Graph`]); a tree ([`Spt`]) keeps every node's
//! distance, its settle rank and the set of first-hop links of all its shortest paths. Parents
//! are not stored: u is a parent of v when `dist[u] + cost(u, v)` ties `dist[v]` and u comes
//! before v (lower distance, or equal distance and earlier rank). That defines the whole
//! equal-cost DAG without enumerating paths (draft §2.2, RFC 2328 §16.1 "equal-cost paths").
//!
//! Two costs tie when they differ by at most [`TIE_EPSILON`] × max(1, |cost|): float PWRLINK
//! sums that are equal on paper stay equal after rounding.
//!
//! Zero-cost links: distances are exact, and the DAG stays acyclic by ordering equal
//! distances by settle rank. Across a zero-cost link only the node settled first passes its
//! first hops on, so a zero-cost pair does not share first hops both ways (PWRLINK is zero
//! only for a line card with no available power; IGP costs are at least 1).

mod graph;
mod hopsets;
mod incremental;

pub use graph::{Edge, Graph};
pub use hopsets::HopSets;
pub use incremental::Update;

use std::cmp::{Ordering, Reverse};

use radix_heap::RadixHeapMap;

/// Relative tolerance under which two path costs are equal (see the module docs).
pub const TIE_EPSILON: f64 = 1e-9;

/// True when cost `a` ties cost `b` or is below it (never for an infinite `a`).
#[inline]
pub fn within_tie(a: f64, b: f64) -> bool {
    a.is_finite() && a <= b + TIE_EPSILON * b.abs().max(1.0)
}

/// A shortest-path tree (DAG with ECMP) rooted at one node.
#[derive(Debug, Clone)]
pub struct Spt {
    pub root: u32,
    nodes: Vec<NodeState>,
    next_rank: u32,
    hop_sets: HopSets,
}

/// What the tree knows of one node, kept together so that relaxing an edge touches one
/// cache line.
#[derive(Debug, Clone, Copy)]
struct NodeState {
    /// Distance from the root; `f64::INFINITY` when unreachable.
    dist: f64,
    /// Order in which the node was settled (`u32::MAX`: not yet); breaks distance ties.
    rank: u32,
    /// The node's set of first-hop links in `hop_sets`.
    first_hops: u32,
}

impl NodeState {
    const UNREACHED: NodeState = NodeState {
        dist: f64::INFINITY,
        rank: u32::MAX,
        first_hops: HopSets::EMPTY,
    };
}

/// A binary-heap entry ordered by smallest key first. Distances are non-negative, so their
/// IEEE bit patterns order like the numbers.
#[derive(Clone, Copy, PartialEq, Eq)]
struct HeapEntry {
    key: u64,
    node: u32,
}

impl Ord for HeapEntry {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .key
            .cmp(&self.key)
            .then_with(|| other.node.cmp(&self.node))
    }
}

impl PartialOrd for HeapEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl HeapEntry {
    fn new(dist: f64, node: u32) -> Self {
        HeapEntry {
            key: dist.to_bits(),
            node,
        }
    }
}

impl Spt {
    /// Full SPF from `root`: Dijkstra with a radix heap (distances only grow, so a monotone
    /// queue is exact), deriving each node's first-hop set when it is settled — all of its
    /// parents are settled before it, so one pass over the edges does both jobs.
    pub fn compute(graph: &Graph, root: u32) -> Spt {
        let n = graph.node_count();
        let mut spt = Spt {
            root,
            nodes: vec![NodeState::UNREACHED; n],
            next_rank: 0,
            hop_sets: HopSets::with_capacity(n),
        };
        if (root as usize) >= n {
            return spt;
        }
        let mut heap: RadixHeapMap<Reverse<u64>, u32> = RadixHeapMap::new_at(Reverse(0));
        let mut scratch = Vec::new();
        spt.nodes[root as usize].dist = 0.0;
        heap.push(Reverse(0f64.to_bits()), root);
        while let Some((Reverse(key), node)) = heap.pop() {
            let v = node as usize;
            if spt.nodes[v].rank != u32::MAX || key != spt.nodes[v].dist.to_bits() {
                continue;
            }
            spt.nodes[v].rank = spt.next_rank;
            spt.next_rank += 1;
            let d = spt.nodes[v].dist;
            let mut hops = FirstHopCollector::default();
            scratch.clear();
            for edge in graph.edges(node) {
                let t = edge.to as usize;
                if spt.nodes[t].rank != u32::MAX {
                    // Settled before v: a parent when the edge ties v's distance.
                    if v != root as usize && within_tie(spt.nodes[t].dist + edge.cost, d) {
                        hops.add(&spt, edge.to, edge.link, &mut scratch);
                    }
                    continue;
                }
                let nd = d + edge.cost;
                if nd < spt.nodes[t].dist {
                    spt.nodes[t].dist = nd;
                    heap.push(Reverse(nd.to_bits()), edge.to);
                }
            }
            if v != root as usize {
                spt.nodes[v].first_hops = hops.finish(&mut spt.hop_sets, &mut scratch);
            }
        }
        spt
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_reachable(&self, node: u32) -> bool {
        self.dist(node).is_finite()
    }

    /// Distance from the root; `f64::INFINITY` when unreachable or not a node.
    pub fn dist(&self, node: u32) -> f64 {
        self.nodes
            .get(node as usize)
            .map_or(f64::INFINITY, |s| s.dist)
    }

    /// Every node's distance, in node order.
    pub fn distances(&self) -> impl Iterator<Item = f64> + '_ {
        self.nodes.iter().map(|s| s.dist)
    }

    /// Whether `u` precedes `v` in the DAG order (distance, then settle rank).
    #[inline]
    fn before(&self, u: usize, v: usize) -> bool {
        match self.nodes[u].dist.partial_cmp(&self.nodes[v].dist) {
            Some(Ordering::Less) => true,
            Some(Ordering::Equal) => self.nodes[u].rank < self.nodes[v].rank,
            _ => false,
        }
    }

    /// Whether the edge `u → v` of cost `cost` lies on a shortest path to v.
    #[inline]
    fn is_dag_edge(&self, u: usize, v: usize, cost: f64) -> bool {
        self.nodes[u].dist.is_finite()
            && self.before(u, v)
            && within_tie(self.nodes[u].dist + cost, self.nodes[v].dist)
    }

    /// Every parent of `node` in the equal-cost DAG (deduplicated, in adjacency order).
    pub fn parents(&self, graph: &Graph, node: u32) -> Vec<u32> {
        let v = node as usize;
        let mut parents = Vec::new();
        if v >= self.nodes.len() || node == self.root || !self.nodes[v].dist.is_finite() {
            return parents;
        }
        // Links are symmetric, so v's in-edges are its out-edges reversed.
        for edge in graph.edges(node) {
            if self.is_dag_edge(edge.to as usize, v, edge.cost) && !parents.contains(&edge.to) {
                parents.push(edge.to);
            }
        }
        parents
    }

    /// The edges from `node` to its parents, one per link (parallel links each count): with
    /// the tree rooted at a destination, the links `node` forwards on toward it.
    pub fn parent_edges<'a>(
        &'a self,
        graph: &'a Graph,
        node: u32,
    ) -> impl Iterator<Item = Edge> + 'a {
        let v = node as usize;
        let usable = v < self.nodes.len() && node != self.root && self.nodes[v].dist.is_finite();
        graph
            .edges(node)
            .iter()
            .copied()
            .filter(move |edge| usable && self.is_dag_edge(edge.to as usize, v, edge.cost))
    }

    /// The reachable nodes in the order they were settled: every node after its parents.
    pub fn settle_order(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.nodes.len() as u32)
            .filter(|&v| self.nodes[v as usize].rank != u32::MAX)
            .collect();
        order.sort_unstable_by_key(|&v| self.nodes[v as usize].rank);
        order
    }

    /// The links that leave the root on the shortest paths to `node`, sorted.
    pub fn first_hop_links(&self, node: u32) -> &[u32] {
        self.nodes
            .get(node as usize)
            .map_or(&[], |s| self.hop_sets.get(s.first_hops))
    }

    /// Recomputes `v`'s first-hop set from its parents (which must be final) and returns its
    /// id, reusing a parent's set when the union equals it.
    fn derive_first_hops(&mut self, graph: &Graph, v: u32, scratch: &mut Vec<u32>) -> u32 {
        let mut hops = FirstHopCollector::default();
        scratch.clear();
        for edge in graph.edges(v) {
            if self.is_dag_edge(edge.to as usize, v as usize, edge.cost) {
                hops.add(self, edge.to, edge.link, scratch);
            }
        }
        hops.finish(&mut self.hop_sets, scratch)
    }
}

/// Unites the first-hop sets of a node's parents: a link from the root itself, or the set of a
/// parent. A node with one parent (the common case) shares that parent's set.
#[derive(Default)]
struct FirstHopCollector {
    single: Option<u32>,
    merged: bool,
}

impl FirstHopCollector {
    #[inline]
    fn add(&mut self, spt: &Spt, parent: u32, link: u32, scratch: &mut Vec<u32>) {
        if parent == spt.root {
            self.start_merging(spt, scratch);
            scratch.push(link);
            return;
        }
        let set = spt.nodes[parent as usize].first_hops;
        match self.single {
            // The common case, one parent: its set is shared, not copied.
            None if !self.merged => self.single = Some(set),
            Some(s) if s == set => {}
            _ => {
                self.start_merging(spt, scratch);
                self.single.get_or_insert(set);
                scratch.extend_from_slice(spt.hop_sets.get(set));
            }
        }
    }

    /// Switches from sharing one parent's set to building a union in `scratch`.
    fn start_merging(&mut self, spt: &Spt, scratch: &mut Vec<u32>) {
        if !self.merged {
            if let Some(s) = self.single {
                scratch.extend_from_slice(spt.hop_sets.get(s));
            }
            self.merged = true;
        }
    }

    fn finish(self, hop_sets: &mut HopSets, scratch: &mut Vec<u32>) -> u32 {
        match (self.single, self.merged) {
            (None, false) => HopSets::EMPTY,
            (Some(set), false) => set,
            _ => {
                scratch.sort_unstable();
                scratch.dedup();
                if let Some(set) = self
                    .single
                    .filter(|&s| hop_sets.get(s) == scratch.as_slice())
                {
                    return set;
                }
                hop_sets.insert(scratch)
            }
        }
    }
}

#[cfg(test)]
mod tests;
