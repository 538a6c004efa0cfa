//! LDP and the data plane in whole networks (issue 4): flows follow the tree their FEC
//! policy picks, hop for hop as `mplamps spf` computes it from the file; power and regular
//! labels come from disjoint ranges; a router without the capability forces a reported
//! fallback; failures re-route both trees and leave no stale labels.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure is the test failing

use std::collections::BTreeSet;
use std::time::Duration;

use mplamps_core::fec::Topology;
use mplamps_sim::mpls::Trace;
use mplamps_sim::scenario::{Action, ScenarioEvent};
use mplamps_sim::{LinkModel, Sim};
use mplamps_te::Network;
use mplamps_te::topology::FecPolicy;
use mplamps_te::trees::{self, TreeKind};

fn draft_area() -> Network {
    let text = include_str!("../../../examples/draft-area.toml");
    Network::from_toml("draft-area.toml", text).unwrap()
}

/// Every flow to 10.0.0.0/8 at 1G or more rides the power tree.
fn with_power_policy(mut net: Network) -> Network {
    net.ldp.enabled = true;
    net.fec_policy = vec![FecPolicy {
        prefix: "10.0.0.0".parse().unwrap(),
        prefix_len: 8,
        min_rate: Some("1G".parse().unwrap()),
        tree: Topology::Power,
        lsp: None,
    }];
    net
}

fn converged(net: Network, events: Vec<ScenarioEvent>) -> Sim {
    let mut sim = Sim::new(net, 3, LinkModel::default());
    sim.add_scenario(events);
    sim.start();
    assert!(sim.run(Duration::from_secs(900), true).unwrap());
    sim
}

fn big() -> Option<mplamps_core::Bandwidth> {
    Some("2G".parse().unwrap())
}

/// Each hop's next router is a next hop of that router's own tree toward the destination,
/// as `mplamps spf --root <router>` computes it from the file.
fn assert_follows_file_tree(sim: &Sim, trace: &Trace, kind: TreeKind) {
    assert!(trace.delivered, "{trace:?}");
    let metrics = mplamps_te::power::compute(&sim.net);
    for pair in trace.hops.windows(2) {
        let here = sim.net.router_index(&pair[0].router).unwrap();
        let tree = trees::compute(&sim.net, &metrics, kind, here);
        let dst = tree.nodes.iter().find(|n| n.name == trace.dst).unwrap();
        assert!(
            dst.next_hops.contains(&pair[1].router),
            "{} tree of {}: next hops to {} are {:?}, the packet went to {}",
            kind.name(),
            pair[0].router,
            trace.dst,
            dst.next_hops,
            pair[1].router
        );
    }
    assert_eq!(trace.hops.last().unwrap().router, trace.dst);
}

/// The labels of each router: LFIB in-labels in their tree's range, power and regular apart.
fn assert_label_ranges(sim: &Sim) {
    for r in 0..sim.net.routers.len() {
        let Some(ldp) = sim.ldp_instance(r) else {
            continue;
        };
        let mut seen = BTreeSet::new();
        for ((topology, _), f) in ldp.forwarding().fecs {
            if let Some(l) = f.local_label {
                let range = ldp.labels().range(topology.label_owner()).unwrap();
                assert!(range.contains(l), "{topology} label {l} outside {range}");
                assert!(seen.insert(l), "label {l} bound twice");
            }
        }
        assert_eq!(
            seen,
            ldp.labels_in_use(),
            "router {r}: allocator and bindings differ"
        );
    }
}

fn trace_pairs(sim: &mut Sim, pairs: &[(&str, &str)]) {
    for &(src, dst) in pairs {
        let power = sim.trace(src, dst, big()).unwrap();
        assert_eq!(power.tree, Topology::Power);
        assert!(power.fallbacks.is_empty(), "{power:?}");
        assert_follows_file_tree(sim, &power, TreeKind::Power);
        for h in power.hops.iter().filter_map(|h| h.out_label) {
            assert!((100_000..200_000).contains(&h), "power label {h}");
        }
        let regular = sim.trace(src, dst, None).unwrap();
        assert_eq!(regular.tree, Topology::Regular);
        assert_follows_file_tree(sim, &regular, TreeKind::Regular);
        for h in regular.hops.iter().filter_map(|h| h.out_label) {
            assert!((16..100_000).contains(&h), "regular label {h}");
        }
    }
}

