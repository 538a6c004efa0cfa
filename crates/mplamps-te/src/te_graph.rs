//! The model's links as CSPF sees them: what every router learns from OSPF-TE when the
//! network is as the topology file says.

use mplamps_algorithms::cspf::{PRIORITIES, TeGraph, TeLink, TeNode};

use crate::power::Metrics;
use crate::topology::Network;

/// The TE view of a network as every router learns it from OSPF-TE: each link's
/// available bandwidth unreserved at every priority, its GMPLS attributes (PSC when it
/// declares none), its label set, and its PWRLINK when it is in the power topology.
pub fn te_graph(net: &Network, metrics: &Metrics) -> TeGraph {
    let nodes = net
        .routers
        .iter()
        .map(|r| TeNode {
            name: r.name.clone(),
            label_conversion: r.label_conversion,
        })
        .collect();
    let mut links = Vec::with_capacity(net.links.len() * 2);
    for (i, link) in net.links.iter().enumerate() {
        let switching = link.gmpls.switching_or_psc();
        let power_cost = metrics
            .links
            .get(i)
            .filter(|m| m.in_power_topology)
            .and_then(|m| m.pwrlink)
            .unwrap_or(f64::INFINITY);
        for (from, to) in [
            (link.a.router, link.b.router),
            (link.b.router, link.a.router),
        ] {
            links.push(TeLink {
                from,
                to,
                link: i,
                name: link.name.clone(),
                up: true,
                unreserved_bps: [link.available.bps(); PRIORITIES],
                te_metric: link.gmpls.te_metric.unwrap_or(link.metric),
                power_cost,
                switching,
                encoding: link.gmpls.encoding_in_use(),
                labels: link.gmpls.labels.clone(),
                protection: link.gmpls.protection.unwrap_or_default(),
                srlg: link.gmpls.srlg.clone(),
            });
        }
    }
    TeGraph::new(nodes, links)
}
