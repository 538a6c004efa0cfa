//! LDP (RFC 5036) with capabilities (RFC 5561) and a power-tree label space
//! (draft-mjsraman-rtgwg-ospf-ldp-power-topo §2.4.3). `packet`: the wire codec;
//! `instance`: the sans-IO protocol instance.
#![forbid(unsafe_code)]

pub mod instance;
pub mod packet;
