//! Whole-network scenarios (issue 3): convergence, identical LSDBs, trees from each
//! router's LSDB equal to the trees from the file, failures, restarts and dampening.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure is the test failing

use std::time::Duration;

use mplamps_sim::scenario::{Action, ScenarioEvent};
use mplamps_sim::{LinkModel, Sim};
use mplamps_te::Network;
use mplamps_te::trees::{self, TreeKind};

fn draft_area() -> Network {
    let text = include_str!("../../../examples/draft-area.toml");
    Network::from_toml("draft-area.toml", text).unwrap()
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn at(s: f64, action: Action) -> ScenarioEvent {
    ScenarioEvent {
        at: secs(s),
        action,
    }
}

fn started(net: Network, events: Vec<ScenarioEvent>) -> Sim {
    let mut sim = Sim::new(net, 7, LinkModel::default());
    sim.add_scenario(events);
    sim.start();
    sim
}

/// Every router's trees, computed from its own LSDB, equal the trees `mplamps spf`
/// computes from `net` (minus the links that are down).
fn assert_trees_match_file(sim: &Sim, net: &Network) {
    let metrics = mplamps_te::power::compute(net);
    for (r, router) in net.routers.iter().enumerate() {
        let Some(from_lsdb) = sim.trees_of(r) else {
            continue;
        };
        for (kind, ours) in [
            (TreeKind::Power, &from_lsdb.power),
            (TreeKind::Regular, &from_lsdb.regular),
        ] {
            let file = trees::compute(net, &metrics, kind, r);
            assert_eq!(&file.nodes, ours, "{} tree of {}", kind.name(), router.name);
        }
    }
}

fn digests(sim: &Sim) -> Vec<u64> {
    (0..sim.net.routers.len())
        .filter_map(|r| sim.instance(r).map(|i| i.lsdb().digest()))
        .collect()
}

#[test]
fn draft_area_converges_with_identical_lsdbs_and_the_files_trees() {
    let net = draft_area();
    let mut sim = started(net.clone(), vec![]);
    assert!(sim.run(secs(600.0), true).unwrap());
    let d = digests(&sim);
    assert_eq!(d.len(), 6);
    assert!(d.iter().all(|x| *x == d[0]));
    assert_trees_match_file(&sim, &net);
}

#[test]
fn a_generated_100_router_network_converges_to_the_files_trees() {
    let net = mplamps_te::generate::generate(100, 4.0, 3).unwrap();
    let mut sim = started(net.clone(), vec![]);
    assert!(sim.run(secs(600.0), true).unwrap());
    let d = digests(&sim);
    assert!(d.iter().all(|x| *x == d[0]));
    assert_trees_match_file(&sim, &net);
    assert_flooding_counted(&sim);
    assert_databases_hold_the_expected_lsas(&sim);
}

/// The size hint each router's database was given is what the area came to hold.
fn assert_databases_hold_the_expected_lsas(sim: &Sim) {
    for r in 0..sim.net.routers.len() {
        let instance = sim.instance(r).unwrap();
        assert_eq!(instance.lsdb().len(), instance.config().expected_lsas);
    }
}

/// Every LSA a router installed and did not originate arrived in an LS Update, and the
/// mesh delivered copies of instances routers already held (flooding goes over every link).
fn assert_flooding_counted(sim: &Sim) {
    let mut duplicates = 0;
    for r in 0..sim.net.routers.len() {
        let c = sim.instance(r).unwrap().counters();
        let new_copies = c.lsas_received - c.lsas_duplicate;
        assert!(c.lsas_installed - c.lsas_originated <= new_copies, "{c:?}");
        duplicates += c.lsas_duplicate;
    }
    assert!(duplicates > 0);
}

/// Links declared multi-access run as broadcast networks: DR/BDR election, a Network-LSA
/// from the DR (RFC 2328 §9.4, §12.4.2), and the same trees as point-to-point links.
#[test]
fn multi_access_links_elect_a_dr_and_give_the_same_trees() {
    let mut net = draft_area();
    for name in ["L4", "L6", "L12"] {
        let link = net.links.iter_mut().find(|l| l.name == name).unwrap();
        link.multi_access = true;
    }
    let mut sim = started(net.clone(), vec![]);
    assert!(sim.run(secs(600.0), true).unwrap());
    let d = digests(&sim);
    assert!(d.iter().all(|x| *x == d[0]));
    let lsdb = sim.instance(0).unwrap().lsdb();
    let networks = lsdb
        .iter()
        .filter(|(k, _)| k.ls_type == mplamps_ospf::packet::LsType::Network)
        .count();
    assert_eq!(networks, 3, "one Network-LSA per multi-access link");
    assert_trees_match_file(&sim, &net);
    assert_databases_hold_the_expected_lsas(&sim);
}

/// Runs until converged (or 600 s) and gives the JSON report, its wall time zeroed so that
/// two runs compare equal.
fn run_to_report(sim: &mut Sim) -> serde_json::Value {
    let converged = sim.run(secs(600.0), true).unwrap();
    let mut report = serde_json::to_value(sim.report(converged, 0.0)).unwrap();
    report["wall_time_s"] = 0.into();
    report
}

#[test]
fn same_seed_same_run() {
    let run = || {
        let mut sim = started(draft_area(), vec![]);
        sim.model.loss = 0.05;
        sim.model.jitter = Duration::from_millis(3);
        run_to_report(&mut sim)
    };
    let first = run();
    assert_eq!(first["converged"], true, "5% loss still converges");
    assert_eq!(first, run());
}

/// A run's observer sees virtual time and events only go forward, at the start and every
/// few thousand events, and watching does not change the run.
#[test]
fn an_observed_run_reports_its_progress_and_is_the_same_run() {
    let net = || mplamps_te::generate::generate(100, 4.0, 3).unwrap();
    let mut seen: Vec<mplamps_sim::Progress> = Vec::new();
    let mut observed = started(net(), vec![]);
    let converged = observed
        .run_observed(secs(600.0), true, |p| seen.push(p))
        .unwrap();
    let mut report = serde_json::to_value(observed.report(converged, 0.0)).unwrap();
    report["wall_time_s"] = 0.into();
    assert_eq!(report, run_to_report(&mut started(net(), vec![])));

    let events = observed.stats.events;
    assert_eq!(seen.first().map(|p| p.events), Some(0));
    assert!(seen.len() as u64 >= events / (2 * mplamps_sim::OBSERVE_EVERY));
    assert!(seen.iter().all(|p| p.deadline == secs(600.0)));
    for pair in seen.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        assert!(a.now <= b.now && a.events + mplamps_sim::OBSERVE_EVERY <= b.events);
    }
    assert!(seen.last().unwrap().events <= events);
}

