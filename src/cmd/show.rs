//! `mplamps show` asks a running node what it holds (docs/daemon.md), through its
//! management socket. `--json` prints the node's answer; where FRR has an equivalent
//! command (`show mpls ldp neighbor json`, `show mpls ldp binding json`), the JSON has its
//! shape, so scripts written for FRR read ours.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use serde_json::{Value, json};

use super::TreeArg;
use super::node::default_management;
use crate::table::Table;

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
    /// LDP protocol state.
    Ldp {
        #[arg(value_enum)]
        what: LdpShow,
    },
    /// The routes of the regular or the power tree.
    Routes {
        #[arg(long, value_enum, default_value_t = TreeArg::Regular)]
        tree: TreeArg,
    },
    /// The TE database (RFC 3630): every link direction the node learned, with its TE
    /// metric, unreserved bandwidth and power metric.
    Te {
        #[arg(value_enum)]
        what: TeShow,
    },
    /// RSVP-TE LSPs: those this node is the ingress of, and every one it holds state for.
    Lsps,
    /// The label forwarding table: every incoming label and what is done with it.
    Lfib,
    /// What the node counted: per protocol, and its data plane's forwarding and drops
    /// when it forwards in user space.
    Counters,
}

#[derive(ValueEnum, Clone, Copy)]
enum OspfShow {
    Neighbors,
    Database,
}

#[derive(ValueEnum, Clone, Copy)]
enum TeShow {
    Database,
}

#[derive(ValueEnum, Clone, Copy)]
enum LdpShow {
    /// Sessions with their peers (FRR: `show mpls ldp neighbor`).
    Sessions,
    /// Our label and each peer's per FEC (FRR: `show mpls ldp binding`).
    Bindings,
}

pub fn show(args: ShowArgs) -> Result<()> {
    let path = args
        .management
        .unwrap_or_else(|| default_management(&args.node));
    let answer = match args.what {
        Show::Ospf {
            what: OspfShow::Neighbors,
        } => ask(&path, "view")?["neighbors"].take(),
        Show::Ospf {
            what: OspfShow::Database,
        } => ask(&path, "ospf database")?,
        Show::Ldp {
            what: LdpShow::Sessions,
        } => ldp_neighbors(&ask(&path, "ldp sessions")?),
        Show::Ldp {
            what: LdpShow::Bindings,
        } => ldp_bindings(&ask(&path, "ldp bindings")?),
        Show::Routes { tree } => ask(
            &path,
            match tree {
                TreeArg::Regular => "routes regular",
                TreeArg::Power => "routes power",
            },
        )?,
        Show::Lfib => ask(&path, "lfib")?,
        Show::Te { .. } => ask(&path, "te database")?,
        Show::Lsps => ask(&path, "lsps")?,
        Show::Counters => {
            let mut view = ask(&path, "view")?;
            let mut counters = json!({ "ospf": view["ospf_counters"].take() });
            for protocol in ["ldp", "rsvp"] {
                if let Some(view) = view.get_mut(protocol).filter(|v| !v.is_null()) {
                    counters[protocol] = view["counters"].take();
                }
            }
            let dataplane = ask(&path, "dataplane")?;
            if dataplane.get("error").is_none() {
                counters["dataplane"] = dataplane;
            }
            counters
        }
    };
    if args.json {
        return super::print_json(&match args.what {
            Show::Ospf {
                what: OspfShow::Neighbors,
            } => ospf_neighbors(&answer),
            Show::Ospf {
                what: OspfShow::Database,
            } => ospf_database(&ask(&path, "view")?, &answer),
            _ => answer,
        });
    }
    super::print_text(&render(args.what, &answer))
}

/// The node's OSPF neighbors in the shape of FRR's `show ip ospf neighbor json`: by
/// neighbor router ID, one entry per adjacency.
fn ospf_neighbors(neighbors: &Value) -> Value {
    let mut by_router = serde_json::Map::new();
    for n in neighbors.as_array().into_iter().flatten() {
        let state = n["state"].as_str().unwrap_or("?");
        let entry = json!({
            "nbrState": format!("{state}/-"),
            "converged": state,
            "ifaceName": n["interface_name"],
        });
        if let Value::Array(list) = by_router
            .entry(n["router_id"].as_str().unwrap_or("?"))
            .or_insert_with(|| json!([]))
        {
            list.push(entry);
        }
    }
    json!({ "neighbors": by_router })
}

