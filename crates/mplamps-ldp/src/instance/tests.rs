//! Instances wired back to back by a tiny in-memory network: hellos cross links, streams
//! carry bytes in order, time jumps to the next timeout.

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::time::Duration;

use super::*;
use mplamps_core::label::IMPLICIT_NULL;

const POWER: PowerCapability = PowerCapability {
    code: 0x3F01,
    mt_id: 100,
};

fn rid(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 255, 0, n)
}

fn loopback(n: u8) -> Fec {
    Fec::new(rid(n), 32)
}

enum Wire {
    Hello {
        to: usize,
        interface: usize,
        src: Ipv4Addr,
        payload: Vec<u8>,
    },
    Connected {
        to: usize,
        peer: Ipv4Addr,
    },
    Bytes {
        to: usize,
        peer: Ipv4Addr,
        payload: Vec<u8>,
    },
    Closed {
        to: usize,
        peer: Ipv4Addr,
    },
}

struct Net {
    routers: Vec<Instance>,
    /// (router a, interface on a, router b, interface on b, up)
    links: Vec<(usize, usize, usize, usize, bool)>,
    wire: VecDeque<Wire>,
    now: Duration,
    pdus: usize,
}

impl Net {
    /// Routers 1..=n in a line; `power[i]` says whether router i+1 has the capability.
    fn line(power: &[bool], control: Control) -> Net {
        let n = power.len();
        let mut routers = Vec::new();
        for (i, &p) in power.iter().enumerate() {
            let id = i as u8 + 1;
            let mut c = Config::new(rid(id));
            c.control = control;
            c.power = p.then_some(POWER);
            // Interface 0 faces the lower neighbor, interface 1 the higher one.
            c.interfaces = vec![Ipv4Addr::new(10, 0, id, 1), Ipv4Addr::new(10, 0, id, 2)];
            routers.push(Instance::new(c));
        }
        let links = (0..n.saturating_sub(1))
            .map(|i| (i, 1, i + 1, 0, true))
            .collect();
        let mut net = Net {
            routers,
            links,
            wire: VecDeque::new(),
            now: Duration::ZERO,
            pdus: 0,
        };
        for r in 0..n {
            net.routers[r].start(Duration::ZERO);
            for &(a, ia, b, ib, _) in &net.links.clone() {
                if a == r {
                    net.routers[r].interface_up(Duration::ZERO, ia);
                }
                if b == r {
                    net.routers[r].interface_up(Duration::ZERO, ib);
                }
            }
        }
        net.routes_for_line();
        net.drain_all();
        net
    }

    /// Shortest-path routes of a line: every other router's loopback via the neighbor
    /// toward it; the same tree for both topologies.
    fn routes_for_line(&mut self) {
        let n = self.routers.len();
        for r in 0..n {
            let mut routes = TopologyRoutes::new();
            for d in 0..n {
                if d == r {
                    continue;
                }
                let hop = if d > r {
                    RouteNextHop {
                        interface: 1,
                        address: self.addr(r + 1, 0),
                    }
                } else {
                    RouteNextHop {
                        interface: 0,
                        address: self.addr(r - 1, 1),
                    }
                };
                routes.insert(loopback(d as u8 + 1), vec![hop]);
            }
            let now = self.now;
            self.routers[r].set_routes(now, Topology::Regular, routes.clone());
            self.routers[r].set_routes(now, Topology::Power, routes);
        }
    }

    fn addr(&self, r: usize, interface: usize) -> Ipv4Addr {
        self.routers[r].config().interfaces[interface]
    }

    fn find(&self, id: Ipv4Addr) -> Option<usize> {
        self.routers.iter().position(|r| r.lsr_id() == id)
    }

    fn link_between(&self, a: usize, b: usize) -> Option<(usize, usize, usize, usize, bool)> {
        self.links
            .iter()
            .copied()
            .find(|&(x, _, y, _, up)| up && ((x == a && y == b) || (x == b && y == a)))
    }

