//! `--pcap FILE`: what the node sends and receives, as the node sees it, with wall-clock
//! timestamps. Datagrams read off raw sockets (OSPF, RSVP-TE) are written as they arrived,
//! header and all; those the node sends, and LDP Hellos, with the IP and UDP headers the
//! kernel gives them (the same fields). LDP session streams are the kernel's TCP: they are
//! written as a TCP connection on port 646 holding exactly the bytes the node wrote and read
//! (handshake, sequence numbers and segmenting synthesized), so Wireshark decodes the PDUs;
//! for the segments as they crossed the wire, capture the interface itself.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use mplamps_capture::{Carrier, PcapSink, Sent, TcpKind};
use mplamps_node::{Datagram, Protocol, StreamOp};

use crate::arrivals::Arrival;
use crate::ldp_transport::LDP_PORT;

/// Writes straight to the file, unbuffered: control traffic is light, and a node that is
/// killed leaves a whole capture.
pub struct NodeCapture {
    sink: PcapSink<File>,
    path: PathBuf,
    /// Our LDP transport address, and each session peer's (by LSR ID).
    transport: Ipv4Addr,
    peers: HashMap<Ipv4Addr, Ipv4Addr>,
}

impl NodeCapture {
    /// A capture into `path`; `transport` is the node's LDP transport address.
    pub fn create(path: &Path, transport: Ipv4Addr) -> io::Result<NodeCapture> {
        let file = File::create(path)?;
        let sink = PcapSink::new(file).map_err(io::Error::other)?;
        Ok(NodeCapture {
            sink,
            path: path.to_path_buf(),
            transport,
            peers: HashMap::new(),
        })
    }

    fn now() -> Duration {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
    }

    fn write(&mut self, src: Ipv4Addr, dst: Ipv4Addr, carrier: Carrier, payload: &[u8]) {
        let sent = Sent {
            at: NodeCapture::now(),
            src,
            dst,
            carrier,
            payload,
        };
        if let Err(e) = self.sink.write(&sent) {
            tracing::warn!(file = %self.path.display(), "pcap: {e}");
        }
    }

    /// A datagram the node sends.
    pub fn sent(&mut self, d: &Datagram) {
        let carrier = match d.protocol {
            Protocol::Ospf => Carrier::Ospf,
            Protocol::LdpHello => Carrier::Udp { port: LDP_PORT },
            Protocol::Rsvp => Carrier::Rsvp {
                ttl: d.ttl,
                router_alert: d.router_alert,
            },
        };
        self.write(d.src, d.dst, carrier, &d.payload);
    }

    /// A datagram the node received.
    pub fn arrived(&mut self, a: &Arrival) {
        match &a.datagram {
            Some(datagram) => {
                if let Err(e) = self.sink.write_raw(NodeCapture::now(), datagram) {
                    tracing::warn!(file = %self.path.display(), "pcap: {e}");
                }
            }
            None => {
                let carrier = Carrier::Udp { port: LDP_PORT };
                self.write(a.src, a.dst, carrier, &a.payload);
            }
        }
    }

    fn stream(&mut self, peer: Ipv4Addr, outgoing: bool, kind: TcpKind, bytes: &[u8]) {
        let theirs = self.peers.get(&peer).copied().unwrap_or(peer);
        let (src, dst) = if outgoing {
            (self.transport, theirs)
        } else {
            (theirs, self.transport)
        };
        let carrier = Carrier::Tcp {
            port: LDP_PORT,
            kind,
        };
        self.write(src, dst, carrier, bytes);
    }

    /// What the node asks of its session streams.
    pub fn stream_op(&mut self, op: &StreamOp) {
        match op {
            StreamOp::Connect { peer, transport } => {
                self.peers.insert(*peer, *transport);
            }
            StreamOp::Send { peer, payload } => self.stream(*peer, true, TcpKind::Data, payload),
            StreamOp::Close { peer } => self.stream(*peer, true, TcpKind::Close, &[]),
        }
    }

    /// The session stream of `peer` opened: by us, or accepted from `from`.
    pub fn opened(&mut self, peer: Ipv4Addr, accepted_from: Option<Ipv4Addr>) {
        if let Some(from) = accepted_from {
            self.peers.insert(peer, from);
        }
        self.stream(peer, accepted_from.is_none(), TcpKind::Open, &[]);
    }

    pub fn received(&mut self, peer: Ipv4Addr, bytes: &[u8]) {
        self.stream(peer, false, TcpKind::Data, bytes);
    }

    pub fn closed_by_peer(&mut self, peer: Ipv4Addr) {
        self.stream(peer, false, TcpKind::Close, &[]);
    }
}
