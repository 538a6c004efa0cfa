//! The study's figures against the model they claim to follow.

mod common;

use mplamps_core::Bandwidth;
use mplamps_energy::routing::{Matrix, Split, route};
use mplamps_energy::study::Strategy;
use mplamps_energy::{Options, study};
use mplamps_te::{LineCardPower, Network, PowerProfile, power};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

/// A generated network with a gravity matrix sized to load it.
fn sample(nodes: usize, seed: u64, total_gbps: f64) -> Network {
    let mut net =
        mplamps_te::generate::generate(nodes, 3.0, seed).unwrap_or_else(|e| panic!("{e}"));
    net.demands = mplamps_te::gravity::gravity(
        nodes,
        Bandwidth::from_gbps(total_gbps).unwrap_or_default(),
        seed,
    );
    net
}

/// Network power by hand for linear profiles: chassis + every card's idle + its slope ×
/// its utilization (capped at 1), with no link asleep.
fn power_by_hand(net: &Network, s: &Strategy) -> f64 {
    let mut used = vec![vec![0.0; 1]; net.routers.len()];
    for (link, state) in net.links.iter().zip(&s.links) {
        let busier = state
            .load_ab_bps
            .max(state.load_ba_bps)
            .min(link.capacity.bps());
        used[link.a.router][0] += busier;
        used[link.b.router][0] += busier;
    }
    net.routers
        .iter()
        .enumerate()
        .map(|(r, router)| {
            router.chassis_w
                + router
                    .linecards
                    .iter()
                    .map(|card| match &card.power {
                        LineCardPower::Profile(PowerProfile::Linear { idle_w, max_w }) => {
                            idle_w
                                + (max_w - idle_w) * (used[r][0] / card.capacity().bps()).min(1.0)
                        }
                        other => panic!("the sample has linear profiles only, got {other:?}"),
                    })
                    .sum::<f64>()
        })
        .sum()
}

#[test]
fn regular_tree_loads_power_and_conservation_follow_the_model() {
    let net = sample(24, 5, 400.0);
    let options = Options {
        scales: vec![0.25, 1.0, 4.0],
        sleep: true,
        ..Options::default()
    };
    let result = study(&net, &options, |_, _| {}).unwrap_or_else(|e| panic!("{e}"));
    let costs: Vec<f64> = net.links.iter().map(|l| f64::from(l.metric)).collect();
    for point in &result.scales {
        let mut scaled = net.clone();
        for d in &mut scaled.demands {
            d.rate = Bandwidth::from_bps(d.rate.bps() * point.scale).unwrap_or_default();
        }
        let regular = &point.strategies.regular;
        if regular.dropped_bps == 0.0 {
            let (ab, ba) = common::ecmp_reference(&scaled, &costs);
            for (i, l) in regular.links.iter().enumerate() {
                assert!(
                    close(l.load_ab_bps, ab[i]) && close(l.load_ba_bps, ba[i]),
                    "{} at {}",
                    l.name,
                    point.scale
                );
            }
        }
        let strategies = [
            Some(regular),
            Some(&point.strategies.power),
            point.strategies.power_sleep.as_ref(),
        ];
        for s in strategies.into_iter().flatten() {
            assert!(close(s.carried_bps + s.dropped_bps, point.total_demand_bps));
            if s.links_asleep == 0 {
                assert!(
                    close(s.power_w, power_by_hand(&net, s)),
                    "{} vs {}",
                    s.power_w,
                    power_by_hand(&net, s)
                );
            }
        }
    }
    // At four times the load something overflows: dropped, and still conserved.
    assert!(result.scales[2].strategies.regular.dropped_bps > 0.0);
}

/// A ring of 10G links with 1G chords across it, and a demand between every pair.
fn ring_with_chords(n: usize, gbps_per_pair: f64) -> Network {
    let mut links: Vec<(usize, usize, f64, u32)> =
        (0..n).map(|i| (i, (i + 1) % n, 10.0, 10)).collect();
    links.extend((0..n / 2).step_by(2).map(|i| (i, i + n / 2, 1.0, 100)));
    let demands: Vec<(usize, usize, f64)> = (0..n)
        .flat_map(|s| {
            (0..n)
                .filter(move |&t| t != s)
                .map(move |t| (s, t, gbps_per_pair))
        })
        .collect();
    common::network(n, &links, &demands)
}

