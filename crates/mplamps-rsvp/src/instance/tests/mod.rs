#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv4Addr;

use mplamps_core::gmpls::{LabelSet, LspEncoding, ProtectionFlags, SwitchingType};
use mplamps_core::label::LabelOwner;

use super::*;

fn ms(t: u64) -> Duration {
    Duration::from_millis(t)
}
use crate::packet::error::{self, routing};
use crate::packet::{LabelRole, Message, MessageType, Object};

mod recovery;

fn rid(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, i as u8 + 1)
}

/// One link's description from each end: switching type, label sets as each end sees them,
/// bandwidth.
#[derive(Clone)]
struct LinkSpec {
    a: usize,
    b: usize,
    switching: SwitchingType,
    labels_a: Option<&'static str>,
    labels_b: Option<&'static str>,
    bandwidth_bps: f64,
    protection: u8,
    /// The link carries the control channel in band (RFC 3471 §9).
    control: bool,
}

fn packet(a: usize, b: usize) -> LinkSpec {
    LinkSpec {
        a,
        b,
        switching: SwitchingType::Psc,
        labels_a: None,
        labels_b: None,
        bandwidth_bps: 10e9,
        protection: 0x02,
        control: true,
    }
}

fn lambda(a: usize, b: usize, labels: &'static str) -> LinkSpec {
    LinkSpec {
        switching: SwitchingType::Lsc,
        labels_a: Some(labels),
        labels_b: Some(labels),
        ..packet(a, b)
    }
}

/// Routers with their instances and the wiring of their interfaces; every message crosses
/// the wire codec.
struct Net {
    nodes: Vec<Instance>,
    /// (node, interface) → (peer node, peer interface).
    wires: Vec<Vec<(usize, usize)>>,
    events: Vec<(usize, Event)>,
    log: Vec<(usize, usize, MessageType)>,
    /// Messages that carried a RECOVERY_LABEL (RFC 3473 §9.5.3).
    recovery_labels: usize,
    /// (node, interface) of every message sent.
    sent_on: Vec<(usize, usize)>,
    /// Control channels that are down, as node pairs: their messages are lost, their data
    /// links stay up (RFC 3471 §9).
    cut: Vec<(usize, usize)>,
    now: u64,
}

impl Net {
    fn new(n: usize, converters: &[usize], links: &[LinkSpec]) -> Net {
        Net::with_config(n, converters, links, |_| {})
    }

    fn with_config(
        n: usize,
        converters: &[usize],
        links: &[LinkSpec],
        tweak: impl Fn(&mut Config),
    ) -> Net {
        let mut interfaces: Vec<Vec<Interface>> = vec![Vec::new(); n];
        let mut wires: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
        for (i, l) in links.iter().enumerate() {
            let (ia, ib) = (interfaces[l.a].len(), interfaces[l.b].len());
            for (me, peer, labels) in [(l.a, l.b, l.labels_a), (l.b, l.a, l.labels_b)] {
                interfaces[me].push(Interface {
                    id: 100 + i as u32,
                    neighbor: rid(peer),
                    switching: l.switching,
                    encoding: l.switching.default_encoding(),
                    labels: labels.map(|s| s.parse::<LabelSet>().unwrap()),
                    protection: ProtectionFlags(l.protection),
                    bandwidth_bps: l.bandwidth_bps,
                    carries_control: l.control,
                });
            }
            wires[l.a].push((l.b, ib));
            wires[l.b].push((l.a, ia));
        }
        let nodes = interfaces
            .into_iter()
            .enumerate()
            .map(|(i, ifs)| {
                let mut c = Config::new(rid(i), ifs);
                c.label_conversion = converters.contains(&i);
                tweak(&mut c);
                Instance::new(c)
            })
            .collect();
        Net {
            nodes,
            wires,
            events: Vec::new(),
            log: Vec::new(),
            recovery_labels: 0,
            sent_on: Vec::new(),
            cut: Vec::new(),
            now: 0,
        }
    }