/// The node's database in the shape of FRR's `show ip ospf database json`: area-scope
/// LSAs under the area, AS-scope ones at the top, each with its identity (ID, advertising
/// router, age, sequence number, checksum).
fn ospf_database(view: &Value, rows: &Value) -> Value {
    const LISTS: [(u64, &str); 8] = [
        (1, "routerLinkStates"),
        (2, "networkLinkStates"),
        (3, "summaryLinkStates"),
        (4, "asbrSummaryLinkStates"),
        (5, "asExternalLinkStates"),
        (9, "linkLocalOpaqueLsa"),
        (10, "areaLocalOpaqueLsa"),
        (11, "asExternalOpaqueLsa"),
    ];
    let mut area = serde_json::Map::new();
    let mut top = serde_json::Map::new();
    top.insert("routerId".into(), view["router_id"].clone());
    for row in rows.as_array().into_iter().flatten() {
        let ls_type = row["ls_type"].as_u64().unwrap_or(0);
        let Some((_, list)) = LISTS.iter().find(|(t, _)| *t == ls_type) else {
            continue;
        };
        let lsa = json!({
            "lsId": row["link_state_id"],
            "advertisedRouter": row["adv_router"],
            "lsaAge": row["age"],
            "sequenceNumber": row["sequence"],
            "checksum": row["checksum"].as_str().map(|c| c.trim_start_matches("0x")),
        });
        let scope = if matches!(ls_type, 5 | 11) {
            &mut top
        } else {
            &mut area
        };
        if let Value::Array(l) = scope.entry(*list).or_insert_with(|| json!([])) {
            l.push(lsa);
        }
    }
    let area_id = view["area"].as_str().unwrap_or("0.0.0.0").to_string();
    top.insert("areas".into(), json!({ area_id: area }));
    Value::Object(top)
}

