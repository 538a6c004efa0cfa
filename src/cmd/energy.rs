//! `mplamps energy`: how much power the power tree saves (docs/energy.md).

use anyhow::{Context, Result};
use mplamps_energy::study::{DEFAULT_MAX_ITERATIONS, DEFAULT_UTILIZATION_LIMIT, Strategy};
use std::time::Duration;

use mplamps_energy::{OptimumOptions, Options, Split, Study, pictures};

use super::status_line::StatusLine;
use crate::table::Table;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    topology: super::TopologyArg,
    /// Load scales: multipliers of the file's demands, comma separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0"
    )]
    scale: Vec<f64>,
    /// How the power tree splits traffic among equal-cost next hops: ecmp (equal shares)
    /// or ucmp (in proportion to available bandwidth, draft §2.2). The regular tree always
    /// uses ecmp.
    #[arg(long, value_enum, default_value = "ecmp")]
    split: SplitArg,
    /// Also run the power tree with idle links asleep.
    #[arg(long)]
    sleep: bool,
    /// With --sleep: no awake link may be used above this share of its capacity.
    #[arg(long, default_value_t = DEFAULT_UTILIZATION_LIMIT)]
    utilization_limit: f64,
    /// Rounds of the power tree's flood–recompute–move loop before it is reported as not
    /// settled.
    #[arg(long, default_value_t = DEFAULT_MAX_ITERATIONS)]
    max_iterations: usize,
    /// Scale the file's matrix first so that at scale 1 the regular tree's busiest link runs
    /// at this share of its capacity (e.g. 1.0).
    #[arg(long, value_name = "SHARE")]
    fit: Option<f64>,
    /// Dampening (draft §2.3): the available-bandwidth interval routers quantize to before
    /// advertising, instead of the file's `bandwidth_quantum` (e.g. 1G).
    #[arg(long, value_name = "BANDWIDTH")]
    bandwidth_quantum: Option<mplamps_core::Bandwidth>,
    /// Dampening of power in watts, instead of the file's `power_quantum_w`.
    #[arg(long, value_name = "WATTS")]
    power_quantum: Option<f64>,
    /// Also compute the least-power routing of the same demands: `mip` (links on or off,
    /// flows splittable; with its bound and gap when the time runs out) or `lp` (the LP
    /// relaxation: a bound only, for networks too large for the MIP).
    #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "mip", value_name = "mip|lp")]
    optimum: Option<OptimumArg>,
    /// Seconds the optimum may take at each scale.
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
    optimum_time_limit: f64,
    /// The optimum stops once within this relative gap of its bound.
    #[arg(long, default_value_t = 1e-4, value_name = "SHARE")]
    optimum_gap: f64,
    /// Write pictures into this directory: power.svg (power against load for every
    /// strategy) and map-STRATEGY.svg (links by utilization at the highest scale).
    #[arg(long, value_name = "DIR")]
    out: Option<std::path::PathBuf>,
    /// Print the study as one JSON document (every link and every round) instead of tables.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum OptimumArg {
    Mip,
    Lp,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SplitArg {
    Ecmp,
    Ucmp,
}

pub fn run(args: Args) -> Result<()> {
    let path = args.topology.required("energy")?;
    let mut net = super::load(path)?;
    if let Some(q) = args.bandwidth_quantum {
        net.bandwidth_quantum = q;
    }
    if let Some(w) = args.power_quantum {
        anyhow::ensure!(
            w.is_finite() && w >= 0.0,
            "--power-quantum: expected watts ≥ 0, got {w}"
        );
        net.power_quantum_w = w;
    }
    let options = Options {
        scales: args.scale.clone(),
        split: match args.split {
            SplitArg::Ecmp => Split::Ecmp,
            SplitArg::Ucmp => Split::Ucmp,
        },
        sleep: args.sleep,
        utilization_limit: args.utilization_limit,
        max_iterations: args.max_iterations,
        fit: args.fit,
        optimum: match args.optimum {
            None => None,
            Some(kind) => {
                anyhow::ensure!(
                    args.optimum_time_limit.is_finite() && args.optimum_time_limit > 0.0,
                    "--optimum-time-limit: expected seconds above 0, got {}",
                    args.optimum_time_limit
                );
                anyhow::ensure!(
                    args.optimum_gap.is_finite() && args.optimum_gap >= 0.0,
                    "--optimum-gap: expected a share ≥ 0, got {}",
                    args.optimum_gap
                );
                Some(OptimumOptions {
                    relaxation_only: matches!(kind, OptimumArg::Lp),
                    time_limit: Duration::from_secs_f64(args.optimum_time_limit),
                    mip_gap: args.optimum_gap,
                })
            }
        },
    };
    let mut status = StatusLine::on_terminal();
    let study = mplamps_energy::study(&net, &options, |done, total| {
        status.show(|t| {
            format!(
                "energy: {done}/{total} load scales, {:.1} s",
                t.as_secs_f64()
            )
        });
    })
    .with_context(|| format!("energy study of {}", path.display()))?;
    status.clear();
    if let Some(dir) = &args.out {
        write_pictures(dir, &net, &study)?;
    }
    if args.json {
        return super::print_json(&study);
    }
    print!("{}", render(&study));
    Ok(())
}

