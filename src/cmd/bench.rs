//! `mplamps bench spf`: our full and incremental SPF against petgraph's Dijkstra on the same
//! graph, in the same run.

use std::io::IsTerminal;
use std::time::Instant;

use anyhow::{Result, bail};
use mplamps_te::generate::generate;
use mplamps_te::power;
use mplamps_te::spf::Spt;
use mplamps_te::trees::{self, TreeKind};
use petgraph::graph::{NodeIndex, UnGraph};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::TreeArg;
use crate::table::{Table, num};

#[derive(clap::Subcommand)]
pub enum Which {
    /// Full and incremental SPF versus petgraph::algo::dijkstra.
    Spf(SpfArgs),
    /// RSVP-TE LSP setups per second through one transit node, and memory per LSP.
    Rsvp(super::bench_rsvp::RsvpArgs),
    /// Lamp turn-on latency and lamps switched per second on a grid, against admission by
    /// power flow (pandapower).
    Lamps(super::bench_lamps::LampArgs),
    /// Loading a generated topology file, against the TOML parser alone on the same text.
    Load(super::bench_load::LoadArgs),
    /// The user-space data plane against the kernel's IP forwarding between network
    /// namespaces: packets per second per core, Mb/s, latency (needs root).
    Forward(super::bench_forward::ForwardArgs),
}

#[derive(clap::Args)]
pub struct SpfArgs {
    #[arg(long, default_value_t = 10_000)]
    nodes: usize,
    #[arg(long, default_value_t = 4.0)]
    degree: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How many roots to time (the figures are medians over them).
    #[arg(long, default_value_t = 7)]
    roots: usize,
    /// Costs to use: IGP metrics or PWRLINK.
    #[arg(long, value_enum, default_value = "power")]
    tree: TreeArg,
    /// Print the report as one JSON document on standard output instead of tables.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct SpfBench {
    nodes: usize,
    links: usize,
    tree: TreeKind,
    roots: usize,
    ours_full_ms: f64,
    ours_incremental_ms: f64,
    petgraph_ms: f64,
    /// ours_full_ms ÷ petgraph_ms (target ≤ 0.5).
    full_vs_petgraph: f64,
    /// ours_full_ms ÷ ours_incremental_ms (target ≥ 10).
    incremental_speedup: f64,
    /// full_vs_petgraph ≤ 0.5.
    full_target_met: bool,
    /// incremental_speedup ≥ 10.
    incremental_target_met: bool,
}

