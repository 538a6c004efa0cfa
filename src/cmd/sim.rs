//! `mplamps sim`: runs a whole network of OSPF-TE routers in the deterministic simulator.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use mplamps_sim::pcap::PcapSink;
use mplamps_sim::report::SimReport;
use mplamps_sim::scenario::{self, parse_duration};
use mplamps_sim::{LinkModel, Progress, Sim};

use super::status_line::StatusLine;
use crate::table::Table;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub(super) topology: super::TopologyArg,
    /// Run until "converged" (the default), or give a time with --duration.
    #[arg(long, value_parser = ["converged"], conflicts_with = "duration")]
    until: Option<String>,
    /// Virtual time to run, e.g. "60s", "2m".
    #[arg(long, value_parser = parse_time)]
    pub(super) duration: Option<Duration>,
    /// Timed events (docs/simulator.md).
    #[arg(long)]
    pub(super) scenario: Option<PathBuf>,
    /// Write every packet to a pcap file (raw IPv4, virtual timestamps).
    #[arg(long)]
    pub(super) pcap: Option<PathBuf>,
    /// Print the report as one JSON document on standard output instead of tables.
    #[arg(long)]
    pub(super) json: bool,
    /// Seed of the simulator's one random generator.
    #[arg(long, default_value_t = 1)]
    pub(super) seed: u64,
    /// One-way link delay.
    #[arg(long, default_value = "1ms", value_parser = parse_time)]
    pub(super) delay: Duration,
    /// Extra uniform delay in [0, jitter).
    #[arg(long, default_value = "100us", value_parser = parse_time)]
    pub(super) jitter: Duration,
    /// Packet loss probability on every link, 0 to 1.
    #[arg(long, default_value_t = 0.0)]
    pub(super) loss: f64,
    /// IP MTU of every link, in octets: longer datagrams travel in IP fragments.
    #[arg(long, default_value_t = 1500, value_parser = parse_mtu)]
    pub(super) mtu: usize,
    /// Give up on convergence after this much virtual time.
    #[arg(long, default_value = "1h", value_parser = parse_time)]
    max_time: Duration,
    /// Run LDP beside OSPF (on already when the file has an [ldp] table).
    #[arg(long)]
    pub(super) ldp: bool,
    /// After the run, send one packet from router SRC's loopback to DST's through the
    /// MPLS data plane and show the hops (turns LDP on).
    #[arg(long, num_args = 2, value_names = ["SRC", "DST"])]
    pub(super) trace: Option<Vec<String>>,
    /// Rate of the traced flow, for [[fec_policy]] rules with min_rate (e.g. "2G").
    #[arg(long, requires = "trace")]
    rate: Option<mplamps_core::Bandwidth>,
    /// A grid (a [grid] section): switch every lamp on at 1 s (docs/grid.md).
    #[arg(long)]
    pub(super) all_lamps_on: bool,
    /// A grid: compare the reservations with the power flow stored in this pandapower
    /// JSON file (res_line, res_trafo), matched by each element's `source`.
    #[arg(long, value_name = "PANDAPOWER_JSON")]
    pub(super) compare: Option<PathBuf>,
    /// Forward the file's [[demand]]s on the routers' own routes and feed the loads back
    /// into their available bandwidth (docs/simulator.md, "Traffic"); a scenario's
    /// [[traffic]] steps change the matrix over time.
    #[arg(long, conflicts_with_all = ["trace", "duration"])]
    pub(super) traffic: bool,
    /// With --traffic: virtual time between two measurements of the loads. The default
    /// leaves each router time to re-originate (MinLSInterval, 5 s) and run SPF between
    /// two measurements.
    #[arg(long, default_value = "6s", value_parser = parse_time)]
    pub(super) traffic_interval: Duration,
}

fn parse_mtu(text: &str) -> Result<usize, String> {
    let mtu: usize = text
        .parse()
        .map_err(|_| format!("expected a whole number of octets, got {text:?}"))?;
    if !(mplamps_sim::MIN_MTU..=usize::from(u16::MAX)).contains(&mtu) {
        return Err(format!(
            "an IPv4 MTU is from {} to 65535 octets, got {mtu}",
            mplamps_sim::MIN_MTU
        ));
    }
    Ok(mtu)
}

fn parse_time(text: &str) -> Result<Duration, String> {
    if let Some(us) = text.strip_suffix("us") {
        return us
            .parse::<u64>()
            .map(Duration::from_micros)
            .map_err(|_| format!("expected a time like \"100us\", got {text:?}"));
    }
    parse_duration(text)
        .ok_or_else(|| format!("expected a time like \"60s\", \"250ms\" or \"2m\", got {text:?}"))
}

