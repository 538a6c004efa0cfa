//! The network model: routers with line cards and ports, and links between ports.
//!
//! A [`Network`] is always valid: it is built only by [`Network::from_toml`] (which checks
//! every rule in `docs/topology-format.md`) or by code that upholds the same rules
//! (importers and the generator write TOML and read it back).

mod demand;
mod error;
pub mod every_error;
mod file;
mod host;
mod lsp;
mod write;

pub use demand::Demand;
pub use host::Host;
pub use lsp::{DEFAULT_GPID, LspHop, LspSpec, parse_lsps};
pub use write::to_toml;

pub use error::{TopologyError, TopologyErrors, line_of};
pub use every_error::{MAX_TYPE_ERRORS, type_errors};

use std::net::Ipv4Addr;

use mplamps_core::{Bandwidth, RouterId};
use serde::Serialize;

pub use mplamps_algorithms::power::PowerMembership;
use mplamps_algorithms::power::Selection;
pub use mplamps_core::InterfaceAddress;
pub use mplamps_core::gmpls::LinkGmpls;

use crate::profile::PowerProfile;

/// Default reference bandwidth for IGP costs (FRR's `auto-cost reference-bandwidth` is
/// 100 Mb/s; we default to 100 Gb/s so that 10G and 100G links get different costs).
pub const DEFAULT_REFERENCE_BANDWIDTH_BPS: f64 = 100e9;
/// Largest OSPF interface cost (RFC 2328 §A.3.2: 16-bit metric).
pub const MAX_METRIC: u32 = 0xFFFF;

#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    pub name: Option<String>,
    /// X of the draft: the normalized port bandwidth.
    pub normalize_to: Bandwidth,
    pub selection: Selection,
    /// Dampening interval for available bandwidth (draft §2.3); zero when not set.
    pub bandwidth_quantum: Bandwidth,
    /// Dampening interval for power in watts (draft §2.3); zero when not set.
    pub power_quantum_w: f64,
    pub reference_bandwidth: Bandwidth,
    /// Which links are in the power topology (draft §2.4.4).
    pub power_membership: PowerMembership,
    /// What routers' `position`s are: plane coordinates, or longitude and latitude.
    pub positions: Positions,
    pub ospf: OspfSettings,
    pub ldp: LdpSettings,
    /// Which flows ride which tree (draft §2.4.5), first match wins.
    pub fec_policy: Vec<FecPolicy>,
    pub routers: Vec<Router>,
    pub links: Vec<Link>,
    /// `[[lsp]]` tables: LSPs the simulator signals with RSVP-TE.
    pub lsps: Vec<LspSpec>,
    /// The traffic matrix (`[[demand]]`).
    pub demands: Vec<Demand>,
    /// End systems on router ports (`[[host]]`).
    pub hosts: Vec<Host>,
}

/// The `[ospf]` table: protocol timers and options shared by every router of the network.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OspfSettings {
    pub area: Ipv4Addr,
    pub hello_interval_s: u16,
    pub dead_interval_s: u32,
    pub retransmit_interval_s: u16,
    /// SPF throttling as FRR's `timers throttle spf DELAY HOLD MAX`, in milliseconds.
    pub spf_delay_ms: u64,
    pub spf_hold_ms: u64,
    pub spf_max_wait_ms: u64,
    /// Least time between two LS Updates flooded out of one interface; LSAs arriving in
    /// between go out together (as Cisco's `timers pacing flood`, default 33 ms).
    pub flood_pacing_ms: u64,
    /// Delayed acknowledgements (RFC 2328 §13.5) wait this long to be bundled; it must stay
    /// below the retransmit interval (FRR waits 1 s).
    pub ack_delay_ms: u64,
    /// Emit the draft's colliding sub-TLV numbers 11/12/10 instead of 32768/32769/32770.
    pub draft_codepoints: bool,
    /// Cryptographic authentication on every interface (RFC 2328 §D.3 keyed MD5, RFC 5709
    /// HMAC-SHA); `None`: none.
    pub auth: Option<OspfAuth>,
}

/// The key every interface signs and checks OSPF packets with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OspfAuth {
    pub algorithm: mplamps_core::auth::CryptoAlgorithm,
    pub key_id: u8,
    /// The secret: at most 16 octets for MD5.
    pub key: String,
}

