//! Lamps over RSVP-TE on imported distribution grids (issue 6 §2).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure is the test failing

use std::time::Duration;

use mplamps_grid::Grid;
use mplamps_lamps::evening::{LampAction, LampEvent};
use mplamps_lamps::lamps::Model;
use mplamps_lamps::lamps::{self, GridReport, LampSim, LampState};
use mplamps_sim::LinkModel;

fn cigre() -> Grid {
    let text = include_str!("../../../examples/grids/cigre_mv.toml");
    mplamps_grid::file::parse("cigre_mv.toml", text)
        .unwrap()
        .expect("a [grid] section")
}

fn all_on(grid: &Grid) -> Vec<LampEvent> {
    vec![LampEvent {
        at: Duration::from_secs(1),
        action: LampAction::On((0..grid.loads.len()).collect()),
    }]
}

#[test]
fn every_cigre_lamp_lights_with_voltage_labels() {
    let grid = cigre();
    let report: GridReport = lamps::simulate(grid.clone(), &all_on(&grid), 1).unwrap();
    assert!(report.converged);
    assert_eq!(report.lamps_on, grid.loads.len());
    assert!((report.load_w - grid.load_w()).abs() < 1.0);
    let r1 = report.lamps.iter().find(|l| l.name == "Load R1").unwrap();
    assert_eq!(r1.path, ["Bus 1", "Trafo 0-1", "Bus 0", "ext_grid 0"]);
    // The transformer converts 20 kV to 110 kV; both directions carry the same voltage.
    let volts: Vec<(Option<u32>, Option<u32>)> = r1
        .hops
        .iter()
        .map(|h| (h.voltage_v, h.upstream_voltage_v))
        .collect();
    assert_eq!(
        volts,
        [
            (Some(20_000), Some(20_000)),
            (Some(110_000), Some(110_000)),
            (Some(110_000), Some(110_000)),
        ]
    );
    for lamp in &report.lamps {
        assert_eq!(lamp.state, LampState::On, "{lamp:?}");
        // RFC 3251 promises "a few seconds"; signaling over simulated 1 ms links is faster.
        assert!(lamp.switch_to_light_s.unwrap() < 0.05, "{lamp:?}");
    }
}

/// With every load on, the watts reserved on each line and transformer of the radial CIGRE
/// MV grid agree with pandapower's stored power flow within the grid's losses.
#[test]
fn cigre_reservations_match_pandapowers_power_flow_within_losses() {
    let grid = cigre();
    let report = lamps::simulate(grid.clone(), &all_on(&grid), 1).unwrap();
    let json = include_str!("../../../data/grids/cigre_mv.json");
    let flow = mplamps_grid::pandapower::power_flow("cigre_mv.json", json).unwrap();
    let cmp = mplamps_lamps::flowcheck::compare(&report, &flow);
    // 12 lines in service (3 tie switches open) and 2 transformers.
    assert_eq!(cmp.rows.len(), 14, "{cmp:#?}");
    assert!(cmp.within_losses, "{cmp:#?}");
    // A power flow adds losses: it never carries less than the loads behind an element.
    for row in &cmp.rows {
        assert!(row.difference_w >= 0.0, "{row:?}");
        assert!(row.difference_w <= 0.06 * row.power_flow_w, "{row:?}");
    }
}

/// A 110/20 kV feeder: line MV–A carries 600 kW, the transformer 1 MW. The hospital is a
/// VPN guaranteed 400 kW; S1 runs RSVP-TE itself (peer), S2 is signaled for by bus B.
const FEEDER: &str = r#"
[grid]
name = "feeder"

[[grid.customer]]
name = "hospital"
guaranteed_w = 400000.0

[[grid.customer]]
name = "school"
guaranteed_w = 300000.0

[[grid.bus]]
name = "HV"
voltage_v = 110000

[[grid.bus]]
name = "MV"
voltage_v = 20000

[[grid.bus]]
name = "A"
voltage_v = 20000

[[grid.bus]]
name = "B"
voltage_v = 20000

[[grid.transformer]]
name = "T"
buses = ["HV", "MV"]
ratings_w = [1000000.0, 1000000.0]
no_load_loss_w = 1000.0
load_loss_w = 5000.0

[[grid.line]]
name = "MV-A"
from = "MV"
to = "A"
rating_w = 600000.0
resistance_ohm = 0.5
length_km = 1.0

