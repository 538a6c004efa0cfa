//! `mplamps node` runs one router of a topology on Linux interfaces (docs/daemon.md).

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result};
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
    /// Run LDP (UDP and TCP 646) also when the topology file has no `[ldp]` table.
    #[arg(long)]
    ldp: bool,
    /// Leave the kernel's routing table alone: the regular tree's routes are not
    /// installed (LDP sessions to loopbacks then need routes from elsewhere).
    #[arg(long)]
    no_kernel_routes: bool,
    /// Log as JSON lines instead of text.
    #[arg(long)]
    log_json: bool,
    /// Write what the node sends and receives to this pcap file (raw IPv4; docs/daemon.md).
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// Forward MPLS and host traffic in user space, from the node's own tables, on every
    /// interface and host port (packet sockets; docs/daemon.md). The kernel must not
    /// forward IPv4 itself then (`sysctl net.ipv4.ip_forward=0`).
    #[arg(long)]
    dataplane: bool,
}

/// The management socket of router `name` when none is given.
pub fn default_management(name: &str) -> PathBuf {
    PathBuf::from(format!("/run/mplamps/{name}.sock"))
}

/// The router's configuration, read from the topology file as `args` say.
fn read_config(args: &Args, incarnation: u32) -> Result<DaemonConfig> {
    let mut net = super::load(&args.topology)?;
    net.ldp.enabled |= args.ldp;
    Ok(DaemonConfig::new(&net, &args.router, &args.ifaces)
        .with_context(|| format!("{}", args.topology.display()))?
        .with_incarnation(incarnation))
}

pub fn run(args: Args) -> Result<()> {
    // Seconds of the wall clock (until 2106): a restarted node's sequence numbers and
    // instance go on from where the last run's were.
    let incarnation = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX));
    let config = read_config(&args, incarnation)?;
    let management = args
        .management
        .clone()
        .unwrap_or_else(|| default_management(&args.router));
    if let Some(dir) = management.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only on a terminal: a lab's node logs to a file.
        .with_ansi(std::io::stderr().is_terminal());
    if args.log_json {
        logs.json().init();
    } else {
        logs.init();
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let options = RunOptions {
        management,
        kernel_routes: !args.no_kernel_routes,
        pcap: args.pcap.clone(),
        dataplane: args.dataplane,
    };
    // SIGHUP reads the same file again, for the same router on the same interfaces.
    let reload: mplamps_daemon::Reload =
        Box::new(move || read_config(&args, incarnation).map_err(|e| format!("{e:#}")));
    runtime.block_on(mplamps_daemon::run(config, options, reload))?;
    Ok(())
}
