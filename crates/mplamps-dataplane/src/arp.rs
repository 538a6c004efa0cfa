//! ARP for IPv4 over Ethernet (RFC 826): the packet, and a neighbour table that resolves
//! next-hop addresses for a user-space router.
//!
//! The table is sans-IO: the caller hands it each packet for a next hop
//! ([`Neighbours::send`]), feeds the ARP packets that arrive ([`Neighbours::receive`]) and
//! the time, and sends what comes back: ARP requests and replies, and packets with the MAC
//! to send them to. A packet for a neighbour not yet known is held (up to `max_held` per
//! neighbour) until the answer comes, or counted as dropped when it does not.
//!
//! An answer is trusted for `reachable`; after that the entry is stale but still used, and
//! the first packet sent through it starts a poll: requests sent to the neighbour's own
//! MAC until it answers, the entry removed when none of `max_requests` is answered
//! (RFC 1122 §2.3.2.1, unicast poll). Traffic never waits for a neighbour that was known,
//! so a burst meeting a stale entry is not cut to what the hold queue takes.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use crate::ethernet::Mac;

/// Hardware type, protocol type, lengths, operation, two (MAC, IPv4) pairs.
pub const PACKET_LEN: usize = 28;

/// Operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Request,
    Reply,
}

/// An ARP packet for IPv4 over Ethernet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet {
    pub operation: Operation,
    pub sender_mac: Mac,
    pub sender_ip: Ipv4Addr,
    pub target_mac: Mac,
    pub target_ip: Ipv4Addr,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArpError {
    #[error("an ARP packet of {0} octets is shorter than the 28 of IPv4 over Ethernet")]
    Truncated(usize),
    #[error(
        "ARP for hardware type {hardware}, protocol 0x{protocol:04x}: only Ethernet and IPv4 are read"
    )]
    Unsupported { hardware: u16, protocol: u16 },
    #[error("ARP operation {0}: only request (1) and reply (2) are read")]
    UnknownOperation(u16),
}

impl Packet {
    pub fn parse(bytes: &[u8]) -> Result<Packet, ArpError> {
        let b = bytes
            .get(..PACKET_LEN)
            .ok_or(ArpError::Truncated(bytes.len()))?;
        let u16_at = |at: usize| u16::from_be_bytes([b[at], b[at + 1]]);
        let (hardware, protocol) = (u16_at(0), u16_at(2));
        if hardware != 1 || protocol != 0x0800 || b[4] != 6 || b[5] != 4 {
            return Err(ArpError::Unsupported { hardware, protocol });
        }
        let operation = match u16_at(6) {
            1 => Operation::Request,
            2 => Operation::Reply,
            other => return Err(ArpError::UnknownOperation(other)),
        };
        let mac = |at: usize| {
            let mut m = [0u8; 6];
            m.copy_from_slice(&b[at..at + 6]);
            Mac(m)
        };
        let ip = |at: usize| Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3]);
        Ok(Packet {
            operation,
            sender_mac: mac(8),
            sender_ip: ip(14),
            target_mac: mac(18),
            target_ip: ip(24),
        })
    }

    pub fn to_bytes(&self) -> [u8; PACKET_LEN] {
        let mut out = [0u8; PACKET_LEN];
        out[..6].copy_from_slice(&[0, 1, 0x08, 0x00, 6, 4]);
        let op: u16 = match self.operation {
            Operation::Request => 1,
            Operation::Reply => 2,
        };
        out[6..8].copy_from_slice(&op.to_be_bytes());
        out[8..14].copy_from_slice(&self.sender_mac.0);
        out[14..18].copy_from_slice(&self.sender_ip.octets());
        out[18..24].copy_from_slice(&self.target_mac.0);
        out[24..28].copy_from_slice(&self.target_ip.octets());
        out
    }
}

/// How long an answer is trusted, how often a request is repeated and how often at most
/// (Linux's defaults are of this order: reachable some 30 s, three probes a second apart,
/// about a hundred packets queued for an unresolved neighbour).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timers {
    pub reachable: Duration,
    pub retransmit: Duration,
    pub max_requests: u32,
    /// Packets held per unresolved neighbour.
    pub max_held: usize,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            reachable: Duration::from_secs(30),
            retransmit: Duration::from_secs(1),
            max_requests: 3,
            max_held: 100,
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    mac: Mac,
    learned: Duration,
    /// The unicast poll of a stale entry in use: when its last request went, and how many.
    poll: Option<Poll>,
}