pub fn run(args: Args) -> Result<()> {
    if !(0.0..=1.0).contains(&args.loss) {
        bail!(
            "--loss: expected a probability from 0 to 1, got {}",
            args.loss
        );
    }
    let path = args.topology.required("sim")?;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file = path.display().to_string();
    if let Some(grid) =
        mplamps_grid::file::parse(&file, &text).map_err(|errors| anyhow::anyhow!("{errors}"))?
    {
        return super::grid_sim::run(&args, grid);
    }
    if args.all_lamps_on || args.compare.is_some() {
        bail!("--all-lamps-on and --compare need a grid: {file} has no [grid] section");
    }
    let mut net = super::load(path)?;
    if args.traffic {
        anyhow::ensure!(
            !net.demands.is_empty(),
            "--traffic needs a traffic matrix: {file} has no [[demand]] tables"
        );
        // The demands are the traffic: the file's available bandwidth (others' traffic)
        // starts from the capacity, as the energy study does.
        for link in &mut net.links {
            link.available = link.capacity;
        }
    }
    let model = LinkModel {
        delay: args.delay,
        jitter: args.jitter,
        loss: args.loss,
        mtu: args.mtu,
    };
    let mut sim = Sim::new(net, args.seed, model);
    if args.ldp || args.trace.is_some() {
        sim.enable_ldp();
    }
    if let Some(path) = &args.scenario {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let file = path.display().to_string();
        let lsps = mplamps_te::topology::parse_lsps(&file, &text, &sim.net)?;
        sim.add_lsps(&lsps);
        let events = scenario::parse_located(&file, &text)?;
        sim.add_scenario_file(&file, events)?;
    }
    let pcap_error: Rc<RefCell<Option<String>>> = Rc::default();
    if let Some(path) = &args.pcap {
        let file =
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        let mut sink = PcapSink::new(std::io::BufWriter::new(file))?.with_mtu(sim.model.mtu);
        let error = pcap_error.clone();
        sim.set_capture(Box::new(move |sent| {
            if let Err(e) = sink.write(&sent) {
                error.borrow_mut().get_or_insert(e.to_string());
            }
        }));
    }
    let started = Instant::now();
    sim.start();
    if args.traffic {
        let steps = match &args.scenario {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                scenario::parse_traffic(&path.display().to_string(), &text)?
            }
            None => Vec::new(),
        };
        return super::sim_traffic::run(
            &mut sim,
            steps,
            args.traffic_interval,
            args.max_time,
            args.json,
        );
    }
    let (deadline, until_converged) = match args.duration {
        Some(d) => (d, false),
        None => (args.max_time.max(sim.scenario_end()), true),
    };
    let mut status = StatusLine::on_terminal();
    let converged = sim.run_observed(deadline, until_converged, |p| {
        status.show(|wall| progress_text(p, until_converged, wall));
    })?;
    status.clear();
    let wall = started.elapsed().as_secs_f64();
    if args.rate.is_some() && sim.net.fec_policy.is_empty() {
        eprintln!(
            "warning: --rate changes nothing here: {file} has no [[fec_policy]] rules to match a rate against (docs/ldp.md)"
        );
    }
    let trace = match &args.trace {
        Some(ends) => match ends.as_slice() {
            [src, dst] => Some(sim.trace(src, dst, args.rate)?),
            _ => bail!("--trace: expected two router names"),
        },
        None => None,
    };
    let report = sim.report(converged, wall);
    sim.end_capture();
    // The simulator of a large network holds gigabytes in millions of allocations; freeing
    // them one by one took 0.6 s at 1 000 routers. The process ends soon after this, and
    // its exit returns the memory at once.
    std::mem::forget(sim);
    if let Some(e) = pcap_error.borrow().as_ref() {
        bail!("writing the pcap file: {e}");
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(trace) = trace {
        if args.json {
            super::print_json(&trace)?;
        } else {
            super::print_text(&render_trace(&trace))?;
        }
    } else if args.json {
        super::print_json(&report)?;
    } else {
        super::print_text(&render(&report))?;
    }
    match report.why_not_converged.first() {
        Some(first) if !report.converged => Err(super::NotConverged {
            first: first.detail.clone(),
            more: report.why_not_converged.len() - 1,
        }
        .into()),
        _ => Ok(()),
    }
}

