//! One mplamps router, between the protocol crates and the two drivers (simulator, daemon).
#![forbid(unsafe_code)]

pub mod config;
