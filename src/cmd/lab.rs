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

use super::lab_frr;
use serde::{Deserialize, Serialize};

#[derive(Subcommand)]
pub enum Lab {
    /// Makes the namespaces and links and starts a node in each.
    Up {
        /// The topology file.
        topology: PathBuf,
        /// Routers to run with FRRouting (zebra, ospfd) instead of mplamps.
        #[arg(long, value_delimiter = ',', value_name = "ROUTER,...")]
        frr: Vec<String>,
        /// Every router with FRRouting.
        #[arg(long, conflicts_with = "frr")]
        frr_all: bool,
        /// Captures every link into `<dir>/pcap/<link>.pcap` (dumpcap, from the Debian
        /// package `tshark`), from before the routers start.
        #[arg(long)]
        pcap: bool,
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
    /// The packet captures of `--pcap`, one per link.
    #[serde(default)]
    captures: Vec<u32>,
}

/// A short tag of the lab's directory, in its namespaces' names, so that two labs on one
/// machine do not meet.
fn lab_tag(dir: &Path) -> String {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    fnv1a(dir.to_string_lossy().as_bytes())
        .chars()
        .take(4)
        .collect()
}

#[derive(Serialize, Deserialize, Clone)]
struct LabRouter {
    name: String,
    namespace: String,
    /// The namespace was made by this lab (and `lab down` removes it).
    made: bool,
    implementation: Implementation,
    /// The processes that run it.
    pids: Vec<u32>,
}

#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Implementation {
    Mplamps,
    Frr,
}

const STATE: &str = "lab.json";

pub fn run(lab: Lab) -> Result<()> {
    match lab {
        Lab::Up {
            topology,
            frr,
            frr_all,
            pcap,
            dir,
        } => up(&topology, &frr, frr_all, pcap, &dir.dir),
        Lab::Down { dir } => down(&dir.dir),
        Lab::Status { dir, json, wait } => status(&dir.dir, json, wait),
        Lab::Exec {
            router,
            command,
            dir,
        } => exec(&dir.dir, &router, &command),
    }
}

