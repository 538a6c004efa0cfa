//! Every router's configuration, derived from the network model (brief §2 rule 3): the
//! simulator and the daemon configure routers alike, and no protocol crate reads the model.
//! OSPF's comes first; LDP's and RSVP-TE's follow from it (the same interfaces in the same
//! order).

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use mplamps_core::fec::Fec;
use mplamps_core::gmpls::{LinkGmpls, SwitchingType};
use mplamps_ldp::instance as ldp;
use mplamps_ospf::instance::AuthKey;
use mplamps_ospf::instance::{
    DEFAULT_MTU, InterfaceConfig, InterfaceKind, PortPower, RouterConfig, StubNetwork, TeValues,
    Timers,
};
use mplamps_ospf::packet::PowerCodePoints;
use mplamps_rsvp::instance as rsvp;
use mplamps_te::LspSpec;
use mplamps_te::power::{Metrics, Selection};
use mplamps_te::topology::{Network, Router};

use crate::head_end::{TunnelHop, TunnelSpec};

/// The cost of a host subnet from its router: the least a link costs, so that the way to a
/// host is the way to its router.
const HOST_SUBNET_COST: u16 = 1;

/// The configuration of every router of `net`, indexed like `net.routers`.
pub fn ospf_configs(net: &Network, metrics: &Metrics) -> Vec<RouterConfig> {
    let s = &net.ospf;
    let timers = Timers {
        hello: Duration::from_secs(u64::from(s.hello_interval_s)),
        dead: Duration::from_secs(u64::from(s.dead_interval_s)),
        retransmit: Duration::from_secs(u64::from(s.retransmit_interval_s)),
        spf_delay: Duration::from_millis(s.spf_delay_ms),
        spf_hold: Duration::from_millis(s.spf_hold_ms),
        spf_max_wait: Duration::from_millis(s.spf_max_wait_ms),
        flood_pacing: Duration::from_millis(s.flood_pacing_ms),
        ack_delay: Duration::from_millis(s.ack_delay_ms),
        ..Timers::default()
    };
    // Each router originates a Router-LSA, a TE LSA for its router address and one for
    // each link; a multi-access link's DR adds a Network-LSA.
    let multi_access = net.links.iter().filter(|l| l.multi_access).count();
    let expected_lsas = 2 * net.routers.len() + 2 * net.links.len() + multi_access;
    let mut configs: Vec<RouterConfig> = net
        .routers
        .iter()
        .map(|r| RouterConfig {
            name: r.name.clone(),
            router_id: r.router_id.to_ipv4(),
            area: s.area,
            timers: timers.clone(),
            code_points: if s.draft_codepoints {
                PowerCodePoints::Draft
            } else {
                PowerCodePoints::Experimental
            },
            selection: net.selection,
            power_membership: net.power_membership,
            interfaces: Vec::new(),
            label_conversion: r.label_conversion,
            // The model checked the key's length for its algorithm.
            auth: s
                .auth
                .as_ref()
                .and_then(|a| AuthKey::new(a.algorithm, a.key_id, a.key.as_bytes()).ok()),
            auth_sequence: 0,
            expected_lsas,
            stub_networks: Vec::new(),
        })
        .collect();
    for host in &net.hosts {
        if let Some(config) = configs.get_mut(host.port.router) {
            config.stub_networks.push(StubNetwork {
                address: host.gateway_address(),
                cost: HOST_SUBNET_COST,
            });
        }
    }
    let by_port: std::collections::HashMap<_, _> = metrics
        .ports
        .iter()
        // The marginal ratio follows the load continuously (no quantum); it is advertised
        // only when receivers use it, so dampening holds under the other rules.
        .map(|p| {
            let marginal = p
                .marginal_ratio
                .filter(|_| net.selection == Selection::Marginal);
            (p.port, (p.consumed_ratio, p.available_ratio, marginal))
        })
        .collect();
    let port_power = |port| by_port.get(&port).copied().unwrap_or_default();
    for (i, link) in net.links.iter().enumerate() {
        let addresses = net.link_addresses(i);
        let if_index = |router: usize| {
            configs
                .get(router)
                .map_or(1, |c| c.interfaces.len() as u32 + 1)
        };
        let (index_a, index_b) = (if_index(link.a.router), if_index(link.b.router));
        for (end, port, weight, address, local, remote) in [
            (
                link.a.router,
                link.a,
                link.weight_a,
                addresses.map(|a| a[0]),
                index_a,
                index_b,
            ),
            (
                link.b.router,
                link.b,
                link.weight_b,
                addresses.map(|a| a[1]),
                index_b,
                index_a,
            ),
        ] {
            let (consumed_ratio, available_ratio, marginal_ratio) = port_power(port);
            let Some(config) = configs.get_mut(end) else {
                continue;
            };
            config.interfaces.push(InterfaceConfig {
                name: link.name.clone(),
                kind: if link.multi_access {
                    InterfaceKind::Broadcast
                } else {
                    InterfaceKind::PointToPoint
                },
                address,
                if_index: local,
                remote_if_index: remote,
                cost: u16::try_from(link.metric).unwrap_or(u16::MAX),
                mtu: DEFAULT_MTU,
                priority: 1,
                te: TeValues {
                    max_bandwidth: link.capacity,
                    max_reservable: link.capacity,
                    unreserved: [link.available.floor_to(net.bandwidth_quantum); 8],
                    te_metric: link.gmpls.te_metric.unwrap_or(link.metric),
                    power: PortPower {
                        consumed_ratio,
                        available_ratio,
                        marginal_ratio,
                        weight,
                    },
                    gmpls: flooded_gmpls(&link.gmpls),
                },
            });
        }
    }
    configs
}

