//! An LSR at the link layer, sans-IO: whole Ethernet frames in from an interface, whole
//! frames out (RFC 3032 §5 EtherType 0x8847). Labeled frames go through the LFIB
//! ([`crate::forward`]); next-hop MACs come from ARP, one neighbour table per interface; a
//! labeled packet whose TTL runs out is answered with ICMP Time Exceeded carrying its label
//! stack, routed back like any packet the router sends.
//!
//! Plain IPv4 frames are routed too: a host's packet enters the tree its FEC policy picks
//! ([`Classifier`]) with the FTN's label; a packet for a subnet on one of our ports (after
//! the penultimate hop popped) goes to its host.
//!
//! The driver owns the sockets and the clock: it feeds frames and time, and sends the
//! [`Transmit`]s. What is not for this layer (IPv4 for the router's own addresses, multicast,
//! datagrams with options such as RSVP's Router Alert, other EtherTypes) is left to the
//! kernel, which sees every frame too and must not forward IP itself.

use std::net::Ipv4Addr;
use std::time::Duration;

use mplamps_core::fec::{Fec, Topology};

use crate::arp::{self, Neighbours, Timers};
use crate::ethernet::{EtherType, Frame as EthernetFrame, Mac};
use crate::forward::{self, Action, DropReason, Drops, Frame, Steering};
use crate::tables::Tables;
use crate::{icmp, ipv4, lse};

/// One of the router's interfaces, as the data plane knows it.
#[derive(Debug, Clone)]
pub struct Port {
    pub mac: Mac,
    pub address: Ipv4Addr,
    neighbours: Neighbours<(EtherType, Vec<u8>)>,
}

/// A frame to send out of `interface`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub interface: usize,
    pub frame: Vec<u8>,
}

/// What the data plane did, for counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counters {
    /// Labeled packets switched.
    pub forwarded: u64,
    /// Plain IP packets sent on: labeled at the ingress, or to a host.
    pub routed: u64,
    pub time_exceeded_sent: u64,
    /// Router Alert datagrams handed to the control plane, and those dropped because it
    /// had not taken the ones before.
    pub to_control_plane: u64,
    pub control_plane_full: u64,
    pub drops: Drops,
}

/// A datagram for the control plane (`Lsr::poll_control`): the port it came in on and the
/// whole IP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlDatagram {
    pub interface: usize,
    pub datagram: Vec<u8>,
}

/// Router Alert datagrams held for the control plane at most: a burst of Path messages
/// fits; a control plane that stopped taking them does not make the data plane grow.
const CONTROL_QUEUE: usize = 1024;

/// The FEC policy of an ingress LER (draft §2.4.5): where a plain IP packet goes, by its
/// destination — as the first rule whose prefix holds it says, else the regular tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Classifier {
    pub rules: Vec<(Fec, Steering)>,
}

const REGULAR: Steering = Steering::Tree(Topology::Regular);

impl Classifier {
    pub fn steer(&self, dst: Ipv4Addr) -> &Steering {
        self.rules
            .iter()
            .find(|(fec, _)| fec.contains(dst))
            .map_or(&REGULAR, |(_, steering)| steering)
    }
}

pub struct Lsr {
    /// The source of the ICMP messages the router sends.
    router_id: Ipv4Addr,
    ports: Vec<Port>,
    classifier: Classifier,
    control: std::collections::VecDeque<ControlDatagram>,
    pub counters: Counters,
}

impl Lsr {
    /// An LSR with `ports` (MAC and address of interface i) that puts host traffic on the
    /// trees `classifier` picks.
    pub fn new(router_id: Ipv4Addr, ports: &[(Mac, Ipv4Addr)], classifier: Classifier) -> Lsr {
        Lsr {
            classifier,
            control: std::collections::VecDeque::new(),
            router_id,
            ports: ports
                .iter()
                .map(|&(mac, address)| Port {
                    mac,
                    address,
                    neighbours: Neighbours::<(EtherType, Vec<u8>)>::new(
                        address,
                        mac,
                        Timers::default(),
                    ),
                })
                .collect(),
            counters: Counters::default(),
        }
    }