#[test]
fn draft_area_flows_follow_their_trees_hop_for_hop() {
    let mut sim = converged(with_power_policy(draft_area()), vec![]);
    let names: Vec<String> = sim.net.routers.iter().map(|r| r.name.clone()).collect();
    let pairs: Vec<(&str, &str)> = names
        .iter()
        .flat_map(|a| names.iter().map(move |b| (a.as_str(), b.as_str())))
        .filter(|(a, b)| a != b)
        .collect();
    trace_pairs(&mut sim, &pairs);
    assert_label_ranges(&sim);
    // The draft's point: from B the power tree takes another way to F than the regular one.
    let power = sim.trace("B", "F", big()).unwrap();
    let regular = sim.trace("B", "F", None).unwrap();
    assert_ne!(power.hops.len(), regular.hops.len());
}

#[test]
fn a_generated_network_forwards_both_trees() {
    let net = mplamps_te::generate::generate(40, 4.0, 11).unwrap();
    let mut sim = converged(with_power_policy(net), vec![]);
    let n = sim.net.routers.len();
    let names: Vec<String> = sim.net.routers.iter().map(|r| r.name.clone()).collect();
    let pairs: Vec<(&str, &str)> = (0..20)
        .map(|i| (names[i * 7 % n].as_str(), names[(i * 13 + 5) % n].as_str()))
        .filter(|(a, b)| a != b)
        .collect();
    trace_pairs(&mut sim, &pairs);
    assert_label_ranges(&sim);
}

/// Draft §2.4.4: a router without the capability still has sessions, receives no power
/// bindings, and traffic on the power tree through it still arrives, the fallback reported.
#[test]
fn a_router_without_the_capability_is_crossed_with_regular_labels() {
    let mut net = with_power_policy(draft_area());
    // A is on B's power path to F (B A D E F).
    let a = net.router_index("A").unwrap();
    net.routers[a].ldp_power = false;
    // A still advertises power values in OSPF, so the power tree still uses it.
    let mut sim = converged(net, vec![]);
    let ldp_a = sim.ldp_instance(a).unwrap();
    let neighbors: BTreeSet<usize> = sim
        .net
        .links
        .iter()
        .filter_map(|l| match (l.a.router, l.b.router) {
            (x, y) if x == a => Some(y),
            (x, y) if y == a => Some(x),
            _ => None,
        })
        .collect();
    assert_eq!(ldp_a.sessions().len(), neighbors.len());
    assert!(
        ldp_a
            .sessions()
            .iter()
            .all(|(_, s)| *s == mplamps_ldp::instance::SessionState::Operational)
    );
    for (peer, _) in ldp_a.sessions() {
        let bindings = ldp_a.remote_bindings(peer);
        assert!(!bindings.is_empty());
        assert!(bindings.keys().all(|(t, _)| *t == Topology::Regular));
        assert!(!ldp_a.peer_has_power(peer));
    }
    assert_eq!(ldp_a.counters().unknown_fec, 0);
    let trace = sim.trace("B", "F", big()).unwrap();
    assert!(trace.delivered, "{trace:?}");
    assert_eq!(trace.fallbacks, vec!["B".to_string()], "{trace:?}");
    assert_eq!(trace.hops[1].router, "A");
    // Past the fallback the packet carries a regular label.
    assert!(trace.hops[0].out_label.is_some_and(|l| l < 100_000));
}

#[test]
fn link_failure_reroutes_both_trees_and_repair_restores_them() {
    let net = with_power_policy(draft_area());
    // B's power path to F runs B A D E F; cut A–D.
    let cut = net
        .links
        .iter()
        .find(|l| {
            let ends = [
                net.routers[l.a.router].name.as_str(),
                net.routers[l.b.router].name.as_str(),
            ];
            ends.contains(&"A") && ends.contains(&"D")
        })
        .map(|l| l.name.clone())
        .unwrap();
    let mut before = converged(net.clone(), vec![]);
    let power_before = before.trace("B", "F", big()).unwrap();
    let mut sim = converged(
        net,
        vec![ScenarioEvent {
            at: Duration::from_secs(60),
            action: Action::LinkDown(cut.clone()),
        }],
    );
    let power = sim.trace("B", "F", big()).unwrap();
    assert_follows_file_tree_without(&sim, &power, TreeKind::Power, &cut);
    assert_ne!(power.hops, power_before.hops);
    let regular = sim.trace("B", "F", None).unwrap();
    assert!(regular.delivered);
    assert_label_ranges(&sim);
    sim.add_scenario(vec![ScenarioEvent {
        at: Duration::from_secs(120),
        action: Action::LinkUp(cut),
    }]);
    assert!(sim.run(Duration::from_secs(900), true).unwrap());
    let repaired = sim.trace("B", "F", big()).unwrap();
    assert_eq!(
        repaired
            .hops
            .iter()
            .map(|h| h.router.clone())
            .collect::<Vec<_>>(),
        power_before
            .hops
            .iter()
            .map(|h| h.router.clone())
            .collect::<Vec<_>>()
    );
    assert_label_ranges(&sim);
}

