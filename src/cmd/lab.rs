//! `mplamps lab`: a topology as a lab of network namespaces on this machine, one per router,
//! a veth pair per link with the topology's addressing, and `mplamps node` in each
//! (docs/daemon.md). A state file in the lab's directory lets `lab down` remove everything
//! the lab made, also after the lab command itself died.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use mplamps_daemon::config::lab_interface;
use serde::{Deserialize, Serialize};

#[derive(Subcommand)]
pub enum Lab {
    /// Makes the namespaces and links and starts a node in each.
    Up {
        /// The topology file.
        topology: PathBuf,
        #[command(flatten)]
        dir: LabDir,
    },
    /// Stops the nodes and removes what `lab up` made.
    Down {
        #[command(flatten)]
        dir: LabDir,
    },
    /// Who runs, and each node's OSPF adjacencies and database.
    Status {
        #[command(flatten)]
        dir: LabDir,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Waits (up to this many seconds) until every adjacency is Full and every
        /// database the same; fails when that does not come.
        #[arg(long, value_name = "SECONDS")]
        wait: Option<u64>,
    },
    /// Runs a command in a router's namespace.
    Exec {
        router: String,
        #[arg(trailing_var_arg = true, required = true)]
        command: Vec<String>,
        #[command(flatten)]
        dir: LabDir,
    },
}

#[derive(clap::Args)]
pub struct LabDir {
    /// Where the lab keeps its state, logs and management sockets.
    #[arg(long, default_value = "/run/mplamps/lab")]
    dir: PathBuf,
}

/// What a lab made, written before it is made.
#[derive(Serialize, Deserialize, Default)]
struct LabState {
    topology: PathBuf,
    routers: Vec<LabRouter>,
}

#[derive(Serialize, Deserialize, Clone)]
struct LabRouter {
    name: String,
    namespace: String,
    pid: Option<u32>,
}

const STATE: &str = "lab.json";

pub fn run(lab: Lab) -> Result<()> {
    match lab {
        Lab::Up { topology, dir } => up(&topology, &dir.dir),
        Lab::Down { dir } => down(&dir.dir),
        Lab::Status { dir, json, wait } => status(&dir.dir, json, wait),
        Lab::Exec {
            router,
            command,
            dir,
        } => exec(&dir.dir, &router, &command),
    }
}

fn namespace_of(router: &str) -> String {
    format!("mpl-{router}")
}

fn socket_of(dir: &Path, router: &str) -> PathBuf {
    dir.join(format!("{router}.sock"))
}

/// Runs `ip ARGS`, naming what failed.
fn ip(args: &[&str]) -> Result<()> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .context("running `ip` (package iproute2)")?;
    if !out.status.success() {
        bail!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0")
    })
}

