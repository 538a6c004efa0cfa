//! The wires between the nodes: point-to-point links with a delay, jitter, loss and an MTU
//! (datagrams longer than it travel in IP fragments, RFC 791), delivering in order; LDP
//! session streams between peers; and IP routing for the messages a node addresses to a
//! router that is not its neighbor.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use mplamps_dataplane::ipv4::fragment::fragment_count;
use rand::Rng;

use crate::{Carrier, Protocol, Sent, Sim, SimEvent, TcpKind};

/// How simulated links behave.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkModel {
    pub delay: Duration,
    /// Uniform extra delay in [0, jitter). A link still delivers in the order it was
    /// given packets: jitter delays a packet, it never overtakes the one sent before.
    pub jitter: Duration,
    /// Probability that a packet (or one IP fragment of it) is lost.
    pub loss: f64,
    /// IP MTU: a longer datagram travels in fragments (RFC 791 §2.3), each lost on its
    /// own; it arrives with its last fragment, and is lost with any of them.
    pub mtu: usize,
}

impl Default for LinkModel {
    fn default() -> Self {
        LinkModel {
            delay: Duration::from_millis(1),
            jitter: Duration::from_micros(100),
            loss: 0.0,
            mtu: 1500,
        }
    }
}

/// One event of an LDP session stream (TCP 646 in the daemon; reliable and in order here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Open,
    Data(Arc<[u8]>),
    Close,
}

impl Sim {
    /// Puts a datagram on the wire of `router`'s `interface` as if that router had sent it:
    /// what another implementation at the router's place would send (an ASBR flooding an
    /// AS-External-LSA, say). It meets the link model as any other datagram.
    pub fn send_as(
        &mut self,
        router: usize,
        interface: usize,
        (src, dst): (Ipv4Addr, Ipv4Addr),
        protocol: Protocol,
        payload: Vec<u8>,
    ) {
        if router < self.routers.len() {
            self.send_datagram(router, interface, src, dst, protocol, payload);
        }
    }

    /// Puts a datagram on the link of `interface`, subject to the link model.
    pub(crate) fn send_datagram(
        &mut self,
        r: usize,
        interface: usize,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        protocol: Protocol,
        payload: Vec<u8>,
    ) {
        let Some(&link) = self.interface_links[r].get(interface) else {
            return;
        };
        if !self.link_up[link] {
            self.stats.packets_dropped_down += 1;
            return;
        }
        let Ok(fragments) = fragment_count(payload.len(), self.model.mtu) else {
            self.stats.packets_too_big += 1;
            return;
        };
        if fragments > 1 {
            self.stats.packets_fragmented += 1;
            self.stats.fragments_sent += fragments as u64;
        }
        if self.model.loss > 0.0 {
            let loss = self.model.loss.clamp(0.0, 1.0);
            if (0..fragments).any(|_| self.rng.random_bool(loss)) {
                self.stats.packets_lost += 1;
                return;
            }
        }
        let [(a, ia), (b, ib)] = self.link_ends[link];
        let (to, interface) = if a == r { (b, ib) } else { (a, ia) };
        let direction = usize::from(a != r);
        let mut at = self.now;
        for _ in 0..fragments {
            let jitter = if self.model.jitter.is_zero() {
                Duration::ZERO
            } else {
                Duration::from_nanos(
                    self.rng
                        .random_range(0..self.model.jitter.as_nanos() as u64),
                )
            };
            let clock = &mut self.link_clock[link][direction];
            at = (self.now + self.model.delay + jitter).max(*clock);
            *clock = at;
        }
        self.in_flight += 1;
        self.push(
            at,
            SimEvent::Deliver {
                router: to,
                interface,
                src,
                dst,
                protocol,
                payload,
            },
        );
    }

    /// The router at the other end of link `link` from router `r`.
    pub(crate) fn far_end(&self, link: usize, r: usize) -> usize {
        let [(a, _), (b, _)] = self.link_ends[link];
        if a == r { b } else { a }
    }

    /// The first up link between two routers: LDP sessions run over their direct link.
    pub(crate) fn link_between(&self, a: usize, b: usize) -> Option<usize> {
        self.interface_links.get(a)?.iter().copied().find(|&l| {
            let [(x, _), (y, _)] = self.link_ends[l];
            self.link_up[l] && ((x == a && y == b) || (x == b && y == a))
        })
    }

    /// Sends a stream segment from router `r` to the LSR `peer`, in order behind earlier
    /// ones. Without a link between them it is lost (the session dies with its adjacency);
    /// an opening without a link is refused.
    pub(crate) fn send_segment(&mut self, r: usize, peer: Ipv4Addr, segment: Segment) {
        let me = self.configs[r].router_id;
        let kind = match segment {
            Segment::Open => TcpKind::Open,
            Segment::Data(_) => TcpKind::Data,
            Segment::Close => TcpKind::Close,
        };
        if let Some(sink) = self.capture.as_mut() {
            let payload = match &segment {
                Segment::Data(d) => &d[..],
                _ => &[],
            };
            sink(Sent {
                at: self.now,
                src: me,
                dst: peer,
                carrier: Carrier::Tcp {
                    port: mplamps_ldp::packet::LDP_PORT,
                    kind,
                },
                payload,
            });
        }
        self.stats.packets_sent += 1;
        let to = self.router_by_id(peer);
        let link = to.and_then(|to| self.link_between(r, to));
        let (Some(to), Some(_)) = (to, link) else {
            self.stats.segments_unroutable += 1;
            if segment == Segment::Open {
                self.in_flight += 1;
                self.push(
                    self.now + self.model.delay,
                    SimEvent::Stream {
                        router: r,
                        peer,
                        segment: Segment::Close,
                    },
                );
            }
            return;
        };
        let clock = self.stream_clock.entry((r, to)).or_default();
        let at = (self.now + self.model.delay).max(*clock);
        *clock = at;
        if segment == Segment::Open {
            // The opener learns of the connection when the far end accepts it.
            self.in_flight += 1;
            self.push(
                at,
                SimEvent::Stream {
                    router: r,
                    peer,
                    segment: Segment::Open,
                },
            );
        }
        self.in_flight += 1;
        self.push(
            at,
            SimEvent::Stream {
                router: to,
                peer: me,
                segment,
            },
        );
    }

