//! One mplamps router, between the protocol crates and the two drivers (simulator, daemon).
#![forbid(unsafe_code)]

pub mod config;
mod forwarding;
pub mod head_end;
mod node;
pub mod te_advertising;
pub mod te_database;
pub mod view;

pub use head_end::{Tunnel, TunnelEvent, TunnelHop, TunnelSpec, TunnelState};
pub use node::{Datagram, Event, Node, NodeConfig, Protocol, StreamOp, Transmit, ldp_routes};
pub use te_advertising::FloodThresholds;
