//! What a node shows of itself, as plain serializable values: the simulator's report is
//! built from them, and a daemon's `show` commands will print them. Routers are named by
//! router ID; a driver that knows names puts them in.

use std::net::Ipv4Addr;

use mplamps_core::fec::Topology;
use mplamps_core::label::LabelOwner;
use mplamps_dataplane::NextHop;
use mplamps_ldp::instance as ldp;
use mplamps_ospf::instance as ospf;
use mplamps_rsvp::instance as rsvp;
use serde::Serialize;

use crate::Node;

#[derive(Debug, Clone, Serialize)]
pub struct NodeView {
    pub router_id: Ipv4Addr,
    pub area: Ipv4Addr,
    pub neighbors: Vec<NeighborView>,
    /// The area database: how many LSAs, and a digest of their instances (two routers
    /// with the same digest hold the same database).
    pub lsa_count: usize,
    pub lsdb_digest: String,
    pub ospf_counters: ospf::Counters,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ldp: Option<LdpView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rsvp: Option<RsvpView>,
}

/// An OSPF neighbor (RFC 2328 §10).
#[derive(Debug, Clone, Serialize)]
pub struct NeighborView {
    pub interface: usize,
    /// The interface's name: its link's.
    pub interface_name: String,
    pub router_id: Ipv4Addr,
    pub state: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct LdpView {
    pub sessions: Vec<LdpSessionView>,
    /// The LFIB entries of LDP's labels, both trees.
    pub lfib: Vec<LfibRow>,
    pub counters: ldp::Counters,
}

#[derive(Debug, Clone, Serialize)]
pub struct LdpSessionView {
    pub peer: Ipv4Addr,
    pub state: ldp::SessionState,
    /// The peer advertised the Power-SPF capability.
    pub power: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct LfibRow {
    pub in_label: u32,
    pub tree: Topology,
    pub fec: String,
    pub next_hops: Vec<NextHop>,
}

/// One LSA instance of the area database, as `show ip ospf database` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LsaRow {
    /// LS type (RFC 2328 §A.4.1, RFC 5250).
    pub ls_type: u8,
    pub link_state_id: Ipv4Addr,
    pub adv_router: Ipv4Addr,
    /// LS sequence number and LS checksum, in hexadecimal as routers print them.
    pub sequence: String,
    pub checksum: String,
    pub age: u16,
}

/// One route of a tree, as `show ip route` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteRow {
    pub prefix: String,
    pub cost: f64,
    /// The router that owns the prefix.
    pub owner: Ipv4Addr,
    /// Each next hop's address on its link, and the link's interface.
    pub next_hops: Vec<(Ipv4Addr, usize)>,
}

/// One direction of a link in the TE database, as this node learned it from TE LSAs
/// (RFC 3630 §2.5): between two routers by router ID.
#[derive(Debug, Clone, Serialize)]
pub struct TeLinkRow {
    pub from: Ipv4Addr,
    pub to: Ipv4Addr,
    pub name: String,
    pub te_metric: u32,
    /// Unreserved bandwidth at each of the eight priorities, bits per second.
    pub unreserved_bps: [f64; 8],
    /// The power metric of the draft's power tree.
    pub power_cost: f64,
    pub switching: mplamps_core::gmpls::SwitchingType,
    pub encoding: mplamps_core::gmpls::LspEncoding,
    pub srlg: Vec<u32>,
}

/// The running RSVP-TE control plane.
#[derive(Debug, Clone, Serialize)]
pub struct RsvpView {
    /// Its Src_Instance (a restart takes a new one).
    pub instance: u32,
    /// Within the Recovery_Time after a restart.
    pub recovering: bool,
    pub neighbors: Vec<rsvp::NeighborView>,
    pub lsps: Vec<rsvp::LspView>,
    /// The LSPs this node is the ingress of, as its head end holds them.
    pub tunnels: Vec<crate::head_end::Tunnel>,
    /// What this control plane counted since it started.
    pub counters: rsvp::Counters,
}

