//! A raw IPv4 socket for OSPF (IP protocol 89) on one Linux interface. Bound to the
//! device, so each interface of the node has its own; joined to the protocol's multicast
//! groups on that device; multicast TTL 1 and no loopback of what it
//! sends. The kernel writes the IP header; what is read carries it, and is split here.
//!
//! Tokio drives it as a `UdpSocket`: reading and writing datagrams are the same system calls
//! on a raw socket, and it is the safe way into tokio's reactor for a socket made elsewhere.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};

use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};
use tokio::net::UdpSocket;

use crate::device::interface_index;

/// IP precedence "internetwork control", as routing protocols send (RFC 2328 §A.1).
const TOS_INTERNETWORK_CONTROL: u32 = 0xc0;

#[derive(Debug)]
pub struct RawSocket {
    socket: UdpSocket,
    /// The Linux interface.
    pub device: String,
}

/// A datagram read off a raw socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Received {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    pub payload: Vec<u8>,
    /// The whole datagram as read, header included.
    pub datagram: Vec<u8>,
}

impl RawSocket {
    /// A socket for `protocol` on `device`, joined to `groups` there. `address` is the
    /// interface's own address, when it has one, to send multicast from.
    pub fn open(
        protocol: u8,
        device: &str,
        address: Option<Ipv4Addr>,
        groups: &[Ipv4Addr],
    ) -> io::Result<RawSocket> {
        let socket = Socket::new(
            Domain::IPV4,
            Type::RAW,
            Some(Protocol::from(i32::from(protocol))),
        )?;
        socket.bind_device(Some(device.as_bytes()))?;
        let index = interface_index(device)?;
        for group in groups {
            socket.join_multicast_v4_n(group, &InterfaceIndexOrAddress::Index(index))?;
        }
        if let Some(address) = address {
            socket.set_multicast_if_v4(&address)?;
        }
        socket.set_multicast_ttl_v4(1)?;
        socket.set_multicast_loop_v4(false)?;
        // Only the groups joined on this socket's device, not every socket's.
        socket.set_multicast_all_v4(false)?;
        socket.set_ttl_v4(1)?;
        socket.set_tos_v4(TOS_INTERNETWORK_CONTROL)?;
        socket.set_nonblocking(true)?;
        Ok(RawSocket {
            socket: UdpSocket::from_std(std::net::UdpSocket::from(socket))?,
            device: device.to_string(),
        })
    }

    /// The next datagram; ones too short to carry an IPv4 header are skipped.
    pub async fn recv(&self) -> io::Result<Received> {
        recv_ipv4(&self.socket).await
    }

    /// Sends `payload` to `dst`; the kernel adds the IP header. Waits while the socket's
    /// send buffer is full.
    pub async fn send(&self, dst: Ipv4Addr, payload: &[u8]) -> io::Result<()> {
        self.socket
            .send_to(payload, SocketAddrV4::new(dst, 0))
            .await
            .map(|_| ())
    }
}

/// The next IPv4 datagram a raw socket reads; what is not one is skipped.
pub(crate) async fn recv_ipv4(socket: &UdpSocket) -> io::Result<Received> {
    let mut buf = vec![0u8; 65_536];
    loop {
        let n = socket.recv(&mut buf).await?;
        if let Some(received) = buf.get(..n).and_then(split_ipv4) {
            return Ok(received);
        }
    }
}

/// Source, destination, TTL and payload of an IPv4 datagram; `None` when it is not one.
pub(crate) fn split_ipv4(datagram: &[u8]) -> Option<Received> {
    let first = *datagram.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let header_len = usize::from(first & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([*datagram.get(2)?, *datagram.get(3)?]));
    let octets = |at: usize| -> Option<Ipv4Addr> {
        let b: [u8; 4] = datagram.get(at..at + 4)?.try_into().ok()?;
        Some(Ipv4Addr::from(b))
    };
    Some(Received {
        ttl: *datagram.get(8)?,
        src: octets(12)?,
        dst: octets(16)?,
        payload: datagram
            .get(header_len..total.min(datagram.len()))?
            .to_vec(),
        datagram: datagram.get(..total.min(datagram.len()))?.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv4_datagram_is_split_and_anything_else_refused() {
        let mut d = vec![0x45, 0xc0, 0, 24, 0, 0, 0, 0, 1, 89, 0, 0];
        d.extend_from_slice(&[10, 0, 0, 1, 224, 0, 0, 5, 0xaa, 0xbb, 0xcc, 0xdd]);
        d.extend_from_slice(&[0xee, 0xee]); // past the total length: ignored
        let r = split_ipv4(&d);
        assert_eq!(
            r,
            Some(Received {
                src: Ipv4Addr::new(10, 0, 0, 1),
                dst: Ipv4Addr::new(224, 0, 0, 5),
                ttl: 1,
                payload: vec![0xaa, 0xbb, 0xcc, 0xdd],
                datagram: d[..24].to_vec(),
            })
        );
        assert_eq!(split_ipv4(&[0x60, 0, 0, 0]), None, "IPv6");
        assert_eq!(split_ipv4(&d[..10]), None, "truncated header");
        assert_eq!(split_ipv4(&[]), None);
    }
}