    /// Delivers everything pending, in order, until nothing moves.
    fn run(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            for n in 0..self.nodes.len() {
                while let Some(event) = self.nodes[n].poll_event() {
                    self.events.push((n, event));
                }
                while let Some(t) = self.nodes[n].poll_transmit() {
                    moved = true;
                    let back = Message::decode(&t.payload).expect("our messages decode");
                    let (peer, pif) = match t.interface {
                        Some(interface) => {
                            let (peer, pif) = self.wires[n][interface];
                            self.sent_on.push((n, interface));
                            if self.cut.contains(&(n.min(peer), n.max(peer))) {
                                continue;
                            }
                            (peer, pif)
                        }
                        // IP routed: a routed message names its LSP, not an interface.
                        None => {
                            let peer = (0..self.nodes.len())
                                .find(|&p| rid(p) == t.dst)
                                .expect("routed to a node of the net");
                            (peer, 0)
                        }
                    };
                    self.log.push((n, peer, back.msg_type));
                    if back.label(LabelRole::Recovery).is_some() {
                        self.recovery_labels += 1;
                    }
                    self.nodes[peer].handle_datagram(ms(self.now), pif, t.src, &t.payload);
                }
            }
            if !moved {
                return;
            }
        }
        panic!("signaling did not settle");
    }

    /// Lets time pass to `until` in steps of `step` ms, running every timer that is due.
    fn advance(&mut self, until: u64, step: u64) {
        while self.now < until {
            self.now = (self.now + step).min(until);
            for n in 0..self.nodes.len() {
                if self.nodes[n]
                    .poll_timeout()
                    .is_some_and(|t| t <= ms(self.now))
                {
                    self.nodes[n].handle_timeout(ms(self.now));
                }
            }
            self.run();
        }
    }

    fn sent(&self, t: MessageType) -> usize {
        self.log.iter().filter(|(_, _, m)| *m == t).count()
    }

    /// Nothing booked anywhere: no label, no bandwidth.
    fn assert_clean(&self) {
        for (n, node) in self.nodes.iter().enumerate() {
            assert_eq!(
                node.label_space().allocated(LabelOwner::RsvpTe),
                0,
                "node {n} labels"
            );
            for i in 0..node.config().interfaces.len() {
                assert_eq!(
                    node.link_labels(i).unwrap().in_use(),
                    0,
                    "node {n} if {i} labels"
                );
                assert!(
                    node.reserved_bps(i).abs() < 1e-6,
                    "node {n} if {i} bandwidth"
                );
            }
        }
    }
}

fn request(name: &str, route: &[usize], switching: SwitchingType) -> LspRequest {
    LspRequest {
        bandwidth_bps: 1e9,
        ..LspRequest::new(
            name,
            route.iter().map(|&r| RouteHop::to(rid(r))).collect(),
            switching,
        )
    }
}

fn up(net: &Net, node: usize, name: &str) -> LspView {
    let v = net.nodes[node]
        .lsp(name)
        .expect("the ingress knows the LSP");
    assert_eq!(v.state, LspState::Up, "{name}: {:?}", v.error);
    v
}

fn view_at(net: &Net, node: usize) -> LspView {
    net.nodes[node].lsps().next().expect("state at the node")
}

#[test]
fn packet_lsp_takes_labels_from_the_rsvp_range_and_php_at_the_egress() {
    let mut net = Net::new(3, &[], &[packet(0, 1), packet(1, 2)]);
    net.nodes[0]
        .setup(ms(0), request("p", &[1, 2], SwitchingType::Psc))
        .unwrap();
    net.run();
    let a = up(&net, 0, "p");
    let b = view_at(&net, 1);
    let c = view_at(&net, 2);
    assert_eq!(
        c.in_label,
        Some(3),
        "implicit null for penultimate-hop popping"
    );
    assert_eq!(b.out_label, Some(3));
    let b_in = b.in_label.unwrap();
    assert!((200_000..300_000).contains(&b_in), "RSVP-TE range: {b_in}");
    assert_eq!(a.out_label, Some(b_in));
    assert!(
        (net.nodes[1].reserved_bps(1) - 1e9).abs() < 1.0,
        "B booked B→C"
    );
    assert_eq!(net.sent(MessageType::Path), 2);
    assert_eq!(net.sent(MessageType::Resv), 2);
    assert!(net.nodes[0].teardown(ms(1), "p"));
    net.run();
    assert_eq!(net.sent(MessageType::PathTear), 2);
    net.assert_clean();
}

#[test]
fn wavelength_continuity_first_fit_and_label_set_narrowing() {
    // RFC 3471 §3.5: B cannot convert, so A–B and B–C carry the same wavelength; B–C only
    // offers 5..40 and B narrows the set A offered.
    let mut links = [lambda(0, 1, "1..40"), lambda(1, 2, "5..40")];
    links[1].labels_a = Some("5..40");
    let mut net = Net::new(3, &[], &links);
    net.nodes[0]
        .setup(ms(0), request("l1", &[1, 2], SwitchingType::Lsc))
        .unwrap();
    net.run();
    let a = up(&net, 0, "l1");
    assert_eq!(a.out_label, Some(5));
    assert_eq!(view_at(&net, 1).in_label, Some(5));
    assert_eq!(view_at(&net, 1).out_label, Some(5));
    // The labels name wavelengths, and the view says so at every hop.
    assert_eq!(
        (view_at(&net, 1).switching, view_at(&net, 2).switching),
        (Some(SwitchingType::Lsc), Some(SwitchingType::Lsc))
    );
    assert_eq!(a.encoding, Some(mplamps_core::gmpls::LspEncoding::Lambda));
    let mut second = request("l2", &[1, 2], SwitchingType::Lsc);
    second.tunnel_id = 2;
    net.nodes[0].setup(ms(1), second).unwrap();
    net.run();
    assert_eq!(
        up(&net, 0, "l2").out_label,
        Some(6),
        "first fit skips the label in use"
    );
    net.nodes[0].teardown(ms(2), "l1");
    net.nodes[0].teardown(ms(2), "l2");
    net.run();
    net.assert_clean();
}