    /// Carries an RSVP message from router `r` to the router with ID `to` across the
    /// network: it arrives after one link delay per hop of the shortest up path (IP
    /// forwarding is not simulated hop by hop), and is lost when no path is up.
    pub(crate) fn send_routed(&mut self, r: usize, src: Ipv4Addr, to: Ipv4Addr, payload: Vec<u8>) {
        let Some(target) = self.router_by_id(to) else {
            self.stats.packets_lost += 1;
            return;
        };
        let Some(hops) = self.hops_between(r, target) else {
            self.stats.packets_lost += 1;
            return;
        };
        self.in_flight += 1;
        self.push(
            self.now + self.model.delay * hops,
            SimEvent::Routed {
                router: target,
                src,
                payload: payload.into(),
            },
        );
    }

    /// Hops on the shortest path of up links and routers from `a` to `b`.
    pub(crate) fn hops_between(&self, a: usize, b: usize) -> Option<u32> {
        let mut seen = vec![false; self.routers.len()];
        let mut frontier = std::collections::VecDeque::from([(a, 0u32)]);
        *seen.get_mut(a)? = true;
        while let Some((n, d)) = frontier.pop_front() {
            if n == b {
                return Some(d);
            }
            for &l in &self.interface_links[n] {
                let far = self.far_end(l, n);
                if self.link_up[l] && self.routers[far].up && !seen[far] {
                    seen[far] = true;
                    frontier.push_back((far, d + 1));
                }
            }
        }
        None
    }

    /// For every router, the lowest-numbered router it reaches over up links through up
    /// routers (itself when it is down).
    pub(crate) fn partitions(&self) -> Vec<usize> {
        let mut partition: Vec<usize> = (0..self.routers.len()).collect();
        let mut seen = vec![false; self.routers.len()];
        let mut stack = Vec::new();
        for root in 0..self.routers.len() {
            if seen[root] || !self.routers[root].up {
                continue;
            }
            seen[root] = true;
            stack.push(root);
            while let Some(r) = stack.pop() {
                partition[r] = root;
                for &l in &self.interface_links[r] {
                    let far = self.far_end(l, r);
                    if self.link_up[l] && self.routers[far].up && !seen[far] {
                        seen[far] = true;
                        stack.push(far);
                    }
                }
            }
        }
        partition
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::cmp::Reverse;

    use mplamps_te::Network;

    use super::*;

    fn sim(model: LinkModel) -> Sim {
        let text = include_str!("../../../examples/draft-area.toml");
        Sim::new(
            Network::from_toml("draft-area.toml", text).unwrap(),
            5,
            model,
        )
    }

    /// The payloads queued for delivery, in the order they will arrive.
    fn arrivals(sim: &mut Sim) -> Vec<(Duration, Vec<u8>)> {
        let mut out = Vec::new();
        while let Some(Reverse((at, _, slot))) = sim.queue.pop() {
            if let Some(SimEvent::Deliver { payload, .. }) = sim.slab[slot].take() {
                out.push((at, payload));
            }
        }
        out
    }

    #[test]
    fn a_link_delivers_in_the_order_it_was_given_packets() {
        let mut sim = sim(LinkModel {
            delay: Duration::from_micros(100),
            jitter: Duration::from_millis(10),
            ..LinkModel::default()
        });
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        for k in 0..50u8 {
            sim.now = Duration::from_micros(u64::from(k) * 10);
            sim.send_datagram(0, 0, a, b, Protocol::Ospf, vec![k]);
        }
        let got = arrivals(&mut sim);
        let order: Vec<u8> = got.iter().map(|(_, p)| p[0]).collect();
        assert_eq!(order, (0..50).collect::<Vec<u8>>());
        assert!(got.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(got.iter().all(|(at, _)| *at >= Duration::from_micros(100)));
    }

    #[test]
    fn a_datagram_longer_than_the_mtu_arrives_with_its_last_fragment() {
        let mut sim = sim(LinkModel {
            jitter: Duration::ZERO,
            ..LinkModel::default()
        });
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        sim.send_datagram(0, 0, a, b, Protocol::Ospf, vec![7; 4000]);
        assert_eq!(sim.stats.packets_fragmented, 1);
        assert_eq!(sim.stats.fragments_sent, 3);
        let got = arrivals(&mut sim);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1.len(), 4000);
        // Below the IPv4 minimum MTU nothing can be sent.
        let mut tiny = self::tests::sim(LinkModel {
            mtu: 60,
            ..LinkModel::default()
        });
        tiny.send_datagram(0, 0, a, b, Protocol::Ospf, vec![7; 100]);
        assert_eq!(tiny.stats.packets_too_big, 1);
        assert!(arrivals(&mut tiny).is_empty());
    }
}
