//! FRRouting routers in a lab: a `frr.conf` per router from the model (OSPF point-to-point,
//! `mpls-te on`, the router address and each interface's `link-params` as mplamps advertises
//! them), zebra and ospfd started in the router's namespace under their own FRR pathspace,
//! named as the namespace (`-N mplXXXX-A`), and what they hold read back with
//! `vtysh -N mplXXXX-A ... json`. FRR's daemons run as the frr user, so their configuration
//! and log live in the pathspace's directory (`/var/run/frr/mplXXXX-A/`); the lab directory
//! keeps a copy of the configuration.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use mplamps_daemon::config::{lab_host_interface, lab_interface};
use mplamps_ospf::instance::RouterConfig;
use mplamps_te::Network;

const FRR_DIR: &str = "/usr/lib/frr";
/// The daemons a lab's FRR router runs; ldpd when LDP runs.
const DAEMONS: [&str; 2] = ["zebra", "ospfd"];
const LDPD: &str = "ldpd";

/// The FRR configuration of router `r`: the same router ID, addresses, costs, timers and TE
/// values as the mplamps node of that router would have (`configs`, every router's OSPF
/// configuration from `mplamps_node::config::ospf_configs`).
pub fn frr_conf(
    net: &Network,
    configs: &[RouterConfig],
    r: usize,
    log: &Path,
    ldp: bool,
) -> FrrConf {
    let router = &net.routers[r];
    let router_id = router.router_id.to_ipv4();
    let timers = &net.ospf;
    let mut c = String::new();
    let _ = writeln!(c, "frr defaults traditional");
    let _ = writeln!(c, "hostname {}", router.name);
    let _ = writeln!(c, "log file {} informational", log.display());
    let _ = writeln!(c, "!");
    let links = net
        .links
        .iter()
        .enumerate()
        .filter(|(_, l)| l.a.router == r || l.b.router == r)
        .map(|(l, _)| l);
    let interfaces = configs.get(r).map_or(&[][..], |c| c.interfaces.as_slice());
    let mut networks = vec![format!("{router_id}/32")];
    let mut ldp_interfaces = Vec::new();
    for (l, iface) in links.zip(interfaces) {
        ldp_interfaces.push(lab_interface(l));
        let te = &iface.te;
        let bytes = |b: mplamps_core::Bandwidth| b.bps() / 8.0;
        let _ = writeln!(c, "interface {}", lab_interface(l));
        let network = if net.links.get(l).is_some_and(|x| x.multi_access) {
            "broadcast"
        } else {
            "point-to-point"
        };
        let _ = writeln!(c, " ip ospf network {network}");
        let _ = writeln!(c, " ip ospf cost {}", iface.cost);
        let _ = writeln!(c, " ip ospf hello-interval {}", timers.hello_interval_s);
        let _ = writeln!(c, " ip ospf dead-interval {}", timers.dead_interval_s);
        if let Some(auth) = &timers.auth {
            let _ = writeln!(c, " ip ospf authentication message-digest");
            let _ = writeln!(
                c,
                " ip ospf message-digest-key {} md5 {}",
                auth.key_id, auth.key
            );
        }
        let _ = writeln!(c, " link-params");
        let _ = writeln!(c, "  enable");
        let _ = writeln!(c, "  metric {}", te.te_metric);
        let _ = writeln!(c, "  max-bw {:e}", bytes(te.max_bandwidth));
        let _ = writeln!(c, "  max-rsv-bw {:e}", bytes(te.max_reservable));
        for (p, bw) in te.unreserved.iter().enumerate() {
            let _ = writeln!(c, "  unrsv-bw {p} {:e}", bytes(*bw));
        }
        let _ = writeln!(c, " exit-link-params");
        let _ = writeln!(c, "!");
        if let Some(a) = iface.address {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(a.prefix_len))
                .unwrap_or(0);
            let net = std::net::Ipv4Addr::from(u32::from(a.addr) & mask);
            networks.push(format!("{net}/{}", a.prefix_len));
        }
    }
    // Host subnets: passive interfaces, stub links as mplamps advertises them.
    let mut passive = Vec::new();
    for (k, host) in net
        .hosts
        .iter()
        .enumerate()
        .filter(|(_, h)| h.port.router == r)
    {
        let stub = configs.get(r).and_then(|c| {
            c.stub_networks
                .iter()
                .find(|n| n.address.addr == host.gateway)
        });
        let _ = writeln!(c, "interface {}", lab_host_interface(k));
        if let Some(stub) = stub {
            let _ = writeln!(c, " ip ospf cost {}", stub.cost);
        }
        let _ = writeln!(c, "!");
        let subnet = mplamps_core::fec::Fec::new(host.address.addr, host.address.prefix_len);
        networks.push(subnet.to_string());
        passive.push(lab_host_interface(k));
    }
    let _ = writeln!(c, "router ospf");
    let _ = writeln!(c, " ospf router-id {router_id}");
    for n in networks {
        let _ = writeln!(c, " network {n} area {}", timers.area);
    }
    for p in passive {
        let _ = writeln!(c, " passive-interface {p}");
    }
    let _ = writeln!(c, " capability opaque");
    let _ = writeln!(c, " mpls-te on");
    let _ = writeln!(c, " mpls-te router-address {router_id}");
    let _ = writeln!(c, "!");
    FrrConf {
        base: c,
        ldp: if ldp {
            ldp_block(net, r, &ldp_interfaces)
        } else {
            Vec::new()
        },
    }
}

