//! RSVP-TE across whole simulated networks (issue 5 §4): `[[lsp]]` tables routed by CSPF and
//! signaled hop by hop, the labels each hop holds, failures, switchover, modification and
//! teardown, with every label and bandwidth book back at zero at the end.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure is the test failing

use std::time::Duration;

use mplamps_core::label::LabelOwner;
use mplamps_sim::rsvp::{LspReport, Role, RunState};
use mplamps_sim::scenario::{Action, ScenarioEvent};
use mplamps_sim::{LinkModel, Sim};
use mplamps_te::Network;

fn gmpls() -> Network {
    let text = include_str!("../../../examples/gmpls.toml");
    Network::from_toml("gmpls.toml", text).unwrap()
}

/// When the LSPs of `gmpls()` are up: each ingress computes on its own TE database, which
/// OSPF fills within a few seconds of the start.
const UP_BY: f64 = 20.0;

fn at(s: f64, action: Action) -> ScenarioEvent {
    ScenarioEvent {
        at: Duration::from_secs_f64(s),
        action,
    }
}

fn run(net: Network, events: Vec<ScenarioEvent>) -> Sim {
    let mut sim = Sim::new(net, 3, LinkModel::default());
    sim.add_scenario(events);
    sim.start();
    assert!(
        sim.run(Duration::from_secs(600), true).unwrap(),
        "converged"
    );
    sim
}

fn lsp<'a>(lsps: &'a [LspReport], name: &str) -> &'a LspReport {
    lsps.iter().find(|l| l.name == name).expect(name)
}

fn labels(l: &LspReport) -> Vec<(&str, Option<u32>, Option<u32>)> {
    l.hops
        .iter()
        .map(|h| (h.router.as_str(), h.downstream_label, h.upstream_label))
        .collect()
}

/// Nothing held by any router: labels, link labels, bandwidth.
fn assert_clean(sim: &Sim) {
    for r in 0..sim.net.routers.len() {
        let Some(i) = sim.rsvp_instance(r) else {
            continue;
        };
        assert_eq!(
            i.label_space().allocated(LabelOwner::RsvpTe),
            0,
            "router {r}"
        );
        for k in 0..i.config().interfaces.len() {
            assert_eq!(i.link_labels(k).unwrap().in_use(), 0, "router {r} if {k}");
            assert!(
                i.reserved_bps(k).abs() < 1e-6,
                "router {r} if {k} bandwidth"
            );
        }
    }
}

#[test]
fn power_objective_and_wavelength_continuity_end_to_end() {
    let sim = run(gmpls(), Vec::new());
    let lsps = sim.lsp_reports();

    // PWRLINK: P2's links cost 2.25 against P1's 0.875 … the power topology goes via P2
    // even though the TE metric (20 + 20 against 10 + 10) prefers P1.
    let power = lsp(&lsps, "pe1-pe2-power");
    assert_eq!(power.state, RunState::Up);
    assert_eq!(power.path, ["PE1", "P2", "PE2"]);
    assert_eq!(
        labels(power),
        [("P2", Some(200_000), None), ("PE2", Some(3), None)],
        "RSVP-TE range at the transit, implicit null at the egress"
    );

    // The only wavelengths free on OXC1–OXC2 (1–4), OXC2–OXC3 (3–8) and OXC3–OXC4 (2–5)
    // are 3 and 4: first fit takes 3 on every hop, both directions.
    let lambda = lsp(&lsps, "lambda-1");
    assert_eq!(lambda.path, ["OXC1", "OXC2", "OXC3", "OXC4"]);
    assert_eq!(
        labels(lambda),
        [
            ("OXC2", Some(3), Some(3)),
            ("OXC3", Some(3), Some(3)),
            ("OXC4", Some(3), Some(3))
        ]
    );
    assert!(lambda.active && lambda.setup_time_s.unwrap() > 0.0);

    // The secondary avoids SRLG 100 and OXC5 converts: 1 into OXC5, 5 (the first of
    // OXC5–OXC4's 5–8) out of it. Extra traffic rides beside it on the next wavelengths.
    let secondary = lsp(&lsps, "lambda-1/secondary");
    assert_eq!((secondary.role, secondary.active), (Role::Secondary, false));
    assert_eq!(secondary.path, ["OXC1", "OXC5", "OXC4"]);
    assert_eq!(
        labels(secondary),
        [("OXC5", Some(1), Some(1)), ("OXC4", Some(5), Some(5))]
    );
    let extra = lsp(&lsps, "lambda-extra");
    assert_eq!(extra.state, RunState::Up);
    assert_eq!(
        labels(extra),
        [("OXC5", Some(2), None), ("OXC4", Some(6), None)]
    );
}