/// The routers of a window run on a thread pool; how many threads, and which finishes
/// first, must not show in the run (reports equal event for event, TE database cache counts
/// included), for OSPF alone, with LDP beside it, and with RSVP-TE LSPs signaled, failed
/// over and retried.
#[test]
fn threads_do_not_change_the_run() {
    let on_threads = |threads: usize, run: &(dyn Fn() -> serde_json::Value + Sync)| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(run)
    };
    for ldp in [false, true] {
        let run = || {
            let mut net = mplamps_te::generate::generate(80, 4.0, 3).unwrap();
            net.ldp.enabled = ldp;
            let mut sim = started(net, vec![at(8.0, Action::LinkDown("L7".into()))]);
            sim.model.jitter = Duration::from_millis(2);
            run_to_report(&mut sim)
        };
        let first = on_threads(1, &run);
        assert_eq!(first["converged"], true);
        assert!(first["stats"]["ted_reused"].as_u64().unwrap() > 0);
        assert_eq!(first["routers"][0]["ldp"].is_object(), ldp);
        for threads in [2, 2, 4] {
            assert_eq!(
                first,
                on_threads(threads, &run),
                "ldp {ldp}, {threads} threads"
            );
        }
    }
    let gmpls = || {
        let text = include_str!("../../../examples/gmpls.toml");
        let net = Network::from_toml("gmpls.toml", text).unwrap();
        let mut sim = started(net, vec![at(21.0, Action::LinkDown("OXC2-OXC3".into()))]);
        sim.model.jitter = Duration::from_millis(1);
        run_to_report(&mut sim)
    };
    let first = on_threads(1, &gmpls);
    let lsps = first["lsps"].as_array().unwrap();
    assert!(lsps.iter().any(|l| l["state"] == "up"), "{lsps:?}");
    for threads in [2, 2, 4] {
        assert_eq!(
            first,
            on_threads(threads, &gmpls),
            "gmpls, {threads} threads"
        );
    }
}