fn namespace_of(tag: &str, router: &str) -> String {
    format!("mpl{tag}-{router}")
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

fn up(topology: &Path, frr: &[String], frr_all: bool, pcap: bool, dir: &Path) -> Result<()> {
    if !is_root() {
        bail!("`mplamps lab up` makes network namespaces and needs root");
    }
    let net = super::load(topology)?;
    for name in frr {
        super::router_index(&net, name).context("--frr")?;
    }
    let by_frr = |name: &str| frr_all || frr.iter().any(|f| f == name);
    let topology = std::fs::canonicalize(topology)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if dir.join(STATE).exists() {
        bail!(
            "a lab runs at {} already: `mplamps lab down --dir {}` first",
            dir.display(),
            dir.display()
        );
    }
    let tag = lab_tag(dir);
    let mut state = LabState {
        topology: topology.clone(),
        routers: net
            .routers
            .iter()
            .map(|r| LabRouter {
                name: r.name.clone(),
                namespace: namespace_of(&tag, &r.name),
                made: false,
                implementation: if by_frr(&r.name) {
                    Implementation::Frr
                } else {
                    Implementation::Mplamps
                },
                pids: Vec::new(),
            })
            .collect(),
        captures: Vec::new(),
    };
    // Written first: a lab that fails half-way is still removed by `lab down`.
    write_state(dir, &state)?;
    for (r, router) in net.routers.iter().enumerate() {
        let ns = namespace_of(&tag, &router.name);
        ip(&["netns", "add", &ns]).context("making a network namespace")?;
        state.routers[r].made = true;
        write_state(dir, &state)?;
        ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        let id = format!("{}/32", router.router_id.to_ipv4());
        ip(&["-n", &ns, "addr", "add", &id, "dev", "lo"])?;
    }
    for (l, link) in net.links.iter().enumerate() {
        let name = lab_interface(l);
        let (a, b) = (
            namespace_of(&tag, &net.routers[link.a.router].name),
            namespace_of(&tag, &net.routers[link.b.router].name),
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
    if pcap {
        let captures = start_captures(&net, &state, dir);
        state.captures = captures?;
        write_state(dir, &state)?;
    }
    let exe = std::env::current_exe().context("finding the mplamps binary")?;
    let ospf = mplamps_node::config::ospf_configs(&net, &mplamps_te::power::compute(&net));
    for r in 0..state.routers.len() {
        let router = state.routers[r].clone();
        let log = dir.join(format!("{}.log", router.name));
        let pids = if router.implementation == Implementation::Frr {
            let conf = lab_frr::frr_conf(&net, &ospf, r, &lab_frr::log_of(&router.namespace));
            lab_frr::start(dir, &router.namespace, &router.name, &conf)?
        } else {
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
            vec![child.id()]
        };
        // Written as it goes: `lab down` stops what started before a failure.
        state.routers[r].pids = pids;
        write_state(dir, &state)?;
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

/// One dumpcap per link, on its `a` end, writing `<dir>/pcap/<link>.pcap`; their pids.
fn start_captures(net: &mplamps_te::Network, state: &LabState, dir: &Path) -> Result<Vec<u32>> {
    let pcaps = dir.join("pcap");
    std::fs::create_dir_all(&pcaps).with_context(|| format!("creating {}", pcaps.display()))?;
    let mut pids = Vec::new();
    for (l, link) in net.links.iter().enumerate() {
        let Some(end) = state.routers.get(link.a.router) else {
            continue;
        };
        let file = pcaps.join(format!("{}.pcap", link.name.replace('/', "_")));
        let child = Command::new("ip")
            .args(["netns", "exec", &end.namespace, "dumpcap", "-q", "-i"])
            .arg(lab_interface(l))
            .arg("-w")
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting dumpcap (Debian package tshark)")?;
        pids.push(child.id());
    }
    // dumpcap opens its interface within a moment; the routers start after.
    std::thread::sleep(Duration::from_millis(300));
    Ok(pids)
}

fn down(dir: &Path) -> Result<()> {
    let state = read_state(dir)?;
    for pid in state
        .routers
        .iter()
        .flat_map(|r| &r.pids)
        .chain(&state.captures)
    {
        // A node that already stopped is no error.
        let _ = Command::new("kill")
            .arg(pid.to_string())
            .stderr(Stdio::null())
            .status();
    }
    // The nodes stop on SIGTERM; give them a moment before their namespaces go.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline
        && state
            .routers
            .iter()
            .flat_map(|r| &r.pids)
            .chain(&state.captures)
            .any(|pid| Path::new(&format!("/proc/{pid}")).exists())
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut failed = Vec::new();
    for router in state.routers.iter().filter(|r| r.made) {
        let exists = Path::new("/run/netns").join(&router.namespace).exists();
        if exists && let Err(e) = ip(&["netns", "del", &router.namespace]) {
            failed.push(format!("{e:#}"));
        }
    }
    for router in &state.routers {
        if router.implementation == Implementation::Frr {
            let _ = std::fs::remove_dir_all(lab_frr::run_dir(&router.namespace));
        }
    }
    let _ = std::fs::remove_file(dir.join(STATE));
    if !failed.is_empty() {
        bail!("lab down left things behind: {}", failed.join("; "));
    }
    println!("lab down: {} routers removed", state.routers.len());
    Ok(())
}

/// One router's state: from its management socket, or FRR's `vtysh ... json`.
#[derive(Serialize)]
struct RouterStatus {
    router: String,
    router_id: String,
    /// Its network namespace, and for FRR its pathspace (`vtysh -N`).
    namespace: String,
    implementation: Implementation,
    running: bool,
    neighbors: usize,
    full: usize,
    lsa_count: usize,
    /// A hash of the LSA instances it holds (type, ID, advertising router, sequence number,
    /// checksum): equal on two routers that hold the same database.
    lsdb: String,
}

fn router_status(dir: &Path, r: &LabRouter) -> RouterStatus {
    let mut router_id = String::new();
    let (neighbors, lsas) = match r.implementation {
        Implementation::Mplamps => {
            let socket = socket_of(dir, &r.name);
            let view = super::node::ask(&socket, "view").ok();
            if let Some(id) = view.as_ref().and_then(|v| v["router_id"].as_str()) {
                id.clone_into(&mut router_id);
            }
            let database = super::node::ask(&socket, "ospf database").ok();
            let neighbors = view.map(|v| {
                let all = v["neighbors"].as_array().cloned().unwrap_or_default();
                let full = all.iter().filter(|n| n["state"] == "Full").count();
                (all.len(), full)
            });
            let lsas = database.map(|d| {
                let mut ids: Vec<String> = d
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|l| {
                        lab_frr::identity(
                            l["ls_type"]
                                .as_u64()
                                .and_then(|t| u8::try_from(t).ok())
                                .unwrap_or(0),
                            l["link_state_id"].as_str().unwrap_or("?"),
                            l["adv_router"].as_str().unwrap_or("?"),
                            l["sequence"].as_str().unwrap_or("?"),
                            l["checksum"].as_str().unwrap_or("?"),
                        )
                    })
                    .collect();
                ids.sort();
                ids
            });
            (neighbors, lsas)
        }
        Implementation::Frr => (
            lab_frr::neighbors(&r.namespace).ok().inspect(|_| {
                if let Ok(v) = lab_frr::vtysh_json(&r.namespace, "show ip ospf json")
                    && let Some(id) = v["routerId"].as_str()
                {
                    id.clone_into(&mut router_id);
                }
            }),
            lab_frr::vtysh_json(&r.namespace, "show ip ospf database json")
                .ok()
                .map(|d| lab_frr::lsa_identities(&d)),
        ),
    };
    let (count, full) = neighbors.unwrap_or((0, 0));
    RouterStatus {
        router: r.name.clone(),
        router_id,
        namespace: r.namespace.clone(),
        implementation: r.implementation,
        running: neighbors.is_some() && lsas.is_some(),
        neighbors: count,
        full,
        lsa_count: lsas.as_ref().map_or(0, Vec::len),
        lsdb: lsas
            .map(|ids| fnv1a(ids.join("\n").as_bytes()))
            .unwrap_or_default(),
    }
}

/// FNV-1a, 64 bits, as hex: a stable hash of a database listing.
fn fnv1a(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

fn status(dir: &Path, json: bool, wait: Option<u64>) -> Result<()> {
    let state = read_state(dir)?;
    let deadline = wait.map(|s| Instant::now() + Duration::from_secs(s));
    loop {
        let rows: Vec<RouterStatus> = state
            .routers
            .iter()
            .map(|r| router_status(dir, r))
            .collect();
        let settled = rows
            .iter()
            .all(|r| r.running && r.full == r.neighbors && r.neighbors > 0)
            && rows.windows(2).all(|w| w[0].lsdb == w[1].lsdb);
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
    let mut out = String::from("Router           Runs     Up   Full/Nbrs  LSAs  LSDB\n");
    for r in rows {
        out.push_str(&format!(
            "{:<16} {:<8} {:<4} {:>4}/{:<4}  {:>4}  {}\n",
            r.router,
            match r.implementation {
                Implementation::Mplamps => "mplamps",
                Implementation::Frr => "frr",
            },
            if r.running { "yes" } else { "no" },
            r.full,
            r.neighbors,
            r.lsa_count,
            r.lsdb
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
