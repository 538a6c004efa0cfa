//! Lamps over RSVP-TE on imported distribution grids (issue 6 §2).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure is the test failing

use std::time::Duration;

use mplamps_grid::Grid;
use mplamps_grid::evening::{LampAction, LampEvent};
use mplamps_grid::lamps::{self, GridReport, LampState};

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
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
    assert!(report.converged);
    assert_eq!(report.lamps_on, grid.loads.len());
}
