//! `mplamps demo`: the draft's area end to end — metrics, both trees, their differences and
//! pictures.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Result;
use mplamps_te::trees::{self, NodeReport, TreeKind, TreeReport};
use mplamps_te::{Network, power, render};
use serde::Serialize;

use crate::table::{Table, num};

/// The draft's topology ships inside the binary so the demo runs from any directory.
const DRAFT_AREA_PATH: &str = "examples/draft-area.toml";
const DRAFT_AREA: &str = include_str!("../../examples/draft-area.toml");
/// The GMPLS network whose LSPs the demo signals with RSVP-TE.
const GMPLS_PATH: &str = "examples/gmpls.toml";
const GMPLS: &str = include_str!("../../examples/gmpls.toml");

#[derive(clap::Args)]
pub struct Args {
    /// Where to write the DOT and SVG pictures.
    #[arg(long, default_value = "demo-out")]
    out: PathBuf,
    /// Root of both trees: by default B for the draft's area (the draft computes its power
    /// SPT on router B, §2.4), else the router with the most links.
    #[arg(long)]
    root: Option<String>,
    /// Use this topology instead of the draft's area (given first, or with --topology).
    #[command(flatten)]
    topology: super::TopologyArg,
    /// Print the report as one JSON document on standard output instead of tables.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct DemoReport<'a> {
    topology: String,
    metrics: &'a power::Metrics,
    regular: &'a TreeReport,
    power: &'a TreeReport,
    /// Routers whose next hops differ between the two trees.
    differences: Vec<String>,
    pictures: Vec<String>,
    simulation: SimCheck,
    /// RSVP-TE LSPs of examples/gmpls.toml, signaled in the simulator.
    gmpls: GmplsCheck,
    /// RFC 3251 §7.1's lamp, switched on over RSVP-TE on the CIGRE MV grid.
    lamp: super::demo_lamp::LampDemo,
}

#[derive(Serialize)]
struct GmplsCheck {
    topology: &'static str,
    converged: bool,
    lsps: Vec<mplamps_sim::rsvp::LspReport>,
}

/// Signals the LSPs of examples/gmpls.toml: a packet LSP on the power objective and a
/// bidirectional lambda across a wavelength-continuity domain, with its secondary.
fn signal_gmpls() -> Result<GmplsCheck> {
    let net = Network::from_toml(GMPLS_PATH, GMPLS).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut sim = mplamps_sim::Sim::new(net, 1, mplamps_sim::LinkModel::default());
    sim.start();
    let converged = sim.run(std::time::Duration::from_secs(600), true)?;
    Ok(GmplsCheck {
        topology: GMPLS_PATH,
        converged,
        lsps: sim.lsp_reports(),
    })
}

/// The network run in the simulator: every router's trees, computed from its own LSDB,
/// compared with the trees computed from the file.
#[derive(serde::Serialize)]
struct SimCheck {
    converged: bool,
    convergence_time_s: f64,
    wall_time_s: f64,
    events: u64,
    /// Every router's LSDB equals the others' of its connected part.
    identical_lsdbs: bool,
    /// Sizes of the network's connected parts, largest first (one when connected): each
    /// part floods on its own, so LSDBs are compared within a part.
    connected_parts: Vec<usize>,
    /// Routers whose LSDB trees (both kinds) equal the file's.
    routers_matching_file: usize,
    routers: usize,
    /// One flow on each tree through the MPLS data plane (LDP labels, draft §2.4.5).
    flows: Vec<mplamps_sim::mpls::Trace>,
}

/// Flows of 1 Gb/s or more ride the power tree when the file sets no policy of its own.
fn demo_policy(net: &mut Network) {
    net.ldp.enabled = true;
    if net.fec_policy.is_empty() {
        net.fec_policy.push(mplamps_te::topology::FecPolicy {
            prefix: std::net::Ipv4Addr::UNSPECIFIED,
            prefix_len: 0,
            min_rate: mplamps_core::Bandwidth::from_bps(1e9),
            tree: mplamps_core::fec::Topology::Power,
            lsp: None,
        });
    }
}