[[grid.line]]
name = "MV-B"
from = "MV"
to = "B"
rating_w = 1000000.0
resistance_ohm = 0.5
length_km = 1.0

[[grid.source]]
name = "grid"
bus = "HV"
kind = "external-grid"

[[grid.load]]
name = "H1"
bus = "A"
power_w = 400000.0
customer = "hospital"

[[grid.load]]
name = "P1"
bus = "A"
power_w = 300000.0

[[grid.load]]
name = "P2"
bus = "A"
power_w = 250000.0

[[grid.load]]
name = "P3"
bus = "A"
power_w = 100000.0

[[grid.load]]
name = "S1"
bus = "B"
power_w = 300000.0
customer = "school"
peer = true

[[grid.load]]
name = "S2"
bus = "B"
power_w = 200000.0
"#;

fn feeder() -> Grid {
    mplamps_grid::file::parse("feeder.toml", FEEDER)
        .unwrap()
        .unwrap()
}

/// The lamp events of `text`, 20 s later: after the grid's control plane is up, since each
/// lamp's ingress computes its path on its own TE database.
fn events(grid: &Grid, text: &str) -> Vec<LampEvent> {
    let mut events = mplamps_lamps::evening::parse("evening.toml", text, grid).unwrap();
    for e in &mut events {
        e.at += std::time::Duration::from_secs(20);
    }
    events
}

fn lamp<'a>(report: &'a GridReport, name: &str) -> &'a mplamps_lamps::lamps::LampReport {
    report.lamps.iter().find(|l| l.name == name).unwrap()
}

fn element<'a>(report: &'a GridReport, name: &str) -> &'a mplamps_lamps::lamps::ElementReport {
    report.elements.iter().find(|e| e.name == name).unwrap()
}

#[test]
fn a_lamp_that_would_overload_a_line_is_refused_with_the_line_and_the_shortfall() {
    let grid = feeder();
    let evening = events(
        &grid,
        r#"
[[event]]
at = "1s"
lamps_on = ["P1"]
[[event]]
at = "2s"
lamps_on = ["P2"]
[[event]]
at = "3s"
lamps_on = ["P3"]
"#,
    );
    let report = lamps::simulate(grid, &evening, 1).unwrap();
    assert_eq!(lamp(&report, "P1").state, LampState::On);
    assert_eq!(lamp(&report, "P2").state, LampState::On);
    let p3 = lamp(&report, "P3");
    assert_eq!(p3.state, LampState::Refused);
    let error = p3.error.as_deref().unwrap();
    assert!(error.contains("MV-A (line)"), "{error}");
    assert!(error.contains("50000 W short"), "{error}");
    // Nothing of the refused lamp stays booked: 550 kW on the line, within its rating.
    assert_eq!(element(&report, "MV-A").reserved_w, 550_000.0);
    assert_eq!(element(&report, "T").reserved_w, 550_000.0);
    assert_eq!(report.lamps_refused, 1);
}

#[test]
fn a_guaranteed_lamp_preempts_best_effort_lamps_and_is_reported_per_vpn() {
    let grid = feeder();
    let evening = events(
        &grid,
        r#"
[[event]]
at = "1s"
lamps_on = ["P1", "P2"]
[[event]]
at = "2s"
lamps_on = ["H1"]
[[event]]
at = "3s"
lamps_on = ["P3"]
"#,
    );
    let report = lamps::simulate(grid, &evening, 1).unwrap();
    let h1 = lamp(&report, "H1");
    assert!(h1.guaranteed);
    assert_eq!(h1.state, LampState::On);
    // 550 kW of best effort on a 600 kW line: the hospital's 400 kW preempt the newest
    // best-effort lamp, and then the next, until it fits.
    for name in ["P1", "P2"] {
        let p = lamp(&report, name);
        assert_eq!(p.state, LampState::Refused, "{p:?}");
        assert!(p.error.as_deref().unwrap().contains("preempted"), "{p:?}");
    }
    // A best-effort lamp coming later cannot squeeze the guarantee either.
    assert_eq!(lamp(&report, "P3").state, LampState::On);
    assert!(element(&report, "MV-A").reserved_w <= 600_000.0);
    let hospital = report.vpns.iter().find(|v| v.name == "hospital").unwrap();
    assert_eq!(
        (hospital.guaranteed_w, hospital.used_w, hospital.refused_w),
        (400_000.0, 400_000.0, 0.0)
    );
    assert_eq!(hospital.lamps_on, 1);
}