    fn drain(&mut self, r: usize) {
        while let Some(t) = self.routers[r].poll_transmit() {
            let me = self.routers[r].lsr_id();
            match t {
                Transmit::Hello { interface, payload } => {
                    for &(a, ia, b, ib, up) in &self.links {
                        if !up {
                            continue;
                        }
                        let far = if (a, ia) == (r, interface) {
                            Some((b, ib))
                        } else if (b, ib) == (r, interface) {
                            Some((a, ia))
                        } else {
                            None
                        };
                        if let Some((to, interface)) = far {
                            let src = self.addr(r, if a == r { ia } else { ib });
                            self.wire.push_back(Wire::Hello {
                                to,
                                interface,
                                src,
                                payload: payload.clone(),
                            });
                        }
                    }
                }
                Transmit::Connect { peer, .. } => {
                    if let Some(to) = self.find(peer)
                        && self.link_between(r, to).is_some()
                    {
                        self.wire.push_back(Wire::Connected { to: r, peer });
                        self.wire.push_back(Wire::Connected { to, peer: me });
                    } else {
                        self.wire.push_back(Wire::Closed { to: r, peer });
                    }
                }
                Transmit::Stream { peer, payload } => {
                    // Every PDU fits the advertised maximum and decodes.
                    assert!(payload.len() <= 4096, "PDU of {} octets", payload.len());
                    assert!(crate::packet::Pdu::decode(&payload).is_ok());
                    self.pdus += 1;
                    if let Some(to) = self.find(peer) {
                        self.wire.push_back(Wire::Bytes {
                            to,
                            peer: me,
                            payload,
                        });
                    }
                }
                Transmit::Close { peer } => {
                    if let Some(to) = self.find(peer) {
                        self.wire.push_back(Wire::Closed { to, peer: me });
                    }
                }
            }
        }
        while self.routers[r].poll_event().is_some() {}
    }

    fn drain_all(&mut self) {
        for r in 0..self.routers.len() {
            self.drain(r);
        }
        while let Some(w) = self.wire.pop_front() {
            let now = self.now;
            let to = match w {
                Wire::Hello {
                    to,
                    interface,
                    src,
                    payload,
                } => {
                    self.routers[to].handle_datagram(now, interface, src, &payload);
                    to
                }
                Wire::Connected { to, peer } => {
                    self.routers[to].stream_connected(now, peer);
                    to
                }
                Wire::Bytes { to, peer, payload } => {
                    self.routers[to].handle_stream(now, peer, &payload);
                    to
                }
                Wire::Closed { to, peer } => {
                    self.routers[to].stream_closed(now, peer);
                    to
                }
            };
            self.drain(to);
        }
    }

    /// Advances time by `d`, firing timers on the way.
    fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        loop {
            let next = self.routers.iter().filter_map(|r| r.poll_timeout()).min();
            match next {
                Some(at) if at <= end => {
                    self.now = at.max(self.now);
                    for r in 0..self.routers.len() {
                        if self.routers[r]
                            .poll_timeout()
                            .is_some_and(|t| t <= self.now)
                        {
                            let now = self.now;
                            self.routers[r].handle_timeout(now);
                            self.drain(r);
                        }
                    }
                    self.drain_all();
                }
                _ => break,
            }
        }
        self.now = end;
    }

    fn set_link(&mut self, link: usize, up: bool) {
        let (a, ia, b, ib, _) = self.links[link];
        self.links[link].4 = up;
        let now = self.now;
        for (r, i) in [(a, ia), (b, ib)] {
            if up {
                self.routers[r].interface_up(now, i);
            } else {
                self.routers[r].interface_down(now, i);
            }
        }
        self.drain_all();
    }
}

fn operational(i: &Instance) -> usize {
    i.sessions()
        .iter()
        .filter(|(_, s)| *s == SessionState::Operational)
        .count()
}

#[test]
fn two_routers_bring_up_a_session_and_exchange_egress_bindings() {
    let net = Net::line(&[true, true], Control::Ordered);
    assert_eq!(operational(&net.routers[0]), 1);
    assert_eq!(operational(&net.routers[1]), 1);
    // Each is the egress of its loopback: implicit null, so the other pops.
    let f = net.routers[0].forwarding();
    let fwd = &f.fecs[&(Topology::Regular, loopback(2))];
    assert_eq!(fwd.nhlfes.len(), 1);
    assert_eq!(fwd.nhlfes[0].out_label, None);
    assert_eq!(
        net.routers[0].remote_bindings(rid(2))[&(Topology::Power, loopback(2))],
        IMPLICIT_NULL
    );
    assert!(net.routers[0].peer_has_power(rid(2)));
}