fn simulate(
    net: &Network,
    metrics: &power::Metrics,
    root: usize,
    power_tree: &TreeReport,
    differences: &[String],
) -> Result<SimCheck> {
    let started = std::time::Instant::now();
    let mut with_ldp = net.clone();
    demo_policy(&mut with_ldp);
    let mut sim = mplamps_sim::Sim::new(with_ldp, 1, mplamps_sim::LinkModel::default());
    sim.start();
    let converged = sim.run(std::time::Duration::from_secs(3600), true)?;
    let wall_time_s = started.elapsed().as_secs_f64();
    let parts = net.components();
    let identical_lsdbs = parts.iter().all(|part| {
        let digests: Vec<Option<u64>> = part
            .iter()
            .map(|&r| sim.instance(r).map(|i| i.lsdb().digest()))
            .collect();
        digests.windows(2).all(|w| w[0] == w[1])
    });
    let routers_matching_file = (0..net.routers.len())
        .filter(|&r| {
            sim.trees_of(r).is_some_and(|t| {
                trees::compute(net, metrics, TreeKind::Power, r).nodes == t.power
                    && trees::compute(net, metrics, TreeKind::Regular, r).nodes == t.regular
            })
        })
        .count();
    // The flow goes where the trees differ most: the farthest such router on the power tree.
    let destination = power_tree
        .nodes
        .iter()
        .max_by(|a, b| {
            let key = |n: &NodeReport| (differences.contains(&n.name), n.distance);
            key(a)
                .partial_cmp(&key(b))
                .unwrap_or(std::cmp::Ordering::Equal)
        })
        .map(|n| n.name.clone());
    let mut flows = Vec::new();
    if let Some(dst) = destination {
        let src = &net.routers[root].name;
        let big = mplamps_core::Bandwidth::from_bps(2e9);
        flows.push(sim.trace(src, &dst, big)?);
        flows.push(sim.trace(src, &dst, None)?);
    }
    Ok(SimCheck {
        flows,
        converged,
        convergence_time_s: sim.last_change.as_secs_f64(),
        wall_time_s,
        events: sim.stats.events,
        identical_lsdbs,
        connected_parts: parts.iter().map(Vec::len).collect(),
        routers_matching_file,
        routers: net.routers.len(),
    })
}

pub fn run(args: Args) -> Result<()> {
    let (source, net) = match args.topology.given() {
        Some(path) => (path.display().to_string(), super::load(path)?),
        None => (
            DRAFT_AREA_PATH.to_string(),
            Network::from_toml(DRAFT_AREA_PATH, DRAFT_AREA).map_err(|e| anyhow::anyhow!("{e}"))?,
        ),
    };
    let root = match &args.root {
        Some(name) => super::router_index(&net, name)?,
        None if args.topology.given().is_none() => super::router_index(&net, "B")?,
        None => best_connected(&net),
    };
    let metrics = power::compute(&net);
    let regular = trees::compute(&net, &metrics, TreeKind::Regular, root);
    let power_tree = trees::compute(&net, &metrics, TreeKind::Power, root);
    let differences = differing(&regular, &power_tree);

    let mut pictures = Vec::new();
    for (tree, other) in [(&regular, &power_tree), (&power_tree, &regular)] {
        let stem = args.out.join(tree.tree.name());
        let dot = render::dot(&net, &metrics, tree, Some(&other.dag_links));
        let svg = render::svg(&net, &metrics, tree, Some(&other.dag_links));
        pictures.push(super::write_file(&stem.with_extension("dot"), &dot)?);
        pictures.push(super::write_file(&stem.with_extension("svg"), &svg)?);
    }
    let pictures: Vec<String> = pictures.iter().map(|p| p.display().to_string()).collect();
    let simulation = simulate(&net, &metrics, root, &power_tree, &differences)?;
    let gmpls = signal_gmpls()?;
    let lamp = super::demo_lamp::run()?;
    let all_up = gmpls
        .lsps
        .iter()
        .all(|l| l.state == mplamps_sim::rsvp::RunState::Up);

    if args.json {
        return super::print_json(&DemoReport {
            topology: source,
            metrics: &metrics,
            regular: &regular,
            power: &power_tree,
            differences,
            pictures,
            simulation,
            gmpls,
            lamp,
        });
    }
    let color = std::io::stdout().is_terminal();
    println!(
        "mplamps demo: {} ({source})\n",
        net.name.as_deref().unwrap_or("network")
    );
    print!("{}", super::metrics::render(&net, &metrics));
    println!();
    print!("{}", compare(&regular, &power_tree, color));
    println!();
    println!(
        "Pictures (regular tree in blue, power tree in green, orange where the trees differ):"
    );
    for p in &pictures {
        println!("  {p}");
    }
    let s = &simulation;
    if let Some(warning) = super::disconnected_warning(&s.connected_parts) {
        println!("\nNote: {warning}; LSDBs are compared within each part.");
    }
    println!(
        "\nSimulator: {} OSPF-TE routers {} at {:.3} s virtual ({:.3} s wall, {} events); LSDBs {}; \
the trees each router computes from its own LSDB equal the file's for {} of {} routers.",
        s.routers,
        if s.converged {
            "converged"
        } else {
            "did NOT converge"
        },
        s.convergence_time_s,
        s.wall_time_s,
        s.events,
        if s.identical_lsdbs {
            "identical"
        } else {
            "DIFFER"
        },
        s.routers_matching_file,
        s.routers
    );
    println!(
        "\nLDP labels both trees from disjoint ranges; a 2 Gb/s flow rides the power tree, a small one the regular tree:"
    );
    for flow in &s.flows {
        println!();
        print!("{}", super::sim::render_trace(flow));
    }
    println!(
        "\nRSVP-TE on {}: a packet LSP on the power objective, a bidirectional lambda that needs one \
wavelength end to end with an SRLG-disjoint secondary through a converter, and extra traffic on \
the secondary's resources:\n",
        gmpls.topology
    );
    print!("{}", super::sim::render_lsps(&gmpls.lsps));
    println!();
    print!("{}", super::demo_lamp::render(&lamp));
    if lamp.lamp.state != mplamps_lamps::lamps::LampState::On {
        anyhow::bail!("the demo lamp did not light");
    }
    if !gmpls.converged || !all_up {
        anyhow::bail!("an RSVP-TE LSP of the demo did not come up");
    }
    if s.flows.iter().any(|f| !f.delivered) {
        anyhow::bail!("a demo flow was not delivered");
    }
    if !s.converged || !s.identical_lsdbs || s.routers_matching_file != s.routers {
        anyhow::bail!("the simulated network does not agree with the file");
    }
    Ok(())
}