/// What OSPF-TE floods of a link's GMPLS attributes. The labels of a power line are
/// voltages every LSP on the line uses at once (RFC 3251 §7.1): they are not a resource to
/// flood as available, and a grid's transformers change them where no label conversion is
/// advertised.
fn flooded_gmpls(gmpls: &LinkGmpls) -> LinkGmpls {
    let mut flooded = gmpls.clone();
    if gmpls.switching == Some(SwitchingType::Electric) {
        flooded.labels = None;
    }
    flooded
}

/// What routers and links are called: the topology file's names, by router ID. Messages
/// and the TE database's view use them; a router missing here goes by its router ID.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Names {
    routers: HashMap<Ipv4Addr, String>,
    /// By (router, neighbor), both ways; the first of parallel links.
    links: HashMap<(Ipv4Addr, Ipv4Addr), String>,
}

impl Names {
    /// The names of `net`, whose routers' OSPF configurations are `ospf`.
    pub fn of(net: &Network, ospf: &[RouterConfig]) -> Names {
        let id = |r: usize| ospf.get(r).map(|c| c.router_id);
        let routers = net
            .routers
            .iter()
            .enumerate()
            .filter_map(|(r, router)| Some((id(r)?, router.name.clone())))
            .collect();
        let mut links = HashMap::new();
        for link in &net.links {
            let (Some(a), Some(b)) = (id(link.a.router), id(link.b.router)) else {
                continue;
            };
            links.entry((a, b)).or_insert_with(|| link.name.clone());
            links.entry((b, a)).or_insert_with(|| link.name.clone());
        }
        Names { routers, links }
    }