/// As [`assert_follows_file_tree`] on the file's network less one link.
fn assert_follows_file_tree_without(sim: &Sim, trace: &Trace, kind: TreeKind, link: &str) {
    let mut net = sim.net.clone();
    net.links.retain(|l| l.name != link);
    let mut cut = Sim::new(net, 0, LinkModel::default());
    cut.enable_ldp();
    assert_follows_file_tree(&cut, trace, kind);
}

/// A session lost to a router crash and recovered after its restart leaves every router
/// with exactly the labels its bindings use (no leak), and the same forwarding as before.
#[test]
fn session_loss_and_recovery_leave_no_stale_labels() {
    let net = with_power_policy(draft_area());
    let mut before = converged(net.clone(), vec![]);
    let trace_before = before.trace("B", "F", big()).unwrap();
    let mut sim = converged(
        net,
        vec![
            ScenarioEvent {
                at: Duration::from_secs(60),
                action: Action::RouterCrash("A".into()),
            },
            ScenarioEvent {
                at: Duration::from_secs(120),
                action: Action::RouterRestart("A".into()),
            },
        ],
    );
    assert_label_ranges(&sim);
    let trace = sim.trace("B", "F", big()).unwrap();
    assert!(trace.delivered);
    let routers = |t: &Trace| t.hops.iter().map(|h| h.router.clone()).collect::<Vec<_>>();
    assert_eq!(routers(&trace), routers(&trace_before));
    for r in 0..sim.net.routers.len() {
        let ldp = sim.ldp_instance(r).unwrap();
        for (peer, state) in ldp.sessions() {
            assert_eq!(
                state,
                mplamps_ldp::instance::SessionState::Operational,
                "{peer}"
            );
        }
    }
}

#[test]
fn tracing_without_ldp_is_an_error() {
    let mut sim = Sim::new(draft_area(), 1, LinkModel::default());
    sim.start();
    assert!(sim.run(Duration::from_secs(300), true).unwrap());
    let e = sim.trace("B", "F", None).unwrap_err();
    assert!(e.to_string().contains("LDP is not running"), "{e}");
    let mut sim = Sim::new(with_power_policy(draft_area()), 1, LinkModel::default());
    sim.start();
    assert!(sim.trace("B", "nowhere", None).is_err());
    // Before any session is up the ingress has no binding: the drop is counted with its reason.
    let trace = sim.trace("B", "F", None).unwrap();
    assert_eq!(
        trace.dropped,
        Some(mplamps_dataplane::DropReason::NoBinding)
    );
    let b = sim.net.router_index("B").unwrap();
    assert_eq!(
        sim.drops(b).unwrap().0[&mplamps_dataplane::DropReason::NoBinding],
        1
    );
}

