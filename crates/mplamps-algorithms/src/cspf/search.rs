//! The constrained Dijkstra and the diagnosis of infeasible requests.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::graph::TeLink;
use super::{ComputedPath, Constraint, ExplicitHop, Infeasible, Objective, PathRequest, TeGraph};

/// Searches apply constraints up to a level, in the order of [`Constraint`]; each level adds
/// one to those below it, and `LabelContinuity` applies them all. The diagnosis finds the
/// first level with no path.
const LEVELS: [Constraint; 9] = [
    Constraint::Topology,
    Constraint::ExplicitRoute,
    Constraint::SwitchingType,
    Constraint::Encoding,
    Constraint::Protection,
    Constraint::Exclusion,
    Constraint::Objective,
    Constraint::Bandwidth,
    Constraint::LabelContinuity,
];

fn link_passes(
    g: &TeGraph,
    req: &PathRequest,
    id: usize,
    link: &TeLink,
    level: Constraint,
) -> bool {
    if !link.up {
        return false;
    }
    if level >= Constraint::SwitchingType && req.switching.is_some_and(|s| s != link.switching) {
        return false;
    }
    if level >= Constraint::Encoding && req.encoding.is_some_and(|e| e != link.encoding) {
        return false;
    }
    if level >= Constraint::Protection && !link.protection.satisfies(req.link_protection) {
        return false;
    }
    if level >= Constraint::Exclusion
        && (req.exclude_links.contains(&link.link)
            || req.exclude_directed.contains(&id)
            || link.srlg.iter().any(|s| req.exclude_srlgs.contains(s)))
    {
        return false;
    }
    if level >= Constraint::Objective
        && req.objective == Objective::Power
        && !link.power_cost.is_finite()
    {
        return false;
    }
    if level >= Constraint::Bandwidth {
        if !link.fits(req.bandwidth_bps, req.setup_priority) {
            return false;
        }
        if req.bidirectional {
            let back = g.reverse(id).and_then(|r| g.links.get(r));
            if !back.is_some_and(|b| b.up && b.fits(req.bandwidth_bps, req.setup_priority)) {
                return false;
            }
        }
    }
    true
}

fn cost(req: &PathRequest, link: &TeLink, level: Constraint) -> f64 {
    match req.objective {
        Objective::TeMetric => f64::from(link.te_metric),
        Objective::Power if level >= Constraint::Objective => link.power_cost,
        Objective::Power => f64::from(link.te_metric),
        Objective::Hops => 1.0,
    }
}

/// Elementary label intervals: starts of intervals, sorted; interval i is
/// `starts[i] ..= starts[i + 1] - 1`.
struct LabelClasses {
    starts: Vec<u64>,
}

impl LabelClasses {
    fn new(g: &TeGraph, req: &PathRequest) -> LabelClasses {
        let mut points: Vec<u64> = Vec::new();
        let mut add_set = |set: &mplamps_core::gmpls::LabelSet| {
            for &(a, b) in set.ranges() {
                points.push(u64::from(a));
                points.push(u64::from(b) + 1);
            }
        };
        for l in &g.links {
            if let Some(set) = &l.labels {
                add_set(set);
            }
        }
        if let Some(set) = &req.label_set {
            add_set(set);
        }
        for h in &req.explicit {
            for label in [h.label, h.upstream_label].into_iter().flatten() {
                points.push(u64::from(label));
                points.push(u64::from(label) + 1);
            }
        }
        points.sort_unstable();
        points.dedup();
        LabelClasses { starts: points }
    }

    fn count(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    fn first_label(&self, class: usize) -> Option<u32> {
        self.starts.get(class).and_then(|&s| u32::try_from(s).ok())
    }

    /// Classes wholly inside `set` (all of them are, or none: the boundaries cut there).
    fn inside(&self, set: &mplamps_core::gmpls::LabelSet) -> Vec<usize> {
        let mut out = Vec::new();
        for &(a, b) in set.ranges() {
            let lo = self.starts.partition_point(|&s| s < u64::from(a));
            let hi = self.starts.partition_point(|&s| s <= u64::from(b));
            out.extend(lo..hi.min(self.count()));
        }
        out
    }
}

/// Heap order: cost, then fewer hops, then the lower label (first fit), then the state.
#[derive(Clone, Copy, PartialEq)]
struct Key(f64, u32, u32, usize);

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .total_cmp(&other.0)
            .then(self.1.cmp(&other.1))
            .then(self.2.cmp(&other.2))
            .then(self.3.cmp(&other.3))
    }
}

