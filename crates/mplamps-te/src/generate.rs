//! Synthetic topologies for scale tests, and the seeded default model that gives imported or
//! generated routers their capacities, loads and power (documented in
//! `docs/topology-format.md`, "Generated and imported topologies").
//!
//! Graph model: N routers; router i > 0 links to a uniformly chosen earlier router (a random
//! recursive tree, so the graph is connected), then links between uniformly chosen pairs of
//! distinct, not yet linked routers are added until there are round(N·D/2) links (average
//! degree D). Positions are uniform in a 1000 × 1000 square.

use std::collections::HashSet;

use mplamps_core::{Bandwidth, RouterId};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use mplamps_algorithms::power::Selection;

use crate::power_model::RouterPowerModel;
use crate::topology::{
    DEFAULT_REFERENCE_BANDWIDTH_BPS, LineCard, LineCardPower, Link, Network, PortRef, Router,
};

/// Why a topology cannot be generated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GenerateError {
    #[error("need at least 2 nodes, got {0}")]
    TooFewNodes(usize),
    #[error(
        "average degree {degree} is out of range for {nodes} nodes: a connected graph needs at least {min:.3}, a simple graph allows at most {max}"
    )]
    DegreeOutOfRange {
        nodes: usize,
        degree: f64,
        min: f64,
        max: f64,
    },
    #[error("{nodes} nodes is more than the generator numbers ({MAX_NODES} at most)")]
    TooManyNodes { nodes: usize },
    #[error("not enough memory for {links} links among {nodes} nodes")]
    OutOfMemory { nodes: usize, links: usize },
}

/// Generated routers are numbered in 32 bits.
pub const MAX_NODES: usize = u32::MAX as usize;

/// The seeded default model for a router's capacity and a link's load, with the published
/// router power model ([`RouterPowerModel::reference`]) for its chassis and line cards.
pub struct DefaultModel {
    rng: ChaCha8Rng,
    power: RouterPowerModel,
}

/// Port capacities of generated routers and how often each is drawn.
const PORT_CAPACITIES_GBPS: [(f64, f64); 3] = [(10.0, 0.6), (40.0, 0.25), (100.0, 0.15)];

impl DefaultModel {
    pub fn new(seed: u64) -> Self {
        DefaultModel {
            rng: ChaCha8Rng::seed_from_u64(seed),
            power: RouterPowerModel::reference(),
        }
    }

    /// 10G (60 %), 40G (25 %) or 100G (15 %).
    pub fn port_capacity(&mut self) -> Bandwidth {
        let mut pick: f64 = self.rng.random();
        for (gbps, share) in PORT_CAPACITIES_GBPS {
            if pick < share {
                return Bandwidth::from_gbps(gbps).unwrap_or_default();
            }
            pick -= share;
        }
        Bandwidth::from_gbps(10.0).unwrap_or_default()
    }

    /// Available bandwidth: uniform in 5–95 % of the capacity, in whole Mb/s.
    pub fn available(&mut self, capacity: Bandwidth) -> Bandwidth {
        let share: f64 = self.rng.random_range(0.05..0.95);
        Bandwidth::from_bps((capacity.bps() * share / 1e6).floor() * 1e6).unwrap_or_default()
    }

    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }
}

/// A connected random topology of `nodes` routers with average degree `degree`.
pub fn generate(nodes: usize, degree: f64, seed: u64) -> Result<Network, GenerateError> {
    if nodes < 2 {
        return Err(GenerateError::TooFewNodes(nodes));
    }
    if nodes > MAX_NODES {
        return Err(GenerateError::TooManyNodes { nodes });
    }
    let min = 2.0 * (nodes - 1) as f64 / nodes as f64;
    let max = (nodes - 1) as f64;
    if !(degree.is_finite() && degree >= min - 1e-9 && degree <= max) {
        return Err(GenerateError::DegreeOutOfRange {
            nodes,
            degree,
            min,
            max,
        });
    }
    let target = ((nodes as f64 * degree / 2.0).round() as usize).max(nodes - 1);
    let mut model = DefaultModel::new(seed);
    let out_of_memory = |_| GenerateError::OutOfMemory {
        nodes,
        links: target,
    };
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    pairs.try_reserve(target).map_err(out_of_memory)?;
    let mut seen: HashSet<(u32, u32)> = HashSet::new();
    seen.try_reserve(target.saturating_mul(2))
        .map_err(out_of_memory)?;
    for i in 1..nodes as u32 {
        let j = model.rng().random_range(0..i);
        seen.insert((j, i));
        pairs.push((j, i));
    }
    while pairs.len() < target {
        let a = model.rng().random_range(0..nodes as u32);
        let b = model.rng().random_range(0..nodes as u32);
        let key = (a.min(b), a.max(b));
        if a != b && seen.insert(key) {
            pairs.push(key);
        }
    }
    let positions: Vec<[f64; 2]> = (0..nodes)
        .map(|_| {
            let rng = model.rng();
            [
                (rng.random::<f64>() * 1000.0).round(),
                (rng.random::<f64>() * 1000.0).round(),
            ]
        })
        .collect();
    let names: Vec<String> = (1..=nodes).map(|i| format!("R{i}")).collect();
    Ok(assemble(
        Some(format!("generated-n{nodes}-d{degree}-s{seed}")),
        names,
        positions.into_iter().map(Some).collect(),
        &pairs
            .iter()
            .map(|&(a, b)| (a as usize, b as usize, None))
            .collect::<Vec<_>>(),
        &mut model,
    ))
}

