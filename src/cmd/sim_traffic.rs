//! `mplamps sim --traffic`: the demands on the routers' own routes, loads fed back into
//! their advertised available bandwidth, step by step.

use std::time::Duration;

use anyhow::Result;
use mplamps_sim::Sim;
use mplamps_sim::traffic::{TrafficReport, TrafficSettings, TrafficStep, run_traffic};

use super::status_line::StatusLine;
use crate::table::Table;

/// Measurements in a row with the same loads for a step to have settled.
const SETTLE_TICKS: usize = 5;
/// The longest a step runs before the next one, or after the last.
const STEP_LIMIT: Duration = Duration::from_secs(600);

/// Runs the traffic steps once the network has converged from cold: traffic flows over
/// complete routes from its first measurement, as the energy study's first round assumes.
pub fn run(
    sim: &mut Sim,
    steps: Vec<TrafficStep>,
    interval: Duration,
    max_time: Duration,
    json: bool,
) -> Result<()> {
    if !sim.run(max_time, true)? {
        anyhow::bail!(
            "the network did not converge within {max_time:?}: no traffic was run (mplamps sim without --traffic says why)"
        );
    }
    let steps = if steps.is_empty() {
        vec![TrafficStep {
            at: Duration::ZERO,
            scale: 1.0,
        }]
    } else {
        steps
    };
    let settings = TrafficSettings {
        steps,
        interval,
        settle_ticks: SETTLE_TICKS,
        step_limit: STEP_LIMIT,
    };
    let mut status = StatusLine::on_terminal();
    let report = run_traffic(sim, &settings, |at| {
        status.show(|wall| {
            format!(
                "sim --traffic: virtual {:.0} s, {:.1} s",
                at.as_secs_f64(),
                wall.as_secs_f64()
            )
        });
    })?;
    status.clear();
    if json {
        return super::print_json(&report);
    }
    super::print_text(&render(&report))
}

fn render(report: &TrafficReport) -> String {
    let mut table = Table::new([
        "step at",
        "scale",
        "demand Gb/s",
        "measurements",
        "LSAs originated",
        "SPF runs",
        "route changes",
        "settled",
        "power W",
        "max util",
        "dropped Gb/s",
    ]);
    for s in &report.steps {
        table.row(vec![
            format!("{:.0} s", s.at_s),
            format!("{}", s.scale),
            format!("{:.1}", s.total_demand_bps / 1e9),
            s.ticks.to_string(),
            s.lsas_originated.to_string(),
            s.spf_runs.to_string(),
            s.route_changes.to_string(),
            s.settled_after_s
                .map_or("no".into(), |t| format!("after {t:.0} s")),
            format!("{:.0}", s.power_w),
            format!("{:.1} %", s.max_utilization * 100.0),
            format!("{:.2}", s.dropped_bps / 1e9),
        ]);
    }
    format!(
        "Traffic measured every {} s on the routers' own power-tree routes\n\n{}",
        report.interval_s,
        table.render()
    )
}