#[derive(Debug, Clone, Copy)]
struct Poll {
    last_request: Duration,
    requests: u32,
}

#[derive(Debug, Clone)]
struct Pending<P> {
    last_request: Option<Duration>,
    requests: u32,
    held: Vec<P>,
}

/// One interface's neighbour table; `P` is what it holds for a neighbour not yet known.
#[derive(Debug, Clone)]
pub struct Neighbours<P = Vec<u8>> {
    our_ip: Ipv4Addr,
    our_mac: Mac,
    timers: Timers,
    known: HashMap<Ipv4Addr, Entry>,
    pending: HashMap<Ipv4Addr, Pending<P>>,
    /// Packets given up on: no answer after every request, or too many held.
    pub dropped: u64,
}

/// What the caller sends after an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output<P = Vec<u8>> {
    /// ARP packets, each with the Ethernet destination it goes to: broadcast for a request
    /// that resolves, the neighbour's MAC for a poll or a reply.
    pub arp: Vec<(Mac, Packet)>,
    /// Packets whose next hop is known: (its MAC, the packet).
    pub released: Vec<(Mac, P)>,
}

impl<P> Default for Output<P> {
    fn default() -> Self {
        Output {
            arp: Vec::new(),
            released: Vec::new(),
        }
    }
}

impl<P> Neighbours<P> {
    pub fn new(our_ip: Ipv4Addr, our_mac: Mac, timers: Timers) -> Neighbours<P> {
        Neighbours {
            our_ip,
            our_mac,
            timers,
            known: HashMap::new(),
            pending: HashMap::new(),
            dropped: 0,
        }
    }

    /// `packet` for next hop `ip`: released at once with its MAC when that is known, a poll
    /// starting when the entry is stale; otherwise held until the answer, a request going
    /// out unless one is already on its way.
    pub fn send(&mut self, now: Duration, ip: Ipv4Addr, packet: P) -> Output<P> {
        if let Some(e) = self.known.get_mut(&ip) {
            let mut out = Output::default();
            if e.poll.is_none() && now.saturating_sub(e.learned) >= self.timers.reachable {
                e.poll = Some(Poll {
                    last_request: now,
                    requests: 1,
                });
                out.arp
                    .push((e.mac, request(self.our_mac, self.our_ip, ip)));
            }
            out.released.push((e.mac, packet));
            return out;
        }
        let max_held = self.timers.max_held;
        let pending = self.pending.entry(ip).or_insert(Pending {
            last_request: None,
            requests: 0,
            held: Vec::new(),
        });
        if pending.held.len() < max_held {
            pending.held.push(packet);
        } else {
            self.dropped += 1;
        }
        let mut out = Output::default();
        if pending.last_request.is_none() {
            pending.last_request = Some(now);
            pending.requests = 1;
            out.arp
                .push((Mac::BROADCAST, request(self.our_mac, self.our_ip, ip)));
        }
        out
    }

    /// RFC 826 "Packet Reception": learn (or refresh) the sender when it is known or when
    /// the packet is for us, answer a request for our address, and release what waited.
    pub fn receive(&mut self, now: Duration, packet: &Packet) -> Output<P> {
        let mut out = Output::default();
        let for_us = packet.target_ip == self.our_ip;
        let merged = match self.known.get_mut(&packet.sender_ip) {
            Some(e) => {
                e.mac = packet.sender_mac;
                e.learned = now;
                e.poll = None;
                true
            }
            None => false,
        };
        if for_us || self.pending.contains_key(&packet.sender_ip) {
            if !merged {
                self.known.insert(
                    packet.sender_ip,
                    Entry {
                        mac: packet.sender_mac,
                        learned: now,
                        poll: None,
                    },
                );
            }
            if let Some(p) = self.pending.remove(&packet.sender_ip) {
                out.released
                    .extend(p.held.into_iter().map(|h| (packet.sender_mac, h)));
            }
        }
        if for_us && packet.operation == Operation::Request {
            out.arp.push((
                packet.sender_mac,
                Packet {
                    operation: Operation::Reply,
                    sender_mac: self.our_mac,
                    sender_ip: self.our_ip,
                    target_mac: packet.sender_mac,
                    target_ip: packet.sender_ip,
                },
            ));
        }
        out
    }