/// The waypoints after the ingress, and labels pinned on the ingress's first link.
fn waypoints(req: &PathRequest, level: Constraint) -> (Vec<ExplicitHop>, Option<&ExplicitHop>) {
    if level < Constraint::ExplicitRoute {
        return (Vec::new(), None);
    }
    match req.explicit.split_first() {
        Some((first, rest)) if first.node == req.from => (rest.to_vec(), Some(first)),
        _ => (req.explicit.clone(), None),
    }
}

pub(super) fn search(g: &TeGraph, req: &PathRequest, level: Constraint) -> Option<ComputedPath> {
    let n = g.nodes.len();
    if req.from >= n || req.to >= n || req.from == req.to {
        return None;
    }
    let (stops, ingress_pins) = waypoints(req, level);
    let stages = stops.len() + 1;
    let labels_on = level >= Constraint::LabelContinuity;
    let classes = if labels_on {
        LabelClasses::new(g, req)
    } else {
        LabelClasses { starts: Vec::new() }
    };
    let free = classes.count();
    let per_node = free + 1;
    let allowed: Vec<Option<Vec<usize>>> = if labels_on {
        g.links
            .iter()
            .enumerate()
            .map(|(id, l)| {
                let set = l.labels.as_ref()?;
                let mut set = set.clone();
                if let Some(own) = &req.label_set {
                    set = set.intersection(own);
                }
                if req.bidirectional
                    && let Some(back) = g
                        .reverse(id)
                        .and_then(|r| g.links.get(r))
                        .and_then(|b| b.labels.as_ref())
                {
                    set = set.intersection(back);
                }
                Some(classes.inside(&set))
            })
            .collect()
    } else {
        vec![None; g.links.len()]
    };

    let index = |stage: usize, node: usize, class: usize| (stage * n + node) * per_node + class;
    let total = stages * n * per_node;
    let mut dist = vec![(f64::INFINITY, u32::MAX); total];
    let mut parent: Vec<Option<(usize, usize)>> = vec![None; total];
    let mut heap = BinaryHeap::new();
    let start = index(0, req.from, free);
    dist[start] = (0.0, 0);
    heap.push(Reverse(Key(0.0, 0, u32::MAX, start)));
    let mut best: Option<usize> = None;

    while let Some(Reverse(Key(d, hops, _, state))) = heap.pop() {
        if (d, hops) != dist[state] {
            continue;
        }
        let class = state % per_node;
        let node = (state / per_node) % n;
        let stage = state / per_node / n;
        if stage == stages - 1 && node == req.to {
            best = Some(state);
            break;
        }
        // The hop we last left decides strictness and pinned labels.
        let (prev_node, pins) = match stage {
            0 => (req.from, ingress_pins),
            k => (stops[k - 1].node, stops.get(k - 1)),
        };
        let strict_target = stops.get(stage).filter(|h| !h.loose).map(|h| h.node);
        if strict_target.is_some() && node != prev_node {
            continue;
        }
        let converts = g.nodes.get(node).is_some_and(|x| x.label_conversion);
        for &id in g.out_links(node) {
            let Some(link) = g.links.get(id) else {
                continue;
            };
            if strict_target.is_some_and(|t| link.to != t) {
                continue;
            }
            if !link_passes(g, req, id, link, level) {
                continue;
            }
            let step = cost(req, link, level);
            let mut next_stage = stage;
            if stops.get(stage).is_some_and(|h| h.node == link.to) {
                next_stage += 1;
            }
            let pin = pins
                .filter(|_| node == prev_node)
                .and_then(|h| h.label)
                .filter(|_| labels_on);
            let next_classes: Vec<usize> = match allowed.get(id).and_then(Option::as_ref) {
                None => vec![free],
                Some(inside) => inside
                    .iter()
                    .copied()
                    .filter(|&c| class == free || converts || c == class)
                    .filter(|&c| pin.is_none_or(|p| classes.first_label(c) == Some(p)))
                    .collect(),
            };
            for c in next_classes {
                let to = index(next_stage, link.to, c);
                let next = (d + step, hops + 1);
                let (old_cost, old_hops) = dist[to];
                if next
                    .0
                    .total_cmp(&old_cost)
                    .then(next.1.cmp(&old_hops))
                    .is_lt()
                {
                    dist[to] = next;
                    parent[to] = Some((state, id));
                    let tie = classes.first_label(c).unwrap_or(u32::MAX);
                    heap.push(Reverse(Key(next.0, next.1, tie, to)));
                }
            }
        }
    }

    let end = best?;
    let mut links = Vec::new();
    let mut labels = Vec::new();
    let mut at = end;
    while let Some((prev, id)) = parent[at] {
        links.push(id);
        let class = at % per_node;
        labels.push(if class == free {
            None
        } else {
            classes.first_label(class)
        });
        at = prev;
    }
    links.reverse();
    labels.reverse();
    let mut nodes = vec![req.from];
    nodes.extend(links.iter().filter_map(|&id| g.links.get(id).map(|l| l.to)));
    Some(ComputedPath {
        nodes,
        links,
        labels,
        cost: dist[end].0,
    })
}

