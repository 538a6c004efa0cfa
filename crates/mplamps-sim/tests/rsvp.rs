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
    let sim = run(gmpls(), vec![at(1.0, Action::LinkDown("OXC2-OXC3".into()))]);
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
