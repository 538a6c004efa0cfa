//! RFC 3471 §9.2 / RFC 3473 §9: control-channel faults and control-plane restarts.

use super::*;

const HELLO_MS: u64 = 1_000;
const REFRESH_MS: u64 = 5_000;

/// Hello every second, refresh every 5 s (state lifetime 26.25 s), neighbors wait 120 s for
/// a restart and a restart has 30 s to recover.
fn graceful(c: &mut Config) {
    c.hello_ms = Some(HELLO_MS);
    c.refresh_ms = REFRESH_MS;
    c.restart_ms = 120_000;
    c.recovery_ms = 30_000;
}

fn chain(links: [LinkSpec; 3], tweak: impl Fn(&mut Config)) -> Net {
    let mut net = Net::with_config(4, &[], &links, tweak);
    net.advance(3_000, 100);
    net
}

fn packet_chain() -> Net {
    chain([packet(0, 1), packet(1, 2), packet(2, 3)], graceful)
}

fn lambda_chain() -> Net {
    chain(
        [
            lambda(0, 1, "1..8"),
            lambda(1, 2, "1..8"),
            lambda(2, 3, "1..8"),
        ],
        graceful,
    )
}

fn lsp(name: &str, tunnel: u16, switching: SwitchingType, bidirectional: bool) -> LspRequest {
    let mut r = request(name, &[1, 2, 3], switching);
    r.tunnel_id = tunnel;
    r.bidirectional = bidirectional;
    r
}

/// Every node's cross-connects.
fn forwarding(net: &Net) -> Vec<Vec<CrossConnect>> {
    net.nodes.iter().map(Instance::cross_connects).collect()
}

fn hello_state(net: &Net, node: usize, neighbor: usize) -> HelloState {
    net.nodes[node]
        .neighbors()
        .find(|n| n.router_id == rid(neighbor))
        .map(|n| n.state)
        .expect("a neighbor entry")
}

fn failures(net: &Net) -> usize {
    net.events
        .iter()
        .filter(|(_, e)| matches!(e, Event::LspFailed { .. }))
        .count()
}

/// Restarts node `n`'s control plane: a new Src_Instance and an empty label allocator, the
/// data plane's cross-connects kept when `keep_forwarding`.
fn restart(net: &mut Net, n: usize, keep_forwarding: bool) {
    let preserved = if keep_forwarding {
        net.nodes[n].cross_connects()
    } else {
        Vec::new()
    };
    let mut config = net.nodes[n].config().clone();
    config.instance += 1;
    config.labels = mplamps_core::label::LabelSpace::default();
    net.nodes[n] = Instance::restarted(ms(net.now), config, preserved);
}

/// RFC 3471 §9.1: A–B and B–C each have a packet link, which carries the control channel,
/// and a fibre that carries none. A lambda LSP is signaled over the packet links with IF_ID
/// RSVP_HOPs naming the fibres, and takes its wavelengths on the fibres; a packet LSP takes
/// the packet links. No message ever goes out on a fibre.
#[test]
fn signaling_for_a_fibre_without_control_goes_over_the_control_channel() {
    let fibre = |a, b| LinkSpec {
        control: false,
        ..lambda(a, b, "1..8")
    };
    // Interfaces: A 0 packet, 1 fibre; B 0 packet to A, 1 fibre to A, 2 packet to C,
    // 3 fibre to C; C 0 packet, 1 fibre.
    let mut net = Net::with_config(
        3,
        &[],
        &[packet(0, 1), fibre(0, 1), packet(1, 2), fibre(1, 2)],
        graceful,
    );
    net.advance(3_000, 100);
    let now = net.now;
    net.nodes[0]
        .setup(ms(now), request("lambda", &[1, 2], SwitchingType::Lsc))
        .unwrap();
    let mut p = request("packet", &[1, 2], SwitchingType::Psc);
    p.tunnel_id = 2;
    net.nodes[0].setup(ms(now), p).unwrap();
    net.run();
    assert_eq!(up(&net, 0, "lambda").out_label, Some(1));
    up(&net, 0, "packet");
    let fibres = [(0, 1), (1, 1), (1, 3), (2, 1)];
    assert!(
        net.sent_on.iter().all(|s| !fibres.contains(s)),
        "nothing is sent on a fibre"
    );
    for (node, interface) in fibres {
        assert_eq!(
            net.nodes[node].link_labels(interface).unwrap().in_use(),
            1,
            "the wavelength is held on the fibre: node {node} if {interface}"
        );
    }
    assert!(net.nodes[1].reserved_bps(3) > 0.0 && net.nodes[1].reserved_bps(2) > 0.0);
    net.nodes[0].teardown(ms(net.now), "lambda");
    net.nodes[0].teardown(ms(net.now), "packet");
    net.run();
    net.assert_clean();
}

