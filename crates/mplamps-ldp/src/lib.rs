//! LDP (RFC 5036) with capabilities (RFC 5561). `packet`: the wire codec. The protocol
//! instance and the power-tree label space (draft-mjsraman-rtgwg-ospf-ldp-power-topo
//! §2.4.3) are not built yet.
#![forbid(unsafe_code)]

pub mod packet;
