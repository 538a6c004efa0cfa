//! The draft's area (examples/draft-area.toml): power metrics recomputed independently from
//! the formulas of docs/power-metrics.md, and both trees checked against a plain Dijkstra.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure is the test failing

use std::collections::HashMap;

use mplamps_te::power::{self, Selection};
use mplamps_te::trees::{self, TreeKind};
use mplamps_te::{LineCardPower, Network, PowerProfile};

fn draft_area() -> Network {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/draft-area.toml"
    );
    Network::load(std::path::Path::new(path)).unwrap()
}

/// Ratios are carried as 4-octet IEEE floats (draft §2.4.2): 24-bit significands, so a
/// relative error of 2^-24 per value, at most.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1.2e-7 * a.abs().max(b.abs()).max(1.0)
}

fn profile_power(p: &PowerProfile, u: f64) -> f64 {
    match p {
        PowerProfile::Linear { idle_w, max_w } => idle_w + (max_w - idle_w) * u,
        PowerProfile::Flattening { idle_w, max_w, k } => {
            idle_w + (max_w - idle_w) * (1.0 - (-k * u).exp()) / (1.0 - (-k).exp())
        }
        PowerProfile::Exponential { idle_w, max_w, k } => {
            idle_w + (max_w - idle_w) * ((k * u).exp() - 1.0) / (k.exp() - 1.0)
        }
        PowerProfile::Points(pts) => {
            let i = pts.windows(2).position(|w| u <= w[1].0).unwrap();
            let (a, b) = (pts[i], pts[i + 1]);
            a.1 + (b.1 - a.1) * (u - a.0) / (b.0 - a.0)
        }
    }
}

/// The formulas of the issue, written out again without the library's helpers.
fn independent_values(net: &Network) -> Vec<(Option<f64>, Option<f64>, Option<f64>)> {
    let x = net.normalize_to.bps();
    let floor = |v: f64, q: f64| {
        if q > 0.0 {
            (v / q + 1e-9).floor() * q
        } else {
            v
        }
    };
    let mut used: HashMap<(usize, usize), f64> = HashMap::new();
    for l in &net.links {
        for end in [l.a, l.b] {
            *used.entry((end.router, end.linecard)).or_default() +=
                l.capacity.bps() - l.available.bps();
        }
    }
    let value = |end: mplamps_te::PortRef, available_bps: f64| -> Option<f64> {
        let card = &net.routers[end.router].linecards[end.linecard];
        let c = card.ports.len() as f64 * card.port_capacity.bps();
        let (consumed, available) = match &card.power {
            LineCardPower::Measured {
                consumed_w,
                available_w,
            } => (*consumed_w, *available_w),
            LineCardPower::Profile(p) => {
                let u = used
                    .get(&(end.router, end.linecard))
                    .copied()
                    .unwrap_or(0.0)
                    / c;
                let now = profile_power(p, u);
                (now, profile_power(p, 1.0) - now)
            }
        };
        let q = net.power_quantum_w;
        let (consumed_x, available_x) = (floor(consumed * x / c, q), floor(available * x / c, q));
        if available_bps <= 0.0 {
            return None;
        }
        let gbps = available_bps / 1e9;
        Some(match net.selection {
            Selection::Min => (consumed_x / gbps).min(available_x / gbps),
            Selection::Consumed => consumed_x / gbps,
            Selection::Available => available_x / gbps,
            Selection::Marginal => unreachable!("the draft area uses min"),
        })
    };
    net.links
        .iter()
        .map(|l| {
            let q = net.bandwidth_quantum.bps();
            let avail = if q > 0.0 {
                (l.available.bps() / q).floor() * q
            } else {
                l.available.bps()
            };
            let (a, b) = (value(l.a, avail), value(l.b, avail));
            let pwr = a
                .zip(b)
                .map(|(a, b)| (l.weight_a * a + l.weight_b * b) / (l.weight_a + l.weight_b));
            (a, b, pwr)
        })
        .collect()
}

#[test]
fn metrics_equal_the_formulas() {
    let net = draft_area();
    let metrics = power::compute(&net);
    let expected = independent_values(&net);
    assert_eq!(metrics.links.len(), 13);
    for (m, (a, b, p)) in metrics.links.iter().zip(expected) {
        for (ours, theirs) in [(m.value_a, a), (m.value_b, b), (m.pwrlink, p)] {
            assert!(
                close(ours.unwrap(), theirs.unwrap()),
                "{}: {ours:?} vs {theirs:?}",
                m.name
            );
        }
        assert!(m.in_power_topology);
    }
}

