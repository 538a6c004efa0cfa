//! The command line end to end: every command, its JSON contract and its errors.

#![allow(clippy::unwrap_used)] // test helpers: a failure is the test failing

use assert_cmd::Command;
use serde_json::Value;

fn mplamps() -> Command {
    Command::cargo_bin("mplamps").unwrap()
}

fn json(args: &[&str]) -> Value {
    let out = mplamps()
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

const DRAFT: &str = "examples/draft-area.toml";

#[test]
fn metrics_json_contract() {
    let v = json(&["metrics", "--topology", DRAFT, "--json"]);
    assert_eq!(v["normalize_to_bps"], 10e9);
    let links = v["links"].as_array().unwrap();
    assert_eq!(links.len(), 13);
    for key in [
        "name",
        "a",
        "b",
        "value_a",
        "value_b",
        "pwrlink",
        "in_power_topology",
    ] {
        assert!(links[0].get(key).is_some(), "links[0] lacks {key}");
    }
    assert_eq!(links[0]["a"], "A:LC1:P5");
    assert!(!v["ports"].as_array().unwrap().is_empty());
}

#[test]
fn spf_json_contract() {
    let v = json(&[
        "spf",
        "--topology",
        DRAFT,
        "--root",
        "B",
        "--tree",
        "power",
        "--json",
    ]);
    assert_eq!(v["root"], "B");
    assert_eq!(v["tree"], "power");
    let nodes = v["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 5, "every router but the root");
    assert!(nodes.iter().all(|n| n["name"] != "B"));
    for key in ["name", "distance", "parents", "next_hops"] {
        assert!(nodes[0].get(key).is_some(), "node lacks {key}");
    }
    assert_eq!(v["unreachable"].as_array().unwrap().len(), 0);
    assert!(v["compute_ms"].as_f64().unwrap() >= 0.0);
}

#[test]
fn spf_dot_and_table() {
    let out = mplamps()
        .args(["spf", "-t", DRAFT, "-r", "A", "--dot"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let dot = String::from_utf8(out).unwrap();
    assert!(dot.starts_with("graph \"regular tree from A\""));
    assert_eq!(dot.matches(" -- ").count(), 13);
    mplamps()
        .args(["spf", "-t", DRAFT, "-r", "A"])
        .assert()
        .success()
        .stdout(predicates::str::contains("regular tree from A"));
}

#[test]
fn errors_are_clear() {
    mplamps()
        .args(["spf", "--topology", DRAFT, "--root", "Z"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("no router named \"Z\""));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[router]]\nname = \"A\"\nrouterid = \"1.2.3.4\"\n").unwrap();
    mplamps()
        .args(["metrics", "--topology", bad.to_str().unwrap()])
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "bad.toml:3:1: field `routerid`: unknown field",
        ));
    mplamps()
        .args(["metrics", "--topology", "does-not-exist.toml"])
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "does-not-exist.toml: cannot read the file",
        ));
}

/// `mplamps node` and `mplamps show` say what is wrong before anything runs.
#[test]
fn node_and_show_errors_are_clear() {
    mplamps()
        .args(["node", "--topology", DRAFT, "--router", "Z"])
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "--router \"Z\": no router of that name in the topology (it has A, B, C, D, E, F)",
        ));
    mplamps()
        .args([
            "node",
            "--topology",
            DRAFT,
            "--router",
            "A",
            "--iface",
            "F:LC1:P1=eth0",
        ])
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "\"F:LC1:P1\" is neither a port nor a link or host of router A",
        ));
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("A.sock");
    mplamps()
        .args([
            "show",
            "--node",
            "A",
            "--management",
            socket.to_str().unwrap(),
        ])
        .args(["ospf", "neighbors"])
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "is `mplamps node` running there?",
        ));
    mplamps()
        .args(["lab", "status", "--dir", dir.path().to_str().unwrap()])
        .assert()
        .failure()
        .stderr(predicates::str::contains("no lab at"));
}

