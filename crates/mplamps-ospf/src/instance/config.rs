//! What one router is told: its identity, timers and interfaces with their TE values.
//! The node layer derives it from the network model, so the simulator and the daemon
//! configure routers alike.

use std::net::Ipv4Addr;
use std::time::Duration;

use mplamps_algorithms::power::{PowerMembership, Selection};
use mplamps_core::Bandwidth;
use mplamps_core::InterfaceAddress;
use mplamps_core::gmpls::LinkGmpls;

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
    /// Unreserved bandwidth at each setup priority, 0 the best (RFC 3630 §2.5.8): what is
    /// available after the bandwidth quantum, less what LSPs hold at that priority or a
    /// better one.
    pub unreserved: [Bandwidth; 8],
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
    /// The router converts labels (RFC 3471 §3.5): said on each link that floods its free
    /// labels, so that CSPF may change labels here.
    pub label_conversion: bool,
    /// Cryptographic authentication on every interface (RFC 2328 §D.3, RFC 5709); `None`: none.
    pub auth: Option<super::auth::AuthKey>,
    /// The first cryptographic sequence number sent: a daemon starts from the wall clock's
    /// seconds, so a restart does not go back (§D.3).
    pub auth_sequence: u32,
    /// About how many LSAs the area will hold: the link-state database is sized for them
    /// from the start instead of growing (and copying itself) step by step. A hint only;
    /// 0 lets it grow.
    pub expected_lsas: usize,
    /// Networks on ports no OSPF neighbor is on (a host's subnet): advertised as stub links
    /// of the Router-LSA (RFC 2328 §12.4.1.4), as a passive interface is.
    pub stub_networks: Vec<StubNetwork>,
}

/// A network attached to the router with no neighbor on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StubNetwork {
    /// The router's address on it and the network's length.
    pub address: InterfaceAddress,
    pub cost: u16,
}

/// MTU of simulated interfaces: Ethernet.
pub const DEFAULT_MTU: u16 = 1500;