/// LDP brings only the FECs an input touched in line (issue 22 §3). At any moment, mid
/// flood or converged, through failures, cost changes and a crash, every router advertises
/// exactly what a full pass over all its FECs would.
#[test]
fn incremental_bindings_always_equal_a_full_pass() {
    let mut net = mplamps_te::generate::generate(40, 3.5, 4).unwrap();
    net.ldp.enabled = true;
    let (l1, l2) = (net.links[3].name.clone(), net.links[17].name.clone());
    let crash = net.routers[5].name.clone();
    let at = |s: u64, action| ScenarioEvent {
        at: Duration::from_secs(s),
        action,
    };
    let mut sim = Sim::new(net, 9, LinkModel::default());
    sim.add_scenario(vec![
        at(60, Action::LinkDown(l1.clone())),
        at(
            90,
            Action::Metric {
                link: l2,
                value: 40,
            },
        ),
        at(120, Action::RouterCrash(crash.clone())),
        at(150, Action::RouterRestart(crash)),
        at(200, Action::LinkUp(l1)),
    ]);
    sim.start();
    let mut checked = 0;
    for until in [
        2.0, 5.2, 30.0, 60.5, 61.0, 90.1, 95.0, 125.0, 150.2, 155.0, 200.3, 300.0,
    ] {
        sim.run(Duration::from_secs_f64(until), false).unwrap();
        for r in 0..sim.net.routers.len() {
            if let Some(ldp) = sim.ldp_instance(r) {
                let off = ldp.binding_discrepancies();
                assert!(
                    off.is_empty(),
                    "{} at {until} s: {off:?}",
                    sim.net.routers[r].name
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 400);
    assert!(sim.run(Duration::from_secs(900), true).unwrap());
}

#[test]
fn host_subnets_are_routed_and_bound_on_both_trees() {
    let text = format!(
        "{}\n[[host]]\nname = \"h1\"\nport = \"A:LC1:P16\"\naddress = \"192.168.1.10/24\"\n\
         [[host]]\nname = \"h2\"\nport = \"F:LC2:P1\"\naddress = \"192.168.2.10/24\"\n",
        include_str!("../../../examples/draft-area.toml")
    );
    let net = Network::from_toml("hosts.toml", &text).unwrap();
    let sim = converged(with_power_policy(net), vec![]);
    let subnet = |third: u8| mplamps_ospf::instance::Prefix {
        network: std::net::Ipv4Addr::new(192, 168, third, 0),
        len: 24,
    };
    let a = sim.net.router_index("A").unwrap();
    let f = sim.net.router_index("F").unwrap();
    for r in 0..sim.net.routers.len() {
        let routes = sim.instance(r).unwrap().routes();
        for (third, home) in [(1, a), (2, f)] {
            for (tree, table) in [("regular", &routes.regular), ("power", &routes.power)] {
                assert_eq!(
                    table.contains_key(&subnet(third)),
                    r != home,
                    "router {r}, {tree} tree, 192.168.{third}.0/24"
                );
            }
            // Every other router forwards the subnet on both trees with labels from its
            // next hops; the host's router is the egress and has nothing to forward.
            let fecs = sim.ldp_instance(r).unwrap().forwarding().fecs;
            for topology in [Topology::Regular, Topology::Power] {
                let fec = mplamps_core::fec::Fec::new(subnet(third).network, 24);
                let hops = fecs.get(&(topology, fec)).map(|f| f.nhlfes.len());
                if r == home {
                    assert_eq!(hops, None, "router {r} {topology} {fec}");
                } else {
                    assert!(
                        hops > Some(0),
                        "router {r}: no {topology} binding for {fec}"
                    );
                }
            }
        }
    }
}

/// A `[[fec_policy]]` rule naming an LSP: at its ingress the flow takes the LSP's labels
/// hop by hop (RSVP-TE's, not LDP's), elsewhere the rule's tree.
#[test]
fn a_flow_steered_into_an_lsp_takes_its_labels() {
    let text = format!(
        "{}\n[[lsp]]\nname = \"a-f-power\"\nfrom = \"A\"\nto = \"F\"\nbandwidth = \"100M\"\n\
         objective = \"power\"\n",
        include_str!("../../../examples/draft-area.toml")
    );
    let mut net = with_power_policy(Network::from_toml("lsp.toml", &text).unwrap());
    let f = net.routers[net.router_index("F").unwrap()]
        .router_id
        .to_ipv4();
    net.fec_policy.insert(
        0,
        FecPolicy {
            prefix: f,
            prefix_len: 32,
            min_rate: None,
            tree: Topology::Regular,
            lsp: Some("a-f-power".into()),
        },
    );
    let mut sim = converged(net, vec![]);
    let report = sim
        .lsp_reports()
        .into_iter()
        .find(|l| l.name == "a-f-power")
        .unwrap();
    let trace = sim.trace("A", "F", None).unwrap();
    assert!(trace.delivered, "{trace:?}");
    assert!(
        trace.policy.contains("LSP \"a-f-power\""),
        "{}",
        trace.policy
    );
    let routers: Vec<&str> = trace.hops.iter().map(|h| h.router.as_str()).collect();
    assert_eq!(routers, report.path, "the packet follows the LSP's path");
    // Each hop's outgoing label is the label the next router gave in its Resv, until the
    // penultimate hop pops (the egress gave implicit null).
    let given: Vec<Option<u32>> = report.hops.iter().map(|h| h.downstream_label).collect();
    let sent: Vec<Option<u32>> = trace.hops.iter().map(|h| h.out_label).collect();
    assert_eq!(sent[..given.len() - 1], given[..given.len() - 1]);
    assert!(
        given[..given.len() - 1]
            .iter()
            .all(|l| l.is_some_and(|l| l >= 200_000))
    );
    // From B, the rule's tree: LDP's regular labels.
    let from_b = sim.trace("B", "F", None).unwrap();
    assert!(
        from_b
            .hops
            .iter()
            .filter_map(|h| h.out_label)
            .all(|l| l < 100_000),
        "{from_b:?}"
    );
}
