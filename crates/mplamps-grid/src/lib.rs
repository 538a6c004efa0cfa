//! MPLampS (RFC 3251 §7): an electricity grid whose voltages are labels.
//!
//! - `model`: buses, lines, two- and three-winding transformers, switches, electricity
//!   sources, loads (lamps) and customers, in SI units, every element remembering where it
//!   was imported from.
//! - `file`: the `[grid]` section of a topology file (docs/grid.md), read with errors that
//!   name the file, line, field and what was expected, and written back.
//! - `pandapower`: the importer of pandapower's JSON networks.
//! - `gmpls`: the grid as a GMPLS network (buses and transformers as LSRs, lines as TE
//!   links labelled with their voltage, power metrics from losses).
//!
//! The lamps themselves, switched over RSVP-TE in the simulator, are the `mplamps-lamps`
//! application's; this crate knows no protocol and no simulator.

#![forbid(unsafe_code)]

pub mod file;
pub mod gmpls;
pub mod model;
pub mod pandapower;

pub use model::{
    Bus, Customer, Grid, GridError, Line, Load, Source, SourceKind, Switch, SwitchTarget,
    Transformer, Winding,
};