#[test]
fn power_and_regular_labels_come_from_disjoint_ranges() {
    let net = Net::line(&[true, true, true, true], Control::Ordered);
    let mut seen = std::collections::BTreeSet::new();
    for r in &net.routers {
        for ((topology, fec), f) in r.forwarding().fecs {
            let Some(label) = f.local_label else {
                continue;
            };
            let range = r.labels().range(topology.label_owner()).unwrap();
            assert!(range.contains(label), "{topology} {fec} label {label}");
            assert!(seen.insert((r.lsr_id(), label)), "label {label} reused");
            assert!(!f.nhlfes.is_empty());
            assert!(f.nhlfes.iter().all(|n| !n.fallback));
        }
    }
    // Router 1 reaches router 4 on both trees with a label from router 2's matching range.
    let f = net.routers[0].forwarding();
    let regular = f.fecs[&(Topology::Regular, loopback(4))].nhlfes[0]
        .out_label
        .unwrap();
    let power = f.fecs[&(Topology::Power, loopback(4))].nhlfes[0]
        .out_label
        .unwrap();
    assert!((16..100_000).contains(&regular));
    assert!((100_000..200_000).contains(&power));
}

/// Draft §2.4.4: a router without the capability gets no power bindings; its upstream
/// falls back to its regular label and says so.
#[test]
fn a_router_without_the_capability_gets_only_regular_bindings() {
    let net = Net::line(&[true, false, true], Control::Ordered);
    assert_eq!(operational(&net.routers[1]), 2);
    let from_1 = net.routers[1].remote_bindings(rid(1));
    assert!(from_1.keys().all(|(t, _)| *t == Topology::Regular));
    assert!(!from_1.is_empty());
    assert_eq!(net.routers[1].counters().unknown_fec, 0);
    let f = net.routers[0].forwarding();
    let power = &f.fecs[&(Topology::Power, loopback(3))];
    assert!(power.nhlfes[0].fallback);
    let regular = &f.fecs[&(Topology::Regular, loopback(3))];
    assert_eq!(power.nhlfes[0].out_label, regular.nhlfes[0].out_label);
}

#[test]
fn ordered_control_waits_for_the_downstream_binding() {
    let mut net = Net::line(&[false, false, false], Control::Ordered);
    // Cut the link to router 3: router 2 keeps its route but loses the binding.
    net.set_link(1, false);
    let f = net.routers[1].forwarding();
    assert!(!f.fecs.contains_key(&(Topology::Regular, loopback(3))));
    assert!(
        !net.routers[0]
            .remote_bindings(rid(2))
            .contains_key(&(Topology::Regular, loopback(3)))
    );
    // Independent control advertises what it has a route for.
    let mut net = Net::line(&[false, false, false], Control::Independent);
    net.set_link(1, false);
    assert!(
        net.routers[0]
            .remote_bindings(rid(2))
            .contains_key(&(Topology::Regular, loopback(3)))
    );
}

#[test]
fn route_loss_withdraws_and_the_label_returns_after_the_release() {
    let mut net = Net::line(&[true, true, true], Control::Ordered);
    let before = net.routers[1].labels_in_use();
    let owner_count = |i: &Instance| {
        i.labels().allocated(mplamps_core::LabelOwner::LdpRegular)
            + i.labels().allocated(mplamps_core::LabelOwner::LdpPower)
    };
    assert_eq!(owner_count(&net.routers[1]), before.len());
    // Router 2 loses its routes to router 3 in both topologies.
    for t in [Topology::Regular, Topology::Power] {
        let mut routes = TopologyRoutes::new();
        routes.insert(
            loopback(1),
            vec![RouteNextHop {
                interface: 0,
                address: net.addr(0, 1),
            }],
        );
        let now = net.now;
        net.routers[1].set_routes(now, t, routes);
    }
    net.drain_all();
    let after = net.routers[1].labels_in_use();
    assert_eq!(after.len() + 2, before.len(), "{before:?} → {after:?}");
    assert_eq!(owner_count(&net.routers[1]), after.len());
    assert!(
        !net.routers[0]
            .remote_bindings(rid(2))
            .contains_key(&(Topology::Regular, loopback(3)))
    );
}