#[test]
fn a_settled_power_tree_is_a_fixed_point_of_its_own_metric() {
    let mut net = ring_with_chords(8, 0.05);
    net.bandwidth_quantum = Bandwidth::from_gbps(1.0).unwrap_or_default();
    let options = Options {
        scales: (1..=10).map(|k| f64::from(k) / 2.0).collect(),
        ..Options::default()
    };
    let result = study(&net, &options, |_, _| {}).unwrap_or_else(|e| panic!("{e}"));
    let mut settled = 0;
    for point in &result.scales {
        let p = &point.strategies.power;
        assert!(
            p.settled || p.oscillation_period.is_some() || p.iterations == options.max_iterations
        );
        if !p.settled {
            continue;
        }
        settled += 1;
        // What routers advertise for the final loads, and where traffic goes on it.
        let mut work = net.clone();
        for (link, state) in work.links.iter_mut().zip(&p.links) {
            let used = state
                .load_ab_bps
                .max(state.load_ba_bps)
                .min(link.capacity.bps());
            link.available = Bandwidth::from_bps((link.capacity.bps() - used).max(0.0).floor())
                .unwrap_or_default();
        }
        let metrics = power::compute(&work);
        let costs: Vec<f64> = metrics
            .links
            .iter()
            .map(|m| {
                m.pwrlink
                    .filter(|_| m.in_power_topology)
                    .unwrap_or(f64::INFINITY)
            })
            .collect();
        let igp: Vec<f64> = net.links.iter().map(|l| f64::from(l.metric)).collect();
        let again = route(
            &net,
            &costs,
            Some(&igp),
            &Matrix::new(&net, point.scale),
            Split::Ecmp,
            &[],
            None,
        );
        for (i, l) in p.links.iter().enumerate() {
            assert!(
                close(again.ab[i], l.load_ab_bps) && close(again.ba[i], l.load_ba_bps),
                "{} at {}",
                l.name,
                point.scale
            );
        }
    }
    assert!(settled > 0, "no scale settled: the test checks nothing");
}

#[test]
fn sleeping_keeps_the_network_connected_under_the_limit() {
    let net = ring_with_chords(10, 0.02);
    let options = Options {
        scales: vec![0.5, 1.0, 2.0],
        sleep: true,
        ..Options::default()
    };
    let result = study(&net, &options, |_, _| {}).unwrap_or_else(|e| panic!("{e}"));
    let mut slept = 0;
    for point in &result.scales {
        let Some(s) = &point.strategies.power_sleep else {
            panic!("--sleep gives power_sleep")
        };
        slept += s.links_asleep;
        assert!(s.max_utilization <= options.utilization_limit + 1e-9);
        assert!(s.dropped_bps <= point.strategies.power.dropped_bps + 1.0);
        let awake: Vec<(usize, usize)> = net
            .links
            .iter()
            .zip(&s.links)
            .filter(|(_, st)| !st.asleep)
            .map(|(l, _)| (l.a.router, l.b.router))
            .collect();
        assert!(connected(net.routers.len(), &awake));
        for st in s.links.iter().filter(|st| st.asleep) {
            assert_eq!((st.load_ab_bps, st.load_ba_bps), (0.0, 0.0));
        }
        assert!(s.power_w <= point.strategies.power.power_w + 1e-6);
    }
    assert!(slept > 0, "nothing slept: the test checks nothing");
}

fn connected(n: usize, links: &[(usize, usize)]) -> bool {
    let mut seen = vec![false; n];
    let mut stack = vec![0];
    seen[0] = true;
    while let Some(v) = stack.pop() {
        for &(a, b) in links {
            for (x, y) in [(a, b), (b, a)] {
                if x == v && !seen[y] {
                    seen[y] = true;
                    stack.push(y);
                }
            }
        }
    }
    seen.iter().all(|&s| s)
}

