//! What one router is told: its identity, timers and interfaces with their TE values.
//! [`RouterConfig::from_network`] derives every router's configuration from the topology
//! model (brief §2 rule 3), so the simulator and the daemon configure routers alike.

use std::net::Ipv4Addr;
use std::time::Duration;

use mplamps_core::Bandwidth;
use mplamps_te::power::{Metrics, Selection};
use mplamps_te::topology::{InterfaceAddress, LinkGmpls, Network, PowerMembership};

use crate::packet::PowerCodePoints;

#[derive(Debug, Clone, PartialEq)]
pub struct Timers {
    pub hello: Duration,
    pub dead: Duration,
    pub retransmit: Duration,
    /// RFC 2328 Appendix B.
    pub inf_trans_delay: u16,
    pub min_ls_interval: Duration,
    pub min_ls_arrival: Duration,
    pub ls_refresh: Duration,
    /// SPF throttle (as FRR's `timers throttle spf`): first delay, hold, maximum hold.
    pub spf_delay: Duration,
    pub spf_hold: Duration,
    pub spf_max_wait: Duration,
    /// Least time between LS Updates flooded out of one interface.
    pub flood_pacing: Duration,
    /// RFC 2328 §13.5 delayed acknowledgements.
    pub ack_delay: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            hello: Duration::from_secs(10),
            dead: Duration::from_secs(40),
            retransmit: Duration::from_secs(5),
            inf_trans_delay: 1,
            min_ls_interval: Duration::from_secs(5),
            min_ls_arrival: Duration::from_secs(1),
            ls_refresh: Duration::from_secs(1800),
            spf_delay: Duration::ZERO,
            spf_hold: Duration::from_millis(50),
            spf_max_wait: Duration::from_millis(5000),
            flood_pacing: Duration::from_millis(33),
            ack_delay: Duration::from_secs(1),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterfaceKind {
    PointToPoint,
    /// Multi-access with DR/BDR election (RFC 2328 §9.4).
    Broadcast,
}

/// The power values of this router's port on a link (draft §2.4.1), W per Gb/s.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PortPower {
    pub consumed_ratio: Option<f64>,
    pub available_ratio: Option<f64>,
    pub marginal_ratio: Option<f64>,
    pub weight: f64,
}

/// What this router advertises about one link in its TE LSA. Every value is already
/// quantized (draft §2.3), so equal values mean no re-origination.
#[derive(Debug, Clone, PartialEq)]
pub struct TeValues {
    pub max_bandwidth: Bandwidth,
    pub max_reservable: Bandwidth,
    /// Available bandwidth, after the bandwidth quantum; advertised at all 8 priorities.
    pub unreserved: Bandwidth,
    pub te_metric: u32,
    pub power: PortPower,
    pub gmpls: LinkGmpls,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InterfaceConfig {
    /// The link's name in the topology.
    pub name: String,
    pub kind: InterfaceKind,
    /// `None`: unnumbered.
    pub address: Option<InterfaceAddress>,
    /// RFC 4203 §1.1 link local identifier; 1-based position among the router's links.
    pub if_index: u32,
    /// The far end's link identifier, for unnumbered links.
    pub remote_if_index: u32,
    pub cost: u16,
    pub mtu: u16,
    pub priority: u8,
    pub te: TeValues,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RouterConfig {
    pub name: String,
    pub router_id: Ipv4Addr,
    pub area: Ipv4Addr,
    pub timers: Timers,
    pub code_points: PowerCodePoints,
    /// How received power values are chosen and joined (draft §2.4.1.3, §2.4.4).
    pub selection: Selection,
    pub power_membership: PowerMembership,
    pub interfaces: Vec<InterfaceConfig>,
    /// About how many LSAs the area will hold: the link-state database is sized for them
    /// from the start instead of growing (and copying itself) step by step. A hint only;
    /// 0 lets it grow.
    pub expected_lsas: usize,
}

/// MTU of simulated interfaces: Ethernet.
pub const DEFAULT_MTU: u16 = 1500;

impl RouterConfig {
    /// The configuration of every router of `net`, indexed like `net.routers`.
    pub fn from_network(net: &Network, metrics: &Metrics) -> Vec<RouterConfig> {
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
                expected_lsas,
            })
            .collect();
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
                        unreserved: link.available.floor_to(net.bandwidth_quantum),
                        te_metric: link.gmpls.te_metric.unwrap_or(link.metric),
                        power: PortPower {
                            consumed_ratio,
                            available_ratio,
                            marginal_ratio,
                            weight,
                        },
                        gmpls: link.gmpls.clone(),
                    },
                });
            }
        }
        configs
    }
}