#[test]
fn session_loss_and_recovery_leave_no_stale_labels() {
    let mut net = Net::line(&[true, true, true], Control::Ordered);
    let in_use = net.routers[1].labels_in_use();
    let fwd = net.routers[0].forwarding();
    net.set_link(0, false);
    assert_eq!(operational(&net.routers[0]), 0);
    assert!(net.routers[0].remote_bindings(rid(2)).is_empty());
    assert!(
        net.routers[0]
            .forwarding()
            .fecs
            .values()
            .all(|f| f.nhlfes.is_empty())
    );
    net.set_link(0, true);
    net.run_for(Duration::from_secs(40));
    assert_eq!(operational(&net.routers[0]), 1);
    assert_eq!(net.routers[1].labels_in_use(), in_use);
    assert_eq!(net.routers[0].forwarding(), fwd);
}

#[test]
fn keepalives_hold_the_session_and_silence_ends_it() {
    let mut net = Net::line(&[false, false], Control::Ordered);
    net.run_for(Duration::from_secs(600));
    assert_eq!(operational(&net.routers[0]), 1);
    // Router 2 goes silent (crashes without closing): hellos stop, the adjacency expires.
    net.routers.truncate(1);
    net.links.clear();
    net.run_for(Duration::from_secs(20));
    assert!(net.routers[0].sessions().is_empty());
    assert!(net.routers[0].adjacencies().is_empty());
}

#[test]
fn a_malformed_pdu_is_answered_with_a_notification_and_closes_the_session() {
    let mut net = Net::line(&[false, false], Control::Ordered);
    // A PDU whose message length runs past its end: "Bad Message Length" is fatal.
    let bad = [
        0x00, 0x01, 0x00, 0x0a, 10, 255, 0, 2, 0, 0, 0x04, 0x00, 0x00, 0x40,
    ];
    let now = net.now;
    net.routers[0].handle_stream(now, rid(2), &bad);
    assert_eq!(net.routers[0].counters().malformed, 1);
    let mut sent = Vec::new();
    while let Some(t) = net.routers[0].poll_transmit() {
        sent.push(t);
    }
    let notification = sent.iter().find_map(|t| match t {
        Transmit::Stream { payload, .. } => crate::packet::Pdu::decode(payload).ok(),
        _ => None,
    });
    let status = notification
        .and_then(|p| {
            p.messages.into_iter().find_map(|m| {
                m.tlvs.into_iter().find_map(|t| match t.body {
                    crate::packet::TlvBody::Status(s) => Some(s),
                    _ => None,
                })
            })
        })
        .unwrap();
    assert_eq!(status.code, crate::packet::status::BAD_MESSAGE_LENGTH);
    assert!(status.fatal);
    assert!(sent.contains(&Transmit::Close { peer: rid(2) }));
    assert!(net.routers[0].sessions().is_empty());
}

/// The status codes of the Notifications among `sent`.
fn notified(sent: &[Transmit]) -> Vec<u32> {
    sent.iter()
        .filter_map(|t| match t {
            Transmit::Stream { payload, .. } => crate::packet::Pdu::decode(payload).ok(),
            _ => None,
        })
        .flat_map(|p| p.messages)
        .flat_map(|m| m.tlvs)
        .filter_map(|t| match t.body {
            crate::packet::TlvBody::Status(s) => Some(s.code),
            _ => None,
        })
        .collect()
}

#[test]
fn a_stopping_router_shuts_its_sessions_and_sends_no_more_hellos() {
    let mut net = Net::line(&[true, true, true], Control::Ordered);
    let now = net.now;
    net.routers[1].stop(now);
    let sent: Vec<_> = std::iter::from_fn(|| net.routers[1].poll_transmit()).collect();
    assert_eq!(
        notified(&sent),
        [crate::packet::status::SHUTDOWN; 2],
        "one Shutdown per session"
    );
    for peer in [rid(1), rid(3)] {
        assert!(sent.contains(&Transmit::Close { peer }), "{peer} closed");
    }
    assert!(net.routers[1].sessions().is_empty());
    assert_eq!(net.routers[1].poll_timeout(), None, "nothing left to time");
    // Its neighbors hear the Shutdown and forget the session.
    for t in sent {
        if let Transmit::Stream { peer, payload } = t {
            let to = net.find(peer).unwrap();
            net.routers[to].handle_stream(now, rid(2), &payload);
        }
    }
    assert_eq!(operational(&net.routers[0]), 0);
    assert_eq!(operational(&net.routers[2]), 0);
}