/// Lost LS Updates are recovered by retransmission, also for LSAs a router floods on
/// behalf of others (RFC 2328 §13.3 puts them on the retransmission lists).
#[test]
fn heavy_loss_is_recovered_by_retransmission() {
    let net = mplamps_te::generate::generate(30, 4.0, 5).unwrap();
    let mut sim = Sim::new(
        net.clone(),
        11,
        LinkModel {
            loss: 0.2,
            ..LinkModel::default()
        },
    );
    sim.start();
    assert!(
        sim.run(secs(900.0), true).unwrap(),
        "converged despite loss"
    );
    assert!(
        sim.stats.packets_lost > 1000,
        "lost {}",
        sim.stats.packets_lost
    );
    let d = digests(&sim);
    assert!(d.iter().all(|x| *x == d[0]));
    assert_trees_match_file(&sim, &net);
}

/// Flood pacing bundles LSAs: a cold start sends far fewer LS Updates than LSA copies.
#[test]
fn flood_pacing_bundles_lsas_into_few_updates() {
    let net = mplamps_te::generate::generate(60, 4.0, 2).unwrap();
    let mut paced = started(net.clone(), vec![]);
    assert!(paced.run(secs(600.0), true).unwrap());
    let mut unpaced_net = net.clone();
    unpaced_net.ospf.flood_pacing_ms = 0;
    unpaced_net.ospf.ack_delay_ms = 0;
    let mut unpaced = started(unpaced_net, vec![]);
    assert!(unpaced.run(secs(600.0), true).unwrap());
    assert_eq!(digests(&paced)[0], digests(&unpaced)[0], "same database");
    assert!(
        paced.stats.packets_sent * 2 < unpaced.stats.packets_sent,
        "paced {} vs unpaced {}",
        paced.stats.packets_sent,
        unpaced.stats.packets_sent
    );
}

#[test]
fn link_failure_and_repair() {
    let net = draft_area();
    let mut sim = started(
        net.clone(),
        vec![
            at(30.0, Action::LinkDown("L1".into())),
            at(90.0, Action::LinkUp("L1".into())),
        ],
    );
    assert!(
        sim.run(secs(89.0), false).unwrap(),
        "converged after the failure"
    );
    let mut without = net.clone();
    let l1 = without.links.iter().position(|l| l.name == "L1").unwrap();
    without.links.remove(l1);
    assert_trees_match_file(&sim, &without);
    assert!(
        sim.run(secs(600.0), true).unwrap(),
        "converged after the repair"
    );
    assert_trees_match_file(&sim, &net);
}

/// A router whose every link fails is a partition of its own: the network converges with
/// two different LSDBs, one per partition, and each router's trees cover its partition.
#[test]
fn a_partitioned_network_converges_part_by_part() {
    let net = draft_area();
    let a = net.router_index("A").unwrap();
    let cut: Vec<ScenarioEvent> = net
        .links
        .iter()
        .filter(|l| l.a.router == a || l.b.router == a)
        .map(|l| at(30.0, Action::LinkDown(l.name.clone())))
        .collect();
    assert!(!cut.is_empty());
    let mut sim = started(net.clone(), cut);
    assert!(
        sim.run(secs(600.0), true).unwrap(),
        "converged with A cut off"
    );
    let d = digests(&sim);
    let others: Vec<u64> = d
        .iter()
        .enumerate()
        .filter(|&(r, _)| r != a)
        .map(|(_, x)| *x)
        .collect();
    assert!(
        others.iter().all(|x| *x == others[0]),
        "one LSDB among the others"
    );
    assert_ne!(d[a], others[0], "A's LSDB is its own");
    let b = net.router_index("B").unwrap();
    let b_trees = sim.trees_of(b).unwrap();
    assert!(
        b_trees.power.iter().all(|n| n.name != "A"),
        "A is gone from B's tree"
    );
}

