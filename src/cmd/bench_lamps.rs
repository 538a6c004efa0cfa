//! `mplamps bench lamps`: lamp turn-on latency (switch → energized) and lamps switched per
//! second on a distribution grid (issue 6, brief §6), against admission by power flow in
//! pandapower on the same grid in the same run.
//!
//! - Latency: zero-delay links, so the figure is the control plane's own work on the
//!   critical path: the ingress's CSPF, every hop's Path and Resv through the codec and
//!   admission. Lamps are switched on one at a time, every other lamp off; the figure for a
//!   path length is over the lamps whose LSP has that many hops.
//! - Throughput: every load split into `--lamps-per-load` lamps, links of the simulator's
//!   default model (1 ms), all lamps switched on at once and then off, timed until the
//!   network settles.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use mplamps_grid::Grid;
use mplamps_lamps::lamps::{LampSim, LampState};
use mplamps_sim::LinkModel;
use serde::{Deserialize, Serialize};

use super::bench::median;
use crate::table::{Table, num};

/// The pandapower peer, run by `--python`.
const PEER_SCRIPT: &str = include_str!("../../scripts/bench/lamp_peer.py");

#[derive(clap::Args)]
pub struct LampArgs {
    /// The grid: a pandapower JSON network or a topology file with a [grid] section
    /// (default: pandapower's MV Oberrhein, 179 buses, in data/grids).
    #[arg(long)]
    grid: Option<PathBuf>,
    /// Path length (links) whose turn-on latency is the headline figure.
    #[arg(long, default_value_t = 6)]
    hops: usize,
    /// Times every lamp is switched on alone for the latency figures.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Lamps each load is split into for the throughput run.
    #[arg(long, default_value_t = 10)]
    lamps_per_load: usize,
    /// Python with pandapower for the peer (admission by power flow); `none` skips it.
    #[arg(long, default_value = "python3")]
    python: String,
    /// Most lamps the peer switches in its throughput run (each is a power flow).
    #[arg(long, default_value_t = 500)]
    peer_lamps: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the report as one JSON document on standard output instead of tables.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct LampBench {
    grid: String,
    buses: usize,
    /// Routers of the grid's GMPLS network (buses, transformers, sources, peer lamps).
    routers: usize,
    latency: Latency,
    throughput: Throughput,
    peer: Peer,
}

#[derive(Serialize)]
struct Latency {
    hops: usize,
    /// Turn-ons measured at `hops` hops.
    samples: usize,
    median_ms: f64,
    p99_ms: f64,
    /// Every path length seen, with its median.
    by_hops: Vec<HopLatency>,
}

#[derive(Serialize)]
struct HopLatency {
    hops: usize,
    samples: usize,
    median_ms: f64,
}

#[derive(Serialize)]
struct Throughput {
    lamps: usize,
    lit: usize,
    refused: usize,
    /// Wall time from the switch of every lamp to the network settled, and virtual time.
    on_wall_s: f64,
    on_virtual_s: f64,
    off_wall_s: f64,
    /// Lamps switched on per second (lit or refused), wall.
    on_per_s: f64,
    /// Lamps switched on and off per second, wall.
    switched_per_s: f64,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Peer {
    Measured(PeerFigures),
    NotRun { not_run: String },
}

#[derive(Serialize)]
struct PeerFigures {
    tool: String,
    latency_median_ms: f64,
    latency_p99_ms: f64,
    lamps: usize,
    admitted: usize,
    refused: usize,
    lamps_per_s: f64,
}

/// What the peer script prints.
#[derive(Deserialize)]
struct PeerOutput {
    pandapower: String,
    numba: bool,
    latency_ms: Vec<f64>,
    lamps: usize,
    admitted: usize,
    refused: usize,
    seconds: f64,
}

fn default_grid() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/grids/mv_oberrhein.json")
}

fn load_grid(path: &Path) -> Result<Grid> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {file}"))?;
    if path.extension().is_some_and(|e| e == "json") {
        return Ok(mplamps_grid::pandapower::import(&file, &text)?.0);
    }
    mplamps_grid::file::parse(&file, &text)
        .map_err(|errors| anyhow::anyhow!("{errors}"))?
        .with_context(|| format!("{file} has no [grid] section"))
}