#[test]
fn demo_writes_pictures_and_reports_both_trees() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pictures");
    let v = json(&["demo", "--out", out.to_str().unwrap(), "--json"]);
    assert_eq!(v["regular"]["tree"], "regular");
    assert_eq!(v["power"]["tree"], "power");
    assert!(
        v["differences"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == "E")
    );
    for name in ["regular.dot", "regular.svg", "power.dot", "power.svg"] {
        let text = std::fs::read_to_string(out.join(name)).unwrap();
        assert!(text.len() > 200, "{name} is too small");
    }
    let svg = std::fs::read_to_string(out.join("power.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    mplamps()
        .args(["demo", "--out", out.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicates::str::contains("PWRLINK").and(predicates::str::contains("pwrlink")));
}

#[test]
fn generate_then_spf() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gen.toml");
    mplamps()
        .args([
            "generate",
            "--nodes",
            "200",
            "--degree",
            "4",
            "--seed",
            "3",
            "-o",
            file.to_str().unwrap(),
        ])
        .assert()
        .success();
    let v = json(&[
        "spf",
        "-t",
        file.to_str().unwrap(),
        "-r",
        "R1",
        "--tree",
        "power",
        "--json",
    ]);
    assert_eq!(
        v["nodes"].as_array().unwrap().len() + v["unreachable"].as_array().unwrap().len(),
        199
    );
    let regular = json(&["spf", "-t", file.to_str().unwrap(), "-r", "R1", "--json"]);
    assert_eq!(
        regular["nodes"].as_array().unwrap().len(),
        199,
        "generated graphs are connected"
    );
    mplamps()
        .args([
            "generate",
            "--nodes",
            "5",
            "--degree",
            "9",
            "-o",
            file.to_str().unwrap(),
        ])
        .assert()
        .failure()
        .stderr(predicates::str::contains("out of range"));
}

#[test]
fn import_zoo_graphml() {
    let dir = tempfile::tempdir().unwrap();
    for (name, routers) in [
        ("Abilene", 11),
        ("Nsfnet", 13),
        ("Geant2009", 34),
        ("Cogentco", 197),
        ("AttMpls", 25),
    ] {
        let out = dir.path().join(format!("{name}.toml"));
        let summary = json(&[
            "import",
            "graphml",
            &format!("data/zoo/{name}.graphml"),
            "-o",
            out.to_str().unwrap(),
            "--seed",
            "5",
            "--json",
        ]);
        assert_eq!(summary["routers"], routers, "{name}");
        let metrics = json(&["metrics", "-t", out.to_str().unwrap(), "--json"]);
        assert_eq!(
            metrics["links"].as_array().unwrap().len(),
            summary["links"].as_u64().unwrap() as usize
        );
    }
}

#[test]
fn bench_spf_small() {
    let v = json(&[
        "bench", "spf", "--nodes", "2000", "--degree", "4", "--roots", "3", "--json",
    ]);
    for key in [
        "nodes",
        "links",
        "ours_full_ms",
        "ours_incremental_ms",
        "petgraph_ms",
    ] {
        assert!(v.get(key).is_some(), "bench lacks {key}");
    }
    assert_eq!(v["nodes"], 2000);
    assert_eq!(v["links"], 4000);
}

use predicates::prelude::PredicateBooleanExt;

/// Issue 4: `sim --trace SRC DST --json` — the tree, delivery and the labels at every hop.
#[test]
fn sim_trace_json_contract() {
    let big = json(&["sim", DRAFT, "--trace", "B", "F", "--json"]);
    assert_eq!(big["tree"], "regular", "no policy: the regular tree");
    assert_eq!(big["delivered"], true);
    let hops = big["hops"].as_array().unwrap();
    assert_eq!(hops[0]["router"], "B");
    assert!(
        hops[0]["in_label"].is_null(),
        "the ingress receives an unlabeled packet"
    );
    assert!(
        hops[0]["out_label"]
            .as_u64()
            .is_some_and(|l| (16..100_000).contains(&l))
    );
    assert!(hops[0]["next_hop"].is_string());
    assert_eq!(hops.last().unwrap()["router"], "F");
    mplamps()
        .args(["sim", DRAFT, "--trace", "B", "nowhere"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("no router named \"nowhere\""));
}

/// Issue 5: `bench rsvp` sets every LSP up and reports rates and memory.
#[test]
fn bench_rsvp_small() {
    let v = json(&["bench", "rsvp", "--lsps", "2000", "--json"]);
    assert_eq!(v["lsps"], 2000);
    assert_eq!(v["up"], 2000);
    assert!(v["transit_setups_per_s"].as_f64().unwrap() > 0.0);
    assert!(v["end_to_end_setups_per_s"].as_f64().unwrap() > 0.0);
    mplamps()
        .args(["bench", "rsvp", "--lsps", "0"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("--lsps"));
}

/// Issue 6: `bench lamps` times turn-ons at the asked path length and switches every lamp
/// on and off; without a peer it says why; a path length no lamp has is an error.
#[test]
fn bench_lamps_small() {
    let grid = "examples/grids/cigre_mv.toml";
    let v = json(&[
        "bench",
        "lamps",
        "--grid",
        grid,
        "--hops",
        "3",
        "--rounds",
        "1",
        "--lamps-per-load",
        "2",
        "--python",
        "none",
        "--json",
    ]);
    assert_eq!(v["buses"], 15);
    assert_eq!(v["latency"]["hops"], 3);
    assert!(v["latency"]["samples"].as_u64().unwrap() >= 1);
    assert!(v["latency"]["median_ms"].as_f64().unwrap() > 0.0);
    let by_hops = v["latency"]["by_hops"].as_array().unwrap();
    assert!(by_hops.iter().any(|h| h["hops"] == 3));
    assert_eq!(v["throughput"]["lamps"], 36);
    assert_eq!(v["throughput"]["lit"], 36);
    assert!(v["throughput"]["on_per_s"].as_f64().unwrap() > 0.0);
    assert_eq!(v["peer"]["not_run"], "--python none");
    mplamps()
        .args([
            "bench", "lamps", "--grid", grid, "--hops", "40", "--rounds", "1",
        ])
        .args(["--lamps-per-load", "1", "--python", "none"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("no lamp of"))
        .stderr(predicates::str::contains("40-hop"));
}

/// Issue 5: `sim --json` reports every LSP with its path, labels per hop and setup time;
/// a scenario file adds LSPs and events; a bad `[[lsp]]` names its line.
#[test]
fn sim_lsps_json_contract() {
    let v = json(&[
        "sim",
        "examples/gmpls.toml",
        "--scenario",
        "examples/gmpls-failover.toml",
        "--json",
    ]);
    assert_eq!(v["converged"], true);
    let lsps = v["lsps"].as_array().unwrap();
    let names: Vec<&str> = lsps.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "pe1-pe2-power",
            "lambda-1",
            "lambda-1/secondary",
            "lambda-extra",
            "pe2-pe1"
        ]
    );
    let power = &lsps[0];
    for key in ["name", "state", "path", "hops", "setup_time_s", "error"] {
        assert!(power.get(key).is_some(), "lsps[0] lacks {key}");
    }
    assert_eq!(power["state"], "up");
    assert_eq!(power["hops"][0]["router"], "P2");
    assert_eq!(power["hops"][0]["downstream_label"], 200000);
    assert!(power["hops"][0]["upstream_label"].is_null());
    assert_eq!(lsps[1]["state"], "failed");
    assert_eq!(lsps[2]["active"], true);

    // RFC 3471 §9: the scenario cuts the P2–PE2 control channel, then restarts P2's control
    // plane; the report shows each router's Hello neighbors and what it counted.
    let router = |name: &str| {
        v["routers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap()
            .clone()
    };
    let p2 = router("P2");
    assert_eq!(p2["rsvp"]["instance"], 2, "P2 restarted once");
    assert_eq!(p2["rsvp"]["recovering"], false);
    assert_eq!(p2["rsvp"]["counters"]["recovered_lsps"], 1);
    let pe2 = router("PE2");
    assert_eq!(pe2["rsvp"]["counters"]["resynchronizations"], 1);
    let hellos: Vec<(&str, &str)> = pe2["rsvp"]["neighbors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["router"].as_str().unwrap(), n["hello"].as_str().unwrap()))
        .collect();
    assert!(hellos.contains(&("P2", "up")), "{hellos:?}");
    assert!(v["stats"]["rsvp_control_lost"].as_u64().unwrap() > 0);

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[lsp]]\nname = \"x\"\nfrom = \"PE1\"\nto = \"nowhere\"\n",
    )
    .unwrap();
    mplamps()
        .args(["sim", "examples/gmpls.toml", "--scenario"])
        .arg(&bad)
        .assert()
        .failure()
        .stderr(predicates::str::contains("bad.toml:4:").and(predicates::str::contains("`to`")));
}

/// Issue 6 §1: `import pandapower` writes a `[grid]` section that reads back, reports what it
/// did not import, and names the row and column of bad input.
#[test]
fn import_pandapower_contract() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("multi.toml");
    let out_arg = out.to_str().unwrap();
    let v = json(&[
        "import",
        "pandapower",
        "data/grids/example_multivoltage.json",
        "-o",
        out_arg,
        "--json",
    ]);
    assert_eq!(v["buses"], 57);
    assert_eq!(v["transformers"], 3);
    assert_eq!(v["not_imported"]["xward"], 2);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("# Not imported: 1 impedance, 1 shunt, 2 xward."));
    let grid = mplamps_grid::file::parse("multi.toml", &text)
        .unwrap()
        .unwrap();
    assert_eq!(grid.buses.len(), 57);
    assert_eq!(
        std::fs::read_to_string("examples/grids/multivoltage.toml").unwrap(),
        text,
        "the example is this import"
    );

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"_object\": {\"line\": {}}}").unwrap();
    mplamps()
        .args(["import", "pandapower"])
        .arg(&bad)
        .args(["-o", out_arg])
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "not a pandapower network: no `bus` table",
        ));
}