#[test]
fn peer_and_overlay_lamps_share_the_network() {
    let grid = feeder();
    let evening = events(
        &grid,
        "[[event]]\nat = \"1s\"\nlamps_on = [\"S1\", \"S2\"]\n",
    );
    let report = lamps::simulate(grid, &evening, 1).unwrap();
    let (s1, s2) = (lamp(&report, "S1"), lamp(&report, "S2"));
    assert_eq!((s1.model, s2.model), (Model::Peer, Model::Overlay));
    assert_eq!((s1.state, s2.state), (LampState::On, LampState::On));
    // The peer lamp is an LSR of its own; the overlay lamp's edge LSR signals for it.
    assert_eq!(s1.path.first().map(String::as_str), Some("S1"));
    assert_eq!(s2.path.first().map(String::as_str), Some("B"));
    assert_eq!(element(&report, "MV-B").reserved_w, 500_000.0);
    let school = report.vpns.iter().find(|v| v.name == "school").unwrap();
    assert_eq!(school.used_w, 300_000.0);
}

#[test]
fn a_site_migrates_from_overlay_to_peer_without_touching_other_sites() {
    let grid = feeder();
    let base = r#"
[[event]]
at = "1s"
lamps_on = ["S1", "S2", "P1", "P3"]
"#;
    let migrating = format!("{base}\n[[event]]\nat = \"5s\"\nmigrate = [\"S2\"]\n");
    let before = lamps::simulate(grid.clone(), &events(&grid, base), 1).unwrap();
    let mut run = lamps::LampSim::new(grid.clone(), &events(&grid, &migrating), 1).unwrap();
    // Between the overlay's teardown and the site's own Path: only S2 is dark.
    run.sim.run(Duration::from_millis(25_050), false).unwrap();
    let during = run.report(false, Duration::ZERO);
    assert_ne!(lamp(&during, "S2").state, LampState::On);
    for name in ["S1", "P1", "P3"] {
        assert_eq!(lamp(&during, name).state, LampState::On, "{name}");
    }
    assert!(run.run().unwrap());
    let after = run.report(true, Duration::ZERO);
    let s2 = lamp(&after, "S2");
    assert_eq!((s2.model, s2.state), (Model::Peer, LampState::On), "{s2:?}");
    assert_eq!(s2.path.first().map(String::as_str), Some("S2"));
    assert_eq!(lamp(&before, "S2").model, Model::Overlay);
    for name in ["S1", "P1", "P3"] {
        let (a, b) = (lamp(&before, name), lamp(&after, name));
        assert_eq!((a.state, &a.path), (b.state, &b.path), "{name}");
    }
    assert_eq!(
        element(&after, "MV-B").reserved_w,
        element(&before, "MV-B").reserved_w
    );
}

/// Lamps switched while the network runs (what `mplamps bench lamps` does): over links
/// that deliver at once the Resv is back at the switch in the instant of the switch, and
/// switching off frees every watt.
#[test]
fn lamps_switched_during_a_run_light_in_the_instant_over_instant_links() {
    let grid = feeder();
    let links = LinkModel {
        delay: Duration::ZERO,
        jitter: Duration::ZERO,
        ..LinkModel::default()
    };
    let mut sim = LampSim::with_links(grid.clone(), &[], 1, links).unwrap();
    assert!(
        sim.run().unwrap(),
        "the control plane converges with no lamp on"
    );
    let p1 = grid.loads.iter().position(|l| l.name == "P1").unwrap();
    assert_eq!(sim.status(p1).unwrap().state, LampState::Off);
    let line = sim
        .mapped
        .elements
        .iter()
        .find(|e| e.name == "MV-A")
        .map(|e| e.links[0])
        .unwrap();

    let at = sim.sim.now() + Duration::from_millis(1);
    sim.switch(at, &[p1], true);
    sim.run_until(at - Duration::from_nanos(1)).unwrap();
    assert_eq!(
        sim.status(p1).unwrap().state,
        LampState::Off,
        "not before the switch"
    );
    sim.run_until(at).unwrap();
    let status = sim.status(p1).unwrap();
    assert_eq!(status.state, LampState::On);
    assert_eq!(status.switch_to_light, Some(Duration::ZERO));
    // A → MV → transformer T → HV → the external grid.
    assert_eq!(status.hops, 4);
    assert!((sim.reserved_w(line) - 300_000.0).abs() < 1.0);

    let off = at + Duration::from_millis(1);
    sim.switch(off, &[p1], false);
    sim.run_until(off).unwrap();
    assert_eq!(sim.status(p1).unwrap().state, LampState::Off);
    assert_eq!(sim.reserved_w(line), 0.0);
    assert!(sim.status(grid.loads.len()).is_none());
}

