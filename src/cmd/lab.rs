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

use super::{lab_frr, lab_hosts, lab_status};
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
        /// package `tshark`), from before the routers start, and what each mplamps node
        /// sends and receives into `<dir>/pcap/<router>.node.pcap`.
        #[arg(long)]
        pcap: bool,
        /// Runs OSPF only: no LDP on mplamps nodes, no ldpd on FRR routers.
        #[arg(long)]
        no_ldp: bool,
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
    /// Runs a command in a router's or a host's namespace.
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

/// The lab's copy of its topology, in its directory: what its nodes run.
const LAB_TOPOLOGY: &str = "topology.toml";

/// What a lab made, written before it is made.
#[derive(Serialize, Deserialize, Default)]
pub(super) struct LabState {
    topology: PathBuf,
    pub(super) routers: Vec<LabRouter>,
    /// The packet captures of `--pcap`, one per link.
    #[serde(default)]
    captures: Vec<u32>,
    /// LDP runs on every router.
    #[serde(default)]
    pub(super) ldp: bool,
    /// The `[[host]]`s, each in a namespace of its own.
    #[serde(default)]
    pub(super) hosts: Vec<LabHost>,
}

impl LabState {
    /// The namespaces this lab made, routers' then hosts'.
    pub(super) fn made_namespaces(&self) -> impl Iterator<Item = &String> {
        self.routers
            .iter()
            .filter(|r| r.made)
            .map(|r| &r.namespace)
            .chain(self.hosts.iter().filter(|h| h.made).map(|h| &h.namespace))
    }
}

#[derive(Serialize, Deserialize, Clone)]
pub(super) struct LabHost {
    pub(super) name: String,
    pub(super) namespace: String,
    /// The namespace was made by this lab (and `lab down` removes it).
    pub(super) made: bool,
}

/// A short tag of the lab's directory, in its namespaces' names, so that two labs on one
/// machine do not meet.
fn lab_tag(dir: &Path) -> String {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let hash = fnv1a(dir.to_string_lossy().as_bytes());
    // The low digits: FNV-1a's last byte reaches only the low and middle bits, so
    // directories that differ in their last character share the high ones.
    hash.get(hash.len().saturating_sub(4)..)
        .unwrap_or_default()
        .to_string()
}

#[derive(Serialize, Deserialize, Clone)]
pub(super) struct LabRouter {
    pub(super) name: String,
    pub(super) namespace: String,
    /// The namespace was made by this lab (and `lab down` removes it).
    made: bool,
    pub(super) implementation: Implementation,
    /// The processes that run it.
    pids: Vec<u32>,
}

#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(super) enum Implementation {
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
            no_ldp,
            dir,
        } => up(
            &topology,
            &Choice {
                frr,
                frr_all,
                pcap,
                ldp: !no_ldp,
            },
            &dir.dir,
        ),
        Lab::Down { dir } => down(&dir.dir),
        Lab::Status { dir, json, wait } => lab_status::status(&dir.dir, json, wait),
        Lab::Exec {
            router,
            command,
            dir,
        } => exec(&dir.dir, &router, &command),
    }
}

pub(super) fn namespace_of(tag: &str, router: &str) -> String {
    format!("mpl{tag}-{router}")
}

pub(super) fn socket_of(dir: &Path, router: &str) -> PathBuf {
    dir.join(format!("{router}.sock"))
}

