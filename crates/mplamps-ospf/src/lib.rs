//! OSPFv2 (RFC 2328) with opaque LSAs (RFC 5250), traffic engineering (RFC 3630), GMPLS
//! extensions (RFC 4203) and the power sub-TLVs of draft-mjsraman-rtgwg-ospf-ldp-power-topo.
//!
//! `packet` is the wire codec; `instance` is the sans-IO protocol instance (brief §2 rule 1):
//! it is fed packets, time and configuration, and is polled for packets to send, the next
//! timeout and events for sibling instances.
#![forbid(unsafe_code)]

pub mod instance;
pub mod packet;