fn name(g: &TeGraph, node: usize) -> String {
    g.nodes
        .get(node)
        .map_or_else(|| format!("#{node}"), |x| x.name.clone())
}

/// Finds the first constraint level with no path and says where on the best path of the
/// level below it the constraint bites.
pub(super) fn diagnose(g: &TeGraph, req: &PathRequest) -> Infeasible {
    let fail = |constraint, at: Option<String>, reason: String| Infeasible {
        constraint,
        at,
        reason,
    };
    if req.from >= g.nodes.len() || req.to >= g.nodes.len() {
        return fail(
            Constraint::Topology,
            None,
            "unknown ingress or egress".into(),
        );
    }
    if req.from == req.to {
        return fail(
            Constraint::Topology,
            Some(name(g, req.from)),
            "ingress and egress are the same router".into(),
        );
    }
    let mut previous: Option<ComputedPath> = None;
    for level in LEVELS {
        match search(g, req, level) {
            Some(path) => previous = Some(path),
            None => return explain(g, req, level, previous.as_ref()),
        }
    }
    fail(
        Constraint::LabelContinuity,
        None,
        "no path satisfies every constraint".into(),
    )
}

fn explain(
    g: &TeGraph,
    req: &PathRequest,
    level: Constraint,
    path: Option<&ComputedPath>,
) -> Infeasible {
    let on_path = |bad: &dyn Fn(usize, &TeLink) -> Option<String>| {
        path.into_iter()
            .flat_map(|p| p.links.iter())
            .find_map(|&id| {
                g.links
                    .get(id)
                    .and_then(|l| bad(id, l).map(|r| (l.name.clone(), r)))
            })
    };
    let (at, reason) = match level {
        Constraint::Topology => (
            Some(name(g, req.to)),
            format!(
                "no route from {} to {} over links that are up",
                name(g, req.from),
                name(g, req.to)
            ),
        ),
        Constraint::ExplicitRoute => {
            let hops: Vec<String> = req.explicit.iter().map(|h| name(g, h.node)).collect();
            let stuck = req
                .explicit
                .windows(2)
                .find(|w| !w[1].loose && g.link_between(w[0].node, w[1].node).is_none())
                .map(|w| name(g, w[1].node));
            (
                stuck.clone().or_else(|| hops.last().cloned()),
                match stuck {
                    Some(hop) => format!("strict hop {hop} is not adjacent to the hop before it"),
                    None => format!("the explicit route {} cannot be followed", hops.join(" ")),
                },
            )
        }
        _ => {
            let found = on_path(&|id, l| match level {
                Constraint::SwitchingType => req.switching.filter(|s| *s != l.switching).map(|s| {
                    format!(
                        "link {} is {}, the LSP needs {}",
                        l.name,
                        l.switching.name(),
                        s.name()
                    )
                }),
                Constraint::Encoding => req.encoding.filter(|e| *e != l.encoding).map(|e| {
                    format!(
                        "link {} encodes {}, the LSP needs {}",
                        l.name,
                        l.encoding.name(),
                        e.name()
                    )
                }),
                Constraint::Protection => {
                    (!l.protection.satisfies(req.link_protection)).then(|| {
                        format!(
                            "link {} offers protection [{}], the LSP asks for [{}]",
                            l.name,
                            l.protection.names().join(", "),
                            mplamps_core::gmpls::ProtectionFlags(req.link_protection)
                                .names()
                                .join(", ")
                        )
                    })
                }
                Constraint::Exclusion => None,
                Constraint::Objective => (!l.power_cost.is_finite())
                    .then(|| format!("link {} is not in the power topology", l.name)),
                Constraint::Bandwidth => {
                    let free = l
                        .unreserved_bps
                        .get(usize::from(req.setup_priority))
                        .copied();
                    let back_short = req.bidirectional
                        && !g
                            .reverse(id)
                            .and_then(|r| g.links.get(r))
                            .is_some_and(|b| b.fits(req.bandwidth_bps, req.setup_priority));
                    (!l.fits(req.bandwidth_bps, req.setup_priority) || back_short).then(|| {
                        format!(
                            "link {} has {:.3} Gb/s unreserved at priority {}{}, the LSP needs {:.3} Gb/s",
                            l.name,
                            free.unwrap_or(0.0) / 1e9,
                            req.setup_priority,
                            if back_short { " (or less in reverse)" } else { "" },
                            req.bandwidth_bps / 1e9
                        )
                    })
                }
                _ => None,
            });
            match (level, found) {
                (Constraint::LabelContinuity, _) => continuity_break(g, req, path),
                (_, Some((at, reason))) => (Some(at), reason),
                (Constraint::Exclusion, None) => (
                    None,
                    "every path uses an excluded link or shared-risk group".into(),
                ),
                (_, None) => (None, format!("no path meets the {level:?} constraint")),
            }
        }
    };
    Infeasible {
        constraint: level,
        at,
        reason,
    }
}