#[test]
fn an_empty_label_set_fails_with_path_err_24_11_and_leaves_nothing() {
    let mut net = Net::new(3, &[], &[lambda(0, 1, "1..4"), lambda(1, 2, "5..8")]);
    net.nodes[0]
        .setup(ms(0), request("x", &[1, 2], SwitchingType::Lsc))
        .unwrap();
    net.run();
    let v = net.nodes[0].lsp("x").unwrap();
    assert_eq!(v.state, LspState::Failed);
    let e = v.error.unwrap();
    assert_eq!(
        (e.node, e.code, e.value),
        (rid(1), error::ROUTING_PROBLEM, routing::LABEL_SET)
    );
    assert!(
        net.events
            .iter()
            .any(|(n, o)| *n == 0 && matches!(o, Event::LspFailed { name, .. } if name == "x"))
    );
    net.assert_clean();
    // A converter at B gets through: the run is cut in two.
    let mut net = Net::new(3, &[1], &[lambda(0, 1, "1..4"), lambda(1, 2, "5..8")]);
    net.nodes[0]
        .setup(ms(0), request("x", &[1, 2], SwitchingType::Lsc))
        .unwrap();
    net.run();
    assert_eq!(up(&net, 0, "x").out_label, Some(1));
    assert_eq!(view_at(&net, 2).in_label, Some(5));
}

#[test]
fn link_mismatches_and_bandwidth_get_their_codes() {
    let cases: [(LinkSpec, LspRequest, (u8, u16)); 4] = [
        (
            packet(0, 1),
            request("s", &[1], SwitchingType::Lsc),
            (error::ROUTING_PROBLEM, routing::SWITCHING_TYPE),
        ),
        (
            packet(0, 1),
            LspRequest {
                encoding: LspEncoding::Ethernet,
                ..request("e", &[1], SwitchingType::Psc)
            },
            (error::ROUTING_PROBLEM, routing::UNSUPPORTED_ENCODING),
        ),
        (
            packet(0, 1),
            LspRequest {
                link_protection: 0x10,
                ..request("p", &[1], SwitchingType::Psc)
            },
            (error::ROUTING_PROBLEM, routing::UNSUPPORTED_LINK_PROTECTION),
        ),
        (
            packet(0, 1),
            LspRequest {
                bandwidth_bps: 20e9,
                ..request("b", &[1], SwitchingType::Psc)
            },
            (
                error::ADMISSION_CONTROL_FAILURE,
                error::BANDWIDTH_UNAVAILABLE,
            ),
        ),
    ];
    for (link, req, want) in cases {
        let name = req.name.clone();
        let mut net = Net::new(2, &[], &[link]);
        net.nodes[0].setup(ms(0), req).unwrap();
        net.run();
        let e = net.nodes[0].lsp(&name).unwrap().error.expect("failed");
        assert_eq!((e.code, e.value), want, "{name}: {}", e.reason);
        net.assert_clean();
    }
}

#[test]
fn bidirectional_lsp_carries_upstream_labels_and_cross_connects_both_ways() {
    let mut net = Net::new(3, &[], &[lambda(0, 1, "1..8"), lambda(1, 2, "1..8")]);
    let mut req = request("bi", &[1, 2], SwitchingType::Lsc);
    req.bidirectional = true;
    net.nodes[0].setup(ms(0), req).unwrap();
    net.run();
    let a = up(&net, 0, "bi");
    assert_eq!((a.out_label, a.upstream_out_label), (Some(1), Some(1)));
    let b = view_at(&net, 1);
    assert_eq!(b.upstream_in_label, Some(1));
    assert_eq!(b.upstream_out_label, Some(1));
    let xc = net.nodes[1].cross_connects();
    assert_eq!(xc.len(), 2, "{xc:?}");
    assert_eq!(xc[1].in_interface, Some(1));
    assert_eq!(xc[1].out_interface, Some(0));
    assert!(
        net.nodes[2].reserved_bps(0) > 0.0,
        "the egress books the reverse direction"
    );
    net.nodes[0].teardown(ms(1), "bi");
    net.run();
    net.assert_clean();
}

