//! Packets of mplamps nodes as Wireshark reads them: each one a driver saw leave or reach a
//! node ([`Sent`]: when, between which addresses, how it travels), written by [`PcapSink`]
//! as raw IPv4. The simulator captures what its routers send; a daemon what its node sends
//! and receives.
#![forbid(unsafe_code)]

use std::net::Ipv4Addr;
use std::time::Duration;

pub mod pcap;

pub use pcap::PcapSink;

/// How a captured packet travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// An OSPF packet: IP protocol 89.
    Ospf,
    /// A UDP datagram (LDP discovery).
    Udp { port: u16 },
    /// A segment of a TCP stream: its opening, data or closing.
    Tcp { port: u16, kind: TcpKind },
    /// An RSVP message: IP protocol 46, sent with the message's Send_TTL, and the Router
    /// Alert option when the node asked for it.
    Rsvp { ttl: u8, router_alert: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpKind {
    Open,
    Data,
    Close,
}

/// One packet as it left or reached a node.
pub struct Sent<'a> {
    pub at: Duration,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub carrier: Carrier,
    pub payload: &'a [u8],
}