/// Runs `ip ARGS`, naming what failed.
pub(super) fn ip(args: &[&str]) -> Result<()> {
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

pub(super) fn read_state(dir: &Path) -> Result<LabState> {
    let path = dir.join(STATE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("no lab at {} (no {})", dir.display(), path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}", path.display()))
}

pub(super) fn write_state(dir: &Path, state: &LabState) -> Result<()> {
    let path = dir.join(STATE);
    std::fs::write(&path, serde_json::to_string_pretty(state)?)
        .with_context(|| format!("writing {}", path.display()))
}

/// What `lab up` runs.
struct Choice {
    /// Routers run by FRR.
    frr: Vec<String>,
    frr_all: bool,
    pcap: bool,
    ldp: bool,
}

fn up(topology: &Path, choice: &Choice, dir: &Path) -> Result<()> {
    if !is_root() {
        bail!("`mplamps lab up` makes network namespaces and needs root");
    }
    let mut net = super::load(topology)?;
    for name in &choice.frr {
        super::router_index(&net, name).context("--frr")?;
    }
    let by_frr = |name: &str| choice.frr_all || choice.frr.iter().any(|f| f == name);
    // FRR does not advertise the draft's power sub-TLVs: the lab's model says so, and what
    // is computed from it (`mplamps spf` on `D/topology.toml`) is what the lab should show.
    for router in &mut net.routers {
        router.power_te &= !by_frr(&router.name);
    }
    if let Some(auth) = &net.ospf.auth
        && auth.algorithm != mplamps_core::auth::CryptoAlgorithm::Md5
        && net.routers.iter().any(|r| by_frr(&r.name))
    {
        bail!(
            "[ospf] auth_algorithm = \"{}\": FRR 8.4's ospfd signs OSPFv2 with keyed MD5 only; \
             run FRR routers with \"md5\" or HMAC-SHA with mplamps routers only",
            auth.algorithm
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if dir.join(STATE).exists() {
        bail!(
            "a lab runs at {} already: `mplamps lab down --dir {}` first",
            dir.display(),
            dir.display()
        );
    }
    let given = std::fs::canonicalize(topology)?;
    let topology = std::fs::canonicalize(dir)?.join(LAB_TOPOLOGY);
    let header = [format!(
        "The network as the lab in this directory runs it: {}, with the routers FRR runs \
         advertising no power sub-TLVs.",
        given.display()
    )];
    std::fs::write(&topology, mplamps_te::topology::to_toml(&net, &header))
        .with_context(|| format!("writing {}", topology.display()))?;
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
        ldp: choice.ldp,
        hosts: Vec::new(),
    };
    // Written first: a lab that fails half-way is still removed by `lab down`.
    write_state(dir, &state)?;
    for (r, router) in net.routers.iter().enumerate() {
        let ns = namespace_of(&tag, &router.name);
        ip(&["netns", "add", &ns]).context("making a network namespace")?;
        state.routers[r].made = true;
        write_state(dir, &state)?;
        ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        // An mplamps node forwards in user space, so the kernel must not forward IP beside
        // it: what crosses is what the node forwarded. FRR's routers forward in the kernel.
        let kernel_forwards = state.routers[r].implementation == Implementation::Frr;
        sysctl(&ns, "net.ipv4.ip_forward", kernel_forwards)?;
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
            checksums_in_software(ns, &name)?;
        }
    }
    lab_hosts::make_hosts(&net, &tag, &mut state, dir)?;
    lab_hosts::write_names(&net, &state)?;
    if choice.pcap {
        let captures = start_captures(&net, &state, dir);
        state.captures = captures?;
        write_state(dir, &state)?;
    }
    let exe = std::env::current_exe().context("finding the mplamps binary")?;
    let ospf = mplamps_node::config::ospf_configs(&net, &mplamps_te::power::compute(&net));
    let mut frr_ldp = Vec::new();
    for r in 0..state.routers.len() {
        let router = state.routers[r].clone();
        let log = dir.join(format!("{}.log", router.name));
        let pids = if router.implementation == Implementation::Frr {
            let log = lab_frr::log_of(&router.namespace);
            let conf = lab_frr::frr_conf(&net, &ospf, r, &log, choice.ldp);
            let pids = lab_frr::start(dir, &router.namespace, &router.name, &conf)?;
            if choice.ldp {
                frr_ldp.push((r, conf));
            }
            pids
        } else {
            let log = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
            let child = Command::new("ip")
                .args(["netns", "exec", &router.namespace])
                .arg(&exe)
                .args(["node", "--topology"])
                .arg(&topology)
                .args(["--router", &router.name, "--dataplane", "--management"])
                .arg(socket_of(dir, &router.name))
                .args(choice.ldp.then_some("--ldp"))
                .args(
                    choice
                        .pcap
                        .then(|| {
                            let file = dir.join("pcap").join(format!("{}.node.pcap", router.name));
                            ["--pcap".into(), file.into_os_string()]
                        })
                        .into_iter()
                        .flatten(),
                )
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
    configure_frr_ldp(&net, &state, frr_ldp)?;
    let hosts = if net.hosts.is_empty() {
        String::new()
    } else {
        format!(", {} hosts", net.hosts.len())
    };
    println!(
        "lab up: {} routers, {} links{hosts} in {} (`mplamps lab status --dir {}`)",
        net.routers.len(),
        net.links.len(),
        dir.display(),
        dir.display()
    );
    Ok(())
}

/// Makes the kernel finish the checksums of what it sends on `device` in namespace `ns`.
/// A veth otherwise leaves them to a "hardware" that never comes: the user-space data plane
/// would read and forward a TCP or UDP packet with a partial checksum, which the far end
/// drops.
pub(super) fn checksums_in_software(ns: &str, device: &str) -> Result<()> {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "ethtool", "-K", device, "tx", "off"])
        .output()
        .context("running ethtool")?;
    if !out.status.success() {
        bail!(
            "`ethtool -K {device} tx off` in {ns} failed (Debian package ethtool): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Sets a boolean sysctl in namespace `ns`.
pub(super) fn sysctl(ns: &str, key: &str, on: bool) -> Result<()> {
    let setting = format!("{key}={}", u8::from(on));
    let status = Command::new("ip")
        .args(["netns", "exec", ns, "sysctl", "-qw", &setting])
        .status()
        .context("running sysctl")?;
    if !status.success() {
        bail!("could not set {setting} in {ns}");
    }
    Ok(())
}

/// Gives each FRR router (`r`, configuration) its LDP configuration once OSPF has brought
/// it a route to every neighbor's transport address, so that ldpd's first session
/// attempts find a way (it backs off for minutes after failed ones); after
/// [`FRR_LDP_WAIT`], the rest get theirs anyway, with a warning.
fn configure_frr_ldp(
    net: &mplamps_te::Network,
    state: &LabState,
    mut pending: Vec<(usize, lab_frr::FrrConf)>,
) -> Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    eprintln!("lab up: FRR's LDP waits for OSPF routes to its neighbors' loopbacks");
    let started = Instant::now();
    loop {
        let timed_out = started.elapsed() >= FRR_LDP_WAIT;
        let mut waiting = Vec::new();
        for (r, conf) in pending {
            let namespace = &state.routers[r].namespace;
            // vtysh may not answer in the first instants of a daemon: asked again.
            let reachable =
                lab_frr::routes_to(namespace, &lab_frr::neighbor_ids(net, r)).unwrap_or(false);
            if timed_out || reachable {
                if timed_out {
                    eprintln!(
                        "lab up: warning: {} has no route to every LDP neighbor after {} s; \
                         its LDP is configured anyway",
                        state.routers[r].name,
                        FRR_LDP_WAIT.as_secs()
                    );
                }
                lab_frr::configure_ldp(namespace, &conf)?;
            } else {
                waiting.push((r, conf));
            }
        }
        pending = waiting;
        if pending.is_empty() {
            eprintln!(
                "lab up: FRR's LDP configured after {:.1} s",
                started.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// How long `lab up` waits for OSPF before it configures FRR's LDP regardless.
const FRR_LDP_WAIT: Duration = Duration::from_secs(60);

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
    for namespace in state.made_namespaces() {
        let exists = Path::new("/run/netns").join(namespace).exists();
        if exists && let Err(e) = ip(&["netns", "del", namespace]) {
            failed.push(format!("{e:#}"));
        }
    }
    lab_hosts::remove_names(&state);
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

/// FNV-1a, 64 bits, as hex: a stable hash of a database listing.
pub(super) fn fnv1a(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

fn exec(dir: &Path, router: &str, command: &[String]) -> Result<()> {
    let state = read_state(dir)?;
    let namespaces = state
        .routers
        .iter()
        .map(|r| (&r.name, &r.namespace))
        .chain(state.hosts.iter().map(|h| (&h.name, &h.namespace)));
    let Some((_, namespace)) = namespaces.clone().find(|(name, _)| *name == router) else {
        let names: Vec<&str> = namespaces.map(|(name, _)| name.as_str()).collect();
        bail!(
            "no router or host {router:?} in the lab (it has {})",
            names.join(", ")
        );
    };
    let status = Command::new("ip")
        .args(["netns", "exec", namespace])
        .args(command)
        .status()
        .context("running `ip netns exec`")?;
    if !status.success() {
        bail!("`{}` in {router} exited with {status}", command.join(" "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labs_in_neighboring_directories_get_different_tags() {
        let tags: std::collections::BTreeSet<String> =
            ["/tmp/l1", "/tmp/l2", "/tmp/l3", "/tmp/lab"]
                .iter()
                .map(|d| lab_tag(Path::new(d)))
                .collect();
        assert_eq!(tags.len(), 4, "{tags:?}");
        assert!(tags.iter().all(|t| t.len() == 4));
    }
}