#[test]
fn hellos_bring_every_neighbor_up_and_nothing_else_moves() {
    let net = packet_chain();
    for (a, b) in [(0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 2)] {
        assert_eq!(hello_state(&net, a, b), HelloState::Up, "{a}→{b}");
    }
    let view = net.nodes[1]
        .neighbors()
        .find(|n| n.router_id == rid(2))
        .unwrap()
        .clone();
    assert_eq!(view.instance, 1);
    assert_eq!((view.restart_ms, view.recovery_ms), (120_000, 0));
    assert!(net.sent(MessageType::Hello) >= 6 * 3);
    assert_eq!(net.nodes[1].counters().control_channel_faults, 0);
}

/// RFC 3471 §9.2, first case: the control channel between B and C fails for longer than
/// the state lifetime; the data plane keeps forwarding and, when the channel returns, both
/// sides find each other with the same instance and refresh what they share at once.
#[test]
fn a_control_channel_fault_keeps_the_lsp_and_resynchronizes_when_it_returns() {
    let mut net = packet_chain();
    let now = net.now;
    net.nodes[0]
        .setup(ms(now), lsp("p", 1, SwitchingType::Psc, true))
        .unwrap();
    net.run();
    up(&net, 0, "p");
    let before = forwarding(&net);
    net.cut.push((1, 2));
    net.advance(100_000, 500);
    assert_eq!(hello_state(&net, 1, 2), HelloState::Lost);
    assert_eq!(hello_state(&net, 2, 1), HelloState::Lost);
    assert_eq!(net.nodes[2].counters().control_channel_faults, 1);
    assert_eq!(
        forwarding(&net),
        before,
        "no refresh for 97 s, four lifetimes: the cross-connects stay"
    );
    assert_eq!(failures(&net), 0);

    net.cut.clear();
    let resv_before = net.sent(MessageType::Resv);
    net.advance(103_000, 100);
    assert_eq!(hello_state(&net, 1, 2), HelloState::Up);
    assert_eq!(net.nodes[1].counters().resynchronizations, 1);
    assert_eq!(net.nodes[2].counters().resynchronizations, 1);
    assert!(
        net.sent(MessageType::Resv) > resv_before,
        "C refreshed its Resv toward B at once"
    );
    assert_eq!(forwarding(&net), before);
    assert_eq!(up(&net, 0, "p").out_label, before[0][0].out_label);
    net.nodes[0].teardown(ms(net.now), "p");
    net.run();
    net.assert_clean();
}