    /// Repeats requests that went unanswered, and gives up after the last one: a pending
    /// neighbour's held packets are dropped, a polled entry is removed.
    pub fn handle_timeout(&mut self, now: Duration) -> Output<P> {
        let mut out = Output::default();
        let (retransmit, max_requests) = (self.timers.retransmit, self.timers.max_requests);
        let (our_mac, our_ip) = (self.our_mac, self.our_ip);
        self.known.retain(|&ip, e| {
            let Some(poll) = &mut e.poll else {
                return true;
            };
            if now.saturating_sub(poll.last_request) < retransmit {
                return true;
            }
            if poll.requests >= max_requests {
                return false;
            }
            poll.requests += 1;
            poll.last_request = now;
            out.arp.push((e.mac, request(our_mac, our_ip, ip)));
            true
        });
        let mut given_up = Vec::new();
        for (&ip, p) in &mut self.pending {
            let due = p
                .last_request
                .is_none_or(|at| now.saturating_sub(at) >= retransmit);
            if !due {
                continue;
            }
            if p.requests >= max_requests {
                given_up.push(ip);
                continue;
            }
            p.requests += 1;
            p.last_request = Some(now);
            out.arp.push((Mac::BROADCAST, request(our_mac, our_ip, ip)));
        }
        for ip in given_up {
            if let Some(p) = self.pending.remove(&ip) {
                self.dropped += p.held.len() as u64;
            }
        }
        out
    }

    /// When [`Neighbours::handle_timeout`] has something to do next.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let pending = self.pending.values().filter_map(|p| p.last_request);
        let polled = self
            .known
            .values()
            .filter_map(|e| e.poll.map(|p| p.last_request));
        pending
            .chain(polled)
            .map(|at| at + self.timers.retransmit)
            .min()
    }
}