/// L1 by hand: A:LC1 is 16 × 10G with a linear 352–440 W profile and carries only L1
/// (10G, 7.5G available): u = 2.5/160, consumed 353.375 W, per 10G port 22.09 → 22 W after
/// the 1 W quantum; available 86.625 W → 5.41 → 5 W. Ratios 22/7.5 and 5/7.5; min = 0.6667.
#[test]
fn link_l1_by_hand() {
    let net = draft_area();
    let metrics = power::compute(&net);
    let l1 = &metrics.links[0];
    assert_eq!(l1.name, "L1");
    assert!(close(l1.value_a.unwrap(), 5.0 / 7.5));
    let port = metrics.ports.iter().find(|p| p.name == "A:LC1:P5").unwrap();
    assert_eq!((port.consumed_per_x_w, port.available_per_x_w), (22.0, 5.0));
    assert!(close(port.consumed_ratio.unwrap(), 22.0 / 7.5));
}

#[test]
fn no_available_bandwidth_leaves_the_power_topology_only() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/draft-area.toml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    // L13 has 1G available; 0.4G is floored to 0 by the 0.5G quantum.
    let text = text.replacen(
        "b = \"F:LC1:P2\"\navailable = \"1G\"",
        "b = \"F:LC1:P2\"\navailable = \"0.4G\"",
        1,
    );
    let net = Network::from_toml("draft.toml", &text).unwrap();
    let metrics = power::compute(&net);
    let l13 = metrics.links.iter().find(|l| l.name == "L13").unwrap();
    assert!(!l13.in_power_topology);
    assert_eq!(
        l13.excluded,
        Some("no available bandwidth after quantization")
    );
    assert_eq!(l13.pwrlink, None);
    let c = net.router_index("C").unwrap();
    let regular = trees::compute(&net, &metrics, TreeKind::Regular, c);
    let power_tree = trees::compute(&net, &metrics, TreeKind::Power, c);
    let l13_index = net.links.iter().position(|l| l.name == "L13").unwrap();
    assert!(
        regular.dag_links.contains(&l13_index),
        "C reaches F over L13 on IGP cost"
    );
    assert!(!power_tree.dag_links.contains(&l13_index));
}

/// Draft §2.4.4: a router without the power extension (`power_te = false`) advertises no
/// value; with membership "both" every link it ends leaves the power topology, with
/// "one-sided" such a link takes the other end's value.
#[test]
fn a_router_without_the_extension_takes_its_links_out_of_the_power_topology() {
    let mut net = draft_area();
    let e = net.router_index("E").unwrap();
    net.routers[e].power_te = false;
    let touches_e = |l: &mplamps_te::Link| l.a.router == e || l.b.router == e;
    let metrics = power::compute(&net);
    let mut e_links = 0;
    for (link, m) in net.links.iter().zip(&metrics.links) {
        if touches_e(link) {
            e_links += 1;
            assert!(!m.in_power_topology, "{}", m.name);
            let (mine, other) = if link.a.router == e {
                (m.value_a, m.value_b)
            } else {
                (m.value_b, m.value_a)
            };
            assert_eq!(mine, None, "{}", m.name);
            assert!(
                other.is_some(),
                "{}: the other end still advertises",
                m.name
            );
        } else {
            assert!(m.in_power_topology, "{}", m.name);
        }
    }
    assert!(e_links > 0);
    net.power_membership = mplamps_te::topology::PowerMembership::OneSided;
    let metrics = power::compute(&net);
    for (link, m) in net.links.iter().zip(&metrics.links) {
        if touches_e(link) {
            assert!(
                m.in_power_topology,
                "{}: one-sided takes the other end",
                m.name
            );
        }
    }
    let again =
        Network::from_toml("again.toml", &mplamps_te::topology::to_toml(&net, &[])).unwrap();
    assert!(!again.routers[e].power_te, "power_te = false round-trips");
}

/// Plain Dijkstra on (a, b, cost) triples, the checker's way.
fn dijkstra(n: usize, links: &[(usize, usize, f64)], root: usize) -> Vec<f64> {
    let mut dist = vec![f64::INFINITY; n];
    let mut done = vec![false; n];
    dist[root] = 0.0;
    while let Some(v) = (0..n)
        .filter(|&v| !done[v] && dist[v].is_finite())
        .min_by(|&a, &b| dist[a].total_cmp(&dist[b]))
    {
        done[v] = true;
        for &(a, b, c) in links {
            if a == v && dist[v] + c < dist[b] {
                dist[b] = dist[v] + c;
            }
            if b == v && dist[v] + c < dist[a] {
                dist[a] = dist[v] + c;
            }
        }
    }
    dist
}

