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

use std::cmp::Ordering;
use std::collections::BinaryHeap;

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
    /// Distance from the root; `f64::INFINITY` when unreachable.
    pub dist: Vec<f64>,
    /// Order in which nodes were settled; breaks ties between equal distances.
    rank: Vec<u32>,
    next_rank: u32,
    /// For each node, its set of first-hop links in `hop_sets`.
    first_hops: Vec<u32>,
    hop_sets: HopSets,
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
        other.key.cmp(&self.key).then_with(|| other.node.cmp(&self.node))
    }
}

impl PartialOrd for HeapEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl HeapEntry {
    fn new(dist: f64, node: u32) -> Self {
        HeapEntry { key: dist.to_bits(), node }
    }
    fn dist(self) -> f64 {
        f64::from_bits(self.key)
    }
}

impl Spt {
    /// Full SPF from `root` (Dijkstra with a binary heap, then one pass in settle order that
    /// derives first-hop sets).
    pub fn compute(graph: &Graph, root: u32) -> Spt {
        let n = graph.node_count();
        let mut spt = Spt {
            root,
            dist: vec![f64::INFINITY; n],
            rank: vec![u32::MAX; n],
            next_rank: 0,
            first_hops: vec![HopSets::EMPTY; n],
            hop_sets: HopSets::with_capacity(n),
        };
        if (root as usize) >= n {
            return spt;
        }
        let mut order = Vec::with_capacity(n);
        let mut heap = BinaryHeap::with_capacity(n);
        spt.dist[root as usize] = 0.0;
        heap.push(HeapEntry::new(0.0, root));
        while let Some(entry) = heap.pop() {
            let v = entry.node as usize;
            if spt.rank[v] != u32::MAX {
                continue;
            }
            spt.rank[v] = spt.next_rank;
            spt.next_rank += 1;
            order.push(entry.node);
            let d = entry.dist();
            for edge in graph.edges(entry.node) {
                let nd = d + edge.cost;
                let t = edge.to as usize;
                if nd < spt.dist[t] {
                    spt.dist[t] = nd;
                    heap.push(HeapEntry::new(nd, edge.to));
                }
            }
        }
        let mut scratch = Vec::new();
        for &v in order.iter().skip(1) {
            let set = spt.derive_first_hops(graph, v, &mut scratch);
            spt.first_hops[v as usize] = set;
        }
        spt
    }

    pub fn node_count(&self) -> usize {
        self.dist.len()
    }

    pub fn is_reachable(&self, node: u32) -> bool {
        self.dist.get(node as usize).is_some_and(|d| d.is_finite())
    }

    /// Whether `u` precedes `v` in the DAG order (distance, then settle rank).
    #[inline]
    fn before(&self, u: usize, v: usize) -> bool {
        match self.dist[u].partial_cmp(&self.dist[v]) {
            Some(Ordering::Less) => true,
            Some(Ordering::Equal) => self.rank[u] < self.rank[v],
            _ => false,
        }
    }

    /// Whether the edge `u → v` of cost `cost` lies on a shortest path to v.
    #[inline]
    fn is_dag_edge(&self, u: usize, v: usize, cost: f64) -> bool {
        self.dist[u].is_finite()
            && self.before(u, v)
            && within_tie(self.dist[u] + cost, self.dist[v])
    }

    /// Every parent of `node` in the equal-cost DAG (deduplicated, in adjacency order).
    pub fn parents(&self, graph: &Graph, node: u32) -> Vec<u32> {
        let v = node as usize;
        let mut parents = Vec::new();
        if v >= self.dist.len() || node == self.root || !self.dist[v].is_finite() {
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

    /// The links that leave the root on the shortest paths to `node`, sorted.
    pub fn first_hop_links(&self, node: u32) -> &[u32] {
        self.first_hops
            .get(node as usize)
            .map_or(&[], |&set| self.hop_sets.get(set))
    }

    /// Recomputes `v`'s first-hop set from its parents (which must be final) and returns its
    /// id, reusing a parent's set when the union equals it.
    fn derive_first_hops(&mut self, graph: &Graph, v: u32, scratch: &mut Vec<u32>) -> u32 {
        scratch.clear();
        let vi = v as usize;
        let mut single: Option<u32> = None;
        let mut merged = false;
        for edge in graph.edges(v) {
            let u = edge.to as usize;
            if !self.is_dag_edge(u, vi, edge.cost) {
                continue;
            }
            if edge.to == self.root {
                scratch.push(edge.link);
                merged = true;
                continue;
            }
            let set = self.first_hops[u];
            match single {
                None => single = Some(set),
                Some(s) if s == set => {}
                Some(_) => merged = true,
            }
            scratch.extend_from_slice(self.hop_sets.get(set));
        }
        match (single, merged) {
            (None, false) => HopSets::EMPTY,
            (Some(set), false) => set,
            _ => {
                scratch.sort_unstable();
                scratch.dedup();
                if let Some(set) = single.filter(|&s| self.hop_sets.get(s) == scratch.as_slice()) {
                    return set;
                }
                self.hop_sets.insert(scratch)
            }
        }
    }
}

#[cfg(test)]
mod tests;
