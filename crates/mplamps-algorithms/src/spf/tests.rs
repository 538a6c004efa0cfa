use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

/// A plain O(n²) Dijkstra over an edge list: the reference the engine is checked against.
fn reference_dist(n: usize, links: &[(u32, u32, f64)], root: u32) -> Vec<f64> {
    let mut dist = vec![f64::INFINITY; n];
    let mut done = vec![false; n];
    dist[root as usize] = 0.0;
    for _ in 0..n {
        let Some(v) = (0..n)
            .filter(|&v| !done[v] && dist[v].is_finite())
            .min_by(|&a, &b| dist[a].total_cmp(&dist[b]))
        else {
            break;
        };
        done[v] = true;
        for &(a, b, c) in links {
            if !(c.is_finite() && c >= 0.0) {
                continue;
            }
            for (p, q) in [(a as usize, b as usize), (b as usize, a as usize)] {
                if p == v && dist[v] + c < dist[q] {
                    dist[q] = dist[v] + c;
                }
            }
        }
    }
    dist
}

/// First-hop links by the definition: link e = (root, x) is a first hop of v when
/// cost(e) + distance(x → v) ties distance(root → v).
fn reference_first_hops(n: usize, links: &[(u32, u32, f64)], root: u32) -> Vec<BTreeSet<u32>> {
    let dist = reference_dist(n, links, root);
    let mut hops = vec![BTreeSet::new(); n];
    for (id, &(a, b, c)) in links.iter().enumerate() {
        if !(c.is_finite() && c >= 0.0) {
            continue;
        }
        for (r, x) in [(a, b), (b, a)] {
            if r != root || x == root {
                continue;
            }
            let from_x = reference_dist(n, links, x);
            for v in 0..n {
                if v != root as usize && dist[v].is_finite() && within_tie(c + from_x[v], dist[v]) {
                    hops[v].insert(id as u32);
                }
            }
        }
    }
    hops
}

