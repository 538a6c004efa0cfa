//! Basic discovery (RFC 5036 §2.4.1): Link Hellos to 224.0.0.2 on every LDP interface,
//! hello adjacencies with their hold timers (§2.5.5), and the choice of the active side of
//! a new session (§2.5.2: the greater transport address opens the connection).

use std::net::Ipv4Addr;
use std::time::Duration;

use super::Instance;
use crate::packet::{CommonHello, Message, MessageType, Pdu, Tlv, TlvBody};
use mplamps_core::fec::Topology;

/// Hold time when a Hello asks for the default (RFC 5036 §3.5.2: 15 s for Link Hellos).
const DEFAULT_LINK_HOLD: Duration = Duration::from_secs(15);
const INFINITE_HOLD: u16 = 0xFFFF;

#[derive(Debug, Clone)]
pub(super) struct Adjacency {
    pub transport: Ipv4Addr,
    pub expires: Duration,
}

impl Instance {
    pub(super) fn send_due_hellos(&mut self) {
        let now = self.now;
        for interface in 0..self.interfaces.len() {
            let due = self.interfaces[interface]
                .next_hello
                .is_some_and(|at| at <= now);
            if !due {
                continue;
            }
            self.interfaces[interface].next_hello = Some(now + self.config.hello_interval);
            let hold = u16::try_from(self.config.hello_hold.as_secs()).unwrap_or(INFINITE_HOLD - 1);
            let id = self.message_id();
            let pdu = Pdu {
                lsr_id: self.config.lsr_id,
                label_space: 0,
                messages: vec![Message::new(
                    MessageType::Hello,
                    id,
                    vec![
                        Tlv::known(TlvBody::CommonHello(CommonHello {
                            hold_time: hold,
                            targeted: false,
                            request_targeted: false,
                            gtsm: false,
                        })),
                        Tlv::known(TlvBody::Ipv4Transport(self.config.transport_address)),
                    ],
                )],
            };
            self.counters.hellos_sent += 1;
            self.transmits.push_back(super::Transmit::Hello {
                interface,
                payload: pdu.encode(),
            });
        }
    }

    pub(super) fn receive_hello(&mut self, interface: usize, src: Ipv4Addr, bytes: &[u8]) {
        if !self.interfaces.get(interface).is_some_and(|i| i.up) {
            return;
        }
        let pdu = match Pdu::decode(bytes) {
            Ok(pdu) => pdu,
            Err(e) => {
                // §3.5.1.2.1: errors in Hello messages are not answered; they are counted.
                self.counters.malformed += 1;
                self.warn(format!("malformed Hello from {src}: {e}"));
                return;
            }
        };
        let Some(hello) = pdu.messages.iter().find(|m| m.kind == MessageType::Hello) else {
            self.counters.malformed += 1;
            return;
        };
        let Some(params) = hello.tlvs.iter().find_map(|t| match t.body {
            TlvBody::CommonHello(p) => Some(p),
            _ => None,
        }) else {
            self.counters.malformed += 1;
            self.warn(format!(
                "Hello from {src} without Common Hello Parameters (RFC 5036 §3.5.2)"
            ));
            return;
        };
        if params.targeted || pdu.lsr_id == self.config.lsr_id {
            return;
        }
        self.counters.hellos_received += 1;
        let transport = hello
            .tlvs
            .iter()
            .find_map(|t| match t.body {
                TlvBody::Ipv4Transport(a) => Some(a),
                _ => None,
            })
            .unwrap_or(src);
        let theirs = match params.hold_time {
            0 => DEFAULT_LINK_HOLD,
            INFINITE_HOLD => Duration::MAX,
            s => Duration::from_secs(u64::from(s)),
        };
        // §3.5.2: the hold time is the lesser of the two proposals.
        let hold = theirs.min(self.config.hello_hold);
        let peer = pdu.lsr_id;
        let fresh = !self.adjacencies.contains_key(&(interface, peer));
        self.adjacencies.insert(
            (interface, peer),
            Adjacency {
                transport,
                expires: self.now.saturating_add(hold),
            },
        );
        if fresh {
            self.adjacency_up(peer, transport);
            // The active side opens the session once it has our Hello: a new neighbor that
            // waits for us gets one at once rather than at the next interval (a Hello
            // early is still a Hello, RFC 5036 §2.4.1).
            if !self.config.is_active_toward(transport)
                && let Some(i) = self.interfaces.get_mut(interface)
                && i.next_hello.is_some()
            {
                i.next_hello = Some(self.now);
            }
        }
    }