/// pandapower's MV Oberrhein (179 buses, two substations whose feeders open switches keep
/// apart): the control plane converges island by island, and with every load on the
/// reservations agree with pandapower's power flow within the grid's losses.
#[test]
fn mv_oberrhein_reservations_match_pandapowers_power_flow_within_losses() {
    let json = include_str!("../../../data/grids/mv_oberrhein.json");
    let (grid, _) = mplamps_grid::pandapower::import("mv_oberrhein.json", json).unwrap();
    assert_eq!(grid.buses.len(), 179);
    let report = lamps::simulate(grid.clone(), &all_on(&grid), 1).unwrap();
    assert!(report.converged);
    assert_eq!(report.lamps_on, grid.loads.len());
    let flow = mplamps_grid::pandapower::power_flow("mv_oberrhein.json", json).unwrap();
    let cmp = mplamps_lamps::flowcheck::compare(&report, &flow);
    assert!(cmp.rows.len() > 150, "{}", cmp.rows.len());
    assert!(cmp.within_losses, "{cmp:#?}");
}

/// A lamp goes to its least-loss source and, when that source is full, to the next one;
/// when every source it may draw from is refused, the refusal names the element on the
/// path to the last.
#[test]
fn a_lamp_whose_nearest_source_is_full_draws_from_the_next() {
    let text = format!(
        "{FEEDER}
[[grid.source]]
name = \"PV A\"
bus = \"A\"
kind = \"static-generator\"
capacity_w = 350000.0

[[grid.load]]
name = \"Big\"
bus = \"A\"
power_w = 320000.0
"
    );
    let grid = mplamps_grid::file::parse("feeder.toml", &text)
        .unwrap()
        .unwrap();
    let evening = events(
        &grid,
        r#"
[[event]]
at = "1s"
lamps_on = ["P1"]
[[event]]
at = "2s"
lamps_on = ["P2"]
[[event]]
at = "3s"
lamps_on = ["P3"]
[[event]]
at = "4s"
lamps_on = ["Big"]
"#,
    );
    let report = lamps::simulate(grid, &evening, 1).unwrap();
    assert!(report.converged);
    let p1 = lamp(&report, "P1");
    assert_eq!(p1.state, LampState::On);
    assert_eq!(p1.electricity_source.as_deref(), Some("PV A"));
    assert_eq!(p1.path, ["A", "PV A"]);
    // 50 kW left at PV A: P2 and P3 are refused there and fed by the grid through MV-A.
    for name in ["P2", "P3"] {
        let l = lamp(&report, name);
        assert_eq!(l.state, LampState::On, "{l:?}");
        assert_eq!(l.electricity_source.as_deref(), Some("grid"));
        assert_eq!(l.path, ["A", "MV", "T", "HV", "grid"]);
    }
    assert!((element(&report, "MV-A").reserved_w - 350_000.0).abs() < 1.0);
    assert!((element(&report, "PV A").reserved_w - 300_000.0).abs() < 1.0);
    // Big (320 kW): PV A has 50 kW left, MV-A 250 kW.
    let big = lamp(&report, "Big");
    assert_eq!(big.state, LampState::Refused);
    let error = big.error.as_deref().unwrap();
    assert!(
        error.contains("MV-A") && error.contains("70000 W short"),
        "{error}"
    );
}

/// Issue 22 §4: a load out of service is never switched on, and the report counts it
/// among the lamps left off.
#[test]
fn a_load_out_of_service_stays_off_and_is_counted() {
    let mut grid = cigre();
    grid.loads[0].in_service = false;
    let name = grid.loads[0].name.clone();
    let report = lamps::simulate(grid.clone(), &all_on(&grid), 1).unwrap();
    let off = lamp(&report, &name);
    assert_eq!(off.state, LampState::Off);
    assert_eq!(off.error.as_deref(), Some("out of service: left off"));
    assert_eq!(report.lamps_out_of_service, 1);
    assert_eq!(report.lamps_off, 1);
    assert_eq!(report.lamps_on + report.lamps_refused + 1, grid.loads.len());
}