#[test]
fn the_json_has_the_contract_fields() {
    let net = sample(8, 2, 20.0);
    let options = Options {
        scales: vec![1.0],
        sleep: true,
        ..Options::default()
    };
    let result = study(&net, &options, |_, _| {}).unwrap_or_else(|e| panic!("{e}"));
    let json = serde_json::to_value(&result).unwrap_or_default();
    assert!(json["network"].is_string());
    let point = &json["scales"][0];
    assert!(point["scale"].is_number() && point["total_demand_bps"].is_number());
    for name in ["regular", "power", "power_sleep"] {
        let s = &point["strategies"][name];
        for field in [
            "power_w",
            "saving_pct",
            "links_asleep",
            "max_utilization",
            "dropped_bps",
            "iterations",
        ] {
            assert!(s[field].is_number(), "{name}.{field}");
        }
        assert!(s["settled"].is_boolean());
        let link = &s["links"][0];
        assert!(
            link["name"].is_string()
                && link["load_ab_bps"].is_number()
                && link["load_ba_bps"].is_number()
                && link["asleep"].is_boolean()
        );
    }
}

#[test]
fn bad_settings_are_refused() {
    let mut net = sample(5, 1, 1.0);
    let refused = |net: &Network, options: Options| study(net, &options, |_, _| {}).is_err();
    assert!(refused(
        &net,
        Options {
            scales: vec![0.0],
            ..Options::default()
        }
    ));
    assert!(refused(
        &net,
        Options {
            utilization_limit: 1.5,
            ..Options::default()
        }
    ));
    assert!(refused(
        &net,
        Options {
            fit: Some(f64::NAN),
            ..Options::default()
        }
    ));
    net.demands.clear();
    assert!(refused(&net, Options::default()));
}

fn with_optimum(relaxation_only: bool) -> Options {
    Options {
        scales: vec![0.5, 1.0, 2.0],
        sleep: true,
        optimum: Some(mplamps_energy::OptimumOptions {
            relaxation_only,
            time_limit: std::time::Duration::from_secs(20),
            mip_gap: 0.0,
        }),
        ..Options::default()
    }
}

#[test]
fn the_optimum_is_never_worse_than_a_strategy_and_its_bound_holds() {
    let net = ring_with_chords(8, 0.05);
    let mip = study(&net, &with_optimum(false), |_, _| {}).unwrap_or_else(|e| panic!("{e}"));
    let lp = study(&net, &with_optimum(true), |_, _| {}).unwrap_or_else(|e| panic!("{e}"));
    for (point, relaxed) in mip.scales.iter().zip(&lp.scales) {
        let s = &point.strategies;
        let Some(o) = &s.optimum else {
            panic!("--optimum gives optimum")
        };
        let solver = o
            .solver
            .as_ref()
            .unwrap_or_else(|| panic!("the optimum has solver figures"));
        assert_eq!(
            solver.status,
            mplamps_energy::optimum::OptimumStatus::Optimal
        );
        assert!(o.settled && !solver.bound_only);
        for other in [Some(&s.regular), Some(&s.power), s.power_sleep.as_ref()]
            .into_iter()
            .flatten()
        {
            if other.dropped_bps == 0.0 {
                assert!(
                    o.power_w <= other.power_w + 1e-6,
                    "{} > {}",
                    o.power_w,
                    other.power_w
                );
            }
        }
        assert!(o.max_utilization <= 1.0 + 1e-6 && o.dropped_bps < 1.0);
        assert!(close(o.carried_bps + o.dropped_bps, point.total_demand_bps));
        // The relaxation bounds the optimum from below and carries no routing.
        let Some(r) = &relaxed.strategies.optimum else {
            panic!("--optimum lp gives optimum")
        };
        assert!(r.solver.as_ref().is_some_and(|f| f.bound_only) && r.links.is_empty());
        assert!(
            r.power_w <= o.power_w + 1e-6,
            "bound {} above the optimum {}",
            r.power_w,
            o.power_w
        );
        assert!(solver.bound_w <= o.power_w + 1e-6);
    }
    // Eight 1G chords that the optimum can switch off at low load.
    assert!(
        mip.scales[0]
            .strategies
            .optimum
            .as_ref()
            .is_some_and(|o| o.links_asleep > 0)
    );
}
