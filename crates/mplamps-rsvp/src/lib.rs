//! RSVP-TE with the GMPLS extensions (RFC 3209, RFC 3471, RFC 3473).
//!
//! - [`packet`]: the wire codec — messages of objects, every GMPLS object of RFC 3473, unknown
//!   classes kept with the handling their class number asks for (RFC 2205 §3.10).

#![forbid(unsafe_code)]

pub mod instance;
pub mod packet;
