//! Constrained shortest path first over the TE graph (RFC 3471 constraints, RFC 4203 link
//! attributes): bandwidth at a setup priority, switching type and encoding, the requested
//! link protection, label continuity across routers that cannot convert labels (wavelength
//! continuity, RFC 3471 §3.5; first fit), excluded links and SRLGs, explicit hops with pinned
//! labels (§6), and disjoint secondaries (§7). Objectives: TE metric, power (PWRLINK), hops.
//!
//! One Dijkstra over (explicit-route stage, node, label class) states, never an enumeration of
//! paths. Label classes are the elementary intervals cut by every label set's boundaries:
//! all labels of one interval are free on exactly the same links, so one class stands for
//! them all and the search stays exact with large label ranges.

mod graph;
mod search;
#[cfg(test)]
mod tests;

use mplamps_core::gmpls::{LabelSet, LspEncoding, SwitchingType};
use serde::Serialize;

pub use graph::{PRIORITIES, TeGraph, TeLink, TeNode};

/// What a path minimizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Objective {
    #[default]
    TeMetric,
    /// PWRLINK, the power topology's metric (draft §2); links outside it are not used.
    Power,
    Hops,
}

impl Objective {
    pub fn from_name(name: &str) -> Option<Objective> {
        Some(match name {
            "te-metric" => Objective::TeMetric,
            "power" => Objective::Power,
            "hops" => Objective::Hops,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Objective::TeMetric => "te-metric",
            Objective::Power => "power",
            Objective::Hops => "hops",
        }
    }
}

/// A hop the path must visit, with labels pinned on the link leaving it (RFC 3471 §6).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExplicitHop {
    pub node: usize,
    /// Loose: any route may lead here; strict: the previous hop links here directly.
    pub loose: bool,
    pub label: Option<u32>,
    pub upstream_label: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PathRequest {
    pub from: usize,
    pub to: usize,
    pub bandwidth_bps: f64,
    pub setup_priority: u8,
    /// Every link must have this switching type (RFC 3471 §3.1.1); `None`: any.
    pub switching: Option<SwitchingType>,
    pub encoding: Option<LspEncoding>,
    /// Requested link protection (RFC 3471 §7.1 flags); a link qualifies when it offers a
    /// type at least as strong as the weakest one requested (RFC 4202 §2.2 ordering).
    pub link_protection: u8,
    /// The ingress's label set (RFC 3471 §3.5): labels outside it are never chosen.
    pub label_set: Option<LabelSet>,
    /// Resources in the reverse direction too, same label both ways (RFC 3471 §4).
    pub bidirectional: bool,
    pub explicit: Vec<ExplicitHop>,
    pub exclude_links: Vec<usize>,
    /// Directed TE links (indices into [`TeGraph::links`]) to avoid in that direction only.
    pub exclude_directed: Vec<usize>,
    pub exclude_srlgs: Vec<u32>,
    pub objective: Objective,
}

/// A computed path: nodes from ingress to egress, the directed links between them, and the
/// label chosen on each link (`None` on links that allocate their own labels).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComputedPath {
    pub nodes: Vec<usize>,
    pub links: Vec<usize>,
    pub labels: Vec<Option<u32>>,
    pub cost: f64,
}

impl ComputedPath {
    pub fn is_simple(&self) -> bool {
        self.repeated_node().is_none()
    }

    fn repeated_node(&self) -> Option<usize> {
        let mut seen = std::collections::HashSet::new();
        self.nodes.iter().copied().find(|n| !seen.insert(*n))
    }
}

/// Which constraint left no path, in the order the diagnosis adds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Constraint {
    Topology,
    ExplicitRoute,
    SwitchingType,
    Encoding,
    Protection,
    Exclusion,
    Objective,
    Bandwidth,
    LabelContinuity,
    Disjointness,
}

/// No path: the constraint that failed and where (a link or node on the best path that the
/// looser constraints still allowed).
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{reason}")]
pub struct Infeasible {
    pub constraint: Constraint,
    pub at: Option<String>,
    pub reason: String,
}

/// The best path for `req`, or the first constraint (in the order of [`Constraint`]) that
/// rules every path out, with the element where it bit.
pub fn compute(graph: &TeGraph, req: &PathRequest) -> Result<ComputedPath, Infeasible> {
    match search::search(graph, req, Constraint::LabelContinuity) {
        Some(path) if path.is_simple() => Ok(path),
        // The state space is (node, label); only a label detour through a converter can make
        // the best walk revisit a router, and an LSP cannot loop.
        Some(walk) => untangle(graph, req, walk),
        None => Err(search::diagnose(graph, req)),
    }
}

/// Searches a loop-free path when the best walk loops. The state space is (node, label), so
/// the best walk can pass a router twice when a label converter (or a packet link, which
/// relabels) lets it fetch a label elsewhere; an LSP cannot loop. Each round bans, one at a
/// time, the links of the loop and searches again, within a budget of searches; the cheapest
/// loop-free result wins.
fn untangle(
    graph: &TeGraph,
    req: &PathRequest,
    walk: ComputedPath,
) -> Result<ComputedPath, Infeasible> {
    const BUDGET: usize = 64;
    let looped_at = walk
        .repeated_node()
        .and_then(|n| graph.nodes.get(n))
        .map(|n| n.name.clone());
    let mut queue = std::collections::VecDeque::from([(req.clone(), walk)]);
    let mut searches = 0;
    let mut best: Option<ComputedPath> = None;
    while let Some((base, walk)) = queue.pop_front() {
        let Some(repeat) = walk.repeated_node() else {
            continue;
        };
        let first = walk.nodes.iter().position(|&n| n == repeat).unwrap_or(0);
        let again = walk.nodes.iter().rposition(|&n| n == repeat).unwrap_or(0);
        for &id in walk.links.get(first..again).unwrap_or(&[]) {
            if searches == BUDGET {
                break;
            }
            searches += 1;
            let mut banned = base.clone();
            banned.exclude_directed.push(id);
            match search::search(graph, &banned, Constraint::LabelContinuity) {
                Some(p) if p.is_simple() && best.as_ref().is_none_or(|b| p.cost < b.cost) => {
                    best = Some(p);
                }
                Some(p) if !p.is_simple() => queue.push_back((banned, p)),
                Some(_) => {}
                None => {}
            }
        }
    }
    best.ok_or(Infeasible {
        constraint: Constraint::LabelContinuity,
        at: looped_at,
        reason: "only a path that passes a router twice meets the label constraints".into(),
    })
}

/// How a secondary must avoid its primary (RFC 3471 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Disjointness {
    Link,
    Srlg,
}

/// A secondary path for `req` that shares no link (and, for SRLG, no risk group) with
/// `primary`. The primary's transit nodes stay allowed: link protection, not node.
pub fn compute_secondary(
    graph: &TeGraph,
    req: &PathRequest,
    primary: &ComputedPath,
    how: Disjointness,
) -> Result<ComputedPath, Infeasible> {
    let mut req = req.clone();
    for &id in &primary.links {
        if let Some(l) = graph.links.get(id) {
            req.exclude_links.push(l.link);
            if how == Disjointness::Srlg {
                req.exclude_srlgs.extend(l.srlg.iter().copied());
            }
        }
    }
    compute(graph, &req).map_err(|e| Infeasible {
        constraint: Constraint::Disjointness,
        at: e.at,
        reason: format!(
            "no {} secondary disjoint from the primary: {}",
            match how {
                Disjointness::Link => "link-",
                Disjointness::Srlg => "SRLG-",
            },
            e.reason
        ),
    })
}