/// RFC 3471 §4.2 (Figures 1–3 of the seed): A and B set up bidirectional LSPs toward each
/// other at once and both pick wavelength 1 as upstream label; B has the higher node ID and
/// wins, A retries with another label.
#[test]
fn upstream_label_contention_is_won_by_the_higher_node_id() {
    let mut net = Net::new(2, &[], &[lambda(0, 1, "1..8")]);
    let mut ab = request("ab", &[1], SwitchingType::Lsc);
    ab.bidirectional = true;
    let mut ba = request("ba", &[0], SwitchingType::Lsc);
    ba.bidirectional = true;
    net.nodes[0].setup(ms(0), ab).unwrap();
    net.nodes[1].setup(ms(0), ba).unwrap();
    net.run();
    let ab = up(&net, 0, "ab");
    let ba = up(&net, 1, "ba");
    assert_eq!(
        ba.upstream_out_label,
        Some(1),
        "B (higher ID) keeps wavelength 1"
    );
    assert_ne!(ab.upstream_out_label, Some(1), "A (lower ID) moved off it");
    assert_eq!(net.nodes[1].counters().contentions_won, 1);
    assert_eq!(net.nodes[0].counters().contentions_lost, 1);
    assert!(net.sent(MessageType::PathErr) >= 1);
    assert!(
        net.events
            .iter()
            .any(|(n, o)| *n == 0 && matches!(o, Event::Retry { .. }))
    );
    let labels_ab: Vec<u32> = [ab.out_label, ab.upstream_out_label]
        .into_iter()
        .flatten()
        .collect();
    let labels_ba: Vec<u32> = [ba.out_label, ba.upstream_out_label]
        .into_iter()
        .flatten()
        .collect();
    assert!(
        labels_ab.iter().all(|l| !labels_ba.contains(l)),
        "{labels_ab:?} vs {labels_ba:?}"
    );
    net.nodes[0].teardown(ms(1), "ab");
    net.nodes[1].teardown(ms(1), "ba");
    net.run();
    net.assert_clean();
}

/// RFC 3471 §5: B accepts only 4..8 on the link; A's upstream label 1 is refused with an
/// Acceptable Label Set and A retries with 4.
#[test]
fn an_unacceptable_upstream_label_is_retried_from_the_acceptable_set() {
    let mut link = lambda(0, 1, "1..8");
    link.labels_b = Some("4..8");
    let mut net = Net::new(2, &[], &[link]);
    let mut req = request("acc", &[1], SwitchingType::Lsc);
    req.bidirectional = true;
    net.nodes[0].setup(ms(0), req).unwrap();
    net.run();
    let v = up(&net, 0, "acc");
    assert_eq!(v.upstream_out_label, Some(4));
    assert_eq!(
        v.out_label,
        Some(4),
        "the downstream label came from the offered set too"
    );
    assert_eq!(net.sent(MessageType::PathErr), 1);
    net.nodes[0].teardown(ms(1), "acc");
    net.run();
    net.assert_clean();
}

/// RFC 3471 §3.4: the upstream node suggests a label, the downstream node overrides it
/// when it cannot use it, and the upstream node follows the Resv.
#[test]
fn downstream_overrides_a_suggested_label_and_upstream_follows() {
    let mut link = lambda(0, 1, "1..8");
    link.labels_b = Some("3..8");
    let mut net = Net::new(2, &[], &[link]);
    net.nodes[0]
        .setup(ms(0), request("sug", &[1], SwitchingType::Lsc))
        .unwrap();
    net.run();
    assert_eq!(up(&net, 0, "sug").out_label, Some(3));
    assert_eq!(view_at(&net, 1).in_label, Some(3));
}

/// RFC 3471 §6: labels pinned in the explicit route are the ones used.
#[test]
fn explicit_label_control_pins_labels_per_hop() {
    let mut net = Net::new(3, &[1], &[lambda(0, 1, "1..8"), lambda(1, 2, "1..8")]);
    let mut req = request("pin", &[1, 2], SwitchingType::Lsc);
    req.bidirectional = true;
    req.route[0].label = Some(7);
    req.route[0].upstream_label = Some(6);
    req.route[1].label = Some(2);
    net.nodes[0].setup(ms(0), req).unwrap();
    net.run();
    let a = up(&net, 0, "pin");
    assert_eq!((a.out_label, a.upstream_out_label), (Some(7), Some(6)));
    assert_eq!(view_at(&net, 1).out_label, Some(2));
}

/// RFC 2205 §3.1.3: the node addresses its own messages. A Path goes to the session's
/// destination with Router Alert, not to the next hop, at the ingress and in transit.
#[test]
fn a_node_chooses_the_ip_destination_of_its_messages() {
    let mut net = Net::new(3, &[], &[packet(0, 1), packet(1, 2)]);
    net.nodes[0]
        .setup(ms(0), request("d", &[1, 2], SwitchingType::Psc))
        .unwrap();
    let t = net.nodes[0].poll_transmit().expect("A sends a Path");
    let message = Message::decode(&t.payload).unwrap();
    assert_eq!(message.msg_type, MessageType::Path);
    assert_eq!(t.dst, message.session().unwrap().endpoint);
    assert_eq!(t.dst, rid(2), "toward the egress, not the next hop");
    assert_eq!(t.src, rid(0), "from the sender, as the data");
    assert_eq!(t.ttl, message.send_ttl);
    assert!(t.router_alert);
    net.nodes[1].handle_datagram(ms(0), 0, t.src, &t.payload);
    let forwarded = std::iter::from_fn(|| net.nodes[1].poll_transmit()).find_map(|t| {
        let m = Message::decode(&t.payload).unwrap();
        (m.msg_type == MessageType::Path).then_some((t.src, t.dst, t.router_alert))
    });
    assert_eq!(
        forwarded,
        Some((rid(0), rid(2), true)),
        "B forwards the Path toward C"
    );
}