impl Node {
    pub fn view(&self) -> NodeView {
        let ospf = self.ospf();
        NodeView {
            router_id: self.router_id(),
            area: ospf.config().area,
            neighbors: ospf
                .neighbors()
                .into_iter()
                .map(|(interface, router_id, state)| NeighborView {
                    interface,
                    interface_name: ospf
                        .config()
                        .interfaces
                        .get(interface)
                        .map_or_else(String::new, |i| i.name.clone()),
                    router_id,
                    state: state.name(),
                })
                .collect(),
            lsa_count: ospf.lsdb().len(),
            lsdb_digest: format!("{:016x}", ospf.lsdb().digest()),
            ospf_counters: ospf.counters().clone(),
            ldp: self.ldp().map(|l| self.ldp_view(l)),
            rsvp: self.rsvp().map(|i| RsvpView {
                instance: i.hello_instance(),
                recovering: i.recovering(),
                neighbors: i.neighbors().cloned().collect(),
                lsps: i.lsps().collect(),
                tunnels: self.tunnels().to_vec(),
                counters: i.counters().clone(),
            }),
        }
    }

    /// The routes of the regular tree, or of the power tree, in prefix order.
    pub fn route_rows(&self, power: bool) -> Vec<RouteRow> {
        let routes = self.ospf().routes();
        let tree = if power {
            &routes.power
        } else {
            &routes.regular
        };
        tree.iter()
            .map(|(prefix, route)| RouteRow {
                prefix: prefix.to_string(),
                cost: route.cost,
                owner: route.owner,
                next_hops: route
                    .next_hops
                    .iter()
                    .map(|h| (h.address, h.interface))
                    .collect(),
            })
            .collect()
    }

    /// The area database, in (type, ID, advertising router) order.
    pub fn ospf_database(&self, now: std::time::Duration) -> Vec<LsaRow> {
        let mut rows: Vec<LsaRow> = self
            .ospf()
            .lsdb()
            .iter()
            .map(|(key, entry)| LsaRow {
                ls_type: key.ls_type.to_u8(),
                link_state_id: key.id,
                adv_router: key.adv_router,
                sequence: format!("{:08x}", entry.lsa.header.seq),
                checksum: format!("0x{:04x}", entry.lsa.header.checksum),
                age: entry.age(now),
            })
            .collect();
        rows.sort_by_key(|r| (r.ls_type, r.link_state_id, r.adv_router));
        rows
    }

    /// The TE database this node computes LSP paths on: every link direction it learned
    /// and that is up, in (from, to, name) order.
    pub fn te_rows(&self) -> Vec<TeLinkRow> {
        let view = self.te_view();
        let id = |i: usize| {
            view.routers
                .get(i)
                .copied()
                .unwrap_or(Ipv4Addr::UNSPECIFIED)
        };
        let mut rows: Vec<TeLinkRow> = view
            .graph
            .links
            .iter()
            .filter(|l| l.up)
            .map(|l| TeLinkRow {
                from: id(l.from),
                to: id(l.to),
                name: l.name.clone(),
                te_metric: l.te_metric,
                unreserved_bps: l.unreserved_bps,
                power_cost: l.power_cost,
                switching: l.switching,
                encoding: l.encoding,
                srlg: l.srlg.clone(),
            })
            .collect();
        rows.sort_by(|a, b| (a.from, a.to, &a.name).cmp(&(b.from, b.to, &b.name)));
        rows
    }

    /// Every LFIB entry, LDP's of both trees and RSVP-TE's, in label order.
    pub fn lfib_rows(&self) -> Vec<LfibRow> {
        self.tables()
            .lfib
            .iter()
            .map(|(&in_label, e)| LfibRow {
                in_label,
                tree: e.topology,
                fec: e.fec.to_string(),
                next_hops: e.next_hops.clone(),
            })
            .collect()
    }

    fn ldp_view(&self, l: &ldp::Instance) -> LdpView {
        LdpView {
            sessions: l
                .sessions()
                .into_iter()
                .map(|(peer, state)| LdpSessionView {
                    peer,
                    state,
                    power: l.peer_has_power(peer),
                })
                .collect(),
            lfib: self
                .lfib_rows()
                .into_iter()
                // RSVP-TE's labels have their own range and their own view (`lsps`).
                .filter(|row| l.labels().range_owner(row.in_label) != Some(LabelOwner::RsvpTe))
                .collect(),
            counters: l.counters().clone(),
        }
    }
}
