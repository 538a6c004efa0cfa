//! `mplamps sim GRID.toml`: lamps switched on and off over RSVP-TE on a grid (issue 6).

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use mplamps_grid::Grid;
use mplamps_lamps::evening::{self, LampAction, LampEvent};
use mplamps_lamps::flowcheck::{self, FlowComparison};
use mplamps_lamps::lamps::{GridReport, LampSim, LampState};
use serde::Serialize;

use crate::table::Table;

#[derive(Serialize)]
struct Output<'a> {
    #[serde(flatten)]
    report: &'a GridReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    power_flow: Option<&'a FlowComparison>,
}

pub fn run(args: &super::sim::Args, grid: Grid) -> Result<()> {
    if args.pcap.is_some() || args.ldp || args.trace.is_some() || args.duration.is_some() {
        bail!("--pcap, --ldp, --trace and --duration are not supported with a grid yet");
    }
    let mut events: Vec<LampEvent> = Vec::new();
    if args.all_lamps_on {
        events.push(LampEvent {
            at: Duration::from_secs(1),
            action: LampAction::On((0..grid.loads.len()).collect()),
        });
    }
    if let Some(path) = &args.scenario {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        events.extend(evening::parse(&path.display().to_string(), &text, &grid)?);
    }
    events.sort_by_key(|e| e.at);
    if events.is_empty() {
        eprintln!("note: no lamp is switched: give --all-lamps-on or a --scenario");
    }
    let flow = match &args.compare {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Some(mplamps_grid::pandapower::power_flow(
                &path.display().to_string(),
                &text,
            )?)
        }
        None => None,
    };
    let started = Instant::now();
    let mut sim = LampSim::new(grid, &events, args.seed)?;
    let converged = sim.run()?;
    let report = sim.report(converged, started.elapsed());
    let comparison = flow.as_ref().map(|f| flowcheck::compare(&report, f));
    if args.json {
        return super::print_json(&Output {
            report: &report,
            power_flow: comparison.as_ref(),
        });
    }
    let text = text_report(&report, comparison.as_ref());
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("writing the report")
}

fn kw(w: f64) -> String {
    format!("{:.1}", w / 1e3)
}

fn text_report(r: &GridReport, comparison: Option<&FlowComparison>) -> String {
    let mut out = format!(
        "grid {}: {} lamps on, {} refused, {} left off ({} out of service); {} kW delivered, {} kW lost; {} at {:.3} s virtual, {:.3} s wall\n",
        r.grid,
        r.lamps_on,
        r.lamps_refused,
        r.lamps_off,
        r.lamps_out_of_service,
        kw(r.load_w),
        kw(r.losses_w),
        if r.converged {
            "settled"
        } else {
            "NOT settled"
        },
        r.time_s,
        r.wall_time_s
    );
    let mut elements = Table::new([
        "element",
        "source",
        "kind",
        "reserved kW",
        "rating kW",
        "loading",
        "losses kW",
    ]);
    for e in &r.elements {
        elements.row(vec![
            e.name.clone(),
            e.source.clone().unwrap_or_default(),
            e.kind.name().to_string(),
            kw(e.reserved_w),
            e.rating_w.map_or("-".into(), kw),
            e.loading
                .map_or("-".into(), |l| format!("{:.0} %", l * 100.0)),
            kw(e.losses_w),
        ]);
    }
    out += &elements.render();
    let mut lamps = Table::new(["lamp", "model", "kW", "state", "light after", "error"]);
    for l in &r.lamps {
        lamps.row(vec![
            l.name.clone(),
            format!("{:?}", l.model).to_lowercase(),
            kw(l.power_w),
            match l.state {
                LampState::On => "on",
                LampState::Off => "off",
                LampState::Signaling => "signaling",
                LampState::Refused => "refused",
            }
            .into(),
            l.switch_to_light_s
                .map_or("-".into(), |s| format!("{:.1} ms", s * 1e3)),
            l.error.clone().unwrap_or_default(),
        ]);
    }
    out += &lamps.render();
    if !r.vpns.is_empty() {
        let mut vpns = Table::new([
            "VPN",
            "guaranteed kW",
            "used kW",
            "refused kW",
            "lamps on",
            "refused",
        ]);
        for v in &r.vpns {
            vpns.row(vec![
                v.name.clone(),
                kw(v.guaranteed_w),
                kw(v.used_w),
                kw(v.refused_w),
                v.lamps_on.to_string(),
                v.lamps_refused.to_string(),
            ]);
        }
        out += &vpns.render();
    }
    if let Some(c) = comparison {
        out += &format!(
            "power flow: {} elements compared, largest difference {} kW, grid losses {} kW: {}\n",
            c.rows.len(),
            kw(c.max_difference_w),
            kw(c.losses_w),
            if c.within_losses {
                "within the losses"
            } else {
                "NOT within the losses"
            }
        );
    }
    out
}