/// The router with the most links (the first of them): a root whose trees reach far.
fn best_connected(net: &Network) -> usize {
    let mut degree = vec![0usize; net.routers.len()];
    for link in &net.links {
        for end in [link.a.router, link.b.router] {
            if let Some(d) = degree.get_mut(end) {
                *d += 1;
            }
        }
    }
    degree
        .iter()
        .enumerate()
        .max_by_key(|&(i, d)| (*d, std::cmp::Reverse(i)))
        .map_or(0, |(i, _)| i)
}

fn differing(regular: &TreeReport, power: &TreeReport) -> Vec<String> {
    let power_nodes: BTreeMap<&str, &NodeReport> =
        power.nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    let mut names: Vec<String> = regular
        .nodes
        .iter()
        .filter(|n| {
            power_nodes
                .get(n.name.as_str())
                .is_none_or(|p| p.next_hops != n.next_hops || p.parents != n.parents)
        })
        .map(|n| n.name.clone())
        .collect();
    names.extend(
        power
            .nodes
            .iter()
            .filter(|n| !regular.nodes.iter().any(|r| r.name == n.name))
            .map(|n| n.name.clone()),
    );
    names.sort();
    names
}

/// Both trees side by side; rows where they differ are marked (and bold on a terminal).
fn compare(regular: &TreeReport, power: &TreeReport, color: bool) -> String {
    let differences = differing(regular, power);
    let find =
        |tree: &'_ TreeReport, name: &str| tree.nodes.iter().find(|n| n.name == name).cloned();
    let mut names: Vec<&str> = regular.nodes.iter().map(|n| n.name.as_str()).collect();
    names.extend(regular.unreachable.iter().map(String::as_str));
    names.sort();
    let mut table = Table::new([
        "",
        "router",
        "regular cost",
        "regular parents",
        "regular next hops",
        "power cost",
        "power parents",
        "power next hops",
    ]);
    for name in names {
        let r = find(regular, name);
        let p = find(power, name);
        let mark = if differences.iter().any(|d| d == name) {
            "*"
        } else {
            ""
        };
        table.row(vec![
            mark.to_string(),
            name.to_string(),
            num(r.as_ref().map(|n| n.distance)),
            r.as_ref().map_or("-".into(), |n| n.parents.join(",")),
            r.as_ref().map_or("-".into(), |n| n.next_hops.join(",")),
            num(p.as_ref().map(|n| n.distance)),
            p.as_ref().map_or("-".into(), |n| n.parents.join(",")),
            p.as_ref().map_or("-".into(), |n| n.next_hops.join(",")),
        ]);
    }
    let mut out = format!(
        "Regular (IGP cost) and power (PWRLINK) trees from {}; * marks routers reached differently\n",
        regular.root
    );
    for line in table.render().lines() {
        if color && line.starts_with('*') {
            out.push_str(&format!("\x1b[1;33m{line}\x1b[0m\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
