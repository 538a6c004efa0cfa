//! The network model: routers with line cards and ports, and links between ports.
//!
//! A [`Network`] is always valid: it is built only by [`Network::from_toml`] (which checks
//! every rule in `docs/topology-format.md`) or by code that upholds the same rules
//! (importers and the generator write TOML and read it back).

mod error;
mod file;
mod write;

pub use write::to_toml;

pub use error::{TopologyError, TopologyErrors};

use mplamps_core::{Bandwidth, RouterId};

use crate::power::{PowerProfile, Selection};

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
    pub routers: Vec<Router>,
    pub links: Vec<Link>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Router {
    pub name: String,
    pub router_id: RouterId,
    /// Where to draw the router: `[x, y]`, or `[longitude, latitude]` for imported maps.
    pub position: Option<[f64; 2]>,
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
