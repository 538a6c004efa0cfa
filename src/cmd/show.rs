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
    /// What the node counted.
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
            counters
        }
    };
    if args.json {
        return super::print_json(&answer);
    }
    super::print_text(&render(args.what, &answer))
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
            let mut t = Table::new(["LSP", "Role", "State", "Path / labels in, out"]);
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

#[cfg(test)]
mod tests {
    use super::*;

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
