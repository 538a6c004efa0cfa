//! Subcommands. Every report prints as a table, or as JSON with `--json`.

mod bench;
mod bench_forward;
mod bench_lamps;
mod bench_load;
mod bench_rsvp;
mod demo;
mod demo_lamp;
mod energy;
mod generate;
mod grid_sim;
mod import;
mod lab;
mod lab_frr;
mod lab_hosts;
mod lab_status;
mod metrics;
mod node;
mod show;
mod sim;
mod sim_traffic;
mod spf;
mod status_line;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use mplamps_te::Network;
use mplamps_te::trees::TreeKind;

#[derive(Parser)]
#[command(
    name = "mplamps",
    version,
    about = "A power-aware GMPLS control plane: power metrics, power SPT, OSPF-TE, LDP, RSVP-TE, MPLampS"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The tour: the draft's area, its power metrics, the regular and the power tree, pictures.
    Demo(demo::Args),
    /// Power metrics of every link and port (draft §2 to §2.4.1).
    Metrics(metrics::Args),
    /// The regular or the power shortest-path tree from one router.
    Spf(spf::Args),
    /// How much power the power tree saves: the file's demands on the regular tree, the
    /// power tree and the power tree with idle links asleep, at several load scales.
    Energy(energy::Args),
    /// Run the network's OSPF-TE routers in the deterministic simulator.
    Sim(sim::Args),
    /// Convert another format into a topology file.
    #[command(subcommand)]
    Import(import::Format),
    /// Write a synthetic, connected topology for scale tests.
    Generate(generate::Args),
    /// Measure the engines against a peer on the same input in the same run.
    #[command(subcommand)]
    Bench(bench::Which),
    /// Run one router of a topology on Linux interfaces (OSPF-TE, LDP, RSVP-TE).
    Node(node::Args),
    /// Ask a running `mplamps node` what it holds.
    Show(show::ShowArgs),
    /// A topology as a lab of network namespaces running `mplamps node`.
    #[command(subcommand)]
    Lab(lab::Lab),
}

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Metrics(args) => metrics::run(args),
        Command::Spf(args) => spf::run(args),
        Command::Energy(args) => energy::run(args),
        Command::Sim(args) => sim::run(args),
        Command::Import(format) => import::run(format),
        Command::Generate(args) => generate::run(args),
        Command::Bench(which) => bench::run(which),
        Command::Node(args) => node::run(args),
        Command::Show(args) => show::show(args),
        Command::Lab(lab) => lab::run(lab),
    }
}

/// A simulation that did not converge: the report is printed, and the process exits
/// with status 2 (1 is for errors that leave no report).
#[derive(Debug)]
pub struct NotConverged {
    pub first: String,
    pub more: usize,
}

impl std::fmt::Display for NotConverged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the network did not converge: {}", self.first)?;
        if self.more > 0 {
            write!(f, " (and {} more reasons in the report)", self.more)?;
        }
        Ok(())
    }
}

impl std::error::Error for NotConverged {}

/// Says that a network with more than one connected part (sizes largest first) is
/// disconnected; `None` when it is connected.
pub fn disconnected_warning(part_sizes: &[usize]) -> Option<String> {
    if part_sizes.len() < 2 {
        return None;
    }
    let mut sizes: Vec<String> = part_sizes.iter().take(8).map(usize::to_string).collect();
    if part_sizes.len() > 8 {
        sizes.push("…".into());
    }
    Some(format!(
        "the network is disconnected: {} parts of {} routers; each part floods and routes on its own, and no tree reaches across",
        part_sizes.len(),
        sizes.join(", ")
    ))
}

/// Refuses a run of `nodes` routers that would need more memory than the machine has
/// available (`bytes_per_node`, measured for the command), before it starts rather than
/// after it has filled the memory.
pub fn check_memory(command: &str, nodes: usize, bytes_per_node: u64) -> Result<()> {
    let Some(available) = available_memory() else {
        return Ok(());
    };
    let needed = (nodes as u64).saturating_mul(bytes_per_node);
    if needed > available {
        anyhow::bail!(
            "{command} of {nodes} routers needs about {} of memory and this machine has {} available: at most about {} routers",
            human_bytes(needed),
            human_bytes(available),
            available / bytes_per_node
        );
    }
    Ok(())
}