    /// A peer became reachable by a hello: the active side opens the session stream.
    fn adjacency_up(&mut self, peer: Ipv4Addr, transport: Ipv4Addr) {
        if self.sessions.contains_key(&peer)
            || self.retry.contains_key(&peer)
            || self.connecting.contains(&peer)
        {
            return;
        }
        if self.config.is_active_toward(transport) {
            // One session per peer however many links (adjacencies) join us.
            self.connecting.insert(peer);
            self.transmits
                .push_back(super::Transmit::Connect { peer, transport });
        }
    }

    pub(super) fn expire_adjacencies(&mut self) {
        let now = self.now;
        let expired: Vec<_> = self
            .adjacencies
            .iter()
            .filter(|(_, a)| a.expires <= now)
            .map(|(k, _)| *k)
            .collect();
        for key in expired {
            self.remove_adjacency(key);
        }
    }

    pub(super) fn remove_adjacency(&mut self, key: (usize, Ipv4Addr)) {
        self.adjacencies.remove(&key);
        let peer = key.1;
        if !self.adjacencies.keys().any(|(_, p)| *p == peer) {
            self.retry.remove(&peer);
            self.adjacency_lost(peer);
        }
    }

    /// The transport address a hello of `peer` gave, while an adjacency lives.
    pub(super) fn adjacency_transport(&self, peer: Ipv4Addr) -> Option<Ipv4Addr> {
        self.adjacencies
            .iter()
            .find(|((_, p), _)| *p == peer)
            .map(|(_, a)| a.transport)
    }

    pub(super) fn has_adjacency(&self, peer: Ipv4Addr) -> bool {
        self.adjacencies.keys().any(|(_, p)| *p == peer)
    }

    /// Whether a regular route leads to `address`.
    pub(super) fn routed(&self, address: Ipv4Addr) -> bool {
        self.routes
            .get(&Topology::Regular)
            .is_some_and(|routes| routes.keys().any(|fec| fec.contains(address)))
    }

    /// Sessions that failed for want of a route are tried again now that one leads to the
    /// peer: that failure said nothing about the peer (RFC 5036 §2.5.3's back-off is for
    /// peers that were reached).
    pub(super) fn retry_routed_sessions(&mut self) {
        let now = self.now;
        // Peers with a session, or being connected to, need nothing more.
        let busy: Vec<Ipv4Addr> = self
            .unrouted
            .iter()
            .copied()
            .filter(|p| self.sessions.contains_key(p) || self.connecting.contains(p))
            .collect();
        for peer in busy {
            self.unrouted.remove(&peer);
        }
        let routed: Vec<Ipv4Addr> = self
            .unrouted
            .iter()
            .copied()
            .filter(|&peer| {
                self.adjacency_transport(peer)
                    .is_some_and(|transport| self.routed(transport))
            })
            .collect();
        for peer in routed {
            self.unrouted.remove(&peer);
            self.retry.insert(peer, now);
        }
        self.retry_sessions();
    }

    /// The active side tries a failed session again once its back-off passed.
    pub(super) fn retry_sessions(&mut self) {
        let now = self.now;
        let due: Vec<_> = self
            .retry
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(p, _)| *p)
            .collect();
        for peer in due {
            self.retry.remove(&peer);
            if let Some(transport) = self.adjacency_transport(peer) {
                self.adjacency_up(peer, transport);
            }
        }
    }
}
