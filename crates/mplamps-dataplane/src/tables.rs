//! The forwarding tables of one router (RFC 3031 §3.10–§3.12): the LFIB maps an incoming
//! label to next-hop label forwarding entries, the FTN maps a FEC of one tree to the
//! entries that push its first label.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use mplamps_core::fec::{Fec, Topology};

/// What to do with the top label toward one next hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// Send with this label (push at the ingress, swap in transit).
    Label(u32),
    /// The next hop is the egress and asked for implicit null: pop (PHP).
    Pop,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NextHop {
    pub interface: usize,
    pub address: Ipv4Addr,
    /// The router at the other end.
    pub router: Ipv4Addr,
    pub operation: Operation,
    /// A power-tree entry that uses the next hop's regular label (draft §2.4.4).
    pub fallback: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LfibEntry {
    pub topology: Topology,
    pub fec: Fec,
    pub next_hops: Vec<NextHop>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tables {
    pub lfib: BTreeMap<u32, LfibEntry>,
    pub ftn: BTreeMap<(Topology, Fec), Vec<NextHop>>,
    /// Addresses that are this router's own: packets to them are delivered here.
    pub local: Vec<Ipv4Addr>,
    /// Subnets on the router's own ports that no router is on (hosts), with the port: a
    /// packet to them goes straight to its destination.
    pub attached: Vec<(Fec, usize)>,
    /// The RSVP-TE LSPs this router is the ingress of that carry traffic, by name: the
    /// label to push and the first hop.
    pub tunnels: BTreeMap<String, NextHop>,
}

impl Tables {
    /// The attached subnet `dst` is on, and its port.
    pub fn attached_lookup(&self, dst: Ipv4Addr) -> Option<(Fec, usize)> {
        self.attached
            .iter()
            .find(|(fec, _)| fec.contains(dst))
            .copied()
    }

    /// Longest-prefix match of `dst` among the FECs of `topology` that have next hops.
    pub fn ftn_lookup(&self, topology: Topology, dst: Ipv4Addr) -> Option<(Fec, &[NextHop])> {
        self.ftn
            .iter()
            .filter(|((t, fec), hops)| *t == topology && !hops.is_empty() && fec.contains(dst))
            .max_by_key(|((_, fec), _)| fec.len)
            .map(|((_, fec), hops)| (*fec, hops.as_slice()))
    }
}