/// A request for `ip`; its target hardware address is left zero, as the sender does not
/// know it, or, in a poll, does not vouch for it.
fn request(our_mac: Mac, our_ip: Ipv4Addr, ip: Ipv4Addr) -> Packet {
    Packet {
        operation: Operation::Request,
        sender_mac: our_mac,
        sender_ip: our_ip,
        target_mac: Mac([0; 6]),
        target_ip: ip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const US: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 1);
    const THEM: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 2);
    const OUR_MAC: Mac = Mac([2, 0, 0, 0, 0, 1]);
    const THEIR_MAC: Mac = Mac([2, 0, 0, 0, 0, 2]);
    /// Their answer to our request.
    const THEIR_REPLY: Packet = Packet {
        operation: Operation::Reply,
        sender_mac: THEIR_MAC,
        sender_ip: THEM,
        target_mac: OUR_MAC,
        target_ip: US,
    };

    fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    #[test]
    fn a_request_is_answered_and_what_waited_is_released() {
        let mut n = Neighbours::<Vec<u8>>::new(US, OUR_MAC, Timers::default());
        let out = n.send(s(0), THEM, vec![1, 2, 3]);
        assert!(out.released.is_empty());
        assert_eq!(out.arp.len(), 1);
        assert_eq!(
            (out.arp[0].0, out.arp[0].1.operation, out.arp[0].1.target_ip),
            (Mac::BROADCAST, Operation::Request, THEM)
        );
        // A second packet waits without a second request.
        let out = n.send(s(0), THEM, vec![4]);
        assert!(out.arp.is_empty() && out.released.is_empty());
        let out = n.receive(s(0), &THEIR_REPLY);
        assert_eq!(
            out.released,
            vec![(THEIR_MAC, vec![1, 2, 3]), (THEIR_MAC, vec![4])]
        );
        assert_eq!(
            n.send(s(10), THEM, vec![5]).released,
            vec![(THEIR_MAC, vec![5])]
        );
        // Stale after 30 s: still used, and polled once with a request to their MAC.
        let out = n.send(s(31), THEM, vec![6]);
        assert_eq!(out.released, vec![(THEIR_MAC, vec![6])]);
        assert_eq!(
            out.arp
                .iter()
                .map(|(to, p)| (*to, p.target_ip))
                .collect::<Vec<_>>(),
            [(THEIR_MAC, THEM)]
        );
        let out = n.send(s(31), THEM, vec![7]);
        assert!(out.arp.is_empty() && out.released.len() == 1);
        // Their answer ends the poll: fresh again for 30 s.
        assert!(n.receive(s(32), &THEIR_REPLY).released.is_empty());
        assert_eq!(n.poll_timeout(), None);
        assert!(n.send(s(61), THEM, vec![8]).arp.is_empty());

        // Their request for us is answered with our MAC, and teaches us theirs.
        let mut n = Neighbours::<Vec<u8>>::new(US, OUR_MAC, Timers::default());
        let request = Packet {
            operation: Operation::Request,
            sender_mac: THEIR_MAC,
            sender_ip: THEM,
            target_mac: Mac([0; 6]),
            target_ip: US,
        };
        let out = n.receive(s(5), &request);
        assert_eq!(
            out.arp,
            vec![(
                THEIR_MAC,
                Packet {
                    operation: Operation::Reply,
                    sender_mac: OUR_MAC,
                    sender_ip: US,
                    target_mac: THEIR_MAC,
                    target_ip: THEM,
                }
            )]
        );
        assert_eq!(
            n.send(s(6), THEM, vec![7]).released,
            vec![(THEIR_MAC, vec![7])]
        );
    }

    #[test]
    fn unanswered_requests_are_repeated_then_given_up() {
        let mut n = Neighbours::<Vec<u8>>::new(US, OUR_MAC, Timers::default());
        let _ = n.send(s(0), THEM, vec![9]);
        assert_eq!(n.poll_timeout(), Some(s(1)));
        assert_eq!(n.handle_timeout(s(1)).arp.len(), 1);
        assert_eq!(n.handle_timeout(s(2)).arp.len(), 1);
        assert!(n.handle_timeout(s(3)).arp.is_empty());
        assert_eq!(n.dropped, 1);
        assert_eq!(n.poll_timeout(), None);
    }

    /// A burst through a stale entry all goes out, none held or dropped; a neighbour that
    /// answers none of the polls is forgotten, and the next packet waits for a broadcast
    /// request's answer.
    #[test]
    fn a_stale_neighbour_is_used_while_polled_and_forgotten_when_silent() {
        let mut n = Neighbours::<Vec<u8>>::new(US, OUR_MAC, Timers::default());
        let _ = n.send(s(0), THEM, vec![0]);
        let _ = n.receive(s(0), &THEIR_REPLY);
        let released: usize = (0..20)
            .map(|i| n.send(s(40), THEM, vec![i]).released.len())
            .sum();
        assert_eq!((released, n.dropped), (20, 0));
        assert_eq!(n.poll_timeout(), Some(s(41)));
        let polls = [s(41), s(42)].map(|t| n.handle_timeout(t).arp);
        assert!(polls.iter().all(|p| p.len() == 1 && p[0].0 == THEIR_MAC));
        assert!(n.handle_timeout(s(43)).arp.is_empty());
        assert_eq!(n.poll_timeout(), None);
        let out = n.send(s(44), THEM, vec![1]);
        assert!(out.released.is_empty());
        assert_eq!(out.arp.first().map(|(to, _)| *to), Some(Mac::BROADCAST));
    }

    #[test]
    fn packets_of_other_kinds_are_errors() {
        let mut bytes = Packet {
            operation: Operation::Request,
            sender_mac: THEIR_MAC,
            sender_ip: THEM,
            target_mac: Mac([0; 6]),
            target_ip: US,
        }
        .to_bytes();
        assert!(Packet::parse(&bytes).is_ok());
        assert_eq!(Packet::parse(&bytes[..20]), Err(ArpError::Truncated(20)));
        bytes[7] = 3;
        assert_eq!(Packet::parse(&bytes), Err(ArpError::UnknownOperation(3)));
        bytes[1] = 6;
        assert!(matches!(
            Packet::parse(&bytes),
            Err(ArpError::Unsupported { hardware: 6, .. })
        ));
    }

    proptest! {
        #[test]
        fn packets_round_trip_and_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(p) = Packet::parse(&bytes) {
                prop_assert_eq!(&p.to_bytes()[..], &bytes[..PACKET_LEN]);
            }
        }
    }
}
