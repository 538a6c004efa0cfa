#![allow(clippy::unwrap_used, clippy::expect_used)]

use mplamps_core::gmpls::{LabelSet, LspEncoding, ProtectionFlags, SwitchingType};
use proptest::prelude::*;

use super::*;

struct Spec<'a> {
    a: usize,
    b: usize,
    metric: u32,
    labels: Option<&'a str>,
}

fn spec(a: usize, b: usize, metric: u32, labels: Option<&str>) -> Spec<'_> {
    Spec {
        a,
        b,
        metric,
        labels,
    }
}

/// Nodes A, B, C, ... and links L0, L1, ... of 10 Gb/s; labelled links are LSC.
fn graph(nodes: usize, converters: &[usize], links: &[Spec]) -> TeGraph {
    let nodes = (0..nodes)
        .map(|i| TeNode {
            name: char::from(b'A' + i as u8).to_string(),
            label_conversion: converters.contains(&i),
        })
        .collect();
    let mut out = Vec::new();
    for (i, s) in links.iter().enumerate() {
        for (from, to) in [(s.a, s.b), (s.b, s.a)] {
            let labels = s.labels.map(|t| t.parse::<LabelSet>().unwrap());
            let switching = if labels.is_some() {
                SwitchingType::Lsc
            } else {
                SwitchingType::Psc
            };
            out.push(TeLink {
                from,
                to,
                link: i,
                name: format!("L{i}"),
                up: true,
                unreserved_bps: [10e9; PRIORITIES],
                te_metric: s.metric,
                power_cost: f64::from(s.metric),
                switching,
                encoding: switching.default_encoding(),
                labels,
                protection: ProtectionFlags(0x02),
                srlg: vec![],
            });
        }
    }
    TeGraph::new(nodes, out)
}

fn request(from: usize, to: usize) -> PathRequest {
    PathRequest {
        from,
        to,
        ..PathRequest::default()
    }
}

fn names(g: &TeGraph, p: &ComputedPath) -> String {
    p.nodes.iter().map(|&n| g.nodes[n].name.as_str()).collect()
}

/// A square A-B-D, A-C-D with a cheap, thin top and a costly, fat bottom.
fn square() -> TeGraph {
    let mut g = graph(
        4,
        &[],
        &[
            spec(0, 1, 1, None),
            spec(1, 3, 1, None),
            spec(0, 2, 5, None),
            spec(2, 3, 5, None),
        ],
    );
    for id in [0, 1, 2, 3] {
        g.links[id].unreserved_bps = [1e9; PRIORITIES];
    }
    g
}

#[test]
fn bandwidth_moves_the_path_and_an_impossible_demand_names_the_link() {
    let g = square();
    let mut req = request(0, 3);
    req.bandwidth_bps = 0.5e9;
    assert_eq!(names(&g, &compute(&g, &req).unwrap()), "ABD");
    req.bandwidth_bps = 2e9;
    let p = compute(&g, &req).unwrap();
    assert_eq!(names(&g, &p), "ACD");
    assert_eq!(p.cost, 10.0);
    req.bandwidth_bps = 20e9;
    let err = compute(&g, &req).unwrap_err();
    assert_eq!(err.constraint, Constraint::Bandwidth);
    assert_eq!(err.at.as_deref(), Some("L0"));
    assert!(
        err.reason.contains("1.000 Gb/s unreserved at priority 0"),
        "{}",
        err.reason
    );
}

#[test]
fn reservations_at_a_priority_leave_better_priorities_their_share() {
    let mut g = square();
    g.reserve(0, 4, 0.8e9);
    assert!(
        g.links[0].fits(1e9, 0),
        "priority 0 may preempt a priority-4 holder"
    );
    assert!(!g.links[0].fits(0.5e9, 4));
    g.release(0, 4, 0.8e9);
    assert!(g.links[0].fits(1e9, 7));
}

#[test]
fn objectives_pick_their_own_paths() {
    // A-B-C-D by te-metric 3, A-D direct by te-metric 10 (one hop), power favours A-E-D.
    let mut g = graph(
        5,
        &[],
        &[
            spec(0, 1, 1, None),
            spec(1, 2, 1, None),
            spec(2, 3, 1, None),
            spec(0, 3, 10, None),
            spec(0, 4, 6, None),
            spec(4, 3, 6, None),
        ],
    );
    for l in &mut g.links {
        l.power_cost = if l.link >= 4 { 0.1 } else { 5.0 };
    }
    let mut req = request(0, 3);
    assert_eq!(names(&g, &compute(&g, &req).unwrap()), "ABCD");
    req.objective = Objective::Hops;
    assert_eq!(names(&g, &compute(&g, &req).unwrap()), "AD");
    req.objective = Objective::Power;
    assert_eq!(names(&g, &compute(&g, &req).unwrap()), "AED");
    for l in &mut g.links {
        if l.link == 5 {
            l.power_cost = f64::INFINITY;
        }
    }
    assert_eq!(names(&g, &compute(&g, &req).unwrap()), "AD");
}

