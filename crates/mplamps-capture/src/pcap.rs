//! Packets as Wireshark sees them, in a pcap file of raw IPv4 (LINKTYPE_RAW) with the
//! timestamps given (the simulator's virtual time, a daemon's wall clock): OSPF behind IP protocol 89 (TTL 1, precedence 0xC0), LDP Hellos in UDP 646,
//! and LDP session streams as TCP 646 connections — a three-way handshake when the session
//! opens, data segments with running sequence numbers, FIN when it closes — so that
//! Wireshark reassembles PDUs as from a real router. With an MTU set, a datagram longer
//! than it is written as the IP fragments that crossed the link (RFC 791 §2.3), and a
//! stream's data in segments of at most one MSS.

use std::collections::HashMap;
use std::io::Write;
use std::net::Ipv4Addr;
use std::time::Duration;

use mplamps_dataplane::ipv4;
use mplamps_dataplane::ipv4::fragment::fragment;
use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};

use crate::{Carrier, Sent, TcpKind};

const UDP: u8 = 17;
const TCP: u8 = 6;
const SYN: u8 = 0x02;
const FIN: u8 = 0x01;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;
/// The ephemeral port of the side that opens a session stream.
const EPHEMERAL_PORT: u16 = 49152;
const TCP_WINDOW: u16 = 65535;
/// A TCP header without options.
const TCP_HEADER_LEN: usize = 20;

/// One direction of a synthesized TCP connection.
#[derive(Debug, Clone, Copy)]
struct Flow {
    src_port: u16,
    dst_port: u16,
    /// Next sequence number to send.
    seq: u32,
}

pub struct PcapSink<W: Write> {
    writer: PcapWriter<W>,
    next_id: u16,
    /// Per (src, dst) direction of a TCP connection.
    flows: HashMap<(Ipv4Addr, Ipv4Addr), Flow>,
    /// The links' IP MTU.
    mtu: usize,
}

