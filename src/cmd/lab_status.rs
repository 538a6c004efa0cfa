//! `mplamps lab status`: each router's OSPF adjacencies, database and LDP sessions, from
//! its management socket or FRR's `vtysh ... json`, and whether the lab has settled.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde::Serialize;

use super::lab::{Implementation, LabRouter, fnv1a, read_state, socket_of};
use super::lab_frr;
use crate::table::Table;

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
    /// The routers of its Full adjacencies.
    #[serde(skip)]
    full_peers: BTreeSet<String>,
    /// Its LDP sessions, and the peers of those that are operational; `None` when it runs
    /// no LDP.
    ldp_sessions: Option<usize>,
    ldp_operational: Vec<String>,
}

impl RouterStatus {
    /// Every adjacency Full; with LDP, an operational session with every router it has a
    /// Full adjacency with, and no other.
    fn settled(&self, ldp: bool) -> bool {
        let ldp_settled = !ldp
            || (self.ldp_sessions == Some(self.ldp_operational.len())
                && self
                    .ldp_operational
                    .iter()
                    .cloned()
                    .collect::<BTreeSet<_>>()
                    == self.full_peers);
        self.running && self.full == self.neighbors && self.neighbors > 0 && ldp_settled
    }
}

/// LDP sessions as (peer, operational) from FRR's `show mpls ldp neighbor json`, or from
/// a node's `view`.
fn ldp_sessions(
    list: Option<&serde_json::Value>,
    peer: &str,
    operational: &str,
) -> Option<Vec<(String, bool)>> {
    Some(
        list?
            .as_array()?
            .iter()
            .map(|s| {
                (
                    s[peer].as_str().unwrap_or("?").to_string(),
                    s["state"].as_str() == Some(operational),
                )
            })
            .collect(),
    )
}

fn router_status(dir: &Path, r: &LabRouter) -> RouterStatus {
    let mut router_id = String::new();
    let mut full_peers = BTreeSet::new();
    let mut sessions = None;
    let (neighbors, lsas) = match r.implementation {
        Implementation::Mplamps => {
            let socket = socket_of(dir, &r.name);
            let view = super::show::ask(&socket, "view").ok();
            if let Some(id) = view.as_ref().and_then(|v| v["router_id"].as_str()) {
                id.clone_into(&mut router_id);
            }
            let database = super::show::ask(&socket, "ospf database").ok();
            sessions = view
                .as_ref()
                .and_then(|v| ldp_sessions(v["ldp"].get("sessions"), "peer", "operational"));
            let neighbors = view.map(|v| {
                let all = v["neighbors"].as_array().cloned().unwrap_or_default();
                let full: Vec<_> = all.iter().filter(|n| n["state"] == "Full").collect();
                full_peers.extend(
                    full.iter()
                        .filter_map(|n| n["router_id"].as_str())
                        .map(String::from),
                );
                (all.len(), full.len())
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
            lab_frr::neighbors(&r.namespace)
                .ok()
                .map(|(count, full)| {
                    let full_count = full.len();
                    full_peers = full.into_iter().collect();
                    sessions = lab_frr::vtysh_json(&r.namespace, "show mpls ldp neighbor json")
                        .ok()
                        .and_then(|v| {
                            ldp_sessions(v.get("neighbors"), "neighborId", "OPERATIONAL")
                        });
                    (count, full_count)
                })
                .inspect(|_| {
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
    let ldp_operational = sessions
        .iter()
        .flatten()
        .filter(|(_, up)| *up)
        .map(|(peer, _)| peer.clone())
        .collect();
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
        full_peers,
        ldp_sessions: sessions.as_ref().map(Vec::len),
        ldp_operational,
    }
}

pub(super) fn status(dir: &Path, json: bool, wait: Option<u64>) -> Result<()> {
    let state = read_state(dir)?;
    let deadline = wait.map(|s| Instant::now() + Duration::from_secs(s));
    loop {
        let rows: Vec<RouterStatus> = state
            .routers
            .iter()
            .map(|r| router_status(dir, r))
            .collect();
        let settled = rows.iter().all(|r| r.settled(state.ldp))
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
    let mut t = Table::new([
        "Router",
        "Runs",
        "Up",
        "Full/Nbrs",
        "LDP Oper/Sess",
        "LSAs",
        "LSDB",
    ]);
    for r in rows {
        t.row(vec![
            r.router.clone(),
            match r.implementation {
                Implementation::Mplamps => "mplamps",
                Implementation::Frr => "frr",
            }
            .into(),
            if r.running { "yes" } else { "no" }.into(),
            format!("{}/{}", r.full, r.neighbors),
            r.ldp_sessions
                .map_or("-".into(), |n| format!("{}/{n}", r.ldp_operational.len())),
            r.lsa_count.to_string(),
            r.lsdb.clone(),
        ]);
    }
    super::print_text(&t.render())
}
