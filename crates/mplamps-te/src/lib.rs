//! mplamps traffic-engineering model: the network and its topology file, the power metrics of
//! draft-mjsraman-rtgwg-ospf-ldp-power-topo, shortest-path trees, importers and pictures.
//!
//! The topology model here is the single source every other part reads (brief §2 rule 3).
#![forbid(unsafe_code)]

pub mod generate;
pub mod gravity;
pub mod import;
pub mod json_float;
pub mod layout;
pub mod network_power;
pub mod power;
pub mod power_model;
pub mod profile;
pub mod render;
pub mod te_graph;
pub mod topology;
pub mod trees;

/// The algorithms the model's views are computed with, under the names callers know.
pub use mplamps_algorithms::{cspf, spf};

pub use power::{LinkMetrics, Metrics, PortMetrics, Selection};
pub use profile::PowerProfile;
pub use topology::{
    LineCard, LineCardPower, Link, LspSpec, Network, PortRef, Router, TopologyError,
};