/// RFC 3471 §9.2: "any state changes that were instantiated during the failure are
/// synchronized". The ingress tears one LSP down while B–C is cut; C and D still hold it until
/// the channel returns, then B's refresh does not mention it and C removes it.
#[test]
fn a_teardown_during_a_control_channel_fault_reaches_the_far_side_after_it() {
    let mut net = packet_chain();
    let now = net.now;
    for (name, tunnel) in [("keep", 1), ("gone", 2)] {
        net.nodes[0]
            .setup(ms(now), lsp(name, tunnel, SwitchingType::Psc, false))
            .unwrap();
    }
    net.run();
    net.cut.push((1, 2));
    net.advance(10_000, 500);
    net.nodes[0].teardown(ms(net.now), "gone");
    net.run();
    net.advance(60_000, 500);
    assert_eq!(net.nodes[1].lsps().count(), 1, "B got the PathTear");
    assert_eq!(net.nodes[3].lsps().count(), 2, "D did not");

    net.cut.clear();
    net.advance(60_000 + REFRESH_MS + 2_000, 100);
    assert_eq!(net.nodes[2].counters().stale_removed, 1);
    for n in 1..4 {
        assert_eq!(net.nodes[n].lsps().count(), 1, "node {n}");
    }
    up(&net, 0, "keep");
    net.nodes[0].teardown(ms(net.now), "keep");
    net.run();
    net.assert_clean();
}

/// RFC 3209 §5 with RFC 3473 §9.2: a neighbor silent past the Restart_Time it advertised is
/// given up; its LSPs go as on a link failure (24/5 to the ingress, nothing left behind).
#[test]
fn a_neighbor_silent_past_its_restart_time_is_given_up() {
    let mut net = chain([packet(0, 1), packet(1, 2), packet(2, 3)], |c| {
        graceful(c);
        c.restart_ms = 20_000;
    });
    let now = net.now;
    net.nodes[0]
        .setup(ms(now), lsp("p", 1, SwitchingType::Psc, false))
        .unwrap();
    net.run();
    net.cut.push((1, 2));
    net.advance(20_000, 500);
    assert_eq!(failures(&net), 0, "within the restart time");
    net.advance(30_000, 500);
    let v = net.nodes[0].lsp("p").unwrap();
    assert_eq!(v.state, LspState::Failed);
    let e = v.error.unwrap();
    assert_eq!(
        (e.node, e.code, e.value),
        (rid(1), error::ROUTING_PROBLEM, routing::NO_ROUTE)
    );
    assert_eq!(hello_state(&net, 1, 2), HelloState::Init);
    net.nodes[0].teardown(ms(net.now), "p");
    net.run();
    net.assert_clean();
}

/// RFC 3473 §9.5: B's control plane restarts with its forwarding state. Its neighbors see the
/// new Src_Instance; A sends its Path with the label B had given as RECOVERY_LABEL, B takes its
/// old labels back and suggests its old outgoing label, C answers at once. The LSP never goes
/// down, every node ends with the labels it had, and nothing leaks.
fn restart_recovers(mut net: Net, switching: SwitchingType) {
    let now = net.now;
    // An LSP set up first and gone before the restart: the kept ones hold labels a fresh
    // allocator would not hand out first, so only recovery gives them back.
    net.nodes[0]
        .setup(ms(now), lsp("first", 9, switching, true))
        .unwrap();
    net.run();
    net.nodes[0]
        .setup(ms(now), lsp("kept", 1, switching, true))
        .unwrap();
    net.nodes[0]
        .setup(ms(now), lsp("plain", 2, switching, false))
        .unwrap();
    net.run();
    net.nodes[0].teardown(ms(now), "first");
    net.run();
    up(&net, 0, "kept");
    up(&net, 0, "plain");
    let before = forwarding(&net);
    let held_before: Vec<usize> = net
        .nodes
        .iter()
        .map(|n| n.label_space().allocated(LabelOwner::RsvpTe))
        .collect();
    let views_before: Vec<LspView> = net.nodes[1].lsps().collect();

    // B is down for 3 s: its neighbors notice the silence but keep everything.
    net.cut.extend([(0, 1), (1, 2)]);
    net.advance(net.now + 5_000, 100);
    assert_eq!(hello_state(&net, 0, 1), HelloState::Lost);
    restart(&mut net, 1, true);
    net.cut.clear();
    assert!(net.nodes[1].recovering());
    assert_eq!(
        net.nodes[1].cross_connects(),
        before[1],
        "the data plane forwards on what it kept"
    );

    net.advance(net.now + 3_000, 100);
    assert_eq!(net.recovery_labels, 2, "A recovers both LSPs through B");
    assert_eq!(net.nodes[1].counters().recovered_lsps, 2);
    assert_eq!(net.nodes[0].counters().neighbor_restarts, 1);
    assert_eq!(net.nodes[2].counters().neighbor_restarts, 1);
    let mut views_after: Vec<LspView> = net.nodes[1].lsps().collect();
    for v in &mut views_after {
        v.name = None;
    }
    assert_eq!(views_after, views_before, "B holds exactly what it held");
    assert_eq!(forwarding(&net), before);

    net.advance(net.now + 40_000, 500);
    assert!(!net.nodes[1].recovering());
    assert_eq!(net.nodes[1].counters().unclaimed_lsps, 0);
    assert_eq!(forwarding(&net), before);
    let held_after: Vec<usize> = net
        .nodes
        .iter()
        .map(|n| n.label_space().allocated(LabelOwner::RsvpTe))
        .collect();
    assert_eq!(held_after, held_before);
    assert_eq!(failures(&net), 0);
    for name in ["kept", "plain"] {
        net.nodes[0].teardown(ms(net.now), name);
    }
    net.run();
    net.assert_clean();
}

