//! Shared vocabulary of mplamps: router identifiers and bandwidth with its wire forms.
//!
//! Everything here is plain data with total, non-panicking conversions; protocol crates
//! build their wire codecs on top of it.
#![forbid(unsafe_code)]

pub mod address;
pub mod auth;
pub mod bandwidth;
pub mod duration;
pub mod router_id;
pub mod wire;

pub use address::InterfaceAddress;
pub use bandwidth::{Bandwidth, BandwidthParseError};
pub use router_id::RouterId;
pub mod gmpls;

pub use gmpls::{LabelSet, LspEncoding, ProtectionFlags, SwitchingType};
pub mod label;

pub use label::{LabelOwner, LabelRange, LabelSpace};
pub mod fec;
