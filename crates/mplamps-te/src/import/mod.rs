//! Importers: other formats into the topology model.

pub mod graphml;
pub mod sndlib;