#[test]
fn many_bindings_are_split_into_pdus_within_the_maximum() {
    let mut net = Net::line(&[true, true], Control::Independent);
    let hop = RouteNextHop {
        interface: 1,
        address: net.addr(1, 0),
    };
    let routes: TopologyRoutes = (0..600u32)
        .map(|i| {
            (
                Fec::new(Ipv4Addr::from(0x0b00_0000 + (i << 8)), 24),
                vec![hop],
            )
        })
        .collect();
    let before = net.pdus;
    let now = net.now;
    net.routers[0].set_routes(now, Topology::Regular, routes.clone());
    net.routers[0].set_routes(now, Topology::Power, routes);
    net.drain_all();
    // 1 200 mappings of 30-odd octets: several PDUs, each within 4096 octets (checked in drain).
    assert!(net.pdus - before >= 10, "{} PDUs", net.pdus - before);
    let got = net.routers[1].remote_bindings(rid(1));
    assert_eq!(
        got.len(),
        1200 + 2,
        "600 prefixes in two topologies and the egress loopback"
    );
}

/// RFC 5036 §3.5.7: a Label Mapping without its FEC is answered once, with "Missing
/// Message Parameters", and changes nothing.
#[test]
fn a_mapping_without_fec_gets_one_notification() {
    use crate::packet::{Message, MessageType, Pdu, Tlv, TlvBody};
    let mut net = Net::line(&[false, false], Control::Ordered);
    let before = net.routers[0].counters().notifications_sent;
    let bindings = net.routers[0].remote_bindings(rid(2));
    let pdu = Pdu {
        lsr_id: rid(2),
        label_space: 0,
        messages: vec![Message::new(
            MessageType::LabelMapping,
            77,
            vec![Tlv::known(TlvBody::GenericLabel(40))],
        )],
    };
    let now = net.now;
    net.routers[0].handle_stream(now, rid(2), &pdu.encode());
    assert_eq!(net.routers[0].counters().notifications_sent, before + 1);
    assert_eq!(net.routers[0].remote_bindings(rid(2)), bindings);
    assert_eq!(
        operational(&net.routers[0]),
        1,
        "not fatal: the session stays"
    );
}