#[test]
fn both_trees_match_dijkstra_from_every_root() {
    let net = draft_area();
    let metrics = power::compute(&net);
    for kind in [TreeKind::Regular, TreeKind::Power] {
        let links: Vec<(usize, usize, f64)> = net
            .links
            .iter()
            .zip(&metrics.links)
            .filter(|(_, m)| kind == TreeKind::Regular || m.in_power_topology)
            .map(|(l, m)| {
                let cost = if kind == TreeKind::Regular {
                    f64::from(l.metric)
                } else {
                    m.pwrlink.unwrap()
                };
                (l.a.router, l.b.router, cost)
            })
            .collect();
        for root in 0..net.routers.len() {
            let tree = trees::compute(&net, &metrics, kind, root);
            let dist = dijkstra(net.routers.len(), &links, root);
            assert!(
                tree.nodes.iter().all(|n| n.name != net.routers[root].name),
                "root is not listed"
            );
            for node in &tree.nodes {
                let v = net.router_index(&node.name).unwrap();
                assert!(
                    close(node.distance, dist[v]),
                    "{kind:?} from {root}: {} {} vs {}",
                    node.name,
                    node.distance,
                    dist[v]
                );
                assert!(!node.parents.is_empty() && !node.next_hops.is_empty());
                let share: f64 = node.first_hops.iter().map(|h| h.weight).sum();
                assert!(close(share, 1.0));
            }
        }
    }
}

/// Draft §2.4: the power tree may diverge from the regular one. On this area, from B, E is
/// reached over L6 on IGP cost but through A and D on power.
#[test]
fn power_tree_diverges_from_the_regular_tree() {
    let net = draft_area();
    let metrics = power::compute(&net);
    let b = net.router_index("B").unwrap();
    let regular = trees::compute(&net, &metrics, TreeKind::Regular, b);
    let power_tree = trees::compute(&net, &metrics, TreeKind::Power, b);
    let e = |t: &trees::TreeReport| t.nodes.iter().find(|n| n.name == "E").unwrap().clone();
    assert_eq!(e(&regular).parents, ["B"]);
    assert_eq!(e(&power_tree).parents, ["D"]);
    assert_eq!(e(&power_tree).next_hops, ["A"]);
}

#[test]
fn generated_networks_match_the_formulas_under_every_selection_and_quantum() {
    for seed in 0..12 {
        let mut net = mplamps_te::generate::generate(40, 3.0, seed).unwrap();
        net.selection =
            [Selection::Min, Selection::Consumed, Selection::Available][seed as usize % 3];
        net.bandwidth_quantum =
            mplamps_core::Bandwidth::from_gbps([0.0, 0.5, 2.0][seed as usize % 3]).unwrap();
        net.power_quantum_w = [0.0, 1.0, 0.25][(seed as usize / 3) % 3];
        let metrics = power::compute(&net);
        for (m, (a, b, p)) in metrics.links.iter().zip(independent_values(&net)) {
            for (ours, theirs) in [(m.value_a, a), (m.value_b, b), (m.pwrlink, p)] {
                match (ours, theirs) {
                    (Some(o), Some(t)) => {
                        assert!(close(o, t), "seed {seed} {}: {o} vs {t}", m.name)
                    }
                    (None, None) => assert!(!m.in_power_topology),
                    other => panic!("seed {seed} {}: {other:?}", m.name),
                }
            }
        }
    }
}

#[test]
fn components_find_the_parts_of_a_disconnected_network() {
    assert_eq!(draft_area().components(), vec![(0..6).collect::<Vec<_>>()]);
    let mut model = mplamps_te::generate::DefaultModel::new(1);
    // 0–1–2, 3–4, and 5 alone.
    let net = mplamps_te::generate::assemble(
        None,
        (0..6).map(|i| format!("R{i}")).collect(),
        vec![None; 6],
        &[(0, 1, None), (3, 4, None), (1, 2, None)],
        &mut model,
    );
    assert_eq!(net.components(), vec![vec![0, 1, 2], vec![3, 4], vec![5]]);
}

/// A ratio too large for the TE LSA's 4-octet float (1e45 W, reachable through
/// a scenario's measured power) takes its link out of the power topology instead of
/// giving it an infinite cost.
#[test]
fn a_ratio_beyond_the_wire_float_leaves_the_power_topology() {
    let mut net = draft_area();
    let a = net.router_index("A").unwrap();
    for card in &mut net.routers[a].linecards {
        card.power = LineCardPower::Measured {
            consumed_w: 1e45,
            available_w: 1e45,
        };
    }
    let metrics = power::compute(&net);
    let touching_a: Vec<_> = net
        .links
        .iter()
        .zip(&metrics.links)
        .filter(|(l, _)| l.a.router == a || l.b.router == a)
        .map(|(_, m)| m)
        .collect();
    assert!(!touching_a.is_empty());
    for m in touching_a {
        assert!(!m.in_power_topology, "{}", m.name);
        assert!(m.pwrlink.is_none_or(f64::is_finite));
    }
    assert!(
        metrics
            .links
            .iter()
            .all(|m| m.pwrlink.is_none_or(f64::is_finite))
    );
}