/// A Path said to arrive on an interface the node does not have is dropped, counted and
/// said, not taken as if from some neighbor.
#[test]
fn a_message_on_an_unknown_interface_is_dropped_and_said() {
    let mut net = Net::new(2, &[], &[packet(0, 1)]);
    net.nodes[0]
        .setup(ms(0), request("x", &[1], SwitchingType::Psc))
        .unwrap();
    let t = net.nodes[0].poll_transmit().expect("A sends a Path");
    net.nodes[1].handle_datagram(ms(0), 7, t.src, &t.payload);
    let Some(Event::Dropped { reason }) = net.nodes[1].poll_event() else {
        panic!("B drops it")
    };
    assert!(
        reason.contains("interface 7, which this node does not have"),
        "{reason}"
    );
    assert_eq!(net.nodes[1].counters().dropped, 1);
    assert!(net.nodes[1].poll_transmit().is_none());
    assert!(net.nodes[1].poll_event().is_none());
}

/// RFC 2205 §3.1.1: a message that does not decode (here, a Path cut short) is counted,
/// said and dropped; nothing is sent back.
#[test]
fn a_malformed_message_is_counted_and_dropped() {
    let mut net = Net::new(2, &[], &[packet(0, 1)]);
    net.nodes[0]
        .setup(ms(0), request("x", &[1], SwitchingType::Psc))
        .unwrap();
    let t = net.nodes[0].poll_transmit().expect("A sends a Path");
    let cut = t.payload.get(..t.payload.len() - 3).unwrap();
    net.nodes[1].handle_datagram(ms(0), 0, t.src, cut);
    assert_eq!(net.nodes[1].counters().malformed, 1);
    let Some(Event::Dropped { reason }) = net.nodes[1].poll_event() else {
        panic!("B says why")
    };
    assert!(
        reason.contains("malformed message from 10.0.0.1"),
        "{reason}"
    );
    assert!(net.nodes[1].poll_transmit().is_none());
    assert_eq!(net.nodes[1].lsps().count(), 0);
}

#[test]
fn unknown_object_classes_are_rejected_or_forwarded_by_their_class_number() {
    let mut net = Net::new(3, &[], &[packet(0, 1), packet(1, 2)]);
    net.nodes[0]
        .setup(ms(0), request("u", &[1, 2], SwitchingType::Psc))
        .unwrap();
    // Take A's Path and add objects before B sees it.
    let t = net.nodes[0].poll_transmit().expect("A sends a Path");
    let mut forwarded = Message::decode(&t.payload).unwrap();
    forwarded.objects.push(Object::Unknown {
        class: 0xC5,
        ctype: 1,
        body: vec![1, 2, 3, 4],
    });
    net.nodes[1].handle_datagram(ms(0), 0, t.src, &forwarded.encode());
    let t = net.nodes[1].poll_transmit().expect("B forwards");
    let to_c = Message::decode(&t.payload).unwrap();
    assert!(
        to_c.objects
            .iter()
            .any(|o| matches!(o, Object::Unknown { class: 0xC5, .. }))
    );

    let mut net = Net::new(2, &[], &[packet(0, 1)]);
    net.nodes[0]
        .setup(ms(0), request("r", &[1], SwitchingType::Psc))
        .unwrap();
    let t = net.nodes[0].poll_transmit().expect("A sends a Path");
    let mut message = Message::decode(&t.payload).unwrap();
    message.objects.push(Object::Unknown {
        class: 60,
        ctype: 1,
        body: vec![],
    });
    net.nodes[1].handle_datagram(ms(0), 0, t.src, &message.encode());
    let t = net.nodes[1].poll_transmit().expect("B answers");
    let err = Message::decode(&t.payload).unwrap();
    assert_eq!(err.msg_type, MessageType::PathErr);
    assert_eq!(err.error_spec().unwrap().code, error::UNKNOWN_OBJECT_CLASS);
}

#[test]
fn state_times_out_without_refreshes_and_refreshes_keep_it() {
    let mut net = Net::new(3, &[], &[packet(0, 1), packet(1, 2)]);
    net.nodes[0]
        .setup(ms(0), request("t", &[1, 2], SwitchingType::Psc))
        .unwrap();
    net.run();
    // Refresh everyone for five minutes: nothing expires.
    for step in 1..=30 {
        net.now = step * 10_000;
        for n in 0..3 {
            net.nodes[n].handle_timeout(ms(net.now));
        }
        net.run();
    }
    assert_eq!(net.nodes[2].lsps().count(), 1);
    // The ingress goes silent: B and C time out and give everything back.
    for step in 31..=60 {
        net.now = step * 10_000;
        for n in 1..3 {
            net.nodes[n].handle_timeout(ms(net.now));
        }
        net.run();
    }
    assert_eq!(net.nodes[1].lsps().count(), 0);
    assert_eq!(net.nodes[2].lsps().count(), 0);
    assert_eq!(net.nodes[1].label_space().allocated(LabelOwner::RsvpTe), 0);
}