/// Links that deliver at once: what is left is processing.
fn instant_links() -> LinkModel {
    LinkModel {
        delay: Duration::ZERO,
        jitter: Duration::ZERO,
        ..LinkModel::default()
    }
}

/// Runs the grid's control plane from cold until it has converged.
fn settled(grid: Grid, seed: u64, links: LinkModel) -> Result<LampSim> {
    let mut sim = LampSim::with_links(grid, &[], seed, links)?;
    if !sim.run()? {
        bail!("the grid's control plane did not converge within 600 s virtual");
    }
    Ok(sim)
}

/// The latency at `hops` hops and per path length; `None` when no lamp has `hops` hops.
fn latency_figures(samples: &[TurnOn], hops: usize) -> Option<Latency> {
    let of_length = |length: usize| -> Vec<f64> {
        samples
            .iter()
            .filter(|s| s.hops == length)
            .map(|s| s.ms)
            .collect()
    };
    let mut lengths: Vec<usize> = samples.iter().map(|s| s.hops).collect();
    lengths.sort_unstable();
    lengths.dedup();
    let by_hops = lengths
        .into_iter()
        .map(|length| {
            let mut ms = of_length(length);
            HopLatency {
                hops: length,
                samples: ms.len(),
                median_ms: median(&mut ms),
            }
        })
        .collect();
    let mut headline = of_length(hops);
    (!headline.is_empty()).then(|| Latency {
        hops,
        samples: headline.len(),
        median_ms: median(&mut headline),
        p99_ms: percentile(&mut headline, 0.99),
        by_hops,
    })
}

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    let rank = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples.get(rank).copied().unwrap_or(f64::NAN)
}

/// One lamp lit: its path length and the wall time from switch to light.
struct TurnOn {
    hops: usize,
    ms: f64,
}

/// Every turn-on measured, and the lamps whose path has the asked length.
struct TurnOns {
    samples: Vec<TurnOn>,
    at_hops: Vec<usize>,
}

/// Switches every lamp on alone, `rounds` times.
fn latencies(grid: &Grid, args: &LampArgs, progress: bool) -> Result<TurnOns> {
    let mut sim = settled(grid.clone(), args.seed, instant_links())?;
    let step = Duration::from_millis(1);
    let mut samples = Vec::new();
    let mut at_hops = Vec::new();
    for round in 0..args.rounds {
        if progress {
            eprint!("\rlatency: round {}/{} ...", round + 1, args.rounds);
        }
        for (l, load) in grid.loads.iter().enumerate() {
            if !load.in_service {
                continue;
            }
            let at = sim.sim.now() + step;
            sim.switch(at, &[l], true);
            sim.run_until(at - Duration::from_nanos(1))?;
            let started = Instant::now();
            sim.run_until(at)?;
            let wall = started.elapsed();
            let Some(status) = sim.status(l) else {
                continue;
            };
            match status.state {
                LampState::On => {
                    samples.push(TurnOn {
                        hops: status.hops,
                        ms: wall.as_secs_f64() * 1e3,
                    });
                    if round == 0 && status.hops == args.hops {
                        at_hops.push(l);
                    }
                }
                // No source it may draw from can feed it: not a turn-on.
                LampState::Off | LampState::Refused => {}
                LampState::Signaling => bail!(
                    "{} was still signaling after every message was delivered",
                    load.name
                ),
            }
            sim.switch(at + step, &[l], false);
            sim.run_until(at + step)?;
        }
    }
    if progress {
        eprintln!();
    }
    Ok(TurnOns { samples, at_hops })
}

/// Every load split into `k` lamps of equal power at the same bus.
fn split_loads(grid: &Grid, k: usize) -> Grid {
    let mut out = grid.clone();
    out.loads = grid
        .loads
        .iter()
        .filter(|l| l.in_service)
        .flat_map(|load| {
            (0..k).map(move |j| mplamps_grid::Load {
                name: format!("{} #{}", load.name, j + 1),
                power_w: load.power_w / k as f64,
                ..load.clone()
            })
        })
        .collect();
    out
}