pub fn render_trace(trace: &mplamps_sim::mpls::Trace) -> String {
    let label = |l: Option<u32>| l.map_or("-".to_string(), |l| l.to_string());
    let mut out = format!(
        "flow {} → {} on the {} tree ({}): {}\n",
        trace.src,
        trace.dst,
        trace.tree,
        trace.policy,
        match (trace.delivered, trace.dropped) {
            (true, _) => "delivered".to_string(),
            (false, Some(reason)) => format!("dropped ({reason:?})"),
            (false, None) => "not delivered".to_string(),
        }
    );
    let mut table = Table::new([
        "router",
        "in label",
        "out label",
        "next hop",
        "tree",
        "note",
    ]);
    for h in &trace.hops {
        table.row(vec![
            h.router.clone(),
            label(h.in_label),
            label(h.out_label),
            h.next_hop.map_or("-".to_string(), |a| a.to_string()),
            h.tree.map_or("-".to_string(), |t| t.to_string()),
            if h.fallback {
                "power fallback: regular label (draft §2.4.4)".to_string()
            } else {
                String::new()
            },
        ]);
    }
    out.push_str(&table.render());
    out
}

/// One row per LSP, then its labels hop by hop.
pub fn render_lsps(lsps: &[mplamps_sim::rsvp::LspReport]) -> String {
    let label = |l: Option<u32>| l.map_or("-".to_string(), |l| l.to_string());
    let mut table = Table::new([
        "LSP",
        "state",
        "path",
        "labels (down/up) into each hop",
        "setup",
    ]);
    for l in lsps {
        let state = match (l.state, l.active) {
            (mplamps_sim::rsvp::RunState::Up, true) => "up, active".to_string(),
            (s, _) => format!("{s:?}").to_lowercase(),
        };
        let hops: Vec<String> = l
            .hops
            .iter()
            .map(|h| {
                format!(
                    "{} {}/{}",
                    h.router,
                    label(h.downstream_label),
                    label(h.upstream_label)
                )
            })
            .collect();
        table.row(vec![
            l.name.clone(),
            state,
            l.path.join(" → "),
            if let Some(e) = &l.error {
                e.clone()
            } else {
                hops.join(", ")
            },
            l.setup_time_s
                .map_or("-".to_string(), |s| format!("{:.1} ms", s * 1e3)),
        ]);
    }
    table.render()
}

/// The status line of a long run: how far in virtual time, and how fast.
fn progress_text(p: Progress, until_converged: bool, wall: Duration) -> String {
    let rate = p.events as f64 / wall.as_secs_f64().max(1e-9);
    let goal = if until_converged {
        "until converged".to_string()
    } else {
        format!("of {:.3} s", p.deadline.as_secs_f64())
    };
    format!(
        "simulating: {:.3} s virtual {goal}, {} events ({rate:.0}/s), {:.1} s wall",
        p.now.as_secs_f64(),
        p.events,
        wall.as_secs_f64()
    )
}

pub fn render(report: &SimReport) -> String {
    let mut out = format!(
        "{} at {:.3} s virtual (last change), ran to {:.3} s; {:.3} s wall, {} events ({:.0}/s)\n\n",
        if report.converged {
            "converged"
        } else {
            "NOT converged (why: below)"
        },
        report.convergence_time_s,
        report.end_time_s,
        report.wall_time_s,
        report.events,
        report.events_per_s
    );
    let mut table = Table::new([
        "router",
        "neighbors (Full/all)",
        "LSAs",
        "LSDB digest",
        "power next hops → reachable",
    ]);
    for r in &report.routers {
        let full = r.neighbors.iter().filter(|n| n.state == "Full").count();
        let hops: std::collections::BTreeSet<&str> = r
            .trees
            .power
            .iter()
            .flat_map(|n| n.next_hops.iter().map(String::as_str))
            .collect();
        table.row(vec![
            r.name.clone(),
            if r.up {
                format!("{full}/{}", r.neighbors.len())
            } else {
                "down".into()
            },
            r.lsa_count.to_string(),
            r.lsdb_digest.clone(),
            format!(
                "{} → {}",
                hops.into_iter().collect::<Vec<_>>().join(","),
                r.trees.power.len()
            ),
        ]);
    }
    out.push_str(&table.render());
    out.push_str(&render_ldp(report));
    out.push_str(&render_reconvergence(&report.reconvergence));
    if !report.lsps.is_empty() {
        out.push('\n');
        out.push_str(&render_lsps(&report.lsps));
        out.push_str(&render_rsvp_recovery(report));
    }
    out.push_str(&render_why(&report.why_not_converged));
    out
}