#[test]
fn router_crash_and_restart() {
    let net = draft_area();
    let mut sim = started(
        net.clone(),
        vec![
            at(30.0, Action::RouterCrash("C".into())),
            at(200.0, Action::RouterRestart("C".into())),
        ],
    );
    // Neighbors notice after RouterDeadInterval (40 s).
    assert!(
        sim.run(secs(199.0), false).unwrap(),
        "the others converge without C"
    );
    let c = net.router_index("C").unwrap();
    let b = net.router_index("B").unwrap();
    let b_trees = sim.trees_of(b).unwrap();
    assert!(
        b_trees.power.iter().all(|n| n.name != "C"),
        "C is gone from B's power tree"
    );
    assert!(sim.instance(c).is_none());
    assert!(
        sim.run(secs(900.0), true).unwrap(),
        "converged after the restart"
    );
    assert_trees_match_file(&sim, &net);
    let d = digests(&sim);
    assert!(d.iter().all(|x| *x == d[0]));
}

fn originated(sim: &Sim) -> u64 {
    (0..sim.net.routers.len())
        .filter_map(|r| sim.instance(r).map(|i| i.counters().lsas_originated))
        .sum()
}

#[test]
fn a_bandwidth_change_inside_the_quantum_sends_no_te_lsa() {
    // L1 carries 7.5G available with a 0.5G quantum; 7.7G floors to 7.5G, and the 1 W power
    // quantum absorbs the line cards' small change of load.
    let mut sim = started(draft_area(), vec![]);
    assert!(sim.run(secs(30.0), false).unwrap());
    let before = originated(&sim);
    sim.add_scenario(vec![ScenarioEvent {
        at: secs(31.0),
        action: Action::Available {
            link: "L1".into(),
            value: "7.7G".parse().unwrap(),
        },
    }]);
    assert!(sim.run(secs(60.0), false).unwrap());
    assert_eq!(originated(&sim), before);
}

#[test]
fn a_bandwidth_change_across_the_quantum_floods_and_runs_spf_after_the_delay() {
    let mut net = draft_area();
    net.ospf.spf_delay_ms = 200;
    let mut sim = started(net.clone(), vec![]);
    assert!(sim.run(secs(30.0), false).unwrap());
    let before = originated(&sim);
    let c = net.router_index("C").unwrap();
    let spf_runs = |sim: &Sim| sim.instance(c).unwrap().counters().spf_runs;
    let runs_before = spf_runs(&sim);
    sim.add_scenario(vec![ScenarioEvent {
        at: secs(31.0),
        action: Action::Available {
            link: "L1".into(),
            value: "6G".parse().unwrap(),
        },
    }]);
    sim.run(secs(31.1), false).unwrap();
    assert!(originated(&sim) > before, "a new TE LSA");
    assert_eq!(
        spf_runs(&sim),
        runs_before,
        "SPF waits for the 200 ms delay"
    );
    assert!(sim.run(secs(60.0), false).unwrap());
    assert!(spf_runs(&sim) > runs_before);
    let l1 = net.links.iter().position(|l| l.name == "L1").unwrap();
    net.links[l1].available = "6G".parse().unwrap();
    assert_trees_match_file(&sim, &net);
}

