//! Routing of demands: ECMP and UCMP splits, overload, and agreement with an independent
//! ECMP routing on random networks.

mod common;

use mplamps_energy::routing::{Matrix, Split, route};
use proptest::prelude::*;

const G: f64 = 1e9;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

/// A square R0–R1–R2–R3–R0: R0 to R2 has two equal paths.
fn square(demand_gbps: f64) -> mplamps_te::Network {
    common::network(
        4,
        &[
            (0, 1, 10.0, 10),
            (1, 2, 10.0, 10),
            (2, 3, 10.0, 10),
            (3, 0, 10.0, 10),
        ],
        &[(0, 2, demand_gbps)],
    )
}

#[test]
fn ecmp_splits_equally_at_every_router() {
    let net = square(6.0);
    let costs = vec![1.0; 4];
    let loads = route(
        &net,
        &costs,
        None,
        &Matrix::new(&net, 1.0),
        Split::Ecmp,
        &[],
        None,
    );
    // L0 R0→R1 and L3 (R3–R0, a = R3) carries R0→R3 as b → a.
    assert!(close(loads.ab[0], 3.0 * G) && close(loads.ab[1], 3.0 * G));
    assert!(close(loads.ba[3], 3.0 * G) && close(loads.ba[2], 3.0 * G));
    assert_eq!((loads.carried_bps, loads.dropped_bps), (6.0 * G, 0.0));
    assert!(close(loads.rate_hops / loads.routed_bps, 2.0));
}

#[test]
fn ucmp_splits_by_weight_and_parallel_links_count_apart() {
    let net = square(6.0);
    let costs = vec![1.0; 4];
    let weights = vec![2.0, 1.0, 1.0, 1.0];
    let loads = route(
        &net,
        &costs,
        None,
        &Matrix::new(&net, 1.0),
        Split::Ucmp,
        &weights,
        None,
    );
    assert!(close(loads.ab[0], 4.0 * G), "{:?}", loads.ab);
    assert!(close(loads.ba[3], 2.0 * G));

    // Two parallel links between R0 and R1: ECMP gives each half.
    let net = common::network(2, &[(0, 1, 10.0, 10), (0, 1, 10.0, 10)], &[(0, 1, 8.0)]);
    let loads = route(
        &net,
        &[1.0, 1.0],
        None,
        &Matrix::new(&net, 1.0),
        Split::Ecmp,
        &[],
        None,
    );
    assert!(close(loads.ab[0], 4.0 * G) && close(loads.ab[1], 4.0 * G));
}

#[test]
fn overload_drops_the_excess_and_conserves_traffic() {
    // R0 → R2 over R1; the second link is a 2G bottleneck.
    let net = common::network(
        3,
        &[(0, 1, 10.0, 10), (1, 2, 2.0, 10)],
        &[(0, 2, 5.0), (1, 2, 1.0)],
    );
    let loads = route(
        &net,
        &[1.0, 1.0],
        None,
        &Matrix::new(&net, 1.0),
        Split::Ecmp,
        &[],
        None,
    );
    assert!(close(loads.carried_bps, 2.0 * G), "{}", loads.carried_bps);
    assert!(close(loads.carried_bps + loads.dropped_bps, 6.0 * G));
    assert!(
        close(loads.ab[1], 6.0 * G),
        "offered to the bottleneck: {}",
        loads.ab[1]
    );

    // No path at all: the demand is dropped, or rides the fallback costs.
    let costs = [1.0, f64::INFINITY];
    let lost = route(
        &net,
        &costs,
        None,
        &Matrix::new(&net, 0.1),
        Split::Ecmp,
        &[],
        None,
    );
    assert!(close(lost.dropped_bps, 0.6 * G) && lost.carried_bps == 0.0);
    let saved = route(
        &net,
        &costs,
        Some(&[1.0, 1.0]),
        &Matrix::new(&net, 0.1),
        Split::Ecmp,
        &[],
        None,
    );
    assert!(close(saved.carried_bps, 0.6 * G) && saved.dropped_bps == 0.0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// On random connected networks with random integer costs (many ties) and demands far
    /// below capacity, every link direction's load equals the independent routing's.
    #[test]
    fn ecmp_loads_equal_an_independent_routing(
        n in 3usize..9,
        extra in proptest::collection::vec((0usize..9, 0usize..9, 1u32..4), 0..12),
        tree_costs in proptest::collection::vec(1u32..4, 8),
        demands in proptest::collection::vec((0usize..9, 0usize..9, 1u32..20), 1..20),
    ) {
        let mut links: Vec<(usize, usize, f64, u32)> =
            (1..n).map(|i| (i - 1, i, 1000.0, tree_costs[i - 1])).collect();
        links.extend(extra.iter().filter(|(a, b, _)| a % n != b % n).map(|&(a, b, c)| (a % n, b % n, 1000.0, c)));
        let mut pairs = std::collections::BTreeMap::new();
        for (s, t, g) in demands {
            if s % n != t % n {
                pairs.insert((s % n, t % n), f64::from(g));
            }
        }
        prop_assume!(!pairs.is_empty());
        let demands: Vec<(usize, usize, f64)> = pairs.into_iter().map(|((s, t), g)| (s, t, g)).collect();
        let net = common::network(n, &links, &demands);
        let costs: Vec<f64> = net.links.iter().map(|l| f64::from(l.metric)).collect();
        let loads = route(&net, &costs, None, &Matrix::new(&net, 1.0), Split::Ecmp, &[], None);
        let (ab, ba) = common::ecmp_reference(&net, &costs);
        for i in 0..net.links.len() {
            prop_assert!(close(loads.ab[i], ab[i]), "link {} a→b: {} vs {}", i, loads.ab[i], ab[i]);
            prop_assert!(close(loads.ba[i], ba[i]), "link {} b→a: {} vs {}", i, loads.ba[i], ba[i]);
        }
        prop_assert_eq!(loads.dropped_bps, 0.0);
    }
}