impl Default for OspfSettings {
    /// RFC 2328 Appendix C defaults; FRR's SPF throttle (0, 50, 5000 ms) and ack delay (1 s);
    /// Cisco's flood pacing (33 ms).
    fn default() -> Self {
        OspfSettings {
            area: Ipv4Addr::UNSPECIFIED,
            hello_interval_s: 10,
            dead_interval_s: 40,
            retransmit_interval_s: 5,
            spf_delay_ms: 0,
            spf_hold_ms: 50,
            spf_max_wait_ms: 5000,
            flood_pacing_ms: 33,
            ack_delay_ms: 1000,
            draft_codepoints: false,
            auth: None,
        }
    }
}

/// The `[ldp]` table (RFC 5036 timers; draft §2.4.3 capability).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LdpSettings {
    /// Run LDP in the simulator: true when the file has an `[ldp]` table (or the command
    /// line asks for it).
    pub enabled: bool,
    /// RFC 5036 §2.6.1 distribution control: `true` ordered (the default), `false`
    /// independent.
    pub ordered: bool,
    pub hello_interval_s: u16,
    pub hello_hold_s: u16,
    pub keepalive_s: u16,
    /// The Power-SPF capability TLV code point (RFC 5561), experimental range by default.
    pub power_capability_code: u16,
    /// MT-ID of power-tree FEC elements (RFC 7307); 100 lies in RFC 4915's private range.
    pub power_mt_id: u16,
    /// The TCP MD5 signature key of every session (RFC 5036 §2.9); `None`: unsigned.
    /// Only real sockets sign: the simulator carries no TCP.
    pub password: Option<String>,
}

impl Default for LdpSettings {
    /// FRR's link hello 5 s / hold 15 s / keepalive 180 s.
    fn default() -> Self {
        LdpSettings {
            enabled: false,
            ordered: true,
            hello_interval_s: 5,
            hello_hold_s: 15,
            keepalive_s: 180,
            power_capability_code: 0x3F01,
            power_mt_id: 100,
            password: None,
        }
    }
}

/// One `[[fec_policy]]` rule (draft §2.4.5): flows to `prefix`, at `min_rate` or more when
/// given, ride `tree`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FecPolicy {
    pub prefix: Ipv4Addr,
    pub prefix_len: u8,
    pub min_rate: Option<Bandwidth>,
    pub tree: mplamps_core::fec::Topology,
    /// An `[[lsp]]` the flows ride from its ingress while it is up; elsewhere, and while it
    /// is down, they take `tree`.
    pub lsp: Option<String>,
}

impl FecPolicy {
    /// The first rule a flow to `dst` at `rate` matches, with its place among `rules`.
    pub fn matching(
        rules: &[FecPolicy],
        dst: Ipv4Addr,
        rate: Option<Bandwidth>,
    ) -> Option<(usize, &FecPolicy)> {
        rules.iter().enumerate().find(|(_, r)| {
            mplamps_core::fec::Fec::new(r.prefix, r.prefix_len).contains(dst)
                && r.min_rate
                    .is_none_or(|min| rate.is_some_and(|rate| rate.bps() >= min.bps()))
        })
    }

    /// The tree for a flow and why, in words: the first `[[fec_policy]]` rule it matches
    /// (by its place in the file), else the regular tree by default.
    pub fn choose(
        rules: &[FecPolicy],
        dst: Ipv4Addr,
        rate: Option<Bandwidth>,
    ) -> (mplamps_core::fec::Topology, String) {
        match Self::matching(rules, dst, rate) {
            Some((k, r)) => {
                let rate = r
                    .min_rate
                    .map(|min| format!(" at {min}b/s or more"))
                    .unwrap_or_default();
                let ride = match &r.lsp {
                    Some(lsp) => format!("LSP {lsp:?} from its ingress, else the {} tree", r.tree),
                    None => format!("the {} tree", r.tree),
                };
                (
                    r.tree,
                    format!(
                        "[[fec_policy]] rule {}: {}/{}{rate} rides {ride}",
                        k + 1,
                        r.prefix,
                        r.prefix_len,
                    ),
                )
            }
            None if rules.is_empty() => (
                mplamps_core::fec::Topology::Regular,
                "no [[fec_policy]] rules: the regular tree".to_string(),
            ),
            None => (
                mplamps_core::fec::Topology::Regular,
                format!(
                    "none of the {} [[fec_policy]] rules matches: the regular tree",
                    rules.len()
                ),
            ),
        }
    }
}

