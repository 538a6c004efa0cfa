//! Packets as Wireshark sees them: each OSPF payload behind a synthesized IPv4 header
//! (protocol 89, TTL 1, precedence 0xC0), in a pcap file of raw IPv4 (LINKTYPE_RAW), with
//! virtual timestamps.

use std::io::Write;
use std::net::Ipv4Addr;
use std::time::Duration;

use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};

/// An IPv4 datagram around `payload` (RFC 791), header checksum included.
pub fn ipv4_datagram(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: u8,
    id: u16,
    payload: &[u8],
) -> Vec<u8> {
    let total = (20 + payload.len()).min(usize::from(u16::MAX)) as u16;
    let mut h = [0u8; 20];
    h[0] = 0x45;
    h[1] = 0xC0;
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[4..6].copy_from_slice(&id.to_be_bytes());
    h[8] = 1;
    h[9] = protocol;
    h[12..16].copy_from_slice(&src.octets());
    h[16..20].copy_from_slice(&dst.octets());
    let mut sum: u32 = h
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    h[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    let mut out = Vec::with_capacity(usize::from(total));
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
    out
}

pub struct PcapSink<W: Write> {
    writer: PcapWriter<W>,
    next_id: u16,
}

impl<W: Write> PcapSink<W> {
    pub fn new(out: W) -> Result<Self, pcap_file::PcapError> {
        let header = PcapHeader {
            datalink: DataLink::RAW,
            ..Default::default()
        };
        Ok(PcapSink {
            writer: PcapWriter::with_header(out, header)?,
            next_id: 0,
        })
    }

    pub fn write(
        &mut self,
        at: Duration,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        protocol: u8,
        payload: &[u8],
    ) -> Result<(), pcap_file::PcapError> {
        self.next_id = self.next_id.wrapping_add(1);
        let data = ipv4_datagram(src, dst, protocol, self.next_id, payload);
        let packet = PcapPacket::new(at, data.len() as u32, &data);
        self.writer.write_packet(&packet)?;
        Ok(())
    }
}