fn throughput(grid: &Grid, args: &LampArgs, progress: bool) -> Result<(Throughput, usize)> {
    let lamps = split_loads(grid, args.lamps_per_load);
    let count = lamps.loads.len();
    if progress {
        eprintln!("throughput: {count} lamps, control plane starting ...");
    }
    let mut sim = settled(lamps, args.seed, LinkModel::default())?;
    let routers = sim.mapped.network.routers.len();
    let all: Vec<usize> = (0..count).collect();

    let switched_at = sim.sim.now() + Duration::from_millis(1);
    sim.switch(switched_at, &all, true);
    let started = Instant::now();
    if !sim.run()? {
        bail!("switching every lamp on did not settle within 600 s virtual");
    }
    let on_wall = started.elapsed().as_secs_f64();
    let on_virtual = sim.sim.now().saturating_sub(switched_at).as_secs_f64();
    let state = |s: LampState| {
        (0..count)
            .filter(|&l| sim.status(l).is_some_and(|x| x.state == s))
            .count()
    };
    let (lit, refused) = (state(LampState::On), state(LampState::Refused));
    if progress {
        eprintln!("throughput: {lit} lit, {refused} refused; switching off ...");
    }

    sim.switch(sim.sim.now() + Duration::from_millis(1), &all, false);
    let started = Instant::now();
    if !sim.run()? {
        bail!("switching every lamp off did not settle within 600 s virtual");
    }
    let off_wall = started.elapsed().as_secs_f64();
    let switched = lit + refused;
    Ok((
        Throughput {
            lamps: count,
            lit,
            refused,
            on_wall_s: on_wall,
            on_virtual_s: on_virtual,
            off_wall_s: off_wall,
            on_per_s: switched as f64 / on_wall,
            switched_per_s: (switched + lit) as f64 / (on_wall + off_wall),
        },
        routers,
    ))
}

/// The pandapower load index of each of `loads` (`source = "load:i"`).
fn pandapower_indices(grid: &Grid, loads: &[usize]) -> Vec<usize> {
    loads
        .iter()
        .filter_map(|&l| {
            grid.loads
                .get(l)?
                .source
                .as_deref()?
                .strip_prefix("load:")?
                .parse()
                .ok()
        })
        .collect()
}

fn run_peer(grid_file: &Path, grid: &Grid, at_hops: &[usize], args: &LampArgs) -> Peer {
    let not_run = |why: String| Peer::NotRun { not_run: why };
    if args.python == "none" {
        return not_run("--python none".into());
    }
    if grid_file.extension().is_none_or(|e| e != "json") {
        return not_run("the grid is not a pandapower JSON file".into());
    }
    let input = serde_json::json!({
        "grid": grid_file,
        "latency_loads": pandapower_indices(grid, at_hops),
        "rounds": args.rounds,
        "lamps_per_load": args.lamps_per_load,
        "max_lamps": args.peer_lamps,
        "max_seconds": 120,
    });
    let child = Command::new(&args.python)
        .arg("-")
        .arg(input.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return not_run(format!("{}: {e}", args.python)),
    };
    if let Some(mut stdin) = child.stdin.take()
        && let Err(e) = stdin.write_all(PEER_SCRIPT.as_bytes())
    {
        return not_run(format!("writing the peer script: {e}"));
    }
    let output = match child.wait_with_output() {
        Ok(o) => o,
        Err(e) => return not_run(format!("{}: {e}", args.python)),
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return not_run(format!(
            "{} exited with {}: {last}",
            args.python, output.status
        ));
    }
    let parsed: PeerOutput = match serde_json::from_slice(&output.stdout) {
        Ok(p) => p,
        Err(e) => return not_run(format!("the peer's output: {e}")),
    };
    let mut latency = parsed.latency_ms.clone();
    Peer::Measured(PeerFigures {
        tool: format!(
            "pandapower {} runpp{}",
            parsed.pandapower,
            if parsed.numba { " (numba)" } else { "" }
        ),
        latency_median_ms: median(&mut latency),
        latency_p99_ms: percentile(&mut latency, 0.99),
        lamps: parsed.lamps,
        admitted: parsed.admitted,
        refused: parsed.refused,
        lamps_per_s: parsed.lamps as f64 / parsed.seconds,
    })
}