/// What the `position` of a router means (`[network] positions`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Positions {
    /// `[x, y]` in the plane, for pictures only.
    #[default]
    Plane,
    /// `[longitude, latitude]` in degrees (imported maps): links have a length in km.
    Geographic,
}

impl Positions {
    pub fn from_name(name: &str) -> Option<Positions> {
        match name {
            "plane" => Some(Positions::Plane),
            "geographic" => Some(Positions::Geographic),
            _ => None,
        }
    }
}

/// The addresses link `index` gets when the file gives none (ends a and b), while the
/// derived range lasts.
pub(super) fn derived_link_addresses(index: usize) -> Option<[InterfaceAddress; 2]> {
    if index >= DERIVED_SUBNET_LINKS {
        return None;
    }
    let base = DERIVED_SUBNET_BASE + 4 * index as u32;
    let end = |host: u32| InterfaceAddress {
        addr: Ipv4Addr::from(base + host),
        prefix_len: 30,
    };
    Some([end(1), end(2)])
}

/// Mean Earth radius (IUGG), in km.
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle distance between two `[longitude, latitude]` points in degrees, in km
/// (the haversine formula).
pub fn great_circle_km(a: [f64; 2], b: [f64; 2]) -> f64 {
    let (lon1, lat1) = (a[0].to_radians(), a[1].to_radians());
    let (lon2, lat2) = (b[0].to_radians(), b[1].to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// Derived link subnets: link i gets 172.16.0.0/12 + 4·i as a /30, end a the first host and
/// end b the second (docs/topology-format.md). That covers 262 144 links.
const DERIVED_SUBNET_BASE: u32 = 0xAC10_0000;
const DERIVED_SUBNET_LINKS: usize = 1 << 18;

#[derive(Debug, Clone, PartialEq)]
pub struct Router {
    pub name: String,
    pub router_id: RouterId,
    /// Where to draw the router: `[x, y]`, or `[longitude, latitude]` for imported maps.
    pub position: Option<[f64; 2]>,
    /// Can swap labels of one switching type (e.g. a wavelength converter); RFC 3471 §3.5.
    pub label_conversion: bool,
    /// Advertises the LDP Power-SPF capability (draft §2.4.3); default true.
    pub ldp_power: bool,
    /// Advertises the draft's power sub-TLVs in its TE LSAs; default true. A router without
    /// the extension (FRR, say) advertises none: its links leave the power topology, or
    /// take only the other end's value with one-sided membership (draft §2.4.4).
    pub power_te: bool,
    /// What the router draws with no line card (fans, power supplies, control boards), in
    /// watts; 0 when the file does not say.
    pub chassis_w: f64,
    pub linecards: Vec<LineCard>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LineCard {
    pub name: String,
    pub ports: Vec<String>,
    pub port_capacity: Bandwidth,
    pub power: LineCardPower,
}

impl LineCard {
    /// C of the draft: number of ports × port capacity.
    pub fn capacity(&self) -> Bandwidth {
        Bandwidth::from_bps(self.ports.len() as f64 * self.port_capacity.bps()).unwrap_or_default()
    }
}

/// How a line card's power is known.
#[derive(Debug, Clone, PartialEq)]
pub enum LineCardPower {
    /// Measured consumed power and calibrated available power, in watts.
    Measured { consumed_w: f64, available_w: f64 },
    /// A power profile: watts as a function of the line card's utilization.
    Profile(PowerProfile),
}

/// A port: indices into `routers`, their `linecards` and its `ports`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortRef {
    pub router: usize,
    pub linecard: usize,
    pub port: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub name: String,
    pub a: PortRef,
    pub b: PortRef,
    pub capacity: Bandwidth,
    pub available: Bandwidth,
    /// IGP cost, both directions.
    pub metric: u32,
    pub weight_a: f64,
    pub weight_b: f64,
    /// A broadcast segment: OSPF elects a DR and the DR originates a Network-LSA.
    pub multi_access: bool,
    /// Interface addresses of ends a and b, when the file gives them.
    pub addresses: Option<[InterfaceAddress; 2]>,
    pub gmpls: LinkGmpls,
}

impl Network {
    /// Parses and validates a topology file. `file` is the name used in error messages.
    pub fn from_toml(file: &str, text: &str) -> Result<Network, TopologyErrors> {
        file::parse(file, text)
    }

    /// Reads and validates a topology file from disk.
    pub fn load(path: &std::path::Path) -> Result<Network, TopologyErrors> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| TopologyErrors::single(TopologyError::io(&name, &e)))?;
        Network::from_toml(&name, &text)
    }

    pub fn router_index(&self, name: &str) -> Option<usize> {
        self.routers.iter().position(|r| r.name == name)
    }

    pub fn linecard(&self, port: PortRef) -> &LineCard {
        &self.routers[port.router].linecards[port.linecard]
    }

    /// `router:linecard:port`, as written in the topology file.
    pub fn port_name(&self, port: PortRef) -> String {
        let router = &self.routers[port.router];
        let card = &router.linecards[port.linecard];
        format!("{}:{}:{}", router.name, card.name, card.ports[port.port])
    }

    /// Interface addresses of link `index` (ends a, b): as given, or derived; `None` for
    /// unnumbered links and beyond the derived range.
    pub fn link_addresses(&self, index: usize) -> Option<[InterfaceAddress; 2]> {
        let link = self.links.get(index)?;
        if link.gmpls.unnumbered {
            return None;
        }
        link.addresses.or_else(|| derived_link_addresses(index))
    }

    /// The connected parts of the network, largest first (ties by their first router):
    /// each part's routers in file order. A connected network has one part.
    pub fn components(&self) -> Vec<Vec<usize>> {
        let n = self.routers.len();
        let mut neighbors = vec![Vec::new(); n];
        for link in &self.links {
            let (a, b) = (link.a.router, link.b.router);
            if a < n && b < n {
                neighbors[a].push(b);
                neighbors[b].push(a);
            }
        }
        let mut part_of = vec![usize::MAX; n];
        let mut parts: Vec<Vec<usize>> = Vec::new();
        let mut stack = Vec::new();
        for root in 0..n {
            if part_of[root] != usize::MAX {
                continue;
            }
            let index = parts.len();
            part_of[root] = index;
            stack.push(root);
            let mut members = Vec::new();
            while let Some(r) = stack.pop() {
                members.push(r);
                for &far in &neighbors[r] {
                    if part_of[far] == usize::MAX {
                        part_of[far] = index;
                        stack.push(far);
                    }
                }
            }
            members.sort_unstable();
            parts.push(members);
        }
        parts.sort_by_key(|p| (std::cmp::Reverse(p.len()), p.first().copied()));
        parts
    }

    /// The length of link `index` in km, when positions are geographic and both ends have one.
    pub fn link_km(&self, index: usize) -> Option<f64> {
        if self.positions != Positions::Geographic {
            return None;
        }
        let link = self.links.get(index)?;
        let at = |r: usize| self.routers.get(r).and_then(|r| r.position);
        Some(great_circle_km(at(link.a.router)?, at(link.b.router)?))
    }

    /// Default IGP cost of a link: reference bandwidth ÷ capacity, truncated, within 1..=65535
    /// (the rule of FRR's `auto-cost reference-bandwidth`).
    pub fn default_metric(reference: Bandwidth, capacity: Bandwidth) -> u32 {
        if capacity.bps() <= 0.0 {
            return MAX_METRIC;
        }
        let cost = (reference.bps() / capacity.bps()).floor();
        cost.clamp(1.0, f64::from(MAX_METRIC)) as u32
    }
}

#[cfg(test)]
mod geography_tests {
    use super::great_circle_km;

    /// One degree of latitude along a meridian is 2πR ÷ 360.
    #[test]
    fn great_circle_of_one_degree_and_of_a_known_pair() {
        let degree = great_circle_km([10.0, 0.0], [10.0, 1.0]);
        assert!((degree - 111.195).abs() < 1e-3, "{degree}");
        // Seattle to New York City, about 3 866 km on a sphere of this radius.
        let d = great_circle_km([-122.3321, 47.6062], [-74.0060, 40.7128]);
        assert!((d - 3866.0).abs() < 5.0, "{d}");
    }
}
