//! MPLampS (RFC 3251 §7) as an application on the simulator: the grid's buses and
//! transformers run as LSRs, and each lamp is an LSP.
//!
//! - `lamps`: lamps switched on and off over RSVP-TE in the simulator, the per-element,
//!   per-lamp and per-VPN report.
//! - `evening`: the lamp scenario file.
//! - `flowcheck`: reservations with every lamp on against pandapower's power flow.

#![forbid(unsafe_code)]

pub mod evening;
pub mod flowcheck;
pub mod lamps;