    pub fn router(&self, id: Ipv4Addr) -> String {
        self.routers
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    pub fn link(&self, from: Ipv4Addr, to: Ipv4Addr) -> String {
        self.links
            .get(&(from, to))
            .cloned()
            .unwrap_or_else(|| format!("{from}-{to}"))
    }
}

/// The LSP `spec` of the model as its ingress sets it up: router IDs for router indices.
/// `secondary` makes it the secondary of `spec.name` (RFC 3471 §7).
pub fn tunnel_spec(
    ospf: &[RouterConfig],
    spec: &LspSpec,
    ids: (u16, u16),
    secondary: bool,
) -> TunnelSpec {
    let id = |r: usize| ospf.get(r).map_or(Ipv4Addr::UNSPECIFIED, |c| c.router_id);
    let (tunnel_id, lsp_id) = ids;
    TunnelSpec {
        name: if secondary {
            format!("{}/secondary", spec.name)
        } else {
            spec.name.clone()
        },
        tunnel_id,
        lsp_id,
        to: id(spec.to),
        fallback_egresses: spec.fallback_egresses.iter().map(|&r| id(r)).collect(),
        bandwidth_bps: spec.bandwidth.bps(),
        switching: spec.switching,
        encoding: spec.encoding,
        gpid: spec.gpid,
        bidirectional: spec.bidirectional,
        link_protection: spec.link_protection,
        extra_traffic: spec.extra_traffic,
        objective: spec.objective,
        route: spec
            .route
            .iter()
            .map(|h| TunnelHop {
                router: id(h.router),
                loose: h.loose,
                label: h.label,
                upstream_label: h.upstream_label,
            })
            .collect(),
        label_set: spec.label_set.clone(),
        setup_priority: spec.setup_priority,
        hold_priority: spec.hold_priority,
        hop_admission: spec.hop_admission,
        secondary_of: spec
            .secondary
            .filter(|_| secondary)
            .map(|how| (spec.name.clone(), how)),
        notify: spec.secondary.is_some(),
    }
}

/// The LDP configuration of one router.
pub fn ldp_config(net: &Network, router: &Router, ospf: &RouterConfig) -> ldp::Config {
    let s = &net.ldp;
    let mut c = ldp::Config::new(ospf.router_id);
    c.interfaces = ospf
        .interfaces
        .iter()
        .map(|i| i.address.map_or(ospf.router_id, |a| a.addr))
        .collect();
    c.local_prefixes = std::iter::once(Fec::new(ospf.router_id, 32))
        .chain(
            ospf.interfaces
                .iter()
                .filter_map(|i| i.address)
                .chain(ospf.stub_networks.iter().map(|n| n.address))
                .map(|a| Fec::new(a.addr, a.prefix_len)),
        )
        .collect();
    c.local_prefixes.sort();
    c.local_prefixes.dedup();
    c.hello_interval = Duration::from_secs(u64::from(s.hello_interval_s));
    c.hello_hold = Duration::from_secs(u64::from(s.hello_hold_s));
    c.keepalive = Duration::from_secs(u64::from(s.keepalive_s));
    c.control = if s.ordered {
        ldp::Control::Ordered
    } else {
        ldp::Control::Independent
    };
    c.power = router.ldp_power.then_some(ldp::PowerCapability {
        code: s.power_capability_code,
        mt_id: s.power_mt_id,
    });
    c
}

/// The RSVP-TE configuration of router `r`, given every router's OSPF configuration: one
/// interface per attached link in OSPF's order, identified by the link's number plus one on
/// both ends (IF_ID TLVs name it, RFC 3471 §9.1.1), each link its own control channel.
pub fn rsvp_config(net: &Network, r: usize, ospf: &[RouterConfig]) -> rsvp::Config {
    let router_id = |r: usize| ospf.get(r).map_or(Ipv4Addr::UNSPECIFIED, |c| c.router_id);
    let interfaces = net
        .links
        .iter()
        .enumerate()
        .filter_map(|(l, link)| {
            let far = if link.a.router == r {
                link.b.router
            } else if link.b.router == r {
                link.a.router
            } else {
                return None;
            };
            Some(rsvp::Interface {
                id: l as u32 + 1,
                neighbor: router_id(far),
                switching: link.gmpls.switching_or_psc(),
                encoding: link.gmpls.encoding_in_use(),
                labels: link.gmpls.labels.clone(),
                protection: link.gmpls.protection.unwrap_or_default(),
                bandwidth_bps: link.available.bps(),
                carries_control: true,
            })
        })
        .collect();
    let mut config = rsvp::Config::new(router_id(r), interfaces);
    config.label_conversion = net.routers.get(r).is_some_and(|x| x.label_conversion);
    config
}