/// One row per scenario step: what it did, when each tree's routes settled everywhere,
/// when the network reconverged, what it cost, and how LSPs recovered.
fn render_reconvergence(steps: &[mplamps_sim::Reconvergence]) -> String {
    if steps.is_empty() {
        return String::new();
    }
    let ms = |s: Option<f64>| s.map_or("-".to_string(), |s| format!("{:.1} ms", s * 1e3));
    let mut table = Table::new([
        "at",
        "step",
        "regular routes settled",
        "power routes settled",
        "reconverged",
        "routers rerouted",
        "LSAs flooded",
        "SPF runs",
        "LSPs",
    ]);
    for step in steps {
        let lsps: Vec<String> = step
            .lsps
            .iter()
            .map(|l| match (l.switchover_s, l.up_s) {
                (Some(s), _) => format!("{} switched over in {}", l.lsp, ms(Some(s))),
                (None, up) => format!("{} up in {}", l.lsp, ms(up)),
            })
            .collect();
        table.row(vec![
            format!("{:.3} s", step.at_s),
            step.events.join("; "),
            ms(step.regular_settled_s),
            ms(step.power_settled_s),
            ms(step.reconverged_s),
            step.routers.len().to_string(),
            step.lsas_flooded.to_string(),
            step.spf_runs.to_string(),
            lsps.join(", "),
        ]);
    }
    format!(
        "\nReconvergence after each scenario step (times after the step; per router in --json)\n{}",
        table.render()
    )
}

/// LDP per router, when it ran: its sessions, which peers take power bindings, and the
/// labels of each tree in its LFIB.
fn render_ldp(report: &SimReport) -> String {
    if report.routers.iter().all(|r| r.ldp.is_none()) {
        return String::new();
    }
    let mut table = Table::new([
        "router",
        "LDP sessions (operational/all)",
        "power peers",
        "LFIB regular",
        "LFIB power",
        "mappings sent",
    ]);
    for r in &report.routers {
        let Some(ldp) = &r.ldp else {
            table.row(vec![r.name.clone(), "down".into()]);
            continue;
        };
        let operational = ldp
            .sessions
            .iter()
            .filter(|s| s.state == mplamps_ldp::instance::SessionState::Operational)
            .count();
        let power_peers: Vec<&str> = ldp
            .sessions
            .iter()
            .filter(|s| s.power)
            .map(|s| s.peer.as_str())
            .collect();
        let labels = |tree| ldp.lfib.iter().filter(|row| row.tree == tree).count();
        table.row(vec![
            r.name.clone(),
            format!("{operational}/{}", ldp.sessions.len()),
            power_peers.join(","),
            labels(mplamps_core::fec::Topology::Regular).to_string(),
            labels(mplamps_core::fec::Topology::Power).to_string(),
            ldp.counters.mappings_sent.to_string(),
        ]);
    }
    format!(
        "\nLDP (labels from disjoint ranges per tree; docs/ldp.md)\n{}",
        table.render()
    )
}

/// Reasons shown in the text report; `--json` has them all (up to `WHY_LIMIT`).
const WHY_SHOWN: usize = 12;

/// Why the network has not converged, the first reasons one per line.
fn render_why(why: &[mplamps_sim::Unsettled]) -> String {
    if why.is_empty() {
        return String::new();
    }
    let mut out = "\nNOT converged:\n".to_string();
    for u in why.iter().take(WHY_SHOWN) {
        out.push_str(&format!("  - {}\n", u.detail));
    }
    if why.len() > WHY_SHOWN {
        out.push_str(&format!(
            "  … and {} more (--json lists them, `why_not_converged`)\n",
            why.len() - WHY_SHOWN
        ));
    }
    out
}

/// One line on RFC 3471 §9 events, when there were any: control channels lost and
/// resynchronized, neighbor restarts, LSPs recovered after a restart.
fn render_rsvp_recovery(report: &SimReport) -> String {
    let mut total = mplamps_rsvp::instance::Counters::default();
    for r in report.routers.iter().filter_map(|r| r.rsvp.as_ref()) {
        total.absorb(&r.counters);
    }
    let recovery = [
        total.control_channel_faults,
        total.resynchronizations,
        total.neighbor_restarts,
        total.recovered_lsps,
        total.unclaimed_lsps,
        total.stale_removed,
    ];
    if recovery.iter().all(|&n| n == 0) {
        return String::new();
    }
    let [lost, resynchronized, restarts, recovered, unclaimed, stale] = recovery;
    let messages = report.stats.rsvp_control_lost;
    format!(
        "\nRSVP-TE control plane (RFC 3471 §9): {lost} control channels lost, {resynchronized} resynchronized, {restarts} neighbor restarts seen, {recovered} LSP states recovered after a restart ({unclaimed} unclaimed), {stale} stale states removed; {messages} messages lost to a control channel or control plane that was down\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_says_how_far_and_how_fast() {
        let p = Progress {
            now: Duration::from_millis(2500),
            deadline: Duration::from_secs(60),
            events: 300_000,
        };
        assert_eq!(
            progress_text(p, false, Duration::from_secs(2)),
            "simulating: 2.500 s virtual of 60.000 s, 300000 events (150000/s), 2.0 s wall"
        );
        assert_eq!(
            progress_text(p, true, Duration::from_secs(3)),
            "simulating: 2.500 s virtual until converged, 300000 events (100000/s), 3.0 s wall"
        );
    }
}
