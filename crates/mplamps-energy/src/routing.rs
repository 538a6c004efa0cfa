//! Demands routed hop by hop on a shortest-path tree, as routers forward them.
//!
//! For each destination t, the tree rooted at t gives every router its next-hop links toward
//! t (all equal-cost ones; parallel links count separately). Traffic entering a router for
//! t is split among them: equally (ECMP, as hashing routers do) or in proportion to each
//! link's advertised available bandwidth (UCMP, draft §2.2; equally when none has any).
//!
//! A link direction's load is what routing the demands puts on it. Overload (a fluid model
//! of tail drop): a link direction offered more than its capacity forwards the fraction
//! capacity ÷ offered of every flow on it and drops the rest; what it drops no longer
//! reaches the links after it. The fractions are found by repeating the routing until they
//! settle (at most [`MAX_DROP_PASSES`] passes); they give the carried traffic of every link
//! and the dropped demand. Every pass conserves traffic: carried + dropped = offered demand,
//! exactly.

use mplamps_algorithms::spf::{Graph, Spt};
use mplamps_te::Network;
use serde::Serialize;

/// Passes of the overload model before the last one is taken as it is.
pub const MAX_DROP_PASSES: usize = 30;

/// How a router splits traffic among its next hops to one destination.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Equal shares.
    #[default]
    Ecmp,
    /// Shares in proportion to the links' advertised available bandwidth (draft §2.2).
    Ucmp,
}

/// (source router, rate in bit/s) of the demands toward one destination.
type Sources = Vec<(u32, f64)>;

/// The traffic matrix at one load scale, grouped by destination.
#[derive(Debug, Clone)]
pub struct Matrix {
    /// `to[t]`: (source, rate in bit/s) of the demands toward router t.
    to: Vec<Sources>,
    pub total_bps: f64,
}

impl Matrix {
    /// The file's `[[demand]]`s, every rate multiplied by `scale`.
    pub fn new(net: &Network, scale: f64) -> Matrix {
        let mut to = vec![Vec::new(); net.routers.len()];
        let mut total_bps = 0.0;
        for d in &net.demands {
            let rate = d.rate.bps() * scale;
            if let Some(list) = to.get_mut(d.target) {
                list.push((d.source as u32, rate));
                total_bps += rate;
            }
        }
        Matrix { to, total_bps }
    }

    pub(crate) fn destinations(&self) -> impl Iterator<Item = (u32, &[(u32, f64)])> {
        self.to
            .iter()
            .enumerate()
            .filter(|(_, list)| !list.is_empty())
            .map(|(t, list)| (t as u32, list.as_slice()))
    }
}

/// Traffic on every link, by direction (a → b and b → a as in the file), and what happened
/// to the demand.
#[derive(Debug, Clone, PartialEq)]
pub struct Loads {
    /// Load in bit/s: what routing the demands puts on the link direction, as if no link
    /// dropped any.
    pub ab: Vec<f64>,
    pub ba: Vec<f64>,
    /// What the link direction carries once overloaded links drop (the overload model):
    /// at most its capacity, and less than its load behind a drop.
    pub carried_ab: Vec<f64>,
    pub carried_ba: Vec<f64>,
    pub carried_bps: f64,
    pub dropped_bps: f64,
    /// Demand whose source has a path to its destination.
    pub routed_bps: f64,
    /// Σ over routed demands of rate × the expected hops (and km) of its paths.
    pub rate_hops: f64,
    pub rate_km: f64,
}

impl Loads {
    /// The busier direction of each link, at most its capacity: what the link's ends
    /// advertise as used bandwidth.
    pub fn used(&self, net: &Network) -> Vec<f64> {
        net.links
            .iter()
            .enumerate()
            .map(|(i, link)| {
                let busier = self
                    .ab
                    .get(i)
                    .copied()
                    .unwrap_or(0.0)
                    .max(self.ba.get(i).copied().unwrap_or(0.0));
                busier.min(link.capacity.bps())
            })
            .collect()
    }
}

/// One destination's forwarding DAG, sources first: each router with the links it forwards
/// on toward the destination.
struct Dag {
    target: u32,
    /// Split equally whatever the study's split (the regular tree's fallback DAGs).
    equal_split: bool,
    /// (router, first hop index, end) in the order traffic flows: farthest routers first.
    routers: Vec<(u32, u32, u32)>,
    /// (link, next router, direction a → b).
    hops: Vec<(u32, u32, bool)>,
}

fn dag(net: &Network, graph: &Graph, target: u32) -> Dag {
    let spt = Spt::compute(graph, target);
    let mut order = spt.settle_order();
    order.reverse();
    let mut routers = Vec::with_capacity(order.len());
    let mut hops = Vec::new();
    for v in order {
        let start = hops.len() as u32;
        for edge in spt.parent_edges(graph, v) {
            let a_to_b = net
                .links
                .get(edge.link as usize)
                .is_some_and(|l| l.a.router == v as usize);
            hops.push((edge.link, edge.to, a_to_b));
        }
        routers.push((v, start, hops.len() as u32));
    }
    Dag {
        target,
        equal_split: false,
        routers,
        hops,
    }
}