/// The first run of label-continuous links on `path` whose free label sets share no label.
fn continuity_break(
    g: &TeGraph,
    req: &PathRequest,
    path: Option<&ComputedPath>,
) -> (Option<String>, String) {
    let Some(path) = path else {
        return (None, "no label is free along any path".into());
    };
    let mut run: Vec<&TeLink> = Vec::new();
    let mut common = req.label_set.clone();
    for (i, &id) in path.links.iter().enumerate() {
        let Some(l) = g.links.get(id) else { continue };
        let converts_here = i == 0
            || path
                .nodes
                .get(i)
                .and_then(|&n| g.nodes.get(n))
                .is_some_and(|x| x.label_conversion);
        if converts_here || l.labels.is_none() {
            run.clear();
            common = req.label_set.clone();
        }
        let Some(set) = &l.labels else { continue };
        run.push(l);
        let next = match &common {
            Some(c) => c.intersection(set),
            None => set.clone(),
        };
        if next.is_empty() {
            let names: Vec<String> = run
                .iter()
                .map(|l| {
                    format!(
                        "{} free {}",
                        l.name,
                        l.labels.as_ref().map_or(String::from("-"), |s| {
                            if s.is_empty() {
                                "none".into()
                            } else {
                                s.to_string()
                            }
                        })
                    )
                })
                .collect();
            return (
                Some(l.name.clone()),
                format!(
                    "no label is free on every link between label converters: {}",
                    names.join("; ")
                ),
            );
        }
        common = Some(next);
    }
    (
        None,
        "no label is free along any path that meets the other constraints".into(),
    )
}
