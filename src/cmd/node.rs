//! `mplamps node` runs one router of a topology on Linux interfaces; `mplamps show` asks a
//! running one what it holds (docs/daemon.md).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use mplamps_daemon::{DaemonConfig, RunOptions};

#[derive(clap::Args)]
pub struct Args {
    /// The topology file the router is in.
    #[arg(long)]
    topology: PathBuf,
    /// Which router of it to run.
    #[arg(long)]
    router: String,
    /// MODEL_PORT=LINUX_IFACE: the Linux interface of one of the router's links (a port
    /// "R:LC1:P1" or a link name). Without any, link i is on interface `mpl<i>` (a lab's).
    #[arg(long = "iface", value_name = "MODEL_PORT=LINUX_IFACE")]
    ifaces: Vec<String>,
    /// Where `mplamps show` finds the node: a Unix socket.
    #[arg(long, value_name = "PATH")]
    management: Option<PathBuf>,
    /// Log as JSON lines instead of text.
    #[arg(long)]
    log_json: bool,
}

/// The management socket of router `name` when none is given.
pub fn default_management(name: &str) -> PathBuf {
    PathBuf::from(format!("/run/mplamps/{name}.sock"))
}

pub fn run(args: Args) -> Result<()> {
    let net = super::load(&args.topology)?;
    let config = DaemonConfig::new(&net, &args.router, &args.ifaces)
        .with_context(|| format!("{}", args.topology.display()))?;
    let management = args
        .management
        .unwrap_or_else(|| default_management(&args.router));
    if let Some(dir) = management.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if args.log_json {
        logs.json().init();
    } else {
        logs.init();
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(mplamps_daemon::run(config, RunOptions { management }))?;
    Ok(())
}

#[derive(clap::Args)]
pub struct ShowArgs {
    /// The router to ask (its management socket is /run/mplamps/NAME.sock).
    #[arg(long)]
    node: String,
    /// Its management socket, when not the default.
    #[arg(long, value_name = "PATH")]
    management: Option<PathBuf>,
    #[command(subcommand)]
    what: Show,
    /// JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand, Clone, Copy)]
enum Show {
    /// OSPF protocol state.
    Ospf {
        #[arg(value_enum)]
        what: OspfShow,
    },
    /// The routes of the regular or the power tree.
    Routes {
        #[arg(long, value_enum, default_value_t = super::TreeArg::Regular)]
        tree: super::TreeArg,
    },
    /// What the node counted.
    Counters,
}

#[derive(ValueEnum, Clone, Copy)]
enum OspfShow {
    Neighbors,
    Database,
}

pub fn show(args: ShowArgs) -> Result<()> {
    let path = args
        .management
        .unwrap_or_else(|| default_management(&args.node));
    let part = match args.what {
        Show::Ospf {
            what: OspfShow::Neighbors,
        } => ask(&path, "view")?["neighbors"].clone(),
        Show::Ospf {
            what: OspfShow::Database,
        } => ask(&path, "ospf database")?,
        Show::Routes { tree } => ask(
            &path,
            match tree {
                super::TreeArg::Regular => "routes regular",
                super::TreeArg::Power => "routes power",
            },
        )?,
        Show::Counters => ask(&path, "view")?["ospf_counters"].clone(),
    };
    if args.json {
        return super::print_json(&part);
    }
    let mut out = String::new();
    match args.what {
        Show::Ospf {
            what: OspfShow::Database,
        } => {
            out.push_str("Type Link ID          ADV Router       Age  Seq#     CkSum\n");
            for l in part.as_array().into_iter().flatten() {
                out.push_str(&format!(
                    "{:<4} {:<16} {:<16} {:<4} {} {}\n",
                    l["ls_type"],
                    l["link_state_id"].as_str().unwrap_or("?"),
                    l["adv_router"].as_str().unwrap_or("?"),
                    l["age"],
                    l["sequence"].as_str().unwrap_or("?"),
                    l["checksum"].as_str().unwrap_or("?"),
                ));
            }
        }
        Show::Ospf { .. } => {
            out.push_str("Neighbor ID      Interface  State\n");
            for n in part.as_array().into_iter().flatten() {
                out.push_str(&format!(
                    "{:<16} {:<10} {}\n",
                    n["router_id"].as_str().unwrap_or("?"),
                    n["interface"],
                    n["state"].as_str().unwrap_or("?")
                ));
            }
        }
        Show::Routes { .. } => {
            out.push_str("Prefix             Cost      Next hops\n");
            for r in part.as_array().into_iter().flatten() {
                let hops: Vec<String> = r["next_hops"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|h| h[0].as_str().unwrap_or("?").to_string())
                    .collect();
                out.push_str(&format!(
                    "{:<18} {:<9} {}\n",
                    r["prefix"].as_str().unwrap_or("?"),
                    r["cost"],
                    hops.join(", ")
                ));
            }
        }
        Show::Counters => {
            for (k, v) in part.as_object().into_iter().flatten() {
                out.push_str(&format!("{k:<28} {v}\n"));
            }
        }
    }
    super::print_text(&out)
}

/// Sends `request` to the node at `path` and reads its JSON answer.
pub fn ask(path: &Path, request: &str) -> Result<serde_json::Value> {
    let mut stream = UnixStream::connect(path).with_context(|| {
        format!(
            "no node answers at {} (is `mplamps node` running there?)",
            path.display()
        )
    })?;
    writeln!(stream, "{request}")?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line)?;
    let value: serde_json::Value =
        serde_json::from_str(&line).with_context(|| format!("answer from {}", path.display()))?;
    if let Some(error) = value.get("error").and_then(|e| e.as_str()) {
        bail!("{}: {error}", path.display());
    }
    Ok(value)
}
