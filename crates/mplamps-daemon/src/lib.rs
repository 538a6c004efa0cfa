//! `mplamps node`: one router on Linux interfaces. A tokio runtime drives the same
//! `mplamps_node::Node` the simulator drives, with real time and raw sockets.
#![deny(unsafe_code)]

mod arrivals;
mod capture;
pub mod config;
pub mod dataplane;
mod device;
mod kernel_routes;
mod ldp_transport;
pub mod link_layer;
mod link_state;
mod management;
mod raw_socket;
pub mod reload;
mod rsvp_socket;
pub mod run;
mod sockopt;
pub mod threads;

pub use config::DaemonConfig;
pub use run::{Reload, RunOptions, run};