#[test]
fn a_fibre_cut_moves_lambda_traffic_to_the_secondary_and_preempts_extra_traffic() {
    let sim = run(
        gmpls(),
        vec![at(UP_BY, Action::LinkDown("OXC2-OXC3".into()))],
    );
    let lsps = sim.lsp_reports();
    let primary = lsp(&lsps, "lambda-1");
    assert_eq!((primary.state, primary.active), (RunState::Failed, false));
    assert!(
        primary.error.as_deref().unwrap().contains("24/5"),
        "{:?}",
        primary.error
    );
    let secondary = lsp(&lsps, "lambda-1/secondary");
    assert_eq!((secondary.state, secondary.active), (RunState::Up, true));
    let extra = lsp(&lsps, "lambda-extra");
    assert_eq!(extra.state, RunState::Failed);
    // OXC1 and OXC5 both hold the extra traffic on the secondary's links; whichever learns
    // of the switchover first preempts it.
    assert!(
        extra
            .error
            .as_deref()
            .unwrap()
            .contains("service preempted (12/0) at OXC")
    );
    let preempted: u64 = (0..sim.net.routers.len())
        .filter_map(|r| sim.rsvp_instance(r))
        .map(|i| i.counters().preempted)
        .sum();
    assert!(preempted >= 1);
}

#[test]
fn modify_teardown_and_setup_again_leave_nothing_behind() {
    let events = vec![
        at(
            1.0,
            Action::LspModify {
                name: "pe1-pe2-power".into(),
                bandwidth: "4G".parse().unwrap(),
            },
        ),
        at(2.0, Action::LspTeardown("lambda-1".into())),
        at(2.5, Action::LspSetup("lambda-1".into())),
    ];
    let sim = run(gmpls(), events);
    let lsps = sim.lsp_reports();
    assert_eq!(lsp(&lsps, "pe1-pe2-power").state, RunState::Up);
    let pe1 = sim.net.router_index("PE1").unwrap();
    let to_p2 = sim.rsvp_instance(pe1).unwrap();
    let booked: f64 = (0..to_p2.config().interfaces.len())
        .map(|i| to_p2.reserved_bps(i))
        .sum();
    assert!(
        (booked - 4e9).abs() < 1.0,
        "the new bandwidth, once: {booked}"
    );
    assert_eq!(lsp(&lsps, "lambda-1").state, RunState::Up);

    let names: Vec<String> = sim.net.lsps.iter().map(|l| l.name.clone()).collect();
    let teardown = names
        .iter()
        .map(|n| at(4.0, Action::LspTeardown(n.clone())))
        .collect();
    let sim = run(gmpls(), teardown);
    assert!(
        sim.lsp_reports().iter().all(|l| l.state == RunState::Down),
        "{:?}",
        sim.lsp_reports()
    );
    assert_clean(&sim);
}

#[test]
fn infeasible_requests_say_which_constraint_failed() {
    let text = include_str!("../../../examples/gmpls.toml").replace(
        "name = \"pe1-pe2-power\"\nfrom = \"PE1\"\nto = \"PE2\"\nbandwidth = \"2G\"",
        "name = \"pe1-pe2-power\"\nfrom = \"PE1\"\nto = \"PE2\"\nbandwidth = \"20G\"",
    );
    let net = Network::from_toml("gmpls.toml", &text).unwrap();
    let sim = run(net, Vec::new());
    let l = lsp(&sim.lsp_reports(), "pe1-pe2-power").clone();
    assert_eq!(l.state, RunState::Failed);
    let e = l.error.unwrap();
    assert!(e.starts_with("CSPF: Bandwidth"), "{e}");
}

