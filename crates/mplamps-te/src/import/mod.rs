//! Importers: other formats into the topology model.

pub mod graphml;