fn close(a: f64, b: f64) -> bool {
    (a.is_infinite() && b.is_infinite()) || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn assert_matches_reference(n: usize, links: &[(u32, u32, f64)], spt: &Spt) {
    let dist = reference_dist(n, links, spt.root);
    let hops = reference_first_hops(n, links, spt.root);
    for v in 0..n {
        assert!(
            close(spt.dist(v as u32), dist[v]),
            "node {v}: {} vs {}",
            spt.dist(v as u32),
            dist[v]
        );
        let ours: BTreeSet<u32> = spt.first_hop_links(v as u32).iter().copied().collect();
        assert_eq!(ours, hops[v], "first hops of node {v}");
    }
}

fn assert_same_tree(a: &Spt, b: &Spt, graph: &Graph) {
    for v in 0..a.node_count() {
        assert!(
            close(a.dist(v as u32), b.dist(v as u32)),
            "node {v}: {} vs {}",
            a.dist(v as u32),
            b.dist(v as u32)
        );
        assert_eq!(
            a.first_hop_links(v as u32),
            b.first_hop_links(v as u32),
            "first hops of {v}"
        );
        let (mut pa, mut pb) = (a.parents(graph, v as u32), b.parents(graph, v as u32));
        pa.sort_unstable();
        pb.sort_unstable();
        assert_eq!(pa, pb, "parents of {v}");
    }
}

#[test]
fn diamond_keeps_both_equal_cost_branches() {
    //   0 --1-- 1 --1-- 3
    //   0 --1-- 2 --1-- 3 --1-- 4
    let links = [
        (0, 1, 1.0),
        (0, 2, 1.0),
        (1, 3, 1.0),
        (2, 3, 1.0),
        (3, 4, 1.0),
    ];
    let graph = Graph::new(5, &links);
    let spt = Spt::compute(&graph, 0);
    assert_eq!(
        spt.distances().collect::<Vec<_>>(),
        vec![0.0, 1.0, 1.0, 2.0, 3.0]
    );
    assert_eq!(spt.parents(&graph, 3), vec![1, 2]);
    assert_eq!(spt.parents(&graph, 4), vec![3]);
    assert_eq!(spt.first_hop_links(4), &[0, 1]);
    assert_eq!(spt.first_hop_links(1), &[0]);
    assert!(spt.parents(&graph, 0).is_empty());
}

#[test]
fn parallel_links_to_a_neighbour_are_separate_first_hops() {
    let links = [(0, 1, 2.0), (0, 1, 2.0), (0, 1, 3.0), (1, 2, 1.0)];
    let graph = Graph::new(3, &links);
    let spt = Spt::compute(&graph, 0);
    assert_eq!(spt.first_hop_links(2), &[0, 1]);
    assert_eq!(spt.parents(&graph, 2), vec![1]);
}

#[test]
fn float_sums_that_tie_on_paper_tie() {
    // 0.1 + 0.2 != 0.3 in binary floating point; the tie tolerance keeps both paths.
    let links = [(0, 1, 0.1), (1, 3, 0.2), (0, 2, 0.3), (2, 3, 1e-12)];
    let graph = Graph::new(4, &links);
    let spt = Spt::compute(&graph, 0);
    assert_eq!(spt.parents(&graph, 3).len(), 2);
}

#[test]
fn unusable_links_and_unreachable_nodes() {
    let links = [(0, 1, 1.0), (1, 2, f64::INFINITY), (2, 3, 1.0)];
    let graph = Graph::new(4, &links);
    let spt = Spt::compute(&graph, 0);
    assert!(spt.is_reachable(1));
    assert!(!spt.is_reachable(2) && !spt.is_reachable(3));
    assert!(spt.first_hop_links(3).is_empty());
}

#[test]
fn zero_cost_links_keep_the_dag_acyclic() {
    let links = [(0, 1, 1.0), (1, 2, 0.0), (2, 1, 0.0), (0, 2, 1.0)];
    let graph = Graph::new(3, &links);
    let spt = Spt::compute(&graph, 0);
    let p1 = spt.parents(&graph, 1);
    let p2 = spt.parents(&graph, 2);
    assert!(!(p1.contains(&2) && p2.contains(&1)), "{p1:?} {p2:?}");
    assert!(!p1.is_empty() && !p2.is_empty());
    assert_eq!(
        spt.distances().collect::<Vec<_>>(),
        reference_dist(3, &links, 0)
    );
}

#[test]
fn incremental_down_and_up_restores_the_tree() {
    let links = vec![
        (0, 1, 1.0),
        (0, 2, 1.0),
        (1, 3, 1.0),
        (2, 3, 1.0),
        (3, 4, 1.0),
    ];
    let mut graph = Graph::new(5, &links);
    let mut spt = Spt::compute(&graph, 0);
    let before = spt.clone();
    let update = spt.update_link_cost(&mut graph, 2, f64::INFINITY);
    assert!(!update.full);
    assert_eq!(spt.first_hop_links(4), &[1]);
    spt.update_link_cost(&mut graph, 2, 1.0);
    assert_same_tree(&spt, &before, &graph);
}

fn arb_graph(max_nodes: usize) -> impl Strategy<Value = (usize, Vec<(u32, u32, f64)>)> {
    (2..max_nodes).prop_flat_map(|n| {
        let link = (
            0..n as u32,
            0..n as u32,
            prop_oneof![(1u32..6).prop_map(f64::from), 0.01f64..10.0,],
        )
            .prop_filter("no self loops", |(a, b, _)| a != b);
        (Just(n), prop::collection::vec(link, 1..(3 * n)))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn full_spf_matches_reference((n, links) in arb_graph(14), root in 0u32..14) {
        let root = root % n as u32;
        let graph = Graph::new(n, &links);
        let spt = Spt::compute(&graph, root);
        assert_matches_reference(n, &links, &spt);
    }

    #[test]
    fn incremental_matches_full(
        (n, links) in arb_graph(24),
        root in 0u32..24,
        changes in prop::collection::vec((0usize..1000, prop_oneof![
            (1u32..6).prop_map(f64::from),
            0.01f64..10.0,
            Just(f64::INFINITY),
        ]), 1..12),
    ) {
        let root = root % n as u32;
        let mut graph = Graph::new(n, &links);
        let mut spt = Spt::compute(&graph, root);
        for (pick, cost) in changes {
            let link = (pick % links.len()) as u32;
            spt.update_link_cost(&mut graph, link, cost);
            let full = Spt::compute(&graph, root);
            assert_same_tree(&spt, &full, &graph);
        }
    }
}