/// RFC 2205 §3.7 and §3.1.4: when the egress stops refreshing its Resv, the transit node's
/// reservation times out; it gives its labels back and sends a ResvTear, and the ingress
/// reports the LSP down while refreshing its Path. A new Resv sets it up again.
#[test]
fn resv_state_times_out_with_a_resv_tear_and_a_new_resv_restores_it() {
    let mut net = Net::new(3, &[], &[packet(0, 1), packet(1, 2)]);
    net.nodes[0]
        .setup(ms(0), request("r", &[1, 2], SwitchingType::Psc))
        .unwrap();
    net.run();
    assert!(up(&net, 0, "r").out_label.is_some());
    // The egress goes silent; the ingress and B go on.
    for step in 1..=20 {
        net.now = step * 10_000;
        for n in 0..2 {
            net.nodes[n].handle_timeout(ms(net.now));
        }
        net.run();
    }
    assert_eq!(net.nodes[1].counters().resv_timeouts, 1);
    assert_eq!(net.sent(MessageType::ResvTear), 1, "B tore A's reservation");
    let b = view_at(&net, 1);
    assert_eq!((b.in_label, b.out_label), (None, None));
    assert_eq!(b.state, LspState::Signaling);
    assert_eq!(net.nodes[1].label_space().allocated(LabelOwner::RsvpTe), 0);
    let a = net.nodes[0].lsp("r").unwrap();
    assert_eq!((a.state, a.out_label), (LspState::Signaling, None));
    assert!(net.events.iter().any(
        |(n, e)| *n == 0 && matches!(e, Event::LspDown { name, reason } if name == "r" && reason.contains("ResvTear"))
    ));
    assert!(
        net.nodes[0].cross_connects().is_empty(),
        "nothing is forwarded on a torn reservation"
    );
    // Paths kept flowing, so the egress still has state; its next Resv brings the LSP back.
    assert_eq!(net.nodes[2].lsps().count(), 1);
    net.advance(300_000, 1_000);
    assert!(up(&net, 0, "r").out_label.is_some());
    assert!(
        net.events
            .iter()
            .filter(|(n, e)| *n == 0 && matches!(e, Event::LspUp { .. }))
            .count()
            >= 2
    );
}

/// The next timeout an instance asks for (`poll_timeout`) is never later than any LSP's
/// refresh, state timeout or resynchronisation deadline, however the LSPs' timers drift
/// apart; and driven by it alone, refreshes keep every LSP.
#[test]
fn the_next_timeout_is_never_later_than_any_lsp_deadline() {
    let mut net = Net::new(3, &[], &[packet(0, 1), packet(1, 2)]);
    for (k, name) in ["a", "b", "c"].into_iter().enumerate() {
        net.now = k as u64 * 7_000;
        let req = LspRequest {
            tunnel_id: k as u16 + 1,
            ..request(name, &[1, 2], SwitchingType::Psc)
        };
        net.nodes[0].setup(ms(net.now), req).unwrap();
        net.run();
    }
    let earliest = |i: &Instance| i.lsps.values().map(lsp::Lsp::next_deadline).min();
    for until in (10_000..=300_000).step_by(10_000) {
        net.advance(until, 1_000);
        for (n, node) in net.nodes.iter().enumerate() {
            if let Some(deadline) = earliest(node) {
                let next = node.poll_timeout();
                assert!(
                    next.is_some_and(|t| t <= ms(deadline)),
                    "node {n} at {until}: next timeout {next:?}, an LSP is due at {deadline}"
                );
            }
        }
    }
    assert_eq!(net.nodes[2].lsps().count(), 3, "refreshes kept every LSP");
    assert!(
        net.sent(MessageType::Path) > 3 * 2 * 5,
        "Paths were refreshed"
    );
}

/// RFC 3471 §8 / RFC 3473 §7.2: the status reaches every node and comes back reflected;
/// graceful deletion sends the D bit down, waits for it to return, then tears down.
#[test]
fn admin_status_is_reflected_and_graceful_deletion_tears_down_after_the_d_bit() {
    use crate::packet::AdminStatus;
    let mut net = Net::new(3, &[], &[packet(0, 1), packet(1, 2)]);
    net.nodes[0]
        .setup(ms(0), request("adm", &[1, 2], SwitchingType::Psc))
        .unwrap();
    net.run();
    assert!(net.nodes[0].set_admin_status(ms(1), "adm", AdminStatus::ADMIN_DOWN));
    net.run();
    for n in 1..3 {
        assert_eq!(
            view_at(&net, n).admin_status,
            AdminStatus::ADMIN_DOWN,
            "node {n}"
        );
    }
    let resvs = net.sent(MessageType::Resv);
    assert_eq!(resvs, 4, "the reflected status climbs back hop by hop");

    assert!(net.nodes[0].delete_gracefully(ms(2), "adm"));
    net.run();
    let order: Vec<MessageType> = net.log.iter().skip(8).map(|(_, _, m)| *m).collect();
    assert_eq!(
        order,
        [
            MessageType::Path,
            MessageType::Path,
            MessageType::Resv,
            MessageType::Resv,
            MessageType::PathTear,
            MessageType::PathTear
        ]
    );
    assert!(net.nodes[0].lsp("adm").is_none());
    net.assert_clean();
}