#[test]
fn a_restarted_transit_node_recovers_packet_lsps_from_its_neighbors() {
    restart_recovers(packet_chain(), SwitchingType::Psc);
}

#[test]
fn a_restarted_transit_node_recovers_wavelengths_from_its_neighbors() {
    // B converts wavelengths, so it chooses its incoming labels itself.
    let net = chain(
        [
            lambda(0, 1, "1..8"),
            lambda(1, 2, "1..8"),
            lambda(2, 3, "1..8"),
        ],
        |c| {
            graceful(c);
            c.label_conversion = c.router_id == rid(1);
        },
    );
    restart_recovers(net, SwitchingType::Lsc);
}

/// RFC 3473 §9.5.2: what no Path claims within the Recovery_Time is released, and the
/// downstream neighbor drops the state the restarted node never refreshed.
#[test]
fn preserved_state_nobody_claims_is_released_after_the_recovery_time() {
    let mut net = lambda_chain();
    let now = net.now;
    net.nodes[0]
        .setup(ms(now), lsp("orphan", 1, SwitchingType::Lsc, true))
        .unwrap();
    net.run();
    net.cut.extend([(0, 1), (1, 2)]);
    net.advance(net.now + 5_000, 100);
    // The ingress gives the LSP up while B is down; its PathTear is lost.
    net.nodes[0].teardown(ms(net.now), "orphan");
    net.run();
    restart(&mut net, 1, true);
    net.cut.clear();
    assert_eq!(net.nodes[1].cross_connects().len(), 2);
    net.advance(net.now + 31_000, 500);
    assert!(!net.nodes[1].recovering());
    assert_eq!(net.nodes[1].counters().unclaimed_lsps, 1);
    assert_eq!(net.nodes[2].counters().stale_removed, 1);
    assert!(net.nodes[1].cross_connects().is_empty());
    net.assert_clean();
}

/// RFC 3473 §9.5.3: a neighbor that comes back with Recovery_Time 0 kept nothing; its
/// LSPs are gone at once.
#[test]
fn a_neighbor_that_restarts_without_forwarding_state_loses_its_lsps() {
    let mut net = packet_chain();
    let now = net.now;
    net.nodes[0]
        .setup(ms(now), lsp("p", 1, SwitchingType::Psc, false))
        .unwrap();
    net.run();
    restart(&mut net, 1, false);
    net.advance(net.now + 2_000, 100);
    assert_eq!(net.nodes[0].lsp("p").unwrap().state, LspState::Failed);
    assert_eq!(net.nodes[2].lsps().count(), 0);
    assert_eq!(net.nodes[3].lsps().count(), 0);
    net.nodes[0].teardown(ms(net.now), "p");
    net.run();
    net.assert_clean();
}