/// The human form of an answer.
fn render(what: Show, answer: &Value) -> String {
    let rows = || answer.as_array().into_iter().flatten();
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    };
    match what {
        Show::Ospf {
            what: OspfShow::Database,
        } => {
            let mut t = Table::new(["Type", "Link ID", "ADV Router", "Age", "Seq#", "CkSum"]);
            for l in rows() {
                t.row(
                    [
                        "ls_type",
                        "link_state_id",
                        "adv_router",
                        "age",
                        "sequence",
                        "checksum",
                    ]
                    .iter()
                    .map(|k| text(&l[*k]))
                    .collect(),
                );
            }
            t.render()
        }
        Show::Ospf {
            what: OspfShow::Neighbors,
        } => {
            let mut t = Table::new(["Neighbor ID", "Interface", "State"]);
            for n in rows() {
                t.row(vec![
                    text(&n["router_id"]),
                    text(&n["interface"]),
                    text(&n["state"]),
                ]);
            }
            t.render()
        }
        Show::Ldp {
            what: LdpShow::Sessions,
        } => {
            let mut t = Table::new(["Neighbor ID", "State", "Power-SPF"]);
            for n in answer["neighbors"].as_array().into_iter().flatten() {
                t.row(vec![
                    text(&n["neighborId"]),
                    text(&n["state"]),
                    if n["powerSpf"] == true { "yes" } else { "no" }.into(),
                ]);
            }
            t.render()
        }
        Show::Ldp {
            what: LdpShow::Bindings,
        } => {
            let mut t = Table::new([
                "Tree",
                "Destination",
                "Nexthop",
                "Local Label",
                "Remote Label",
                "In Use",
            ]);
            for b in answer["bindings"].as_array().into_iter().flatten() {
                t.row(vec![
                    text(&b["tree"]),
                    text(&b["prefix"]),
                    text(&b["neighborId"]),
                    text(&b["localLabel"]),
                    text(&b["remoteLabel"]),
                    if b["inUse"] == 1 { "yes" } else { "no" }.into(),
                ]);
            }
            t.render()
        }
        Show::Routes { .. } => {
            let mut t = Table::new(["Prefix", "Cost", "Next hops"]);
            for r in rows() {
                let hops: Vec<String> = r["next_hops"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|h| text(&h[0]))
                    .collect();
                t.row(vec![text(&r["prefix"]), text(&r["cost"]), hops.join(", ")]);
            }
            t.render()
        }
        Show::Lfib => {
            let mut t = Table::new(["In label", "Tree", "FEC", "Out", "Next hop"]);
            for r in rows() {
                for hop in r["next_hops"].as_array().into_iter().flatten() {
                    let out = match &hop["operation"] {
                        Value::Object(o) => o.get("label").map_or("?".into(), text),
                        other => text(other),
                    };
                    t.row(vec![
                        text(&r["in_label"]),
                        text(&r["tree"]),
                        text(&r["fec"]),
                        out,
                        text(&hop["address"]),
                    ]);
                }
            }
            t.render()
        }
        Show::Te { .. } => {
            let mut t = Table::new([
                "From",
                "To",
                "Link",
                "TE metric",
                "Unreserved (prio 0)",
                "Power metric",
            ]);
            for l in rows() {
                let unreserved = l["unreserved_bps"][0]
                    .as_f64()
                    .and_then(mplamps_core::Bandwidth::from_bps)
                    .map_or("-".into(), |b| b.to_string());
                t.row(vec![
                    text(&l["from"]),
                    text(&l["to"]),
                    text(&l["name"]),
                    text(&l["te_metric"]),
                    unreserved,
                    text(&l["power_cost"]),
                ]);
            }
            t.render()
        }
        Show::Lsps => {
            let mut t = Table::new(["LSP", "Role", "State", "Path / labels in, out", "Carries"]);
            for tunnel in answer["tunnels"].as_array().into_iter().flatten() {
                let path: Vec<String> = tunnel["path"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(text)
                    .collect();
                let state = match &tunnel["error"] {
                    Value::String(e) => format!("{} ({e})", text(&tunnel["state"])),
                    _ => text(&tunnel["state"]),
                };
                t.row(vec![
                    text(&tunnel["spec"]["name"]),
                    "ingress".into(),
                    state,
                    path.join(" "),
                    carries(&tunnel["spec"]["switching"], &tunnel["spec"]["encoding"]),
                ]);
            }
            for lsp in answer["lsps"].as_array().into_iter().flatten() {
                let name = match &lsp["name"] {
                    Value::String(n) => n.clone(),
                    _ => format!(
                        "{}/{}",
                        text(&lsp["session"]["endpoint"]),
                        text(&lsp["session"]["tunnel_id"])
                    ),
                };
                t.row(vec![
                    name,
                    "holds".into(),
                    text(&lsp["state"]),
                    format!("{}, {}", text(&lsp["in_label"]), text(&lsp["out_label"])),
                    carries(&lsp["switching"], &lsp["encoding"]),
                ]);
            }
            t.render()
        }
        Show::Counters => {
            let mut t = Table::new(["Protocol", "Counter", "Value"]);
            for (protocol, counters) in answer.as_object().into_iter().flatten() {
                for (k, v) in counters.as_object().into_iter().flatten() {
                    t.row(vec![protocol.clone(), k.clone(), text(v)]);
                }
            }
            t.render()
        }
    }
}

/// The node's LDP sessions in the shape of FRR's `show mpls ldp neighbor json`.
fn ldp_neighbors(sessions: &Value) -> Value {
    let neighbors: Vec<Value> = sessions
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            json!({
                "addressFamily": "ipv4",
                "neighborId": s["peer"],
                "state": s["state"].as_str().map(|s| s.to_uppercase().replace('-', "")),
                "powerSpf": s["power"],
            })
        })
        .collect();
    json!({ "neighbors": neighbors })
}

/// The node's bindings in the shape of FRR's `show mpls ldp binding json`, with the tree
/// each belongs to.
fn ldp_bindings(bindings: &Value) -> Value {
    let label = |l: &Value| match l.as_u64() {
        Some(3) => json!("imp-null"),
        Some(l) => json!(l.to_string()),
        None => json!("-"),
    };
    let rows: Vec<Value> = bindings
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| {
            let fec = &b["fec"];
            let remote = &b["remote"];
            json!({
                "addressFamily": "ipv4",
                "prefix": format!("{}/{}", fec["network"].as_str().unwrap_or("?"), fec["len"]),
                "neighborId": remote.get(0).cloned().unwrap_or(json!("0.0.0.0")),
                "localLabel": label(&b["local_label"]),
                "remoteLabel": label(remote.get(1).unwrap_or(&Value::Null)),
                "inUse": u8::from(b["in_use"] == true),
                "tree": b["topology"],
            })
        })
        .collect();
    json!({ "bindings": rows })
}