#[test]
fn same_seed_same_lsp_report() {
    let report = |seed| {
        let mut sim = Sim::new(gmpls(), seed, LinkModel::default());
        sim.start();
        sim.run(Duration::from_secs(60), true).unwrap();
        serde_json::to_string(&sim.lsp_reports()).unwrap()
    };
    assert_eq!(report(5), report(5));
}

/// RSVP-TE cross-connects of packet LSPs land in the LFIB: a frame carrying the label P2
/// gave PE1 leaves P2 toward PE2 with the label popped (PE2 asked for implicit null).
#[test]
fn packet_lsp_labels_are_installed_in_the_lfib() {
    use mplamps_dataplane::forward::{self, Action as Forwarding, Frame};
    use mplamps_dataplane::tables::Operation;

    let sim = run(gmpls(), Vec::new());
    let p2 = sim.net.router_index("P2").unwrap();
    let pe2 = sim.net.router_index("PE2").unwrap();
    let tables = sim.router_tables(p2);
    let entry = tables.lfib.get(&200_000).expect("the LSP's label at P2");
    assert_eq!(
        entry.fec.to_string(),
        format!("{}/32", sim.net.routers[pe2].router_id)
    );
    assert_eq!(entry.next_hops[0].operation, Operation::Pop);

    let ip = mplamps_dataplane::ipv4::datagram(
        "10.9.9.1".parse().unwrap(),
        "10.9.9.2".parse().unwrap(),
        17,
        64,
        1,
        b"payload",
    );
    let mut labeled = mplamps_dataplane::lse::LabelStackEntry {
        label: 200_000,
        tc: 0,
        bottom: true,
        ttl: 64,
    }
    .encode()
    .to_vec();
    labeled.extend_from_slice(&ip);
    let Forwarding::Forward { router, frame, .. } = forward::process(
        &tables,
        Frame {
            mpls: true,
            bytes: labeled,
        },
        mplamps_core::fec::Topology::Regular,
        0,
    ) else {
        panic!("not forwarded");
    };
    assert_eq!(router, sim.net.routers[pe2].router_id.to_ipv4());
    assert!(!frame.mpls, "popped at the penultimate hop");
    // Wavelength cross-connects are not MPLS labels: OXC2 installs nothing.
    let oxc2 = sim.net.router_index("OXC2").unwrap();
    assert!(sim.router_tables(oxc2).lfib.is_empty());
}

/// What the LSP report says of every LSP: state, path, labels per hop, setup time.
fn lsp_labels(sim: &Sim) -> Vec<LspReport> {
    sim.lsp_reports()
}

fn counters(sim: &Sim, router: &str) -> mplamps_rsvp::instance::Counters {
    let r = sim.net.router_index(router).unwrap();
    sim.rsvp_instance(r).unwrap().counters().clone()
}

fn p2_swaps_to_pe2(sim: &Sim) -> bool {
    let p2 = sim.net.router_index("P2").unwrap();
    sim.router_tables(p2).lfib.contains_key(&200_000)
}

/// RFC 3471 §9.2: the control channel P2–PE2 is down for 50 s, within the 60 s Restart_Time
/// both advertise: the LSP stays, its LFIB entry too, and the two resynchronize after. Down
/// for 100 s, the neighbor is given up and the LSP fails as on a link failure.
#[test]
fn a_control_channel_fault_leaves_lsps_in_place_within_the_restart_time() {
    let baseline = lsp_labels(&run(gmpls(), Vec::new()));
    let outage = |secs: f64| {
        let mut sim = Sim::new(gmpls(), 3, LinkModel::default());
        sim.add_scenario(vec![
            at(UP_BY, Action::ControlDown("P2".into(), "PE2".into())),
            at(UP_BY + secs, Action::ControlUp("PE2".into(), "P2".into())),
        ]);
        sim.start();
        sim
    };
    let mut sim = outage(50.0);
    sim.run(Duration::from_secs_f64(UP_BY + 49.0), false)
        .unwrap();
    assert!(p2_swaps_to_pe2(&sim));
    assert!(sim.stats.rsvp_control_lost > 0);
    assert_eq!(counters(&sim, "P2").control_channel_faults, 1);
    assert!(sim.run(Duration::from_secs(600), true).unwrap());
    assert_eq!(lsp_labels(&sim), baseline);
    assert_eq!(counters(&sim, "PE2").resynchronizations, 1);
    assert_eq!(counters(&sim, "P2").resynchronizations, 1);
    assert!(p2_swaps_to_pe2(&sim));

    let mut sim = outage(100.0);
    assert!(sim.run(Duration::from_secs(600), true).unwrap());
    let lsps = sim.lsp_reports();
    let power = lsp(&lsps, "pe1-pe2-power");
    assert_eq!(power.state, RunState::Failed);
    let error = power.error.as_deref().unwrap();
    assert!(error.contains("24/5) at P2"), "{error}");
    assert!(!p2_swaps_to_pe2(&sim));
}