#[test]
fn wavelength_continuity_picks_the_first_common_free_label() {
    let g = graph(
        3,
        &[],
        &[spec(0, 1, 1, Some("1..2")), spec(1, 2, 1, Some("2..3"))],
    );
    let p = compute(&g, &request(0, 2)).unwrap();
    assert_eq!(p.labels, [Some(2), Some(2)]);

    let g = graph(
        3,
        &[],
        &[spec(0, 1, 1, Some("1..2")), spec(1, 2, 1, Some("3..4"))],
    );
    let err = compute(&g, &request(0, 2)).unwrap_err();
    assert_eq!(err.constraint, Constraint::LabelContinuity);
    assert_eq!(err.at.as_deref(), Some("L1"));
    assert!(
        err.reason.contains("L0 free 1..2; L1 free 3..4"),
        "{}",
        err.reason
    );

    // A wavelength converter at B splits the run.
    let g = graph(
        3,
        &[1],
        &[spec(0, 1, 1, Some("1..2")), spec(1, 2, 1, Some("3..4"))],
    );
    assert_eq!(
        compute(&g, &request(0, 2)).unwrap().labels,
        [Some(1), Some(3)]
    );
}

#[test]
fn labels_in_use_and_the_ingress_label_set_restrict_the_choice() {
    let mut g = graph(
        3,
        &[],
        &[spec(0, 1, 1, Some("1..40")), spec(1, 2, 1, Some("1..40"))],
    );
    assert!(g.take_label(0, 1));
    assert!(!g.take_label(0, 1), "already taken");
    assert_eq!(
        compute(&g, &request(0, 2)).unwrap().labels,
        [Some(2), Some(2)]
    );
    let mut req = request(0, 2);
    req.label_set = Some("30..35".parse().unwrap());
    assert_eq!(compute(&g, &req).unwrap().labels, [Some(30), Some(30)]);
    g.free_label(0, 1);
    assert_eq!(g.links[0].labels.as_ref().unwrap().to_string(), "1..40");
    // Bidirectional: the reverse direction must have the label free too.
    assert!(g.take_label(3, 1));
    req.label_set = None;
    req.bidirectional = true;
    assert_eq!(compute(&g, &req).unwrap().labels, [Some(2), Some(2)]);
}

#[test]
fn switching_type_encoding_and_protection_are_link_filters() {
    let mut g = graph(3, &[], &[spec(0, 1, 1, Some("1..4")), spec(1, 2, 1, None)]);
    let mut req = request(0, 2);
    req.switching = Some(SwitchingType::Lsc);
    let err = compute(&g, &req).unwrap_err();
    assert_eq!(err.constraint, Constraint::SwitchingType);
    assert_eq!(err.at.as_deref(), Some("L1"));
    assert!(
        err.reason.contains("L1 is psc, the LSP needs lsc"),
        "{}",
        err.reason
    );

    req.switching = None;
    req.encoding = Some(LspEncoding::Lambda);
    assert_eq!(
        compute(&g, &req).unwrap_err().constraint,
        Constraint::Encoding
    );

    req.encoding = None;
    req.link_protection = 0x08; // dedicated 1:1
    let err = compute(&g, &req).unwrap_err();
    assert_eq!(err.constraint, Constraint::Protection);
    assert!(err.reason.contains("[unprotected]"), "{}", err.reason);
    for l in &mut g.links {
        l.protection = ProtectionFlags(0x10 | 0x02);
    }
    assert!(compute(&g, &req).is_ok(), "1+1 is at least 1:1");
}

#[test]
fn explicit_hops_and_pinned_labels_are_followed() {
    let g = graph(
        4,
        &[],
        &[
            spec(0, 1, 1, Some("1..8")),
            spec(1, 3, 1, Some("1..8")),
            spec(0, 2, 5, Some("1..8")),
            spec(2, 3, 5, Some("1..8")),
        ],
    );
    let mut req = request(0, 3);
    req.explicit = vec![ExplicitHop {
        node: 2,
        loose: false,
        label: Some(6),
        upstream_label: None,
    }];
    let p = compute(&g, &req).unwrap();
    assert_eq!(names(&g, &p), "ACD");
    assert_eq!(
        p.labels,
        [Some(6), Some(6)],
        "C pins 6 on C-D, continuity carries it"
    );

    req.explicit = vec![
        ExplicitHop {
            node: 0,
            loose: false,
            label: Some(3),
            upstream_label: None,
        },
        ExplicitHop {
            node: 1,
            loose: false,
            ..ExplicitHop::default()
        },
        ExplicitHop {
            node: 2,
            loose: false,
            ..ExplicitHop::default()
        },
    ];
    let err = compute(&g, &req).unwrap_err();
    assert_eq!(err.constraint, Constraint::ExplicitRoute);
    assert_eq!(err.at.as_deref(), Some("C"), "{}", err.reason);
    req.explicit[2].node = 3;
    let p = compute(&g, &req).unwrap();
    assert_eq!(names(&g, &p), "ABD");
    assert_eq!(p.labels, [Some(3), Some(3)], "the ingress pins 3 on A-B");
}