/// RFC 5036 §2.5.2: the LSR with the greater transport address opens the session, whatever
/// the order of the LSR IDs. Here A has the greater LSR ID but the smaller transport address.
#[test]
fn the_greater_transport_address_is_the_active_side() {
    let make = |lsr: u8, transport: u8| {
        let mut c = Config::new(rid(lsr));
        c.transport_address = rid(transport);
        c.interfaces = vec![Ipv4Addr::new(10, 0, lsr, 1)];
        let mut i = Instance::new(c);
        i.start(Duration::ZERO);
        i.interface_up(Duration::ZERO, 0);
        i
    };
    let (mut a, mut b) = (make(9, 1), make(2, 2));
    let hello = |i: &mut Instance| loop {
        match i.poll_transmit() {
            Some(Transmit::Hello { payload, .. }) => return payload,
            Some(_) => continue,
            None => panic!("no Hello sent"),
        }
    };
    let (from_a, from_b) = (hello(&mut a), hello(&mut b));
    let t = Duration::from_millis(1);
    a.handle_datagram(t, 0, Ipv4Addr::new(10, 0, 2, 1), &from_b);
    b.handle_datagram(t, 0, Ipv4Addr::new(10, 0, 9, 1), &from_a);
    let connects = |i: &mut Instance| {
        std::iter::from_fn(|| i.poll_transmit())
            .filter_map(|t| match t {
                Transmit::Connect { transport, .. } => Some(transport),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert!(
        connects(&mut a).is_empty(),
        "A's transport address is the smaller"
    );
    assert_eq!(
        connects(&mut b),
        [rid(1)],
        "B connects to A's transport address"
    );
    // A's connection is from its transport address: B knows it is A's by A's Hellos.
    assert_eq!(b.peer_by_transport(rid(1)), Some(rid(9)));
    assert_eq!(a.peer_by_transport(rid(2)), Some(rid(2)));
    assert_eq!(b.peer_by_transport(rid(7)), None, "no Hello gave it");
}

/// A connection that failed while no route led to the peer's transport address (the IGP
/// still coming up) is tried again as soon as a route does, not after the 15 s back-off;
/// one that failed with a route waits out the back-off.
#[test]
fn a_session_that_found_no_route_is_tried_again_when_one_comes() {
    let make = |lsr: u8| {
        let mut c = Config::new(rid(lsr));
        c.interfaces = vec![Ipv4Addr::new(10, 0, lsr, 1)];
        let mut i = Instance::new(c);
        i.start(Duration::ZERO);
        i.interface_up(Duration::ZERO, 0);
        i
    };
    let (mut a, mut b) = (make(1), make(2));
    let hello = |i: &mut Instance| {
        std::iter::from_fn(|| i.poll_transmit())
            .find_map(|t| match t {
                Transmit::Hello { payload, .. } => Some(payload),
                _ => None,
            })
            .unwrap()
    };
    let connects = |i: &mut Instance| {
        std::iter::from_fn(|| i.poll_transmit())
            .filter(|t| matches!(t, Transmit::Connect { .. }))
            .count()
    };
    let from_a = hello(&mut a);
    let _ = hello(&mut b);
    let t = Duration::from_millis(1);
    b.handle_datagram(t, 0, Ipv4Addr::new(10, 0, 1, 1), &from_a);
    assert_eq!(connects(&mut b), 1, "B, the greater, connects to A");
    b.stream_closed(t, rid(1));
    let route = |to: u8| {
        let next_hop = vec![RouteNextHop {
            interface: 0,
            address: Ipv4Addr::new(10, 0, 1, 1),
        }];
        TopologyRoutes::from([(loopback(to), next_hop)])
    };
    let later = Duration::from_secs(2);
    b.set_routes(later, Topology::Regular, route(7));
    assert_eq!(connects(&mut b), 0, "a route elsewhere changes nothing");
    b.set_routes(later, Topology::Regular, route(1));
    assert_eq!(connects(&mut b), 1, "tried again at once");
    // Refused again, now with a route: the back-off holds.
    b.stream_closed(later, rid(1));
    b.set_routes(later, Topology::Regular, route(1));
    // A's Hellos keep the adjacency up meanwhile.
    let held = later + Duration::from_secs(10);
    b.handle_datagram(held, 0, Ipv4Addr::new(10, 0, 1, 1), &from_a);
    b.handle_timeout(later + Duration::from_secs(14));
    assert_eq!(connects(&mut b), 0);
    b.handle_timeout(later + Duration::from_secs(15));
    assert_eq!(connects(&mut b), 1, "after the back-off");
}

#[test]
fn bindings_list_our_label_beside_each_peers_and_mark_the_next_hops() {
    let net = Net::line(&[true, true, true], Control::Ordered);
    let rows = net.routers[0].bindings();
    let of = |topology, fec| -> Vec<&Binding> {
        rows.iter()
            .filter(|b| b.topology == topology && b.fec == fec)
            .collect()
    };
    // Router 1 reaches router 3 through router 2, with router 2's label.
    let far = of(Topology::Regular, loopback(3));
    assert_eq!(far.len(), 1, "{far:?}");
    let label = net.routers[0].remote_bindings(rid(2))[&(Topology::Regular, loopback(3))];
    assert_eq!(far[0].remote, Some((rid(2), label)));
    assert!(far[0].in_use);
    assert!(far[0].local_label.is_some_and(|l| l != IMPLICIT_NULL));
    // Its own loopback: implicit null, and router 2's label for it, which it does not use.
    let own = of(Topology::Regular, loopback(1));
    assert_eq!(own.len(), 1, "{own:?}");
    assert_eq!(own[0].local_label, Some(IMPLICIT_NULL));
    assert!(own[0].remote.is_some() && !own[0].in_use);
    // Both trees are listed.
    assert_eq!(of(Topology::Power, loopback(3)).len(), 1);
}