/// Sends `request` to the node at `path` and reads its JSON answer.
pub fn ask(path: &Path, request: &str) -> Result<Value> {
    let mut stream = UnixStream::connect(path).with_context(|| {
        format!(
            "no node answers at {} (is `mplamps node` running there?)",
            path.display()
        )
    })?;
    writeln!(stream, "{request}")?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line)?;
    let value: Value =
        serde_json::from_str(&line).with_context(|| format!("answer from {}", path.display()))?;
    if let Some(error) = value.get("error").and_then(|e| e.as_str()) {
        bail!("{}: {error}", path.display());
    }
    Ok(value)
}

/// What an LSP of this switching type carries here: packets under MPLS labels, which the
/// data plane forwards, or a wavelength, port or time slot that a switch would cross-connect
/// and that a link of veths has no frames for (RFC 3471 §3.1.1).
fn carries(switching: &Value, encoding: &Value) -> String {
    match switching.as_str() {
        Some("psc") => "MPLS packets".to_string(),
        Some(other) => format!(
            "{other} cross-connect ({}): no frames forwarded",
            encoding.as_str().unwrap_or("unknown encoding")
        ),
        None => "-".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Our database, shaped as FRR's, reads back as the same identities through the parser
    /// the lab uses on FRR's; our neighbors read as FRR's do.
    #[test]
    fn ospf_answers_take_frrs_shape() {
        let view = json!({ "router_id": "10.0.0.2", "area": "0.0.0.0" });
        let rows = json!([
            { "ls_type": 1, "link_state_id": "10.0.0.1", "adv_router": "10.0.0.1", "age": 3,
              "sequence": "80000002", "checksum": "0xa0dc" },
            { "ls_type": 10, "link_state_id": "1.0.0.0", "adv_router": "10.0.0.1", "age": 3,
              "sequence": "80000001", "checksum": "0x44b5" },
            { "ls_type": 5, "link_state_id": "10.99.0.0", "adv_router": "192.0.2.9", "age": 9,
              "sequence": "80000001", "checksum": "0x0007" }
        ]);
        let frr = ospf_database(&view, &rows);
        assert_eq!(frr["routerId"], "10.0.0.2");
        assert_eq!(
            crate::cmd::lab_frr::lsa_identities(&frr),
            [
                "1 10.0.0.1 10.0.0.1 80000002 a0dc",
                "10 1.0.0.0 10.0.0.1 80000001 44b5",
                "5 10.99.0.0 192.0.2.9 80000001 0007",
            ]
        );
        let neighbors = json!([
            { "interface": 0, "interface_name": "L1", "router_id": "10.0.0.4", "state": "Full" },
            { "interface": 1, "interface_name": "L2", "router_id": "10.0.0.4", "state": "Init" }
        ]);
        let frr = ospf_neighbors(&neighbors);
        let list = frr["neighbors"]["10.0.0.4"].as_array().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0]["nbrState"], "Full/-");
        assert_eq!(list[1]["converged"], "Init");
    }

    #[test]
    fn bindings_take_frrs_shape() {
        let ours = json!([
            { "topology": "regular", "fec": { "network": "10.0.0.1", "len": 32 },
              "local_label": 3, "remote": ["10.0.0.2", 17], "in_use": false },
            { "topology": "power", "fec": { "network": "10.0.0.3", "len": 32 },
              "local_label": 5000, "remote": null, "in_use": false },
        ]);
        assert_eq!(
            ldp_bindings(&ours),
            json!({ "bindings": [
                { "addressFamily": "ipv4", "prefix": "10.0.0.1/32", "neighborId": "10.0.0.2",
                  "localLabel": "imp-null", "remoteLabel": "17", "inUse": 0, "tree": "regular" },
                { "addressFamily": "ipv4", "prefix": "10.0.0.3/32", "neighborId": "0.0.0.0",
                  "localLabel": "5000", "remoteLabel": "-", "inUse": 0, "tree": "power" },
            ]})
        );
    }

    #[test]
    fn sessions_take_frrs_shape() {
        let ours = json!([{ "peer": "10.0.0.2", "state": "operational", "power": true }]);
        assert_eq!(
            ldp_neighbors(&ours),
            json!({ "neighbors": [{ "addressFamily": "ipv4", "neighborId": "10.0.0.2",
                                    "state": "OPERATIONAL", "powerSpf": true }]})
        );
    }
}