/// Issue 6 §3: `sim GRID --all-lamps-on --json` reports every element with its pandapower
/// source and every lamp; `--compare` checks the reservations against pandapower's power
/// flow; a lamp scenario refuses a lamp with the element and the shortfall.
#[test]
fn grid_sim_contract() {
    let v = json(&[
        "sim",
        "examples/grids/cigre_mv.toml",
        "--all-lamps-on",
        "--compare",
        "data/grids/cigre_mv.json",
        "--json",
    ]);
    assert_eq!(v["converged"], true);
    assert_eq!(v["lamps_on"], 18);
    let elements = v["elements"].as_array().unwrap();
    let line0 = elements.iter().find(|e| e["source"] == "line:0").unwrap();
    assert_eq!(line0["kind"], "line");
    assert!(line0["reserved_w"].as_f64().unwrap() > 4e6);
    assert!(line0["rating_w"].as_f64().unwrap() > 5e6);
    assert!(elements.iter().any(|e| e["source"] == "trafo:1"));
    let lamps = v["lamps"].as_array().unwrap();
    assert_eq!(lamps.len(), 18);
    let load5 = lamps.iter().find(|l| l["source"] == "load:5").unwrap();
    assert_eq!(load5["state"], "on");
    assert!(load5["error"].is_null());
    assert_eq!(v["power_flow"]["within_losses"], true);

    let v = json(&[
        "sim",
        "examples/grids/cigre_mv_vpn.toml",
        "--scenario",
        "examples/grids/evening.toml",
        "--json",
    ]);
    let lamps = v["lamps"].as_array().unwrap();
    let ev = lamps.iter().find(|l| l["name"] == "EV chargers").unwrap();
    assert_eq!(ev["state"], "refused");
    assert!(
        ev["error"]
            .as_str()
            .unwrap()
            .contains("Line 1-2 (line, line:0)")
    );
    let migrated = lamps.iter().find(|l| l["name"] == "Load R10").unwrap();
    assert_eq!(
        (&migrated["model"], &migrated["state"]),
        (&"peer".into(), &"on".into())
    );
    let vpns = v["vpns"].as_array().unwrap();
    assert_eq!(vpns.len(), 2);
    assert_eq!(vpns[0]["name"], "hospital");

    mplamps()
        .args(["sim", "examples/draft-area.toml", "--all-lamps-on"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("has no [grid] section"));
}

/// A reader that stops early (`mplamps sim big.toml | head`) ends the command quietly:
/// no panic, no error, for text and JSON alike.
#[test]
fn a_closed_output_ends_quietly() {
    use std::process::{Command as Process, Stdio};
    for args in [
        &["spf", "--topology", DRAFT, "--root", "B"][..],
        &["spf", "--topology", DRAFT, "--root", "B", "--json"][..],
        &["sim", DRAFT, "--until", "converged"][..],
    ] {
        let mut child = Process::new(assert_cmd::cargo::cargo_bin("mplamps"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {:?} {stderr}", out.status);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
    }
}

/// A run that cannot converge stops early, says why, and exits with status 2; a run cut
/// short says what it was still waiting for. Issue 22 §1.
#[test]
fn a_network_that_does_not_converge_says_why_and_exits_2() {
    let out = mplamps()
        .args(["sim", DRAFT, "--loss", "1", "--json"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("the network did not converge"))
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["converged"], false);
    // Stopped once nothing had changed for 10 minutes, not at the 1 h limit.
    assert!(v["end_time_s"].as_f64().unwrap() < 700.0);
    let why = v["why_not_converged"].as_array().unwrap();
    assert_eq!(why[0]["kind"], "stalled");
    let adjacency = why.iter().find(|u| u["kind"] == "adjacency").unwrap();
    assert_eq!(adjacency["routers"].as_array().unwrap().len(), 2);
    assert!(adjacency["link"].is_string());
    assert!(
        adjacency["detail"]
            .as_str()
            .unwrap()
            .contains("no Hello heard")
    );

    mplamps()
        .args(["sim", DRAFT, "--duration", "20ms"])
        .assert()
        .code(2)
        .stdout(predicates::str::contains("NOT converged:"))
        .stdout(predicates::str::contains(
            "wait for an acknowledgement from",
        ));

    mplamps()
        .args(["sim", DRAFT, "--mtu", "40"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "an IPv4 MTU is from 68 to 65535 octets",
        ));
}

/// A network in three parts: the importer warns, and the demo compares LSDBs part by part
/// instead of reporting a mismatch. Issue 22 §1.
#[test]
fn a_disconnected_network_is_named_and_compared_part_by_part() {
    let dir = tempfile::tempdir().unwrap();
    let graphml = dir.path().join("split.graphml");
    let nodes: String = ["A", "B", "C", "D", "E", "F"]
        .iter()
        .enumerate()
        .map(|(i, n)| format!(r#"<node id="{i}"><data key="label">{n}</data></node>"#))
        .collect();
    let edges: String = [(0, 1), (1, 2), (2, 0), (3, 4)]
        .iter()
        .map(|(a, b)| format!(r#"<edge source="{a}" target="{b}"/>"#))
        .collect();
    std::fs::write(
        &graphml,
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
<key attr.name="label" attr.type="string" for="node" id="label"/>
<graph edgedefault="undirected">{nodes}{edges}</graph></graphml>"#
        ),
    )
    .unwrap();
    let toml = dir.path().join("split.toml");
    mplamps()
        .args(["import", "graphml"])
        .arg(&graphml)
        .arg("-o")
        .arg(&toml)
        .assert()
        .success()
        .stderr(predicates::str::contains(
            "the network is disconnected: 3 parts of 3, 2, 1 routers",
        ));
    let out = mplamps()
        .args(["demo", "--root", "A", "--json", "--topology"])
        .arg(&toml)
        .arg("--out")
        .arg(dir.path().join("pictures"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    let s = &v["simulation"];
    assert_eq!(s["connected_parts"], serde_json::json!([3, 2, 1]));
    assert_eq!(s["identical_lsdbs"], true);
    assert_eq!(s["routers_matching_file"], 6);
}

/// Issue 22 §3: `bench load` times the load against the TOML parser on the same text and
/// says whether the target applies.
#[test]
fn bench_load_small() {
    let v = json(&[
        "bench",
        "load",
        "--nodes",
        "2000",
        "--repeats",
        "1",
        "--json",
    ]);
    assert_eq!(v["nodes"], 2000);
    assert!(v["file_bytes"].as_u64().unwrap() > 100_000);
    for key in ["load_s", "metrics_s", "toml_parse_s", "load_vs_toml_parse"] {
        assert!(v[key].as_f64().unwrap() > 0.0, "{key}");
    }
    // The 3 s target is for 100 000 routers.
    assert_eq!(v["target_met"], Value::Null);
}

/// Issue 22 §4: requests that cannot end well are refused up front, in words.
#[test]
fn absurd_requests_are_refused_before_they_start() {
    mplamps()
        .args(["generate", "--nodes", "1000000000000", "-o", "/dev/null"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("of memory and this machine has"));
    mplamps()
        .args(["bench", "spf", "--nodes", "1000000000000"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("at most about"));
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("net.graphml");
    std::fs::copy("data/zoo/Abilene.graphml", &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    mplamps()
        .args(["import", "graphml"])
        .arg(&input)
        .arg("-o")
        .arg(&input)
        .assert()
        .failure()
        .stderr(predicates::str::contains("is the input file"));
    assert_eq!(
        std::fs::read(&input).unwrap(),
        before,
        "the input is untouched"
    );
    mplamps()
        .args(["import", "graphml", "--default-capacity", "0", "-o"])
        .arg(dir.path().join("out.toml"))
        .arg(&input)
        .assert()
        .failure()
        .stderr(predicates::str::contains("default capacity of zero"));
}

/// Issue 22 §4: a scenario's errors give the file and line, and names the network lacks
/// are found before the run starts.
#[test]
fn scenario_errors_give_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("s.toml");
    std::fs::write(
        &scenario,
        "[[event]]\nat = \"1s\"\nlink_down = \"L1\"\n\n[[event]]\nat = \"2s\"\nrouter_crash = \"Z\"\n",
    )
    .unwrap();
    let shown = scenario.display().to_string();
    mplamps()
        .args(["sim", DRAFT, "--scenario"])
        .arg(&scenario)
        .assert()
        .code(1)
        .stderr(predicates::str::contains(format!(
            "{shown}:5:1: field `event`: no router named \"Z\""
        )));
}

/// Issue 22 §6: the topology file is named the same way everywhere (first, or with
/// --topology), and a trace says which rule chose its tree.
#[test]
fn one_way_to_name_the_topology_and_traces_name_their_rule() {
    for args in [
        &["metrics", DRAFT, "--json"][..],
        &["metrics", "--topology", DRAFT, "--json"][..],
        &["spf", DRAFT, "--root", "B", "--json"][..],
        &["spf", "-t", DRAFT, "--root", "B", "--json"][..],
        &["sim", "-t", DRAFT, "--json"][..],
    ] {
        json(args);
    }
    mplamps()
        .args(["metrics"])
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "metrics needs a topology file: mplamps metrics TOPOLOGY.toml",
        ));
    let big = json(&["sim", DRAFT, "--trace", "B", "F", "--rate", "2G", "--json"]);
    assert_eq!(big["tree"], "power");
    assert!(
        big["policy"]
            .as_str()
            .unwrap()
            .starts_with("[[fec_policy]] rule 1")
    );
    let small = json(&["sim", DRAFT, "--trace", "B", "F", "--json"]);
    assert_eq!(small["tree"], "regular");
    assert!(small["policy"].as_str().unwrap().contains("matches"));
}

/// A Zoo network with a gravity matrix through the whole study: the JSON contract, the
/// pictures, the optimum never above a strategy, and clear errors.
#[test]
fn energy_study_contract_pictures_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("nsfnet.toml");
    let net = net.to_str().unwrap();
    mplamps()
        .args([
            "import",
            "graphml",
            "data/zoo/Nsfnet.graphml",
            "--gravity",
            "50G",
            "-o",
            net,
        ])
        .assert()
        .success();
    let pictures = dir.path().join("pictures");
    let study = json(&[
        "energy",
        net,
        "--fit",
        "1",
        "--scale",
        "0.2,0.8",
        "--sleep",
        "--optimum",
        "--optimum-time-limit",
        "20",
        "--out",
        pictures.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(study["links"], 15);
    let points = study["scales"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    for point in points {
        assert!(point["total_demand_bps"].as_f64().unwrap() > 0.0);
        let s = &point["strategies"];
        let optimum = s["optimum"]["power_w"].as_f64().unwrap();
        for name in ["regular", "power", "power_sleep"] {
            let strategy = &s[name];
            assert!(
                strategy["settled"].is_boolean() && strategy["iterations"].as_u64().unwrap() >= 1
            );
            assert_eq!(strategy["links"].as_array().unwrap().len(), 15);
            if strategy["dropped_bps"].as_f64().unwrap() == 0.0 {
                assert!(
                    optimum <= strategy["power_w"].as_f64().unwrap() + 1e-6,
                    "{name}"
                );
            }
        }
        assert!(s["optimum"]["solver"]["gap_pct"].is_number());
    }
    for svg in [
        "power.svg",
        "map-regular.svg",
        "map-power.svg",
        "map-power_sleep.svg",
        "map-optimum.svg",
    ] {
        let text = std::fs::read_to_string(pictures.join(svg)).unwrap();
        assert!(
            text.starts_with("<svg") && text.trim_end().ends_with("</svg>"),
            "{svg}"
        );
    }
    // The table names every strategy.
    let table = mplamps()
        .args(["energy", net, "--scale", "0.1", "--fit", "1", "--sleep"])
        .assert()
        .success();
    let table = String::from_utf8(table.get_output().stdout.clone()).unwrap();
    assert!(
        table.contains("regular W") && table.contains("sleep W"),
        "{table}"
    );

    // No traffic matrix, a bad scale: said plainly.
    let err = mplamps().args(["energy", DRAFT]).assert().failure();
    let err = String::from_utf8(err.get_output().stderr.clone()).unwrap();
    assert!(err.contains("no [[demand]] tables"), "{err}");
    let err = mplamps()
        .args(["energy", net, "--scale", "0,1"])
        .assert()
        .failure();
    let err = String::from_utf8(err.get_output().stderr.clone()).unwrap();
    assert!(err.contains("load scale 0"), "{err}");
}

/// Issue 25 §3: at a steady matrix, the simulator's routers settle where the energy
/// study's power tree settles: the same loads on every link, the same power.
#[test]
fn sim_traffic_ends_at_the_energy_fixed_point() {
    let dir = tempfile::tempdir().unwrap();
    let mut compared = 0;
    for seed in ["1", "3", "4", "5", "6"] {
        let path = dir.path().join(format!("n{seed}.toml"));
        let file = path.to_str().unwrap();
        mplamps()
            .args([
                "generate",
                "--nodes",
                "10",
                "--degree",
                "3",
                "--seed",
                seed,
                "--gravity",
                "5G",
                "-o",
                file,
            ])
            .assert()
            .success();
        // Dampening of 1 Gb/s, as an operator would set it.
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(
            &path,
            text.replacen(
                "selection = \"min\"\n",
                "selection = \"min\"\nbandwidth_quantum = \"1G\"\n",
                1,
            ),
        )
        .unwrap();
        let sim = json(&["sim", file, "--traffic", "--json"]);
        let energy = json(&["energy", file, "--scale", "1", "--json"]);
        let power = &energy["scales"][0]["strategies"]["power"];
        let step = &sim["steps"][0];
        assert!(
            step["lsas_originated"].as_u64().unwrap() > 0 && step["spf_runs"].as_u64().unwrap() > 0
        );
        if !(power["settled"].as_bool().unwrap() && step["settled"].as_bool().unwrap()) {
            continue;
        }
        compared += 1;
        let close = |a: &Value, b: &Value| (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() <= 1.0;
        for (a, b) in sim["links"]
            .as_array()
            .unwrap()
            .iter()
            .zip(power["links"].as_array().unwrap())
        {
            assert_eq!(a["name"], b["name"]);
            assert!(
                close(&a["load_ab_bps"], &b["load_ab_bps"])
                    && close(&a["load_ba_bps"], &b["load_ba_bps"]),
                "seed {seed}: {a} vs {b}"
            );
        }
        assert!(
            (sim["power_w"].as_f64().unwrap() - power["power_w"].as_f64().unwrap()).abs() < 1e-6
        );
    }
    assert_eq!(compared, 5, "every seed settles in both");
}

/// `[[traffic]]` steps change the matrix over time; each step is reported; mistakes name
/// their line.
#[test]
fn sim_traffic_steps_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net.toml");
    let net = net.to_str().unwrap();
    mplamps()
        .args([
            "generate",
            "--nodes",
            "8",
            "--degree",
            "3",
            "--seed",
            "2",
            "--gravity",
            "4G",
            "-o",
            net,
        ])
        .assert()
        .success();
    let steps = dir.path().join("steps.toml");
    std::fs::write(
        &steps,
        "[[traffic]]\nat = \"0s\"\nscale = 0.5\n\n[[traffic]]\nat = \"40s\"\nscale = 1.5\n",
    )
    .unwrap();
    let report = json(&[
        "sim",
        net,
        "--traffic",
        "--scenario",
        steps.to_str().unwrap(),
        "--json",
    ]);
    let reported = report["steps"].as_array().unwrap();
    assert_eq!(reported.len(), 2);
    assert_eq!(reported[1]["at_s"], 40.0);
    let ratio = reported[1]["total_demand_bps"].as_f64().unwrap()
        / reported[0]["total_demand_bps"].as_f64().unwrap();
    assert!((ratio - 3.0).abs() < 1e-9);
    assert!(reported[1]["power_w"].as_f64().unwrap() > reported[0]["power_w"].as_f64().unwrap());

    std::fs::write(&steps, "[[traffic]]\nat = \"soon\"\nscale = -1\n").unwrap();
    let err = mplamps()
        .args([
            "sim",
            net,
            "--traffic",
            "--scenario",
            steps.to_str().unwrap(),
        ])
        .assert()
        .failure();
    let err = String::from_utf8(err.get_output().stderr.clone()).unwrap();
    assert!(err.contains(":2:") && err.contains("field `at`"), "{err}");
    let err = mplamps()
        .args(["sim", DRAFT, "--traffic"])
        .assert()
        .failure();
    let err = String::from_utf8(err.get_output().stderr.clone()).unwrap();
    assert!(err.contains("no [[demand]] tables"), "{err}");
}
