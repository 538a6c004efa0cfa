//! The IPv4 header fields the data plane reads and writes (RFC 791): a 20-octet header
//! without options, its checksum kept valid when the TTL changes; fragmentation and
//! reassembly in `fragment`.

use std::net::Ipv4Addr;

pub mod fragment;

pub const HEADER_LEN: usize = 20;
/// Flags and fragment offset (RFC 791 §3.1): Don't Fragment, More Fragments, and the
/// offset in units of 8 octets.
const DONT_FRAGMENT: u16 = 0x4000;
const MORE_FRAGMENTS: u16 = 0x2000;
const OFFSET_MASK: u16 = 0x1FFF;

/// An IPv4 datagram around `payload`, header checksum included.
pub fn datagram(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: u8,
    ttl: u8,
    id: u16,
    payload: &[u8],
) -> Vec<u8> {
    let header = Header {
        src,
        dst,
        ttl,
        protocol,
        id,
        dont_fragment: false,
        more_fragments: false,
        fragment_offset: 0,
    };
    header.datagram(payload)
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

/// The fields of a well-formed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    pub protocol: u8,
    /// Identification: the fragments of one datagram share it (RFC 791 §3.2).
    pub id: u16,
    pub dont_fragment: bool,
    pub more_fragments: bool,
    /// Where this fragment's data starts in the original datagram's data, in octets (a
    /// multiple of 8).
    pub fragment_offset: usize,
}

impl Header {
    /// True for a fragment of a longer datagram, not a whole one.
    pub fn is_fragment(&self) -> bool {
        self.more_fragments || self.fragment_offset != 0
    }

    /// This header in front of `data` (cut at the 65 535-octet limit), checksum included.
    pub fn datagram(&self, data: &[u8]) -> Vec<u8> {
        let total = (HEADER_LEN + data.len()).min(usize::from(u16::MAX));
        let flags = if self.dont_fragment { DONT_FRAGMENT } else { 0 }
            | if self.more_fragments {
                MORE_FRAGMENTS
            } else {
                0
            }
            | ((self.fragment_offset / 8) as u16 & OFFSET_MASK);
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(&[0x45, 0xC0]);
        out.extend_from_slice(&(total as u16).to_be_bytes());
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&flags.to_be_bytes());
        out.extend_from_slice(&[self.ttl, self.protocol, 0, 0]);
        out.extend_from_slice(&self.src.octets());
        out.extend_from_slice(&self.dst.octets());
        set_checksum(&mut out);
        out.extend_from_slice(data.get(..total - HEADER_LEN).unwrap_or(data));
        out
    }
}

/// The header of a well-formed datagram (version 4, no options, a valid checksum, a total
/// length within the packet), or `None`.
pub fn parse(packet: &[u8]) -> Option<Header> {
    let h = packet.get(..HEADER_LEN)?;
    if h[0] != 0x45 || ones_complement_sum(h) != 0xFFFF {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
    if total < HEADER_LEN || total > packet.len() {
        return None;
    }
    let addr = |at: usize| Ipv4Addr::new(h[at], h[at + 1], h[at + 2], h[at + 3]);
    let flags = u16::from_be_bytes([h[6], h[7]]);
    Some(Header {
        src: addr(12),
        dst: addr(16),
        ttl: h[8],
        protocol: h[9],
        id: u16::from_be_bytes([h[4], h[5]]),
        dont_fragment: flags & DONT_FRAGMENT != 0,
        more_fragments: flags & MORE_FRAGMENTS != 0,
        fragment_offset: usize::from(flags & OFFSET_MASK) * 8,
    })
}

/// The IP Router Alert option (RFC 2113): copied into fragments, class 0, number 20,
/// length 4, value 0 ("every router examines the packet"). RSVP's Path, PathTear and
/// ResvConf carry it (RFC 2205 §3.1.3).
pub const ROUTER_ALERT: [u8; 4] = [0x94, 0x04, 0x00, 0x00];

/// `datagram` (a 20-octet header without options, as `datagram` builds it) with the
/// Router Alert option added to its header; `None` when it is not such a datagram.
pub fn with_router_alert(datagram: &[u8]) -> Option<Vec<u8>> {
    parse(datagram)?;
    let data = data(datagram);
    let total = u16::try_from(HEADER_LEN + ROUTER_ALERT.len() + data.len()).ok()?;
    let mut out = Vec::with_capacity(usize::from(total));
    out.push(0x46);
    out.extend_from_slice(datagram.get(1..2)?);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(datagram.get(4..HEADER_LEN)?);
    out.extend_from_slice(&ROUTER_ALERT);
    out[10] = 0;
    out[11] = 0;
    let sum = !ones_complement_sum(&out[..HEADER_LEN + ROUTER_ALERT.len()]);
    out[10..12].copy_from_slice(&sum.to_be_bytes());
    out.extend_from_slice(data);
    Some(out)
}

/// Whether `packet` is an IPv4 datagram with a valid header whose options hold Router
/// Alert (RFC 2113): one for every router on its way to look at, not only its destination.
pub fn has_router_alert(packet: &[u8]) -> bool {
    let Some(&first) = packet.first() else {
        return false;
    };
    let header_len = usize::from(first & 0x0F) * 4;
    let Some(header) = packet.get(..header_len) else {
        return false;
    };
    if first >> 4 != 4 || header_len <= HEADER_LEN || ones_complement_sum(header) != 0xFFFF {
        return false;
    }
    // RFC 791 §3.1 options: End of List (0), No Operation (1), or type, length, value.
    let mut options = header.get(HEADER_LEN..).unwrap_or_default();
    while let Some(&kind) = options.first() {
        match kind {
            0 => return false,
            1 => options = options.get(1..).unwrap_or_default(),
            _ => {
                let len = usize::from(options.get(1).copied().unwrap_or(0));
                if len < 2 {
                    return false;
                }
                if options.get(..ROUTER_ALERT.len()) == Some(&ROUTER_ALERT[..]) {
                    return true;
                }
                options = options.get(len..).unwrap_or_default();
            }
        }
    }
    false
}

/// The data of a datagram `parse` accepted: after the header, up to its total length.
pub fn data(packet: &[u8]) -> &[u8] {
    let total = packet
        .get(2..4)
        .map_or(0, |t| usize::from(u16::from_be_bytes([t[0], t[1]])));
    packet.get(HEADER_LEN..total).unwrap_or_default()
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
                ttl: 64,
                protocol: 17,
                id: 7,
                dont_fragment: false,
                more_fragments: false,
                fragment_offset: 0,
            })
        );
        assert_eq!(data(&p), b"flow");
        let alert = with_router_alert(&p).unwrap();
        assert_eq!(alert.len(), p.len() + 4);
        assert_eq!((alert[0], &alert[20..24]), (0x46, &ROUTER_ALERT[..]));
        assert_eq!(ones_complement_sum(&alert[..24]), 0xFFFF, "header checksum");
        assert_eq!(&alert[24..], b"flow");
        set_ttl(&mut p, 3);
        assert_eq!(parse(&p).map(|h| h.ttl), Some(3));
        p[15] ^= 1;
        assert_eq!(parse(&p), None, "a corrupted header fails its checksum");
        assert_eq!(parse(&p[..10]), None);
    }
}