/// An FRR router's configuration: what its daemons start with, and its `mpls ldp` block
/// (empty without LDP), given later by [`configure_ldp`].
pub struct FrrConf {
    base: String,
    ldp: Vec<String>,
}

impl FrrConf {
    /// The whole configuration, as `frr.conf` would hold it.
    pub fn full(&self) -> String {
        let mut c = self.base.clone();
        if !self.ldp.is_empty() {
            for line in &self.ldp {
                let _ = writeln!(c, "{line}");
            }
            let _ = writeln!(c, "!");
        }
        c
    }
}

/// The router IDs of the routers that share a link with router `r`: its LDP neighbors.
pub fn neighbor_ids(net: &Network, r: usize) -> Vec<std::net::Ipv4Addr> {
    let mut ids: Vec<std::net::Ipv4Addr> = net
        .links
        .iter()
        .filter_map(|l| match (l.a.router == r, l.b.router == r) {
            (true, false) => Some(l.b.router),
            (false, true) => Some(l.a.router),
            _ => None,
        })
        .filter_map(|n| net.routers.get(n))
        .map(|n| n.router_id.to_ipv4())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// The `mpls ldp` block of router `r`: the router ID as LSR ID and transport address (as
/// mplamps nodes use it), the model's `[ldp]` timers and password (per neighbor, as FRR
/// takes it), and every link's interface.
fn ldp_block(net: &Network, r: usize, interfaces: &[String]) -> Vec<String> {
    let router_id = net
        .routers
        .get(r)
        .map_or(String::new(), |x| x.router_id.to_ipv4().to_string());
    let timers = &net.ldp;
    let mut lines = vec![
        "mpls ldp".to_string(),
        format!(" router-id {router_id}"),
        format!(" discovery hello holdtime {}", timers.hello_hold_s),
        format!(" discovery hello interval {}", timers.hello_interval_s),
    ];
    if let Some(password) = &timers.password {
        for id in neighbor_ids(net, r) {
            lines.push(format!(" neighbor {id} password {password}"));
        }
    }
    lines.extend([
        " address-family ipv4".to_string(),
        format!("  discovery transport-address {router_id}"),
        format!("  session holdtime {}", timers.keepalive_s),
    ]);
    lines.extend(interfaces.iter().map(|i| format!("  interface {i}")));
    lines.push(" exit-address-family".to_string());
    lines
}

/// Gives the FRR router of `pathspace` its `mpls ldp` block through vtysh. The lab does it
/// once OSPF reaches the neighbors' transport addresses: ldpd backs off exponentially
/// (15 s, 30 s, 60 s, 120 s) after a session it could not open, and an unreachable
/// transport address is such a failure. (FRR 8.4 may also leave a block read from
/// `frr.conf` at start unapplied.)
pub fn configure_ldp(pathspace: &str, conf: &FrrConf) -> Result<()> {
    if conf.ldp.is_empty() {
        return Ok(());
    }
    let mut vtysh = Command::new("vtysh");
    vtysh.args(["-N", pathspace, "-c", "configure terminal"]);
    for line in &conf.ldp {
        vtysh.args(["-c", line.trim()]);
    }
    let out = vtysh.output().context("running vtysh")?;
    if !out.status.success() {
        bail!(
            "vtysh -N {pathspace}: applying the mpls ldp block: {}",
            String::from_utf8_lossy(&out.stdout).trim()
        );
    }
    Ok(())
}

/// The directory of an FRR pathspace: its sockets, pid files, configuration and log.
pub fn run_dir(pathspace: &str) -> PathBuf {
    PathBuf::from(format!("/var/run/frr/{pathspace}"))
}

/// Where the FRR router of pathspace `pathspace` logs.
pub fn log_of(pathspace: &str) -> PathBuf {
    run_dir(pathspace).join("frr.log")
}

/// Starts zebra, ospfd and, with `ldp`, ldpd for router `name` in namespace `ns` (also
/// their pathspace) with `conf`; their pids. ldpd starts without its `mpls ldp` block, which
/// [`configure_ldp`] gives once OSPF reaches the neighbors (the lab directory's copy of the
/// configuration holds it).
pub fn start(dir: &Path, ns: &str, name: &str, conf: &FrrConf) -> Result<Vec<u32>> {
    if !Path::new(FRR_DIR).join("zebra").exists() {
        bail!("FRRouting is not installed (Debian: `apt-get install frr`)");
    }
    let run = run_dir(ns);
    std::fs::create_dir_all(&run).with_context(|| format!("creating {}", run.display()))?;
    let conf_path = run.join("frr.conf");
    std::fs::write(&conf_path, &conf.base).with_context(|| format!("{}", conf_path.display()))?;
    let copy = dir.join(format!("{name}.frr.conf"));
    std::fs::write(&copy, conf.full()).with_context(|| format!("{}", copy.display()))?;
    // FRR's daemons drop to the frr user and must reach their files.
    let chown = Command::new("chown")
        .args(["-R", "frr:frr"])
        .arg(&run)
        .status()
        .context("running chown")?;
    if !chown.success() {
        bail!(
            "chown frr:frr {} failed (is the frr user there?)",
            run.display()
        );
    }
    let mut pids = Vec::new();
    let ldp = !conf.ldp.is_empty();
    for daemon in DAEMONS.into_iter().chain(ldp.then_some(LDPD)) {
        let pid_file = run.join(format!("{daemon}.pid"));
        let out = Command::new("ip")
            .args(["netns", "exec", ns])
            .arg(Path::new(FRR_DIR).join(daemon))
            .args(["-d", "-N", ns, "-f"])
            .arg(&conf_path)
            .arg("-i")
            .arg(&pid_file)
            .output()
            .with_context(|| format!("starting {daemon} for {name}"))?;
        // `-d` returns once the daemon has forked and written its pid file.
        if !out.status.success() {
            bail!(
                "{daemon} for {name} did not start: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|p| p.trim().parse().ok())
            .with_context(|| {
                format!("{daemon} for {name} wrote no pid to {}", pid_file.display())
            })?;
        pids.push(pid);
    }
    Ok(pids)
}

/// Whether the FRR router of `pathspace` has a route to each of `addresses` (host routes
/// to its LDP neighbors' transport addresses).
pub fn routes_to(pathspace: &str, addresses: &[std::net::Ipv4Addr]) -> Result<bool> {
    let routes = vtysh_json(pathspace, "show ip route json")?;
    Ok(addresses
        .iter()
        .all(|a| routes.get(format!("{a}/32")).is_some()))
}

/// Asks the FRR router of `pathspace` for `command`'s JSON.
pub fn vtysh_json(pathspace: &str, command: &str) -> Result<serde_json::Value> {
    let out = Command::new("vtysh")
        .args(["-N", pathspace, "-c", command])
        .output()
        .context("running vtysh")?;
    if !out.status.success() {
        bail!(
            "vtysh -N {pathspace} -c {command:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    serde_json::from_slice(&out.stdout).with_context(|| format!("{pathspace}: {command}"))
}

/// Each LSA of FRR's `show ip ospf database json` as "type id adv-router seq checksum".
pub fn lsa_identities(database: &serde_json::Value) -> Vec<String> {
    const LISTS: [(&str, u8); 8] = [
        ("routerLinkStates", 1),
        ("networkLinkStates", 2),
        ("summaryLinkStates", 3),
        ("asbrSummaryLinkStates", 4),
        ("asExternalLinkStates", 5),
        ("linkLocalOpaqueLsa", 9),
        ("areaLocalOpaqueLsa", 10),
        ("asExternalOpaqueLsa", 11),
    ];
    let scopes = database["areas"]
        .as_object()
        .into_iter()
        .flat_map(|areas| areas.values())
        .chain(std::iter::once(database));
    let mut out = Vec::new();
    for scope in scopes {
        for (list, ls_type) in LISTS {
            for lsa in scope[list].as_array().into_iter().flatten() {
                out.push(identity(
                    ls_type,
                    lsa["lsId"].as_str().unwrap_or("?"),
                    lsa["advertisedRouter"].as_str().unwrap_or("?"),
                    lsa["sequenceNumber"].as_str().unwrap_or("?"),
                    lsa["checksum"].as_str().unwrap_or("?"),
                ));
            }
        }
    }
    out.sort();
    out
}

/// One LSA instance's identity (RFC 2328 §12.1), written alike for both implementations.
pub fn identity(ls_type: u8, id: &str, adv: &str, seq: &str, checksum: &str) -> String {
    let checksum = checksum.trim_start_matches("0x");
    format!("{ls_type} {id} {adv} {} {checksum:0>4}", seq.to_lowercase())
}

/// The OSPF adjacencies of the FRR router of `pathspace`: how many, and the router ID of
/// each Full one.
pub fn neighbors(pathspace: &str) -> Result<(usize, Vec<String>)> {
    let v = vtysh_json(pathspace, "show ip ospf neighbor json")?;
    let all: Vec<(&String, &serde_json::Value)> = v["neighbors"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(id, list)| list.as_array().into_iter().flatten().map(move |n| (id, n)))
        .collect();
    let full = all
        .iter()
        .filter(|(_, n)| {
            n["converged"] == "Full"
                || n["nbrState"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("Full"))
        })
        .map(|(id, _)| (*id).clone())
        .collect();
    Ok((all.len(), full))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frr_databases_read_as_the_same_identities_as_ours() {
        let db = serde_json::json!({
            "routerId": "10.0.0.2",
            "areas": { "0.0.0.0": {
                "routerLinkStates": [{ "lsId": "10.0.0.1", "advertisedRouter": "10.0.0.1",
                    "sequenceNumber": "80000002", "checksum": "a0dc" }],
                "areaLocalOpaqueLsa": [{ "lsId": "1.0.0.0", "advertisedRouter": "10.0.0.1",
                    "sequenceNumber": "80000001", "checksum": "44b5" }]
            }},
            "asExternalLinkStates": [{ "lsId": "10.99.0.0", "advertisedRouter": "192.0.2.9",
                "sequenceNumber": "80000001", "checksum": "7" }]
        });
        assert_eq!(
            lsa_identities(&db),
            [
                "1 10.0.0.1 10.0.0.1 80000002 a0dc",
                "10 1.0.0.0 10.0.0.1 80000001 44b5",
                "5 10.99.0.0 192.0.2.9 80000001 0007",
            ]
        );
        assert_eq!(
            identity(10, "1.0.0.0", "10.0.0.1", "80000001", "0x44b5"),
            "10 1.0.0.0 10.0.0.1 80000001 44b5"
        );
    }
}
