//! RSVP-TE on the wire (IP protocol 46, RFC 2205 §3.1.3). Path, PathTear and ResvConf are
//! addressed to the session's far end and carry the Router Alert option (RFC 2113), so
//! every RSVP node on the way takes them; the rest go to the neighbor.
//!
//! One socket per interface, bound to its device, with `IP_ROUTER_ALERT`: it receives what
//! arrives on that device for this host and, because the option is set, what this host
//! would forward that carries Router Alert (the kernel hands those to the socket instead of
//! forwarding them, when IP forwarding is on). It sends with the header written here
//! (`IP_HDRINCL`): the source may be the LSP's sender rather than this node (RFC 2205
//! §3.1.3), the TTL is the message's Send_TTL, and the datagram goes to the neighbor on
//! that link whatever its destination — the kernel routes a header-included datagram by the
//! address it is sent to, not by the one in its header. Datagrams that IP routes (a Notify
//! to a node that is not a neighbor, RFC 3473 §4.3) leave through one unbound
//! `IPPROTO_RAW` socket, which receives nothing.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::AsFd;

use mplamps_dataplane::ipv4;
use mplamps_node::Datagram;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;

#[cfg(test)]
use crate::raw_socket::split_ipv4;
use crate::raw_socket::{Received, recv_ipv4};
use crate::sockopt::set_router_alert;

/// RSVP's IP protocol number.
pub const RSVP: u8 = 46;
/// `IPPROTO_RAW`: a send-only raw socket whose datagrams carry their own header.
const IPPROTO_RAW: i32 = 255;

#[derive(Debug)]
pub struct RsvpSocket {
    socket: UdpSocket,
    /// The Linux interface; `None` for the routed socket.
    pub device: Option<String>,
}

impl RsvpSocket {
    /// The socket of interface `device`.
    pub fn on_device(device: &str) -> io::Result<RsvpSocket> {
        let socket = Socket::new(
            Domain::IPV4,
            Type::RAW,
            Some(Protocol::from(i32::from(RSVP))),
        )?;
        socket.bind_device(Some(device.as_bytes()))?;
        set_router_alert(socket.as_fd(), true)?;
        socket.set_header_included_v4(true)?;
        RsvpSocket::wrap(socket, Some(device.to_string()))
    }

    /// The send-only socket for datagrams IP routes.
    pub fn routed() -> io::Result<RsvpSocket> {
        let socket = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(IPPROTO_RAW)))?;
        RsvpSocket::wrap(socket, None)
    }

    fn wrap(socket: Socket, device: Option<String>) -> io::Result<RsvpSocket> {
        socket.set_nonblocking(true)?;
        Ok(RsvpSocket {
            socket: UdpSocket::from_std(std::net::UdpSocket::from(socket))?,
            device,
        })
    }

    /// The next datagram; ones too short to carry an IPv4 header are skipped.
    pub async fn recv(&self) -> io::Result<Received> {
        recv_ipv4(&self.socket).await
    }

    /// Sends `d` through `next_hop` (the neighbor on this socket's link, or `d.dst` for the
    /// routed socket).
    pub async fn send(&self, d: &Datagram, next_hop: Ipv4Addr) -> io::Result<()> {
        let datagram = encode(d);
        self.socket
            .send_to(&datagram, SocketAddrV4::new(next_hop, 0))
            .await
            .map(|_| ())
    }
}

/// `d` as an IPv4 datagram of protocol 46: its source, destination and TTL, Router Alert
/// when it asks for it. Identification 0: the kernel numbers header-included datagrams.
fn encode(d: &Datagram) -> Vec<u8> {
    let plain = ipv4::datagram(d.src, d.dst, RSVP, d.ttl, 0, &d.payload);
    if d.router_alert {
        // `datagram` builds the 20-octet header `with_router_alert` takes.
        ipv4::with_router_alert(&plain).unwrap_or(plain)
    } else {
        plain
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mplamps_node::Protocol as NodeProtocol;

    fn path(router_alert: bool) -> Datagram {
        Datagram {
            protocol: NodeProtocol::Rsvp,
            interface: Some(0),
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: Ipv4Addr::new(10, 0, 0, 6),
            ttl: 7,
            router_alert,
            payload: vec![0x10, 0x01, 0, 0, 0xff, 0, 0, 8],
        }
    }

    #[test]
    fn a_path_message_carries_router_alert_its_sender_and_its_send_ttl() {
        let wire = encode(&path(true));
        assert_eq!(wire.first(), Some(&0x46), "a 24-octet header");
        assert_eq!(wire.get(20..24), Some(&ipv4::ROUTER_ALERT[..]));
        assert_eq!(wire.get(8..10), Some(&[7, RSVP][..]));
        assert_eq!(mplamps_core::wire::ones_complement_sum(&wire[..24]), 0xffff);
        let back = split_ipv4(&wire);
        assert_eq!(
            back,
            Some(Received {
                src: Ipv4Addr::new(10, 0, 0, 1),
                dst: Ipv4Addr::new(10, 0, 0, 6),
                ttl: 7,
                payload: path(true).payload,
                datagram: wire.clone(),
            })
        );
    }

    #[test]
    fn a_message_to_the_neighbor_has_no_option() {
        let wire = encode(&path(false));
        assert_eq!(wire.first(), Some(&0x45));
        assert_eq!(wire.len(), 20 + 8);
        assert_eq!(wire.get(9), Some(&RSVP));
    }
}