/// The TE database is the same whatever order the database is read in (the LSDB is a
/// hash map; routers that received the same LSAs in other orders must agree).
#[test]
fn the_te_database_does_not_depend_on_the_order_lsas_are_read() {
    use mplamps_ospf::instance::Ted;
    let net = draft_area();
    let mut sim = started(net, vec![]);
    assert!(sim.run(secs(600.0), true).unwrap());
    let instance = sim.instance(0).unwrap();
    let (selection, membership) = (
        instance.config().selection,
        instance.config().power_membership,
    );
    let now = sim.now();
    let lsas: Vec<_> = instance.lsdb().live(now).collect();
    let forward = Ted::build(lsas.iter().copied(), selection, membership);
    let backward = Ted::build(lsas.iter().rev().copied(), selection, membership);
    let mut rotated = lsas.clone();
    rotated.rotate_left(lsas.len() / 3);
    let shuffled = Ted::build(rotated.into_iter(), selection, membership);
    assert_eq!(forward.nodes.len(), 6);
    assert!(forward.links.iter().any(|l| l.pwrlink.is_some()));
    assert_eq!(forward, backward);
    assert_eq!(forward, shuffled);
    assert_eq!(forward, *instance.ted());
}

/// A neighbor that answers a restarted router's requests by flooding (RFC 2328 §13.3
/// (1b)) rather than by replying ends its Loading state too: before, some seeds left an
/// adjacency in Loading until the LSAs were refreshed half an hour later.
#[test]
fn a_restarted_router_is_back_within_seconds_whatever_the_seed() {
    for seed in 1..=12 {
        let mut sim = Sim::new(draft_area(), seed, LinkModel::default());
        sim.add_scenario(vec![
            at(30.0, Action::RouterCrash("C".into())),
            at(200.0, Action::RouterRestart("C".into())),
        ]);
        sim.start();
        assert!(sim.run(secs(900.0), true).unwrap(), "seed {seed}");
        assert!(
            sim.last_change < secs(240.0),
            "seed {seed}: converged only at {:?}",
            sim.last_change
        );
    }
}

/// Each prefix is routed toward its cheapest owner (a link's subnet has one at each end),
/// at the owner's distance plus its stub cost, in both trees.
#[test]
fn each_prefix_is_routed_toward_its_cheapest_owner() {
    let net = mplamps_te::generate::generate(40, 4.0, 9).unwrap();
    let mut sim = started(net, vec![]);
    assert!(sim.run(secs(600.0), true).unwrap());
    for r in 0..sim.net.routers.len() {
        let instance = sim.instance(r).unwrap();
        let ted = instance.ted();
        let trees = sim.trees_of(r).unwrap();
        for (routes, tree) in [
            (&instance.routes().regular, &trees.regular),
            (&instance.routes().power, &trees.power),
        ] {
            let distance = |router_id| {
                let name = &sim.net.routers[sim.router_by_id(router_id).unwrap()].name;
                tree.iter().find(|n| &n.name == name).map(|n| n.distance)
            };
            let mut checked = 0;
            for (prefix, route) in routes {
                let best = ted
                    .nodes
                    .iter()
                    .filter(|n| n.router_id != instance.router_id())
                    .flat_map(|n| {
                        n.stubs
                            .iter()
                            .filter(|(net, len, _)| *net == prefix.network && *len == prefix.len)
                            .filter_map(move |(_, _, cost)| {
                                Some(distance(n.router_id)? + f64::from(*cost))
                            })
                    })
                    .fold(f64::INFINITY, f64::min);
                assert!((route.cost - best).abs() < 1e-9, "{prefix} from R{}", r + 1);
                let owner = distance(route.owner).unwrap();
                assert!(
                    route.cost >= owner,
                    "{prefix}: owner farther than the route"
                );
                assert!(!route.next_hops.is_empty());
                checked += 1;
            }
            assert!(checked > 40);
        }
    }
}

/// A hub with 70 spokes in a chain: its Router-LSA does not fit a 1 500-octet packet.
fn hub_and_spokes(spokes: usize) -> Network {
    let mut model = mplamps_te::generate::DefaultModel::new(5);
    let names = std::iter::once("Hub".to_string())
        .chain((1..=spokes).map(|i| format!("S{i}")))
        .collect();
    let mut links: Vec<_> = (1..=spokes).map(|s| (0, s, None)).collect();
    links.extend((1..spokes).map(|s| (s, s + 1, None)));
    mplamps_te::generate::assemble(
        Some("hub".into()),
        names,
        vec![None; spokes + 1],
        &links,
        &mut model,
    )
}