#[test]
fn secondaries_avoid_the_primary_links_or_risk_groups() {
    let mut g = square();
    // The top links share a risk group with the bottom's first link.
    for id in [0, 1, 4, 5] {
        g.links[id].srlg = vec![7];
    }
    let req = request(0, 3);
    let primary = compute(&g, &req).unwrap();
    assert_eq!(names(&g, &primary), "ABD");
    let link = compute_secondary(&g, &req, &primary, Disjointness::Link).unwrap();
    assert_eq!(names(&g, &link), "ACD");
    let err = compute_secondary(&g, &req, &primary, Disjointness::Srlg).unwrap_err();
    assert_eq!(err.constraint, Constraint::Disjointness);
}

/// Every simple path, checked against every constraint by hand: the reference CSPF.
fn brute_force(g: &TeGraph, req: &PathRequest) -> Option<f64> {
    fn walk(
        g: &TeGraph,
        req: &PathRequest,
        node: usize,
        seen: &mut Vec<usize>,
        links: &mut Vec<usize>,
        best: &mut Option<f64>,
    ) {
        if node == req.to {
            if feasible(g, req, links) {
                let cost: f64 = links
                    .iter()
                    .map(|&id| f64::from(g.links[id].te_metric))
                    .sum();
                if best.is_none_or(|b| cost < b) {
                    *best = Some(cost);
                }
            }
            return;
        }
        for &id in g.out_links(node) {
            let to = g.links[id].to;
            if seen.contains(&to) {
                continue;
            }
            seen.push(to);
            links.push(id);
            walk(g, req, to, seen, links, best);
            links.pop();
            seen.pop();
        }
    }
    let mut best = None;
    walk(
        g,
        req,
        req.from,
        &mut vec![req.from],
        &mut vec![],
        &mut best,
    );
    best
}

/// Bandwidth on every link, and one label free along every run between converters.
fn feasible(g: &TeGraph, req: &PathRequest, links: &[usize]) -> bool {
    let mut common: Option<LabelSet> = None;
    for (i, &id) in links.iter().enumerate() {
        let l = &g.links[id];
        if !l.fits(req.bandwidth_bps, req.setup_priority) {
            return false;
        }
        if i == 0 || g.nodes[l.from].label_conversion || l.labels.is_none() {
            common = None;
        }
        if let Some(set) = &l.labels {
            let next = common.as_ref().map_or(set.clone(), |c| c.intersection(set));
            if next.is_empty() {
                return false;
            }
            common = Some(next);
        }
    }
    true
}

fn label_set() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        (1u32..6, 0u32..3).prop_map(|(a, n)| Some(format!("{a}..{}", a + n))),
        (1u32..8, 1u32..8).prop_map(|(a, b)| Some(format!("{a}, {b}"))),
    ]
}

proptest! {
    /// On small random networks CSPF finds a path exactly when the reference finds one, never
    /// costlier, and the path it returns meets every constraint.
    #[test]
    fn cspf_agrees_with_exhaustive_search(
        links in proptest::collection::vec((0usize..6, 0usize..6, 1u32..10, label_set(), 0u8..3), 1..12),
        converters in proptest::collection::vec(0usize..6, 0..2),
        bandwidth in 0u8..3,
    ) {
        let specs: Vec<(usize, usize, u32, Option<String>, u8)> =
            links.into_iter().filter(|(a, b, ..)| a != b).collect();
        let spec_refs: Vec<Spec> = specs
            .iter()
            .map(|(a, b, m, l, _)| spec(*a, *b, *m, l.as_deref()))
            .collect();
        let mut g = graph(6, &converters, &spec_refs);
        for (i, (.., thin)) in specs.iter().enumerate() {
            let bw = f64::from(*thin) * 1e9;
            g.links[2 * i].unreserved_bps = [bw; PRIORITIES];
            g.links[2 * i + 1].unreserved_bps = [bw; PRIORITIES];
        }
        let mut req = request(0, 5);
        req.bandwidth_bps = f64::from(bandwidth) * 1e9;
        let reference = brute_force(&g, &req);
        match compute(&g, &req) {
            Ok(path) => {
                prop_assert!(feasible(&g, &req, &path.links));
                prop_assert!(path.is_simple());
                prop_assert_eq!(path.nodes.first(), Some(&0));
                prop_assert_eq!(path.nodes.last(), Some(&5));
                for (id, label) in path.links.iter().zip(&path.labels) {
                    let l = &g.links[*id];
                    match (&l.labels, label) {
                        (Some(set), Some(x)) => prop_assert!(set.contains(*x)),
                        (None, None) => {}
                        _ => prop_assert!(false, "label on the wrong kind of link"),
                    }
                }
                if let Some(best) = reference {
                    prop_assert!(path.cost <= best + 1e-9, "{} > {}", path.cost, best);
                }
            }
            Err(e) => prop_assert!(reference.is_none(), "missed a path: {}", e.reason),
        }
    }
}
