//! A user-space MPLS data plane (brief §2): packets are real octets — RFC 3032 label stack
//! entries in front of an IPv4 datagram — and every router parses, looks up and rewrites
//! them: push at the ingress (FTN), swap in transit (LFIB), pop at the penultimate hop when
//! the egress advertised implicit null, TTL handling of RFC 3032 §2.4 / RFC 3443 (uniform
//! model), and drop counters with reasons.
#![forbid(unsafe_code)]

pub mod arp;
pub mod ethernet;
pub mod forward;
pub mod icmp;
pub mod ipv4;
pub mod lse;
pub mod lsr;
pub mod tables;

pub use forward::{Action, DropReason, Drops, Hop};
pub use lse::LabelStackEntry;
pub use tables::{NextHop, Operation, Tables};