/// RFC 3473 §4.4: a data link fails under an LSP. The node above it sends PathErr 24/5 with
/// Path_State_Removed, the node below it sends PathTear on, and nothing stays booked.
#[test]
fn a_failed_data_link_tears_the_lsp_down_both_ways_and_tells_the_ingress() {
    let mut net = Net::new(4, &[], &[packet(0, 1), packet(1, 2), packet(2, 3)]);
    net.nodes[0]
        .setup(ms(0), request("p", &[1, 2, 3], SwitchingType::Psc))
        .unwrap();
    net.run();
    up(&net, 0, "p");
    net.log.clear();
    net.nodes[1].interface_down(ms(10), 1);
    net.nodes[2].interface_down(ms(10), 0);
    net.run();
    let v = net.nodes[0].lsp("p").unwrap();
    assert_eq!(v.state, LspState::Failed);
    let e = v.error.unwrap();
    assert_eq!(
        (e.node, e.code, e.value),
        (rid(1), error::ROUTING_PROBLEM, routing::NO_ROUTE)
    );
    assert_eq!(
        net.log,
        vec![(1, 0, MessageType::PathErr), (2, 3, MessageType::PathTear)]
    );
    for n in 1..4 {
        assert!(net.nodes[n].lsps().next().is_none(), "node {n} kept state");
    }
    assert!(net.nodes[0].teardown(ms(20), "p"));
    net.run();
    net.assert_clean();
}

/// RFC 3471 §7: a secondary holds bandwidth that extra traffic borrows; a normal LSP finds
/// the link full. When the ingress switches over, the secondary's nodes take the bandwidth
/// back and preempt the extra traffic (ERROR_SPEC 12), and every book ends at zero.
#[test]
fn switchover_to_a_secondary_preempts_the_extra_traffic_on_its_links() {
    let thin = |a, b| LinkSpec {
        bandwidth_bps: 1e9,
        ..packet(a, b)
    };
    let mut net = Net::new(
        4,
        &[],
        &[packet(0, 1), packet(1, 3), thin(0, 2), thin(2, 3)],
    );
    let mut primary = request("p", &[1, 3], SwitchingType::Psc);
    primary.link_protection = 0x02;
    let mut secondary = request("s", &[2, 3], SwitchingType::Psc);
    secondary.lsp_id = 2;
    secondary.secondary = true;
    net.nodes[0].setup(ms(0), primary).unwrap();
    net.nodes[0].setup(ms(0), secondary).unwrap();
    net.run();
    up(&net, 0, "p");
    up(&net, 0, "s");

    // Node 2's link to 3 is full with the secondary: a normal LSP is refused, extra traffic
    // rides on the secondary's bandwidth.
    let mut normal = request("n", &[3], SwitchingType::Psc);
    normal.tunnel_id = 7;
    net.nodes[2].setup(ms(1), normal).unwrap();
    let mut extra = request("x", &[3], SwitchingType::Psc);
    extra.tunnel_id = 8;
    extra.link_protection = EXTRA_TRAFFIC;
    net.nodes[2].setup(ms(1), extra).unwrap();
    net.run();
    let n = net.nodes[2].lsp("n").unwrap();
    assert_eq!(
        n.error.map(|e| (e.code, e.value)),
        Some((
            error::ADMISSION_CONTROL_FAILURE,
            error::BANDWIDTH_UNAVAILABLE
        ))
    );
    up(&net, 2, "x");

    net.log.clear();
    assert!(net.nodes[0].switch_to_secondary(ms(5), "s"));
    net.run();
    up(&net, 0, "s");
    let x = net.nodes[2].lsp("x").unwrap();
    assert_eq!(x.state, LspState::Failed);
    assert_eq!(
        x.error.map(|e| (e.node, e.code)),
        Some((rid(2), error::SERVICE_PREEMPTED))
    );
    assert_eq!(net.nodes[2].counters().preempted, 1);
    assert_eq!(
        net.log,
        vec![
            (0, 2, MessageType::Path),
            (2, 3, MessageType::PathTear),
            (2, 3, MessageType::Path)
        ]
    );
    // Now dedicated: no more extra traffic fits on the secondary's links.
    let mut again = request("x2", &[3], SwitchingType::Psc);
    again.tunnel_id = 9;
    again.link_protection = EXTRA_TRAFFIC;
    net.nodes[2].setup(ms(6), again).unwrap();
    net.run();
    assert_eq!(net.nodes[2].lsp("x2").unwrap().state, LspState::Failed);

    for (node, name) in [(0, "p"), (0, "s"), (2, "n"), (2, "x"), (2, "x2")] {
        assert!(net.nodes[node].teardown(ms(10), name), "{name}");
    }
    net.run();
    net.assert_clean();
}

