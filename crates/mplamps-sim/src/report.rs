//! The simulation report (issue 3 JSON contract): per router its neighbors, LSDB digest and
//! both trees computed from its own TE database, named as in the topology file.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use mplamps_ospf::instance::{Instance, Ted};
use mplamps_te::spf::Spt;
use mplamps_te::trees::{NodeReport, TreeKind, TreeLabels, report_with};
use rayon::prelude::*;
use serde::Serialize;

use crate::{Sim, Stats};

#[derive(Debug, Clone, Serialize)]
pub struct NeighborReport {
    pub router: String,
    pub state: &'static str,
    pub link: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Trees {
    pub power: Vec<NodeReport>,
    pub regular: Vec<NodeReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RouterReport {
    pub name: String,
    pub up: bool,
    pub neighbors: Vec<NeighborReport>,
    pub lsdb_digest: String,
    pub lsa_count: usize,
    pub trees: Trees,
    /// What the OSPF instance counted since it last booted; absent while it is down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ospf: Option<mplamps_ospf::instance::Counters>,
    /// LDP sessions and the LFIB, when LDP runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ldp: Option<LdpReport>,
    /// The RSVP-TE control plane, when LSPs are signaled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rsvp: Option<RsvpReport>,
}

/// One router's RSVP-TE control plane: its Hello neighbors (RFC 3209 §5, RFC 3473 §9) and
/// what it counted.
#[derive(Debug, Clone, Serialize)]
pub struct RsvpReport {
    /// Src_Instance of the running control plane (a restart takes a new one).
    pub instance: u32,
    /// Within the Recovery_Time after a restart.
    pub recovering: bool,
    pub neighbors: Vec<RsvpNeighborReport>,
    pub counters: mplamps_rsvp::instance::Counters,
}

#[derive(Debug, Clone, Serialize)]
pub struct RsvpNeighborReport {
    pub router: String,
    pub hello: mplamps_rsvp::instance::HelloState,
    pub instance: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct LdpSessionReport {
    pub peer: String,
    pub state: mplamps_ldp::instance::SessionState,
    /// The peer advertised the Power-SPF capability.
    pub power: bool,
}

pub use mplamps_node::view::LfibRow;

#[derive(Debug, Clone, Serialize)]
pub struct LdpReport {
    pub sessions: Vec<LdpSessionReport>,
    pub lfib: Vec<LfibRow>,
    pub counters: mplamps_ldp::instance::Counters,
    /// Packets the data plane dropped here, by reason.
    pub drops: mplamps_dataplane::Drops,
}

/// Reasons a report gives at most for a network that has not converged.
pub const WHY_LIMIT: usize = 1000;

#[derive(Debug, Clone, Serialize)]
pub struct SimReport {
    pub converged: bool,
    pub convergence_time_s: f64,
    pub end_time_s: f64,
    pub wall_time_s: f64,
    pub events: u64,
    pub events_per_s: f64,
    pub stats: Stats,
    pub warnings: Vec<String>,
    /// Why the network has not converged (at most `WHY_LIMIT` reasons); absent once it has.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub why_not_converged: Vec<crate::Unsettled>,
    /// Each scenario step and the reconvergence that followed (`timeline`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reconvergence: Vec<crate::Reconvergence>,
    pub routers: Vec<RouterReport>,
    /// RSVP-TE LSPs (`[[lsp]]` tables), in file order, each secondary after its primary.
    pub lsps: Vec<crate::rsvp::LspReport>,
}

/// The file's names: router IDs → names, names → file order, (router, Link Data) → link.
struct Names<'a> {
    routers: HashMap<Ipv4Addr, String>,
    order: HashMap<&'a str, usize>,
    links: HashMap<(Ipv4Addr, Ipv4Addr), String>,
}

/// Names of a router's TE database in the file's terms.
struct TedNames<'a> {
    ted: &'a Ted,
    names: &'a HashMap<Ipv4Addr, String>,
    /// (router ID, Link Data) → link name.
    links: &'a HashMap<(Ipv4Addr, Ipv4Addr), String>,
}

impl TreeLabels for TedNames<'_> {
    fn node_count(&self) -> usize {
        self.ted.nodes.len()
    }

    fn node_name(&self, node: usize) -> String {
        self.ted.nodes.get(node).map_or_else(String::new, |n| {
            self.names
                .get(&n.router_id)
                .cloned()
                .unwrap_or_else(|| n.router_id.to_string())
        })
    }

    fn link(&self, link: usize) -> Option<(String, usize, usize, f64)> {
        let l = self.ted.links.get(link)?;
        let rid = self.ted.nodes.get(l.a)?.router_id;
        let name = self
            .links
            .get(&(rid, l.data_a))
            .cloned()
            .unwrap_or_else(|| format!("{rid}/{}", l.data_a));
        Some((name, l.a, l.b, l.available_bps()))
    }
}

impl Sim {
    fn link_names(&self) -> HashMap<(Ipv4Addr, Ipv4Addr), String> {
        let mut out = HashMap::new();
        for slot in &self.configs {
            let rid = slot.router_id;
            for iface in &slot.interfaces {
                let data = iface
                    .address
                    .map_or(Ipv4Addr::from(iface.if_index), |a| a.addr);
                out.insert((rid, data), iface.name.clone());
            }
        }
        out
    }