pub fn run(which: Which) -> Result<()> {
    let args = match which {
        Which::Spf(args) => args,
        Which::Rsvp(args) => return super::bench_rsvp::run(args),
        Which::Lamps(args) => return super::bench_lamps::run(args),
        Which::Load(args) => return super::bench_load::run(args),
        Which::Forward(args) => return super::bench_forward::run(args),
    };
    let progress = std::io::stderr().is_terminal();
    if args.roots == 0 {
        bail!("--roots must be at least 1");
    }
    if progress {
        eprintln!(
            "generating {} nodes, degree {} ...",
            args.nodes, args.degree
        );
    }
    // Peak memory per router of the SPF bench, measured at 100 000 routers, with room.
    super::check_memory("bench spf", args.nodes, 6 * 1024)?;
    let net = generate(args.nodes, args.degree, args.seed)?;
    let metrics = power::compute(&net);
    let kind: TreeKind = args.tree.into();
    let mut graph = trees::graph(&net, &metrics, kind);
    let peer = petgraph_of(&graph);
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed ^ 0x5eed);
    let (mut full, mut incremental, mut petgraph_times) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..args.roots {
        let root = rng.random_range(0..args.nodes as u32);
        if progress {
            eprint!("\rroot {}/{} ...", i + 1, args.roots);
        }
        let started = Instant::now();
        let peer_dist =
            petgraph::algo::dijkstra(&peer, NodeIndex::new(root as usize), None, |e| *e.weight());
        petgraph_times.push(started.elapsed().as_secs_f64() * 1e3);

        let started = Instant::now();
        let mut spt = Spt::compute(&graph, root);
        full.push(started.elapsed().as_secs_f64() * 1e3);
        check_same_distances(&spt, |v| peer_dist.get(&v).copied())?;

        // One link's cost changes (×0.5 to ×2, or the link goes down), then changes back.
        for _ in 0..5 {
            let link = rng.random_range(0..graph.link_count() as u32);
            let Some((_, _, old)) = graph.link(link) else {
                continue;
            };
            let new = if rng.random_bool(0.2) || !old.is_finite() {
                f64::INFINITY
            } else {
                old * rng.random_range(0.5..2.0)
            };
            for cost in [new, old] {
                let started = Instant::now();
                spt.update_link_cost(&mut graph, link, cost);
                incremental.push(started.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    if progress {
        eprintln!("\r{:30}", "");
    }
    let result = SpfBench {
        nodes: graph.node_count(),
        links: graph.link_count(),
        tree: kind,
        roots: args.roots,
        ours_full_ms: median(&mut full),
        ours_incremental_ms: median(&mut incremental),
        petgraph_ms: median(&mut petgraph_times),
        full_vs_petgraph: median(&mut full) / median(&mut petgraph_times),
        incremental_speedup: median(&mut full) / median(&mut incremental),
        full_target_met: false,
        incremental_target_met: false,
    };
    let result = SpfBench {
        full_target_met: result.full_vs_petgraph <= 0.5,
        incremental_target_met: result.incremental_speedup >= 10.0,
        ..result
    };
    if args.json {
        return super::print_json(&result);
    }
    let mut table = Table::new(["engine", "median ms", "vs petgraph", "vs our full"]);
    table.row(vec![
        "petgraph::algo::dijkstra".into(),
        num(Some(result.petgraph_ms)),
        "1".into(),
        "-".into(),
    ]);
    table.row(vec![
        "mplamps full SPF (ECMP DAG + first hops)".into(),
        num(Some(result.ours_full_ms)),
        num(Some(result.full_vs_petgraph)),
        "1".into(),
    ]);
    table.row(vec![
        "mplamps incremental SPF (one link change)".into(),
        num(Some(result.ours_incremental_ms)),
        num(Some(result.ours_incremental_ms / result.petgraph_ms)),
        num(Some(1.0 / result.incremental_speedup)),
    ]);
    println!(
        "SPF on {} nodes, {} links ({} costs), medians over {} roots\n",
        result.nodes,
        result.links,
        kind.name(),
        result.roots
    );
    print!("{}", table.render());
    println!(
        "\nfull ÷ petgraph = {:.3} (target ≤ 0.5: {}); full ÷ incremental = {:.1} (target ≥ 10: {})",
        result.full_vs_petgraph,
        super::verdict(result.full_target_met),
        result.incremental_speedup,
        super::verdict(result.incremental_target_met)
    );
    Ok(())
}

fn petgraph_of(graph: &mplamps_te::spf::Graph) -> UnGraph<(), f64> {
    let mut g = UnGraph::with_capacity(graph.node_count(), graph.link_count());
    for _ in 0..graph.node_count() {
        g.add_node(());
    }
    g.extend_with_edges(graph.usable_links());
    g
}

fn check_same_distances(spt: &Spt, peer: impl Fn(NodeIndex) -> Option<f64>) -> Result<()> {
    for (v, d) in spt.distances().enumerate() {
        let theirs = peer(NodeIndex::new(v)).unwrap_or(f64::INFINITY);
        let same = (d.is_infinite() && theirs.is_infinite())
            || (d - theirs).abs() <= 1e-9 * d.abs().max(1.0);
        if !same {
            bail!("distance mismatch at node {v}: ours {d}, petgraph {theirs}");
        }
    }
    Ok(())
}

pub(super) fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or(f64::NAN)
}
