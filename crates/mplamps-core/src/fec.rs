//! Forwarding equivalence classes and the routing topologies they are labelled in: the
//! vocabulary LDP, the data plane and the simulator share.

use std::net::Ipv4Addr;

use crate::label::LabelOwner;

/// The two routing topologies LDP labels (draft §2.4.3: the power tree is a topology of its
/// own with a disjoint label space).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Topology {
    Regular,
    Power,
}

impl Topology {
    pub fn label_owner(self) -> LabelOwner {
        match self {
            Topology::Regular => LabelOwner::LdpRegular,
            Topology::Power => LabelOwner::LdpPower,
        }
    }
}

impl std::fmt::Display for Topology {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(match self {
            Topology::Regular => "regular",
            Topology::Power => "power",
        })
    }
}

/// An IPv4 prefix FEC (RFC 5036 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Fec {
    pub network: Ipv4Addr,
    pub len: u8,
}

impl Fec {
    /// The prefix with host bits cleared.
    pub fn new(network: Ipv4Addr, len: u8) -> Fec {
        let len = len.min(32);
        let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
        Fec {
            network: Ipv4Addr::from(u32::from(network) & mask),
            len,
        }
    }

    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        Fec::new(addr, self.len).network == self.network
    }
}

impl std::fmt::Display for Fec {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.len)
    }
}
