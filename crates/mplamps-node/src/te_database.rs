//! The TE graph this node's CSPF runs on, read from nothing but its own OSPF-TE database
//! (RFC 3630, RFC 4203): the links its SPF joins from Router-LSAs, each direction with the
//! attributes its transmitting end floods in its TE LSA. What other routers reserved reaches
//! the graph only as their TE LSAs say it.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::time::Duration;

use mplamps_algorithms::cspf::{PRIORITIES, TeGraph, TeLink, TeNode};
use mplamps_core::gmpls::{LspEncoding, ProtectionFlags, SwitchingType};
use mplamps_ospf::instance as ospf;

use crate::config::Names;
use mplamps_ospf::packet::{LabelSetField, LinkSubTlv, LsType, LsaBody, TeTlv};

/// A node's TE graph, with the router ID of each of its nodes.
#[derive(Debug, Clone)]
pub struct TeView {
    pub graph: TeGraph,
    pub routers: Vec<Ipv4Addr>,
}

impl TeView {
    pub fn index_of(&self, router: Ipv4Addr) -> Option<usize> {
        self.routers.iter().position(|&r| r == router)
    }
}

/// Reads the TE graph off `ospf`'s database at `now`, whose TE database (the links SPF
/// joins) is `ted`.
pub fn te_view(ospf: &ospf::Instance, ted: &ospf::Ted, now: Duration, names: &Names) -> TeView {
    let ends = link_tlvs(ospf, now);
    let routers: Vec<Ipv4Addr> = ted.nodes.iter().map(|n| n.router_id).collect();
    // Said on the links that flood their labels: a node that floods none has no label
    // continuity to keep or break.
    let converters: HashSet<Ipv4Addr> = ends
        .iter()
        .filter(|(_, subs)| subs.contains(&LinkSubTlv::LabelConversion))
        .map(|((router, _), _)| *router)
        .collect();
    let nodes = routers
        .iter()
        .map(|r| TeNode {
            name: names.router(*r),
            label_conversion: converters.contains(r),
        })
        .collect();
    let mut links = Vec::with_capacity(ted.links.len() * 2);
    for (i, l) in ted.links.iter().enumerate() {
        let (Some(&ra), Some(&rb)) = (routers.get(l.a), routers.get(l.b)) else {
            continue;
        };
        for (from, to, router, data, metric) in [
            (l.a, l.b, ra, l.data_a, l.metric_a),
            (l.b, l.a, rb, l.data_b, l.metric_b),
        ] {
            let subs = ends
                .get(&(router, u32::from(data)))
                .map_or(&[][..], Vec::as_slice);
            let name = names.link(router, if router == ra { rb } else { ra });
            links.push(directed(i, (from, to), name, subs, metric, l.pwrlink));
        }
    }
    TeView {
        graph: TeGraph::new(nodes, links),
        routers,
    }
}

/// Every live TE LSA's Link TLVs by (advertising router, local identifier): the local
/// interface address, or the Link Local Identifier of an unnumbered link (RFC 4203 §1.1),
/// as Router-LSAs give it in their Link Data.
fn link_tlvs(ospf: &ospf::Instance, now: Duration) -> HashMap<(Ipv4Addr, u32), Vec<LinkSubTlv>> {
    let mut out = HashMap::new();
    for (key, lsa) in ospf.lsdb().live(now) {
        if key.ls_type != LsType::OpaqueArea {
            continue;
        }
        let LsaBody::Te(tlvs) = lsa.body() else {
            continue;
        };
        for tlv in tlvs {
            let TeTlv::Link(subs) = tlv else {
                continue;
            };
            let local = subs.iter().find_map(|s| match s {
                LinkSubTlv::LocalAddresses(a) => a.first().map(|&a| u32::from(a)),
                LinkSubTlv::LinkIds { local, .. } => Some(*local),
                _ => None,
            });
            if let Some(local) = local {
                out.insert((key.adv_router, local), subs.clone());
            }
        }
    }
    out
}

/// One direction of link `link`, as its transmitting end advertises it. A direction whose
/// end floods no TE information offers no bandwidth.
fn directed(
    link: usize,
    (from, to): (usize, usize),
    name: String,
    subs: &[LinkSubTlv],
    metric: u16,
    pwrlink: Option<f64>,
) -> TeLink {
    let bits = |bytes_per_s: f32| f64::from(bytes_per_s) * 8.0;
    let mut te = TeLink {
        from,
        to,
        link,
        name,
        up: true,
        unreserved_bps: [0.0; PRIORITIES],
        te_metric: u32::from(metric),
        power_cost: pwrlink.unwrap_or(f64::INFINITY),
        switching: SwitchingType::Psc,
        encoding: SwitchingType::Psc.default_encoding(),
        labels: None,
        protection: ProtectionFlags::default(),
        srlg: Vec::new(),
    };
    let mut iscd_seen = false;
    for sub in subs {
        match sub {
            LinkSubTlv::UnreservedBandwidth(b) => te.unreserved_bps = b.map(bits),
            LinkSubTlv::TeMetric(m) => te.te_metric = *m,
            LinkSubTlv::Protection(p) => te.protection = ProtectionFlags(*p),
            LinkSubTlv::Srlg(groups) => te.srlg.clone_from(groups),
            LinkSubTlv::AvailableLabels(fields) => te.labels = Some(LabelSetField::union(fields)),
            // The first ISCD describes the link (RFC 4203 §1.4 allows several).
            LinkSubTlv::Iscd(iscd) if !iscd_seen => {
                iscd_seen = true;
                if let Some(s) = SwitchingType::from_code(iscd.switching) {
                    te.switching = s;
                    te.encoding = LspEncoding::from_code(iscd.encoding)
                        .unwrap_or_else(|| s.default_encoding());
                }
            }
            _ => {}
        }
    }
    te
}
