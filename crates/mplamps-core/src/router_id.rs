//! OSPF/LDP/RSVP router identifier: a 32-bit number written as a dotted quad (RFC 2328 §1.2).

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// A router identifier. Ordered numerically, which is the order RFC 3471 §4.2 uses to
/// resolve label contention ("the higher node ID wins").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RouterId(pub u32);

impl RouterId {
    /// The identifier as an IPv4 address (loopbacks are router IDs in mplamps).
    pub fn to_ipv4(self) -> Ipv4Addr {
        Ipv4Addr::from(self.0)
    }
}

impl From<Ipv4Addr> for RouterId {
    fn from(addr: Ipv4Addr) -> Self {
        RouterId(u32::from(addr))
    }
}

impl fmt::Display for RouterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_ipv4().fmt(f)
    }
}

impl FromStr for RouterId {
    type Err = std::net::AddrParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<Ipv4Addr>().map(RouterId::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_quad_round_trip() {
        let id: RouterId = "10.0.0.1".parse().unwrap();
        assert_eq!(id.0, 0x0a00_0001);
        assert_eq!(id.to_string(), "10.0.0.1");
        assert!("10.0.0".parse::<RouterId>().is_err());
    }

    #[test]
    fn numeric_order_decides_contention() {
        let low: RouterId = "10.0.0.2".parse().unwrap();
        let high: RouterId = "192.168.0.1".parse().unwrap();
        assert!(high > low);
    }
}
