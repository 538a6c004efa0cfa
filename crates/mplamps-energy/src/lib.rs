//! The energy study of mplamps: how much power the draft's power tree saves.
//!
//! The demands of a topology file are routed as routers forward them ([`routing`]) on the
//! regular tree, on the power tree iterated with its load-dependent metric, and on the power
//! tree with idle links asleep ([`study`]); the network's power comes from the file's power
//! model (`mplamps_te::network_power`). Formulas and sources: `docs/energy.md`.
#![forbid(unsafe_code)]

pub mod optimum;
pub mod pictures;
mod report;
pub mod routing;
pub mod study;

pub use optimum::OptimumOptions;
pub use routing::Split;
pub use study::{Options, Study, StudyError, study};