    /// A frame arrived on `interface`.
    pub fn receive(
        &mut self,
        now: Duration,
        interface: usize,
        bytes: &[u8],
        tables: &Tables,
    ) -> Vec<Transmit> {
        let Some(port) = self.ports.get(interface) else {
            return Vec::new();
        };
        let Ok(frame) = EthernetFrame::parse(bytes) else {
            self.counters.drops.count(DropReason::Malformed);
            return Vec::new();
        };
        if frame.destination != port.mac && !frame.destination.is_multicast() {
            return Vec::new();
        }
        match frame.ether_type {
            EtherType::Arp => match arp::Packet::parse(frame.payload) {
                Ok(packet) => {
                    let out = self.ports[interface].neighbours.receive(now, &packet);
                    self.emit(interface, out)
                }
                Err(_) => Vec::new(),
            },
            EtherType::MplsUnicast => self.switch(now, frame.payload.to_vec(), tables),
            EtherType::Ipv4 if frame.destination == port.mac => {
                self.route(now, interface, frame.payload, tables)
            }
            _ => Vec::new(),
        }
    }

    /// ARP retries; call at [`Lsr::poll_timeout`].
    pub fn handle_timeout(&mut self, now: Duration) -> Vec<Transmit> {
        let mut out = Vec::new();
        for i in 0..self.ports.len() {
            let o = self.ports[i].neighbours.handle_timeout(now);
            out.extend(self.emit(i, o));
        }
        out
    }

    pub fn poll_timeout(&self) -> Option<Duration> {
        self.ports
            .iter()
            .filter_map(|p| p.neighbours.poll_timeout())
            .min()
    }

    /// Packets given up on for want of an ARP answer.
    pub fn unresolved(&self) -> u64 {
        self.ports.iter().map(|p| p.neighbours.dropped).sum()
    }

    fn switch(&mut self, now: Duration, labeled: Vec<u8>, tables: &Tables) -> Vec<Transmit> {
        let original = labeled.clone();
        let frame = Frame {
            mpls: true,
            bytes: labeled,
        };
        match self.forward(now, frame, &REGULAR, tables) {
            Ok(out) => {
                self.counters.forwarded += 1;
                out
            }
            // A frame for this router itself: its last label was ours.
            Err(None) => Vec::new(),
            Err(Some(DropReason::TtlExpired)) => {
                let reply = icmp::for_expired_labeled(self.router_id, &original);
                self.expired(now, reply, tables)
            }
            Err(Some(reason)) => {
                self.counters.drops.count(reason);
                Vec::new()
            }
        }
    }

    /// The next Router Alert datagram for the control plane.
    pub fn poll_control(&mut self) -> Option<ControlDatagram> {
        self.control.pop_front()
    }

    /// A plain IPv4 datagram addressed to our MAC: into the tree its FEC policy picks, or
    /// to an attached host. What the kernel should have (ours, multicast, with other
    /// options, not well formed) is left to it.
    fn route(
        &mut self,
        now: Duration,
        interface: usize,
        datagram: &[u8],
        tables: &Tables,
    ) -> Vec<Transmit> {
        let Some(header) = ipv4::parse(datagram) else {
            self.set_aside_for_control_plane(interface, datagram, tables);
            return Vec::new();
        };
        let ours = tables.local.contains(&header.dst)
            || self.ports.iter().any(|p| p.address == header.dst);
        if ours || header.dst.is_multicast() || header.dst.is_broadcast() {
            return Vec::new();
        }
        let frame = Frame {
            mpls: false,
            bytes: datagram.to_vec(),
        };
        let steering = self.classifier.steer(header.dst).clone();
        match self.forward(now, frame, &steering, tables) {
            Ok(out) => {
                self.counters.routed += 1;
                out
            }
            Err(None) => Vec::new(),
            Err(Some(DropReason::TtlExpired)) => {
                let reply = icmp::time_exceeded(self.router_id, datagram, &[]);
                self.expired(now, reply, tables)
            }
            Err(Some(reason)) => {
                self.counters.drops.count(reason);
                Vec::new()
            }
        }
    }