/// Builds a network from routers and links `(a, b, capacity)` with the default model: one line
/// card "LC1" per router with one port per link, port capacity the largest of its links'
/// (drawn from the model when a link has none), loads and power from the model.
pub fn assemble(
    name: Option<String>,
    names: Vec<String>,
    positions: Vec<Option<[f64; 2]>>,
    links: &[(usize, usize, Option<Bandwidth>)],
    model: &mut DefaultModel,
) -> Network {
    let n = names.len();
    let router_capacity: Vec<Bandwidth> = (0..n).map(|_| model.port_capacity()).collect();
    let mut degree = vec![0usize; n];
    let mut port_capacity = vec![Bandwidth::ZERO; n];
    let capacities: Vec<Bandwidth> = links
        .iter()
        .map(|&(a, b, capacity)| {
            capacity.unwrap_or_else(|| router_capacity[a].min(router_capacity[b]))
        })
        .collect();
    for (&(a, b, _), &capacity) in links.iter().zip(&capacities) {
        for end in [a, b] {
            degree[end] += 1;
            port_capacity[end] = port_capacity[end].max(capacity);
        }
    }
    let mut next_port = vec![0usize; n];
    let mut out_links = Vec::with_capacity(links.len());
    let reference = Bandwidth::from_bps(DEFAULT_REFERENCE_BANDWIDTH_BPS).unwrap_or_default();
    for (i, (&(a, b, _), &capacity)) in links.iter().zip(&capacities).enumerate() {
        let mut port = |r: usize| {
            next_port[r] += 1;
            PortRef {
                router: r,
                linecard: 0,
                port: next_port[r] - 1,
            }
        };
        let (pa, pb) = (port(a), port(b));
        out_links.push(Link {
            name: format!("L{}", i + 1),
            a: pa,
            b: pb,
            capacity,
            available: model.available(capacity),
            metric: Network::default_metric(reference, capacity),
            weight_a: 1.0,
            weight_b: 1.0,
            multi_access: false,
            addresses: None,
            gmpls: Default::default(),
        });
    }
    let routers = names
        .into_iter()
        .zip(positions)
        .enumerate()
        .map(|(i, (name, position))| {
            let linecards = if degree[i] == 0 {
                Vec::new()
            } else {
                let ports: Vec<String> = (1..=degree[i]).map(|p| format!("P{p}")).collect();
                let profile = model.power.linecard_profile(degree[i], port_capacity[i]);
                vec![LineCard {
                    name: "LC1".to_string(),
                    ports,
                    port_capacity: port_capacity[i],
                    power: LineCardPower::Profile(profile),
                }]
            };
            Router {
                name,
                router_id: RouterId(0x0a00_0001 + i as u32),
                position,
                label_conversion: false,
                ldp_power: true,
                power_te: true,
                chassis_w: model.power.chassis_w,
                linecards,
            }
        })
        .collect::<Vec<_>>();
    let normalize_to = capacities
        .iter()
        .copied()
        .filter(|c| c.bps() > 0.0)
        .reduce(Bandwidth::min)
        .unwrap_or(Bandwidth::from_gbps(10.0).unwrap_or_default());
    Network {
        name,
        normalize_to,
        selection: Selection::Min,
        bandwidth_quantum: Bandwidth::ZERO,
        power_quantum_w: 0.0,
        reference_bandwidth: reference,
        power_membership: Default::default(),
        positions: Default::default(),
        ospf: Default::default(),
        ldp: Default::default(),
        fec_policy: Vec::new(),
        lsps: Vec::new(),
        demands: Vec::new(),
        hosts: Vec::new(),
        routers,
        links: out_links,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mplamps_algorithms::spf::{Graph, Spt};

    #[test]
    fn generated_graphs_are_connected_with_the_asked_degree() {
        for (nodes, degree, seed) in [(2, 1.0, 1), (50, 4.0, 7), (300, 3.0, 9), (10, 9.0, 3)] {
            let net = generate(nodes, degree, seed).unwrap();
            assert_eq!(net.routers.len(), nodes);
            assert_eq!(
                net.links.len(),
                ((nodes as f64 * degree / 2.0).round() as usize).max(nodes - 1)
            );
            let links: Vec<_> = net
                .links
                .iter()
                .map(|l| (l.a.router as u32, l.b.router as u32, 1.0))
                .collect();
            let spt = Spt::compute(&Graph::new(nodes, &links), 0);
            assert!((0..nodes as u32).all(|v| spt.is_reachable(v)));
        }
    }

    #[test]
    fn same_seed_same_topology_and_it_round_trips_through_toml() {
        let a = generate(40, 4.0, 42).unwrap();
        assert_eq!(a, generate(40, 4.0, 42).unwrap());
        assert_ne!(a, generate(40, 4.0, 43).unwrap());
        let text = crate::topology::to_toml(&a, &["generated".to_string()]);
        let back = Network::from_toml("generated.toml", &text).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn impossible_degrees_are_refused() {
        assert!(matches!(
            generate(1, 2.0, 0),
            Err(GenerateError::TooFewNodes(1))
        ));
        assert!(generate(10, 1.0, 0).is_err());
        assert!(generate(10, 10.0, 0).is_err());
        assert!(generate(10, f64::NAN, 0).is_err());
    }
}