/// Sum of the TCP/UDP pseudo-header and segment (RFC 793 §3.1, RFC 768).
fn transport_checksum(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, segment: &[u8]) -> u16 {
    let mut pseudo = Vec::with_capacity(12 + segment.len());
    pseudo.extend_from_slice(&src.octets());
    pseudo.extend_from_slice(&dst.octets());
    pseudo.extend_from_slice(&[0, protocol]);
    pseudo.extend_from_slice(&(segment.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
    pseudo.extend_from_slice(segment);
    !ipv4::ones_complement_sum(&pseudo)
}

fn udp(src: Ipv4Addr, dst: Ipv4Addr, port: u16, payload: &[u8]) -> Vec<u8> {
    let len = (8 + payload.len()).min(usize::from(u16::MAX)) as u16;
    let mut seg = Vec::with_capacity(usize::from(len));
    seg.extend_from_slice(&port.to_be_bytes());
    seg.extend_from_slice(&port.to_be_bytes());
    seg.extend_from_slice(&len.to_be_bytes());
    seg.extend_from_slice(&[0, 0]);
    seg.extend_from_slice(payload);
    let sum = transport_checksum(src, dst, UDP, &seg);
    seg[6..8].copy_from_slice(&sum.to_be_bytes());
    seg
}

#[allow(clippy::too_many_arguments)]
fn tcp(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    src_port: u16,
    dst_port: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut seg = Vec::with_capacity(20 + payload.len());
    seg.extend_from_slice(&src_port.to_be_bytes());
    seg.extend_from_slice(&dst_port.to_be_bytes());
    seg.extend_from_slice(&seq.to_be_bytes());
    seg.extend_from_slice(&ack.to_be_bytes());
    seg.extend_from_slice(&[0x50, flags]);
    seg.extend_from_slice(&TCP_WINDOW.to_be_bytes());
    seg.extend_from_slice(&[0, 0, 0, 0]);
    seg.extend_from_slice(payload);
    let sum = transport_checksum(src, dst, TCP, &seg);
    seg[16..18].copy_from_slice(&sum.to_be_bytes());
    seg
}

/// Initial sequence number of a direction: fixed per address pair, so runs repeat.
fn isn(src: Ipv4Addr, dst: Ipv4Addr) -> u32 {
    u32::from(src).rotate_left(7) ^ u32::from(dst)
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
            flows: HashMap::new(),
            mtu: usize::from(u16::MAX),
        })
    }

    /// Writes datagrams longer than `mtu` as fragments, stream data in segments that fit.
    pub fn with_mtu(mut self, mtu: usize) -> Self {
        self.mtu = mtu;
        self
    }

    fn packet(
        &mut self,
        at: Duration,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        protocol: u8,
        ttl: u8,
        payload: &[u8],
    ) -> Result<(), pcap_file::PcapError> {
        let data = self.datagram(src, dst, protocol, ttl, payload);
        // An MTU below the IPv4 minimum cannot carry the datagram: the simulator counts
        // it too big and sends nothing, so nothing is written either.
        for part in fragment(&data, self.mtu).unwrap_or_default() {
            self.write_raw(at, &part)?;
        }
        Ok(())
    }

    fn datagram(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        protocol: u8,
        ttl: u8,
        payload: &[u8],
    ) -> Vec<u8> {
        self.next_id = self.next_id.wrapping_add(1);
        ipv4::datagram(src, dst, protocol, ttl, self.next_id, payload)
    }

    /// Writes an IPv4 datagram as it is (one read off a raw socket, header and all).
    pub fn write_raw(&mut self, at: Duration, data: &[u8]) -> Result<(), pcap_file::PcapError> {
        let packet = PcapPacket::new(at, data.len() as u32, data);
        self.writer.write_packet(&packet)?;
        Ok(())
    }

    /// Writes one packet a router sent.
    pub fn write(&mut self, sent: &Sent<'_>) -> Result<(), pcap_file::PcapError> {
        let (at, src, dst) = (sent.at, sent.src, sent.dst);
        match sent.carrier {
            Carrier::Ospf => self.packet(
                at,
                src,
                dst,
                mplamps_ospf::packet::IP_PROTOCOL,
                1,
                sent.payload,
            ),
            Carrier::Udp { port } => {
                let seg = udp(src, dst, port, sent.payload);
                self.packet(at, src, dst, UDP, 1, &seg)
            }
            Carrier::Tcp { port, kind } => self.tcp_segment(at, src, dst, port, kind, sent.payload),
            Carrier::Rsvp {
                ttl,
                router_alert: true,
            } => {
                // RSVP messages that carry the option are small; they are written whole.
                let plain = self.datagram(
                    src,
                    dst,
                    mplamps_rsvp::packet::IP_PROTOCOL,
                    ttl,
                    sent.payload,
                );
                match ipv4::with_router_alert(&plain) {
                    Some(alert) => self.write_raw(at, &alert),
                    None => self.write_raw(at, &plain),
                }
            }
            Carrier::Rsvp { ttl, .. } => self.packet(
                at,
                src,
                dst,
                mplamps_rsvp::packet::IP_PROTOCOL,
                ttl,
                sent.payload,
            ),
        }
    }

    fn tcp_segment(
        &mut self,
        at: Duration,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        port: u16,
        kind: TcpKind,
        payload: &[u8],
    ) -> Result<(), pcap_file::PcapError> {
        const TTL: u8 = 255;
        match kind {
            TcpKind::Open => {
                // SYN, SYN-ACK, ACK at once: the handshake takes no virtual time here.
                let forward = Flow {
                    src_port: EPHEMERAL_PORT,
                    dst_port: port,
                    seq: isn(src, dst),
                };
                let back = Flow {
                    src_port: port,
                    dst_port: EPHEMERAL_PORT,
                    seq: isn(dst, src),
                };
                let syn = tcp(src, dst, forward.src_port, port, forward.seq, 0, SYN, &[]);
                self.packet(at, src, dst, TCP, TTL, &syn)?;
                let syn_ack = tcp(
                    dst,
                    src,
                    port,
                    forward.src_port,
                    back.seq,
                    forward.seq.wrapping_add(1),
                    SYN | ACK,
                    &[],
                );
                self.packet(at, dst, src, TCP, TTL, &syn_ack)?;
                let forward = Flow {
                    seq: forward.seq.wrapping_add(1),
                    ..forward
                };
                let back = Flow {
                    seq: back.seq.wrapping_add(1),
                    ..back
                };
                let ack = tcp(
                    src,
                    dst,
                    forward.src_port,
                    port,
                    forward.seq,
                    back.seq,
                    ACK,
                    &[],
                );
                self.packet(at, src, dst, TCP, TTL, &ack)?;
                self.flows.insert((src, dst), forward);
                self.flows.insert((dst, src), back);
                Ok(())
            }
            TcpKind::Data | TcpKind::Close => {
                let Some(flow) = self.flows.get(&(src, dst)).copied() else {
                    // A segment of a connection the capture never saw open: skip it
                    // rather than write a segment Wireshark would call out of order.
                    return Ok(());
                };
                let ack = self.flows.get(&(dst, src)).map_or(0, |f| f.seq);
                let mss = self
                    .mtu
                    .saturating_sub(ipv4::HEADER_LEN + TCP_HEADER_LEN)
                    .max(1);
                let segment = |seq: u32, flags: u8, data: &[u8]| {
                    tcp(
                        src,
                        dst,
                        flow.src_port,
                        flow.dst_port,
                        seq,
                        ack,
                        flags,
                        data,
                    )
                };
                let mut seq = flow.seq;
                for chunk in payload.chunks(mss) {
                    self.packet(at, src, dst, TCP, TTL, &segment(seq, PSH | ACK, chunk))?;
                    seq = seq.wrapping_add(chunk.len() as u32);
                }
                if kind == TcpKind::Close {
                    self.packet(at, src, dst, TCP, TTL, &segment(seq, FIN | ACK, &[]))?;
                    self.flows.remove(&(src, dst));
                    self.flows.remove(&(dst, src));
                } else if let Some(f) = self.flows.get_mut(&(src, dst)) {
                    f.seq = seq;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use mplamps_dataplane::ipv4::fragment::Reassembler;
    use pcap_file::pcap::PcapReader;

    fn written(mtu: usize, sent: &[Sent<'_>]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut sink = PcapSink::new(&mut out).unwrap().with_mtu(mtu);
        for s in sent {
            sink.write(s).unwrap();
        }
        drop(sink);
        let mut reader = PcapReader::new(&out[..]).unwrap();
        let mut packets = Vec::new();
        while let Some(p) = reader.next_packet() {
            packets.push(p.unwrap().data.to_vec());
        }
        packets
    }

    #[test]
    fn a_datagram_longer_than_the_mtu_is_written_as_its_fragments() {
        let payload: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(224, 0, 0, 5));
        let sent = Sent {
            at: Duration::from_secs(1),
            src: a,
            dst: b,
            carrier: Carrier::Ospf,
            payload: &payload,
        };
        let packets = written(1500, &[sent]);
        assert_eq!(packets.len(), 3);
        assert!(packets.iter().all(|p| p.len() <= 1500));
        let mut r = Reassembler::default();
        let whole: Vec<Vec<u8>> = packets
            .iter()
            .filter_map(|p| r.accept(Duration::ZERO, p).unwrap())
            .collect();
        assert_eq!(whole.len(), 1);
        assert_eq!(ipv4::data(&whole[0]), &payload[..]);
    }

    #[test]
    fn stream_data_goes_in_segments_of_one_mss() {
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        let pdu = vec![9u8; 4000];
        let tcp = |kind, payload| Sent {
            at: Duration::ZERO,
            src: a,
            dst: b,
            carrier: Carrier::Tcp { port: 646, kind },
            payload,
        };
        let packets = written(
            1500,
            &[
                tcp(TcpKind::Open, &[]),
                tcp(TcpKind::Data, &pdu),
                tcp(TcpKind::Close, &[]),
            ],
        );
        // Handshake, three segments (1460 + 1460 + 1080), FIN.
        assert_eq!(packets.len(), 3 + 3 + 1);
        let data: Vec<&[u8]> = packets[3..6].iter().map(|p| &ipv4::data(p)[20..]).collect();
        assert_eq!(
            data.iter().map(|d| d.len()).collect::<Vec<_>>(),
            [1460, 1460, 1080]
        );
        let seq = |p: &[u8]| u32::from_be_bytes(ipv4::data(p)[4..8].try_into().unwrap());
        assert_eq!(seq(&packets[4]), seq(&packets[3]).wrapping_add(1460));
        assert_eq!(seq(&packets[6]), seq(&packets[5]).wrapping_add(1080));
        assert!(
            packets
                .iter()
                .all(|p| ipv4::parse(p).is_some_and(|h| !h.is_fragment()))
        );
    }
}