/// MemAvailable of /proc/meminfo, in bytes; `None` where it cannot be read.
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn human_bytes(bytes: u64) -> String {
    let gib = bytes as f64 / f64::from(1u32 << 30);
    if gib >= 1024.0 {
        format!("{:.1} TiB", gib / 1024.0)
    } else if gib >= 1.0 {
        format!("{gib:.1} GiB")
    } else {
        format!("{:.0} MiB", bytes as f64 / f64::from(1u32 << 20))
    }
}

/// The topology file, named the same way in every command: `mplamps CMD FILE` or, the
/// older form, `mplamps CMD --topology FILE` (`-t FILE`).
#[derive(clap::Args)]
pub struct TopologyArg {
    /// Topology file (docs/topology-format.md).
    #[arg(value_name = "TOPOLOGY")]
    file: Option<PathBuf>,
    /// The topology file, as an option (the same as giving it first).
    #[arg(
        long = "topology",
        short = 't',
        value_name = "TOPOLOGY",
        conflicts_with = "file"
    )]
    flag: Option<PathBuf>,
}

impl TopologyArg {
    /// The file, if one was given.
    pub fn given(&self) -> Option<&Path> {
        self.file.as_deref().or(self.flag.as_deref())
    }

    /// The file, which `command` needs.
    pub fn required(&self, command: &str) -> Result<&Path> {
        self.given().ok_or_else(|| {
            anyhow::anyhow!("{command} needs a topology file: mplamps {command} TOPOLOGY.toml")
        })
    }
}

/// How a benchmark figure stands against its target, in words.
pub fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

/// Which tree, on the command line.
#[derive(Clone, Copy, ValueEnum)]
pub enum TreeArg {
    Regular,
    Power,
}

impl From<TreeArg> for TreeKind {
    fn from(arg: TreeArg) -> Self {
        match arg {
            TreeArg::Regular => TreeKind::Regular,
            TreeArg::Power => TreeKind::Power,
        }
    }
}

pub fn load(path: &Path) -> Result<Network> {
    Network::load(path).map_err(|errors| anyhow::anyhow!("{errors}"))
}

pub fn router_index(net: &Network, name: &str) -> Result<usize> {
    net.router_index(name).ok_or_else(|| {
        let mut known: Vec<&str> = net
            .routers
            .iter()
            .take(20)
            .map(|r| r.name.as_str())
            .collect();
        if net.routers.len() > 20 {
            known.push("...");
        }
        anyhow::anyhow!(
            "no router named {name:?} in the topology (routers: {})",
            known.join(", ")
        )
    })
}

/// Writes a text report to standard output. Unlike `print!`, a reader that went away
/// (`mplamps sim big.toml | head`) is an error the caller can end on quietly, not a panic.
pub fn print_text(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("writing to standard output")
}

pub fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    // Stdout is line-buffered, and pretty JSON is many short lines: a large report would
    // otherwise take one write per line.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value).context("writing JSON")?;
    writeln!(out)?;
    out.flush().context("writing JSON")?;
    Ok(())
}

pub fn write_file(path: &Path, contents: &str) -> Result<PathBuf> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, contents).with_context(|| format!("writing {}", path.display()))?;
    Ok(path.to_path_buf())
}

/// Most routers a gravity matrix is made for: it holds a demand per ordered pair.
const GRAVITY_MAX_ROUTERS: usize = 2_000;

/// The seeded gravity model's demands for `routers` routers (`mplamps_te::gravity`).
fn gravity_demands(
    routers: usize,
    total: mplamps_core::Bandwidth,
    seed: u64,
) -> anyhow::Result<Vec<mplamps_te::topology::Demand>> {
    if routers > GRAVITY_MAX_ROUTERS {
        anyhow::bail!(
            "--gravity: {routers} routers would make {} demands (one per ordered pair); \
             the gravity model is offered up to {GRAVITY_MAX_ROUTERS} routers",
            routers * (routers - 1)
        );
    }
    if total.bps() <= 0.0 {
        anyhow::bail!("--gravity: expected a total rate above zero, got {total}");
    }
    Ok(mplamps_te::gravity::gravity(routers, total, seed))
}
