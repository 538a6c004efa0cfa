//! The regular and the power shortest-path trees of a network, and their reports.
//!
//! Regular tree: IGP cost of each link. Power tree: PWRLINK, over the links of the power
//! topology only (draft §2.4). Both directions of a link cost the same.

use std::collections::BTreeSet;
use std::time::Instant;

use serde::Serialize;

use crate::power::Metrics;
use crate::topology::Network;
use mplamps_algorithms::spf::{Graph, Spt};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TreeKind {
    Regular,
    Power,
}

impl TreeKind {
    pub fn name(self) -> &'static str {
        match self {
            TreeKind::Regular => "regular",
            TreeKind::Power => "power",
        }
    }
}

/// The SPF graph of one tree kind: node i is router i, link i is `net.links[i]`.
pub fn graph(net: &Network, metrics: &Metrics, kind: TreeKind) -> Graph {
    let links: Vec<(u32, u32, f64)> = net
        .links
        .iter()
        .enumerate()
        .map(|(i, link)| {
            let cost = match kind {
                TreeKind::Regular => f64::from(link.metric),
                TreeKind::Power => metrics
                    .links
                    .get(i)
                    .filter(|m| m.in_power_topology)
                    .and_then(|m| m.pwrlink)
                    .unwrap_or(f64::INFINITY),
            };
            (link.a.router as u32, link.b.router as u32, cost)
        })
        .collect();
    Graph::new(net.routers.len(), &links)
}

/// One first-hop link and its share of the traffic under UCMP (draft §2.2): shares are
/// proportional to the first-hop links' available bandwidth (equal when none has any).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FirstHop {
    pub link: String,
    pub next_hop: String,
    pub weight: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeReport {
    pub name: String,
    #[serde(serialize_with = "crate::json_float::serialize")]
    pub distance: f64,
    pub parents: Vec<String>,
    pub next_hops: Vec<String>,
    pub first_hops: Vec<FirstHop>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TreeReport {
    pub root: String,
    pub tree: TreeKind,
    pub nodes: Vec<NodeReport>,
    pub unreachable: Vec<String>,
    /// Time of the tree computation alone, in milliseconds.
    pub compute_ms: f64,
    /// Links on some shortest path (the equal-cost DAG), as indices into `net.links`.
    #[serde(skip)]
    pub dag_links: BTreeSet<usize>,
}

/// Computes one tree from `root` and describes it.
pub fn compute(net: &Network, metrics: &Metrics, kind: TreeKind, root: usize) -> TreeReport {
    let graph = graph(net, metrics, kind);
    let started = Instant::now();
    let spt = Spt::compute(&graph, root as u32);
    let compute_ms = started.elapsed().as_secs_f64() * 1e3;
    report(net, &graph, &spt, kind, compute_ms)
}

/// Names for a tree report: what node i and link i are called, and each link's ends and
/// available bandwidth (for UCMP shares). The topology file and a router's TE database
/// both provide them.
pub trait TreeLabels {
    fn node_count(&self) -> usize;
    fn node_name(&self, node: usize) -> String;
    /// Name, end a, end b and available bandwidth (bit/s) of link `link`.
    fn link(&self, link: usize) -> Option<(String, usize, usize, f64)>;
}

impl TreeLabels for Network {
    fn node_count(&self) -> usize {
        self.routers.len()
    }

    fn node_name(&self, node: usize) -> String {
        self.routers
            .get(node)
            .map_or_else(String::new, |r| r.name.clone())
    }

    fn link(&self, link: usize) -> Option<(String, usize, usize, f64)> {
        let l = self.links.get(link)?;
        // The value OSPF-TE advertises (quantized, IEEE float), as every router sees it.
        let advertised = l.available.floor_to(self.bandwidth_quantum).to_wire_f32();
        let available = mplamps_core::Bandwidth::from_wire_f32(advertised).map_or(0.0, |b| b.bps());
        Some((l.name.clone(), l.a.router, l.b.router, available))
    }
}

/// Describes a computed tree in the network's names.
pub fn report(
    net: &Network,
    graph: &Graph,
    spt: &Spt,
    kind: TreeKind,
    compute_ms: f64,
) -> TreeReport {
    report_with(net, graph, spt, kind, compute_ms)
}

/// Describes a computed tree with the names `labels` gives.
pub fn report_with(
    labels: &impl TreeLabels,
    graph: &Graph,
    spt: &Spt,
    kind: TreeKind,
    compute_ms: f64,
) -> TreeReport {
    let root = spt.root as usize;
    let name = |i: usize| labels.node_name(i);
    let mut nodes = Vec::new();
    let mut unreachable = Vec::new();
    let mut dag_links = BTreeSet::new();
    for v in 0..labels.node_count() {
        if v == root {
            continue;
        }
        if !spt.is_reachable(v as u32) {
            unreachable.push(name(v));
            continue;
        }
        let parents = spt.parents(graph, v as u32);
        for edge in graph.edges(v as u32) {
            if parents.contains(&edge.to)
                && mplamps_algorithms::spf::within_tie(
                    spt.dist(edge.to) + edge.cost,
                    spt.dist(v as u32),
                )
            {
                dag_links.insert(edge.link as usize);
            }
        }
        let mut first_hops = first_hops(labels, spt.first_hop_links(v as u32), root);
        first_hops.sort_by(|a, b| a.link.cmp(&b.link));
        let mut next_hops: Vec<String> = first_hops.iter().map(|h| h.next_hop.clone()).collect();
        next_hops.sort();
        next_hops.dedup();
        let mut parents: Vec<String> = parents.into_iter().map(|p| name(p as usize)).collect();
        parents.sort();
        nodes.push(NodeReport {
            name: name(v),
            distance: spt.dist(v as u32),
            parents,
            next_hops,
            first_hops,
        });
    }
    TreeReport {
        root: name(root),
        tree: kind,
        nodes,
        unreachable,
        compute_ms,
        dag_links,
    }
}

fn first_hops(labels: &impl TreeLabels, links: &[u32], root: usize) -> Vec<FirstHop> {
    let known: Vec<(String, usize, usize, f64)> = links
        .iter()
        .filter_map(|&l| labels.link(l as usize))
        .collect();
    let total: f64 = known.iter().map(|l| l.3).sum();
    known
        .iter()
        .map(|(name, a, b, avail)| {
            let far = if *a == root { *b } else { *a };
            let weight = if total > 0.0 {
                avail / total
            } else {
                1.0 / known.len() as f64
            };
            FirstHop {
                link: name.clone(),
                next_hop: labels.node_name(far),
                weight,
            }
        })
        .collect()
}
