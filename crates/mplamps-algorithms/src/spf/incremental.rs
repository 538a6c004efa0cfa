//! Incremental SPF after one link's cost changes (a dynamic-SPT update in the manner of
//! Narváez et al., "New dynamic algorithms for shortest path tree computation", 2000).
//!
//! - Cost up (or link down): only the nodes below the link in the equal-cost DAG can change.
//!   They are reset, seeded from their unaffected neighbours and settled again.
//! - Cost down (or link up): a Dijkstra wave starts at the link's far end and spreads only
//!   while distances drop or first-hop sets change.
//!
//! Both need every link to cost clearly more than the tie tolerance at the tree's largest
//! distance, so that the DAG order is the distance order; otherwise (zero-cost links, say)
//! the update falls back to a full SPF, which is always correct.

use std::collections::BinaryHeap;

use super::{Graph, HeapEntry, HopSets, Spt, TIE_EPSILON};

/// What an update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Update {
    /// Nodes whose distance or first hops were recomputed.
    pub recomputed: usize,
    /// True when the update ran a full SPF instead.
    pub full: bool,
}

/// Hop-set garbage allowed, per node, before an update compacts by a full SPF.
const HOP_SET_GARBAGE_PER_NODE: usize = 8;

impl Spt {
    /// Sets `link`'s cost in `graph` (both directions) and brings the tree up to date.
    /// A non-finite or negative cost takes the link out of use.
    pub fn update_link_cost(&mut self, graph: &mut Graph, link: u32, cost: f64) -> Update {
        let Some((a, b, old)) = graph.link(link) else {
            return Update {
                recomputed: 0,
                full: false,
            };
        };
        let new = if cost.is_finite() && cost >= 0.0 {
            cost
        } else {
            f64::INFINITY
        };
        if new.to_bits() == old.to_bits() {
            return Update {
                recomputed: 0,
                full: false,
            };
        }
        let scale = self.max_dist().max(1.0);
        let too_small = 4.0 * TIE_EPSILON * scale;
        if new <= too_small
            || graph.min_cost() <= too_small
            || self.hop_sets.stored() > HOP_SET_GARBAGE_PER_NODE * self.node_count() + 4096
        {
            graph.set_cost(link, new);
            *self = Spt::compute(graph, self.root);
            return Update {
                recomputed: self.node_count(),
                full: true,
            };
        }
        let recomputed = if new > old {
            self.cost_increased(graph, link, [a, b], old, new)
        } else {
            graph.set_cost(link, new);
            self.cost_decreased(graph, [a, b], new)
        };
        Update {
            recomputed,
            full: false,
        }
    }

    fn max_dist(&self) -> f64 {
        self.distances()
            .filter(|d| d.is_finite())
            .fold(0.0, f64::max)
    }

    fn cost_increased(
        &mut self,
        graph: &mut Graph,
        link: u32,
        ends: [u32; 2],
        old: f64,
        new: f64,
    ) -> usize {
        let n = self.node_count();
        let [a, b] = ends;
        let mut affected: Vec<u32> = Vec::new();
        let mut in_affected = vec![false; n];
        for (p, q) in [(a, b), (b, a)] {
            if self.is_dag_edge(p as usize, q as usize, old) && !in_affected[q as usize] {
                in_affected[q as usize] = true;
                affected.push(q);
            }
        }
        if affected.is_empty() {
            graph.set_cost(link, new);
            return 0;
        }
        // Everything below the link in the DAG (old costs) may move.
        let mut next = 0;
        while let Some(&x) = affected.get(next) {
            next += 1;
            for edge in graph.edges(x) {
                let y = edge.to as usize;
                if !in_affected[y] && self.is_dag_edge(x as usize, y, edge.cost) {
                    in_affected[y] = true;
                    affected.push(edge.to);
                }
            }
        }
        graph.set_cost(link, new);
        for &x in &affected {
            self.nodes[x as usize].dist = f64::INFINITY;
            self.nodes[x as usize].rank = u32::MAX;
            self.nodes[x as usize].first_hops = HopSets::EMPTY;
        }
        let mut heap = BinaryHeap::with_capacity(affected.len());
        for &x in &affected {
            let best = graph
                .edges(x)
                .iter()
                .filter(|e| !in_affected[e.to as usize])
                .map(|e| self.nodes[e.to as usize].dist + e.cost)
                .fold(f64::INFINITY, f64::min);
            if best.is_finite() {
                self.nodes[x as usize].dist = best;
                heap.push(HeapEntry::new(best, x));
            }
        }
        let mut order = Vec::with_capacity(affected.len());
        while let Some(entry) = heap.pop() {
            let x = entry.node as usize;
            if self.nodes[x].rank != u32::MAX || entry.key != self.nodes[x].dist.to_bits() {
                continue;
            }
            self.nodes[x].rank = self.next_rank;
            self.next_rank += 1;
            order.push(entry.node);
            for edge in graph.edges(entry.node) {
                let y = edge.to as usize;
                let nd = self.nodes[x].dist + edge.cost;
                if in_affected[y] && self.nodes[y].rank == u32::MAX && nd < self.nodes[y].dist {
                    self.nodes[y].dist = nd;
                    heap.push(HeapEntry::new(nd, edge.to));
                }
            }
        }
        let mut scratch = Vec::new();
        for &x in &order {
            let set = self.derive_first_hops(graph, x, &mut scratch);
            self.nodes[x as usize].first_hops = set;
        }
        affected.len()
    }

    fn cost_decreased(&mut self, graph: &Graph, ends: [u32; 2], new: f64) -> usize {
        let n = self.node_count();
        let [a, b] = ends;
        let mut heap = BinaryHeap::new();
        let mut improved = vec![false; n];
        let mut done = vec![false; n];
        for (p, q) in [(a, b), (b, a)] {
            let (p, q) = (p as usize, q as usize);
            let nd = self.nodes[p].dist + new;
            if !self.nodes[p].dist.is_finite() || q == self.root as usize {
                continue;
            }
            if nd < self.nodes[q].dist {
                self.nodes[q].dist = nd;
                improved[q] = true;
                heap.push(HeapEntry::new(nd, q as u32));
            } else if super::within_tie(nd, self.nodes[q].dist) {
                heap.push(HeapEntry::new(self.nodes[q].dist, q as u32));
            }
        }
        let mut recomputed = 0;
        let mut scratch = Vec::new();
        while let Some(entry) = heap.pop() {
            let x = entry.node as usize;
            if done[x] || entry.key != self.nodes[x].dist.to_bits() {
                continue;
            }
            done[x] = true;
            recomputed += 1;
            self.nodes[x].rank = self.next_rank;
            self.next_rank += 1;
            let old_set = self.nodes[x].first_hops;
            let new_set = self.derive_first_hops(graph, entry.node, &mut scratch);
            self.nodes[x].first_hops = new_set;
            let hops_changed =
                new_set != old_set && self.hop_sets.get(new_set) != self.hop_sets.get(old_set);
            for edge in graph.edges(entry.node) {
                let y = edge.to as usize;
                if done[y] || y == self.root as usize {
                    continue;
                }
                let nd = self.nodes[x].dist + edge.cost;
                if nd < self.nodes[y].dist {
                    self.nodes[y].dist = nd;
                    improved[y] = true;
                    heap.push(HeapEntry::new(nd, edge.to));
                } else if (hops_changed || improved[x]) && super::within_tie(nd, self.nodes[y].dist)
                {
                    heap.push(HeapEntry::new(self.nodes[y].dist, edge.to));
                }
            }
        }
        recomputed
    }
}