pub fn run(args: LampArgs) -> Result<()> {
    if args.rounds == 0 || args.lamps_per_load == 0 {
        bail!("--rounds and --lamps-per-load must be at least 1");
    }
    let progress = std::io::stderr().is_terminal();
    let grid_file = args.grid.clone().unwrap_or_else(default_grid);
    let grid = load_grid(&grid_file)?;

    let turn_ons = latencies(&grid, &args, progress)?;
    let latency = latency_figures(&turn_ons.samples, args.hops).with_context(|| {
        format!(
            "no lamp of {} has a {}-hop path; try another --hops",
            grid_file.display(),
            args.hops
        )
    })?;
    let (throughput, routers) = throughput(&grid, &args, progress)?;
    if progress && args.python != "none" {
        eprintln!("peer: {} with pandapower ...", args.python);
    }
    let peer = run_peer(&grid_file, &grid, &turn_ons.at_hops, &args);
    let result = LampBench {
        grid: grid.name.clone(),
        buses: grid.buses.len(),
        routers,
        latency,
        throughput,
        peer,
    };
    if args.json {
        return super::print_json(&result);
    }
    print_report(&result)
}

fn print_report(r: &LampBench) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Lamps on {}: {} buses, {} LSRs\n",
        r.grid, r.buses, r.routers
    )?;
    let mut table = Table::new(["measure", "mplamps (RSVP-TE)", "peer (power flow)"]);
    let peer = match &r.peer {
        Peer::Measured(p) => Some(p),
        Peer::NotRun { .. } => None,
    };
    table.row(vec![
        format!(
            "turn-on latency, {} hops, median ms (target < 5: {})",
            r.latency.hops,
            super::verdict(r.latency.median_ms < 5.0)
        ),
        num(Some(r.latency.median_ms)),
        num(peer.map(|p| p.latency_median_ms)),
    ]);
    table.row(vec![
        format!("turn-on latency, {} hops, p99 ms", r.latency.hops),
        num(Some(r.latency.p99_ms)),
        num(peer.map(|p| p.latency_p99_ms)),
    ]);
    table.row(vec![
        "lamps switched on per second".into(),
        num(Some(r.throughput.on_per_s)),
        num(peer.map(|p| p.lamps_per_s)),
    ]);
    table.row(vec![
        "lamps switched on and off per second".into(),
        num(Some(r.throughput.switched_per_s)),
        "-".into(),
    ]);
    write!(out, "{}", table.render())?;
    writeln!(
        out,
        "\nthroughput: {} lamps ({} lit, {} refused), all on in {:.3} s wall ({:.3} s virtual), all off in {:.3} s wall",
        r.throughput.lamps,
        r.throughput.lit,
        r.throughput.refused,
        r.throughput.on_wall_s,
        r.throughput.on_virtual_s,
        r.throughput.off_wall_s
    )?;
    match &r.peer {
        Peer::Measured(p) => writeln!(
            out,
            "peer: {}; {} lamps switched ({} admitted, {} refused)",
            p.tool, p.lamps, p.admitted, p.refused
        )?,
        Peer::NotRun { not_run } => writeln!(out, "peer not run: {not_run}")?,
    }
    let mut table = Table::new(["hops", "turn-ons", "median ms"]);
    for h in &r.latency.by_hops {
        table.row(vec![
            h.hops.to_string(),
            h.samples.to_string(),
            num(Some(h.median_ms)),
        ]);
    }
    writeln!(out, "\nturn-on latency by path length (zero-delay links):")?;
    write!(out, "{}", table.render())?;
    Ok(())
}