fn read_state(dir: &Path) -> Result<LabState> {
    let path = dir.join(STATE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("no lab at {} (no {})", dir.display(), path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}", path.display()))
}

fn write_state(dir: &Path, state: &LabState) -> Result<()> {
    let path = dir.join(STATE);
    std::fs::write(&path, serde_json::to_string_pretty(state)?)
        .with_context(|| format!("writing {}", path.display()))
}

fn up(topology: &Path, dir: &Path) -> Result<()> {
    if !is_root() {
        bail!("`mplamps lab up` makes network namespaces and needs root");
    }
    let net = super::load(topology)?;
    let topology = std::fs::canonicalize(topology)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if dir.join(STATE).exists() {
        bail!(
            "a lab runs at {} already: `mplamps lab down --dir {}` first",
            dir.display(),
            dir.display()
        );
    }
    let mut state = LabState {
        topology: topology.clone(),
        routers: net
            .routers
            .iter()
            .map(|r| LabRouter {
                name: r.name.clone(),
                namespace: namespace_of(&r.name),
                pid: None,
            })
            .collect(),
    };
    // Written first: a lab that fails half-way is still removed by `lab down`.
    write_state(dir, &state)?;
    for router in &net.routers {
        let ns = namespace_of(&router.name);
        ip(&["netns", "add", &ns]).context("making a network namespace")?;
        ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        let id = format!("{}/32", router.router_id.to_ipv4());
        ip(&["-n", &ns, "addr", "add", &id, "dev", "lo"])?;
    }
    for (l, link) in net.links.iter().enumerate() {
        let name = lab_interface(l);
        let (a, b) = (
            namespace_of(&net.routers[link.a.router].name),
            namespace_of(&net.routers[link.b.router].name),
        );
        ip(&[
            "link", "add", &name, "netns", &a, "type", "veth", "peer", "name", &name, "netns", &b,
        ])?;
        let addresses = net.link_addresses(l);
        for (end, ns) in [&a, &b].into_iter().enumerate() {
            if let Some(address) = addresses.map(|pair| pair[end]) {
                let cidr = format!("{}/{}", address.addr, address.prefix_len);
                ip(&["-n", ns, "addr", "add", &cidr, "dev", &name])?;
            }
            ip(&["-n", ns, "link", "set", &name, "up"])?;
        }
    }
    let exe = std::env::current_exe().context("finding the mplamps binary")?;
    for router in &mut state.routers {
        let log = dir.join(format!("{}.log", router.name));
        let log = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let child = Command::new("ip")
            .args(["netns", "exec", &router.namespace])
            .arg(&exe)
            .args(["node", "--topology"])
            .arg(&topology)
            .args(["--router", &router.name, "--management"])
            .arg(socket_of(dir, &router.name))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting the node of {}", router.name))?;
        router.pid = Some(child.id());
    }
    write_state(dir, &state)?;
    println!(
        "lab up: {} routers, {} links in {} (`mplamps lab status --dir {}`)",
        net.routers.len(),
        net.links.len(),
        dir.display(),
        dir.display()
    );
    Ok(())
}

fn down(dir: &Path) -> Result<()> {
    let state = read_state(dir)?;
    for router in &state.routers {
        if let Some(pid) = router.pid {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    }
    // The nodes stop on SIGTERM; give them a moment before their namespaces go.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline
        && state
            .routers
            .iter()
            .filter_map(|r| r.pid)
            .any(|pid| Path::new(&format!("/proc/{pid}")).exists())
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut failed = Vec::new();
    for router in &state.routers {
        let exists = Path::new("/run/netns").join(&router.namespace).exists();
        if exists && let Err(e) = ip(&["netns", "del", &router.namespace]) {
            failed.push(format!("{e:#}"));
        }
    }
    let _ = std::fs::remove_file(dir.join(STATE));
    if !failed.is_empty() {
        bail!("lab down left things behind: {}", failed.join("; "));
    }
    println!("lab down: {} routers removed", state.routers.len());
    Ok(())
}

/// One router's state, from its management socket.
#[derive(Serialize)]
struct RouterStatus {
    router: String,
    running: bool,
    neighbors: usize,
    full: usize,
    lsa_count: u64,
    lsdb_digest: String,
}

fn status(dir: &Path, json: bool, wait: Option<u64>) -> Result<()> {
    let state = read_state(dir)?;
    let deadline = wait.map(|s| Instant::now() + Duration::from_secs(s));
    loop {
        let rows: Vec<RouterStatus> = state
            .routers
            .iter()
            .map(|r| {
                let view = super::node::ask(&socket_of(dir, &r.name), "view").ok();
                let neighbors = view
                    .as_ref()
                    .and_then(|v| v["neighbors"].as_array().cloned())
                    .unwrap_or_default();
                RouterStatus {
                    router: r.name.clone(),
                    running: view.is_some(),
                    full: neighbors.iter().filter(|n| n["state"] == "Full").count(),
                    neighbors: neighbors.len(),
                    lsa_count: view
                        .as_ref()
                        .and_then(|v| v["lsa_count"].as_u64())
                        .unwrap_or(0),
                    lsdb_digest: view
                        .as_ref()
                        .and_then(|v| v["lsdb_digest"].as_str().map(str::to_owned))
                        .unwrap_or_default(),
                }
            })
            .collect();
        let settled = rows
            .iter()
            .all(|r| r.running && r.full == r.neighbors && r.neighbors > 0)
            && rows
                .windows(2)
                .all(|w| w[0].lsdb_digest == w[1].lsdb_digest);
        let Some(deadline) = deadline.filter(|_| !settled) else {
            print_status(&rows, json)?;
            return Ok(());
        };
        if Instant::now() >= deadline {
            print_status(&rows, json)?;
            bail!("the lab did not settle in {} s", wait.unwrap_or(0));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn print_status(rows: &[RouterStatus], json: bool) -> Result<()> {
    if json {
        return super::print_json(&rows);
    }
    let mut out = String::from("Router           Running  Full/Nbrs  LSAs  LSDB digest\n");
    for r in rows {
        out.push_str(&format!(
            "{:<16} {:<8} {:>4}/{:<4}  {:>4}  {}\n",
            r.router,
            if r.running { "yes" } else { "no" },
            r.full,
            r.neighbors,
            r.lsa_count,
            r.lsdb_digest
        ));
    }
    super::print_text(&out)
}

fn exec(dir: &Path, router: &str, command: &[String]) -> Result<()> {
    let state = read_state(dir)?;
    let Some(r) = state.routers.iter().find(|r| r.name == router) else {
        let names: Vec<&str> = state.routers.iter().map(|r| r.name.as_str()).collect();
        bail!(
            "no router {router:?} in the lab (it has {})",
            names.join(", ")
        );
    };
    let status = Command::new("ip")
        .args(["netns", "exec", &r.namespace])
        .args(command)
        .status()
        .context("running `ip netns exec`")?;
    if !status.success() {
        bail!("`{}` in {router} exited with {status}", command.join(" "));
    }
    Ok(())
}