/// RFC 3473 §4.3: the ingress asked for notification (NOTIFY_REQUEST in its Path); the node
/// that loses the link sends it a Notify straight away, beside the hop-by-hop PathErr, and the
/// ingress reports the failure from whichever comes first.
#[test]
fn the_node_that_loses_a_link_notifies_the_ingress_directly() {
    let mut net = Net::new(4, &[], &[packet(0, 1), packet(1, 2), packet(2, 3)]);
    let mut req = request("p", &[1, 2, 3], SwitchingType::Psc);
    req.notify = true;
    net.nodes[0].setup(ms(0), req).unwrap();
    net.run();
    up(&net, 0, "p");
    net.log.clear();
    net.events.clear();
    net.nodes[2].interface_down(ms(10), 1);
    net.nodes[3].interface_down(ms(10), 0);
    net.run();
    assert_eq!(net.log[0], (2, 0, MessageType::Notify), "{:?}", net.log);
    assert!(net.log.contains(&(2, 1, MessageType::PathErr)));
    let failures: Vec<_> = net
        .events
        .iter()
        .filter_map(|(n, e)| match e {
            Event::LspFailed { name, error } if *n == 0 => {
                Some((name.clone(), error.node, error.code, error.value))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        failures[0],
        (
            "p".to_string(),
            rid(2),
            error::ROUTING_PROBLEM,
            routing::NO_ROUTE
        )
    );
    assert_eq!(net.nodes[0].counters().sent.get("Notify"), None);
    assert_eq!(net.nodes[2].counters().sent.get("Notify"), Some(&1));
    assert!(net.nodes[0].teardown(ms(20), "p"));
    net.run();
    net.assert_clean();
}

/// RFC 3473 §8.2: a refusal by admission control names the refused data link in an IF_ID
/// ERROR_SPEC, which survives the relay to the ingress; an ingress refusing itself names
/// its own link.
#[test]
fn admission_failures_name_the_refused_link() {
    let narrow = |a, b| LinkSpec {
        bandwidth_bps: 1e9,
        ..packet(a, b)
    };
    for (links, bidirectional, refused_by, link_id) in [
        (vec![packet(0, 1), narrow(1, 2)], false, 1, 101),
        (vec![narrow(0, 1), packet(1, 2)], true, 0, 100),
    ] {
        let mut net = Net::new(3, &[], &links);
        let req = LspRequest {
            bandwidth_bps: 5e9,
            bidirectional,
            ..request("big", &[1, 2], SwitchingType::Psc)
        };
        net.nodes[0].setup(ms(0), req).unwrap();
        net.run();
        let e = net.nodes[0].lsp("big").unwrap().error.expect("refused");
        assert_eq!(
            (e.node, e.code, e.value, e.interface),
            (
                rid(refused_by),
                error::ADMISSION_CONTROL_FAILURE,
                error::BANDWIDTH_UNAVAILABLE,
                Some(link_id)
            ),
            "bidirectional: {bidirectional}"
        );
        net.assert_clean();
    }
}

/// RFC 3209 §4.7.1: an LSP with a better setup priority takes bandwidth held at a worse
/// holding priority, and the holder is preempted at the first node where they share a
/// link; LSPs held at its own priority or better are never preempted.
#[test]
fn better_setup_priority_preempts_worse_holders_only() {
    let mut net = Net::new(3, &[], &[packet(0, 1), packet(1, 2)]);
    let with = |name: &str, tunnel: u16, gbps: f64, prio: u8| LspRequest {
        bandwidth_bps: gbps * 1e9,
        tunnel_id: tunnel,
        setup_priority: prio,
        hold_priority: prio,
        ..request(name, &[1, 2], SwitchingType::Psc)
    };
    net.nodes[0].setup(ms(0), with("low", 1, 4.0, 7)).unwrap();
    net.nodes[0].setup(ms(0), with("low2", 2, 4.0, 7)).unwrap();
    net.run();
    up(&net, 0, "low");
    up(&net, 0, "low2");
    // 8 of 10 Gbit/s held at priority 7; 5 more at priority 0 preempts the newest holder.
    net.nodes[0].setup(ms(0), with("high", 3, 5.0, 0)).unwrap();
    net.run();
    up(&net, 0, "high");
    up(&net, 0, "low");
    let low2 = net.nodes[0].lsp("low2").unwrap();
    assert_eq!(
        low2.error.map(|e| e.code),
        Some(error::SERVICE_PREEMPTED),
        "{:?}",
        low2.state
    );
    assert!(net.nodes[0].counters().preempted >= 1);
    // Another priority-0 LSP cannot push "high" out: it is refused instead.
    net.nodes[0].setup(ms(0), with("rival", 4, 6.0, 0)).unwrap();
    net.run();
    up(&net, 0, "high");
    let rival = net.nodes[0].lsp("rival").unwrap();
    assert_eq!(
        rival.error.map(|e| e.code),
        Some(error::ADMISSION_CONTROL_FAILURE)
    );
    for i in 0..2 {
        assert!(net.nodes[1].reserved_bps(i) <= 10e9 + 1e-3);
    }
}
