//! One mplamps router, between the protocol crates and the two drivers (simulator, daemon).
#![forbid(unsafe_code)]

pub mod config;
mod forwarding;
mod node;

pub use node::{Datagram, Event, Node, NodeConfig, Protocol, StreamOp, Transmit, ldp_routes};
