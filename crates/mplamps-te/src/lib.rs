//! mplamps traffic-engineering model: the network and its topology file, the power metrics of
//! draft-mjsraman-rtgwg-ospf-ldp-power-topo, shortest-path trees, importers and pictures.
//!
//! The topology model here is the single source every other part reads (brief §2 rule 3).
#![forbid(unsafe_code)]

pub mod cspf;
pub mod generate;
pub mod import;
pub mod json_float;
pub mod layout;
pub mod power;
pub mod render;
pub mod spf;
pub mod topology;
pub mod trees;

pub use power::{LinkMetrics, Metrics, PortMetrics, PowerProfile, Selection};
pub use topology::{
    LineCard, LineCardPower, Link, LspSpec, Network, PortRef, Router, TopologyError,
};