    fn names(&self) -> Names<'_> {
        Names {
            routers: self
                .net
                .routers
                .iter()
                .map(|r| (r.router_id.to_ipv4(), r.name.clone()))
                .collect(),
            order: self
                .net
                .routers
                .iter()
                .enumerate()
                .map(|(i, r)| (r.name.as_str(), i))
                .collect(),
            links: self.link_names(),
        }
    }

    /// Both trees as `router` computes them from its own LSDB, nodes in file order.
    pub fn trees_of(&self, router: usize) -> Option<Trees> {
        Some(trees_named(self.instance(router)?, &self.names()))
    }

    pub fn report(&self, converged: bool, wall_time_s: f64) -> SimReport {
        let all = self.names();
        let names = &all.routers;
        // Two SPF runs per router: the bulk of a large network's report, and independent.
        let mut trees: Vec<Trees> = self
            .routers
            .par_iter()
            .map(|slot| {
                if slot.up {
                    trees_named(slot.node.ospf(), &all)
                } else {
                    Trees::default()
                }
            })
            .collect();
        let routers = self
            .net
            .routers
            .iter()
            .enumerate()
            .map(|(r, router)| {
                // What the router's node shows of itself, named as the model names things.
                let view = self.node(r).map(mplamps_node::Node::view);
                let name = |id: &Ipv4Addr| names.get(id).cloned().unwrap_or_else(|| id.to_string());
                let Some(view) = view else {
                    return RouterReport {
                        name: router.name.clone(),
                        up: false,
                        neighbors: Vec::new(),
                        lsdb_digest: String::new(),
                        lsa_count: 0,
                        trees: Trees::default(),
                        ospf: None,
                        ldp: None,
                        rsvp: None,
                    };
                };
                RouterReport {
                    name: router.name.clone(),
                    up: true,
                    neighbors: view
                        .neighbors
                        .iter()
                        .map(|n| NeighborReport {
                            router: name(&n.router_id),
                            state: n.state,
                            link: self
                                .interface_link(r, n.interface)
                                .and_then(|l| self.net.links.get(l))
                                .map_or_else(String::new, |l| l.name.clone()),
                        })
                        .collect(),
                    lsdb_digest: view.lsdb_digest,
                    lsa_count: view.lsa_count,
                    trees: trees.get_mut(r).map(std::mem::take).unwrap_or_default(),
                    ospf: Some(view.ospf_counters),
                    ldp: view.ldp.map(|l| LdpReport {
                        sessions: l
                            .sessions
                            .iter()
                            .map(|s| LdpSessionReport {
                                peer: name(&s.peer),
                                state: s.state,
                                power: s.power,
                            })
                            .collect(),
                        lfib: l.lfib,
                        counters: l.counters,
                        drops: self.drops(r).cloned().unwrap_or_default(),
                    }),
                    rsvp: view.rsvp.map(|i| RsvpReport {
                        instance: i.instance,
                        recovering: i.recovering,
                        neighbors: i
                            .neighbors
                            .iter()
                            .map(|n| RsvpNeighborReport {
                                router: name(&n.router_id),
                                hello: n.state,
                                instance: n.instance,
                            })
                            .collect(),
                        // Over every control plane the router ran, this one included.
                        counters: self.rsvp_counters(r).unwrap_or_default(),
                    }),
                }
            })
            .collect();
        SimReport {
            reconvergence: self.reconvergence(),
            why_not_converged: if converged {
                Vec::new()
            } else {
                self.why_not_converged(WHY_LIMIT)
            },
            converged,
            convergence_time_s: self.last_change.as_secs_f64(),
            end_time_s: self.now().as_secs_f64(),
            wall_time_s,
            events: self.stats.events,
            events_per_s: if wall_time_s > 0.0 {
                self.stats.events as f64 / wall_time_s
            } else {
                0.0
            },
            stats: {
                let (ted_built, ted_reused) = self
                    .sharing
                    .iter()
                    .map(|s| s.teds.built_and_reused())
                    .fold((0, 0), |(b, r), (b2, r2)| (b + b2, r + r2));
                let rsvp_malformed = (0..self.routers.len())
                    .filter_map(|r| self.rsvp_counters(r))
                    .map(|c| c.malformed)
                    .sum();
                Stats {
                    ted_built,
                    ted_reused,
                    rsvp_malformed,
                    ..self.stats.clone()
                }
            },
            warnings: self.warnings.clone(),
            routers,
            lsps: self.lsp_reports(),
        }
    }
}

/// Both trees as `instance` computes them from its own TE database, nodes in file order.
fn trees_named(instance: &Instance, all: &Names) -> Trees {
    let (names, order, links) = (&all.routers, &all.order, &all.links);
    let ted = instance.ted();
    let ted = ted.as_ref();
    let labels = TedNames { ted, names, links };
    let tree = |power: bool| -> Vec<NodeReport> {
        let Some(&root) = ted.index.get(&instance.router_id()) else {
            return Vec::new();
        };
        let graph = ted.graph(power);
        let spt = Spt::compute(&graph, root as u32);
        let kind = if power {
            TreeKind::Power
        } else {
            TreeKind::Regular
        };
        let mut nodes = report_with(&labels, &graph, &spt, kind, 0.0).nodes;
        nodes.sort_by_key(|n| order.get(n.name.as_str()).copied().unwrap_or(usize::MAX));
        nodes
    };
    Trees {
        power: tree(true),
        regular: tree(false),
    }
}
