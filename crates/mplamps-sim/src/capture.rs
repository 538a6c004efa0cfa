//! What the simulator shows of the packets nodes send: each one as it leaves its router,
//! for pcap files (`pcap`).

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::Sim;

/// Receives every packet a router sends.
pub type Capture = Box<dyn FnMut(Sent<'_>)>;

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

/// One packet as it left a router, for pcap files.
pub struct Sent<'a> {
    pub at: Duration,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub carrier: Carrier,
    pub payload: &'a [u8],
}

impl Sim {
    /// Calls `sink` with every packet a router sends (for pcap files).
    pub fn set_capture(&mut self, sink: Capture) {
        self.capture = Some(sink);
    }

    /// Ends the capture: the sink is dropped here, which flushes what it writes to.
    pub fn end_capture(&mut self) {
        self.capture = None;
    }
}