/// RFC 2328 §A.1: an LS Update longer than the MTU travels in IP fragments. A router with
/// 70 links converges, and its LSAs are the ones that went in fragments.
#[test]
fn a_router_whose_lsas_exceed_the_mtu_converges_through_fragments() {
    let net = hub_and_spokes(70);
    let mut sim = started(net.clone(), vec![]);
    assert!(sim.run(secs(600.0), true).unwrap());
    let d = digests(&sim);
    assert_eq!(d.len(), 71);
    assert!(d.iter().all(|x| *x == d[0]));
    assert_trees_match_file(&sim, &net);
    assert_eq!(sim.stats.packets_too_big, 0);
    assert!(sim.stats.packets_fragmented > 0);
    assert!(sim.stats.fragments_sent >= 2 * sim.stats.packets_fragmented);
}

/// A fragment lost loses its datagram; retransmission (RFC 2328 §13.6) still gets the
/// LSA through.
#[test]
fn lost_fragments_are_made_good_by_retransmission() {
    let net = hub_and_spokes(70);
    let model = LinkModel {
        loss: 0.05,
        ..LinkModel::default()
    };
    let mut sim = Sim::new(net, 3, model);
    sim.start();
    assert!(sim.run(secs(900.0), true).unwrap());
    let d = digests(&sim);
    assert!(d.iter().all(|x| *x == d[0]));
    assert!(sim.stats.packets_lost > 0 && sim.stats.packets_fragmented > 0);
}

/// Jitter ten times the link delay: links still deliver in order (unit test in the crate),
/// so the area converges to the file's trees as without jitter.
#[test]
fn jitter_beyond_the_delay_still_converges() {
    let net = draft_area();
    let model = LinkModel {
        delay: Duration::from_micros(500),
        jitter: Duration::from_millis(5),
        ..LinkModel::default()
    };
    let mut sim = Sim::new(net.clone(), 11, model);
    sim.start();
    assert!(sim.run(secs(600.0), true).unwrap());
    assert_trees_match_file(&sim, &net);
}

/// Issue 22 §2: each scenario step gets its reconvergence: when each router's routes of
/// each tree settled, the network's reconvergence time, the flooding and SPF it cost.
#[test]
fn each_step_reports_its_reconvergence() {
    let net = draft_area();
    let mut sim = started(
        net,
        vec![
            at(30.0, Action::LinkDown("L7".into())),
            at(
                30.0,
                Action::Metric {
                    link: "L2".into(),
                    value: 50,
                },
            ),
            at(60.0, Action::LinkUp("L7".into())),
        ],
    );
    assert!(sim.run(secs(600.0), true).unwrap());
    let steps = sim.reconvergence();
    assert_eq!(steps.len(), 2, "two instants: {steps:#?}");
    let down = &steps[0];
    assert_eq!(down.events, ["link_down L7", "metric L2 50"]);
    assert_eq!(down.at_s, 30.0);
    assert!(down.lsas_flooded > 0 && down.spf_runs > 0);
    let regular = down.regular_settled_s.unwrap();
    assert!(regular > 0.0 && regular < 30.0);
    // The slowest router sets the tree's time; the network converges no earlier.
    let slowest = down
        .routers
        .iter()
        .filter_map(|r| r.regular_s)
        .fold(0.0, f64::max);
    assert_eq!(slowest, regular);
    assert!(down.reconverged_s.unwrap() >= regular);
    assert!(!down.routers.is_empty() && down.routers.len() <= 6);
    let up = &steps[1];
    assert_eq!(up.events, ["link_up L7"]);
    assert!(up.power_settled_s.is_some());
    // The report carries them.
    let report = serde_json::to_value(sim.report(true, 0.0)).unwrap();
    assert_eq!(report["reconvergence"].as_array().unwrap().len(), 2);
}
