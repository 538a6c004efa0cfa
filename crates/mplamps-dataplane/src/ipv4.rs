//! The IPv4 header fields the data plane reads and writes (RFC 791): a 20-octet header
//! without options, its checksum kept valid when the TTL changes.

use std::net::Ipv4Addr;

pub const HEADER_LEN: usize = 20;

/// An IPv4 datagram around `payload`, header checksum included.
pub fn datagram(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: u8,
    ttl: u8,
    id: u16,
    payload: &[u8],
) -> Vec<u8> {
    let total = (HEADER_LEN + payload.len()).min(usize::from(u16::MAX)) as u16;
    let mut out = Vec::with_capacity(usize::from(total));
    out.extend_from_slice(&[0x45, 0xC0]);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[0, 0, ttl, protocol, 0, 0]);
    out.extend_from_slice(&src.octets());
    out.extend_from_slice(&dst.octets());
    set_checksum(&mut out);
    out.extend_from_slice(&payload[..usize::from(total) - HEADER_LEN]);
    out
}

pub use mplamps_core::wire::ones_complement_sum;

fn set_checksum(packet: &mut [u8]) {
    if packet.len() < HEADER_LEN {
        return;
    }
    packet[10] = 0;
    packet[11] = 0;
    let sum = !ones_complement_sum(&packet[..HEADER_LEN]);
    packet[10..12].copy_from_slice(&sum.to_be_bytes());
}

/// The fields of a well-formed header, or `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
}

pub fn parse(packet: &[u8]) -> Option<Header> {
    let h = packet.get(..HEADER_LEN)?;
    if h[0] != 0x45 || ones_complement_sum(h) != 0xFFFF {
        return None;
    }
    let addr = |at: usize| Ipv4Addr::new(h[at], h[at + 1], h[at + 2], h[at + 3]);
    Some(Header {
        src: addr(12),
        dst: addr(16),
        ttl: h[8],
    })
}

/// Rewrites the TTL and the checksum.
pub fn set_ttl(packet: &mut [u8], ttl: u8) {
    if let Some(t) = packet.get_mut(8) {
        *t = ttl;
        set_checksum(packet);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_checksum_follows_the_ttl() {
        let a = Ipv4Addr::new(10, 255, 0, 1);
        let b = Ipv4Addr::new(10, 255, 0, 9);
        let mut p = datagram(a, b, 17, 64, 7, b"flow");
        assert_eq!(p.len(), 24);
        assert_eq!(
            parse(&p),
            Some(Header {
                src: a,
                dst: b,
                ttl: 64
            })
        );
        set_ttl(&mut p, 3);
        assert_eq!(parse(&p).map(|h| h.ttl), Some(3));
        p[15] ^= 1;
        assert_eq!(parse(&p), None, "a corrupted header fails its checksum");
        assert_eq!(parse(&p[..10]), None);
    }
}