/// RFC 3473 §9.5: P2's and OXC2's control planes restart while their data planes forward.
/// Both come back with the labels they had, recovered from their neighbors; nothing fails.
#[test]
fn restarted_control_planes_recover_their_lsps() {
    let baseline = lsp_labels(&run(gmpls(), Vec::new()));
    let restart = |router: &str| Action::RsvpRestart {
        router: router.into(),
        down_for: Duration::from_secs(5),
        keep_forwarding: true,
    };
    let mut sim = Sim::new(gmpls(), 3, LinkModel::default());
    sim.add_scenario(vec![
        at(UP_BY, restart("P2")),
        at(UP_BY + 0.5, restart("OXC2")),
    ]);
    sim.start();
    sim.run(Duration::from_secs_f64(UP_BY + 3.0), false)
        .unwrap();
    let p2 = sim.net.router_index("P2").unwrap();
    assert!(
        sim.rsvp_instance(p2).is_none(),
        "P2's control plane is down"
    );
    assert!(p2_swaps_to_pe2(&sim), "its data plane is not");
    assert!(sim.run(Duration::from_secs(600), true).unwrap());
    assert_eq!(lsp_labels(&sim), baseline);
    for router in ["P2", "OXC2"] {
        let c = counters(&sim, router);
        assert_eq!((c.recovered_lsps, c.unclaimed_lsps), (1, 0), "{router}");
    }
    assert_eq!(counters(&sim, "PE1").neighbor_restarts, 1);
    assert!(p2_swaps_to_pe2(&sim));
}

/// A control plane that restarts without its forwarding state (Recovery_Time 0) loses its
/// LSPs; the ingress hears of it and the books return to zero once it is torn down.
#[test]
fn a_restart_that_kept_nothing_fails_the_lsps_through_it() {
    let sim = run(
        gmpls(),
        vec![
            at(
                UP_BY,
                Action::RsvpRestart {
                    router: "P2".into(),
                    down_for: Duration::from_secs(2),
                    keep_forwarding: false,
                },
            ),
            at(UP_BY + 19.0, Action::LspTeardown("pe1-pe2-power".into())),
        ],
    );
    let lsps = sim.lsp_reports();
    let power = lsp(&lsps, "pe1-pe2-power");
    assert_eq!(power.state, RunState::Down);
    assert!(!p2_swaps_to_pe2(&sim));
    for router in ["PE1", "P2", "PE2"] {
        let r = sim.net.router_index(router).unwrap();
        let i = sim.rsvp_instance(r).unwrap();
        assert_eq!(i.label_space().allocated(LabelOwner::RsvpTe), 0, "{router}");
        assert!(
            (0..i.config().interfaces.len()).all(|k| i.reserved_bps(k).abs() < 1e-6),
            "{router}"
        );
    }
}

/// CSPF at the ingress sees the model as the scenario changed it: once PE1–P2 has only
/// 1 Gb/s available, the 2 Gb/s LSP signaled again goes through P1.
#[test]
fn cspf_sees_bandwidth_a_scenario_took_away() {
    let one_g = mplamps_core::Bandwidth::from_gbps(1.0).unwrap();
    let sim = run(
        gmpls(),
        vec![
            at(
                1.0,
                Action::Available {
                    link: "PE1-P2".into(),
                    value: one_g,
                },
            ),
            at(2.0, Action::LspTeardown("pe1-pe2-power".into())),
            at(3.0, Action::LspSetup("pe1-pe2-power".into())),
        ],
    );
    let lsps = sim.lsp_reports();
    let power = lsp(&lsps, "pe1-pe2-power");
    assert_eq!(power.state, RunState::Up);
    assert_eq!(power.path, ["PE1", "P1", "PE2"]);
}