/// Every destination's DAG with the demands it carries. With `fallback` costs, demands whose
/// source the first DAG does not reach get a DAG of the fallback costs.
fn dags(
    net: &Network,
    costs: &[f64],
    fallback: Option<&[f64]>,
    matrix: &Matrix,
) -> Vec<(Dag, Sources)> {
    let primary_graph = graph(net, costs);
    let fallback_graph = fallback.map(|c| graph(net, c));
    let mut reached = vec![false; net.routers.len()];
    let mut out = Vec::new();
    for (t, demands) in matrix.destinations() {
        let primary = dag(net, &primary_graph, t);
        reached.fill(false);
        for &(v, _, _) in &primary.routers {
            reached[v as usize] = true;
        }
        let (on, off): (Sources, Sources) = demands
            .iter()
            .partition(|&&(source, _)| reached.get(source as usize).copied().unwrap_or(false));
        out.push((primary, on));
        if let Some(g) = &fallback_graph
            && !off.is_empty()
        {
            let mut regular = dag(net, g, t);
            regular.equal_split = true;
            out.push((regular, off));
        } else if !off.is_empty() {
            // No way to the destination: its own DAG carries them nowhere (all dropped).
            if let Some((_, list)) = out.last_mut() {
                list.extend(off);
            }
        }
    }
    out
}

fn graph(net: &Network, costs: &[f64]) -> Graph {
    let links: Vec<(u32, u32, f64)> = net
        .links
        .iter()
        .enumerate()
        .map(|(i, l)| {
            (
                l.a.router as u32,
                l.b.router as u32,
                costs.get(i).copied().unwrap_or(f64::INFINITY),
            )
        })
        .collect();
    Graph::new(net.routers.len(), &links)
}

/// The flow toward each destination on every link direction (bit/s), routed as [`route`]
/// routes it but without overload: (destination, a → b, b → a). What the optimum starts
/// its search from.
pub fn destination_flows(
    net: &Network,
    costs: &[f64],
    fallback: Option<&[f64]>,
    matrix: &Matrix,
    split: Split,
    weights: &[f64],
) -> Vec<(u32, Vec<f64>, Vec<f64>)> {
    let n = net.routers.len();
    let links = net.links.len();
    let keep = vec![1.0; links];
    let mut scratch = Scratch::new(n);
    let mut out: Vec<(u32, Vec<f64>, Vec<f64>)> = Vec::new();
    for one in dags(net, costs, fallback, matrix) {
        let target = one.0.target;
        let loads = pass(
            std::slice::from_ref(&one),
            split,
            weights,
            None,
            &keep,
            &keep,
            &mut scratch,
            links,
        );
        match out.last_mut() {
            Some((t, ab, ba)) if *t == target => {
                for (x, y) in ab.iter_mut().zip(&loads.ab) {
                    *x += y;
                }
                for (x, y) in ba.iter_mut().zip(&loads.ba) {
                    *x += y;
                }
            }
            _ => out.push((target, loads.ab, loads.ba)),
        }
    }
    out
}

/// Routes `matrix` on the links' `costs` (`f64::INFINITY`: not usable). A demand whose
/// source these costs do not join to its destination rides the `fallback` costs when given
/// (a FEC without a power binding rides the regular tree), else it is dropped. `weights`
/// are the UCMP weights per link (ignored for ECMP); `km` the links' lengths when known.
pub fn route(
    net: &Network,
    costs: &[f64],
    fallback: Option<&[f64]>,
    matrix: &Matrix,
    split: Split,
    weights: &[f64],
    km: Option<&[f64]>,
) -> Loads {
    let n = net.routers.len();
    let dags = dags(net, costs, fallback, matrix);
    let capacity: Vec<f64> = net.links.iter().map(|l| l.capacity.bps()).collect();
    let mut keep_ab = vec![1.0; net.links.len()];
    let mut keep_ba = vec![1.0; net.links.len()];
    let mut scratch = Scratch::new(n);
    let links = net.links.len();
    let mut forward = |keep_ab: &[f64], keep_ba: &[f64]| {
        pass(
            &dags,
            split,
            weights,
            km,
            keep_ab,
            keep_ba,
            &mut scratch,
            links,
        )
    };
    let mut loads = forward(&keep_ab, &keep_ba);
    let (routed_ab, routed_ba) = (loads.ab.clone(), loads.ba.clone());
    let mut kept = (keep_ab.clone(), keep_ba.clone());
    for _ in 1..MAX_DROP_PASSES {
        let mut moved = false;
        for (i, &cap) in capacity.iter().enumerate() {
            for (offered, keep) in [
                (loads.ab[i], &mut keep_ab[i]),
                (loads.ba[i], &mut keep_ba[i]),
            ] {
                let next = if offered > cap { cap / offered } else { 1.0 };
                if (next - *keep).abs() > 1e-12 {
                    moved = true;
                }
                *keep = next;
            }
        }
        if !moved {
            break;
        }
        loads = forward(&keep_ab, &keep_ba);
        kept = (keep_ab.clone(), keep_ba.clone());
    }
    // The last pass's offered traffic, thinned by the fractions it ran with.
    loads.carried_ab = loads.ab.iter().zip(&kept.0).map(|(o, k)| o * k).collect();
    loads.carried_ba = loads.ba.iter().zip(&kept.1).map(|(o, k)| o * k).collect();
    loads.ab = routed_ab;
    loads.ba = routed_ba;
    loads
}

