//! Interface addresses.

use std::net::Ipv4Addr;

use serde::Serialize;

/// An IPv4 interface address with its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct InterfaceAddress {
    pub addr: Ipv4Addr,
    pub prefix_len: u8,
}

impl InterfaceAddress {
    pub fn mask(self) -> Ipv4Addr {
        Ipv4Addr::from(
            u32::MAX
                .checked_shl(32 - u32::from(self.prefix_len))
                .unwrap_or(0),
        )
    }

    pub fn network(self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) & u32::from(self.mask()))
    }
}

impl std::fmt::Display for InterfaceAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl std::str::FromStr for InterfaceAddress {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let (addr, len) = s.split_once('/').ok_or(())?;
        let prefix_len: u8 = len.parse().map_err(|_| ())?;
        if prefix_len > 32 {
            return Err(());
        }
        Ok(InterfaceAddress {
            addr: addr.parse().map_err(|_| ())?,
            prefix_len,
        })
    }
}