/// The chart, and one map per strategy at the highest scale.
fn write_pictures(dir: &std::path::Path, net: &mplamps_te::Network, study: &Study) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let write = |name: &str, svg: String| -> Result<()> {
        let path = dir.join(name);
        std::fs::write(&path, svg).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
        Ok(())
    };
    write("power.svg", pictures::power_chart(study))?;
    if let Some(last) = study.scales.last() {
        let s = &last.strategies;
        let maps = [
            ("regular", Some(&s.regular)),
            ("power", Some(&s.power)),
            ("power_sleep", s.power_sleep.as_ref()),
            (
                "optimum",
                s.optimum.as_ref().filter(|o| !o.links.is_empty()),
            ),
        ];
        for (name, strategy) in maps {
            if let Some(strategy) = strategy {
                let caption = format!(
                    "{name} at scale {} ({:.1} Gb/s): {:.0} W, {} links asleep",
                    last.scale,
                    last.total_demand_bps / 1e9,
                    strategy.power_w,
                    strategy.links_asleep
                );
                write(
                    &format!("map-{name}.svg"),
                    pictures::utilization_map(net, strategy, &caption),
                )?;
            }
        }
    }
    Ok(())
}

fn watts(w: f64) -> String {
    format!("{:.0}", w)
}

fn gbps(bps: f64) -> String {
    format!("{:.1}", bps / 1e9)
}

fn pct(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

fn settled(s: &Strategy) -> String {
    match (s.settled, s.oscillation_period) {
        (true, _) => format!("{} settled", s.iterations),
        (false, Some(p)) => format!("{} oscillates ({p})", s.iterations),
        (false, None) => format!("{} not settled", s.iterations),
    }
}

/// The human form: one row per scale, then what the power tree did at the highest scale.
fn render(study: &Study) -> String {
    let sleep = study
        .scales
        .iter()
        .any(|s| s.strategies.power_sleep.is_some());
    let mut out = format!(
        "{}: {} routers, {} links, {} demands; chassis {} W of every total; split {:?}\n\n",
        if study.network.is_empty() {
            "network"
        } else {
            &study.network
        },
        study.routers,
        study.links,
        study.demands,
        watts(study.chassis_w),
        study.split
    );
    if study.matrix_multiplier != 1.0 {
        out.push_str(&format!(
            "the file's demands are multiplied by {:.6} before each scale (--fit)\n\n",
            study.matrix_multiplier
        ));
    }
    let mut header = vec![
        "scale",
        "demand Gb/s",
        "regular W",
        "power W",
        "saving",
        "max util reg",
        "max util pow",
        "dropped Gb/s",
        "power rounds",
    ];
    if sleep {
        header.extend(["sleep W", "saving", "asleep", "max util sleep"]);
    }
    let optimum = study.scales.iter().any(|s| s.strategies.optimum.is_some());
    if optimum {
        header.extend(["optimum W", "saving", "asleep", "gap", "power tree reaches"]);
    }
    let mut table = Table::from_vec(header);
    for point in &study.scales {
        let (r, p) = (&point.strategies.regular, &point.strategies.power);
        let mut row = vec![
            format!("{}", point.scale),
            gbps(point.total_demand_bps),
            watts(r.power_w),
            watts(p.power_w),
            format!("{:.2} %", p.saving_pct),
            pct(r.max_utilization),
            pct(p.max_utilization),
            gbps(r.dropped_bps.max(p.dropped_bps)),
            settled(p),
        ];
        if let Some(s) = &point.strategies.power_sleep {
            row.extend([
                watts(s.power_w),
                format!("{:.2} %", s.saving_pct),
                format!("{}/{}", s.links_asleep, study.links),
                pct(s.max_utilization),
            ]);
        }
        if let Some(o) = &point.strategies.optimum {
            let solver = o.solver.as_ref();
            let bound_only = solver.is_some_and(|s| s.bound_only);
            let reached = point
                .optimal_saving_reached_pct
                .as_ref()
                .and_then(|r| r.power_sleep.or(r.power));
            row.extend([
                format!("{}{}", if bound_only { "≥ " } else { "" }, watts(o.power_w)),
                format!("{:.2} %", o.saving_pct),
                if bound_only {
                    "-".into()
                } else {
                    format!("{}/{}", o.links_asleep, study.links)
                },
                solver.map_or("-".into(), |s| format!("{:.2} %", s.gap_pct)),
                reached.map_or("-".into(), |r| format!("{r:.0} %")),
            ]);
        }
        table.row(row);
    }
    out.push_str(&table.render());
    if let Some(last) = study.scales.last() {
        let s = &last.strategies;
        out.push_str(&format!(
            "\nAt scale {}: mean path {:.2} hops on the regular tree, {:.2} on the power tree (stretch {:.2})",
            last.scale, s.regular.mean_hops, s.power.mean_hops, s.power.hop_stretch
        ));
        if let (Some(r), Some(p)) = (s.regular.mean_km, s.power.mean_km) {
            out.push_str(&format!("; {r:.0} km and {p:.0} km"));
        }
        out.push_str(".\n");
    }
    out
}