struct Scratch {
    inflow: Vec<f64>,
    /// Expected hops and km from a router to the destination; NaN when it is not reached.
    hops: Vec<f64>,
    km: Vec<f64>,
}

impl Scratch {
    fn new(n: usize) -> Scratch {
        Scratch {
            inflow: vec![0.0; n],
            hops: vec![f64::NAN; n],
            km: vec![0.0; n],
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn pass(
    dags: &[(Dag, Sources)],
    split: Split,
    weights: &[f64],
    km: Option<&[f64]>,
    keep_ab: &[f64],
    keep_ba: &[f64],
    s: &mut Scratch,
    link_count: usize,
) -> Loads {
    let mut loads = Loads {
        ab: vec![0.0; link_count],
        ba: vec![0.0; link_count],
        carried_ab: Vec::new(),
        carried_ba: Vec::new(),
        carried_bps: 0.0,
        dropped_bps: 0.0,
        routed_bps: 0.0,
        rate_hops: 0.0,
        rate_km: 0.0,
    };
    let mut shares = Vec::new();
    for (dag, demands) in dags {
        let split = if dag.equal_split { Split::Ecmp } else { split };
        s.inflow.fill(0.0);
        s.hops.fill(f64::NAN);
        let mut offered = 0.0;
        for &(source, rate) in demands {
            if let Some(slot) = s.inflow.get_mut(source as usize) {
                *slot += rate;
                offered += rate;
            }
        }
        // Expected hops (and km) of what each router sends, nearest routers first.
        for &(v, start, end) in dag.routers.iter().rev() {
            let hops = dag.hops.get(start as usize..end as usize).unwrap_or(&[]);
            split_shares(split, hops, weights, &mut shares);
            let (mut h, mut d) = (0.0, 0.0);
            for (&(link, to, _), &p) in hops.iter().zip(&shares) {
                let link_km = km
                    .and_then(|km| km.get(link as usize))
                    .copied()
                    .unwrap_or(0.0);
                h += p * (1.0 + s.hops[to as usize]);
                d += p * (link_km + s.km[to as usize]);
            }
            s.hops[v as usize] = h;
            s.km[v as usize] = d;
        }
        for &(source, rate) in demands {
            let h = s.hops.get(source as usize).copied().unwrap_or(f64::NAN);
            if h.is_finite() {
                loads.routed_bps += rate;
                loads.rate_hops += rate * h;
                loads.rate_km += rate * s.km[source as usize];
            }
        }
        let mut delivered = 0.0;
        for &(v, start, end) in &dag.routers {
            let flow = std::mem::take(&mut s.inflow[v as usize]);
            let hops = dag.hops.get(start as usize..end as usize).unwrap_or(&[]);
            if v == dag.target {
                delivered += flow;
                continue;
            }
            split_shares(split, hops, weights, &mut shares);
            for (&(link, to, a_to_b), &p) in hops.iter().zip(&shares) {
                let amount = flow * p;
                let l = link as usize;
                let (load, keep) = if a_to_b {
                    (&mut loads.ab[l], keep_ab[l])
                } else {
                    (&mut loads.ba[l], keep_ba[l])
                };
                *load += amount;
                s.inflow[to as usize] += amount * keep;
            }
        }
        // What did not arrive was dropped on an overloaded link, or its source has no path.
        // A difference within rounding of the sum is no drop.
        if (offered - delivered).abs() <= 1e-12 * offered {
            delivered = offered;
        }
        loads.carried_bps += delivered;
        loads.dropped_bps += offered - delivered;
    }
    loads
}

/// Each next hop's share of a router's traffic.
fn split_shares(split: Split, hops: &[(u32, u32, bool)], weights: &[f64], out: &mut Vec<f64>) {
    out.clear();
    let equal = 1.0 / hops.len().max(1) as f64;
    let weight = |link: u32| weights.get(link as usize).copied().unwrap_or(0.0).max(0.0);
    let total: f64 = hops.iter().map(|&(l, _, _)| weight(l)).sum();
    match split {
        Split::Ucmp if total > 0.0 => out.extend(hops.iter().map(|&(l, _, _)| weight(l) / total)),
        _ => out.extend(hops.iter().map(|_| equal)),
    }
}
