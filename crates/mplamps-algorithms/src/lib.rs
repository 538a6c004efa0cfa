//! The algorithms every router runs on what it learned: shortest-path trees with ECMP (full
//! and incremental), constrained shortest paths over a TE graph (RFC 3471 constraints,
//! RFC 4203 link attributes), and the arithmetic of the power topology
//! (draft-mjsraman-rtgwg-ospf-ldp-power-topo §2).
//!
//! Nothing here knows a topology file, a protocol or a picture: the network model and the
//! protocol instances both build their graphs and hand them in.
#![forbid(unsafe_code)]

pub mod cspf;
pub mod power;
pub mod spf;