    /// RFC 2113: a Router Alert datagram (RSVP's Path, PathTear, ResvConf) on its way
    /// elsewhere is the control plane's to look at, here, and not forwarded as it is: the
    /// kernel, which does not forward beside the data plane, never shows it to its Router
    /// Alert sockets.
    fn set_aside_for_control_plane(&mut self, interface: usize, datagram: &[u8], tables: &Tables) {
        let dst = datagram
            .get(16..20)
            .and_then(|d| <[u8; 4]>::try_from(d).ok())
            .map(Ipv4Addr::from);
        let ours = dst.is_none_or(|dst| {
            dst.is_multicast() || dst.is_broadcast() || tables.local.contains(&dst)
        });
        if ours || !ipv4::has_router_alert(datagram) {
            return;
        }
        if self.control.len() >= CONTROL_QUEUE {
            self.counters.control_plane_full += 1;
            return;
        }
        self.counters.to_control_plane += 1;
        self.control.push_back(ControlDatagram {
            interface,
            datagram: datagram.to_vec(),
        });
    }

    /// Counts a packet whose TTL ran out and sends `reply`, its Time Exceeded, if any.
    fn expired(&mut self, now: Duration, reply: Option<Vec<u8>>, tables: &Tables) -> Vec<Transmit> {
        self.counters.drops.count(DropReason::TtlExpired);
        let Some(reply) = reply else {
            return Vec::new();
        };
        self.counters.time_exceeded_sent += 1;
        self.originate(now, reply, tables)
    }

    /// Sends an IP datagram the router itself made, on the regular tree.
    fn originate(&mut self, now: Duration, datagram: Vec<u8>, tables: &Tables) -> Vec<Transmit> {
        let frame = Frame {
            mpls: false,
            bytes: datagram,
        };
        self.forward(now, frame, &REGULAR, tables)
            .unwrap_or_else(|reason| {
                if let Some(reason) = reason {
                    self.counters.drops.count(reason);
                }
                Vec::new()
            })
    }

    /// Looks `frame` up and sends it toward its next hop; otherwise why it was dropped, or
    /// `None` when it is for this router itself.
    fn forward(
        &mut self,
        now: Duration,
        frame: Frame,
        steering: &Steering,
        tables: &Tables,
    ) -> Result<Vec<Transmit>, Option<DropReason>> {
        let hash = flow_hash(&frame.bytes);
        match forward::process_steered(tables, frame, steering, hash) {
            Action::Forward {
                interface,
                frame,
                hop,
                ..
            } => Ok(match hop.next_hop {
                Some(next) => self.send(now, interface, next, frame),
                None => Vec::new(),
            }),
            Action::Drop(reason, _) => Err(Some(reason)),
            Action::Deliver(_) => Err(None),
        }
    }

    fn send(
        &mut self,
        now: Duration,
        interface: usize,
        next: Ipv4Addr,
        frame: Frame,
    ) -> Vec<Transmit> {
        let ether_type = if frame.mpls {
            EtherType::MplsUnicast
        } else {
            EtherType::Ipv4
        };
        let Some(port) = self.ports.get_mut(interface) else {
            return Vec::new();
        };
        let out = port.neighbours.send(now, next, (ether_type, frame.bytes));
        self.emit(interface, out)
    }

    /// ARP packets and released packets as frames out of `interface`.
    fn emit(&self, interface: usize, out: arp::Output<(EtherType, Vec<u8>)>) -> Vec<Transmit> {
        let Some(port) = self.ports.get(interface) else {
            return Vec::new();
        };
        let mut frames = Vec::with_capacity(out.arp.len() + out.released.len());
        for (destination, packet) in out.arp {
            let payload = packet.to_bytes();
            frames.push(Transmit {
                interface,
                frame: EthernetFrame {
                    destination,
                    source: port.mac,
                    ether_type: EtherType::Arp,
                    payload: &payload,
                }
                .to_bytes(),
            });
        }
        for (mac, (ether_type, payload)) in out.released {
            frames.push(Transmit {
                interface,
                frame: EthernetFrame {
                    destination: mac,
                    source: port.mac,
                    ether_type,
                    payload: &payload,
                }
                .to_bytes(),
            });
        }
        frames
    }
}

/// The flow of a packet: its IP source and destination under the label stack, so that one
/// flow keeps one path among equal-cost next hops.
fn flow_hash(packet: &[u8]) -> u64 {
    let mut rest = packet;
    if ipv4::parse(rest).is_none() {
        while let Some(entry) = lse::LabelStackEntry::decode(rest) {
            rest = rest.get(lse::LEN..).unwrap_or(&[]);
            if entry.bottom {
                break;
            }
        }
    }
    ipv4::parse(rest).map_or(0, |h| forward::flow_hash(h.src, h.dst))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lse::LabelStackEntry;
    use crate::tables::{LfibEntry, NextHop, Operation};

    const A: Mac = Mac([2, 0, 0, 0, 0, 0xa]);
    const B: Mac = Mac([2, 0, 0, 0, 0, 0xb]);
    const UP: Mac = Mac([2, 0, 0, 0, 1, 0xa]);
    const DOWN: Mac = Mac([2, 0, 0, 0, 1, 0xb]);
    const HOST: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 10);
    const FAR: Ipv4Addr = Ipv4Addr::new(192, 168, 2, 10);

    /// Label 100 in, label 200 out toward 10.0.1.2 on interface 1; the way back to the host
    /// subnet pushes 300 toward 10.0.0.2 on interface 0.
    fn tables() -> Tables {
        let hop = |interface, address: [u8; 4], label| NextHop {
            interface,
            address: Ipv4Addr::from(address),
            router: Ipv4Addr::from(address),
            operation: Operation::Label(label),
            fallback: false,
        };
        let mut t = Tables::default();
        t.lfib.insert(
            100,
            LfibEntry {
                topology: Topology::Regular,
                fec: Fec::new(FAR, 24),
                next_hops: vec![hop(1, [10, 0, 1, 2], 200)],
            },
        );
        t.ftn.insert(
            (Topology::Regular, Fec::new(HOST, 24)),
            vec![hop(0, [10, 0, 0, 2], 300)],
        );
        t
    }

    fn labeled(label: u32, ttl: u8) -> Vec<u8> {
        let mut bytes = LabelStackEntry {
            label,
            tc: 0,
            bottom: true,
            ttl,
        }
        .encode()
        .to_vec();
        bytes.extend_from_slice(&ipv4::datagram(HOST, FAR, 17, 64, 1, &[0; 12]));
        bytes
    }

    fn frame(destination: Mac, source: Mac, ether_type: EtherType, payload: &[u8]) -> Vec<u8> {
        EthernetFrame {
            destination,
            source,
            ether_type,
            payload,
        }
        .to_bytes()
    }

    fn lsr() -> Lsr {
        Lsr::new(
            Ipv4Addr::new(10, 0, 0, 9),
            &[
                (A, Ipv4Addr::new(10, 0, 0, 1)),
                (B, Ipv4Addr::new(10, 0, 1, 1)),
            ],
            Classifier::default(),
        )
    }

    #[test]
    fn a_labeled_frame_is_swapped_once_the_next_hop_answers_arp() {
        let mut lsr = lsr();
        let t = tables();
        let now = Duration::ZERO;
        // The next hop is not known yet: an ARP request goes out, the packet waits.
        let out = lsr.receive(
            now,
            0,
            &frame(A, UP, EtherType::MplsUnicast, &labeled(100, 9)),
            &t,
        );
        assert_eq!(out.len(), 1);
        let request = EthernetFrame::parse(&out[0].frame).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (out[0].interface, request.destination, request.ether_type),
            (1, Mac::BROADCAST, EtherType::Arp)
        );
        let asked = arp::Packet::parse(request.payload).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(asked.target_ip, Ipv4Addr::new(10, 0, 1, 2));
        // The answer releases it, swapped to 200 with TTL 8, to the neighbour's MAC.
        let reply = arp::Packet {
            operation: arp::Operation::Reply,
            sender_mac: DOWN,
            sender_ip: Ipv4Addr::new(10, 0, 1, 2),
            target_mac: B,
            target_ip: Ipv4Addr::new(10, 0, 1, 1),
        };
        let out = lsr.receive(
            now,
            1,
            &frame(B, DOWN, EtherType::Arp, &reply.to_bytes()),
            &t,
        );
        assert_eq!(out.len(), 1);
        let sent = EthernetFrame::parse(&out[0].frame).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (
                out[0].interface,
                sent.destination,
                sent.source,
                sent.ether_type
            ),
            (1, DOWN, B, EtherType::MplsUnicast)
        );
        let entry = LabelStackEntry::decode(sent.payload).unwrap_or_else(|| panic!("no label"));
        assert_eq!((entry.label, entry.ttl, entry.bottom), (200, 8, true));
        assert_eq!(
            &sent.payload[4..],
            &labeled(100, 9)[4..],
            "the datagram under the label is untouched"
        );
        // The next one goes straight through; a frame for another MAC is not ours.
        assert_eq!(
            lsr.receive(
                now,
                0,
                &frame(A, UP, EtherType::MplsUnicast, &labeled(100, 9)),
                &t
            )
            .len(),
            1
        );
        assert!(
            lsr.receive(
                now,
                0,
                &frame(UP, DOWN, EtherType::MplsUnicast, &labeled(100, 9)),
                &t
            )
            .is_empty()
        );
        assert_eq!(lsr.counters.forwarded, 2);
    }

    #[test]
    fn an_expired_packet_is_answered_toward_its_source() {
        let mut lsr = lsr();
        let t = tables();
        let out = lsr.receive(
            Duration::ZERO,
            0,
            &frame(A, UP, EtherType::MplsUnicast, &labeled(100, 1)),
            &t,
        );
        // The Time Exceeded waits for ARP toward 10.0.0.2, the way back to the host.
        assert_eq!(out.len(), 1);
        assert_eq!(lsr.counters.time_exceeded_sent, 1);
        let reply = arp::Packet {
            operation: arp::Operation::Reply,
            sender_mac: UP,
            sender_ip: Ipv4Addr::new(10, 0, 0, 2),
            target_mac: A,
            target_ip: Ipv4Addr::new(10, 0, 0, 1),
        };
        let out = lsr.receive(
            Duration::ZERO,
            0,
            &frame(A, UP, EtherType::Arp, &reply.to_bytes()),
            &t,
        );
        let sent = EthernetFrame::parse(&out[0].frame).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (sent.destination, sent.ether_type),
            (UP, EtherType::MplsUnicast)
        );
        let entry = LabelStackEntry::decode(sent.payload).unwrap_or_else(|| panic!("no label"));
        assert_eq!(entry.label, 300);
        let icmp = ipv4::parse(&sent.payload[4..]).unwrap_or_else(|| panic!("no datagram"));
        assert_eq!(
            (icmp.src, icmp.dst, icmp.protocol),
            (Ipv4Addr::new(10, 0, 0, 9), HOST, icmp::PROTOCOL)
        );
        // The label stack it expired with rides in the extension: label 100, TTL 1.
        let data = ipv4::data(&sent.payload[4..]);
        assert_eq!(
            LabelStackEntry::decode(&data[8 + 128 + 8..]).map(|e| (e.label, e.ttl)),
            Some((100, 1))
        );
    }

    /// Makes `lsr` know `ip` at `mac` on `interface`: a reply to us, as after a request.
    fn teach(lsr: &mut Lsr, interface: usize, ip: Ipv4Addr, mac: Mac, t: &Tables) {
        let ours = lsr.ports[interface].mac;
        let request = arp::Packet {
            operation: arp::Operation::Request,
            sender_mac: mac,
            sender_ip: ip,
            target_mac: Mac([0; 6]),
            target_ip: lsr.ports[interface].address,
        };
        let out = lsr.receive(
            Duration::ZERO,
            interface,
            &frame(ours, mac, EtherType::Arp, &request.to_bytes()),
            t,
        );
        assert_eq!(out.len(), 1, "the request is answered");
    }

    #[test]
    fn host_packets_enter_the_tree_their_policy_picks_and_leave_to_their_host() {
        const HOST_PORT: Mac = Mac([2, 0, 0, 0, 0, 0xc]);
        const HOST_MAC: Mac = Mac([2, 0, 0, 0, 2, 0xc]);
        let mut t = tables();
        for (tree, label) in [(Topology::Power, 100_200), (Topology::Regular, 200)] {
            t.ftn.insert(
                (tree, Fec::new(FAR, 24)),
                vec![NextHop {
                    interface: 1,
                    address: Ipv4Addr::new(10, 0, 1, 2),
                    router: Ipv4Addr::new(10, 0, 1, 2),
                    operation: Operation::Label(label),
                    fallback: false,
                }],
            );
        }
        t.attached.push((Fec::new(HOST, 24), 2));
        let policy = Classifier {
            rules: vec![(
                Fec::new(Ipv4Addr::new(192, 168, 2, 0), 25),
                Steering::Tree(Topology::Power),
            )],
        };
        let mut lsr = Lsr::new(
            Ipv4Addr::new(10, 0, 0, 9),
            &[
                (A, Ipv4Addr::new(10, 0, 0, 1)),
                (B, Ipv4Addr::new(10, 0, 1, 1)),
                (HOST_PORT, Ipv4Addr::new(192, 168, 1, 1)),
            ],
            policy,
        );
        teach(&mut lsr, 1, Ipv4Addr::new(10, 0, 1, 2), DOWN, &t);
        teach(&mut lsr, 2, HOST, HOST_MAC, &t);
        let sent_label = |lsr: &mut Lsr, dst: Ipv4Addr| {
            let datagram = ipv4::datagram(HOST, dst, 17, 64, 1, &[0; 8]);
            let out = lsr.receive(
                Duration::ZERO,
                2,
                &frame(HOST_PORT, HOST_MAC, EtherType::Ipv4, &datagram),
                &t,
            );
            let sent = EthernetFrame::parse(&out[0].frame).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!((out[0].interface, sent.destination), (1, DOWN));
            LabelStackEntry::decode(sent.payload).map(|e| (e.label, e.ttl))
        };
        // 192.168.2.10 is in the policy's /25: power label; .200 is not: regular label.
        assert_eq!(sent_label(&mut lsr, FAR), Some((100_200, 63)));
        assert_eq!(
            sent_label(&mut lsr, Ipv4Addr::new(192, 168, 2, 200)),
            Some((200, 63))
        );
        // The way back arrives unlabeled (the penultimate hop popped) and goes to the host.
        let back = ipv4::datagram(FAR, HOST, 17, 60, 2, &[0; 8]);
        let out = lsr.receive(
            Duration::ZERO,
            1,
            &frame(B, DOWN, EtherType::Ipv4, &back),
            &t,
        );
        let sent = EthernetFrame::parse(&out[0].frame).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (out[0].interface, sent.destination, sent.ether_type),
            (2, HOST_MAC, EtherType::Ipv4)
        );
        assert_eq!(ipv4::parse(sent.payload).map(|h| h.ttl), Some(59));
        // What is for the router itself, and a frame for another MAC, are not ours to route.
        let mine = ipv4::datagram(HOST, Ipv4Addr::new(192, 168, 1, 1), 1, 64, 3, &[0; 8]);
        assert!(
            lsr.receive(
                Duration::ZERO,
                2,
                &frame(HOST_PORT, HOST_MAC, EtherType::Ipv4, &mine),
                &t
            )
            .is_empty()
        );
        let other = ipv4::datagram(HOST, FAR, 17, 64, 4, &[0; 8]);
        assert!(
            lsr.receive(
                Duration::ZERO,
                2,
                &frame(Mac::BROADCAST, HOST_MAC, EtherType::Ipv4, &other),
                &t
            )
            .is_empty()
        );
        assert_eq!(lsr.counters.routed, 3);
        // A datagram with TTL 1 is answered: Time Exceeded from the router, to the host.
        let expiring = ipv4::datagram(HOST, FAR, 17, 1, 5, &[0; 8]);
        let out = lsr.receive(
            Duration::ZERO,
            2,
            &frame(HOST_PORT, HOST_MAC, EtherType::Ipv4, &expiring),
            &t,
        );
        let sent = EthernetFrame::parse(&out[0].frame).unwrap_or_else(|e| panic!("{e}"));
        let reply = ipv4::parse(sent.payload).unwrap_or_else(|| panic!("no datagram"));
        assert_eq!(
            (out[0].interface, reply.src, reply.dst),
            (2, Ipv4Addr::new(10, 0, 0, 9), HOST)
        );
        assert_eq!(ipv4::data(sent.payload).first(), Some(&icmp::TIME_EXCEEDED));
        assert_eq!(lsr.counters.time_exceeded_sent, 1);
    }

    #[test]
    fn router_alert_datagrams_on_their_way_elsewhere_go_to_the_control_plane() {
        let mut lsr = lsr();
        let mut t = tables();
        t.local.push(Ipv4Addr::new(10, 0, 0, 9));
        let path = |dst| {
            let plain = ipv4::datagram(Ipv4Addr::new(10, 0, 0, 2), dst, 46, 63, 0, &[0x10; 8]);
            ipv4::with_router_alert(&plain).unwrap_or_else(|| panic!("no RA"))
        };
        let arriving = path(FAR);
        let out = lsr.receive(
            Duration::ZERO,
            0,
            &frame(A, UP, EtherType::Ipv4, &arriving),
            &t,
        );
        assert!(out.is_empty(), "not forwarded as it is");
        assert_eq!(
            lsr.poll_control(),
            Some(ControlDatagram {
                interface: 0,
                datagram: arriving
            })
        );
        // For this router itself, the kernel's Router Alert socket has it already.
        let ours = path(Ipv4Addr::new(10, 0, 0, 9));
        lsr.receive(Duration::ZERO, 0, &frame(A, UP, EtherType::Ipv4, &ours), &t);
        assert_eq!(lsr.poll_control(), None);
        assert_eq!(lsr.counters.to_control_plane, 1);
        assert!(!ipv4::has_router_alert(&ipv4::datagram(
            HOST,
            FAR,
            46,
            9,
            0,
            &[]
        )));
    }

    #[test]
    fn garbage_never_panics() {
        let mut lsr = lsr();
        let t = tables();
        for bytes in [
            &[][..],
            &[0xff; 13],
            &frame(A, UP, EtherType::MplsUnicast, &[1, 2])[..],
            &frame(A, UP, EtherType::Arp, &[0; 27])[..],
        ] {
            let _ = lsr.receive(Duration::ZERO, 0, bytes, &t);
            let _ = lsr.receive(Duration::ZERO, 7, bytes, &t);
        }
        assert!(lsr.handle_timeout(Duration::from_secs(5)).is_empty());
    }
}
